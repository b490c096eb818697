/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The library context: platform, logging, version, error text. */
#include "internal.h"
#include "platform.h"
#include "grant_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


XV_EXPORT const char *xenvirtio_version(void)
{
	return PACKAGE_VERSION;
}

void xv_vlog(const struct xenvirtio_ctx *ctx, enum xenvirtio_log_level level,
	     const char *fmt, va_list ap)
{
	char buf[512];
	int n;

	if (!ctx || !ctx->log_fn || level > ctx->log_max)
		return;
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	if (n < 0)
		return;
	/* A long message is cut, and says so. */
	if ((size_t)n >= sizeof(buf))
		memcpy(buf + sizeof(buf) - 4, "...", 4);
	ctx->log_fn(ctx->log_opaque, level, buf);
}

void xv_log(const struct xenvirtio_ctx *ctx, enum xenvirtio_log_level level,
	    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	xv_vlog(ctx, level, fmt, ap);
	va_end(ap);
}

int xv_vbreak(const struct xenvirtio_ctx *ctx, struct xv_broken *b,
	      const char *what, const char *fmt, va_list ap)
{
	if (b->broken)
		return -EIO;
	b->broken = true;
	vsnprintf(b->reason, sizeof(b->reason), fmt, ap);
	xv_err(ctx, "%s broken: %s", what, b->reason);
	return -EIO;
}

int xv_break(const struct xenvirtio_ctx *ctx, struct xv_broken *b,
	     const char *what, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = xv_vbreak(ctx, b, what, fmt, ap);
	va_end(ap);
	return r;
}

XV_EXPORT void xenvirtio_log_stderr(void *opaque,
				    enum xenvirtio_log_level level,
				    const char *msg)
{
	static const char *const names[] = {
		[XENVIRTIO_LOG_ERR] = "error",
		[XENVIRTIO_LOG_WARNING] = "warning",
		[XENVIRTIO_LOG_INFO] = "info",
		[XENVIRTIO_LOG_DEBUG] = "debug",
	};
	const char *name = (unsigned int)level < XV_ARRAY_SIZE(names) &&
					   names[level] ?
				   names[level] :
				   "log";

	fprintf(stderr, "%s: %s: %s\n", opaque ? (const char *)opaque :
						 "xenvirtio",
		name, msg);
}

XV_EXPORT int xenvirtio_ctx_open_log(const char *platform, xenvirtio_log_fn fn,
				     void *opaque,
				     enum xenvirtio_log_level max_level,
				     struct xenvirtio_ctx **out)
{
	struct xenvirtio_ctx *ctx;
	int r;

	if (!out)
		return -EINVAL;
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return -ENOMEM;
	ctx->log_fn = fn;
	ctx->log_opaque = opaque;
	ctx->log_max = max_level;
	r = xv_platform_open(ctx, platform, &ctx->plat);
	if (r < 0) {
		free(ctx);
		return r;
	}
	*out = ctx;
	return 0;
}

XV_EXPORT int xenvirtio_ctx_open(const char *platform,
				 struct xenvirtio_ctx **out)
{
	return xenvirtio_ctx_open_log(platform, NULL, NULL, XENVIRTIO_LOG_ERR,
				      out);
}

XV_EXPORT void xenvirtio_ctx_close(struct xenvirtio_ctx *ctx)
{
	if (!ctx)
		return;
	xv_gnttab_destroy(ctx->gnttab);
	xv_platform_close(ctx->plat);
	free(ctx);
}

XV_EXPORT void xenvirtio_ctx_set_log(struct xenvirtio_ctx *ctx,
				     xenvirtio_log_fn fn, void *opaque,
				     enum xenvirtio_log_level max_level)
{
	if (!ctx)
		return;
	ctx->log_fn = fn;
	ctx->log_opaque = opaque;
	ctx->log_max = max_level;
}

XV_EXPORT int xenvirtio_ctx_domid(const struct xenvirtio_ctx *ctx)
{
	return ctx ? ctx->plat->domid : -EINVAL;
}

XV_EXPORT const char *xenvirtio_ctx_platform(const struct xenvirtio_ctx *ctx)
{
	return ctx ? ctx->plat->ops->name : NULL;
}

XV_EXPORT enum xenvirtio_guest_type
xenvirtio_ctx_guest_type(const struct xenvirtio_ctx *ctx)
{
	return ctx ? ctx->plat->guest_type : XENVIRTIO_GUEST_UNKNOWN;
}

XV_EXPORT bool xenvirtio_ctx_privileged(const struct xenvirtio_ctx *ctx)
{
	return ctx && ctx->plat->privileged;
}

XV_EXPORT const char *xenvirtio_strerror(int err)
{
	const char *s;

	if (err < 0)
		err = -err;
	s = strerrordesc_np(err);
	return s ? s : "Unknown error";
}
