/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A fresh simulated world per test, for any Check program: include after
 * "xv-test.h". The world lives in a new directory on tmpfs (/dev/shm) when
 * there is one, so its frames never reach a disk; XV_SIM_DIR overrides.
 *
 *	struct xv_sim_test_world w;
 *
 *	xv_sim_test_world_create(&w, 4, 256, 1024);
 *	... xenvirtio_ctx_open(w.spec0, ...) or "sim:" + w.path + ",domid=N"
 *	xv_sim_test_world_destroy(&w);
 */
#ifndef XV_SIM_TESTWORLD_H
#define XV_SIM_TESTWORLD_H

#include <unistd.h>

struct xv_sim_test_world {
	char dir[80];
	char path[96];
};

static inline const char *xv_sim_tmpdir(void)
{
	const char *d = getenv("XV_SIM_DIR");

	if (d && *d)
		return d;
	return access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
}

static inline void xv_sim_test_world_create(struct xv_sim_test_world *w,
					    unsigned int domains,
					    unsigned int frames,
					    unsigned int entries)
{
	int r;

	ck_assert_int_lt(snprintf(w->dir, sizeof(w->dir), "%s/xvsim-XXXXXX",
				  xv_sim_tmpdir()),
			 (int)sizeof(w->dir));
	ck_assert_msg(mkdtemp(w->dir) != NULL, "mkdtemp %s", w->dir);
	snprintf(w->path, sizeof(w->path), "%s/w", w->dir);
	r = xenvirtio_sim_world_create(w->path, domains, frames, entries);
	ck_assert_msg(r == 0, "world %s: %s", w->path, xenvirtio_strerror(r));
}

static inline void xv_sim_test_world_destroy(struct xv_sim_test_world *w)
{
	xenvirtio_sim_world_destroy(w->path);
	rmdir(w->dir);
}

#endif /* XV_SIM_TESTWORLD_H */
