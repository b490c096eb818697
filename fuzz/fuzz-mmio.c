/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target for the virtio-mmio register file: the input is a device
 * shape followed by a sequence of guest accesses and device-model actions.
 * A fake device model checks the register file's promises on every step:
 * each queue_ready() is matched by exactly one queue_reset(), a queue made
 * ready passed S2/S4 validation, the device is reset only with every queue
 * released, and Status never shows DRIVER_OK without FEATURES_OK.
 *
 * Input: byte 0 flags (bit 0 grants, 1 offer RING_PACKED, 2 offer
 * RING_RESET, 3 offer NOTIFICATION_DATA, 4 no config_write callback,
 * 5 queue_ready fails), byte 1 picks QueueNumMax, byte 2 the number of
 * queues (1..8); then 7-byte records: op, offset (le16), value (le32).
 * op & 7: 0 read32, 1 write32, 2 read of width 1 << (op >> 3 & 3),
 * 3 write of that width, 4 device action (op >> 3 & 3: interrupt,
 * set_config, reset, needs_reset), 5 ioreq of size op >> 3 & 15 at
 * base + offset, 6/7 write32 to the (offset % n)-th real register.
 *
 * Built two ways: by clang with -fsanitize=fuzzer (make fuzz-mmio), and
 * with fuzz/replay.c as a plain program that replays the corpus in
 * fuzz/corpus/mmio for make check.
 */
#include "mmio_internal.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXQ 8
#define BASE 0x2000000ULL

struct fz {
	bool live[MAXQ];
	int live_count;
	bool packed_offered;
	int ready_ret;
	int readies; /* accepted queue_ready() calls */
	int kicks;
	struct xenvirtio_mmio_dev *dev;
};

#define FZ_CHECK(c)                                                         \
	do {                                                                \
		if (!(c)) {                                                 \
			fprintf(stderr, "fuzz-mmio: %s:%d: %s\n", __FILE__, \
				__LINE__, #c);                              \
			abort();                                            \
		}                                                           \
	} while (0)

static bool pow2(unsigned int n)
{
	return n && !(n & (n - 1));
}

static int fz_queue_ready(void *opaque,
			  const struct xenvirtio_mmio_queue_info *q)
{
	struct fz *z = opaque;
	uint64_t g = XENVIRTIO_GRANT_ADDR_FLAG;

	FZ_CHECK(q->index < MAXQ);
	FZ_CHECK(!z->live[q->index]);
	FZ_CHECK(q->num >= 1 && q->num <= XENVIRTIO_MMIO_MAX_QUEUE_NUM);
	FZ_CHECK(q->packed || pow2(q->num));
	FZ_CHECK(!q->packed || z->packed_offered);
	FZ_CHECK(!(q->desc & 15) && !(q->device & 3) && !(q->driver & 1));
	if (q->grants)
		FZ_CHECK((q->desc & g) && (q->driver & g) && (q->device & g));
	else
		FZ_CHECK(!(q->desc & g) && !(q->driver & g) &&
			 !(q->device & g));
	if (z->ready_ret)
		return z->ready_ret;
	z->live[q->index] = true;
	z->live_count++;
	z->readies++;
	return 0;
}

static void fz_queue_reset(void *opaque, unsigned int index)
{
	struct fz *z = opaque;

	FZ_CHECK(index < MAXQ && z->live[index]);
	z->live[index] = false;
	z->live_count--;
}

static void fz_queue_notify(void *opaque, unsigned int index, uint32_t data)
{
	struct fz *z = opaque;

	(void)data;
	FZ_CHECK(index < MAXQ && z->live[index]);
	z->kicks++;
}

static void fz_device_reset(void *opaque)
{
	struct fz *z = opaque;

	FZ_CHECK(z->live_count == 0);
}

static int fz_config_write(void *opaque, unsigned int offset, unsigned int size,
			   uint32_t value)
{
	struct fz *z = opaque;
	uint8_t b = (uint8_t)value;

	FZ_CHECK(size == 1 || size == 2 || size == 4);
	/* Re-entry allowed by the API: update the space from the callback. */
	if (value & 1)
		xenvirtio_mmio_dev_set_config(z->dev, offset, &b, 1);
	return (value & 2) ? -EPERM : 0;
}

static void fz_interrupt(void *opaque, uint32_t status)
{
	(void)opaque;
	FZ_CHECK(status && !(status & ~3u));
}

static const uint32_t regs[] = {
	XENVIRTIO_MMIO_DEVICE_FEATURES_SEL,
	XENVIRTIO_MMIO_DRIVER_FEATURES,
	XENVIRTIO_MMIO_DRIVER_FEATURES_SEL,
	XENVIRTIO_MMIO_QUEUE_SEL,
	XENVIRTIO_MMIO_QUEUE_NUM,
	XENVIRTIO_MMIO_QUEUE_READY,
	XENVIRTIO_MMIO_QUEUE_NOTIFY,
	XENVIRTIO_MMIO_INTERRUPT_ACK,
	XENVIRTIO_MMIO_STATUS,
	XENVIRTIO_MMIO_QUEUE_DESC_LOW,
	XENVIRTIO_MMIO_QUEUE_DESC_HIGH,
	XENVIRTIO_MMIO_QUEUE_DRIVER_LOW,
	XENVIRTIO_MMIO_QUEUE_DRIVER_HIGH,
	XENVIRTIO_MMIO_QUEUE_DEVICE_LOW,
	XENVIRTIO_MMIO_QUEUE_DEVICE_HIGH,
	XENVIRTIO_MMIO_QUEUE_RESET,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t cfg0[24] = {1, 2, 3, 4, 5, 6, 7, 8};
	struct xenvirtio_mmio_dev_ops ops = {
	    .queue_ready = fz_queue_ready,
	    .queue_reset = fz_queue_reset,
	    .queue_notify = fz_queue_notify,
	    .device_reset = fz_device_reset,
	    .config_write = fz_config_write,
	    .interrupt = fz_interrupt,
	};
	struct xenvirtio_mmio_dev_config cfg = {
	    .device_id = 1,
	    .vendor_id = 0x1af4,
	    .features = 1ULL << 5 | 1ULL << 28,
	    .config_len = sizeof(cfg0),
	    .config = cfg0,
	};
	struct xenvirtio_ctx ctx;
	struct fz z;
	size_t i;
	uint32_t v, st;

	if (size < 3)
		return 0;
	memset(&ctx, 0, sizeof(ctx));
	memset(&z, 0, sizeof(z));
	cfg.grants = data[0] & 1;
	if (data[0] & 2)
		cfg.features |= 1ULL << XENVIRTIO_F_RING_PACKED;
	if (data[0] & 4)
		cfg.features |= 1ULL << XENVIRTIO_F_RING_RESET;
	if (data[0] & 8)
		cfg.features |= 1ULL << XENVIRTIO_F_NOTIFICATION_DATA;
	if (data[0] & 16)
		ops.config_write = NULL;
	z.ready_ret = (data[0] & 32) ? -EFAULT : 0;
	z.packed_offered = data[0] & 2;
	cfg.queue_num_max = (data[1] & 1) ? data[1] : 1u << (data[1] % 16);
	cfg.num_queues = 1 + data[2] % MAXQ;
	if (xenvirtio_mmio_dev_new(&ctx, &cfg, &ops, &z, &z.dev))
		return 0;

	for (i = 3; i + 7 <= size; i += 7) {
		uint8_t op = data[i];
		uint32_t off = data[i + 1] | (uint32_t)data[i + 2] << 8;
		uint32_t val = data[i + 3] | (uint32_t)data[i + 4] << 8 |
			       (uint32_t)data[i + 5] << 16 |
			       (uint32_t)data[i + 6] << 24;
		unsigned int w = 1u << ((op >> 3) & 3);
		struct xv_mmio_ioreq req;
		uint8_t b[4];

		switch (op & 7) {
		case 0:
			xenvirtio_mmio_dev_read(z.dev, off, 4, &v);
			break;
		case 1:
			xenvirtio_mmio_dev_write(z.dev, off, 4, val);
			break;
		case 2:
			if (xenvirtio_mmio_dev_read(z.dev, off, w, &v) == 0 &&
			    w < 4)
				FZ_CHECK(v < (1u << (8 * w)));
			break;
		case 3:
			xenvirtio_mmio_dev_write(z.dev, off, w, val);
			break;
		case 4:
			switch ((op >> 3) & 3) {
			case 0:
				xenvirtio_mmio_dev_interrupt(z.dev);
				break;
			case 1:
				memcpy(b, &val, 4);
				xenvirtio_mmio_dev_set_config(z.dev, off % 32,
							      b, (op >> 5) % 5);
				break;
			case 2:
				xenvirtio_mmio_dev_reset(z.dev);
				FZ_CHECK(z.live_count == 0);
				break;
			default:
				xenvirtio_mmio_dev_needs_reset(z.dev, "fuzz");
				FZ_CHECK(z.live_count == 0);
				break;
			}
			break;
		case 5:
			req.addr = BASE + off - 0x100;
			req.size = (op >> 3) & 15;
			req.dir =
			    (op >> 7) ? XV_MMIO_DIR_READ : XV_MMIO_DIR_WRITE;
			req.data = val;
			if (xv_mmio_dev_ioreq(z.dev, BASE, &req) < 0 &&
			    req.dir == XV_MMIO_DIR_READ)
				FZ_CHECK(req.data ==
					 xv_mmio_size_mask(req.size));
			break;
		default:
			xenvirtio_mmio_dev_write(
			    z.dev, regs[off % XV_ARRAY_SIZE(regs)], 4, val);
			break;
		}
		st = (uint32_t)xenvirtio_mmio_dev_status(z.dev);
		FZ_CHECK(st <= 0xff);
		if (st & XENVIRTIO_STATUS_DRIVER_OK)
			FZ_CHECK(st & XENVIRTIO_STATUS_FEATURES_OK);
		if (st & XENVIRTIO_STATUS_FEATURES_OK)
			FZ_CHECK((st & 3) == 3);
	}
	st = (uint32_t)xenvirtio_mmio_dev_status(z.dev);
	xenvirtio_mmio_dev_free(z.dev);
	FZ_CHECK(z.live_count == 0);
	if (getenv("XV_FUZZ_VERBOSE"))
		fprintf(stderr,
			"fuzz-mmio: %zu accesses, %d queues made ready, "
			"%d kicks, final status %#x\n",
			(size - 3) / 7, z.readies, z.kicks, st);
	return 0;
}

#ifdef XV_FUZZ_STANDALONE
/* The libFuzzer build links only mmio.c and context.c: no platform, no
 * grant allocator. */
#include "platform.h"
#include "grant_internal.h"

void xv_gnttab_destroy(struct xv_gnttab *gt)
{
	(void)gt;
}

int xv_platform_open(struct xenvirtio_ctx *ctx, const char *spec,
		     struct xv_platform **out)
{
	(void)ctx;
	(void)spec;
	(void)out;
	return -ENODEV;
}

void xv_platform_close(struct xv_platform *p)
{
	(void)p;
}
#endif
