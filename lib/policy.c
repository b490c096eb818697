/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Policy: the policy object, and the one pure decision function that maps
 * facts + device to {grants, backend domid, source, reason trail}
 * (SPEC-NOTES §3: Linux's rows 1-7 plus the library's extensions).
 */
#include "internal.h"
#include "platform.h"
#include "policy_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reason trail: entries joined by "; ", cut with "..." when full. */
static void xv_trail_add(struct xenvirtio_policy_decision *out,
			 const char *fmt, ...) XV_PRINTF(2, 3);
static void xv_trail_add(struct xenvirtio_policy_decision *out,
			 const char *fmt, ...)
{
	size_t used = strlen(out->reason), room;
	va_list ap;
	int n;

	if (out->reason_truncated)
		return;
	if (used) {
		n = snprintf(out->reason + used, sizeof(out->reason) - used,
			     "; ");
		if (n < 0 || (size_t)n >= sizeof(out->reason) - used)
			goto cut;
		used += (size_t)n;
	}
	room = sizeof(out->reason) - used;
	va_start(ap, fmt);
	n = vsnprintf(out->reason + used, room, fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < room)
		return;
cut:
	out->reason_truncated = true;
	memcpy(out->reason + sizeof(out->reason) - 4, "...", 4);
}

static const char *xv_guest_desc(enum xenvirtio_guest_type t)
{
	switch (t) {
	case XENVIRTIO_GUEST_UNKNOWN:
		return "Xen guest of unknown type";
	case XENVIRTIO_GUEST_NONE:
		return "not a Xen guest";
	case XENVIRTIO_GUEST_PV:
		return "Xen PV guest";
	case XENVIRTIO_GUEST_HVM:
		return "Xen HVM guest";
	case XENVIRTIO_GUEST_PVH:
		return "Xen PVH guest";
	case XENVIRTIO_GUEST_ARM:
		return "Xen Arm guest";
	}
	return "?";
}

static void xv_set(struct xenvirtio_policy_decision *out, bool grants,
		   uint16_t domid, enum xenvirtio_policy_source src,
		   unsigned int row)
{
	out->grants = grants;
	out->backend_domid = grants ? domid : XENVIRTIO_DOMID_INVALID;
	out->source = src;
	out->row = row;
}

static void xv_decide_param(const struct xv_policy_facts *f,
			    const struct xv_params *p,
			    const struct xv_param_dev *pd,
			    const struct xv_evidence *dt,
			    const struct xv_evidence *acpi,
			    struct xenvirtio_policy_decision *out)
{
	uint16_t domid;
	const char *from;

	if (pd->has_backend) {
		domid = pd->backend;
		from = "the parameter";
	} else if (f->backend_view) {
		domid = f->own_domid;
		from = "this domain";
	} else if (dt->has_node && dt->grants) {
		domid = dt->domid;
		from = "the device tree";
	} else if (acpi->has_node && acpi->grants) {
		domid = acpi->domid;
		from = "ACPI";
	} else if (p->has_backend) {
		domid = p->backend;
		from = "xen_virtio_backend";
	} else {
		domid = 0;
		from = "the default";
	}
	xv_set(out, pd->grant, domid, XENVIRTIO_POLICY_SOURCE_PARAM, 0);
	if (pd->grant)
		xv_trail_add(out,
			     "param(%s): per-device grant:on wins, backend %u "
			     "from %s",
			     xv_origin_name(pd->origin), domid, from);
	else
		xv_trail_add(out, "param(%s): per-device grant:off wins",
			     xv_origin_name(pd->origin));
}

static void xv_decide_fw(const struct xv_evidence *ev,
			 enum xenvirtio_policy_source src,
			 struct xenvirtio_policy_decision *out)
{
	xv_set(out, ev->grants, ev->domid, src, ev->row);
	xv_trail_add(out, "%s", ev->what);
	if (ev->row)
		xv_trail_add(out, "row %u: %s", ev->row,
			     ev->grants ? "grants" :
					  "DT node without a grant IOMMU: "
					  "no grants, even if forced or PV");
}

static void xv_decide_frontend(const struct xv_policy_facts *f,
			       const struct xv_params *p,
			       const struct xv_evidence *dt,
			       const struct xv_evidence *acpi,
			       struct xenvirtio_policy_decision *out)
{
	uint16_t gdom = p->has_backend ? p->backend : 0;

	if (f->guest_type == XENVIRTIO_GUEST_NONE) {
		xv_set(out, false, 0, XENVIRTIO_POLICY_SOURCE_PLATFORM, 1);
		xv_trail_add(out, "row 1: not a Xen guest: no grants");
		return;
	}
	if (dt->has_node) {
		xv_decide_fw(dt, XENVIRTIO_POLICY_SOURCE_DT, out);
		return;
	}
	xv_trail_add(out, "%s", dt->what);
	if (acpi->has_node) {
		xv_decide_fw(acpi, XENVIRTIO_POLICY_SOURCE_ACPI, out);
		return;
	}
	if (acpi->what[0])
		xv_trail_add(out, "%s", acpi->what);
	if (f->rule7 && f->initial_domain) {
		xv_set(out, false, 0, XENVIRTIO_POLICY_SOURCE_PLATFORM, 7);
		xv_trail_add(out,
			     "row 7: initial domain, no firmware node: no "
			     "grants");
		return;
	}
	if (p->mode == XV_MODE_OFF) {
		xv_set(out, false, 0, XENVIRTIO_POLICY_SOURCE_GLOBAL, 0);
		xv_trail_add(out,
			     "global(%s): xen_virtio_grant=off and no firmware "
			     "says yes: no grants",
			     xv_origin_name(p->mode_origin));
		return;
	}
	if (f->guest_type == XENVIRTIO_GUEST_PV) {
		xv_set(out, true, gdom, XENVIRTIO_POLICY_SOURCE_PLATFORM, 5);
		xv_trail_add(out, "row 5: PV guest, no DT node: grants, "
				  "backend %u",
			     gdom);
		return;
	}
	if (p->mode == XV_MODE_FORCE) {
		xv_set(out, true, gdom, XENVIRTIO_POLICY_SOURCE_GLOBAL, 5);
		xv_trail_add(out,
			     "row 5: xen_virtio_grant=force (%s), no DT node: "
			     "grants, backend %u",
			     xv_origin_name(p->mode_origin), gdom);
		return;
	}
	xv_set(out, false, 0, XENVIRTIO_POLICY_SOURCE_DEFAULT, 6);
	xv_trail_add(out, "row 6: no DT node, not PV, not forced: no grants");
}

static void xv_decide_backend(const struct xv_policy_facts *f,
			      const struct xv_params *p,
			      const struct xv_evidence *dt,
			      const struct xv_evidence *acpi,
			      struct xenvirtio_policy_decision *out)
{
	const struct xv_evidence *fw = dt->has_node ? dt :
				       acpi->has_node ? acpi : NULL;

	if (f->grant_usage >= 0) {
		xv_set(out, f->grant_usage == 1, f->own_domid,
		       XENVIRTIO_POLICY_SOURCE_XENSTORE, 0);
		xv_trail_add(out, "xenstore: grant_usage=%d: %s",
			     f->grant_usage,
			     f->grant_usage ? "grants" : "no grants");
		return;
	}
	if (fw) {
		xv_decide_fw(fw,
			     fw == dt ? XENVIRTIO_POLICY_SOURCE_DT :
					XENVIRTIO_POLICY_SOURCE_ACPI,
			     out);
		if (fw->grants && fw->domid != f->own_domid)
			xv_trail_add(out,
				     "warning: the guest's firmware names "
				     "backend %u, not this domain (%u)",
				     fw->domid, f->own_domid);
		return;
	}
	if (f->guest_guest_type == XENVIRTIO_GUEST_PV) {
		xv_set(out, true, f->own_domid,
		       XENVIRTIO_POLICY_SOURCE_PLATFORM, 5);
		xv_trail_add(out, "row 5: PV guest: grants");
		return;
	}
	if (p->mode == XV_MODE_FORCE || p->mode == XV_MODE_OFF) {
		bool g = p->mode == XV_MODE_FORCE;

		xv_set(out, g, f->own_domid, XENVIRTIO_POLICY_SOURCE_GLOBAL,
		       0);
		xv_trail_add(out, "global(%s): xen_virtio_grant=%s",
			     xv_origin_name(p->mode_origin),
			     g ? "force" : "off");
		return;
	}
	xv_set(out, f->own_domid != 0, f->own_domid,
	       XENVIRTIO_POLICY_SOURCE_DEFAULT, 0);
	xv_trail_add(out, "libxl default: backend domain %u: %s",
		     f->own_domid,
		     f->own_domid ? "grants" : "dom0 maps foreign: no grants");
}

static const struct xv_param_dev *xv_params_find(const struct xv_params *p,
						 const struct xv_dev_id *dev,
						 const struct xv_dev_id *alt)
{
	unsigned int i, k;

	/* Latest entry first: later parameters replace earlier ones. */
	for (k = 0; k < 2; k++) {
		const struct xv_dev_id *d = k ? alt : dev;

		if (!d)
			continue;
		for (i = p->ndev; i-- > 0;) {
			const struct xv_dev_id *e = &p->dev[i].id;

			if (e->kind != d->kind)
				continue;
			if ((d->kind == XV_DEV_MMIO && e->base == d->base) ||
			    (d->kind == XV_DEV_PCI && e->seg == d->seg &&
			     e->bdf == d->bdf) ||
			    (d->kind == XV_DEV_PATH &&
			     !strcmp(e->path, d->path)))
				return &p->dev[i];
		}
	}
	return NULL;
}

void xv_policy_decide(const struct xv_policy_facts *f,
		      const struct xv_params *p, const struct xv_dev_id *dev,
		      const struct xv_evidence *dt,
		      const struct xv_evidence *acpi,
		      struct xenvirtio_policy_decision *out)
{
	const struct xv_param_dev *pd;
	struct xv_dev_id alt;
	const struct xv_dev_id *altp = NULL;

	memset(out, 0, sizeof(*out));
	out->backend_domid = XENVIRTIO_DOMID_INVALID;
	if (f->backend_view)
		xv_trail_add(out,
			     "backend view: this domain %u, guest %u (%s%s)",
			     f->own_domid, f->guest_domid,
			     xv_guest_desc(f->guest_guest_type),
			     f->backend_note ? f->backend_note : "");
	else
		xv_trail_add(out, "platform: %s%s%s",
			     xv_guest_desc(f->guest_type),
			     f->initial_domain ? ", initial domain" : "",
			     f->xenv ? ", XENV present" : "");
	/* A DT node answers to its path and to its MMIO base alike. */
	if (dev->kind == XV_DEV_PATH && dev->has_base) {
		memset(&alt, 0, sizeof(alt));
		alt.kind = XV_DEV_MMIO;
		alt.base = dev->base;
		altp = &alt;
	} else if (dev->kind == XV_DEV_MMIO && dt->node_path[0]) {
		memset(&alt, 0, sizeof(alt));
		alt.kind = XV_DEV_PATH;
		memcpy(alt.path, dt->node_path, sizeof(alt.path));
		altp = &alt;
	}
	pd = xv_params_find(p, dev, altp);
	if (pd) {
		xv_decide_param(f, p, pd, dt, acpi, out);
		return;
	}
	if (f->backend_view)
		xv_decide_backend(f, p, dt, acpi, out);
	else
		xv_decide_frontend(f, p, dt, acpi, out);
}

/* ---- the policy object ---- */

void xv_policy_seterr(struct xenvirtio_policy *pol, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(pol->err, sizeof(pol->err), fmt, ap);
	va_end(ap);
	xv_err(pol->ctx, "policy: %s", pol->err);
}

XV_EXPORT int xenvirtio_policy_new(struct xenvirtio_ctx *ctx,
				   struct xenvirtio_policy **out)
{
	struct xenvirtio_policy *pol;

	if (!out)
		return -EINVAL;
	pol = calloc(1, sizeof(*pol));
	if (!pol)
		return -ENOMEM;
	pol->ctx = ctx;
	pol->guest_type = XENVIRTIO_GUEST_UNKNOWN;
	/* Start from what the context's platform knows about itself. */
	if (xv_plat(ctx) && xv_plat(ctx)->guest_type != XENVIRTIO_GUEST_UNKNOWN) {
		pol->guest_type = xv_plat(ctx)->guest_type;
		pol->initial_domain = xv_plat(ctx)->initial_domain;
	}
	pol->grant_usage = -1;
	*out = pol;
	return 0;
}

XV_EXPORT void xenvirtio_policy_free(struct xenvirtio_policy *pol)
{
	size_t i;

	if (!pol)
		return;
	free(pol->dtb);
	free(pol->devs);
	for (i = 0; i < XV_ARRAY_SIZE(pol->paths); i++)
		free(pol->paths[i]);
	free(pol);
}

XV_EXPORT const char *
xenvirtio_policy_last_error(const struct xenvirtio_policy *pol)
{
	return pol ? pol->err : "";
}

struct xv_devlist {
	char (*devs)[XV_DT_PATH_MAX];
	unsigned int n;
};

static int xv_devlist_add(void *opaque, const char *name)
{
	struct xv_devlist *l = opaque;

	if (l->n >= XV_POLICY_MAX_DEVICES)
		return -E2BIG;
	snprintf(l->devs[l->n++], XV_DT_PATH_MAX, "%s", name);
	return 0;
}

/* Build the device list for @dtb and @acpi into a new array. */
static int xv_devlist_build(const void *dtb, const struct xv_acpi *acpi,
			    struct xv_devlist *l)
{
	unsigned int i;
	int r;

	l->n = 0;
	l->devs = calloc(XV_POLICY_MAX_DEVICES, sizeof(*l->devs));
	if (!l->devs)
		return -ENOMEM;
	if (dtb) {
		r = xv_dt_enumerate(dtb, xv_devlist_add, l);
		if (r < 0)
			goto err;
	}
	for (i = 0; acpi->xvgd && i < acpi->nnodes; i++) {
		struct xv_dev_id d;
		char name[XV_DT_PATH_MAX];

		if (acpi->nodes[i].type != XV_XVGD_MMIO)
			continue;
		memset(&d, 0, sizeof(d));
		d.kind = XV_DEV_MMIO;
		d.base = acpi->nodes[i].base;
		xv_dev_format(&d, name, sizeof(name));
		r = xv_devlist_add(l, name);
		if (r < 0)
			goto err;
	}
	return 0;
err:
	free(l->devs);
	l->devs = NULL;
	return r;
}

XV_EXPORT int xenvirtio_policy_add_dtb(struct xenvirtio_policy *pol,
				       const void *blob, size_t len)
{
	struct xv_devlist l;
	void *copy;
	int r;

	if (!pol || !blob)
		return -EINVAL;
	r = xv_dt_check(blob, len, pol->err, sizeof(pol->err));
	if (r < 0) {
		xv_err(pol->ctx, "policy: %s", pol->err);
		return r;
	}
	copy = malloc(len);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, blob, len);
	r = xv_devlist_build(copy, &pol->acpi, &l);
	if (r < 0) {
		free(copy);
		if (r == -E2BIG)
			xv_policy_seterr(pol,
					 "device tree: more than %u virtio "
					 "devices or a path over %u bytes",
					 XV_POLICY_MAX_DEVICES,
					 XV_DT_PATH_MAX - 1);
		return r;
	}
	free(pol->dtb);
	free(pol->devs);
	pol->dtb = copy;
	pol->dtb_len = len;
	pol->devs = l.devs;
	pol->ndev = l.n;
	pol->err[0] = '\0';
	return 0;
}

XV_EXPORT int xenvirtio_policy_add_acpi_table(struct xenvirtio_policy *pol,
					      const void *table, size_t len)
{
	struct xv_acpi *tmp;
	struct xv_devlist l;
	int r;

	if (!pol || !table)
		return -EINVAL;
	tmp = malloc(sizeof(*tmp));
	if (!tmp)
		return -ENOMEM;
	memcpy(tmp, &pol->acpi, sizeof(*tmp));
	r = xv_acpi_parse(tmp, table, len, pol->err, sizeof(pol->err));
	if (r < 0) {
		xv_err(pol->ctx, "policy: %s", pol->err);
		goto out;
	}
	r = xv_devlist_build(pol->dtb, tmp, &l);
	if (r < 0) {
		if (r == -E2BIG)
			xv_policy_seterr(pol, "more than %u listed devices",
					 XV_POLICY_MAX_DEVICES);
		goto out;
	}
	memcpy(&pol->acpi, tmp, sizeof(*tmp));
	free(pol->devs);
	pol->devs = l.devs;
	pol->ndev = l.n;
	pol->err[0] = '\0';
out:
	free(tmp);
	return r;
}

XV_EXPORT int xenvirtio_policy_add_params(struct xenvirtio_policy *pol,
					  const char *text,
					  enum xenvirtio_policy_origin origin)
{
	int r;

	if (!pol || !text || (unsigned int)origin > XENVIRTIO_POLICY_ORIGIN_API)
		return -EINVAL;
	r = xv_params_parse(&pol->params, text, origin, pol->err,
			    sizeof(pol->err));
	if (r < 0) {
		xv_err(pol->ctx, "policy: parameters (%s): %s",
		       xv_origin_name(origin), pol->err);
		return r;
	}
	pol->err[0] = '\0';
	return 0;
}

XV_EXPORT int xenvirtio_policy_set_platform(struct xenvirtio_policy *pol,
					    enum xenvirtio_guest_type type,
					    bool initial_domain)
{
	if (!pol || (unsigned int)type > XENVIRTIO_GUEST_ARM)
		return -EINVAL;
	pol->guest_type = type;
	pol->initial_domain = initial_domain;
	return 0;
}

XV_EXPORT int xenvirtio_policy_set_option(struct xenvirtio_policy *pol,
					  enum xenvirtio_policy_option opt,
					  int value)
{
	if (!pol || (value != 0 && value != 1))
		return -EINVAL;
	switch (opt) {
	case XENVIRTIO_POLICY_OPT_INITIAL_DOMAIN_RULE:
		pol->rule7 = value;
		return 0;
	}
	return -EINVAL;
}

XV_EXPORT int xenvirtio_policy_set_guest(struct xenvirtio_policy *pol,
					 uint16_t guest_domid,
					 enum xenvirtio_guest_type type,
					 int grant_usage)
{
	if (!pol || guest_domid > XV_DOMID_MAX ||
	    (unsigned int)type > XENVIRTIO_GUEST_ARM || grant_usage < -1 ||
	    grant_usage > 1)
		return -EINVAL;
	pol->guest_set = true;
	pol->guest_domid = guest_domid;
	pol->guest_guest_type = type;
	pol->grant_usage = grant_usage;
	return 0;
}

XV_EXPORT int xenvirtio_policy_set_domid(struct xenvirtio_policy *pol,
					 uint16_t domid)
{
	if (!pol || domid > XV_DOMID_MAX)
		return -EINVAL;
	pol->own_domid_set = true;
	pol->own_domid = domid;
	return 0;
}

XV_EXPORT int
xenvirtio_policy_device_count(const struct xenvirtio_policy *pol)
{
	return pol ? (int)pol->ndev : -EINVAL;
}

XV_EXPORT int xenvirtio_policy_device_name(const struct xenvirtio_policy *pol,
					   unsigned int index, char *buf,
					   size_t len)
{
	size_t n;

	if (!pol || !buf)
		return -EINVAL;
	if (index >= pol->ndev)
		return -ENOENT;
	n = strlen(pol->devs[index]);
	if (n >= len)
		return -ENOSPC;
	memcpy(buf, pol->devs[index], n + 1);
	return 0;
}

XV_EXPORT int xenvirtio_policy_platform(const struct xenvirtio_policy *pol,
					enum xenvirtio_guest_type *type,
					bool *initial_domain)
{
	if (!pol)
		return -EINVAL;
	if (type)
		*type = pol->guest_type;
	if (initial_domain)
		*initial_domain = pol->initial_domain;
	return 0;
}

XV_EXPORT int xenvirtio_policy_xenv(const struct xenvirtio_policy *pol,
				    uint64_t *start, uint64_t *size)
{
	if (!pol)
		return -EINVAL;
	if (!pol->acpi.xenv)
		return -ENOENT;
	if (start)
		*start = pol->acpi.gt_start;
	if (size)
		*size = pol->acpi.gt_size;
	return 0;
}

XV_EXPORT const char *
xenvirtio_policy_source_name(enum xenvirtio_policy_source src)
{
	switch (src) {
	case XENVIRTIO_POLICY_SOURCE_DEFAULT:
		return "default";
	case XENVIRTIO_POLICY_SOURCE_PARAM:
		return "param";
	case XENVIRTIO_POLICY_SOURCE_DT:
		return "dt";
	case XENVIRTIO_POLICY_SOURCE_ACPI:
		return "acpi";
	case XENVIRTIO_POLICY_SOURCE_GLOBAL:
		return "global";
	case XENVIRTIO_POLICY_SOURCE_PLATFORM:
		return "platform";
	case XENVIRTIO_POLICY_SOURCE_XENSTORE:
		return "xenstore";
	}
	return "unknown";
}

XV_EXPORT const char *
xenvirtio_policy_guest_type_name(enum xenvirtio_guest_type type)
{
	switch (type) {
	case XENVIRTIO_GUEST_UNKNOWN:
		return "unknown";
	case XENVIRTIO_GUEST_NONE:
		return "none";
	case XENVIRTIO_GUEST_PV:
		return "pv";
	case XENVIRTIO_GUEST_HVM:
		return "hvm";
	case XENVIRTIO_GUEST_PVH:
		return "pvh";
	case XENVIRTIO_GUEST_ARM:
		return "arm";
	}
	return "invalid";
}

/* Firmware evidence for @device; fills @dev (with the DT node's base). */
static int xv_policy_evidence(const struct xenvirtio_policy *pol,
			      const char *device, struct xv_dev_id *dev,
			      struct xv_evidence *dt, struct xv_evidence *acpi)
{
	struct xv_dev_id look;
	uint64_t base;
	int r;

	if (xv_dev_parse(device, strlen(device), dev) < 0)
		return -EINVAL;
	r = xv_dt_lookup(pol->dtb, dev, dt);
	if (r < 0)
		return r;
	look = *dev;
	if (dev->kind == XV_DEV_PATH &&
	    !xv_dt_path_base(pol->dtb, dev->path, &base)) {
		dev->base = base;
		dev->has_base = true;
		look.kind = XV_DEV_MMIO;
		look.base = base;
	}
	xv_acpi_lookup(&pol->acpi, &look, acpi);
	return 0;
}

static void xv_policy_facts_init(const struct xenvirtio_policy *pol,
				 struct xv_policy_facts *f)
{
	memset(f, 0, sizeof(*f));
	f->guest_type = pol->guest_type;
	f->initial_domain = pol->initial_domain;
	f->rule7 = pol->rule7;
	f->xenv = pol->acpi.xenv;
	f->grant_usage = -1;
	f->own_domid = pol->own_domid_set ? pol->own_domid :
		       xv_plat(pol->ctx) ? xv_plat(pol->ctx)->domid :
					   0;
}

XV_EXPORT int xenvirtio_policy_decide(const struct xenvirtio_policy *pol,
				      const char *device,
				      struct xenvirtio_policy_decision *out)
{
	struct xv_evidence dt, acpi;
	struct xv_policy_facts f;
	struct xv_dev_id dev;
	int r;

	if (!pol || !device || !out)
		return -EINVAL;
	r = xv_policy_evidence(pol, device, &dev, &dt, &acpi);
	if (r < 0)
		return r;
	xv_policy_facts_init(pol, &f);
	xv_policy_decide(&f, &pol->params, &dev, &dt, &acpi, out);
	return 0;
}

/* Read a store value; -ENOENT when absent or there is no store. */
static int xv_store_get(const struct xenvirtio_policy *pol, const char *path,
			char *buf, size_t len)
{
	struct xv_platform *p = xv_plat(pol->ctx);
	int r;

	if (!p)
		return -ENOENT;
	r = XV_PLAT_CALL(p, store_read, path, buf, len);
	if (r == -ENOSYS || r == -EOPNOTSUPP)
		return -ENOENT;
	if (r == -ERANGE) {
		xv_err(pol->ctx, "policy: xenstore %s: value too long", path);
		return -EBADMSG;
	}
	return r < 0 ? r : 0;
}

XV_EXPORT int
xenvirtio_policy_decide_backend(const struct xenvirtio_policy *pol,
				uint16_t guest_domid, uint32_t devid,
				const char *device,
				struct xenvirtio_policy_decision *out)
{
	struct xv_evidence dt, acpi;
	struct xv_policy_facts f;
	struct xv_dev_id dev;
	char path[128], val[32];
	int r;

	if (!pol || !out || guest_domid > XV_DOMID_MAX)
		return -EINVAL;
	if (device) {
		r = xv_policy_evidence(pol, device, &dev, &dt, &acpi);
		if (r < 0)
			return r;
	} else {
		/* No firmware identity: an id no firmware source lists. */
		memset(&dev, 0, sizeof(dev));
		memset(&dt, 0, sizeof(dt));
		memset(&acpi, 0, sizeof(acpi));
		dev.kind = XV_DEV_PATH;
	}
	xv_policy_facts_init(pol, &f);
	f.backend_view = true;
	f.guest_domid = guest_domid;
	f.guest_guest_type = XENVIRTIO_GUEST_UNKNOWN;
	f.backend_note = "";
	if (pol->guest_set && pol->guest_domid == guest_domid) {
		f.guest_guest_type = pol->guest_guest_type;
		f.grant_usage = pol->grant_usage;
		f.backend_note = ", facts given";
	}
	if (f.grant_usage < 0) {
		snprintf(path, sizeof(path),
			 "/local/domain/%u/backend/virtio/%u/%u/grant_usage",
			 f.own_domid, guest_domid, devid);
		r = xv_store_get(pol, path, val, sizeof(val));
		if (!r) {
			if (!strcmp(val, "0") || !strcmp(val, "1")) {
				f.grant_usage = val[0] - '0';
			} else {
				xv_err(pol->ctx, "policy: xenstore %s: bad "
						 "value", path);
				return -EBADMSG;
			}
		} else if (r != -ENOENT) {
			return r;
		}
	}
	if (f.guest_guest_type == XENVIRTIO_GUEST_UNKNOWN) {
		snprintf(path, sizeof(path), "/libxl/%u/type", guest_domid);
		r = xv_store_get(pol, path, val, sizeof(val));
		if (!r) {
			if (!strcmp(val, "pv"))
				f.guest_guest_type = XENVIRTIO_GUEST_PV;
			else if (!strcmp(val, "hvm"))
				f.guest_guest_type = XENVIRTIO_GUEST_HVM;
			else if (!strcmp(val, "pvh"))
				f.guest_guest_type = XENVIRTIO_GUEST_PVH;
			else {
				xv_err(pol->ctx, "policy: xenstore %s: bad "
						 "value", path);
				return -EBADMSG;
			}
		} else if (r != -ENOENT) {
			return r;
		}
	}
	xv_policy_decide(&f, &pol->params, &dev, &dt, &acpi, out);
	return 0;
}
