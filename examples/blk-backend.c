/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * blk-backend: a virtio-blk device daemon serving disk image files to
 * guests (frontend domains), one virtio-mmio device per --device.
 *
 * What a backend author would copy, step by step:
 *
 *  1. Open a context on the platform (real Xen or the simulated world).
 *  2. Per device: ask the policy whether the guest's DMA goes through
 *     grants (grant mapper) or guest-physical addresses (foreign mapper,
 *     privileged backends only); open the mapper for that guest.
 *  3. Create the virtio-mmio register file (device ID 2, the blk features,
 *     the configuration space) and one device-side virtqueue per queue.
 *  4. Allocate an event channel port for the guest (its interrupt), listen
 *     on a unix socket (the simulated ioreq transport: register accesses
 *     arrive as messages, QueueNotify writes are the kicks) and publish
 *     both in the store, "state" last.
 *  5. Loop: poll the listening sockets, the connections and a signalfd.
 *     Register accesses go to the register file, whose callbacks enable
 *     and reset the virtqueues; kicked queues are drained (pop, check the
 *     request, pread/pwrite the image, status byte, push) and the guest is
 *     interrupted when the ring says so.
 *  6. A peer's fault never stops the daemon: a bad request gets an error
 *     status, a broken ring or register protocol makes the device need a
 *     reset (one log line), a hang-up resets the device and the next
 *     connection is accepted.
 *  7. SIGINT/SIGTERM: release every mapping, delete the store keys, unlink
 *     the sockets, print one summary line per device, exit 0.
 *
 * Single-threaded; nothing blocks for long: image I/O is synchronous (a
 * request is completed before the next is popped), socket replies wait at
 * most XV_BLK_REPLY_MS, and a client that stalls in the middle of a
 * message is dropped after --stall-timeout-ms.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <xenvirtio.h>

#include "blk-proto.h"

#define PROG "blk-backend"

#define MAX_DEVICES 16
#define MAX_QUEUES 16
#define DEFAULT_QUEUE_SIZE 256
#define SEG_MAX 32u	      /* data segments per request (config seg_max) */
#define SIZE_MAX_SEG 65536u   /* bytes per data segment (config size_max) */
#define IOV_CAP (SEG_MAX + 8) /* + header and status, possibly split */
#define BATCH 64	      /* requests per queue per loop pass (fairness) */
#define XV_BLK_REPLY_MS 100   /* bound on sending one register reply */
#define RETRY_MS 5	      /* backpressure: poll again after this */
/* Grant-copy the 16-byte header and the status byte instead of mapping
 * them: with the data in one batched map, a request costs one map call. */
#define DEFAULT_COPY_THRESHOLD 16

/* Exit codes (in --help too): a bad option is a setup error, as the blk
 * examples agree. */
enum { EXIT_OK = 0, EXIT_SETUP = 1 };

enum dev_mode { MODE_AUTO, MODE_GRANT, MODE_FOREIGN };

struct blk_dev;

struct blk_queue {
	struct blk_dev *dev;
	unsigned int index;
	struct xenvirtio_vq *vq;
	bool ready;	  /* enabled by queue_ready, not yet reset */
	bool kicked;	  /* a kick wants a pass */
	bool backoff;	  /* backpressure: try again in RETRY_MS */
	bool broken_seen; /* the ring broke; reset owed */
	struct iovec iov[IOV_CAP];
};

struct blk_stats {
	uint64_t requests; /* chains popped (answered or retired) */
	uint64_t bad;	   /* answered with an error status, or retired */
};

struct blk_dev {
	/* from the command line */
	unsigned int fe, devid, nqueues, qsize;
	enum dev_mode mode;
	bool readonly;
	const char *image;

	/* set up */
	int img_fd;
	uint64_t capacity; /* sectors */
	bool grants;
	char reason[XENVIRTIO_POLICY_REASON_LEN + 64];
	struct xenvirtio_mapper *mapper;
	struct xenvirtio_mmio_dev *mmio;
	struct blk_queue q[MAX_QUEUES];
	int port; /* event channel (interrupt), -1 if none */
	int listen_fd;
	char sock_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	bool published;

	/* the current connection */
	struct xenvirtio_mmio_sock_server *srv;
	int64_t stall_since; /* a partial message is waiting since (ms) */
	long partial;	     /* bytes of it the server holds (estimate) */
	bool broken_logged;  /* one log line per breakage */
	char last_err[256];  /* first library message of this operation */

	struct blk_stats st;
};

struct backend {
	struct xenvirtio_ctx *ctx;
	struct xenvirtio_policy *pol;
	struct blk_dev dev[MAX_DEVICES];
	unsigned int ndev;
	unsigned int be_domid;
	const char *platform;
	const char *socket_dir;
	const char *policy_params;
	uint32_t copy_threshold;
	uint32_t quota_frames;	 /* G8: per-guest limits, 0 = none */
	uint32_t quota_requests;
	enum xenvirtio_mapper_strategy strategy;
	int stall_ms;
	bool verbose;
	int sig_fd;
	struct blk_dev *cur;  /* device whose objects are being called */
	char world[PATH_MAX]; /* simulated world file, "" on Xen */
	long base_frames;     /* guest frames mapped before any device */
};

static struct backend B;

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void msg(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, PROG ": ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void dev_msg(const struct blk_dev *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void dev_msg(const struct blk_dev *d, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, PROG ": device %u/%u: ", d->fe, d->devid);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/*
 * The library logs through this callback. The first warning or error of
 * the operation in progress is remembered for the device being served: it
 * says why, when the daemon prints its own single line for a device that
 * broke. Everything is printed with --verbose.
 */
static void lib_log(void *opaque, enum xenvirtio_log_level level,
		    const char *text)
{
	(void)opaque;
	if (B.cur && level <= XENVIRTIO_LOG_WARNING && !B.cur->last_err[0])
		snprintf(B.cur->last_err, sizeof(B.cur->last_err), "%s", text);
	if (B.verbose)
		fprintf(stderr, PROG ": lib: %s\n", text);
}

/* ------------------------------------------------------------------ */
/* Guest frames this process maps, for the "mapped now" figure.        */

/*
 * Counts the pages of guest memory mapped into this process: mappings of
 * the simulated world file (minus the world's own tables, measured before
 * any device existed), or of Xen's gntdev/privcmd devices. Independent of
 * the library's own bookkeeping, so a leak anywhere shows.
 */
static long mapped_guest_pages(void)
{
	char line[PATH_MAX + 128];
	long pages = 0;
	FILE *f = fopen("/proc/self/maps", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;
		char *path = strchr(line, '/');
		size_t n;

		if (!path || sscanf(line, "%lx-%lx", &lo, &hi) != 2)
			continue;
		n = strcspn(path, "\n");
		path[n] = '\0';
		if ((B.world[0] && !strncmp(path, B.world, strlen(B.world)) &&
		     (path[strlen(B.world)] == '\0' ||
		      path[strlen(B.world)] == ' ')) ||
		    !strcmp(path, "/dev/xen/gntdev") ||
		    !strcmp(path, "/dev/xen/privcmd"))
			pages += (long)((hi - lo) / 4096);
	}
	fclose(f);
	return pages;
}

/* ------------------------------------------------------------------ */
/* Requests                                                            */

static void le32_put(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint32_t le32_get(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t le64_get(const uint8_t *p)
{
	return (uint64_t)le32_get(p) | (uint64_t)le32_get(p + 4) << 32;
}

/*
 * The bytes [@off, @off + @len) of the iovec range @iov[0 .. @n) as a new
 * iovec array in @out (at most @cap entries). Returns the entry count, or
 * -1 if the range does not fit. Each entry is also checked against
 * size_max.
 */
static int iov_slice(const struct iovec *iov, unsigned int n, uint64_t off,
		     uint64_t len, struct iovec *out, unsigned int cap,
		     bool *too_big)
{
	unsigned int i, k = 0;

	*too_big = false;
	for (i = 0; i < n && len; i++) {
		uint64_t l = iov[i].iov_len;

		if (off >= l) {
			off -= l;
			continue;
		}
		if (k == cap)
			return -1;
		out[k].iov_base = (uint8_t *)iov[i].iov_base + off;
		out[k].iov_len = (size_t)(l - off < len ? l - off : len);
		if (out[k].iov_len > SIZE_MAX_SEG)
			*too_big = true;
		len -= out[k].iov_len;
		off = 0;
		k++;
	}
	return len ? -1 : (int)k;
}

/* preadv/pwritev the whole @iov at byte @pos of the image. */
static int image_io(int fd, struct iovec *iov, int n, uint64_t pos, bool write)
{
	while (n > 0) {
		ssize_t r = write ? pwritev(fd, iov, n, (off_t)pos)
				  : preadv(fd, iov, n, (off_t)pos);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? -errno : -EIO;
		pos += (uint64_t)r;
		while (n > 0 && (size_t)r >= iov->iov_len) {
			r -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (uint8_t *)iov->iov_base + r;
			iov->iov_len -= (size_t)r;
		}
	}
	return 0;
}

/*
 * Serve one popped request (R15: every size is checked across split
 * descriptors with the elem helpers). Returns the status byte written;
 * *@written gets the used length.
 */
static uint8_t blk_serve(struct blk_dev *d, struct blk_queue *q,
			 const struct xenvirtio_vq_elem *e, uint32_t *written)
{
	uint8_t hdr[VIRTIO_BLK_HDR_LEN];
	struct iovec data[SEG_MAX];
	uint32_t type, status_off = e->in_len - 1, dlen;
	uint64_t sector;
	bool too_big;
	int n, r;

	/* The status byte is the last writable byte; bytes before it that
	 * the device may have written are counted as written. */
	*written = e->in_len;
	if (xenvirtio_vq_elem_read(e, 0, hdr, sizeof(hdr)) < 0)
		return VIRTIO_BLK_S_IOERR; /* header shorter than 16 bytes */
	type = le32_get(hdr);
	sector = le64_get(hdr + 8);

	switch (type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT: {
		bool out = type == VIRTIO_BLK_T_OUT;
		uint64_t nsec;

		if (out) {
			/* data = readable bytes after the header; the status
			 * byte is the only writable byte */
			if (e->in_len != 1)
				return VIRTIO_BLK_S_IOERR;
			dlen = e->out_len - VIRTIO_BLK_HDR_LEN;
			n = iov_slice(q->iov, e->out_num, VIRTIO_BLK_HDR_LEN,
				      dlen, data, SEG_MAX, &too_big);
		} else {
			/* data = writable bytes before the status byte; no
			 * readable bytes after the header */
			if (e->out_len != VIRTIO_BLK_HDR_LEN)
				return VIRTIO_BLK_S_IOERR;
			dlen = status_off;
			n = iov_slice(q->iov + e->out_num, e->in_num, 0, dlen,
				      data, SEG_MAX, &too_big);
		}
		if (!dlen || dlen % VIRTIO_BLK_SECTOR_SIZE || n < 0 || too_big)
			return VIRTIO_BLK_S_IOERR; /* also seg_max exceeded */
		nsec = dlen / VIRTIO_BLK_SECTOR_SIZE;
		/* sector + nsec <= capacity, without overflow */
		if (sector > d->capacity || nsec > d->capacity - sector)
			return VIRTIO_BLK_S_IOERR;
		if (out && d->readonly)
			return VIRTIO_BLK_S_IOERR;
		r = image_io(d->img_fd, data, n,
			     sector * VIRTIO_BLK_SECTOR_SIZE, out);
		if (r < 0) {
			dev_msg(d, "image %s at sector %" PRIu64 ": %s",
				out ? "write" : "read", sector, strerror(-r));
			return VIRTIO_BLK_S_IOERR;
		}
		return VIRTIO_BLK_S_OK;
	}
	case VIRTIO_BLK_T_FLUSH:
		if (e->out_len != VIRTIO_BLK_HDR_LEN || e->in_len != 1)
			return VIRTIO_BLK_S_IOERR;
		if (fdatasync(d->img_fd) < 0)
			return VIRTIO_BLK_S_IOERR;
		return VIRTIO_BLK_S_OK;
	case VIRTIO_BLK_T_GET_ID: {
		uint8_t id[VIRTIO_BLK_ID_BYTES] = {0};

		if (e->out_len != VIRTIO_BLK_HDR_LEN ||
		    status_off < VIRTIO_BLK_ID_BYTES)
			return VIRTIO_BLK_S_IOERR;
		/* 20 bytes, NUL-padded, not necessarily terminated */
		snprintf((char *)id, sizeof(id), "xvblk-%u-%u", d->fe,
			 d->devid);
		if (xenvirtio_vq_elem_write(e, 0, id, sizeof(id)) < 0)
			return VIRTIO_BLK_S_IOERR;
		return VIRTIO_BLK_S_OK;
	}
	default:
		return VIRTIO_BLK_S_UNSUPP;
	}
}

static void dev_broken(struct blk_dev *d, const char *why)
{
	if (d->broken_logged)
		return;
	d->broken_logged = true;
	dev_msg(d, "broken: %s%s%s", why, d->last_err[0] ? ": " : "",
		d->last_err);
}

/*
 * Drain one kicked queue: pop up to BATCH requests and answer them, then
 * interrupt the guest once if the ring asks for it.
 */
static void queue_run(struct blk_dev *d, struct blk_queue *q)
{
	struct xenvirtio_vq_elem e;
	bool pushed = false;
	int i, r;

	q->kicked = false;
	if (!d->broken_logged)
		d->last_err[0] = '\0';
	for (i = 0; i < BATCH; i++) {
		uint32_t written;
		uint8_t status;

		memset(&e, 0, sizeof(e));
		e.iov = q->iov;
		e.iov_cap = IOV_CAP;
		r = xenvirtio_vq_pop(q->vq, &e);
		if (r == 0)
			break;
		if (r == -ENOSPC) {
			/* Backpressure (mapper quota or the platform's map
			 * resources): the chain stays in the ring. */
			q->backoff = true;
			break;
		}
		if (r == -EIO) {
			/* The driver broke the ring: nothing more can be
			 * trusted until the driver resets the device. */
			char why[64];

			snprintf(why, sizeof(why), "virtqueue %u broken",
				 q->index);
			q->broken_seen = true;
			xenvirtio_mmio_dev_needs_reset(d->mmio, why);
			dev_broken(d, why);
			return;
		}
		if (r < 0) {
			/* Malformed or untranslatable chain: the library
			 * retired it with used length 0 (R16). */
			d->st.requests++;
			d->st.bad++;
			pushed = true;
			if (B.verbose)
				dev_msg(d, "queue %u: chain retired: %s",
					q->index, xenvirtio_strerror(r));
			continue;
		}
		d->st.requests++;
		if (e.in_len == 0) {
			/* No room for a status byte: cannot be answered. */
			d->st.bad++;
			xenvirtio_vq_push(q->vq, &e, 0);
			pushed = true;
			continue;
		}
		status = blk_serve(d, q, &e, &written);
		if (status != VIRTIO_BLK_S_OK)
			d->st.bad++;
		xenvirtio_vq_elem_write(&e, e.in_len - 1, &status, 1);
		if (xenvirtio_vq_push(q->vq, &e, written) < 0 &&
		    status == VIRTIO_BLK_S_OK)
			d->st.bad++; /* copy-out failed: used length 0 */
		pushed = true;
	}
	if (i == BATCH)
		q->kicked = true; /* more may wait: come back after others */
	if (pushed && xenvirtio_vq_should_notify(q->vq) == 1)
		xenvirtio_mmio_dev_interrupt(d->mmio);
}

/* ------------------------------------------------------------------ */
/* The register file's callbacks                                       */

static int cb_queue_ready(void *opaque,
			  const struct xenvirtio_mmio_queue_info *qi)
{
	struct blk_dev *d = opaque;
	struct blk_queue *q = &d->q[qi->index];
	struct xenvirtio_vq_config cfg = {
	    .features = qi->features,
	    .size = qi->num,
	    .desc_addr = qi->desc,
	    .driver_addr = qi->driver,
	    .device_addr = qi->device,
	};
	int r;

	/* Maps the rings through the mapper for the queue's life (S3, S4);
	 * fails if they are not wholly in granted (or guest) memory. */
	r = xenvirtio_vq_enable(q->vq, &cfg);
	if (r < 0)
		return r;
	q->ready = true;
	q->kicked = true; /* buffers may already be there */
	q->broken_seen = false;
	if (B.verbose)
		dev_msg(d, "queue %u ready: %u entries, %s ring", qi->index,
			qi->num, qi->packed ? "packed" : "split");
	return 0;
}

static void cb_queue_reset(void *opaque, unsigned int index)
{
	struct blk_dev *d = opaque;
	struct blk_queue *q = &d->q[index];

	/* Releases the ring mappings and those of requests in flight. */
	xenvirtio_vq_reset(q->vq);
	q->ready = false;
	q->kicked = false;
	q->backoff = false;
	q->broken_seen = false;
}

static void cb_queue_notify(void *opaque, unsigned int index, uint32_t data)
{
	struct blk_dev *d = opaque;

	(void)data;
	/* Served from the main loop, not from inside the register access. */
	if (index < d->nqueues && d->q[index].ready)
		d->q[index].kicked = true;
}

static void cb_device_reset(void *opaque)
{
	struct blk_dev *d = opaque;

	/* A Status write of 0: the driver starts over. */
	d->broken_logged = false;
	d->last_err[0] = '\0';
}

static void cb_status(void *opaque, uint8_t status)
{
	struct blk_dev *d = opaque;
	unsigned int i;

	/* DRIVER_OK: buffers made available before it are served now. */
	if (status & XENVIRTIO_STATUS_DRIVER_OK)
		for (i = 0; i < d->nqueues; i++)
			d->q[i].kicked = d->q[i].ready;
}

static void cb_interrupt(void *opaque, uint32_t status)
{
	struct blk_dev *d = opaque;

	(void)status;
	/* The device's interrupt is its event channel. */
	if (d->port > 0)
		xenvirtio_evtchn_notify(B.ctx, (unsigned int)d->port);
}

static const struct xenvirtio_mmio_dev_ops blk_ops = {
    .queue_ready = cb_queue_ready,
    .queue_reset = cb_queue_reset,
    .queue_notify = cb_queue_notify,
    .device_reset = cb_device_reset,
    .status = cb_status,
    .interrupt = cb_interrupt,
};

/* ------------------------------------------------------------------ */
/* Set-up and tear-down                                                */

static int store_put(struct blk_dev *d, const char *name, const char *value)
{
	char key[256];

	if (blk_store_key(key, sizeof(key), B.be_domid, d->fe, d->devid,
			  name) >= (int)sizeof(key))
		return -ENAMETOOLONG;
	return xenvirtio_store_write(B.ctx, key, value);
}

static void store_remove(struct blk_dev *d)
{
	/* "state" first: a frontend that sees it sees the rest */
	store_put(d, "state", NULL);
	store_put(d, "socket", NULL);
	store_put(d, "event-channel", NULL);
	store_put(d, "base", NULL);
}

/* Policy for mode=auto; the decision's reason goes to the log. */
static int decide_mode(struct blk_dev *d)
{
	struct xenvirtio_policy_decision dec;
	char name[64];
	int r;

	if (d->mode != MODE_AUTO) {
		d->grants = d->mode == MODE_GRANT;
		snprintf(d->reason, sizeof(d->reason), "mode=%s given",
			 d->grants ? "grant" : "foreign");
		return 0;
	}
	snprintf(name, sizeof(name), "mmio@0x%" PRIx64,
		 blk_mmio_base(d->devid));
	r = xenvirtio_policy_decide_backend(B.pol, (uint16_t)d->fe, d->devid,
					    name, &dec);
	if (r < 0) {
		dev_msg(d, "policy: %s", xenvirtio_strerror(r));
		return r;
	}
	d->grants = dec.grants;
	snprintf(d->reason, sizeof(d->reason), "policy (%s): %s",
		 xenvirtio_policy_source_name(dec.source), dec.reason);
	return 0;
}

static int open_image(struct blk_dev *d)
{
	struct stat sb;

	d->img_fd =
	    open(d->image, (d->readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (d->img_fd < 0) {
		dev_msg(d, "image %s: %s", d->image, strerror(errno));
		return -1;
	}
	if (fstat(d->img_fd, &sb) < 0 || sb.st_size < 0) {
		dev_msg(d, "image %s: %s", d->image, strerror(errno));
		return -1;
	}
	d->capacity = (uint64_t)sb.st_size / VIRTIO_BLK_SECTOR_SIZE;
	if (!d->capacity) {
		dev_msg(d, "image %s: smaller than one sector", d->image);
		return -1;
	}
	return 0;
}

static int listen_socket(struct blk_dev *d)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd;

	if (snprintf(d->sock_path, sizeof(d->sock_path),
		     "%s/xvblk-%u-%u-%u.sock", B.socket_dir, B.be_domid, d->fe,
		     d->devid) >= (int)sizeof(d->sock_path)) {
		dev_msg(d, "socket path too long in %s", B.socket_dir);
		return -1;
	}
	memcpy(sa.sun_path, d->sock_path, sizeof(sa.sun_path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		dev_msg(d, "socket: %s", strerror(errno));
		return -1;
	}
	unlink(d->sock_path); /* a stale socket of a daemon that died */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fd, 4) < 0) {
		dev_msg(d, "socket %s: %s", d->sock_path, strerror(errno));
		close(fd);
		return -1;
	}
	d->listen_fd = fd;
	return 0;
}

static int dev_setup(struct blk_dev *d)
{
	uint8_t cfg[VIRTIO_BLK_CFG_LEN] = {0};
	struct xenvirtio_mmio_dev_config mc = {
	    .device_id = VIRTIO_ID_BLOCK,
	    .vendor_id = 0x554d4551, /* "QEMU", as Linux expects nothing else */
	    .num_queues = d->nqueues,
	    .queue_num_max = d->qsize,
	    .config_len = sizeof(cfg),
	    .config = cfg,
	};
	char val[64];
	unsigned int i;
	int r;

	if (open_image(d) < 0)
		return -1;
	if (decide_mode(d) < 0)
		return -1;
	dev_msg(d, "%s mode: %s", d->grants ? "grant" : "foreign", d->reason);

	/* The mapper enforces the mode on every address (G1). */
	r = xenvirtio_mapper_open(B.ctx,
				  d->grants ? XENVIRTIO_MAPPER_GRANT
					    : XENVIRTIO_MAPPER_FOREIGN,
				  (uint16_t)d->fe, &d->mapper);
	if (r < 0) {
		dev_msg(d, "%s mapper: %s%s", d->grants ? "grant" : "foreign",
			xenvirtio_strerror(r),
			r == -EOPNOTSUPP && !d->grants
			    ? " (foreign mapping needs a privileged domain)"
			    : "");
		return -1;
	}
	r = xenvirtio_mapper_set_strategy(d->mapper, B.strategy);
	if (!r && B.copy_threshold && d->grants)
		r = xenvirtio_mapper_set_copy_threshold(d->mapper,
							B.copy_threshold);
	/* G8: what one guest may hold mapped and in flight at once. */
	if (!r && (B.quota_frames || B.quota_requests))
		r = xenvirtio_mapper_set_quota(d->mapper, B.quota_frames,
					       B.quota_requests);
	if (r < 0) {
		dev_msg(d, "mapper settings: %s", xenvirtio_strerror(r));
		return -1;
	}
	for (i = 0; i < d->nqueues; i++) {
		d->q[i].dev = d;
		d->q[i].index = i;
		r = xenvirtio_vq_new(d->mapper, d->qsize, &d->q[i].vq);
		if (r < 0) {
			dev_msg(d, "virtqueue: %s", xenvirtio_strerror(r));
			return -1;
		}
	}

	/* Configuration space (little-endian) and features. */
	le32_put(cfg + VIRTIO_BLK_CFG_CAPACITY, (uint32_t)d->capacity);
	le32_put(cfg + VIRTIO_BLK_CFG_CAPACITY + 4,
		 (uint32_t)(d->capacity >> 32));
	le32_put(cfg + VIRTIO_BLK_CFG_SIZE_MAX, SIZE_MAX_SEG);
	le32_put(cfg + VIRTIO_BLK_CFG_SEG_MAX, SEG_MAX);
	le32_put(cfg + VIRTIO_BLK_CFG_BLK_SIZE, VIRTIO_BLK_SECTOR_SIZE);
	cfg[VIRTIO_BLK_CFG_NUM_QUEUES] = (uint8_t)d->nqueues;
	cfg[VIRTIO_BLK_CFG_NUM_QUEUES + 1] = (uint8_t)(d->nqueues >> 8);
	/* The ring layout, indirect tables and event index are the driver's
	 * choice; the register file adds VERSION_1 (and ACCESS_PLATFORM in
	 * grant mode). */
	mc.features =
	    1ULL << XENVIRTIO_F_RING_PACKED |
	    1ULL << XENVIRTIO_F_INDIRECT_DESC | 1ULL << XENVIRTIO_F_EVENT_IDX |
	    1ULL << VIRTIO_BLK_F_SIZE_MAX | 1ULL << VIRTIO_BLK_F_SEG_MAX |
	    1ULL << VIRTIO_BLK_F_BLK_SIZE | 1ULL << VIRTIO_BLK_F_FLUSH |
	    1ULL << VIRTIO_BLK_F_MQ;
	mc.grants = d->grants;
	r = xenvirtio_mmio_dev_new(B.ctx, &mc, &blk_ops, d, &d->mmio);
	if (r < 0) {
		dev_msg(d, "register file: %s", xenvirtio_strerror(r));
		return -1;
	}

	/* The interrupt: an unbound port the guest binds to. */
	d->port = xenvirtio_evtchn_alloc_unbound(B.ctx, d->fe);
	if (d->port < 0) {
		dev_msg(d, "event channel: %s", xenvirtio_strerror(d->port));
		return -1;
	}
	if (listen_socket(d) < 0)
		return -1;

	/* Publish; "state" last. */
	r = store_put(d, "socket", d->sock_path);
	snprintf(val, sizeof(val), "%d", d->port);
	if (!r)
		r = store_put(d, "event-channel", val);
	snprintf(val, sizeof(val), "0x%" PRIx64, blk_mmio_base(d->devid));
	if (!r)
		r = store_put(d, "base", val);
	if (!r)
		r = store_put(d, "state", "ready");
	d->published = true;
	if (r < 0) {
		dev_msg(d, "store: %s", xenvirtio_strerror(r));
		return -1;
	}
	dev_msg(d,
		"serving %s (%" PRIu64 " sectors%s), %u queue%s of %u, "
		"socket %s, event channel %d",
		d->image, d->capacity, d->readonly ? ", read-only" : "",
		d->nqueues, d->nqueues > 1 ? "s" : "", d->qsize, d->sock_path,
		d->port);
	return 0;
}

/* Drop the connection: the device is reset, every mapping released. */
static void conn_drop(struct blk_dev *d, const char *why)
{
	if (!d->srv)
		return;
	if (why)
		dev_msg(d, "connection dropped: %s", why);
	else if (B.verbose)
		dev_msg(d, "frontend hung up");
	xenvirtio_mmio_sock_server_free(d->srv);
	d->srv = NULL;
	B.cur = d;
	xenvirtio_mmio_dev_reset(d->mmio);
	B.cur = NULL;
	d->broken_logged = false;
	d->last_err[0] = '\0';
}

static void dev_release(struct blk_dev *d)
{
	unsigned int i;

	B.cur = d;
	conn_drop(d, NULL);
	if (d->published)
		store_remove(d);
	if (d->listen_fd >= 0) {
		close(d->listen_fd);
		unlink(d->sock_path);
		d->listen_fd = -1;
	}
	if (d->port > 0)
		xenvirtio_evtchn_unbind(B.ctx, (unsigned int)d->port);
	d->port = -1;
	xenvirtio_mmio_dev_free(d->mmio); /* resets ready queues */
	d->mmio = NULL;
	for (i = 0; i < d->nqueues; i++) {
		xenvirtio_vq_free(d->q[i].vq); /* releases every mapping */
		d->q[i].vq = NULL;
	}
	B.cur = NULL;
}

static void dev_summary(struct blk_dev *d, long mapped_now)
{
	struct xenvirtio_mapper_stats ms = {0};

	if (d->mapper)
		xenvirtio_mapper_get_stats(d->mapper, &ms);
	printf(PROG ": device %u/%u: requests %" PRIu64 " (bad %" PRIu64
		    "), map calls %" PRIu64 " (%.2f/request), frames mapped "
		    "%" PRIu64 ", unmap calls %" PRIu64 ", copies %" PRIu64
		    ", mapped now %ld\n",
	       d->fe, d->devid, d->st.requests, d->st.bad, ms.map_calls,
	       d->st.requests ? (double)ms.map_calls / (double)d->st.requests
			      : 0.0,
	       ms.frames_mapped, ms.unmap_calls, ms.copy_ops, mapped_now);
}

/* ------------------------------------------------------------------ */
/* The loop                                                            */

static void conn_accept(struct blk_dev *d)
{
	int fd = accept4(d->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	int r;

	if (fd < 0)
		return; /* EAGAIN, or the client went away already */
	r = xenvirtio_mmio_sock_server_new(B.ctx, d->mmio, fd,
					   blk_mmio_base(d->devid), &d->srv);
	if (r < 0) {
		dev_msg(d, "connection: %s", xenvirtio_strerror(r));
		close(fd);
		return;
	}
	d->stall_since = 0;
	d->partial = 0;
	d->broken_logged = false;
	d->last_err[0] = '\0';
	if (B.verbose)
		dev_msg(d, "frontend connected");
}

static void conn_process(struct blk_dev *d)
{
	int r, fd = xenvirtio_mmio_sock_server_fd(d->srv), avail = 0, left = 0;
	long held;

	if (!d->broken_logged)
		d->last_err[0] = '\0';
	/* The server keeps a partial message to itself; estimate it from
	 * the bytes it took from the socket and the messages it answered.
	 * Bytes that arrive during the call make the estimate low, never
	 * high: a stalled client may be caught late, a live one is never
	 * dropped for it. */
	if (ioctl(fd, FIONREAD, &avail) < 0)
		avail = 0;
	r = xenvirtio_mmio_sock_server_process(d->srv, XV_BLK_REPLY_MS);

	if (r == -EPIPE) {
		conn_drop(d, d->last_err[0] ? d->last_err : NULL);
		return;
	}
	if (r < 0) {
		char why[300];

		snprintf(why, sizeof(why), "%s%s%s", xenvirtio_strerror(r),
			 d->last_err[0] ? ": " : "", d->last_err);
		conn_drop(d, why);
		return;
	}
	if (ioctl(fd, FIONREAD, &left) < 0)
		left = 0;
	held =
	    d->partial + avail - left - (long)r * XENVIRTIO_MMIO_SOCK_MSG_SIZE;
	d->partial = held > 0 ? held % XENVIRTIO_MMIO_SOCK_MSG_SIZE : 0;
	if (!d->partial)
		d->stall_since = 0;
	else if (!d->stall_since || r > 0)
		d->stall_since = now_ms(); /* progress restarts the clock */
}

static void dev_check_broken(struct blk_dev *d)
{
	int st = xenvirtio_mmio_dev_status(d->mmio);

	if (st >= 0 && (st & XENVIRTIO_STATUS_DEVICE_NEEDS_RESET))
		dev_broken(d, "needs reset");
}

static int loop(void)
{
	struct pollfd pfd[1 + 2 * MAX_DEVICES];
	struct blk_dev *owner[1 + 2 * MAX_DEVICES];
	unsigned int i, j, n;
	int timeout, r;

	for (;;) {
		bool busy = false, backoff = false;
		int64_t now = now_ms();

		n = 0;
		pfd[n].fd = B.sig_fd;
		pfd[n].events = POLLIN;
		owner[n++] = NULL;
		timeout = 1000;
		for (i = 0; i < B.ndev; i++) {
			struct blk_dev *d = &B.dev[i];

			for (j = 0; j < d->nqueues; j++) {
				busy |= d->q[j].kicked;
				backoff |= d->q[j].backoff;
			}
			if (d->srv && d->stall_since) {
				int64_t left =
				    d->stall_since + B.stall_ms - now;

				if (left <= 0)
					conn_drop(d, "stalled in the middle "
						     "of a message");
				else if (left < timeout)
					timeout = (int)left;
			}
			/* the connection, or else the listening socket */
			pfd[n].fd = d->srv
					? xenvirtio_mmio_sock_server_fd(d->srv)
					: d->listen_fd;
			pfd[n].events = POLLIN;
			owner[n++] = d;
		}
		if (backoff && timeout > RETRY_MS)
			timeout = RETRY_MS;
		if (busy)
			timeout = 0;
		r = poll(pfd, n, timeout);
		if (r < 0 && errno != EINTR) {
			msg("poll: %s", strerror(errno));
			return -1;
		}
		if (r > 0 && (pfd[0].revents & POLLIN)) {
			struct signalfd_siginfo si;

			if (read(B.sig_fd, &si, sizeof(si)) > 0) {
				if (B.verbose)
					msg("signal %u: shutting down",
					    si.ssi_signo);
				return 0;
			}
		}
		for (i = 1; r > 0 && i < n; i++) {
			struct blk_dev *d = owner[i];

			if (!pfd[i].revents)
				continue;
			B.cur = d;
			if (d->srv) {
				conn_process(d);
				if (d->srv)
					dev_check_broken(d);
			} else {
				conn_accept(d);
			}
			B.cur = NULL;
		}
		/* Serve the kicked queues while the driver is ready and the
		 * device sound (a ring the driver broke makes the device need
		 * a reset, logged once; nothing is served until the reset). */
		for (i = 0; i < B.ndev; i++) {
			struct blk_dev *d = &B.dev[i];
			int st = xenvirtio_mmio_dev_status(d->mmio);
			bool ok = st >= 0 &&
				  (st & XENVIRTIO_STATUS_DRIVER_OK) &&
				  !(st & XENVIRTIO_STATUS_DEVICE_NEEDS_RESET);

			B.cur = d;
			for (j = 0; j < d->nqueues; j++) {
				struct blk_queue *q = &d->q[j];

				if (q->backoff) {
					q->backoff = false;
					q->kicked = true;
				}
				if (ok && q->kicked && q->ready &&
				    !q->broken_seen)
					queue_run(d, q);
				else
					q->kicked = false;
			}
			B.cur = NULL;
		}
	}
}

/* ------------------------------------------------------------------ */
/* Options                                                             */

static void help(void)
{
	printf(
	    "Usage: " PROG " --device SPEC [--device SPEC ...] [OPTIONS]\n"
	    "\n"
	    "A virtio-blk device daemon: serves disk image files to guests as\n"
	    "virtio-mmio block devices. Register accesses arrive over one "
	    "unix\n"
	    "socket per device (the simulated ioreq transport), interrupts go\n"
	    "out over an event channel; both are published in the store under\n"
	    "/local/domain/BE/backend/virtio/FE/DEVID/ (socket, "
	    "event-channel,\n"
	    "base, state=ready).\n"
	    "\n"
	    "Options:\n"
	    "  --platform SPEC      platform: \"xen\", \"sim:PATH[,domid=N]\"\n"
	    "                       or \"auto\" (default)\n"
	    "  --device SPEC        a device (repeatable, up to %d):\n"
	    "                       fe=N,devid=N,image=PATH[,queues=N]\n"
	    "                       [,queue-size=N][,mode=auto|grant|foreign]\n"
	    "                       [,readonly]\n"
	    "                         fe        the guest (frontend domain)\n"
	    "                         devid     device index; register base\n"
	    "                                   0x2000000 + devid * 0x200\n"
	    "                         image     the disk image (size in whole\n"
	    "                                   512-byte sectors is the "
	    "capacity)\n"
	    "                         queues    1..%d (default 1)\n"
	    "                         queue-size  1..32768 (default %d)\n"
	    "                         mode      grant: grant addresses only;\n"
	    "                                   foreign: guest-physical "
	    "addresses\n"
	    "                                   (privileged backend); auto "
	    "(default):\n"
	    "                                   the policy decides (logged "
	    "with its\n"
	    "                                   reason)\n"
	    "                         readonly  writes fail with IOERR\n"
	    "  --socket-dir DIR     where the sockets go (default: the world\n"
	    "                       file's directory, else /tmp)\n"
	    "  --policy PARAMS      policy parameters for mode=auto\n"
	    "                       (xen_virtio_grant=..., see the README)\n"
	    "  --copy-threshold N   grant-copy buffers of at most N bytes\n"
	    "                       (0..256, default 16: headers and status\n"
	    "                       bytes; 0 maps everything; grant mode only)\n"
	    "  --quota F,R          per-guest limits (G8): at most F data "
	    "frames\n"
	    "                       mapped and R requests in flight at once "
	    "(0:\n"
	    "                       no limit; default 0,0); a request of more "
	    "than\n"
	    "                       F frames is refused\n"
	    "  --strategy S         batch (one map call per chain and "
	    "direction,\n"
	    "                       default) or per-desc\n"
	    "  --stall-timeout-ms N drop a client stalled in the middle of a\n"
	    "                       message after N ms (default 2000)\n"
	    "  --verbose            log connections, queues and library "
	    "messages\n"
	    "  --help               print this help and exit\n"
	    "\n"
	    "Features offered: RING_PACKED, INDIRECT_DESC, EVENT_IDX, "
	    "SIZE_MAX\n"
	    "(%u), SEG_MAX (%u), BLK_SIZE (512), FLUSH, MQ; VERSION_1, and\n"
	    "ACCESS_PLATFORM in grant mode.\n"
	    "\n"
	    "On SIGINT or SIGTERM every mapping is released, the store keys\n"
	    "and sockets removed, and one line per device printed on stdout:\n"
	    "  " PROG ": device FE/DEVID: requests N (bad N), map calls N\n"
	    "  (N.NN/request), frames mapped N, unmap calls N, copies N,\n"
	    "  mapped now N\n"
	    "where bad counts requests answered with an error status or\n"
	    "retired without one, copies counts grant-copy segments, and\n"
	    "mapped now counts the guest frames this process still maps after\n"
	    "every device was released (from /proc/self/maps; 0 when clean).\n"
	    "\n"
	    "A misbehaving frontend never stops the daemon: a bad request "
	    "gets\n"
	    "an error status, a broken ring or register protocol makes the\n"
	    "device need a reset (one log line on stderr), a hang-up resets\n"
	    "the device and the next connection is accepted.\n"
	    "\n"
	    "Exit status: 0 after SIGINT/SIGTERM (and for --help); 1 on a\n"
	    "setup error: a bad option or device, or an image, platform,\n"
	    "policy, mapper, event channel, socket or store that cannot be\n"
	    "set up (one line on stderr names the problem).\n",
	    MAX_DEVICES, MAX_QUEUES, DEFAULT_QUEUE_SIZE, SIZE_MAX_SEG, SEG_MAX);
}

static int usage_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, PROG ": ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '" PROG " --help'.\n");
	return EXIT_SETUP;
}

static int number(const char *s, unsigned long max, unsigned int *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	if (!*s || *s == '-')
		return -1;
	v = strtoul(s, &end, 0);
	if (errno || *end || v > max)
		return -1;
	*out = (unsigned int)v;
	return 0;
}

/* fe=N,devid=N,image=PATH[,queues=N][,queue-size=N][,mode=..][,readonly] */
static int parse_device(char *spec, struct blk_dev *d)
{
	bool have_fe = false, have_devid = false;
	char *tok, *save = NULL;

	memset(d, 0, sizeof(*d));
	d->nqueues = 1;
	d->qsize = DEFAULT_QUEUE_SIZE;
	d->img_fd = -1;
	d->listen_fd = -1;
	d->port = -1;
	for (tok = strtok_r(spec, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		char *v = strchr(tok, '=');

		if (v)
			*v++ = '\0';
		if (!strcmp(tok, "readonly") && !v) {
			d->readonly = true;
		} else if (!v) {
			return usage_error("--device: '%s' needs a value", tok);
		} else if (!strcmp(tok, "fe")) {
			if (number(v, 0x7fef, &d->fe) < 0)
				return usage_error("--device: bad fe '%s'", v);
			have_fe = true;
		} else if (!strcmp(tok, "devid")) {
			if (number(v, 0xffff, &d->devid) < 0)
				return usage_error("--device: bad devid '%s'",
						   v);
			have_devid = true;
		} else if (!strcmp(tok, "image")) {
			if (!*v)
				return usage_error("--device: empty image");
			d->image = v;
		} else if (!strcmp(tok, "queues")) {
			if (number(v, MAX_QUEUES, &d->nqueues) < 0 ||
			    !d->nqueues)
				return usage_error("--device: queues must be "
						   "1..%d",
						   MAX_QUEUES);
		} else if (!strcmp(tok, "queue-size")) {
			if (number(v, XENVIRTIO_VQ_MAX_SIZE, &d->qsize) < 0 ||
			    !d->qsize)
				return usage_error("--device: queue-size must "
						   "be 1..%u",
						   XENVIRTIO_VQ_MAX_SIZE);
		} else if (!strcmp(tok, "mode")) {
			if (!strcmp(v, "auto"))
				d->mode = MODE_AUTO;
			else if (!strcmp(v, "grant"))
				d->mode = MODE_GRANT;
			else if (!strcmp(v, "foreign"))
				d->mode = MODE_FOREIGN;
			else
				return usage_error("--device: bad mode '%s'",
						   v);
		} else {
			return usage_error("--device: unknown key '%s'", tok);
		}
	}
	if (!have_fe || !have_devid || !d->image)
		return usage_error("--device needs fe=, devid= and image=");
	return 0;
}

static int parse_args(int argc, char **argv)
{
	int i, r;

	B.platform = "auto";
	B.stall_ms = 2000;
	B.copy_threshold = DEFAULT_COPY_THRESHOLD;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		unsigned int n;

		if (!strcmp(a, "--help")) {
			help();
			exit(EXIT_OK);
		} else if (!strcmp(a, "--verbose")) {
			B.verbose = true;
			continue;
		}
		if (strncmp(a, "--", 2))
			return usage_error("unexpected argument '%s'", a);
		if (!v)
			return usage_error("%s needs a value", a);
		i++;
		if (!strcmp(a, "--platform")) {
			B.platform = v;
		} else if (!strcmp(a, "--device")) {
			unsigned int k;

			if (B.ndev == MAX_DEVICES)
				return usage_error("at most %d devices",
						   MAX_DEVICES);
			r = parse_device(argv[i], &B.dev[B.ndev]);
			if (r)
				return r;
			for (k = 0; k < B.ndev; k++)
				if (B.dev[k].fe == B.dev[B.ndev].fe &&
				    B.dev[k].devid == B.dev[B.ndev].devid)
					return usage_error(
					    "device %u/%u given twice",
					    B.dev[k].fe, B.dev[k].devid);
			B.ndev++;
		} else if (!strcmp(a, "--socket-dir")) {
			B.socket_dir = v;
		} else if (!strcmp(a, "--policy")) {
			B.policy_params = v;
		} else if (!strcmp(a, "--copy-threshold")) {
			if (number(v, XENVIRTIO_MAPPER_COPY_MAX, &n) < 0)
				return usage_error("--copy-threshold must be "
						   "0..%u",
						   XENVIRTIO_MAPPER_COPY_MAX);
			B.copy_threshold = n;
		} else if (!strcmp(a, "--quota")) {
			char *comma = strchr(v, ',');

			if (!comma)
				return usage_error("--quota wants FRAMES,"
						   "REQUESTS, not '%s'", v);
			*comma = '\0';
			if (number(v, 65536, &B.quota_frames) < 0 ||
			    number(comma + 1, UINT32_MAX,
				   &B.quota_requests) < 0)
				return usage_error("--quota: FRAMES 0..65536, "
						   "REQUESTS a number");
		} else if (!strcmp(a, "--strategy")) {
			if (!strcmp(v, "batch"))
				B.strategy = XENVIRTIO_MAPPER_BATCH;
			else if (!strcmp(v, "per-desc"))
				B.strategy = XENVIRTIO_MAPPER_PER_DESC;
			else
				return usage_error("bad --strategy '%s'", v);
		} else if (!strcmp(a, "--stall-timeout-ms")) {
			if (number(v, 3600000, &n) < 0 || !n)
				return usage_error(
				    "bad --stall-timeout-ms '%s'", v);
			B.stall_ms = (int)n;
		} else {
			return usage_error("unknown option '%s'", a);
		}
	}
	if (!B.ndev)
		return usage_error("no --device given");
	return 0;
}

/* The world file of a "sim:" (or "auto" on sim) platform, for the socket
 * directory default and the "mapped now" measurement. */
static void find_world(void)
{
	const char *p = NULL;
	char path[PATH_MAX];
	size_t n;

	if (!strcmp(xenvirtio_ctx_platform(B.ctx), "sim")) {
		if (!strncmp(B.platform, "sim:", 4))
			p = B.platform + 4;
		else
			p = getenv("XENVIRTIO_SIM");
	}
	if (!p)
		return;
	n = strcspn(p, ",");
	if (n >= sizeof(path))
		return;
	memcpy(path, p, n);
	path[n] = '\0';
	if (!realpath(path, B.world))
		B.world[0] = '\0';
}

static int setup(void)
{
	static char dir[PATH_MAX];
	sigset_t mask;
	unsigned int i;
	int r;

	/* SIGINT/SIGTERM arrive on a signalfd polled with everything else;
	 * a peer closing its socket must not kill us. */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0 ||
	    (B.sig_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK)) < 0) {
		msg("signalfd: %s", strerror(errno));
		return -1;
	}

	r = xenvirtio_ctx_open_log(
	    B.platform, lib_log, NULL,
	    B.verbose ? XENVIRTIO_LOG_DEBUG : XENVIRTIO_LOG_WARNING, &B.ctx);
	if (r < 0) {
		msg("platform '%s': %s", B.platform, xenvirtio_strerror(r));
		return -1;
	}
	B.be_domid = (unsigned int)xenvirtio_ctx_domid(B.ctx);
	find_world();
	if (!B.socket_dir) {
		char *slash;

		snprintf(dir, sizeof(dir), "%s",
			 B.world[0] ? B.world : "/tmp/x");
		slash = strrchr(dir, '/');
		if (slash == dir)
			slash[1] = '\0';
		else
			*slash = '\0';
		B.socket_dir = dir;
	}
	B.base_frames = mapped_guest_pages();

	r = xenvirtio_policy_new(B.ctx, &B.pol);
	if (!r && B.policy_params)
		r = xenvirtio_policy_add_params(B.pol, B.policy_params,
						XENVIRTIO_POLICY_ORIGIN_API);
	if (r < 0) {
		msg("--policy: %s%s%s", xenvirtio_strerror(r),
		    B.pol ? ": " : "",
		    B.pol ? xenvirtio_policy_last_error(B.pol) : "");
		return -1;
	}
	for (i = 0; i < B.ndev; i++) {
		B.cur = &B.dev[i];
		r = dev_setup(&B.dev[i]);
		B.cur = NULL;
		if (r < 0)
			return -1;
	}
	return 0;
}

static void teardown(bool summary)
{
	long mapped_now;
	unsigned int i;

	for (i = 0; i < B.ndev; i++)
		dev_release(&B.dev[i]);
	mapped_now = mapped_guest_pages();
	if (mapped_now >= 0 && B.base_frames >= 0)
		mapped_now -= B.base_frames;
	for (i = 0; i < B.ndev; i++) {
		struct blk_dev *d = &B.dev[i];

		if (summary)
			dev_summary(d, mapped_now);
		xenvirtio_mapper_close(d->mapper);
		if (d->img_fd >= 0)
			close(d->img_fd);
	}
	fflush(stdout);
	xenvirtio_policy_free(B.pol);
	xenvirtio_ctx_close(B.ctx);
	if (B.sig_fd >= 0)
		close(B.sig_fd);
}

int main(int argc, char **argv)
{
	int r;

	B.sig_fd = -1;
	r = parse_args(argc, argv);
	if (r)
		return r;
	if (setup() < 0) {
		teardown(false);
		return EXIT_SETUP;
	}
	r = loop();
	teardown(true);
	return r < 0 ? EXIT_SETUP : EXIT_OK;
}
