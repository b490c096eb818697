/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Packed virtqueue, device side (virtio 1.2 §2.8): one descriptor ring with
 * wrap counters, and two event suppression structures.
 */
#include "vq_internal.h"

#define EVT_OFF_WRAP 0
#define EVT_FLAGS 2

static bool desc_avail(uint16_t flags, bool wrap)
{
	return !!(flags & XV_DESC_F_AVAIL) == wrap &&
	       !!(flags & XV_DESC_F_USED) != wrap;
}

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

static int packed_pop(struct xenvirtio_vq *vq, struct xenvirtio_vq_elem *e)
{
	uint32_t num = vq->num, count = 0, slot;
	uint16_t pos = vq->last_avail, id = 0;
	bool wrap = vq->avail_wrap;
	struct xv_chain c;
	struct xv_desc d;
	int r;

	/* R14: flags with acquire, the rest of the descriptor after */
	d.flags = xv_load_le16_acquire(vq->desc + 16 * (size_t)pos + 14);
	if (!desc_avail(d.flags, wrap))
		return 0;
	if (xv_unlikely(vq->inflight >= num || !vq->nfree))
		return xv_vq_break(vq, "more than %u requests in flight (R2)",
				   num);
	slot = vq->free_slots[vq->nfree - 1];

	xv_chain_init(&c, vq, e);
	for (;;) {
		const uint8_t *p = vq->desc + 16 * (size_t)pos;
		bool next;

		if (count) {
			/* the head's acquire already orders these reads:
			 * the driver publishes the head's flags last */
			d.flags = xv_load_le16(p + 14);
			if (xv_unlikely(!desc_avail(d.flags, wrap)))
				return xv_vq_break(vq,
						   "chain continues into an unavailable descriptor");
		}
		d.addr = xv_load_le64(p);
		d.len = xv_load_le32(p + 8);
		d.next = xv_load_le16(p + 12);
		if (xv_unlikely(++count > num))
			return xv_vq_break(vq, "chain longer than %u (R5)",
					   num);
		next = d.flags & XV_DESC_F_NEXT;
		xv_chain_desc(&c, &d, next, false);
		id = d.next;
		if (++pos == num) {
			pos = 0;
			wrap = !wrap;
		}
		if (!next)
			break;
	}
	r = xv_chain_finish(&c, slot);
	if (r == -ENOSPC)
		return r;
	vq->last_avail = pos;
	vq->avail_wrap = wrap;
	if (xv_unlikely(r < 0)) {
		xv_vq_retire(vq, id, count); /* R16 */
		return r;
	}
	vq->nfree--;
	vq->recs[slot].busy = true;
	vq->inflight++;
	e->id = id;
	e->priv_ndescs = count;
	return 1;
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
