/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Split virtqueue, driver side: rings in coherent DMA memory, buffers
 * mapped through the frontend DMA layer, used elements validated (F6).
 * The chain order and mappings are kept in private shadow state: nothing
 * the device can write is trusted for unmapping.
 */
#include "vq_internal.h"

#include <stdlib.h>
#include <string.h>

#define SEGS_PER_BUF 64u

struct drv_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t next;	    /* private chain / free list */
	uint16_t nsegs;	    /* first segment of a mapping: its count */
	uint8_t dir;	    /* enum xenvirtio_dma_dir of the mapping */
};

struct drv_req {
	void *token;
	uint32_t in_len;
	uint16_t ndesc;
};

struct xenvirtio_vq_drv {
	struct xenvirtio_ctx *ctx;
	struct xenvirtio_dma *dma;
	struct xv_broken broken;
	uint64_t features;
	bool event_idx;
	uint32_t num;
	void *ring;
	uint64_t ring_dma;
	size_t ring_size;
	size_t avail_off, used_off;
	uint8_t *desc, *avail, *used;
	uint16_t avail_idx, last_used, kicked;
	uint16_t free_head;
	uint32_t num_free;
	struct drv_desc *sh;
	struct drv_req *req;
};

XV_EXPORT int xenvirtio_vq_drv_new(struct xenvirtio_ctx *ctx,
				   struct xenvirtio_dma *dma,
				   uint64_t features, uint32_t size,
				   struct xenvirtio_vq_drv **out)
{
	struct xenvirtio_vq_drv *d;
	int r;

	if (!ctx || !dma || !out || !size || size > XENVIRTIO_VQ_MAX_SIZE ||
	    (size & (size - 1)) ||
	    !(features & (1ULL << XENVIRTIO_F_VERSION_1)) ||
	    (features & (1ULL << XENVIRTIO_F_RING_PACKED)))
		return -EINVAL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->sh = calloc(size, sizeof(*d->sh));
	d->req = calloc(size, sizeof(*d->req));
	if (!d->sh || !d->req) {
		r = -ENOMEM;
		goto err;
	}
	d->dma = dma;
	d->ctx = ctx;
	d->features = features & ((1ULL << XENVIRTIO_F_VERSION_1) |
				  (1ULL << XENVIRTIO_F_EVENT_IDX) |
				  (1ULL << XENVIRTIO_F_ACCESS_PLATFORM));
	d->event_idx = features & (1ULL << XENVIRTIO_F_EVENT_IDX);
	d->num = size;
	d->avail_off = 16 * (size_t)size;
	d->used_off = (d->avail_off + 6 + 2 * (size_t)size + 3) & ~(size_t)3;
	d->ring_size = d->used_off + 6 + 8 * (size_t)size;
	r = xenvirtio_dma_alloc_coherent(dma, d->ring_size, &d->ring,
					 &d->ring_dma);
	if (r < 0)
		goto err;
	d->desc = d->ring;
	d->avail = d->desc + d->avail_off;
	d->used = d->desc + d->used_off;
	xenvirtio_vq_drv_reset(d);
	*out = d;
	return 0;
err:
	free(d->sh);
	free(d->req);
	free(d);
	return r;
}

XV_EXPORT int xenvirtio_vq_drv_config(const struct xenvirtio_vq_drv *d,
				      struct xenvirtio_vq_config *cfg)
{
	if (!d || !cfg)
		return -EINVAL;
	memset(cfg, 0, sizeof(*cfg));
	cfg->features = d->features;
	cfg->size = d->num;
	cfg->desc_addr = d->ring_dma;
	cfg->driver_addr = d->ring_dma + d->avail_off;
	cfg->device_addr = d->ring_dma + d->used_off;
	return 0;
}

/* Unmap the mappings of the private chain of @n descriptors from @i; the
 * index of its last descriptor goes to *@last. */
static int unmap_chain(struct xenvirtio_vq_drv *d, uint16_t i, uint32_t n,
		       uint16_t *last)
{
	struct xenvirtio_dma_seg segs[SEGS_PER_BUF];
	uint32_t k = 0;
	int ret = 0;

	*last = i;
	while (k < n) {
		uint16_t m = d->sh[i].nsegs, j;
		uint8_t dir = d->sh[i].dir;

		for (j = 0; j < m && k < n; j++, k++) {
			segs[j].addr = d->sh[i].addr;
			segs[j].len = d->sh[i].len;
			*last = i;
			i = d->sh[i].next;
		}
		if (xenvirtio_dma_unmap(d->dma, segs, j,
					(enum xenvirtio_dma_dir)dir) < 0)
			ret = -EIO;
	}
	return ret;
}

/* Unmap a request's chain and give its descriptors back. */
static int release_chain(struct xenvirtio_vq_drv *d, uint16_t first,
			 uint32_t n)
{
	uint16_t last;
	int ret = unmap_chain(d, first, n, &last);

	d->sh[last].next = d->free_head;
	d->free_head = first;
	d->num_free += n;
	return ret;
}

XV_EXPORT int xenvirtio_vq_drv_reset(struct xenvirtio_vq_drv *d)
{
	uint32_t i;
	int ret = 0;

	if (!d)
		return -EINVAL;
	for (i = 0; i < d->num; i++) {
		if (d->req[i].ndesc &&
		    release_chain(d, (uint16_t)i, d->req[i].ndesc) < 0)
			ret = -EIO;
		d->req[i].ndesc = 0;
	}
	memset(d->ring, 0, d->ring_size);
	for (i = 0; i < d->num; i++)
		d->sh[i].next = (uint16_t)(i + 1);
	d->free_head = 0;
	d->num_free = d->num;
	d->avail_idx = d->last_used = d->kicked = 0;
	xv_broken_clear(&d->broken);
	return ret;
}

XV_EXPORT void xenvirtio_vq_drv_free(struct xenvirtio_vq_drv *d)
{
	if (!d)
		return;
	xenvirtio_vq_drv_reset(d);
	xenvirtio_dma_free_coherent(d->dma, d->ring, d->ring_size,
				    d->ring_dma);
	free(d->sh);
	free(d->req);
	free(d);
}

XV_EXPORT int xenvirtio_vq_drv_add(struct xenvirtio_vq_drv *d,
				   const struct iovec *out,
				   unsigned int out_num,
				   const struct iovec *in, unsigned int in_num,
				   void *token)
{
	struct xenvirtio_dma_seg segs[SEGS_PER_BUF];
	uint16_t head, i, prev = 0;
	uint32_t used = 0, in_len = 0;
	unsigned int b;
	int r;

	if (!d || !token || (out_num && !out) || (in_num && !in) ||
	    !(out_num + in_num))
		return -EINVAL;
	if (d->broken.broken)
		return -EIO;
	if (out_num + in_num > d->num)
		return -E2BIG;
	head = i = d->free_head;
	for (b = 0; b < out_num + in_num; b++) {
		const struct iovec *v = b < out_num ? &out[b] :
						      &in[b - out_num];
		enum xenvirtio_dma_dir dir = b < out_num ?
						     XENVIRTIO_DMA_TO_DEVICE :
						     XENVIRTIO_DMA_FROM_DEVICE;
		uint32_t room = d->num_free - used, j;

		if (!v->iov_base || !v->iov_len) {
			r = -EINVAL;
			goto undo;
		}
		if (!room) {
			r = -ENOSPC;
			goto undo;
		}
		r = xenvirtio_dma_map(d->dma, v->iov_base, v->iov_len, dir,
				      segs, XV_MIN(room, SEGS_PER_BUF));
		if (r == -E2BIG && room < SEGS_PER_BUF)
			r = -ENOSPC; /* may fit once descriptors return */
		if (r < 0)
			goto undo;
		for (j = 0; j < (uint32_t)r; j++) {
			uint8_t *p = d->desc + 16 * (size_t)i;

			d->sh[i].addr = segs[j].addr;
			d->sh[i].len = segs[j].len;
			d->sh[i].nsegs = j ? 0 : (uint16_t)r;
			d->sh[i].dir = (uint8_t)dir;
			xv_store_le64(p, segs[j].addr);
			xv_store_le32(p + 8, segs[j].len);
			xv_store_le16(p + 12, XV_DESC_F_NEXT |
					     (b >= out_num ? XV_DESC_F_WRITE :
							     0));
			xv_store_le16(p + 14, d->sh[i].next);
			prev = i;
			i = d->sh[i].next;
			used++;
		}
		if (b >= out_num)
			in_len += (uint32_t)v->iov_len;
	}
	/* end of chain */
	xv_store_le16(d->desc + 16 * (size_t)prev + 12,
		      xv_load_le16(d->desc + 16 * (size_t)prev + 12) &
			      ~XV_DESC_F_NEXT);
	d->free_head = i;
	d->num_free -= used;
	d->req[head].token = token;
	d->req[head].in_len = in_len;
	d->req[head].ndesc = (uint16_t)used;
	xv_store_le16(d->avail + 4 + 2 * (size_t)(d->avail_idx & (d->num - 1)),
		      head);
	d->avail_idx++;
	/* descriptors and ring entry before the index */
	xv_store_le16_release(d->avail + 2, d->avail_idx);
	return 0;
undo:
	if (used) {
		/* the descriptors used so far are the free list's first ones:
		 * unmap them and leave the list as it was */
		uint16_t last;

		unmap_chain(d, head, used, &last);
	}
	return r;
}

XV_EXPORT int xenvirtio_vq_drv_kick_prepare(struct xenvirtio_vq_drv *d)
{
	uint16_t old, new_idx;

	if (!d)
		return -EINVAL;
	if (d->broken.broken)
		return -EIO;
	xv_mb();
	old = d->kicked;
	new_idx = d->kicked = d->avail_idx;
	if (d->event_idx)
		return xv_need_event(xv_load_le16(d->used + 4 +
						  8 * (size_t)d->num),
				     new_idx, old);
	return !(xv_load_le16(d->used) & XV_USED_F_NO_NOTIFY);
}

XV_EXPORT int xenvirtio_vq_drv_get(struct xenvirtio_vq_drv *d, void **token,
				   uint32_t *len)
{
	uint16_t idx;
	uint32_t id, l;
	const uint8_t *e;
	struct drv_req *rq;
	int r;

	if (!d || !token || !len)
		return -EINVAL;
	if (d->broken.broken)
		return -EIO;
	idx = xv_load_le16_acquire(d->used + 2);
	if (idx == d->last_used)
		return 0;
	if ((uint16_t)(idx - d->last_used) > d->num)
		return xv_break(d->ctx, &d->broken, "split vq driver",
				"used idx %u runs ahead of %u (F6)", idx,
				d->last_used);
	e = d->used + 4 + 8 * (size_t)(d->last_used & (d->num - 1));
	id = xv_load_le32(e);
	l = xv_load_le32(e + 4);
	if (id >= d->num || !d->req[id].ndesc)
		return xv_break(d->ctx, &d->broken, "split vq driver",
				"used id %u not in flight (F6)", id);
	rq = &d->req[id];
	if (l > rq->in_len)
		return xv_break(d->ctx, &d->broken, "split vq driver",
				"used len %u beyond %u writable bytes (F6)", l,
				rq->in_len);
	r = release_chain(d, (uint16_t)id, rq->ndesc);
	rq->ndesc = 0;
	d->last_used++;
	if (d->event_idx)
		xv_store_le16(d->avail + 4 + 2 * (size_t)d->num, d->last_used);
	if (r < 0)
		return xv_break(d->ctx, &d->broken, "split vq driver",
				"a buffer of request %u could not be revoked",
				id);
	*token = rq->token;
	*len = l;
	return 1;
}
