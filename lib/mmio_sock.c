/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The simulated virtio-mmio transport: the frontend's register accesses
 * travel to the backend as ioreq-shaped request/response messages over a
 * connected unix stream socket. Both ends treat the other as hostile: every
 * message is checked field by field, partial reads and writes are carried
 * over, and every wait is bounded so that a peer that stalls or hangs up
 * produces an error instead of a hang.
 */
#include "mmio_internal.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Requests one process() call answers at most, so that it stays bounded. */
#define SRV_BATCH 64

void xv_mmio_msg_encode(const struct xv_mmio_msg *m,
			uint8_t buf[XENVIRTIO_MMIO_SOCK_MSG_SIZE])
{
	uint64_t a = htole64(m->addr), d = htole64(m->data);
	uint32_t s = htole32(m->seq);

	memcpy(buf, &a, 8);
	memcpy(buf + 8, &d, 8);
	memcpy(buf + 16, &s, 4);
	buf[20] = m->size;
	buf[21] = m->dir;
	buf[22] = m->status;
	buf[23] = m->reserved;
}

void xv_mmio_msg_decode(const uint8_t buf[XENVIRTIO_MMIO_SOCK_MSG_SIZE],
			struct xv_mmio_msg *m)
{
	uint64_t a, d;
	uint32_t s;

	memcpy(&a, buf, 8);
	memcpy(&d, buf + 8, 8);
	memcpy(&s, buf + 16, 4);
	m->addr = le64toh(a);
	m->data = le64toh(d);
	m->seq = le32toh(s);
	m->size = buf[20];
	m->dir = buf[21];
	m->status = buf[22];
	m->reserved = buf[23];
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int wait_fd(int fd, short events, int64_t deadline)
{
	struct pollfd p = {.fd = fd, .events = events};
	int64_t left;
	int r;

	for (;;) {
		left = deadline - now_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		r = poll(&p, 1, (int)XV_MIN(left, 60000));
		if (r > 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return -errno;
	}
}

/* Sends all of @buf by @deadline; partial sends are continued. */
static int send_all(int fd, const uint8_t *buf, size_t len, int64_t deadline)
{
	size_t done = 0;
	ssize_t n;
	int r;

	while (done < len) {
		n = send(fd, buf + done, len - done,
			 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			done += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			return errno == ECONNRESET ? -EPIPE : -errno;
		r = wait_fd(fd, POLLOUT, deadline);
		if (r < 0)
			return r;
	}
	return 0;
}

static bool size_ok(unsigned int size)
{
	return size == 1 || size == 2 || size == 4 || size == 8;
}

/* ------------------------------------------------------------------ */

struct xenvirtio_mmio_sock_server {
	struct xenvirtio_ctx *ctx;
	struct xenvirtio_mmio_dev *dev;
	int fd;
	uint64_t base;
	size_t have;
	uint8_t buf[XENVIRTIO_MMIO_SOCK_MSG_SIZE];
	struct xv_broken broken;
};

XV_EXPORT int xenvirtio_mmio_sock_server_new(
	struct xenvirtio_ctx *ctx, struct xenvirtio_mmio_dev *dev, int fd,
	uint64_t base, struct xenvirtio_mmio_sock_server **out)
{
	struct xenvirtio_mmio_sock_server *srv;

	if (!ctx || !dev || fd < 0 || !out)
		return -EINVAL;
	srv = calloc(1, sizeof(*srv));
	if (!srv)
		return -ENOMEM;
	srv->ctx = ctx;
	srv->dev = dev;
	srv->fd = fd;
	srv->base = base;
	*out = srv;
	return 0;
}

XV_EXPORT void
xenvirtio_mmio_sock_server_free(struct xenvirtio_mmio_sock_server *srv)
{
	if (!srv)
		return;
	close(srv->fd);
	free(srv);
}

XV_EXPORT int
xenvirtio_mmio_sock_server_fd(const struct xenvirtio_mmio_sock_server *srv)
{
	return srv ? srv->fd : -EINVAL;
}

/* Checks a request's format; the register file judges the access. */
static int srv_check(struct xenvirtio_mmio_sock_server *srv,
		     const struct xv_mmio_msg *m)
{
	if (!size_ok(m->size) ||
	    (m->dir != XV_MMIO_DIR_READ && m->dir != XV_MMIO_DIR_WRITE) ||
	    m->status || m->reserved ||
	    (m->dir == XV_MMIO_DIR_WRITE &&
	     (m->data & ~xv_mmio_size_mask(m->size))) ||
	    (m->dir == XV_MMIO_DIR_READ && m->data))
		return xv_break(srv->ctx, &srv->broken, "virtio-mmio socket",
				"malformed request: size %u dir %u status %u "
				"reserved %u data %#llx",
				m->size, m->dir, m->status, m->reserved,
				(unsigned long long)m->data);
	return 0;
}

static int srv_answer(struct xenvirtio_mmio_sock_server *srv, int timeout_ms)
{
	struct xv_mmio_msg m;
	struct xv_mmio_ioreq req;
	int r;

	xv_mmio_msg_decode(srv->buf, &m);
	srv->have = 0;
	r = srv_check(srv, &m);
	if (r < 0)
		return -EPROTO;
	req.addr = m.addr;
	req.data = m.data;
	req.size = m.size;
	req.dir = m.dir;
	r = xv_mmio_dev_ioreq(srv->dev, srv->base, &req);
	m.status = r < 0 ? XV_MMIO_ST_REFUSED : XV_MMIO_ST_DONE;
	if (m.dir == XV_MMIO_DIR_READ)
		m.data = req.data;
	xv_mmio_msg_encode(&m, srv->buf);
	r = send_all(srv->fd, srv->buf, sizeof(srv->buf),
		     now_ms() + XV_MAX(timeout_ms, 0));
	if (r < 0) {
		xv_break(srv->ctx, &srv->broken, "virtio-mmio socket",
			 "cannot send a response: %s", xenvirtio_strerror(r));
		return r;
	}
	return 0;
}

XV_EXPORT int
xenvirtio_mmio_sock_server_process(struct xenvirtio_mmio_sock_server *srv,
				   int timeout_ms)
{
	int answered = 0;
	ssize_t n;
	int r;

	if (!srv)
		return -EINVAL;
	r = xv_broken_check(&srv->broken);
	if (r < 0)
		return r;
	while (answered < SRV_BATCH) {
		n = recv(srv->fd, srv->buf + srv->have,
			 sizeof(srv->buf) - srv->have, MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return answered;
		if (n < 0 && errno != ECONNRESET)
			return -errno;
		if (n <= 0) {
			if (srv->have)
				xv_break(srv->ctx, &srv->broken,
					 "virtio-mmio socket",
					 "client hung up after %zu of %u "
					 "bytes of a request",
					 srv->have,
					 XENVIRTIO_MMIO_SOCK_MSG_SIZE);
			else
				xv_dbg(srv->ctx, "virtio-mmio socket: client "
						 "hung up");
			srv->broken.broken = true;
			return -EPIPE;
		}
		srv->have += (size_t)n;
		if (srv->have < sizeof(srv->buf))
			continue;
		r = srv_answer(srv, timeout_ms);
		if (r < 0)
			return r;
		answered++;
	}
	return answered;
}

/* ------------------------------------------------------------------ */

struct xenvirtio_mmio_sock_client {
	struct xenvirtio_ctx *ctx;
	int fd;
	uint64_t base;
	int timeout_ms;
	uint32_t seq;
	struct xv_broken broken;
};

XV_EXPORT int
xenvirtio_mmio_sock_client_new(struct xenvirtio_ctx *ctx, int fd, uint64_t base,
			       int timeout_ms,
			       struct xenvirtio_mmio_sock_client **out)
{
	struct xenvirtio_mmio_sock_client *cl;

	if (!ctx || fd < 0 || timeout_ms <= 0 || !out)
		return -EINVAL;
	cl = calloc(1, sizeof(*cl));
	if (!cl)
		return -ENOMEM;
	cl->ctx = ctx;
	cl->fd = fd;
	cl->base = base;
	cl->timeout_ms = timeout_ms;
	*out = cl;
	return 0;
}

XV_EXPORT void
xenvirtio_mmio_sock_client_free(struct xenvirtio_mmio_sock_client *cl)
{
	if (!cl)
		return;
	close(cl->fd);
	free(cl);
}

static int cl_break(struct xenvirtio_mmio_sock_client *cl, int err,
		    const char *fmt, ...) XV_PRINTF(3, 4);

static int cl_break(struct xenvirtio_mmio_sock_client *cl, int err,
		    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	xv_vbreak(cl->ctx, &cl->broken, "virtio-mmio socket client", fmt, ap);
	va_end(ap);
	return err;
}

static int recv_all(struct xenvirtio_mmio_sock_client *cl, uint8_t *buf,
		    size_t len, int64_t deadline)
{
	size_t done = 0;
	ssize_t n;
	int r;

	while (done < len) {
		r = wait_fd(cl->fd, POLLIN, deadline);
		if (r == -ETIMEDOUT)
			return cl_break(cl, r,
					"no response in %d ms (%zu of "
					"%zu bytes)",
					cl->timeout_ms, done, len);
		if (r < 0)
			return r;
		n = recv(cl->fd, buf + done, len - done, MSG_DONTWAIT);
		if (n > 0) {
			done += (size_t)n;
			continue;
		}
		if (n < 0 &&
		    (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
			continue;
		if (n < 0 && errno != ECONNRESET)
			return -errno;
		return cl_break(cl, -EPIPE,
				"server hung up after %zu of %zu "
				"bytes of a response",
				done, len);
	}
	return 0;
}

static int roundtrip(struct xenvirtio_mmio_sock_client *cl, uint8_t dir,
		     uint32_t offset, unsigned int size, uint32_t wval,
		     uint32_t *rval)
{
	uint8_t buf[XENVIRTIO_MMIO_SOCK_MSG_SIZE];
	struct xv_mmio_msg q = {0}, a;
	int64_t deadline = now_ms() + cl->timeout_ms;
	int r;

	if ((size != 1 && size != 2 && size != 4) ||
	    (wval & ~xv_mmio_size_mask(size)))
		return -EINVAL;
	r = xv_broken_check(&cl->broken);
	if (r < 0)
		return r;
	q.addr = cl->base + offset;
	q.data = dir == XV_MMIO_DIR_WRITE ? wval : 0;
	q.seq = ++cl->seq;
	q.size = (uint8_t)size;
	q.dir = dir;
	xv_mmio_msg_encode(&q, buf);
	r = send_all(cl->fd, buf, sizeof(buf), deadline);
	if (r < 0)
		return cl_break(cl, r, "cannot send a request: %s",
				xenvirtio_strerror(r));
	r = recv_all(cl, buf, sizeof(buf), deadline);
	if (r < 0)
		return r;
	xv_mmio_msg_decode(buf, &a);
	if (a.seq != q.seq || a.addr != q.addr || a.size != q.size ||
	    a.dir != q.dir || a.reserved ||
	    (a.status != XV_MMIO_ST_DONE && a.status != XV_MMIO_ST_REFUSED) ||
	    (a.data & ~xv_mmio_size_mask(size)) ||
	    (dir == XV_MMIO_DIR_WRITE && a.data != q.data))
		return cl_break(cl, -EPROTO,
				"malformed response to request "
				"%u",
				q.seq);
	if (a.status == XV_MMIO_ST_REFUSED)
		return -EPROTO;
	if (rval)
		*rval = (uint32_t)a.data;
	return 0;
}

XV_EXPORT int
xenvirtio_mmio_sock_client_read(struct xenvirtio_mmio_sock_client *cl,
				uint32_t offset, unsigned int size,
				uint32_t *val)
{
	if (!cl || !val)
		return -EINVAL;
	return roundtrip(cl, XV_MMIO_DIR_READ, offset, size, 0, val);
}

XV_EXPORT int
xenvirtio_mmio_sock_client_write(struct xenvirtio_mmio_sock_client *cl,
				 uint32_t offset, unsigned int size,
				 uint32_t val)
{
	if (!cl)
		return -EINVAL;
	return roundtrip(cl, XV_MMIO_DIR_WRITE, offset, size, val, NULL);
}

static int client_io_read(void *opaque, uint32_t offset, unsigned int size,
			  uint32_t *val)
{
	return xenvirtio_mmio_sock_client_read(opaque, offset, size, val);
}

static int client_io_write(void *opaque, uint32_t offset, unsigned int size,
			   uint32_t val)
{
	return xenvirtio_mmio_sock_client_write(opaque, offset, size, val);
}

static const struct xenvirtio_mmio_drv_io client_io = {
	.read = client_io_read,
	.write = client_io_write,
};

XV_EXPORT const struct xenvirtio_mmio_drv_io *
xenvirtio_mmio_sock_client_io(void)
{
	return &client_io;
}
