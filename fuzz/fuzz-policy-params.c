/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz target: the parameter grammar and device names. The input is a
 * parameter string (NUL bytes end it, as they would in C).
 */
#include "internal.h"
#include "policy_internal.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xenvirtio_policy_decision d;
	struct xenvirtio_policy *pol;
	struct xv_dev_id dev;
	char *s, name[XV_DT_PATH_MAX];
	unsigned int i;

	s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (xenvirtio_policy_new(NULL, &pol) < 0) {
		free(s);
		return 0;
	}
	xenvirtio_policy_add_params(pol, s, XENVIRTIO_POLICY_ORIGIN_API);
	for (i = 0; i < pol->params.ndev; i++) {
		if (xv_dev_format(&pol->params.dev[i].id, name,
				  sizeof(name)) == 0)
			xenvirtio_policy_decide(pol, name, &d);
	}
	/* The device-name parser on the raw input too. */
	if (xv_dev_parse(s, strlen(s), &dev) == 0 &&
	    xv_dev_format(&dev, name, sizeof(name)) == 0)
		xenvirtio_policy_decide(pol, name, &d);
	xenvirtio_policy_free(pol);
	free(s);
	return 0;
}
