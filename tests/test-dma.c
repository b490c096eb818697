/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * DMA layer (lib/dma.c) on an in-process fake platform, in both platform
 * families (_i = 0: library-written grant table, _i = 1: platform-picked
 * refs as with gntalloc / sim refs=kernel): grant access by direction,
 * bounce both ways, F1 zeroing, F2 partial pages, F3 busy at revoke, F4
 * consecutive refs, F7 backpressure, unmap validation; and no-grant mode
 * where the fake's frame numbers are not consecutive (segments split, F4
 * coherent refused) or there is no frame lookup at all.
 */
#include "test-dma-fake.h"

#include <xenvirtio/dma.h>

#define BACKEND 0

static uint32_t ref_of(uint64_t addr)
{
	uint32_t ref, off;

	ck_assert_int_eq(xenvirtio_grant_addr_decode(addr, &ref, &off), 0);
	return ref;
}

static uint32_t off_of(uint64_t addr)
{
	uint32_t ref, off;

	ck_assert_int_eq(xenvirtio_grant_addr_decode(addr, &ref, &off), 0);
	return off;
}

static struct xenvirtio_dma *open_dma(struct xenvirtio_ctx *ctx)
{
	struct xenvirtio_dma *dma = NULL;

	ck_assert_int_eq(xenvirtio_dma_open(ctx, BACKEND, &dma), 0);
	ck_assert_ptr_nonnull(dma);
	return dma;
}

static void done(struct xenvirtio_ctx *ctx, struct xenvirtio_dma *dma)
{
	xenvirtio_dma_close(dma);
	xenvirtio_ctx_close(ctx);
}

/* Grants follow the direction: RO for TO_DEVICE, RW otherwise (G3). */
START_TEST(test_G3_readonly_by_direction)
{
	struct xenvirtio_ctx *ctx = fake_ctx(_i, 1024);
	struct xenvirtio_dma *dma = open_dma(ctx);
	static const enum xenvirtio_dma_dir dirs[] = {
	    XENVIRTIO_DMA_TO_DEVICE, XENVIRTIO_DMA_FROM_DEVICE,
	    XENVIRTIO_DMA_BIDIRECTIONAL};
	unsigned int d;
	char *buf = aligned_alloc(4096, 4096);

	ck_assert_ptr_nonnull(buf);
	memset(buf, 0x5a, 100);
	for (d = 0; d < 3; d++) {
		struct xenvirtio_dma_seg seg;
		uint32_t ref;
		uint8_t *p;

		ck_assert_int_eq(
		    xenvirtio_dma_map(dma, buf + 8, 100, dirs[d], &seg, 1), 1);
		ref = ref_of(seg.addr);
		p = fake_map(ctx, BACKEND, ref, true);
		if (dirs[d] == XENVIRTIO_DMA_TO_DEVICE) {
			ck_assert_ptr_null(p); /* writable map refused */
			p = fake_map(ctx, BACKEND, ref, false);
			ck_assert_ptr_nonnull(p);
		} else {
			ck_assert_ptr_nonnull(p);
		}
		/* only the granted backend may map it */
		ck_assert_ptr_null(fake_map(ctx, BACKEND + 5, ref, false));
		fake_unmap(ctx, ref);
		ck_assert_int_eq(xenvirtio_dma_unmap(dma, &seg, 1, dirs[d]), 0);
	}
	ck_assert_uint_eq(fake_live(ctx), 0);
	free(buf);
	done(ctx, dma);
}
END_TEST

/* Bounce both ways: the backend reads what was written before map, and
 * the caller sees after unmap what the backend wrote; nothing else moves. */
START_TEST(test_F2_bounce_both_directions)
{
	struct xenvirtio_ctx *ctx = fake_ctx(_i, 1024);
	struct xenvirtio_dma *dma = open_dma(ctx);
	struct xenvirtio_dma_seg segs[8];
	uint8_t *mem = malloc(3 * 4096 + 64), *buf = mem + 4000;
	size_t len = 5000, i;
	int n, s;

	ck_assert_ptr_nonnull(mem);
	memset(mem, 0xee, 3 * 4096 + 64);
	for (i = 0; i < len; i++)
		buf[i] = (uint8_t)(i * 7);
	n = xenvirtio_dma_map(dma, buf, len, XENVIRTIO_DMA_BIDIRECTIONAL, segs,
			      8);
	ck_assert_int_ge(n, 1);
	{
		size_t pos = 0;

		for (s = 0; s < n; s++) {
			uint32_t ref = ref_of(segs[s].addr);
			uint32_t off = off_of(segs[s].addr), k;

			/* a segment may span frames only via ref + 1 */
			for (k = 0; k < segs[s].len; k++) {
				uint32_t o = off + k;
				uint8_t *p = fake_map(ctx, BACKEND,
						      ref + o / 4096, true);

				ck_assert_ptr_nonnull(p);
				ck_assert_uint_eq(p[o % 4096],
						  (uint8_t)((pos + k) * 7));
				p[o % 4096] = (uint8_t) ~(pos + k);
				fake_unmap(ctx, ref + o / 4096);
			}
			pos += segs[s].len;
		}
		ck_assert_uint_eq(pos, len);
	}
	/* not copied back before unmap */
	ck_assert_uint_eq(buf[0], 0);
	ck_assert_int_eq(xenvirtio_dma_unmap(dma, segs, (unsigned int)n,
					     XENVIRTIO_DMA_BIDIRECTIONAL),
			 0);
	for (i = 0; i < len; i++)
		ck_assert_uint_eq(buf[i], (uint8_t)~i);
	for (i = len; i < 3 * 4096 + 64 - (size_t)(buf - mem); i++)
		ck_assert_uint_eq(buf[i], 0xee); /* no overrun */
	/* malloc memory is not grantable: every frame it covers bounced */
	ck_assert_int_eq(
	    xenvirtio_dma_counter(dma, XENVIRTIO_DMA_CNT_BOUNCE_FRAMES),
	    ((uintptr_t)buf % 4096 + len + 4095) / 4096);
	ck_assert_uint_eq(fake_live(ctx), 0);
	free(mem);
	done(ctx, dma);
}
END_TEST

/*
 * F2 with grantable memory: a buffer carved from platform frames at an
 * offset. Frames it covers wholly are granted in place (table platforms),
 * partial frames are bounced, and the backend never sees the neighbours'
 * bytes: the rest of a bounce frame is zero.
 */
START_TEST(test_F2_partial_page_bounce)
{
	struct xenvirtio_ctx *ctx = fake_ctx(_i, 1024);
	struct xenvirtio_dma *dma = open_dma(ctx);
	struct xenvirtio_dma_seg segs[8];
	uint64_t daddr;
	uint8_t *mem, *buf, *dirty = malloc(4 * 4096);
	int64_t bounced;
	uint32_t ref, k;
	int n;

	/* leave stale data in the bounce pool first */
	ck_assert_ptr_nonnull(dirty);
	memset(dirty, 0xcc, 4 * 4096);
	n = xenvirtio_dma_map(dma, dirty, 4 * 4096, XENVIRTIO_DMA_TO_DEVICE,
			      segs, 8);
	ck_assert_int_ge(n, 1);
	ck_assert_int_eq(xenvirtio_dma_unmap(dma, segs, (unsigned int)n,
					     XENVIRTIO_DMA_TO_DEVICE),
			 0);
	free(dirty);
	bounced = xenvirtio_dma_counter(dma, XENVIRTIO_DMA_CNT_BOUNCE_FRAMES);
	ck_assert_int_eq(
	    xenvirtio_dma_alloc_coherent(dma, 4 * 4096, (void **)&mem, &daddr),
	    0);
	memset(mem, 0xaa, 4 * 4096); /* unrelated secrets */
	buf = mem + 100;
	memset(buf, 0x11,
	       2 * 4096); /* 100..8291: frames 0 (part), 1, 2 (part) */
	n = xenvirtio_dma_map(dma, buf, 2 * 4096, XENVIRTIO_DMA_TO_DEVICE, segs,
			      8);
	ck_assert_int_ge(n, 1);
	if (!_i) {
		ck_assert_int_eq(n, 1);
		ck_assert_uint_eq(off_of(segs[0].addr), 100);
		ref = ref_of(segs[0].addr);
		ck_assert_int_eq(xenvirtio_dma_counter(
				     dma, XENVIRTIO_DMA_CNT_INPLACE_FRAMES),
				 1);
		ck_assert_int_eq(
		    xenvirtio_dma_counter(dma, XENVIRTIO_DMA_CNT_BOUNCE_FRAMES),
		    bounced + 2);
		/* the middle frame is the coherent memory itself */
		ck_assert_ptr_eq(fake_map(ctx, BACKEND, ref + 1, false),
				 mem + 4096);
		fake_unmap(ctx, ref + 1);
		for (k = 0; k < 3; k += 2) {
			uint8_t *p = fake_map(ctx, BACKEND, ref + k, false);
			uint32_t b;

			ck_assert_ptr_nonnull(p);
			ck_assert_ptr_ne(p, mem + k * 4096);
			for (b = 0; b < 4096; b++) {
				uint32_t abs = k * 4096 + b;
				bool in = abs >= 100 && abs < 100 + 2 * 4096;

				ck_assert_uint_eq(p[b], in ? 0x11 : 0);
			}
			fake_unmap(ctx, ref + k);
		}
	} else {
		int s;

		ck_assert_int_eq(n, 3);
		for (s = 0; s < n; s++) {
			uint8_t *p;
			uint32_t b;

			ref = ref_of(segs[s].addr);
			p = fake_map(ctx, BACKEND, ref, false);
			ck_assert_ptr_nonnull(p);
			for (b = 0; b < 4096; b++) {
				bool in =
				    b >= off_of(segs[s].addr) &&
				    b < off_of(segs[s].addr) + segs[s].len;

				ck_assert_uint_eq(p[b], in ? 0x11 : 0);
			}
			fake_unmap(ctx, ref);
		}
	}
	ck_assert_int_eq(xenvirtio_dma_unmap(dma, segs, (unsigned int)n,
					     XENVIRTIO_DMA_TO_DEVICE),
			 0);
	ck_assert_int_eq(xenvirtio_dma_free_coherent(dma, mem, 4 * 4096, daddr),
			 0);
	ck_assert_uint_eq(fake_live(ctx), 0);
	done(ctx, dma);
}
END_TEST

/* F1/F5: a FROM_DEVICE bounce frame shows the backend only zeroes, even
 * right after the same frame carried other data. */
START_TEST(test_F1_bounce_zeroed_before_grant)
{
	struct xenvirtio_ctx *ctx = fake_ctx(_i, 1024);
	struct xenvirtio_dma *dma = open_dma(ctx);
	struct xenvirtio_dma_seg segs[2];
	char secret[4096], in[600];
	uint8_t *p;
	uint32_t b;
	int n, s;

	memset(secret, 0x77, sizeof(secret));
	memset(in, 0x33, sizeof(in));
	n = xenvirtio_dma_map(dma, secret, 2000, XENVIRTIO_DMA_TO_DEVICE, segs,
			      2);
	ck_assert_int_ge(n, 1);
	ck_assert_int_eq(xenvirtio_dma_unmap(dma, segs, (unsigned int)n,
					     XENVIRTIO_DMA_TO_DEVICE),
			 0);
	n = xenvirtio_dma_map(dma, in, sizeof(in), XENVIRTIO_DMA_FROM_DEVICE,
			      segs, 2);
	ck_assert_int_ge(n, 1);
	for (s = 0; s < n; s++) {
		uint32_t ref = ref_of(segs[s].addr);

		/* table platforms: the segment may continue in ref + 1 */
		for (;
		     ref <= ref_of(segs[s].addr) +
				(off_of(segs[s].addr) + segs[s].len - 1) / 4096;
		     ref++) {
			p = fake_map(ctx, BACKEND, ref, true);
			ck_assert_ptr_nonnull(p);
			for (b = 0; b < 4096; b++)
				ck_assert_uint_eq(p[b], 0);
			fake_unmap(ctx, ref);
		}
	}
	ck_assert_int_eq(xenvirtio_dma_unmap(dma, segs, (unsigned int)n,
					     XENVIRTIO_DMA_FROM_DEVICE),
			 0);
	/* copied back: the device wrote zeroes (nothing) over the buffer */
	for (b = 0; b < sizeof(in); b++)
		ck_assert_uint_eq((uint8_t)in[b], 0);
	done(ctx, dma);
}
END_TEST

/* F3: the backend still maps a frame at unmap: -EIO, frame leaked forever,
 * handle broken; the context's other handles never get that ref again. */
START_TEST(test_F3_busy_at_revoke)
{
	struct xenvirtio_ctx *ctx = fake_ctx(_i, 64);
	struct xenvirtio_dma *dma = open_dma(ctx), *other;
	struct xenvirtio_dma_seg seg, s2, many[60];
	/* page-aligned: the mapping covers one frame whatever the stack */
	static char buf[300] __attribute__((aligned(4096)));
	uint32_t ref, i;
	int64_t pool;

	ck_assert_int_eq(xenvirtio_dma_map(dma, buf, sizeof(buf),
					   XENVIRTIO_DMA_FROM_DEVICE, &seg, 1),
			 1);
	ref = ref_of(seg.addr);
	pool = xenvirtio_dma_counter(dma, XENVIRTIO_DMA_CNT_BOUNCE_FREE);
	ck_assert_ptr_nonnull(fake_map(ctx, BACKEND, ref, true));
	xv_test_expect_errors(1);
	ck_assert_int_eq(
	    xenvirtio_dma_unmap(dma, &seg, 1, XENVIRTIO_DMA_FROM_DEVICE), -EIO);
	ck_assert_int_eq(xenvirtio_dma_broken(dma), -EIO);
	ck_assert_int_eq(
	    xenvirtio_dma_counter(dma, XENVIRTIO_DMA_CNT_LEAKED_FRAMES), 1);
	/* the bounce frame did not return to the pool */
	ck_assert_int_eq(
	    xenvirtio_dma_counter(dma, XENVIRTIO_DMA_CNT_BOUNCE_FREE), pool);
	/* broken: no new mappings; a second unmap is refused */
	ck_assert_int_eq(
	    xenvirtio_dma_map(dma, buf, 10, XENVIRTIO_DMA_TO_DEVICE, &s2, 1),
	    -EIO);
	ck_assert_int_eq(
	    xenvirtio_dma_unmap(dma, &seg, 1, XENVIRTIO_DMA_FROM_DEVICE),
	    -EINVAL);
	/* the entry stays granted to the backend */
	ck_assert_ptr_nonnull(fake_map(ctx, BACKEND, ref, true));
	fake_unmap(ctx, ref);
	/* another handle on the context takes every ref left and never
	 * receives the leaked one: 64 entries - 8 reserved - 1 leaked */
	other = open_dma(ctx);
	for (i = 0; i < 60; i++) {
		int r = xenvirtio_dma_map(other, buf, 1,
					  XENVIRTIO_DMA_TO_DEVICE, &many[i], 1);

		if (r == -ENOSPC)
			break;
		ck_assert_int_eq(r, 1);
		ck_assert_uint_ne(ref_of(many[i].addr), ref);
	}
	ck_assert_uint_eq(i, 55);
	while (i--)
		ck_assert_int_eq(xenvirtio_dma_unmap(other, &many[i], 1,
						     XENVIRTIO_DMA_TO_DEVICE),
				 0);
	xenvirtio_dma_close(other);
	/* close leaks the still-busy frame's pool and says so */
	xv_test_expect_errors(-1);
	fake_unmap(ctx, ref);
	done(ctx, dma);
}
END_TEST

/* F4: a multi-frame buffer and coherent memory use consecutive refs,
 * each granting the right frame to the backend. */
START_TEST(test_F4_consecutive_refs)
{
	struct xenvirtio_ctx *ctx = fake_ctx(0, 1024);
	struct xenvirtio_dma *dma = open_dma(ctx);
	struct xenvirtio_dma_seg seg;
	uint8_t *mem, *p;
	uint64_t daddr;
	uint32_t ref, k;
	char *big = malloc(5 * 4096);

	ck_assert_ptr_nonnull(big);
	ck_assert_int_eq(xenvirtio_dma_alloc_coherent(dma, 3 * 4096 - 5,
						      (void **)&mem, &daddr),
			 0);
	ck_assert_uint_eq((uintptr_t)mem % 4096, 0);
	ck_assert_uint_eq(off_of(daddr), 0);
	ref = ref_of(daddr);
	for (k = 0; k < 3 * 4096; k++)
		ck_assert_uint_eq(mem[k], 0); /* zeroed (F1) */
	for (k = 0; k < 3; k++) {
		p = fake_map(ctx, BACKEND, ref + k, true); /* RW */
		ck_assert_ptr_eq(p, mem + k * 4096);
		fake_unmap(ctx, ref + k);
	}
	for (k = 0; k < 5 * 4096; k++)
		big[k] = (char)(k / 4096 + 1);
	ck_assert_int_eq(xenvirtio_dma_map(dma, big, 5 * 4096,
					   XENVIRTIO_DMA_TO_DEVICE, &seg, 1),
			 1);
	ck_assert_uint_eq(seg.len, 5 * 4096);
	ref = ref_of(seg.addr);
	for (k = 0; k < 5 + ((uintptr_t)big % 4096 != 0); k++) {
		p = fake_map(ctx, BACKEND, ref + k, false);
		ck_assert_ptr_nonnull(p);
		fake_unmap(ctx, ref + k);
	}
	ck_assert_int_eq(
	    xenvirtio_dma_unmap(dma, &seg, 1, XENVIRTIO_DMA_TO_DEVICE), 0);
	ck_assert_int_eq(
	    xenvirtio_dma_free_coherent(dma, mem, 3 * 4096 - 5, daddr), 0);
	ck_assert_uint_eq(fake_live(ctx), 0);
	free(big);
	done(ctx, dma);
}
END_TEST

/* F7: refs or bounce frames run out: -ENOSPC, and an unmap lets the next
 * map through. */
START_TEST(test_F7_backpressure)
{
	struct xenvirtio_ctx *ctx = fake_ctx(_i, 40); /* 32 usable refs */
	struct xenvirtio_dma *dma = open_dma(ctx);
	struct xenvirtio_dma_seg segs[64];
	/* page-aligned: the mapping covers one frame whatever the stack */
	static char buf[64] __attribute__((aligned(4096)));
	int n = 0, r;

	while ((r = xenvirtio_dma_map(dma, buf, sizeof(buf),
				      XENVIRTIO_DMA_TO_DEVICE, &segs[n], 1)) ==
	       1)
		n++;
	ck_assert_int_eq(r, -ENOSPC);
	ck_assert_int_eq(n, 32);
	ck_assert_int_eq(xenvirtio_dma_counter(dma, XENVIRTIO_DMA_CNT_ENOSPC),
			 1);
	ck_assert_int_eq(xenvirtio_dma_broken(dma), 0); /* not an error */
	ck_assert_int_eq(
	    xenvirtio_dma_unmap(dma, &segs[5], 1, XENVIRTIO_DMA_TO_DEVICE), 0);
	ck_assert_int_eq(xenvirtio_dma_map(dma, buf, sizeof(buf),
					   XENVIRTIO_DMA_TO_DEVICE, &segs[5],
					   1),
			 1);
	while (n--)
		ck_assert_int_eq(xenvirtio_dma_unmap(dma, &segs[n], 1,
						     XENVIRTIO_DMA_TO_DEVICE),
				 0);
	ck_assert_uint_eq(fake_live(ctx), 0);
	done(ctx, dma);
}
END_TEST

/* F7 on the bounce pool: 64 frames, then -ENOSPC until one returns. */
START_TEST(test_F7_bounce_pool_backpressure)
{
	struct xenvirtio_ctx *ctx = fake_ctx(0, 1024);
	struct xenvirtio_dma *dma = open_dma(ctx);
	struct xenvirtio_dma_seg segs[65];
	/* page-aligned: the mapping covers one frame whatever the stack */
	static char buf[16] __attribute__((aligned(4096)));
	int n = 0, r;

	while ((r = xenvirtio_dma_map(dma, buf, sizeof(buf),
				      XENVIRTIO_DMA_TO_DEVICE, &segs[n], 1)) ==
	       1)
		n++;
	ck_assert_int_eq(r, -ENOSPC);
	ck_assert_int_eq(n, 64);
	ck_assert_int_eq(
	    xenvirtio_dma_counter(dma, XENVIRTIO_DMA_CNT_BOUNCE_FREE), 0);
	/* the failed map gave its ref back */
	ck_assert_uint_eq(xv_gnttab_in_use(ctx->gnttab), 64);
	ck_assert_int_eq(
	    xenvirtio_dma_unmap(dma, &segs[0], 1, XENVIRTIO_DMA_TO_DEVICE), 0);
	ck_assert_int_eq(xenvirtio_dma_map(dma, buf, sizeof(buf),
					   XENVIRTIO_DMA_TO_DEVICE, &segs[0],
					   1),
			 1);
	done(ctx, dma); /* close revokes what is left */
	(void)segs;
}
END_TEST

/* F7's limit: what can never fit is -E2BIG, not -ENOSPC, so a caller
 * retrying on backpressure cannot spin; in-place memory is not limited by
 * the bounce pool. */
START_TEST(test_F7_never_fits_is_e2big)
{
	struct xenvirtio_ctx *ctx = fake_ctx(0, 256);
	struct xenvirtio_dma *dma = open_dma(ctx);
	struct xenvirtio_dma_seg seg;
	size_t big = 65 * 4096;
	uint8_t *m = aligned_alloc(4096, 250 * 4096), *coh;
	uint64_t daddr;

	ck_assert_ptr_nonnull(m);
	/* 65 frames of malloc memory: more than the 64-frame pool */
	ck_assert_int_eq(
	    xenvirtio_dma_map(dma, m, big, XENVIRTIO_DMA_TO_DEVICE, &seg, 1),
	    -E2BIG);
	/* 64 frames: fits exactly */
	ck_assert_int_eq(xenvirtio_dma_map(dma, m, 64 * 4096,
					   XENVIRTIO_DMA_TO_DEVICE, &seg, 1),
			 1);
	ck_assert_int_eq(
	    xenvirtio_dma_counter(dma, XENVIRTIO_DMA_CNT_BOUNCE_FREE), 0);
	/* pool in use by someone: backpressure, then it fits again */
	ck_assert_int_eq(
	    xenvirtio_dma_map(dma, m, 1, XENVIRTIO_DMA_TO_DEVICE, &seg + 0, 1),
	    -ENOSPC);
	ck_assert_int_eq(
	    xenvirtio_dma_unmap(dma, &seg, 1, XENVIRTIO_DMA_TO_DEVICE), 0);
	/* 65 whole platform frames go in place, past the pool's size */
	ck_assert_int_eq(
	    xenvirtio_dma_alloc_coherent(dma, big, (void **)&coh, &daddr), 0);
	ck_assert_int_eq(
	    xenvirtio_dma_map(dma, coh, big, XENVIRTIO_DMA_TO_DEVICE, &seg, 1),
	    1);
	ck_assert_int_eq(
	    xenvirtio_dma_unmap(dma, &seg, 1, XENVIRTIO_DMA_TO_DEVICE), 0);
	/* more refs than the table (256 - 8) can ever give */
	ck_assert_int_eq(xenvirtio_dma_map(dma, m, 249 * 4096,
					   XENVIRTIO_DMA_TO_DEVICE, &seg, 1),
			 -E2BIG);
	ck_assert_int_eq(xenvirtio_dma_free_coherent(dma, coh, big, daddr), 0);
	ck_assert_uint_eq(fake_live(ctx), 0);
	free(m);
	done(ctx, dma);
}
END_TEST

/* Close revokes and releases whatever the caller left mapped, without
 * copying back into buffers that may be gone. */
START_TEST(test_close_revokes_everything)
{
	struct xenvirtio_ctx *ctx = fake_ctx(_i, 1024);
	struct xenvirtio_dma *dma = open_dma(ctx), *keep = open_dma(ctx);
	struct xenvirtio_dma_seg segs[4], kseg;
	uint8_t *m = aligned_alloc(4096, 3 * 4096);
	void *coh;
	uint64_t daddr;
	uint32_t live;

	ck_assert_ptr_nonnull(m);
	memset(m, 0x3c, 3 * 4096);
	ck_assert_int_eq(
	    xenvirtio_dma_map(keep, m, 10, XENVIRTIO_DMA_TO_DEVICE, &kseg, 1),
	    1);
	live = fake_live(ctx);
	ck_assert_int_ge(xenvirtio_dma_map(dma, m + 100, 5000,
					   XENVIRTIO_DMA_FROM_DEVICE, segs, 4),
			 1);
	ck_assert_int_ge(xenvirtio_dma_map(dma, m, 3 * 4096,
					   XENVIRTIO_DMA_TO_DEVICE, segs, 4),
			 1);
	ck_assert_int_eq(xenvirtio_dma_alloc_coherent(dma, 4096, &coh, &daddr),
			 0);
	ck_assert_uint_gt(fake_live(ctx), live);
	xenvirtio_dma_close(dma);
	/* only the other handle's grant is left; nothing was copied back */
	ck_assert_uint_eq(fake_live(ctx), live);
	ck_assert_uint_eq(m[100], 0x3c);
	ck_assert_int_eq(
	    xenvirtio_dma_unmap(keep, &kseg, 1, XENVIRTIO_DMA_TO_DEVICE), 0);
	ck_assert_uint_eq(fake_live(ctx), 0);
	if (!_i)
		ck_assert_uint_eq(xv_gnttab_in_use(ctx->gnttab), 0);
	free(m);
	done(ctx, keep);
}
END_TEST

/* Unmap must name a live mapping of this handle, exactly. */
START_TEST(test_unmap_validates_segments)
{
	struct xenvirtio_ctx *ctx = fake_ctx(_i, 1024);
	struct xenvirtio_dma *dma = open_dma(ctx), *other = open_dma(ctx);
	struct xenvirtio_dma_seg segs[4], bad[4];
	char *buf = malloc(6000);
	int n;

	ck_assert_ptr_nonnull(buf);
	n = xenvirtio_dma_map(dma, buf, 6000, XENVIRTIO_DMA_FROM_DEVICE, segs,
			      4);
	ck_assert_int_ge(n, 1);
	memcpy(bad, segs, sizeof(segs));
	ck_assert_int_eq(xenvirtio_dma_unmap(other, segs, (unsigned int)n,
					     XENVIRTIO_DMA_FROM_DEVICE),
			 -EINVAL);
	ck_assert_int_eq(xenvirtio_dma_unmap(dma, segs, (unsigned int)n,
					     XENVIRTIO_DMA_TO_DEVICE),
			 -EINVAL);
	bad[0].len--;
	ck_assert_int_eq(xenvirtio_dma_unmap(dma, bad, (unsigned int)n,
					     XENVIRTIO_DMA_FROM_DEVICE),
			 -EINVAL);
	bad[0] = segs[0];
	bad[0].addr++;
	ck_assert_int_eq(xenvirtio_dma_unmap(dma, bad, (unsigned int)n,
					     XENVIRTIO_DMA_FROM_DEVICE),
			 -EINVAL);
	bad[0].addr = segs[0].addr & ~XENVIRTIO_GRANT_ADDR_FLAG;
	ck_assert_int_eq(xenvirtio_dma_unmap(dma, bad, (unsigned int)n,
					     XENVIRTIO_DMA_FROM_DEVICE),
			 -EINVAL);
	ck_assert_int_eq(xenvirtio_dma_unmap(dma, segs, (unsigned int)n + 1,
					     XENVIRTIO_DMA_FROM_DEVICE),
			 -EINVAL);
	ck_assert_int_eq(xenvirtio_dma_unmap(dma, segs, (unsigned int)n,
					     XENVIRTIO_DMA_FROM_DEVICE),
			 0);
	ck_assert_int_eq(xenvirtio_dma_unmap(dma, segs, (unsigned int)n,
					     XENVIRTIO_DMA_FROM_DEVICE),
			 -EINVAL); /* double unmap */
	/* bad arguments */
	ck_assert_int_eq(
	    xenvirtio_dma_map(dma, buf, 0, XENVIRTIO_DMA_TO_DEVICE, segs, 4),
	    -EINVAL);
	ck_assert_int_eq(
	    xenvirtio_dma_map(dma, buf, 10, (enum xenvirtio_dma_dir)0, segs, 4),
	    -EINVAL);
	ck_assert_int_eq(
	    xenvirtio_dma_map(dma, buf, 10, XENVIRTIO_DMA_TO_DEVICE, segs, 0),
	    -EINVAL);
	ck_assert_int_eq(xenvirtio_dma_open(ctx, 0x7ff0, &other), -EINVAL);
	ck_assert_int_eq(xenvirtio_dma_counter(dma, XENVIRTIO_DMA_CNT_COUNT),
			 -EINVAL);
	ck_assert_uint_eq(fake_live(ctx), 0);
	free(buf);
	xenvirtio_dma_close(other);
	done(ctx, dma);
}
END_TEST

/* Platform-picked refs: one segment per 4 KiB frame; too few segments is
 * -E2BIG with nothing mapped; multi-frame coherent memory needs
 * consecutive refs, else -EOPNOTSUPP. */
/*
 * A platform that shares a page under a ref that is still live (a broken
 * or hostile platform layer) is refused with -EIO, for mappings and for
 * coherent memory alike: the live ref's bookkeeping is never overwritten.
 */
START_TEST(test_share_pages_live_ref_refused)
{
	struct xenvirtio_ctx *ctx = fake_ctx(1, 1024);
	struct xenvirtio_dma *dma = open_dma(ctx);
	struct xenvirtio_dma_seg segs[1], again[1];
	char *buf = aligned_alloc(4096, 4096);
	uint64_t daddr = 0x1234;
	void *va = NULL;

	ck_assert_ptr_nonnull(buf);
	ck_assert_int_eq(xenvirtio_dma_map(dma, buf, 4096,
					   XENVIRTIO_DMA_TO_DEVICE, segs, 1),
			 1);
	fake_of_ctx(ctx)->force_ref = ref_of(segs[0].addr);
	xv_test_expect_errors(2);
	ck_assert_int_eq(xenvirtio_dma_alloc_coherent(dma, 4096, &va, &daddr),
			 -EIO);
	ck_assert_uint_eq(daddr, 0x1234);
	ck_assert_int_eq(xenvirtio_dma_map(dma, buf, 4096,
					   XENVIRTIO_DMA_TO_DEVICE, again, 1),
			 -EIO);
	fake_of_ctx(ctx)->force_ref = 0;
	xv_test_expect_errors(0);
	/* the first mapping is still ours to unmap */
	ck_assert_int_eq(xenvirtio_dma_unmap(dma, segs, 1,
					     XENVIRTIO_DMA_TO_DEVICE),
			 0);
	free(buf);
	done(ctx, dma);
}
END_TEST

START_TEST(test_F4_share_pages_split_and_coherent)
{
	struct xenvirtio_ctx *ctx = fake_ctx(1, 1024);
	struct xenvirtio_dma *dma = open_dma(ctx);
	struct xenvirtio_dma_seg segs[4];
	char *buf = malloc(3 * 4096);
	void *va;
	uint64_t daddr = 0x1234;
	uint32_t k;
	int n;

	ck_assert_ptr_nonnull(buf);
	n = xenvirtio_dma_map(dma, buf + 10, 2 * 4096, XENVIRTIO_DMA_TO_DEVICE,
			      segs, 2);
	if (((uintptr_t)buf + 10) % 4096 == 0) {
		ck_assert_int_eq(n, 2);
	} else {
		ck_assert_int_eq(n, -E2BIG);
		ck_assert_uint_eq(fake_live(ctx), 0);
		n = xenvirtio_dma_map(dma, buf + 10, 2 * 4096,
				      XENVIRTIO_DMA_TO_DEVICE, segs, 4);
		ck_assert_int_eq(n, 3);
	}
	for (k = 0; k < (uint32_t)n; k++) {
		ck_assert_uint_le(off_of(segs[k].addr) + segs[k].len, 4096);
		if (k)
			ck_assert_uint_eq(off_of(segs[k].addr), 0);
	}
	ck_assert_int_eq(xenvirtio_dma_unmap(dma, segs, (unsigned int)n,
					     XENVIRTIO_DMA_TO_DEVICE),
			 0);
	/* strided refs: a 2-frame coherent area cannot be addressed */
	ck_assert_int_eq(xenvirtio_dma_alloc_coherent(dma, 8192, &va, &daddr),
			 -EOPNOTSUPP);
	ck_assert_uint_eq(daddr, 0x1234);
	ck_assert_uint_eq(fake_live(ctx), 0);
	ck_assert_int_eq(xenvirtio_dma_alloc_coherent(dma, 4096, &va, &daddr),
			 0);
	ck_assert_int_eq(xenvirtio_dma_free_coherent(dma, va, 4096, daddr), 0);
	fake_of_ctx(ctx)->consecutive = true;
	ck_assert_int_eq(xenvirtio_dma_alloc_coherent(dma, 8192, &va, &daddr),
			 0);
	ck_assert_ptr_nonnull(fake_map(ctx, BACKEND, ref_of(daddr) + 1, true));
	fake_unmap(ctx, ref_of(daddr) + 1);
	ck_assert_int_eq(xenvirtio_dma_free_coherent(dma, va, 4096, daddr),
			 -EINVAL); /* wrong size */
	ck_assert_int_eq(xenvirtio_dma_free_coherent(dma, va, 8192, daddr), 0);
	ck_assert_uint_eq(fake_live(ctx), 0);
	free(buf);
	done(ctx, dma);
}
END_TEST

/* F3 for coherent memory: busy at free leaks the area, breaks the handle. */
START_TEST(test_F3_busy_coherent_free)
{
	struct xenvirtio_ctx *ctx = fake_ctx(_i, 1024);
	struct xenvirtio_dma *dma = open_dma(ctx);
	void *va;
	uint64_t daddr;
	uint32_t ref;

	ck_assert_int_eq(xenvirtio_dma_alloc_coherent(dma, 4096, &va, &daddr),
			 0);
	ref = ref_of(daddr);
	ck_assert_ptr_nonnull(fake_map(ctx, BACKEND, ref, true));
	xv_test_expect_errors(1);
	ck_assert_int_eq(xenvirtio_dma_free_coherent(dma, va, 4096, daddr),
			 -EIO);
	ck_assert_int_eq(xenvirtio_dma_broken(dma), -EIO);
	ck_assert_int_eq(xenvirtio_dma_alloc_coherent(dma, 4096, &va, &daddr),
			 -EIO);
	/* still granted: the backend's mapping stays valid */
	ck_assert_ptr_nonnull(fake_map(ctx, BACKEND, ref, true));
	fake_unmap(ctx, ref);
	fake_unmap(ctx, ref);
	xv_test_expect_errors(-1);
	done(ctx, dma);
}
END_TEST

/* ---- no-grant mode on the fake platform ---- */

/* Frames from 64 on report their frame numbers pairwise swapped: two
 * neighbours in memory are not neighbours in frame numbers. */
static int scrambled_lookup(struct xv_platform *p, const void *va,
			    uint64_t *gfn)
{
	int r = fake_frame_lookup(p, va, gfn);

	if (!r && *gfn - FAKE_GFN_BASE >= 64)
		*gfn ^= 1;
	return r;
}

static const struct xv_platform_ops scrambled_ops = {
    .name = "fake-scrambled",
    .close = fake_close,
    .frames_alloc = fake_frames_alloc,
    .frames_free = fake_frames_free,
    .frame_lookup = scrambled_lookup,
    .grant_access = fake_grant_access,
    .end_access = fake_end_access,
};

/* A platform without a frame lookup (the shape of Xen's gntalloc path)
 * refuses no-grant mode at open; unknown flags are -EINVAL. */
START_TEST(test_nogrant_needs_frame_lookup)
{
	struct xenvirtio_ctx *ctx = fake_ctx(true, 1024);
	struct xenvirtio_dma *dma = NULL;

	ck_assert_int_eq(xenvirtio_dma_open_ex(ctx, BACKEND,
					       XENVIRTIO_DMA_F_NO_GRANTS, 0,
					       &dma),
			 -EOPNOTSUPP);
	ck_assert_int_eq(xenvirtio_dma_open_ex(ctx, BACKEND, 0x80, 0, &dma),
			 -EINVAL);
	ck_assert_ptr_null(dma);
	xenvirtio_ctx_close(ctx);
}
END_TEST

/*
 * No-grant mode splits a mapping where frame numbers are not consecutive
 * (one segment per run, in buffer order, never truncated: too few segments
 * is -E2BIG), and refuses multi-frame coherent memory whose frame numbers
 * are not consecutive (-EOPNOTSUPP, the frames given back); one frame is
 * always fine. Nothing is granted.
 */
START_TEST(test_nogrant_segments_follow_frame_numbers)
{
	struct xenvirtio_ctx *ctx = fake_ctx(false, 1024);
	struct fake *f = fake_of_ctx(ctx);
	struct xenvirtio_dma *dma = NULL;
	struct xenvirtio_dma_seg segs[8];
	uint8_t *frames = f->mem + 100 * 4096; /* scrambled, unallocated */
	void *va;
	uint64_t daddr;
	uint32_t r;

	f->base.ops = &scrambled_ops;
	/* pool: frames 0..63, consecutive */
	ck_assert_int_eq(xenvirtio_dma_open_ex(ctx, BACKEND,
					       XENVIRTIO_DMA_F_NO_GRANTS, 64,
					       &dma),
			 0);
	/* frames 100..103 report 101, 100, 103, 102: four runs */
	ck_assert_int_eq(xenvirtio_dma_map(dma, frames, 4 * 4096,
					   XENVIRTIO_DMA_TO_DEVICE, segs, 3),
			 -E2BIG);
	ck_assert_int_eq(xenvirtio_dma_map(dma, frames, 4 * 4096,
					   XENVIRTIO_DMA_TO_DEVICE, segs, 8),
			 4);
	ck_assert_uint_eq(segs[0].addr, (uint64_t)(FAKE_GFN_BASE + 101) << 12);
	ck_assert_uint_eq(segs[1].addr, (uint64_t)(FAKE_GFN_BASE + 100) << 12);
	ck_assert_uint_eq(segs[2].addr, (uint64_t)(FAKE_GFN_BASE + 103) << 12);
	ck_assert_uint_eq(segs[3].addr, (uint64_t)(FAKE_GFN_BASE + 102) << 12);
	for (r = 0; r < 4; r++)
		ck_assert_uint_eq(segs[r].len, 4096);
	ck_assert_int_eq(
	    xenvirtio_dma_unmap(dma, segs, 3, XENVIRTIO_DMA_TO_DEVICE),
	    -EINVAL);
	ck_assert_int_eq(
	    xenvirtio_dma_unmap(dma, segs, 4, XENVIRTIO_DMA_TO_DEVICE), 0);
	/* frames 101..102 report 100, 103: one pair, two runs; a bounced
	 * partial first frame, then in place */
	ck_assert_int_eq(xenvirtio_dma_map(dma, frames + 4096 + 10, 2 * 4096,
					   XENVIRTIO_DMA_FROM_DEVICE, segs, 8),
			 3);
	ck_assert_uint_eq(segs[0].len, 4096 - 10);
	ck_assert_uint_eq(segs[1].addr, (uint64_t)(FAKE_GFN_BASE + 103) << 12);
	ck_assert_uint_eq(segs[2].len, 10); /* partial last: bounced */
	ck_assert_int_eq(
	    xenvirtio_dma_unmap(dma, segs, 3, XENVIRTIO_DMA_FROM_DEVICE), 0);

	/* coherent: the next free frames are 64 and 65, reported swapped */
	ck_assert_int_eq(xenvirtio_dma_alloc_coherent(dma, 2 * 4096, &va,
						      &daddr),
			 -EOPNOTSUPP);
	ck_assert_int_eq(xenvirtio_dma_alloc_coherent(dma, 4096, &va, &daddr),
			 0);
	ck_assert_ptr_eq(va, f->mem + 64 * 4096); /* given back before */
	ck_assert_uint_eq(daddr, (uint64_t)(FAKE_GFN_BASE + 65) << 12);
	ck_assert_int_eq(xenvirtio_dma_free_coherent(dma, va, 4096, daddr), 0);
	for (r = 0; r < f->nent; r++)
		ck_assert_uint_eq(f->ent[r].flags, 0); /* nothing granted */
	done(ctx, dma);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("dma");
	TCase *tc = tcase_create("fake");

	tcase_add_loop_test(tc, test_G3_readonly_by_direction, 0, 2);
	tcase_add_loop_test(tc, test_F2_bounce_both_directions, 0, 2);
	tcase_add_loop_test(tc, test_F2_partial_page_bounce, 0, 1);
	tcase_add_loop_test(tc, test_F1_bounce_zeroed_before_grant, 0, 2);
	tcase_add_loop_test(tc, test_F3_busy_at_revoke, 0, 2);
	tcase_add_test(tc, test_F4_consecutive_refs);
	tcase_add_test(tc, test_share_pages_live_ref_refused);
	tcase_add_loop_test(tc, test_F7_backpressure, 0, 2);
	tcase_add_test(tc, test_F7_bounce_pool_backpressure);
	tcase_add_test(tc, test_F7_never_fits_is_e2big);
	tcase_add_loop_test(tc, test_close_revokes_everything, 0, 2);
	tcase_add_loop_test(tc, test_unmap_validates_segments, 0, 2);
	tcase_add_test(tc, test_F4_share_pages_split_and_coherent);
	tcase_add_loop_test(tc, test_F3_busy_coherent_free, 0, 2);
	tcase_add_test(tc, test_nogrant_needs_frame_lookup);
	tcase_add_test(tc, test_nogrant_segments_follow_frame_numbers);
	suite_add_tcase(s, tc);
	return xv_test_run(s);
}
