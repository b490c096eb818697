/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Device-side virtqueues in identity mode: ring layouts, set-up checks
 * S2-S4, chain checks R1-R16, notification suppression, split and packed.
 */
#include "xv-test.h"

#include <pthread.h>
#include <sys/uio.h>

#include "vq_internal.h"
#include "test-vq-tdrv.h"

#define MEM_SIZE (1u << 20)
#define DATA 0x80000u /* buffers live from here */

static uint8_t *mem;
static struct xenvirtio_ctx *ctx;
static struct xenvirtio_mapper *m;
static struct xenvirtio_vq *vq;
static struct tdrv t;
static struct iovec iov[64];
static struct xenvirtio_vq_elem e;

static struct xenvirtio_ctx *test_ctx(void)
{
	struct xenvirtio_ctx *c = calloc(1, sizeof(*c));

	ck_assert_ptr_nonnull(c);
	c->log_fn = xv_test_log;
	c->log_max = XENVIRTIO_LOG_DEBUG;
	return c;
}

static void setup_q(uint32_t num, bool packed, bool event_idx)
{
	struct xenvirtio_vq_config cfg;

	xv_test_expect_errors(0);
	mem = aligned_alloc(4096, MEM_SIZE);
	ck_assert_ptr_nonnull(mem);
	memset(mem, 0, MEM_SIZE);
	ctx = test_ctx();
	ck_assert_int_eq(xenvirtio_mapper_open_identity(ctx, mem, MEM_SIZE,
							&m),
			 0);
	ck_assert_int_eq(xenvirtio_vq_new(m, 1024, &vq), 0);
	tdrv_init(&t, mem, 0, num, packed, event_idx, false);
	tdrv_config(&t, &cfg, 0);
	ck_assert_int_eq(xenvirtio_vq_enable(vq, &cfg), 0);
	e.iov = iov;
	e.iov_cap = XV_ARRAY_SIZE(iov);
}

static void teardown_q(void)
{
	xenvirtio_vq_free(vq);
	xenvirtio_mapper_close(m);
	free(ctx);
	free(mem);
	vq = NULL;
}

static void split8(void)
{
	setup_q(8, false, false);
}
static void packed8(void)
{
	setup_q(8, true, false);
}
static void split8_ev(void)
{
	setup_q(8, false, true);
}
static void packed8_ev(void)
{
	setup_q(8, true, true);
}

static void expect_used(uint32_t id, uint32_t len, unsigned int ndescs)
{
	uint32_t uid = 0xdead, ulen = 0xdead;

	ck_assert_int_eq(tdrv_get_used(&t, &uid, &ulen, ndescs), 1);
	ck_assert_uint_eq(uid, id);
	ck_assert_uint_eq(ulen, len);
}

/* Ring layouts, byte by byte, against virtio 1.2 §2.7 and §2.8. */
START_TEST(test_layout_split_used_ring)
{
	struct tbuf b[2] = { { DATA, 16, false }, { DATA + 4096, 100, true } };
	uint16_t head = tdrv_add(&t, b, 2, false, 0);
	const uint8_t *u = mem + t.dev;

	ck_assert_int_eq(xenvirtio_vq_pop(vq, &e), 1);
	ck_assert_uint_eq(e.id, head);
	ck_assert_int_eq(xenvirtio_vq_push(vq, &e, 7), 0);
	/* used: le16 flags, le16 idx, {le32 id, le32 len}[N] */
	ck_assert_uint_eq(u[2], 1);
	ck_assert_uint_eq(u[3], 0);
	ck_assert_uint_eq(u[4] | u[5] << 8 | u[6] << 16 | u[7] << 24, head);
	ck_assert_uint_eq(u[8], 7);
	ck_assert_uint_eq(u[9] | u[10] | u[11], 0);
	ck_assert_ptr_eq(iov[0].iov_base, mem + DATA);
	ck_assert_ptr_eq(iov[1].iov_base, mem + DATA + 4096);
	ck_assert_uint_eq(e.out_num, 1);
	ck_assert_uint_eq(e.in_num, 1);
	ck_assert_uint_eq(e.out_len, 16);
	ck_assert_uint_eq(e.in_len, 100);
}
END_TEST

START_TEST(test_layout_split_event_fields)
{
	/* avail_event at used->ring[N], used_event at avail->ring[N] */
	ck_assert_int_eq(xenvirtio_vq_set_notification(vq, true), 0);
	ck_assert_uint_eq(tdrv_rd16(mem + t.dev + 4 + 8 * 8), 0);
	tdrv_add(&t, (struct tbuf[]){ { DATA, 1, false } }, 1, false, 0);
	ck_assert_int_eq(xenvirtio_vq_pop(vq, &e), 1);
	ck_assert_uint_eq(tdrv_rd16(mem + t.dev + 4 + 8 * 8), 1);
	tdrv_le16(mem + t.drv + 4 + 2 * 8, 0); /* used_event = 0 */
	ck_assert_int_eq(xenvirtio_vq_push(vq, &e, 0), 0);
	ck_assert_int_eq(xenvirtio_vq_should_notify(vq), 1);
	tdrv_add(&t, (struct tbuf[]){ { DATA, 1, false } }, 1, false, 0);
	ck_assert_int_eq(xenvirtio_vq_pop(vq, &e), 1);
	ck_assert_int_eq(xenvirtio_vq_push(vq, &e, 0), 0);
	/* used_event 0 already passed: used idx went 1 -> 2 */
	ck_assert_int_eq(xenvirtio_vq_should_notify(vq), 0);
	tdrv_le16(mem + t.drv + 4 + 2 * 8, 2);
	tdrv_add(&t, (struct tbuf[]){ { DATA, 1, false } }, 1, false, 0);
	ck_assert_int_eq(xenvirtio_vq_pop(vq, &e), 1);
	ck_assert_int_eq(xenvirtio_vq_push(vq, &e, 0), 0);
	ck_assert_int_eq(xenvirtio_vq_should_notify(vq), 1);
}
END_TEST

START_TEST(test_split_flag_suppression)
{
	ck_assert_int_eq(xenvirtio_vq_set_notification(vq, false), 0);
	ck_assert_uint_eq(tdrv_rd16(mem + t.dev), 1); /* NO_NOTIFY */
	ck_assert_int_eq(xenvirtio_vq_set_notification(vq, true), 0);
	ck_assert_uint_eq(tdrv_rd16(mem + t.dev), 0);
	tdrv_add(&t, (struct tbuf[]){ { DATA, 1, false } }, 1, false, 0);
	ck_assert_int_eq(xenvirtio_vq_pop(vq, &e), 1);
	ck_assert_int_eq(xenvirtio_vq_push(vq, &e, 0), 0);
	ck_assert_int_eq(xenvirtio_vq_should_notify(vq), 1);
	tdrv_le16(mem + t.drv, 1); /* NO_INTERRUPT */
	ck_assert_int_eq(xenvirtio_vq_should_notify(vq), 0);
}
END_TEST

START_TEST(test_layout_packed_used_desc)
{
	struct tbuf b[3] = { { DATA, 16, false },
			     { DATA + 4096, 4096, true },
			     { DATA + 8192, 1, true } };
	const uint8_t *d = mem + t.desc;

	tdrv_add(&t, b, 3, false, 0x1234);
	ck_assert_int_eq(xenvirtio_vq_pop(vq, &e), 1);
	ck_assert_uint_eq(e.id, 0x1234);
	ck_assert_uint_eq(e.out_num, 1);
	ck_assert_uint_eq(e.in_num, 2);
	ck_assert_int_eq(xenvirtio_vq_push(vq, &e, 4097), 0);
	/* le64 addr, le32 len, le16 id, le16 flags: AVAIL|USED (wrap 1) */
	ck_assert_uint_eq(tdrv_rd32(d + 8), 4097);
	ck_assert_uint_eq(tdrv_rd16(d + 12), 0x1234);
	ck_assert_uint_eq(tdrv_rd16(d + 14), (1u << 7) | (1u << 15) | 2u);
	expect_used(0x1234, 4097, 3);
	ck_assert_int_eq(xenvirtio_vq_pop(vq, &e), 0);
}
END_TEST

START_TEST(test_packed_wrap)
{
	unsigned int i;

	/* 3 laps of a size-8 ring with 3-descriptor chains */
	for (i = 0; i < 24; i++) {
		struct tbuf b[3] = { { DATA, 8, false },
				     { DATA + 64, 8, false },
				     { DATA + 128, 8, true } };

		tdrv_add(&t, b, 3, i % 2, (uint16_t)i);
		ck_assert_int_eq(xenvirtio_vq_pop(vq, &e), 1);
		ck_assert_uint_eq(e.id, i);
		ck_assert_uint_eq(e.out_num + e.in_num, 3);
		ck_assert_int_eq(xenvirtio_vq_push(vq, &e, 8), 0);
		expect_used(i, 8, i % 2 ? 1 : 3);
		ck_assert_int_eq(xenvirtio_vq_pop(vq, &e), 0);
	}
}
END_TEST

START_TEST(test_packed_event_suppression)
{
	uint8_t *drv = mem + t.drv;

	tdrv_add(&t, (struct tbuf[]){ { DATA, 1, false } }, 1, false, 1);
	ck_assert_int_eq(xenvirtio_vq_pop(vq, &e), 1);
	ck_assert_int_eq(xenvirtio_vq_push(vq, &e, 0), 0);
	tdrv_le16(drv + 2, 1); /* disable */
	ck_assert_int_eq(xenvirtio_vq_should_notify(vq), 0);
	tdrv_le16(drv + 2, 0); /* enable */
	ck_assert_int_eq(xenvirtio_vq_should_notify(vq), 1);
	/* descriptor-specific: notify when position 3 (wrap 1) is used */
	tdrv_le16(drv, 3 | 0x8000);
	tdrv_le16(drv + 2, 2);
	tdrv_add(&t, (struct tbuf[]){ { DATA, 1, false } }, 1, false, 2);
	ck_assert_int_eq(xenvirtio_vq_pop(vq, &e), 1);
	ck_assert_int_eq(xenvirtio_vq_push(vq, &e, 0), 0);
	ck_assert_int_eq(xenvirtio_vq_should_notify(vq), 0); /* used 1 */
	tdrv_add(&t, (struct tbuf[]){ { DATA, 1, false } }, 1, false, 3);
	tdrv_add(&t, (struct tbuf[]){ { DATA, 1, false } }, 1, false, 4);
	ck_assert_int_eq(xenvirtio_vq_pop(vq, &e), 1);
	ck_assert_int_eq(xenvirtio_vq_push(vq, &e, 0), 0);
	ck_assert_int_eq(xenvirtio_vq_pop(vq, &e), 1);
	ck_assert_int_eq(xenvirtio_vq_push(vq, &e, 0), 0);
	ck_assert_int_eq(xenvirtio_vq_should_notify(vq), 1); /* 2,3 used */
	/* device side: ask for a kick at the next position */
	ck_assert_int_eq(xenvirtio_vq_set_notification(vq, true), 0);
	ck_assert_uint_eq(tdrv_rd16(mem + t.dev), 4 | 0x8000);
	ck_assert_uint_eq(tdrv_rd16(mem + t.dev + 2), 2);
	ck_assert_int_eq(xenvirtio_vq_set_notification(vq, false), 0);
	ck_assert_uint_eq(tdrv_rd16(mem + t.dev + 2), 1);
}
END_TEST

/* EVENT_IDX, packed: a whole lap of used descriptors between two checks
 * still passes the driver's event position (the count, not two positions
 * that look the same, decides). */
START_TEST(test_packed_event_whole_lap)
{
	uint8_t *drv = mem + t.drv;
	unsigned int i;

	tdrv_add(&t, (struct tbuf[]){ { DATA, 1, false } }, 1, false, 0);
	ck_assert_int_eq(xenvirtio_vq_pop(vq, &e), 1);
	ck_assert_int_eq(xenvirtio_vq_push(vq, &e, 0), 0);
	ck_assert_int_eq(xenvirtio_vq_should_notify(vq), 1); /* first */
	/* used position is 1 (wrap 1); ask for position 4 of this lap */
	tdrv_le16(drv, 4 | 0x8000);
	tdrv_le16(drv + 2, 2);
	for (i = 1; i <= 8; i++) { /* 8 = the queue size: back at 1 */
		tdrv_add(&t, (struct tbuf[]){ { DATA, 1, false } }, 1, false,
			 (uint16_t)i);
		ck_assert_int_eq(xenvirtio_vq_pop(vq, &e), 1);
		ck_assert_int_eq(xenvirtio_vq_push(vq, &e, 0), 0);
	}
	ck_assert_int_eq(xenvirtio_vq_should_notify(vq), 1);
	ck_assert_int_eq(xenvirtio_vq_should_notify(vq), 0); /* none since */
}
END_TEST

/* S2: size 0, above max, and not a power of two for split only. */
START_TEST(test_S2_queue_size)
{
	struct xenvirtio_vq_config cfg;
	uint32_t bad[] = { 0, 3, 2048, 100000 };
	unsigned int i;

	tdrv_config(&t, &cfg, 0);
	for (i = 0; i < XV_ARRAY_SIZE(bad); i++) {
		if (t.packed && bad[i] == 3)
			continue;
		cfg.size = bad[i];
		ck_assert_int_eq(xenvirtio_vq_enable(vq, &cfg), -EINVAL);
		ck_assert_int_eq(xenvirtio_vq_pop(vq, &e), -EIO);
	}
	cfg.size = 3;
	cfg.features |= 1ULL << XENVIRTIO_F_RING_PACKED;
	ck_assert_int_eq(xenvirtio_vq_enable(vq, &cfg), 0);
	cfg.size = 1024;
	ck_assert_int_eq(xenvirtio_vq_enable(vq, &cfg), 0);
	cfg.features &= ~(1ULL << XENVIRTIO_F_VERSION_1);
	ck_assert_int_eq(xenvirtio_vq_enable(vq, &cfg), -EINVAL);
}
END_TEST

/* S3: alignment of each area, and each area wholly inside the region. */
START_TEST(test_S3_ring_alignment_and_extent)
{
	struct xenvirtio_vq_config cfg, c;

	tdrv_config(&t, &cfg, 0);
	c = cfg;
	c.desc_addr += 8;
	ck_assert_int_eq(xenvirtio_vq_enable(vq, &c), -EINVAL);
	c = cfg;
	c.driver_addr += 1;
	ck_assert_int_eq(xenvirtio_vq_enable(vq, &c), -EINVAL);
	c = cfg;
	c.device_addr += 2;
	ck_assert_int_eq(xenvirtio_vq_enable(vq, &c), -EINVAL);
	c = cfg;
	c.device_addr = MEM_SIZE - 4 * !t.packed; /* runs off the end */
	ck_assert_int_eq(xenvirtio_vq_enable(vq, &c), -EFAULT);
	c = cfg;
	c.desc_addr = UINT64_MAX - 15;
	ck_assert_int_eq(xenvirtio_vq_enable(vq, &c), -EFAULT);
	c = cfg;
	c.desc_addr = 1ULL << 63;
	ck_assert_int_eq(xenvirtio_vq_enable(vq, &c), -EFAULT);
	ck_assert_int_eq(xenvirtio_vq_enable(vq, &cfg), 0);
}
END_TEST

/* S4: reset forgets ring state and in-flight requests; re-enable works. */
START_TEST(test_S4_reset_reenable)
{
	struct xenvirtio_vq_config cfg;
	struct xenvirtio_vq_elem old;

	tdrv_add(&t, (struct tbuf[]){ { DATA, 10, false } }, 1, false, 0);
	ck_assert_int_eq(xenvirtio_vq_pop(vq, &e), 1);
	old = e;
	ck_assert_int_eq(xenvirtio_vq_reset(vq), 0);
	ck_assert_int_eq(xenvirtio_vq_pop(vq, &e), -EIO);
	ck_assert_int_eq(xenvirtio_vq_push(vq, &old, 0), -EIO);
	ck_assert_uint_eq(m->inflight, 0);
	/* the driver re-initialises at another place */
	tdrv_init(&t, mem, 0x40000, 16, t.packed, false, false);
	tdrv_config(&t, &cfg, 0);
	ck_assert_int_eq(xenvirtio_vq_enable(vq, &cfg), 0);
	ck_assert_int_eq(xenvirtio_vq_push(vq, &old, 0), -EINVAL);
	tdrv_add(&t, (struct tbuf[]){ { DATA, 10, true } }, 1, false, 5);
	ck_assert_int_eq(xenvirtio_vq_pop(vq, &e), 1);
	ck_assert_int_eq(xenvirtio_vq_push(vq, &e, 10), 0);
	expect_used(e.id, 10, 1);
}
END_TEST

/* R1: avail idx more than N ahead breaks the queue, once. */
START_TEST(test_R1_avail_idx_runaway)
{
	xv_test_expect_errors(1);
	tdrv_le16(mem + t.drv + 2, 9);
	ck_assert_int_eq(xenvirtio_vq_pop(vq, &e), -EIO);
	ck_assert_int_eq(xenvirtio_vq_pop(vq, &e), -EIO);
	ck_assert_int_eq(xenvirtio_vq_should_notify(vq), -EIO);
	ck_assert_int_eq(xenvirtio_vq_set_notification(vq, true), -EIO);
	ck_assert_int_eq(xv_test_errors_seen, 1);
}
END_TEST

/* R2: a head made available again while in flight. */
START_TEST(test_R2_head_in_flight)
{
	xv_test_expect_errors(1);
	tdrv_add(&t, (struct tbuf[]){ { DATA, 10, false } }, 1, false, 0);
	ck_assert_int_eq(xenvirtio_vq_pop(vq, &e), 1);
	tdrv_publish_split(&t, (uint16_t)e.id);
	ck_assert_int_eq(xenvirtio_vq_pop(vq, &e), -EIO);
}
END_TEST

/* R2, packed: more chains in flight than the ring holds. */
START_TEST(test_R2_packed_inflight_limit)
{
	struct xenvirtio_vq_elem es[9];
	unsigned int i;

	xv_test_expect_errors(1);
	for (i = 0; i < 8; i++) {
		tdrv_add(&t, (struct tbuf[]){ { DATA, 1, false } }, 1, false,
			 (uint16_t)i);
		es[i] = e;
		ck_assert_int_eq(xenvirtio_vq_pop(vq, &es[i]), 1);
	}
	/* a hostile driver re-offers position 0 without any used element */
	tdrv_add(&t, (struct tbuf[]){ { DATA, 1, false } }, 1, false, 8);
	ck_assert_int_eq(xenvirtio_vq_pop(vq, &e), -EIO);
}
END_TEST

/* R3: head index >= N. */
START_TEST(test_R3_head_out_of_range)
{
	xv_test_expect_errors(1);
	tdrv_publish_split(&t, 8);
	ck_assert_int_eq(xenvirtio_vq_pop(vq, &e), -EIO);
	ck_assert_int_eq(xenvirtio_vq_reset(vq), 0);
}
END_TEST

/* R4: next >= N. */
START_TEST(test_R4_next_out_of_range)
{
	xv_test_expect_errors(1);
	tdrv_wdesc_split(mem + t.desc, DATA, 4, 1, 8);
	tdrv_publish_split(&t, 0);
	ck_assert_int_eq(xenvirtio_vq_pop(vq, &e), -EIO);
}
END_TEST

/* R5: a loop in the descriptor table; and a packed chain longer than N. */
START_TEST(test_R5_chain_loop)
{
	xv_test_expect_errors(1);
	tdrv_wdesc_split(mem + t.desc, DATA, 4, 1, 1);
	tdrv_wdesc_split(mem + t.desc + 16, DATA, 4, 1, 0);
	tdrv_publish_split(&t, 0);
	ck_assert_int_eq(xenvirtio_vq_pop(vq, &e), -EIO);
}
END_TEST

START_TEST(test_R5_packed_chain_longer_than_ring)
{
	unsigned int i;

	xv_test_expect_errors(1);
	/* every descriptor available with NEXT: after N descriptors the
	 * walk wraps, where the same flags no longer mean available, so a
	 * chain can never exceed N; the queue breaks instead of looping */
	for (i = 0; i < 8; i++)
		tdrv_wdesc_packed(mem + t.desc + 16 * i, DATA, 1, 0,
				  (1u << 7) | (1u << 15) * 0 | 1);
	ck_assert_int_eq(xenvirtio_vq_pop(vq, &e), -EIO);
}
END_TEST

/* R6: more buffers than iovecs: an error, the chain retired, no
 * truncation. */
START_TEST(test_R6_iov_capacity)
{
	struct tbuf b[4] = { { DATA, 1, false },
			     { DATA + 1, 1, false },
			     { DATA + 2, 1, true },
			     { DATA + 3, 1, true } };
	uint16_t id;

	id = tdrv_add(&t, b, 4, false, 3);
	e.iov_cap = 3;
	ck_assert_int_eq(xenvirtio_vq_pop(vq, &e), -ENOBUFS);
	expect_used(id, 0, 4);
	e.iov_cap = 4;
	id = tdrv_add(&t, b, 4, true, 4);
	ck_assert_int_eq(xenvirtio_vq_pop(vq, &e), 1);
	ck_assert_uint_eq(e.id, id);
	ck_assert_uint_eq(e.out_num, 2);
	ck_assert_uint_eq(e.in_num, 2);
	e.iov_cap = 0;
	ck_assert_int_eq(xenvirtio_vq_pop(vq, &e), 0);
}
END_TEST

/* R7: indirect length 0, not a multiple of 16, more entries than N. */
START_TEST(test_R7_indirect_len)
{
	uint32_t lens[] = { 0, 17, 24, 16 * 9 };
	unsigned int i, nd = t.packed ? 1 : 1;

	for (i = 0; i < XV_ARRAY_SIZE(lens); i++) {
		struct tbuf b[1] = { { DATA, 1, false } };
		uint16_t id = tdrv_add(&t, b, 1, true, (uint16_t)i);

		/* patch the table length in the ring descriptor */
		if (t.packed)
			tdrv_le32(mem + t.desc + 16 * ((t.pos + 7) % 8) + 8,
				  lens[i]);
		else
			tdrv_le32(mem + t.desc + 16 * id + 8, lens[i]);
		ck_assert_int_eq(xenvirtio_vq_pop(vq, &e), -EBADMSG);
		expect_used(id, 0, nd);
	}
	/* and a good one still works: the queue is not broken */
	tdrv_add(&t, (struct tbuf[]){ { DATA, 1, false } }, 1, true, 9);
	ck_assert_int_eq(xenvirtio_vq_pop(vq, &e), 1);
}
END_TEST

/* R8: an indirect descriptor inside an indirect table; indirect with
 * NEXT. */
START_TEST(test_R8_nested_indirect)
{
	struct tbuf b[2] = { { DATA, 1, false }, { DATA, 1, false } };
	uint16_t id = tdrv_add(&t, b, 2, true, 1);
	uint8_t *tab = mem + t.itab + 256u * id;

	/* entry 1 flags: split at +12, packed at +14 */
	tdrv_le16(tab + 16 + (t.packed ? 14 : 12), 4);
	ck_assert_int_eq(xenvirtio_vq_pop(vq, &e), -EBADMSG);
	expect_used(id, 0, 1);
}
END_TEST

/* R9: a table that straddles a 4 KiB boundary is read whole. */
START_TEST(test_R9_indirect_straddles_frames)
{
	struct tbuf b[4] = { { DATA, 1, false },
			     { DATA + 8, 2, false },
			     { DATA + 16, 3, true },
			     { DATA + 32, 4, true } };
	uint16_t id;

	/* put table slot 15 (t.itab + 15*256 + 3840 .. ) across a frame */
	t.next_desc = 0;
	id = tdrv_add(&t, b, 4, true, 0);
	(void)id;
	t.itab += 4096 - 32; /* next table starts 32 bytes before a frame */
	id = tdrv_add(&t, b, 4, true, 0);
	ck_assert_int_eq(xenvirtio_vq_pop(vq, &e), 1);
	ck_assert_int_eq(xenvirtio_vq_push(vq, &e, 0), 0);
	ck_assert_int_eq(xenvirtio_vq_pop(vq, &e), 1);
	ck_assert_uint_eq(e.id, id);
	ck_assert_uint_eq(e.out_num, 2);
	ck_assert_uint_eq(e.in_num, 2);
	ck_assert_uint_eq(iov[3].iov_len, 4);
	ck_assert_ptr_eq(iov[3].iov_base, mem + DATA + 32);
}
END_TEST

/* R5 is a limit, not an off-by-one: a chain of exactly N descriptors is
 * fine, also when it starts mid-ring and wraps (packed: the walk's one
 * counter covers both the ring's end and the limit). */
START_TEST(test_R5_chain_of_ring_size_accepted)
{
	struct tbuf one[1] = { { DATA, 4, true } };
	struct tbuf b[8];
	unsigned int i, lap;
	uint16_t id;

	for (i = 0; i < 8; i++)
		b[i] = (struct tbuf){ DATA + 64 * i, 8, i >= 5 };
	for (lap = 0; lap < 3; lap++) {
		/* move the start by 3 descriptors a lap */
		for (i = 0; i < 3; i++) {
			id = tdrv_add(&t, one, 1, false, (uint16_t)(10 + i));
			ck_assert_int_eq(xenvirtio_vq_pop(vq, &e), 1);
			ck_assert_int_eq(xenvirtio_vq_push(vq, &e, 4), 0);
			expect_used(id, 4, 1);
		}
		id = tdrv_add(&t, b, 8, false, 7);
		ck_assert_int_eq(xenvirtio_vq_pop(vq, &e), 1);
		ck_assert_uint_eq(e.id, id);
		ck_assert_uint_eq(e.out_num, 5);
		ck_assert_uint_eq(e.in_num, 3);
		ck_assert_uint_eq(e.out_len, 40);
		ck_assert_uint_eq(e.in_len, 24);
		ck_assert_ptr_eq(iov[7].iov_base, mem + DATA + 64 * 7);
		ck_assert_int_eq(xenvirtio_vq_push(vq, &e, 24), 0);
		expect_used(id, 24, 8);
		ck_assert_int_eq(xenvirtio_vq_pop(vq, &e), 0);
	}
}
END_TEST

/* R10: a direction whose total length does not fit in 32 bits,
 * writable or readable, direct or indirect; each direction is counted on
 * its own (4 GiB - 1 each way is not a length error: those buffers fail
 * translation instead). */
START_TEST(test_R10_total_len_overflow)
{
	struct tbuf w[2] = { { DATA, 0xffffffffu, true }, { DATA, 2, true } };
	struct tbuf r[3] = { { DATA, 2, false },
			     { DATA, 0xffffffffu, false },
			     { DATA, 1, true } };
	struct tbuf both[2] = { { DATA, 0xffffffffu, false },
				{ DATA, 0xffffffffu, true } };
	uint16_t id;
	int ind;

	for (ind = 0; ind < 2; ind++) {
		id = tdrv_add(&t, w, 2, ind, 0);
		ck_assert_int_eq(xenvirtio_vq_pop(vq, &e), -EBADMSG);
		expect_used(id, 0, ind ? 1 : 2);
		id = tdrv_add(&t, r, 3, ind, 1);
		ck_assert_int_eq(xenvirtio_vq_pop(vq, &e), -EBADMSG);
		expect_used(id, 0, ind ? 1 : 3);
	}
	id = tdrv_add(&t, both, 2, false, 2);
	ck_assert_int_eq(xenvirtio_vq_pop(vq, &e), -EFAULT);
	expect_used(id, 0, 2);
}
END_TEST

/* R11: zero-length descriptors, readable and writable, direct and
 * indirect: accepted, they take no iovec entry. */
START_TEST(test_R11_zero_length)
{
	struct tbuf b[4] = { { DATA, 0, false },
			     { DATA, 5, false },
			     { DATA + 8, 0, true },
			     { MEM_SIZE + 4096, 0, true } };
	int ind;

	for (ind = 0; ind < 2; ind++) {
		uint16_t id = tdrv_add(&t, b, 4, ind, 0);

		ck_assert_int_eq(xenvirtio_vq_pop(vq, &e), 1);
		ck_assert_uint_eq(e.id, id);
		ck_assert_uint_eq(e.out_num, 1);
		ck_assert_uint_eq(e.in_num, 0);
		ck_assert_uint_eq(e.in_len, 0);
		ck_assert_int_eq(xenvirtio_vq_push(vq, &e, 1), -EINVAL);
		ck_assert_int_eq(xenvirtio_vq_push(vq, &e, 0), 0);
		expect_used(id, 0, ind ? 1 : 4);
	}
	/* a chain of only a zero-length buffer */
	tdrv_add(&t, b, 1, false, 0);
	ck_assert_int_eq(xenvirtio_vq_pop(vq, &e), 1);
	ck_assert_uint_eq(e.out_num + e.in_num, 0);
}
END_TEST

/* R12: a readable buffer after a writable one. */
START_TEST(test_R12_readable_after_writable)
{
	struct tbuf b[2] = { { DATA, 4, true }, { DATA, 4, false } };
	int ind;

	for (ind = 0; ind < 2; ind++) {
		uint16_t id = tdrv_add(&t, b, 2, ind, 0);

		ck_assert_int_eq(xenvirtio_vq_pop(vq, &e), -EBADMSG);
		expect_used(id, 0, ind ? 1 : 2);
	}
}
END_TEST

/*
 * R13/R14 double fetch: another thread rewrites descriptors, the avail
 * ring and its index while the device pops. No crash, no access outside
 * the region (ASan/valgrind would see it), only the documented errors.
 */
static volatile int stop_flag;

static void *scribbler(void *arg)
{
	uint32_t x = 12345;
	unsigned int span = (unsigned int)(uintptr_t)arg;

	while (!__atomic_load_n(&stop_flag, __ATOMIC_RELAXED)) {
		unsigned int k;

		x = x * 1103515245 + 12345;
		k = (x >> 8) % span;
		__atomic_store_n(mem + k, (uint8_t)(x >> 20),
				 __ATOMIC_RELAXED);
	}
	return NULL;
}

START_TEST(test_R13_double_fetch)
{
	struct xenvirtio_vq_config cfg;
	unsigned int i, iters = getenv("XV_VALGRIND") && *getenv("XV_VALGRIND")
					? 2000 : 200000;
	pthread_t th;
	int r, popped = 0, broken = 0;

	xv_test_expect_errors(-1);
	ctx->log_fn = NULL; /* thousands of expected breaks: stay quiet */
	tdrv_config(&t, &cfg, 1ULL << XENVIRTIO_F_EVENT_IDX);
	ck_assert_int_eq(xenvirtio_vq_enable(vq, &cfg), 0);
	stop_flag = 0;
	ck_assert_int_eq(pthread_create(&th, NULL, scribbler,
					(void *)(uintptr_t)(t.itab + 4096)),
			 0);
	for (i = 0; i < iters; i++) {
		/* legitimate chains too, racing with the scribbler */
		if (i % 16 == 0) {
			struct tbuf b[2] = { { DATA, 64, false },
					     { DATA + 4096, 64, true } };

			tdrv_add(&t, b, 2, i % 32 == 0, (uint16_t)(i % 8));
		}
		r = xenvirtio_vq_pop(vq, &e);
		ck_assert_msg(r == 1 || r == 0 || r == -EIO || r == -EBADMSG ||
				      r == -ENOBUFS || r == -EFAULT,
			      "pop returned %d", r);
		if (r == 1) {
			unsigned int k;

			popped++;
			ck_assert_uint_le(e.out_num + e.in_num, e.iov_cap);
			for (k = 0; k < e.out_num + e.in_num; k++) {
				uint8_t *b = iov[k].iov_base;

				ck_assert(b >= mem &&
					  b + iov[k].iov_len <= mem + MEM_SIZE);
			}
			xenvirtio_vq_push(vq, &e, 0);
			xenvirtio_vq_should_notify(vq);
		} else if (r == -EIO) {
			broken++;
			ck_assert_int_eq(xenvirtio_vq_enable(vq, &cfg), 0);
		}
	}
	__atomic_store_n(&stop_flag, 1, __ATOMIC_RELAXED);
	pthread_join(th, NULL);
	ck_assert_int_gt(popped + broken, 0);
}
END_TEST

/* R16: every malformed-chain error above published a used element of
 * length 0 for the right id; here: an untranslatable buffer, and the queue
 * goes on. */
START_TEST(test_R16_untranslatable_retired)
{
	struct tbuf b[2] = { { DATA, 4, false }, { MEM_SIZE - 2, 4, true } };
	uint16_t id = tdrv_add(&t, b, 2, false, 6);

	ck_assert_int_eq(xenvirtio_vq_pop(vq, &e), -EFAULT);
	expect_used(id, 0, 2);
	ck_assert_uint_eq(m->inflight, 0);
	id = tdrv_add(&t, b, 1, false, 7);
	ck_assert_int_eq(xenvirtio_vq_pop(vq, &e), 1);
	ck_assert_uint_eq(e.id, id);
}
END_TEST

/* R15: a 16-byte header split 3 + 13 over two descriptors, a status byte
 * in its own descriptor; too-short chains are refused, whatever the split. */
START_TEST(test_R15_header_across_descriptors)
{
	struct tbuf b[4] = { { DATA, 3, false },
			     { DATA + 100, 13, false },
			     { DATA + 200, 50, true },
			     { DATA + 300, 1, true } };
	uint8_t hdr[16], st = 0x5a;
	unsigned int i;

	for (i = 0; i < 16; i++)
		mem[(i < 3 ? DATA + i : DATA + 100 + i - 3)] = (uint8_t)(i + 1);
	tdrv_add(&t, b, 4, false, 0);
	ck_assert_int_eq(xenvirtio_vq_pop(vq, &e), 1);
	ck_assert_int_eq(xenvirtio_vq_elem_read(&e, 0, hdr, 16), 0);
	for (i = 0; i < 16; i++)
		ck_assert_uint_eq(hdr[i], i + 1);
	ck_assert_int_eq(xenvirtio_vq_elem_read(&e, 1, hdr, 16), -EBADMSG);
	ck_assert_int_eq(xenvirtio_vq_elem_write(&e, e.in_len - 1, &st, 1), 0);
	ck_assert_uint_eq(mem[DATA + 300], 0x5a);
	ck_assert_int_eq(xenvirtio_vq_elem_write(&e, e.in_len, &st, 1),
			 -EBADMSG);
	ck_assert_int_eq(xenvirtio_vq_elem_write(&e, 49, "ab", 2), 0);
	ck_assert_uint_eq(mem[DATA + 200 + 49], 'a');
	ck_assert_uint_eq(mem[DATA + 300], 'b');
	ck_assert_int_eq(xenvirtio_vq_push(vq, &e, e.in_len), 0);
}
END_TEST

/* Push misuse: twice, unknown slot, written > in_len. */
START_TEST(test_push_misuse)
{
	struct xenvirtio_vq_elem bad;

	tdrv_add(&t, (struct tbuf[]){ { DATA, 4, true } }, 1, false, 0);
	ck_assert_int_eq(xenvirtio_vq_pop(vq, &e), 1);
	ck_assert_int_eq(xenvirtio_vq_push(vq, &e, 5), -EINVAL);
	bad = e;
	bad.priv_slot = 99999;
	ck_assert_int_eq(xenvirtio_vq_push(vq, &bad, 0), -EINVAL);
	ck_assert_int_eq(xenvirtio_vq_push(vq, &e, 4), 0);
	ck_assert_int_eq(xenvirtio_vq_push(vq, &e, 4), -EINVAL);
	ck_assert_int_eq(xenvirtio_vq_pop(NULL, &e), -EINVAL);
	ck_assert_int_eq(xenvirtio_vq_pop(vq, NULL), -EINVAL);
	ck_assert_int_eq(xenvirtio_vq_new(m, 0, &vq), -EINVAL);
	ck_assert_int_eq(xenvirtio_vq_new(m, 32769, &vq), -EINVAL);
}
END_TEST

/* Identity translate: contiguous length so callers loop. */
START_TEST(test_mapper_identity_translate)
{
	void *h = NULL;
	size_t c = 0;

	ck_assert_int_eq(xenvirtio_mapper_translate(m, MEM_SIZE - 10, 100,
						    false, &h, &c),
			 0);
	ck_assert_ptr_eq(h, mem + MEM_SIZE - 10);
	ck_assert_uint_eq(c, 10);
	ck_assert_int_eq(xenvirtio_mapper_translate(m, MEM_SIZE, 1, false, &h,
						    &c),
			 -EFAULT);
}
END_TEST

static void add_common(Suite *s, const char *name, void (*setup)(void),
		       bool packed)
{
	TCase *tc = tcase_create(name);

	tcase_add_checked_fixture(tc, setup, teardown_q);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_S2_queue_size);
	tcase_add_test(tc, test_S3_ring_alignment_and_extent);
	tcase_add_test(tc, test_S4_reset_reenable);
	tcase_add_test(tc, test_R6_iov_capacity);
	tcase_add_test(tc, test_R7_indirect_len);
	tcase_add_test(tc, test_R8_nested_indirect);
	tcase_add_test(tc, test_R5_chain_of_ring_size_accepted);
	tcase_add_test(tc, test_R10_total_len_overflow);
	tcase_add_test(tc, test_R11_zero_length);
	tcase_add_test(tc, test_R12_readable_after_writable);
	tcase_add_test(tc, test_R13_double_fetch);
	tcase_add_test(tc, test_R16_untranslatable_retired);
	tcase_add_test(tc, test_push_misuse);
	tcase_add_test(tc, test_R15_header_across_descriptors);
	if (!packed) {
		tcase_add_test(tc, test_layout_split_used_ring);
		tcase_add_test(tc, test_split_flag_suppression);
		tcase_add_test(tc, test_R1_avail_idx_runaway);
		tcase_add_test(tc, test_R2_head_in_flight);
		tcase_add_test(tc, test_R3_head_out_of_range);
		tcase_add_test(tc, test_R4_next_out_of_range);
		tcase_add_test(tc, test_R5_chain_loop);
		tcase_add_test(tc, test_R9_indirect_straddles_frames);
		tcase_add_test(tc, test_mapper_identity_translate);
	} else {
		tcase_add_test(tc, test_layout_packed_used_desc);
		tcase_add_test(tc, test_packed_wrap);
		tcase_add_test(tc, test_R2_packed_inflight_limit);
		tcase_add_test(tc, test_R5_packed_chain_longer_than_ring);
	}
	suite_add_tcase(s, tc);
}

int main(void)
{
	Suite *s = suite_create("vq");
	TCase *tc;

	add_common(s, "split", split8, false);
	add_common(s, "packed", packed8, true);
	tc = tcase_create("split-event-idx");
	tcase_add_checked_fixture(tc, split8_ev, teardown_q);
	tcase_add_test(tc, test_layout_split_event_fields);
	suite_add_tcase(s, tc);
	tc = tcase_create("packed-event-idx");
	tcase_add_checked_fixture(tc, packed8_ev, teardown_q);
	tcase_add_test(tc, test_packed_event_suppression);
	tcase_add_test(tc, test_packed_event_whole_lap);
	suite_add_tcase(s, tc);
	return xv_test_run(s);
}
