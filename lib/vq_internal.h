/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Private state of the mapper and the virtqueues, and the one chain-walk /
 * validation core (vq.c) that the split and packed rings share, for direct
 * chains and indirect tables alike.
 */
#ifndef XV_VQ_INTERNAL_H
#define XV_VQ_INTERNAL_H

#include "platform.h"

#include <sys/uio.h>

#include <xenvirtio/mapper.h>
#include <xenvirtio/virtqueue.h>

/* Descriptor flags, split and packed (SPEC-NOTES §4). */
#define XV_DESC_F_NEXT 1u
#define XV_DESC_F_WRITE 2u
#define XV_DESC_F_INDIRECT 4u
#define XV_DESC_F_AVAIL (1u << 7)
#define XV_DESC_F_USED (1u << 15)

#define XV_AVAIL_F_NO_INTERRUPT 1u
#define XV_USED_F_NO_NOTIFY 1u

#define XV_EVENT_ENABLE 0u
#define XV_EVENT_DISABLE 1u
#define XV_EVENT_DESC 2u

/* Copy strategy limits per request. */
#define XV_COPY_DESCS 8u
#define XV_BOUNCE_SIZE (2 * XENVIRTIO_MAPPER_COPY_MAX)
/* Per-descriptor strategy: most mappings per request (else batched). */
#define XV_PERDESC_MAX 16u
/* Default largest chain, in frames, without a quota. */
#define XV_FRAME_CAP_DEFAULT 1024u

/* Private copy of one descriptor, each field fetched once (R13). */
struct xv_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next; /* split: next; packed: buffer id */
};

struct xv_copy_out {
	uint64_t addr;
	uint32_t len;
	uint16_t iov_idx;
	uint16_t boff;
};

/* What the mapper holds for one request in flight. */
struct xv_map_rec {
	void *va[2];	     /* batch: [0] read-only, [1] writable */
	uint32_t nframes[2];
	uint32_t frames;     /* counted against the quota */
	uint8_t *bounce;     /* XV_BOUNCE_SIZE bytes, or NULL */
	uint16_t ncopy_out;
	bool busy;
	bool per_desc;
	struct xv_copy_out copy_out[XV_COPY_DESCS];
	/* per-descriptor strategy: one mapping per buffer */
	uint16_t pd_n;
	uint32_t pd_frames[XV_PERDESC_MAX];
	void *pd_va[XV_PERDESC_MAX];
};

/* A ring area mapped for the queue's life (S3, S4). */
struct xv_ring_map {
	void *va;
	uint32_t nframes; /* 0: nothing to unmap (identity) */
	bool foreign;
};

struct xenvirtio_mapper {
	struct xenvirtio_ctx *ctx;
	struct xv_platform *plat;
	enum xenvirtio_mapper_mode mode;
	enum xenvirtio_mapper_strategy strategy;
	uint16_t domid;
	uint8_t *base; /* identity */
	uint64_t size;
	uint32_t copy_threshold;
	uint32_t max_frames, max_inflight;
	uint32_t frames_now, inflight;
	uint32_t ring_frames; /* held by the rings of its queues */
	uint32_t frame_cap; /* size of the scratch arrays below */
	uint32_t *refs;
	uint64_t *gfns;
	int16_t *status;
	int *errs;
	struct xv_copy_seg segs[2 * XV_COPY_DESCS + 2];
	struct xenvirtio_mapper_stats st;
};

/* Grant and foreign modes only: the identity translation is inline in the
 * chain walk (xv_walk_buf(), xv_walk_finish()). */
int xv_mapper_map_chain(struct xenvirtio_mapper *m, struct xv_map_rec *rec,
			uint64_t *addrs, struct iovec *iov,
			unsigned int out_num, unsigned int n);
int xv_mapper_unmap_chain(struct xenvirtio_mapper *m, struct xv_map_rec *rec,
			  const struct iovec *iov, unsigned int out_num,
			  unsigned int n, uint32_t written);
int xv_mapper_map_ring(struct xenvirtio_mapper *m, uint64_t addr,
		       uint64_t len, struct xv_ring_map *rm);
void xv_mapper_unmap_ring(struct xenvirtio_mapper *m, struct xv_ring_map *rm);
int xv_mapper_peek(struct xenvirtio_mapper *m, uint64_t addr, uint32_t len,
		   void *bounce, const void **out);

struct xv_vq_ops;

struct xenvirtio_vq {
	struct xenvirtio_ctx *ctx;
	struct xenvirtio_mapper *m;
	const struct xv_vq_ops *ops;
	struct xv_broken broken;
	bool enabled, packed, event_idx, indirect;
	bool ident; /* the mapper is in identity mode */
	uint32_t max_size, num;
	struct xv_ring_map ring[3];
	uint8_t *desc;	 /* descriptor table / ring */
	uint8_t *driver; /* split: avail; packed: driver event */
	uint8_t *device; /* split: used; packed: device event */
	uint16_t last_avail; /* split: next avail idx; packed: next position */
	uint16_t used_idx;   /* split: next used idx; packed: next position */
	bool avail_wrap, used_wrap;
	uint16_t signalled_used; /* split: used idx at the last notify check */
	uint32_t used_since;	 /* packed: descriptors used since then */
	bool signalled_valid;
	bool notify_enabled;
	uint32_t inflight;
	struct xv_map_rec *recs; /* per slot */
	uint8_t *bounce;	 /* max_size * XV_BOUNCE_SIZE, or NULL */
	uint16_t *free_slots;	 /* packed: stack of free slots */
	uint32_t nfree;
	uint64_t *addrs;	 /* scratch: max_size DMA addresses */
	uint8_t *itab;		 /* scratch: a local copy of an indirect table */
};

/*
 * The shared chain walk. Its state lives in the pop's locals (registers):
 * the per-buffer step below is always inlined and nothing on the hot path
 * takes the state's address, so each descriptor field is loaded once from
 * the ring and never reloaded (R13), and the walk is one pass: validate
 * and translate (identity) or record (grant, foreign) each buffer.
 */
#define XV_ALWAYS_INLINE inline __attribute__((always_inline))

/* Why a chain is refused at request level: it is retired (R16). */
enum xv_why {
	XV_WHY_OK = 0,
	XV_WHY_R6,	  /* more buffers than iovecs */
	XV_WHY_R10,	  /* a direction's length over 4 GiB */
	XV_WHY_R12,	  /* readable after writable */
	XV_WHY_R7,	  /* indirect table size */
	XV_WHY_R8,	  /* nested indirect table */
	XV_WHY_R9,	  /* indirect table not mapped */
	XV_WHY_IND_R4,	  /* next out of range inside a split table */
	XV_WHY_IND_R5,	  /* loop inside a split table */
	XV_WHY_IND_FLAGS, /* flags other than WRITE in a packed table */
	XV_WHY_IND_NEG,	  /* indirect not negotiated */
	XV_WHY_IND_CHAIN, /* indirect descriptor inside a chain */
};

struct xv_walk {
	struct iovec *iov;  /* the elem's array */
	struct iovec *v;    /* the next entry */
	struct iovec *vend; /* iov + min(iov_cap, max_size) */
	uint64_t *a;	    /* grant, foreign: the next DMA address slot */
	uintptr_t base;	    /* identity: the region */
	uint64_t size;
	uint64_t total;	    /* bytes, both directions (R10 at the end) */
	uint64_t out_total; /* readable bytes: fixed at the first writable */
	unsigned int nout;  /* readable entries: fixed at the first writable */
	uint32_t ws;	    /* XV_DESC_F_WRITE once a writable one came */
	bool bad;	    /* identity: a buffer outside the region (G5) */
};

static XV_ALWAYS_INLINE void xv_walk_init(struct xv_walk *w,
					  const struct xenvirtio_vq *vq,
					  const struct xenvirtio_vq_elem *e)
{
	w->iov = w->v = e->iov;
	w->vend = e->iov + XV_MIN(e->iov_cap, vq->max_size);
	w->a = vq->addrs;
	w->base = (uintptr_t)vq->m->base;
	w->size = vq->m->size;
	w->total = w->out_total = 0;
	w->nout = 0;
	w->ws = 0;
	w->bad = false;
}

/*
 * A buffer whose direction differs from the previous ones' (the caller
 * compares flags & WRITE with w->ws): R12, or the first writable buffer,
 * which fixes the readable count and length. Once per chain.
 */
static XV_ALWAYS_INLINE enum xv_why xv_walk_turn(struct xv_walk *w,
						 uint16_t flags)
{
	if (!(flags & XV_DESC_F_WRITE))
		return XV_WHY_R12;
	w->ws = XV_DESC_F_WRITE;
	w->nout = (unsigned int)(w->v - w->iov);
	w->out_total = w->total;
	return XV_WHY_OK;
}

/*
 * One buffer's data: R6, R11 (R10 once, at the end: the totals cannot
 * overflow 64 bits, a chain has at most 32768 buffers). @ident is a
 * constant: identity translates here, with integer arithmetic (an address
 * outside the region is flagged and never dereferenced); other modes record
 * the DMA address for the mapper.
 */
static XV_ALWAYS_INLINE enum xv_why xv_walk_data(struct xv_walk *w,
						 uint64_t addr, uint32_t len,
						 bool ident)
{
	w->total += len;
	if (xv_unlikely(!len))
		return XV_WHY_OK; /* R11: a zero-length buffer takes no entry */
	if (xv_unlikely(w->v == w->vend))
		return XV_WHY_R6;
	if (ident) {
		uint64_t end = addr + len;

		if (xv_unlikely(end > w->size || end < addr))
			w->bad = true;
		w->v->iov_base = (void *)(w->base + (uintptr_t)addr);
	} else {
		*w->a++ = addr;
	}
	w->v->iov_len = len;
	w->v++;
	return XV_WHY_OK;
}

/* One buffer: R12, then its data. */
static XV_ALWAYS_INLINE enum xv_why xv_walk_buf(struct xv_walk *w,
						uint64_t addr, uint32_t len,
						uint16_t flags, bool ident)
{
	if (xv_unlikely((flags & XV_DESC_F_WRITE) != w->ws)) {
		enum xv_why why = xv_walk_turn(w, flags);

		if (why)
			return why;
	}
	return xv_walk_data(w, addr, len, ident);
}

/* An indirect table (R7, R8, R9, R4/R5 inside split tables), walked on
 * @w, which holds nothing yet: the table is the chain's only descriptor. */
enum xv_why xv_walk_indirect(struct xenvirtio_vq *vq, struct xv_walk *w,
			     uint64_t addr, uint32_t len, bool split_table);
/* Log why a chain is refused; returns the errno the pop reports. */
int xv_walk_fail(struct xenvirtio_vq *vq, enum xv_why why)
	__attribute__((cold));
/* Identity: log the first buffer outside the region; returns -EFAULT. */
int xv_mapper_ident_fault(struct xenvirtio_mapper *m, const struct iovec *iov,
			  unsigned int n) __attribute__((cold));

/*
 * End of a walk: R10, then translation (identity: the quota and the
 * region, checked here; otherwise the mapper), then the elem. Returns 0,
 * -ENOSPC or -EAGAIN (the mapper or the platform: no space, or try again)
 * or the errno of a chain to retire.
 */
static XV_ALWAYS_INLINE int xv_walk_finish(struct xenvirtio_vq *vq,
					   struct xv_walk *w, enum xv_why why,
					   bool ident, uint32_t slot,
					   struct xenvirtio_vq_elem *e)
{
	struct xenvirtio_mapper *m = vq->m;
	unsigned int n = (unsigned int)(w->v - w->iov);
	int r;

	if (xv_unlikely(why))
		return xv_walk_fail(vq, why);
	if (!w->ws) {
		w->nout = n;
		w->out_total = w->total;
	}
	if (xv_unlikely(w->out_total > UINT32_MAX ||
			w->total - w->out_total > UINT32_MAX))
		return xv_walk_fail(vq, XV_WHY_R10);
	if (ident) {
		if (xv_unlikely(m->max_inflight &&
				m->inflight >= m->max_inflight))
			return -ENOSPC;
		if (xv_unlikely(w->bad))
			return xv_mapper_ident_fault(m, w->iov, n);
		m->inflight++;
		m->st.requests++;
	} else {
		r = xv_mapper_map_chain(m, &vq->recs[slot], vq->addrs, w->iov,
					w->nout, n);
		if (r < 0)
			return r;
	}
	e->out_num = w->nout;
	e->in_num = n - w->nout;
	e->out_len = (uint32_t)w->out_total;
	e->in_len = (uint32_t)(w->total - w->out_total);
	e->priv_slot = slot;
	return 0;
}

int xv_vq_break(struct xenvirtio_vq *vq, const char *fmt, ...)
	XV_PRINTF(2, 3);

/* Notify iff new - event - 1 < new - old (u16 arithmetic). */
static inline bool xv_need_event(uint16_t event, uint16_t new_idx,
				 uint16_t old)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old);
}

struct xv_vq_ops {
	int (*enable)(struct xenvirtio_vq *vq,
		      const struct xenvirtio_vq_config *cfg);
	int (*pop)(struct xenvirtio_vq *vq, struct xenvirtio_vq_elem *e);
	/* write the used element */
	void (*push)(struct xenvirtio_vq *vq, uint32_t id, uint32_t ndescs,
		     uint32_t len);
	int (*should_notify)(struct xenvirtio_vq *vq);
	void (*set_notification)(struct xenvirtio_vq *vq, bool enable);
};

extern const struct xv_vq_ops xv_vq_split_ops;
extern const struct xv_vq_ops xv_vq_packed_ops;

/* Retire a chain the device could not serve: used length 0 (R16). */
void xv_vq_retire(struct xenvirtio_vq *vq, uint32_t id, uint32_t ndescs);
/* S3: map the three ring areas (descriptors, driver, device) of @cfg with
 * the layout's @sizes; they stay mapped for the queue's life. */
int xv_vq_map_rings(struct xenvirtio_vq *vq,
		    const struct xenvirtio_vq_config *cfg,
		    const uint64_t sizes[3]);

/* Driver side (lib/vq_driver.c), for tests: the rings' memory and size. */
void *xv_vq_drv_ring(const struct xenvirtio_vq_drv *d, size_t *size);

#endif /* XV_VQ_INTERNAL_H */
