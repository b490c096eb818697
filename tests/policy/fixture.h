/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Test fixtures built at test time: device tree blobs compiled from
 * tests/policy/<name>.dts with dtc ($XV_DTC; the program exits 77 without
 * it), and ACPI XENV/XVGD tables from byte builders.
 */
#ifndef XV_POLICY_FIXTURE_H
#define XV_POLICY_FIXTURE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Compile tests/policy/<name>.dts; the blob is malloc'ed. */
static inline void *xv_fixture_dtb(const char *name, size_t *len)
{
	const char *dtc = getenv("XV_DTC");
	const char *src = getenv("XV_TOP_SRCDIR");
	char out[] = "/tmp/xv-policy-dtb-XXXXXX";
	char cmd[8192];
	void *buf = NULL;
	long sz;
	FILE *f;
	int fd;

	fd = mkstemp(out);
	if (fd < 0)
		return NULL;
	close(fd);
	snprintf(cmd, sizeof(cmd), "'%s' -q -I dts -O dtb -o '%s' '%s/tests/policy/%s.dts'",
		 dtc, out, src ? src : ".", name);
	if (system(cmd) != 0)
		goto out;
	f = fopen(out, "rb");
	if (!f)
		goto out;
	fseek(f, 0, SEEK_END);
	sz = ftell(f);
	rewind(f);
	if (sz > 0) {
		buf = malloc((size_t)sz);
		if (buf && fread(buf, 1, (size_t)sz, f) != (size_t)sz) {
			free(buf);
			buf = NULL;
		}
	}
	fclose(f);
	*len = buf ? (size_t)sz : 0;
out:
	unlink(out);
	return buf;
}

static inline int xv_fixture_have_dtc(void)
{
	const char *dtc = getenv("XV_DTC");

	return dtc && *dtc;
}

/* ACPI byte builder. */
struct xv_tbl {
	uint8_t b[4096];
	size_t len;
};

static inline void xv_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void xv_put32(uint8_t *p, uint32_t v)
{
	xv_put16(p, (uint16_t)v);
	xv_put16(p + 2, (uint16_t)(v >> 16));
}

static inline void xv_put64(uint8_t *p, uint64_t v)
{
	xv_put32(p, (uint32_t)v);
	xv_put32(p + 4, (uint32_t)(v >> 32));
}

static inline void xv_tbl_header(struct xv_tbl *t, const char *sig,
				 size_t len)
{
	memset(t, 0, sizeof(*t));
	memcpy(t->b, sig, 4);
	t->b[8] = 1; /* revision */
	memcpy(t->b + 10, "XENVIO", 6);
	memcpy(t->b + 16, "TESTTBL ", 8);
	t->len = len;
}

/* Set the length field and the checksum (so all bytes sum to 0). */
static inline void xv_tbl_finish(struct xv_tbl *t)
{
	uint8_t sum = 0;
	size_t i;

	xv_put32(t->b + 4, (uint32_t)t->len);
	t->b[9] = 0;
	for (i = 0; i < t->len; i++)
		sum = (uint8_t)(sum + t->b[i]);
	t->b[9] = (uint8_t)-sum;
}

static inline void xv_tbl_xenv(struct xv_tbl *t, uint64_t start,
			       uint64_t size)
{
	xv_tbl_header(t, "XENV", 57);
	xv_put64(t->b + 36, start);
	xv_put64(t->b + 44, size);
	xv_put32(t->b + 52, 31);
	t->b[56] = 1;
	xv_tbl_finish(t);
}

/* XVGD: header; add nodes, then xv_tbl_finish(). */
static inline void xv_xvgd_begin(struct xv_tbl *t)
{
	xv_tbl_header(t, "XVGD", 48);
	xv_put16(t->b + 38, 48);
}

static inline void xv_xvgd_count(struct xv_tbl *t)
{
	xv_put16(t->b + 36, (uint16_t)(t->b[36] | t->b[37] << 8) + 1);
}

static inline void xv_xvgd_pci(struct xv_tbl *t, uint16_t seg,
			       uint16_t start, uint16_t end, uint16_t domid,
			       uint16_t flags)
{
	uint8_t *n = t->b + t->len;

	n[0] = 1;
	xv_put16(n + 2, 16);
	xv_put16(n + 4, seg);
	xv_put16(n + 6, start);
	xv_put16(n + 8, end);
	xv_put16(n + 10, domid);
	xv_put16(n + 12, flags);
	t->len += 16;
	xv_xvgd_count(t);
}

static inline void xv_xvgd_mmio(struct xv_tbl *t, uint64_t base,
				uint16_t domid, uint16_t flags)
{
	uint8_t *n = t->b + t->len;

	n[0] = 2;
	xv_put16(n + 2, 24);
	xv_put64(n + 8, base);
	xv_put16(n + 16, domid);
	xv_put16(n + 18, flags);
	t->len += 24;
	xv_xvgd_count(t);
}

static inline void xv_xvgd_default(struct xv_tbl *t, uint16_t domid,
				   uint16_t flags)
{
	uint8_t *n = t->b + t->len;

	n[0] = 3;
	xv_put16(n + 2, 8);
	xv_put16(n + 4, domid);
	xv_put16(n + 6, flags);
	t->len += 8;
	xv_xvgd_count(t);
}

/* A node of a type this library does not know, @len bytes. */
static inline void xv_xvgd_unknown(struct xv_tbl *t, uint8_t type,
				   uint16_t len)
{
	uint8_t *n = t->b + t->len;

	memset(n, 0xa5, len);
	n[0] = type;
	n[1] = 0;
	xv_put16(n + 2, len);
	t->len += len;
	xv_xvgd_count(t);
}

#endif /* XV_POLICY_FIXTURE_H */
