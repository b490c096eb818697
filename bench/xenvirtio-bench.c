/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * xenvirtio-bench: device-side cost of split and packed virtqueues per
 * request shape and translation strategy. One JSON object per scenario.
 *
 *   xenvirtio-bench [--iterations N] [--only NAME] [--world PATH]
 *                   [--platform sim|xen]
 *
 * Strategies: identity (no grants: the ceiling), per-desc (one grant map
 * call per descriptor: what most backends do), batch (one call per chain
 * and access kind: ours), copy (batch, plus grant copy for buffers up to
 * 64 bytes). Grant strategies run on the simulated platform, frontend and
 * backend as two domains of this process. The driver side is a minimal
 * ring writer (tests/test-vq-tdrv.h); its cost is included in requests/s.
 * identity_relative: requests/s over identity's for the same ring and
 * shape at queue size 256 (0 when identity did not run, e.g. --only).
 *
 * --platform xen (or XV_TEST_PLATFORM=xen in the environment, as inside
 * `make check-xen`'s dom0) runs the grant strategies only, on the real Xen
 * platform: the frontend shares its memory once with gntalloc to its own
 * domain, the backend maps it with gntdev (both domid 0, two contexts of
 * this process); by default 2000 iterations (200 per grant scenario). The
 * refs gntalloc hands out need not be consecutive; the ring writer's
 * addresses are rewritten to the real refs, and a scenario whose buffer
 * would span non-consecutive refs is skipped with a message.
 *
 * For instructions per descriptor run one scenario under callgrind, e.g.
 *   valgrind --tool=callgrind --toggle-collect=xenvirtio_vq_pop \
 *     --toggle-collect=xenvirtio_vq_push \
 *     xenvirtio-bench --only split-block-identity-q256 --iterations 100000
 * and divide the instructions by iterations x descriptors (10 for block).
 */
#include "vq_internal.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <xenvirtio.h>

#include "test-vq-tdrv.h"

#define DATA 0x200000u /* past the largest rings */
#define REGION (DATA + 0x80000u)
#define GFRAMES (REGION / 4096)

enum shape { SHAPE_4K, SHAPE_BLOCK, SHAPE_64K };
static const char *const shape_name[] = { "4k", "block", "64k" };
enum strat { ST_IDENTITY, ST_PERDESC, ST_BATCH, ST_COPY };
static const char *const strat_name[] = { "identity", "per-desc", "batch",
					  "copy" };

static unsigned int make_shape(enum shape s, struct tbuf *b)
{
	unsigned int i;

	switch (s) {
	case SHAPE_4K:
		b[0] = (struct tbuf){ DATA, 4096, true };
		return 1;
	case SHAPE_BLOCK:
		b[0] = (struct tbuf){ DATA, 16, false };
		for (i = 0; i < 8; i++)
			b[1 + i] = (struct tbuf){ DATA + 4096 * (1 + i), 4096,
						  true };
		b[9] = (struct tbuf){ DATA + 4096 * 9, 1, true };
		return 10;
	case SHAPE_64K:
	default:
		b[0] = (struct tbuf){ DATA, 65536, true };
		return 1;
	}
}

/* identity requests/s per ring and shape at queue size 256, once run */
static double ident_rps[2][3];

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

struct world {
	struct xenvirtio_ctx *front, *back;
	uint8_t *gmem;
	bool xen;
	uint32_t *refs; /* xen: the ref of each shared frame */
};

/*
 * Xen: the grant address of @len bytes at offset @off of the shared memory,
 * or 0 if they span refs that are not consecutive (F4).
 */
static uint64_t xen_addr(const struct world *w, uint32_t off, uint32_t len)
{
	uint32_t f, first = off / 4096, last = (off + len - 1) / 4096;

	for (f = first; f < last; f++)
		if (w->refs[f + 1] != w->refs[f] + 1)
			return 0;
	return XENVIRTIO_GRANT_ADDR_FLAG | ((uint64_t)w->refs[first] << 12) |
	       (off % 4096);
}

static int world_open_xen(struct world *w)
{
	struct xv_platform *p;
	void *va;
	int r;

	w->xen = true;
	w->refs = calloc(GFRAMES, sizeof(*w->refs));
	if (!w->refs)
		return -ENOMEM;
	r = xenvirtio_ctx_open("xen", &w->front);
	if (r < 0)
		return r;
	r = xenvirtio_ctx_open("xen", &w->back);
	if (r < 0)
		return r;
	p = xv_plat(w->front);
	if (!p->ops->share_pages)
		return -EOPNOTSUPP;
	r = p->ops->share_pages(p, (uint16_t)xenvirtio_ctx_domid(w->front),
				GFRAMES, true, w->refs, &va);
	if (r < 0)
		return r;
	w->gmem = va;
	return 0;
}

static void world_close_xen(struct world *w)
{
	struct xv_platform *p;

	if (w->gmem) {
		p = xv_plat(w->front);
		p->ops->unshare_pages(p, w->gmem, GFRAMES);
	}
	free(w->refs);
}

static int world_open(struct world *w, const char *path)
{
	char spec[300];
	struct xv_platform *p;
	void *va;
	unsigned int i;
	int r;

	unlink(path);
	r = xenvirtio_sim_world_create(path, 2, GFRAMES + 16, 4096);
	if (r < 0)
		return r;
	snprintf(spec, sizeof(spec), "sim:%s,domid=1", path);
	r = xenvirtio_ctx_open(spec, &w->front);
	if (r < 0)
		return r;
	snprintf(spec, sizeof(spec), "sim:%s,domid=0", path);
	r = xenvirtio_ctx_open(spec, &w->back);
	if (r < 0)
		return r;
	p = xv_plat(w->front);
	r = p->ops->frames_alloc(p, GFRAMES, &va);
	if (r < 0)
		return r;
	w->gmem = va;
	for (i = 0; i < GFRAMES; i++) {
		uint64_t gfn;

		r = p->ops->frame_lookup(p, w->gmem + i * 4096ul, &gfn);
		if (r < 0)
			return r;
		r = p->ops->grant_access(p, 8 + i, 0, gfn, false);
		if (r < 0)
			return r;
	}
	return 0;
}

static int run(bool packed, enum shape sh, enum strat st, uint32_t qsize,
	       unsigned long iters, struct world *w, const char *only)
{
	char name[96];
	struct xenvirtio_ctx *lctx = NULL;
	struct xenvirtio_mapper *m = NULL;
	struct xenvirtio_vq *vq = NULL;
	struct xenvirtio_vq_config cfg;
	struct xenvirtio_mapper_stats s0, s1;
	struct xenvirtio_vq_elem e;
	struct iovec iov[16];
	struct tbuf b[10];
	struct tdrv t;
	uint8_t *mem = NULL;
	unsigned int n = make_shape(sh, b), k;
	uint64_t xaddr[10];
	unsigned long i;
	uint32_t id, len;
	double t0, dt;
	int r = -1;

	snprintf(name, sizeof(name), "%s-%s-%s-q%u", packed ? "packed" : "split",
		 shape_name[sh], strat_name[st], qsize);
	if (only && strcmp(only, name))
		return 0;
	if (st == ST_IDENTITY) {
		mem = aligned_alloc(4096, REGION);
		if (!mem)
			goto out;
		/* identity needs no platform: a bare, silent context */
		lctx = calloc(1, sizeof(*lctx));
		if (!lctx ||
		    xenvirtio_mapper_open_identity(lctx, mem, REGION, &m) < 0)
			goto out;
	} else {
		if (!w->back)
			return 0;
		mem = w->gmem;
		if (xenvirtio_mapper_open(w->back, XENVIRTIO_MAPPER_GRANT,
					  w->xen ? xenvirtio_ctx_domid(w->front)
						 : 1,
					  &m) < 0)
			goto out;
		if (st == ST_PERDESC)
			xenvirtio_mapper_set_strategy(m,
						      XENVIRTIO_MAPPER_PER_DESC);
		if (st == ST_COPY &&
		    xenvirtio_mapper_set_copy_threshold(m, 64) < 0)
			goto out;
	}
	if (xenvirtio_vq_new(m, qsize, &vq) < 0)
		goto out;
	tdrv_init(&t, mem, 0, qsize, packed, false, st != ST_IDENTITY);
	tdrv_config(&t, &cfg, 0);
	if (w->xen && st != ST_IDENTITY) {
		/* the real refs: rings, then the shape's buffers */
		cfg.desc_addr = xen_addr(w, t.desc, 16 * qsize);
		cfg.driver_addr = xen_addr(w, t.drv, t.dev - t.drv);
		cfg.device_addr = xen_addr(w, t.dev, t.itab - t.dev);
		for (k = 0; k < n; k++)
			xaddr[k] = xen_addr(w, b[k].off, b[k].len);
		for (k = 0; k < n; k++)
			if (!xaddr[k])
				break;
		if (k < n || !cfg.desc_addr || !cfg.driver_addr ||
		    !cfg.device_addr) {
			fprintf(stderr, "%s: skipped, refs not consecutive\n",
				name);
			r = 0;
			goto out;
		}
	}
	if (xenvirtio_vq_enable(vq, &cfg) < 0)
		goto out;
	e.iov = iov;
	e.iov_cap = 16;
	xenvirtio_mapper_get_stats(m, &s0);
	t0 = now();
	for (i = 0; i < iters; i++) {
		uint16_t pos = t.pos;

		t.next_desc = 0;
		tdrv_add(&t, b, n, false, 0);
		/* xen: one thread, so rewriting after publishing is safe */
		for (k = 0; w->xen && st != ST_IDENTITY && k < n; k++)
			tdrv_le64(mem + t.desc +
					  16 * (packed ? (pos + k) % qsize : k),
				  xaddr[k]);
		if (xenvirtio_vq_pop(vq, &e) != 1)
			goto out;
		if (xenvirtio_vq_push(vq, &e, e.in_len) < 0)
			goto out;
		if (tdrv_get_used(&t, &id, &len, n) != 1)
			goto out;
	}
	dt = now() - t0;
	xenvirtio_mapper_get_stats(m, &s1);
	if (st == ST_IDENTITY && qsize == 256)
		ident_rps[packed][sh] = iters / dt;
	printf("{\"scenario\":\"%s\",\"platform\":\"%s\","
	       "\"ring\":\"%s\",\"shape\":\"%s\","
	       "\"strategy\":\"%s\",\"queue_size\":%u,\"requests\":%lu,"
	       "\"descriptors_per_request\":%u,\"requests_per_s\":%.0f,"
	       "\"identity_relative\":%.4f,"
	       "\"ns_per_request\":%.1f,\"map_calls_per_request\":%.3f,"
	       "\"unmap_calls_per_request\":%.3f,"
	       "\"frames_mapped_per_request\":%.3f,"
	       "\"copies_per_request\":%.3f,\"bytes_copied_per_request\":%.1f}\n",
	       name, w->xen ? "xen" : "sim", packed ? "packed" : "split",
	       shape_name[sh],
	       strat_name[st], qsize, iters, n, iters / dt,
	       ident_rps[packed][sh] ? iters / dt / ident_rps[packed][sh] : 0.0,
	       dt * 1e9 / iters,
	       (double)(s1.map_calls - s0.map_calls) / iters,
	       (double)(s1.unmap_calls - s0.unmap_calls) / iters,
	       (double)(s1.frames_mapped - s0.frames_mapped) / iters,
	       (double)(s1.copy_ops - s0.copy_ops) / iters,
	       (double)(s1.bytes_copied - s0.bytes_copied) / iters);
	fflush(stdout);
	r = 0;
out:
	if (r < 0)
		fprintf(stderr, "scenario %s failed\n", name);
	xenvirtio_vq_free(vq);
	xenvirtio_mapper_close(m);
	if (st == ST_IDENTITY) {
		free(lctx);
		free(mem);
	}
	return r;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "iterations", required_argument, NULL, 'i' },
		{ "only", required_argument, NULL, 'o' },
		{ "world", required_argument, NULL, 'w' },
		{ "platform", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long iters = 200000, giters;
	const char *only = NULL, *plat = getenv("XV_TEST_PLATFORM");
	bool iters_set = false;
	char path[256];
	struct world w = { 0 };
	uint32_t qs[] = { 64, 256, 4096, 32768 };
	int c, p, s, st, fail = 0;
	unsigned int k;

	snprintf(path, sizeof(path), "/tmp/xv-bench-%d", (int)getpid());
	while ((c = getopt_long(argc, argv, "i:o:w:p:h", opts, NULL)) != -1) {
		char *end;

		switch (c) {
		case 'h':
			printf("usage: %s [--iterations N] [--only NAME] "
			       "[--world PATH] [--platform sim|xen]\n"
			       "Virtqueue device-side benchmark: split and packed "
			       "rings x request shapes x\nmapping strategies "
			       "(identity, per-descriptor, batch, grant copy); one "
			       "JSON\nobject per scenario on stdout.\n",
			       argv[0]);
			return 0;
		case 'i':
			errno = 0;
			iters = strtoul(optarg, &end, 0);
			if (errno || *end || !iters) {
				fprintf(stderr, "%s: bad --iterations '%s'\n",
					argv[0], optarg);
				return 2;
			}
			iters_set = true;
			break;
		case 'p':
			plat = optarg;
			break;
		case 'o':
			only = optarg;
			break;
		case 'w':
			snprintf(path, sizeof(path), "%s", optarg);
			break;
		default:
			fprintf(stderr,
				"usage: %s [--iterations N] [--only NAME] [--world PATH] [--platform sim|xen]\n",
				argv[0]);
			return 2;
		}
	}
	if (plat && !strcmp(plat, "xen")) {
		if (!iters_set)
			iters = 2000;
		giters = iters / 10 ? iters / 10 : 1;
		c = world_open_xen(&w);
		if (c < 0) {
			fprintf(stderr, "no Xen platform: %s\n", strerror(-c));
			world_close_xen(&w);
			return 1;
		}
		for (p = 0; p < 2; p++)
			for (s = 0; s < 3; s++)
				for (st = ST_PERDESC; st <= ST_COPY; st++)
					fail |= run(p, s, st, 256, giters, &w,
						    only);
		world_close_xen(&w);
		xenvirtio_ctx_close(w.back);
		xenvirtio_ctx_close(w.front);
		return fail ? 1 : 0;
	}
	giters = iters / 10 ? iters / 10 : 1; /* grant scenarios are slower */
	if (!only || !strstr(only, "identity")) {
		if (world_open(&w, path) < 0) {
			fprintf(stderr, "no simulated world: identity only\n");
			w.back = NULL;
		}
	}
	for (p = 0; p < 2; p++)
		for (s = 0; s < 3; s++)
			for (st = 0; st < 4; st++)
				fail |= run(p, s, st, 256,
					    st == ST_IDENTITY ? iters : giters,
					    &w, only);
	/* flatness: block requests, identity, queue size 64 .. 32768 */
	for (p = 0; p < 2; p++)
		for (k = 0; k < XV_ARRAY_SIZE(qs); k++)
			if (qs[k] != 256)
				fail |= run(p, SHAPE_BLOCK, ST_IDENTITY, qs[k],
					    iters, &w, only);
	if (w.front)
		xenvirtio_ctx_close(w.front);
	if (w.back)
		xenvirtio_ctx_close(w.back);
	if (w.back || w.front)
		xenvirtio_sim_world_destroy(path);
	return fail ? 1 : 0;
}
