/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The simulated grant world itself: world files, attaching, the grant table
 * in direct mode (the frontend picks refs), frames, foreign maps, the store,
 * and real processes sharing one world (aliasing, reaping a killed mapper,
 * event channels across processes).
 */
#include "xv-test.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include "platform.h"
#include "sim_world.h"

static char dir[64];
static char path[96];

static void setup(void)
{
	xv_test_expect_errors(0);
	snprintf(dir, sizeof(dir), "/tmp/xvsim-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/w", dir);
	ck_assert_int_eq(xenvirtio_sim_world_create(path, 4, 32, 64), 0);
}

static void teardown(void)
{
	xenvirtio_sim_world_destroy(path);
	rmdir(dir);
}

static int open_dom(const char *opts, struct xenvirtio_ctx **out)
{
	char spec[192];

	snprintf(spec, sizeof(spec), "sim:%s%s%s", path, *opts ? "," : "",
		 opts);
	return xenvirtio_ctx_open_log(spec, xv_test_log, NULL,
				      XENVIRTIO_LOG_DEBUG, out);
}

static struct xenvirtio_ctx *must_open(const char *opts)
{
	struct xenvirtio_ctx *c = NULL;
	int r = open_dom(opts, &c);

	ck_assert_msg(r == 0, "open %s: %s", opts, xenvirtio_strerror(r));
	return c;
}

static uint16_t gflags(struct xenvirtio_ctx *c, uint16_t dom, uint32_t ref)
{
	uint16_t fl = 0xffff;

	ck_assert_int_eq(xv_sim_grant_entry(c, dom, ref, &fl, NULL, NULL), 0);
	return fl;
}

START_TEST(test_world_create_errors)
{
	char p2[128];

	ck_assert_int_eq(xenvirtio_sim_world_create(path, 4, 32, 64), -EEXIST);
	snprintf(p2, sizeof(p2), "%s/x", dir);
	ck_assert_int_eq(xenvirtio_sim_world_create(NULL, 4, 32, 64), -EINVAL);
	ck_assert_int_eq(xenvirtio_sim_world_create(p2, 0, 32, 64), -EINVAL);
	ck_assert_int_eq(xenvirtio_sim_world_create(p2, 1025, 32, 64), -EINVAL);
	ck_assert_int_eq(xenvirtio_sim_world_create(p2, 4, 0, 64), -EINVAL);
	ck_assert_int_eq(xenvirtio_sim_world_create(p2, 4, (1u << 20) + 1, 64),
			 -EINVAL);
	ck_assert_int_eq(xenvirtio_sim_world_create(p2, 4, 32, 7), -EINVAL);
	ck_assert_int_eq(xenvirtio_sim_world_create(p2, 4, 32, (1u << 20) + 1),
			 -EINVAL);
	ck_assert_int_eq(access(p2, F_OK), -1);
	ck_assert_int_eq(xenvirtio_sim_world_destroy(p2), -ENOENT);
	ck_assert_int_eq(xenvirtio_sim_world_destroy(NULL), -EINVAL);
	snprintf(p2, sizeof(p2), "%s/nodir/w", dir);
	ck_assert_int_eq(xenvirtio_sim_world_create(p2, 4, 32, 64), -ENOENT);
}
END_TEST

START_TEST(test_attach_errors)
{
	struct xenvirtio_ctx *a, *b = (struct xenvirtio_ctx *)0x1;
	char bad[128], spec[160];
	int fd;

	/* Every refused spec logs one error. */
	xv_test_expect_errors(-1);
	ck_assert_int_eq(open_dom("domid=4", &b), -EINVAL);
	ck_assert_int_eq(open_dom("domid=x", &b), -EINVAL);
	ck_assert_int_eq(open_dom("domid=", &b), -EINVAL);
	ck_assert_int_eq(open_dom("bogus", &b), -EINVAL);
	ck_assert_int_eq(open_dom("guest=sparc", &b), -EINVAL);
	ck_assert_int_eq(xenvirtio_ctx_open("sim:", &b), -EINVAL);
	ck_assert_int_eq(xenvirtio_ctx_open("sim:,domid=1", &b), -EINVAL);
	snprintf(spec, sizeof(spec), "sim:%s/none", dir);
	ck_assert_int_eq(xenvirtio_ctx_open(spec, &b), -ENOENT);
	snprintf(bad, sizeof(bad), "%s/bad", dir);
	fd = open(bad, O_CREAT | O_WRONLY, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "not a world, really not one at all", 34),
			 34);
	close(fd);
	snprintf(spec, sizeof(spec), "sim:%s", bad);
	ck_assert_int_eq(xenvirtio_ctx_open(spec, &b), -EBADMSG);
	unlink(bad);
	ck_assert_ptr_eq(b, (struct xenvirtio_ctx *)0x1);

	a = must_open("domid=2");
	ck_assert_int_eq(open_dom("domid=2", &b), -EBUSY);
	ck_assert_ptr_eq(b, (struct xenvirtio_ctx *)0x1);
	xenvirtio_ctx_close(a);
	a = must_open("domid=2");
	xenvirtio_ctx_close(a);
}
END_TEST

START_TEST(test_attach_facts)
{
	struct xenvirtio_ctx *c[4], *x = NULL;
	struct xv_platform *p;
	int i;

	c[0] = must_open("domid=1,guest=pv,refs=kernel");
	p = xv_plat(c[0]);
	ck_assert_int_eq(xenvirtio_ctx_domid(c[0]), 1);
	ck_assert_str_eq(xenvirtio_ctx_platform(c[0]), "sim");
	ck_assert_int_eq(xenvirtio_ctx_guest_type(c[0]), XENVIRTIO_GUEST_PV);
	ck_assert(!xenvirtio_ctx_privileged(c[0]));
	ck_assert(!p->initial_domain);
	ck_assert_uint_eq(p->caps & XV_CAP_GRANT_TABLE, 0);
	ck_assert_uint_eq(p->caps & XV_CAP_FOREIGN, 0);
	ck_assert(p->caps & XV_CAP_SHARE_PAGES);
	ck_assert_int_eq(XV_PLAT_CALL(p, frames_alloc, 1, (void **)&x),
			 -EOPNOTSUPP);
	ck_assert_int_eq(XV_PLAT_CALL(p, grant_access, 8, 0, 0x1000, false),
			 -EOPNOTSUPP);

	/* Without domid=: the first free domain; 0 is privileged. */
	c[1] = must_open("");
	ck_assert_int_eq(xenvirtio_ctx_domid(c[1]), 0);
	ck_assert(xenvirtio_ctx_privileged(c[1]));
	ck_assert(xv_plat(c[1])->initial_domain);
	ck_assert(xv_plat(c[1])->caps & XV_CAP_FOREIGN);
	ck_assert(xv_plat(c[1])->caps & XV_CAP_GRANT_TABLE);
	ck_assert_int_eq(xenvirtio_ctx_guest_type(c[1]), XENVIRTIO_GUEST_HVM);
	c[2] = must_open("privileged,guest=arm");
	ck_assert_int_eq(xenvirtio_ctx_domid(c[2]), 2);
	ck_assert(xenvirtio_ctx_privileged(c[2]));
	ck_assert(!xv_plat(c[2])->initial_domain);
	c[3] = must_open("guest=pvh");
	ck_assert_int_eq(xenvirtio_ctx_domid(c[3]), 3);
	xv_test_expect_errors(1);
	ck_assert_int_eq(open_dom("", &x), -ENOSPC);
	for (i = 0; i < 4; i++)
		xenvirtio_ctx_close(c[i]);
}
END_TEST

/* Direct mode: the frontend writes entries; busy bits show in them. */
START_TEST(test_G_grant_table_direct)
{
	struct xenvirtio_ctx *f = must_open("domid=1"),
			     *b = must_open("domid=0");
	struct xv_platform *fp = xv_plat(f), *bp = xv_plat(b);
	uint16_t fl, dom;
	uint32_t frame, ref = 9;
	uint64_t gfn, gfn2;
	uint8_t *va, *m;
	int16_t st;

	ck_assert_int_eq(XV_PLAT_CALL(fp, frames_alloc, 2, (void **)&va), 0);
	ck_assert_int_eq(XV_PLAT_CALL(fp, frame_lookup, va + 4096 + 5, &gfn),
			 0);
	ck_assert_int_eq(XV_PLAT_CALL(fp, frame_lookup, va, &gfn2), 0);
	ck_assert_uint_eq(gfn, gfn2 + 1);
	ck_assert_uint_ge(gfn2, XV_SIM_GFN_BASE);
	ck_assert_int_eq(XV_PLAT_CALL(fp, frame_lookup, &ref, &gfn), -EFAULT);
	ck_assert_int_eq(XV_PLAT_CALL(fp, frame_lookup, va + 8192, &gfn),
			 -EFAULT);

	/* Reserved refs, refs beyond the table, frames not ours. */
	ck_assert_int_eq(XV_PLAT_CALL(fp, grant_access, 7, 0, gfn2, false),
			 -EINVAL);
	ck_assert_int_eq(XV_PLAT_CALL(fp, grant_access, 64, 0, gfn2, false),
			 -EINVAL);
	ck_assert_int_eq(XV_PLAT_CALL(fp, grant_access, 9, 0, 5, false),
			 -EINVAL);
	ck_assert_int_eq(XV_PLAT_CALL(fp, grant_access, 9, 4, gfn2, false),
			 -EINVAL);
	ck_assert_int_eq(XV_PLAT_CALL(fp, end_access, 9), -EINVAL);

	ck_assert_int_eq(XV_PLAT_CALL(fp, grant_access, ref, 0, gfn2, true), 0);
	ck_assert_int_eq(xv_sim_grant_entry(f, 1, ref, &fl, &dom, &frame), 0);
	ck_assert_uint_eq(fl, XV_GTF_permit_access | XV_GTF_readonly);
	ck_assert_uint_eq(dom, 0);
	ck_assert_uint_eq(frame, gfn2);
	ck_assert_int_eq(XV_PLAT_CALL(fp, grant_access, ref, 0, gfn2, true),
			 -EBUSY);

	va[3] = 33;
	ck_assert_int_eq(
	    XV_PLAT_CALL(bp, map_grants, 1, 1, &ref, false, (void **)&m, &st),
	    0);
	ck_assert_int_eq(m[3], 33);
	ck_assert_uint_eq(gflags(b, 1, ref), XV_GTF_permit_access |
						 XV_GTF_readonly |
						 XV_GTF_reading);
	ck_assert_int_eq(XV_PLAT_CALL(fp, end_access, ref), -EBUSY);
	/* A frame that is granted cannot be freed. */
	xv_test_expect_errors(1);
	ck_assert_int_eq(XV_PLAT_CALL(fp, frames_free, va, 2), -EBUSY);
	xv_test_expect_errors(0);
	ck_assert_int_eq(XV_PLAT_CALL(bp, unmap_grants, m, 1), 0);
	ck_assert_uint_eq(gflags(b, 1, ref),
			  XV_GTF_permit_access | XV_GTF_readonly);
	ck_assert_int_eq(XV_PLAT_CALL(fp, end_access, ref), 0);
	ck_assert_uint_eq(gflags(b, 1, ref), 0);

	/* RW grant mapped twice, RO and RW: both busy bits, pin counts. */
	ck_assert_int_eq(XV_PLAT_CALL(fp, grant_access, 10, 0, gfn2 + 1, false),
			 0);
	ref = 10;
	{
		uint8_t *m1, *m2;

		ck_assert_int_eq(XV_PLAT_CALL(bp, map_grants, 1, 1, &ref, true,
					      (void **)&m1, NULL),
				 0);
		ck_assert_int_eq(XV_PLAT_CALL(bp, map_grants, 1, 1, &ref, false,
					      (void **)&m2, NULL),
				 0);
		ck_assert_uint_eq(gflags(b, 1, ref), XV_GTF_permit_access |
							 XV_GTF_reading |
							 XV_GTF_writing);
		m1[0] = 'x';
		ck_assert_int_eq(m2[0], 'x');
		ck_assert_int_eq(va[4096], 'x');
		ck_assert_int_eq(XV_PLAT_CALL(bp, unmap_grants, m1, 1), 0);
		ck_assert_uint_eq(gflags(b, 1, ref),
				  XV_GTF_permit_access | XV_GTF_reading);
		ck_assert_int_eq(XV_PLAT_CALL(fp, end_access, ref), -EBUSY);
		ck_assert_int_eq(XV_PLAT_CALL(bp, unmap_grants, m2, 1), 0);
		ck_assert_int_eq(XV_PLAT_CALL(bp, unmap_grants, m2, 1),
				 -EINVAL);
	}
	ck_assert_int_eq(XV_PLAT_CALL(fp, end_access, ref), 0);
	ck_assert_int_eq(XV_PLAT_CALL(fp, frames_free, va, 1), -EINVAL);
	ck_assert_int_eq(XV_PLAT_CALL(fp, frames_free, va, 2), 0);
	xenvirtio_ctx_close(b);
	xenvirtio_ctx_close(f);
}
END_TEST

/* A ref granted to a domain that does not map it: BAD_DOMAIN for absent. */
START_TEST(test_G_map_bad_domain)
{
	struct xenvirtio_ctx *b = must_open("domid=0");
	uint32_t ref = 8;
	int16_t st = 99;
	void *va = NULL;

	ck_assert_int_eq(
	    XV_PLAT_CALL(xv_plat(b), map_grants, 3, 1, &ref, false, &va, &st),
	    -ESRCH);
	ck_assert_int_eq(st, XV_GNTST_BAD_DOMAIN);
	ck_assert_int_eq(XV_PLAT_CALL(xv_plat(b), map_grants, 1000, 1, &ref,
				      false, &va, &st),
			 -ESRCH);
	ck_assert_int_eq(
	    XV_PLAT_CALL(xv_plat(b), map_grants, 1, 0, &ref, false, &va, &st),
	    -EINVAL);
	ck_assert_ptr_null(va);
	xenvirtio_ctx_close(b);
}
END_TEST

/* F1: frames come zeroed, also after reuse; exhaustion and contiguity. */
START_TEST(test_F1_frames_zeroed_and_exhausted)
{
	struct xenvirtio_ctx *f = must_open("domid=1");
	struct xv_platform *p = xv_plat(f);
	uint8_t *a, *b, *c;
	uint64_t g1, g2;
	int i;

	ck_assert_int_eq(XV_PLAT_CALL(p, frames_alloc, 20, (void **)&a), 0);
	memset(a, 0xff, 20 * 4096);
	ck_assert_int_eq(XV_PLAT_CALL(p, frames_alloc, 13, (void **)&b),
			 -ENOMEM);
	ck_assert_int_eq(XV_PLAT_CALL(p, frames_alloc, 12, (void **)&b), 0);
	ck_assert_int_eq(XV_PLAT_CALL(p, frames_alloc, 1, (void **)&c),
			 -ENOMEM);
	ck_assert_int_eq(XV_PLAT_CALL(p, frames_alloc, 0, (void **)&c),
			 -EINVAL);
	ck_assert_int_eq(XV_PLAT_CALL(p, frames_alloc, 33, (void **)&c),
			 -EINVAL);
	ck_assert_int_eq(XV_PLAT_CALL(p, frames_free, a, 20), 0);
	ck_assert_int_eq(XV_PLAT_CALL(p, frames_alloc, 20, (void **)&a), 0);
	for (i = 0; i < 20 * 4096; i++)
		ck_assert_int_eq(a[i], 0);
	ck_assert_int_eq(XV_PLAT_CALL(p, frame_lookup, a, &g1), 0);
	ck_assert_int_eq(
	    XV_PLAT_CALL(p, frame_lookup, a + 19 * 4096 + 4095, &g2), 0);
	ck_assert_uint_eq(g2, g1 + 19); /* one contiguous run */
	ck_assert_int_eq(XV_PLAT_CALL(p, frames_free, a, 20), 0);
	ck_assert_int_eq(XV_PLAT_CALL(p, frames_free, b, 12), 0);
	ck_assert_int_eq(
	    xenvirtio_sim_inject_fault(f, XENVIRTIO_SIM_OP_FRAMES_ALLOC, 1,
				       -ENOMEM, 0, 0),
	    0);
	ck_assert_int_eq(XV_PLAT_CALL(p, frames_alloc, 1, (void **)&c),
			 -ENOMEM);
	ck_assert_int_eq(XV_PLAT_CALL(p, frames_alloc, 1, (void **)&c), 0);
	ck_assert_int_eq(XV_PLAT_CALL(p, frames_free, c, 1), 0);
	xenvirtio_ctx_close(f);
}
END_TEST

/* share_pages: refs never ascending-consecutive; the table can fill up. */
START_TEST(test_F7_share_refs_and_exhaustion)
{
	struct xenvirtio_ctx *f = must_open("domid=1,refs=kernel");
	struct xv_platform *p = xv_plat(f);
	uint32_t refs[32];
	void *va[8];
	int i, n;

	ck_assert_int_eq(XV_PLAT_CALL(p, share_pages, 0, 4, true, refs, &va[0]),
			 0);
	for (i = 0; i < 4; i++) {
		ck_assert_uint_ge(refs[i], XV_GNTTAB_RESERVED);
		ck_assert_uint_lt(refs[i], 64);
		if (i)
			ck_assert_uint_ne(refs[i], refs[i - 1] + 1);
	}
	ck_assert_uint_eq(gflags(f, 1, refs[0]), XV_GTF_permit_access);
	ck_assert_int_eq(XV_PLAT_CALL(p, unshare_pages, va[0], 4), 0);
	ck_assert_uint_eq(gflags(f, 1, refs[0]), 0);
	ck_assert_int_eq(XV_PLAT_CALL(p, unshare_pages, va[0], 4), -EINVAL);

	/* 56 usable refs, 32 frames: frames run out first... */
	ck_assert_int_eq(
	    XV_PLAT_CALL(p, share_pages, 0, 32, false, refs, &va[0]), 0);
	ck_assert_uint_eq(gflags(f, 1, refs[31]),
			  XV_GTF_permit_access | XV_GTF_readonly);
	ck_assert_int_eq(
	    XV_PLAT_CALL(p, share_pages, 0, 1, false, refs, &va[1]), -ENOMEM);
	ck_assert_int_eq(XV_PLAT_CALL(p, unshare_pages, va[0], 32), 0);
	xenvirtio_ctx_close(f);

	/* ...so with a bigger pool the grant table does: -ENOSPC (F7). */
	teardown();
	setup();
	xenvirtio_sim_world_destroy(path);
	ck_assert_int_eq(xenvirtio_sim_world_create(path, 2, 128, 64), 0);
	f = must_open("domid=1,refs=kernel");
	p = xv_plat(f);
	for (n = 0; n < 7; n++)
		ck_assert_int_eq(
		    XV_PLAT_CALL(p, share_pages, 0, 8, true, refs, &va[n]), 0);
	ck_assert_int_eq(XV_PLAT_CALL(p, share_pages, 0, 8, true, refs, &va[7]),
			 -ENOSPC);
	ck_assert_int_eq(XV_PLAT_CALL(p, unshare_pages, va[3], 8), 0);
	ck_assert_int_eq(XV_PLAT_CALL(p, share_pages, 0, 8, true, refs, &va[3]),
			 0);
	for (n = 0; n < 7; n++)
		ck_assert_int_eq(XV_PLAT_CALL(p, unshare_pages, va[n], 8), 0);
	xenvirtio_ctx_close(f);
}
END_TEST

/* Foreign maps: privileged domains only, per-frame errors, aliasing. */
START_TEST(test_G1_foreign_map_privilege)
{
	struct xenvirtio_ctx *f = must_open("domid=1"),
			     *u = must_open("domid=2"),
			     *b = must_open("domid=0");
	uint64_t gfns[2];
	int errs[2] = {9, 9};
	uint8_t *va, *m = NULL;

	ck_assert_int_eq(
	    XV_PLAT_CALL(xv_plat(f), frames_alloc, 1, (void **)&va), 0);
	ck_assert_int_eq(XV_PLAT_CALL(xv_plat(f), frame_lookup, va, &gfns[0]),
			 0);
	va[100] = 'q';
	gfns[1] = 5; /* below the pool */
	ck_assert_int_eq(XV_PLAT_CALL(xv_plat(u), map_foreign, 1, 1, gfns,
				      false, (void **)&m, errs),
			 -EPERM);
	ck_assert_int_eq(XV_PLAT_CALL(xv_plat(b), map_foreign, 1, 2, gfns, true,
				      (void **)&m, errs),
			 -EINVAL);
	ck_assert_int_eq(errs[0], 0);
	ck_assert_int_eq(errs[1], -EINVAL);
	ck_assert_ptr_null(m);
	ck_assert_int_eq(XV_PLAT_CALL(xv_plat(b), map_foreign, 3, 1, gfns, true,
				      (void **)&m, errs),
			 -ESRCH);
	ck_assert_int_eq(XV_PLAT_CALL(xv_plat(b), map_foreign, 1, 1, gfns, true,
				      (void **)&m, errs),
			 0);
	ck_assert_int_eq(m[100], 'q');
	m[101] = 'r';
	ck_assert_int_eq(va[101], 'r');
	/* Foreign-mapped memory is not freed under the mapper. */
	xv_test_expect_errors(1);
	ck_assert_int_eq(XV_PLAT_CALL(xv_plat(f), frames_free, va, 1), -EBUSY);
	xv_test_expect_errors(0);
	ck_assert_int_eq(XV_PLAT_CALL(xv_plat(b), unmap_foreign, m, 1), 0);
	ck_assert_int_eq(XV_PLAT_CALL(xv_plat(f), frames_free, va, 1), 0);
	xenvirtio_ctx_close(b);
	xenvirtio_ctx_close(u);
	xenvirtio_ctx_close(f);
}
END_TEST

START_TEST(test_store)
{
	struct xenvirtio_ctx *a = must_open("domid=0"), *b = must_open("");
	struct xv_platform *p = xv_plat(b);
	char buf[8], big[300];

	ck_assert_int_eq(XV_PLAT_CALL(p, store_read, "k", buf, sizeof(buf)),
			 -ENOENT);
	ck_assert_int_eq(
	    xenvirtio_sim_store_write(a, "backend/virtio/1/0/grant_usage", "1"),
	    0);
	ck_assert_int_eq(XV_PLAT_CALL(p, store_read,
				      "backend/virtio/1/0/grant_usage", buf,
				      sizeof(buf)),
			 0);
	ck_assert_str_eq(buf, "1");
	ck_assert_int_eq(xenvirtio_sim_store_write(a, "k", "12345678"), 0);
	ck_assert_int_eq(XV_PLAT_CALL(p, store_read, "k", buf, sizeof(buf)),
			 -ERANGE);
	ck_assert_int_eq(xenvirtio_sim_store_write(a, "k", "1234567"), 0);
	ck_assert_int_eq(XV_PLAT_CALL(p, store_read, "k", buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "1234567");
	ck_assert_int_eq(xenvirtio_sim_store_write(a, "k", NULL), 0);
	ck_assert_int_eq(XV_PLAT_CALL(p, store_read, "k", buf, sizeof(buf)),
			 -ENOENT);
	ck_assert_int_eq(xenvirtio_sim_store_write(a, "k", NULL), 0);
	memset(big, 'a', sizeof(big));
	big[sizeof(big) - 1] = '\0';
	ck_assert_int_eq(xenvirtio_sim_store_write(a, big, "1"), -EINVAL);
	ck_assert_int_eq(xenvirtio_sim_store_write(a, "k", big), -EINVAL);
	ck_assert_int_eq(xenvirtio_sim_store_write(a, "", "1"), -EINVAL);
	ck_assert_int_eq(xenvirtio_sim_store_write(NULL, "k", "1"), -EINVAL);
	ck_assert_int_eq(xenvirtio_sim_reap(NULL), -EINVAL);
	ck_assert_int_eq(xenvirtio_sim_inject_fault(NULL, XENVIRTIO_SIM_OP_MAP,
						    1, -EIO, 0, 0),
			 -EINVAL);
	xenvirtio_ctx_close(b);
	xenvirtio_ctx_close(a);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sim");
	TCase *tc = tcase_create("world");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_world_create_errors);
	tcase_add_test(tc, test_attach_errors);
	tcase_add_test(tc, test_attach_facts);
	tcase_add_test(tc, test_G_grant_table_direct);
	tcase_add_test(tc, test_G_map_bad_domain);
	tcase_add_test(tc, test_F1_frames_zeroed_and_exhausted);
	tcase_add_test(tc, test_F7_share_refs_and_exhaustion);
	tcase_add_test(tc, test_G1_foreign_map_privilege);
	tcase_add_test(tc, test_store);
	suite_add_tcase(s, tc);
	return xv_test_run(s);
}
