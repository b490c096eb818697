/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The backend mapper: DMA address + length + access -> host memory, in
 * identity, grant or foreign mode, the mode enforced per request (G1).
 */
#include "vq_internal.h"

#include <stdlib.h>
#include <string.h>

#include <xenvirtio/addr.h>

static int mapper_scratch(struct xenvirtio_mapper *m, uint32_t cap)
{
	uint32_t *refs = calloc(cap, sizeof(*refs));
	uint64_t *gfns = calloc(cap, sizeof(*gfns));
	int16_t *status = calloc(cap, sizeof(*status));
	int *errs = calloc(cap, sizeof(*errs));

	if (!refs || !gfns || !status || !errs) {
		free(refs);
		free(gfns);
		free(status);
		free(errs);
		return -ENOMEM;
	}
	free(m->refs);
	free(m->gfns);
	free(m->status);
	free(m->errs);
	m->refs = refs;
	m->gfns = gfns;
	m->status = status;
	m->errs = errs;
	m->frame_cap = cap;
	return 0;
}

XV_EXPORT int xenvirtio_mapper_open_identity(struct xenvirtio_ctx *ctx,
					     void *base, size_t size,
					     struct xenvirtio_mapper **out)
{
	struct xenvirtio_mapper *m;

	if (!ctx || !base || !size || !out)
		return -EINVAL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->ctx = ctx;
	m->mode = XENVIRTIO_MAPPER_IDENTITY;
	m->base = base;
	m->size = size;
	*out = m;
	return 0;
}

XV_EXPORT int xenvirtio_mapper_open(struct xenvirtio_ctx *ctx,
				    enum xenvirtio_mapper_mode mode,
				    uint16_t domid,
				    struct xenvirtio_mapper **out)
{
	struct xenvirtio_mapper *m;
	struct xv_platform *p = xv_plat(ctx);
	int r;

	if (!ctx || !out || (mode != XENVIRTIO_MAPPER_GRANT &&
			     mode != XENVIRTIO_MAPPER_FOREIGN))
		return -EINVAL;
	if (!p)
		return -EOPNOTSUPP;
	if (mode == XENVIRTIO_MAPPER_GRANT &&
	    (!(p->caps & XV_CAP_MAP) || !p->ops->map_grants ||
	     !p->ops->unmap_grants))
		return -EOPNOTSUPP;
	if (mode == XENVIRTIO_MAPPER_FOREIGN &&
	    (!(p->caps & XV_CAP_FOREIGN) || !p->privileged ||
	     !p->ops->map_foreign || !p->ops->unmap_foreign))
		return -EOPNOTSUPP;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->ctx = ctx;
	m->plat = p;
	m->mode = mode;
	m->domid = domid;
	r = mapper_scratch(m, XV_FRAME_CAP_DEFAULT);
	if (r < 0) {
		free(m);
		return r;
	}
	*out = m;
	return 0;
}

XV_EXPORT void xenvirtio_mapper_close(struct xenvirtio_mapper *m)
{
	if (!m)
		return;
	free(m->refs);
	free(m->gfns);
	free(m->status);
	free(m->errs);
	free(m);
}

XV_EXPORT int
xenvirtio_mapper_set_strategy(struct xenvirtio_mapper *m,
			      enum xenvirtio_mapper_strategy strategy)
{
	if (!m || m->inflight ||
	    (strategy != XENVIRTIO_MAPPER_BATCH &&
	     strategy != XENVIRTIO_MAPPER_PER_DESC))
		return -EINVAL;
	m->strategy = strategy;
	return 0;
}

XV_EXPORT int xenvirtio_mapper_set_copy_threshold(struct xenvirtio_mapper *m,
						  uint32_t bytes)
{
	if (!m || bytes > XENVIRTIO_MAPPER_COPY_MAX || m->inflight)
		return -EINVAL;
	if (bytes && (m->mode != XENVIRTIO_MAPPER_GRANT ||
		      !m->plat->ops->grant_copy ||
		      !(m->plat->caps & XV_CAP_COPY)))
		return -EOPNOTSUPP;
	m->copy_threshold = bytes;
	return 0;
}

XV_EXPORT int xenvirtio_mapper_set_quota(struct xenvirtio_mapper *m,
					 uint32_t max_frames,
					 uint32_t max_inflight)
{
	uint32_t cap;
	int r;

	if (!m || max_frames > 65536)
		return -EINVAL;
	cap = max_frames ? XV_MAX(max_frames, 256u) : XV_FRAME_CAP_DEFAULT;
	if (m->mode != XENVIRTIO_MAPPER_IDENTITY && cap != m->frame_cap) {
		r = mapper_scratch(m, cap);
		if (r < 0)
			return r;
	}
	m->max_frames = max_frames;
	m->max_inflight = max_inflight;
	return 0;
}

XV_EXPORT int xenvirtio_mapper_get_stats(const struct xenvirtio_mapper *m,
					 struct xenvirtio_mapper_stats *stats)
{
	if (!m || !stats)
		return -EINVAL;
	*stats = m->st;
	return 0;
}

XV_EXPORT int xenvirtio_mapper_translate(const struct xenvirtio_mapper *m,
					 uint64_t addr, uint64_t len,
					 bool write, void **host,
					 size_t *contig)
{
	(void)write;
	if (!m || !host || !contig)
		return -EINVAL;
	if (m->mode != XENVIRTIO_MAPPER_IDENTITY)
		return -EOPNOTSUPP;
	if (addr >= m->size)
		return -EFAULT;
	*host = m->base + addr;
	*contig = (size_t)XV_MIN(len, m->size - addr);
	return 0;
}

int xv_mapper_ident_fault(struct xenvirtio_mapper *m, const struct iovec *iov,
			  unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		/* the walk computed base + addr as integers: undo it */
		uint64_t addr = (uintptr_t)iov[i].iov_base - (uintptr_t)m->base;

		if (!xv_range_ok(addr, iov[i].iov_len, m->size)) {
			xv_warn(m->ctx,
				"mapper: buffer 0x%llx+%zu outside the region",
				(unsigned long long)addr, iov[i].iov_len);
			break;
		}
	}
	return -EFAULT;
}

/*
 * A failed grant status as an errno: -EAGAIN (a frame is being paged in:
 * retry) and -ENOSPC (no mapping space: retry once something completes)
 * are both backpressure: the pop reports either as -ENOSPC, in flight or
 * not (a chain beyond the platform's capacity is retired before).
 */
static int gntst_errno(int16_t st)
{
	switch (st) {
	case XV_GNTST_PERMISSION_DENIED:
		return -EACCES;
	case XV_GNTST_EAGAIN:
		return -EAGAIN;
	case XV_GNTST_NO_SPACE:
	case XV_GNTST_NO_DEVICE_SPACE:
		return -ENOSPC;
	default:
		return -EFAULT;
	}
}

/*
 * Map @count frames (refs or gfns already in the scratch arrays) of one
 * access kind; check every element's status (G4).
 */
static int map_frames(struct xenvirtio_mapper *m, const uint32_t *refs,
		      const uint64_t *gfns, uint32_t count, bool writable,
		      void **va)
{
	struct xv_platform *p = m->plat;
	uint32_t i;
	int r;

	m->st.map_calls++;
	if (m->mode == XENVIRTIO_MAPPER_GRANT) {
		for (i = 0; i < count; i++)
			m->status[i] = XV_GNTST_GENERAL_ERROR;
		r = p->ops->map_grants(p, m->domid, count, refs, writable, va,
				       m->status);
		for (i = 0; i < count; i++) {
			if (m->status[i] != XV_GNTST_OKAY) {
				int e = gntst_errno(m->status[i]);

				if (r >= 0) {
					/* a platform that reports success
					 * with a failed element: undo */
					p->ops->unmap_grants(p, *va, count);
					m->st.unmap_calls++;
				}
				xv_warn(m->ctx,
					"mapper: dom%u ref %u: grant status %d",
					m->domid, refs[i], m->status[i]);
				return e;
			}
		}
		if (r < 0)
			return r == -EAGAIN ? -EAGAIN : -EFAULT;
	} else {
		for (i = 0; i < count; i++)
			m->errs[i] = 0;
		r = p->ops->map_foreign(p, m->domid, count, gfns, writable, va,
					m->errs);
		for (i = 0; i < count; i++) {
			if (m->errs[i]) {
				if (r >= 0) {
					p->ops->unmap_foreign(p, *va, count);
					m->st.unmap_calls++;
				}
				return -EFAULT;
			}
		}
		if (r < 0)
			return -EFAULT;
	}
	m->st.frames_mapped += count;
	return 0;
}

static void unmap_frames(struct xenvirtio_mapper *m, void *va, uint32_t count)
{
	struct xv_platform *p = m->plat;

	if (!count)
		return;
	m->st.unmap_calls++;
	if (m->mode == XENVIRTIO_MAPPER_GRANT)
		p->ops->unmap_grants(p, va, count);
	else
		p->ops->unmap_foreign(p, va, count);
}

/*
 * Extent of one buffer in frames: G1 (mode per request), G2 (ref + frames
 * overflow, offset included), G9 (4 KiB arithmetic).
 */
static int buf_extent(const struct xenvirtio_mapper *m, uint64_t addr,
		      uint32_t len, uint64_t *first, uint32_t *off,
		      uint32_t *frames)
{
	uint32_t ref;

	if (m->mode == XENVIRTIO_MAPPER_GRANT) {
		if (xenvirtio_grant_range(addr, len, &ref, off, frames) < 0)
			return -EFAULT;
		*first = ref;
		return 0;
	}
	if (addr & XENVIRTIO_GRANT_ADDR_FLAG)
		return -EFAULT;
	if (addr + len < addr)
		return -EFAULT;
	*first = addr >> XV_PAGE_SHIFT;
	*off = addr & XV_PAGE_MASK;
	*frames = (uint32_t)((*off + (uint64_t)len + XV_PAGE_MASK) >>
			     XV_PAGE_SHIFT);
	return 0;
}

static void fill_frames(struct xenvirtio_mapper *m, uint32_t pos,
			uint64_t first, uint32_t frames)
{
	uint32_t k;

	for (k = 0; k < frames; k++) {
		m->refs[pos + k] = (uint32_t)(first + k);
		m->gfns[pos + k] = first + k;
	}
}

/* Grant copy between @local and the buffer at grant address @addr, one
 * segment per frame; the caller made sure @s has room (a data buffer is at
 * most XENVIRTIO_MAPPER_COPY_MAX bytes: 2 segments). */
static unsigned int copy_segs(struct xenvirtio_mapper *m, struct xv_copy_seg *s,
			      uint64_t addr, uint32_t len, uint8_t *local,
			      bool to_grant)
{
	uint32_t ref, off;
	unsigned int n = 0;

	/* buf_extent() already validated @addr as a grant address */
	xenvirtio_grant_addr_decode(addr, &ref, &off);

	while (len) {
		uint32_t chunk = XV_MIN(len, XV_PAGE_SIZE - off);

		s[n].local = local;
		s[n].ref = ref;
		s[n].domid = m->domid;
		s[n].offset = (uint16_t)off;
		s[n].len = (uint16_t)chunk;
		s[n].to_grant = to_grant;
		s[n].status = XV_GNTST_GENERAL_ERROR;
		n++;
		local += chunk;
		len -= chunk;
		ref++;
		off = 0;
	}
	return n;
}

static int do_copy(struct xenvirtio_mapper *m, unsigned int nsegs)
{
	unsigned int i;
	int r;

	if (!nsegs)
		return 0;
	m->st.copy_calls++;
	m->st.copy_ops += nsegs;
	r = m->plat->ops->grant_copy(m->plat, m->segs, nsegs);
	for (i = 0; i < nsegs; i++) {
		if (m->segs[i].status != XV_GNTST_OKAY) {
			xv_warn(m->ctx, "mapper: dom%u ref %u: copy status %d",
				m->domid, m->segs[i].ref, m->segs[i].status);
			return gntst_errno(m->segs[i].status);
		}
		m->st.bytes_copied += m->segs[i].len;
	}
	return r < 0 ? -EFAULT : 0;
}

static void per_desc_unmap(struct xenvirtio_mapper *m, struct xv_map_rec *rec)
{
	unsigned int i;

	for (i = 0; i < rec->pd_n; i++)
		unmap_frames(m, rec->pd_va[i], rec->pd_frames[i]);
	rec->pd_n = 0;
}

/*
 * Per-descriptor strategy: one map call per buffer, undone on failure;
 * the frames were laid out by xv_mapper_map_chain() (@addrs[i] is the
 * buffer's frame position << 12 | its offset).
 */
static int map_per_desc(struct xenvirtio_mapper *m, struct xv_map_rec *rec,
			const uint64_t *addrs, struct iovec *iov,
			unsigned int out_num, unsigned int n)
{
	unsigned int i;
	int r;

	for (i = 0; i < n; i++) {
		uint32_t pos = (uint32_t)(addrs[i] >> XV_PAGE_SHIFT);
		uint32_t off = addrs[i] & XV_PAGE_MASK, frames;
		void *va;

		if (iov[i].iov_base)
			continue; /* copied */
		frames = (uint32_t)((off + (uint64_t)iov[i].iov_len +
				     XV_PAGE_MASK) >> XV_PAGE_SHIFT);
		r = map_frames(m, m->refs + pos, m->gfns + pos, frames,
			       i >= out_num, &va);
		if (r < 0) {
			per_desc_unmap(m, rec); /* G4: undo */
			return r;
		}
		rec->pd_va[rec->pd_n] = va;
		rec->pd_frames[rec->pd_n++] = frames;
		iov[i].iov_base = (uint8_t *)va + off;
	}
	return 0;
}

/*
 * The platform has no mapping space for a chain of @total frames: wait
 * (-ENOSPC: completions here or another mapper's, even another domain's,
 * release space), unless the chain and this mapper's rings need more than
 * the platform can ever hold: that never changes, fail it (-EFAULT).
 */
static int no_space(struct xenvirtio_mapper *m, uint32_t total, int r)
{
	uint32_t cap = m->plat->nr_map_entries;

	if (r != -ENOSPC || !cap || (uint64_t)total + m->ring_frames <= cap)
		return r;
	xv_warn(m->ctx,
		"mapper: dom%u: chain of %u frames can never be mapped (the platform maps at most %u, the rings hold %u)",
		m->domid, total, cap, m->ring_frames);
	return -EFAULT;
}

int xv_mapper_map_chain(struct xenvirtio_mapper *m, struct xv_map_rec *rec,
			uint64_t *addrs, struct iovec *iov,
			unsigned int out_num, unsigned int n)
{
	uint32_t nfr[2] = { 0, 0 }, total, boff = 0, pos;
	unsigned int i, ncopy = 0, nsegs = 0;
	int r;

	if (m->max_inflight && m->inflight >= m->max_inflight)
		return -ENOSPC;
	rec->frames = 0;
	rec->nframes[0] = rec->nframes[1] = 0;
	rec->ncopy_out = 0;
	rec->per_desc = false;
	/*
	 * One pass: validate every extent (G1, G2), decide copies, lay out
	 * the frames. Readable buffers come first (R12), so the read-only
	 * group is frames [0, nfr[0]) and the writable one follows.
	 */
	for (i = 0; i < n; i++) {
		bool w = i >= out_num;
		uint32_t len = (uint32_t)iov[i].iov_len, off, frames;
		uint64_t first;

		r = buf_extent(m, addrs[i], len, &first, &off, &frames);
		if (r < 0) {
			xv_warn(m->ctx,
				"mapper: dom%u: address 0x%llx+%u invalid in %s mode",
				m->domid, (unsigned long long)addrs[i], len,
				m->mode == XENVIRTIO_MAPPER_GRANT ? "grant" :
								    "foreign");
			return r;
		}
		if (rec->bounce && len <= m->copy_threshold &&
		    ncopy < XV_COPY_DESCS && boff + len <= XV_BOUNCE_SIZE) {
			if (w) {
				struct xv_copy_out *co =
					&rec->copy_out[rec->ncopy_out++];

				co->addr = addrs[i];
				co->len = len;
				co->iov_idx = (uint16_t)i;
				co->boff = (uint16_t)boff;
			} else {
				nsegs += copy_segs(m, &m->segs[nsegs], addrs[i],
						   len, rec->bounce + boff,
						   false);
			}
			iov[i].iov_base = rec->bounce + boff;
			boff += len;
			ncopy++;
			continue;
		}
		iov[i].iov_base = NULL;
		pos = nfr[0] + nfr[1];
		if (frames > m->frame_cap - pos) {
			xv_warn(m->ctx, "mapper: dom%u: chain too large",
				m->domid);
			return -EFAULT;
		}
		fill_frames(m, pos, first, frames);
		addrs[i] = ((uint64_t)pos << XV_PAGE_SHIFT) | off;
		nfr[w] += frames;
	}
	total = nfr[0] + nfr[1];
	if (m->max_frames && total > m->max_frames) {
		xv_warn(m->ctx, "mapper: dom%u: chain of %u frames over quota",
			m->domid, total);
		return -EFAULT; /* would never fit: fail, don't wait */
	}
	if (m->max_frames && m->frames_now + total > m->max_frames)
		return -ENOSPC;

	/* Copy-in first: it maps nothing, so a failure undoes nothing. */
	r = do_copy(m, nsegs);
	if (r < 0)
		return r;

	if (m->strategy == XENVIRTIO_MAPPER_PER_DESC &&
	    n - ncopy <= XV_PERDESC_MAX) {
		rec->pd_n = 0;
		r = map_per_desc(m, rec, addrs, iov, out_num, n);
		if (r < 0)
			return no_space(m, total, r);
		rec->per_desc = true;
		goto done;
	}

	/* One call per access kind: never a RW map of a readable buffer. */
	if (nfr[0]) {
		r = map_frames(m, m->refs, m->gfns, nfr[0], false,
			       &rec->va[0]);
		if (r < 0)
			return no_space(m, total, r);
	}
	if (nfr[1]) {
		r = map_frames(m, m->refs + nfr[0], m->gfns + nfr[0], nfr[1],
			       true, &rec->va[1]);
		if (r < 0) {
			unmap_frames(m, rec->va[0], nfr[0]); /* G4: undo */
			return no_space(m, total, r);
		}
	}
	rec->nframes[0] = nfr[0];
	rec->nframes[1] = nfr[1];
	for (i = 0; i < n; i++) {
		bool w = i >= out_num;

		if (iov[i].iov_base)
			continue;
		/* addrs[i] is now (frame position << 12 | offset); the
		 * writable group's positions start at nfr[0] */
		iov[i].iov_base = (uint8_t *)rec->va[w] + addrs[i] -
				  (w ? (uint64_t)nfr[0] << XV_PAGE_SHIFT : 0);
	}
done:
	rec->frames = total;
	m->frames_now += total;
	m->inflight++;
	m->st.requests++;
	return 0;
}

int xv_mapper_unmap_chain(struct xenvirtio_mapper *m, struct xv_map_rec *rec,
			  const struct iovec *iov, unsigned int out_num,
			  unsigned int n, uint32_t written)
{
	unsigned int nsegs = 0, c, i;
	int r = 0;

	/* Copy-out of the written prefix, then unmap: both before the used
	 * element is published (G6). */
	if (rec->ncopy_out && written) {
		uint64_t woff = 0;

		for (c = 0, i = out_num; i < n && c < rec->ncopy_out; i++) {
			const struct xv_copy_out *co = &rec->copy_out[c];

			if (co->iov_idx == i) {
				uint64_t left = written > woff ?
							written - woff : 0;
				uint32_t len = (uint32_t)XV_MIN(left, co->len);

				if (len)
					nsegs += copy_segs(m, &m->segs[nsegs],
							   co->addr, len,
							   rec->bounce +
								   co->boff,
							   true);
				c++;
			}
			woff += iov[i].iov_len;
		}
		r = do_copy(m, nsegs);
	}
	if (rec->per_desc) {
		per_desc_unmap(m, rec);
	} else {
		unmap_frames(m, rec->va[0], rec->nframes[0]);
		unmap_frames(m, rec->va[1], rec->nframes[1]);
	}
	rec->nframes[0] = rec->nframes[1] = 0;
	m->frames_now -= rec->frames;
	rec->frames = 0;
	rec->ncopy_out = 0;
	m->inflight--;
	return r;
}

int xv_mapper_map_ring(struct xenvirtio_mapper *m, uint64_t addr,
		       uint64_t len, struct xv_ring_map *rm)
{
	uint32_t off, frames;
	uint64_t first;
	void *va;
	int r;

	rm->va = NULL;
	rm->nframes = 0;
	if (m->mode == XENVIRTIO_MAPPER_IDENTITY) {
		if (!xv_range_ok(addr, len, m->size))
			return -EFAULT;
		rm->va = m->base + addr;
		return 0;
	}
	if (len > UINT32_MAX)
		return -EFAULT;
	r = buf_extent(m, addr, (uint32_t)len, &first, &off, &frames);
	if (r < 0 || frames > m->frame_cap)
		return -EFAULT;
	fill_frames(m, 0, first, frames);
	/* Rings are coherent read-write memory in every frontend. */
	r = map_frames(m, m->refs, m->gfns, frames, true, &va);
	if (r < 0)
		return r;
	rm->va = (uint8_t *)va + off;
	rm->nframes = frames;
	m->ring_frames += frames;
	return 0;
}

void xv_mapper_unmap_ring(struct xenvirtio_mapper *m, struct xv_ring_map *rm)
{
	if (rm->nframes) {
		uintptr_t b = (uintptr_t)rm->va;

		unmap_frames(m, (void *)(b - (b & XV_PAGE_MASK)), rm->nframes);
		m->ring_frames -= rm->nframes;
	}
	rm->va = NULL;
	rm->nframes = 0;
}

/*
 * Read @len bytes at grant address @addr (already validated by
 * buf_extent()) into @local by grant copy, in calls of at most
 * XV_ARRAY_SIZE(m->segs) frame segments.
 */
static int peek_copy(struct xenvirtio_mapper *m, uint64_t addr, uint32_t len,
		     uint8_t *local)
{
	const uint32_t max = (uint32_t)XV_ARRAY_SIZE(m->segs);

	while (len) {
		uint32_t ref, off, chunk, n;
		int r;

		xenvirtio_grant_addr_decode(addr, &ref, &off);
		/* at most @max frames: the first may be partial */
		chunk = XV_MIN(len, max * XV_PAGE_SIZE - off);
		n = copy_segs(m, m->segs, addr, chunk, local, false);
		r = do_copy(m, n);
		if (r < 0)
			return r;
		addr += chunk;
		local += chunk;
		len -= chunk;
	}
	return 0;
}

int xv_mapper_peek(struct xenvirtio_mapper *m, uint64_t addr, uint32_t len,
		   void *bounce, const void **out)
{
	uint32_t off, frames;
	uint64_t first;
	void *va;
	int r;

	if (m->mode == XENVIRTIO_MAPPER_IDENTITY) {
		if (!xv_range_ok(addr, len, m->size))
			return -EFAULT;
		*out = m->base + addr;
		/* the walk loads 64-bit fields atomically: a table that lies
		 * off an 8-byte boundary is read from a copy (some
		 * architectures fault on misaligned atomic loads) */
		if (xv_unlikely((uintptr_t)*out & 7)) {
			memcpy(bounce, m->base + addr, len);
			*out = bounce;
		}
		return 0;
	}
	/* Copy the table locally (R9): it may span frames, and the copy is
	 * private, so the driver cannot change it under the walk (R13). */
	r = buf_extent(m, addr, len, &first, &off, &frames);
	if (r < 0 || frames > m->frame_cap)
		return -EFAULT;
	if (m->mode == XENVIRTIO_MAPPER_GRANT && m->plat->ops->grant_copy &&
	    (m->plat->caps & XV_CAP_COPY)) {
		/* Grant copy reads it without mapping guest memory: the
		 * table costs no map call (a chain stays at one per
		 * direction). */
		r = peek_copy(m, addr, len, bounce);
		if (r < 0)
			return r;
		*out = bounce;
		return 0;
	}
	fill_frames(m, 0, first, frames);
	r = map_frames(m, m->refs, m->gfns, frames, false, &va);
	if (r < 0)
		return r;
	memcpy(bounce, (uint8_t *)va + off, len);
	unmap_frames(m, va, frames);
	*out = bounce;
	return 0;
}
