/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Platform-level costs on real Xen, through the seam: ns per map+unmap of
 * 1 ref, of 16 refs in one batched call, of 16 refs one by one, and of one
 * grant copy of 16 x 4 KiB (each way). Self-grants in one domain, so the
 * figures are the hypercall + gntdev cost without a second domain's TLBs.
 * Prints one "XV-BENCH" line per figure; exits 77 without /dev/xen/gntdev.
 * XV_BENCH_MS (default 400) sets the time spent per figure.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "platform.h"

#define N 16
#define PG XENVIRTIO_GRANT_PAGE_SIZE

static struct xv_platform *p;
static uint16_t self;
static uint32_t refs[N];
static uint8_t local[N][PG] __attribute__((aligned(PG)));

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int map1(void)
{
	void *m;
	int r = XV_PLAT_CALL(p, map_grants, self, 1, refs, true, &m, NULL);

	return r ? r : XV_PLAT_CALL(p, unmap_grants, m, 1);
}

static int map16_batched(void)
{
	void *m;
	int r = XV_PLAT_CALL(p, map_grants, self, N, refs, true, &m, NULL);

	return r ? r : XV_PLAT_CALL(p, unmap_grants, m, N);
}

static int map16_single(void)
{
	void *m[N];
	int i, j, r = 0, u;

	for (i = 0; i < N; i++) {
		r = XV_PLAT_CALL(p, map_grants, self, 1, &refs[i], true, &m[i],
				 NULL);
		if (r)
			break;
	}
	for (j = 0; j < i; j++) {
		u = XV_PLAT_CALL(p, unmap_grants, m[j], 1);
		r = r ? r : u;
	}
	return r;
}

static int copy16(bool to_grant)
{
	struct xv_copy_seg seg[N];
	int i;

	for (i = 0; i < N; i++)
		seg[i] = (struct xv_copy_seg){.local = local[i],
					      .ref = refs[i],
					      .domid = self,
					      .len = PG,
					      .to_grant = to_grant};
	return XV_PLAT_CALL(p, grant_copy, seg, N);
}

static int copy16_from(void)
{
	return copy16(false);
}

static int copy16_to(void)
{
	return copy16(true);
}

static int bench(const char *name, int (*fn)(void), double budget_ns)
{
	double t0, t;
	long n = 0;
	int r;

	for (r = 0; r < 10; r++) /* warm up */
		if (fn())
			goto fail;
	t0 = now_ns();
	do {
		for (r = 0; r < 16; r++, n++)
			if (fn())
				goto fail;
		t = now_ns() - t0;
	} while (t < budget_ns);
	printf("XV-BENCH %-24s %10.0f ns/op  (%ld ops)\n", name, t / n, n);
	return 0;
fail:
	printf("XV-BENCH %-24s FAILED\n", name);
	return 1;
}

int main(void)
{
	struct xenvirtio_ctx *ctx;
	const char *ms = getenv("XV_BENCH_MS");
	double budget = (ms ? atof(ms) : 400) * 1e6;
	uint8_t *sh;
	int fails = 0;

	if (access("/dev/xen/gntdev", F_OK) != 0) {
		fprintf(stderr, "no /dev/xen/gntdev: skipped\n");
		return 77;
	}
	if (xenvirtio_ctx_open_log("xen", xenvirtio_log_stderr, NULL,
				   XENVIRTIO_LOG_ERR, &ctx))
		return 1;
	p = xv_plat(ctx);
	self = p->domid;
	if (XV_PLAT_CALL(p, share_pages, self, N, true, refs, (void **)&sh)) {
		fprintf(stderr, "share_pages failed\n");
		return 1;
	}
	memset(local, 0x5a, sizeof(local));
	fails += bench("map+unmap 1 ref", map1, budget);
	fails += bench("map+unmap 16 batched", map16_batched, budget);
	fails += bench("map+unmap 16 single", map16_single, budget);
	fails += bench("copy 16x4KiB from grant", copy16_from, budget);
	fails += bench("copy 16x4KiB to grant", copy16_to, budget);
	XV_PLAT_CALL(p, unshare_pages, sh, N);
	xenvirtio_ctx_close(ctx);
	return fails ? 1 : 0;
}
