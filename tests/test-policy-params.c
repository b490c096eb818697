/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The parameter grammar (command line, XENVIRTIO_POLICY, API strings),
 * device names, and auto-detection of the running system from files under a
 * temporary directory standing in for /sys and /proc.
 */
#include "xv-test.h"
#include "policy/fixture.h"

#include "policy_internal.h"

#include <sys/stat.h>

static struct xenvirtio_policy *pol;

static void setup(void)
{
	ck_assert_int_eq(xenvirtio_policy_new(NULL, &pol), 0);
}

static void teardown(void)
{
	xenvirtio_policy_free(pol);
}

static struct xenvirtio_policy_decision decide(const char *dev)
{
	struct xenvirtio_policy_decision d;

	ck_assert_int_eq(xenvirtio_policy_decide(pol, dev, &d), 0);
	return d;
}

START_TEST(test_params_grammar_ok)
{
	struct xenvirtio_policy_decision d;

	/* A real command line: unrelated tokens are ignored. */
	ck_assert_int_eq(
		xenvirtio_policy_add_params(
			pol,
			"BOOT_IMAGE=/vmlinuz root=/dev/xvda1 ro quiet "
			"xen_virtio_grant=force,xen_virtio_backend=0x3\t"
			"xen_virtio.mmio@0x2000000=grant:off "
			"xen_virtio.pci@0000:00:01.0=grant:on:backend=12 "
			"xen_virtio./soc/virtio@a000=grant:on\n",
			XENVIRTIO_POLICY_ORIGIN_CMDLINE),
		0);
	d = decide("mmio@0x2000000");
	ck_assert(!d.grants);
	ck_assert_int_eq(d.source, XENVIRTIO_POLICY_SOURCE_PARAM);
	d = decide("pci@0000:00:01.0");
	ck_assert(d.grants);
	ck_assert_uint_eq(d.backend_domid, 12);
	d = decide("mmio@0x2000400");
	ck_assert(d.grants);
	ck_assert_uint_eq(d.backend_domid, 3);
	ck_assert_uint_eq(d.row, 5);
	ck_assert(strstr(d.reason, "force (cmdline)"));
	/* Later values replace earlier ones (env after cmdline). */
	ck_assert_int_eq(xenvirtio_policy_add_params(
				 pol,
				 "xen_virtio_grant=auto "
				 "xen_virtio.mmio@0x2000000=grant:on",
				 XENVIRTIO_POLICY_ORIGIN_ENV),
			 0);
	d = decide("mmio@0x2000400");
	ck_assert(!d.grants);
	ck_assert_uint_eq(d.row, 6);
	d = decide("mmio@0x2000000");
	ck_assert(d.grants);
	ck_assert_uint_eq(d.backend_domid, 3);
	ck_assert(strstr(d.reason, "param(env)"));
	/* Empty and separator-only strings are fine. */
	ck_assert_int_eq(xenvirtio_policy_add_params(
				 pol, "", XENVIRTIO_POLICY_ORIGIN_API),
			 0);
	ck_assert_int_eq(xenvirtio_policy_add_params(
				 pol, " ,, \t", XENVIRTIO_POLICY_ORIGIN_API),
			 0);
}
END_TEST

START_TEST(test_params_grammar_errors)
{
	static const char *const bad[] = {
		"xen_virtio_grant",
		"xen_virtio_grant=",
		"xen_virtio_grant=Force",
		"xen_virtio_grant=on",
		"xen_virtio_backend=-1",
		"xen_virtio_backend=32752",
		"xen_virtio_backend=0x7ff0",
		"xen_virtio_backend=99999999999999999999999",
		"xen_virtio_backend=1x",
		"xen_virtio_backends=1",
		"xen_virtio_foo=1",
		"xen_virtio=1",
		"xen_virtio.=grant:on",
		"xen_virtio.virtio0=grant:on",
		"xen_virtio.mmio@2000000=grant:on",
		"xen_virtio.mmio@0x=grant:on",
		"xen_virtio.mmio@0x1g=grant:on",
		"xen_virtio.mmio@0x10000000000000000=grant:on",
		"xen_virtio.pci@0000:00:20.0=grant:on",
		"xen_virtio.pci@0000:00:01.8=grant:on",
		"xen_virtio.pci@000:00:01.0=grant:on",
		"xen_virtio.pci@0000:0:01.0=grant:on",
		"xen_virtio.pci@0000:00:01.0=grant",
		"xen_virtio.pci@0000:00:01.0=grant:maybe",
		"xen_virtio.pci@0000:00:01.0=grant:on:",
		"xen_virtio.pci@0000:00:01.0=grant:on:backend=",
		"xen_virtio.pci@0000:00:01.0=grant:on:backend=7ff0",
		"xen_virtio.pci@0000:00:01.0=grant:on:domid=1",
		"xen_virtio.pci@0000:00:01.0=grant:onx",
	};
	unsigned int i;

	for (i = 0; i < XV_ARRAY_SIZE(bad); i++) {
		/* A good token before the bad one is not applied either. */
		char text[256];

		snprintf(text, sizeof(text), "xen_virtio_grant=force %s",
			 bad[i]);
		ck_assert_msg(xenvirtio_policy_add_params(
				      pol, text, XENVIRTIO_POLICY_ORIGIN_API) ==
				      -EINVAL,
			      "accepted: %s", bad[i]);
		ck_assert_str_ne(xenvirtio_policy_last_error(pol), "");
		ck_assert_uint_eq(decide("mmio@0x1000").row, 6);
	}
	ck_assert(strstr(xenvirtio_policy_last_error(pol), "bad value"));
	ck_assert_int_eq(xenvirtio_policy_add_params(pol, NULL, 0), -EINVAL);
	ck_assert_int_eq(xenvirtio_policy_add_params(pol, "", 9), -EINVAL);
}
END_TEST

START_TEST(test_params_too_many_devices)
{
	char *text = malloc(64 * 80);
	size_t n = 0;
	unsigned int i;

	ck_assert(text);
	for (i = 0; i < 65; i++)
		n += (size_t)sprintf(text + n,
				     "xen_virtio.mmio@0x%x=grant:on ",
				     0x1000 * (i + 1));
	ck_assert_int_eq(xenvirtio_policy_add_params(
				 pol, text, XENVIRTIO_POLICY_ORIGIN_API),
			 -E2BIG);
	/* The same device named again replaces, it does not add. */
	n = 0;
	for (i = 0; i < 65; i++)
		n += (size_t)sprintf(text + n,
				     "xen_virtio.mmio@0x1000=grant:%s ",
				     i & 1 ? "on" : "off");
	ck_assert_int_eq(xenvirtio_policy_add_params(
				 pol, text, XENVIRTIO_POLICY_ORIGIN_API),
			 0);
	ck_assert(!decide("mmio@0x1000").grants);
	free(text);
}
END_TEST

START_TEST(test_device_names)
{
	struct xv_dev_id d;
	char buf[64];

	ck_assert_int_eq(xv_dev_parse("pci@00ab:1f:1f.7", 16, &d), 0);
	ck_assert_int_eq(d.kind, XV_DEV_PCI);
	ck_assert_uint_eq(d.seg, 0xab);
	ck_assert_uint_eq(d.bdf, 0x1f << 8 | 0x1f << 3 | 7);
	ck_assert_int_eq(xv_dev_format(&d, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "pci@00ab:1f:1f.7");
	ck_assert_int_eq(xv_dev_format(&d, buf, 5), -ENOSPC);
	ck_assert_int_eq(xv_dev_parse("mmio@0XFFFFFFFFFFFFFFFF", 23, &d), 0);
	ck_assert_uint_eq(d.base, UINT64_MAX);
	ck_assert_int_eq(xv_dev_parse("pci@+000:00:00.0", 16, &d), -EINVAL);
	ck_assert_int_eq(xv_dev_parse("pci@0000:00:00.0x", 17, &d), -EINVAL);
	ck_assert_int_eq(xv_dev_parse("/a b", 4, &d), -EINVAL);
	ck_assert_int_eq(xv_dev_parse("", 0, &d), -EINVAL);
}
END_TEST

/* A fake root: hypervisor dir, capabilities, fdt, acpi dir, cmdline. */
static char root[64];

static void put(const char *rel, const void *data, size_t len)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	f = fopen(path, "wb");
	ck_assert(f);
	ck_assert_uint_eq(fwrite(data, 1, len, f), len);
	fclose(f);
}

static void use_root(void)
{
	char p[256];

	snprintf(root, sizeof(root), "/tmp/xv-policy-root-XXXXXX");
	ck_assert(mkdtemp(root));
	snprintf(p, sizeof(p), "%s/hyp", root);
	mkdir(p, 0700);
	snprintf(p, sizeof(p), "%s/acpi", root);
	mkdir(p, 0700);
#define SETP(w, rel)                                                         \
	do {                                                                 \
		snprintf(p, sizeof(p), "%s/%s", root, rel);                  \
		ck_assert_int_eq(xenvirtio_policy_set_path(pol, w, p), 0);   \
	} while (0)
	SETP(XENVIRTIO_POLICY_PATH_FDT, "fdt");
	SETP(XENVIRTIO_POLICY_PATH_ACPI_DIR, "acpi");
	SETP(XENVIRTIO_POLICY_PATH_CMDLINE, "cmdline");
	SETP(XENVIRTIO_POLICY_PATH_HYPERVISOR_DIR, "hyp");
	SETP(XENVIRTIO_POLICY_PATH_XEN_CAPABILITIES, "caps");
	ck_assert_int_eq(xenvirtio_policy_set_path(
				 pol, XENVIRTIO_POLICY_PATH_ENV,
				 "XV_TEST_POLICY_VAR"),
			 0);
}

static void drop_root(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	ck_assert_int_eq(system(cmd), 0);
}

START_TEST(test_probe_missing_sources_are_facts)
{
	enum xenvirtio_guest_type t;
	bool init = true;

	use_root();
	/* Nothing there: not a Xen guest, no DT, no ACPI, no parameters. */
	unsetenv("XV_TEST_POLICY_VAR");
	ck_assert_int_eq(xenvirtio_policy_probe(pol), 0);
	ck_assert_int_eq(xenvirtio_policy_platform(pol, &t, &init), 0);
	ck_assert_int_eq(t, XENVIRTIO_GUEST_NONE);
	ck_assert(!init);
	ck_assert_uint_eq(decide("mmio@0x2000000").row, 1);
	drop_root();
}
END_TEST

START_TEST(test_probe_pv_dom0_files)
{
	enum xenvirtio_guest_type t;
	struct xenvirtio_policy_decision d;
	struct xv_tbl x;
	bool init = false;

	use_root();
	put("hyp/type", "xen\n", 4);
	put("hyp/guest_type", "PV\n", 3);
	put("caps", "control_d\n", 10);
	put("cmdline", "ro xen_virtio_backend=2\n", 24);
	xv_tbl_xenv(&x, 0x1000000, 0x2000);
	put("acpi/XENV", x.b, x.len);
	setenv("XV_TEST_POLICY_VAR", "xen_virtio.pci@0000:00:04.0=grant:off",
	       1);
	ck_assert_int_eq(xenvirtio_policy_probe(pol), 0);
	ck_assert_int_eq(xenvirtio_policy_platform(pol, &t, &init), 0);
	ck_assert_int_eq(t, XENVIRTIO_GUEST_PV);
	ck_assert(init);
	ck_assert_int_eq(xenvirtio_policy_xenv(pol, NULL, NULL), 0);
	d = decide("pci@0000:00:03.0");
	ck_assert(d.grants);
	ck_assert_uint_eq(d.backend_domid, 2);
	ck_assert_uint_eq(d.row, 5);
	d = decide("pci@0000:00:04.0");
	ck_assert(!d.grants);
	ck_assert(strstr(d.reason, "param(env)"));
	unsetenv("XV_TEST_POLICY_VAR");
	drop_root();
}
END_TEST

START_TEST(test_probe_bad_file_named)
{
	struct xv_tbl x;

	use_root();
	put("hyp/type", "xen\n", 4);
	put("hyp/guest_type", "HVM\n", 4);
	put("fdt", "not a device tree at all, just text", 35);
	xv_tbl_xenv(&x, 0x1000000, 0x2000);
	x.b[9]++;
	put("acpi/XENV", x.b, x.len);
	put("cmdline", "xen_virtio_grant=force", 22);
	ck_assert_int_eq(xenvirtio_policy_probe(pol), -EBADMSG);
	ck_assert_msg(strstr(xenvirtio_policy_last_error(pol), "/fdt: "),
		      "%s", xenvirtio_policy_last_error(pol));
	/* The other sources were still read. */
	ck_assert_uint_eq(decide("mmio@0x2000000").row, 5);
	ck_assert_int_eq(xenvirtio_policy_xenv(pol, NULL, NULL), -ENOENT);
	drop_root();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("policy-params");
	TCase *tc = tcase_create("params");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_params_grammar_ok);
	tcase_add_test(tc, test_params_grammar_errors);
	tcase_add_test(tc, test_params_too_many_devices);
	tcase_add_test(tc, test_device_names);
	tcase_add_test(tc, test_probe_missing_sources_are_facts);
	tcase_add_test(tc, test_probe_pv_dom0_files);
	tcase_add_test(tc, test_probe_bad_file_named);
	suite_add_tcase(s, tc);
	return xv_test_run(s);
}
