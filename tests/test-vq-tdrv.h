/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A minimal, deliberately independent driver side for the device-side tests:
 * it writes split and packed rings straight into "guest" memory following
 * the virtio 1.2 layouts, so the library is checked against the spec, not
 * against itself. Tests also use it to write hostile rings.
 */
#ifndef XV_TDRV_H
#define XV_TDRV_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <xenvirtio/addr.h>
#include <xenvirtio/virtqueue.h>

struct tbuf {
	uint32_t off; /* offset in guest memory */
	uint32_t len;
	bool write;
};

struct tdrv {
	uint8_t *mem;	/* guest memory */
	bool grant;	/* addresses: grant (ref = 8 + frame) or offsets */
	bool packed;
	bool event_idx;
	uint32_t num;
	uint32_t desc, drv, dev; /* ring offsets in mem */
	uint32_t itab;		 /* offset of an indirect table area */
	uint16_t avail_idx;	 /* split */
	uint16_t used_seen;	 /* split: last used idx consumed */
	uint32_t next_desc;	 /* split: naive allocator, round robin */
	uint16_t pos;		 /* packed: next avail position */
	bool wrap;		 /* packed: avail wrap counter */
	uint16_t upos;		 /* packed: next used position */
	bool uwrap;
	const uint16_t *nd_by_id; /* packed: descriptors per id, if set */
};

static inline uint64_t tdrv_addr(const struct tdrv *t, uint32_t off)
{
	if (!t->grant)
		return off;
	return XENVIRTIO_GRANT_ADDR_FLAG | ((uint64_t)(8 + off / 4096) << 12) |
	       (off % 4096);
}

static inline void tdrv_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}
static inline void tdrv_le32(uint8_t *p, uint32_t v)
{
	tdrv_le16(p, (uint16_t)v);
	tdrv_le16(p + 2, (uint16_t)(v >> 16));
}
static inline void tdrv_le64(uint8_t *p, uint64_t v)
{
	tdrv_le32(p, (uint32_t)v);
	tdrv_le32(p + 4, (uint32_t)(v >> 32));
}
static inline uint16_t tdrv_rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}
static inline uint32_t tdrv_rd32(const uint8_t *p)
{
	return tdrv_rd16(p) | (uint32_t)tdrv_rd16(p + 2) << 16;
}

/* Rings laid out from @base: desc, driver, device, indirect area. */
static inline void tdrv_init(struct tdrv *t, uint8_t *mem, uint32_t base,
			     uint32_t num, bool packed, bool event_idx,
			     bool grant)
{
	memset(t, 0, sizeof(*t));
	t->mem = mem;
	t->grant = grant;
	t->packed = packed;
	t->event_idx = event_idx;
	t->num = num;
	t->desc = base;
	t->drv = (base + 16 * num + 15) & ~15u;
	t->dev = (t->drv + 6 + 2 * num + 4095) & ~4095u;
	t->itab = (t->dev + 6 + 8 * num + 4095) & ~4095u;
	t->wrap = t->uwrap = true;
	memset(mem + base, 0, t->itab - base);
}

static inline void tdrv_config(const struct tdrv *t,
			       struct xenvirtio_vq_config *c, uint64_t extra)
{
	c->features = (1ULL << XENVIRTIO_F_VERSION_1) |
		      (1ULL << XENVIRTIO_F_INDIRECT_DESC) | extra;
	if (t->packed)
		c->features |= 1ULL << XENVIRTIO_F_RING_PACKED;
	if (t->event_idx)
		c->features |= 1ULL << XENVIRTIO_F_EVENT_IDX;
	c->size = t->num;
	c->desc_addr = tdrv_addr(t, t->desc);
	c->driver_addr = tdrv_addr(t, t->drv);
	c->device_addr = tdrv_addr(t, t->dev);
}

static inline void tdrv_wdesc_split(uint8_t *p, uint64_t addr, uint32_t len,
				    uint16_t flags, uint16_t next)
{
	tdrv_le64(p, addr);
	tdrv_le32(p + 8, len);
	tdrv_le16(p + 12, flags);
	tdrv_le16(p + 14, next);
}

static inline void tdrv_wdesc_packed(uint8_t *p, uint64_t addr, uint32_t len,
				     uint16_t id, uint16_t flags)
{
	tdrv_le64(p, addr);
	tdrv_le32(p + 8, len);
	tdrv_le16(p + 12, id);
	__atomic_store_n((uint16_t *)(p + 14), flags, __ATOMIC_RELEASE);
}

/* Split: publish a head in the avail ring. */
static inline void tdrv_publish_split(struct tdrv *t, uint16_t head)
{
	tdrv_le16(t->mem + t->drv + 4 + 2 * (t->avail_idx % t->num), head);
	t->avail_idx++;
	__atomic_store_n((uint16_t *)(t->mem + t->drv + 2), t->avail_idx,
			 __ATOMIC_RELEASE);
}

/*
 * Add a chain; returns its id (split head, packed buffer id = @id).
 * @indirect: put the chain in an indirect table at t->itab + @id * 256.
 */
static inline uint16_t tdrv_add(struct tdrv *t, const struct tbuf *b,
				unsigned int n, bool indirect, uint16_t id)
{
	unsigned int i;

	if (!t->packed) {
		uint16_t head = (uint16_t)(t->next_desc % t->num);

		if (indirect) {
			uint8_t *tab = t->mem + t->itab + 256u * head;

			for (i = 0; i < n; i++)
				tdrv_wdesc_split(tab + 16 * i,
						 tdrv_addr(t, b[i].off),
						 b[i].len,
						 (b[i].write ? 2 : 0) |
							 (i + 1 < n ? 1 : 0),
						 (uint16_t)(i + 1));
			tdrv_wdesc_split(t->mem + t->desc + 16 * head,
					 tdrv_addr(t, t->itab + 256u * head),
					 16 * n, 4, 0);
			t->next_desc++;
		} else {
			for (i = 0; i < n; i++) {
				uint16_t d = (uint16_t)((t->next_desc + i) %
							t->num);

				tdrv_wdesc_split(t->mem + t->desc + 16 * d,
						 tdrv_addr(t, b[i].off),
						 b[i].len,
						 (b[i].write ? 2 : 0) |
							 (i + 1 < n ? 1 : 0),
						 (uint16_t)((d + 1) % t->num));
			}
			t->next_desc += n;
		}
		tdrv_publish_split(t, head);
		return head;
	} else {
		uint16_t avail = t->wrap ? (1u << 7) : (1u << 15);
		uint16_t first = t->pos, first_flags = 0;
		unsigned int nd = indirect ? 1 : n;

		for (i = 0; i < nd; i++) {
			uint16_t flags = avail;
			uint64_t addr;
			uint32_t len;

			if (indirect) {
				uint8_t *tab = t->mem + t->itab + 256u * id;
				unsigned int k;

				for (k = 0; k < n; k++)
					tdrv_wdesc_packed(
						tab + 16 * k,
						tdrv_addr(t, b[k].off),
						b[k].len, 0,
						b[k].write ? 2 : 0);
				addr = tdrv_addr(t, t->itab + 256u * id);
				len = 16 * n;
				flags |= 4;
			} else {
				addr = tdrv_addr(t, b[i].off);
				len = b[i].len;
				flags |= (b[i].write ? 2 : 0) |
					 (i + 1 < n ? 1 : 0);
			}
			if (i == 0) {
				/* the head is made available last */
				first_flags = flags;
				tdrv_le64(t->mem + t->desc + 16 * t->pos, addr);
				tdrv_le32(t->mem + t->desc + 16 * t->pos + 8,
					  len);
				tdrv_le16(t->mem + t->desc + 16 * t->pos + 12,
					  id);
			} else {
				tdrv_wdesc_packed(t->mem + t->desc +
							  16 * t->pos,
						  addr, len, id, flags);
			}
			if (++t->pos == t->num) {
				t->pos = 0;
				t->wrap = !t->wrap;
				avail = t->wrap ? (1u << 7) : (1u << 15);
			}
		}
		__atomic_store_n((uint16_t *)(t->mem + t->desc + 16 * first +
					      14),
				 first_flags, __ATOMIC_RELEASE);
		return id;
	}
}

/* Next used element: 1 and id/len, or 0 if none. @ndescs: packed only,
 * descriptors the chain used (the driver knows it from its own books). */
static inline int tdrv_get_used(struct tdrv *t, uint32_t *id, uint32_t *len,
				unsigned int ndescs)
{
	if (!t->packed) {
		uint16_t idx = __atomic_load_n((uint16_t *)(t->mem + t->dev +
							    2),
					       __ATOMIC_ACQUIRE);
		const uint8_t *e;

		if (idx == t->used_seen)
			return 0;
		e = t->mem + t->dev + 4 + 8 * (t->used_seen % t->num);
		*id = tdrv_rd32(e);
		*len = tdrv_rd32(e + 4);
		t->used_seen++;
		return 1;
	} else {
		const uint8_t *d = t->mem + t->desc + 16 * t->upos;
		uint16_t f = __atomic_load_n((const uint16_t *)(d + 14),
					     __ATOMIC_ACQUIRE);
		bool a = f & (1u << 7), u = f & (1u << 15);

		if (a != t->uwrap || u != t->uwrap)
			return 0;
		*id = tdrv_rd16(d + 12);
		*len = tdrv_rd32(d + 8);
		if (t->nd_by_id)
			ndescs = t->nd_by_id[*id];
		t->upos = (uint16_t)(t->upos + ndescs);
		if (t->upos >= t->num) {
			t->upos = (uint16_t)(t->upos - t->num);
			t->uwrap = !t->uwrap;
		}
		return 1;
	}
}

#endif /* XV_TDRV_H */
