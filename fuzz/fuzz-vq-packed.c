/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: the device side of the packed ring (ring memory, indices, features, queue size). */
#define FUZZ_PACKED 1
#define FUZZ_INDIRECT 0
#include "fuzz-vq-common.c"
