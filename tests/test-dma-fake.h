/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A minimal in-process platform for the DMA tests: a v1 grant table, a
 * pool of grantable frames and a "backend" that maps refs (setting busy
 * state) by calling fake_map()/fake_unmap(). It implements either the
 * GRANT_TABLE family (library writes entries) or the SHARE_PAGES family
 * (the platform picks refs, deliberately not consecutive unless asked).
 * The same tests also run against the simulated world (test-dma-sim.c).
 */
#ifndef XV_TEST_DMA_FAKE_H
#define XV_TEST_DMA_FAKE_H

#include "xv-test.h"

#include "internal.h"
#include "platform.h"
#include "grant_internal.h"

#define FAKE_FRAMES 512u
#define FAKE_GFN_BASE 0x1000u

struct fake_entry {
	uint16_t flags;
	uint16_t domid;
	uint64_t gfn;
	int maps;
};

struct fake {
	struct xv_platform base;
	struct fake_entry *ent;
	uint32_t nent;
	uint8_t *mem;
	uint32_t owner[FAKE_FRAMES]; /* alloc id per frame, 0 free */
	uint32_t share_ref[FAKE_FRAMES];
	uint32_t next_id;
	bool consecutive; /* share_pages: hand out consecutive refs */
	uint32_t share_cursor;
	uint32_t force_ref; /* share_pages: misbehave, hand out this ref (+i) */
};

static struct fake *fake_of(struct xv_platform *p)
{
	return (struct fake *)p;
}

static int fake_frames_alloc(struct xv_platform *p, uint32_t count, void **va)
{
	struct fake *f = fake_of(p);
	uint32_t i, run = 0;

	for (i = 0; i < FAKE_FRAMES; i++) {
		run = f->owner[i] ? 0 : run + 1;
		if (run == count) {
			uint32_t s = i + 1 - count, j;

			f->next_id++;
			for (j = s; j <= i; j++)
				f->owner[j] = f->next_id;
			memset(f->mem + (size_t)s * 4096, 0,
			       (size_t)count * 4096);
			*va = f->mem + (size_t)s * 4096;
			return 0;
		}
	}
	return -ENOMEM;
}

static int fake_frames_free(struct xv_platform *p, void *va, uint32_t count)
{
	struct fake *f = fake_of(p);
	uint32_t s = (uint32_t)(((uint8_t *)va - f->mem) / 4096), j;

	for (j = s; j < s + count; j++) {
		ck_assert_uint_ne(f->owner[j], 0);
		f->owner[j] = 0;
	}
	return 0;
}

static int fake_frame_lookup(struct xv_platform *p, const void *va,
			     uint64_t *gfn)
{
	struct fake *f = fake_of(p);
	const uint8_t *b = va;

	if (b < f->mem || b >= f->mem + (size_t)FAKE_FRAMES * 4096)
		return -EFAULT;
	*gfn = FAKE_GFN_BASE + (uint64_t)(b - f->mem) / 4096;
	return 0;
}

static int fake_grant_access(struct xv_platform *p, uint32_t ref,
			     uint16_t domid, uint64_t gfn, bool readonly)
{
	struct fake *f = fake_of(p);

	ck_assert_uint_ge(ref, 8);
	ck_assert_uint_lt(ref, f->nent);
	/* the library must never grant a live entry */
	ck_assert_uint_eq(f->ent[ref].flags, 0);
	f->ent[ref].domid = domid;
	f->ent[ref].gfn = gfn;
	f->ent[ref].flags =
	    XV_GTF_permit_access | (readonly ? XV_GTF_readonly : 0);
	return 0;
}

static int fake_end_access(struct xv_platform *p, uint32_t ref)
{
	struct fake *f = fake_of(p);

	ck_assert_uint_lt(ref, f->nent);
	ck_assert_uint_ne(f->ent[ref].flags, 0);
	if (f->ent[ref].maps)
		return -EBUSY;
	f->ent[ref].flags = 0;
	return 0;
}

static int fake_share_pages(struct xv_platform *p, uint16_t domid,
			    uint32_t count, bool writable, uint32_t *refs,
			    void **va)
{
	struct fake *f = fake_of(p);
	uint32_t got = 0, tries = 0, i, s;
	int r = fake_frames_alloc(p, count, va);

	if (r < 0)
		return r;
	s = (uint32_t)(((uint8_t *)*va - f->mem) / 4096);
	/* refs: consecutive, or strided so that neighbours differ by 7 */
	while (got < count && tries++ < 4 * f->nent) {
		uint32_t ref;

		f->share_cursor =
		    (f->share_cursor + (f->consecutive ? 1 : 7)) % f->nent;
		ref = f->share_cursor;
		if (ref < 8 || f->ent[ref].flags)
			continue;
		if (f->consecutive && got && ref != refs[got - 1] + 1)
			got = 0; /* restart the run */
		refs[got++] = ref;
	}
	if (got < count) {
		fake_frames_free(p, *va, count);
		return -ENOSPC;
	}
	for (i = 0; f->force_ref && i < count; i++)
		refs[i] = f->force_ref + i;
	for (i = 0; i < count; i++) {
		f->ent[refs[i]].domid = domid;
		f->ent[refs[i]].gfn = FAKE_GFN_BASE + s + i;
		f->ent[refs[i]].flags =
		    XV_GTF_permit_access | (writable ? 0 : XV_GTF_readonly);
		f->share_ref[s + i] = refs[i];
	}
	return 0;
}

static int fake_unshare_pages(struct xv_platform *p, void *va, uint32_t count)
{
	struct fake *f = fake_of(p);
	uint32_t s = (uint32_t)(((uint8_t *)va - f->mem) / 4096), i;

	for (i = 0; i < count; i++)
		if (f->ent[f->share_ref[s + i]].maps)
			return -EBUSY; /* the pages stay shared: leaked */
	for (i = 0; i < count; i++)
		f->ent[f->share_ref[s + i]].flags = 0;
	return fake_frames_free(p, va, count);
}

static void fake_close(struct xv_platform *p)
{
	struct fake *f = fake_of(p);

	free(f->ent);
	free(f->mem);
	free(f);
}

static const struct xv_platform_ops fake_table_ops = {
    .name = "fake",
    .close = fake_close,
    .frames_alloc = fake_frames_alloc,
    .frames_free = fake_frames_free,
    .frame_lookup = fake_frame_lookup,
    .grant_access = fake_grant_access,
    .end_access = fake_end_access,
};

static const struct xv_platform_ops fake_share_ops = {
    .name = "fake-share",
    .close = fake_close,
    .share_pages = fake_share_pages,
    .unshare_pages = fake_unshare_pages,
};

/* A context on the fake platform, logging through xv_test_log. */
static struct xenvirtio_ctx *fake_ctx(bool share, uint32_t nent)
{
	struct xenvirtio_ctx *ctx = calloc(1, sizeof(*ctx));
	struct fake *f = calloc(1, sizeof(*f));

	ck_assert_ptr_nonnull(ctx);
	ck_assert_ptr_nonnull(f);
	f->nent = nent;
	f->ent = calloc(nent, sizeof(*f->ent));
	f->mem = aligned_alloc(4096, (size_t)FAKE_FRAMES * 4096);
	ck_assert_ptr_nonnull(f->ent);
	ck_assert_ptr_nonnull(f->mem);
	f->base.ops = share ? &fake_share_ops : &fake_table_ops;
	f->base.ctx = ctx;
	f->base.caps = share ? XV_CAP_SHARE_PAGES : XV_CAP_GRANT_TABLE;
	f->base.domid = 1;
	f->base.nr_grant_entries = nent;
	ctx->plat = &f->base;
	ctx->log_fn = xv_test_log;
	ctx->log_max = XENVIRTIO_LOG_WARNING;
	xv_test_expect_errors(0);
	return ctx;
}

static struct fake *fake_of_ctx(struct xenvirtio_ctx *ctx)
{
	return fake_of(ctx->plat);
}

/* Backend side: map a ref as domain @domid; NULL if refused. */
static uint8_t *fake_map(struct xenvirtio_ctx *ctx, uint16_t domid,
			 uint32_t ref, bool writable)
{
	struct fake *f = fake_of_ctx(ctx);
	struct fake_entry *e;

	if (ref >= f->nent)
		return NULL;
	e = &f->ent[ref];
	if ((e->flags & XV_GTF_TYPE_MASK) != XV_GTF_permit_access ||
	    e->domid != domid)
		return NULL;
	if (writable && (e->flags & XV_GTF_readonly))
		return NULL;
	e->maps++;
	return f->mem + (size_t)(e->gfn - FAKE_GFN_BASE) * 4096;
}

static void fake_unmap(struct xenvirtio_ctx *ctx, uint32_t ref)
{
	struct fake *f = fake_of_ctx(ctx);

	ck_assert_int_gt(f->ent[ref].maps, 0);
	f->ent[ref].maps--;
}

/* Live entries of the fake table. */
static uint32_t fake_live(struct xenvirtio_ctx *ctx)
{
	struct fake *f = fake_of_ctx(ctx);
	uint32_t r, n = 0;

	for (r = 0; r < f->nent; r++)
		n += f->ent[r].flags != 0;
	return n;
}

#endif /* XV_TEST_DMA_FAKE_H */
