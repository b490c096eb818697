/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: the device side of the indirect ring (split ring, indirect tables negotiated; seeds carry tables). */
#define FUZZ_INDIRECT 1
#include "fuzz-vq-common.c"
