/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The simulated grant world: being written (issue 2); not usable yet. */
#include "platform.h"

static int sim_open(struct xenvirtio_ctx *ctx, const char *args,
		    struct xv_platform **out)
{
	xv_err(ctx, "platform sim: not implemented yet");
	return -ENOSYS;
}

static void sim_close(struct xv_platform *p)
{
}

const struct xv_platform_ops xv_platform_sim_ops = {
	.name = "sim",
	.open = sim_open,
	.close = sim_close,
};
