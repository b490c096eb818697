/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Shared body of the virtqueue fuzz targets (included by fuzz-vq-split.c,
 * fuzz-vq-packed.c, fuzz-vq-indirect.c with FUZZ_PACKED / FUZZ_INDIRECT
 * set). Input: an 8-byte header (flags, queue size, number of pops, push
 * pattern) and then the guest memory the rings and buffers live in, in
 * identity mode. The device side must never crash, never hand out memory
 * outside the region, and only return documented results.
 */
#include "vq_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REGION (64u * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_log(void *o, enum xenvirtio_log_level l, const char *msg)
{
	(void)o;
	(void)l;
	(void)msg;
}

static void check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz invariant failed: %s\n", what);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *mem;
	struct xenvirtio_ctx ctx = { .log_fn = fuzz_log,
				     .log_max = XENVIRTIO_LOG_DEBUG };
	struct xenvirtio_vq_config cfg = { 0 };
	struct xenvirtio_mapper *m = NULL;
	struct xenvirtio_vq *vq = NULL;
	struct xenvirtio_vq_elem e, held[4];
	struct iovec iov[16], hiov[4][16];
	unsigned int i, npops, nheld = 0;
	uint32_t qsize, drv, dev;
	uint8_t flags;

	if (size < 8)
		return 0;
	if (!mem)
		mem = aligned_alloc(4096, REGION);
	memset(mem, 0, REGION);
	flags = data[0];
	qsize = (uint32_t)(data[2] | data[3] << 8) % 513;
	npops = data[4] % 64 + 1;
	memcpy(mem, data + 8, XV_MIN(size - 8, (size_t)REGION));

	cfg.features = 1ULL << XENVIRTIO_F_VERSION_1;
#ifdef FUZZ_PACKED
	cfg.features |= 1ULL << XENVIRTIO_F_RING_PACKED;
#else
	qsize = qsize ? 1u << (qsize % 10) : 0; /* mostly powers of 2 */
	if (flags & 0x80)
		qsize = (uint32_t)(data[2] | data[3] << 8) % 513;
#endif
	if (flags & 1)
		cfg.features |= 1ULL << XENVIRTIO_F_EVENT_IDX;
	if ((flags & 2) || FUZZ_INDIRECT)
		cfg.features |= 1ULL << XENVIRTIO_F_INDIRECT_DESC;
	drv = 16 * qsize;
	dev = (drv + 6 + 2 * qsize + 4095) & ~4095u;
	if (flags & 4)
		dev = drv + 8; /* overlapping rings: hostile but allowed */
	cfg.size = qsize;
	cfg.desc_addr = 0;
	cfg.driver_addr = drv;
	cfg.device_addr = dev;

	if (xenvirtio_mapper_open_identity(&ctx, mem, REGION, &m) < 0)
		return 0;
	if (xenvirtio_vq_new(m, 512, &vq) < 0)
		goto out;
	if (xenvirtio_vq_enable(vq, &cfg) < 0)
		goto out;
	xenvirtio_vq_set_notification(vq, flags & 8);
	for (i = 0; i < npops; i++) {
		struct xenvirtio_vq_elem *pe = nheld < 4 ? &held[nheld] : &e;
		unsigned int k;
		int r;

		pe->iov = nheld < 4 ? hiov[nheld] : iov;
		pe->iov_cap = (data[5] >> (i % 4)) & 1 ? 4 : 16;
		r = xenvirtio_vq_pop(vq, pe);
		check(r == 1 || r == 0 || r == -EIO || r == -EBADMSG ||
			      r == -ENOBUFS || r == -EFAULT,
		      "pop result");
		if (r == -EIO) {
			nheld = 0;
			xenvirtio_vq_reset(vq);
			if (xenvirtio_vq_enable(vq, &cfg) < 0)
				break;
			continue;
		}
		if (r != 1)
			continue;
		check(pe->out_num + pe->in_num <= pe->iov_cap, "iov count");
		for (k = 0; k < pe->out_num + pe->in_num; k++) {
			const uint8_t *b = pe->iov[k].iov_base;

			check(b >= mem && pe->iov[k].iov_len <= REGION &&
				      b + pe->iov[k].iov_len <= mem + REGION,
			      "iov inside the region");
		}
		/* hold some requests to complete them out of order */
		if (pe != &e && (data[6] >> (i % 8)) & 1) {
			nheld++;
			continue;
		}
		check(xenvirtio_vq_push(vq, pe, pe->in_len / 2) == 0, "push");
		if (nheld && (data[7] >> (i % 8)) & 1) {
			nheld--;
			check(xenvirtio_vq_push(vq, &held[0], 0) == 0,
			      "push held");
			held[0] = held[nheld];
			memcpy(hiov[0], hiov[nheld], sizeof(hiov[0]));
			held[0].iov = hiov[0];
		}
		xenvirtio_vq_should_notify(vq);
	}
	while (nheld)
		xenvirtio_vq_push(vq, &held[--nheld], 0);
	xenvirtio_vq_should_notify(vq);
out:
	xenvirtio_vq_free(vq);
	xenvirtio_mapper_close(m);
	return 0;
}
