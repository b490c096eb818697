/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * No-grant DMA mode (XENVIRTIO_DMA_F_NO_GRANTS) against the simulated
 * platform: a frontend domain 1 and the privileged domain 0 of the same
 * world, which reads and writes the frontend's frames through foreign
 * mappings by guest frame number, as a backend with "no grants" does.
 * Checks that addresses are plain guest-physical ones naming the right
 * frames, F1/F2 (bounce of non-platform memory and of partial frames, zero
 * around the buffer), F4 (coherent memory on consecutive frame numbers),
 * F7 (backpressure at the configured bounce pool size, in both modes),
 * unmap validation and the open_ex argument errors.
 */
#include "xv-test.h"

#include "platform.h"

#include <xenvirtio/dma.h>

#include "dma-sim-world.h"

static void world(const char *front_opts)
{
	dma_world(front_opts, 512, 256, XENVIRTIO_LOG_ERR);
}

static struct xenvirtio_dma *open_ng(unsigned int pool)
{
	struct xenvirtio_dma *dma = NULL;

	ck_assert_int_eq(xenvirtio_dma_open_ex(front, BACK,
					       XENVIRTIO_DMA_F_NO_GRANTS, pool,
					       &dma),
			 0);
	ck_assert_ptr_nonnull(dma);
	return dma;
}

/* The backend maps @count frames from the frame of @addr, by number. */
static uint8_t *fmap(uint64_t addr, uint32_t count, bool writable)
{
	uint64_t gfns[16];
	uint8_t *va = NULL;
	uint32_t i;
	int r;

	ck_assert_uint_le(count, 16);
	ck_assert_uint_eq(addr >> 63, 0); /* plain, not a grant address */
	for (i = 0; i < count; i++)
		gfns[i] = (addr >> 12) + i;
	r = XV_PLAT_CALL(bp, map_foreign, FRONT, count, gfns, writable,
			 (void **)&va, NULL);
	ck_assert_msg(r == 0, "map_foreign: %s", xenvirtio_strerror(r));
	return va;
}

static void funmap(uint8_t *va, uint32_t count)
{
	ck_assert_int_eq(XV_PLAT_CALL(bp, unmap_foreign, va, count), 0);
}

static uint64_t gfn_of(const void *va)
{
	uint64_t gfn;

	ck_assert_int_eq(XV_PLAT_CALL(fp, frame_lookup, va, &gfn), 0);
	return gfn;
}

/*
 * Coherent memory and whole platform frames are addressed in place by
 * their own frame numbers (gfn << 12 | offset, bit 63 clear); the
 * privileged backend's foreign map of those numbers sees the frontend's
 * bytes and the frontend sees the backend's. Nothing is granted.
 */
START_TEST(test_nogrant_addresses_are_guest_physical)
{
	struct xenvirtio_dma *dma;
	struct xenvirtio_dma_seg seg;
	uint8_t *mem, *va;
	uint64_t daddr;
	uint32_t i;

	world("");
	dma = open_ng(0);
	ck_assert_int_eq(
	    xenvirtio_dma_alloc_coherent(dma, 3 * 4096, (void **)&mem, &daddr),
	    0);
	ck_assert_uint_eq(daddr >> 63, 0);
	ck_assert_uint_eq(daddr & 0xfff, 0);
	for (i = 0; i < 3; i++) /* F4: consecutive frame numbers */
		ck_assert_uint_eq(gfn_of(mem + i * 4096), (daddr >> 12) + i);
	for (i = 0; i < 3 * 4096; i++)
		ck_assert_uint_eq(mem[i], 0); /* F1 */
	for (i = 0; i < 3 * 4096; i++)
		mem[i] = (uint8_t)(i * 7 + 1);
	va = fmap(daddr, 3, true);
	for (i = 0; i < 3 * 4096; i++)
		ck_assert_uint_eq(va[i], (uint8_t)(i * 7 + 1));
	va[8191] = 0x42;
	ck_assert_uint_eq(mem[8191], 0x42);
	funmap(va, 3);

	/* a whole frame of it, mapped: in place, its own address */
	ck_assert_int_eq(xenvirtio_dma_map(dma, mem + 4096, 4096,
					   XENVIRTIO_DMA_FROM_DEVICE, &seg, 1),
			 1);
	ck_assert_uint_eq(seg.addr, daddr + 4096);
	ck_assert_uint_eq(seg.len, 4096);
	ck_assert_int_eq(
	    xenvirtio_dma_counter(dma, XENVIRTIO_DMA_CNT_INPLACE_FRAMES), 1);
	ck_assert_int_eq(
	    xenvirtio_dma_counter(dma, XENVIRTIO_DMA_CNT_BOUNCE_FRAMES), 0);
	va = fmap(seg.addr, 1, true);
	va[5] = 0x5e;
	ck_assert_uint_eq(mem[4096 + 5], 0x5e);
	funmap(va, 1);
	ck_assert_int_eq(
	    xenvirtio_dma_unmap(dma, &seg, 1, XENVIRTIO_DMA_FROM_DEVICE), 0);
	ck_assert_int_eq(xenvirtio_dma_counter(dma, XENVIRTIO_DMA_CNT_MAPS), 1);
	ck_assert_int_eq(xenvirtio_dma_counter(dma, XENVIRTIO_DMA_CNT_UNMAPS),
			 1);
	ck_assert_int_eq(xenvirtio_dma_free_coherent(dma, mem, 3 * 4096, daddr),
			 0);
	world_end(dma);
}
END_TEST

/*
 * F1/F2: malloc memory is bounced through pool frames, one run of them, so
 * a multi-frame buffer is one segment; the backend sees the buffer at the
 * same in-frame offset and zeroes around it (TO_DEVICE), or only zeroes
 * (FROM_DEVICE), and what it writes reaches the buffer at unmap, without
 * touching the neighbours.
 */
START_TEST(test_F2_nogrant_bounce_both_directions)
{
	struct xenvirtio_dma *dma;
	struct xenvirtio_dma_seg seg[4];
	uint8_t *raw = malloc(6 * 4096), *buf, *va;
	uint32_t off, len = 2 * 4096 + 100, i, n;

	ck_assert_ptr_nonnull(raw);
	world("");
	dma = open_ng(0);
	/* a buffer at in-frame offset 300, frames 0..2 partly its */
	buf = (uint8_t *)(((uintptr_t)raw + 4095) & ~(uintptr_t)4095) + 300;
	memset(buf - 300, 0xee, 4 * 4096); /* neighbours: must not leak */
	for (i = 0; i < len; i++)
		buf[i] = (uint8_t)(i * 13 + 5);
	ck_assert_int_eq(
	    xenvirtio_dma_map(dma, buf, len, XENVIRTIO_DMA_TO_DEVICE, seg, 4),
	    1);
	off = (uint32_t)(seg[0].addr & 0xfff);
	ck_assert_uint_eq(off, 300);
	ck_assert_uint_eq(seg[0].len, len);
	n = (off + len + 4095) / 4096;
	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(
	    xenvirtio_dma_counter(dma, XENVIRTIO_DMA_CNT_BOUNCE_FRAMES), 3);
	ck_assert_int_eq(
	    xenvirtio_dma_counter(dma, XENVIRTIO_DMA_CNT_BOUNCE_FREE), 61);
	va = fmap(seg[0].addr, n, false);
	for (i = 0; i < n * 4096; i++) {
		if (i >= off && i < off + len)
			ck_assert_uint_eq(va[i], (uint8_t)((i - off) * 13 + 5));
		else
			ck_assert_uint_eq(va[i], 0); /* F2: no 0xee */
	}
	funmap(va, n);
	ck_assert_int_eq(
	    xenvirtio_dma_unmap(dma, seg, 1, XENVIRTIO_DMA_TO_DEVICE), 0);
	ck_assert_int_eq(
	    xenvirtio_dma_counter(dma, XENVIRTIO_DMA_CNT_BOUNCE_FREE), 64);

	/* FROM_DEVICE: the backend sees zeroes, its bytes come back */
	ck_assert_int_eq(
	    xenvirtio_dma_map(dma, buf, len, XENVIRTIO_DMA_FROM_DEVICE, seg, 4),
	    1);
	va = fmap(seg[0].addr, n, true);
	for (i = 0; i < n * 4096; i++)
		ck_assert_uint_eq(va[i], 0); /* F1: not the old contents */
	for (i = 0; i < n * 4096; i++)
		va[i] = (uint8_t)(i ^ 0x5a);
	funmap(va, n);
	ck_assert_uint_eq(buf[0], (uint8_t)(0 * 13 + 5)); /* not yet */
	ck_assert_int_eq(
	    xenvirtio_dma_unmap(dma, seg, 1, XENVIRTIO_DMA_FROM_DEVICE), 0);
	for (i = 0; i < len; i++)
		ck_assert_uint_eq(buf[i], (uint8_t)((i + off) ^ 0x5a));
	ck_assert_uint_eq(buf[-1], 0xee); /* neighbours untouched */
	ck_assert_uint_eq(buf[len], 0xee);
	world_end(dma);
	free(raw);
}
END_TEST

/*
 * F2 with platform memory: a buffer covering frame 0 of a coherent area
 * only partly is bounced there (zeroes around it), frames 1 and 2 go in
 * place: two segments, the bounced part first. The segment count is fixed
 * by the buffer, so one segment is never enough (-E2BIG, nothing mapped).
 */
START_TEST(test_F2_nogrant_partial_page_bounce)
{
	struct xenvirtio_dma *dma;
	struct xenvirtio_dma_seg segs[4];
	uint8_t *mem, *va;
	uint64_t daddr;
	uint32_t b;

	world("");
	dma = open_ng(0);
	ck_assert_int_eq(
	    xenvirtio_dma_alloc_coherent(dma, 3 * 4096, (void **)&mem, &daddr),
	    0);
	memset(mem, 0xaa, 3 * 4096);
	memset(mem + 2000, 0x11, 3 * 4096 - 2000);
	ck_assert_int_eq(xenvirtio_dma_map(dma, mem + 2000, 3 * 4096 - 2000,
					   XENVIRTIO_DMA_BIDIRECTIONAL, segs,
					   1),
			 -E2BIG);
	ck_assert_int_eq(xenvirtio_dma_counter(dma, XENVIRTIO_DMA_CNT_MAPS), 0);
	ck_assert_int_eq(
	    xenvirtio_dma_counter(dma, XENVIRTIO_DMA_CNT_BOUNCE_FREE), 64);
	ck_assert_int_eq(xenvirtio_dma_map(dma, mem + 2000, 3 * 4096 - 2000,
					   XENVIRTIO_DMA_BIDIRECTIONAL, segs,
					   4),
			 2);
	ck_assert_uint_eq(segs[0].addr & 0xfff, 2000);
	ck_assert_uint_eq(segs[0].len, 4096 - 2000);
	ck_assert(segs[0].addr >> 12 != daddr >> 12);  /* a pool frame */
	ck_assert_uint_eq(segs[1].addr, daddr + 4096); /* in place */
	ck_assert_uint_eq(segs[1].len, 2 * 4096);
	ck_assert_int_eq(
	    xenvirtio_dma_counter(dma, XENVIRTIO_DMA_CNT_INPLACE_FRAMES), 2);
	ck_assert_int_eq(
	    xenvirtio_dma_counter(dma, XENVIRTIO_DMA_CNT_BOUNCE_FRAMES), 1);
	va = fmap(segs[0].addr, 1, true);
	for (b = 0; b < 2000; b++)
		ck_assert_uint_eq(va[b], 0); /* not 0xaa: F2 */
	for (b = 2000; b < 4096; b++)
		ck_assert_uint_eq(va[b], 0x11);
	va[2001] = 0x99;
	funmap(va, 1);
	ck_assert_uint_eq(mem[2001], 0x11);
	ck_assert_int_eq(
	    xenvirtio_dma_unmap(dma, segs, 2, XENVIRTIO_DMA_BIDIRECTIONAL), 0);
	ck_assert_uint_eq(mem[2001], 0x99);
	ck_assert_uint_eq(mem[1999], 0xaa);
	ck_assert_int_eq(xenvirtio_dma_free_coherent(dma, mem, 3 * 4096, daddr),
			 0);
	world_end(dma);
}
END_TEST

/*
 * F7 and the pool setting: a pool of 4 frames serves exactly 4 one-frame
 * bounced maps, the fifth is -ENOSPC (backpressure, not broken) and goes
 * through after an unmap; a buffer needing 5 bounce frames is -E2BIG.
 * _i = 0: no-grant; _i = 1: grant mode honours the size too.
 */
START_TEST(test_F7_bounce_frames_honoured)
{
	struct xenvirtio_dma *dma = NULL;
	struct xenvirtio_dma_seg segs[6];
	uint8_t *raw = malloc(6 * 4096), *big;
	static uint8_t buf[4][64] __attribute__((aligned(256)));
	unsigned int i;

	ck_assert_ptr_nonnull(raw);
	big = (uint8_t *)(((uintptr_t)raw + 4095) & ~(uintptr_t)4095);
	world("");
	ck_assert_int_eq(
	    xenvirtio_dma_open_ex(front, BACK,
				  _i ? 0 : XENVIRTIO_DMA_F_NO_GRANTS, 4, &dma),
	    0);
	ck_assert_int_eq(
	    xenvirtio_dma_counter(dma, XENVIRTIO_DMA_CNT_BOUNCE_FREE), 4);
	for (i = 0; i < 4; i++)
		ck_assert_int_eq(xenvirtio_dma_map(dma, buf[i], 64,
						   XENVIRTIO_DMA_TO_DEVICE,
						   &segs[i], 1),
				 1);
	ck_assert_int_eq(
	    xenvirtio_dma_counter(dma, XENVIRTIO_DMA_CNT_BOUNCE_FREE), 0);
	ck_assert_int_eq(xenvirtio_dma_map(dma, buf[0], 64,
					   XENVIRTIO_DMA_TO_DEVICE, &segs[4],
					   1),
			 -ENOSPC);
	ck_assert_int_eq(xenvirtio_dma_counter(dma, XENVIRTIO_DMA_CNT_ENOSPC),
			 1);
	ck_assert_int_eq(xenvirtio_dma_broken(dma), 0);
	ck_assert_int_eq(
	    xenvirtio_dma_unmap(dma, &segs[2], 1, XENVIRTIO_DMA_TO_DEVICE), 0);
	ck_assert_int_eq(xenvirtio_dma_map(dma, buf[2], 64,
					   XENVIRTIO_DMA_TO_DEVICE, &segs[2],
					   1),
			 1);
	for (i = 0; i < 4; i++)
		ck_assert_int_eq(xenvirtio_dma_unmap(dma, &segs[i], 1,
						     XENVIRTIO_DMA_TO_DEVICE),
				 0);
	/* never fits: 5 frames of malloc memory, whatever is unmapped */
	ck_assert_int_eq(xenvirtio_dma_map(dma, big + 1, 4 * 4096,
					   XENVIRTIO_DMA_TO_DEVICE, segs, 6),
			 -E2BIG);
	ck_assert_int_eq(xenvirtio_dma_map(dma, big, 4 * 4096,
					   XENVIRTIO_DMA_TO_DEVICE, segs, 6),
			 1);
	ck_assert_int_eq(
	    xenvirtio_dma_unmap(dma, segs, 1, XENVIRTIO_DMA_TO_DEVICE), 0);
	world_end(dma);
	free(raw);
}
END_TEST

/*
 * F7 in no-grant mode: bounced frames of one mapping are one run of pool
 * frames; a pool with enough free frames but no free run is backpressure,
 * and freeing the frame in between lets the mapping through.
 */
START_TEST(test_F7_nogrant_fragmented_pool)
{
	struct xenvirtio_dma *dma;
	struct xenvirtio_dma_seg segs[4], two;
	static uint8_t small[4][16] __attribute__((aligned(64)));
	uint8_t *b2 = malloc(2 * 4096);
	unsigned int i;

	ck_assert_ptr_nonnull(b2);
	world("");
	dma = open_ng(4);
	for (i = 0; i < 4; i++)
		ck_assert_int_eq(xenvirtio_dma_map(dma, small[i], 16,
						   XENVIRTIO_DMA_TO_DEVICE,
						   &segs[i], 1),
				 1);
	/* free pool frames 0 and 2: two free, not consecutive */
	ck_assert_int_eq(
	    xenvirtio_dma_unmap(dma, &segs[0], 1, XENVIRTIO_DMA_TO_DEVICE), 0);
	ck_assert_int_eq(
	    xenvirtio_dma_unmap(dma, &segs[2], 1, XENVIRTIO_DMA_TO_DEVICE), 0);
	ck_assert_int_eq(
	    xenvirtio_dma_counter(dma, XENVIRTIO_DMA_CNT_BOUNCE_FREE), 2);
	ck_assert_int_eq(xenvirtio_dma_map(dma, b2 + 8, 4096,
					   XENVIRTIO_DMA_TO_DEVICE, &two, 1),
			 -ENOSPC);
	ck_assert_int_eq(
	    xenvirtio_dma_unmap(dma, &segs[1], 1, XENVIRTIO_DMA_TO_DEVICE), 0);
	ck_assert_int_eq(xenvirtio_dma_map(dma, b2 + 8, 4096,
					   XENVIRTIO_DMA_TO_DEVICE, &two, 1),
			 1);
	ck_assert_int_eq(
	    xenvirtio_dma_unmap(dma, &two, 1, XENVIRTIO_DMA_TO_DEVICE), 0);
	ck_assert_int_eq(
	    xenvirtio_dma_unmap(dma, &segs[3], 1, XENVIRTIO_DMA_TO_DEVICE), 0);
	world_end(dma);
	free(b2);
}
END_TEST

/* Unmap and free_coherent take only what map and alloc returned. */
START_TEST(test_nogrant_unmap_validates_segments)
{
	struct xenvirtio_dma *dma;
	struct xenvirtio_dma_seg seg, bad;
	static uint8_t buf[100];
	uint8_t *mem;
	uint64_t daddr;

	world("");
	dma = open_ng(0);
	ck_assert_int_eq(xenvirtio_dma_map(dma, buf, sizeof(buf),
					   XENVIRTIO_DMA_FROM_DEVICE, &seg, 1),
			 1);
	ck_assert_int_eq(
	    xenvirtio_dma_unmap(dma, &seg, 1, XENVIRTIO_DMA_TO_DEVICE),
	    -EINVAL);
	bad = seg;
	bad.len--;
	ck_assert_int_eq(
	    xenvirtio_dma_unmap(dma, &bad, 1, XENVIRTIO_DMA_FROM_DEVICE),
	    -EINVAL);
	bad = seg;
	bad.addr++;
	ck_assert_int_eq(
	    xenvirtio_dma_unmap(dma, &bad, 1, XENVIRTIO_DMA_FROM_DEVICE),
	    -EINVAL);
	bad.addr = seg.addr | 1ULL << 63;
	ck_assert_int_eq(
	    xenvirtio_dma_unmap(dma, &bad, 1, XENVIRTIO_DMA_FROM_DEVICE),
	    -EINVAL);
	ck_assert_int_eq(
	    xenvirtio_dma_unmap(dma, &seg, 2, XENVIRTIO_DMA_FROM_DEVICE),
	    -EINVAL);
	ck_assert_int_eq(
	    xenvirtio_dma_unmap(dma, &seg, 1, XENVIRTIO_DMA_FROM_DEVICE), 0);
	ck_assert_int_eq(
	    xenvirtio_dma_unmap(dma, &seg, 1, XENVIRTIO_DMA_FROM_DEVICE),
	    -EINVAL); /* twice */
	ck_assert_int_eq(xenvirtio_dma_counter(dma, XENVIRTIO_DMA_CNT_UNMAPS),
			 1);

	ck_assert_int_eq(
	    xenvirtio_dma_alloc_coherent(dma, 4096, (void **)&mem, &daddr), 0);
	ck_assert_int_eq(xenvirtio_dma_free_coherent(dma, mem, 2 * 4096, daddr),
			 -EINVAL);
	ck_assert_int_eq(
	    xenvirtio_dma_free_coherent(dma, mem, 4096, daddr + 4096), -EINVAL);
	ck_assert_int_eq(xenvirtio_dma_free_coherent(dma, mem + 1, 4096, daddr),
			 -EINVAL);
	ck_assert_int_eq(xenvirtio_dma_free_coherent(dma, mem, 4096, daddr), 0);
	ck_assert_int_eq(xenvirtio_dma_free_coherent(dma, mem, 4096, daddr),
			 -EINVAL);
	world_end(dma);
}
END_TEST

/* open_ex: argument errors, unknown flags, the pool bound, the default,
 * and a platform without frames of its own (gntalloc-like "refs=kernel"). */
START_TEST(test_nogrant_open_errors)
{
	struct xenvirtio_dma *dma = NULL;

	world("");
	ck_assert_int_eq(xenvirtio_dma_open_ex(NULL, BACK, 0, 0, &dma),
			 -EINVAL);
	ck_assert_int_eq(xenvirtio_dma_open_ex(front, BACK, 0, 0, NULL),
			 -EINVAL);
	ck_assert_int_eq(xenvirtio_dma_open_ex(front, 0x7ff0, 0, 0, &dma),
			 -EINVAL);
	ck_assert_int_eq(xenvirtio_dma_open_ex(front, BACK, 2, 0, &dma),
			 -EINVAL);
	ck_assert_int_eq(xenvirtio_dma_open_ex(front, BACK,
					       XENVIRTIO_DMA_F_NO_GRANTS | 4u,
					       0, &dma),
			 -EINVAL);
	ck_assert_int_eq(
	    xenvirtio_dma_open_ex(front, BACK, XENVIRTIO_DMA_F_NO_GRANTS,
				  XENVIRTIO_DMA_BOUNCE_MAX + 1, &dma),
	    -EINVAL);
	ck_assert_int_eq(xenvirtio_dma_open_ex(front, BACK, 0,
					       XENVIRTIO_DMA_BOUNCE_MAX + 1,
					       &dma),
			 -EINVAL);
	ck_assert_ptr_null(dma); /* untouched on failure */
	/* more pool than the domain has free frames: the platform's
	 * -ENOMEM (logged) */
	dma = open_ng(400);
	{
		struct xenvirtio_dma *d2 = NULL;

		xv_test_expect_errors(1);
		ck_assert_int_eq(
		    xenvirtio_dma_open_ex(front, BACK,
					  XENVIRTIO_DMA_F_NO_GRANTS, 400, &d2),
		    -ENOMEM);
		xv_test_expect_errors(0);
		ck_assert_ptr_null(d2);
	}
	xenvirtio_dma_close(dma);
	dma = NULL;
	/* 0 is the default pool */
	dma = open_ng(0);
	ck_assert_int_eq(
	    xenvirtio_dma_counter(dma, XENVIRTIO_DMA_CNT_BOUNCE_FREE),
	    XENVIRTIO_DMA_BOUNCE_DEFAULT);
	xenvirtio_dma_close(dma);
	dma = NULL;
	ck_assert_int_eq(xenvirtio_dma_open(front, BACK, &dma), 0);
	ck_assert_int_eq(
	    xenvirtio_dma_counter(dma, XENVIRTIO_DMA_CNT_BOUNCE_FREE),
	    XENVIRTIO_DMA_BOUNCE_DEFAULT);
	world_end(dma);

	world(",refs=kernel");
	dma = NULL;
	ck_assert_int_eq(xenvirtio_dma_open_ex(
			     front, BACK, XENVIRTIO_DMA_F_NO_GRANTS, 0, &dma),
			 -EOPNOTSUPP);
	ck_assert_ptr_null(dma);
	/* grant mode there: no pool, the size is ignored */
	ck_assert_int_eq(xenvirtio_dma_open_ex(front, BACK, 0, 7, &dma), 0);
	world_end(dma);
}
END_TEST

/*
 * Coherent memory the platform refuses to free (the sim refuses while the
 * backend still maps a frame) is leaked for good, the handle breaks, and
 * map refuses -EIO; close still tears down.
 */
START_TEST(test_F3_nogrant_coherent_still_mapped)
{
	struct xenvirtio_dma *dma;
	struct xenvirtio_dma_seg seg;
	static uint8_t buf[8];
	uint8_t *mem, *va;
	uint64_t daddr;

	world("");
	dma = open_ng(0);
	ck_assert_int_eq(
	    xenvirtio_dma_alloc_coherent(dma, 4096, (void **)&mem, &daddr), 0);
	va = fmap(daddr, 1, true);
	xv_test_expect_errors(1);
	ck_assert_int_eq(xenvirtio_dma_free_coherent(dma, mem, 4096, daddr),
			 -EIO);
	ck_assert_int_eq(xenvirtio_dma_broken(dma), -EIO);
	ck_assert_int_eq(
	    xenvirtio_dma_counter(dma, XENVIRTIO_DMA_CNT_LEAKED_FRAMES), 1);
	ck_assert_int_eq(
	    xenvirtio_dma_map(dma, buf, 8, XENVIRTIO_DMA_TO_DEVICE, &seg, 1),
	    -EIO);
	funmap(va, 1);
	world_end(dma);
}
END_TEST

/* Close gives back what the caller left: the pool and coherent frames
 * return to the platform, so they can be allocated again. */
START_TEST(test_nogrant_close_releases_everything)
{
	struct xenvirtio_dma *dma;
	struct xenvirtio_dma_seg seg[2];
	static uint8_t buf[300];
	unsigned int round;
	uint8_t *mem;
	uint64_t daddr;

	world("");
	/* 512 frames per domain: 4 rounds of 200 only fit if freed */
	for (round = 0; round < 4; round++) {
		dma = open_ng(100);
		ck_assert_int_eq(xenvirtio_dma_alloc_coherent(
				     dma, 100 * 4096, (void **)&mem, &daddr),
				 0);
		ck_assert_int_eq(xenvirtio_dma_map(dma, buf, sizeof(buf),
						   XENVIRTIO_DMA_TO_DEVICE, seg,
						   2),
				 1);
		xv_test_expect_errors(-1); /* the close warns */
		xenvirtio_dma_close(dma);
		xv_test_expect_errors(0);
	}
	world_end(NULL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("dma-nogrant");
	TCase *tc = tcase_create("nogrant");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_nogrant_addresses_are_guest_physical);
	tcase_add_test(tc, test_F2_nogrant_bounce_both_directions);
	tcase_add_test(tc, test_F2_nogrant_partial_page_bounce);
	tcase_add_loop_test(tc, test_F7_bounce_frames_honoured, 0, 2);
	tcase_add_test(tc, test_F7_nogrant_fragmented_pool);
	tcase_add_test(tc, test_nogrant_unmap_validates_segments);
	tcase_add_test(tc, test_nogrant_open_errors);
	tcase_add_test(tc, test_F3_nogrant_coherent_still_mapped);
	tcase_add_test(tc, test_nogrant_close_releases_everything);
	suite_add_tcase(s, tc);
	return xv_test_run(s);
}
