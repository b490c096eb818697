/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ACPI facts: the XENV table (Xen ACPI platform, grant table region) and
 * XVGD, the per-device grant DMA table this library defines (SPEC-NOTES §3).
 * Tables are hostile input: every offset is range-checked before it is read
 * and a table that fails any check contributes nothing.
 */
#include "internal.h"
#include "policy_internal.h"

#include <stdio.h>
#include <string.h>

#define XV_ACPI_HDR_LEN 36u
#define XV_XENV_LEN 57u
#define XV_XVGD_HDR_LEN 48u

static uint16_t xv_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t xv_get32(const uint8_t *p)
{
	return (uint32_t)xv_get16(p) | (uint32_t)xv_get16(p + 2) << 16;
}

static uint64_t xv_get64(const uint8_t *p)
{
	return (uint64_t)xv_get32(p) | (uint64_t)xv_get32(p + 4) << 32;
}

static int xv_xenv_parse(struct xv_acpi *a, const uint8_t *t, size_t len,
			 char *err, size_t errlen)
{
	if (len < XV_XENV_LEN) {
		snprintf(err, errlen, "XENV: length %zu, need %u", len,
			 XV_XENV_LEN);
		return -EBADMSG;
	}
	if (t[8] != 1) {
		snprintf(err, errlen, "XENV: revision %u, expected 1", t[8]);
		return -EBADMSG;
	}
	a->xenv = true;
	a->gt_start = xv_get64(t + 36);
	a->gt_size = xv_get64(t + 44);
	a->evt_irq = xv_get32(t + 52);
	a->evt_flags = t[56];
	return 0;
}

static const char *xv_grants_str(bool g)
{
	return g ? "grants" : "no grants";
}

/* Two nodes of the same type that cover a common device. */
static bool xv_nodes_overlap(const struct xv_acpi_node *x,
			     const struct xv_acpi_node *y)
{
	if (x->type != y->type)
		return false;
	switch (x->type) {
	case XV_XVGD_PCI:
		return x->seg == y->seg && x->bdf_start <= y->bdf_end &&
		       y->bdf_start <= x->bdf_end;
	case XV_XVGD_MMIO:
		return x->base == y->base;
	default:
		return true;
	}
}

static bool xv_nodes_same_answer(const struct xv_acpi_node *x,
				 const struct xv_acpi_node *y)
{
	return x->grants == y->grants && (!x->grants || x->domid == y->domid);
}

static int xv_xvgd_parse(struct xv_acpi *a, const uint8_t *t, size_t len,
			 char *err, size_t errlen)
{
	struct xv_acpi_node node;
	uint16_t count, first;
	uint32_t pos, i, j;

	if (len < XV_XVGD_HDR_LEN) {
		snprintf(err, errlen, "XVGD: length %zu, need at least %u",
			 len, XV_XVGD_HDR_LEN);
		return -EBADMSG;
	}
	if (t[8] != 1) {
		snprintf(err, errlen, "XVGD: revision %u, expected 1", t[8]);
		return -EBADMSG;
	}
	count = xv_get16(t + 36);
	first = xv_get16(t + 38);
	if (count > XV_ACPI_MAX_NODES) {
		snprintf(err, errlen, "XVGD: %u nodes, at most %u supported",
			 count, XV_ACPI_MAX_NODES);
		return -E2BIG;
	}
	if (first < XV_XVGD_HDR_LEN || first > len) {
		snprintf(err, errlen,
			 "XVGD: first node offset %u outside [%u, %zu]", first,
			 XV_XVGD_HDR_LEN, len);
		return -EBADMSG;
	}
	a->xvgd = true;
	a->nnodes = 0;
	a->has_default = false;
	pos = first;
	for (i = 0; i < count; i++) {
		uint8_t type;
		uint16_t nlen, need, flags;
		const uint8_t *n = t + pos;

		if (!xv_range_ok(pos, 4, len)) {
			snprintf(err, errlen,
				 "XVGD: node %u at offset %u runs past the "
				 "table (length %zu)",
				 i, pos, len);
			return -EBADMSG;
		}
		type = n[0];
		nlen = xv_get16(n + 2);
		switch (type) {
		case XV_XVGD_PCI:
			need = 16;
			break;
		case XV_XVGD_MMIO:
			need = 24;
			break;
		case XV_XVGD_DEFAULT:
			need = 8;
			break;
		default:
			need = 4;
			break;
		}
		if (nlen < need) {
			snprintf(err, errlen,
				 "XVGD: node %u (type %u) at offset %u: length "
				 "%u below %u",
				 i, type, pos, nlen, need);
			return -EBADMSG;
		}
		if (!xv_range_ok(pos, nlen, len)) {
			snprintf(err, errlen,
				 "XVGD: node %u at offset %u, length %u runs "
				 "past the table (length %zu)",
				 i, pos, nlen, len);
			return -EBADMSG;
		}
		memset(&node, 0, sizeof(node));
		node.type = type;
		node.offset = pos;
		switch (type) {
		case XV_XVGD_PCI:
			node.seg = xv_get16(n + 4);
			node.bdf_start = xv_get16(n + 6);
			node.bdf_end = xv_get16(n + 8);
			node.domid = xv_get16(n + 10);
			flags = xv_get16(n + 12);
			if (node.bdf_start > node.bdf_end) {
				snprintf(err, errlen,
					 "XVGD: node %u at offset %u: BDF "
					 "range %04x..%04x is empty",
					 i, pos, node.bdf_start,
					 node.bdf_end);
				return -EBADMSG;
			}
			break;
		case XV_XVGD_MMIO:
			node.base = xv_get64(n + 8);
			node.domid = xv_get16(n + 16);
			flags = xv_get16(n + 18);
			break;
		case XV_XVGD_DEFAULT:
			node.domid = xv_get16(n + 4);
			flags = xv_get16(n + 6);
			break;
		default:
			/* Unknown types are skipped by length. */
			pos += nlen;
			continue;
		}
		node.grants = flags & 1;
		if (node.grants && node.domid > XV_DOMID_MAX) {
			snprintf(err, errlen,
				 "XVGD: node %u at offset %u: backend domid "
				 "0x%x is reserved",
				 i, pos, node.domid);
			return -EBADMSG;
		}
		for (j = 0; j < a->nnodes + a->has_default; j++) {
			const struct xv_acpi_node *o =
				j < a->nnodes ? &a->nodes[j] : &a->def;

			if (xv_nodes_overlap(o, &node) &&
			    !xv_nodes_same_answer(o, &node)) {
				snprintf(err, errlen,
					 "XVGD: node %u at offset %u overlaps "
					 "the node at offset %u with a "
					 "different answer",
					 i, pos, o->offset);
				return -EBADMSG;
			}
		}
		if (type == XV_XVGD_DEFAULT) {
			a->def = node;
			a->has_default = true;
		} else {
			a->nodes[a->nnodes++] = node;
		}
		pos += nlen;
	}
	if (pos != len) {
		snprintf(err, errlen,
			 "XVGD: node count %u does not match the table: nodes "
			 "end at %u, table length %zu",
			 count, pos, len);
		return -EBADMSG;
	}
	return 0;
}

int xv_acpi_parse(struct xv_acpi *a, const void *buf, size_t len, char *err,
		  size_t errlen)
{
	const uint8_t *t = buf;
	struct xv_acpi tmp;
	uint32_t tlen;
	uint8_t sum = 0;
	size_t i;
	int r;

	if (len < XV_ACPI_HDR_LEN) {
		snprintf(err, errlen,
			 "ACPI table: %zu bytes, shorter than the %u-byte "
			 "header",
			 len, XV_ACPI_HDR_LEN);
		return -EBADMSG;
	}
	if (memcmp(t, "XENV", 4) && memcmp(t, "XVGD", 4)) {
		snprintf(err, errlen,
			 "ACPI table: signature '%c%c%c%c' is neither XENV "
			 "nor XVGD",
			 t[0] >= ' ' && t[0] < 0x7f ? t[0] : '?',
			 t[1] >= ' ' && t[1] < 0x7f ? t[1] : '?',
			 t[2] >= ' ' && t[2] < 0x7f ? t[2] : '?',
			 t[3] >= ' ' && t[3] < 0x7f ? t[3] : '?');
		return -EPROTONOSUPPORT;
	}
	tlen = xv_get32(t + 4);
	if (tlen != len) {
		snprintf(err, errlen,
			 "%.4s: header length %u but %zu bytes given",
			 (const char *)t, tlen, len);
		return -EBADMSG;
	}
	for (i = 0; i < len; i++)
		sum = (uint8_t)(sum + t[i]);
	if (sum) {
		snprintf(err, errlen,
			 "%.4s: bad checksum (bytes sum to 0x%02x, not 0)",
			 (const char *)t, sum);
		return -EBADMSG;
	}
	/* All or nothing: parse into a copy. */
	memcpy(&tmp, a, sizeof(tmp));
	if (!memcmp(t, "XENV", 4))
		r = xv_xenv_parse(&tmp, t, len, err, errlen);
	else
		r = xv_xvgd_parse(&tmp, t, len, err, errlen);
	if (r < 0)
		return r;
	memcpy(a, &tmp, sizeof(tmp));
	return 0;
}

static void xv_acpi_node_evidence(const struct xv_acpi_node *n,
				  const char *what, struct xv_evidence *ev)
{
	ev->has_node = true;
	ev->grants = n->grants;
	ev->domid = n->grants ? n->domid : XENVIRTIO_DOMID_INVALID;
	ev->row = 0;
	if (n->grants)
		snprintf(ev->what, sizeof(ev->what),
			 "acpi: XVGD %s node at offset %u: grants, backend %u",
			 what, n->offset, n->domid);
	else
		snprintf(ev->what, sizeof(ev->what),
			 "acpi: XVGD %s node at offset %u: %s", what,
			 n->offset, xv_grants_str(false));
}

void xv_acpi_lookup(const struct xv_acpi *a, const struct xv_dev_id *dev,
		    struct xv_evidence *ev)
{
	unsigned int i;

	memset(ev, 0, sizeof(*ev));
	if (!a->xvgd) {
		snprintf(ev->what, sizeof(ev->what), "acpi: no XVGD table");
		return;
	}
	for (i = 0; i < a->nnodes; i++) {
		const struct xv_acpi_node *n = &a->nodes[i];

		if (n->type == XV_XVGD_PCI && dev->kind == XV_DEV_PCI &&
		    n->seg == dev->seg && dev->bdf >= n->bdf_start &&
		    dev->bdf <= n->bdf_end) {
			xv_acpi_node_evidence(n, "PCI range", ev);
			return;
		}
		if (n->type == XV_XVGD_MMIO && dev->kind == XV_DEV_MMIO &&
		    n->base == dev->base) {
			xv_acpi_node_evidence(n, "MMIO endpoint", ev);
			return;
		}
	}
	if (a->has_default) {
		xv_acpi_node_evidence(&a->def, "platform default", ev);
		ev->is_default = true;
		return;
	}
	snprintf(ev->what, sizeof(ev->what),
		 "acpi: XVGD lists no node for the device");
}
