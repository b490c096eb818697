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

/*
 * Where a packed walk is: @p points at the current descriptor; @idf holds
 * its id and flags as fetched at once (id | flags << 16, R13); @want is
 * what a plain descriptor's flags should be, as they sit in @idf:
 * avail_bits(@wrap), plus WRITE once the chain turned writable. One
 * counter, @left, bounds the walk both by the ring's end (wrap) and by
 * the chain length limit (R5); @rest is the R5 budget beyond @left.
 */
struct packed_at {
	const uint8_t *p, *pend;
	uint32_t want, idf, rest;
	int32_t left;
	bool wrap;
};

#define FL(f) ((uint32_t)(f) << 16) /* a flag as it sits in idf */

/* The ring's end or the length limit: wrap, or break the queue (R5). */
static XV_ALWAYS_INLINE int packed_edge(struct xenvirtio_vq *vq,
					struct packed_at *at)
{
	uint32_t k;

	if (at->p == at->pend) {
		at->p = vq->desc;
		at->wrap = !at->wrap;
		at->want ^= FL(AVAIL_MASK); /* avail_bits(!wrap) */
	}
	if (!at->rest)
		return xv_vq_break(vq, "chain longer than %u (R5)", vq->num);
	k = XV_MIN(at->rest, vq->num);
	at->rest -= k;
	at->left = (int32_t)k - 1; /* this descriptor */
	return 0;
}

/*
 * Step past the current descriptor and, if it has NEXT, load the next
 * one's id and flags (the head's acquire already orders the read: the
 * driver publishes the head's flags last). Returns 1 if the chain goes
 * on, 0 at its end, -EIO if the queue broke (R5). The caller checks the
 * next descriptor is available.
 */
static XV_ALWAYS_INLINE int packed_step(struct xenvirtio_vq *vq,
					struct packed_at *at)
{
	at->p += 16;
	if (!(at->idf & FL(XV_DESC_F_NEXT)))
		return 0;
	if (xv_unlikely(--at->left < 0) && packed_edge(vq, at) < 0)
		return -EIO;
	at->idf = xv_load_le32(at->p + 12);
	return 1;
}

static int packed_unavailable(struct xenvirtio_vq *vq) __attribute__((cold));
static int packed_unavailable(struct xenvirtio_vq *vq)
{
	return xv_vq_break(vq,
			   "chain continues into an unavailable descriptor");
}

static XV_ALWAYS_INLINE int packed_pop_mode(struct xenvirtio_vq *vq,
					    struct xenvirtio_vq_elem *e,
					    bool ident)
{
	const uint8_t *desc = vq->desc;
	uint32_t num = vq->num, slot, k, ndescs;
	struct packed_at at;
	enum xv_why why = XV_WHY_OK;
	uint16_t flags;
	struct xv_walk w;
	int r;

	at.p = desc + 16 * (size_t)vq->last_avail;
	at.pend = desc + 16 * (size_t)num;
	at.wrap = vq->avail_wrap;
	at.want = FL(avail_bits(at.wrap));
	/* R14: flags with acquire, the rest of the descriptor after */
	flags = xv_load_le16_acquire(at.p + 14);
	if (FL(flags & AVAIL_MASK) != at.want)
		return 0;
	if (xv_unlikely(vq->inflight >= num || !vq->nfree))
		return xv_vq_break(vq, "more than %u requests in flight (R2)",
				   num);
	slot = vq->free_slots[vq->nfree - 1];
	at.idf = FL(flags) | xv_load_le16(at.p + 12);
	/* R5: at most num descriptors; the first segment ends at the ring's
	 * end. The head is counted. */
	k = XV_MIN(num, (uint32_t)((at.pend - at.p) / 16));
	at.rest = num - k;
	at.left = (int32_t)k - 1;

	xv_walk_init(&w, vq, e);
	for (;;) {
		uint64_t addr = xv_load_le64(at.p);
		uint32_t len = xv_load_le32(at.p + 8);

		/* one test for the rare cases: not available (after the
		 * head), indirect, a direction change */
		if (xv_unlikely((at.idf & FL(AVAIL_MASK | XV_DESC_F_INDIRECT |
					     XV_DESC_F_WRITE)) != at.want)) {
			flags = (uint16_t)(at.idf >> 16);
			if (FL(flags & AVAIL_MASK) !=
			    (at.want & FL(AVAIL_MASK)))
				return packed_unavailable(vq);
			if (flags & XV_DESC_F_INDIRECT) {
				struct xv_walk t = w;

				if (!vq->indirect)
					why = XV_WHY_IND_NEG;
				else if (num - at.rest - (uint32_t)at.left !=
						 1 ||
					 (flags & XV_DESC_F_NEXT))
					why = XV_WHY_IND_CHAIN;
				else
					why = xv_walk_indirect(vq, &t, addr,
							       len, false);
				w = t;
				if (why)
					goto skip;
				packed_step(vq, &at); /* a lone descriptor */
				goto finish;
			}
			why = xv_walk_turn(&w, flags);
			if (xv_unlikely(why))
				goto skip;
			at.want |= FL(XV_DESC_F_WRITE);
		}
		why = xv_walk_data(&w, addr, len, ident);
		if (xv_unlikely(why))
			goto skip;
		r = packed_step(vq, &at);
		if (r <= 0) {
			if (r < 0)
				return r;
			goto finish;
		}
	}

skip:
	/* a request-level error: walk on only to find the chain's extent */
	while ((r = packed_step(vq, &at)) > 0) {
		if (xv_unlikely((at.idf & FL(AVAIL_MASK)) !=
				(at.want & FL(AVAIL_MASK))))
			return packed_unavailable(vq);
	}
	if (r < 0)
		return r;

finish:
	/* the last descriptor may have ended the ring */
	if (at.p == at.pend) {
		at.p = desc;
		at.wrap = !at.wrap;
	}
	ndescs = num - at.rest - (uint32_t)at.left;
	r = xv_walk_finish(vq, &w, why, ident, slot, e);
	if (xv_unlikely(r == -ENOSPC || r == -EAGAIN))
		return -ENOSPC; /* backpressure: the chain stays available */
	vq->last_avail = (uint16_t)((at.p - desc) / 16);
	vq->avail_wrap = at.wrap;
	if (xv_unlikely(r < 0)) {
		/* R16; the buffer id is the last descriptor's */
		xv_vq_retire(vq, (uint16_t)at.idf, ndescs);
		return r;
	}
	vq->nfree--;
	vq->recs[slot].busy = true;
	vq->inflight++;
	e->id = (uint16_t)at.idf;
	e->priv_ndescs = ndescs;
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
	vq->used_since += ndescs;
	vq->used_idx += ndescs;
	if (vq->used_idx >= vq->num) {
		vq->used_idx -= vq->num;
		vq->used_wrap = !vq->used_wrap;
	}
}

static int packed_should_notify(struct xenvirtio_vq *vq)
{
	int32_t num = vq->num, old, new_idx, event;
	uint32_t since = vq->used_since;
	uint16_t flags, off_wrap;
	bool valid = vq->signalled_valid;

	xv_mb();
	flags = xv_load_le16(vq->driver + EVT_FLAGS);
	vq->used_since = 0;
	vq->signalled_valid = true;
	if (flags == XV_EVENT_DISABLE)
		return 0;
	if (flags != XV_EVENT_DESC || !vq->event_idx || !valid)
		return 1;
	off_wrap = xv_load_le16(vq->driver + EVT_OFF_WRAP);
	/*
	 * Positions on one line, the current lap is [0, num): the
	 * descriptors used since the last call are [old, new_idx), counted
	 * (not derived from two positions, which cannot tell none from a
	 * whole lap). More than two laps cannot reach further back.
	 */
	new_idx = vq->used_idx;
	old = new_idx - (int32_t)XV_MIN(since, 2u * (uint32_t)num);
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
