/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Helpers of the blk-backend tests: a simulated world in a temporary
 * directory, the daemon started as a separate process (under valgrind for
 * make check-valgrind), and a minimal well-behaved virtio-blk driver built
 * from the library's driver-side pieces (mmio_drv over the socket client,
 * vq_drv rings in grant memory, the event channel for interrupts).
 *
 * Plain C: a failed check prints where and exits 1 after cleaning up
 * (daemon killed, world destroyed, directory removed); exit 77 = skipped.
 * Every wait is bounded.
 */
#ifndef XV_BLK_TEST_H
#define XV_BLK_TEST_H

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <xenvirtio.h>

#include "../../examples/blk-proto.h"

#define BT_MAX_Q 4
#define BT_BE 0

static char bt_dir[128];
static char bt_world[160];
static pid_t bt_daemon = -1;
static bool bt_under_valgrind;
static bool bt_no_cleanup; /* a forked frontend: the parent cleans up */

/* In a forked child: leave the daemon, world and directory alone. */
static inline void bt_world_keep(void)
{
	bt_no_cleanup = true;
	bt_daemon = -1;
}

static inline void bt_cleanup(void)
{
	char cmd[400];

	if (bt_no_cleanup)
		return;
	if (bt_daemon > 0) {
		kill(bt_daemon, SIGKILL);
		waitpid(bt_daemon, NULL, 0);
		bt_daemon = -1;
	}
	if (bt_world[0]) {
		xenvirtio_sim_world_destroy(bt_world);
		bt_world[0] = '\0';
	}
	if (bt_dir[0] && !getenv("XV_BLK_KEEP")) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", bt_dir);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", bt_dir);
		bt_dir[0] = '\0';
	}
}

static inline void bt_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), noreturn));
static inline void bt_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "FAIL %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	bt_cleanup();
	exit(1);
}

#define BT_CHECK(cond, ...)                                       \
	do {                                                      \
		if (!(cond))                                      \
			bt_fail(__FILE__, __LINE__, __VA_ARGS__); \
	} while (0)
#define BT_OK(expr)                                   \
	do {                                          \
		int bt_r_ = (expr);                   \
		BT_CHECK(bt_r_ >= 0, "%s: %s", #expr, \
			 xenvirtio_strerror(bt_r_));  \
	} while (0)

static inline void bt_alarm(int sig)
{
	(void)sig;
	fprintf(stderr, "FAIL: test took too long\n");
	bt_cleanup();
	_exit(1);
}

static inline int64_t bt_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Timeouts grow under valgrind. */
static inline int bt_ms(int ms)
{
	return bt_under_valgrind ? ms * 8 : ms;
}

static inline void bt_init(unsigned int seconds)
{
	const char *vg = getenv("XV_VALGRIND");
	const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";

	bt_under_valgrind = vg && *vg;
	signal(SIGPIPE, SIG_IGN);
	signal(SIGALRM, bt_alarm);
	alarm(bt_under_valgrind ? seconds * 8 : seconds);
	snprintf(bt_dir, sizeof(bt_dir), "%s/xvblk-XXXXXX", base);
	BT_CHECK(mkdtemp(bt_dir), "mkdtemp: %s", strerror(errno));
	snprintf(bt_world, sizeof(bt_world), "%s/w", bt_dir);
	/* 4 domains of 2048 frames (8 MiB), 4096 grant entries */
	BT_OK(xenvirtio_sim_world_create(bt_world, 4, 2048, 4096));
}

static inline uint8_t bt_pattern(uint32_t seed, uint64_t byte)
{
	uint64_t x = (byte + 1) * 0x9e3779b97f4a7c15ull ^ seed;

	return (uint8_t)(x >> 29);
}

/* An image of @sectors sectors filled with the pattern of @seed. */
static inline void bt_image(const char *name, unsigned int sectors,
			    uint32_t seed, char *path, size_t len)
{
	uint8_t *buf = malloc((size_t)sectors * 512);
	FILE *f;
	size_t i;

	BT_CHECK(buf, "malloc");
	snprintf(path, len, "%s/%s", bt_dir, name);
	for (i = 0; i < (size_t)sectors * 512; i++)
		buf[i] = bt_pattern(seed, i);
	f = fopen(path, "w");
	BT_CHECK(f && fwrite(buf, 512, sectors, f) == sectors, "image %s",
		 path);
	fclose(f);
	free(buf);
}

/*
 * Start the daemon with @args (a NULL-terminated list after the program
 * name); stdout and stderr go to files in the directory. Under valgrind it
 * runs through libtool and valgrind, as tests/run-test.sh runs programs.
 */
static inline void bt_daemon_start(const char *const *args)
{
	const char *top = getenv("XV_TOP_BUILDDIR");
	char prog[512], out[256], err[256], cmd[4096];
	size_t n = 0;
	int i, fd;

	snprintf(prog, sizeof(prog), "%s/examples/blk-backend",
		 top ? top : ".");
	BT_CHECK(access(prog, X_OK) == 0, "no %s", prog);
	if (bt_under_valgrind) {
		const char *lt = getenv("XV_LIBTOOL");

		n = (size_t)snprintf(cmd, sizeof(cmd),
				     "exec %s --mode=execute %s --quiet "
				     "--error-exitcode=3 --leak-check=full "
				     "--errors-for-leak-kinds=definite "
				     "--show-leak-kinds=definite %s",
				     lt && *lt ? lt : "libtool",
				     getenv("XV_VALGRIND"), prog);
	} else {
		n = (size_t)snprintf(cmd, sizeof(cmd), "exec %s", prog);
	}
	for (i = 0; args[i]; i++)
		n += (size_t)snprintf(cmd + n, sizeof(cmd) - n, " '%s'",
				      args[i]);
	BT_CHECK(n < sizeof(cmd), "command too long");
	snprintf(out, sizeof(out), "%s/backend.out", bt_dir);
	snprintf(err, sizeof(err), "%s/backend.err", bt_dir);
	bt_daemon = fork();
	BT_CHECK(bt_daemon >= 0, "fork");
	if (bt_daemon == 0) {
		fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0 || dup2(fd, 1) < 0)
			_exit(126);
		fd = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0 || dup2(fd, 2) < 0)
			_exit(126);
		signal(SIGPIPE, SIG_DFL);
		alarm(0);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
}

/* SIGTERM the daemon; returns its exit status (or -1 if it died). */
static inline int bt_daemon_stop(void)
{
	int st, i;

	BT_CHECK(bt_daemon > 0, "no daemon");
	kill(bt_daemon, SIGTERM);
	for (i = 0; i < bt_ms(10000) / 10; i++) {
		if (waitpid(bt_daemon, &st, WNOHANG) == bt_daemon) {
			bt_daemon = -1;
			return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
		}
		usleep(10000);
	}
	bt_fail(__FILE__, __LINE__, "daemon did not exit after SIGTERM");
}

static inline bool bt_daemon_alive(void)
{
	return bt_daemon > 0 && waitpid(bt_daemon, NULL, WNOHANG) == 0;
}

/* The whole of a file in the directory, NUL-terminated (caller frees). */
static inline char *bt_slurp(const char *name)
{
	char path[256];
	char *buf = NULL;
	size_t len = 0, cap = 0;
	FILE *f;
	int c;

	snprintf(path, sizeof(path), "%s/%s", bt_dir, name);
	f = fopen(path, "r");
	BT_CHECK(f, "open %s", path);
	while ((c = fgetc(f)) != EOF) {
		if (len + 2 > cap) {
			cap = cap ? cap * 2 : 4096;
			buf = realloc(buf, cap);
			BT_CHECK(buf, "realloc");
		}
		buf[len++] = (char)c;
	}
	fclose(f);
	if (!buf)
		buf = calloc(1, 1);
	BT_CHECK(buf, "calloc");
	buf[len] = '\0';
	return buf;
}

static inline int bt_count(const char *text, const char *needle)
{
	int n = 0;

	while ((text = strstr(text, needle))) {
		n++;
		text += strlen(needle);
	}
	return n;
}

/* Lines of the daemon's stderr containing @needle. */
static inline int bt_log_count(const char *needle)
{
	char *log = bt_slurp("backend.err");
	int n = bt_count(log, needle);

	free(log);
	return n;
}

/* Wait (bounded) until the daemon's stderr has @n lines with @needle. */
static inline void bt_log_wait(const char *needle, int n)
{
	int64_t end = bt_now_ms() + bt_ms(3000);
	int c;

	while ((c = bt_log_count(needle)) < n && bt_now_ms() < end)
		usleep(5000);
	BT_CHECK(c == n, "log has %d lines with '%s', expected %d", c, needle,
		 n);
}

/* ------------------------------------------------------------------ */
/* A minimal well-behaved driver                                      */

struct bt_fe {
	struct xenvirtio_ctx *ctx;
	struct xenvirtio_dma *dma;
	struct xenvirtio_mmio_sock_client *cl;
	struct xenvirtio_mmio_drv *drv;
	struct xenvirtio_vq_drv *vq[BT_MAX_Q];
	unsigned int nq, devid;
	int port; /* bound to the device port_devid's */
	unsigned int port_devid;
	uint64_t features;
	uint64_t capacity;
};

static inline void bt_log_quiet(void *opaque, enum xenvirtio_log_level level,
				const char *text)
{
	(void)opaque;
	if (getenv("XV_TEST_VERBOSE"))
		fprintf(stderr, "  fe log(%d): %s\n", (int)level, text);
}

static inline int bt_fe_attach(struct bt_fe *fe, unsigned int domid)
{
	char spec[256];

	memset(fe, 0, sizeof(*fe));
	fe->port = -1;
	snprintf(spec, sizeof(spec), "sim:%s,domid=%u", bt_world, domid);
	return xenvirtio_ctx_open_log(spec, bt_log_quiet, NULL,
				      XENVIRTIO_LOG_DEBUG, &fe->ctx);
}

static inline void bt_fe_key(struct bt_fe *fe, unsigned int devid,
			     const char *name, char *buf, size_t len)
{
	char key[256];
	int64_t end = bt_now_ms() + bt_ms(5000);
	int r;

	blk_store_key(key, sizeof(key), BT_BE,
		      (unsigned int)xenvirtio_ctx_domid(fe->ctx), devid, name);
	while ((r = xenvirtio_store_read(fe->ctx, key, buf, len)) == -ENOENT &&
	       bt_now_ms() < end)
		usleep(10000);
	BT_CHECK(r == 0, "store %s: %s", key, xenvirtio_strerror(r));
}

/* Connect the register socket of device @devid (no initialisation). */
static inline int bt_fe_socket(struct bt_fe *fe, unsigned int devid)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char state[32];
	int fd;

	fe->devid = devid;
	bt_fe_key(fe, devid, "state", state, sizeof(state));
	BT_CHECK(!strcmp(state, "ready"), "state %s", state);
	bt_fe_key(fe, devid, "socket", sa.sun_path, sizeof(sa.sun_path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	BT_CHECK(fd >= 0, "socket");
	BT_CHECK(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0,
		 "connect %s: %s", sa.sun_path, strerror(errno));
	return fd;
}

static inline void bt_fe_regs(struct bt_fe *fe, unsigned int devid)
{
	int fd = bt_fe_socket(fe, devid);

	BT_OK(xenvirtio_mmio_sock_client_new(fe->ctx, fd, blk_mmio_base(devid),
					     bt_ms(5000), &fe->cl));
	BT_OK(xenvirtio_mmio_drv_new(fe->ctx, xenvirtio_mmio_sock_client_io(),
				     fe->cl, &fe->drv));
	if (fe->port > 0 && fe->port_devid != devid) {
		xenvirtio_evtchn_unbind(fe->ctx, (unsigned int)fe->port);
		fe->port = -1;
	}
	if (fe->port < 0) {
		char v[32];

		fe->port_devid = devid;
		bt_fe_key(fe, devid, "event-channel", v, sizeof(v));
		fe->port = xenvirtio_evtchn_bind(fe->ctx, BT_BE,
						 (unsigned int)atoi(v));
		BT_CHECK(fe->port > 0, "bind: %s",
			 xenvirtio_strerror(fe->port));
	}
	if (!fe->dma)
		BT_OK(xenvirtio_dma_open(fe->ctx, BT_BE, &fe->dma));
}

/* Negotiate (grant mode) and return the accepted features. */
static inline uint64_t bt_fe_negotiate(struct bt_fe *fe, bool packed)
{
	uint64_t want =
	    1ULL << XENVIRTIO_F_EVENT_IDX | 1ULL << VIRTIO_BLK_F_SEG_MAX |
	    1ULL << VIRTIO_BLK_F_SIZE_MAX | 1ULL << VIRTIO_BLK_F_BLK_SIZE |
	    1ULL << VIRTIO_BLK_F_FLUSH | 1ULL << VIRTIO_BLK_F_MQ;
	uint32_t id = 0;
	uint64_t cap = 0;

	if (packed)
		want |= 1ULL << XENVIRTIO_F_RING_PACKED;
	BT_OK(xenvirtio_mmio_drv_init(fe->drv, want, true, &id, &fe->features));
	BT_CHECK(id == VIRTIO_ID_BLOCK, "device id %u", id);
	BT_OK(xenvirtio_mmio_drv_config_read(fe->drv, VIRTIO_BLK_CFG_CAPACITY,
					     8, &cap));
	fe->capacity = cap;
	return fe->features;
}

/* A whole well-behaved bring-up: @nq queues of @qsize entries. */
static inline void bt_fe_up(struct bt_fe *fe, unsigned int devid, bool packed,
			    unsigned int nq, unsigned int qsize)
{
	struct xenvirtio_vq_config c;
	unsigned int i;

	bt_fe_regs(fe, devid);
	bt_fe_negotiate(fe, packed);
	BT_CHECK(nq <= BT_MAX_Q, "too many queues");
	for (i = 0; i < nq; i++) {
		BT_OK(xenvirtio_vq_drv_new(fe->ctx, fe->dma, fe->features,
					   qsize, &fe->vq[i]));
		BT_OK(xenvirtio_vq_drv_config(fe->vq[i], &c));
		BT_OK(xenvirtio_mmio_drv_queue_setup(fe->drv, i, c.size,
						     c.desc_addr, c.driver_addr,
						     c.device_addr));
	}
	fe->nq = nq;
	BT_OK(xenvirtio_mmio_drv_driver_ok(fe->drv));
}

/* Hang up: free rings and the connection (the device resets itself). */
static inline void bt_fe_down(struct bt_fe *fe)
{
	unsigned int i;

	if (fe->drv && fe->cl)
		xenvirtio_mmio_drv_reset(fe->drv);
	for (i = 0; i < BT_MAX_Q; i++) {
		xenvirtio_vq_drv_free(fe->vq[i]);
		fe->vq[i] = NULL;
	}
	xenvirtio_mmio_drv_free(fe->drv);
	fe->drv = NULL;
	xenvirtio_mmio_sock_client_free(fe->cl);
	fe->cl = NULL;
	fe->nq = 0;
}

static inline void bt_fe_close(struct bt_fe *fe)
{
	bt_fe_down(fe);
	xenvirtio_dma_close(fe->dma);
	fe->dma = NULL;
	xenvirtio_ctx_close(fe->ctx);
	fe->ctx = NULL;
}

static inline uint32_t bt_status(struct bt_fe *fe)
{
	uint32_t v = 0;

	BT_OK(xenvirtio_mmio_sock_client_read(fe->cl, XENVIRTIO_MMIO_STATUS, 4,
					      &v));
	return v;
}

/* Add one request (buffers must live until it is collected); kick. */
static inline void bt_add(struct bt_fe *fe, unsigned int q,
			  const struct iovec *out, unsigned int nout,
			  const struct iovec *in, unsigned int nin, void *token)
{
	int r;

	BT_OK(xenvirtio_vq_drv_add(fe->vq[q], out, nout, in, nin, token));
	r = xenvirtio_vq_drv_kick_prepare(fe->vq[q]);
	BT_CHECK(r >= 0, "kick_prepare: %s", xenvirtio_strerror(r));
	if (r)
		BT_OK(xenvirtio_mmio_drv_notify(fe->drv, q));
}

/*
 * Collect one completed request of queue @q, waiting for the interrupt
 * (bounded). Returns 1 with *@token, *@len, or 0 on timeout.
 */
static inline int bt_get(struct bt_fe *fe, unsigned int q, void **token,
			 uint32_t *len, int timeout_ms)
{
	int64_t end = bt_now_ms() + timeout_ms;
	struct pollfd p = {.events = POLLIN};
	int r;

	p.fd = xenvirtio_evtchn_fd(fe->ctx);
	BT_CHECK(p.fd >= 0, "evtchn fd");
	for (;;) {
		r = xenvirtio_vq_drv_get(fe->vq[q], token, len);
		BT_CHECK(r >= 0, "vq_drv_get: %s", xenvirtio_strerror(r));
		if (r == 1)
			return 1;
		if (bt_now_ms() >= end)
			return 0;
		if (poll(&p, 1, 20) == 1) {
			uint32_t isr;

			while ((r = xenvirtio_evtchn_pending(fe->ctx)) > 0)
				xenvirtio_evtchn_unmask(fe->ctx,
							(unsigned int)r);
			BT_OK(xenvirtio_mmio_drv_ack_interrupt(fe->drv, &isr));
		}
	}
}

struct bt_req {
	uint8_t hdr[VIRTIO_BLK_HDR_LEN];
	uint8_t status;
};

static inline void bt_hdr(struct bt_req *rq, uint32_t type, uint64_t sector)
{
	int i;

	memset(rq, 0, sizeof(*rq));
	for (i = 0; i < 4; i++)
		rq->hdr[i] = (uint8_t)(type >> (8 * i));
	for (i = 0; i < 8; i++)
		rq->hdr[8 + i] = (uint8_t)(sector >> (8 * i));
	rq->status = 0xee;
}

/* One synchronous request with the ordinary layout; returns the status
 * byte and the used length in *@used. */
static inline int bt_io(struct bt_fe *fe, unsigned int q, uint32_t type,
			uint64_t sector, void *data, uint32_t len,
			uint32_t *used)
{
	struct bt_req rq;
	struct iovec out[2], in[2];
	unsigned int no = 1, ni = 0;
	void *tok = NULL;
	uint32_t l = 0;

	bt_hdr(&rq, type, sector);
	out[0].iov_base = rq.hdr;
	out[0].iov_len = sizeof(rq.hdr);
	if (len && type == VIRTIO_BLK_T_OUT) {
		out[1].iov_base = data;
		out[1].iov_len = len;
		no = 2;
	} else if (len) {
		in[ni].iov_base = data;
		in[ni++].iov_len = len;
	}
	in[ni].iov_base = &rq.status;
	in[ni++].iov_len = 1;
	bt_add(fe, q, out, no, in, ni, &rq);
	BT_CHECK(bt_get(fe, q, &tok, &l, bt_ms(5000)) == 1,
		 "no completion on queue %u", q);
	BT_CHECK(tok == &rq, "wrong token");
	if (used)
		*used = l;
	return rq.status;
}

/* Write then read back @sectors at @sector through queue @q; verify. */
static inline void bt_verified_io(struct bt_fe *fe, unsigned int q,
				  uint64_t sector, unsigned int sectors,
				  uint32_t seed)
{
	size_t len = (size_t)sectors * 512, i;
	uint8_t *w = malloc(len), *r = malloc(len);
	uint32_t used;

	BT_CHECK(w && r, "malloc");
	for (i = 0; i < len; i++)
		w[i] = bt_pattern(seed, sector * 512 + i);
	BT_CHECK(bt_io(fe, q, VIRTIO_BLK_T_OUT, sector, w, (uint32_t)len,
		       &used) == VIRTIO_BLK_S_OK,
		 "write failed");
	memset(r, 0, len);
	BT_CHECK(bt_io(fe, q, VIRTIO_BLK_T_IN, sector, r, (uint32_t)len,
		       &used) == VIRTIO_BLK_S_OK,
		 "read failed");
	BT_CHECK(used == len + 1, "read used length %u", used);
	BT_CHECK(!memcmp(w, r, len), "read back differs at sector %" PRIu64,
		 sector);
	free(w);
	free(r);
}

#endif /* XV_BLK_TEST_H */
