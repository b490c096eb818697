/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A fresh simulated world with two domains for the DMA tests: the frontend
 * (FRONT, domain 1) and a privileged backend (BACK, domain 0), one context
 * each. Shared by tests/test-dma-sim.c and tests/test-dma-nogrant.c.
 */
#ifndef XV_DMA_SIM_WORLD_H
#define XV_DMA_SIM_WORLD_H

#include "xv-test.h"

#include "platform.h"

#define FRONT 1
#define BACK 0

static char world_dir[64];
static char world_path[96];
static struct xenvirtio_ctx *front, *back;
static struct xv_platform *fp, *bp;

static inline void open_ctx(const char *spec, enum xenvirtio_log_level level,
			    struct xenvirtio_ctx **out)
{
	int r = xenvirtio_ctx_open_log(spec, xv_test_log, NULL, level, out);

	ck_assert_msg(r == 0, "open %s: %s", spec, xenvirtio_strerror(r));
}

/*
 * dma_world() - create the world (@frames frames and @entries grant entries
 * per domain) and attach both domains; @front_opts is appended to the
 * frontend's platform spec (e.g. ",refs=kernel"); @level is the log level
 * the test callback sees.
 */
static inline void dma_world(const char *front_opts, unsigned int frames,
			     unsigned int entries,
			     enum xenvirtio_log_level level)
{
	char spec[200];

	xv_test_expect_errors(0);
	snprintf(world_dir, sizeof(world_dir), "/tmp/xvdma-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(world_dir));
	snprintf(world_path, sizeof(world_path), "%s/w", world_dir);
	ck_assert_int_eq(
	    xenvirtio_sim_world_create(world_path, 2, frames, entries), 0);
	snprintf(spec, sizeof(spec), "sim:%s,domid=%d", world_path, BACK);
	open_ctx(spec, level, &back);
	snprintf(spec, sizeof(spec), "sim:%s,domid=%d%s", world_path, FRONT,
		 front_opts);
	open_ctx(spec, level, &front);
	fp = xv_plat(front);
	bp = xv_plat(back);
	ck_assert(bp->privileged);
}

/* world_end() - close @dma (may be NULL), both contexts and the world. */
static inline void world_end(struct xenvirtio_dma *dma)
{
	xenvirtio_dma_close(dma);
	xenvirtio_ctx_close(front);
	xenvirtio_ctx_close(back);
	front = back = NULL;
	ck_assert_int_eq(xenvirtio_sim_world_destroy(world_path), 0);
	rmdir(world_dir);
}

#endif /* XV_DMA_SIM_WORLD_H */
