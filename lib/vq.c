/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Device-side virtqueue: the API, queue life cycle, and the one chain-walk /
 * validation core shared by split chains, packed chains and indirect tables.
 */
#include "vq_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int xv_vq_break(struct xenvirtio_vq *vq, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = xv_vbreak(vq->ctx, &vq->broken,
		      vq->packed ? "packed vq" : "split vq", fmt, ap);
	va_end(ap);
	return r;
}

int xv_walk_fail(struct xenvirtio_vq *vq, enum xv_why why)
{
	static const struct {
		int err;
		const char *why;
	} t[] = {
		[XV_WHY_R6] = { -ENOBUFS, "more buffers than iovecs (R6)" },
		[XV_WHY_R10] = { -EBADMSG, "length over 4 GiB (R10)" },
		[XV_WHY_R12] = { -EBADMSG, "readable after writable (R12)" },
		[XV_WHY_R7] = { -EBADMSG, "indirect table size (R7)" },
		[XV_WHY_R8] = { -EBADMSG, "nested indirect table (R8)" },
		[XV_WHY_R9] = { -EFAULT, "indirect table not mapped (R9)" },
		[XV_WHY_IND_R4] = { -EBADMSG,
				    "indirect next out of range (R4)" },
		[XV_WHY_IND_R5] = { -EBADMSG, "loop in indirect table (R5)" },
		[XV_WHY_IND_FLAGS] = { -EBADMSG,
				       "flags in packed indirect table" },
		[XV_WHY_IND_NEG] = { -EBADMSG, "indirect not negotiated" },
		[XV_WHY_IND_CHAIN] = { -EBADMSG,
				       "indirect descriptor inside a chain" },
	};

	if ((unsigned int)why >= XV_ARRAY_SIZE(t) || !t[why].err)
		return -EBADMSG; /* not reached */
	xv_warn(vq->ctx, "%s vq: request failed: %s",
		vq->packed ? "packed" : "split", t[why].why);
	return t[why].err;
}

enum xv_why xv_walk_indirect(struct xenvirtio_vq *vq, struct xv_walk *w,
			     uint64_t addr, uint32_t len, bool split_table)
{
	uint32_t entries = len / 16, i, count;
	bool ident = vq->ident;
	const uint8_t *tab;

	if (!len || len % 16 || entries > XV_MIN(vq->num, 65535u))
		return XV_WHY_R7;
	if (xv_mapper_peek(vq->m, addr, len, vq->itab,
			   (const void **)&tab) < 0)
		return XV_WHY_R9;
	for (i = 0, count = 0;; count++) {
		const uint8_t *p = tab + 16 * (size_t)i;
		uint64_t a;
		uint32_t l, fn;
		uint16_t flags, next;
		enum xv_why why;

		/* each field once, into private copies (R13) */
		a = xv_load_le64(p);
		l = xv_load_le32(p + 8);
		fn = xv_load_le32(p + 12);
		if (split_table) {
			flags = (uint16_t)fn;
			next = (uint16_t)(fn >> 16);
		} else {
			next = (uint16_t)fn; /* the id: unused in a table */
			flags = (uint16_t)(fn >> 16);
		}
		if (count >= entries)
			return XV_WHY_IND_R5;
		if (flags & XV_DESC_F_INDIRECT)
			return XV_WHY_R8;
		if (!split_table && (flags & ~XV_DESC_F_WRITE))
			return XV_WHY_IND_FLAGS;
		if (ident)
			why = xv_walk_buf(w, a, l, flags, true);
		else
			why = xv_walk_buf(w, a, l, flags, false);
		if (why)
			return why;
		if (split_table) {
			if (!(flags & XV_DESC_F_NEXT))
				return XV_WHY_OK;
			if (next >= entries)
				return XV_WHY_IND_R4;
			i = next;
		} else if (++i == entries) {
			return XV_WHY_OK;
		}
	}
}

void xv_vq_retire(struct xenvirtio_vq *vq, uint32_t id, uint32_t ndescs)
{
	vq->ops->push(vq, id, ndescs, 0);
}

int xv_vq_map_rings(struct xenvirtio_vq *vq,
		    const struct xenvirtio_vq_config *cfg,
		    const uint64_t sizes[3])
{
	const uint64_t addrs[3] = { cfg->desc_addr, cfg->driver_addr,
				    cfg->device_addr };
	unsigned int i;
	int r;

	for (i = 0; i < 3; i++) {
		r = xv_mapper_map_ring(vq->m, addrs[i], sizes[i],
				       &vq->ring[i]);
		if (r < 0) {
			xv_warn(vq->ctx, "%s vq: ring area not mapped (%d)",
				vq->packed ? "packed" : "split", r);
			return r == -ENOMEM ? r : -EFAULT;
		}
	}
	vq->desc = vq->ring[0].va;
	vq->driver = vq->ring[1].va;
	vq->device = vq->ring[2].va;
	return 0;
}

XV_EXPORT int xenvirtio_vq_new(struct xenvirtio_mapper *m, uint32_t max_size,
			       struct xenvirtio_vq **out)
{
	struct xenvirtio_vq *vq;

	if (!m || !out || !max_size || max_size > XENVIRTIO_VQ_MAX_SIZE)
		return -EINVAL;
	vq = calloc(1, sizeof(*vq));
	if (!vq)
		return -ENOMEM;
	vq->ctx = m->ctx;
	vq->m = m;
	vq->max_size = max_size;
	vq->ident = m->mode == XENVIRTIO_MAPPER_IDENTITY;
	vq->recs = calloc(max_size, sizeof(*vq->recs));
	vq->free_slots = calloc(max_size, sizeof(*vq->free_slots));
	vq->addrs = calloc(max_size, sizeof(*vq->addrs));
	/* indirect tables are read into it (identity: only misaligned ones) */
	vq->itab = malloc(16 * (size_t)max_size);
	if (!vq->recs || !vq->free_slots || !vq->addrs || !vq->itab) {
		xenvirtio_vq_free(vq);
		return -ENOMEM;
	}
	*out = vq;
	return 0;
}

static void vq_release(struct xenvirtio_vq *vq)
{
	uint32_t i;

	for (i = 0; i < vq->max_size; i++) {
		struct xv_map_rec *rec = &vq->recs[i];

		if (rec->busy) {
			xv_mapper_unmap_chain(vq->m, rec, NULL, 0, 0, 0);
			rec->busy = false;
		}
	}
	for (i = 0; i < XV_ARRAY_SIZE(vq->ring); i++)
		xv_mapper_unmap_ring(vq->m, &vq->ring[i]);
	vq->inflight = 0;
	vq->enabled = false;
	vq->desc = vq->driver = vq->device = NULL;
}

XV_EXPORT void xenvirtio_vq_free(struct xenvirtio_vq *vq)
{
	if (!vq)
		return;
	if (vq->recs)
		vq_release(vq);
	free(vq->recs);
	free(vq->free_slots);
	free(vq->addrs);
	free(vq->itab);
	free(vq->bounce);
	free(vq);
}

XV_EXPORT int xenvirtio_vq_reset(struct xenvirtio_vq *vq)
{
	if (!vq)
		return -EINVAL;
	vq_release(vq);
	xv_broken_clear(&vq->broken);
	return 0;
}

XV_EXPORT int xenvirtio_vq_enable(struct xenvirtio_vq *vq,
				  const struct xenvirtio_vq_config *cfg)
{
	uint32_t i;
	int r;

	if (!vq || !cfg)
		return -EINVAL;
	xenvirtio_vq_reset(vq);
	if (!(cfg->features & (1ULL << XENVIRTIO_F_VERSION_1)) ||
	    !cfg->size || cfg->size > vq->max_size)
		return -EINVAL;
	vq->packed = cfg->features & (1ULL << XENVIRTIO_F_RING_PACKED);
	vq->event_idx = cfg->features & (1ULL << XENVIRTIO_F_EVENT_IDX);
	vq->indirect = cfg->features & (1ULL << XENVIRTIO_F_INDIRECT_DESC);
	vq->ops = vq->packed ? &xv_vq_packed_ops : &xv_vq_split_ops;
	vq->num = cfg->size;
	if (vq->m->copy_threshold && !vq->bounce) {
		vq->bounce = calloc(vq->max_size, XV_BOUNCE_SIZE);
		if (!vq->bounce)
			return -ENOMEM;
	}
	for (i = 0; i < vq->max_size; i++) {
		vq->recs[i].bounce = vq->m->copy_threshold ?
					     vq->bounce + i * XV_BOUNCE_SIZE :
					     NULL;
		vq->free_slots[i] = (uint16_t)(vq->max_size - 1 - i);
	}
	vq->nfree = vq->max_size;
	vq->last_avail = vq->used_idx = 0;
	vq->avail_wrap = vq->used_wrap = true;
	vq->signalled_valid = false;
	vq->used_since = 0;
	vq->notify_enabled = true;
	r = vq->ops->enable(vq, cfg);
	if (r < 0) {
		vq_release(vq);
		return r;
	}
	vq->enabled = true;
	return 0;
}

XV_EXPORT int xenvirtio_vq_pop(struct xenvirtio_vq *vq,
			       struct xenvirtio_vq_elem *elem)
{
	if (xv_unlikely(!vq || !elem || (!elem->iov && elem->iov_cap)))
		return -EINVAL;
	if (xv_unlikely(vq->broken.broken || !vq->enabled))
		return -EIO;
	return vq->ops->pop(vq, elem);
}

XV_EXPORT int xenvirtio_vq_push(struct xenvirtio_vq *vq,
				const struct xenvirtio_vq_elem *elem,
				uint32_t written)
{
	struct xv_map_rec *rec;
	int r;

	if (xv_unlikely(!vq || !elem))
		return -EINVAL;
	if (xv_unlikely(vq->broken.broken || !vq->enabled))
		return -EIO;
	if (xv_unlikely(elem->priv_slot >= vq->max_size ||
			written > elem->in_len))
		return -EINVAL;
	rec = &vq->recs[elem->priv_slot];
	if (xv_unlikely(!rec->busy))
		return -EINVAL;
	if (vq->ident) {
		vq->m->inflight--; /* nothing mapped, nothing to copy */
		r = 0;
	} else {
		r = xv_mapper_unmap_chain(vq->m, rec, elem->iov, elem->out_num,
					  elem->out_num + elem->in_num,
					  written);
	}
	rec->busy = false;
	vq->inflight--;
	if (vq->packed)
		vq->free_slots[vq->nfree++] = (uint16_t)elem->priv_slot;
	if (r < 0)
		written = 0;
	vq->ops->push(vq, elem->id, elem->priv_ndescs, written);
	return r < 0 ? -EFAULT : 0;
}

XV_EXPORT int xenvirtio_vq_should_notify(struct xenvirtio_vq *vq)
{
	if (!vq)
		return -EINVAL;
	if (vq->broken.broken || !vq->enabled)
		return -EIO;
	return vq->ops->should_notify(vq);
}

XV_EXPORT int xenvirtio_vq_set_notification(struct xenvirtio_vq *vq,
					    bool enable)
{
	if (!vq)
		return -EINVAL;
	if (vq->broken.broken || !vq->enabled)
		return -EIO;
	vq->notify_enabled = enable;
	vq->ops->set_notification(vq, enable);
	return 0;
}

/* Copy between @buf and the iovecs @iov[0..n) from byte @offset. */
static int elem_copy(const struct iovec *iov, unsigned int n, uint64_t total,
		     uint32_t offset, uint8_t *buf, uint32_t len, bool to_iov)
{
	unsigned int i;

	if ((uint64_t)offset + len > total)
		return -EBADMSG; /* R15: too short, whatever the split */
	for (i = 0; i < n && len; i++) {
		size_t l = iov[i].iov_len, c;

		if (offset >= l) {
			offset -= (uint32_t)l;
			continue;
		}
		c = XV_MIN(l - offset, (size_t)len);
		if (to_iov)
			memcpy((uint8_t *)iov[i].iov_base + offset, buf, c);
		else
			memcpy(buf, (const uint8_t *)iov[i].iov_base + offset,
			       c);
		buf += c;
		len -= (uint32_t)c;
		offset = 0;
	}
	return 0;
}

XV_EXPORT int xenvirtio_vq_elem_read(const struct xenvirtio_vq_elem *elem,
				     uint32_t offset, void *buf, uint32_t len)
{
	if (!elem || (!buf && len) || (!elem->iov && elem->out_num))
		return -EINVAL;
	return elem_copy(elem->iov, elem->out_num, elem->out_len, offset, buf,
			 len, false);
}

XV_EXPORT int xenvirtio_vq_elem_write(const struct xenvirtio_vq_elem *elem,
				      uint32_t offset, const void *buf,
				      uint32_t len)
{
	uint8_t *b = (uint8_t *)(uintptr_t)buf;

	if (!elem || (!buf && len) || (!elem->iov && elem->in_num))
		return -EINVAL;
	return elem_copy(elem->iov + elem->out_num, elem->in_num,
			 elem->in_len, offset, b, len, true);
}
