/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz target: the device tree walker. The input is a blob; every listed
 * device and a few named ones are decided.
 */
#include "internal.h"
#include "policy_internal.h"

#include <stdio.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const named[] = {
		"mmio@0x2000000", "pci@0000:00:01.0", "pci@0000:00:02.3",
		"pci@0001:10:1f.7", "/virtio@2000000", "/pcie@10000000",
	};
	struct xenvirtio_policy_decision d;
	struct xenvirtio_policy *pol;
	char name[XV_DT_PATH_MAX];
	int i, n;

	if (xenvirtio_policy_new(NULL, &pol) < 0)
		return 0;
	if (xenvirtio_policy_add_dtb(pol, data, size) == 0) {
		n = xenvirtio_policy_device_count(pol);
		for (i = 0; i < n; i++)
			if (!xenvirtio_policy_device_name(pol, (unsigned int)i,
							  name, sizeof(name)))
				xenvirtio_policy_decide(pol, name, &d);
		for (i = 0; i < (int)XV_ARRAY_SIZE(named); i++) {
			xenvirtio_policy_decide(pol, named[i], &d);
			xenvirtio_policy_decide_backend(pol, 1, 0, named[i],
							&d);
		}
	}
	xenvirtio_policy_free(pol);
	return 0;
}
