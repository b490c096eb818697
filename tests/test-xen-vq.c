/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Two-process virtqueue round trip on the real Xen platform (run inside dom0
 * by `make check-xen`): the driver side (xenvirtio_vq_drv_* over the DMA
 * layer, which shares pages with gntshr/gntalloc) in the test process, the
 * device side (grant-mode mapper over gnttab/gntdev, its own context) in a
 * forked child; both are domid 0, so the driver grants to its own domain.
 * Random requests of up to three readable and two writable buffers, split
 * and packed rings, completed out of order; the device checks every
 * readable byte by checksum and writes every writable byte, the driver
 * checks every written byte and every used length. The rings of a queue
 * of 64 fit one frame (one coherent grant, no consecutive refs needed);
 * the DMA layer makes one descriptor per 4 KiB frame on Xen. Without
 * /dev/xen/gntdev the same program runs on a simulated world (domids 1 and
 * 0). Split, split with grant copy, and packed rings, direct chains and
 * chains in indirect tables.
 */
#include "xv-test.h"

#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>

#include "vq_internal.h"
#include "vq-serve.h"

#define QSIZE 64u
#define SLOTS 8u
#define MAXOUT 3u
#define MAXIN 2u
#define MAXLEN 10000u

static bool on_xen(void)
{
	return access("/dev/xen/gntdev", F_OK) == 0;
}

/*
 * Requests in flight at most (XV_XEN_VQ_SLOTS, 1..SLOTS). With the default,
 * chains of up to 15 one-frame segments exhaust the 64 descriptors on Xen,
 * so the driver's -ENOSPC path (a failed add must leave the ring intact) is
 * exercised.
 */
static unsigned int nslots(void)
{
	const char *v = getenv("XV_XEN_VQ_SLOTS");

	if (v && atoi(v) > 0 && atoi(v) <= (int)SLOTS)
		return (unsigned int)atoi(v);
	return SLOTS;
}

static uint32_t rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* The byte the device writes at index @i of the response to @sum. */
/* Requests per run (XV_XEN_VQ_REQS); under QEMU's TCG about 3 per second. */
static uint32_t total_reqs(void)
{
	const char *v = getenv("XV_XEN_VQ_REQS");

	if (v && *v && atoi(v) > 0)
		return (uint32_t)atoi(v);
	v = getenv("XV_VALGRIND");
	return v && *v ? 100 : on_xen() ? 100 : 500;
}

/*
 * The two contexts' specs and the frontend's domid: "xen" twice and 0 in
 * dom0; without /dev/xen/gntdev the same program runs on a simulated world.
 */
static char drv_spec[128] = "xen", dev_spec[128] = "xen";
static unsigned int front_domid;

/* ---- device side (forked child; no Check calls, exit codes) ---- */
static unsigned int dev_errors;

static void dev_log(void *opaque, enum xenvirtio_log_level level,
		    const char *msg)
{
	(void)opaque;
	if (level <= XENVIRTIO_LOG_ERR)
		dev_errors++;
	fprintf(stderr, "  device: %s\n", msg);
}

/* Chains in indirect tables (the driver's tables come one frame at a time
 * on gntalloc; the device reads them by grant copy). */
static bool use_indirect;

static int device(int fd, uint32_t copy)
{
	struct xenvirtio_ctx *ctx;
	struct xenvirtio_mapper *m;
	struct xenvirtio_vq *vq;
	struct xenvirtio_vq_config cfg;
	struct xenvirtio_vq_elem held[SLOTS];
	struct iovec iovs[SLOTS][QSIZE]; /* a segment per 4 KiB frame */
	struct xenvirtio_mapper_stats st;
	bool busy[SLOTS] = { false }, finished = false;
	uint32_t seed = 99, served = 0;
	unsigned int i, k;
	char c;

	if (xenvirtio_ctx_open_log(dev_spec, dev_log, NULL, XENVIRTIO_LOG_ERR,
				   &ctx) < 0)
		return 10;
	if (read(fd, &cfg, sizeof(cfg)) != sizeof(cfg))
		return 11;
	if (xenvirtio_mapper_open(ctx, XENVIRTIO_MAPPER_GRANT, front_domid,
				  &m) < 0)
		return 12;
	if (copy && xenvirtio_mapper_set_copy_threshold(m, copy) < 0)
		return 13;
	if (xenvirtio_vq_new(m, QSIZE, &vq) < 0 ||
	    xenvirtio_vq_enable(vq, &cfg) < 0)
		return 14;
	for (i = 0; i < SLOTS; i++) {
		held[i].iov = iovs[i];
		held[i].iov_cap = QSIZE;
	}
	if (getenv("XV_XEN_VQ_DEBUG"))
		fprintf(stderr, "  device: enabled, rings %llx %llx %llx\n",
			(unsigned long long)cfg.desc_addr,
			(unsigned long long)cfg.driver_addr,
			(unsigned long long)cfg.device_addr);
	while (!finished) {
		unsigned int act[SLOTS], nact = 0, fr = SLOTS;
		int r = 0;

		for (k = 0; k < SLOTS; k++) {
			if (busy[k])
				act[nact++] = k;
			else if (fr == SLOTS)
				fr = k;
		}
		if (fr < SLOTS) {
			struct xenvirtio_vq_elem *e = &held[fr];

			r = xenvirtio_vq_pop(vq, e);
			if (r < 0) {
				fprintf(stderr, "  device: pop: %d\n", r);
				return 20;
			}
			if (r == 1) {
				vq_serve_elem(e);
				busy[fr] = true;
				act[nact++] = fr;
			}
		}
		/* complete a random held request, out of order */
		if (nact && (r != 1 || rnd(&seed) % 3 == 0)) {
			k = act[rnd(&seed) % nact];
			if (served < 3 && getenv("XV_XEN_VQ_DEBUG"))
				fprintf(stderr,
					"  device: push head %u out %u in %u "
					"in_len %u\n", held[k].id,
					held[k].out_num, held[k].in_num,
					held[k].in_len);
			if (xenvirtio_vq_push(vq, &held[k], held[k].in_len) < 0)
				return 21;
			xenvirtio_vq_should_notify(vq);
			busy[k] = false;
			served++;
			nact--;
		}
		if (r == 0 && !nact) {
			struct pollfd pfd = { .fd = fd, .events = POLLIN };

			if (poll(&pfd, 1, 0) == 1 && read(fd, &c, 1) == 1)
				finished = true;
			else
				sched_yield();
		}
	}
	if (served != total_reqs())
		return 30;
	if (xenvirtio_mapper_get_stats(m, &st) < 0 || st.requests != served)
		return 31;
	printf("  device: %u requests, %llu map calls, %llu copy calls\n",
	       served, (unsigned long long)st.map_calls,
	       (unsigned long long)st.copy_calls);
	fflush(stdout);
	xenvirtio_vq_free(vq);
	xenvirtio_mapper_close(m);
	xenvirtio_ctx_close(ctx);
	if (write(fd, "U", 1) != 1)
		return 32;
	return dev_errors ? 40 : 0;
}

/* ---- driver side (test process) ---- */
struct rq {
	struct iovec out[MAXOUT], in[MAXIN];
	unsigned int nout, nin;
	uint32_t in_len, sum;
	bool busy;
};

static void rq_free(struct rq *r)
{
	unsigned int k;

	for (k = 0; k < r->nout; k++)
		free(r->out[k].iov_base);
	for (k = 0; k < r->nin; k++)
		free(r->in[k].iov_base);
}

static void roundtrip(bool packed, uint32_t copy)
{
	static struct rq rqs[SLOTS];
	struct xenvirtio_ctx *ctx;
	struct xenvirtio_dma *dma;
	struct xenvirtio_vq_drv *drv;
	struct xenvirtio_vq_config cfg;
	uint32_t seed = 0x1234567 + packed, done = 0, sent = 0, nospc = 0;
	uint32_t total = total_reqs();
	unsigned int i, k, j, inflight = 0;
	time_t t0 = time(NULL), last = t0;
	int sv[2], status, rc;
	pid_t pid;
	char c;

	char dir[] = "/tmp/xvxq-XXXXXX", world[64];
	bool sim = !on_xen();

	xv_test_expect_errors(0);
	if (sim) {
		ck_assert_ptr_nonnull(mkdtemp(dir));
		snprintf(world, sizeof(world), "%s/w", dir);
		ck_assert_int_eq(
			xenvirtio_sim_world_create(world, 2, 2048, 4096), 0);
		snprintf(drv_spec, sizeof(drv_spec), "sim:%s,domid=1", world);
		snprintf(dev_spec, sizeof(dev_spec), "sim:%s,domid=0", world);
		front_domid = 1;
	}
	memset(rqs, 0, sizeof(rqs));
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	fflush(stdout);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(sv[0]);
		rc = device(sv[1], copy);
		if (rc)
			fprintf(stderr, "  device: exit %d\n", rc);
		_exit(rc);
	}
	close(sv[1]);

	ck_assert_int_eq(xenvirtio_ctx_open_log(drv_spec, xv_test_log, NULL,
						XENVIRTIO_LOG_ERR, &ctx),
			 0);
	ck_assert_int_eq(xenvirtio_ctx_domid(ctx), (int)front_domid);
	ck_assert_int_eq(xenvirtio_dma_open(ctx, 0, &dma), 0);
	ck_assert_int_eq(xenvirtio_vq_drv_new(
				 ctx, dma,
				 (1ULL << XENVIRTIO_F_VERSION_1) |
					 (1ULL << XENVIRTIO_F_EVENT_IDX) |
					 (1ULL << XENVIRTIO_F_ACCESS_PLATFORM) |
					 (packed ? 1ULL << XENVIRTIO_F_RING_PACKED
						 : 0) |
					 (use_indirect
						  ? 1ULL << XENVIRTIO_F_INDIRECT_DESC
						  : 0),
				 QSIZE, &drv),
			 0);
	memset(&cfg, 0, sizeof(cfg));
	ck_assert_int_eq(xenvirtio_vq_drv_config(drv, &cfg), 0);
	ck_assert_int_eq(write(sv[0], &cfg, sizeof(cfg)), sizeof(cfg));
	if (getenv("XV_XEN_VQ_DEBUG"))
		fprintf(stderr, "  driver: rings %llx %llx %llx\n",
			(unsigned long long)cfg.desc_addr,
			(unsigned long long)cfg.driver_addr,
			(unsigned long long)cfg.device_addr);

	while (done < total) {
		bool progress = false;

		for (i = 0; i < nslots() && sent < total; i++) {
			struct rq *r = &rqs[i];

			if (r->busy)
				continue;
			r->nout = 1 + rnd(&seed) % MAXOUT;
			r->nin = rnd(&seed) % (MAXIN + 1);
			r->sum = 0;
			r->in_len = 0;
			for (k = 0; k < r->nout; k++) {
				uint8_t *b;

				r->out[k].iov_len = 1 + rnd(&seed) % MAXLEN;
				b = r->out[k].iov_base =
					malloc(r->out[k].iov_len);
				ck_assert_ptr_nonnull(b);
				for (j = 0; j < r->out[k].iov_len; j++) {
					b[j] = (uint8_t)rnd(&seed);
					r->sum = r->sum * 131 + b[j];
				}
			}
			for (k = 0; k < r->nin; k++) {
				r->in[k].iov_len = 1 + rnd(&seed) % MAXLEN;
				r->in[k].iov_base = malloc(r->in[k].iov_len);
				ck_assert_ptr_nonnull(r->in[k].iov_base);
				memset(r->in[k].iov_base, 0xcc,
				       r->in[k].iov_len);
				r->in_len += (uint32_t)r->in[k].iov_len;
			}
			rc = xenvirtio_vq_drv_add(drv, r->out, r->nout, r->in,
						  r->nin, r);
			if (rc == -ENOSPC && inflight) {
				/* F7 backpressure: retry after collecting */
				rq_free(r);
				nospc++;
				break;
			}
			ck_assert_int_eq(rc, 0);
			inflight++;
			r->busy = true;
			sent++;
			progress = true;
		}
		ck_assert_int_ge(xenvirtio_vq_drv_kick_prepare(drv), 0);
		for (;;) {
			void *tok = NULL;
			uint32_t len = 0, w = 0;
			struct rq *r;

			rc = xenvirtio_vq_drv_get(drv, &tok, &len);
			ck_assert_int_ge(rc, 0);
			if (!rc)
				break;
			r = tok;
			ck_assert_ptr_nonnull(r);
			ck_assert(r->busy);
			ck_assert_uint_eq(len, r->in_len);
			for (k = 0; k < r->nin; k++) {
				const uint8_t *b = r->in[k].iov_base;

				for (j = 0; j < r->in[k].iov_len; j++, w++)
					ck_assert_msg(b[j] == vq_resp_byte(r->sum, w),
						      "byte %u of %u", w,
						      r->in_len);
			}
			rq_free(r);
			r->busy = false;
			inflight--;
			done++;
			progress = true;
		}
		if (progress) {
			last = time(NULL);
		} else {
			/* a lost request is a failure, not a hang */
			ck_assert_msg(time(NULL) - last < 60,
				      "no progress for 60 s: %u of %u done, "
				      "%u in flight", done, sent, inflight);
			sched_yield();
		}
		if (done && done % 100 == 0 && progress)
			fprintf(stderr, "  driver: %u/%u done, %ld s\n", done,
				total, (long)(time(NULL) - t0));
	}
	ck_assert_uint_eq(inflight, 0);
	ck_assert_int_eq(write(sv[0], "D", 1), 1);
	ck_assert_int_eq(read(sv[0], &c, 1), 1); /* device unmapped all */
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "device failed: status 0x%x", status);
	printf("  driver: %s%s%s: %u requests verified, %u -ENOSPC retries, "
	       "%ld s\n",
	       packed ? "packed" : "split", copy ? " (grant copy)" : "",
	       use_indirect ? " (indirect)" : "",
	       done, nospc, (long)(time(NULL) - t0));
	fflush(stdout);
	xenvirtio_vq_drv_free(drv);
	xenvirtio_dma_close(dma);
	xenvirtio_ctx_close(ctx);
	close(sv[0]);
	if (sim) {
		xenvirtio_sim_world_destroy(world);
		rmdir(dir);
	}
}

START_TEST(test_xen_vq_roundtrip_split)
{
	roundtrip(false, 0);
}
END_TEST

START_TEST(test_xen_vq_roundtrip_split_copy)
{
	roundtrip(false, 64);
}
END_TEST

START_TEST(test_xen_vq_roundtrip_packed)
{
	roundtrip(true, 0);
}
END_TEST

START_TEST(test_xen_vq_roundtrip_split_indirect)
{
	use_indirect = true;
	roundtrip(false, 64);
	use_indirect = false;
}
END_TEST

START_TEST(test_xen_vq_roundtrip_packed_indirect)
{
	use_indirect = true;
	roundtrip(true, 0);
	use_indirect = false;
}
END_TEST

int main(void)
{
	Suite *s = suite_create("xen-vq");
	TCase *tc = tcase_create("xen");

	if (access("/dev/xen/gntdev", F_OK) != 0)
		printf("no /dev/xen/gntdev: on the simulated platform\n");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_xen_vq_roundtrip_split);
	tcase_add_test(tc, test_xen_vq_roundtrip_split_copy);
	tcase_add_test(tc, test_xen_vq_roundtrip_packed);
	tcase_add_test(tc, test_xen_vq_roundtrip_split_indirect);
	tcase_add_test(tc, test_xen_vq_roundtrip_packed_indirect);
	suite_add_tcase(s, tc);
	return xv_test_run(s);
}
