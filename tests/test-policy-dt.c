/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Decision table rows 2-4 from device tree fixtures compiled at test time
 * (tests/policy/NAME.dts), and hostile blobs: corrupt, truncated, oversized.
 */
#include "xv-test.h"
#include "policy/fixture.h"

#include "policy_internal.h"

static struct xenvirtio_policy *pol_dt(const char *name,
				       enum xenvirtio_guest_type type)
{
	struct xenvirtio_policy *pol;
	size_t len;
	void *blob;

	blob = xv_fixture_dtb(name, &len);
	ck_assert_msg(blob, "dtc failed on %s.dts", name);
	ck_assert_int_eq(xenvirtio_policy_new(NULL, &pol), 0);
	ck_assert_int_eq(xenvirtio_policy_add_dtb(pol, blob, len), 0);
	ck_assert_int_eq(xenvirtio_policy_set_platform(pol, type, false), 0);
	free(blob);
	return pol;
}

static struct xenvirtio_policy_decision decide(struct xenvirtio_policy *pol,
					       const char *dev)
{
	struct xenvirtio_policy_decision d;

	memset(&d, 0x5a, sizeof(d));
	ck_assert_int_eq(xenvirtio_policy_decide(pol, dev, &d), 0);
	ck_assert(memchr(d.reason, '\0', sizeof(d.reason)));
	if (getenv("XV_TEST_VERBOSE"))
		fprintf(stderr, "%s: %d %u row %u: %s\n", dev, d.grants,
			d.backend_domid, d.row, d.reason);
	return d;
}

static void expect(struct xenvirtio_policy *pol, const char *dev,
		   bool grants, unsigned int domid, unsigned int row,
		   enum xenvirtio_policy_source src, const char *needle)
{
	struct xenvirtio_policy_decision d = decide(pol, dev);

	ck_assert_msg(d.grants == grants, "%s: grants %d: %s", dev, d.grants,
		      d.reason);
	ck_assert_uint_eq(d.backend_domid,
			  grants ? domid : XENVIRTIO_DOMID_INVALID);
	ck_assert_uint_eq(d.row, row);
	ck_assert_int_eq(d.source, src);
	ck_assert(!d.reason_truncated);
	if (needle)
		ck_assert_msg(strstr(d.reason, needle), "%s: '%s' not in '%s'",
			      dev, needle, d.reason);
}

START_TEST(test_row2_iommus_grant_dma)
{
	struct xenvirtio_policy *pol = pol_dt("libxl", XENVIRTIO_GUEST_ARM);

	expect(pol, "/virtio@2000000", true, 1, 2, XENVIRTIO_POLICY_SOURCE_DT,
	       "iommus -> /xen-grant-dma (xen,grant-dma), backend 1");
	/* The same node by its MMIO base. */
	expect(pol, "mmio@0x2000000", true, 1, 2, XENVIRTIO_POLICY_SOURCE_DT,
	       "row 2");
	xenvirtio_policy_free(pol);
}
END_TEST

START_TEST(test_row2_multiple_backends)
{
	struct xenvirtio_policy *pol = pol_dt("iommus", XENVIRTIO_GUEST_ARM);

	expect(pol, "/virtio@2000000", true, 1, 2, XENVIRTIO_POLICY_SOURCE_DT,
	       "backend 1");
	expect(pol, "/virtio@2000200", true, 2, 2, XENVIRTIO_POLICY_SOURCE_DT,
	       "backend 2");
	xenvirtio_policy_free(pol);
}
END_TEST

START_TEST(test_row3_pci_iommu_map)
{
	struct xenvirtio_policy *pol = pol_dt("libxl", XENVIRTIO_GUEST_ARM);

	expect(pol, "pci@0000:00:01.0", true, 1, 3,
	       XENVIRTIO_POLICY_SOURCE_DT, "RID 0x0008");
	expect(pol, "pci@0000:00:02.0", true, 2, 3,
	       XENVIRTIO_POLICY_SOURCE_DT, "RID 0x0010");
	/* 00:01.1 is in no entry (length 1): row 4. */
	expect(pol, "pci@0000:00:01.1", false, 0, 4,
	       XENVIRTIO_POLICY_SOURCE_DT, "no iommu-map entry covers");
	xenvirtio_policy_free(pol);

	/* Bridge with a bus-range: RID = bus << 8 | devfn. */
	pol = pol_dt("pci", XENVIRTIO_GUEST_ARM);
	expect(pol, "pci@0007:10:01.0", true, 1, 3,
	       XENVIRTIO_POLICY_SOURCE_DT, "RID 0x1008");
	expect(pol, "pci@0007:10:02.0", true, 2, 3,
	       XENVIRTIO_POLICY_SOURCE_DT, "RID 0x1010");
	/* Bus 0x20 is outside bus-range: no host bridge, no DT node. */
	expect(pol, "pci@0007:20:01.0", false, 0, 6,
	       XENVIRTIO_POLICY_SOURCE_DEFAULT, "no host bridge");
	/* The nested PCI-PCI bridge is not a host bridge (segment 8 would
	 * be its index if it were). */
	expect(pol, "pci@0008:00:01.0", false, 0, 6,
	       XENVIRTIO_POLICY_SOURCE_DEFAULT, "no host bridge");
	xenvirtio_policy_free(pol);
}
END_TEST

START_TEST(test_row3_pci_iommu_map_length_trap)
{
	struct xenvirtio_policy *pol = pol_dt("pci", XENVIRTIO_GUEST_ARM);
	char dev[32];
	unsigned int fn;

	/* <0x8 &grant 5 8>: function n of device 1 goes to domain 5 + n. */
	for (fn = 0; fn < 8; fn++) {
		snprintf(dev, sizeof(dev), "pci@0000:00:01.%u", fn);
		expect(pol, dev, true, 5 + fn, 3, XENVIRTIO_POLICY_SOURCE_DT,
		       NULL);
	}
	expect(pol, "pci@0000:00:02.0", false, 0, 4,
	       XENVIRTIO_POLICY_SOURCE_DT, "no iommu-map entry");
	expect(pol, "pci@0000:00:00.7", false, 0, 4,
	       XENVIRTIO_POLICY_SOURCE_DT, "no iommu-map entry");
	xenvirtio_policy_free(pol);
}
END_TEST

START_TEST(test_row3_pci_iommu_map_mask)
{
	struct xenvirtio_policy *pol = pol_dt("pci", XENVIRTIO_GUEST_ARM);
	char dev[32];
	unsigned int fn;

	/* The same entry behind mask 0xfff8: every function -> 5. */
	for (fn = 0; fn < 8; fn++) {
		snprintf(dev, sizeof(dev), "pci@0001:00:01.%u", fn);
		expect(pol, dev, true, 5, 3, XENVIRTIO_POLICY_SOURCE_DT,
		       "mask 0xfff8");
	}
	/* 0x10 + 0xfffffff8 wraps to 8 in u32: no RID matches, as in Linux
	 * (64-bit arithmetic would grant 00:02.0 to domain 1). */
	expect(pol, "pci@0009:00:02.0", false, 0, 4,
	       XENVIRTIO_POLICY_SOURCE_DT, "no iommu-map entry covers");
	/* A mask that ignores id-base bits is a bad map (Linux -EFAULT). */
	expect(pol, "pci@0006:00:01.0", false, 0, 4,
	       XENVIRTIO_POLICY_SOURCE_DT, "ignores id-base");
	xenvirtio_policy_free(pol);
}
END_TEST

START_TEST(test_row4_no_iommus)
{
	struct xenvirtio_policy *pol = pol_dt("libxl", XENVIRTIO_GUEST_ARM);

	expect(pol, "/virtio@2000200", false, 0, 4,
	       XENVIRTIO_POLICY_SOURCE_DT, "has no iommus");
	xenvirtio_policy_free(pol);
	pol = pol_dt("pci", XENVIRTIO_GUEST_ARM);
	expect(pol, "pci@0003:00:01.0", false, 0, 4,
	       XENVIRTIO_POLICY_SOURCE_DT, "has no iommu-map");
	xenvirtio_policy_free(pol);
}
END_TEST

START_TEST(test_row4_other_iommu)
{
	struct xenvirtio_policy *pol = pol_dt("iommus", XENVIRTIO_GUEST_ARM);

	expect(pol, "/virtio@2000400", false, 0, 4,
	       XENVIRTIO_POLICY_SOURCE_DT, "not xen,grant-dma");
	xenvirtio_policy_free(pol);
	pol = pol_dt("pci", XENVIRTIO_GUEST_ARM);
	expect(pol, "pci@0005:00:01.0", false, 0, 4,
	       XENVIRTIO_POLICY_SOURCE_DT, "not xen,grant-dma");
	xenvirtio_policy_free(pol);
}
END_TEST

START_TEST(test_row4_cell_count)
{
	struct xenvirtio_policy *pol = pol_dt("iommus", XENVIRTIO_GUEST_ARM);

	/* #iommu-cells = <2> on a grant node. */
	expect(pol, "/virtio@2000600", false, 0, 4,
	       XENVIRTIO_POLICY_SOURCE_DT, "#iommu-cells 2, not 1");
	/* iommus = <&grant> without its cell. */
	expect(pol, "/virtio@2000a00", false, 0, 4,
	       XENVIRTIO_POLICY_SOURCE_DT, "#iommu-cells 1 but 0 cells");
	/* Target without #iommu-cells. */
	expect(pol, "/virtio@2000e00", false, 0, 4,
	       XENVIRTIO_POLICY_SOURCE_DT, "without #iommu-cells");
	/* A cell that is no domid: refused, never truncated. */
	expect(pol, "/virtio@2000c00", false, 0, 4,
	       XENVIRTIO_POLICY_SOURCE_DT, "0x10001 out of range");
	xenvirtio_policy_free(pol);
	/* iommu-map length not a multiple of 4 cells. */
	pol = pol_dt("pci", XENVIRTIO_GUEST_ARM);
	expect(pol, "pci@0002:00:01.0", false, 0, 4,
	       XENVIRTIO_POLICY_SOURCE_DT, "bad iommu-map length 12");
	xenvirtio_policy_free(pol);
}
END_TEST

START_TEST(test_row4_dangling_phandle)
{
	struct xenvirtio_policy *pol = pol_dt("iommus", XENVIRTIO_GUEST_ARM);

	expect(pol, "/virtio@2000800", false, 0, 4,
	       XENVIRTIO_POLICY_SOURCE_DT, "phandle 0x4242 dangles");
	xenvirtio_policy_free(pol);
	pol = pol_dt("pci", XENVIRTIO_GUEST_ARM);
	expect(pol, "pci@0004:00:01.0", false, 0, 4,
	       XENVIRTIO_POLICY_SOURCE_DT, "phandle 0x4242 dangles");
	xenvirtio_policy_free(pol);
}
END_TEST

START_TEST(test_row4_wins_over_force_and_pv)
{
	struct xenvirtio_policy *pol = pol_dt("iommus", XENVIRTIO_GUEST_PV);

	ck_assert_int_eq(xenvirtio_policy_add_params(
				 pol, "xen_virtio_grant=force",
				 XENVIRTIO_POLICY_ORIGIN_API),
			 0);
	expect(pol, "/virtio@2000400", false, 0, 4,
	       XENVIRTIO_POLICY_SOURCE_DT, "even if forced or PV");
	expect(pol, "/virtio@2001000", false, 0, 4,
	       XENVIRTIO_POLICY_SOURCE_DT, "has no iommus");
	/* A device without a node is still forced (row 5). */
	expect(pol, "mmio@0x9000000", true, 0, 5,
	       XENVIRTIO_POLICY_SOURCE_PLATFORM, "no virtio,mmio node");
	xenvirtio_policy_free(pol);
}
END_TEST

START_TEST(test_row1_not_xen_with_dt)
{
	struct xenvirtio_policy *pol = pol_dt("libxl", XENVIRTIO_GUEST_NONE);

	expect(pol, "/virtio@2000000", false, 0, 1,
	       XENVIRTIO_POLICY_SOURCE_PLATFORM, "not a Xen guest");
	xenvirtio_policy_free(pol);
}
END_TEST

START_TEST(test_ext_param_wins_over_dt)
{
	struct xenvirtio_policy *pol = pol_dt("libxl", XENVIRTIO_GUEST_ARM);

	ck_assert_int_eq(
		xenvirtio_policy_add_params(
			pol,
			"xen_virtio.mmio@0x2000000=grant:off "
			"xen_virtio./virtio@2000200=grant:on:backend=7 "
			"xen_virtio.pci@0000:00:01.0=grant:on",
			XENVIRTIO_POLICY_ORIGIN_API),
		0);
	/* Named by base, decided by path: still the same device. */
	expect(pol, "/virtio@2000000", false, 0, 0,
	       XENVIRTIO_POLICY_SOURCE_PARAM, "grant:off wins");
	expect(pol, "/virtio@2000200", true, 7, 0,
	       XENVIRTIO_POLICY_SOURCE_PARAM, "backend 7 from the parameter");
	/* Named by path, decided by base. */
	expect(pol, "mmio@0x2000200", true, 7, 0,
	       XENVIRTIO_POLICY_SOURCE_PARAM, "backend 7 from the parameter");
	/* grant:on without a backend keeps the firmware's. */
	expect(pol, "pci@0000:00:01.0", true, 1, 0,
	       XENVIRTIO_POLICY_SOURCE_PARAM, "from the device tree");
	xenvirtio_policy_free(pol);
}
END_TEST

START_TEST(test_dt_enumerate_libxl)
{
	struct xenvirtio_policy *pol = pol_dt("libxl", XENVIRTIO_GUEST_ARM);
	static const char *const want[] = { "/virtio@2000000",
					    "/virtio@2000200",
					    "pci@0000:00:01.0",
					    "pci@0000:00:02.0" };
	char name[256];
	unsigned int i;

	ck_assert_int_eq(xenvirtio_policy_device_count(pol), 4);
	for (i = 0; i < 4; i++) {
		ck_assert_int_eq(xenvirtio_policy_device_name(pol, i, name,
							      sizeof(name)),
				 0);
		ck_assert_str_eq(name, want[i]);
	}
	ck_assert_int_eq(xenvirtio_policy_device_name(pol, 4, name,
						      sizeof(name)),
			 -ENOENT);
	ck_assert_int_eq(xenvirtio_policy_device_name(pol, 0, name, 15),
			 -ENOSPC);
	ck_assert_int_eq(xenvirtio_policy_decide(pol, "/nonexistent",
						 &(struct xenvirtio_policy_decision){ 0 }),
			 -ENOENT);
	xenvirtio_policy_free(pol);
}
END_TEST

START_TEST(test_dt_corrupt_blobs)
{
	struct xenvirtio_policy *pol;
	uint8_t *blob, *bad;
	size_t len, cut;
	unsigned int i;

	blob = xv_fixture_dtb("libxl", &len);
	ck_assert(blob);
	ck_assert_int_eq(xenvirtio_policy_new(NULL, &pol), 0);
	bad = malloc(len);
	ck_assert(bad);

	/* Truncated anywhere: refused with a message, nothing recorded. */
	for (cut = 0; cut < len; cut += (cut < 64 ? 1 : 37)) {
		memcpy(bad, blob, cut);
		ck_assert_int_lt(xenvirtio_policy_add_dtb(pol, bad, cut), 0);
		ck_assert_str_ne(xenvirtio_policy_last_error(pol), "");
		ck_assert_int_eq(xenvirtio_policy_device_count(pol), 0);
	}
	/* Bad magic. */
	memcpy(bad, blob, len);
	bad[0] ^= 0xff;
	ck_assert_int_eq(xenvirtio_policy_add_dtb(pol, bad, len), -EBADMSG);
	ck_assert(strstr(xenvirtio_policy_last_error(pol), "invalid header"));
	/* A version 3 blob (libfdt 1.6.1's fdt_check_full crashes on some):
	 * refused before fdt_check_full sees it. */
	memcpy(bad, blob, len);
	bad[23] = 3;  /* version */
	bad[27] = 2;  /* last compatible version */
	ck_assert_int_eq(xenvirtio_policy_add_dtb(pol, bad, len), -EBADMSG);
	ck_assert(strstr(xenvirtio_policy_last_error(pol), "version 3"));
	/* totalsize beyond the buffer. */
	memcpy(bad, blob, len);
	bad[4] = 0x7f;
	ck_assert_int_eq(xenvirtio_policy_add_dtb(pol, bad, len), -EBADMSG);
	/* Every single-byte corruption of the struct block: refused or
	 * parsed, never a crash (ASan/valgrind watch this). */
	for (i = 40; i < len; i += 3) {
		struct xenvirtio_policy_decision d;

		memcpy(bad, blob, len);
		bad[i] ^= 0x41;
		if (xenvirtio_policy_add_dtb(pol, bad, len) == 0)
			xenvirtio_policy_decide(pol, "pci@0000:00:01.0", &d);
	}
	ck_assert_int_eq(xenvirtio_policy_add_dtb(pol, NULL, len), -EINVAL);
	ck_assert_int_eq(xenvirtio_policy_add_dtb(pol, blob, (size_t)17 << 20),
			 -E2BIG);
	free(bad);
	free(blob);
	xenvirtio_policy_free(pol);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("policy-dt");
	TCase *tc = tcase_create("dt");

	if (!xv_fixture_have_dtc()) {
		printf("SKIP: no dtc (XV_DTC)\n");
		return 77;
	}
	tcase_add_test(tc, test_row1_not_xen_with_dt);
	tcase_add_test(tc, test_row2_iommus_grant_dma);
	tcase_add_test(tc, test_row2_multiple_backends);
	tcase_add_test(tc, test_row3_pci_iommu_map);
	tcase_add_test(tc, test_row3_pci_iommu_map_length_trap);
	tcase_add_test(tc, test_row3_pci_iommu_map_mask);
	tcase_add_test(tc, test_row4_no_iommus);
	tcase_add_test(tc, test_row4_other_iommu);
	tcase_add_test(tc, test_row4_cell_count);
	tcase_add_test(tc, test_row4_dangling_phandle);
	tcase_add_test(tc, test_row4_wins_over_force_and_pv);
	tcase_add_test(tc, test_ext_param_wins_over_dt);
	tcase_add_test(tc, test_dt_enumerate_libxl);
	tcase_add_test(tc, test_dt_corrupt_blobs);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return xv_test_run(s);
}
