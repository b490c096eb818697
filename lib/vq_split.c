/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Split virtqueue, device side (virtio 1.2 §2.7): descriptor table, driver's
 * available ring, device's used ring.
 */
#include "vq_internal.h"

/* Layout offsets. */
#define AVAIL_FLAGS 0
#define AVAIL_IDX 2
#define AVAIL_RING 4
#define USED_FLAGS 0
#define USED_IDX 2
#define USED_RING 4

static int split_enable(struct xenvirtio_vq *vq,
			const struct xenvirtio_vq_config *cfg)
{
	uint64_t n = cfg->size, ev = vq->event_idx ? 2 : 0, sizes[3];

	/* S2 */
	if (n & (n - 1)) {
		xv_warn(vq->ctx, "split vq: size %u not a power of 2",
			cfg->size);
		return -EINVAL;
	}
	/* S3: alignment, then the whole area mapped */
	if ((cfg->desc_addr & 15) || (cfg->driver_addr & 1) ||
	    (cfg->device_addr & 3)) {
		xv_warn(vq->ctx, "split vq: misaligned ring address");
		return -EINVAL;
	}
	/* descriptor table; available ring; used ring */
	sizes[0] = 16 * n;
	sizes[1] = 4 + 2 * n + ev;
	sizes[2] = 4 + 8 * n + ev;
	return xv_vq_map_rings(vq, cfg, sizes);
}

/*
 * Walk the chain at @head into @w. Returns an enum xv_why (0: a good
 * chain) or -EIO if the walk broke the queue (R4, R5).
 */
static XV_ALWAYS_INLINE int split_walk(struct xenvirtio_vq *vq,
				       struct xv_walk *w, uint16_t head,
				       bool ident)
{
	const uint8_t *desc = vq->desc;
	uint32_t num = vq->num;
	int32_t budget = (int32_t)num; /* R5: descriptors left */
	uint16_t i = head;

	for (;;) {
		const uint8_t *p = desc + 16 * (size_t)i;
		uint64_t addr = xv_load_le64(p);
		uint32_t len = xv_load_le32(p + 8);
		/* flags and next in one fetch, into private copies (R13) */
		uint32_t fn = xv_load_le32(p + 12);
		uint16_t flags = (uint16_t)fn, next = (uint16_t)(fn >> 16);
		enum xv_why why;

		if (xv_unlikely(--budget < 0))
			return xv_vq_break(vq, "chain longer than %u (R5)",
					   num);
		/* one test for the rare cases: indirect, a direction change */
		if (xv_unlikely((flags & (XV_DESC_F_INDIRECT |
					  XV_DESC_F_WRITE)) != w->ws)) {
			if (flags & XV_DESC_F_INDIRECT) {
				struct xv_walk t = *w;

				if (!vq->indirect)
					return XV_WHY_IND_NEG;
				if (budget != (int32_t)num - 1 ||
				    (flags & XV_DESC_F_NEXT))
					return XV_WHY_IND_CHAIN;
				why = xv_walk_indirect(vq, &t, addr, len,
						       true);
				*w = t;
				return why;
			}
			why = xv_walk_turn(w, flags);
			if (xv_unlikely(why))
				return why;
		}
		why = xv_walk_data(w, addr, len, ident);
		if (xv_unlikely(why))
			return why;
		if (!(flags & XV_DESC_F_NEXT))
			return XV_WHY_OK;
		if (xv_unlikely(next >= num))
			return xv_vq_break(vq, "next %u out of range (R4)",
					   next);
		i = next;
	}
}

static XV_ALWAYS_INLINE int split_pop_mode(struct xenvirtio_vq *vq,
					   struct xenvirtio_vq_elem *e,
					   bool ident)
{
	uint32_t num = vq->num;
	uint16_t avail_idx, head;
	struct xv_walk w;
	int r;

	/* R14: the index with acquire, so ring and descriptors are read
	 * after it. */
	avail_idx = xv_load_le16_acquire(vq->driver + AVAIL_IDX);
	if (avail_idx == vq->last_avail)
		return 0;
	if (xv_unlikely((uint16_t)(avail_idx - vq->last_avail) > num))
		return xv_vq_break(vq, "avail idx %u runs %u ahead (R1)",
				   avail_idx,
				   (uint16_t)(avail_idx - vq->last_avail));
	head = xv_load_le16(vq->driver + AVAIL_RING +
			    2 * (vq->last_avail & (num - 1)));
	if (xv_unlikely(head >= num))
		return xv_vq_break(vq, "head %u out of range (R3)", head);
	if (xv_unlikely(vq->recs[head].busy))
		return xv_vq_break(vq, "head %u already in flight (R2)", head);

	xv_walk_init(&w, vq, e);
	r = split_walk(vq, &w, head, ident);
	if (xv_unlikely(r < 0))
		return r; /* broken */
	r = xv_walk_finish(vq, &w, (enum xv_why)r, ident, head, e);
	if (xv_unlikely(r == -ENOSPC || r == -EAGAIN))
		return -ENOSPC; /* backpressure: the chain stays available */
	vq->last_avail++;
	if (vq->event_idx && vq->notify_enabled)
		xv_store_le16(vq->device + USED_RING + 8 * (size_t)num,
			      vq->last_avail);
	if (xv_unlikely(r < 0)) {
		xv_vq_retire(vq, head, 1); /* R16 */
		return r;
	}
	vq->recs[head].busy = true;
	vq->inflight++;
	e->id = head;
	e->priv_ndescs = 1;
	return 1;
}

static int split_pop(struct xenvirtio_vq *vq, struct xenvirtio_vq_elem *e)
{
	/* one copy of the walk per translation kind: identity inline */
	if (vq->ident)
		return split_pop_mode(vq, e, true);
	return split_pop_mode(vq, e, false);
}

static void split_push(struct xenvirtio_vq *vq, uint32_t id, uint32_t ndescs,
		       uint32_t len)
{
	uint8_t *u = vq->device + USED_RING +
		     8 * (size_t)(vq->used_idx & (vq->num - 1));

	(void)ndescs;
	xv_store_le32(u, id);
	xv_store_le32(u + 4, len);
	vq->used_idx++;
	/* R14: the index after the element, with release */
	xv_store_le16_release(vq->device + USED_IDX, vq->used_idx);
}

static int split_should_notify(struct xenvirtio_vq *vq)
{
	uint16_t old = vq->signalled_used, new_idx = vq->used_idx, event;
	bool valid = vq->signalled_valid;

	/* the used idx store before the driver's flags/event read */
	xv_mb();
	if (!vq->event_idx)
		return !(xv_load_le16(vq->driver + AVAIL_FLAGS) &
			 XV_AVAIL_F_NO_INTERRUPT);
	vq->signalled_used = new_idx;
	vq->signalled_valid = true;
	event = xv_load_le16(vq->driver + AVAIL_RING + 2 * (size_t)vq->num);
	return !valid || xv_need_event(event, new_idx, old);
}

static void split_set_notification(struct xenvirtio_vq *vq, bool enable)
{
	if (vq->event_idx) {
		if (enable)
			xv_store_le16(vq->device + USED_RING +
					      8 * (size_t)vq->num,
				      vq->last_avail);
	} else {
		xv_store_le16(vq->device + USED_FLAGS,
			      enable ? 0 : XV_USED_F_NO_NOTIFY);
	}
	xv_mb();
}

const struct xv_vq_ops xv_vq_split_ops = {
	.enable = split_enable,
	.pop = split_pop,
	.push = split_push,
	.should_notify = split_should_notify,
	.set_notification = split_set_notification,
};
