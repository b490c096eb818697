/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Grant DMA address helpers (SPEC-NOTES §1): G2, G9. */
#include "xv-test.h"

START_TEST(test_addr_encode_decode)
{
	uint64_t a;
	uint32_t ref, off;

	ck_assert_int_eq(xenvirtio_grant_addr(0x1234, 0xabc, &a), 0);
	ck_assert_uint_eq(a, (1ULL << 63) | (0x1234ULL << 12) | 0xabc);
	ck_assert(xenvirtio_is_grant_addr(a));
	ck_assert_int_eq(xenvirtio_grant_addr_decode(a, &ref, &off), 0);
	ck_assert_uint_eq(ref, 0x1234);
	ck_assert_uint_eq(off, 0xabc);

	/* the largest ref uses bits 12..43 */
	ck_assert_int_eq(xenvirtio_grant_addr(UINT32_MAX, 4095, &a), 0);
	ck_assert_uint_eq(a, (1ULL << 63) | 0xfffffffffffULL);
	ck_assert_int_eq(xenvirtio_grant_addr_decode(a, &ref, &off), 0);
	ck_assert_uint_eq(ref, UINT32_MAX);
	ck_assert_uint_eq(off, 4095);
}
END_TEST

START_TEST(test_addr_bad_input)
{
	uint64_t a = 0x55;

	ck_assert_int_eq(xenvirtio_grant_addr(1, 4096, &a), -EINVAL);
	ck_assert_uint_eq(a, 0x55); /* untouched on failure */
	ck_assert_int_eq(xenvirtio_grant_addr(1, 0, NULL), -EINVAL);
	ck_assert(!xenvirtio_is_grant_addr(0x1000));
	ck_assert_int_eq(xenvirtio_grant_addr_decode(0x1000, NULL, NULL),
			 -EINVAL);
	/* a ref beyond 32 bits: bit 44 set */
	ck_assert_int_eq(xenvirtio_grant_addr_decode((1ULL << 63) | (1ULL << 44),
						     NULL, NULL),
			 -ERANGE);
}
END_TEST

/* G9: frame arithmetic is 4 KiB whatever the host page size. */
START_TEST(test_G9_frames_are_4k)
{
	uint32_t n;

	ck_assert_int_eq(xenvirtio_grant_frames(0, 0, &n), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(xenvirtio_grant_frames(0, 1, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(xenvirtio_grant_frames(0, 4096, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(xenvirtio_grant_frames(0, 4097, &n), 0);
	ck_assert_uint_eq(n, 2);
	/* the in-page offset counts (G2) */
	ck_assert_int_eq(xenvirtio_grant_frames(4095, 2, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(xenvirtio_grant_frames(1, 4096, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(xenvirtio_grant_frames(100, 65536, &n), 0);
	ck_assert_uint_eq(n, 17);
	ck_assert_int_eq(xenvirtio_grant_frames(4096, 1, &n), -EINVAL);
	/* 64 KiB host pages must not change the answer */
	ck_assert_int_eq(xenvirtio_grant_frames(0, 65536, &n), 0);
	ck_assert_uint_eq(n, 16);
}
END_TEST

/* G2: ref + frames - 1 must not overflow 32 bits; no wrap in len either. */
START_TEST(test_G2_ref_overflow)
{
	uint64_t a;
	uint32_t ref = 7, off = 7, n = 7;

	ck_assert_int_eq(xenvirtio_grant_addr(UINT32_MAX, 0, &a), 0);
	ck_assert_int_eq(xenvirtio_grant_range(a, 4096, &ref, &off, &n), 0);
	ck_assert_uint_eq(ref, UINT32_MAX);
	ck_assert_uint_eq(n, 1);
	ref = off = n = 7;
	ck_assert_int_eq(xenvirtio_grant_range(a, 4097, &ref, &off, &n),
			 -EOVERFLOW);
	ck_assert_uint_eq(ref, 7);
	ck_assert_uint_eq(n, 7);
	/* offset pushes a one-page length into a second frame */
	ck_assert_int_eq(xenvirtio_grant_addr(UINT32_MAX, 1, &a), 0);
	ck_assert_int_eq(xenvirtio_grant_range(a, 4096, &ref, &off, &n),
			 -EOVERFLOW);
	ck_assert_int_eq(xenvirtio_grant_addr(UINT32_MAX - 1, 1, &a), 0);
	ck_assert_int_eq(xenvirtio_grant_range(a, 4096, &ref, &off, &n), 0);
	ck_assert_uint_eq(n, 2);
	/* huge lengths: no wrap in (off + len + 4095) */
	ck_assert_int_eq(xenvirtio_grant_frames(4095, UINT64_MAX, &n),
			 -EOVERFLOW);
	ck_assert_int_eq(xenvirtio_grant_addr(8, 0, &a), 0);
	ck_assert_int_eq(xenvirtio_grant_range(a, 1ULL << 44, &ref, &off, &n),
			 -EOVERFLOW);
	/* not a grant address, zero length */
	ck_assert_int_eq(xenvirtio_grant_range(0x1000, 1, &ref, &off, &n),
			 -EINVAL);
	ck_assert_int_eq(xenvirtio_grant_range(a, 0, &ref, &off, &n), -EINVAL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("addr");
	TCase *tc = tcase_create("addr");

	tcase_add_test(tc, test_addr_encode_decode);
	tcase_add_test(tc, test_addr_bad_input);
	tcase_add_test(tc, test_G9_frames_are_4k);
	tcase_add_test(tc, test_G2_ref_overflow);
	suite_add_tcase(s, tc);
	return xv_test_run(s);
}
