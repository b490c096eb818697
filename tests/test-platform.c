/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The platform contract suite: ONE list of tests that every platform behind
 * lib/platform.h must pass. XV_TEST_PLATFORM selects the platform:
 *   sim (default) - a fresh simulated world per test; the frontend is
 *                   domain 1, the backend domain 0;
 *   xen           - needs /dev/xen/gntdev (else exit 77); both contexts are
 *                   "xen" and the frontend grants to its own domid, as dom0
 *                   may.
 * Only ops both platforms have are used: share_pages for the frontend,
 * map/unmap/copy and event channels for the backend; the rest is skipped by
 * caps. Exact grant status codes are checked on sim only (Xen reports
 * GNTST_general_error where sim is more specific).
 */
#include "xv-test.h"

#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/wait.h>

#include "platform.h"
#include "sim_world.h"
#include "sim-testworld.h"

static bool on_sim;
static struct xv_sim_test_world world;
static const char *world_path = world.path;
static struct xenvirtio_ctx *front, *back;
static struct xv_platform *fp, *bp;
static uint16_t front_domid, back_domid;

static void open_ctx(const char *spec, struct xenvirtio_ctx **out)
{
	int r = xenvirtio_ctx_open_log(spec, xv_test_log, NULL,
				       XENVIRTIO_LOG_DEBUG, out);

	ck_assert_msg(r == 0, "open %s: %s", spec, xenvirtio_strerror(r));
}

static void setup(void)
{
	char spec[160];

	xv_test_expect_errors(0);
	if (on_sim) {
		xv_sim_test_world_create(&world, 4, 64, 256);
		snprintf(spec, sizeof(spec), "sim:%s,domid=0", world_path);
		open_ctx(spec, &back);
		snprintf(spec, sizeof(spec), "sim:%s,domid=1", world_path);
		open_ctx(spec, &front);
	} else {
		open_ctx("xen", &back);
		open_ctx("xen", &front);
	}
	fp = xv_plat(front);
	bp = xv_plat(back);
	front_domid = fp->domid;
	back_domid = bp->domid;
}

static void teardown(void)
{
	xenvirtio_ctx_close(front);
	xenvirtio_ctx_close(back);
	front = back = NULL;
	if (on_sim) {
		ck_assert_int_eq(xenvirtio_sim_world_destroy(world_path), 0);
		rmdir(world.dir);
	}
}

#define NEED(p, cap)                      \
	do {                              \
		if (!((p)->caps & (cap))) \
			return;           \
	} while (0)

static void *do_share(uint32_t count, bool writable, uint16_t to,
		      uint32_t *refs)
{
	void *va = NULL;
	int r = XV_PLAT_CALL(fp, share_pages, to, count, writable, refs, &va);

	ck_assert_msg(r == 0, "share_pages: %s", xenvirtio_strerror(r));
	ck_assert_ptr_nonnull(va);
	return va;
}

static void do_unshare(void *va, uint32_t count)
{
	ck_assert_int_eq(XV_PLAT_CALL(fp, unshare_pages, va, count), 0);
}

static void *do_map(const uint32_t *refs, uint32_t count, bool writable)
{
	int16_t st[16];
	void *va = NULL;
	uint32_t i;
	int r;

	ck_assert_uint_le(count, 16);
	r = XV_PLAT_CALL(bp, map_grants, front_domid, count, refs, writable,
			 &va, st);
	ck_assert_msg(r == 0, "map_grants: %s", xenvirtio_strerror(r));
	for (i = 0; i < count; i++)
		ck_assert_int_eq(st[i], XV_GNTST_OKAY);
	return va;
}

static void do_unmap(void *va, uint32_t count)
{
	ck_assert_int_eq(XV_PLAT_CALL(bp, unmap_grants, va, count), 0);
}

/* Grant -> map -> the same bytes, seen from both sides. */
START_TEST(test_G_map_aliases_both_ways)
{
	uint32_t refs[3];
	uint8_t *f, *b;
	int i;

	NEED(fp, XV_CAP_SHARE_PAGES);
	NEED(bp, XV_CAP_MAP);
	f = do_share(3, true, back_domid, refs);
	for (i = 0; i < 3 * 4096; i++)
		ck_assert_int_eq(f[i], 0); /* F1 */
	for (i = 0; i < 3; i++)
		memset(f + i * 4096, 0xa0 + i, 4096);
	b = do_map(refs, 3, true);
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(b[i * 4096], 0xa0 + i);
		ck_assert_int_eq(b[i * 4096 + 4095], 0xa0 + i);
	}
	memcpy(b + 4096 + 100, "backend", 8);
	ck_assert_str_eq((char *)f + 4096 + 100, "backend");
	memcpy(f + 2 * 4096 + 7, "frontend", 9);
	ck_assert_str_eq((char *)b + 2 * 4096 + 7, "frontend");
	do_unmap(b, 3);
	do_unshare(f, 3);
}
END_TEST

/* A read-only grant refuses a writable map; a read-only map works. */
START_TEST(test_G3_readonly_grant_refuses_rw_map)
{
	uint32_t ref;
	int16_t st = 99;
	uint8_t *f, *b;
	void *va = (void *)0x1;
	int r;

	NEED(fp, XV_CAP_SHARE_PAGES);
	NEED(bp, XV_CAP_MAP);
	f = do_share(1, false, back_domid, &ref);
	f[10] = 42;
	r = XV_PLAT_CALL(bp, map_grants, front_domid, 1, &ref, true, &va, &st);
	ck_assert_int_lt(r, 0);
	ck_assert_int_lt(st, 0);
	ck_assert_ptr_eq(va, (void *)0x1);
	if (on_sim) {
		ck_assert_int_eq(st, XV_GNTST_PERMISSION_DENIED);
		ck_assert_int_eq(r, -EPERM);
	}
	b = do_map(&ref, 1, false);
	ck_assert_int_eq(b[10], 42);
	do_unmap(b, 1);
	do_unshare(f, 1);
}
END_TEST

static sigjmp_buf segv_jmp;

static void on_segv(int sig)
{
	(void)sig;
	siglongjmp(segv_jmp, 1);
}

/*
 * A read-only map really is read-only: writing through it faults (caught
 * here, so the test cleans up after itself) and changes nothing.
 */
START_TEST(test_G3_readonly_map_write_faults)
{
	struct sigaction sa, old;
	volatile bool faulted = false;
	volatile uint8_t *b;
	uint32_t ref;
	uint8_t *f;

	NEED(fp, XV_CAP_SHARE_PAGES);
	NEED(bp, XV_CAP_MAP);
	f = do_share(1, true, back_domid, &ref);
	b = do_map(&ref, 1, false);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_segv;
	sigemptyset(&sa.sa_mask);
	/* Ours, not ASan's report-and-exit handler. */
	ck_assert_int_eq(sigaction(SIGSEGV, &sa, &old), 0);
	if (sigsetjmp(segv_jmp, 1) == 0)
		b[0] = 1;
	else
		faulted = true;
	ck_assert_int_eq(sigaction(SIGSEGV, &old, NULL), 0);
	ck_assert(faulted);
	ck_assert_int_eq(f[0], 0);
	do_unmap((void *)(uintptr_t)b, 1);
	do_unshare(f, 1);
}
END_TEST

/* Only the domain a ref is granted to may map it. */
START_TEST(test_G_wrong_domid_refused)
{
	uint16_t other = back_domid == 2 ? 3 : 2;
	uint32_t ref;
	int16_t st = 99;
	void *va = NULL, *f;
	int r;

	NEED(fp, XV_CAP_SHARE_PAGES);
	NEED(bp, XV_CAP_MAP);
	f = do_share(1, true, other, &ref);
	r = XV_PLAT_CALL(bp, map_grants, front_domid, 1, &ref, false, &va, &st);
	ck_assert_int_lt(r, 0);
	ck_assert_int_lt(st, 0);
	ck_assert_ptr_null(va);
	if (on_sim)
		ck_assert_int_eq(st, XV_GNTST_PERMISSION_DENIED);
	do_unshare(f, 1);
}
END_TEST

/*
 * A batch with one bad ref fails as a whole, with a status per ref, and
 * leaves no busy bit behind (the pages can be unshared at once).
 */
START_TEST(test_G4_batch_map_all_or_nothing)
{
	uint32_t refs[3], batch[4];
	int16_t st[4] = {99, 99, 99, 99};
	void *va = (void *)0x1, *f;
	int r, i;

	NEED(fp, XV_CAP_SHARE_PAGES);
	NEED(bp, XV_CAP_MAP);
	f = do_share(3, true, back_domid, refs);
	batch[0] = refs[0];
	batch[1] = refs[1];
	batch[2] = 0x0ffffff0u; /* beyond any table */
	batch[3] = refs[2];
	r = XV_PLAT_CALL(bp, map_grants, front_domid, 4, batch, true, &va, st);
	ck_assert_int_lt(r, 0);
	ck_assert_ptr_eq(va, (void *)0x1);
	ck_assert_int_eq(st[0], XV_GNTST_OKAY);
	ck_assert_int_eq(st[1], XV_GNTST_OKAY);
	ck_assert_int_lt(st[2], 0);
	ck_assert_int_eq(st[3], XV_GNTST_OKAY);
	if (on_sim) {
		ck_assert_int_eq(st[2], XV_GNTST_BAD_GNTREF);
		for (i = 0; i < 3; i++) {
			uint16_t fl;

			ck_assert_int_eq(xv_sim_grant_entry(back, front_domid,
							    refs[i], &fl, NULL,
							    NULL),
					 0);
			ck_assert_uint_eq(
			    fl & (XV_GTF_reading | XV_GTF_writing), 0);
		}
	}
	do_unshare(f, 3); /* would be -EBUSY with a leftover busy bit */
}
END_TEST

/* End access while mapped is refused (F3), and works after unmap. */
START_TEST(test_F3_unshare_while_mapped_busy)
{
	uint32_t refs[2];
	void *f, *b;

	NEED(fp, XV_CAP_SHARE_PAGES);
	NEED(bp, XV_CAP_MAP);
	f = do_share(2, true, back_domid, refs);
	b = do_map(&refs[1], 1, false);
#ifdef XV_CAP_REVOKE_DEFERRED
	if (fp->caps & XV_CAP_REVOKE_DEFERRED) {
		/*
		 * Xen's gntalloc: unshare succeeds and the kernel keeps the
		 * page until the peer unmaps; the peer's map stays valid
		 * and is never handed to anyone else meanwhile.
		 */
		((uint8_t *)f)[4096 + 5] = 7;
		ck_assert_int_eq(XV_PLAT_CALL(fp, unshare_pages, f, 2), 0);
		ck_assert_int_eq(((uint8_t *)b)[5], 7);
		do_unmap(b, 1);
		return;
	}
#endif
	ck_assert_int_eq(XV_PLAT_CALL(fp, unshare_pages, f, 2), -EBUSY);
	memset(f, 7, 8192); /* still ours: nothing was freed */
	ck_assert_int_eq(((uint8_t *)b)[5], 7);
	do_unmap(b, 1);
	do_unshare(f, 2);
}
END_TEST

/* A ref whose access has ended cannot be mapped any more (G5). */
START_TEST(test_G5_map_revoked_ref)
{
	uint32_t refs[2];
	int16_t st[2] = {99, 99};
	void *va = NULL, *f, *g;
	uint32_t live;

	NEED(fp, XV_CAP_SHARE_PAGES);
	NEED(bp, XV_CAP_MAP);
	f = do_share(1, true, back_domid, &refs[0]);
	g = do_share(1, true, back_domid, &live);
	do_unshare(f, 1);
	refs[1] = live;
	ck_assert_int_lt(
	    XV_PLAT_CALL(bp, map_grants, front_domid, 2, refs, false, &va, st),
	    0);
	ck_assert_ptr_null(va);
	ck_assert_int_lt(st[0], 0);
	ck_assert_int_eq(st[1], XV_GNTST_OKAY);
	if (on_sim)
		ck_assert_int_eq(st[0], XV_GNTST_BAD_GNTREF);
	do_unshare(g, 1); /* the good ref was not left busy */
}
END_TEST

/* Unmapping something that was never mapped is caller misuse. */
START_TEST(test_G_unmap_unknown)
{
	static uint8_t page[4096] __attribute__((aligned(4096)));

	NEED(bp, XV_CAP_MAP);
	ck_assert_int_eq(XV_PLAT_CALL(bp, unmap_grants, page, 1), -EINVAL);
}
END_TEST

/* Grant copy writes a status for every segment and checks permissions. */
START_TEST(test_G4_copy_status_per_segment)
{
	uint32_t ro, rw;
	uint8_t *fro, *frw;
	char in[16] = "", out[8] = "written";
	struct xv_copy_seg seg[4];
	int r;

	NEED(fp, XV_CAP_SHARE_PAGES);
	NEED(bp, XV_CAP_COPY);
	fro = do_share(1, false, back_domid, &ro);
	frw = do_share(1, true, back_domid, &rw);
	memcpy(fro + 4080, "readonly-data", 14);
	memset(seg, 0, sizeof(seg));
	seg[0] = (struct xv_copy_seg){.local = in,
				      .ref = ro,
				      .domid = front_domid,
				      .offset = 4080,
				      .len = 14,
				      .status = 99};
	seg[1] = (struct xv_copy_seg){.local = out,
				      .ref = ro,
				      .domid = front_domid,
				      .offset = 0,
				      .len = 8,
				      .to_grant = true,
				      .status = 99};
	seg[2] = (struct xv_copy_seg){.local = out,
				      .ref = rw,
				      .domid = front_domid,
				      .offset = 4088,
				      .len = 8,
				      .to_grant = true,
				      .status = 99};
	seg[3] = (struct xv_copy_seg){.local = in,
				      .ref = 0x0ffffff0u,
				      .domid = front_domid,
				      .offset = 0,
				      .len = 8,
				      .status = 99};
	r = XV_PLAT_CALL(bp, grant_copy, seg, 4);
	ck_assert_int_lt(r, 0);
	ck_assert_int_eq(seg[0].status, XV_GNTST_OKAY);
	ck_assert_int_lt(seg[1].status, 0);
	ck_assert_int_eq(seg[2].status, XV_GNTST_OKAY);
	ck_assert_int_lt(seg[3].status, 0);
	ck_assert_str_eq(in, "readonly-data");
	ck_assert_str_eq((char *)frw + 4088, "written");
	ck_assert_int_eq(fro[0], 0);
	if (on_sim) {
		ck_assert_int_eq(seg[1].status, XV_GNTST_PERMISSION_DENIED);
		ck_assert_int_eq(r, -EPERM); /* the first failing segment */
		ck_assert_int_eq(seg[3].status, XV_GNTST_BAD_GNTREF);
	}
	/* All good: 0. */
	r = XV_PLAT_CALL(bp, grant_copy, seg, 1);
	ck_assert_int_eq(r, 0);
	do_unshare(fro, 1);
	do_unshare(frw, 1);
}
END_TEST

/* A segment crossing the granted frame's end is refused, nothing copied. */
START_TEST(test_G_copy_across_frame_refused)
{
	uint32_t refs[2];
	uint8_t *f, buf[200];
	struct xv_copy_seg seg;
	int i;

	NEED(fp, XV_CAP_SHARE_PAGES);
	NEED(bp, XV_CAP_COPY);
	f = do_share(2, true, back_domid, refs);
	memset(buf, 0x5a, sizeof(buf));
	seg = (struct xv_copy_seg){.local = buf,
				   .ref = refs[0],
				   .domid = front_domid,
				   .offset = 4000,
				   .len = 200,
				   .to_grant = true,
				   .status = 99};
	ck_assert_int_lt(XV_PLAT_CALL(bp, grant_copy, &seg, 1), 0);
	ck_assert_int_eq(seg.status, XV_GNTST_BAD_COPY_ARG);
	for (i = 0; i < 8192; i++)
		ck_assert_int_eq(f[i], 0);
	seg.len = 0;
	seg.offset = 0;
	ck_assert_int_lt(XV_PLAT_CALL(bp, grant_copy, &seg, 1), 0);
	ck_assert_int_eq(seg.status, XV_GNTST_BAD_COPY_ARG);
	do_unshare(f, 2);
}
END_TEST

static bool readable(int fd)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};

	return poll(&pfd, 1, 1000) == 1 && (pfd.revents & POLLIN);
}

/* Event channel loopback: notify, poll, pending once (coalesced), unmask. */
START_TEST(test_E_evtchn_loopback_coalesce)
{
	int pb, pf, bfd, ffd, i;

	NEED(bp, XV_CAP_EVTCHN);
	bfd = xenvirtio_evtchn_fd(back);
	ffd = xenvirtio_evtchn_fd(front);
	ck_assert_int_ge(bfd, 0);
	ck_assert_int_ge(ffd, 0);
	pb = xenvirtio_evtchn_alloc_unbound(back, front_domid);
	ck_assert_int_ge(pb, 1);
	pf = xenvirtio_evtchn_bind(front, back_domid, (unsigned int)pb);
	ck_assert_int_ge(pf, 1);
	ck_assert_int_eq(xenvirtio_evtchn_pending(back), -EAGAIN);

	for (i = 0; i < 3; i++)
		ck_assert_int_eq(xenvirtio_evtchn_notify(front, pf), 0);
	ck_assert(readable(bfd));
	ck_assert_int_eq(xenvirtio_evtchn_pending(back), pb);
	ck_assert_int_eq(xenvirtio_evtchn_pending(back), -EAGAIN);
	/* Notified while masked: held until unmask. */
	ck_assert_int_eq(xenvirtio_evtchn_notify(front, pf), 0);
	ck_assert_int_eq(xenvirtio_evtchn_pending(back), -EAGAIN);
	ck_assert_int_eq(xenvirtio_evtchn_unmask(back, pb), 0);
	ck_assert(readable(bfd));
	ck_assert_int_eq(xenvirtio_evtchn_pending(back), pb);
	ck_assert_int_eq(xenvirtio_evtchn_unmask(back, pb), 0);
	ck_assert_int_eq(xenvirtio_evtchn_pending(back), -EAGAIN);

	/* The other way. */
	ck_assert_int_eq(xenvirtio_evtchn_notify(back, pb), 0);
	ck_assert(readable(ffd));
	ck_assert_int_eq(xenvirtio_evtchn_pending(front), pf);
	ck_assert_int_eq(xenvirtio_evtchn_unmask(front, pf), 0);

	/* Closing one end: notifying the other is a no-op, not an error. */
	ck_assert_int_eq(xenvirtio_evtchn_unbind(back, pb), 0);
	ck_assert_int_eq(xenvirtio_evtchn_notify(front, pf), 0);
	ck_assert_int_eq(xenvirtio_evtchn_pending(back), -EAGAIN);
	ck_assert_int_eq(xenvirtio_evtchn_unbind(front, pf), 0);
	ck_assert_int_eq(xenvirtio_evtchn_unbind(front, pf), -EINVAL);
	ck_assert_int_eq(xenvirtio_evtchn_notify(front, pf), -EINVAL);
}
END_TEST

/* Binding to a port not offered to us is refused. */
START_TEST(test_E_evtchn_bind_refused)
{
	int pb;

	/* On Xen the other domain would have to exist. */
	if (!on_sim)
		return;
	pb = xenvirtio_evtchn_alloc_unbound(back, front_domid == 3 ? 2 : 3);
	ck_assert_int_ge(pb, 1);
	if (on_sim)
		ck_assert_int_eq(
		    xenvirtio_evtchn_bind(front, back_domid, (unsigned int)pb),
		    -EINVAL);
	ck_assert_int_eq(xenvirtio_evtchn_unbind(back, pb), 0);
}
END_TEST

/* sim only: a failure injected into the Nth map is all-or-nothing too. */
START_TEST(test_G4_injected_map_fault)
{
	uint32_t refs[3];
	int16_t st[3];
	void *va = NULL, *f, *b;

	if (!on_sim)
		return;
	f = do_share(3, true, back_domid, refs);
	ck_assert_int_eq(xenvirtio_sim_inject_fault(back, XENVIRTIO_SIM_OP_MAP,
						    2, -EAGAIN, 1, 0),
			 0);
	b = do_map(refs, 1, true); /* the 1st call passes */
	ck_assert_int_eq(
	    XV_PLAT_CALL(bp, map_grants, front_domid, 3, refs, true, &va, st),
	    -EAGAIN);
	ck_assert_ptr_null(va);
	ck_assert_int_eq(st[0], XV_GNTST_OKAY);
	ck_assert_int_eq(st[1], XV_GNTST_EAGAIN);
	ck_assert_int_eq(st[2], XV_GNTST_OKAY);
	do_unmap(b, 1);
	/* Nothing is left pinned, and the fault was one-shot. */
	b = do_map(refs, 3, true);
	do_unmap(b, 3);
	/* repeat: every call from the Nth on fails until cancelled. */
	ck_assert_int_eq(xenvirtio_sim_inject_fault(back, XENVIRTIO_SIM_OP_COPY,
						    1, -ENOSPC, 0, 1),
			 0);
	{
		char c;
		struct xv_copy_seg seg = {.local = &c,
					  .ref = refs[0],
					  .domid = front_domid,
					  .len = 1};

		ck_assert_int_eq(XV_PLAT_CALL(bp, grant_copy, &seg, 1),
				 -ENOSPC);
		ck_assert_int_eq(seg.status, XV_GNTST_NO_SPACE);
		ck_assert_int_eq(XV_PLAT_CALL(bp, grant_copy, &seg, 1),
				 -ENOSPC);
		ck_assert_int_eq(xenvirtio_sim_inject_fault(
				     back, XENVIRTIO_SIM_OP_COPY, 0, 0, 0, 0),
				 0);
		ck_assert_int_eq(XV_PLAT_CALL(bp, grant_copy, &seg, 1), 0);
	}
	ck_assert_int_eq(xenvirtio_sim_inject_fault(
			     back, XENVIRTIO_SIM_OP_NOTIFY, 1, -EIO, 0, 0),
			 0);
	ck_assert_int_eq(xenvirtio_evtchn_notify(back, 1), -EIO);
	ck_assert_int_eq(xenvirtio_sim_inject_fault(
			     back, XENVIRTIO_SIM_OP_COUNT, 1, -EIO, 0, 0),
			 -EINVAL);
	ck_assert_int_eq(
	    xenvirtio_sim_inject_fault(back, XENVIRTIO_SIM_OP_MAP, 1, 5, 0, 0),
	    -EINVAL);
	do_unshare(f, 3);
}
END_TEST

int main(void)
{
	const char *plat = getenv("XV_TEST_PLATFORM");
	Suite *s = suite_create("platform");
	TCase *tc = tcase_create("contract");

	if (!plat || !*plat || !strcmp(plat, "sim")) {
		on_sim = true;
	} else if (!strcmp(plat, "xen")) {
		if (access("/dev/xen/gntdev", F_OK) != 0)
			return 77;
	} else {
		fprintf(stderr, "XV_TEST_PLATFORM must be sim or xen\n");
		return 99;
	}
	printf("platform contract suite on %s\n", on_sim ? "sim" : "xen");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_G_map_aliases_both_ways);
	tcase_add_test(tc, test_G3_readonly_grant_refuses_rw_map);
	tcase_add_test(tc, test_G3_readonly_map_write_faults);
	tcase_add_test(tc, test_G_wrong_domid_refused);
	tcase_add_test(tc, test_G4_batch_map_all_or_nothing);
	tcase_add_test(tc, test_F3_unshare_while_mapped_busy);
	tcase_add_test(tc, test_G5_map_revoked_ref);
	tcase_add_test(tc, test_G_unmap_unknown);
	tcase_add_test(tc, test_G4_copy_status_per_segment);
	tcase_add_test(tc, test_G_copy_across_frame_refused);
	tcase_add_test(tc, test_E_evtchn_loopback_coalesce);
	tcase_add_test(tc, test_E_evtchn_bind_refused);
	tcase_add_test(tc, test_G4_injected_map_fault);
	suite_add_tcase(s, tc);
	return xv_test_run(s);
}
