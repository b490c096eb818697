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
	uint32_t frame_cap; /* size of the scratch arrays below */
	uint32_t *refs;
	uint64_t *gfns;
	int16_t *status;
	int *errs;
	struct xv_copy_seg segs[2 * XV_COPY_DESCS + 2];
	struct xenvirtio_mapper_stats st;
};

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
	uint32_t max_size, num;
	struct xv_ring_map ring[3];
	uint8_t *desc;	 /* descriptor table / ring */
	uint8_t *driver; /* split: avail; packed: driver event */
	uint8_t *device; /* split: used; packed: device event */
	uint16_t last_avail; /* split: next avail idx; packed: next position */
	uint16_t used_idx;   /* split: next used idx; packed: next position */
	bool avail_wrap, used_wrap;
	uint16_t signalled_used;
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

/* The shared chain walk: state of one chain being popped. */
struct xv_chain {
	struct xenvirtio_vq *vq;
	struct xenvirtio_vq_elem *e;
	unsigned int n;	 /* buffers recorded */
	unsigned int nout; /* of which readable */
	uint64_t total[2];
	bool seen_write;
	int err;	 /* first request-level error (retire), or 0 */
	unsigned int ndesc; /* ring-level descriptors walked (not indirect) */
	unsigned int cap;   /* min(iov_cap, max_size) */
	uint64_t *addrs;    /* vq->addrs */
};

void xv_chain_init(struct xv_chain *c, struct xenvirtio_vq *vq,
		   struct xenvirtio_vq_elem *e);
void xv_chain_fail(struct xv_chain *c, int err, const char *why)
	__attribute__((cold));
/* An indirect table: R7, R8, R9, and R4/R5 inside split tables. */
void xv_chain_indirect(struct xv_chain *c, const struct xv_desc *d,
		       bool split_table);

/* One buffer: R6, R10, R11, R12. Inline: this is the per-descriptor hot
 * path of every ring format. */
static inline void xv_chain_buf(struct xv_chain *c, const struct xv_desc *d)
{
	bool w = d->flags & XV_DESC_F_WRITE;

	if (xv_unlikely(!w && c->seen_write))
		return xv_chain_fail(c, -EBADMSG,
				     "readable after writable (R12)");
	c->seen_write |= w;
	c->total[w] += d->len;
	if (xv_unlikely(c->total[w] > UINT32_MAX))
		return xv_chain_fail(c, -EBADMSG, "length over 4 GiB (R10)");
	if (xv_unlikely(!d->len))
		return; /* R11: a zero-length buffer takes no entry */
	if (xv_unlikely(c->n >= c->cap))
		return xv_chain_fail(c, -ENOBUFS,
				     "more buffers than iovecs (R6)");
	c->addrs[c->n] = d->addr;
	c->e->iov[c->n].iov_len = d->len;
	c->n++;
	c->nout += !w;
}

/*
 * One descriptor of a ring-level chain (handles indirect). Request-level
 * errors land in c->err; the caller keeps walking only to find the
 * chain's extent.
 */
static inline void xv_chain_desc(struct xv_chain *c, const struct xv_desc *d,
				 bool has_next, bool split_table)
{
	c->ndesc++;
	if (xv_unlikely(c->err))
		return;
	if (xv_unlikely(d->flags & XV_DESC_F_INDIRECT)) {
		if (!c->vq->indirect)
			xv_chain_fail(c, -EBADMSG, "indirect not negotiated");
		else if (c->ndesc != 1 || has_next)
			xv_chain_fail(c, -EBADMSG,
				      "indirect descriptor inside a chain");
		else
			xv_chain_indirect(c, d, split_table);
		return;
	}
	xv_chain_buf(c, d);
}

/* Translate the recorded chain and fill the elem. Returns 0 or -errno. */
int xv_chain_finish(struct xv_chain *c, uint32_t slot);

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
