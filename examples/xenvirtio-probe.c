/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * xenvirtio-probe: print the grant DMA decision for each virtio device of
 * the running system, or of the firmware files given. See
 * man/xenvirtio-probe.1; the JSON document is described there.
 */
#include "config.h"

#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xenvirtio.h>

#define MAX_LIST 64
#define MAX_FILE (16u << 20)

static const char *prog = "xenvirtio-probe";

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: %s [OPTION]...\n"
		"Print the grant DMA decision for each virtio device.\n"
		"Without firmware options, probes the running system.\n\n"
		"  --dtb FILE             device tree blob to use\n"
		"  --acpi-table FILE      ACPI XENV or XVGD table (repeatable)\n"
		"  --cmdline STRING       parameters, as on the kernel command "
		"line\n"
		"  --guest-type TYPE      pv, hvm, pvh, arm or none (backend "
		"view: the guest's)\n"
		"  --initial-domain       the domain is the initial domain\n"
		"  --initial-domain-rule  apply row 7 (no grants for node-less "
		"devices of dom0)\n"
		"  --device SPEC          mmio@0x..., pci@SSSS:BB:DD.F or a DT "
		"path (repeatable)\n"
		"  --backend-view         decide as the backend of guest "
		"--domid\n"
		"  --domid N              the guest (with --backend-view)\n"
		"  --own-domid N          this (backend) domain, default 0\n"
		"  --grant-usage 0|1      libxl's grant_usage for the guest's "
		"devices\n"
		"  --json                 print one JSON document\n"
		"  --sysfs-root DIR       sysfs to scan for devices when "
		"probing (/sys)\n"
		"  --help                 print this help\n"
		"  --version              print the version\n\n"
		"Exit status: 0 ok, 1 bad input, 2 usage error.\n",
		prog);
}

static int usage_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s --help'.\n", prog);
	return 2;
}

static int read_file(const char *path, char **out, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = NULL, *nb;
	ssize_t r;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (;;) {
		if (!buf || n == cap) {
			if (buf)
				cap *= 2;
			if (cap > MAX_FILE * 2u) {
				free(buf);
				close(fd);
				return -EFBIG;
			}
			nb = realloc(buf, cap);
			if (!nb) {
				free(buf);
				close(fd);
				return -ENOMEM;
			}
			buf = nb;
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			r = -errno;
			free(buf);
			close(fd);
			return (int)r;
		}
		if (!r)
			break;
		n += (size_t)r;
	}
	close(fd);
	*out = buf;
	*len = n;
	return 0;
}

static int parse_domid(const char *s, unsigned int *out)
{
	char *end;
	unsigned long v;

	if (!*s || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || *end || v > 0x7fef)
		return -1;
	*out = (unsigned int)v;
	return 0;
}

static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

/* Read a small sysfs attribute, newline stripped; -1 if unreadable. */
static int read_attr(const char *dir, const char *name, const char *attr,
		     char *buf, size_t len)
{
	char path[4096];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s/%s", dir, name, attr);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return 0;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(a, b);
}

/*
 * Virtio devices the running kernel sees that the firmware may not list:
 * PCI functions of vendor 0x1af4 and virtio-mmio platform devices created
 * from the command line (DT-described ones are listed through the DT).
 */
static unsigned int sysfs_devices(const char *root, char (*names)[256],
				  unsigned int max)
{
	char dir[4096], buf[256];
	unsigned int n = 0;
	struct dirent *e;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/bus/pci/devices", root);
	d = opendir(dir);
	while (d && (e = readdir(d)) && n < max) {
		if (e->d_name[0] == '.' || strlen(e->d_name) != 12)
			continue;
		if (read_attr(dir, e->d_name, "vendor", buf, sizeof(buf)) ||
		    strcmp(buf, "0x1af4"))
			continue;
		snprintf(names[n++], 256, "pci@%s", e->d_name);
	}
	if (d)
		closedir(d);
	snprintf(dir, sizeof(dir), "%s/bus/platform/devices", root);
	d = opendir(dir);
	while (d && (e = readdir(d)) && n < max) {
		unsigned long long base;
		char *end;

		if (e->d_name[0] == '.' ||
		    read_attr(dir, e->d_name, "modalias", buf, sizeof(buf)) ||
		    strcmp(buf, "platform:virtio-mmio"))
			continue;
		/* "virtio-mmio.0" has no base in its name: skip it. */
		errno = 0;
		base = strtoull(e->d_name, &end, 16);
		if (errno || end == e->d_name || *end != '.')
			continue;
		snprintf(names[n++], 256, "mmio@0x%llx", base);
	}
	if (d)
		closedir(d);
	qsort(names, n, sizeof(*names), cmp_name);
	return n;
}

struct out_dev {
	char name[256];
	struct xenvirtio_policy_decision d;
};

int main(int argc, char **argv)
{
	enum {
		OPT_DTB = 256,
		OPT_ACPI,
		OPT_CMDLINE,
		OPT_GUEST,
		OPT_INITIAL,
		OPT_RULE7,
		OPT_DEVICE,
		OPT_BACKEND,
		OPT_DOMID,
		OPT_OWN,
		OPT_USAGE,
		OPT_JSON,
		OPT_HELP,
		OPT_VERSION,
		OPT_SYSFS,
	};
	static const struct option opts[] = {
		{ "dtb", required_argument, NULL, OPT_DTB },
		{ "acpi-table", required_argument, NULL, OPT_ACPI },
		{ "cmdline", required_argument, NULL, OPT_CMDLINE },
		{ "guest-type", required_argument, NULL, OPT_GUEST },
		{ "initial-domain", no_argument, NULL, OPT_INITIAL },
		{ "initial-domain-rule", no_argument, NULL, OPT_RULE7 },
		{ "device", required_argument, NULL, OPT_DEVICE },
		{ "backend-view", no_argument, NULL, OPT_BACKEND },
		{ "domid", required_argument, NULL, OPT_DOMID },
		{ "own-domid", required_argument, NULL, OPT_OWN },
		{ "grant-usage", required_argument, NULL, OPT_USAGE },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, OPT_HELP },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ "sysfs-root", required_argument, NULL, OPT_SYSFS },
		{ NULL, 0, NULL, 0 },
	};
	const char *dtb = NULL, *cmdline = NULL, *sysroot = "/sys";
	static char found[MAX_LIST][256];
	unsigned int nfound = 0;
	const char *acpi[MAX_LIST], *devices[MAX_LIST];
	unsigned int nacpi = 0, ndevices = 0, domid = 0, own = 0;
	enum xenvirtio_guest_type type = XENVIRTIO_GUEST_UNKNOWN;
	bool initial = false, rule7 = false, backend = false, json = false;
	bool have_domid = false, have_own = false, file_mode = false;
	int grant_usage = -1, c, r, n, ret = 0;
	struct xenvirtio_policy *pol = NULL;
	struct out_dev *out = NULL;
	unsigned int nout = 0, i, k;
	char *buf;
	size_t len;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case OPT_DTB:
			dtb = optarg;
			file_mode = true;
			break;
		case OPT_ACPI:
			if (nacpi == MAX_LIST)
				return usage_error("too many %s",
						   "--acpi-table");
			acpi[nacpi++] = optarg;
			file_mode = true;
			break;
		case OPT_CMDLINE:
			cmdline = optarg;
			file_mode = true;
			break;
		case OPT_GUEST:
			if (!strcmp(optarg, "pv"))
				type = XENVIRTIO_GUEST_PV;
			else if (!strcmp(optarg, "hvm"))
				type = XENVIRTIO_GUEST_HVM;
			else if (!strcmp(optarg, "pvh"))
				type = XENVIRTIO_GUEST_PVH;
			else if (!strcmp(optarg, "arm"))
				type = XENVIRTIO_GUEST_ARM;
			else if (!strcmp(optarg, "none"))
				type = XENVIRTIO_GUEST_NONE;
			else
				return usage_error("bad --guest-type '%s'",
						   optarg);
			file_mode = true;
			break;
		case OPT_INITIAL:
			initial = true;
			file_mode = true;
			break;
		case OPT_RULE7:
			rule7 = true;
			break;
		case OPT_DEVICE:
			if (ndevices == MAX_LIST)
				return usage_error("too many %s", "--device");
			devices[ndevices++] = optarg;
			break;
		case OPT_BACKEND:
			backend = true;
			break;
		case OPT_DOMID:
			if (parse_domid(optarg, &domid))
				return usage_error("bad --domid '%s'", optarg);
			have_domid = true;
			break;
		case OPT_OWN:
			if (parse_domid(optarg, &own))
				return usage_error("bad --own-domid '%s'",
						   optarg);
			have_own = true;
			break;
		case OPT_USAGE:
			if (strcmp(optarg, "0") && strcmp(optarg, "1"))
				return usage_error("bad --grant-usage '%s'",
						   optarg);
			grant_usage = optarg[0] - '0';
			break;
		case OPT_JSON:
			json = true;
			break;
		case OPT_HELP:
			usage(stdout);
			return 0;
		case OPT_SYSFS:
			sysroot = optarg;
			break;
		case OPT_VERSION:
			printf("%s %s\n", prog, xenvirtio_version());
			return 0;
		default:
			return usage_error("bad option '%s'",
					   argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	if (backend && !have_domid)
		return usage_error("%s needs --domid N", "--backend-view");
	if (!backend && (have_domid || have_own || grant_usage >= 0))
		return usage_error("%s", "--domid, --own-domid and "
					 "--grant-usage need --backend-view");

	r = xenvirtio_policy_new(NULL, &pol);
	if (r < 0) {
		fprintf(stderr, "%s: %s\n", prog, xenvirtio_strerror(r));
		return 1;
	}
	if (!file_mode) {
		r = xenvirtio_policy_probe(pol);
		if (r < 0) {
			fprintf(stderr, "%s: %s\n", prog,
				xenvirtio_policy_last_error(pol));
			ret = 1;
			goto out;
		}
	} else {
		xenvirtio_policy_set_platform(pol,
					      backend ? XENVIRTIO_GUEST_UNKNOWN :
							type,
					      initial);
	}
	xenvirtio_policy_set_option(pol, XENVIRTIO_POLICY_OPT_INITIAL_DOMAIN_RULE,
				    rule7);
	if (dtb) {
		r = read_file(dtb, &buf, &len);
		if (r < 0) {
			fprintf(stderr, "%s: %s: %s\n", prog, dtb,
				xenvirtio_strerror(r));
			ret = 1;
			goto out;
		}
		r = xenvirtio_policy_add_dtb(pol, buf, len);
		free(buf);
		if (r < 0) {
			fprintf(stderr, "%s: %s: %s\n", prog, dtb,
				xenvirtio_policy_last_error(pol));
			ret = 1;
			goto out;
		}
	}
	for (i = 0; i < nacpi; i++) {
		r = read_file(acpi[i], &buf, &len);
		if (r < 0) {
			fprintf(stderr, "%s: %s: %s\n", prog, acpi[i],
				xenvirtio_strerror(r));
			ret = 1;
			goto out;
		}
		r = xenvirtio_policy_add_acpi_table(pol, buf, len);
		free(buf);
		if (r < 0) {
			fprintf(stderr, "%s: %s: %s\n", prog, acpi[i],
				xenvirtio_policy_last_error(pol));
			ret = 1;
			goto out;
		}
	}
	if (cmdline) {
		r = xenvirtio_policy_add_params(pol, cmdline,
						XENVIRTIO_POLICY_ORIGIN_CMDLINE);
		if (r < 0) {
			fprintf(stderr, "%s: --cmdline: %s\n", prog,
				xenvirtio_policy_last_error(pol));
			ret = 1;
			goto out;
		}
	}
	if (backend) {
		xenvirtio_policy_set_domid(pol, (uint16_t)own);
		xenvirtio_policy_set_guest(pol, (uint16_t)domid, type,
					   grant_usage);
	}

	n = xenvirtio_policy_device_count(pol);
	if (!file_mode) {
		unsigned int j;
		char name[256];

		nfound = sysfs_devices(sysroot, found, MAX_LIST);
		/* Drop what the firmware already lists. */
		for (k = 0; k < nfound;) {
			for (j = 0; j < (unsigned int)n; j++)
				if (!xenvirtio_policy_device_name(
					    pol, j, name, sizeof(name)) &&
				    !strcmp(name, found[k]))
					break;
			if (j < (unsigned int)n)
				memmove(found[k], found[--nfound], 256);
			else
				k++;
		}
	}
	out = calloc((size_t)n + nfound + ndevices + 1, sizeof(*out));
	if (!out) {
		fprintf(stderr, "%s: out of memory\n", prog);
		ret = 1;
		goto out;
	}
	for (i = 0; i < (unsigned int)n + nfound + ndevices; i++) {
		struct out_dev *o = &out[nout];
		const char *name;

		if (i < (unsigned int)n) {
			if (xenvirtio_policy_device_name(pol, i, o->name,
							 sizeof(o->name)))
				continue;
		} else if (i < (unsigned int)n + nfound) {
			memcpy(o->name, found[i - (unsigned int)n], 256);
		} else {
			snprintf(o->name, sizeof(o->name), "%s",
				 devices[i - (unsigned int)n - nfound]);
		}
		name = o->name;
		/* A --device the firmware already listed is printed once. */
		for (k = 0; k < nout && strcmp(out[k].name, name); k++)
			;
		if (k < nout)
			continue;
		if (backend)
			r = xenvirtio_policy_decide_backend(
				pol, (uint16_t)domid, nout, name, &o->d);
		else
			r = xenvirtio_policy_decide(pol, name, &o->d);
		if (r == -EINVAL) {
			ret = usage_error("bad --device '%s' (mmio@0x<hex>, "
					  "pci@SSSS:BB:DD.F or a DT path)",
					  name);
			goto out;
		}
		if (r == -ENOENT) {
			fprintf(stderr,
				"%s: device %s: no such node in the device "
				"tree\n",
				prog, name);
			ret = 1;
			goto out;
		}
		if (r < 0) {
			fprintf(stderr, "%s: device %s: %s\n", prog, name,
				xenvirtio_strerror(r));
			ret = 1;
			goto out;
		}
		nout++;
	}

	if (json) {
		enum xenvirtio_guest_type t;
		uint64_t gs, gz;

		xenvirtio_policy_platform(pol, &t, &initial);
		printf("{\n  \"xenvirtio_probe\": 1,\n  \"version\": ");
		json_str(xenvirtio_version());
		printf(",\n  \"view\": \"%s\",\n",
		       backend ? "backend" : "frontend");
		if (backend)
			printf("  \"guest_domid\": %u,\n  \"own_domid\": %u,\n",
			       domid, own);
		printf("  \"platform\": {\n    \"xen\": %s,\n"
		       "    \"guest_type\": \"%s\",\n"
		       "    \"initial_domain\": %s,\n    \"xenv\": ",
		       t == XENVIRTIO_GUEST_NONE ? "false" : "true",
		       xenvirtio_policy_guest_type_name(t),
		       initial ? "true" : "false");
		if (!xenvirtio_policy_xenv(pol, &gs, &gz))
			printf("{ \"grant_table_start\": %llu, "
			       "\"grant_table_size\": %llu }\n",
			       (unsigned long long)gs,
			       (unsigned long long)gz);
		else
			printf("null\n");
		printf("  },\n  \"devices\": [");
		for (i = 0; i < nout; i++) {
			const struct xenvirtio_policy_decision *d = &out[i].d;

			printf("%s\n    {\n      \"device\": ", i ? "," : "");
			json_str(out[i].name);
			printf(",\n      \"grants\": %s,\n"
			       "      \"backend_domid\": ",
			       d->grants ? "true" : "false");
			if (d->grants)
				printf("%u", d->backend_domid);
			else
				printf("null");
			printf(",\n      \"source\": \"%s\",\n      \"row\": ",
			       xenvirtio_policy_source_name(d->source));
			if (d->row)
				printf("%u", d->row);
			else
				printf("null");
			printf(",\n      \"reason\": ");
			json_str(d->reason);
			printf(",\n      \"reason_truncated\": %s\n    }",
			       d->reason_truncated ? "true" : "false");
		}
		printf("%s]\n}\n", nout ? "\n  " : "");
	} else {
		for (i = 0; i < nout; i++) {
			const struct xenvirtio_policy_decision *d = &out[i].d;
			char be[16] = "-", row[16] = "-";

			if (d->grants)
				snprintf(be, sizeof(be), "%u",
					 d->backend_domid);
			if (d->row)
				snprintf(row, sizeof(row), "%u", d->row);
			printf("%s: grants=%s backend=%s source=%s row=%s "
			       "reason: %s\n",
			       out[i].name, d->grants ? "yes" : "no", be,
			       xenvirtio_policy_source_name(d->source), row,
			       d->reason);
		}
		if (!nout)
			printf("no virtio devices found (name one with "
			       "--device)\n");
	}
out:
	free(out);
	xenvirtio_policy_free(pol);
	return ret;
}
