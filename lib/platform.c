/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Platform selection ("xen", "sim:...", "auto") and the public entry points
 * that go straight through the seam (event channels, the store).
 */
#include "platform.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xenvirtio/evtchn.h>
#include <xenvirtio/gnttab.h>
#include <xenvirtio/store.h>


int xv_gntst_to_errno(int16_t st)
{
	switch (st) {
	case XV_GNTST_OKAY:
		return 0;
	case XV_GNTST_BAD_DOMAIN:
		return -ESRCH;
	case XV_GNTST_BAD_GNTREF:
	case XV_GNTST_BAD_HANDLE:
	case XV_GNTST_BAD_COPY_ARG:
		return -EINVAL;
	case XV_GNTST_BAD_VIRT_ADDR:
	case XV_GNTST_BAD_DEV_ADDR:
	case XV_GNTST_BAD_PAGE:
		return -EFAULT;
	case XV_GNTST_NO_DEVICE_SPACE:
	case XV_GNTST_NO_SPACE:
		return -ENOSPC;
	case XV_GNTST_PERMISSION_DENIED:
		return -EPERM;
	case XV_GNTST_ADDRESS_TOO_BIG:
		return -E2BIG;
	case XV_GNTST_EAGAIN:
		return -EAGAIN;
	default:
		return -EIO;
	}
}

static const struct xv_platform_ops *const xv_platforms[] = {
#ifdef HAVE_XEN
	&xv_platform_xen_ops,
#endif
	&xv_platform_sim_ops,
};

static const struct xv_platform_ops *xv_platform_find(const char *name,
						       size_t len)
{
	size_t i;

	for (i = 0; i < XV_ARRAY_SIZE(xv_platforms); i++)
		if (strlen(xv_platforms[i]->name) == len &&
		    !memcmp(xv_platforms[i]->name, name, len))
			return xv_platforms[i];
	return NULL;
}

int xv_platform_open(struct xenvirtio_ctx *ctx, const char *spec,
		     struct xv_platform **out)
{
	const struct xv_platform_ops *ops;
	const char *colon, *args;
	struct xv_platform *p = NULL;
	int r;

	if (!spec || !strcmp(spec, "auto")) {
		const char *world = getenv("XENVIRTIO_SIM");

		ops = xv_platform_find("xen", 3);
		if (ops && access("/dev/xen/gntdev", F_OK) == 0) {
			args = "";
		} else if (world && *world) {
			ops = &xv_platform_sim_ops;
			args = world;
		} else {
			xv_err(ctx, "platform auto: no /dev/xen/gntdev%s and "
				    "XENVIRTIO_SIM is not set",
			       ops ? "" : " (built without Xen)");
			return -ENODEV;
		}
	} else {
		colon = strchr(spec, ':');
		ops = xv_platform_find(spec, colon ? (size_t)(colon - spec) :
						     strlen(spec));
		args = colon ? colon + 1 : "";
		if (!ops) {
			if (!strncmp(spec, "xen", 3) &&
			    (spec[3] == '\0' || spec[3] == ':')) {
				xv_err(ctx, "platform xen: library built "
					    "without Xen support");
				return -ENODEV;
			}
			xv_err(ctx, "unknown platform '%s'", spec);
			return -EINVAL;
		}
	}
	r = ops->open(ctx, args, &p);
	if (r < 0)
		return r;
	p->ops = ops;
	p->ctx = ctx;
	*out = p;
	return 0;
}

void xv_platform_close(struct xv_platform *p)
{
	if (p)
		p->ops->close(p);
}

XV_EXPORT int xenvirtio_evtchn_fd(struct xenvirtio_ctx *ctx)
{
	struct xv_platform *p = xv_plat(ctx);

	return p ? XV_PLAT_CALL(p, evtchn_fd) : -EINVAL;
}

XV_EXPORT int xenvirtio_evtchn_alloc_unbound(struct xenvirtio_ctx *ctx,
					     unsigned int remote_domid)
{
	struct xv_platform *p = xv_plat(ctx);

	if (!p || remote_domid > UINT16_MAX)
		return -EINVAL;
	return XV_PLAT_CALL(p, evtchn_alloc_unbound, (uint16_t)remote_domid);
}

XV_EXPORT int xenvirtio_evtchn_bind(struct xenvirtio_ctx *ctx,
				    unsigned int remote_domid,
				    unsigned int remote_port)
{
	struct xv_platform *p = xv_plat(ctx);

	if (!p || remote_domid > UINT16_MAX || remote_port == 0)
		return -EINVAL;
	return XV_PLAT_CALL(p, evtchn_bind, (uint16_t)remote_domid,
			    remote_port);
}

XV_EXPORT int xenvirtio_evtchn_unbind(struct xenvirtio_ctx *ctx,
				      unsigned int port)
{
	struct xv_platform *p = xv_plat(ctx);

	return p ? XV_PLAT_CALL(p, evtchn_unbind, port) : -EINVAL;
}

XV_EXPORT int xenvirtio_evtchn_notify(struct xenvirtio_ctx *ctx,
				      unsigned int port)
{
	struct xv_platform *p = xv_plat(ctx);

	return p ? XV_PLAT_CALL(p, evtchn_notify, port) : -EINVAL;
}

XV_EXPORT int xenvirtio_evtchn_pending(struct xenvirtio_ctx *ctx)
{
	struct xv_platform *p = xv_plat(ctx);

	return p ? XV_PLAT_CALL(p, evtchn_pending) : -EINVAL;
}

XV_EXPORT int xenvirtio_evtchn_unmask(struct xenvirtio_ctx *ctx,
				      unsigned int port)
{
	struct xv_platform *p = xv_plat(ctx);

	return p ? XV_PLAT_CALL(p, evtchn_unmask, port) : -EINVAL;
}

XV_EXPORT int xenvirtio_gnttab_map(struct xenvirtio_ctx *ctx,
				   unsigned int domid, unsigned int count,
				   const uint32_t *refs, bool writable,
				   void **va)
{
	struct xv_platform *p = xv_plat(ctx);
	void *addr;
	int r;

	if (!p || !refs || !va || domid > UINT16_MAX || count == 0 ||
	    count > 65536)
		return -EINVAL;
	r = XV_PLAT_CALL(p, map_grants, (uint16_t)domid, count, refs,
			 writable, &addr, NULL);
	if (r < 0)
		return r;
	*va = addr;
	return 0;
}

XV_EXPORT int xenvirtio_gnttab_unmap(struct xenvirtio_ctx *ctx, void *va,
				     unsigned int count)
{
	struct xv_platform *p = xv_plat(ctx);

	if (!p || !va || count == 0)
		return -EINVAL;
	return XV_PLAT_CALL(p, unmap_grants, va, count);
}

XV_EXPORT int xenvirtio_store_read(struct xenvirtio_ctx *ctx, const char *path,
				   char *buf, size_t len)
{
	struct xv_platform *p = xv_plat(ctx);

	if (!p || !path || !buf || !len)
		return -EINVAL;
	return XV_PLAT_CALL(p, store_read, path, buf, len);
}

XV_EXPORT int xenvirtio_store_write(struct xenvirtio_ctx *ctx,
				    const char *path, const char *value)
{
	struct xv_platform *p = xv_plat(ctx);

	if (!p || !path || !*path)
		return -EINVAL;
	return XV_PLAT_CALL(p, store_write, path, value);
}
