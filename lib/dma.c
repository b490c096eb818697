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

/* Frames in a handle's bounce pool (GRANT_TABLE platforms). */
#define XV_DMA_POOL_FRAMES 64u
/* Largest usable domid (DOMID_FIRST_RESERVED - 1). */
#define XV_DOMID_MAX 0x7fefu

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

XV_EXPORT int xenvirtio_dma_open(struct xenvirtio_ctx *ctx,
				 unsigned int backend_domid,
				 struct xenvirtio_dma **out)
{
	struct xv_platform *p = xv_plat(ctx);
	struct xenvirtio_dma *dma;
	uint32_t i;
	int r;

	if (!p || !out || backend_domid > XV_DOMID_MAX)
		return -EINVAL;
	if (!(p->caps & (XV_CAP_GRANT_TABLE | XV_CAP_SHARE_PAGES)))
		return -EOPNOTSUPP;
	dma = calloc(1, sizeof(*dma));
	if (!dma)
		return -ENOMEM;
	dma->ctx = ctx;
	dma->p = p;
	dma->domid = (uint16_t)backend_domid;
	dma->share = !(p->caps & XV_CAP_GRANT_TABLE);
	r = xv_gnttab_get(ctx, &dma->gt);
	if (r < 0)
		goto err_free;
	r = xv_gnttab_meta_init(dma->gt);
	if (r < 0)
		goto err_free;
	dma->meta = dma->gt->meta;
	dma->nmeta = dma->gt->max;
	if (dma->share) {
		*out = dma;
		return 0;
	}

	dma->pool_frames = XV_DMA_POOL_FRAMES;
	dma->pool_gfn = calloc(dma->pool_frames, sizeof(*dma->pool_gfn));
	dma->pool_stack = calloc(dma->pool_frames, sizeof(*dma->pool_stack));
	if (!dma->pool_gfn || !dma->pool_stack) {
		r = -ENOMEM;
		goto err_free;
	}
	r = XV_PLAT_CALL(p, frames_alloc, dma->pool_frames,
			 (void **)&dma->pool);
	if (r < 0) {
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
		/* lowest index on top: pool frames are used in order */
		dma->pool_stack[i] = dma->pool_frames - 1 - i;
	}
	dma->pool_top = dma->pool_frames;
	*out = dma;
	return 0;

err_pool:
	XV_PLAT_CALL(p, frames_free, dma->pool, dma->pool_frames);
err_free:
	free(dma->pool_stack);
	free(dma->pool_gfn);
	free(dma);
	return r;
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
	    size > (size_t)dma->nmeta * XV_PAGE_SIZE)
		return -EINVAL;
	if (xv_broken_check(&dma->broken))
		return -EIO;
	n = (uint32_t)((size + XV_PAGE_MASK) >> XV_PAGE_SHIFT);

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

	r = XV_PLAT_CALL(dma->p, frames_alloc, n, (void **)&mem);
	if (r == -ENOMEM || r == -ENOSPC) {
		/* no grantable memory left: backpressure (F7) */
		dma->cnt[XENVIRTIO_DMA_CNT_ENOSPC]++;
		r = -ENOSPC;
	}
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

err_undo : {
	bool all = true;
	uint32_t j;

	for (j = 0; j < i; j++) {
		if (!end_access(dma, ref + j))
			all = false;
		meta_clear(&dma->meta[ref + j]);
	}
	if (all) {
		xv_gnttab_free(dma->gt, ref, n);
		XV_PLAT_CALL(dma->p, frames_free, mem, n);
	}
}
	return r;
}

static bool free_coherent(struct xenvirtio_dma *dma, uint32_t ref)
{
	struct xv_gref_meta *m = &dma->meta[ref];
	uint32_t n = m->total, i;
	void *mem = m->frame;
	bool all = true;

	if (m->kind == XV_GREF_SHARED_COHERENT) {
		all = dma_unshare(dma, ref, mem, n);
		for (i = 0; i < n; i++)
			meta_clear(&dma->meta[ref + i]);
		return all;
	}
	for (i = 0; i < n; i++) {
		if (!end_access(dma, ref + i))
			all = false;
		meta_clear(&dma->meta[ref + i]);
	}
	/* a frame still mapped keeps its whole allocation alive */
	if (all) {
		xv_gnttab_free(dma->gt, ref, n);
		XV_PLAT_CALL(dma->p, frames_free, mem, n);
	}
	return all;
}

XV_EXPORT int xenvirtio_dma_free_coherent(struct xenvirtio_dma *dma, void *va,
					  size_t size, uint64_t dma_addr_in)
{
	struct xenvirtio_dma_seg seg = {dma_addr_in, 0};
	struct xv_gref_meta *m;
	uint32_t ref, off;

	if (!dma || !va || !size)
		return -EINVAL;
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
		if (dma->pool_top == dma->pool_frames)
			XV_PLAT_CALL(dma->p, frames_free, dma->pool,
				     dma->pool_frames);
		else
			xv_warn(dma->ctx,
				"dma: %u bounce frames leaked; "
				"the pool stays allocated",
				dma->pool_frames - dma->pool_top);
	}
	free(dma->pool_stack);
	free(dma->pool_gfn);
	free(dma);
}
