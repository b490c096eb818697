/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Frontend grant ref allocator: single refs and runs of consecutive refs
 * (F4) out of the domain's grant table.
 *
 * Structure: two-level segregated fit (TLSF) over ranges of refs. Free
 * ranges sit in doubly linked lists, one per size class (16 linear classes
 * per power of two, exact below 32 refs); two bitmaps say which classes are
 * non-empty, so finding a fitting range is two find-first-set operations and
 * allocation and free are O(1) whatever the table size and occupancy:
 * allocation takes the head of the first class whose every range fits and
 * splits it, free coalesces with its neighbours through boundary tags (the
 * length at a free range's first ref, its start at its last ref).
 *
 * In front of that sits a small LIFO cache per run size 1..32 (64 runs
 * each): a freed single ref or short run is handed out again to the next
 * request of the same size without touching the lists, so the common case
 * reads and writes one word per ref run besides the cache itself - this keeps
 * the cost flat when the bookkeeping no longer fits in the CPU caches. When
 * the lists cannot satisfy a request, the cache is flushed into them
 * (coalescing) before the table grows or -ENOSPC is returned, so cached refs
 * never cause a false exhaustion; each cached run is flushed at most once per
 * free, so the flush is amortised O(1).
 *
 * A bitmap
 * with a word-at-a-time scan was the alternative; its run search grows with
 * the table and with fragmentation at high occupancy, which is exactly when
 * backpressure matters (F7). The price is 20 bytes of bookkeeping per ref
 * (4 for the allocation length, 16 for tags and links), sized for the
 * configured maximum at creation (640 KiB for Xen's default 32768 entries),
 * so allocation never touches the heap.
 *
 * Refs 0..7 are never handed out. The table starts with one frame of 512
 * entries and grows a frame at a time (as many frames as a run needs) up to
 * the maximum; past that, -ENOSPC. A free must name exactly one live
 * allocation (first ref and count): anything else - a double free, a ref in
 * the middle of a run, a ref never allocated - is -EINVAL and changes
 * nothing.
 */
#include "internal.h"
#include "platform.h"
#include "grant_internal.h"

#include <stdlib.h>
#include <string.h>

#define XV_GT_NIL UINT32_MAX
/* alen[] mark of a run parked in the quick cache: not live, not free. */
#define XV_GT_CACHED (1u << 31)

static inline unsigned int xv_fls32(uint32_t x)
{
	return 31 - (unsigned int)__builtin_clz(x);
}

static void gt_mapping(uint32_t n, unsigned int *fl, unsigned int *sl)
{
	unsigned int f;

	if (n < XV_GT_SL) {
		*fl = 0;
		*sl = n;
		return;
	}
	f = xv_fls32(n);
	*fl = f - XV_GT_SL_LOG2 + 1;
	*sl = (n >> (f - XV_GT_SL_LOG2)) - XV_GT_SL;
}

/* The class from which on every range holds at least @n refs. */
static void gt_mapping_search(uint32_t n, unsigned int *fl, unsigned int *sl)
{
	if (n >= XV_GT_SL) {
		uint32_t r = (1u << (xv_fls32(n) - XV_GT_SL_LOG2)) - 1;

		n += r; /* n <= XV_GNTTAB_LIMIT_MAX: no wrap */
	}
	gt_mapping(n, fl, sl);
}

static void gt_insert(struct xv_gnttab *gt, uint32_t s, uint32_t n)
{
	unsigned int fl, sl;
	uint32_t h;

	gt_mapping(n, &fl, &sl);
	h = gt->heads[fl][sl];
	gt->slot[s].next = h;
	gt->slot[s].prev = XV_GT_NIL;
	if (h != XV_GT_NIL)
		gt->slot[h].prev = s;
	gt->heads[fl][sl] = s;
	gt->fl_map |= 1u << fl;
	gt->sl_map[fl] |= 1u << sl;
	gt->slot[s].flen = n;
	gt->slot[s + n - 1].fend = s + 1;
}

static void gt_remove(struct xv_gnttab *gt, uint32_t s)
{
	uint32_t n = gt->slot[s].flen;
	uint32_t nx = gt->slot[s].next, pv = gt->slot[s].prev;
	unsigned int fl, sl;

	gt_mapping(n, &fl, &sl);
	if (nx != XV_GT_NIL)
		gt->slot[nx].prev = pv;
	if (pv != XV_GT_NIL) {
		gt->slot[pv].next = nx;
	} else {
		gt->heads[fl][sl] = nx;
		if (nx == XV_GT_NIL) {
			gt->sl_map[fl] &= ~(1u << sl);
			if (!gt->sl_map[fl])
				gt->fl_map &= ~(1u << fl);
		}
	}
	gt->slot[s].flen = 0;
	gt->slot[s + n - 1].fend = 0;
}

/* Free range [s, s + n), merged with free neighbours. */
static void gt_release(struct xv_gnttab *gt, uint32_t s, uint32_t n)
{
	uint32_t e;

	if (s > XV_GNTTAB_RESERVED && gt->slot[s - 1].fend) {
		uint32_t ls = gt->slot[s - 1].fend - 1;

		n += gt->slot[ls].flen;
		gt_remove(gt, ls);
		s = ls;
	}
	e = s + n;
	if (e < gt->limit && gt->slot[e].flen) {
		n += gt->slot[e].flen;
		gt_remove(gt, e);
	}
	gt_insert(gt, s, n);
}

static uint32_t gt_find(struct xv_gnttab *gt, uint32_t count)
{
	unsigned int fl, sl;
	uint32_t m;

	gt_mapping_search(count, &fl, &sl);
	if (fl >= XV_GT_FL)
		return XV_GT_NIL;
	m = gt->sl_map[fl] & (~0u << sl);
	if (!m) {
		m = fl + 1 < XV_GT_FL ? gt->fl_map & (~0u << (fl + 1)) : 0;
		if (!m)
			return XV_GT_NIL;
		fl = (unsigned int)__builtin_ctz(m);
		m = gt->sl_map[fl];
	}
	sl = (unsigned int)__builtin_ctz(m);
	return gt->heads[fl][sl];
}

/*
 * Slow path: ranges in @count's own class may fit though not all do. Only
 * reached when no larger class has a range and the table cannot grow.
 */
static uint32_t gt_find_exact(struct xv_gnttab *gt, uint32_t count)
{
	unsigned int fl, sl;
	uint32_t s;

	gt_mapping(count, &fl, &sl);
	for (s = gt->heads[fl][sl]; s != XV_GT_NIL; s = gt->slot[s].next)
		if (gt->slot[s].flen >= count)
			return s;
	return XV_GT_NIL;
}

/* Grow by whole frames so that a run of @count fits at the end. */
static bool gt_grow(struct xv_gnttab *gt, uint32_t count)
{
	uint32_t tail = 0, need, frames, nl;

	if (gt->limit >= gt->max)
		return false;
	if (gt->limit > XV_GNTTAB_RESERVED && gt->slot[gt->limit - 1].fend)
		tail = gt->slot[gt->slot[gt->limit - 1].fend - 1].flen;
	if (tail >= count)
		return false;
	need = count - tail;
	frames = (need + XV_GNTTAB_FRAME_ENTRIES - 1) / XV_GNTTAB_FRAME_ENTRIES;
	if (frames > (gt->max - gt->limit) / XV_GNTTAB_FRAME_ENTRIES)
		nl = gt->max;
	else
		nl = gt->limit + frames * XV_GNTTAB_FRAME_ENTRIES;
	xv_dbg(gt->ctx, "grant table: grows from %u to %u entries", gt->limit,
	       nl);
	{
		uint32_t old = gt->limit;

		gt->limit = nl;
		gt_release(gt, old, nl - old);
	}
	return true;
}

/* Return every cached run to the lists. */
static void gt_flush(struct xv_gnttab *gt)
{
	uint32_t n, i;

	for (n = 1; n <= XV_GT_QUICK_SIZES; n++) {
		for (i = 0; i < gt->quick_n[n]; i++) {
			gt->alen[gt->quick[n][i]] = 0;
			gt_release(gt, gt->quick[n][i], n);
		}
		gt->quick_n[n] = 0;
	}
	gt->quick_total = 0;
}

int xv_gnttab_create(const struct xenvirtio_ctx *ctx, uint32_t max_entries,
		     struct xv_gnttab **out)
{
	struct xv_gnttab *gt;
	unsigned int i, j;

	if (!out || max_entries <= XV_GNTTAB_RESERVED ||
	    max_entries > XV_GNTTAB_LIMIT_MAX)
		return -EINVAL;
	gt = calloc(1, sizeof(*gt));
	if (!gt)
		return -ENOMEM;
	gt->slot = calloc(max_entries, sizeof(*gt->slot));
	gt->alen = calloc(max_entries, sizeof(*gt->alen));
	if (!gt->slot || !gt->alen) {
		free(gt->alen);
		free(gt->slot);
		free(gt);
		return -ENOMEM;
	}
	if (pthread_mutex_init(&gt->lock, NULL)) {
		free(gt->alen);
		free(gt->slot);
		free(gt);
		return -ENOMEM;
	}
	gt->ctx = ctx;
	gt->max = max_entries;
	gt->quick_depth = XV_GT_QUICK_DEPTH;
	for (i = 0; i < XV_GT_FL; i++)
		for (j = 0; j < XV_GT_SL; j++)
			gt->heads[i][j] = XV_GT_NIL;
	gt->limit = XV_MIN(XV_GNTTAB_FRAME_ENTRIES, max_entries);
	gt_insert(gt, XV_GNTTAB_RESERVED, gt->limit - XV_GNTTAB_RESERVED);
	*out = gt;
	return 0;
}

void xv_gnttab_destroy(struct xv_gnttab *gt)
{
	if (!gt)
		return;
	pthread_mutex_destroy(&gt->lock);
	free(gt->meta);
	free(gt->alen);
	free(gt->slot);
	free(gt);
}

int xv_gnttab_get(struct xenvirtio_ctx *ctx, struct xv_gnttab **out)
{
	struct xv_platform *p = xv_plat(ctx);
	struct xv_gnttab *gt, *expected = NULL;
	uint32_t max;
	int r;

	if (!p || !out)
		return -EINVAL;
	gt = __atomic_load_n(&ctx->gnttab, __ATOMIC_ACQUIRE);
	if (gt) {
		*out = gt;
		return 0;
	}
	max = p->nr_grant_entries ? p->nr_grant_entries : XV_GNTTAB_DEFAULT_MAX;
	if (max > XV_GNTTAB_LIMIT_MAX)
		max = XV_GNTTAB_LIMIT_MAX;
	r = xv_gnttab_create(ctx, max, &gt);
	if (r < 0)
		return r;
	/* Two handles opened at once on one context: one table wins. */
	if (!__atomic_compare_exchange_n(&ctx->gnttab, &expected, gt, false,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		xv_gnttab_destroy(gt);
		gt = expected;
	}
	*out = gt;
	return 0;
}

int xv_gnttab_meta_init(struct xv_gnttab *gt)
{
	int r = 0;

	pthread_mutex_lock(&gt->lock);
	if (!gt->meta) {
		gt->meta = calloc(gt->max, sizeof(*gt->meta));
		if (!gt->meta)
			r = -ENOMEM;
	}
	pthread_mutex_unlock(&gt->lock);
	return r;
}

int xv_gnttab_alloc(struct xv_gnttab *gt, uint32_t count, uint32_t *ref)
{
	uint32_t s, n;

	if (!gt || !ref || !count || count > gt->max - XV_GNTTAB_RESERVED)
		return -EINVAL;
	pthread_mutex_lock(&gt->lock);
	if (count <= XV_GT_QUICK_SIZES && gt->quick_n[count]) {
		s = gt->quick[count][--gt->quick_n[count]];
		gt->quick_total--;
		goto out;
	}
	s = gt_find(gt, count);
	if (s == XV_GT_NIL && gt->quick_total) {
		gt_flush(gt);
		s = gt_find(gt, count);
	}
	if (s == XV_GT_NIL)
		s = gt_find_exact(gt, count);
	if (s == XV_GT_NIL && gt_grow(gt, count)) {
		s = gt_find(gt, count);
		if (s == XV_GT_NIL)
			s = gt_find_exact(gt, count);
	}
	if (s == XV_GT_NIL) {
		pthread_mutex_unlock(&gt->lock);
		return -ENOSPC;
	}
	n = gt->slot[s].flen;
	gt_remove(gt, s);
	if (n > count)
		gt_insert(gt, s + count, n - count);
out:
	gt->alen[s] = count;
	gt->in_use += count;
	pthread_mutex_unlock(&gt->lock);
	*ref = s;
	return 0;
}

int xv_gnttab_free(struct xv_gnttab *gt, uint32_t ref, uint32_t count)
{
	if (!gt || !count)
		return -EINVAL;
	pthread_mutex_lock(&gt->lock);
	/* a cached run carries XV_GT_CACHED, so a double free fails here */
	if (ref < XV_GNTTAB_RESERVED || ref >= gt->limit ||
	    count > gt->limit - ref || gt->alen[ref] != count) {
		pthread_mutex_unlock(&gt->lock);
		return -EINVAL;
	}
	gt->in_use -= count;
	if (count <= XV_GT_QUICK_SIZES &&
	    gt->quick_n[count] < gt->quick_depth) {
		gt->alen[ref] = count | XV_GT_CACHED;
		gt->quick[count][gt->quick_n[count]++] = ref;
		gt->quick_total++;
	} else {
		gt->alen[ref] = 0;
		gt_release(gt, ref, count);
	}
	pthread_mutex_unlock(&gt->lock);
	return 0;
}

uint32_t xv_gnttab_size(struct xv_gnttab *gt)
{
	uint32_t v;

	pthread_mutex_lock(&gt->lock);
	v = gt->limit;
	pthread_mutex_unlock(&gt->lock);
	return v;
}

uint32_t xv_gnttab_in_use(struct xv_gnttab *gt)
{
	uint32_t v;

	pthread_mutex_lock(&gt->lock);
	v = gt->in_use;
	pthread_mutex_unlock(&gt->lock);
	return v;
}
