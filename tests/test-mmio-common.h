/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A fake device model for the virtio-mmio tests: records every callback the
 * register file makes and keeps count of the queues it holds "mapped", so a
 * test can prove each queue_ready() is matched by exactly one queue_reset().
 */
#ifndef XV_TEST_MMIO_COMMON_H
#define XV_TEST_MMIO_COMMON_H

#include "xv-test.h"
#include "internal.h"
#include "mmio_internal.h"

#define FAKE_QUEUES 4
#define FAKE_QMAX 256
#define FAKE_CONFIG_LEN 16

struct fake {
	struct xenvirtio_ctx ctx;
	struct xenvirtio_mmio_dev *dev;
	int ready_calls;
	int reset_calls;
	int notify_calls;
	int dev_reset_calls;
	int irq_calls;
	int cfgw_calls;
	int status_calls;
	int ready_ret; /* what queue_ready() returns */
	int features_ok_ret;
	bool live[FAKE_QUEUES];
	int live_count;
	struct xenvirtio_mmio_queue_info last_q;
	unsigned int last_notify;
	uint32_t last_notify_data;
	unsigned int last_cfgw_off;
	uint32_t last_cfgw_val;
	uint32_t last_irq;
};

static inline int fake_queue_ready(void *opaque,
				   const struct xenvirtio_mmio_queue_info *q)
{
	struct fake *f = opaque;

	f->ready_calls++;
	f->last_q = *q;
	if (f->ready_ret)
		return f->ready_ret;
	ck_assert_uint_lt(q->index, FAKE_QUEUES);
	ck_assert_msg(!f->live[q->index], "queue %u made ready twice",
		      q->index);
	f->live[q->index] = true;
	f->live_count++;
	return 0;
}

static inline void fake_queue_reset(void *opaque, unsigned int index)
{
	struct fake *f = opaque;

	f->reset_calls++;
	ck_assert_uint_lt(index, FAKE_QUEUES);
	ck_assert_msg(f->live[index], "queue %u released but not live", index);
	f->live[index] = false;
	f->live_count--;
}

static inline void fake_queue_notify(void *opaque, unsigned int index,
				     uint32_t data)
{
	struct fake *f = opaque;

	f->notify_calls++;
	f->last_notify = index;
	f->last_notify_data = data;
}

static inline void fake_device_reset(void *opaque)
{
	struct fake *f = opaque;

	ck_assert_int_eq(f->live_count, 0);
	f->dev_reset_calls++;
}

static inline void fake_status(void *opaque, uint8_t status)
{
	struct fake *f = opaque;

	(void)status;
	f->status_calls++;
}

static inline int fake_features_ok(void *opaque, uint64_t features)
{
	struct fake *f = opaque;

	(void)features;
	return f->features_ok_ret;
}

static inline int fake_config_write(void *opaque, unsigned int offset,
				    unsigned int size, uint32_t value)
{
	struct fake *f = opaque;

	(void)size;
	f->cfgw_calls++;
	f->last_cfgw_off = offset;
	f->last_cfgw_val = value;
	return 0;
}

static inline void fake_interrupt(void *opaque, uint32_t status)
{
	struct fake *f = opaque;

	f->irq_calls++;
	f->last_irq = status;
}

static const struct xenvirtio_mmio_dev_ops fake_ops = {
	.queue_ready = fake_queue_ready,
	.queue_reset = fake_queue_reset,
	.queue_notify = fake_queue_notify,
	.device_reset = fake_device_reset,
	.status = fake_status,
	.features_ok = fake_features_ok,
	.config_write = fake_config_write,
	.interrupt = fake_interrupt,
};

/* Device-specific features of the fake: bits 0 and 5, plus EVENT_IDX. */
#define FAKE_FEATURES (1ULL << 0 | 1ULL << 5 | 1ULL << 29)

static inline void fake_ctx_init(struct xenvirtio_ctx *ctx, xenvirtio_log_fn fn)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->log_fn = fn;
	ctx->log_max = XENVIRTIO_LOG_DEBUG;
}

static inline void fake_init_ops(struct fake *f, bool grants, uint64_t extra,
				 const struct xenvirtio_mmio_dev_ops *ops)
{
	static const uint8_t cfg0[FAKE_CONFIG_LEN] = {
	    0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
	    0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x01,
	};
	struct xenvirtio_mmio_dev_config cfg = {
	    .device_id = 2,
	    .vendor_id = 0x554d4551,
	    .features = FAKE_FEATURES | extra,
	    .grants = grants,
	    .num_queues = FAKE_QUEUES,
	    .queue_num_max = FAKE_QMAX,
	    .config_len = FAKE_CONFIG_LEN,
	    .config = cfg0,
	};

	memset(f, 0, sizeof(*f));
	fake_ctx_init(&f->ctx, xv_test_log);
	ck_assert_int_eq(xenvirtio_mmio_dev_new(&f->ctx, &cfg, ops, f, &f->dev),
			 0);
}

static inline void fake_init(struct fake *f, bool grants, uint64_t extra)
{
	xv_test_expect_errors(0);
	fake_init_ops(f, grants, extra, &fake_ops);
}

static inline void fake_fini(struct fake *f)
{
	xenvirtio_mmio_dev_free(f->dev);
	ck_assert_int_eq(f->live_count, 0);
}

static inline uint32_t rd(struct fake *f, uint32_t off)
{
	uint32_t v = 0xdeadbeef;

	ck_assert_int_eq(xenvirtio_mmio_dev_read(f->dev, off, 4, &v), 0);
	return v;
}

static inline int wr(struct fake *f, uint32_t off, uint32_t v)
{
	return xenvirtio_mmio_dev_write(f->dev, off, 4, v);
}

static inline void wr_ok(struct fake *f, uint32_t off, uint32_t v)
{
	ck_assert_int_eq(wr(f, off, v), 0);
}

/* Status write of @bits on top of what is there. */
static inline void add_status(struct fake *f, uint32_t bits)
{
	wr_ok(f, XENVIRTIO_MMIO_STATUS, rd(f, XENVIRTIO_MMIO_STATUS) | bits);
}

static inline void set_driver_features(struct fake *f, uint64_t feat)
{
	wr_ok(f, XENVIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr_ok(f, XENVIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)feat);
	wr_ok(f, XENVIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr_ok(f, XENVIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(feat >> 32));
}

/* Negotiate @feat; returns the Status read back after FEATURES_OK. */
static inline uint32_t negotiate(struct fake *f, uint64_t feat)
{
	wr_ok(f, XENVIRTIO_MMIO_STATUS, 0);
	add_status(f, XENVIRTIO_STATUS_ACKNOWLEDGE);
	add_status(f, XENVIRTIO_STATUS_DRIVER);
	set_driver_features(f, feat);
	add_status(f, XENVIRTIO_STATUS_FEATURES_OK);
	return rd(f, XENVIRTIO_MMIO_STATUS);
}

static inline void set_queue_regs(struct fake *f, unsigned int i, uint32_t num,
				  uint64_t desc, uint64_t drv, uint64_t devaddr)
{
	wr_ok(f, XENVIRTIO_MMIO_QUEUE_SEL, i);
	wr_ok(f, XENVIRTIO_MMIO_QUEUE_NUM, num);
	wr_ok(f, XENVIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)desc);
	wr_ok(f, XENVIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(desc >> 32));
	wr_ok(f, XENVIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)drv);
	wr_ok(f, XENVIRTIO_MMIO_QUEUE_DRIVER_HIGH, (uint32_t)(drv >> 32));
	wr_ok(f, XENVIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)devaddr);
	wr_ok(f, XENVIRTIO_MMIO_QUEUE_DEVICE_HIGH, (uint32_t)(devaddr >> 32));
}

#define G(ref, off) (XENVIRTIO_GRANT_ADDR_FLAG | (uint64_t)(ref) << 12 | (off))

/* A valid grant-mode split queue @i of size @num. */
static inline void setup_queue(struct fake *f, unsigned int i, uint32_t num)
{
	set_queue_regs(f, i, num, G(100 + 8 * i, 0), G(101 + 8 * i, 0),
		       G(102 + 8 * i, 0));
	wr_ok(f, XENVIRTIO_MMIO_QUEUE_READY, 1);
	ck_assert_uint_eq(rd(f, XENVIRTIO_MMIO_QUEUE_READY), 1);
}

static inline uint64_t grant_features(void)
{
	return FAKE_FEATURES | xenvirtio_mmio_transport_features(true);
}

static inline bool needs_reset(struct fake *f)
{
	return rd(f, XENVIRTIO_MMIO_STATUS) &
	       XENVIRTIO_STATUS_DEVICE_NEEDS_RESET;
}

#endif /* XV_TEST_MMIO_COMMON_H */
