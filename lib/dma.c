/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Frontend DMA: buffers and coherent memory turned into grant DMA
 * addresses (include/xenvirtio/dma.h has the contract).
 *
 * Two platform families. With XV_CAP_GRANT_TABLE the library picks refs
 * from the context's allocator (lib/grant.c) and writes the entries: a
 * mapping is one run of consecutive refs (F4), each frame granted in place
 * when it is a whole platform frame of the buffer, or bounced through a
 * frame of the handle's pool, at the same in-frame offset, when it is not
 * platform memory or only partly the buffer's (F2). With XV_CAP_SHARE_PAGES
 * the platform grants only pages it allocates, with refs of its choice, so
 * every frame is bounced through a freshly shared page and a mapping is one
 * segment per frame.
 *
 * Every live ref has a struct xv_gref_meta in the allocator's table-sized
 * array, so unmap validates what it is given and finds bounce frames and
 * copy-back targets without allocating anything.
 */
#include "internal.h"
#include "platform.h"
#include "grant_internal.h"

#include <stdlib.h>
#include <string.h>

#include <xenvirtio/addr.h>
#include <xenvirtio/dma.h>

/* Largest usable domid (DOMID_FIRST_RESERVED - 1). */
#define XV_DOMID_MAX 0x7fefu

/*
 * No-grant mode bookkeeping. Nothing is granted, so there is no per-ref
 * metadata: each live mapping or coherent allocation has a record, found
 * again at unmap through a hash of its first segment's address; each pool
 * frame in use names its record. All of it is sized at open.
 */
#define XV_NG_RECS 32768u
#define XV_NG_HASH 8192u /* power of 2 */
#define XV_NG_NIL UINT32_MAX
/* Frame numbers whose address keeps bit 63 clear. */
#define XV_NG_GFN_LIMIT (1ULL << (63 - XV_PAGE_SHIFT))

enum { XV_NG_FREE = 0, XV_NG_MAP, XV_NG_COHERENT };

struct xv_ng_rec {
	uint64_t addr0; /* address of the first segment */
	void *va;	/* coherent: the memory */
	uint32_t total; /* map: bytes; coherent: frames */
	uint32_t len0;	/* map: length of the first segment */
	uint32_t nsegs;
	uint32_t bstart; /* first pool frame of the mapping's bounce run */
	uint32_t nbounce;
	uint32_t next; /* hash chain, or free list */
	uint8_t kind;
	uint8_t dir;
};

struct xv_ng_bounce {
	void *user;   /* caller byte at @off */
	uint32_t rec; /* owning record, XV_NG_NIL if free */
	uint16_t off;
	uint16_t len;
};

struct xenvirtio_dma {
	struct xenvirtio_ctx *ctx;
	struct xv_platform *p;
	struct xv_gnttab *gt;
	struct xv_gref_meta *meta;
	uint32_t nmeta;
	uint16_t domid;
	bool share; /* XV_CAP_SHARE_PAGES mode */
	struct xv_broken broken;
	uint8_t *pool; /* bounce frames, contiguous */
	uint64_t *pool_gfn;
	uint32_t *pool_stack; /* free bounce frame indices */
	uint32_t pool_top;
	uint32_t pool_frames;
	/* no-grant mode (XENVIRTIO_DMA_F_NO_GRANTS) */
	bool nogrant;
	uint64_t *pool_bm; /* set bit: pool frame free */
	struct xv_ng_bounce *pool_meta;
	struct xv_ng_rec *rec;
	uint32_t *hash;
	uint32_t rec_free;
	int64_t cnt[XENVIRTIO_DMA_CNT_COUNT];
};

static inline uint64_t dma_addr(uint32_t ref, uint32_t off)
{
	return XENVIRTIO_GRANT_ADDR_FLAG | ((uint64_t)ref << XV_PAGE_SHIFT) |
	       off;
}

static bool dir_ok(enum xenvirtio_dma_dir dir)
{
	return dir == XENVIRTIO_DMA_TO_DEVICE ||
	       dir == XENVIRTIO_DMA_FROM_DEVICE ||
	       dir == XENVIRTIO_DMA_BIDIRECTIONAL;
}

static void dma_free_struct(struct xenvirtio_dma *dma)
{
	free(dma->pool_stack);
	free(dma->pool_gfn);
	free(dma->pool_bm);
	free(dma->pool_meta);
	free(dma->rec);
	free(dma->hash);
	free(dma);
}

/* No-grant mode: records, hash and pool bookkeeping (pool already set). */
static int ng_init(struct xenvirtio_dma *dma)
{
	uint32_t i, words = (dma->pool_frames + 63) / 64;

	dma->pool_bm = calloc(words, sizeof(*dma->pool_bm));
	dma->pool_meta = calloc(dma->pool_frames, sizeof(*dma->pool_meta));
	dma->rec = calloc(XV_NG_RECS, sizeof(*dma->rec));
	dma->hash = malloc(XV_NG_HASH * sizeof(*dma->hash));
	if (!dma->pool_bm || !dma->pool_meta || !dma->rec || !dma->hash)
		return -ENOMEM;
	for (i = 0; i < dma->pool_frames; i++) {
		dma->pool_bm[i / 64] |= 1ULL << (i % 64);
		dma->pool_meta[i].rec = XV_NG_NIL;
	}
	for (i = 0; i < XV_NG_HASH; i++)
		dma->hash[i] = XV_NG_NIL;
	for (i = 0; i < XV_NG_RECS; i++)
		dma->rec[i].next = i + 1 < XV_NG_RECS ? i + 1 : XV_NG_NIL;
	dma->rec_free = 0;
	dma->pool_top = dma->pool_frames; /* free pool frames */
	return 0;
}

XV_EXPORT int xenvirtio_dma_open_ex(struct xenvirtio_ctx *ctx,
				    unsigned int backend_domid,
				    unsigned int flags,
				    unsigned int bounce_frames,
				    struct xenvirtio_dma **out)
{
	struct xv_platform *p = xv_plat(ctx);
	struct xenvirtio_dma *dma;
	bool nogrant = flags & XENVIRTIO_DMA_F_NO_GRANTS;
	uint32_t i;
	int r;

	if (!p || !out || backend_domid > XV_DOMID_MAX ||
	    (flags & ~XENVIRTIO_DMA_F_NO_GRANTS) ||
	    bounce_frames > XENVIRTIO_DMA_BOUNCE_MAX)
		return -EINVAL;
	if (nogrant ? !p->ops->frames_alloc || !p->ops->frame_lookup
		    : !(p->caps & (XV_CAP_GRANT_TABLE | XV_CAP_SHARE_PAGES)))
		return -EOPNOTSUPP;
	dma = calloc(1, sizeof(*dma));
	if (!dma)
		return -ENOMEM;
	dma->ctx = ctx;
	dma->p = p;
	dma->domid = (uint16_t)backend_domid;
	dma->nogrant = nogrant;
	dma->share = !nogrant && !(p->caps & XV_CAP_GRANT_TABLE);
	if (!nogrant) {
		r = xv_gnttab_get(ctx, &dma->gt);
		if (r < 0)
			goto err_free;
		r = xv_gnttab_meta_init(dma->gt);
		if (r < 0)
			goto err_free;
		dma->meta = dma->gt->meta;
		dma->nmeta = dma->gt->max;
	}
	if (dma->share) {
		*out = dma;
		return 0;
	}

	dma->pool_frames =
	    bounce_frames ? bounce_frames : XENVIRTIO_DMA_BOUNCE_DEFAULT;
	dma->pool_gfn = calloc(dma->pool_frames, sizeof(*dma->pool_gfn));
	dma->pool_stack = calloc(dma->pool_frames, sizeof(*dma->pool_stack));
	if (!dma->pool_gfn || !dma->pool_stack) {
		r = -ENOMEM;
		goto err_free;
	}
	r = XV_PLAT_CALL(p, frames_alloc, dma->pool_frames,
			 (void **)&dma->pool);
	if (r < 0) {
		/* "refs=kernel" sim: no frames of our own to bounce through */
		if (r != -EOPNOTSUPP)
			xv_err(ctx, "dma: cannot allocate %u bounce frames: %s",
			       dma->pool_frames, xenvirtio_strerror(r));
		goto err_free;
	}
	for (i = 0; i < dma->pool_frames; i++) {
		r = XV_PLAT_CALL(p, frame_lookup,
				 dma->pool + (size_t)i * XV_PAGE_SIZE,
				 &dma->pool_gfn[i]);
		if (r < 0) {
			xv_err(ctx,
			       "dma: bounce frame %u has no frame "
			       "number: %s",
			       i, xenvirtio_strerror(r));
			goto err_pool;
		}
		/* no-grant: one run of pool frames is one segment */
		if (nogrant && (dma->pool_gfn[i] != dma->pool_gfn[0] + i ||
				dma->pool_gfn[i] >= XV_NG_GFN_LIMIT)) {
			xv_dbg(ctx, "dma: bounce frames not consecutive");
			r = -EOPNOTSUPP;
			goto err_pool;
		}
		/* lowest index on top: pool frames are used in order */
		dma->pool_stack[i] = dma->pool_frames - 1 - i;
	}
	dma->pool_top = dma->pool_frames;
	if (nogrant) {
		r = ng_init(dma);
		if (r < 0)
			goto err_pool;
	}
	*out = dma;
	return 0;

err_pool:
	XV_PLAT_CALL(p, frames_free, dma->pool, dma->pool_frames);
err_free:
	dma_free_struct(dma);
	return r;
}

XV_EXPORT int xenvirtio_dma_open(struct xenvirtio_ctx *ctx,
				 unsigned int backend_domid,
				 struct xenvirtio_dma **out)
{
	return xenvirtio_dma_open_ex(ctx, backend_domid, 0, 0, out);
}

XV_EXPORT int xenvirtio_dma_broken(const struct xenvirtio_dma *dma)
{
	return dma ? xv_broken_check(&dma->broken) : -EINVAL;
}

XV_EXPORT int64_t xenvirtio_dma_counter(const struct xenvirtio_dma *dma,
					enum xenvirtio_dma_counter which)
{
	if (!dma || (unsigned int)which >= XENVIRTIO_DMA_CNT_COUNT)
		return -EINVAL;
	if (which == XENVIRTIO_DMA_CNT_BOUNCE_FREE)
		return dma->pool_top;
	return dma->cnt[which];
}

static void meta_clear(struct xv_gref_meta *m)
{
	memset(m, 0, sizeof(*m));
}

/*
 * Revoke one library-written grant. A backend still mapping it (or any
 * failure to prove the revocation) leaks the frame: the ref is never
 * reused, a bounce frame never returns to the pool (F3).
 */
static bool end_access(struct xenvirtio_dma *dma, uint32_t ref)
{
	int r = XV_PLAT_CALL(dma->p, end_access, ref);

	if (r == 0)
		return true;
	dma->cnt[XENVIRTIO_DMA_CNT_LEAKED_FRAMES]++;
	xv_break(dma->ctx, &dma->broken, "dma",
		 "domain %u still maps ref %u at revoke (%d): leaked",
		 dma->domid, ref, r);
	return false;
}

/*
 * Release a run of @n library-written refs from @ref: revoke each, copy
 * bounced data back when @copy_back, return bounce frames. Returns true if
 * all were revoked (the refs then go back to the allocator).
 */
static bool release_run(struct xenvirtio_dma *dma, uint32_t ref, uint32_t n,
			bool copy_back)
{
	bool all = true;
	uint32_t i;

	for (i = 0; i < n; i++) {
		struct xv_gref_meta *m = &dma->meta[ref + i];

		if (!end_access(dma, ref + i)) {
			all = false;
			meta_clear(m);
			continue;
		}
		if (m->kind == XV_GREF_BOUNCE) {
			if (copy_back)
				memcpy(m->user, (uint8_t *)m->frame + m->off,
				       m->len);
			dma->pool_stack[dma->pool_top++] = m->bounce;
		}
		meta_clear(m);
	}
	if (all)
		xv_gnttab_free(dma->gt, ref, n);
	return all;
}

/* Frames of a buffer that must be bounced: partial or not grantable. */
static uint32_t bounce_needed(struct xenvirtio_dma *dma, const uint8_t *base,
			      uint32_t off, uint32_t len, uint32_t n)
{
	uint32_t i, need = 0;
	uint64_t gfn;

	for (i = 0; i < n; i++) {
		bool whole = (i || !off) &&
			     (i + 1 < n || ((off + len) & XV_PAGE_MASK) == 0);

		if (!whole ||
		    XV_PLAT_CALL(dma->p, frame_lookup,
				 base + (size_t)i * XV_PAGE_SIZE, &gfn) < 0)
			need++;
	}
	return need;
}

/*
 * End the grants of the first @granted of @n coherent frames at @ref and
 * clear their metadata; free the refs and frames only if every grant
 * ended: a frame the backend still maps keeps the whole allocation alive
 * (F3). Whether all ended.
 */
static bool revoke_coherent(struct xenvirtio_dma *dma, uint32_t ref,
			    uint32_t granted, uint32_t n, void *mem)
{
	bool all = true;
	uint32_t i;

	for (i = 0; i < granted; i++) {
		if (!end_access(dma, ref + i))
			all = false;
		meta_clear(&dma->meta[ref + i]);
	}
	if (all) {
		xv_gnttab_free(dma->gt, ref, n);
		XV_PLAT_CALL(dma->p, frames_free, mem, n);
	}
	return all;
}

static int map_table(struct xenvirtio_dma *dma, const uint8_t *buf,
		     uint32_t len, enum xenvirtio_dma_dir dir,
		     struct xenvirtio_dma_seg *segs)
{
	uint32_t off = (uintptr_t)buf & XV_PAGE_MASK;
	uint32_t n =
	    (uint32_t)(((uint64_t)off + len + XV_PAGE_MASK) >> XV_PAGE_SHIFT);
	const uint8_t *base = buf - off;
	bool ro = dir == XENVIRTIO_DMA_TO_DEVICE;
	uint32_t ref, i, inplace = 0;
	int r;

	/* A mapping that can never fit is not backpressure: -E2BIG, so a
	 * caller that retries on -ENOSPC cannot spin forever. */
	if (n > dma->nmeta - XV_GNTTAB_RESERVED)
		return -E2BIG;
	if (n > dma->pool_frames &&
	    bounce_needed(dma, base, off, len, n) > dma->pool_frames)
		return -E2BIG;
	r = xv_gnttab_alloc(dma->gt, n, &ref);
	if (r < 0) {
		if (r == -ENOSPC)
			dma->cnt[XENVIRTIO_DMA_CNT_ENOSPC]++;
		return r;
	}
	for (i = 0; i < n; i++) {
		struct xv_gref_meta *m = &dma->meta[ref + i];
		const uint8_t *fva = base + (size_t)i * XV_PAGE_SIZE;
		uint32_t lo = i ? 0 : off;
		uint32_t hi = i + 1 < n ? XV_PAGE_SIZE
					: ((off + len - 1) & XV_PAGE_MASK) + 1;
		uint64_t gfn;

		m->owner = dma;
		m->head = ref;
		m->index = i;
		m->off = lo;
		m->len = hi - lo;
		m->dir = (uint8_t)dir;
		if (lo == 0 && hi == XV_PAGE_SIZE &&
		    XV_PLAT_CALL(dma->p, frame_lookup, fva, &gfn) == 0) {
			m->kind = XV_GREF_INPLACE;
			m->frame = (void *)(uintptr_t)fva;
			inplace++;
		} else {
			uint8_t *bf;

			if (!dma->pool_top) {
				meta_clear(m);
				dma->cnt[XENVIRTIO_DMA_CNT_ENOSPC]++;
				r = -ENOSPC;
				goto err_undo;
			}
			m->bounce = dma->pool_stack[--dma->pool_top];
			bf = dma->pool + (size_t)m->bounce * XV_PAGE_SIZE;
			gfn = dma->pool_gfn[m->bounce];
			/* F1/F5: nothing but the buffer, zeroes around it */
			if (dir & XENVIRTIO_DMA_TO_DEVICE) {
				memset(bf, 0, lo);
				memcpy(bf + lo, fva + lo, hi - lo);
				memset(bf + hi, 0, XV_PAGE_SIZE - hi);
			} else {
				memset(bf, 0, XV_PAGE_SIZE);
			}
			m->kind = XV_GREF_BOUNCE;
			m->frame = bf;
			m->user = (void *)(uintptr_t)(fva + lo);
		}
		r = XV_PLAT_CALL(dma->p, grant_access, ref + i, dma->domid, gfn,
				 ro);
		if (r < 0) {
			if (m->kind == XV_GREF_BOUNCE)
				dma->pool_stack[dma->pool_top++] = m->bounce;
			meta_clear(m);
			goto err_undo;
		}
	}
	dma->meta[ref].total = len;
	dma->meta[ref].nsegs = 1;
	dma->cnt[XENVIRTIO_DMA_CNT_MAPS]++;
	dma->cnt[XENVIRTIO_DMA_CNT_INPLACE_FRAMES] += inplace;
	dma->cnt[XENVIRTIO_DMA_CNT_BOUNCE_FRAMES] += n - inplace;
	segs[0].addr = dma_addr(ref, off);
	segs[0].len = len;
	return 1;

err_undo:
	/* frames 0..i-1 are granted: revoke them like an unmap */
	{
		bool all = true;
		uint32_t j;

		for (j = 0; j < i; j++) {
			struct xv_gref_meta *m = &dma->meta[ref + j];

			if (!end_access(dma, ref + j))
				all = false;
			else if (m->kind == XV_GREF_BOUNCE)
				dma->pool_stack[dma->pool_top++] = m->bounce;
			meta_clear(m);
		}
		if (all)
			xv_gnttab_free(dma->gt, ref, n);
	}
	return r;
}

/* Unshare one platform-shared page; busy leaves it leaked (F3). */
static bool dma_unshare(struct xenvirtio_dma *dma, uint32_t ref, void *va,
			uint32_t count)
{
	int r = XV_PLAT_CALL(dma->p, unshare_pages, va, count);

	if (r == 0)
		return true;
	dma->cnt[XENVIRTIO_DMA_CNT_LEAKED_FRAMES] += count;
	xv_break(dma->ctx, &dma->broken, "dma",
		 "domain %u still maps shared ref %u at unshare (%d): "
		 "leaked",
		 dma->domid, ref, r);
	return false;
}

static int map_share(struct xenvirtio_dma *dma, const uint8_t *buf,
		     uint32_t len, enum xenvirtio_dma_dir dir,
		     struct xenvirtio_dma_seg *segs, unsigned int max_segs)
{
	uint32_t off = (uintptr_t)buf & XV_PAGE_MASK;
	uint64_t n64 = ((uint64_t)off + len + XV_PAGE_MASK) >> XV_PAGE_SHIFT;
	const uint8_t *base = buf - off;
	uint32_t n = (uint32_t)n64, i, j, head = 0;
	int r;

	if (n64 > max_segs)
		return -E2BIG;
	for (i = 0; i < n; i++) {
		const uint8_t *fva = base + (size_t)i * XV_PAGE_SIZE;
		uint32_t lo = i ? 0 : off;
		uint32_t hi = i + 1 < n ? XV_PAGE_SIZE
					: ((off + len - 1) & XV_PAGE_MASK) + 1;
		struct xv_gref_meta *m;
		uint32_t ref;
		void *va;

		r = XV_PLAT_CALL(dma->p, share_pages, dma->domid, 1,
				 dir != XENVIRTIO_DMA_TO_DEVICE, &ref, &va);
		if (r == -ENOMEM || r == -ENOSPC) {
			/* out of pages or refs: backpressure (F7) */
			dma->cnt[XENVIRTIO_DMA_CNT_ENOSPC]++;
			r = -ENOSPC;
		}
		if (r < 0)
			goto err_undo;
		if (ref >= dma->nmeta || dma->meta[ref].owner) {
			xv_err(dma->ctx,
			       "dma: platform shared a page with "
			       "ref %u, out of range or in use",
			       ref);
			dma_unshare(dma, ref, va, 1);
			r = -EIO;
			goto err_undo;
		}
		if (!i)
			head = ref;
		m = &dma->meta[ref];
		m->owner = dma;
		m->kind = XV_GREF_SHARED;
		m->frame = va;
		m->user = (void *)(uintptr_t)(fva + lo);
		m->head = head;
		m->index = i;
		m->off = lo;
		m->len = hi - lo;
		m->dir = (uint8_t)dir;
		/* the platform's pages are fresh and zeroed (F1) */
		if (dir & XENVIRTIO_DMA_TO_DEVICE)
			memcpy((uint8_t *)va + lo, fva + lo, hi - lo);
		segs[i].addr = dma_addr(ref, lo);
		segs[i].len = hi - lo;
	}
	dma->meta[head].total = len;
	dma->meta[head].nsegs = n;
	dma->cnt[XENVIRTIO_DMA_CNT_MAPS]++;
	dma->cnt[XENVIRTIO_DMA_CNT_BOUNCE_FRAMES] += n;
	return (int)n;

err_undo:
	for (j = 0; j < i; j++) {
		uint32_t ref =
		    (uint32_t)((segs[j].addr & ~XENVIRTIO_GRANT_ADDR_FLAG) >>
			       XV_PAGE_SHIFT);
		struct xv_gref_meta *m = &dma->meta[ref];

		dma_unshare(dma, ref, m->frame, 1);
		meta_clear(m);
	}
	return r;
}

/* ---- no-grant mode: guest-physical addresses ---- */

static uint32_t ng_hash(uint64_t addr)
{
	return (uint32_t)((addr * 0x9e3779b97f4a7c15ULL) >> 51) &
	       (XV_NG_HASH - 1);
}

static uint32_t ng_rec_take(struct xenvirtio_dma *dma)
{
	uint32_t i = dma->rec_free;

	if (i != XV_NG_NIL)
		dma->rec_free = dma->rec[i].next;
	return i;
}

static void ng_rec_put(struct xenvirtio_dma *dma, uint32_t i)
{
	memset(&dma->rec[i], 0, sizeof(dma->rec[i]));
	dma->rec[i].next = dma->rec_free;
	dma->rec_free = i;
}

static void ng_hash_add(struct xenvirtio_dma *dma, uint32_t i)
{
	uint32_t h = ng_hash(dma->rec[i].addr0);

	dma->rec[i].next = dma->hash[h];
	dma->hash[h] = i;
}

static void ng_hash_del(struct xenvirtio_dma *dma, uint32_t i)
{
	uint32_t *link = &dma->hash[ng_hash(dma->rec[i].addr0)];

	while (*link != XV_NG_NIL && *link != i)
		link = &dma->rec[*link].next;
	if (*link == i)
		*link = dma->rec[i].next;
}

/* First run of @k free pool frames, or XV_NG_NIL. */
static uint32_t ng_pool_find(struct xenvirtio_dma *dma, uint32_t k)
{
	uint32_t i = 0, run = 0, start = 0;

	while (i < dma->pool_frames) {
		uint64_t w = dma->pool_bm[i / 64];

		if (!(i % 64) && !w) {
			run = 0;
			i += 64;
			continue;
		}
		if (w >> (i % 64) & 1) {
			if (!run++)
				start = i;
			if (run == k)
				return start;
		} else {
			run = 0;
		}
		i++;
	}
	return XV_NG_NIL;
}

static void ng_pool_mark(struct xenvirtio_dma *dma, uint32_t start, uint32_t k,
			 bool free_)
{
	uint32_t i;

	for (i = start; i < start + k; i++) {
		if (free_) {
			dma->pool_bm[i / 64] |= 1ULL << (i % 64);
			dma->pool_meta[i].rec = XV_NG_NIL;
			dma->pool_meta[i].user = NULL;
		} else {
			dma->pool_bm[i / 64] &= ~(1ULL << (i % 64));
		}
	}
	if (free_)
		dma->pool_top += k;
	else
		dma->pool_top -= k;
}

/* Whether frame @i of a buffer is addressed in place; its gfn in *@gfn. */
static bool ng_inplace(struct xenvirtio_dma *dma, const uint8_t *base,
		       uint32_t off, uint32_t len, uint32_t n, uint32_t i,
		       uint64_t *gfn)
{
	bool whole =
	    (i || !off) && (i + 1 < n || ((off + len) & XV_PAGE_MASK) == 0);

	return whole &&
	       XV_PLAT_CALL(dma->p, frame_lookup,
			    base + (size_t)i * XV_PAGE_SIZE, gfn) == 0 &&
	       *gfn < XV_NG_GFN_LIMIT;
}

static int map_nogrant(struct xenvirtio_dma *dma, const uint8_t *buf,
		       uint32_t len, enum xenvirtio_dma_dir dir,
		       struct xenvirtio_dma_seg *segs, unsigned int max_segs)
{
	uint32_t off = (uintptr_t)buf & XV_PAGE_MASK;
	uint32_t n =
	    (uint32_t)(((uint64_t)off + len + XV_PAGE_MASK) >> XV_PAGE_SHIFT);
	const uint8_t *base = buf - off;
	uint32_t i, k = 0, worst = 0, ri, bstart = 0, b = 0, ns = 0;
	uint64_t gfn = 0, prev = 0;
	bool prev_in = false;
	struct xv_ng_rec *rec;

	/*
	 * Pass 1: bounced frames and the most segments this buffer can
	 * take. Bounced frames get one run of consecutive pool frames, so
	 * only a switch between bounced and in-place frames or a gap in the
	 * in-place frame numbers starts a segment for sure.
	 */
	for (i = 0; i < n; i++) {
		bool in = ng_inplace(dma, base, off, len, n, i, &gfn);

		if (!in)
			k++;
		if (!i || in != prev_in || (in && gfn != prev + 1))
			worst++;
		prev_in = in;
		prev = gfn;
	}
	if (worst > max_segs || k > dma->pool_frames)
		return -E2BIG;
	ri = ng_rec_take(dma);
	if (ri == XV_NG_NIL) {
		dma->cnt[XENVIRTIO_DMA_CNT_ENOSPC]++;
		return -ENOSPC;
	}
	if (k) {
		bstart = ng_pool_find(dma, k);
		if (bstart == XV_NG_NIL) {
			ng_rec_put(dma, ri);
			dma->cnt[XENVIRTIO_DMA_CNT_ENOSPC]++;
			return -ENOSPC;
		}
		ng_pool_mark(dma, bstart, k, false);
	}

	/* Pass 2: addresses, bounce copies, segments. */
	for (i = 0; i < n; i++) {
		const uint8_t *fva = base + (size_t)i * XV_PAGE_SIZE;
		uint32_t lo = i ? 0 : off;
		uint32_t hi = i + 1 < n ? XV_PAGE_SIZE
					: ((off + len - 1) & XV_PAGE_MASK) + 1;

		if (!ng_inplace(dma, base, off, len, n, i, &gfn)) {
			struct xv_ng_bounce *bm;
			uint32_t pf = bstart + b++;
			uint8_t *bf = dma->pool + (size_t)pf * XV_PAGE_SIZE;

			if (b > k) {
				/* the platform changed its mind about a
				 * frame between the passes */
				ng_pool_mark(dma, bstart, k, true);
				ng_rec_put(dma, ri);
				return -EFAULT;
			}
			/* F1/F5: nothing but the buffer, zeroes around it */
			if (dir & XENVIRTIO_DMA_TO_DEVICE) {
				memset(bf, 0, lo);
				memcpy(bf + lo, fva + lo, hi - lo);
				memset(bf + hi, 0, XV_PAGE_SIZE - hi);
			} else {
				memset(bf, 0, XV_PAGE_SIZE);
			}
			bm = &dma->pool_meta[pf];
			bm->rec = ri;
			bm->user = (void *)(uintptr_t)(fva + lo);
			bm->off = (uint16_t)lo;
			bm->len = (uint16_t)(hi - lo);
			gfn = dma->pool_gfn[pf];
		}
		if (ns && gfn == prev + 1) {
			segs[ns - 1].len += hi - lo;
		} else {
			if (ns == max_segs) {
				ng_pool_mark(dma, bstart, k, true);
				ng_rec_put(dma, ri);
				return -EFAULT;
			}
			segs[ns].addr = (gfn << XV_PAGE_SHIFT) | lo;
			segs[ns].len = hi - lo;
			ns++;
		}
		prev = gfn;
	}
	if (b != k) {
		/* fewer bounced frames than pass 1 counted: the platform
		 * changed its mind the other way (see above) */
		ng_pool_mark(dma, bstart, k, true);
		ng_rec_put(dma, ri);
		return -EFAULT;
	}
	rec = &dma->rec[ri];
	rec->kind = XV_NG_MAP;
	rec->dir = (uint8_t)dir;
	rec->addr0 = segs[0].addr;
	rec->len0 = segs[0].len;
	rec->total = len;
	rec->nsegs = ns;
	rec->bstart = bstart;
	rec->nbounce = k;
	ng_hash_add(dma, ri);
	dma->cnt[XENVIRTIO_DMA_CNT_MAPS]++;
	dma->cnt[XENVIRTIO_DMA_CNT_INPLACE_FRAMES] += n - k;
	dma->cnt[XENVIRTIO_DMA_CNT_BOUNCE_FRAMES] += k;
	return (int)ns;
}

/* Pool frame index of @gfn, or XV_NG_NIL for a frame outside the pool. */
static uint32_t ng_pool_index(const struct xenvirtio_dma *dma, uint64_t gfn)
{
	return gfn >= dma->pool_gfn[0] &&
		       gfn - dma->pool_gfn[0] < dma->pool_frames
		   ? (uint32_t)(gfn - dma->pool_gfn[0])
		   : XV_NG_NIL;
}

/* Whether @segs are exactly what record @ri's mapping returned. */
static bool ng_match(const struct xenvirtio_dma *dma, uint32_t ri,
		     const struct xenvirtio_dma_seg *segs, unsigned int nsegs,
		     enum xenvirtio_dma_dir dir)
{
	const struct xv_ng_rec *rec = &dma->rec[ri];
	uint64_t total = 0;
	uint32_t bounced = 0, s;

	if (rec->kind != XV_NG_MAP || rec->dir != dir || rec->nsegs != nsegs ||
	    rec->len0 != segs[0].len)
		return false;
	for (s = 0; s < nsegs; s++) {
		uint64_t g, first, last;

		if (!segs[s].len || segs[s].addr & XENVIRTIO_GRANT_ADDR_FLAG)
			return false;
		first = segs[s].addr >> XV_PAGE_SHIFT;
		last = (segs[s].addr + segs[s].len - 1) >> XV_PAGE_SHIFT;
		total += segs[s].len;
		if (total > rec->total)
			return false;
		for (g = first; g <= last; g++) {
			uint32_t pf = ng_pool_index(dma, g);

			if (pf == XV_NG_NIL)
				continue;
			if (dma->pool_meta[pf].rec != ri)
				return false;
			bounced++;
		}
	}
	return total == rec->total && bounced == rec->nbounce;
}

static int unmap_nogrant(struct xenvirtio_dma *dma,
			 const struct xenvirtio_dma_seg *segs,
			 unsigned int nsegs, enum xenvirtio_dma_dir dir)
{
	uint32_t ri = dma->hash[ng_hash(segs[0].addr)], i;
	struct xv_ng_rec *rec;

	for (; ri != XV_NG_NIL; ri = dma->rec[ri].next)
		if (dma->rec[ri].addr0 == segs[0].addr &&
		    ng_match(dma, ri, segs, nsegs, dir))
			break;
	if (ri == XV_NG_NIL)
		return -EINVAL;
	rec = &dma->rec[ri];
	/* nothing to revoke: the backend could map these frames anyway */
	for (i = rec->bstart; i < rec->bstart + rec->nbounce; i++) {
		struct xv_ng_bounce *bm = &dma->pool_meta[i];

		if (dir & XENVIRTIO_DMA_FROM_DEVICE)
			memcpy(bm->user,
			       dma->pool + (size_t)i * XV_PAGE_SIZE + bm->off,
			       bm->len);
	}
	if (rec->nbounce)
		ng_pool_mark(dma, rec->bstart, rec->nbounce, true);
	ng_hash_del(dma, ri);
	ng_rec_put(dma, ri);
	dma->cnt[XENVIRTIO_DMA_CNT_UNMAPS]++;
	return 0;
}

/* Frames for coherent memory; no memory left is backpressure (F7). */
static int coherent_frames(struct xenvirtio_dma *dma, uint32_t n, uint8_t **mem)
{
	int r = XV_PLAT_CALL(dma->p, frames_alloc, n, (void **)mem);

	if (r == -ENOMEM || r == -ENOSPC) {
		dma->cnt[XENVIRTIO_DMA_CNT_ENOSPC]++;
		r = -ENOSPC;
	}
	return r;
}

static int alloc_coherent_nogrant(struct xenvirtio_dma *dma, uint32_t n,
				  void **va, uint64_t *dma_addr_out)
{
	uint64_t gfn0 = 0, gfn;
	uint32_t ri, i;
	uint8_t *mem;
	int r;

	ri = ng_rec_take(dma);
	if (ri == XV_NG_NIL) {
		dma->cnt[XENVIRTIO_DMA_CNT_ENOSPC]++;
		return -ENOSPC;
	}
	r = coherent_frames(dma, n, &mem);
	if (r < 0)
		goto err_rec;
	for (i = 0; i < n; i++) {
		r = XV_PLAT_CALL(dma->p, frame_lookup,
				 mem + (size_t)i * XV_PAGE_SIZE, &gfn);
		if (r < 0)
			goto err_mem;
		if (!i)
			gfn0 = gfn;
		/* one address, gfn0 << 12, must reach every byte */
		if (gfn != gfn0 + i || gfn >= XV_NG_GFN_LIMIT) {
			xv_dbg(dma->ctx,
			       "dma: frame numbers not consecutive for a "
			       "%u-frame coherent area",
			       n);
			r = -EOPNOTSUPP;
			goto err_mem;
		}
	}
	dma->rec[ri].kind = XV_NG_COHERENT;
	dma->rec[ri].addr0 = gfn0 << XV_PAGE_SHIFT;
	dma->rec[ri].va = mem;
	dma->rec[ri].total = n;
	ng_hash_add(dma, ri);
	*va = mem;
	*dma_addr_out = gfn0 << XV_PAGE_SHIFT;
	return 0;

err_mem:
	XV_PLAT_CALL(dma->p, frames_free, mem, n);
err_rec:
	ng_rec_put(dma, ri);
	return r;
}

/* Free a coherent record's memory; a refusal leaks it (handle broken). */
static bool ng_free_coherent(struct xenvirtio_dma *dma, uint32_t ri)
{
	struct xv_ng_rec *rec = &dma->rec[ri];
	int r = XV_PLAT_CALL(dma->p, frames_free, rec->va, rec->total);
	bool ok = r == 0;

	if (!ok) {
		dma->cnt[XENVIRTIO_DMA_CNT_LEAKED_FRAMES] += rec->total;
		xv_break(dma->ctx, &dma->broken, "dma",
			 "coherent memory at 0x%llx not freed (%d): leaked",
			 (unsigned long long)rec->addr0, r);
	}
	ng_hash_del(dma, ri);
	ng_rec_put(dma, ri);
	return ok;
}

static int free_coherent_nogrant(struct xenvirtio_dma *dma, void *va,
				 size_t size, uint64_t addr)
{
	uint32_t ri = dma->hash[ng_hash(addr)];
	uint64_t n = (size + XV_PAGE_MASK) >> XV_PAGE_SHIFT;

	for (; ri != XV_NG_NIL; ri = dma->rec[ri].next) {
		const struct xv_ng_rec *rec = &dma->rec[ri];

		if (rec->kind == XV_NG_COHERENT && rec->addr0 == addr &&
		    rec->va == va && rec->total == n)
			return ng_free_coherent(dma, ri) ? 0 : -EIO;
	}
	return -EINVAL;
}

/* Close: give back what the caller left; nothing is copied back. */
static uint32_t close_nogrant(struct xenvirtio_dma *dma)
{
	uint32_t ri, live = 0;

	for (ri = 0; ri < XV_NG_RECS; ri++) {
		struct xv_ng_rec *rec = &dma->rec[ri];

		if (rec->kind == XV_NG_FREE)
			continue;
		live++;
		if (rec->kind == XV_NG_COHERENT) {
			ng_free_coherent(dma, ri);
			continue;
		}
		if (rec->nbounce)
			ng_pool_mark(dma, rec->bstart, rec->nbounce, true);
		ng_hash_del(dma, ri);
		ng_rec_put(dma, ri);
	}
	return live;
}

/*
 * Whether the buffers @out[0 .. @out_num) and @in[0 .. @in_num) of one
 * request could ever be mapped at the same time by @dma, leaving segment
 * counts aside: together they must not need more
 * bounce frames than the pool holds (nor, on grant-table platforms, more
 * refs than the table has). 0 if they could (an -ENOSPC is then
 * backpressure), -E2BIG if never. For callers that map several buffers of
 * one request (the driver side) and must tell the two apart; not a hot
 * path. Platforms that pick refs bounce through pages shared per mapping
 * and have no pool: always 0.
 */
int xv_dma_request_fits(struct xenvirtio_dma *dma, const struct iovec *out,
			unsigned int out_num, const struct iovec *in,
			unsigned int in_num)
{
	uint64_t frames = 0, bounce = 0;
	unsigned int b;

	if (dma->share)
		return 0;
	for (b = 0; b < out_num + in_num; b++) {
		const struct iovec *v = b < out_num ? &out[b] : &in[b - out_num];
		const uint8_t *buf = v->iov_base;
		uint32_t off = (uintptr_t)buf & XV_PAGE_MASK;
		uint32_t len = (uint32_t)v->iov_len;
		uint32_t nf = (uint32_t)(((uint64_t)off + len + XV_PAGE_MASK) >>
					 XV_PAGE_SHIFT);
		uint32_t i;
		uint64_t gfn;

		frames += nf;
		if (!dma->nogrant) {
			bounce += bounce_needed(dma, buf - off, off, len, nf);
			continue;
		}
		for (i = 0; i < nf; i++)
			bounce += !ng_inplace(dma, buf - off, off, len, nf, i,
					      &gfn);
	}
	if (bounce > dma->pool_frames)
		return -E2BIG;
	if (!dma->nogrant && frames > dma->nmeta - XV_GNTTAB_RESERVED)
		return -E2BIG;
	return 0;
}

XV_EXPORT int xenvirtio_dma_map(struct xenvirtio_dma *dma, const void *buf,
				size_t len, enum xenvirtio_dma_dir dir,
				struct xenvirtio_dma_seg *segs,
				unsigned int max_segs)
{
	if (!dma || !buf || !len || len > UINT32_MAX || !dir_ok(dir) || !segs ||
	    !max_segs)
		return -EINVAL;
	/* the buffer must not wrap the address space */
	if ((uintptr_t)buf + len - 1 < (uintptr_t)buf)
		return -EINVAL;
	if (xv_broken_check(&dma->broken))
		return -EIO;
	if (dma->nogrant)
		return map_nogrant(dma, buf, (uint32_t)len, dir, segs,
				   max_segs);
	if (dma->share)
		return map_share(dma, buf, (uint32_t)len, dir, segs, max_segs);
	return map_table(dma, buf, (uint32_t)len, dir, segs);
}

/* Decode a segment's address into a ref with live metadata of @dma. */
static struct xv_gref_meta *seg_meta(struct xenvirtio_dma *dma,
				     const struct xenvirtio_dma_seg *seg,
				     uint32_t *ref, uint32_t *off)
{
	struct xv_gref_meta *m;

	if (xenvirtio_grant_addr_decode(seg->addr, ref, off) < 0 ||
	    *ref >= dma->nmeta)
		return NULL;
	m = &dma->meta[*ref];
	return m->owner == dma ? m : NULL;
}

XV_EXPORT int xenvirtio_dma_unmap(struct xenvirtio_dma *dma,
				  const struct xenvirtio_dma_seg *segs,
				  unsigned int nsegs,
				  enum xenvirtio_dma_dir dir)
{
	struct xv_gref_meta *m;
	uint32_t ref, off, i, head;
	bool copy_back = dir & XENVIRTIO_DMA_FROM_DEVICE;
	bool all = true;

	if (!dma || !segs || !nsegs || !dir_ok(dir))
		return -EINVAL;
	if (dma->nogrant)
		return unmap_nogrant(dma, segs, nsegs, dir);
	m = seg_meta(dma, &segs[0], &ref, &off);
	if (!m || m->head != ref || m->index || m->nsegs != nsegs ||
	    m->dir != dir || m->off != off)
		return -EINVAL;
	head = ref;

	if (!dma->share) {
		if (m->total != segs[0].len ||
		    (m->kind != XV_GREF_INPLACE && m->kind != XV_GREF_BOUNCE))
			return -EINVAL;
		if (!release_run(dma, ref,
				 (uint32_t)(((uint64_t)off + segs[0].len +
					     XV_PAGE_MASK) >>
					    XV_PAGE_SHIFT),
				 copy_back))
			return -EIO;
		dma->cnt[XENVIRTIO_DMA_CNT_UNMAPS]++;
		return 0;
	}

	/* validate every segment before releasing anything */
	for (i = 0; i < nsegs; i++) {
		m = seg_meta(dma, &segs[i], &ref, &off);
		if (!m || m->kind != XV_GREF_SHARED || m->head != head ||
		    m->index != i || m->off != off || m->len != segs[i].len)
			return -EINVAL;
	}
	for (i = 0; i < nsegs; i++) {
		m = seg_meta(dma, &segs[i], &ref, &off);
		/*
		 * The page disappears with the unshare, so copy back first;
		 * a backend that still maps it fails the unshare and the
		 * call reports -EIO.
		 */
		if (copy_back)
			memcpy(m->user, (uint8_t *)m->frame + m->off, m->len);
		if (!dma_unshare(dma, ref, m->frame, 1))
			all = false;
		meta_clear(m);
	}
	if (!all)
		return -EIO;
	dma->cnt[XENVIRTIO_DMA_CNT_UNMAPS]++;
	return 0;
}

XV_EXPORT int xenvirtio_dma_alloc_coherent(struct xenvirtio_dma *dma,
					   size_t size, void **va,
					   uint64_t *dma_addr_out)
{
	uint32_t n, ref, i;
	uint8_t *mem;
	int r;

	if (!dma || !va || !dma_addr_out || !size ||
	    size > SIZE_MAX - XV_PAGE_MASK ||
	    (uint64_t)((size + XV_PAGE_MASK) >> XV_PAGE_SHIFT) >
		(dma->nogrant ? UINT32_MAX : dma->nmeta))
		return -EINVAL;
	if (xv_broken_check(&dma->broken))
		return -EIO;
	n = (uint32_t)((size + XV_PAGE_MASK) >> XV_PAGE_SHIFT);
	if (dma->nogrant)
		return alloc_coherent_nogrant(dma, n, va, dma_addr_out);

	if (dma->share) {
		uint32_t *refs = calloc(n, sizeof(*refs));

		if (!refs)
			return -ENOMEM;
		r = XV_PLAT_CALL(dma->p, share_pages, dma->domid, n, true, refs,
				 (void **)&mem);
		if (r == -ENOMEM || r == -ENOSPC) {
			dma->cnt[XENVIRTIO_DMA_CNT_ENOSPC]++;
			r = -ENOSPC;
		}
		if (r < 0) {
			free(refs);
			return r;
		}
		ref = refs[0];
		for (i = 1; i < n; i++)
			if (refs[i] != ref + i)
				break;
		free(refs);
		if (i < n) {
			/* one grant address needs ref, ref + 1, ... */
			xv_dbg(dma->ctx,
			       "dma: platform refs not consecutive "
			       "for a %u-frame coherent area",
			       n);
			dma_unshare(dma, ref, mem, n);
			return -EOPNOTSUPP;
		}
		if ((uint64_t)ref + n > dma->nmeta) {
			xv_err(dma->ctx, "dma: platform ref %u out of range",
			       ref);
			dma_unshare(dma, ref, mem, n);
			return -EIO;
		}
		/* as in map_share: never overwrite a live ref's metadata */
		for (i = 0; i < n && !dma->meta[ref + i].owner; i++)
			;
		if (i < n) {
			xv_err(dma->ctx, "dma: platform shared ref %u in use",
			       ref + i);
			dma_unshare(dma, ref, mem, n);
			return -EIO;
		}
		for (i = 0; i < n; i++) {
			struct xv_gref_meta *m = &dma->meta[ref + i];

			m->owner = dma;
			m->kind = XV_GREF_SHARED_COHERENT;
			m->frame = mem + (size_t)i * XV_PAGE_SIZE;
			m->head = ref;
			m->index = i;
		}
		dma->meta[ref].total = (uint32_t)n;
		*va = mem;
		*dma_addr_out = dma_addr(ref, 0);
		return 0;
	}

	r = coherent_frames(dma, n, &mem);
	if (r < 0)
		return r;
	r = xv_gnttab_alloc(dma->gt, n, &ref);
	if (r < 0) {
		if (r == -ENOSPC)
			dma->cnt[XENVIRTIO_DMA_CNT_ENOSPC]++;
		XV_PLAT_CALL(dma->p, frames_free, mem, n);
		return r;
	}
	for (i = 0; i < n; i++) {
		struct xv_gref_meta *m = &dma->meta[ref + i];
		uint64_t gfn;

		m->owner = dma;
		m->kind = XV_GREF_COHERENT;
		m->frame = mem + (size_t)i * XV_PAGE_SIZE;
		m->head = ref;
		m->index = i;
		r = XV_PLAT_CALL(dma->p, frame_lookup, m->frame, &gfn);
		if (r == 0)
			r = XV_PLAT_CALL(dma->p, grant_access, ref + i,
					 dma->domid, gfn, false);
		if (r < 0) {
			meta_clear(m);
			goto err_undo;
		}
	}
	dma->meta[ref].total = n;
	*va = mem;
	*dma_addr_out = dma_addr(ref, 0);
	return 0;

err_undo:
	revoke_coherent(dma, ref, i, n, mem);
	return r;
}

static bool free_coherent(struct xenvirtio_dma *dma, uint32_t ref)
{
	struct xv_gref_meta *m = &dma->meta[ref];
	uint32_t n = m->total, i;
	void *mem = m->frame;

	if (m->kind == XV_GREF_SHARED_COHERENT) {
		bool all = dma_unshare(dma, ref, mem, n);

		for (i = 0; i < n; i++)
			meta_clear(&dma->meta[ref + i]);
		return all;
	}
	return revoke_coherent(dma, ref, n, n, mem);
}

XV_EXPORT int xenvirtio_dma_free_coherent(struct xenvirtio_dma *dma, void *va,
					  size_t size, uint64_t dma_addr_in)
{
	struct xenvirtio_dma_seg seg = {dma_addr_in, 0};
	struct xv_gref_meta *m;
	uint32_t ref, off;

	if (!dma || !va || !size)
		return -EINVAL;
	if (dma->nogrant)
		return free_coherent_nogrant(dma, va, size, dma_addr_in);
	m = seg_meta(dma, &seg, &ref, &off);
	if (!m || off || m->head != ref || m->index || m->frame != va ||
	    (m->kind != XV_GREF_COHERENT &&
	     m->kind != XV_GREF_SHARED_COHERENT) ||
	    m->total != (size + XV_PAGE_MASK) >> XV_PAGE_SHIFT)
		return -EINVAL;
	return free_coherent(dma, ref) ? 0 : -EIO;
}

XV_EXPORT void xenvirtio_dma_close(struct xenvirtio_dma *dma)
{
	uint32_t ref, live = 0;

	if (!dma)
		return;
	if (dma->nogrant)
		live = close_nogrant(dma);
	/* revoke what the caller left behind; its buffers may be gone, so
	 * nothing is copied back */
	for (ref = 0; ref < dma->nmeta; ref++) {
		struct xv_gref_meta *m = &dma->meta[ref];

		if (m->owner != dma || m->head != ref)
			continue;
		live++;
		switch (m->kind) {
		case XV_GREF_INPLACE:
		case XV_GREF_BOUNCE:
			release_run(dma, ref,
				    (uint32_t)(((uint64_t)m->off + m->total +
						XV_PAGE_MASK) >>
					       XV_PAGE_SHIFT),
				    false);
			break;
		case XV_GREF_COHERENT:
		case XV_GREF_SHARED_COHERENT:
			free_coherent(dma, ref);
			break;
		default:
			break;
		}
	}
	/* shared-page mappings: one ref per page, heads or not */
	for (ref = 0; dma->share && ref < dma->nmeta; ref++) {
		struct xv_gref_meta *m = &dma->meta[ref];

		if (m->owner != dma || m->kind != XV_GREF_SHARED)
			continue;
		dma_unshare(dma, ref, m->frame, 1);
		meta_clear(m);
	}
	if (live)
		xv_warn(dma->ctx, "dma: closed with %u live mappings", live);
	if (dma->pool) {
		if (dma->pool_top != dma->pool_frames)
			xv_warn(dma->ctx,
				"dma: %u bounce frames leaked; "
				"the pool stays allocated",
				dma->pool_frames - dma->pool_top);
		else if (XV_PLAT_CALL(dma->p, frames_free, dma->pool,
				      dma->pool_frames) < 0)
			/* no-grant: the backend still maps a pool frame */
			xv_warn(dma->ctx, "dma: bounce pool not freed: leaked");
	}
	dma_free_struct(dma);
}
