/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The pure decision function, row by row (SPEC-NOTES §3), with injected
 * facts: rows 1, 5, 6, 7 and the extensions (parameters first, ACPI, global
 * off/force, backend view with xenstore facts), plus the reason trail's
 * truncation flag and the public API's argument checks. Rows 2-4 from real
 * device trees are in test-policy-dt.c.
 */
#include "xv-test.h"

#include "policy_internal.h"

static struct xv_params params;
static struct xv_policy_facts facts;
static struct xv_evidence dt, acpi;
static struct xv_dev_id dev;

static void setup(void)
{
	memset(&params, 0, sizeof(params));
	memset(&facts, 0, sizeof(facts));
	facts.grant_usage = -1;
	facts.guest_type = XENVIRTIO_GUEST_HVM;
	memset(&dt, 0, sizeof(dt));
	memset(&acpi, 0, sizeof(acpi));
	snprintf(dt.what, sizeof(dt.what), "dt: no device tree");
	memset(&dev, 0, sizeof(dev));
	dev.kind = XV_DEV_MMIO;
	dev.base = 0x2000000;
}

static struct xenvirtio_policy_decision run(void)
{
	struct xenvirtio_policy_decision d;

	memset(&d, 0xa5, sizeof(d));
	xv_policy_decide(&facts, &params, &dev, &dt, &acpi, &d);
	ck_assert(memchr(d.reason, '\0', sizeof(d.reason)));
	ck_assert(d.grants || d.backend_domid == XENVIRTIO_DOMID_INVALID);
	return d;
}

static void check(bool grants, unsigned int domid, unsigned int row,
		  enum xenvirtio_policy_source src, const char *needle)
{
	struct xenvirtio_policy_decision d = run();

	ck_assert_msg(d.grants == grants, "grants %d: %s", d.grants,
		      d.reason);
	if (grants)
		ck_assert_uint_eq(d.backend_domid, domid);
	ck_assert_uint_eq(d.row, row);
	ck_assert_int_eq(d.source, src);
	ck_assert_msg(strstr(d.reason, needle), "'%s' not in '%s'", needle,
		      d.reason);
}

static void dt_node(bool grants, uint16_t domid, unsigned int row)
{
	dt.has_node = true;
	dt.grants = grants;
	dt.domid = domid;
	dt.row = row;
	snprintf(dt.what, sizeof(dt.what), "dt: test node");
}

START_TEST(test_row1_not_xen)
{
	facts.guest_type = XENVIRTIO_GUEST_NONE;
	check(false, 0, 1, XENVIRTIO_POLICY_SOURCE_PLATFORM, "row 1");
	/* Even a DT grant node or force does not apply off Xen. */
	dt_node(true, 1, 2);
	params.mode = XV_MODE_FORCE;
	check(false, 0, 1, XENVIRTIO_POLICY_SOURCE_PLATFORM, "not a Xen");
}
END_TEST

START_TEST(test_row2_evidence_wins_over_global_off)
{
	dt_node(true, 3, 2);
	params.mode = XV_MODE_OFF;
	check(true, 3, 2, XENVIRTIO_POLICY_SOURCE_DT, "row 2");
}
END_TEST

START_TEST(test_row4_node_without_grant_iommu_not_forced)
{
	dt_node(false, 0, 4);
	facts.guest_type = XENVIRTIO_GUEST_PV;
	params.mode = XV_MODE_FORCE;
	check(false, 0, 4, XENVIRTIO_POLICY_SOURCE_DT, "even if forced or PV");
}
END_TEST

START_TEST(test_row5_pv_no_node)
{
	facts.guest_type = XENVIRTIO_GUEST_PV;
	check(true, 0, 5, XENVIRTIO_POLICY_SOURCE_PLATFORM, "PV guest");
	/* xen_virtio_backend moves the default backend. */
	params.has_backend = true;
	params.backend = 4;
	check(true, 4, 5, XENVIRTIO_POLICY_SOURCE_PLATFORM, "backend 4");
}
END_TEST

START_TEST(test_row5_force_no_node)
{
	static const enum xenvirtio_guest_type types[] = {
		XENVIRTIO_GUEST_HVM, XENVIRTIO_GUEST_PVH, XENVIRTIO_GUEST_ARM,
		XENVIRTIO_GUEST_UNKNOWN
	};
	unsigned int i;

	params.mode = XV_MODE_FORCE;
	params.mode_origin = XENVIRTIO_POLICY_ORIGIN_ENV;
	for (i = 0; i < XV_ARRAY_SIZE(types); i++) {
		facts.guest_type = types[i];
		check(true, 0, 5, XENVIRTIO_POLICY_SOURCE_GLOBAL,
		      "force (env)");
	}
}
END_TEST

START_TEST(test_row6_hvm_pvh_arm_not_forced)
{
	static const enum xenvirtio_guest_type types[] = {
		XENVIRTIO_GUEST_HVM, XENVIRTIO_GUEST_PVH, XENVIRTIO_GUEST_ARM,
		XENVIRTIO_GUEST_UNKNOWN
	};
	unsigned int i;

	for (i = 0; i < XV_ARRAY_SIZE(types); i++) {
		facts.guest_type = types[i];
		check(false, 0, 6, XENVIRTIO_POLICY_SOURCE_DEFAULT, "row 6");
	}
}
END_TEST

START_TEST(test_row7_initial_domain_option)
{
	facts.guest_type = XENVIRTIO_GUEST_PV;
	facts.initial_domain = true;
	/* Off by default: a PV dom0 grants to itself as Linux 6.2 does. */
	check(true, 0, 5, XENVIRTIO_POLICY_SOURCE_PLATFORM, "initial domain");
	facts.rule7 = true;
	check(false, 0, 7, XENVIRTIO_POLICY_SOURCE_PLATFORM, "row 7");
	params.mode = XV_MODE_FORCE;
	check(false, 0, 7, XENVIRTIO_POLICY_SOURCE_PLATFORM, "row 7");
	/* Firmware still wins over rule 7. */
	dt_node(true, 2, 2);
	check(true, 2, 2, XENVIRTIO_POLICY_SOURCE_DT, "row 2");
}
END_TEST

START_TEST(test_ext_param_per_device_wins)
{
	params.ndev = 1;
	params.dev[0].id = dev;
	params.dev[0].grant = true;
	params.dev[0].origin = XENVIRTIO_POLICY_ORIGIN_CMDLINE;
	/* Wins over row 1, row 4, global off. */
	facts.guest_type = XENVIRTIO_GUEST_NONE;
	check(true, 0, 0, XENVIRTIO_POLICY_SOURCE_PARAM, "param(cmdline)");
	facts.guest_type = XENVIRTIO_GUEST_HVM;
	dt_node(false, 0, 4);
	params.mode = XV_MODE_OFF;
	check(true, 0, 0, XENVIRTIO_POLICY_SOURCE_PARAM, "grant:on wins");
	params.has_backend = true;
	params.backend = 9;
	check(true, 9, 0, XENVIRTIO_POLICY_SOURCE_PARAM, "xen_virtio_backend");
	params.dev[0].has_backend = true;
	params.dev[0].backend = 6;
	check(true, 6, 0, XENVIRTIO_POLICY_SOURCE_PARAM, "the parameter");
	/* grant:off wins over a DT grant node and PV. */
	params.dev[0].grant = false;
	dt_node(true, 1, 2);
	facts.guest_type = XENVIRTIO_GUEST_PV;
	check(false, 0, 0, XENVIRTIO_POLICY_SOURCE_PARAM, "grant:off wins");
	/* Another device is not affected. */
	dev.base = 0x3000000;
	check(true, 1, 2, XENVIRTIO_POLICY_SOURCE_DT, "row 2");
}
END_TEST

START_TEST(test_ext_acpi_described_device)
{
	acpi.has_node = true;
	acpi.grants = true;
	acpi.domid = 5;
	snprintf(acpi.what, sizeof(acpi.what), "acpi: test node");
	check(true, 5, 0, XENVIRTIO_POLICY_SOURCE_ACPI, "acpi: test node");
	/* ACPI "no" is final like row 4: not overridden by PV or force. */
	acpi.grants = false;
	facts.guest_type = XENVIRTIO_GUEST_PV;
	params.mode = XV_MODE_FORCE;
	check(false, 0, 0, XENVIRTIO_POLICY_SOURCE_ACPI, "acpi");
	/* A DT node comes first. */
	dt_node(true, 1, 2);
	check(true, 1, 2, XENVIRTIO_POLICY_SOURCE_DT, "row 2");
}
END_TEST

START_TEST(test_ext_global_off)
{
	facts.guest_type = XENVIRTIO_GUEST_PV;
	params.mode = XV_MODE_OFF;
	check(false, 0, 0, XENVIRTIO_POLICY_SOURCE_GLOBAL,
	      "xen_virtio_grant=off");
}
END_TEST

START_TEST(test_ext_backend_view_xenstore)
{
	facts.backend_view = true;
	facts.own_domid = 2;
	facts.guest_domid = 5;
	facts.grant_usage = 1;
	check(true, 2, 0, XENVIRTIO_POLICY_SOURCE_XENSTORE, "grant_usage=1");
	facts.grant_usage = 0;
	facts.guest_guest_type = XENVIRTIO_GUEST_PV;
	check(false, 0, 0, XENVIRTIO_POLICY_SOURCE_XENSTORE, "grant_usage=0");
}
END_TEST

START_TEST(test_ext_backend_view_guest_type_and_libxl_default)
{
	facts.backend_view = true;
	facts.guest_domid = 5;
	facts.own_domid = 0;
	/* libxl's default: dom0 backend maps foreign. */
	check(false, 0, 0, XENVIRTIO_POLICY_SOURCE_DEFAULT, "libxl default");
	facts.own_domid = 3;
	check(true, 3, 0, XENVIRTIO_POLICY_SOURCE_DEFAULT, "libxl default");
	/* A PV guest always grants. */
	facts.own_domid = 0;
	facts.guest_guest_type = XENVIRTIO_GUEST_PV;
	check(true, 0, 5, XENVIRTIO_POLICY_SOURCE_PLATFORM, "PV guest");
	/* The guest's firmware, when given, decides; a mismatching backend
	 * is flagged. */
	dt_node(true, 7, 2);
	check(true, 7, 2, XENVIRTIO_POLICY_SOURCE_DT, "not this domain");
}
END_TEST

START_TEST(test_reason_trail_truncation_flag)
{
	struct xenvirtio_policy_decision d;

	dt_node(true, 1, 2);
	memset(dt.what, 'x', sizeof(dt.what) - 1);
	dt.what[sizeof(dt.what) - 1] = '\0';
	d = run();
	ck_assert(d.grants);
	ck_assert(d.reason_truncated);
	ck_assert_uint_eq(strlen(d.reason), sizeof(d.reason) - 1);
	ck_assert_str_eq(d.reason + sizeof(d.reason) - 4, "...");
	/* Short trails are not flagged. */
	dt_node(true, 1, 2);
	d = run();
	ck_assert(!d.reason_truncated);
}
END_TEST

START_TEST(test_api_args_and_pure_decide)
{
	struct xenvirtio_policy_decision d;
	struct xenvirtio_policy *pol;

	ck_assert_int_eq(xenvirtio_policy_new(NULL, NULL), -EINVAL);
	ck_assert_int_eq(xenvirtio_policy_new(NULL, &pol), 0);
	ck_assert_int_eq(xenvirtio_policy_decide(pol, NULL, &d), -EINVAL);
	ck_assert_int_eq(xenvirtio_policy_decide(pol, "virtio0", &d), -EINVAL);
	ck_assert_int_eq(xenvirtio_policy_decide(pol, "pci@0:0:0.0", &d),
			 -EINVAL);
	ck_assert_int_eq(xenvirtio_policy_decide(pol, "/virtio@1", &d),
			 -ENOENT);
	ck_assert_int_eq(xenvirtio_policy_set_platform(pol, 99, false),
			 -EINVAL);
	ck_assert_int_eq(xenvirtio_policy_set_option(pol, 7, 1), -EINVAL);
	ck_assert_int_eq(xenvirtio_policy_set_option(
				 pol, XENVIRTIO_POLICY_OPT_INITIAL_DOMAIN_RULE,
				 2),
			 -EINVAL);
	ck_assert_int_eq(xenvirtio_policy_set_guest(pol, 0x7ff0, 0, -1),
			 -EINVAL);
	ck_assert_int_eq(xenvirtio_policy_set_domid(pol, 0x7ff0), -EINVAL);
	ck_assert_int_eq(xenvirtio_policy_xenv(pol, NULL, NULL), -ENOENT);

	/* A fresh policy: Xen guest of unknown type, row 6. */
	ck_assert_int_eq(xenvirtio_policy_decide(pol, "mmio@0x2000000", &d),
			 0);
	ck_assert(!d.grants);
	ck_assert_uint_eq(d.row, 6);
	ck_assert_int_eq(xenvirtio_policy_set_platform(
				 pol, XENVIRTIO_GUEST_PV, true),
			 0);
	ck_assert_int_eq(xenvirtio_policy_decide(pol, "pci@0000:00:03.0", &d),
			 0);
	ck_assert(d.grants);
	ck_assert_uint_eq(d.backend_domid, 0);
	ck_assert_uint_eq(d.row, 5);
	ck_assert_int_eq(xenvirtio_policy_set_option(
				 pol, XENVIRTIO_POLICY_OPT_INITIAL_DOMAIN_RULE,
				 1),
			 0);
	ck_assert_int_eq(xenvirtio_policy_decide(pol, "pci@0000:00:03.0", &d),
			 0);
	ck_assert(!d.grants);
	ck_assert_uint_eq(d.row, 7);

	/* Backend view with injected facts, no context, no store. */
	ck_assert_int_eq(xenvirtio_policy_set_domid(pol, 1), 0);
	ck_assert_int_eq(xenvirtio_policy_set_guest(pol, 5,
						    XENVIRTIO_GUEST_HVM, 1),
			 0);
	ck_assert_int_eq(xenvirtio_policy_decide_backend(pol, 5, 0, NULL, &d),
			 0);
	ck_assert(d.grants);
	ck_assert_uint_eq(d.backend_domid, 1);
	ck_assert_int_eq(d.source, XENVIRTIO_POLICY_SOURCE_XENSTORE);
	/* Another guest: facts unknown, libxl's default for backend 1. */
	ck_assert_int_eq(xenvirtio_policy_decide_backend(pol, 6, 0, NULL, &d),
			 0);
	ck_assert(d.grants);
	ck_assert_int_eq(d.source, XENVIRTIO_POLICY_SOURCE_DEFAULT);
	ck_assert_int_eq(xenvirtio_policy_decide_backend(pol, 0x7ff0, 0, NULL,
							 &d),
			 -EINVAL);
	ck_assert_str_eq(xenvirtio_policy_source_name(
				 XENVIRTIO_POLICY_SOURCE_XENSTORE),
			 "xenstore");
	ck_assert_str_eq(xenvirtio_policy_guest_type_name(XENVIRTIO_GUEST_PVH),
			 "pvh");
	xenvirtio_policy_free(pol);
	xenvirtio_policy_free(NULL);
}
END_TEST

/* Backend facts read through the platform seam's store_read (sim). */
START_TEST(test_ext_backend_view_store_sim)
{
	char dir[64], world[96], spec[128];
	struct xenvirtio_policy_decision d;
	struct xenvirtio_policy *pol;
	struct xenvirtio_ctx *ctx;

	xv_test_expect_errors(0);
	snprintf(dir, sizeof(dir), "/tmp/xv-policy-sim-XXXXXX");
	ck_assert(mkdtemp(dir));
	snprintf(world, sizeof(world), "%s/w", dir);
	ck_assert_int_eq(xenvirtio_sim_world_create(world, 8, 4, 16), 0);
	snprintf(spec, sizeof(spec), "sim:%s,domid=1", world);
	ck_assert_int_eq(xenvirtio_ctx_open_log(spec, xv_test_log, NULL,
						XENVIRTIO_LOG_DEBUG, &ctx),
			 0);
	ck_assert_int_eq(xenvirtio_sim_store_write(
				 ctx, "/local/domain/1/backend/virtio/5/0/"
				      "grant_usage",
				 "1"),
			 0);
	ck_assert_int_eq(xenvirtio_sim_store_write(
				 ctx, "/local/domain/1/backend/virtio/5/1/"
				      "grant_usage",
				 "0"),
			 0);
	ck_assert_int_eq(xenvirtio_sim_store_write(
				 ctx, "/local/domain/1/backend/virtio/5/2/"
				      "grant_usage",
				 "yes"),
			 0);
	ck_assert_int_eq(xenvirtio_sim_store_write(ctx, "/libxl/6/type",
						   "pv"),
			 0);
	ck_assert_int_eq(xenvirtio_sim_store_write(ctx, "/libxl/7/type",
						   "qemu"),
			 0);
	ck_assert_int_eq(xenvirtio_policy_new(ctx, &pol), 0);
	/* Platform facts start from the context's platform (sim: HVM). */
	{
		enum xenvirtio_guest_type t;
		bool init = true;

		ck_assert_int_eq(xenvirtio_policy_platform(pol, &t, &init), 0);
		ck_assert_int_eq(t, xenvirtio_ctx_guest_type(ctx));
		ck_assert_int_ne(t, XENVIRTIO_GUEST_UNKNOWN);
		ck_assert(!init);
	}
	/* The own domid comes from the context. */
	ck_assert_int_eq(xenvirtio_policy_decide_backend(pol, 5, 0, NULL, &d),
			 0);
	ck_assert(d.grants);
	ck_assert_uint_eq(d.backend_domid, 1);
	ck_assert_int_eq(d.source, XENVIRTIO_POLICY_SOURCE_XENSTORE);
	ck_assert_int_eq(xenvirtio_policy_decide_backend(pol, 5, 1, NULL, &d),
			 0);
	ck_assert(!d.grants);
	ck_assert_int_eq(d.source, XENVIRTIO_POLICY_SOURCE_XENSTORE);
	/* No grant_usage for guest 6, but libxl recorded it PV. */
	ck_assert_int_eq(xenvirtio_policy_decide_backend(pol, 6, 0, NULL, &d),
			 0);
	ck_assert(d.grants);
	ck_assert_uint_eq(d.row, 5);
	ck_assert_int_eq(d.source, XENVIRTIO_POLICY_SOURCE_PLATFORM);
	/* Malformed store values are errors, not guesses. */
	xv_test_expect_errors(2);
	ck_assert_int_eq(xenvirtio_policy_decide_backend(pol, 5, 2, NULL, &d),
			 -EBADMSG);
	ck_assert_int_eq(xenvirtio_policy_decide_backend(pol, 7, 0, NULL, &d),
			 -EBADMSG);
	xv_test_expect_errors(0);
	xenvirtio_policy_free(pol);

	/* probe() takes the own domid from the store's "domid" key. */
	ck_assert_int_eq(xenvirtio_sim_store_write(ctx, "domid", "3"), 0);
	ck_assert_int_eq(xenvirtio_policy_new(ctx, &pol), 0);
	ck_assert_int_eq(xenvirtio_policy_set_path(
				 pol, XENVIRTIO_POLICY_PATH_HYPERVISOR_DIR, ""),
			 0);
	ck_assert_int_eq(xenvirtio_policy_set_path(pol,
						   XENVIRTIO_POLICY_PATH_FDT,
						   ""),
			 0);
	ck_assert_int_eq(xenvirtio_policy_set_path(
				 pol, XENVIRTIO_POLICY_PATH_ACPI_DIR, ""),
			 0);
	ck_assert_int_eq(xenvirtio_policy_set_path(
				 pol, XENVIRTIO_POLICY_PATH_CMDLINE, ""),
			 0);
	ck_assert_int_eq(xenvirtio_policy_set_path(pol,
						   XENVIRTIO_POLICY_PATH_ENV,
						   ""),
			 0);
	ck_assert_int_eq(xenvirtio_policy_probe(pol), 0);
	ck_assert_int_eq(xenvirtio_policy_decide_backend(pol, 9, 0, NULL, &d),
			 0);
	ck_assert(d.grants);
	ck_assert_uint_eq(d.backend_domid, 3);
	ck_assert(strstr(d.reason, "this domain 3"));
	xenvirtio_policy_free(pol);
	xenvirtio_ctx_close(ctx);
	xenvirtio_sim_world_destroy(world);
	rmdir(dir);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("policy");
	TCase *tc = tcase_create("decide");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_row1_not_xen);
	tcase_add_test(tc, test_row2_evidence_wins_over_global_off);
	tcase_add_test(tc, test_row4_node_without_grant_iommu_not_forced);
	tcase_add_test(tc, test_row5_pv_no_node);
	tcase_add_test(tc, test_row5_force_no_node);
	tcase_add_test(tc, test_row6_hvm_pvh_arm_not_forced);
	tcase_add_test(tc, test_row7_initial_domain_option);
	tcase_add_test(tc, test_ext_param_per_device_wins);
	tcase_add_test(tc, test_ext_acpi_described_device);
	tcase_add_test(tc, test_ext_global_off);
	tcase_add_test(tc, test_ext_backend_view_xenstore);
	tcase_add_test(tc, test_ext_backend_view_guest_type_and_libxl_default);
	tcase_add_test(tc, test_reason_trail_truncation_flag);
	tcase_add_test(tc, test_api_args_and_pure_decide);
	tcase_add_test(tc, test_ext_backend_view_store_sim);
	suite_add_tcase(s, tc);
	return xv_test_run(s);
}
