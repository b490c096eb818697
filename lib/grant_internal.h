/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Frontend grant ref allocator (lib/grant.c) and the per-ref bookkeeping
 * the DMA layer (lib/dma.c) keeps beside it. One allocator per context: a
 * domain has one grant table, shared by all its DMA handles.
 */
#ifndef XV_GRANT_INTERNAL_H
#define XV_GRANT_INTERNAL_H

#include "internal.h"

#include <pthread.h>
#include <sys/uio.h>

/* Grant table frames hold 512 v1 entries; the table grows a frame at a time. */
#define XV_GNTTAB_FRAME_ENTRIES 512u
/* Xen's default: 64 frames. */
#define XV_GNTTAB_DEFAULT_MAX 32768u
/* Largest table the allocator manages (the sim's largest world table). */
#define XV_GNTTAB_LIMIT_MAX (1u << 24)

/* Two-level segregated fit: 16 linear classes per power of two. */
#define XV_GT_SL_LOG2 4
#define XV_GT_SL (1u << XV_GT_SL_LOG2)
#define XV_GT_FL 29

/* What the DMA layer put behind a ref (struct xv_gref_meta.kind). */
enum xv_gref_kind {
	XV_GREF_NONE = 0,
	XV_GREF_INPLACE,  /* map: caller's platform frame */
	XV_GREF_BOUNCE,	  /* map: frame of the handle's bounce pool */
	XV_GREF_SHARED,	  /* map: page the platform shared (refs=kernel) */
	XV_GREF_COHERENT, /* coherent memory, library-written entries */
	XV_GREF_SHARED_COHERENT, /* coherent memory the platform shared */
};

/*
 * Per-ref record of a live DMA grant. Sized for the whole table once, so
 * map/unmap never allocate. @head names the first ref of the mapping; only
 * the head's @total and @nsegs are meaningful.
 */
struct xv_gref_meta {
	const void *owner; /* the struct xenvirtio_dma, NULL if free */
	void *frame;	   /* the granted 4 KiB frame */
	void *user;	   /* bounce/shared: caller byte at @off, or NULL */
	uint32_t head;	   /* first ref of the mapping */
	uint32_t total;	   /* head: bytes mapped; coherent: frames */
	uint32_t index;	   /* frame index inside the mapping */
	uint32_t nsegs;	   /* head: segments returned */
	uint32_t bounce;   /* bounce pool index */
	uint32_t off;	   /* first byte of the buffer inside @frame */
	uint32_t len;	   /* bytes of the buffer inside @frame */
	uint8_t kind;	   /* enum xv_gref_kind */
	uint8_t dir;	   /* enum xenvirtio_dma_dir */
};

/* Recently freed runs of 1..32 refs are kept for reuse, 64 per size. */
#define XV_GT_QUICK_SIZES 32
#define XV_GT_QUICK_DEPTH 64

/* Per-ref allocation state in xv_gnttab.tag. Free and cached are alike:
 * neither may be freed. */
enum xv_gt_tag {
	XV_GT_T_FREE = 0, /* in the free lists or the quick cache */
	XV_GT_T_ONE = 1,  /* live allocation of one ref */
	XV_GT_T_HEAD = 2, /* first ref of a live run of 2 or more */
	XV_GT_T_BODY = 3, /* any later ref of a live run */
};

/* One slot per ref: free-block boundary tags and list links. */
struct xv_gt_slot {
	uint32_t flen; /* free block start: its length; else 0 */
	uint32_t fend; /* free block last ref: block start + 1; else 0 */
	uint32_t next; /* free block start: list links (XV_GT_NIL ends) */
	uint32_t prev;
};

struct xv_gnttab {
	const struct xenvirtio_ctx *ctx;
	pthread_mutex_t lock;
	uint32_t max;	 /* configured maximum (entries) */
	uint32_t limit;	 /* current size: refs < limit exist */
	uint32_t in_use; /* allocated refs */
	uint32_t fl_map;
	uint32_t sl_map[XV_GT_FL];
	uint32_t heads[XV_GT_FL][XV_GT_SL];
	uint32_t quick_depth; /* XV_GT_QUICK_DEPTH; 0 turns the cache off */
	uint32_t quick_total;
	uint32_t quick_n[XV_GT_QUICK_SIZES + 1];
	uint32_t quick[XV_GT_QUICK_SIZES + 1][XV_GT_QUICK_DEPTH];
	/* 2 bits per ref (enum xv_gt_tag), 32 refs per word: which refs
	 * are live and where each live allocation starts and ends */
	uint64_t *tag;
	struct xv_gt_slot *slot;
	struct xv_gref_meta *meta; /* lazily, for lib/dma.c */
};

/* A standalone allocator for a table of @max_entries (9 .. 2^24): 0,
 * -EINVAL, -ENOMEM. @ctx (may be NULL) is only used for debug logs. */
int xv_gnttab_create(const struct xenvirtio_ctx *ctx, uint32_t max_entries,
		     struct xv_gnttab **out);
void xv_gnttab_destroy(struct xv_gnttab *gt);
/* The context's allocator, created on first use with the platform's table
 * size (default 32768); freed by xenvirtio_ctx_close(). */
int xv_gnttab_get(struct xenvirtio_ctx *ctx, struct xv_gnttab **out);
/* @count consecutive refs, first in *@ref: 0; -ENOSPC when no run fits in
 * the maximum table (backpressure); -EINVAL for 0 or more than the table. */
int xv_gnttab_alloc(struct xv_gnttab *gt, uint32_t count, uint32_t *ref);
/* Free exactly one live allocation: 0; -EINVAL otherwise (nothing done). */
int xv_gnttab_free(struct xv_gnttab *gt, uint32_t ref, uint32_t count);
/* Current table size (entries) and refs allocated. Thread-safe. */
uint32_t xv_gnttab_size(struct xv_gnttab *gt);
uint32_t xv_gnttab_in_use(struct xv_gnttab *gt);
/* Allocate the per-ref DMA metadata once: 0 or -ENOMEM. */
int xv_gnttab_meta_init(struct xv_gnttab *gt);

/*
 * lib/dma.c, for the driver side (lib/vq_driver.c): whether the buffers
 * @out[0 .. @out_num) and @in[0 .. @in_num) of one request could ever be
 * mapped together by @dma (bounce pool, grant table size), segment counts
 * aside. 0: yes, so an -ENOSPC is backpressure; -E2BIG: never.
 */
struct xenvirtio_dma;
int xv_dma_request_fits(struct xenvirtio_dma *dma, const struct iovec *out,
			unsigned int out_num, const struct iovec *in,
			unsigned int in_num);

#endif /* XV_GRANT_INTERNAL_H */
