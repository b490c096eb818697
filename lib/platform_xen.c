/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The real Xen platform: being written (issue 6); not usable yet. */
#include "platform.h"

static int xen_open(struct xenvirtio_ctx *ctx, const char *args,
		    struct xv_platform **out)
{
	xv_err(ctx, "platform xen: not implemented yet");
	return -ENODEV;
}

static void xen_close(struct xv_platform *p)
{
}

const struct xv_platform_ops xv_platform_xen_ops = {
	.name = "xen",
	.open = xen_open,
	.close = xen_close,
};
