/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Platform facts and auto-detection of the running system: /sys/hypervisor,
 * /proc/xen/capabilities, /sys/firmware/fdt, /sys/firmware/acpi/tables,
 * /proc/cmdline and the XENVIRTIO_POLICY variable, each path overridable.
 * A missing file is a fact ("no DT"), not an error.
 */
#include "internal.h"
#include "platform.h"
#include "policy_internal.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const xv_default_paths[] = {
	[XENVIRTIO_POLICY_PATH_FDT] = "/sys/firmware/fdt",
	[XENVIRTIO_POLICY_PATH_ACPI_DIR] = "/sys/firmware/acpi/tables",
	[XENVIRTIO_POLICY_PATH_CMDLINE] = "/proc/cmdline",
	[XENVIRTIO_POLICY_PATH_HYPERVISOR_DIR] = "/sys/hypervisor",
	[XENVIRTIO_POLICY_PATH_XEN_CAPABILITIES] = "/proc/xen/capabilities",
	[XENVIRTIO_POLICY_PATH_ENV] = "XENVIRTIO_POLICY",
};

XV_EXPORT int xenvirtio_policy_set_path(struct xenvirtio_policy *pol,
					enum xenvirtio_policy_path which,
					const char *path)
{
	char *copy = NULL;

	if (!pol || (unsigned int)which >= XV_ARRAY_SIZE(pol->paths))
		return -EINVAL;
	if (path) {
		if (strlen(path) > 4095)
			return -ENAMETOOLONG;
		copy = strdup(path);
		if (!copy)
			return -ENOMEM;
	}
	free(pol->paths[which]);
	pol->paths[which] = copy;
	return 0;
}

static const char *xv_path(const struct xenvirtio_policy *pol,
			   enum xenvirtio_policy_path which)
{
	return pol->paths[which] ? pol->paths[which] :
				   xv_default_paths[which];
}

/*
 * Read a whole file of at most @max bytes into a new NUL-terminated buffer.
 * sysfs files report size 0 or 4096, so read until EOF. -ENOENT if absent;
 * -EFBIG if larger than @max.
 */
static int xv_read_file(const char *path, size_t max, char **out,
			size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf, *nb;
	ssize_t r;
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	buf = malloc(cap + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	for (;;) {
		if (n == cap) {
			if (cap > max) {
				err = -EFBIG;
				goto err;
			}
			cap *= 2;
			nb = realloc(buf, cap + 1);
			if (!nb) {
				err = -ENOMEM;
				goto err;
			}
			buf = nb;
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			goto err;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	if (n > max) {
		free(buf);
		return -EFBIG;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
err:
	free(buf);
	close(fd);
	return err;
}

/* Record the first error. */
static void xv_first(int *first, int r)
{
	if (r < 0 && !*first)
		*first = r;
}

static int xv_file_error(struct xenvirtio_policy *pol, const char *path,
			 int r)
{
	xv_policy_seterr(pol, "%s: %s", path, xenvirtio_strerror(r));
	return r;
}

/* Name the file in front of a parser's message. */
static void xv_err_prefix(struct xenvirtio_policy *pol, const char *path)
{
	char msg[sizeof(pol->err)];

	int n;

	memcpy(msg, pol->err, sizeof(msg));
	n = snprintf(pol->err, sizeof(pol->err), "%s: %s", path, msg);
	/* A cut message says so. */
	if (n < 0 || (size_t)n >= sizeof(pol->err))
		memcpy(pol->err + sizeof(pol->err) - 4, "...", 4);
}

static void xv_strip(char *s)
{
	size_t n = strlen(s);

	while (n && (s[n - 1] == '\n' || s[n - 1] == ' '))
		s[--n] = '\0';
}

static int xv_probe_platform(struct xenvirtio_policy *pol)
{
	const char *dir = xv_path(pol, XENVIRTIO_POLICY_PATH_HYPERVISOR_DIR);
	const char *caps = xv_path(pol, XENVIRTIO_POLICY_PATH_XEN_CAPABILITIES);
	enum xenvirtio_guest_type type;
	char path[4200], *buf;
	bool initial = false;
	size_t len;
	int r;

	if (!*dir)
		return 0;
	snprintf(path, sizeof(path), "%s/type", dir);
	r = xv_read_file(path, 64, &buf, &len);
	if (r == -ENOENT) {
		pol->guest_type = XENVIRTIO_GUEST_NONE;
		pol->initial_domain = false;
		return 0;
	}
	if (r < 0)
		return xv_file_error(pol, path, r);
	xv_strip(buf);
	if (strcmp(buf, "xen")) {
		free(buf);
		pol->guest_type = XENVIRTIO_GUEST_NONE;
		pol->initial_domain = false;
		return 0;
	}
	free(buf);

	snprintf(path, sizeof(path), "%s/guest_type", dir);
	r = xv_read_file(path, 64, &buf, &len);
	if (r == -ENOENT) {
#if defined(__aarch64__) || defined(__arm__)
		type = XENVIRTIO_GUEST_ARM;
#else
		type = XENVIRTIO_GUEST_UNKNOWN;
#endif
	} else if (r < 0) {
		return xv_file_error(pol, path, r);
	} else {
		xv_strip(buf);
		if (!strcmp(buf, "PV"))
			type = XENVIRTIO_GUEST_PV;
		else if (!strcmp(buf, "HVM"))
			type = XENVIRTIO_GUEST_HVM;
		else if (!strcmp(buf, "PVH"))
			type = XENVIRTIO_GUEST_PVH;
#if defined(__aarch64__) || defined(__arm__)
		else
			type = XENVIRTIO_GUEST_ARM;
#else
		else {
			free(buf);
			xv_policy_seterr(pol, "%s: unknown guest type", path);
			return -EBADMSG;
		}
#endif
		free(buf);
	}

	if (*caps) {
		r = xv_read_file(caps, 4096, &buf, &len);
		if (r == 0) {
			initial = strstr(buf, "control_d") != NULL;
			free(buf);
		} else if (r != -ENOENT) {
			return xv_file_error(pol, caps, r);
		}
	}
	pol->guest_type = type;
	pol->initial_domain = initial;
	return 0;
}

static int xv_probe_fdt(struct xenvirtio_policy *pol)
{
	const char *path = xv_path(pol, XENVIRTIO_POLICY_PATH_FDT);
	size_t len;
	char *buf;
	int r;

	if (!*path)
		return 0;
	r = xv_read_file(path, XV_DT_MAX_SIZE, &buf, &len);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return xv_file_error(pol, path, r);
	r = xenvirtio_policy_add_dtb(pol, buf, len);
	free(buf);
	if (r < 0)
		xv_err_prefix(pol, path);
	return r;
}

static int xv_probe_acpi(struct xenvirtio_policy *pol)
{
	static const char *const names[] = { "XENV", "XVGD" };
	const char *dir = xv_path(pol, XENVIRTIO_POLICY_PATH_ACPI_DIR);
	char path[4200], *buf;
	int r, first = 0;
	size_t i, len;

	if (!*dir)
		return 0;
	for (i = 0; i < XV_ARRAY_SIZE(names); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		r = xv_read_file(path, 1u << 20, &buf, &len);
		if (r == -ENOENT)
			continue;
		if (r < 0) {
			xv_first(&first, xv_file_error(pol, path, r));
			continue;
		}
		r = xenvirtio_policy_add_acpi_table(pol, buf, len);
		free(buf);
		if (r < 0) {
			xv_err_prefix(pol, path);
			xv_first(&first, r);
		}
	}
	return first;
}

static int xv_probe_params(struct xenvirtio_policy *pol)
{
	const char *path = xv_path(pol, XENVIRTIO_POLICY_PATH_CMDLINE);
	const char *var = xv_path(pol, XENVIRTIO_POLICY_PATH_ENV);
	int r, first = 0;
	size_t len;
	char *buf;

	if (*path) {
		r = xv_read_file(path, 1u << 16, &buf, &len);
		if (r == 0) {
			if (strlen(buf) != len) {
				xv_policy_seterr(pol, "%s: contains a NUL byte",
						 path);
				r = -EBADMSG;
			} else {
				r = xenvirtio_policy_add_params(
					pol, buf, XENVIRTIO_POLICY_ORIGIN_CMDLINE);
				if (r < 0)
					xv_err_prefix(pol, path);
			}
			free(buf);
			xv_first(&first, r);
		} else if (r != -ENOENT) {
			xv_first(&first, xv_file_error(pol, path, r));
		}
	}
	if (*var) {
		const char *v = getenv(var);

		if (v) {
			r = xenvirtio_policy_add_params(
				pol, v, XENVIRTIO_POLICY_ORIGIN_ENV);
			if (r < 0)
				xv_err_prefix(pol, var);
			xv_first(&first, r);
		}
	}
	return first;
}

/* The own domid from the store's "domid" key, unless set explicitly. */
static void xv_probe_domid(struct xenvirtio_policy *pol)
{
	struct xv_platform *p = xv_plat(pol->ctx);
	uint64_t v;
	char buf[16];

	if (!p || pol->own_domid_set)
		return;
	if (XV_PLAT_CALL(p, store_read, "domid", buf, sizeof(buf)) < 0)
		return;
	if (xv_parse_u64(buf, strlen(buf), XV_DOMID_MAX, &v) < 0) {
		xv_warn(pol->ctx, "policy: store key domid: bad value");
		return;
	}
	pol->own_domid_set = true;
	pol->own_domid = (uint16_t)v;
}

XV_EXPORT int xenvirtio_policy_probe(struct xenvirtio_policy *pol)
{
	char err[sizeof(pol->err)] = "";
	int first = 0, r;

	if (!pol)
		return -EINVAL;
	r = xv_probe_platform(pol);
	if (r < 0 && !first) {
		first = r;
		memcpy(err, pol->err, sizeof(err));
	}
	r = xv_probe_fdt(pol);
	if (r < 0 && !first) {
		first = r;
		memcpy(err, pol->err, sizeof(err));
	}
	r = xv_probe_acpi(pol);
	if (r < 0 && !first) {
		first = r;
		memcpy(err, pol->err, sizeof(err));
	}
	r = xv_probe_params(pol);
	if (r < 0 && !first) {
		first = r;
		memcpy(err, pol->err, sizeof(err));
	}
	xv_probe_domid(pol);
	/* The first failure is the one reported. */
	memcpy(pol->err, err, sizeof(err));
	return first;
}
