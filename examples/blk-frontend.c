/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * blk-frontend: a user-space virtio-blk driver on libxenvirtio.
 *
 * What a frontend port (unikernel, RTOS, user-space driver) does to use a
 * virtio-blk device served by another domain:
 *
 *  1. find the device: the backend publishes the socket of the simulated
 *     ioreq transport, the event channel port and the register base in the
 *     store (examples/blk-proto.h);
 *  2. ask the policy whether the device's DMA goes through grants
 *     ("mmio@0x<base>"), and open a DMA handle accordingly;
 *  3. connect the register transport, bind the event channel (the
 *     device's interrupt);
 *  4. negotiate features, read the configuration space, allocate the rings
 *     in coherent DMA memory, hand them to the device, DRIVER_OK;
 *  5. I/O: every request slot writes a seeded, position-dependent pattern
 *     (OUT), reads it back (IN) and compares every byte; GET_ID once at
 *     the start and FLUSH once at the end; completions are collected when
 *     the event channel fires, every used length and status byte checked;
 *  6. print a summary: requests, bytes, MiB/s, DMA map calls per request
 *     (the DMA handle's counters).
 *
 * Exit status: 0 every byte verified; 1 setup error (options, platform,
 * device, features); 2 data mismatch or device error (status byte, used
 * length, a ring the device broke); 3 the backend is gone (connection
 * closed or timed out, no interrupt within --timeout-ms, device never
 * appeared in the store): one line "blk-frontend: backend ...: <reason>".
 */
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <xenvirtio.h>

#include "blk-proto.h"

#define PROG "blk-frontend"
#define MAX_SIZES 16
#define MAX_QUEUES 64
#define MAX_DEPTH 1024
#define RING_SIZE_MAX 256u /* largest ring we ask for */
#define RING_ONE_FRAME 128u /* largest split ring that fits 4 KiB */
#define FRAME 4096u

enum exit_code {
	EXIT_OK = 0,
	EXIT_SETUP = 1,
	EXIT_DATA = 2,
	EXIT_GONE = 3,
};

struct opts {
	const char *platform;
	unsigned int backend_domid;
	unsigned int devid;
	const char *mode; /* auto, grant, foreign */
	const char *policy;
	bool packed;
	unsigned int queues;
	unsigned int depth;
	uint32_t sizes[MAX_SIZES];
	unsigned int nsizes;
	double seconds;
	uint64_t requests; /* 0: run for @seconds */
	bool indirect;
	int wait_ms;
	int timeout_ms;
	bool json;
	bool verbose;
};

/* What one request slot is doing. */
enum phase {
	PH_IDLE = 0, /* free for the next write/read-back pair */
	PH_OUT,	     /* writing the pattern */
	PH_IN,	     /* reading it back */
	PH_SPECIAL,  /* GET_ID or FLUSH */
};

struct queue;

struct slot {
	struct queue *q;
	unsigned int global; /* index among all slots of all queues */
	enum phase phase;
	bool to_add;	     /* built, not yet accepted by the ring */
	uint8_t type;	     /* VIRTIO_BLK_T_* in flight */
	uint32_t size;	     /* data bytes of the pair */
	uint64_t sector;
	uint64_t gen;	     /* pattern generation of the pair */
	uint64_t iter;	     /* pairs this slot started */
	uint32_t want_len;   /* used length the device must report */
	struct virtio_blk_outhdr *hdr;
	uint8_t *status;
	uint8_t *data;
	struct iovec *out, *in;
	unsigned int nout, nin;
};

struct queue {
	unsigned int index;
	unsigned int size;
	struct xenvirtio_vq_drv *vq;
	struct slot *slots;
	void *data_mem; /* the slots' data buffers */
	bool data_coherent;
	size_t data_len;
	uint64_t data_dma;
	void *ctl_mem; /* coherent: headers and status bytes */
	size_t ctl_len;
	uint64_t ctl_dma;
	unsigned int inflight;
};

struct stats {
	uint64_t requests, out, in, flush, get_id;
	uint64_t bytes;
	uint64_t interrupts, kicks;
};

struct fe {
	struct opts o;
	struct xenvirtio_ctx *ctx;
	struct xenvirtio_dma *dma;
	struct xenvirtio_mmio_sock_client *cl;
	struct xenvirtio_mmio_drv *drv;
	int sock;	/* owned by @cl once it exists */
	int port;	/* local event channel port */
	int evfd;
	bool grants;
	const char *mode_why;
	char mode_why_buf[64];
	char policy_source[32];
	uint64_t base;
	uint64_t features;
	uint64_t capacity; /* sectors */
	uint32_t size_max, seg_max, blk_size;
	unsigned int num_queues;
	struct queue *q;
	unsigned int nq;
	unsigned int nslots;
	uint64_t regions; /* disk regions the slots rotate over */
	uint32_t region_bytes;
	uint32_t seg_len; /* data bytes per descriptor */
	uint64_t seed;
	uint64_t next_gen;
	char id[VIRTIO_BLK_ID_BYTES + 1];
	struct stats st;
	struct timespec t0;
	bool stopping;
};

/* ---- messages ---- */

static void die(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));

static void die(int code, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, PROG ": ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	/*
	 * No teardown on these paths: the process exit releases its memory,
	 * and a backend that is gone cannot unmap what it mapped (the world
	 * reaps it). Revoking here would only log leaks.
	 */
	exit(code);
}

static struct fe *g_fe; /* for the backend-gone message only */

/* The backend is gone: one clear line, exit 3. */
static void gone(const char *fmt, ...) __attribute__((format(printf, 1, 2),
						       noreturn));

static void gone(const char *fmt, ...)
{
	char why[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (g_fe)
		die(EXIT_GONE, "backend %u device %u/%u: %s",
		    g_fe->o.backend_domid,
		    (unsigned int)xenvirtio_ctx_domid(g_fe->ctx),
		    g_fe->o.devid, why);
	die(EXIT_GONE, "backend: %s", why);
}

/*
 * An error of a register access over the socket. A refused access is the
 * device's fault (exit 2); anything else means the connection is gone.
 */
static void transport_error(const char *what, int r)
{
	if (r == -EPROTO)
		die(EXIT_DATA, "device refused a register access (%s): %s",
		    what, xenvirtio_strerror(r));
	gone("%s: %s", what, xenvirtio_strerror(r));
}

static void verbose(const struct fe *fe, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void verbose(const struct fe *fe, const char *fmt, ...)
{
	va_list ap;

	if (!fe->o.verbose)
		return;
	fprintf(stderr, PROG ": ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* ---- options ---- */

static void usage(FILE *f)
{
	fprintf(f,
"usage: " PROG " --platform SPEC [options]\n"
"\n"
"A user-space virtio-blk driver: finds device DEVID of this domain, served\n"
"by the backend domain, in the store; writes a seeded pattern over a range\n"
"of request sizes and queue depths, reads it back, verifies every byte and\n"
"prints a summary.\n"
"\n"
"  --platform SPEC       platform, e.g. sim:/dev/shm/w,domid=1 (default auto)\n"
"  --backend-domid N     the backend's domain (default 0)\n"
"  --devid N             device index (default 0)\n"
"  --mode M              auto (the policy decides), grant or foreign\n"
"                        (default auto)\n"
"  --policy PARAMS       policy parameters (xen_virtio_grant=..., ...), added\n"
"                        after those of the XENVIRTIO_POLICY environment\n"
"  --ring split|packed   ring layout (default split)\n"
"  --queues N            queues to use, at most the device's (default 1)\n"
"  --depth N             requests in flight per queue (default 4)\n"
"  --sizes LIST          request data sizes in bytes, multiples of 512,\n"
"                        comma-separated (default 4096); each slot cycles\n"
"  --seconds S           run for S seconds (default 2)\n"
"  --requests N          or stop after N requests (writes and read-backs;\n"
"                        a write is always followed by its read-back)\n"
"  --no-indirect         do not negotiate INDIRECT_DESC\n"
"  --wait-ms N           wait up to N ms for the device in the store\n"
"                        (default 5000)\n"
"  --timeout-ms N        bound on any wait for the backend (default 5000)\n"
"  --json                print the summary as one JSON object\n"
"  --verbose             say what is negotiated and decided (stderr)\n"
"  --help                this text\n"
"\n"
"Exit status: 0 every byte verified; 1 setup error; 2 data mismatch or\n"
"device error; 3 backend gone (connection lost, no interrupt within\n"
"--timeout-ms, device not in the store).\n");
}

static bool parse_uint(const char *s, unsigned long long max,
		       unsigned long long *out)
{
	unsigned long long v;
	char *end;

	if (!s || !*s || *s == '-')
		return false;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end || v > max)
		return false;
	*out = v;
	return true;
}

static unsigned int opt_uint(const char *name, const char *s,
			     unsigned long long min, unsigned long long max)
{
	unsigned long long v;

	if (!parse_uint(s, max, &v) || v < min)
		die(EXIT_SETUP, "%s: expected a number in %llu..%llu, got '%s'",
		    name, min, max, s ? s : "");
	return (unsigned int)v;
}

static void parse_sizes(struct opts *o, const char *s)
{
	char buf[256], *tok, *save = NULL;

	if (!s || strlen(s) >= sizeof(buf))
		die(EXIT_SETUP, "--sizes: bad list");
	strcpy(buf, s);
	o->nsizes = 0;
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		unsigned long long v;

		if (o->nsizes == MAX_SIZES)
			die(EXIT_SETUP, "--sizes: at most %d sizes", MAX_SIZES);
		if (!parse_uint(tok, 16u << 20, &v) || !v ||
		    v % VIRTIO_BLK_SECTOR_SIZE)
			die(EXIT_SETUP,
			    "--sizes: '%s' is not a multiple of 512 in "
			    "512..16 MiB",
			    tok);
		o->sizes[o->nsizes++] = (uint32_t)v;
	}
	if (!o->nsizes)
		die(EXIT_SETUP, "--sizes: empty list");
}

static void parse_opts(struct opts *o, int argc, char **argv)
{
	int i;

	memset(o, 0, sizeof(*o));
	o->platform = "auto";
	o->mode = "auto";
	o->queues = 1;
	o->depth = 4;
	o->sizes[0] = 4096;
	o->nsizes = 1;
	o->seconds = 2;
	o->indirect = true;
	o->wait_ms = 5000;
	o->timeout_ms = 5000;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		bool has_v = true;

		if (!strcmp(a, "--help")) {
			usage(stdout);
			exit(EXIT_OK);
		} else if (!strcmp(a, "--platform")) {
			o->platform = v;
		} else if (!strcmp(a, "--backend-domid")) {
			o->backend_domid = opt_uint(a, v, 0, 0x7fef);
		} else if (!strcmp(a, "--devid")) {
			o->devid = opt_uint(a, v, 0, 0xffff);
		} else if (!strcmp(a, "--mode")) {
			o->mode = v;
			if (!v || (strcmp(v, "auto") && strcmp(v, "grant") &&
				   strcmp(v, "foreign")))
				die(EXIT_SETUP,
				    "--mode: auto, grant or foreign");
		} else if (!strcmp(a, "--policy")) {
			o->policy = v;
		} else if (!strcmp(a, "--ring")) {
			if (v && !strcmp(v, "split"))
				o->packed = false;
			else if (v && !strcmp(v, "packed"))
				o->packed = true;
			else
				die(EXIT_SETUP, "--ring: split or packed");
		} else if (!strcmp(a, "--queues")) {
			o->queues = opt_uint(a, v, 1, MAX_QUEUES);
		} else if (!strcmp(a, "--depth")) {
			o->depth = opt_uint(a, v, 1, MAX_DEPTH);
		} else if (!strcmp(a, "--sizes")) {
			parse_sizes(o, v);
		} else if (!strcmp(a, "--seconds")) {
			char *end;

			errno = 0;
			o->seconds = v ? strtod(v, &end) : 0;
			if (!v || errno || *end || !(o->seconds > 0) ||
			    o->seconds > 86400)
				die(EXIT_SETUP,
				    "--seconds: a number in (0, 86400]");
			o->requests = 0;
		} else if (!strcmp(a, "--requests")) {
			o->requests = opt_uint(a, v, 1, UINT_MAX);
		} else if (!strcmp(a, "--wait-ms")) {
			o->wait_ms = (int)opt_uint(a, v, 0, INT_MAX);
		} else if (!strcmp(a, "--timeout-ms")) {
			o->timeout_ms = (int)opt_uint(a, v, 1, INT_MAX / 2);
		} else {
			has_v = false;
			if (!strcmp(a, "--no-indirect"))
				o->indirect = false;
			else if (!strcmp(a, "--json"))
				o->json = true;
			else if (!strcmp(a, "--verbose"))
				o->verbose = true;
			else
				die(EXIT_SETUP,
				    "unknown option '%s' (see --help)", a);
		}
		if (has_v) {
			if (!v)
				die(EXIT_SETUP, "%s needs a value", a);
			i++;
		}
	}
}

/* ---- time ---- */

static double elapsed(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) +
	       (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

static int64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* ---- the pattern ---- */

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x;
}

/*
 * The 8 bytes at disk byte @pos (a multiple of 8) in generation @gen: a
 * read-back of the wrong place, of an older write or of another run cannot
 * match.
 */
static uint64_t pattern_word(uint64_t seed, uint64_t gen, uint64_t pos)
{
	return mix64(seed ^ mix64(gen) ^ (pos * 0x9e3779b97f4a7c15ull));
}

static void pattern_fill(uint8_t *buf, uint32_t len, uint64_t seed,
			 uint64_t gen, uint64_t sector)
{
	uint64_t pos = sector * VIRTIO_BLK_SECTOR_SIZE;
	uint32_t i;

	for (i = 0; i < len; i += 8) {
		uint64_t w = htole64(pattern_word(seed, gen, pos + i));

		memcpy(buf + i, &w, 8);
	}
}

/* Returns the offset of the first wrong byte, or -1. */
static int64_t pattern_check(const uint8_t *buf, uint32_t len, uint64_t seed,
			     uint64_t gen, uint64_t sector, uint8_t *got,
			     uint8_t *want)
{
	uint64_t pos = sector * VIRTIO_BLK_SECTOR_SIZE;
	uint32_t i, j;

	for (i = 0; i < len; i += 8) {
		uint64_t w = htole64(pattern_word(seed, gen, pos + i));
		const uint8_t *e = (const uint8_t *)&w;

		if (!memcmp(buf + i, e, 8))
			continue;
		for (j = 0; j < 8; j++)
			if (buf[i + j] != e[j]) {
				*got = buf[i + j];
				*want = e[j];
				return (int64_t)i + j;
			}
	}
	return -1;
}

/* ---- finding the device ---- */

static int store_get(struct fe *fe, const char *name, char *buf, size_t len)
{
	char key[256];

	if (blk_store_key(key, sizeof(key), fe->o.backend_domid,
			  (unsigned int)xenvirtio_ctx_domid(fe->ctx),
			  fe->o.devid, name) >= (int)sizeof(key))
		return -ENAMETOOLONG;
	return xenvirtio_store_read(fe->ctx, key, buf, len);
}

static void find_device(struct fe *fe, char *sock_path, size_t sock_len,
			unsigned int *remote_port)
{
	int64_t deadline = now_ms() + fe->o.wait_ms;
	unsigned long long v;
	char state[64], buf[64];
	int r;

	for (;;) {
		r = store_get(fe, "state", state, sizeof(state));
		if (r == 0 && !strcmp(state, "ready"))
			break;
		if (r < 0 && r != -ENOENT)
			die(EXIT_SETUP, "store: %s", xenvirtio_strerror(r));
		if (now_ms() >= deadline)
			gone("device not in the store after %d ms%s",
			     fe->o.wait_ms,
			     r == 0 ? " (state not ready)" : "");
		usleep(10000);
	}
	/* "state" is written last: the other keys are there. */
	r = store_get(fe, "socket", sock_path, sock_len);
	if (r < 0)
		gone("store key 'socket': %s", xenvirtio_strerror(r));
	r = store_get(fe, "event-channel", buf, sizeof(buf));
	if (r < 0)
		gone("store key 'event-channel': %s", xenvirtio_strerror(r));
	if (!parse_uint(buf, INT_MAX, &v) || !v)
		die(EXIT_SETUP, "store: bad event-channel '%s'", buf);
	*remote_port = (unsigned int)v;
	r = store_get(fe, "base", buf, sizeof(buf));
	if (r < 0)
		gone("store key 'base': %s", xenvirtio_strerror(r));
	if (!parse_uint(buf, UINT64_MAX, &v) || v % FRAME)
		die(EXIT_SETUP, "store: bad base '%s'", buf);
	fe->base = v;
	verbose(fe, "device %u/%u: socket %s, event channel %u, base %#llx",
		(unsigned int)xenvirtio_ctx_domid(fe->ctx), fe->o.devid,
		sock_path, *remote_port, (unsigned long long)fe->base);
}

/* ---- policy and DMA ---- */

static void decide_mode(struct fe *fe)
{
	struct xenvirtio_policy_decision d;
	struct xenvirtio_policy *pol;
	const char *env;
	char dev[64];
	int r;

	if (!strcmp(fe->o.mode, "grant") || !strcmp(fe->o.mode, "foreign")) {
		fe->grants = !strcmp(fe->o.mode, "grant");
		fe->mode_why = "forced by --mode";
		snprintf(fe->policy_source, sizeof(fe->policy_source),
			 "option");
		verbose(fe, "mode %s: forced by --mode", fe->o.mode);
		return;
	}
	r = xenvirtio_policy_new(fe->ctx, &pol);
	if (r < 0)
		die(EXIT_SETUP, "policy: %s", xenvirtio_strerror(r));
	/*
	 * On Xen the running system's firmware and command line are the
	 * facts. On the simulated platform the world's domain is the guest
	 * (its type from the platform spec); the host's own /sys and
	 * /proc/cmdline say nothing about it, so only the environment
	 * variable and --policy are read.
	 */
	if (!strcmp(xenvirtio_ctx_platform(fe->ctx), "xen")) {
		r = xenvirtio_policy_probe(pol);
		if (r < 0)
			fprintf(stderr, PROG ": policy: %s (source skipped)\n",
				xenvirtio_policy_last_error(pol));
	} else {
		env = getenv("XENVIRTIO_POLICY");
		if (env && xenvirtio_policy_add_params(
			       pol, env, XENVIRTIO_POLICY_ORIGIN_ENV) < 0)
			die(EXIT_SETUP, "XENVIRTIO_POLICY: %s",
			    xenvirtio_policy_last_error(pol));
	}
	if (fe->o.policy &&
	    xenvirtio_policy_add_params(pol, fe->o.policy,
					XENVIRTIO_POLICY_ORIGIN_API) < 0)
		die(EXIT_SETUP, "--policy: %s",
		    xenvirtio_policy_last_error(pol));
	snprintf(dev, sizeof(dev), "mmio@0x%llx",
		 (unsigned long long)fe->base);
	r = xenvirtio_policy_decide(pol, dev, &d);
	if (r < 0)
		die(EXIT_SETUP, "policy for %s: %s", dev,
		    xenvirtio_strerror(r));
	fe->grants = d.grants;
	snprintf(fe->policy_source, sizeof(fe->policy_source), "%s",
		 xenvirtio_policy_source_name(d.source));
	snprintf(fe->mode_why_buf, sizeof(fe->mode_why_buf),
		 "policy: %s, row %u", fe->policy_source, d.row);
	fe->mode_why = fe->mode_why_buf;
	verbose(fe, "policy for %s: %s (source %s, row %u): %s", dev,
		d.grants ? "grants" : "no grants",
		xenvirtio_policy_source_name(d.source), d.row, d.reason);
	if (d.grants && d.backend_domid != fe->o.backend_domid) {
		xenvirtio_policy_free(pol);
		die(EXIT_SETUP,
		    "policy grants %s to domain %u, but its backend in the "
		    "store is domain %u",
		    dev, d.backend_domid, fe->o.backend_domid);
	}
	xenvirtio_policy_free(pol);
}

static void open_dma(struct fe *fe)
{
	int r;

	if (fe->grants) {
		r = xenvirtio_dma_open(fe->ctx, fe->o.backend_domid, &fe->dma);
	} else {
		/* foreign mode: guest-physical addresses, nothing granted */
		r = xenvirtio_dma_open_ex(fe->ctx, fe->o.backend_domid,
					  XENVIRTIO_DMA_F_NO_GRANTS, 0,
					  &fe->dma);
	}
	if (r < 0)
		die(EXIT_SETUP, "DMA handle (%s): %s",
		    fe->grants ? "grants" : "no grants", xenvirtio_strerror(r));
}

/* ---- transport ---- */

static void connect_device(struct fe *fe, const char *path,
			   unsigned int remote_port)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int r;

	if (strlen(path) >= sizeof(sa.sun_path))
		die(EXIT_SETUP, "socket path too long: %s", path);
	strcpy(sa.sun_path, path);
	fe->sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fe->sock < 0)
		die(EXIT_SETUP, "socket: %s", strerror(errno));
	if (connect(fe->sock, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		gone("connect %s: %s", path, strerror(errno));
	r = xenvirtio_mmio_sock_client_new(fe->ctx, fe->sock, fe->base,
					   fe->o.timeout_ms, &fe->cl);
	if (r < 0)
		die(EXIT_SETUP, "register transport: %s",
		    xenvirtio_strerror(r));
	r = xenvirtio_mmio_drv_new(fe->ctx, xenvirtio_mmio_sock_client_io(),
				   fe->cl, &fe->drv);
	if (r < 0)
		die(EXIT_SETUP, "driver accessor: %s", xenvirtio_strerror(r));

	fe->evfd = xenvirtio_evtchn_fd(fe->ctx);
	if (fe->evfd < 0)
		die(EXIT_SETUP, "event channel fd: %s",
		    xenvirtio_strerror(fe->evfd));
	fe->port = xenvirtio_evtchn_bind(fe->ctx, fe->o.backend_domid,
					 remote_port);
	if (fe->port < 0)
		gone("bind event channel %u: %s", remote_port,
		     xenvirtio_strerror(fe->port));
}

static uint64_t cfg_read(struct fe *fe, unsigned int off, unsigned int size)
{
	uint64_t v;
	int r = xenvirtio_mmio_drv_config_read(fe->drv, off, size, &v);

	if (r == -EAGAIN)
		die(EXIT_DATA, "configuration generation keeps changing");
	if (r < 0)
		transport_error("config read", r);
	return v;
}

static bool has(const struct fe *fe, int bit)
{
	return fe->features & (1ULL << bit);
}

static void negotiate(struct fe *fe)
{
	uint64_t want = (1ULL << VIRTIO_BLK_F_SIZE_MAX) |
			(1ULL << VIRTIO_BLK_F_SEG_MAX) |
			(1ULL << VIRTIO_BLK_F_BLK_SIZE) |
			(1ULL << VIRTIO_BLK_F_FLUSH) |
			(1ULL << VIRTIO_BLK_F_MQ) |
			(1ULL << XENVIRTIO_F_EVENT_IDX);
	uint32_t id;
	int r;

	/*
	 * With INDIRECT_DESC negotiated the driver-side queue puts a
	 * request of several buffers into an indirect table when the
	 * library's driver side builds them, else a direct chain.
	 */
	if (fe->o.indirect)
		want |= 1ULL << XENVIRTIO_F_INDIRECT_DESC;
	if (fe->o.packed)
		want |= 1ULL << XENVIRTIO_F_RING_PACKED;
	r = xenvirtio_mmio_drv_init(fe->drv, want, fe->grants, &id,
				    &fe->features);
	if (r == -ENODEV && fe->grants)
		die(EXIT_SETUP,
		    "no usable virtio device at %#llx: grant DMA needs "
		    "VERSION_1 and ACCESS_PLATFORM (does the backend use "
		    "grants?)",
		    (unsigned long long)fe->base);
	if (r == -ENODEV)
		die(EXIT_SETUP,
		    "no usable virtio device at %#llx (needs VERSION_1)",
		    (unsigned long long)fe->base);
	if (r == -ENOTSUP)
		die(EXIT_SETUP,
		    "the device refused the features (mode %s: does the "
		    "backend use the same DMA mode?)",
		    fe->grants ? "grant" : "foreign");
	if (r == -EIO)
		die(EXIT_DATA, "the device does not reset");
	if (r < 0)
		transport_error("feature negotiation", r);
	if (id != VIRTIO_ID_BLOCK)
		die(EXIT_SETUP, "device %u is not a block device", id);
	if (fe->o.packed && !has(fe, XENVIRTIO_F_RING_PACKED))
		die(EXIT_SETUP, "the device does not offer RING_PACKED");
	if (!fe->grants && has(fe, XENVIRTIO_F_ACCESS_PLATFORM))
		die(EXIT_SETUP, "the device wants grants (ACCESS_PLATFORM), "
				"but this frontend decided no grants");

	fe->capacity = cfg_read(fe, VIRTIO_BLK_CFG_CAPACITY, 8);
	fe->size_max = has(fe, VIRTIO_BLK_F_SIZE_MAX)
			   ? (uint32_t)cfg_read(fe, VIRTIO_BLK_CFG_SIZE_MAX, 4)
			   : 0;
	fe->seg_max = has(fe, VIRTIO_BLK_F_SEG_MAX)
			  ? (uint32_t)cfg_read(fe, VIRTIO_BLK_CFG_SEG_MAX, 4)
			  : 0;
	fe->blk_size = has(fe, VIRTIO_BLK_F_BLK_SIZE)
			   ? (uint32_t)cfg_read(fe, VIRTIO_BLK_CFG_BLK_SIZE, 4)
			   : VIRTIO_BLK_SECTOR_SIZE;
	fe->num_queues =
	    has(fe, VIRTIO_BLK_F_MQ)
		? (unsigned int)cfg_read(fe, VIRTIO_BLK_CFG_NUM_QUEUES, 2)
		: 1;
	verbose(fe,
		"features %#llx (%s ring%s%s), capacity %llu sectors, "
		"size_max %u, seg_max %u, blk_size %u, queues %u",
		(unsigned long long)fe->features,
		has(fe, XENVIRTIO_F_RING_PACKED) ? "packed" : "split",
		has(fe, XENVIRTIO_F_EVENT_IDX) ? ", event idx" : "",
		has(fe, XENVIRTIO_F_INDIRECT_DESC) ? ", indirect" : "",
		(unsigned long long)fe->capacity, fe->size_max, fe->seg_max,
		fe->blk_size, fe->num_queues);
	if (!fe->num_queues)
		die(EXIT_DATA, "the device reports 0 queues");
	if (fe->o.queues > fe->num_queues)
		die(EXIT_SETUP, "--queues %u: the device has %u", fe->o.queues,
		    fe->num_queues);
}

/* ---- queues and slots ---- */

static uint32_t max_size(const struct fe *fe)
{
	uint32_t m = 0;
	unsigned int i;

	for (i = 0; i < fe->o.nsizes; i++)
		if (fe->o.sizes[i] > m)
			m = fe->o.sizes[i];
	return m;
}

/* Check the sizes against the device's limits; choose the segment size. */
static void plan_io(struct fe *fe)
{
	uint32_t msize = max_size(fe);
	uint64_t bytes = fe->capacity * VIRTIO_BLK_SECTOR_SIZE;
	unsigned int i;

	if (fe->capacity > UINT64_MAX / VIRTIO_BLK_SECTOR_SIZE)
		die(EXIT_DATA, "capacity %llu sectors overflows",
		    (unsigned long long)fe->capacity);
	/* Segments: at most size_max bytes, whole sectors. */
	fe->seg_len = msize;
	if (fe->size_max && fe->size_max < fe->seg_len)
		fe->seg_len = fe->size_max -
			      fe->size_max % VIRTIO_BLK_SECTOR_SIZE;
	if (!fe->seg_len)
		die(EXIT_SETUP, "size_max %u is below one sector",
		    fe->size_max);
	for (i = 0; i < fe->o.nsizes; i++) {
		uint32_t n = (fe->o.sizes[i] + fe->seg_len - 1) / fe->seg_len;

		if (fe->seg_max && n > fe->seg_max)
			die(EXIT_SETUP,
			    "size %u needs %u segments of at most %u bytes, "
			    "the device takes %u (seg_max)",
			    fe->o.sizes[i], n, fe->seg_len, fe->seg_max);
	}
	fe->nq = fe->o.queues;
	fe->nslots = fe->nq * fe->o.depth;
	/*
	 * The disk is cut into regions of the largest size; slot g's k-th
	 * pair uses region (g + k * nslots) % regions, with regions a
	 * multiple of nslots, so two slots never touch the same region at
	 * the same time and the whole disk gets written over time.
	 */
	fe->region_bytes = msize;
	fe->regions = bytes / msize / fe->nslots * fe->nslots;
	if (!fe->regions)
		die(EXIT_SETUP,
		    "the disk (%llu bytes) is smaller than %u slots of %u "
		    "bytes",
		    (unsigned long long)bytes, fe->nslots, msize);
}

static void setup_queue(struct fe *fe, struct queue *q, unsigned int index)
{
	struct xenvirtio_vq_config cfg;
	uint32_t msize = max_size(fe);
	unsigned int nseg = (msize + fe->seg_len - 1) / fe->seg_len;
	size_t slot_data = ((size_t)msize + FRAME - 1) / FRAME * FRAME;
	unsigned int d;
	int max, r;

	q->index = index;
	max = xenvirtio_mmio_drv_queue_num_max(fe->drv, index);
	if (max < 0)
		transport_error("QueueNumMax", max);
	if (!max)
		die(EXIT_DATA, "queue %u does not exist", index);
	q->size = (unsigned int)max < RING_SIZE_MAX ? (unsigned int)max
						    : RING_SIZE_MAX;
	if (!fe->o.packed) /* split rings: a power of two */
		while (q->size & (q->size - 1))
			q->size &= q->size - 1;
	if (q->size < nseg + 2)
		die(EXIT_SETUP,
		    "queue %u holds %u descriptors, a request needs %u", index,
		    q->size, nseg + 2);
	r = xenvirtio_vq_drv_new(fe->ctx, fe->dma, fe->features, q->size,
				 &q->vq);
	if (r == -EOPNOTSUPP && q->size > RING_ONE_FRAME &&
	    nseg + 2 <= RING_ONE_FRAME) {
		/*
		 * A platform that picks the refs itself (Xen's gntalloc)
		 * grants a multi-frame area only if its refs happen to be
		 * consecutive: rings of 128 fit one frame, split or packed.
		 */
		verbose(fe, "queue %u: rings of %u need consecutive refs, "
			    "using %u",
			q->index, q->size, RING_ONE_FRAME);
		q->size = RING_ONE_FRAME;
		r = xenvirtio_vq_drv_new(fe->ctx, fe->dma, fe->features,
					 q->size, &q->vq);
	}
	if (r < 0)
		die(EXIT_SETUP, "queue %u rings: %s", index,
		    xenvirtio_strerror(r));
	r = xenvirtio_vq_drv_config(q->vq, &cfg);
	if (r < 0)
		die(EXIT_SETUP, "queue %u config: %s", index,
		    xenvirtio_strerror(r));
	r = xenvirtio_mmio_drv_queue_setup(fe->drv, index, q->size,
					   cfg.desc_addr, cfg.driver_addr,
					   cfg.device_addr);
	if (r == -EIO)
		die(EXIT_DATA, "the device refused queue %u", index);
	if (r == -ERANGE || r == -ENOENT || r == -EBUSY)
		die(EXIT_DATA, "queue %u set-up: %s", index,
		    xenvirtio_strerror(r));
	if (r < 0)
		transport_error("queue set-up", r);

	/*
	 * Data buffers live in coherent memory: whole platform frames, which
	 * the DMA layer grants in place instead of bouncing. Headers and
	 * status bytes share frames (32 bytes a slot), so the DMA layer
	 * bounces them (F2: a partial frame never reaches the backend).
	 */
	q->data_len = slot_data * fe->o.depth;
	r = xenvirtio_dma_alloc_coherent(fe->dma, q->data_len, &q->data_mem,
					 &q->data_dma);
	if (r == -EOPNOTSUPP) {
		/* no multi-frame coherent area (see above): ordinary memory,
		 * which the DMA layer bounces frame by frame */
		q->data_coherent = false;
		r = posix_memalign(&q->data_mem, FRAME, q->data_len) ? -ENOMEM
								      : 0;
	} else {
		q->data_coherent = true;
	}
	if (r < 0)
		die(EXIT_SETUP, "queue %u: %zu bytes of DMA memory: %s", index,
		    q->data_len, xenvirtio_strerror(r));
	q->ctl_len = (size_t)fe->o.depth * 32;
	r = xenvirtio_dma_alloc_coherent(fe->dma, q->ctl_len, &q->ctl_mem,
					 &q->ctl_dma);
	if (r < 0)
		die(EXIT_SETUP, "queue %u: header memory: %s", index,
		    xenvirtio_strerror(r));
	q->slots = calloc(fe->o.depth, sizeof(*q->slots));
	if (!q->slots)
		die(EXIT_SETUP, "out of memory");
	for (d = 0; d < fe->o.depth; d++) {
		struct slot *s = &q->slots[d];
		uint8_t *ctl = (uint8_t *)q->ctl_mem + (size_t)d * 32;

		s->q = q;
		s->global = index * fe->o.depth + d;
		s->hdr = (struct virtio_blk_outhdr *)ctl;
		s->status = ctl + VIRTIO_BLK_HDR_LEN;
		s->data = (uint8_t *)q->data_mem + slot_data * d;
		s->out = calloc(nseg + 1, sizeof(*s->out));
		s->in = calloc(nseg + 1, sizeof(*s->in));
		if (!s->out || !s->in)
			die(EXIT_SETUP, "out of memory");
	}
}

static void free_queue(struct fe *fe, struct queue *q)
{
	unsigned int d;

	xenvirtio_vq_drv_free(q->vq);
	if (q->data_mem && q->data_coherent)
		xenvirtio_dma_free_coherent(fe->dma, q->data_mem, q->data_len,
					    q->data_dma);
	else
		free(q->data_mem);
	if (q->ctl_mem)
		xenvirtio_dma_free_coherent(fe->dma, q->ctl_mem, q->ctl_len,
					    q->ctl_dma);
	for (d = 0; q->slots && d < fe->o.depth; d++) {
		free(q->slots[d].out);
		free(q->slots[d].in);
	}
	free(q->slots);
}

/* ---- requests ---- */

static void set_header(struct slot *s, uint32_t type, uint64_t sector)
{
	s->hdr->type = htole32(type);
	s->hdr->ioprio = 0;
	s->hdr->sector = htole64(sector);
	*s->status = 0xff; /* a device that writes nothing is caught */
	s->type = (uint8_t)type;
}

/* The data buffer as descriptors of at most seg_len bytes. */
static unsigned int data_iov(const struct fe *fe, struct slot *s,
			     struct iovec *v, uint32_t len)
{
	unsigned int n = 0;
	uint32_t off;

	for (off = 0; off < len; off += fe->seg_len, n++) {
		v[n].iov_base = s->data + off;
		v[n].iov_len = len - off < fe->seg_len ? len - off
						       : fe->seg_len;
	}
	return n;
}

static void build(struct fe *fe, struct slot *s, uint32_t type)
{
	s->out[0].iov_base = s->hdr;
	s->out[0].iov_len = VIRTIO_BLK_HDR_LEN;
	s->nout = 1;
	s->nin = 0;
	switch (type) {
	case VIRTIO_BLK_T_OUT:
		set_header(s, type, s->sector);
		s->nout += data_iov(fe, s, s->out + 1, s->size);
		s->want_len = 1;
		break;
	case VIRTIO_BLK_T_IN:
		set_header(s, type, s->sector);
		s->nin = data_iov(fe, s, s->in, s->size);
		s->want_len = s->size + 1;
		break;
	case VIRTIO_BLK_T_GET_ID:
		set_header(s, type, 0);
		s->in[0].iov_base = s->data;
		s->in[0].iov_len = VIRTIO_BLK_ID_BYTES;
		s->nin = 1;
		s->want_len = VIRTIO_BLK_ID_BYTES + 1;
		break;
	default: /* FLUSH */
		set_header(s, type, 0);
		s->want_len = 1;
		break;
	}
	s->in[s->nin].iov_base = s->status;
	s->in[s->nin].iov_len = 1;
	s->nin++;
	s->to_add = true;
}

/* Start the next write/read-back pair of an idle slot. */
static void start_pair(struct fe *fe, struct slot *s)
{
	uint32_t size = fe->o.sizes[(s->global + s->iter) % fe->o.nsizes];
	uint64_t region = (s->global + s->iter * fe->nslots) % fe->regions;

	s->size = size;
	s->sector = region * fe->region_bytes / VIRTIO_BLK_SECTOR_SIZE;
	s->gen = fe->next_gen++;
	s->iter++;
	s->phase = PH_OUT;
	pattern_fill(s->data, size, fe->seed, s->gen, s->sector);
	build(fe, s, VIRTIO_BLK_T_OUT);
}

/*
 * Offer a built request to its ring. Returns true if added, false on
 * backpressure (descriptors, refs or bounce frames exhausted: retried
 * after completions).
 */
static bool add(struct fe *fe, struct slot *s)
{
	struct queue *q = s->q;
	int r = xenvirtio_vq_drv_add(q->vq, s->out, s->nout, s->in, s->nin, s);

	if (r == -ENOSPC) {
		if (!q->inflight) {
			/* nothing of ours can free anything on this queue */
			unsigned int i, total = 0;

			for (i = 0; i < fe->nq; i++)
				total += fe->q[i].inflight;
			if (!total)
				die(EXIT_SETUP,
				    "queue %u: a request does not fit even "
				    "with nothing in flight (%s)",
				    q->index, xenvirtio_strerror(r));
		}
		return false;
	}
	if (r == -EIO)
		die(EXIT_DATA, "queue %u is broken (see the log above)",
		    q->index);
	if (r < 0)
		die(EXIT_SETUP, "queue %u: add a %u-byte request: %s",
		    q->index, s->size, xenvirtio_strerror(r));
	s->to_add = false;
	q->inflight++;
	return true;
}

static void kick(struct fe *fe, struct queue *q)
{
	int r = xenvirtio_vq_drv_kick_prepare(q->vq);

	if (r < 0)
		die(EXIT_DATA, "queue %u is broken (see the log above)",
		    q->index);
	if (!r)
		return;
	r = xenvirtio_mmio_drv_notify(fe->drv, q->index);
	if (r < 0)
		transport_error("kick", r);
	fe->st.kicks++;
}

static void check_status(struct fe *fe, struct slot *s, uint32_t len)
{
	static const char *const names[] = {
	    [VIRTIO_BLK_T_IN] = "IN",
	    [VIRTIO_BLK_T_OUT] = "OUT",
	    [VIRTIO_BLK_T_FLUSH] = "FLUSH",
	    [VIRTIO_BLK_T_GET_ID] = "GET_ID",
	};
	const char *name = names[s->type] ? names[s->type] : "?";

	if (len != s->want_len)
		die(EXIT_DATA,
		    "queue %u: %s of %u bytes at sector %llu: used length %u, "
		    "expected %u",
		    s->q->index, name, s->size, (unsigned long long)s->sector,
		    len, s->want_len);
	if (*s->status != VIRTIO_BLK_S_OK)
		die(EXIT_DATA,
		    "queue %u: %s of %u bytes at sector %llu: status %u (%s)",
		    s->q->index, name, s->size, (unsigned long long)s->sector,
		    *s->status,
		    *s->status == VIRTIO_BLK_S_IOERR    ? "I/O error"
		    : *s->status == VIRTIO_BLK_S_UNSUPP ? "unsupported"
							: "invalid");
	fe->st.requests++;
}

static void complete(struct fe *fe, struct slot *s, uint32_t len)
{
	uint8_t got, want;
	int64_t bad;

	check_status(fe, s, len);
	switch (s->phase) {
	case PH_OUT:
		fe->st.out++;
		fe->st.bytes += s->size;
		/* read it back into a buffer that holds no trace of it */
		memset(s->data, 0xa5, s->size);
		s->phase = PH_IN;
		build(fe, s, VIRTIO_BLK_T_IN);
		break;
	case PH_IN:
		fe->st.in++;
		fe->st.bytes += s->size;
		bad = pattern_check(s->data, s->size, fe->seed, s->gen,
				    s->sector, &got, &want);
		if (bad >= 0)
			die(EXIT_DATA,
			    "data mismatch: queue %u, %u bytes at sector %llu, "
			    "byte %lld: read 0x%02x, wrote 0x%02x",
			    s->q->index, s->size,
			    (unsigned long long)s->sector, (long long)bad, got,
			    want);
		s->phase = PH_IDLE;
		break;
	default:
		if (s->type == VIRTIO_BLK_T_GET_ID) {
			fe->st.get_id++;
			memcpy(fe->id, s->data, VIRTIO_BLK_ID_BYTES);
			fe->id[VIRTIO_BLK_ID_BYTES] = 0;
		} else {
			fe->st.flush++;
		}
		s->phase = PH_IDLE;
		break;
	}
}

/* Collect every completed request. Returns the number collected. */
static unsigned int collect(struct fe *fe)
{
	unsigned int i, n = 0;

	for (i = 0; i < fe->nq; i++) {
		struct queue *q = &fe->q[i];

		for (;;) {
			void *token;
			uint32_t len;
			int r = xenvirtio_vq_drv_get(q->vq, &token, &len);

			if (r == 0)
				break;
			if (r < 0)
				die(EXIT_DATA,
				    "queue %u is broken: the device wrote a "
				    "bad used entry (see the log above)",
				    q->index);
			q->inflight--;
			complete(fe, token, len);
			n++;
		}
	}
	return n;
}

/*
 * Sleep until the device interrupts. The register socket is watched too:
 * a backend that dies closes it, and that ends the wait at once.
 */
static void wait_interrupt(struct fe *fe)
{
	struct pollfd p[2] = {
	    {.fd = fe->evfd, .events = POLLIN},
	    {.fd = fe->sock, .events = POLLIN},
	};
	int64_t deadline = now_ms() + fe->o.timeout_ms;
	uint32_t isr;
	int r;

	for (;;) {
		int64_t left = deadline - now_ms();

		if (left <= 0) {
			unsigned int i, n = 0;

			for (i = 0; i < fe->nq; i++)
				n += fe->q[i].inflight;
			gone("no interrupt within %d ms (%u requests in "
			     "flight)",
			     fe->o.timeout_ms, n);
		}
		r = poll(p, 2, (int)left);
		if (r < 0 && errno != EINTR)
			die(EXIT_SETUP, "poll: %s", strerror(errno));
		if (r <= 0)
			continue;
		if (p[1].revents)
			gone("connection closed");
		if (p[0].revents)
			break;
	}
	/* Events are hints: drain them, then look at the device. */
	while ((r = xenvirtio_evtchn_pending(fe->ctx)) > 0)
		xenvirtio_evtchn_unmask(fe->ctx, (unsigned int)r);
	fe->st.interrupts++;
	r = xenvirtio_mmio_drv_ack_interrupt(fe->drv, &isr);
	if (r < 0)
		transport_error("interrupt acknowledge", r);
	if (isr & XENVIRTIO_MMIO_INT_CONFIG) {
		uint32_t st;

		r = xenvirtio_mmio_sock_client_read(fe->cl,
						    XENVIRTIO_MMIO_STATUS, 4,
						    &st);
		if (r < 0)
			transport_error("status read", r);
		if (st & XENVIRTIO_STATUS_DEVICE_NEEDS_RESET)
			die(EXIT_DATA, "the device needs a reset (it found "
				       "this driver at fault)");
	}
}

/* One request on queue 0's first slot, waited for: GET_ID or FLUSH. */
static void special(struct fe *fe, uint32_t type)
{
	struct slot *s = &fe->q[0].slots[0];

	s->phase = PH_SPECIAL;
	s->size = 0;
	s->sector = 0;
	build(fe, s, type);
	while (!add(fe, s)) {
		wait_interrupt(fe);
		collect(fe);
	}
	kick(fe, s->q);
	while (s->phase == PH_SPECIAL)
		if (!collect(fe))
			wait_interrupt(fe);
}

static bool out_of_work(struct fe *fe)
{
	if (fe->stopping)
		return true;
	if (fe->o.requests) /* every pair started is two requests */
		fe->stopping = 2 * fe->next_gen >= fe->o.requests;
	else
		fe->stopping = elapsed(&fe->t0) >= fe->o.seconds;
	return fe->stopping;
}

static void run(struct fe *fe)
{
	unsigned int i, d;

	for (;;) {
		unsigned int inflight = 0, waiting = 0;

		for (i = 0; i < fe->nq; i++) {
			struct queue *q = &fe->q[i];
			bool added = false;

			for (d = 0; d < fe->o.depth; d++) {
				struct slot *s = &q->slots[d];

				if (s->phase == PH_IDLE && !out_of_work(fe))
					start_pair(fe, s);
				if (s->to_add) {
					if (!add(fe, s))
						break;
					added = true;
				}
			}
			if (added)
				kick(fe, q);
			inflight += q->inflight;
			for (d = 0; d < fe->o.depth; d++)
				waiting += q->slots[d].to_add;
		}
		if (collect(fe))
			continue;
		if (!inflight && !waiting)
			break;
		if (inflight)
			wait_interrupt(fe);
	}
}

/* ---- summary ---- */

static void summary(struct fe *fe, double secs)
{
	int64_t maps = xenvirtio_dma_counter(fe->dma, XENVIRTIO_DMA_CNT_MAPS);
	int64_t bounce = xenvirtio_dma_counter(fe->dma,
					       XENVIRTIO_DMA_CNT_BOUNCE_FRAMES);
	int64_t inplace = xenvirtio_dma_counter(
	    fe->dma, XENVIRTIO_DMA_CNT_INPLACE_FRAMES);
	double mibs = secs > 0 ? (double)fe->st.bytes / secs / 1048576.0 : 0;
	double per = fe->st.requests ? (double)maps / (double)fe->st.requests
				     : 0;
	const char *ring = fe->o.packed ? "packed" : "split";
	const char *mode = fe->grants ? "grant" : "foreign";
	bool indirect = has(fe, XENVIRTIO_F_INDIRECT_DESC);
	char sizes[MAX_SIZES * 12] = "";
	unsigned int i;
	size_t n = 0;

	for (i = 0; i < fe->o.nsizes; i++)
		n += (size_t)snprintf(sizes + n, sizeof(sizes) - n, "%s%u",
				      i ? "," : "", fe->o.sizes[i]);
	if (fe->o.json) {
		printf("{\"program\":\"" PROG "\",\"ring\":\"%s\","
		       "\"indirect\":%s,"
		       "\"mode\":\"%s\",\"mode_source\":\"%s\","
		       "\"queues\":%u,\"depth\":%u,\"sizes\":[%s],"
		       "\"requests\":%" PRIu64 ",\"out\":%" PRIu64
		       ",\"in\":%" PRIu64 ",\"flush\":%" PRIu64
		       ",\"get_id\":%" PRIu64 ",\"bytes\":%" PRIu64
		       ",\"seconds\":%.3f,\"mib_per_s\":%.2f,"
		       "\"map_calls\":%" PRId64
		       ",\"map_calls_per_request\":%.2f,"
		       "\"inplace_frames\":%" PRId64
		       ",\"bounce_frames\":%" PRId64 ",\"kicks\":%" PRIu64
		       ",\"interrupts\":%" PRIu64
		       ",\"verified\":true}\n",
		       ring, indirect ? "true" : "false", mode,
		       fe->policy_source, fe->nq, fe->o.depth,
		       sizes, fe->st.requests, fe->st.out, fe->st.in,
		       fe->st.flush, fe->st.get_id, fe->st.bytes, secs, mibs,
		       maps, per, inplace, bounce, fe->st.kicks,
		       fe->st.interrupts);
		return;
	}
	printf(PROG ": ring %s%s, mode %s (%s), queues %u, depth %u, "
		    "sizes %s\n",
	       ring, indirect ? " (indirect)" : "", mode, fe->mode_why, fe->nq,
	       fe->o.depth, sizes);
	printf(PROG ": requests %" PRIu64 " (out %" PRIu64 ", in %" PRIu64
		    ", flush %" PRIu64 ", get-id %" PRIu64 "), bytes %" PRIu64
		    ", seconds %.2f, %.1f MiB/s, map calls %" PRId64
		    " (%.2f/request), every byte verified\n",
	       fe->st.requests, fe->st.out, fe->st.in, fe->st.flush,
	       fe->st.get_id, fe->st.bytes, secs, mibs, maps, per);
}

int main(int argc, char **argv)
{
	static struct fe fe_storage;
	struct fe *fe = &fe_storage;
	char sock_path[256];
	unsigned int remote_port, i;
	const char *seed;
	double secs;
	int r;

	signal(SIGPIPE, SIG_IGN);
	parse_opts(&fe->o, argc, argv);
	fe->sock = -1;
	r = xenvirtio_ctx_open_log(fe->o.platform, xenvirtio_log_stderr,
				   (void *)PROG,
				   fe->o.verbose ? XENVIRTIO_LOG_INFO
						 : XENVIRTIO_LOG_WARNING,
				   &fe->ctx);
	if (r < 0)
		die(EXIT_SETUP, "platform '%s': %s", fe->o.platform,
		    xenvirtio_strerror(r));
	g_fe = fe;
	seed = getenv("BLK_FRONTEND_SEED");
	fe->seed = seed ? strtoull(seed, NULL, 0)
			: (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);

	find_device(fe, sock_path, sizeof(sock_path), &remote_port);
	decide_mode(fe);
	open_dma(fe);
	connect_device(fe, sock_path, remote_port);
	negotiate(fe);
	plan_io(fe);

	fe->q = calloc(fe->nq, sizeof(*fe->q));
	if (!fe->q)
		die(EXIT_SETUP, "out of memory");
	for (i = 0; i < fe->nq; i++)
		setup_queue(fe, &fe->q[i], i);
	r = xenvirtio_mmio_drv_driver_ok(fe->drv);
	if (r == -EIO)
		die(EXIT_DATA, "the device did not accept DRIVER_OK");
	if (r < 0)
		transport_error("DRIVER_OK", r);

	clock_gettime(CLOCK_MONOTONIC, &fe->t0);
	special(fe, VIRTIO_BLK_T_GET_ID);
	verbose(fe, "device id '%s'", fe->id);
	run(fe);
	if (has(fe, VIRTIO_BLK_F_FLUSH))
		special(fe, VIRTIO_BLK_T_FLUSH);
	secs = elapsed(&fe->t0);
	summary(fe, secs);
	fflush(stdout);

	/* Orderly teardown: reset the device, then revoke everything. */
	r = xenvirtio_mmio_drv_reset(fe->drv);
	if (r < 0)
		transport_error("device reset", r);
	for (i = 0; i < fe->nq; i++)
		free_queue(fe, &fe->q[i]);
	free(fe->q);
	xenvirtio_mmio_drv_free(fe->drv);
	xenvirtio_mmio_sock_client_free(fe->cl);
	xenvirtio_evtchn_unbind(fe->ctx, (unsigned int)fe->port);
	r = xenvirtio_dma_broken(fe->dma);
	xenvirtio_dma_close(fe->dma);
	xenvirtio_ctx_close(fe->ctx);
	if (r < 0) {
		fprintf(stderr, PROG ": the backend kept buffers mapped after "
				"the reset (leaked, see above)\n");
		return EXIT_DATA;
	}
	return EXIT_OK;
}
