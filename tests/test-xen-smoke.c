/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The Xen platform against a real hypervisor, through the library's internal
 * seam: one context shares pages with its own domain (gntalloc) and maps them
 * back (gntdev), as dom0 does under `make check-xen`. Exits 77 without
 * /dev/xen/gntdev.
 */
#include "xv-test.h"

#include <dirent.h>
#include <poll.h>
#include <stdint.h>
#include <sys/wait.h>

#include "platform.h"

#define PG XENVIRTIO_GRANT_PAGE_SIZE

static struct xenvirtio_ctx *ctx;
static struct xv_platform *p;
static uint16_t self;

static void setup(void)
{
	xv_test_expect_errors(0);
	ck_assert_int_eq(xenvirtio_ctx_open_log("xen", xv_test_log, NULL,
						XENVIRTIO_LOG_ERR, &ctx),
			 0);
	p = xv_plat(ctx);
	ck_assert_int_ge(xenvirtio_ctx_domid(ctx), 0);
	ck_assert_int_lt(xenvirtio_ctx_domid(ctx), 0x7ff0);
	self = (uint16_t)xenvirtio_ctx_domid(ctx);
}

static void teardown(void)
{
	xenvirtio_ctx_close(ctx);
	ctx = NULL;
}

static void fill(uint8_t *b, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		b[i] = (uint8_t)(seed + i * 7);
}

static bool check_fill(const uint8_t *b, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (b[i] != (uint8_t)(seed + i * 7))
			return false;
	return true;
}

START_TEST(test_xen_facts)
{
	char buf[64];
	int r;

	ck_assert_str_eq(xenvirtio_ctx_platform(ctx), "xen");
	ck_assert(p->caps & XV_CAP_SHARE_PAGES);
	ck_assert(p->caps & XV_CAP_MAP);
	ck_assert(p->caps & XV_CAP_COPY);
	ck_assert(p->caps & XV_CAP_EVTCHN);
	ck_assert(!(p->caps & XV_CAP_GRANT_TABLE));
	ck_assert(p->caps & XV_CAP_REVOKE_DEFERRED);
	if (access("/proc/xen/capabilities", F_OK) == 0 && p->initial_domain) {
		ck_assert(xenvirtio_ctx_privileged(ctx));
		ck_assert(p->caps & XV_CAP_FOREIGN);
	}
	ck_assert_int_ne(xenvirtio_ctx_guest_type(ctx),
			 XENVIRTIO_GUEST_UNKNOWN);
	/* Soft without xenstored: an answer, never a hang or a crash. */
	r = XV_PLAT_CALL(p, store_read, "domid", buf, sizeof(buf));
	ck_assert_msg(r == 0 || r == -ENOSYS || r == -ENOENT, "%d", r);
	if (r == 0)
		ck_assert_int_eq(atoi(buf), self);
	printf("  info : domid %u guest type %d initial %d store %d\n", self,
	       (int)xenvirtio_ctx_guest_type(ctx), p->initial_domain, r);
}
END_TEST

/* F1: shared pages come zeroed; refs avoid the reserved 0..7. */
START_TEST(test_F1_share_zeroed)
{
	uint32_t refs[4];
	uint8_t *sh;
	size_t i;

	ck_assert_int_eq(
	    XV_PLAT_CALL(p, share_pages, self, 4, true, refs, (void **)&sh), 0);
	for (i = 0; i < 4 * PG; i++)
		ck_assert_int_eq(sh[i], 0);
	for (i = 0; i < 4; i++)
		ck_assert_uint_ge(refs[i], XV_GNTTAB_RESERVED);
	/* Misuse is refused and leaves the pages shared. */
	ck_assert_int_eq(XV_PLAT_CALL(p, unshare_pages, sh, 3), -EINVAL);
	ck_assert_int_eq(XV_PLAT_CALL(p, unshare_pages, sh + PG, 3), -EINVAL);
	ck_assert_int_eq(XV_PLAT_CALL(p, unshare_pages, refs, 1), -EINVAL);
	sh[4 * PG - 1] = 1;
	printf("  info : refs %u %u %u %u\n", refs[0], refs[1], refs[2],
	       refs[3]);
	ck_assert_int_eq(XV_PLAT_CALL(p, unshare_pages, sh, 4), 0);
}
END_TEST

/* A batched RW map aliases the shared pages in both directions. */
START_TEST(test_map_batched_roundtrip)
{
	int16_t st[8];
	uint32_t refs[8];
	uint8_t *sh, *m;
	unsigned int i;

	ck_assert_int_eq(
	    XV_PLAT_CALL(p, share_pages, self, 8, true, refs, (void **)&sh), 0);
	fill(sh, 8 * PG, 0x11);
	memset(st, 0x55, sizeof(st));
	ck_assert_int_eq(
	    XV_PLAT_CALL(p, map_grants, self, 8, refs, true, (void **)&m, st),
	    0);
	for (i = 0; i < 8; i++)
		ck_assert_int_eq(st[i], XV_GNTST_OKAY);
	ck_assert_ptr_ne(m, sh);
	ck_assert(check_fill(m, 8 * PG, 0x11));
	fill(m + 3 * PG, PG, 0x99);
	ck_assert(check_fill(sh + 3 * PG, PG, 0x99));
	ck_assert_int_eq(XV_PLAT_CALL(p, unmap_grants, m, 8), 0);
	ck_assert_int_eq(XV_PLAT_CALL(p, unshare_pages, sh, 8), 0);
}
END_TEST

/* G3: a read-only grant maps read-only and refuses a writable map. */
START_TEST(test_G3_readonly_map)
{
	uint32_t ref;
	int16_t st = 0x55;
	uint8_t *sh, *m = (uint8_t *)0x1;

	ck_assert_int_eq(
	    XV_PLAT_CALL(p, share_pages, self, 1, false, &ref, (void **)&sh),
	    0);
	strcpy((char *)sh, "read-only-page");
	ck_assert_int_eq(
	    XV_PLAT_CALL(p, map_grants, self, 1, &ref, false, (void **)&m, &st),
	    0);
	ck_assert_int_eq(st, XV_GNTST_OKAY);
	ck_assert_str_eq((char *)m, "read-only-page");
	ck_assert_int_eq(XV_PLAT_CALL(p, unmap_grants, m, 1), 0);
	m = (uint8_t *)0x1;
	ck_assert_int_eq(
	    XV_PLAT_CALL(p, map_grants, self, 1, &ref, true, (void **)&m, &st),
	    -EPERM);
	ck_assert_int_eq(st, XV_GNTST_PERMISSION_DENIED);
	ck_assert_ptr_eq(m, (uint8_t *)0x1);
	ck_assert_int_eq(XV_PLAT_CALL(p, unshare_pages, sh, 1), 0);
}
END_TEST

static int xen_warnings;

static void count_xen_log(void *opaque, enum xenvirtio_log_level level,
			  const char *msg)
{
	xv_test_log(opaque, level, msg);
	if (level == XENVIRTIO_LOG_WARNING && !strncmp(msg, "xen ", 4))
		xen_warnings++;
}

/* libxengnttab's own log line for the refusal reaches the callback. */
START_TEST(test_xen_log_routed)
{
	uint32_t ref;
	uint8_t *sh, *m;

	xenvirtio_ctx_set_log(ctx, count_xen_log, NULL, XENVIRTIO_LOG_WARNING);
	xen_warnings = 0;
	ck_assert_int_eq(
	    XV_PLAT_CALL(p, share_pages, self, 1, false, &ref, (void **)&sh),
	    0);
	ck_assert_int_eq(
	    XV_PLAT_CALL(p, map_grants, self, 1, &ref, true, (void **)&m, NULL),
	    -EPERM);
	ck_assert_int_gt(xen_warnings, 0);
	ck_assert_int_eq(XV_PLAT_CALL(p, unshare_pages, sh, 1), 0);
}
END_TEST

/* G4: one bad ref fails the whole batch, with each ref's own status. */
START_TEST(test_G4_map_status)
{
	uint32_t refs[3];
	int16_t st[3];
	uint8_t *sh, *m = (uint8_t *)0x1;

	ck_assert_int_eq(
	    XV_PLAT_CALL(p, share_pages, self, 2, true, refs, (void **)&sh), 0);
	refs[2] = refs[1];
	refs[1] = 30000; /* never granted */
	ck_assert_int_lt(
	    XV_PLAT_CALL(p, map_grants, self, 3, refs, false, (void **)&m, st),
	    0);
	ck_assert_ptr_eq(m, (uint8_t *)0x1);
	ck_assert_int_eq(st[0], XV_GNTST_OKAY);
	ck_assert_int_ne(st[1], XV_GNTST_OKAY);
	ck_assert_int_eq(st[2], XV_GNTST_OKAY);
	printf("  info : status of an ungranted ref: %d\n", st[1]);
	ck_assert_int_eq(XV_PLAT_CALL(p, unshare_pages, sh, 2), 0);
}
END_TEST

/* G4: grant copy both ways, every segment's status written. */
START_TEST(test_G4_copy_status)
{
	char out[64] = "grant-copy-payload", back[64] = {0}, bad[8];
	struct xv_copy_seg seg[3];
	uint32_t refs[2];
	uint8_t *sh;

	ck_assert_int_eq(
	    XV_PLAT_CALL(p, share_pages, self, 2, true, refs, (void **)&sh), 0);
	strcpy((char *)sh + 100, "from-the-grant");
	memset(seg, 0, sizeof(seg));
	seg[0] = (struct xv_copy_seg){.local = out,
				      .ref = refs[1],
				      .domid = self,
				      .offset = 1000,
				      .len = sizeof(out),
				      .to_grant = true,
				      .status = 0x55};
	seg[1] = (struct xv_copy_seg){.local = back,
				      .ref = refs[0],
				      .domid = self,
				      .offset = 100,
				      .len = 15,
				      .status = 0x55};
	ck_assert_int_eq(XV_PLAT_CALL(p, grant_copy, seg, 2), 0);
	ck_assert_int_eq(seg[0].status, XV_GNTST_OKAY);
	ck_assert_int_eq(seg[1].status, XV_GNTST_OKAY);
	ck_assert_str_eq((char *)sh + PG + 1000, out);
	ck_assert_str_eq(back, "from-the-grant");

	seg[2] = (struct xv_copy_seg){.local = bad,
				      .ref = 30000,
				      .domid = self,
				      .len = 8,
				      .status = 0x55};
	seg[0].status = seg[1].status = 0x55;
	ck_assert_int_lt(XV_PLAT_CALL(p, grant_copy, seg, 3), 0);
	ck_assert_int_eq(seg[0].status, XV_GNTST_OKAY);
	ck_assert_int_eq(seg[1].status, XV_GNTST_OKAY);
	ck_assert_int_ne(seg[2].status, XV_GNTST_OKAY);
	ck_assert_int_ne(seg[2].status, 0x55);
	printf("  info : copy status of an ungranted ref: %d\n", seg[2].status);

	/* A segment crossing the grant frame is refused, as Xen would. */
	seg[0].offset = 4090;
	seg[0].status = 0x55;
	ck_assert_int_eq(XV_PLAT_CALL(p, grant_copy, seg, 1), -EINVAL);
	ck_assert_int_eq(seg[0].status, XV_GNTST_BAD_COPY_ARG);
	ck_assert_str_eq((char *)sh + PG + 1000, out);
	ck_assert_int_eq(XV_PLAT_CALL(p, unshare_pages, sh, 2), 0);
}
END_TEST

/*
 * F3 on Xen: unsharing a page the peer still maps cannot fail with gntalloc;
 * the kernel keeps the page (never reused) and ends access once unmapped.
 */
START_TEST(test_F3_revoke_while_mapped)
{
	uint32_t ref;
	uint8_t *sh, *m, *again = NULL;
	int i, r = 0;

	ck_assert_int_eq(
	    XV_PLAT_CALL(p, share_pages, self, 1, true, &ref, (void **)&sh), 0);
	strcpy((char *)sh, "still-mapped");
	ck_assert_int_eq(
	    XV_PLAT_CALL(p, map_grants, self, 1, &ref, true, (void **)&m, NULL),
	    0);
	r = XV_PLAT_CALL(p, unshare_pages, sh, 1);
	printf("  info : unshare while mapped: %d\n", r);
	ck_assert_int_eq(r, 0);
	/* The peer's mapping still holds the page and its data. */
	ck_assert_str_eq((char *)m, "still-mapped");
	strcpy((char *)m, "peer-writes-on");
	ck_assert_str_eq((char *)m, "peer-writes-on");
	ck_assert_int_eq(XV_PLAT_CALL(p, unmap_grants, m, 1), 0);
	/* The deferred revoke runs from a kernel timer: give it 10 s. */
	for (i = 0; i < 100; i++) {
		r = XV_PLAT_CALL(p, map_grants, self, 1, &ref, false,
				 (void **)&again, NULL);
		if (r < 0)
			break;
		XV_PLAT_CALL(p, unmap_grants, again, 1);
		usleep(100000);
	}
	printf("  info : ref %u after the peer unmapped: %d after %d ms\n", ref,
	       r, i * 100);
	ck_assert_int_lt(r, 0);
}
END_TEST

/*
 * Wait for @want to be reported pending. Xen marks a freshly bound
 * interdomain port pending (lost-notification fix-up in
 * evtchn_bind_interdomain), so other ports may show up first: they are
 * unmasked and skipped.
 */
static int wait_port(int fd, int want)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	int i, got = -EAGAIN;

	for (i = 0; i < 10; i++) {
		if (poll(&pfd, 1, 500) < 0)
			return -errno;
		while ((got = XV_PLAT_CALL(p, evtchn_pending)) > 0) {
			XV_PLAT_CALL(p, evtchn_unmask, (uint32_t)got);
			if (got == want)
				return got;
		}
	}
	return got;
}

START_TEST(test_evtchn_loopback)
{
	int a, b, fd;

	fd = XV_PLAT_CALL(p, evtchn_fd);
	ck_assert_int_ge(fd, 0);
	a = XV_PLAT_CALL(p, evtchn_alloc_unbound, self);
	ck_assert_int_gt(a, 0);
	b = XV_PLAT_CALL(p, evtchn_bind, self, (uint32_t)a);
	ck_assert_int_gt(b, 0);
	ck_assert_int_eq(XV_PLAT_CALL(p, evtchn_notify, (uint32_t)b), 0);
	ck_assert_int_eq(wait_port(fd, a), a);
	ck_assert_int_eq(XV_PLAT_CALL(p, evtchn_notify, (uint32_t)a), 0);
	ck_assert_int_eq(wait_port(fd, b), b);
	/* Nothing left: pending() does not block. */
	ck_assert_int_eq(XV_PLAT_CALL(p, evtchn_pending), -EAGAIN);
	ck_assert_int_eq(XV_PLAT_CALL(p, evtchn_unbind, (uint32_t)b), 0);
	ck_assert_int_eq(XV_PLAT_CALL(p, evtchn_unbind, (uint32_t)a), 0);
	ck_assert_int_lt(XV_PLAT_CALL(p, evtchn_notify, (uint32_t)a), 0);
	ck_assert_int_lt(XV_PLAT_CALL(p, evtchn_bind, self, 0xfffff), 0);
}
END_TEST

/*
 * Foreign map (privileged): the own shared info frame (libxenctrl's domain
 * info) maps; with a frame Xen refuses beside it the call fails whole, with
 * the per-frame error array telling which, and maps nothing.
 */
START_TEST(test_foreign_map_all_or_nothing)
{
	uint64_t gfns[2];
	int errs[2] = {0x55, 0x55};
	void *m = (void *)0x1;
	int r;

	if (!p->privileged)
		return;
	ck_assert_int_eq(xv_xen_shared_info_gfn(p, self, &gfns[0]), 0);
	ck_assert_uint_ne(gfns[0], 0);
	ck_assert_int_eq(xv_xen_shared_info_gfn(p, 1000, &gfns[1]), -ESRCH);
	r = XV_PLAT_CALL(p, map_foreign, self, 1, gfns, false, &m, errs);
	printf("  info : foreign map of the own shared info frame %#llx: %d "
	       "errs %d\n",
	       (unsigned long long)gfns[0], r, errs[0]);
	ck_assert_int_eq(r, 0);
	ck_assert_int_eq(errs[0], 0);
	ck_assert_int_eq(XV_PLAT_CALL(p, unmap_foreign, m, 1), 0);
	m = (void *)0x1;
	errs[0] = errs[1] = 0x55;
	gfns[1] = ~0ull >> 12;
	r = XV_PLAT_CALL(p, map_foreign, self, 2, gfns, false, &m, errs);
	printf("  info : foreign map with a bad frame: %d errs %d %d\n", r,
	       errs[0], errs[1]);
	ck_assert_int_lt(r, 0);
	ck_assert_int_eq(errs[0], 0);
	ck_assert_int_eq(errs[1], r);
	ck_assert_ptr_eq(m, (void *)0x1);
}
END_TEST

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)))
		n++;
	closedir(d);
	return n;
}

/* Handles are opened on first use and all closed with the context. */
START_TEST(test_xen_handles_closed)
{
	struct xenvirtio_ctx *c;
	struct xv_platform *q;
	uint32_t ref;
	uint8_t *sh, *m;
	char buf[8];
	int before = count_fds();

	ck_assert_int_eq(xenvirtio_ctx_open_log("xen", xv_test_log, NULL,
						XENVIRTIO_LOG_ERR, &c),
			 0);
	q = xv_plat(c);
	ck_assert_int_eq(
	    XV_PLAT_CALL(q, share_pages, self, 1, true, &ref, (void **)&sh), 0);
	ck_assert_int_eq(
	    XV_PLAT_CALL(q, map_grants, self, 1, &ref, true, (void **)&m, NULL),
	    0);
	XV_PLAT_CALL(q, store_read, "domid", buf, sizeof(buf));
	ck_assert_int_gt(count_fds(), before);
	ck_assert_int_eq(XV_PLAT_CALL(q, unmap_grants, m, 1), 0);
	ck_assert_int_eq(XV_PLAT_CALL(q, unshare_pages, sh, 1), 0);
	xenvirtio_ctx_close(c);
	ck_assert_int_eq(count_fds(), before);
}
END_TEST

/*
 * Another process maps the refs: after fork() the child opens its own
 * context (it may only close the inherited one), maps and writes.
 */
START_TEST(test_xen_fork_child_maps)
{
	uint32_t refs[2];
	uint8_t *sh;
	pid_t pid;
	int st;

	ck_assert_int_eq(
	    XV_PLAT_CALL(p, share_pages, self, 2, true, refs, (void **)&sh), 0);
	strcpy((char *)sh + 100, "from-parent");
	fflush(NULL);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct xenvirtio_ctx *c;
		uint8_t *m;
		int r;

		if (xenvirtio_ctx_open("xen", &c))
			_exit(10);
		r = XV_PLAT_CALL(xv_plat(c), map_grants, self, 2, refs, true,
				 (void **)&m, NULL);
		if (r)
			_exit(11);
		if (strcmp((char *)m + 100, "from-parent"))
			_exit(12);
		strcpy((char *)m + PG + 300, "from-child");
		if (XV_PLAT_CALL(xv_plat(c), unmap_grants, m, 2))
			_exit(13);
		xenvirtio_ctx_close(c);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child: %d", st);
	ck_assert_str_eq((char *)sh + PG + 300, "from-child");
	ck_assert_int_eq(XV_PLAT_CALL(p, unshare_pages, sh, 2), 0);
}
END_TEST

int main(void)
{
	Suite *s;
	TCase *tc;

	if (access("/dev/xen/gntdev", F_OK) != 0) {
		fprintf(stderr, "no /dev/xen/gntdev: skipped\n");
		return 77;
	}
	s = suite_create("xen-smoke");
	tc = tcase_create("xen");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_xen_facts);
	tcase_add_test(tc, test_F1_share_zeroed);
	tcase_add_test(tc, test_map_batched_roundtrip);
	tcase_add_test(tc, test_G3_readonly_map);
	tcase_add_test(tc, test_xen_log_routed);
	tcase_add_test(tc, test_G4_map_status);
	tcase_add_test(tc, test_G4_copy_status);
	tcase_add_test(tc, test_F3_revoke_while_mapped);
	tcase_add_test(tc, test_evtchn_loopback);
	tcase_add_test(tc, test_foreign_map_all_or_nothing);
	tcase_add_test(tc, test_xen_handles_closed);
	tcase_add_test(tc, test_xen_fork_child_maps);
	suite_add_tcase(s, tc);
	return xv_test_run(s);
}
