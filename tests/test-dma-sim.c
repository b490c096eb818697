/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * DMA layer against the simulated platform, with a real backend context
 * mapping the grants, in both frontend modes (_i = 0: the library writes
 * the grant table; _i = 1: "refs=kernel", the platform picks refs as
 * gntalloc does). Checks G3 (RO/RW by direction, seen in the sim's grant
 * entries and enforced on the backend's map), bounce both ways, F1, F2, F3,
 * F4, F7, and undo of partial work when the platform fails mid-map.
 */
#include "xv-test.h"

#include "platform.h"
#include "sim_world.h"
#include "grant_internal.h"

#include <xenvirtio/dma.h>

#include "dma-sim-world.h"

static void world(bool kernel_refs, unsigned int entries)
{
	dma_world(kernel_refs ? ",refs=kernel" : "", 256, entries,
		  XENVIRTIO_LOG_WARNING);
	ck_assert(kernel_refs == !(fp->caps & XV_CAP_GRANT_TABLE));
}

static struct xenvirtio_dma *open_dma(void)
{
	struct xenvirtio_dma *dma = NULL;

	ck_assert_int_eq(xenvirtio_dma_open(front, BACK, &dma), 0);
	return dma;
}

static uint32_t ref_of(uint64_t addr)
{
	uint32_t ref, off;

	ck_assert_int_eq(xenvirtio_grant_addr_decode(addr, &ref, &off), 0);
	return ref;
}

static uint32_t off_of(uint64_t addr)
{
	return (uint32_t)(addr & 0xfff);
}

/* The frontend's grant entry as the world holds it. */
static uint16_t entry_flags(uint32_t ref, uint16_t *domid)
{
	struct xv_sim_gnt *g = &xv_sim_gnttab(xv_sim_of(fp), FRONT)[ref];
	uint32_t w = __atomic_load_n(&g->word, __ATOMIC_ACQUIRE);

	if (domid)
		*domid = (uint16_t)(w >> 16);
	return XV_SIM_GNT_FLAGS(w);
}

static uint32_t live_entries(void)
{
	struct xv_sim *s = xv_sim_of(fp);
	uint32_t r, n = 0;

	for (r = 0; r < s->hdr->grant_entries; r++)
		n += (entry_flags(r, NULL) & XV_GTF_TYPE_MASK) != 0;
	return n;
}

/* Backend: map @count refs from @ref (consecutive) in one call. */
static int bmap(const uint32_t *refs, uint32_t count, bool writable,
		uint8_t **va)
{
	int16_t st[16];

	ck_assert_uint_le(count, 16);
	return XV_PLAT_CALL(bp, map_grants, FRONT, count, refs, writable,
			    (void **)va, st);
}

static uint8_t *bmap_run(uint32_t ref, uint32_t count, bool writable)
{
	uint32_t refs[16], i;
	uint8_t *va = NULL;
	int r;

	for (i = 0; i < count; i++)
		refs[i] = ref + i;
	r = bmap(refs, count, writable, &va);
	ck_assert_msg(r == 0, "map_grants: %s", xenvirtio_strerror(r));
	return va;
}

static void bunmap(uint8_t *va, uint32_t count)
{
	ck_assert_int_eq(XV_PLAT_CALL(bp, unmap_grants, va, count), 0);
}

/* Frames a segment covers (refs seg_ref .. + n - 1). */
static uint32_t seg_frames(const struct xenvirtio_dma_seg *s)
{
	return (off_of(s->addr) + s->len + 4095) / 4096;
}

/* G3: TO_DEVICE grants are read-only in the entry and refuse a writable
 * map; the other directions are read-write; all name the backend. */
START_TEST(test_G3_readonly_by_direction_sim)
{
	static const enum xenvirtio_dma_dir dirs[] = {
	    XENVIRTIO_DMA_TO_DEVICE, XENVIRTIO_DMA_FROM_DEVICE,
	    XENVIRTIO_DMA_BIDIRECTIONAL};
	struct xenvirtio_dma *dma;
	char *buf = aligned_alloc(4096, 4096);
	unsigned int d;

	world(_i, 256);
	dma = open_dma();
	ck_assert_ptr_nonnull(buf);
	memset(buf, 0x42, 4096);
	for (d = 0; d < 3; d++) {
		struct xenvirtio_dma_seg seg;
		uint16_t domid = 99, fl;
		uint32_t ref;
		uint8_t *va;
		bool ro = dirs[d] == XENVIRTIO_DMA_TO_DEVICE;

		memset(buf, 0x42, 4096); /* FROM_DEVICE copied back zeroes */
		ck_assert_int_eq(
		    xenvirtio_dma_map(dma, buf + 16, 64, dirs[d], &seg, 1), 1);
		ref = ref_of(seg.addr);
		fl = entry_flags(ref, &domid);
		ck_assert_uint_eq(fl & XV_GTF_TYPE_MASK, XV_GTF_permit_access);
		ck_assert_uint_eq(!!(fl & XV_GTF_readonly), ro);
		ck_assert_uint_eq(domid, BACK);
		ck_assert_int_eq(bmap(&ref, 1, true, &va), ro ? -EPERM : 0);
		if (ro)
			va = bmap_run(ref, 1, false);
		ck_assert_uint_eq(va[16], (ro || (dirs[d] & 1)) ? 0x42 : 0);
		bunmap(va, 1);
		ck_assert_int_eq(xenvirtio_dma_unmap(dma, &seg, 1, dirs[d]), 0);
		ck_assert_uint_eq(entry_flags(ref, NULL), 0); /* revoked */
	}
	free(buf);
	world_end(dma);
}
END_TEST

/* Bounce both ways through a real backend mapping: it reads what the
 * caller wrote, the caller reads back what it wrote, nothing overruns. */
START_TEST(test_F2_bounce_both_directions_sim)
{
	struct xenvirtio_dma *dma;
	struct xenvirtio_dma_seg segs[8];
	const size_t len = 9000;
	uint8_t *mem = malloc(len + 8192), *buf;
	size_t i, pos = 0;
	int n, s;

	world(_i, 256);
	dma = open_dma();
	ck_assert_ptr_nonnull(mem);
	buf = mem + 3000;
	memset(mem, 0xee, len + 8192);
	for (i = 0; i < len; i++)
		buf[i] = (uint8_t)(i * 13 + 1);
	n = xenvirtio_dma_map(dma, buf, len, XENVIRTIO_DMA_BIDIRECTIONAL, segs,
			      8);
	ck_assert_int_ge(n, 1);
	ck_assert_int_eq(
	    n, _i ? (int)((((uintptr_t)buf & 4095) + len + 4095) / 4096) : 1);
	for (s = 0; s < n; s++) {
		uint32_t nf = seg_frames(&segs[s]);
		uint8_t *va = bmap_run(ref_of(segs[s].addr), nf, true);
		uint8_t *p = va + off_of(segs[s].addr);

		for (i = 0; i < segs[s].len; i++) {
			ck_assert_uint_eq(p[i], (uint8_t)((pos + i) * 13 + 1));
			p[i] = (uint8_t)(pos + i);
		}
		pos += segs[s].len;
		bunmap(va, nf);
	}
	ck_assert_uint_eq(pos, len);
	ck_assert_int_eq(xenvirtio_dma_unmap(dma, segs, (unsigned int)n,
					     XENVIRTIO_DMA_BIDIRECTIONAL),
			 0);
	for (i = 0; i < len; i++)
		ck_assert_uint_eq(buf[i], (uint8_t)i);
	for (i = 0; i < 3000; i++)
		ck_assert_uint_eq(mem[i], 0xee);
	for (i = 3000 + len; i < len + 8192; i++)
		ck_assert_uint_eq(mem[i], 0xee);
	ck_assert_uint_eq(live_entries(), 0);
	free(mem);
	world_end(dma);
}
END_TEST

/* F1/F5: FROM_DEVICE frames the backend maps hold only zeroes, even when
 * the same bounce frames just carried other data. */
START_TEST(test_F1_zeroed_before_grant_sim)
{
	struct xenvirtio_dma *dma;
	struct xenvirtio_dma_seg segs[4];
	char *secret = malloc(3 * 4096), *in = malloc(5000);
	int n, s;
	uint32_t b;

	world(_i, 256);
	dma = open_dma();
	ck_assert_ptr_nonnull(secret);
	ck_assert_ptr_nonnull(in);
	memset(secret, 0x77, 3 * 4096);
	n = xenvirtio_dma_map(dma, secret, 3 * 4096 - 100,
			      XENVIRTIO_DMA_TO_DEVICE, segs, 4);
	ck_assert_int_ge(n, 1);
	ck_assert_int_eq(xenvirtio_dma_unmap(dma, segs, (unsigned int)n,
					     XENVIRTIO_DMA_TO_DEVICE),
			 0);
	n = xenvirtio_dma_map(dma, in, 5000, XENVIRTIO_DMA_FROM_DEVICE, segs,
			      4);
	ck_assert_int_ge(n, 1);
	for (s = 0; s < n; s++) {
		uint32_t nf = seg_frames(&segs[s]);
		uint8_t *va = bmap_run(ref_of(segs[s].addr), nf, false);

		for (b = 0; b < nf * 4096; b++)
			ck_assert_uint_eq(va[b], 0);
		bunmap(va, nf);
	}
	ck_assert_int_eq(xenvirtio_dma_unmap(dma, segs, (unsigned int)n,
					     XENVIRTIO_DMA_FROM_DEVICE),
			 0);
	free(secret);
	free(in);
	world_end(dma);
}
END_TEST

/* F2: a buffer inside grantable memory at an offset: the whole middle
 * frame is granted in place, the partial edge frames are bounced and show
 * zeroes, not the neighbouring bytes. */
START_TEST(test_F2_partial_page_bounce_sim)
{
	struct xenvirtio_dma *dma;
	struct xenvirtio_dma_seg seg;
	uint8_t *mem, *va;
	uint64_t daddr;
	uint32_t b, ref;

	world(0, 256);
	dma = open_dma();
	ck_assert_int_eq(
	    xenvirtio_dma_alloc_coherent(dma, 3 * 4096, (void **)&mem, &daddr),
	    0);
	memset(mem, 0xaa, 3 * 4096);
	memset(mem + 2000, 0x11, 6000); /* 2000..7999: frames 0, 1 */
	memset(mem + 4096, 0x11, 4096); /* frame 1 whole */
	ck_assert_int_eq(xenvirtio_dma_map(dma, mem + 2000, 4096 + 2096 + 4096,
					   XENVIRTIO_DMA_FROM_DEVICE, &seg, 1),
			 1);
	/* 2000..12287: frame 0 part, frames 1 and 2 whole */
	ck_assert_int_eq(
	    xenvirtio_dma_counter(dma, XENVIRTIO_DMA_CNT_INPLACE_FRAMES), 2);
	ck_assert_int_eq(
	    xenvirtio_dma_counter(dma, XENVIRTIO_DMA_CNT_BOUNCE_FRAMES), 1);
	ref = ref_of(seg.addr);
	ck_assert_uint_eq(off_of(seg.addr), 2000);
	va = bmap_run(ref, 3, true);
	for (b = 0; b < 2000; b++)
		ck_assert_uint_eq(va[b], 0); /* no neighbour bytes */
	for (b = 2000; b < 4096; b++)
		ck_assert_uint_eq(va[b], 0); /* FROM_DEVICE: zero, not 0x11 */
	/* in place: the backend writes straight into the coherent frame */
	va[4096 + 5] = 0x5e;
	ck_assert_uint_eq(mem[4096 + 5], 0x5e);
	va[2001] = 0x99;
	bunmap(va, 3);
	ck_assert_uint_eq(mem[2001], 0x11); /* bounced: not yet */
	ck_assert_int_eq(
	    xenvirtio_dma_unmap(dma, &seg, 1, XENVIRTIO_DMA_FROM_DEVICE), 0);
	ck_assert_uint_eq(mem[2001], 0x99);
	ck_assert_uint_eq(mem[1999], 0xaa); /* neighbour untouched */
	ck_assert_int_eq(xenvirtio_dma_free_coherent(dma, mem, 3 * 4096, daddr),
			 0);
	ck_assert_uint_eq(live_entries(), 0);
	world_end(dma);
}
END_TEST

/* F3: the backend keeps a frame mapped across the frontend's unmap: -EIO,
 * the grant stays (leaked), the handle is broken; after the backend lets
 * go the frame is still never reused. */
START_TEST(test_F3_busy_at_revoke_sim)
{
	struct xenvirtio_dma *dma, *other;
	struct xenvirtio_dma_seg seg, many[64];
	/* page-aligned: the mapping covers one frame whatever the stack */
	static char buf[256] __attribute__((aligned(4096)));
	uint32_t ref, i;
	uint8_t *va;
	int r;

	world(_i, 64);
	dma = open_dma();
	ck_assert_int_eq(xenvirtio_dma_map(dma, buf, 100,
					   XENVIRTIO_DMA_FROM_DEVICE, &seg, 1),
			 1);
	ref = ref_of(seg.addr);
	va = bmap_run(ref, 1, true);
	xv_test_expect_errors(1);
	ck_assert_int_eq(
	    xenvirtio_dma_unmap(dma, &seg, 1, XENVIRTIO_DMA_FROM_DEVICE), -EIO);
	ck_assert_int_eq(xenvirtio_dma_broken(dma), -EIO);
	ck_assert_int_eq(
	    xenvirtio_dma_counter(dma, XENVIRTIO_DMA_CNT_LEAKED_FRAMES), 1);
	ck_assert_uint_ne(entry_flags(ref, NULL) & XV_GTF_TYPE_MASK, 0);
	ck_assert_int_eq(
	    xenvirtio_dma_map(dma, buf, 10, XENVIRTIO_DMA_TO_DEVICE, &seg, 1),
	    -EIO);
	bunmap(va, 1);
	/* still granted after the backend let go: leaked for good */
	ck_assert_uint_ne(entry_flags(ref, NULL) & XV_GTF_TYPE_MASK, 0);
	other = open_dma();
	for (i = 0; i < 64; i++) {
		r = xenvirtio_dma_map(other, buf, 1, XENVIRTIO_DMA_TO_DEVICE,
				      &many[i], 1);
		if (r == -ENOSPC)
			break;
		ck_assert_int_eq(r, 1);
		ck_assert_uint_ne(ref_of(many[i].addr), ref);
	}
	ck_assert_uint_eq(i, 64 - 8 - 1);
	while (i--)
		ck_assert_int_eq(xenvirtio_dma_unmap(other, &many[i], 1,
						     XENVIRTIO_DMA_TO_DEVICE),
				 0);
	xenvirtio_dma_close(other);
	xv_test_expect_errors(-1);
	world_end(dma);
}
END_TEST

/* F4: multi-frame buffers and coherent memory are one grant address over
 * consecutive refs, which the backend maps in one batched call. With
 * platform-picked refs a multi-frame coherent area is refused honestly. */
START_TEST(test_F4_consecutive_refs_sim)
{
	struct xenvirtio_dma *dma;
	struct xenvirtio_dma_seg seg;
	uint8_t *mem, *va;
	uint64_t daddr = 0x77;
	char *big = malloc(5 * 4096 + 1);
	uint32_t k, nf;

	world(_i, 256);
	dma = open_dma();
	ck_assert_ptr_nonnull(big);
	if (_i) {
		ck_assert_int_eq(xenvirtio_dma_alloc_coherent(
				     dma, 2 * 4096, (void **)&mem, &daddr),
				 -EOPNOTSUPP);
		ck_assert_uint_eq(daddr, 0x77);
		ck_assert_uint_eq(live_entries(), 0);
		ck_assert_int_eq(xenvirtio_dma_alloc_coherent(
				     dma, 4096, (void **)&mem, &daddr),
				 0);
		va = bmap_run(ref_of(daddr), 1, true);
		va[7] = 7;
		ck_assert_uint_eq(mem[7], 7);
		bunmap(va, 1);
		ck_assert_int_eq(
		    xenvirtio_dma_free_coherent(dma, mem, 4096, daddr), 0);
		ck_assert_uint_eq(live_entries(), 0);
		free(big);
		world_end(dma);
		return;
	}
	ck_assert_int_eq(
	    xenvirtio_dma_alloc_coherent(dma, 3 * 4096, (void **)&mem, &daddr),
	    0);
	for (k = 0; k < 3 * 4096; k++)
		ck_assert_uint_eq(mem[k], 0);
	va = bmap_run(ref_of(daddr), 3, true);
	for (k = 0; k < 3 * 4096; k += 1000)
		va[k] = (uint8_t)(k / 1000 + 1);
	for (k = 0; k < 3 * 4096; k += 1000)
		ck_assert_uint_eq(mem[k], (uint8_t)(k / 1000 + 1));
	bunmap(va, 3);
	for (k = 0; k < 5 * 4096 + 1; k++)
		big[k] = (char)(k % 251);
	ck_assert_int_eq(xenvirtio_dma_map(dma, big, 5 * 4096 + 1,
					   XENVIRTIO_DMA_TO_DEVICE, &seg, 1),
			 1);
	nf = seg_frames(&seg);
	va = bmap_run(ref_of(seg.addr), nf, false);
	for (k = 0; k < 5 * 4096 + 1; k++)
		ck_assert_uint_eq(va[off_of(seg.addr) + k], (uint8_t)(k % 251));
	bunmap(va, nf);
	ck_assert_int_eq(
	    xenvirtio_dma_unmap(dma, &seg, 1, XENVIRTIO_DMA_TO_DEVICE), 0);
	ck_assert_int_eq(xenvirtio_dma_free_coherent(dma, mem, 3 * 4096, daddr),
			 0);
	ck_assert_uint_eq(live_entries(), 0);
	free(big);
	world_end(dma);
}
END_TEST

/* F7: a small table runs out: -ENOSPC, not broken, and an unmap lets the
 * next map through. */
START_TEST(test_F7_backpressure_sim)
{
	struct xenvirtio_dma *dma;
	struct xenvirtio_dma_seg segs[40];
	/* page-aligned: the mapping covers one frame whatever the stack */
	static char buf[32] __attribute__((aligned(4096)));
	int n = 0, r;

	world(_i, 40);
	dma = open_dma();
	while (n < 40 &&
	       (r = xenvirtio_dma_map(dma, buf, 8, XENVIRTIO_DMA_TO_DEVICE,
				      &segs[n], 1)) == 1)
		n++;
	ck_assert_int_eq(r, -ENOSPC);
	ck_assert_int_eq(n, 32);
	ck_assert_int_eq(xenvirtio_dma_broken(dma), 0);
	ck_assert_int_eq(xenvirtio_dma_counter(dma, XENVIRTIO_DMA_CNT_ENOSPC),
			 1);
	ck_assert_int_eq(
	    xenvirtio_dma_unmap(dma, &segs[3], 1, XENVIRTIO_DMA_TO_DEVICE), 0);
	ck_assert_int_eq(xenvirtio_dma_map(dma, buf, 8, XENVIRTIO_DMA_TO_DEVICE,
					   &segs[3], 1),
			 1);
	while (n--)
		ck_assert_int_eq(xenvirtio_dma_unmap(dma, &segs[n], 1,
						     XENVIRTIO_DMA_TO_DEVICE),
				 0);
	ck_assert_uint_eq(live_entries(), 0);
	world_end(dma);
}
END_TEST

/* A platform failure in the middle of a multi-frame map undoes the frames
 * already granted: no entry stays, the refs are free again. */
START_TEST(test_map_failure_undoes_partial_work_sim)
{
	struct xenvirtio_dma *dma;
	struct xenvirtio_dma_seg segs[4];
	char *buf = malloc(3 * 4096);
	int n;

	world(_i, 256);
	dma = open_dma();
	ck_assert_ptr_nonnull(buf);
	ck_assert_int_eq(
	    xenvirtio_sim_inject_fault(front, XENVIRTIO_SIM_OP_GRANT_ACCESS, 2,
				       -EAGAIN, 0, 0),
	    0);
	ck_assert_int_eq(xenvirtio_dma_map(dma, buf, 2 * 4096 + 10,
					   XENVIRTIO_DMA_TO_DEVICE, segs, 4),
			 -EAGAIN);
	ck_assert_uint_eq(live_entries(), 0);
	ck_assert_int_eq(xenvirtio_dma_broken(dma), 0);
	if (!_i)
		ck_assert_uint_eq(xv_gnttab_in_use(front->gnttab), 0);
	n = xenvirtio_dma_map(dma, buf, 2 * 4096 + 10, XENVIRTIO_DMA_TO_DEVICE,
			      segs, 4);
	ck_assert_int_ge(n, 1);
	ck_assert_int_eq(xenvirtio_dma_unmap(dma, segs, (unsigned int)n,
					     XENVIRTIO_DMA_TO_DEVICE),
			 0);
	free(buf);
	world_end(dma);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("dma-sim");
	TCase *tc = tcase_create("sim");

	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, test_G3_readonly_by_direction_sim, 0, 2);
	tcase_add_loop_test(tc, test_F2_bounce_both_directions_sim, 0, 2);
	tcase_add_loop_test(tc, test_F1_zeroed_before_grant_sim, 0, 2);
	tcase_add_test(tc, test_F2_partial_page_bounce_sim);
	tcase_add_loop_test(tc, test_F3_busy_at_revoke_sim, 0, 2);
	tcase_add_loop_test(tc, test_F4_consecutive_refs_sim, 0, 2);
	tcase_add_loop_test(tc, test_F7_backpressure_sim, 0, 2);
	tcase_add_loop_test(tc, test_map_failure_undoes_partial_work_sim, 0, 2);
	suite_add_tcase(s, tc);
	return xv_test_run(s);
}
