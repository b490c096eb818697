/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The simulated platform: Xen's grant rules over one shared world file
 * (layout in sim_world.h). This file holds the grant operations; the world
 * file, attach and reap are in sim_world.c, event channels in sim_evtchn.c.
 *
 * Frontend: frames come from the domain's pool (a free bitmap, contiguous
 * runs, zeroed: F1) and are mapped from the world file. grant_access writes
 * a v1 entry (frame, release barrier, then flags|domid in one word);
 * end_access revokes with a CAS that fails while GTF_reading/GTF_writing is
 * set (F3). share_pages picks refs itself, from the top of the table down,
 * so they are never ascending-consecutive (as gntalloc does not promise).
 *
 * Backend: map_grants pins every ref first (CAS of the busy bits, pin
 * counts, one maptrack entry per page), all or nothing with a status per
 * ref, then mmaps the frames of the world file at one contiguous range:
 * a single mmap when the frames are consecutive in the file, else a
 * reserved range with one MAP_FIXED map per run. Read-only maps are
 * PROT_READ. grant_copy pins each segment while it copies with
 * pread/pwrite on the world file. Foreign maps are for privileged domains
 * only. Map records are reused, so steady map/unmap does not call malloc.
 *
 * A domain's grants may be mapped by the domain itself (dom0 may on Xen),
 * which the contract suite relies on when it runs on real Xen.
 *
 * Process death. The kernel drops a dead process's mmaps, but the world
 * still holds its pins. Every attach, and xenvirtio_sim_reap(), checks the
 * pid (and its start time, against pid reuse) of every attached domain;
 * for a dead one it releases all the maptrack entries it held (clearing
 * the busy bits of the grants it mapped, so the frontend can revoke them
 * again), closes its event channel ports (the remote ends become unbound)
 * and frees its domain slot. The grant table and frames of a dead frontend
 * stay as they were (a live backend may still map them) until a process
 * attaches as that domain again; it starts with a fresh, empty table and
 * pool. That attach fails with -EBUSY while another domain still maps the
 * old memory, as a zombie domain on Xen cannot be rebuilt. A process that
 * closes its context cleanly unmaps everything it mapped and detaches the
 * same way; its grants likewise stay until the domain is attached again.
 */
#include "platform.h"
#include "sim_world.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define XV_SIM_MAX_BATCH (1u << 20)

/* Regions of up to this many idx[] elements are kept for reuse, so that a
 * backend mapping and unmapping requests does not call malloc each time. */
#define XV_SIM_SPARE_CAP 256u
#define XV_SIM_SPARE_MAX 32u

static struct xv_sim_region *xv_sim_region_new(struct xv_sim *s, uint32_t count,
					       uint32_t nidx,
					       enum xv_sim_region_kind kind)
{
	struct xv_sim_region *r = NULL;

	if (nidx <= XV_SIM_SPARE_CAP && s->spare) {
		r = s->spare;
		s->spare = r->next;
		s->nr_spare--;
	} else {
		uint32_t cap = XV_MAX(nidx, XV_SIM_SPARE_CAP);

		r = malloc(sizeof(*r) + (size_t)cap * sizeof(r->idx[0]));
		if (!r)
			return NULL;
		r->cap = cap;
	}
	r->next = NULL;
	r->va = NULL;
	r->count = count;
	r->kind = kind;
	return r;
}

static void xv_sim_region_free(struct xv_sim *s, struct xv_sim_region *r)
{
	if (r->cap == XV_SIM_SPARE_CAP && s->nr_spare < XV_SIM_SPARE_MAX) {
		r->next = s->spare;
		s->spare = r;
		s->nr_spare++;
		return;
	}
	free(r);
}

static void xv_sim_region_add(struct xv_sim *s, struct xv_sim_region *r)
{
	r->next = s->regions;
	s->regions = r;
}

/* Find (and unlink, if @take) the region exactly at (@va, @count). */
static struct xv_sim_region *xv_sim_region_find(struct xv_sim *s, void *va,
						uint32_t count,
						enum xv_sim_region_kind kind,
						bool take)
{
	struct xv_sim_region **pp, *r;

	for (pp = &s->regions; (r = *pp); pp = &r->next) {
		if (r->va != va || r->kind != kind || r->count != count)
			continue;
		if (take)
			*pp = r->next;
		return r;
	}
	return NULL;
}

/*
 * Map frames @frames[0..count) of domain @d at one new contiguous range:
 * reserve it, then map each run of consecutive frames with MAP_FIXED.
 * @stride: distance between elements of @frames (to read maptrack entries).
 */
static void *xv_sim_map_frames(struct xv_sim *s, uint16_t d,
			       const uint32_t *frames, size_t stride,
			       uint32_t count, bool writable)
{
	size_t len = (size_t)count * XV_PAGE_SIZE;
	int prot = PROT_READ | (writable ? PROT_WRITE : 0);
	uint8_t *base;
	uint32_t i = 0;

	/* One run of consecutive frames: a single mmap, no reservation. */
	while (i + 1 < count && frames[(i + 1) * stride] == frames[0] + i + 1)
		i++;
	if (i + 1 == count) {
		base = mmap(NULL, len, prot, MAP_SHARED, s->fd,
			    xv_sim_frame_off(s, d, frames[0]));
		return base == MAP_FAILED ? NULL : base;
	}
	i = 0;
	base = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (base == MAP_FAILED)
		return NULL;
	while (i < count) {
		uint32_t first = frames[i * stride], n = 1;
		void *m;

		while (i + n < count && frames[(i + n) * stride] == first + n)
			n++;
		m = mmap(base + (size_t)i * XV_PAGE_SIZE,
			 (size_t)n * XV_PAGE_SIZE, prot, MAP_SHARED | MAP_FIXED,
			 s->fd, xv_sim_frame_off(s, d, first));
		if (m == MAP_FAILED) {
			munmap(base, len);
			return NULL;
		}
		i += n;
	}
	return base;
}

static bool xv_sim_dom_ok(struct xv_sim *s, uint16_t d)
{
	return d < s->hdr->max_domains && s->doms[d].pid > 0;
}

static bool xv_sim_gfn_to_frame(struct xv_sim *s, uint64_t gfn, uint32_t *idx)
{
	if (gfn < XV_SIM_GFN_BASE ||
	    gfn - XV_SIM_GFN_BASE >= s->hdr->frames_per_domain)
		return false;
	*idx = (uint32_t)(gfn - XV_SIM_GFN_BASE);
	return true;
}

/* ---- frontend: frames and the grant table ---- */

static bool xv_sim_bit(const uint64_t *bm, uint32_t i)
{
	return bm[i / 64] & (1ull << (i % 64));
}

static void xv_sim_bits(uint64_t *bm, uint32_t first, uint32_t n, bool set)
{
	uint32_t i;

	for (i = first; i < first + n; i++) {
		if (set)
			bm[i / 64] |= 1ull << (i % 64);
		else
			bm[i / 64] &= ~(1ull << (i % 64));
	}
}

/* First fit of @n free frames from the hint, wrapping (lock held). */
static uint32_t xv_sim_frames_find(struct xv_sim *s, uint32_t n)
{
	struct xv_sim_dom *dom = &s->doms[s->base.domid];
	uint64_t *bm = xv_sim_bitmap(s, s->base.domid);
	uint32_t total = s->hdr->frames_per_domain;
	uint32_t start = dom->frames_hint < total ? dom->frames_hint : 0;
	uint32_t pass, i, run;

	for (pass = 0; pass < 2; pass++) {
		uint32_t from = pass ? 0 : start;
		uint32_t to = pass ? XV_MIN(start + n, total) : total;

		run = 0;
		for (i = from; i < to; i++) {
			if (!(i % 64) && bm[i / 64] == ~0ull && i + 64 <= to) {
				run = 0;
				i += 63;
				continue;
			}
			if (xv_sim_bit(bm, i)) {
				run = 0;
				continue;
			}
			if (++run == n) {
				dom->frames_hint = i + 1;
				return i + 1 - n;
			}
		}
	}
	return XV_SIM_NONE;
}

static int xv_sim_frames_alloc(struct xv_platform *p, uint32_t count, void **va)
{
	struct xv_sim *s = xv_sim_of(p);
	struct xv_sim_region *r;
	uint32_t first;
	void *m;
	int err;

	if (s->refs_kernel)
		return -EOPNOTSUPP;
	if (!count || !va || count > s->hdr->frames_per_domain)
		return -EINVAL;
	err = xv_sim_fault_hit(s, XENVIRTIO_SIM_OP_FRAMES_ALLOC, NULL);
	if (err)
		return err;
	r = xv_sim_region_new(s, count, 1, XV_SIM_REG_FRAMES);
	if (!r)
		return -ENOMEM;
	xv_sim_lock(s);
	first = xv_sim_frames_find(s, count);
	if (first != XV_SIM_NONE)
		xv_sim_bits(xv_sim_bitmap(s, p->domid), first, count, true);
	xv_sim_unlock(s);
	if (first == XV_SIM_NONE) {
		xv_sim_region_free(s, r);
		return -ENOMEM;
	}
	m = mmap(NULL, (size_t)count * XV_PAGE_SIZE, PROT_READ | PROT_WRITE,
		 MAP_SHARED, s->fd, xv_sim_frame_off(s, p->domid, first));
	if (m == MAP_FAILED) {
		err = -errno;
		xv_sim_lock(s);
		xv_sim_bits(xv_sim_bitmap(s, p->domid), first, count, false);
		xv_sim_unlock(s);
		xv_sim_region_free(s, r);
		return err;
	}
	memset(m, 0, (size_t)count * XV_PAGE_SIZE); /* F1 */
	r->va = m;
	r->idx[0] = first;
	xv_sim_region_add(s, r);
	*va = m;
	return 0;
}

/* Whether any of my grant entries still names a frame in [first, +n). */
static bool xv_sim_frames_granted(struct xv_sim *s, uint32_t first, uint32_t n)
{
	struct xv_sim_gnt *gt = xv_sim_gnttab(s, s->base.domid);
	uint32_t ref;

	for (ref = XV_GNTTAB_RESERVED; ref < s->hdr->grant_entries; ref++) {
		uint32_t w = __atomic_load_n(&gt[ref].word, __ATOMIC_ACQUIRE);
		uint32_t f;

		if (!(XV_SIM_GNT_FLAGS(w) & XV_GTF_TYPE_MASK))
			continue;
		f = gt[ref].frame - XV_SIM_GFN_BASE;
		if (f >= first && f - first < n)
			return true;
	}
	return false;
}

static bool xv_sim_frames_pinned(struct xv_sim *s, const uint32_t *frames,
				 size_t stride, uint32_t n)
{
	const uint32_t *pins = xv_sim_pins(s, s->base.domid);
	uint32_t i;

	for (i = 0; i < n; i++)
		if (pins[frames[i * stride]])
			return true;
	return false;
}

static int xv_sim_frames_free(struct xv_platform *p, void *va, uint32_t count)
{
	struct xv_sim *s = xv_sim_of(p);
	struct xv_sim_region *r;
	uint32_t first, i;
	bool busy;

	r = xv_sim_region_find(s, va, count, XV_SIM_REG_FRAMES, false);
	if (!r)
		return -EINVAL;
	first = r->idx[0];
	xv_sim_lock(s);
	busy = xv_sim_frames_granted(s, first, count);
	for (i = 0; !busy && i < count; i++)
		busy = xv_sim_pins(s, p->domid)[first + i] != 0;
	if (!busy)
		xv_sim_bits(xv_sim_bitmap(s, p->domid), first, count, false);
	xv_sim_unlock(s);
	if (busy) {
		xv_warn(s->ctx, "sim: frames at %p are still granted or mapped",
			va);
		return -EBUSY;
	}
	xv_sim_region_find(s, va, count, XV_SIM_REG_FRAMES, true);
	munmap(va, (size_t)count * XV_PAGE_SIZE);
	xv_sim_region_free(s, r);
	return 0;
}

static int xv_sim_frame_lookup(struct xv_platform *p, const void *va,
			       uint64_t *gfn)
{
	struct xv_sim *s = xv_sim_of(p);
	const uint8_t *b = va;
	struct xv_sim_region *r;

	if (!gfn)
		return -EINVAL;
	for (r = s->regions; r; r = r->next) {
		const uint8_t *start = r->va;
		size_t page;

		if (r->kind != XV_SIM_REG_FRAMES &&
		    r->kind != XV_SIM_REG_SHARED)
			continue;
		if (b < start || b >= start + (size_t)r->count * XV_PAGE_SIZE)
			continue;
		page = (size_t)(b - start) / XV_PAGE_SIZE;
		*gfn = XV_SIM_GFN_BASE + (r->kind == XV_SIM_REG_FRAMES
					      ? r->idx[0] + page
					      : r->idx[page]);
		return 0;
	}
	return -EFAULT;
}

/* Publish an entry: frame, release barrier, then flags and domid. */
static int xv_sim_publish(struct xv_sim_gnt *g, uint16_t domid, uint32_t frame,
			  bool readonly)
{
	uint32_t w = __atomic_load_n(&g->word, __ATOMIC_ACQUIRE);
	uint32_t nw = (uint32_t)domid << 16 | XV_GTF_permit_access |
		      (readonly ? XV_GTF_readonly : 0);

	if (XV_SIM_GNT_FLAGS(w) &
	    (XV_GTF_TYPE_MASK | XV_GTF_reading | XV_GTF_writing))
		return -EBUSY;
	__atomic_store_n(&g->frame, frame, __ATOMIC_RELAXED);
	if (!__atomic_compare_exchange_n(&g->word, &w, nw, false,
					 __ATOMIC_RELEASE, __ATOMIC_RELAXED))
		return -EBUSY;
	return 0;
}

/* Revoke with a CAS of the flags to 0: fails while the peer maps it. */
static int xv_sim_revoke(struct xv_sim_gnt *g, uint32_t *old)
{
	uint32_t w = __atomic_load_n(&g->word, __ATOMIC_ACQUIRE);

	for (;;) {
		uint16_t f = XV_SIM_GNT_FLAGS(w);

		if (!(f & XV_GTF_TYPE_MASK))
			return -EINVAL;
		if (f & (XV_GTF_reading | XV_GTF_writing))
			return -EBUSY;
		if (__atomic_compare_exchange_n(&g->word, &w, w & 0xffff0000u,
						false, __ATOMIC_SEQ_CST,
						__ATOMIC_ACQUIRE))
			break;
	}
	if (old)
		*old = w;
	return 0;
}

static int xv_sim_grant_access(struct xv_platform *p, uint32_t ref,
			       uint16_t domid, uint64_t gfn, bool readonly)
{
	struct xv_sim *s = xv_sim_of(p);
	uint32_t frame;
	int err;

	if (s->refs_kernel)
		return -EOPNOTSUPP;
	if (ref < XV_GNTTAB_RESERVED || ref >= s->hdr->grant_entries ||
	    domid >= s->hdr->max_domains ||
	    !xv_sim_gfn_to_frame(s, gfn, &frame))
		return -EINVAL;
	err = xv_sim_fault_hit(s, XENVIRTIO_SIM_OP_GRANT_ACCESS, NULL);
	if (err)
		return err;
	return xv_sim_publish(&xv_sim_gnttab(s, p->domid)[ref], domid,
			      (uint32_t)gfn, readonly);
}

static int xv_sim_end_access(struct xv_platform *p, uint32_t ref)
{
	struct xv_sim *s = xv_sim_of(p);

	if (s->refs_kernel)
		return -EOPNOTSUPP;
	if (ref < XV_GNTTAB_RESERVED || ref >= s->hdr->grant_entries)
		return -EINVAL;
	return xv_sim_revoke(&xv_sim_gnttab(s, p->domid)[ref], NULL);
}

/* ---- frontend: platform-chosen refs (gntalloc) ---- */

/* The next free ref below the hint, descending, wrapping (lock held). */
static uint32_t xv_sim_share_ref(struct xv_sim *s)
{
	struct xv_sim_dom *dom = &s->doms[s->base.domid];
	struct xv_sim_gnt *gt = xv_sim_gnttab(s, s->base.domid);
	uint32_t n = s->hdr->grant_entries - XV_GNTTAB_RESERVED;
	uint32_t ref = dom->share_hint, i;

	for (i = 0; i < n; i++) {
		if (ref <= XV_GNTTAB_RESERVED || ref > s->hdr->grant_entries)
			ref = s->hdr->grant_entries;
		ref--;
		if (!XV_SIM_GNT_FLAGS(
			__atomic_load_n(&gt[ref].word, __ATOMIC_ACQUIRE))) {
			dom->share_hint = ref;
			return ref;
		}
	}
	return XV_SIM_NONE;
}

static int xv_sim_share_pages(struct xv_platform *p, uint16_t domid,
			      uint32_t count, bool writable, uint32_t *refs,
			      void **va)
{
	struct xv_sim *s = xv_sim_of(p);
	struct xv_sim_gnt *gt = xv_sim_gnttab(s, p->domid);
	uint64_t *bm = xv_sim_bitmap(s, p->domid);
	struct xv_sim_region *r;
	uint32_t i, got = 0;
	void *m;
	int err;

	if (!count || count > s->hdr->frames_per_domain || !refs || !va ||
	    domid >= s->hdr->max_domains)
		return -EINVAL;
	err = xv_sim_fault_hit(s, XENVIRTIO_SIM_OP_GRANT_ACCESS, NULL);
	if (err)
		return err;
	r = xv_sim_region_new(s, count, 2 * count, XV_SIM_REG_SHARED);
	if (!r)
		return -ENOMEM;
	xv_sim_lock(s);
	for (got = 0; got < count; got++) {
		uint32_t f = xv_sim_frames_find(s, 1);

		if (f == XV_SIM_NONE)
			break;
		xv_sim_bits(bm, f, 1, true);
		r->idx[got] = f;
	}
	xv_sim_unlock(s);
	err = -ENOMEM;
	if (got < count)
		goto err_frames;
	m = xv_sim_map_frames(s, p->domid, r->idx, 1, count, true);
	if (!m)
		goto err_frames;
	memset(m, 0, (size_t)count * XV_PAGE_SIZE); /* F1 */
	xv_sim_lock(s);
	for (i = 0; i < count; i++) {
		uint32_t ref = xv_sim_share_ref(s);

		if (ref == XV_SIM_NONE ||
		    xv_sim_publish(&gt[ref], domid, XV_SIM_GFN_BASE + r->idx[i],
				   !writable)) {
			while (i--)
				xv_sim_revoke(&gt[r->idx[count + i]], NULL);
			xv_sim_unlock(s);
			munmap(m, (size_t)count * XV_PAGE_SIZE);
			err = -ENOSPC;
			goto err_frames;
		}
		r->idx[count + i] = ref;
	}
	xv_sim_unlock(s);
	r->va = m;
	xv_sim_region_add(s, r);
	memcpy(refs, &r->idx[count], (size_t)count * sizeof(*refs));
	*va = m;
	return 0;

err_frames:
	xv_sim_lock(s);
	for (i = 0; i < got; i++)
		xv_sim_bits(bm, r->idx[i], 1, false);
	xv_sim_unlock(s);
	xv_sim_region_free(s, r);
	return err;
}

static int xv_sim_unshare_pages(struct xv_platform *p, void *va, uint32_t count)
{
	struct xv_sim *s = xv_sim_of(p);
	struct xv_sim_gnt *gt = xv_sim_gnttab(s, p->domid);
	struct xv_sim_region *r;
	uint32_t small[32], *old = small, i;
	int err = 0;

	r = xv_sim_region_find(s, va, count, XV_SIM_REG_SHARED, false);
	if (!r)
		return -EINVAL;
	if (count > XV_ARRAY_SIZE(small)) {
		old = calloc(count, sizeof(*old));
		if (!old)
			return -ENOMEM;
	} else {
		memset(small, 0, sizeof(small));
	}
	xv_sim_lock(s);
	if (xv_sim_frames_pinned(s, r->idx, 1, count))
		err = -EBUSY; /* foreign-mapped */
	for (i = 0; !err && i < count; i++) {
		err = xv_sim_revoke(&gt[r->idx[count + i]], &old[i]);
		if (err == -EINVAL) /* revoked behind our back: fine */
			err = 0;
		if (err) {
			/* Busy: put back what was revoked, keep everything. */
			while (i--)
				if (old[i])
					__atomic_store_n(
					    &gt[r->idx[count + i]].word, old[i],
					    __ATOMIC_RELEASE);
		}
	}
	if (!err)
		for (i = 0; i < count; i++)
			xv_sim_bits(xv_sim_bitmap(s, p->domid), r->idx[i], 1,
				    false);
	xv_sim_unlock(s);
	if (old != small)
		free(old);
	if (err)
		return err;
	xv_sim_region_find(s, va, count, XV_SIM_REG_SHARED, true);
	munmap(va, (size_t)count * XV_PAGE_SIZE);
	xv_sim_region_free(s, r);
	return 0;
}

/* ---- backend: grant map, copy ---- */

/*
 * Pin @ref of @granter for this domain (lock held): check the entry, set
 * the busy bits by CAS, count the pin, cache the frame at the first pin.
 */
static int16_t xv_sim_pin(struct xv_sim *s, uint16_t granter, uint32_t ref,
			  bool writable, uint32_t *frame)
{
	struct xv_sim_gnt *g;
	struct xv_sim_act *a;
	uint32_t w, nw, f;

	if (ref >= s->hdr->grant_entries)
		return XV_GNTST_BAD_GNTREF;
	g = &xv_sim_gnttab(s, granter)[ref];
	a = &xv_sim_act(s, granter)[ref];
	w = __atomic_load_n(&g->word, __ATOMIC_ACQUIRE);
	do {
		uint16_t fl = XV_SIM_GNT_FLAGS(w);

		if ((fl & XV_GTF_TYPE_MASK) != XV_GTF_permit_access)
			return XV_GNTST_BAD_GNTREF;
		if (XV_SIM_GNT_DOMID(w) != s->base.domid)
			return XV_GNTST_PERMISSION_DENIED;
		if (writable && (fl & XV_GTF_readonly))
			return XV_GNTST_PERMISSION_DENIED;
		nw = w | XV_GTF_reading | (writable ? XV_GTF_writing : 0);
	} while (!__atomic_compare_exchange_n(
	    &g->word, &w, nw, false, __ATOMIC_SEQ_CST, __ATOMIC_ACQUIRE));
	if (!a->pins) {
		uint64_t gfn = __atomic_load_n(&g->frame, __ATOMIC_ACQUIRE);

		if (!xv_sim_gfn_to_frame(s, gfn, &f)) {
			__atomic_fetch_and(
			    &g->word,
			    ~(uint32_t)(XV_GTF_reading | XV_GTF_writing),
			    __ATOMIC_SEQ_CST);
			return XV_GNTST_BAD_PAGE;
		}
		a->frame = f;
	}
	if (a->frame >= s->hdr->frames_per_domain) { /* a corrupt world */
		if (!a->pins)
			__atomic_fetch_and(
			    &g->word,
			    ~(uint32_t)(XV_GTF_reading | XV_GTF_writing),
			    __ATOMIC_SEQ_CST);
		return XV_GNTST_GENERAL_ERROR;
	}
	a->pins++;
	if (writable)
		a->wpins++;
	*frame = a->frame;
	return XV_GNTST_OKAY;
}

static void xv_sim_release_entries(struct xv_sim *s, const uint32_t *mt,
				   uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++) {
		const struct xv_sim_mt *e;

		if (mt[i] >= xv_sim_mt_hw(s))
			continue;
		e = &xv_sim_mt(s)[mt[i]];
		/* Only entries still ours (a reap may have taken them). */
		if (e->kind != XV_SIM_MT_FREE && e->mapper == s->base.domid &&
		    e->gen == s->gen)
			xv_sim_mt_release(s, mt[i]);
	}
}

/*
 * Second half of a batched map (grant or foreign), entered with the world
 * locked and r->idx[i] holding element i's maptrack entry (XV_SIM_NONE where
 * it failed), r->idx[count + i] its frame: on @err undo every element;
 * otherwise mmap the frames and publish the region at *va. Returns 0, @err,
 * or the mmap failure, which also sets *mmap_failed.
 */
static int xv_sim_map_commit(struct xv_sim *s, struct xv_sim_region *r,
			     uint16_t domid, uint32_t count, bool writable,
			     int err, void **va, bool *mmap_failed)
{
	void *m = NULL;

	*mmap_failed = false;
	if (!err) {
		xv_sim_unlock(s);
		m = xv_sim_map_frames(s, domid, &r->idx[count], 1, count,
				      writable);
		if (m) {
			r->va = m;
			xv_sim_region_add(s, r);
			*va = m;
			return 0;
		}
		err = errno ? -errno : -ENOMEM;
		*mmap_failed = true;
		xv_sim_lock(s);
	}
	xv_sim_release_entries(s, r->idx, count);
	xv_sim_unlock(s);
	xv_sim_region_free(s, r);
	return err;
}

/*
 * The common start of a batched map (grant or foreign): take the pending
 * injected fault for @op (its element clamped into the batch), allocate
 * the region (idx[] for the maptrack entries, then the frame of each) and
 * lock the world. Returns 0 with the world locked; -ENOMEM; -ESRCH (not
 * locked, region freed) when @domid is not a live domain: the caller fills
 * its per-element status.
 */
static int xv_sim_map_begin(struct xv_sim *s, enum xenvirtio_sim_op op,
			    uint16_t domid, uint32_t count,
			    enum xv_sim_region_kind kind,
			    int *ferr, unsigned int *fidx,
			    struct xv_sim_region **out)
{
	struct xv_sim_region *r;

	*fidx = 0;
	*ferr = xv_sim_fault_hit(s, op, fidx);
	if (*ferr && *fidx >= count)
		*fidx = count - 1;
	r = xv_sim_region_new(s, count, 2 * count, kind);
	if (!r)
		return -ENOMEM;
	xv_sim_lock(s);
	if (!xv_sim_dom_ok(s, domid)) {
		xv_sim_unlock(s);
		xv_sim_region_free(s, r);
		return -ESRCH;
	}
	*out = r;
	return 0;
}

static int xv_sim_map_grants(struct xv_platform *p, uint16_t domid,
			     uint32_t count, const uint32_t *refs,
			     bool writable, void **va, int16_t *status)
{
	struct xv_sim *s = xv_sim_of(p);
	struct xv_sim_region *r;
	unsigned int fidx;
	int ferr, err;
	uint32_t *frames;
	uint32_t i;
	bool mmap_failed;

	if (!count || count > XV_SIM_MAX_BATCH || !refs || !va)
		return -EINVAL;
	err = xv_sim_map_begin(s, XENVIRTIO_SIM_OP_MAP, domid, count,
			       XV_SIM_REG_MAP, &ferr, &fidx, &r);
	if (err == -ESRCH)
		for (i = 0; status && i < count; i++)
			status[i] = XV_GNTST_BAD_DOMAIN;
	if (err)
		return err;
	frames = &r->idx[count];
	for (i = 0; i < count; i++) {
		int16_t st;

		r->idx[i] = XV_SIM_NONE;
		if (ferr && i == fidx) {
			st = xv_sim_errno_to_gntst(ferr);
		} else {
			st =
			    xv_sim_pin(s, domid, refs[i], writable, &frames[i]);
			if (st == XV_GNTST_OKAY) {
				r->idx[i] = xv_sim_mt_take(s, XV_SIM_MT_GRANT,
							   domid, refs[i],
							   frames[i], writable);
				if (r->idx[i] == XV_SIM_NONE) {
					xv_sim_unpin(s, domid, refs[i],
						     writable);
					st = XV_GNTST_NO_SPACE;
				}
			}
		}
		if (status)
			status[i] = st;
		if (st != XV_GNTST_OKAY && !err)
			err = ferr && i == fidx ? ferr : xv_gntst_to_errno(st);
	}
	err = xv_sim_map_commit(s, r, domid, count, writable, err, va,
				&mmap_failed);
	for (i = 0; mmap_failed && status && i < count; i++)
		status[i] = XV_GNTST_NO_DEVICE_SPACE;
	return err;
}

static int xv_sim_unmap_region(struct xv_sim *s, void *va, uint32_t count,
			       enum xv_sim_region_kind kind)
{
	struct xv_sim_region *r;

	r = xv_sim_region_find(s, va, count, kind, true);
	if (!r)
		return -EINVAL;
	munmap(va, (size_t)count * XV_PAGE_SIZE);
	xv_sim_lock(s);
	xv_sim_release_entries(s, r->idx, count);
	xv_sim_unlock(s);
	xv_sim_region_free(s, r);
	return 0;
}

static int xv_sim_unmap_grants(struct xv_platform *p, void *va, uint32_t count)
{
	return xv_sim_unmap_region(xv_sim_of(p), va, count, XV_SIM_REG_MAP);
}

static int16_t xv_sim_copy_one(struct xv_sim *s, struct xv_copy_seg *seg)
{
	uint32_t frame;
	int16_t st;
	ssize_t n;
	off_t off;

	if (!seg->local || seg->len < 1 || seg->len > XV_PAGE_SIZE ||
	    seg->offset >= XV_PAGE_SIZE ||
	    seg->offset + seg->len > XV_PAGE_SIZE)
		return XV_GNTST_BAD_COPY_ARG;
	if (!xv_sim_dom_ok(s, seg->domid))
		return XV_GNTST_BAD_DOMAIN;
	st = xv_sim_pin(s, seg->domid, seg->ref, seg->to_grant, &frame);
	if (st != XV_GNTST_OKAY)
		return st;
	off = xv_sim_frame_off(s, seg->domid, frame) + seg->offset;
	if (seg->to_grant)
		n = pwrite(s->fd, seg->local, seg->len, off);
	else
		n = pread(s->fd, seg->local, seg->len, off);
	xv_sim_unpin(s, seg->domid, seg->ref, seg->to_grant);
	if (n != (ssize_t)seg->len)
		return n < 0 && errno == EFAULT ? XV_GNTST_BAD_VIRT_ADDR
						: XV_GNTST_GENERAL_ERROR;
	return XV_GNTST_OKAY;
}

static int xv_sim_grant_copy(struct xv_platform *p, struct xv_copy_seg *segs,
			     uint32_t count)
{
	struct xv_sim *s = xv_sim_of(p);
	unsigned int fidx = 0;
	int ferr, err = 0;
	uint32_t i;

	if (!count)
		return 0;
	if (!segs || count > XV_SIM_MAX_BATCH)
		return -EINVAL;
	ferr = xv_sim_fault_hit(s, XENVIRTIO_SIM_OP_COPY, &fidx);
	if (ferr && fidx >= count)
		fidx = count - 1;
	xv_sim_lock(s);
	for (i = 0; i < count; i++) {
		if (ferr && i == fidx)
			segs[i].status = xv_sim_errno_to_gntst(ferr);
		else
			segs[i].status = xv_sim_copy_one(s, &segs[i]);
		if (segs[i].status != XV_GNTST_OKAY && !err)
			err = ferr && i == fidx
				  ? ferr
				  : xv_gntst_to_errno(segs[i].status);
	}
	xv_sim_unlock(s);
	return err;
}

/* ---- backend: foreign map (privileged) ---- */

static int xv_sim_map_foreign(struct xv_platform *p, uint16_t domid,
			      uint32_t count, const uint64_t *gfns,
			      bool writable, void **va, int *errs)
{
	struct xv_sim *s = xv_sim_of(p);
	struct xv_sim_region *r;
	unsigned int fidx;
	int ferr, err;
	uint32_t *frames, i;
	bool mmap_failed;

	if (!p->privileged)
		return -EPERM;
	if (!count || count > XV_SIM_MAX_BATCH || !gfns || !va)
		return -EINVAL;
	err = xv_sim_map_begin(s, XENVIRTIO_SIM_OP_FOREIGN_MAP, domid, count,
			       XV_SIM_REG_FOREIGN, &ferr, &fidx, &r);
	if (err == -ESRCH)
		for (i = 0; errs && i < count; i++)
			errs[i] = -ESRCH;
	if (err)
		return err;
	frames = &r->idx[count];
	for (i = 0; i < count; i++) {
		int e = 0;

		r->idx[i] = XV_SIM_NONE;
		if (ferr && i == fidx) {
			e = ferr;
		} else if (!xv_sim_gfn_to_frame(s, gfns[i], &frames[i])) {
			e = -EINVAL;
		} else {
			r->idx[i] = xv_sim_mt_take(s, XV_SIM_MT_FOREIGN, domid,
						   0, frames[i], writable);
			if (r->idx[i] == XV_SIM_NONE)
				e = -ENOSPC;
		}
		if (errs)
			errs[i] = e;
		if (e && !err)
			err = e;
	}
	return xv_sim_map_commit(s, r, domid, count, writable, err, va,
				 &mmap_failed);
}

static int xv_sim_unmap_foreign(struct xv_platform *p, void *va, uint32_t count)
{
	return xv_sim_unmap_region(xv_sim_of(p), va, count, XV_SIM_REG_FOREIGN);
}

static void xv_sim_spare_drop(struct xv_sim *s)
{
	struct xv_sim_region *r;

	while ((r = s->spare)) {
		s->spare = r->next;
		free(r);
	}
	s->nr_spare = 0;
}

void xv_sim_region_release_all(struct xv_sim *s)
{
	struct xv_sim_region *r;

	while ((r = s->regions)) {
		s->regions = r->next;
		munmap(r->va, (size_t)r->count * XV_PAGE_SIZE);
		if (r->kind == XV_SIM_REG_MAP ||
		    r->kind == XV_SIM_REG_FOREIGN) {
			xv_sim_lock(s);
			xv_sim_release_entries(s, r->idx, r->count);
			xv_sim_unlock(s);
		}
		free(r);
	}
	xv_sim_spare_drop(s);
}

void xv_sim_region_release_local(struct xv_sim *s)
{
	struct xv_sim_region *r;

	while ((r = s->regions)) {
		s->regions = r->next;
		munmap(r->va, (size_t)r->count * XV_PAGE_SIZE);
		free(r);
	}
	xv_sim_spare_drop(s);
}

static int xv_sim_open(struct xenvirtio_ctx *ctx, const char *args,
		       struct xv_platform **out)
{
	return xv_sim_attach(ctx, args, out);
}

static void xv_sim_close(struct xv_platform *p)
{
	xv_sim_detach(xv_sim_of(p));
}

const struct xv_platform_ops xv_platform_sim_ops = {
    .name = "sim",
    .open = xv_sim_open,
    .close = xv_sim_close,
    .frames_alloc = xv_sim_frames_alloc,
    .frames_free = xv_sim_frames_free,
    .frame_lookup = xv_sim_frame_lookup,
    .grant_access = xv_sim_grant_access,
    .end_access = xv_sim_end_access,
    .share_pages = xv_sim_share_pages,
    .unshare_pages = xv_sim_unshare_pages,
    .map_grants = xv_sim_map_grants,
    .unmap_grants = xv_sim_unmap_grants,
    .grant_copy = xv_sim_grant_copy,
    .map_foreign = xv_sim_map_foreign,
    .unmap_foreign = xv_sim_unmap_foreign,
    .evtchn_fd = xv_sim_evtchn_fd,
    .evtchn_alloc_unbound = xv_sim_evtchn_alloc_unbound,
    .evtchn_bind = xv_sim_evtchn_bind,
    .evtchn_unbind = xv_sim_evtchn_unbind,
    .evtchn_notify = xv_sim_evtchn_notify,
    .evtchn_pending = xv_sim_evtchn_pending,
    .evtchn_unmask = xv_sim_evtchn_unmask,
    .store_read = xv_sim_store_read,
    .store_write = xv_sim_store_write,
};
