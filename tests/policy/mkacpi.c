/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Writes ACPI fixture tables for the probe CLI tests, from the byte builders
 * in fixture.h: mkacpi xenv|xvgd|xvgd-badsum|xvgd-overlap FILE
 */
#include "config.h"

#include "fixture.h"

int main(int argc, char **argv)
{
	struct xv_tbl t;
	FILE *f;

	if (argc != 3) {
		fprintf(stderr, "usage: mkacpi KIND FILE\n");
		return 2;
	}
	if (!strcmp(argv[1], "xenv")) {
		xv_tbl_xenv(&t, 0xfe000000ull, 0x100000);
	} else if (!strncmp(argv[1], "xvgd", 4)) {
		xv_xvgd_begin(&t);
		/* Same shape as the libxl tree: one MMIO device granted to
		 * backend 1, one plain; PCI 00:01.0 -> 1, 00:02.0 -> 2. */
		xv_xvgd_mmio(&t, 0x2000000, 1, 1);
		xv_xvgd_mmio(&t, 0x2000200, 0, 0);
		xv_xvgd_pci(&t, 0, 0x0008, 0x0008, 1, 1);
		xv_xvgd_pci(&t, 0, 0x0010, 0x0010, 2, 1);
		if (!strcmp(argv[1], "xvgd-overlap"))
			xv_xvgd_pci(&t, 0, 0x0000, 0x00ff, 3, 1);
		xv_xvgd_unknown(&t, 0x42, 8);
		xv_tbl_finish(&t);
		if (!strcmp(argv[1], "xvgd-badsum"))
			t.b[9]++;
	} else {
		fprintf(stderr, "mkacpi: unknown kind %s\n", argv[1]);
		return 2;
	}
	f = fopen(argv[2], "wb");
	if (!f || fwrite(t.b, 1, t.len, f) != t.len || fclose(f)) {
		perror(argv[2]);
		return 1;
	}
	return 0;
}
