/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz target: the ACPI XENV/XVGD parser. The checksum is fixed up so the
 * fuzzer reaches the node walk (byte 9 is the checksum).
 */
#include "internal.h"
#include "policy_internal.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const named[] = {
		"mmio@0x2000000", "mmio@0x0", "pci@0000:00:01.0",
		"pci@0000:00:02.3", "pci@ffff:ff:1f.7",
	};
	struct xenvirtio_policy_decision d;
	struct xenvirtio_policy *pol;
	uint8_t *t, sum = 0;
	size_t i;

	if (xenvirtio_policy_new(NULL, &pol) < 0)
		return 0;
	/* As given, then with a valid checksum (if there is room). */
	xenvirtio_policy_add_acpi_table(pol, data, size);
	t = malloc(size ? size : 1);
	if (t && size >= 10) {
		memcpy(t, data, size);
		t[9] = 0;
		for (i = 0; i < size; i++)
			sum = (uint8_t)(sum + t[i]);
		t[9] = (uint8_t)-sum;
		xenvirtio_policy_add_acpi_table(pol, t, size);
	}
	free(t);
	for (i = 0; i < XV_ARRAY_SIZE(named); i++)
		xenvirtio_policy_decide(pol, named[i], &d);
	xenvirtio_policy_free(pol);
	return 0;
}
