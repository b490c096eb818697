/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Helpers shared by the Check test programs.
 *
 * xv_test_log() is a log callback that fails the running test on any message
 * at XENVIRTIO_LOG_ERR unless the test announced it expects errors with
 * xv_test_expect_errors(n) (libevdev's habit: an unexpected error log is a
 * bug). tests/sim-testworld.h gives a test a fresh simulated world.
 */
#ifndef XV_TEST_H
#define XV_TEST_H

#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xenvirtio.h>

static int xv_test_errors_expected;
static int xv_test_errors_seen;

static inline void xv_test_expect_errors(int n)
{
	xv_test_errors_expected = n;
	xv_test_errors_seen = 0;
}

static inline void xv_test_log(void *opaque, enum xenvirtio_log_level level,
			       const char *msg)
{
	(void)opaque;
	if (getenv("XV_TEST_VERBOSE") || level <= XENVIRTIO_LOG_ERR)
		fprintf(stderr, "  log(%d): %s\n", (int)level, msg);
	if (level <= XENVIRTIO_LOG_ERR) {
		xv_test_errors_seen++;
		ck_assert_msg(xv_test_errors_expected < 0 ||
				      xv_test_errors_seen <=
					      xv_test_errors_expected,
			      "unexpected error log: %s", msg);
	}
}

/* Run a suite; the process exit status is the verdict. */
static inline int xv_test_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif /* XV_TEST_H */
