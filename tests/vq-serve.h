/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The device side of the randomized round trips (tests/test-vq-roundtrip.c
 * on sim, tests/test-xen-vq.c on real Xen): a request is served by
 * checksumming its readable bytes and writing a pattern derived from the
 * checksum into every writable byte, which the driver side then checks.
 */
#ifndef XV_VQ_SERVE_H
#define XV_VQ_SERVE_H

#include <stdint.h>

#include <xenvirtio/virtqueue.h>

/* Byte @i of the response to a request whose readable bytes sum to @sum. */
static inline uint8_t vq_resp_byte(uint32_t sum, uint32_t i)
{
	return (uint8_t)(sum * 31 + i * 7 + (i >> 8));
}

/* Serve popped request @e: checksum in, pattern out; the checksum. */
static inline uint32_t vq_serve_elem(const struct xenvirtio_vq_elem *e)
{
	uint32_t sum = 0, w = 0, j;
	unsigned int k;

	for (k = 0; k < e->out_num; k++) {
		const uint8_t *b = e->iov[k].iov_base;

		for (j = 0; j < e->iov[k].iov_len; j++)
			sum = sum * 131 + b[j];
	}
	for (; k < e->out_num + e->in_num; k++) {
		uint8_t *b = e->iov[k].iov_base;

		for (j = 0; j < e->iov[k].iov_len; j++, w++)
			b[j] = vq_resp_byte(sum, w);
	}
	return sum;
}

#endif /* XV_VQ_SERVE_H */
