/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * xenvirtio-demo: two processes, two domains, one simulated grant world.
 *
 * The frontend (domain 1) grants a buffer read-only and another read-write
 * to the backend (domain 0) through the DMA layer, and hands over the grant
 * DMA addresses and an event channel port (what a store would carry on
 * Xen). The backend decodes the addresses, maps the grants by ref, checks
 * that the read-only grant refuses a writable map, verifies the request
 * bytes, writes a reply, unmaps and notifies. The frontend verifies the
 * reply, revokes, and the backend proves the revoked grant no longer maps.
 * Nothing is left behind: the world file and its directory are removed.
 *
 * Usage: xenvirtio-demo
 */
#include <errno.h>
#include <stdarg.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <xenvirtio.h>

#define FRONT_DOMID 1
#define BACK_DOMID 0
#define REQ_LEN 10000 /* spans 3 frames: a multi-frame grant run */
#define RSP_LEN 8192
#define MAX_SEGS 8

struct handover {
	int port;
	unsigned int nreq, nrsp;
	struct xenvirtio_dma_seg req[MAX_SEGS];
	struct xenvirtio_dma_seg rsp[MAX_SEGS];
};

static void say(const char *who, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void say(const char *who, const char *fmt, ...)
{
	va_list ap;

	printf("%-8s ", who);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static int fail(const char *who, const char *what, int err)
{
	fprintf(stderr, "%s: %s: %s\n", who, what, xenvirtio_strerror(err));
	return 1;
}

static int full_io(int fd, void *buf, size_t len, int writing)
{
	char *p = buf;

	while (len) {
		ssize_t n = writing ? write(fd, p, len) : read(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -EPIPE;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static unsigned char req_byte(size_t i)
{
	return (unsigned char)(i * 7 + 3);
}

static unsigned char rsp_byte(size_t i)
{
	return (unsigned char)(req_byte(i % REQ_LEN) ^ 0x5a);
}

/*
 * Map one segment (a grant DMA address + length) by its refs.
 * Returns the host address of the segment's first byte in *host.
 */
static int map_seg(struct xenvirtio_ctx *ctx, const struct xenvirtio_dma_seg *s,
		   int writable, void **base, uint32_t *nframes,
		   unsigned char **host)
{
	uint32_t ref, off, n, refs[64];
	uint32_t i;
	int r;

	r = xenvirtio_grant_range(s->addr, s->len, &ref, &off, &n);
	if (r < 0)
		return r;
	if (n > 64)
		return -E2BIG;
	for (i = 0; i < n; i++)
		refs[i] = ref + i;
	r = xenvirtio_gnttab_map(ctx, FRONT_DOMID, n, refs, writable, base);
	if (r < 0)
		return r;
	*nframes = n;
	*host = (unsigned char *)*base + off;
	return 0;
}

static int backend(const char *world, int rfd, int wfd)
{
	char spec[512];
	struct xenvirtio_ctx *ctx;
	struct handover h;
	unsigned char *host;
	size_t done = 0;
	uint32_t n;
	void *base;
	char go;
	int port, r;
	unsigned int i;

	snprintf(spec, sizeof(spec), "sim:%s,domid=%d", world, BACK_DOMID);
	r = xenvirtio_ctx_open_log(spec, xenvirtio_log_stderr,
				   (void *)"backend", XENVIRTIO_LOG_ERR, &ctx);
	if (r < 0)
		return fail("backend", "open the world", r);
	if (full_io(rfd, &h, sizeof(h), 0) < 0)
		return fail("backend", "read the handover", -EPIPE);
	port = xenvirtio_evtchn_bind(ctx, FRONT_DOMID, (unsigned int)h.port);
	if (port < 0)
		return fail("backend", "bind the event channel", port);

	for (i = 0; i < h.nreq; i++) {
		/* G3: the request was granted read-only. */
		r = map_seg(ctx, &h.req[i], 1, &base, &n, &host);
		if (r != -EPERM) {
			fprintf(stderr, "backend: writable map of a read-only "
					"grant gave %d, not -EPERM\n", r);
			return 1;
		}
		r = map_seg(ctx, &h.req[i], 0, &base, &n, &host);
		if (r < 0)
			return fail("backend", "map the request", r);
		for (size_t j = 0; j < h.req[i].len; j++, done++)
			if (host[j] != req_byte(done)) {
				fprintf(stderr, "backend: request byte %zu "
						"differs\n", done);
				return 1;
			}
		say("backend", "mapped request segment %u: %u frame(s) "
			       "read-only (a writable map was refused), "
			       "%u bytes verified", i, n, h.req[i].len);
		xenvirtio_gnttab_unmap(ctx, base, n);
	}
	done = 0;
	for (i = 0; i < h.nrsp; i++) {
		r = map_seg(ctx, &h.rsp[i], 1, &base, &n, &host);
		if (r < 0)
			return fail("backend", "map the response", r);
		for (size_t j = 0; j < h.rsp[i].len; j++)
			host[j] = rsp_byte(done++);
		xenvirtio_gnttab_unmap(ctx, base, n);
		say("backend", "wrote response segment %u: %u frame(s) "
			       "read-write, %u bytes", i, n, h.rsp[i].len);
	}
	/* Unmapped before the frontend hears of it, as a used ring demands. */
	r = xenvirtio_evtchn_notify(ctx, (unsigned int)port);
	if (r < 0)
		return fail("backend", "notify", r);

	/* The frontend revokes, then tells us to try again. */
	if (full_io(rfd, &go, 1, 0) < 0)
		return fail("backend", "wait for the revocation", -EPIPE);
	r = map_seg(ctx, &h.req[0], 0, &base, &n, &host);
	if (r >= 0) {
		fprintf(stderr, "backend: a revoked grant still maps\n");
		return 1;
	}
	say("backend", "after revocation the grant no longer maps (%s)",
	    xenvirtio_strerror(r));
	go = 'k';
	full_io(wfd, &go, 1, 1);
	xenvirtio_evtchn_unbind(ctx, (unsigned int)port);
	xenvirtio_ctx_close(ctx);
	return 0;
}

static int wait_event(struct xenvirtio_ctx *ctx, int port, int timeout_ms)
{
	struct pollfd pfd = { .fd = xenvirtio_evtchn_fd(ctx), .events = POLLIN };
	int r;

	if (pfd.fd < 0)
		return pfd.fd;
	for (;;) {
		r = xenvirtio_evtchn_pending(ctx);
		if (r == port)
			return xenvirtio_evtchn_unmask(ctx, (unsigned int)port);
		if (r >= 0)
			continue;
		if (r != -EAGAIN)
			return r;
		r = poll(&pfd, 1, timeout_ms);
		if (r == 0)
			return -ETIMEDOUT;
		if (r < 0 && errno != EINTR)
			return -errno;
	}
}

static int frontend(const char *world, int wfd, int rfd)
{
	char spec[512];
	struct xenvirtio_ctx *ctx;
	struct xenvirtio_dma *dma;
	struct handover h = { 0 };
	unsigned char *req, *rsp;
	struct timespec t0, t1;
	size_t i;
	char go;
	int r;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	snprintf(spec, sizeof(spec), "sim:%s,domid=%d", world, FRONT_DOMID);
	r = xenvirtio_ctx_open_log(spec, xenvirtio_log_stderr,
				   (void *)"frontend", XENVIRTIO_LOG_ERR, &ctx);
	if (r < 0)
		return fail("frontend", "open the world", r);
	r = xenvirtio_dma_open(ctx, BACK_DOMID, &dma);
	if (r < 0)
		return fail("frontend", "open DMA", r);

	/* Ordinary heap memory: the DMA layer bounces it through grants. */
	req = malloc(REQ_LEN);
	rsp = calloc(1, RSP_LEN);
	if (!req || !rsp)
		return fail("frontend", "allocate buffers", -ENOMEM);
	for (i = 0; i < REQ_LEN; i++)
		req[i] = req_byte(i);

	r = xenvirtio_dma_map(dma, req, REQ_LEN, XENVIRTIO_DMA_TO_DEVICE,
			      h.req, MAX_SEGS);
	if (r < 0)
		return fail("frontend", "map the request", r);
	h.nreq = (unsigned int)r;
	r = xenvirtio_dma_map(dma, rsp, RSP_LEN, XENVIRTIO_DMA_FROM_DEVICE,
			      h.rsp, MAX_SEGS);
	if (r < 0)
		return fail("frontend", "map the response", r);
	h.nrsp = (unsigned int)r;
	h.port = xenvirtio_evtchn_alloc_unbound(ctx, BACK_DOMID);
	if (h.port < 0)
		return fail("frontend", "allocate an event channel", h.port);
	for (i = 0; i < h.nreq; i++)
		say("frontend", "granted request  %u bytes read-only  at "
				"DMA address 0x%016llx", h.req[i].len,
		    (unsigned long long)h.req[i].addr);
	for (i = 0; i < h.nrsp; i++)
		say("frontend", "granted response %u bytes read-write at "
				"DMA address 0x%016llx", h.rsp[i].len,
		    (unsigned long long)h.rsp[i].addr);
	if (full_io(wfd, &h, sizeof(h), 1) < 0)
		return fail("frontend", "hand over", -EPIPE);

	r = wait_event(ctx, h.port, 10000);
	if (r < 0)
		return fail("frontend", "wait for the backend", r);
	/* Revokes the grants and copies the response back from the bounce. */
	r = xenvirtio_dma_unmap(dma, h.rsp, h.nrsp, XENVIRTIO_DMA_FROM_DEVICE);
	if (r < 0)
		return fail("frontend", "unmap the response", r);
	r = xenvirtio_dma_unmap(dma, h.req, h.nreq, XENVIRTIO_DMA_TO_DEVICE);
	if (r < 0)
		return fail("frontend", "unmap the request", r);
	for (i = 0; i < RSP_LEN; i++)
		if (rsp[i] != rsp_byte(i)) {
			fprintf(stderr, "frontend: response byte %zu differs\n",
				i);
			return 1;
		}
	say("frontend", "response verified (%d bytes), all grants revoked",
	    RSP_LEN);

	go = 'r';
	if (full_io(wfd, &go, 1, 1) < 0 || full_io(rfd, &go, 1, 0) < 0)
		return fail("frontend", "final handshake", -EPIPE);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	say("summary", "%d request + %d response bytes verified across two "
		       "processes; read-only enforced; revocation checked; "
		       "%.1f ms; DMA maps %lld, bounced frames %lld, leaked %lld",
	    REQ_LEN, RSP_LEN,
	    (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
		    (double)(t1.tv_nsec - t0.tv_nsec) / 1e6,
	    (long long)xenvirtio_dma_counter(dma, XENVIRTIO_DMA_CNT_MAPS),
	    (long long)xenvirtio_dma_counter(dma,
					     XENVIRTIO_DMA_CNT_BOUNCE_FRAMES),
	    (long long)xenvirtio_dma_counter(dma,
					     XENVIRTIO_DMA_CNT_LEAKED_FRAMES));
	free(req);
	free(rsp);
	xenvirtio_evtchn_unbind(ctx, (unsigned int)h.port);
	xenvirtio_dma_close(dma);
	xenvirtio_ctx_close(ctx);
	return 0;
}

int main(int argc, char **argv)
{
	char dir[] = "/tmp/xenvirtio-demo.XXXXXX";
	char world[sizeof(dir) + 16];
	int f2b[2], b2f[2], status = 0, rc, r;
	pid_t pid;

	if (argc > 1) {
		fprintf(stderr, "usage: %s\n", argv[0]);
		return 2;
	}
	/* A closed stdout (| head) must not stop the cleanup below. */
	signal(SIGPIPE, SIG_IGN);
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(world, sizeof(world), "%s/world", dir);
	r = xenvirtio_sim_world_create(world, 2, 256, 1024);
	if (r < 0) {
		rmdir(dir);
		return fail("demo", "create the world", r);
	}
	say("demo", "libxenvirtio %s: simulated grant world %s, "
		    "frontend = domain %d, backend = domain %d",
	    xenvirtio_version(), world, FRONT_DOMID, BACK_DOMID);
	if (pipe(f2b) < 0 || pipe(b2f) < 0) {
		perror("pipe");
		return 1;
	}
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		perror("fork");
		return 1;
	}
	if (pid == 0) {
		/* A fresh process opens its own context after fork(). */
		close(f2b[1]);
		close(b2f[0]);
		_exit(backend(world, f2b[0], b2f[1]));
	}
	close(f2b[0]);
	close(b2f[1]);
	rc = frontend(world, f2b[1], b2f[0]);
	close(f2b[1]);
	close(b2f[0]);
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		rc = 1;
	xenvirtio_sim_world_destroy(world);
	rmdir(dir);
	say("demo", "%s", rc ? "FAILED" : "OK: nothing left behind");
	return rc;
}
