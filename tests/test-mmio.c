/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The virtio-mmio register file driven access by access, and the driver-side
 * accessor run against it in-process. S1, S2 and S4 of SPEC-NOTES §5 are the
 * register-level checks; the rest follows virtio 1.2 section 4.2.2.
 */
#include "test-mmio-common.h"

START_TEST(test_ids)
{
	struct fake f;

	fake_init(&f, true, 0);
	ck_assert_uint_eq(rd(&f, XENVIRTIO_MMIO_MAGIC_VALUE), 0x74726976);
	ck_assert_uint_eq(rd(&f, XENVIRTIO_MMIO_VERSION), 2);
	ck_assert_uint_eq(rd(&f, XENVIRTIO_MMIO_DEVICE_ID), 2);
	ck_assert_uint_eq(rd(&f, XENVIRTIO_MMIO_VENDOR_ID), 0x554d4551);
	ck_assert_uint_eq(rd(&f, XENVIRTIO_MMIO_STATUS), 0);
	ck_assert_uint_eq(rd(&f, XENVIRTIO_MMIO_INTERRUPT_STATUS), 0);
	/* No shared memory regions: length all-ones, whatever SHMSel. */
	wr_ok(&f, XENVIRTIO_MMIO_SHM_SEL, 3);
	ck_assert_uint_eq(rd(&f, XENVIRTIO_MMIO_SHM_LEN_LOW), 0xffffffffu);
	ck_assert_uint_eq(rd(&f, XENVIRTIO_MMIO_SHM_LEN_HIGH), 0xffffffffu);
	fake_fini(&f);
}
END_TEST

START_TEST(test_new_bad_config)
{
	struct xenvirtio_ctx ctx;
	struct xenvirtio_mmio_dev_config cfg = {
	    .device_id = 1,
	    .num_queues = 1,
	    .queue_num_max = 8,
	};
	struct xenvirtio_mmio_dev_ops ops = fake_ops;
	struct xenvirtio_mmio_dev *dev = (void *)0x1;

	fake_ctx_init(&ctx, xv_test_log);
	xv_test_expect_errors(-1);
	ck_assert_int_eq(xenvirtio_mmio_dev_new(NULL, &cfg, &ops, NULL, &dev),
			 -EINVAL);
	cfg.queue_num_max = 32769;
	ck_assert_int_eq(xenvirtio_mmio_dev_new(&ctx, &cfg, &ops, NULL, &dev),
			 -EINVAL);
	cfg.queue_num_max = 8;
	cfg.num_queues = 0;
	ck_assert_int_eq(xenvirtio_mmio_dev_new(&ctx, &cfg, &ops, NULL, &dev),
			 -EINVAL);
	cfg.num_queues = 1;
	cfg.config_len = 0xf01;
	ck_assert_int_eq(xenvirtio_mmio_dev_new(&ctx, &cfg, &ops, NULL, &dev),
			 -EINVAL);
	cfg.config_len = 0;
	ops.interrupt = NULL;
	ck_assert_int_eq(xenvirtio_mmio_dev_new(&ctx, &cfg, &ops, NULL, &dev),
			 -EINVAL);
	ck_assert_ptr_eq(dev, (void *)0x1);
	ck_assert_int_eq(xenvirtio_mmio_dev_read(NULL, 0, 4, NULL), -EINVAL);
	ck_assert_int_eq(xenvirtio_mmio_dev_write(NULL, 0, 4, 0), -EINVAL);
}
END_TEST

START_TEST(test_transport_features)
{
	uint64_t v1 = 1ULL << 32, ap = 1ULL << 33;
	struct fake f;

	ck_assert_uint_eq(xenvirtio_mmio_transport_features(false), v1);
	ck_assert_uint_eq(xenvirtio_mmio_transport_features(true), v1 | ap);

	/* Grant mode: the device offers VERSION_1 and ACCESS_PLATFORM. */
	fake_init(&f, true, 0);
	wr_ok(&f, XENVIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	ck_assert_uint_eq(rd(&f, XENVIRTIO_MMIO_DEVICE_FEATURES),
			  (uint32_t)FAKE_FEATURES);
	wr_ok(&f, XENVIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	ck_assert_uint_eq(rd(&f, XENVIRTIO_MMIO_DEVICE_FEATURES), 0x3);
	wr_ok(&f, XENVIRTIO_MMIO_DEVICE_FEATURES_SEL, 2);
	ck_assert_uint_eq(rd(&f, XENVIRTIO_MMIO_DEVICE_FEATURES), 0);
	fake_fini(&f);

	/* Foreign mode: VERSION_1 only. */
	fake_init(&f, false, 0);
	wr_ok(&f, XENVIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	ck_assert_uint_eq(rd(&f, XENVIRTIO_MMIO_DEVICE_FEATURES), 0x1);
	fake_fini(&f);
}
END_TEST

START_TEST(test_feature_negotiation)
{
	struct fake f;
	uint64_t got = 0;

	fake_init(&f, true, 0);
	ck_assert_int_eq(xenvirtio_mmio_dev_features(f.dev, &got), -EAGAIN);
	ck_assert_uint_eq(negotiate(&f, grant_features() & ~(1ULL << 5)),
			  XENVIRTIO_STATUS_ACKNOWLEDGE |
			      XENVIRTIO_STATUS_DRIVER |
			      XENVIRTIO_STATUS_FEATURES_OK);
	ck_assert_int_eq(xenvirtio_mmio_dev_features(f.dev, &got), 0);
	ck_assert_uint_eq(got, grant_features() & ~(1ULL << 5));
	fake_fini(&f);
}
END_TEST

/* FEATURES_OK stays clear when a required bit is dropped or an unoffered
 * one accepted; the driver then sets FAILED, as the spec says. */
START_TEST(test_features_ok_refused)
{
	const uint64_t ap = 1ULL << 33, v1 = 1ULL << 32;
	struct fake f;
	uint64_t got;

	fake_init(&f, true, 0);
	/* Grant device, driver drops ACCESS_PLATFORM. */
	ck_assert_uint_eq(negotiate(&f, grant_features() & ~ap) &
			      XENVIRTIO_STATUS_FEATURES_OK,
			  0);
	ck_assert_int_eq(xenvirtio_mmio_dev_features(f.dev, &got), -EAGAIN);
	add_status(&f, XENVIRTIO_STATUS_FAILED);
	ck_assert(!needs_reset(&f));
	/* Driver drops VERSION_1. */
	ck_assert_uint_eq(negotiate(&f, grant_features() & ~v1) &
			      XENVIRTIO_STATUS_FEATURES_OK,
			  0);
	/* Driver accepts a bit that was not offered (bit 7). */
	ck_assert_uint_eq(negotiate(&f, grant_features() | 1ULL << 7) &
			      XENVIRTIO_STATUS_FEATURES_OK,
			  0);
	/* ... or one beyond 64 bits. */
	wr_ok(&f, XENVIRTIO_MMIO_STATUS, 0);
	add_status(&f, XENVIRTIO_STATUS_ACKNOWLEDGE | XENVIRTIO_STATUS_DRIVER);
	set_driver_features(&f, grant_features());
	wr_ok(&f, XENVIRTIO_MMIO_DRIVER_FEATURES_SEL, 2);
	wr_ok(&f, XENVIRTIO_MMIO_DRIVER_FEATURES, 1);
	add_status(&f, XENVIRTIO_STATUS_FEATURES_OK);
	ck_assert_uint_eq(
	    rd(&f, XENVIRTIO_MMIO_STATUS) & XENVIRTIO_STATUS_FEATURES_OK, 0);
	/* The device model's own veto. */
	f.features_ok_ret = -1;
	ck_assert_uint_eq(
	    negotiate(&f, grant_features()) & XENVIRTIO_STATUS_FEATURES_OK, 0);
	f.features_ok_ret = 0;
	ck_assert_uint_ne(
	    negotiate(&f, grant_features()) & XENVIRTIO_STATUS_FEATURES_OK, 0);
	/* Without grants ACCESS_PLATFORM is not required (nor offered). */
	fake_fini(&f);
	fake_init(&f, false, 0);
	ck_assert_uint_ne(negotiate(&f, FAKE_FEATURES | v1) &
			      XENVIRTIO_STATUS_FEATURES_OK,
			  0);
	fake_fini(&f);
}
END_TEST

START_TEST(test_status_rules)
{
	struct fake f;

	fake_init(&f, true, 0);
	xv_test_expect_errors(-1);
	/* DRIVER before ACKNOWLEDGE. */
	ck_assert_int_eq(wr(&f, XENVIRTIO_MMIO_STATUS, XENVIRTIO_STATUS_DRIVER),
			 -EPROTO);
	ck_assert(needs_reset(&f));
	/* Broken: writes refused, reads still answered. */
	ck_assert_int_eq(wr(&f, XENVIRTIO_MMIO_QUEUE_SEL, 0), -EIO);
	ck_assert_int_eq(
	    wr(&f, XENVIRTIO_MMIO_STATUS, XENVIRTIO_STATUS_ACKNOWLEDGE), -EIO);
	ck_assert_uint_eq(rd(&f, XENVIRTIO_MMIO_MAGIC_VALUE), 0x74726976);
	ck_assert_int_eq(xenvirtio_mmio_dev_interrupt(f.dev), -EIO);
	/* Reset is the way out. */
	wr_ok(&f, XENVIRTIO_MMIO_STATUS, 0);
	ck_assert_uint_eq(rd(&f, XENVIRTIO_MMIO_STATUS), 0);
	ck_assert_int_eq(f.dev_reset_calls, 1);

	/* Clearing a bit. */
	add_status(&f, XENVIRTIO_STATUS_ACKNOWLEDGE | XENVIRTIO_STATUS_DRIVER);
	ck_assert_int_eq(
	    wr(&f, XENVIRTIO_MMIO_STATUS, XENVIRTIO_STATUS_ACKNOWLEDGE),
	    -EPROTO);
	ck_assert(needs_reset(&f));
	/* Undefined and device-owned bits. */
	wr_ok(&f, XENVIRTIO_MMIO_STATUS, 0);
	ck_assert_int_eq(wr(&f, XENVIRTIO_MMIO_STATUS, 0x10), -EPROTO);
	wr_ok(&f, XENVIRTIO_MMIO_STATUS, 0);
	ck_assert_int_eq(
	    wr(&f, XENVIRTIO_MMIO_STATUS, XENVIRTIO_STATUS_DEVICE_NEEDS_RESET),
	    -EPROTO);
	/* DRIVER_OK without FEATURES_OK. */
	wr_ok(&f, XENVIRTIO_MMIO_STATUS, 0);
	add_status(&f, XENVIRTIO_STATUS_ACKNOWLEDGE | XENVIRTIO_STATUS_DRIVER);
	ck_assert_int_eq(wr(&f, XENVIRTIO_MMIO_STATUS,
			    XENVIRTIO_STATUS_ACKNOWLEDGE |
				XENVIRTIO_STATUS_DRIVER |
				XENVIRTIO_STATUS_DRIVER_OK),
			 -EPROTO);
	/* A driver that writes back DEVICE_NEEDS_RESET with its next bit
	 * (read-modify-write, as Linux does) is not punished twice. */
	ck_assert_uint_ne(
	    negotiate(&f, grant_features()) & XENVIRTIO_STATUS_FEATURES_OK, 0);
	wr_ok(&f, XENVIRTIO_MMIO_QUEUE_SEL, 0);
	ck_assert_int_eq(wr(&f, XENVIRTIO_MMIO_QUEUE_NUM, 0), -EPROTO);
	ck_assert(needs_reset(&f));
	add_status(&f, XENVIRTIO_STATUS_DRIVER_OK);
	ck_assert_uint_eq(rd(&f, XENVIRTIO_MMIO_STATUS), 0x4f);
	/* Other queues keep working. */
	setup_queue(&f, 1, 16);
	/* DriverFeatures after FEATURES_OK. */
	ck_assert_uint_ne(
	    negotiate(&f, grant_features()) & XENVIRTIO_STATUS_FEATURES_OK, 0);
	ck_assert_int_eq(wr(&f, XENVIRTIO_MMIO_DRIVER_FEATURES, 0), -EPROTO);
	ck_assert(needs_reset(&f));
	fake_fini(&f);
}
END_TEST

START_TEST(test_queue_setup)
{
	struct fake f;
	int i;

	fake_init(&f, true, 0);
	negotiate(&f, grant_features());
	for (i = 0; i < FAKE_QUEUES; i++) {
		wr_ok(&f, XENVIRTIO_MMIO_QUEUE_SEL, i);
		ck_assert_uint_eq(rd(&f, XENVIRTIO_MMIO_QUEUE_NUM_MAX),
				  FAKE_QMAX);
		ck_assert_uint_eq(rd(&f, XENVIRTIO_MMIO_QUEUE_READY), 0);
	}
	set_queue_regs(&f, 1, 64, G(7, 0x100), G(8, 0x2), G(9, 0x4));
	ck_assert_int_eq(f.ready_calls, 0);
	wr_ok(&f, XENVIRTIO_MMIO_QUEUE_READY, 1);
	ck_assert_int_eq(f.ready_calls, 1);
	ck_assert_uint_eq(f.last_q.index, 1);
	ck_assert_uint_eq(f.last_q.num, 64);
	ck_assert(!f.last_q.packed);
	ck_assert(f.last_q.grants);
	ck_assert_uint_eq(f.last_q.desc, G(7, 0x100));
	ck_assert_uint_eq(f.last_q.driver, G(8, 0x2));
	ck_assert_uint_eq(f.last_q.device, G(9, 0x4));
	ck_assert_uint_eq(f.last_q.features, grant_features());
	ck_assert_uint_eq(rd(&f, XENVIRTIO_MMIO_QUEUE_READY), 1);
	/* Writing 1 again is not a second creation. */
	wr_ok(&f, XENVIRTIO_MMIO_QUEUE_READY, 1);
	ck_assert_int_eq(f.ready_calls, 1);
	/* Other queues read not ready. */
	wr_ok(&f, XENVIRTIO_MMIO_QUEUE_SEL, 0);
	ck_assert_uint_eq(rd(&f, XENVIRTIO_MMIO_QUEUE_READY), 0);

	add_status(&f, XENVIRTIO_STATUS_DRIVER_OK);
	wr_ok(&f, XENVIRTIO_MMIO_QUEUE_NOTIFY, 1);
	ck_assert_int_eq(f.notify_calls, 1);
	ck_assert_uint_eq(f.last_notify, 1);
	/* Notify of an idle queue that exists: ignored, not fatal. */
	wr_ok(&f, XENVIRTIO_MMIO_QUEUE_NOTIFY, 2);
	ck_assert_int_eq(f.notify_calls, 1);
	ck_assert(!needs_reset(&f));
	fake_fini(&f);
	ck_assert_int_eq(f.reset_calls, 1);
}
END_TEST

START_TEST(test_notify_held_until_driver_ok)
{
	struct fake f;

	fake_init(&f, true, 0);
	negotiate(&f, grant_features());
	setup_queue(&f, 0, 16);
	wr_ok(&f, XENVIRTIO_MMIO_QUEUE_NOTIFY, 0);
	ck_assert_int_eq(f.notify_calls, 0);
	add_status(&f, XENVIRTIO_STATUS_DRIVER_OK);
	ck_assert_int_eq(f.notify_calls, 1);
	ck_assert_uint_eq(f.last_notify, 0);
	fake_fini(&f);
}
END_TEST

START_TEST(test_notification_data)
{
	struct fake f;

	fake_init(&f, true, 1ULL << XENVIRTIO_F_NOTIFICATION_DATA);
	negotiate(&f, grant_features() | 1ULL << XENVIRTIO_F_NOTIFICATION_DATA);
	setup_queue(&f, 2, 16);
	add_status(&f, XENVIRTIO_STATUS_DRIVER_OK);
	wr_ok(&f, XENVIRTIO_MMIO_QUEUE_NOTIFY, 0x80050002);
	ck_assert_int_eq(f.notify_calls, 1);
	ck_assert_uint_eq(f.last_notify, 2);
	ck_assert_uint_eq(f.last_notify_data, 0x80050002);
	fake_fini(&f);
}
END_TEST

/* S1: an out-of-range QueueSel reads as "no queue" and is never used as an
 * index; a write through it breaks the device. */
START_TEST(test_S1_queue_sel_out_of_range)
{
	static const uint32_t sels[] = {FAKE_QUEUES, 0xffff, 0xffffffffu};
	static const uint32_t regs[] = {
	    XENVIRTIO_MMIO_QUEUE_NUM,	     XENVIRTIO_MMIO_QUEUE_READY,
	    XENVIRTIO_MMIO_QUEUE_DESC_LOW,   XENVIRTIO_MMIO_QUEUE_DESC_HIGH,
	    XENVIRTIO_MMIO_QUEUE_DRIVER_LOW, XENVIRTIO_MMIO_QUEUE_DEVICE_HIGH,
	};
	struct fake f;
	unsigned int i, j;

	fake_init(&f, true, 0);
	xv_test_expect_errors(-1);
	for (i = 0; i < XV_ARRAY_SIZE(sels); i++) {
		for (j = 0; j < XV_ARRAY_SIZE(regs); j++) {
			negotiate(&f, grant_features());
			wr_ok(&f, XENVIRTIO_MMIO_QUEUE_SEL, sels[i]);
			ck_assert_uint_eq(rd(&f, XENVIRTIO_MMIO_QUEUE_NUM_MAX),
					  0);
			ck_assert_uint_eq(rd(&f, XENVIRTIO_MMIO_QUEUE_READY),
					  0);
			ck_assert(!needs_reset(&f));
			ck_assert_int_eq(wr(&f, regs[j], 1), -EPROTO);
			ck_assert(needs_reset(&f));
		}
		negotiate(&f, grant_features());
		add_status(&f, XENVIRTIO_STATUS_DRIVER_OK);
		ck_assert_int_eq(wr(&f, XENVIRTIO_MMIO_QUEUE_NOTIFY, sels[i]),
				 -EPROTO);
		ck_assert(needs_reset(&f));
		/* DRIVER_OK was set: the driver hears about it. */
		ck_assert_uint_eq(rd(&f, XENVIRTIO_MMIO_INTERRUPT_STATUS),
				  XENVIRTIO_MMIO_INT_CONFIG);
	}
	ck_assert_int_eq(f.ready_calls, 0);
	fake_fini(&f);
}
END_TEST

static void expect_bad_num(struct fake *f, uint32_t num)
{
	int ready = f->ready_calls;

	negotiate(f, grant_features());
	wr_ok(f, XENVIRTIO_MMIO_QUEUE_SEL, 1);
	ck_assert_int_eq(wr(f, XENVIRTIO_MMIO_QUEUE_NUM, num), -EPROTO);
	ck_assert(needs_reset(f));
	/* The queue stays broken: ready is refused, the callback not run. */
	ck_assert_int_eq(wr(f, XENVIRTIO_MMIO_QUEUE_NUM, 16), -EIO);
	ck_assert_int_eq(wr(f, XENVIRTIO_MMIO_QUEUE_READY, 1), -EIO);
	ck_assert_uint_eq(rd(f, XENVIRTIO_MMIO_QUEUE_READY), 0);
	ck_assert_int_eq(f->ready_calls, ready);
	/* Only that queue: queue 0 still works. */
	setup_queue(f, 0, 16);
}

/* S2: QueueNum 0, above QueueNumMax, not a power of 2 for split. */
START_TEST(test_S2_queue_num_split)
{
	static const uint32_t bad[] = {0, FAKE_QMAX + 1, 0x80000000u,
				       3, 255,		 100};
	struct fake f;
	unsigned int i;

	fake_init(&f, true, 0);
	xv_test_expect_errors(-1);
	for (i = 0; i < XV_ARRAY_SIZE(bad); i++)
		expect_bad_num(&f, bad[i]);
	/* Good sizes: 1, powers of 2, the maximum. */
	negotiate(&f, grant_features());
	setup_queue(&f, 0, 1);
	setup_queue(&f, 1, 2);
	setup_queue(&f, 2, FAKE_QMAX);
	ck_assert(!needs_reset(&f));
	fake_fini(&f);
}
END_TEST

/* S2 for packed rings: any size 1..max; still not 0 nor above max. */
START_TEST(test_S2_queue_num_packed)
{
	const uint64_t packed = 1ULL << XENVIRTIO_F_RING_PACKED;
	static const uint32_t good[] = {1, 3, 100, FAKE_QMAX};
	struct fake f;
	unsigned int i;

	fake_init(&f, true, packed);
	xv_test_expect_errors(-1);
	for (i = 0; i < XV_ARRAY_SIZE(good); i++) {
		negotiate(&f, grant_features() | packed);
		setup_queue(&f, i % FAKE_QUEUES, good[i]);
		ck_assert(f.last_q.packed);
		ck_assert_uint_eq(f.last_q.num, good[i]);
	}
	negotiate(&f, grant_features() | packed);
	wr_ok(&f, XENVIRTIO_MMIO_QUEUE_SEL, 0);
	ck_assert_int_eq(wr(&f, XENVIRTIO_MMIO_QUEUE_NUM, 0), -EPROTO);
	negotiate(&f, grant_features() | packed);
	wr_ok(&f, XENVIRTIO_MMIO_QUEUE_SEL, 0);
	ck_assert_int_eq(wr(&f, XENVIRTIO_MMIO_QUEUE_NUM, FAKE_QMAX + 1),
			 -EPROTO);
	/* Offered but not negotiated: split rules apply. */
	expect_bad_num(&f, 3);
	fake_fini(&f);
}
END_TEST

/* S4: every QueueReady = 1 validates the queue as a whole again. */
START_TEST(test_S4_revalidate_on_ready)
{
	struct fake f;

	fake_init(&f, true, 0);
	xv_test_expect_errors(-1);

	/* A size that was fine before FEATURES_OK is judged at ready. */
	wr_ok(&f, XENVIRTIO_MMIO_STATUS, 0);
	add_status(&f, XENVIRTIO_STATUS_ACKNOWLEDGE | XENVIRTIO_STATUS_DRIVER);
	set_queue_regs(&f, 0, 3, G(1, 0), G(2, 0), G(3, 0));
	set_driver_features(&f, grant_features());
	add_status(&f, XENVIRTIO_STATUS_FEATURES_OK);
	ck_assert_int_eq(wr(&f, XENVIRTIO_MMIO_QUEUE_READY, 1), -EPROTO);
	ck_assert_int_eq(f.ready_calls, 0);

	/* Ready before FEATURES_OK. */
	wr_ok(&f, XENVIRTIO_MMIO_STATUS, 0);
	add_status(&f, XENVIRTIO_STATUS_ACKNOWLEDGE | XENVIRTIO_STATUS_DRIVER);
	set_queue_regs(&f, 0, 16, G(1, 0), G(2, 0), G(3, 0));
	ck_assert_int_eq(wr(&f, XENVIRTIO_MMIO_QUEUE_READY, 1), -EPROTO);

	/* Misaligned rings: desc 16, avail 2, used 4. */
	negotiate(&f, grant_features());
	set_queue_regs(&f, 0, 16, G(1, 8), G(2, 0), G(3, 0));
	ck_assert_int_eq(wr(&f, XENVIRTIO_MMIO_QUEUE_READY, 1), -EPROTO);
	negotiate(&f, grant_features());
	set_queue_regs(&f, 0, 16, G(1, 0), G(2, 1), G(3, 0));
	ck_assert_int_eq(wr(&f, XENVIRTIO_MMIO_QUEUE_READY, 1), -EPROTO);
	negotiate(&f, grant_features());
	set_queue_regs(&f, 0, 16, G(1, 0), G(2, 2), G(3, 2));
	ck_assert_int_eq(wr(&f, XENVIRTIO_MMIO_QUEUE_READY, 1), -EPROTO);

	/* Grant mode: plain guest-physical ring address. */
	negotiate(&f, grant_features());
	set_queue_regs(&f, 0, 16, 0x10000, G(2, 0), G(3, 0));
	ck_assert_int_eq(wr(&f, XENVIRTIO_MMIO_QUEUE_READY, 1), -EPROTO);
	ck_assert_int_eq(f.ready_calls, 0);

	/* The device model refuses the rings (e.g. not granted). */
	negotiate(&f, grant_features());
	f.ready_ret = -EFAULT;
	set_queue_regs(&f, 0, 16, G(1, 0), G(2, 0), G(3, 0));
	ck_assert_int_eq(wr(&f, XENVIRTIO_MMIO_QUEUE_READY, 1), -EPROTO);
	ck_assert_int_eq(f.ready_calls, 1);
	ck_assert_uint_eq(rd(&f, XENVIRTIO_MMIO_QUEUE_READY), 0);
	f.ready_ret = 0;

	/* QueueReady takes 0 or 1 only. */
	negotiate(&f, grant_features());
	set_queue_regs(&f, 0, 16, G(1, 0), G(2, 0), G(3, 0));
	ck_assert_int_eq(wr(&f, XENVIRTIO_MMIO_QUEUE_READY, 2), -EPROTO);
	ck_assert_int_eq(wr(&f, XENVIRTIO_MMIO_QUEUE_READY, 1), -EIO);

	/* Valid, then not ready, then changed and re-validated. */
	negotiate(&f, grant_features());
	setup_queue(&f, 0, 16);
	wr_ok(&f, XENVIRTIO_MMIO_QUEUE_READY, 0);
	ck_assert_int_eq(f.reset_calls, 1);
	ck_assert_uint_eq(rd(&f, XENVIRTIO_MMIO_QUEUE_READY), 0);
	wr_ok(&f, XENVIRTIO_MMIO_QUEUE_DESC_LOW, 4);
	ck_assert_int_eq(wr(&f, XENVIRTIO_MMIO_QUEUE_READY, 1), -EPROTO);
	ck_assert_int_eq(f.live_count, 0);
	ck_assert(needs_reset(&f));
	fake_fini(&f);
}
END_TEST

START_TEST(test_S4_foreign_mode_rejects_grant_rings)
{
	struct fake f;

	fake_init(&f, false, 0);
	xv_test_expect_errors(-1);
	negotiate(&f, FAKE_FEATURES | 1ULL << 32);
	set_queue_regs(&f, 0, 16, G(1, 0), 0x2000, 0x3000);
	ck_assert_int_eq(wr(&f, XENVIRTIO_MMIO_QUEUE_READY, 1), -EPROTO);
	negotiate(&f, FAKE_FEATURES | 1ULL << 32);
	set_queue_regs(&f, 0, 16, 0x1000, 0x2000, 0x3000);
	wr_ok(&f, XENVIRTIO_MMIO_QUEUE_READY, 1);
	ck_assert(!f.last_q.grants);
	ck_assert_uint_eq(f.last_q.desc, 0x1000);
	fake_fini(&f);
}
END_TEST

/* S4: writing a queue's registers while it is ready breaks (and releases)
 * that queue. */
START_TEST(test_S4_queue_write_while_ready)
{
	struct fake f;

	fake_init(&f, true, 0);
	xv_test_expect_errors(-1);
	negotiate(&f, grant_features());
	setup_queue(&f, 0, 16);
	setup_queue(&f, 1, 16);
	wr_ok(&f, XENVIRTIO_MMIO_QUEUE_SEL, 1);
	ck_assert_int_eq(wr(&f, XENVIRTIO_MMIO_QUEUE_DESC_LOW, 0), -EPROTO);
	ck_assert_int_eq(f.reset_calls, 1);
	ck_assert(!f.live[1]);
	ck_assert(f.live[0]);
	ck_assert_uint_eq(rd(&f, XENVIRTIO_MMIO_QUEUE_READY), 0);
	fake_fini(&f);
}
END_TEST

/* S4: device reset releases every ready queue exactly once, through the
 * callbacks, and forgets all queue state. */
START_TEST(test_S4_release_on_reset)
{
	struct fake f;
	int i;

	fake_init(&f, true, 0);
	negotiate(&f, grant_features());
	for (i = 0; i < FAKE_QUEUES; i++)
		setup_queue(&f, i, 32);
	add_status(&f, XENVIRTIO_STATUS_DRIVER_OK);
	f.dev_reset_calls = 0;
	ck_assert_int_eq(xenvirtio_mmio_dev_interrupt(f.dev), 0);
	ck_assert_int_eq(f.live_count, FAKE_QUEUES);
	wr_ok(&f, XENVIRTIO_MMIO_STATUS, 0);
	ck_assert_int_eq(f.live_count, 0);
	ck_assert_int_eq(f.reset_calls, FAKE_QUEUES);
	ck_assert_int_eq(f.dev_reset_calls, 1);
	ck_assert_uint_eq(rd(&f, XENVIRTIO_MMIO_STATUS), 0);
	ck_assert_uint_eq(rd(&f, XENVIRTIO_MMIO_INTERRUPT_STATUS), 0);
	for (i = 0; i < FAKE_QUEUES; i++) {
		wr_ok(&f, XENVIRTIO_MMIO_QUEUE_SEL, i);
		ck_assert_uint_eq(rd(&f, XENVIRTIO_MMIO_QUEUE_READY), 0);
	}
	/* A second reset has nothing left to release. */
	wr_ok(&f, XENVIRTIO_MMIO_STATUS, 0);
	ck_assert_int_eq(f.reset_calls, FAKE_QUEUES);

	/* Reset clears a broken queue too; the addresses are forgotten, so a
	 * ready without new addresses is refused. */
	negotiate(&f, grant_features());
	setup_queue(&f, 0, 16);
	xv_test_expect_errors(-1);
	ck_assert_int_eq(xenvirtio_mmio_dev_needs_reset(f.dev, "test"), 0);
	ck_assert_int_eq(f.live_count, 0);
	ck_assert(needs_reset(&f));
	ck_assert_int_eq(xenvirtio_mmio_dev_reset(f.dev), 0);
	ck_assert(!needs_reset(&f));
	negotiate(&f, grant_features());
	wr_ok(&f, XENVIRTIO_MMIO_QUEUE_SEL, 0);
	ck_assert_int_eq(wr(&f, XENVIRTIO_MMIO_QUEUE_READY, 1), -EPROTO);
	fake_fini(&f);
}
END_TEST

/* S4 with RING_RESET: QueueReset releases one queue and clears its state. */
START_TEST(test_S4_queue_reset_register)
{
	const uint64_t rr = 1ULL << XENVIRTIO_F_RING_RESET;
	struct fake f;

	fake_init(&f, true, rr);
	xv_test_expect_errors(-1);
	negotiate(&f, grant_features() | rr);
	setup_queue(&f, 0, 16);
	setup_queue(&f, 1, 16);
	wr_ok(&f, XENVIRTIO_MMIO_QUEUE_SEL, 1);
	ck_assert_uint_eq(rd(&f, XENVIRTIO_MMIO_QUEUE_RESET), 0);
	wr_ok(&f, XENVIRTIO_MMIO_QUEUE_RESET, 1);
	ck_assert_int_eq(f.reset_calls, 1);
	ck_assert(!f.live[1] && f.live[0]);
	ck_assert_uint_eq(rd(&f, XENVIRTIO_MMIO_QUEUE_RESET), 1);
	ck_assert_uint_eq(rd(&f, XENVIRTIO_MMIO_QUEUE_READY), 0);
	/* A queue broken by a bad size recovers through QueueReset. */
	ck_assert_int_eq(wr(&f, XENVIRTIO_MMIO_QUEUE_NUM, 0), -EPROTO);
	ck_assert_int_eq(wr(&f, XENVIRTIO_MMIO_QUEUE_READY, 1), -EIO);
	wr_ok(&f, XENVIRTIO_MMIO_QUEUE_RESET, 1);
	setup_queue(&f, 1, 16);
	ck_assert_uint_eq(rd(&f, XENVIRTIO_MMIO_QUEUE_RESET), 0);
	fake_fini(&f);

	/* QueueReset with a bad value or selector breaks the device. */
	fake_init(&f, true, rr);
	xv_test_expect_errors(-1);
	negotiate(&f, grant_features() | rr);
	wr_ok(&f, XENVIRTIO_MMIO_QUEUE_SEL, 0);
	ck_assert_int_eq(wr(&f, XENVIRTIO_MMIO_QUEUE_RESET, 2), -EPROTO);
	ck_assert(needs_reset(&f));
	negotiate(&f, grant_features() | rr);
	wr_ok(&f, XENVIRTIO_MMIO_QUEUE_SEL, FAKE_QUEUES);
	ck_assert_int_eq(wr(&f, XENVIRTIO_MMIO_QUEUE_RESET, 1), -EPROTO);
	ck_assert(needs_reset(&f));
	fake_fini(&f);

	/* Without RING_RESET negotiated, QueueReset is a violation. */
	fake_init(&f, true, rr);
	xv_test_expect_errors(-1);
	negotiate(&f, grant_features());
	wr_ok(&f, XENVIRTIO_MMIO_QUEUE_SEL, 0);
	ck_assert_uint_eq(rd(&f, XENVIRTIO_MMIO_QUEUE_RESET), 0);
	ck_assert_int_eq(wr(&f, XENVIRTIO_MMIO_QUEUE_RESET, 1), -EPROTO);
	ck_assert(needs_reset(&f));
	fake_fini(&f);
}
END_TEST

START_TEST(test_readonly_registers)
{
	static const uint32_t ro[] = {
	    XENVIRTIO_MMIO_MAGIC_VALUE,	     XENVIRTIO_MMIO_VERSION,
	    XENVIRTIO_MMIO_DEVICE_ID,	     XENVIRTIO_MMIO_VENDOR_ID,
	    XENVIRTIO_MMIO_DEVICE_FEATURES,  XENVIRTIO_MMIO_QUEUE_NUM_MAX,
	    XENVIRTIO_MMIO_INTERRUPT_STATUS, XENVIRTIO_MMIO_SHM_LEN_LOW,
	    XENVIRTIO_MMIO_SHM_BASE_HIGH,    XENVIRTIO_MMIO_CONFIG_GENERATION,
	};
	struct fake f;
	unsigned int i;

	fake_init(&f, true, 0);
	xv_test_expect_errors(-1);
	for (i = 0; i < XV_ARRAY_SIZE(ro); i++) {
		wr_ok(&f, XENVIRTIO_MMIO_STATUS, 0);
		ck_assert_int_eq(wr(&f, ro[i], 0), -EPROTO);
		ck_assert(needs_reset(&f));
	}
	ck_assert_uint_eq(rd(&f, XENVIRTIO_MMIO_MAGIC_VALUE), 0x74726976);
	fake_fini(&f);
}
END_TEST

START_TEST(test_writeonly_registers)
{
	static const uint32_t wo[] = {
	    XENVIRTIO_MMIO_DEVICE_FEATURES_SEL,
	    XENVIRTIO_MMIO_DRIVER_FEATURES,
	    XENVIRTIO_MMIO_QUEUE_SEL,
	    XENVIRTIO_MMIO_QUEUE_NUM,
	    XENVIRTIO_MMIO_QUEUE_NOTIFY,
	    XENVIRTIO_MMIO_INTERRUPT_ACK,
	    XENVIRTIO_MMIO_QUEUE_DESC_LOW,
	    XENVIRTIO_MMIO_QUEUE_DEVICE_HIGH,
	    XENVIRTIO_MMIO_SHM_SEL,
	};
	struct fake f;
	unsigned int i;
	uint32_t v;

	fake_init(&f, true, 0);
	xv_test_expect_errors(-1);
	for (i = 0; i < XV_ARRAY_SIZE(wo); i++) {
		wr_ok(&f, XENVIRTIO_MMIO_STATUS, 0);
		v = 0x5a5a5a5a;
		ck_assert_int_eq(xenvirtio_mmio_dev_read(f.dev, wo[i], 4, &v),
				 -EPROTO);
		ck_assert_uint_eq(v, 0x5a5a5a5a);
		ck_assert(needs_reset(&f));
	}
	fake_fini(&f);
}
END_TEST

/* Control registers: aligned 32-bit only. Config: 1, 2, 4 bytes, aligned,
 * inside the space. Holes do not exist. */
START_TEST(test_access_width)
{
	static const struct {
		uint32_t off;
		unsigned int size;
		bool ok;
	} acc[] = {
	    {XENVIRTIO_MMIO_STATUS, 1, false},
	    {XENVIRTIO_MMIO_STATUS, 2, false},
	    {XENVIRTIO_MMIO_STATUS, 8, false},
	    {XENVIRTIO_MMIO_STATUS, 0, false},
	    {XENVIRTIO_MMIO_STATUS + 1, 4, false},
	    {XENVIRTIO_MMIO_STATUS + 2, 4, false},
	    {0x018, 4, false}, /* hole */
	    {0x0f8, 4, false}, /* hole */
	    {0x100, 1, true},
	    {0x101, 1, true},
	    {0x102, 2, true},
	    {0x101, 2, false},
	    {0x104, 4, true},
	    {0x106, 4, false},
	    {0x100, 3, false},
	    {0x100, 8, false},
	    {0x10f, 1, true},
	    {0x110, 1, false}, /* past the 16-byte config space */
	    {0x10e, 4, false},
	    {0xfffffffc, 4, false},
	};
	struct fake f;
	unsigned int i;
	uint32_t v;

	fake_init(&f, true, 0);
	xv_test_expect_errors(-1);
	for (i = 0; i < XV_ARRAY_SIZE(acc); i++) {
		wr_ok(&f, XENVIRTIO_MMIO_STATUS, 0);
		v = 0x5a5a5a5a;
		ck_assert_msg(xenvirtio_mmio_dev_read(f.dev, acc[i].off,
						      acc[i].size, &v) ==
				  (acc[i].ok ? 0 : -EPROTO),
			      "read %#x/%u", acc[i].off, acc[i].size);
		ck_assert(needs_reset(&f) == !acc[i].ok);
		if (!acc[i].ok)
			ck_assert_uint_eq(v, 0x5a5a5a5a);
		wr_ok(&f, XENVIRTIO_MMIO_STATUS, 0);
		ck_assert_msg(xenvirtio_mmio_dev_write(f.dev, acc[i].off,
						       acc[i].size, 0) ==
				  (acc[i].ok ? 0 : -EPROTO),
			      "write %#x/%u", acc[i].off, acc[i].size);
	}
	/* Config reads are little-endian, at the field's width. */
	wr_ok(&f, XENVIRTIO_MMIO_STATUS, 0);
	ck_assert_int_eq(xenvirtio_mmio_dev_read(f.dev, 0x104, 4, &v), 0);
	ck_assert_uint_eq(v, 0x88776655);
	ck_assert_int_eq(xenvirtio_mmio_dev_read(f.dev, 0x102, 2, &v), 0);
	ck_assert_uint_eq(v, 0x4433);
	ck_assert_int_eq(xenvirtio_mmio_dev_read(f.dev, 0x10f, 1, &v), 0);
	ck_assert_uint_eq(v, 0x01);
	fake_fini(&f);
}
END_TEST

START_TEST(test_config_generation)
{
	static const uint8_t upd[4] = {1, 2, 3, 4};
	struct fake f;
	uint32_t g0, v;

	fake_init(&f, true, 0);
	g0 = rd(&f, XENVIRTIO_MMIO_CONFIG_GENERATION);
	ck_assert_int_eq(xenvirtio_mmio_dev_set_config(f.dev, 8, upd, 4), 0);
	ck_assert_uint_ne(rd(&f, XENVIRTIO_MMIO_CONFIG_GENERATION), g0);
	ck_assert_int_eq(xenvirtio_mmio_dev_read(f.dev, 0x108, 4, &v), 0);
	ck_assert_uint_eq(v, 0x04030201);
	/* No configuration interrupt before DRIVER_OK... */
	ck_assert_int_eq(f.irq_calls, 0);
	ck_assert_uint_eq(rd(&f, XENVIRTIO_MMIO_INTERRUPT_STATUS), 0);
	/* ... one after. */
	negotiate(&f, grant_features());
	add_status(&f, XENVIRTIO_STATUS_DRIVER_OK);
	g0 = rd(&f, XENVIRTIO_MMIO_CONFIG_GENERATION);
	ck_assert_int_eq(xenvirtio_mmio_dev_set_config(f.dev, 0, upd, 1), 0);
	ck_assert_uint_eq(rd(&f, XENVIRTIO_MMIO_CONFIG_GENERATION), g0 + 1);
	ck_assert_int_eq(f.irq_calls, 1);
	ck_assert_uint_eq(f.last_irq, XENVIRTIO_MMIO_INT_CONFIG);
	ck_assert_uint_eq(rd(&f, XENVIRTIO_MMIO_INTERRUPT_STATUS),
			  XENVIRTIO_MMIO_INT_CONFIG);
	/* Out-of-range updates are the caller's misuse. */
	ck_assert_int_eq(xenvirtio_mmio_dev_set_config(f.dev, 15, upd, 2),
			 -EINVAL);
	ck_assert_int_eq(
	    xenvirtio_mmio_dev_set_config(f.dev, 0xffffffffu, upd, 2), -EINVAL);
	/* Driver writes reach the device model, at their width. */
	ck_assert_int_eq(xenvirtio_mmio_dev_write(f.dev, 0x10c, 2, 0xbeef), 0);
	ck_assert_int_eq(f.cfgw_calls, 1);
	ck_assert_uint_eq(f.last_cfgw_off, 12);
	ck_assert_uint_eq(f.last_cfgw_val, 0xbeef);
	fake_fini(&f);
}
END_TEST

START_TEST(test_config_readonly_without_callback)
{
	struct xenvirtio_mmio_dev_ops ops = fake_ops;
	struct fake f;

	ops.config_write = NULL;
	xv_test_expect_errors(-1);
	fake_init_ops(&f, true, 0, &ops);
	ck_assert_int_eq(xenvirtio_mmio_dev_write(f.dev, 0x100, 1, 1), -EPROTO);
	ck_assert(needs_reset(&f));
	fake_fini(&f);
}
END_TEST

START_TEST(test_interrupt_status_ack)
{
	struct fake f;

	fake_init(&f, true, 0);
	negotiate(&f, grant_features());
	ck_assert_int_eq(xenvirtio_mmio_dev_interrupt(f.dev), -EAGAIN);
	ck_assert_int_eq(f.irq_calls, 0);
	add_status(&f, XENVIRTIO_STATUS_DRIVER_OK);
	ck_assert_int_eq(xenvirtio_mmio_dev_interrupt(f.dev), 0);
	ck_assert_int_eq(f.irq_calls, 1);
	ck_assert_uint_eq(f.last_irq, XENVIRTIO_MMIO_INT_VRING);
	/* Already pending: no second edge. */
	ck_assert_int_eq(xenvirtio_mmio_dev_interrupt(f.dev), 0);
	ck_assert_int_eq(f.irq_calls, 1);
	ck_assert_uint_eq(rd(&f, XENVIRTIO_MMIO_INTERRUPT_STATUS),
			  XENVIRTIO_MMIO_INT_VRING);
	/* Acknowledging another bit leaves it pending. */
	wr_ok(&f, XENVIRTIO_MMIO_INTERRUPT_ACK, XENVIRTIO_MMIO_INT_CONFIG);
	ck_assert_uint_eq(rd(&f, XENVIRTIO_MMIO_INTERRUPT_STATUS),
			  XENVIRTIO_MMIO_INT_VRING);
	/* Undefined bits are ignored (warning, not fatal). */
	wr_ok(&f, XENVIRTIO_MMIO_INTERRUPT_ACK,
	      0xfffffffc | XENVIRTIO_MMIO_INT_VRING);
	ck_assert_uint_eq(rd(&f, XENVIRTIO_MMIO_INTERRUPT_STATUS), 0);
	ck_assert(!needs_reset(&f));
	ck_assert_int_eq(xenvirtio_mmio_dev_interrupt(f.dev), 0);
	ck_assert_int_eq(f.irq_calls, 2);
	fake_fini(&f);
}
END_TEST

/* ---- driver side, in-process against the device side ---- */

struct direct {
	struct fake *f;
	int reads;
	int writes;
	int churn_left; /* change the config on this many config reads */
	int last_write_ret;
};

static int direct_read(void *opaque, uint32_t off, unsigned int size,
		       uint32_t *val)
{
	struct direct *d = opaque;
	uint8_t b = (uint8_t)d->reads;

	d->reads++;
	if (off >= XENVIRTIO_MMIO_CONFIG && d->churn_left) {
		d->churn_left--;
		xenvirtio_mmio_dev_set_config(d->f->dev, 15, &b, 1);
	}
	return xenvirtio_mmio_dev_read(d->f->dev, off, size, val);
}

static int direct_write(void *opaque, uint32_t off, unsigned int size,
			uint32_t val)
{
	struct direct *d = opaque;

	/* Like a real bus: a refused write is not reported to the CPU. */
	d->writes++;
	d->last_write_ret = xenvirtio_mmio_dev_write(d->f->dev, off, size, val);
	return 0;
}

static const struct xenvirtio_mmio_drv_io direct_io = {
	.read = direct_read,
	.write = direct_write,
};

START_TEST(test_driver_init_sequence)
{
	struct fake f;
	struct direct d = {.f = &f};
	struct xenvirtio_mmio_drv *drv;
	uint32_t id = 0, isr = 0;
	uint64_t neg = 0, v = 0;
	int i;

	fake_init(&f, true, 0);
	ck_assert_int_eq(xenvirtio_mmio_drv_new(&f.ctx, &direct_io, &d, &drv),
			 0);
	ck_assert_int_eq(xenvirtio_mmio_drv_init(drv, FAKE_FEATURES | 1ULL << 7,
						 true, &id, &neg),
			 0);
	ck_assert_uint_eq(id, 2);
	/* Bit 7 was not offered; the transport bits were added. */
	ck_assert_uint_eq(neg, grant_features());
	ck_assert_int_eq(xenvirtio_mmio_drv_queue_num_max(drv, 0), FAKE_QMAX);
	ck_assert_int_eq(xenvirtio_mmio_drv_queue_num_max(drv, FAKE_QUEUES), 0);
	ck_assert_int_eq(xenvirtio_mmio_drv_queue_setup(drv, 0, 128, G(1, 0),
							G(2, 0), G(3, 0)),
			 0);
	ck_assert_int_eq(f.ready_calls, 1);
	ck_assert_uint_eq(f.last_q.num, 128);
	ck_assert_int_eq(xenvirtio_mmio_drv_queue_setup(drv, 0, 128, G(1, 0),
							G(2, 0), G(3, 0)),
			 -EBUSY);
	ck_assert_int_eq(xenvirtio_mmio_drv_queue_setup(
			     drv, FAKE_QUEUES, 8, G(1, 0), G(2, 0), G(3, 0)),
			 -ENOENT);
	ck_assert_int_eq(xenvirtio_mmio_drv_queue_setup(
			     drv, 1, FAKE_QMAX * 2, G(1, 0), G(2, 0), G(3, 0)),
			 -ERANGE);
	ck_assert_int_eq(xenvirtio_mmio_drv_driver_ok(drv), 0);
	ck_assert_uint_eq(
	    rd(&f, XENVIRTIO_MMIO_STATUS),
	    XENVIRTIO_STATUS_ACKNOWLEDGE | XENVIRTIO_STATUS_DRIVER |
		XENVIRTIO_STATUS_FEATURES_OK | XENVIRTIO_STATUS_DRIVER_OK);
	ck_assert_int_eq(xenvirtio_mmio_drv_notify(drv, 0), 0);
	ck_assert_int_eq(f.notify_calls, 1);
	ck_assert_int_eq(xenvirtio_mmio_dev_interrupt(f.dev), 0);
	ck_assert_int_eq(xenvirtio_mmio_drv_ack_interrupt(drv, &isr), 0);
	ck_assert_uint_eq(isr, XENVIRTIO_MMIO_INT_VRING);
	ck_assert_uint_eq(rd(&f, XENVIRTIO_MMIO_INTERRUPT_STATUS), 0);
	ck_assert_int_eq(xenvirtio_mmio_drv_config_read(drv, 0, 8, &v), 0);
	ck_assert_uint_eq(v, 0x8877665544332211ULL);
	ck_assert_int_eq(xenvirtio_mmio_drv_config_read(drv, 1, 1, &v), 0);
	ck_assert_uint_eq(v, 0x22);
	ck_assert_int_eq(xenvirtio_mmio_drv_config_read(drv, 1, 2, &v),
			 -EINVAL);
	ck_assert_int_eq(xenvirtio_mmio_drv_config_write(drv, 4, 4, 7), 0);
	ck_assert_int_eq(f.cfgw_calls, 1);
	/* Generation changing under the reader: retried, then given up. */
	d.churn_left = 1;
	i = d.reads;
	ck_assert_int_eq(xenvirtio_mmio_drv_config_read(drv, 12, 4, &v), 0);
	ck_assert_int_eq(d.reads - i, 6); /* read twice */
	ck_assert_int_eq(xenvirtio_mmio_dev_read(f.dev, 0x10c, 4, &isr), 0);
	ck_assert_uint_eq(v, isr);
	xv_test_expect_errors(1);
	d.churn_left = 1000;
	ck_assert_int_eq(xenvirtio_mmio_drv_config_read(drv, 12, 4, &v),
			 -EAGAIN);
	xv_test_expect_errors(0);
	ck_assert_int_eq(xenvirtio_mmio_drv_reset(drv), 0);
	ck_assert_int_eq(f.live_count, 0);
	ck_assert_uint_eq(rd(&f, XENVIRTIO_MMIO_STATUS), 0);
	xenvirtio_mmio_drv_free(drv);
	fake_fini(&f);
}
END_TEST

START_TEST(test_driver_init_refusals)
{
	struct fake f;
	struct direct d = {.f = &f};
	struct xenvirtio_mmio_drv *drv;
	uint64_t neg = 0xabc;

	/* A grant-mode driver meets a device without ACCESS_PLATFORM. */
	fake_init(&f, false, 0);
	ck_assert_int_eq(xenvirtio_mmio_drv_new(&f.ctx, &direct_io, &d, &drv),
			 0);
	xv_test_expect_errors(1);
	ck_assert_int_eq(
	    xenvirtio_mmio_drv_init(drv, FAKE_FEATURES, true, NULL, &neg),
	    -ENODEV);
	ck_assert_uint_eq(neg, 0xabc);
	ck_assert_uint_ne(
	    rd(&f, XENVIRTIO_MMIO_STATUS) & XENVIRTIO_STATUS_FAILED, 0);
	/* The device model vetoes FEATURES_OK. */
	xv_test_expect_errors(1);
	f.features_ok_ret = 1;
	ck_assert_int_eq(
	    xenvirtio_mmio_drv_init(drv, FAKE_FEATURES, false, NULL, &neg),
	    -ENOTSUP);
	ck_assert_uint_ne(
	    rd(&f, XENVIRTIO_MMIO_STATUS) & XENVIRTIO_STATUS_FAILED, 0);
	/* The device refuses a queue: the driver sees QueueReady 0. */
	f.features_ok_ret = 0;
	xv_test_expect_errors(-1);
	ck_assert_int_eq(
	    xenvirtio_mmio_drv_init(drv, FAKE_FEATURES, false, NULL, &neg), 0);
	f.ready_ret = -ENOMEM;
	ck_assert_int_eq(
	    xenvirtio_mmio_drv_queue_setup(drv, 0, 8, 0x1000, 0x2000, 0x3000),
	    -EIO);
	/* ... and DRIVER_OK reports that the device needs a reset. */
	ck_assert_int_eq(xenvirtio_mmio_drv_driver_ok(drv), -EIO);
	xenvirtio_mmio_drv_free(drv);
	fake_fini(&f);
}
END_TEST

static int bad_magic_read(void *opaque, uint32_t off, unsigned int size,
			  uint32_t *val)
{
	(void)opaque;
	(void)size;
	*val = off == XENVIRTIO_MMIO_VERSION ? 1 : 0x74726976;
	return 0;
}

static int failing_write(void *opaque, uint32_t off, unsigned int size,
			 uint32_t val)
{
	(void)opaque;
	(void)off;
	(void)size;
	(void)val;
	return -EIO;
}

START_TEST(test_driver_no_device)
{
	static const struct xenvirtio_mmio_drv_io io = {
	    .read = bad_magic_read,
	    .write = failing_write,
	};
	struct xenvirtio_ctx ctx;
	struct xenvirtio_mmio_drv *drv;

	fake_ctx_init(&ctx, xv_test_log);
	xv_test_expect_errors(1);
	ck_assert_int_eq(xenvirtio_mmio_drv_new(&ctx, &io, NULL, &drv), 0);
	/* Version 1 (legacy) is not driven. */
	ck_assert_int_eq(xenvirtio_mmio_drv_init(drv, 0, false, NULL, NULL),
			 -ENODEV);
	ck_assert_int_eq(xenvirtio_mmio_drv_notify(drv, 0), -EIO);
	ck_assert_int_eq(xenvirtio_mmio_drv_init(NULL, 0, false, NULL, NULL),
			 -EINVAL);
	xenvirtio_mmio_drv_free(drv);
}
END_TEST

/* An accessor whose Nth register access fails. */
struct flaky {
	struct fake *f;
	int left;
};

static int flaky_read(void *opaque, uint32_t off, unsigned int size,
		      uint32_t *val)
{
	struct flaky *k = opaque;

	if (k->left-- == 0)
		return -ENXIO;
	return xenvirtio_mmio_dev_read(k->f->dev, off, size, val);
}

static int flaky_write(void *opaque, uint32_t off, unsigned int size,
		       uint32_t val)
{
	struct flaky *k = opaque;

	if (k->left-- == 0)
		return -ENXIO;
	xenvirtio_mmio_dev_write(k->f->dev, off, size, val);
	return 0;
}

/* Every step of the driver side passes an I/O error up, out-parameters
 * untouched, whichever access fails. */
START_TEST(test_driver_io_errors)
{
	static const struct xenvirtio_mmio_drv_io io = {
	    .read = flaky_read,
	    .write = flaky_write,
	};
	struct fake f;
	struct flaky k = {.f = &f};
	struct xenvirtio_mmio_drv *drv;
	uint64_t neg, v;
	uint32_t id, isr;
	int n, r, failures = 0;

	fake_init(&f, true, 0);
	xv_test_expect_errors(-1);
	ck_assert_int_eq(xenvirtio_mmio_drv_new(&f.ctx, &io, &k, &drv), 0);
	for (n = 0; n < 200; n++) {
		k.left = n;
		neg = v = 0xabc;
		id = isr = 0xabc;
		r = xenvirtio_mmio_drv_init(drv, FAKE_FEATURES, true, &id,
					    &neg);
		if (r) {
			ck_assert_uint_eq(id, 0xabc);
			ck_assert_uint_eq(neg, 0xabc);
		}
		if (!r)
			r = xenvirtio_mmio_drv_queue_setup(drv, 0, 16, G(1, 0),
							   G(2, 0), G(3, 0));
		if (!r)
			r = xenvirtio_mmio_drv_driver_ok(drv);
		if (!r)
			r = xenvirtio_mmio_drv_notify(drv, 0);
		if (!r) {
			r = xenvirtio_mmio_drv_ack_interrupt(drv, &isr);
			if (r)
				ck_assert_uint_eq(isr, 0xabc);
		}
		if (!r) {
			r = xenvirtio_mmio_drv_config_read(drv, 0, 8, &v);
			if (r)
				ck_assert_uint_eq(v, 0xabc);
		}
		if (!r)
			r = xenvirtio_mmio_drv_reset(drv);
		if (r == 0)
			break;
		ck_assert_int_eq(r, -ENXIO);
		failures++;
		k.left = -1;
		xenvirtio_mmio_dev_reset(f.dev);
	}
	ck_assert_int_lt(n, 200);
	ck_assert_int_eq(failures, n);
	ck_assert_int_gt(failures, 30);
	xenvirtio_mmio_drv_free(drv);
	fake_fini(&f);
}
END_TEST

static Suite *mmio_suite(void)
{
	Suite *s = suite_create("mmio");
	TCase *tc = tcase_create("registers");

	tcase_add_test(tc, test_ids);
	tcase_add_test(tc, test_new_bad_config);
	tcase_add_test(tc, test_transport_features);
	tcase_add_test(tc, test_feature_negotiation);
	tcase_add_test(tc, test_features_ok_refused);
	tcase_add_test(tc, test_status_rules);
	tcase_add_test(tc, test_queue_setup);
	tcase_add_test(tc, test_notify_held_until_driver_ok);
	tcase_add_test(tc, test_notification_data);
	tcase_add_test(tc, test_S1_queue_sel_out_of_range);
	tcase_add_test(tc, test_S2_queue_num_split);
	tcase_add_test(tc, test_S2_queue_num_packed);
	tcase_add_test(tc, test_S4_revalidate_on_ready);
	tcase_add_test(tc, test_S4_foreign_mode_rejects_grant_rings);
	tcase_add_test(tc, test_S4_queue_write_while_ready);
	tcase_add_test(tc, test_S4_release_on_reset);
	tcase_add_test(tc, test_S4_queue_reset_register);
	tcase_add_test(tc, test_readonly_registers);
	tcase_add_test(tc, test_writeonly_registers);
	tcase_add_test(tc, test_access_width);
	tcase_add_test(tc, test_config_generation);
	tcase_add_test(tc, test_config_readonly_without_callback);
	tcase_add_test(tc, test_interrupt_status_ack);
	suite_add_tcase(s, tc);

	tc = tcase_create("driver");
	tcase_add_test(tc, test_driver_init_sequence);
	tcase_add_test(tc, test_driver_init_refusals);
	tcase_add_test(tc, test_driver_no_device);
	tcase_add_test(tc, test_driver_io_errors);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return xv_test_run(mmio_suite());
}
