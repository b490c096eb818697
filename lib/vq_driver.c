/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Split virtqueue, driver side: rings in coherent DMA memory, buffers
 * mapped through the frontend DMA layer, used elements validated (F6).
 * The chain order and mappings are kept in private shadow state: nothing
 * the device can write is trusted for unmapping.
 *
 * With INDIRECT_DESC negotiated, a request of two or more buffers goes into
 * the indirect table of its slot (split: its head descriptor; packed: its
 * buffer id): one table of XV_DRV_ITAB entries (at most the queue size, R7)
 * per slot, all in one coherent area allocated with the queue (on
 * platforms that cannot give a multi-frame coherent area, the ones that
 * pick grant refs themselves like Xen's gntalloc: one area per 4 KiB frame,
 * so no table straddles frames), and one ring descriptor. A request needing
 * more table entries falls back to direct descriptors.
 */
#include "vq_internal.h"
#include "grant_internal.h"

#include <stdlib.h>
#include <string.h>

#define SEGS_PER_BUF 64u
/* Entries of each slot's indirect table (capped at the queue size, R7). */
#define XV_DRV_ITAB 16u

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
	uint16_t ndesc; /* mapped descriptors (direct or table entries) */
	uint16_t nring; /* ring descriptors it takes (1 when indirect) */
	uint16_t first; /* packed: shadow index of the chain's head */
	bool indirect;
};

struct xenvirtio_vq_drv {
	struct xenvirtio_ctx *ctx;
	struct xenvirtio_dma *dma;
	struct xv_broken broken;
	uint64_t features;
	bool event_idx, packed;
	uint32_t num;
	/* packed: positions and wrap counters, free buffer ids */
	uint16_t pos, upos;
	bool wrap, uwrap;
	uint16_t *free_ids;
	uint32_t nfree_ids;
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
	/* indirect tables: itab_n entries per slot, ring memory and shadow */
	bool indirect;
	uint32_t itab_n;
	uint32_t itab_per_area; /* slots whose tables share one area */
	uint32_t itab_nareas;
	struct drv_itab_area {
		void *va;
		uint64_t dma;
		size_t size;
	} *itab;
	struct drv_desc *ish;
};

static void drv_itab_free(struct xenvirtio_vq_drv *d)
{
	uint32_t i;

	for (i = 0; d->itab && i < d->itab_nareas; i++)
		if (d->itab[i].va)
			xenvirtio_dma_free_coherent(d->dma, d->itab[i].va,
						    d->itab[i].size,
						    d->itab[i].dma);
	free(d->itab);
	d->itab = NULL;
}

/*
 * The tables of @size slots of 16 * itab_n bytes each: one coherent area,
 * or, where the platform cannot give one, one area per frame.
 */
static int drv_itab_alloc(struct xenvirtio_vq_drv *d, uint32_t size)
{
	size_t tab = 16 * (size_t)d->itab_n;
	uint32_t i;
	int r;

	d->itab_per_area = size;
	for (;;) {
		d->itab_nareas = (size + d->itab_per_area - 1) /
				 d->itab_per_area;
		d->itab = calloc(d->itab_nareas, sizeof(*d->itab));
		if (!d->itab)
			return -ENOMEM;
		for (i = 0, r = 0; i < d->itab_nareas && !r; i++) {
			uint32_t n = XV_MIN(d->itab_per_area,
					    size - i * d->itab_per_area);

			d->itab[i].size = tab * n;
			r = xenvirtio_dma_alloc_coherent(d->dma,
							 d->itab[i].size,
							 &d->itab[i].va,
							 &d->itab[i].dma);
			if (r < 0)
				d->itab[i].va = NULL;
		}
		if (!r)
			return 0;
		drv_itab_free(d);
		if (r != -EOPNOTSUPP ||
		    d->itab_per_area == XV_PAGE_SIZE / tab)
			return r;
		d->itab_per_area = (uint32_t)(XV_PAGE_SIZE / tab);
	}
}

/* Ring memory and DMA address of slot @slot's indirect table. */
static uint8_t *drv_itab_loc(const struct xenvirtio_vq_drv *d, uint32_t slot,
			     uint64_t *dma)
{
	const struct drv_itab_area *a = &d->itab[slot / d->itab_per_area];
	size_t off = 16 * (size_t)d->itab_n * (slot % d->itab_per_area);

	*dma = a->dma + off;
	return (uint8_t *)a->va + off;
}

XV_EXPORT int xenvirtio_vq_drv_new(struct xenvirtio_ctx *ctx,
				   struct xenvirtio_dma *dma,
				   uint64_t features, uint32_t size,
				   struct xenvirtio_vq_drv **out)
{
	struct xenvirtio_vq_drv *d;
	int r;

	bool packed = features & (1ULL << XENVIRTIO_F_RING_PACKED);

	if (!ctx || !dma || !out || !size || size > XENVIRTIO_VQ_MAX_SIZE ||
	    (!packed && (size & (size - 1))) ||
	    !(features & (1ULL << XENVIRTIO_F_VERSION_1)))
		return -EINVAL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->sh = calloc(size, sizeof(*d->sh));
	d->req = calloc(size, sizeof(*d->req));
	d->free_ids = calloc(size, sizeof(*d->free_ids));
	if (!d->sh || !d->req || !d->free_ids) {
		r = -ENOMEM;
		goto err;
	}
	d->dma = dma;
	d->ctx = ctx;
	d->features = features & ((1ULL << XENVIRTIO_F_VERSION_1) |
				  (1ULL << XENVIRTIO_F_EVENT_IDX) |
				  (1ULL << XENVIRTIO_F_ACCESS_PLATFORM) |
				  (1ULL << XENVIRTIO_F_RING_PACKED) |
				  (1ULL << XENVIRTIO_F_INDIRECT_DESC));
	d->packed = packed;
	d->event_idx = features & (1ULL << XENVIRTIO_F_EVENT_IDX);
	/* a table of one entry is no better than a direct descriptor */
	d->indirect = (features & (1ULL << XENVIRTIO_F_INDIRECT_DESC)) &&
		      size > 1;
	d->num = size;
	d->avail_off = 16 * (size_t)size;
	if (packed) {
		d->used_off = d->avail_off + 4;
		d->ring_size = d->used_off + 4;
	} else {
		d->used_off = (d->avail_off + 6 + 2 * (size_t)size + 3) &
			      ~(size_t)3;
		d->ring_size = d->used_off + 6 + 8 * (size_t)size;
	}
	r = xenvirtio_dma_alloc_coherent(dma, d->ring_size, &d->ring,
					 &d->ring_dma);
	if (r < 0)
		goto err;
	if (d->indirect) {
		d->itab_n = XV_MIN(size, XV_DRV_ITAB);
		d->ish = calloc((size_t)d->itab_n * size, sizeof(*d->ish));
		if (!d->ish) {
			r = -ENOMEM;
			goto err_ring;
		}
		r = drv_itab_alloc(d, size);
		if (r == -ENOMEM)
			goto err_ring;
		if (r < 0) {
			/* tables are an option, not a duty: without coherent
			 * memory for them (refs, frames) requests go direct */
			xv_dbg(ctx, "vq driver: no indirect tables: %s",
			       xenvirtio_strerror(r));
			free(d->ish);
			d->ish = NULL;
			d->indirect = false;
		}
	}
	d->desc = d->ring;
	d->avail = d->desc + d->avail_off;
	d->used = d->desc + d->used_off;
	xenvirtio_vq_drv_reset(d);
	*out = d;
	return 0;
err_ring:
	xenvirtio_dma_free_coherent(dma, d->ring, d->ring_size, d->ring_dma);
err:
	free(d->ish);
	free(d->sh);
	free(d->req);
	free(d->free_ids);
	free(d);
	return r;
}

void *xv_vq_drv_ring(const struct xenvirtio_vq_drv *d, size_t *size)
{
	*size = d->ring_size;
	return d->ring;
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

/* Shadow entries of slot @slot's indirect table. */
static struct drv_desc *drv_itab_sh(struct xenvirtio_vq_drv *d, uint32_t slot)
{
	return d->ish + (size_t)slot * d->itab_n;
}

/*
 * Unmap the mappings of @n shadow descriptors: the private chain from @i
 * (@tab NULL), or the entries @tab[0 .. @n) of an indirect table. The
 * index of the chain's last descriptor goes to *@last.
 */
static int unmap_chain(struct xenvirtio_vq_drv *d, const struct drv_desc *tab,
		       uint16_t i, uint32_t n, uint16_t *last)
{
	struct xenvirtio_dma_seg segs[SEGS_PER_BUF];
	uint32_t k = 0;
	int ret = 0;

	*last = i;
	while (k < n) {
		const struct drv_desc *s = tab ? &tab[k] : &d->sh[i];
		uint16_t m = s->nsegs, j;
		uint8_t dir = s->dir;

		for (j = 0; j < m && k < n; j++, k++) {
			s = tab ? &tab[k] : &d->sh[i];
			segs[j].addr = s->addr;
			segs[j].len = s->len;
			if (!tab) {
				*last = i;
				i = d->sh[i].next;
			}
		}
		if (xenvirtio_dma_unmap(d->dma, segs, j,
					(enum xenvirtio_dma_dir)dir) < 0)
			ret = -EIO;
	}
	return ret;
}

/* Unmap request @slot's buffers and give its ring descriptors back
 * (split: @slot is the head; packed: the buffer id). */
static int release_req(struct xenvirtio_vq_drv *d, uint32_t slot)
{
	struct drv_req *rq = &d->req[slot];
	uint16_t first = d->packed ? rq->first : (uint16_t)slot, last;
	int ret;

	if (rq->indirect) {
		ret = unmap_chain(d, drv_itab_sh(d, slot), 0, rq->ndesc,
				  &last);
		if (d->packed) {
			d->num_free++;
			return ret;
		}
		last = first;
	} else {
		ret = unmap_chain(d, NULL, first, rq->ndesc, &last);
	}
	d->sh[last].next = d->free_head;
	d->free_head = first;
	d->num_free += rq->nring;
	return ret;
}

XV_EXPORT int xenvirtio_vq_drv_reset(struct xenvirtio_vq_drv *d)
{
	uint32_t i;
	int ret = 0;

	if (!d)
		return -EINVAL;
	for (i = 0; i < d->num; i++) {
		uint16_t last;
		struct drv_req *rq = &d->req[i];

		if (rq->ndesc &&
		    unmap_chain(d, rq->indirect ? drv_itab_sh(d, i) : NULL,
				d->packed ? rq->first : (uint16_t)i, rq->ndesc,
				&last) < 0)
			ret = -EIO;
		rq->ndesc = 0;
		rq->indirect = false;
	}
	memset(d->ring, 0, d->ring_size);
	for (i = 0; i < d->num; i++) {
		/* split: free list; packed: ring order */
		d->sh[i].next = (uint16_t)((i + 1) % d->num);
		d->free_ids[i] = (uint16_t)(d->num - 1 - i);
	}
	d->nfree_ids = d->num;
	d->pos = d->upos = 0;
	d->wrap = d->uwrap = true;
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
	drv_itab_free(d);
	xenvirtio_dma_free_coherent(d->dma, d->ring, d->ring_size,
				    d->ring_dma);
	free(d->ish);
	free(d->sh);
	free(d->req);
	free(d->free_ids);
	free(d);
}

/*
 * Map every buffer of a request through the DMA layer into private shadow
 * entries, touching no ring memory: into the free list from d->free_head
 * (@tab NULL; @cap is then the free descriptors), or into the indirect
 * table shadow @tab of @cap entries. A failure undoes the mappings and
 * leaves the rings exactly as they were, so nothing half-built is ever
 * visible to the device. On success *used is the number of descriptors
 * (shadow entries) and *in_len the writable bytes. With @tab, a request
 * needing more than @cap entries is -E2BIG (the caller goes direct).
 */
static int drv_map_bufs(struct xenvirtio_vq_drv *d, struct drv_desc *tab,
			uint32_t cap, const struct iovec *out,
			unsigned int out_num, const struct iovec *in,
			unsigned int in_num, uint32_t *used_out,
			uint32_t *in_len_out)
{
	struct xenvirtio_dma_seg segs[SEGS_PER_BUF];
	/* direct: a buffer that cannot fit an empty ring is -E2BIG for
	 * good; table: one that cannot fit an empty table */
	uint32_t max_segs = XV_MIN(tab ? cap : (uint32_t)d->num, SEGS_PER_BUF);
	uint16_t k = d->free_head;
	uint32_t used = 0, in_len = 0;
	unsigned int b;
	int r;

	for (b = 0; b < out_num + in_num; b++) {
		const struct iovec *v = b < out_num ? &out[b] :
						      &in[b - out_num];
		enum xenvirtio_dma_dir dir = b < out_num ?
						     XENVIRTIO_DMA_TO_DEVICE :
						     XENVIRTIO_DMA_FROM_DEVICE;
		uint32_t room = cap - used, j;

		if (!v->iov_base || !v->iov_len) {
			r = -EINVAL;
			goto undo;
		}
		if (!room) {
			r = tab ? -E2BIG : -ENOSPC;
			goto undo;
		}
		r = xenvirtio_dma_map(d->dma, v->iov_base, v->iov_len, dir,
				      segs, XV_MIN(room, max_segs));
		/* -E2BIG for lack of descriptors may fit once some return;
		 * -ENOSPC for lack of bounce frames or refs is backpressure
		 * only if the whole request could ever be mapped at once */
		if (r == -E2BIG && room < max_segs && !tab)
			r = -ENOSPC;
		if (r == -ENOSPC)
			r = xv_dma_request_fits(d->dma, out, out_num, in, in_num) ?:
			    -ENOSPC;
		if (r < 0)
			goto undo;
		for (j = 0; j < (uint32_t)r; j++) {
			struct drv_desc *s = tab ? &tab[used] : &d->sh[k];

			s->addr = segs[j].addr;
			s->len = segs[j].len;
			s->nsegs = j ? 0 : (uint16_t)r;
			s->dir = (uint8_t)dir;
			if (!tab)
				k = d->sh[k].next;
			used++;
		}
		if (b >= out_num)
			in_len += (uint32_t)v->iov_len;
	}
	*used_out = used;
	*in_len_out = in_len;
	return 0;
undo:
	if (used) {
		uint16_t last;

		unmap_chain(d, tab, d->free_head, used, &last);
	}
	return r;
}

static uint16_t drv_desc_flags(const struct drv_desc *sh, bool last)
{
	return (sh->dir == XENVIRTIO_DMA_FROM_DEVICE ? XV_DESC_F_WRITE : 0) |
	       (last ? 0 : XV_DESC_F_NEXT);
}

/*
 * Try a request in slot @slot's indirect table: map its buffers into the
 * table's shadow and write the table (split: chained with NEXT; packed:
 * sequential, WRITE the only flag). 1: done, *used entries; 0: the request
 * does not fit a table (go direct); negative errno: failure, nothing
 * mapped.
 */
static int drv_try_indirect(struct xenvirtio_vq_drv *d, uint32_t slot,
			    const struct iovec *out, unsigned int out_num,
			    const struct iovec *in, unsigned int in_num,
			    uint32_t *used, uint32_t *in_len,
			    uint64_t *tab_dma)
{
	struct drv_desc *tab;
	uint32_t j;
	uint8_t *t;
	int r;

	if (!d->indirect || out_num + in_num < 2 ||
	    out_num + in_num > d->itab_n)
		return 0;
	tab = drv_itab_sh(d, slot);
	t = drv_itab_loc(d, slot, tab_dma);
	r = drv_map_bufs(d, tab, d->itab_n, out, out_num, in, in_num, used,
			 in_len);
	if (r == -E2BIG)
		return 0;
	if (r < 0)
		return r;
	for (j = 0; j < *used; j++) {
		uint8_t *p = t + 16 * (size_t)j;
		bool last = j + 1 == *used;

		xv_store_le64(p, tab[j].addr);
		xv_store_le32(p + 8, tab[j].len);
		if (d->packed) {
			xv_store_le16(p + 12, 0);
			xv_store_le16(p + 14, drv_desc_flags(&tab[j], true));
		} else {
			xv_store_le16(p + 12, drv_desc_flags(&tab[j], last));
			xv_store_le16(p + 14, last ? 0 : (uint16_t)(j + 1));
		}
	}
	return 1;
}

/* Packed layout (virtio 1.2 §2.8): descriptors written in ring order, the
 * head's flags last, with release; the buffer id in every descriptor. */
static int packed_add(struct xenvirtio_vq_drv *d, const struct iovec *out,
		      unsigned int out_num, const struct iovec *in,
		      unsigned int in_num, void *token)
{
	uint16_t id, p = d->pos, head = d->pos, head_flags = 0;
	/* shadow entries come from the free list, not by ring position:
	 * completions out of order free positions another chain held */
	uint16_t k = d->free_head, shead = d->free_head;
	bool w = d->wrap;
	uint32_t used, in_len, j;
	uint64_t tab_dma;
	int r;

	if (!d->nfree_ids || !d->num_free)
		return -ENOSPC;
	id = d->free_ids[d->nfree_ids - 1];
	r = drv_try_indirect(d, id, out, out_num, in, in_num, &used, &in_len,
			     &tab_dma);
	if (r < 0)
		return r;
	if (r) {
		uint8_t *q = d->desc + 16 * (size_t)p;

		xv_store_le64(q, tab_dma);
		xv_store_le32(q + 8, 16 * used);
		xv_store_le16(q + 12, id);
		head_flags = (w ? XV_DESC_F_AVAIL : XV_DESC_F_USED) |
			     XV_DESC_F_INDIRECT;
		if (++p == d->num) {
			p = 0;
			w = !w;
		}
		d->req[id].nring = 1;
		d->num_free--;
	} else {
		r = drv_map_bufs(d, NULL, d->num_free, out, out_num, in,
				 in_num, &used, &in_len);
		if (r < 0)
			return r;
		for (j = 0; j < used; j++) {
			uint8_t *q = d->desc + 16 * (size_t)p;
			uint16_t f = (w ? XV_DESC_F_AVAIL : XV_DESC_F_USED) |
				     drv_desc_flags(&d->sh[k], j + 1 == used);

			xv_store_le64(q, d->sh[k].addr);
			xv_store_le32(q + 8, d->sh[k].len);
			xv_store_le16(q + 12, id);
			if (j)
				xv_store_le16(q + 14, f);
			else
				head_flags = f;
			k = d->sh[k].next;
			if (++p == d->num) {
				p = 0;
				w = !w;
			}
		}
		d->req[id].nring = (uint16_t)used;
		d->num_free -= used;
		d->free_head = k;
	}
	d->nfree_ids--;
	d->req[id].token = token;
	d->req[id].in_len = in_len;
	d->req[id].ndesc = (uint16_t)used;
	d->req[id].first = shead;
	d->req[id].indirect = r == 1;
	d->avail_idx = (uint16_t)(d->avail_idx + d->req[id].nring);
	d->pos = p;
	d->wrap = w;
	/* the head is made available last (release) */
	xv_store_le16_release(d->desc + 16 * (size_t)head + 14, head_flags);
	return 0;
}

static int packed_kick(struct xenvirtio_vq_drv *d)
{
	uint16_t flags = xv_load_le16(d->used + 2);
	uint16_t old = d->kicked, new_idx = d->avail_idx;

	d->kicked = new_idx;
	if (flags == XV_EVENT_DISABLE)
		return 0;
	if (flags != XV_EVENT_DESC || !d->event_idx)
		return 1;
	{
		/* avail_idx counts descriptors made available; the device
		 * asks for a kick when position off (with wrap) is passed */
		uint16_t off_wrap = xv_load_le16(d->used);
		int32_t num = d->num, pos = d->pos, event = off_wrap & 0x7fff;
		int32_t oldpos = pos - (uint16_t)(new_idx - old);

		if (!!(off_wrap >> 15) != d->wrap)
			event -= num;
		return event >= oldpos && event < pos;
	}
}

/*
 * F6: the request a used element names, if its id is in flight and its
 * length within the request's writable bytes; else the queue breaks (NULL).
 */
static struct drv_req *drv_used_req(struct xenvirtio_vq_drv *d, uint32_t id,
				    uint32_t len)
{
	const char *what = d->packed ? "packed vq driver" : "split vq driver";

	if (id >= d->num || !d->req[id].ndesc) {
		xv_break(d->ctx, &d->broken, what,
			 "used id %u not in flight (F6)", id);
		return NULL;
	}
	if (len > d->req[id].in_len) {
		xv_break(d->ctx, &d->broken, what,
			 "used len %u beyond %u writable bytes (F6)", len,
			 d->req[id].in_len);
		return NULL;
	}
	return &d->req[id];
}

static int packed_get(struct xenvirtio_vq_drv *d, void **token,
		      uint32_t *len)
{
	const uint8_t *q = d->desc + 16 * (size_t)d->upos;
	uint16_t f = xv_load_le16_acquire(q + 14), id;
	bool a = f & XV_DESC_F_AVAIL, u = f & XV_DESC_F_USED;
	struct drv_req *rq;
	uint32_t l;
	int r;

	if (a != d->uwrap || u != d->uwrap)
		return 0;
	id = xv_load_le16(q + 12);
	l = xv_load_le32(q + 8);
	rq = drv_used_req(d, id, l);
	if (!rq)
		return -EIO;
	r = release_req(d, id);
	d->upos = (uint16_t)(d->upos + rq->nring);
	if (d->upos >= d->num) {
		d->upos = (uint16_t)(d->upos - d->num);
		d->uwrap = !d->uwrap;
	}
	rq->ndesc = 0;
	rq->indirect = false;
	d->free_ids[d->nfree_ids++] = id;
	if (r < 0)
		return xv_break(d->ctx, &d->broken, "packed vq driver",
				"a buffer of request %u could not be revoked",
				id);
	*token = rq->token;
	*len = l;
	return 1;
}

XV_EXPORT int xenvirtio_vq_drv_add(struct xenvirtio_vq_drv *d,
				   const struct iovec *out,
				   unsigned int out_num,
				   const struct iovec *in, unsigned int in_num,
				   void *token)
{
	uint16_t head, i;
	uint32_t used, in_len, j;
	uint64_t tab_dma;
	int r;

	if (!d || !token || (out_num && !out) || (in_num && !in) ||
	    !(out_num + in_num))
		return -EINVAL;
	/* misuse is -EINVAL whatever the ring's state */
	for (j = 0; j < out_num + in_num; j++) {
		const struct iovec *v =
			j < out_num ? &out[j] : &in[j - out_num];

		if (!v->iov_base || !v->iov_len)
			return -EINVAL;
	}
	if (d->broken.broken)
		return -EIO;
	/* also with indirect tables: no chain longer than the queue (R7) */
	if (out_num + in_num > d->num)
		return -E2BIG;
	if (d->packed)
		return packed_add(d, out, out_num, in, in_num, token);
	if (!d->num_free)
		return -ENOSPC;
	head = i = d->free_head;
	r = drv_try_indirect(d, head, out, out_num, in, in_num, &used,
			     &in_len, &tab_dma);
	if (r < 0)
		return r;
	if (r) {
		uint8_t *p = d->desc + 16 * (size_t)head;

		xv_store_le64(p, tab_dma);
		xv_store_le32(p + 8, 16 * used);
		xv_store_le16(p + 12, XV_DESC_F_INDIRECT);
		xv_store_le16(p + 14, 0);
		d->free_head = d->sh[head].next;
		d->num_free--;
		d->req[head].nring = 1;
	} else {
		r = drv_map_bufs(d, NULL, d->num_free, out, out_num, in,
				 in_num, &used, &in_len);
		if (r < 0)
			return r;
		/* split: shadow entry i is descriptor i */
		for (j = 0; j < used; j++) {
			uint8_t *p = d->desc + 16 * (size_t)i;

			xv_store_le64(p, d->sh[i].addr);
			xv_store_le32(p + 8, d->sh[i].len);
			xv_store_le16(p + 12,
				      drv_desc_flags(&d->sh[i], j + 1 == used));
			xv_store_le16(p + 14, d->sh[i].next);
			i = d->sh[i].next;
		}
		d->free_head = i;
		d->num_free -= used;
		d->req[head].nring = (uint16_t)used;
	}
	d->req[head].token = token;
	d->req[head].in_len = in_len;
	d->req[head].ndesc = (uint16_t)used;
	d->req[head].indirect = r == 1;
	xv_store_le16(d->avail + 4 + 2 * (size_t)(d->avail_idx & (d->num - 1)),
		      head);
	d->avail_idx++;
	/* descriptors, table and ring entry before the index */
	xv_store_le16_release(d->avail + 2, d->avail_idx);
	return 0;
}

XV_EXPORT int xenvirtio_vq_drv_kick_prepare(struct xenvirtio_vq_drv *d)
{
	uint16_t old, new_idx;

	if (!d)
		return -EINVAL;
	if (d->broken.broken)
		return -EIO;
	xv_mb();
	if (d->packed)
		return packed_kick(d);
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
	if (d->packed)
		return packed_get(d, token, len);
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
	rq = drv_used_req(d, id, l);
	if (!rq)
		return -EIO;
	r = release_req(d, id);
	rq->ndesc = 0;
	rq->indirect = false;
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
