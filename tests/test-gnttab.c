/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The public raw grant map API (xenvirtio/gnttab.h) on the sim platform. */
#include "xv-test.h"

#define FRONT 1
#define BACK 0

static char dir[64], path[96];
static struct xenvirtio_ctx *front, *back;
static struct xenvirtio_dma *dma;

static void setup(void)
{
	char spec[200];

	xv_test_expect_errors(0);
	snprintf(dir, sizeof(dir), "/tmp/xvgnttab-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/w", dir);
	ck_assert_int_eq(xenvirtio_sim_world_create(path, 3, 64, 256), 0);
	snprintf(spec, sizeof(spec), "sim:%s,domid=%d", path, BACK);
	ck_assert_int_eq(xenvirtio_ctx_open_log(spec, xv_test_log, NULL,
						XENVIRTIO_LOG_ERR, &back),
			 0);
	snprintf(spec, sizeof(spec), "sim:%s,domid=%d", path, FRONT);
	ck_assert_int_eq(xenvirtio_ctx_open_log(spec, xv_test_log, NULL,
						XENVIRTIO_LOG_ERR, &front),
			 0);
	ck_assert_int_eq(xenvirtio_dma_open(front, BACK, &dma), 0);
}

static void teardown(void)
{
	xenvirtio_dma_close(dma);
	xenvirtio_ctx_close(front);
	xenvirtio_ctx_close(back);
	xenvirtio_sim_world_destroy(path);
	rmdir(dir);
}

/* Grants a 2-frame buffer; refs[] gets its refs. */
static void grant2(enum xenvirtio_dma_dir dir_, struct xenvirtio_dma_seg *seg,
		   uint32_t refs[2], unsigned char *buf)
{
	uint32_t ref, off, n;

	ck_assert_int_eq(xenvirtio_dma_map(dma, buf, 8192, dir_, seg, 1), 1);
	ck_assert_int_eq(xenvirtio_grant_range(seg->addr, seg->len, &ref, &off,
					       &n),
			 0);
	ck_assert_uint_eq(n, 2);
	refs[0] = ref;
	refs[1] = ref + 1;
}

START_TEST(test_G3_gnttab_readonly_refuses_writable)
{
	static unsigned char buf[8192] __attribute__((aligned(4096)));
	struct xenvirtio_dma_seg seg;
	uint32_t refs[2];
	void *va = (void *)0x1;

	memset(buf, 0xa5, sizeof(buf));
	grant2(XENVIRTIO_DMA_TO_DEVICE, &seg, refs, buf);
	ck_assert_int_eq(xenvirtio_gnttab_map(back, FRONT, 2, refs, true, &va),
			 -EPERM);
	ck_assert_ptr_eq(va, (void *)0x1);
	ck_assert_int_eq(xenvirtio_gnttab_map(back, FRONT, 2, refs, false, &va),
			 0);
	ck_assert_uint_eq(((unsigned char *)va)[0], 0xa5);
	ck_assert_uint_eq(((unsigned char *)va)[8191], 0xa5);
	ck_assert_int_eq(xenvirtio_gnttab_unmap(back, va, 2), 0);
	ck_assert_int_eq(xenvirtio_dma_unmap(dma, &seg, 1,
					     XENVIRTIO_DMA_TO_DEVICE),
			 0);
}
END_TEST

START_TEST(test_gnttab_readwrite_reaches_frontend)
{
	static unsigned char buf[8192] __attribute__((aligned(4096)));
	struct xenvirtio_dma_seg seg;
	uint32_t refs[2];
	void *va;

	grant2(XENVIRTIO_DMA_FROM_DEVICE, &seg, refs, buf);
	ck_assert_int_eq(xenvirtio_gnttab_map(back, FRONT, 2, refs, true, &va),
			 0);
	memset(va, 0x3c, 8192);
	ck_assert_int_eq(xenvirtio_gnttab_unmap(back, va, 2), 0);
	ck_assert_int_eq(xenvirtio_dma_unmap(dma, &seg, 1,
					     XENVIRTIO_DMA_FROM_DEVICE),
			 0);
	ck_assert_uint_eq(buf[0], 0x3c);
	ck_assert_uint_eq(buf[8191], 0x3c);
}
END_TEST

START_TEST(test_gnttab_bad_arguments)
{
	uint32_t ref = 8;
	void *va = NULL;

	ck_assert_int_eq(xenvirtio_gnttab_map(NULL, FRONT, 1, &ref, 0, &va),
			 -EINVAL);
	ck_assert_int_eq(xenvirtio_gnttab_map(back, FRONT, 0, &ref, 0, &va),
			 -EINVAL);
	ck_assert_int_eq(xenvirtio_gnttab_map(back, FRONT, 1, NULL, 0, &va),
			 -EINVAL);
	ck_assert_int_eq(xenvirtio_gnttab_map(back, 70000, 1, &ref, 0, &va),
			 -EINVAL);
	ck_assert_int_eq(xenvirtio_gnttab_map(back, FRONT, 65537, &ref, 0,
					      &va),
			 -EINVAL);
	ck_assert_int_eq(xenvirtio_gnttab_unmap(back, NULL, 1), -EINVAL);
}
END_TEST

/* G5: a ref that was never granted fails cleanly, nothing stays mapped. */
START_TEST(test_G5_gnttab_ungranted_ref_fails)
{
	static unsigned char buf[8192] __attribute__((aligned(4096)));
	struct xenvirtio_dma_seg seg;
	uint32_t refs[2];
	void *va = NULL;
	int r;

	grant2(XENVIRTIO_DMA_TO_DEVICE, &seg, refs, buf);
	refs[1] = refs[0] + 100; /* not granted */
	r = xenvirtio_gnttab_map(back, FRONT, 2, refs, false, &va);
	ck_assert_int_lt(r, 0);
	ck_assert_ptr_null(va);
	/* refs[0] is not left busy: the frontend can revoke it */
	ck_assert_int_eq(xenvirtio_dma_unmap(dma, &seg, 1,
					     XENVIRTIO_DMA_TO_DEVICE),
			 0);
	ck_assert_int_eq(xenvirtio_dma_broken(dma), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("gnttab");
	TCase *tc = tcase_create("gnttab");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_G3_gnttab_readonly_refuses_writable);
	tcase_add_test(tc, test_gnttab_readwrite_reaches_frontend);
	tcase_add_test(tc, test_gnttab_bad_arguments);
	tcase_add_test(tc, test_G5_gnttab_ungranted_ref_fails);
	suite_add_tcase(s, tc);
	return xv_test_run(s);
}
