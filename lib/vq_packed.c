/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Packed virtqueue, device side (virtio 1.2 §2.8): one descriptor ring with
 * wrap counters, and two event suppression structures.
 */
#include "vq_internal.h"

#define EVT_OFF_WRAP 0
#define EVT_FLAGS 2

static int packed_enable(struct xenvirtio_vq *vq,
			 const struct xenvirtio_vq_config *cfg)
{
	uint64_t sizes[3];

	/* S3 */
	if ((cfg->desc_addr & 15) || (cfg->driver_addr & 3) ||
	    (cfg->device_addr & 3)) {
		xv_warn(vq->ctx, "packed vq: misaligned ring address");
		return -EINVAL;
	}
	/* descriptor ring; driver and device event suppression */
	sizes[0] = 16 * (uint64_t)cfg->size;
	sizes[1] = sizes[2] = 4;
	return xv_vq_map_rings(vq, cfg, sizes);
}

/* AVAIL == wrap and USED != wrap, as the flags' two bits expected. */
static inline uint16_t avail_bits(bool wrap)
{
	return wrap ? XV_DESC_F_AVAIL : XV_DESC_F_USED;
}

#define AVAIL_MASK (XV_DESC_F_AVAIL | XV_DESC_F_USED)

/* Where a packed walk is: the ring position and its wrap counter. */
struct packed_at {
	uint16_t pos, want; /* want: avail_bits(wrap) */
	bool wrap;
};

/*
 * Step past the descriptor at @at and, if @flags has NEXT, load the next
 * one's id and flags in one fetch (R13); the head's acquire already orders
 * the read: the driver publishes the head's flags last. Returns 1 if the
 * chain goes on, 0 at its end, -EIO (broken) if it continues into a
 * descriptor that is not available.
 */
static XV_ALWAYS_INLINE int packed_step(struct xenvirtio_vq *vq,
					struct packed_at *at, uint16_t *flags,
					uint16_t *id)
{
	uint32_t idf;

	if (xv_unlikely(++at->pos == vq->num)) {
		at->pos = 0;
		at->wrap = !at->wrap;
		at->want = avail_bits(at->wrap);
	}
	if (!(*flags & XV_DESC_F_NEXT))
		return 0;
	idf = xv_load_le32(vq->desc + 16 * (size_t)at->pos + 12);
	*id = (uint16_t)idf; /* the buffer id is the last descriptor's */
	*flags = (uint16_t)(idf >> 16);
	if (xv_unlikely((*flags & AVAIL_MASK) != at->want))
		return xv_vq_break(vq,
				   "chain continues into an unavailable descriptor");
	return 1;
}

static XV_ALWAYS_INLINE int packed_pop_mode(struct xenvirtio_vq *vq,
					    struct xenvirtio_vq_elem *e,
					    bool ident)
{
	const uint8_t *desc = vq->desc;
	uint32_t num = vq->num, budget = num, slot;
	struct packed_at at = { vq->last_avail, avail_bits(vq->avail_wrap),
				vq->avail_wrap };
	enum xv_why why = XV_WHY_OK;
	uint16_t id, flags;
	struct xv_walk w;
	int r;

	/* R14: flags with acquire, the rest of the descriptor after */
	flags = xv_load_le16_acquire(desc + 16 * (size_t)at.pos + 14);
	if ((flags & AVAIL_MASK) != at.want)
		return 0;
	if (xv_unlikely(vq->inflight >= num || !vq->nfree))
		return xv_vq_break(vq, "more than %u requests in flight (R2)",
				   num);
	slot = vq->free_slots[vq->nfree - 1];
	id = xv_load_le16(desc + 16 * (size_t)at.pos + 12);

	xv_walk_init(&w, vq, e);
	for (;;) {
		const uint8_t *p = desc + 16 * (size_t)at.pos;
		uint64_t addr = xv_load_le64(p);
		uint32_t len = xv_load_le32(p + 8);

		if (xv_unlikely(!budget--))
			return xv_vq_break(vq, "chain longer than %u (R5)",
					   num);
		/* one test for the rare cases: indirect, a direction change */
		if (xv_unlikely((flags & (XV_DESC_F_INDIRECT |
					  XV_DESC_F_WRITE)) != w.ws)) {
			if (flags & XV_DESC_F_INDIRECT) {
				struct xv_walk t = w;

				if (!vq->indirect)
					why = XV_WHY_IND_NEG;
				else if (budget != num - 1 ||
					 (flags & XV_DESC_F_NEXT))
					why = XV_WHY_IND_CHAIN;
				else
					why = xv_walk_indirect(vq, &t, addr,
							       len, false);
				w = t;
				if (why)
					goto skip;
				/* a lone indirect descriptor: the end */
				r = packed_step(vq, &at, &flags, &id);
				break;
			}
			why = xv_walk_turn(&w, flags);
			if (xv_unlikely(why))
				goto skip;
		}
		why = xv_walk_data(&w, addr, len, ident);
		if (xv_unlikely(why))
			goto skip;
		r = packed_step(vq, &at, &flags, &id);
		if (r <= 0)
			break;
	}
	if (xv_unlikely(r < 0))
		return r;
	goto finish;

skip:
	/* a request-level error: walk on only to find the chain's extent */
	for (;;) {
		r = packed_step(vq, &at, &flags, &id);
		if (r <= 0)
			break;
		if (xv_unlikely(!budget--))
			return xv_vq_break(vq, "chain longer than %u (R5)",
					   num);
	}
	if (r < 0)
		return r;

finish:
	r = xv_walk_finish(vq, &w, why, ident, slot, e);
	if (xv_unlikely(r == -ENOSPC)) {
		if (vq->m->inflight)
			return r; /* backpressure: the chain stays available */
		r = xv_vq_nospace_idle(vq);
	}
	vq->last_avail = at.pos;
	vq->avail_wrap = at.wrap;
	if (xv_unlikely(r < 0)) {
		xv_vq_retire(vq, id, num - budget); /* R16 */
		return r;
	}
	vq->nfree--;
	vq->recs[slot].busy = true;
	vq->inflight++;
	e->id = id;
	e->priv_ndescs = num - budget;
	return 1;
}

static int packed_pop(struct xenvirtio_vq *vq, struct xenvirtio_vq_elem *e)
{
	if (vq->ident)
		return packed_pop_mode(vq, e, true);
	return packed_pop_mode(vq, e, false);
}

static void packed_push(struct xenvirtio_vq *vq, uint32_t id,
			uint32_t ndescs, uint32_t len)
{
	uint8_t *p = vq->desc + 16 * (size_t)vq->used_idx;
	uint16_t flags = vq->used_wrap ? (XV_DESC_F_AVAIL | XV_DESC_F_USED) :
					 0;

	if (len)
		flags |= XV_DESC_F_WRITE;
	xv_store_le32(p + 8, len);
	xv_store_le16(p + 12, (uint16_t)id);
	/* R14: flags last, with release */
	xv_store_le16_release(p + 14, flags);
	vq->used_idx += ndescs;
	if (vq->used_idx >= vq->num) {
		vq->used_idx -= vq->num;
		vq->used_wrap = !vq->used_wrap;
	}
}

static int packed_should_notify(struct xenvirtio_vq *vq)
{
	int32_t num = vq->num, old, new_idx, event;
	uint16_t flags, off_wrap, prev = vq->signalled_used;
	bool valid = vq->signalled_valid;

	xv_mb();
	flags = xv_load_le16(vq->driver + EVT_FLAGS);
	vq->signalled_used = vq->used_idx;
	vq->signalled_valid = true;
	if (flags == XV_EVENT_DISABLE)
		return 0;
	if (flags != XV_EVENT_DESC || !vq->event_idx || !valid)
		return 1;
	off_wrap = xv_load_le16(vq->driver + EVT_OFF_WRAP);
	/* positions on one line: the current lap is [0, num) */
	new_idx = vq->used_idx;
	old = prev <= vq->used_idx ? prev : (int32_t)prev - num;
	event = off_wrap & 0x7fff;
	if (!!(off_wrap >> 15) != vq->used_wrap)
		event -= num;
	return event >= old && event < new_idx;
}

static void packed_set_notification(struct xenvirtio_vq *vq, bool enable)
{
	if (!enable) {
		xv_store_le16(vq->device + EVT_FLAGS, XV_EVENT_DISABLE);
	} else if (vq->event_idx) {
		xv_store_le16(vq->device + EVT_OFF_WRAP,
			      (uint16_t)(vq->last_avail |
					 (vq->avail_wrap ? 0x8000 : 0)));
		xv_store_le16(vq->device + EVT_FLAGS, XV_EVENT_DESC);
	} else {
		xv_store_le16(vq->device + EVT_FLAGS, XV_EVENT_ENABLE);
	}
	xv_mb();
}

const struct xv_vq_ops xv_vq_packed_ops = {
	.enable = packed_enable,
	.pop = packed_pop,
	.push = packed_push,
	.should_notify = packed_should_notify,
	.set_notification = packed_set_notification,
};
