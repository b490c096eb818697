/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Context: version, platform selection errors, logging. */
#include "xv-test.h"

static char last_msg[256];
static int log_calls;

static void capture_log(void *opaque, enum xenvirtio_log_level level,
			const char *msg)
{
	(void)level;
	ck_assert_ptr_eq(opaque, &log_calls);
	snprintf(last_msg, sizeof(last_msg), "%s", msg);
	log_calls++;
}

START_TEST(test_version)
{
	ck_assert_str_eq(xenvirtio_version(), PACKAGE_VERSION);
}
END_TEST

START_TEST(test_open_bad_spec)
{
	struct xenvirtio_ctx *ctx = (struct xenvirtio_ctx *)0x1;

	ck_assert_int_eq(xenvirtio_ctx_open("sim:x", NULL), -EINVAL);
	log_calls = 0;
	ck_assert_int_eq(xenvirtio_ctx_open_log("nonsense", capture_log,
						&log_calls, XENVIRTIO_LOG_ERR,
						&ctx),
			 -EINVAL);
	ck_assert_ptr_eq(ctx, (struct xenvirtio_ctx *)0x1);
	ck_assert_int_eq(log_calls, 1);
	ck_assert_msg(strstr(last_msg, "nonsense"), "%s", last_msg);
}
END_TEST

START_TEST(test_open_auto_without_anything)
{
	struct xenvirtio_ctx *ctx = NULL;

	if (access("/dev/xen/gntdev", F_OK) == 0)
		return; /* auto picks Xen here */
	unsetenv("XENVIRTIO_SIM");
	ck_assert_int_eq(xenvirtio_ctx_open("auto", &ctx), -ENODEV);
	ck_assert_ptr_null(ctx);
}
END_TEST

START_TEST(test_strerror)
{
	ck_assert_str_eq(xenvirtio_strerror(-EIO), xenvirtio_strerror(EIO));
	ck_assert_ptr_nonnull(xenvirtio_strerror(-99999));
}
END_TEST

START_TEST(test_null_ctx)
{
	ck_assert_int_eq(xenvirtio_ctx_domid(NULL), -EINVAL);
	ck_assert_ptr_null(xenvirtio_ctx_platform(NULL));
	ck_assert(!xenvirtio_ctx_privileged(NULL));
	xenvirtio_ctx_close(NULL);
	ck_assert_int_eq(xenvirtio_evtchn_notify(NULL, 1), -EINVAL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("context");
	TCase *tc = tcase_create("context");

	tcase_add_test(tc, test_version);
	tcase_add_test(tc, test_open_bad_spec);
	tcase_add_test(tc, test_open_auto_without_anything);
	tcase_add_test(tc, test_strerror);
	tcase_add_test(tc, test_null_ctx);
	suite_add_tcase(s, tc);
	return xv_test_run(s);
}
