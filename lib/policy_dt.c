/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Device tree facts through libfdt (never a parser of our own): virtio-mmio
 * nodes and their "iommus", PCI host bridges and their "iommu-map" /
 * "iommu-map-mask", applied exactly as Linux's of_map_id() and
 * xen_dt_grant_init_backend_domid() do (SPEC-NOTES §3 rows 2-4). The blob is
 * validated whole with fdt_check_full() before any other libfdt call.
 */
#include "internal.h"
#include "policy_internal.h"

#include <stdio.h>
#include <string.h>

#include <libfdt.h>

#define XV_MAX_PHANDLE_ARGS 16 /* Linux's MAX_PHANDLE_ARGS */

int xv_dt_check(const void *blob, size_t len, char *err, size_t errlen)
{
	int r;

	if (len > XV_DT_MAX_SIZE) {
		snprintf(err, errlen, "device tree: %zu bytes, more than %u",
			 len, XV_DT_MAX_SIZE);
		return -E2BIG;
	}
	if (len < sizeof(struct fdt_header)) {
		snprintf(err, errlen,
			 "device tree: %zu bytes, shorter than its header",
			 len);
		return -EBADMSG;
	}
	r = fdt_check_header(blob);
	if (r < 0) {
		snprintf(err, errlen, "device tree: invalid header: %s",
			 fdt_strerror(r));
		return -EBADMSG;
	}
	/*
	 * Versions before 16 store full paths as node names; libfdt 1.6.1's
	 * fdt_check_full() dereferences NULL on such a blob whose root name
	 * lacks a '/' (found by fuzz-policy-dt). Linux and dtc use 17.
	 */
	if (fdt_version(blob) < 16) {
		snprintf(err, errlen,
			 "device tree: version %u, at least 16 supported",
			 fdt_version(blob));
		return -EBADMSG;
	}
	r = fdt_check_full(blob, len);
	if (r < 0) {
		snprintf(err, errlen, "device tree: invalid blob: %s",
			 fdt_strerror(r));
		return -EBADMSG;
	}
	return 0;
}

static bool xv_dt_compatible(const void *blob, int node, const char *compat)
{
	return fdt_node_check_compatible(blob, node, compat) == 0;
}

static bool xv_dt_is_pci(const void *blob, int node)
{
	const char *t;
	int len;

	t = fdt_getprop(blob, node, "device_type", &len);
	return t && len == 4 && !memcmp(t, "pci", 4);
}

/*
 * Host bridges are "pci" nodes with no "pci" ancestor. Walks track the depth
 * of the enclosing bridge instead of asking libfdt for parents (each parent
 * lookup rescans the blob: quadratic on a hostile tree).
 */
struct xv_dt_walk {
	int node;
	int depth;
	int bridge_depth; /* depth of the enclosing host bridge, or -1 */
};

/* Advance to the next node; true if it is a host bridge. */
static bool xv_dt_walk_next(const void *blob, struct xv_dt_walk *w)
{
	w->node = fdt_next_node(blob, w->node, &w->depth);
	if (w->node < 0)
		return false;
	if (w->bridge_depth >= 0 && w->depth <= w->bridge_depth)
		w->bridge_depth = -1;
	if (w->bridge_depth < 0 && xv_dt_is_pci(blob, w->node)) {
		w->bridge_depth = w->depth;
		return true;
	}
	return false;
}

static bool xv_dt_u32(const void *blob, int node, const char *name,
		      uint32_t *v)
{
	const fdt32_t *p;
	int len;

	p = fdt_getprop(blob, node, name, &len);
	if (!p || len < 4)
		return false;
	*v = fdt32_ld(p);
	return true;
}

/* First address of the node's reg, per the parent's #address-cells. */
static bool xv_dt_reg_base(const void *blob, int node, uint64_t *base)
{
	const fdt32_t *reg;
	int parent, ac, len, i;
	uint64_t v = 0;

	parent = fdt_parent_offset(blob, node);
	if (parent < 0)
		return false;
	ac = fdt_address_cells(blob, parent);
	if (ac < 1 || ac > 2)
		return false;
	reg = fdt_getprop(blob, node, "reg", &len);
	if (!reg || len < ac * 4)
		return false;
	for (i = 0; i < ac; i++)
		v = v << 32 | fdt32_ld(&reg[i]);
	*base = v;
	return true;
}

/* PCI segment and bus range of host bridge @node (index @idx in order). */
static void xv_dt_bridge_info(const void *blob, int node, unsigned int idx,
			      uint32_t *seg, uint32_t *bus_lo,
			      uint32_t *bus_hi)
{
	const fdt32_t *br;
	int len;

	if (!xv_dt_u32(blob, node, "linux,pci-domain", seg))
		*seg = idx;
	br = fdt_getprop(blob, node, "bus-range", &len);
	if (br && len >= 8) {
		*bus_lo = fdt32_ld(&br[0]);
		*bus_hi = fdt32_ld(&br[1]);
	} else {
		*bus_lo = 0;
		*bus_hi = 0xff;
	}
}

static int xv_dt_path(const void *blob, int node, char *buf, size_t len)
{
	if (fdt_get_path(blob, node, buf, (int)len) < 0) {
		snprintf(buf, len, "(path too long)");
		return -E2BIG;
	}
	return 0;
}

int xv_dt_enumerate(const void *blob,
		    int (*fn)(void *opaque, const char *name), void *opaque)
{
	struct xv_dt_walk w = { .node = -1, .depth = 0, .bridge_depth = -1 };
	char name[XV_DT_PATH_MAX];
	unsigned int nbridge = 0;
	bool bridge;
	int node, r;

	for (;;) {
		bridge = xv_dt_walk_next(blob, &w);
		node = w.node;
		if (node < 0)
			break;
		if (xv_dt_compatible(blob, node, "virtio,mmio")) {
			r = xv_dt_path(blob, node, name, sizeof(name));
			if (r < 0)
				return r;
			r = fn(opaque, name);
			if (r)
				return r;
		} else if (bridge) {
			uint32_t seg, lo, hi;
			int child;

			xv_dt_bridge_info(blob, node, nbridge++, &seg, &lo,
					  &hi);
			/* PCI function nodes: reg's phys.hi holds the BDF. */
			fdt_for_each_subnode(child, blob, node) {
				uint32_t hi_cell;
				struct xv_dev_id d;

				if (!xv_dt_u32(blob, child, "reg", &hi_cell) ||
				    seg > 0xffff)
					continue;
				memset(&d, 0, sizeof(d));
				d.kind = XV_DEV_PCI;
				d.seg = (uint16_t)seg;
				d.bdf = (uint16_t)(hi_cell >> 8);
				if (xv_dev_format(&d, name, sizeof(name)) < 0)
					continue;
				r = fn(opaque, name);
				if (r)
					return r;
			}
		}
	}
	return 0;
}

static void xv_ev_no(struct xv_evidence *ev, unsigned int row,
		     const char *fmt, ...) XV_PRINTF(3, 4);
static void xv_ev_no(struct xv_evidence *ev, unsigned int row,
		     const char *fmt, ...)
{
	va_list ap;

	ev->has_node = true;
	ev->grants = false;
	ev->domid = XENVIRTIO_DOMID_INVALID;
	ev->row = row;
	va_start(ap, fmt);
	vsnprintf(ev->what, sizeof(ev->what), fmt, ap);
	va_end(ap);
}

/* Row 2: of_parse_phandle_with_args(np, "iommus", "#iommu-cells", 0). */
static void xv_dt_iommus(const void *blob, int node, const char *path,
			 struct xv_evidence *ev)
{
	const fdt32_t *p;
	uint32_t ph, cells, domid;
	char ipath[XV_DT_PATH_MAX];
	int len, target;

	p = fdt_getprop(blob, node, "iommus", &len);
	if (!p) {
		xv_ev_no(ev, 4, "dt: %s has no iommus", path);
		return;
	}
	if (len < 4 || len % 4) {
		xv_ev_no(ev, 4, "dt: %s: iommus has %d bytes", path, len);
		return;
	}
	ph = fdt32_ld(&p[0]);
	target = (ph == 0 || ph == ~0u) ? -FDT_ERR_NOTFOUND :
					   fdt_node_offset_by_phandle(blob, ph);
	if (target < 0) {
		xv_ev_no(ev, 4, "dt: %s: iommus phandle 0x%x dangles", path,
			 ph);
		return;
	}
	xv_dt_path(blob, target, ipath, sizeof(ipath));
	if (!xv_dt_u32(blob, target, "#iommu-cells", &cells)) {
		xv_ev_no(ev, 4, "dt: %s: iommus -> %s without #iommu-cells",
			 path, ipath);
		return;
	}
	if (cells > XV_MAX_PHANDLE_ARGS || (uint32_t)len / 4 - 1 < cells) {
		xv_ev_no(ev, 4,
			 "dt: %s: iommus -> %s: #iommu-cells %u but %d cells "
			 "follow the phandle",
			 path, ipath, cells, len / 4 - 1);
		return;
	}
	if (!xv_dt_compatible(blob, target, "xen,grant-dma")) {
		xv_ev_no(ev, 4, "dt: %s: iommus -> %s, not xen,grant-dma",
			 path, ipath);
		return;
	}
	if (cells != 1) {
		xv_ev_no(ev, 4,
			 "dt: %s: iommus -> %s (xen,grant-dma) with "
			 "#iommu-cells %u, not 1",
			 path, ipath, cells);
		return;
	}
	domid = fdt32_ld(&p[1]);
	if (domid > XV_DOMID_MAX) {
		/* Linux truncates to 16 bits; refuse instead. */
		xv_ev_no(ev, 4,
			 "dt: %s: iommus -> %s: backend domid 0x%x out of "
			 "range",
			 path, ipath, domid);
		return;
	}
	ev->has_node = true;
	ev->grants = true;
	ev->domid = (uint16_t)domid;
	ev->row = 2;
	snprintf(ev->what, sizeof(ev->what),
		 "dt: %s: iommus -> %s (xen,grant-dma), backend %u", path,
		 ipath, domid);
}

/*
 * Row 3: of_map_id(bridge, rid, "iommu-map", "iommu-map-mask", &target,
 * &out) with target initially NULL, then the compatible check. Arithmetic
 * is 32-bit unsigned, as in Linux, so the result is Linux's.
 */
static void xv_dt_iommu_map(const void *blob, int bridge, const char *bpath,
			    uint16_t rid, struct xv_evidence *ev)
{
	const fdt32_t *map;
	uint32_t mask = 0xffffffffu, masked, id_out;
	char ipath[XV_DT_PATH_MAX];
	int len, i, target;

	map = fdt_getprop(blob, bridge, "iommu-map", &len);
	if (!map) {
		xv_ev_no(ev, 4, "dt: host bridge %s has no iommu-map", bpath);
		return;
	}
	if (len <= 0 || len % 16) {
		xv_ev_no(ev, 4,
			 "dt: host bridge %s: bad iommu-map length %d (not a "
			 "multiple of 4 cells)",
			 bpath, len);
		return;
	}
	xv_dt_u32(blob, bridge, "iommu-map-mask", &mask);
	masked = rid & mask;
	for (i = 0; i < len / 16; i++) {
		uint32_t id_base = fdt32_ld(&map[i * 4 + 0]);
		uint32_t ph = fdt32_ld(&map[i * 4 + 1]);
		uint32_t out_base = fdt32_ld(&map[i * 4 + 2]);
		uint32_t id_len = fdt32_ld(&map[i * 4 + 3]);

		if (id_base & ~mask) {
			xv_ev_no(ev, 4,
				 "dt: host bridge %s: iommu-map-mask 0x%x "
				 "ignores id-base 0x%x",
				 bpath, mask, id_base);
			return;
		}
		if (masked < id_base || masked >= id_base + id_len)
			continue;
		target = ph ? fdt_node_offset_by_phandle(blob, ph) :
			      -FDT_ERR_NOTFOUND;
		if (target < 0) {
			xv_ev_no(ev, 4,
				 "dt: host bridge %s: iommu-map entry %d "
				 "phandle 0x%x dangles",
				 bpath, i, ph);
			return;
		}
		xv_dt_path(blob, target, ipath, sizeof(ipath));
		id_out = masked - id_base + out_base;
		if (!xv_dt_compatible(blob, target, "xen,grant-dma")) {
			xv_ev_no(ev, 4,
				 "dt: host bridge %s: RID 0x%04x -> %s, not "
				 "xen,grant-dma",
				 bpath, rid, ipath);
			return;
		}
		if (id_out > XV_DOMID_MAX) {
			xv_ev_no(ev, 4,
				 "dt: host bridge %s: RID 0x%04x -> %s: "
				 "backend domid 0x%x out of range",
				 bpath, rid, ipath, id_out);
			return;
		}
		ev->has_node = true;
		ev->grants = true;
		ev->domid = (uint16_t)id_out;
		ev->row = 3;
		snprintf(ev->what, sizeof(ev->what),
			 "dt: host bridge %s: RID 0x%04x (mask 0x%x) in "
			 "iommu-map entry %d [0x%x+%u] -> %s (xen,grant-dma), "
			 "backend %u",
			 bpath, rid, mask, i, id_base, id_len, ipath, id_out);
		return;
	}
	xv_ev_no(ev, 4,
		 "dt: host bridge %s: no iommu-map entry covers RID 0x%04x "
		 "(mask 0x%x)",
		 bpath, rid, mask);
}

static int xv_dt_find_mmio(const void *blob, uint64_t base)
{
	int node = -1;
	uint64_t b;

	for (;;) {
		node = fdt_node_offset_by_compatible(blob, node,
						     "virtio,mmio");
		if (node < 0)
			return node;
		if (xv_dt_reg_base(blob, node, &b) && b == base)
			return node;
	}
}

static int xv_dt_find_bridge(const void *blob, uint16_t seg, uint8_t bus)
{
	struct xv_dt_walk w = { .node = -1, .depth = 0, .bridge_depth = -1 };
	unsigned int idx = 0;

	for (;;) {
		uint32_t s, lo, hi;
		bool bridge = xv_dt_walk_next(blob, &w);

		if (w.node < 0)
			return -FDT_ERR_NOTFOUND;
		if (!bridge)
			continue;
		xv_dt_bridge_info(blob, w.node, idx++, &s, &lo, &hi);
		if (s == seg && bus >= lo && bus <= hi)
			return w.node;
	}
}

int xv_dt_lookup(const void *blob, const struct xv_dev_id *dev,
		 struct xv_evidence *ev)
{
	char path[XV_DT_PATH_MAX];
	int node;

	memset(ev, 0, sizeof(*ev));
	ev->domid = XENVIRTIO_DOMID_INVALID;
	if (!blob) {
		if (dev->kind == XV_DEV_PATH)
			return -ENOENT;
		snprintf(ev->what, sizeof(ev->what), "dt: no device tree");
		return 0;
	}
	switch (dev->kind) {
	case XV_DEV_PATH:
		node = fdt_path_offset(blob, dev->path);
		if (node < 0)
			return -ENOENT;
		break;
	case XV_DEV_MMIO:
		node = xv_dt_find_mmio(blob, dev->base);
		if (node < 0) {
			snprintf(ev->what, sizeof(ev->what),
				 "dt: no virtio,mmio node at 0x%llx",
				 (unsigned long long)dev->base);
			return 0;
		}
		break;
	case XV_DEV_PCI:
		node = xv_dt_find_bridge(blob, dev->seg, dev->bdf >> 8);
		if (node < 0) {
			snprintf(ev->what, sizeof(ev->what),
				 "dt: no host bridge for segment %04x bus "
				 "%02x",
				 dev->seg, dev->bdf >> 8);
			return 0;
		}
		xv_dt_path(blob, node, path, sizeof(path));
		xv_dt_iommu_map(blob, node, path, dev->bdf, ev);
		return 0;
	default:
		return -EINVAL;
	}
	xv_dt_path(blob, node, path, sizeof(path));
	xv_dt_iommus(blob, node, path, ev);
	memcpy(ev->node_path, path, sizeof(ev->node_path));
	return 0;
}

/* The MMIO base of a DT node named by path, for parameter/ACPI matching. */
int xv_dt_path_base(const void *blob, const char *path, uint64_t *base)
{
	int node;

	if (!blob)
		return -ENOENT;
	node = fdt_path_offset(blob, path);
	if (node < 0 || !xv_dt_reg_base(blob, node, base))
		return -ENOENT;
	return 0;
}
