/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sim-world: manage a simulated grant world from scripts (multi-process
 * tests, examples run on sim).
 *
 *   sim-world create PATH [DOMAINS [FRAMES [ENTRIES]]]
 *   sim-world destroy PATH
 *   sim-world store PATH KEY [VALUE]   (no VALUE: delete KEY)
 *   sim-world reap PATH                (prints the mappings released)
 *   sim-world lock-free PATH           (exit 0 if no process holds the
 *                                       world's lock for 100 ms, else 1)
 *
 * Defaults for create: 8 domains, 4096 frames (16 MiB) and 32768 grant
 * entries (Xen's default) per domain. store and reap attach briefly as the
 * first free domain. Exit status 0 on success, 1 on failure, 2 on usage.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <xenvirtio.h>

#include "sim_world.h"

static int usage(void)
{
	fprintf(stderr,
		"usage: sim-world create PATH [DOMAINS [FRAMES [ENTRIES]]]\n"
		"       sim-world destroy PATH\n"
		"       sim-world store PATH KEY [VALUE]\n"
		"       sim-world reap PATH\n"
		"       sim-world lock-free PATH\n");
	return 2;
}

static int number(const char *s, unsigned int *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || end == s || *end || v > 0xffffffffu)
		return -1;
	*out = (unsigned int)v;
	return 0;
}

static int fail(const char *what, int r)
{
	fprintf(stderr, "sim-world: %s: %s\n", what, xenvirtio_strerror(r));
	return 1;
}

/*
 * Whether the world's lock can be taken within 100 ms (without attaching,
 * which takes the lock). For tests that stop a process with SIGSTOP: a
 * process stopped inside the lock stalls every domain of the world (the
 * simulated hypervisor stops with it; Xen's does not), so they stop it
 * again until it is outside. 0 free, 1 held, 2 error.
 */
static int lock_free(const char *path)
{
	struct xv_sim_hdr *h;
	struct timespec ts;
	struct stat st;
	int fd = open(path, O_RDWR), r;

	if (fd < 0) {
		perror(path);
		return 2;
	}
	if (fstat(fd, &st) < 0 || st.st_size < (off_t)sizeof(*h)) {
		close(fd);
		fprintf(stderr, "sim-world: %s: not a world\n", path);
		return 2;
	}
	h = mmap(NULL, sizeof(*h), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (h == MAP_FAILED || h->magic != XV_SIM_MAGIC) {
		if (h != MAP_FAILED)
			munmap(h, sizeof(*h));
		fprintf(stderr, "sim-world: %s: not a world\n", path);
		return 2;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += 100 * 1000 * 1000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	r = pthread_mutex_timedlock(&h->lock, &ts);
	if (r == EOWNERDEAD)
		pthread_mutex_consistent(&h->lock);
	if (r == 0 || r == EOWNERDEAD)
		pthread_mutex_unlock(&h->lock);
	munmap(h, sizeof(*h));
	return r == 0 || r == EOWNERDEAD ? 0 : 1;
}

static int attach(const char *path, struct xenvirtio_ctx **ctx)
{
	char spec[4200];

	if (snprintf(spec, sizeof(spec), "sim:%s", path) >= (int)sizeof(spec))
		return -ENAMETOOLONG;
	return xenvirtio_ctx_open_log(spec, xenvirtio_log_stderr,
				      (void *)"sim-world", XENVIRTIO_LOG_ERR,
				      ctx);
}

int main(int argc, char **argv)
{
	struct xenvirtio_ctx *ctx;
	int r;

	if (argc < 3)
		return usage();
	if (!strcmp(argv[1], "create")) {
		unsigned int v[3] = {8, 4096, 32768};
		int i;

		if (argc > 6)
			return usage();
		for (i = 3; i < argc; i++)
			if (number(argv[i], &v[i - 3]) < 0)
				return usage();
		r = xenvirtio_sim_world_create(argv[2], v[0], v[1], v[2]);
		return r < 0 ? fail("create", r) : 0;
	}
	if (!strcmp(argv[1], "destroy")) {
		if (argc != 3)
			return usage();
		r = xenvirtio_sim_world_destroy(argv[2]);
		return r < 0 ? fail("destroy", r) : 0;
	}
	if (!strcmp(argv[1], "store")) {
		if (argc != 4 && argc != 5)
			return usage();
		r = attach(argv[2], &ctx);
		if (r < 0)
			return fail("attach", r);
		r = xenvirtio_sim_store_write(ctx, argv[3],
					      argc == 5 ? argv[4] : NULL);
		xenvirtio_ctx_close(ctx);
		return r < 0 ? fail("store", r) : 0;
	}
	if (!strcmp(argv[1], "lock-free")) {
		if (argc != 3)
			return usage();
		return lock_free(argv[2]);
	}
	if (!strcmp(argv[1], "reap")) {
		if (argc != 3)
			return usage();
		r = attach(argv[2], &ctx);
		if (r < 0)
			return fail("attach", r);
		r = xenvirtio_sim_reap(ctx);
		xenvirtio_ctx_close(ctx);
		if (r < 0)
			return fail("reap", r);
		printf("%d\n", r);
		return 0;
	}
	return usage();
}
