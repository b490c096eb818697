/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Policy parameters: one grammar for the kernel command line, the
 * XENVIRTIO_POLICY environment variable and API strings (SPEC-NOTES §3),
 * and the device names they use.
 */
#include "internal.h"
#include "policy_internal.h"

#include <stdio.h>
#include <string.h>

int xv_parse_u64(const char *s, size_t len, uint64_t max, uint64_t *out)
{
	unsigned int base = 10;
	uint64_t v = 0;
	size_t i = 0;

	if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		i = 2;
	}
	if (i == len)
		return -EINVAL;
	for (; i < len; i++) {
		char c = s[i];
		unsigned int d;

		if (c >= '0' && c <= '9')
			d = (unsigned int)(c - '0');
		else if (base == 16 && c >= 'a' && c <= 'f')
			d = (unsigned int)(c - 'a' + 10);
		else if (base == 16 && c >= 'A' && c <= 'F')
			d = (unsigned int)(c - 'A' + 10);
		else
			return -EINVAL;
		if (v > (UINT64_MAX - d) / base)
			return -ERANGE;
		v = v * base + d;
	}
	if (v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

/* Exactly @digits hex digits. */
static int xv_parse_hex_fixed(const char *s, size_t digits, uint64_t max,
			      uint64_t *out)
{
	uint64_t v;
	char buf[8] = "0x";

	if (digits > 4)
		return -EINVAL;
	memcpy(buf + 2, s, digits);
	/* "0x" followed by a sign or space must not sneak through. */
	if (xv_parse_u64(buf, digits + 2, max, &v) < 0)
		return -EINVAL;
	*out = v;
	return 0;
}

int xv_dev_parse(const char *s, size_t len, struct xv_dev_id *out)
{
	struct xv_dev_id d;
	uint64_t seg, bus, dev, fn;

	memset(&d, 0, sizeof(d));
	if (len >= 5 && !memcmp(s, "mmio@", 5)) {
		if (len < 8 || s[5] != '0' || (s[6] != 'x' && s[6] != 'X'))
			return -EINVAL;
		if (xv_parse_u64(s + 5, len - 5, UINT64_MAX, &d.base) < 0)
			return -EINVAL;
		d.kind = XV_DEV_MMIO;
	} else if (len >= 4 && !memcmp(s, "pci@", 4)) {
		const char *p = s + 4;

		/* SSSS:BB:DD.F */
		if (len - 4 != 12 || p[4] != ':' || p[7] != ':' ||
		    p[10] != '.')
			return -EINVAL;
		if (xv_parse_hex_fixed(p, 4, 0xffff, &seg) < 0 ||
		    xv_parse_hex_fixed(p + 5, 2, 0xff, &bus) < 0 ||
		    xv_parse_hex_fixed(p + 8, 2, 0x1f, &dev) < 0 ||
		    xv_parse_hex_fixed(p + 11, 1, 7, &fn) < 0)
			return -EINVAL;
		d.kind = XV_DEV_PCI;
		d.seg = (uint16_t)seg;
		d.bdf = (uint16_t)(bus << 8 | dev << 3 | fn);
	} else if (len >= 1 && s[0] == '/') {
		size_t i;

		if (len >= sizeof(d.path))
			return -EINVAL;
		for (i = 0; i < len; i++)
			if (s[i] <= ' ' || s[i] == 0x7f)
				return -EINVAL;
		memcpy(d.path, s, len);
		d.path[len] = '\0';
		d.kind = XV_DEV_PATH;
	} else {
		return -EINVAL;
	}
	*out = d;
	return 0;
}

int xv_dev_format(const struct xv_dev_id *d, char *buf, size_t len)
{
	int n;

	switch (d->kind) {
	case XV_DEV_MMIO:
		n = snprintf(buf, len, "mmio@0x%llx",
			     (unsigned long long)d->base);
		break;
	case XV_DEV_PCI:
		n = snprintf(buf, len, "pci@%04x:%02x:%02x.%x", d->seg,
			     d->bdf >> 8, (d->bdf >> 3) & 0x1f, d->bdf & 7);
		break;
	case XV_DEV_PATH:
		n = snprintf(buf, len, "%s", d->path);
		break;
	default:
		n = snprintf(buf, len, "?");
		break;
	}
	if (n < 0)
		return -EINVAL;
	if ((size_t)n >= len)
		return -ENOSPC;
	return 0;
}

const char *xv_origin_name(enum xenvirtio_policy_origin o)
{
	switch (o) {
	case XENVIRTIO_POLICY_ORIGIN_CMDLINE:
		return "cmdline";
	case XENVIRTIO_POLICY_ORIGIN_ENV:
		return "env";
	case XENVIRTIO_POLICY_ORIGIN_API:
		return "api";
	}
	return "?";
}

static bool xv_is_sep(char c)
{
	return c == ' ' || c == ',' || c == '\t' || c == '\n' || c == '\r';
}

static bool xv_tok_is(const char *s, size_t len, const char *lit)
{
	return strlen(lit) == len && !memcmp(s, lit, len);
}

static bool xv_dev_same(const struct xv_dev_id *a, const struct xv_dev_id *b)
{
	if (a->kind != b->kind)
		return false;
	switch (a->kind) {
	case XV_DEV_MMIO:
		return a->base == b->base;
	case XV_DEV_PCI:
		return a->seg == b->seg && a->bdf == b->bdf;
	default:
		return !strcmp(a->path, b->path);
	}
}

/* "grant:on|off[:backend=<domid>]" */
static int xv_parse_dev_value(const char *v, size_t len,
			      struct xv_param_dev *pd)
{
	uint64_t domid;

	if (len >= 8 && !memcmp(v, "grant:on", 8)) {
		pd->grant = true;
		v += 8;
		len -= 8;
	} else if (len >= 9 && !memcmp(v, "grant:off", 9)) {
		pd->grant = false;
		v += 9;
		len -= 9;
	} else {
		return -EINVAL;
	}
	if (!len)
		return 0;
	if (len < 9 || memcmp(v, ":backend=", 9))
		return -EINVAL;
	if (xv_parse_u64(v + 9, len - 9, XV_DOMID_MAX, &domid) < 0)
		return -EINVAL;
	pd->has_backend = true;
	pd->backend = (uint16_t)domid;
	return 0;
}

#define XV_PFX "xen_virtio"

/* Parse one token into @p; 0 also for an ignored token. */
static int xv_param_token(struct xv_params *p, const char *t, size_t len,
			  enum xenvirtio_policy_origin origin, char *err,
			  size_t errlen)
{
	const char *eq, *val;
	size_t klen, vlen;
	uint64_t v;

	if (len < strlen(XV_PFX) || memcmp(t, XV_PFX, strlen(XV_PFX)))
		return 0;
	eq = memchr(t, '=', len);
	if (!eq) {
		snprintf(err, errlen, "'%.*s': missing '=value'",
			 (int)XV_MIN(len, 64), t);
		return -EINVAL;
	}
	klen = (size_t)(eq - t);
	val = eq + 1;
	vlen = len - klen - 1;

	if (xv_tok_is(t, klen, "xen_virtio_grant")) {
		if (xv_tok_is(val, vlen, "auto"))
			p->mode = XV_MODE_AUTO;
		else if (xv_tok_is(val, vlen, "force"))
			p->mode = XV_MODE_FORCE;
		else if (xv_tok_is(val, vlen, "off"))
			p->mode = XV_MODE_OFF;
		else
			goto bad_value;
		p->mode_set = true;
		p->mode_origin = origin;
		return 0;
	}
	if (xv_tok_is(t, klen, "xen_virtio_backend")) {
		if (xv_parse_u64(val, vlen, XV_DOMID_MAX, &v) < 0)
			goto bad_value;
		p->has_backend = true;
		p->backend = (uint16_t)v;
		p->backend_origin = origin;
		return 0;
	}
	if (klen > strlen(XV_PFX ".") && !memcmp(t, XV_PFX ".", 11)) {
		struct xv_param_dev pd;
		unsigned int i;

		memset(&pd, 0, sizeof(pd));
		if (xv_dev_parse(t + 11, klen - 11, &pd.id) < 0) {
			snprintf(err, errlen,
				 "'%.*s': bad device (mmio@0x<hex>, "
				 "pci@SSSS:BB:DD.F or a DT path)",
				 (int)XV_MIN(len, 64), t);
			return -EINVAL;
		}
		if (xv_parse_dev_value(val, vlen, &pd) < 0)
			goto bad_value;
		pd.origin = origin;
		for (i = 0; i < p->ndev; i++) {
			if (xv_dev_same(&p->dev[i].id, &pd.id)) {
				p->dev[i] = pd;
				return 0;
			}
		}
		if (p->ndev >= XV_PARAM_MAX_DEVICES) {
			snprintf(err, errlen,
				 "more than %u devices named in parameters",
				 XV_PARAM_MAX_DEVICES);
			return -E2BIG;
		}
		p->dev[p->ndev++] = pd;
		return 0;
	}
	snprintf(err, errlen, "'%.*s': unknown xen_virtio parameter",
		 (int)XV_MIN(klen, 64), t);
	return -EINVAL;

bad_value:
	snprintf(err, errlen, "'%.*s': bad value", (int)XV_MIN(len, 64), t);
	return -EINVAL;
}

int xv_params_parse(struct xv_params *p, const char *text,
		    enum xenvirtio_policy_origin origin, char *err,
		    size_t errlen)
{
	struct xv_params tmp;
	const char *s = text;
	int r;

	/* Parse into a copy: all or nothing. */
	tmp = *p;
	for (;;) {
		const char *t;

		while (*s && xv_is_sep(*s))
			s++;
		if (!*s)
			break;
		t = s;
		while (*s && !xv_is_sep(*s))
			s++;
		r = xv_param_token(&tmp, t, (size_t)(s - t), origin, err,
				   errlen);
		if (r < 0)
			return r;
	}
	*p = tmp;
	return 0;
}
