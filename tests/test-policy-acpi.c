/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ACPI facts from byte-built tables: XENV, XVGD nodes of every type, unknown
 * node types skipped, and every malformation SPEC-NOTES §3 lists (checksum,
 * lengths, node bounds, count, overlapping ranges) refused whole.
 */
#include "xv-test.h"
#include "policy/fixture.h"

#include "policy_internal.h"

static struct xenvirtio_policy *pol;

static void setup(void)
{
	ck_assert_int_eq(xenvirtio_policy_new(NULL, &pol), 0);
	ck_assert_int_eq(xenvirtio_policy_set_platform(
				 pol, XENVIRTIO_GUEST_PVH, false),
			 0);
}

static void teardown(void)
{
	xenvirtio_policy_free(pol);
}

static void expect(const char *dev, bool grants, unsigned int domid,
		   enum xenvirtio_policy_source src, const char *needle)
{
	struct xenvirtio_policy_decision d;

	ck_assert_int_eq(xenvirtio_policy_decide(pol, dev, &d), 0);
	ck_assert_msg(d.grants == grants, "%s: %s", dev, d.reason);
	if (grants)
		ck_assert_uint_eq(d.backend_domid, domid);
	ck_assert_int_eq(d.source, src);
	ck_assert_msg(strstr(d.reason, needle), "'%s' not in '%s'", needle,
		      d.reason);
}

static void add_bad(struct xv_tbl *t, int err, const char *needle)
{
	ck_assert_int_eq(xenvirtio_policy_add_acpi_table(pol, t->b, t->len),
			 err);
	ck_assert_msg(strstr(xenvirtio_policy_last_error(pol), needle),
		      "'%s' not in '%s'", needle,
		      xenvirtio_policy_last_error(pol));
	/* Nothing recorded: the device is decided without ACPI. */
	expect("mmio@0x2000000", false, 0, XENVIRTIO_POLICY_SOURCE_DEFAULT,
	       "row 6");
}

static void build_good(struct xv_tbl *t)
{
	xv_xvgd_begin(t);
	xv_xvgd_mmio(t, 0x2000000, 1, 1);
	xv_xvgd_mmio(t, 0x2000200, 0, 0);
	xv_xvgd_pci(t, 0, 0x0008, 0x000f, 1, 1);
	xv_xvgd_pci(t, 0, 0x0010, 0x0010, 2, 1);
	xv_xvgd_unknown(t, 0x7f, 12);
	xv_xvgd_default(t, 0, 0);
	xv_tbl_finish(t);
}

START_TEST(test_ext_acpi_xvgd_devices)
{
	struct xv_tbl t;
	char name[64];

	build_good(&t);
	ck_assert_int_eq(xenvirtio_policy_add_acpi_table(pol, t.b, t.len), 0);
	expect("mmio@0x2000000", true, 1, XENVIRTIO_POLICY_SOURCE_ACPI,
	       "MMIO endpoint node at offset 48");
	expect("mmio@0x2000200", false, 0, XENVIRTIO_POLICY_SOURCE_ACPI,
	       "MMIO endpoint");
	expect("pci@0000:00:01.0", true, 1, XENVIRTIO_POLICY_SOURCE_ACPI,
	       "PCI range");
	expect("pci@0000:00:01.7", true, 1, XENVIRTIO_POLICY_SOURCE_ACPI,
	       "PCI range");
	expect("pci@0000:00:02.0", true, 2, XENVIRTIO_POLICY_SOURCE_ACPI,
	       "backend 2");
	/* Not listed: the platform default node (no grants here). */
	expect("pci@0000:00:02.1", false, 0, XENVIRTIO_POLICY_SOURCE_ACPI,
	       "platform default");
	expect("pci@0001:00:01.0", false, 0, XENVIRTIO_POLICY_SOURCE_ACPI,
	       "platform default");
	ck_assert_int_eq(xenvirtio_policy_device_count(pol), 2);
	ck_assert_int_eq(xenvirtio_policy_device_name(pol, 1, name,
						      sizeof(name)),
			 0);
	ck_assert_str_eq(name, "mmio@0x2000200");
}
END_TEST

START_TEST(test_ext_acpi_default_node_grants)
{
	struct xv_tbl t;

	xv_xvgd_begin(&t);
	xv_xvgd_default(&t, 3, 1);
	xv_tbl_finish(&t);
	ck_assert_int_eq(xenvirtio_policy_add_acpi_table(pol, t.b, t.len), 0);
	expect("pci@0000:00:05.0", true, 3, XENVIRTIO_POLICY_SOURCE_ACPI,
	       "platform default");
	/* A per-device parameter still wins. */
	ck_assert_int_eq(xenvirtio_policy_add_params(
				 pol, "xen_virtio.pci@0000:00:05.0=grant:off",
				 XENVIRTIO_POLICY_ORIGIN_API),
			 0);
	expect("pci@0000:00:05.0", false, 0, XENVIRTIO_POLICY_SOURCE_PARAM,
	       "grant:off");
}
END_TEST

START_TEST(test_acpi_xenv_platform_fact)
{
	struct xv_tbl t;
	uint64_t start = 0, size = 0;

	xv_tbl_xenv(&t, 0xf0000000ull, 0x40000);
	ck_assert_int_eq(xenvirtio_policy_add_acpi_table(pol, t.b, t.len), 0);
	ck_assert_int_eq(xenvirtio_policy_xenv(pol, &start, &size), 0);
	ck_assert_uint_eq(start, 0xf0000000ull);
	ck_assert_uint_eq(size, 0x40000);
	/* XENV says nothing about virtio; it is a platform fact. */
	expect("mmio@0x2000000", false, 0, XENVIRTIO_POLICY_SOURCE_DEFAULT,
	       "Xen PVH guest, XENV present");
	/* Too short for revision 1. */
	xv_tbl_header(&t, "XENV", 56);
	xv_tbl_finish(&t);
	add_bad(&t, -EBADMSG, "XENV: length 56");
}
END_TEST

START_TEST(test_acpi_bad_checksum)
{
	struct xv_tbl t;

	build_good(&t);
	t.b[40] ^= 1;
	add_bad(&t, -EBADMSG, "bad checksum");
}
END_TEST

START_TEST(test_acpi_bad_lengths)
{
	struct xv_tbl t;

	build_good(&t);
	/* Header length larger than the bytes given. */
	ck_assert_int_eq(xenvirtio_policy_add_acpi_table(pol, t.b, t.len - 1),
			 -EBADMSG);
	ck_assert(strstr(xenvirtio_policy_last_error(pol), "header length"));
	ck_assert_int_eq(xenvirtio_policy_add_acpi_table(pol, t.b, 20),
			 -EBADMSG);
	ck_assert_int_eq(xenvirtio_policy_add_acpi_table(pol, t.b, 0),
			 -EBADMSG);
	/* Wrong revision. */
	build_good(&t);
	t.b[8] = 2;
	xv_tbl_finish(&t);
	add_bad(&t, -EBADMSG, "revision 2");
	/* First node offset inside the header. */
	build_good(&t);
	xv_put16(t.b + 38, 40);
	xv_tbl_finish(&t);
	add_bad(&t, -EBADMSG, "first node offset 40");
	/* Another signature. */
	xv_tbl_header(&t, "APIC", 36);
	xv_tbl_finish(&t);
	add_bad(&t, -EPROTONOSUPPORT, "neither XENV nor XVGD");
}
END_TEST

START_TEST(test_acpi_node_bounds)
{
	struct xv_tbl t;

	/* An MMIO node declared 20 bytes (below its 24). */
	xv_xvgd_begin(&t);
	xv_xvgd_mmio(&t, 0x2000000, 1, 1);
	xv_put16(t.b + 48 + 2, 20);
	t.len -= 4;
	xv_tbl_finish(&t);
	add_bad(&t, -EBADMSG, "length 20 below 24");
	/* A node running past the table. */
	xv_xvgd_begin(&t);
	xv_xvgd_pci(&t, 0, 8, 15, 1, 1);
	xv_put16(t.b + 48 + 2, 32);
	xv_tbl_finish(&t);
	add_bad(&t, -EBADMSG, "runs past the table");
	/* An unknown node with length < 4 (no progress). */
	xv_xvgd_begin(&t);
	xv_xvgd_unknown(&t, 9, 4);
	xv_put16(t.b + 48 + 2, 2);
	xv_tbl_finish(&t);
	add_bad(&t, -EBADMSG, "length 2 below 4");
	/* A reserved backend domid. */
	xv_xvgd_begin(&t);
	xv_xvgd_mmio(&t, 0x2000000, 0x7ff2, 1);
	xv_tbl_finish(&t);
	add_bad(&t, -EBADMSG, "reserved");
	/* An empty BDF range. */
	xv_xvgd_begin(&t);
	xv_xvgd_pci(&t, 0, 16, 8, 1, 1);
	xv_tbl_finish(&t);
	add_bad(&t, -EBADMSG, "is empty");
}
END_TEST

START_TEST(test_acpi_count_mismatch)
{
	struct xv_tbl t;

	build_good(&t);
	xv_put16(t.b + 36, 5); /* 6 nodes present */
	xv_tbl_finish(&t);
	add_bad(&t, -EBADMSG, "node count 5 does not match");
	build_good(&t);
	xv_put16(t.b + 36, 7);
	xv_tbl_finish(&t);
	add_bad(&t, -EBADMSG, "runs past the table");
	build_good(&t);
	xv_put16(t.b + 36, 300);
	xv_tbl_finish(&t);
	add_bad(&t, -E2BIG, "300 nodes");
}
END_TEST

START_TEST(test_acpi_overlapping_ranges)
{
	struct xv_tbl t;

	xv_xvgd_begin(&t);
	xv_xvgd_pci(&t, 0, 0x08, 0x0f, 1, 1);
	xv_xvgd_pci(&t, 0, 0x0c, 0x17, 2, 1);
	xv_tbl_finish(&t);
	add_bad(&t, -EBADMSG, "overlaps the node at offset 48");
	/* Same MMIO base twice with different answers. */
	xv_xvgd_begin(&t);
	xv_xvgd_mmio(&t, 0x2000000, 1, 1);
	xv_xvgd_mmio(&t, 0x2000000, 1, 0);
	xv_tbl_finish(&t);
	add_bad(&t, -EBADMSG, "overlaps");
	/* Two defaults that disagree. */
	xv_xvgd_begin(&t);
	xv_xvgd_default(&t, 1, 1);
	xv_xvgd_default(&t, 2, 1);
	xv_tbl_finish(&t);
	add_bad(&t, -EBADMSG, "overlaps");
	/* Overlap with the same answer, or another segment, is fine. */
	xv_xvgd_begin(&t);
	xv_xvgd_pci(&t, 0, 0x08, 0x0f, 1, 1);
	xv_xvgd_pci(&t, 0, 0x0c, 0x17, 1, 1);
	xv_xvgd_pci(&t, 1, 0x0c, 0x17, 2, 1);
	xv_tbl_finish(&t);
	ck_assert_int_eq(xenvirtio_policy_add_acpi_table(pol, t.b, t.len), 0);
	expect("pci@0001:00:01.4", true, 2, XENVIRTIO_POLICY_SOURCE_ACPI,
	       "PCI range");
}
END_TEST

START_TEST(test_acpi_hostile_bytes)
{
	struct xv_tbl t, m;
	struct xenvirtio_policy_decision d;
	size_t i, bit;

	/* Every single-bit flip of a valid table, checksum fixed: parsed or
	 * refused, never a crash or a partial table. */
	build_good(&t);
	for (i = 10; i < t.len; i++) {
		for (bit = 0; bit < 8; bit += 3) {
			m = t;
			m.b[i] ^= (uint8_t)(1u << bit);
			xv_tbl_finish(&m);
			m.len = (size_t)xv_load_le32(m.b + 4) <= sizeof(m.b) ?
					xv_load_le32(m.b + 4) :
					m.len;
			xenvirtio_policy_add_acpi_table(pol, m.b, m.len);
			ck_assert_int_eq(xenvirtio_policy_decide(
						 pol, "pci@0000:00:01.0", &d),
					 0);
		}
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("policy-acpi");
	TCase *tc = tcase_create("acpi");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_ext_acpi_xvgd_devices);
	tcase_add_test(tc, test_ext_acpi_default_node_grants);
	tcase_add_test(tc, test_acpi_xenv_platform_fact);
	tcase_add_test(tc, test_acpi_bad_checksum);
	tcase_add_test(tc, test_acpi_bad_lengths);
	tcase_add_test(tc, test_acpi_node_bounds);
	tcase_add_test(tc, test_acpi_count_mismatch);
	tcase_add_test(tc, test_acpi_overlapping_ranges);
	tcase_add_test(tc, test_acpi_hostile_bytes);
	suite_add_tcase(s, tc);
	return xv_test_run(s);
}
