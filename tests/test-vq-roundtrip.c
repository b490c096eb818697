/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Round trip across two processes on the simulated platform: a frontend
 * domain grants its memory and drives split or packed rings with random
 * chains (shapes, sizes, indirect tables); the backend pops them through a
 * grant-mode mapper, checks every readable byte, writes every writable
 * byte, and completes requests out of order. The frontend checks every
 * used id, length and byte: 100 000 requests over the three runs
 * (scaled down under valgrind).
 */
#include "xv-test.h"

#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "vq_internal.h"
#include "vq-serve.h"
#include "test-vq-tdrv.h"

#define NUM 128u
#define NFRAMES 320u
#define DATA 0x20000u
#define SLOTS 16u
#define SLOT_SIZE 0x10000u
#define MAXBUF 6u

struct req {
	bool busy;
	uint16_t id;
	unsigned int n;
	struct tbuf b[MAXBUF];
	uint32_t in_len;
	uint32_t sum; /* of the readable bytes */
};

static unsigned int scale = 1;

/* 100 000 requests over the three runs (40 + 20 + 40 thousand). */
static unsigned int total_reqs(void)
{
	const char *v = getenv("XV_VALGRIND");

	return (v && *v ? 500 : 20000) * scale;
}

static uint32_t rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* The byte the backend writes at index @i of a response to @sum. */
static void wait_ready(int fd)
{
	char c;

	ck_assert_int_eq(read(fd, &c, 1), 1);
}

/* ---- frontend (child) ---- */
static int frontend(const char *world, bool packed, int cfg_fd)
{
	struct xenvirtio_ctx *ctx;
	struct xv_platform *p;
	struct xenvirtio_vq_config cfg;
	static struct req reqs[SLOTS];
	static uint16_t nd_by_id[SLOTS];
	struct tdrv t;
	uint8_t *mem;
	void *va;
	uint32_t seed = 0x1234567 + packed, done = 0, sent = 0;
	uint32_t free_descs = NUM, total = total_reqs();
	char spec[256];
	unsigned int i;

	snprintf(spec, sizeof(spec), "sim:%s,domid=1", world);
	if (xenvirtio_ctx_open(spec, &ctx) < 0)
		return 10;
	p = xv_plat(ctx);
	if (p->ops->frames_alloc(p, NFRAMES, &va) < 0)
		return 11;
	mem = va;
	for (i = 0; i < NFRAMES; i++) {
		uint64_t gfn;

		if (p->ops->frame_lookup(p, mem + i * 4096ul, &gfn) < 0 ||
		    p->ops->grant_access(p, 8 + i, 0, gfn, false) < 0)
			return 12;
	}
	memset(&cfg, 0, sizeof(cfg)); /* no stack garbage in the padding */
	tdrv_init(&t, mem, 0, NUM, packed, true, true);
	t.nd_by_id = nd_by_id;
	tdrv_config(&t, &cfg, 0);
	if (write(cfg_fd, &cfg, sizeof(cfg)) != sizeof(cfg))
		return 13;

	while (done < total) {
		uint32_t id, len;
		bool progress = false;

		/* submit into every free slot */
		for (i = 0; i < SLOTS && sent < total; i++) {
			struct req *r = &reqs[i];
			uint32_t off = DATA + i * SLOT_SIZE, k, j;
			bool ind;
			unsigned int nin;

			if (r->busy)
				continue;
			r->n = 1 + rnd(&seed) % MAXBUF;
			ind = rnd(&seed) % 4 == 0;
			if (packed && !ind && free_descs < r->n)
				break;
			if (packed && ind && free_descs < 1)
				break;
			nin = rnd(&seed) % (r->n + 1);
			r->sum = 0;
			r->in_len = 0;
			for (k = 0; k < r->n; k++) {
				uint32_t l = 1 + rnd(&seed) % 9000;

				off += rnd(&seed) % 64;
				r->b[k].off = off;
				r->b[k].len = l;
				r->b[k].write = k >= r->n - nin;
				if (r->b[k].write) {
					memset(mem + off, 0xcc, l);
					r->in_len += l;
				} else {
					for (j = 0; j < l; j++) {
						uint8_t v = (uint8_t)rnd(&seed);

						mem[off + j] = v;
						r->sum = r->sum * 131 + v;
					}
				}
				off += l;
			}
			if (!packed)
				t.next_desc = i * 8;
			r->id = tdrv_add(&t, r->b, r->n, ind, (uint16_t)i);
			nd_by_id[i] = (uint16_t)(ind ? 1 : r->n);
			if (packed)
				free_descs -= nd_by_id[i];
			r->busy = true;
			sent++;
			progress = true;
		}
		while (tdrv_get_used(&t, &id, &len, 0)) {
			uint32_t slot = packed ? id : id / 8, k, j, w = 0;
			struct req *r = &reqs[slot];

			if (slot >= SLOTS || !r->busy || r->id != id)
				return 20; /* F6: an id we never gave */
			if (len != r->in_len)
				return 21;
			for (k = 0; k < r->n; k++) {
				if (!r->b[k].write)
					continue;
				for (j = 0; j < r->b[k].len; j++, w++)
					if (mem[r->b[k].off + j] !=
					    vq_resp_byte(r->sum, w))
						return 22;
			}
			r->busy = false;
			if (packed)
				free_descs += nd_by_id[slot];
			done++;
			progress = true;
		}
		if (!progress)
			sched_yield();
	}
	/* tell the backend we are done: a used_event-free marker */
	if (write(cfg_fd, "D", 1) != 1)
		return 14;
	wait_ready(cfg_fd); /* the backend unmapped everything */
	xenvirtio_ctx_close(ctx);
	return 0;
}

/* ---- backend (parent) ---- */
static void backend(const char *world, bool packed, uint32_t copy, int fd)
{
	struct xenvirtio_ctx *ctx;
	struct xenvirtio_mapper *m;
	struct xenvirtio_vq *vq;
	struct xenvirtio_vq_config cfg;
	struct xenvirtio_vq_elem held[SLOTS];
	struct iovec iovs[SLOTS][MAXBUF];
	struct xenvirtio_mapper_stats st;
	bool busy[SLOTS] = { false };
	unsigned int i;
	uint32_t seed = 99, served = 0;
	char spec[256], c;
	bool finished = false;

	snprintf(spec, sizeof(spec), "sim:%s,domid=0", world);
	ck_assert_int_eq(xenvirtio_ctx_open_log(spec, xv_test_log, NULL,
						XENVIRTIO_LOG_ERR, &ctx),
			 0);
	ck_assert_int_eq(read(fd, &cfg, sizeof(cfg)), sizeof(cfg));
	ck_assert_int_eq(xenvirtio_mapper_open(ctx, XENVIRTIO_MAPPER_GRANT, 1,
					       &m),
			 0);
	if (copy)
		ck_assert_int_eq(xenvirtio_mapper_set_copy_threshold(m, copy),
				 0);
	ck_assert_int_eq(xenvirtio_vq_new(m, NUM, &vq), 0);
	ck_assert_int_eq(xenvirtio_vq_enable(vq, &cfg), 0);
	for (i = 0; i < SLOTS; i++) {
		held[i].iov = iovs[i];
		held[i].iov_cap = MAXBUF;
	}
	while (!finished) {
		unsigned int act[SLOTS], nact = 0, fr = SLOTS, k;
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
			ck_assert_int_ge(r, 0);
			if (r == 1) {
				vq_serve_elem(e);
				busy[fr] = true;
				act[nact++] = fr;
			}
		}
		/* complete a random held request, out of order */
		if (nact && (r != 1 || rnd(&seed) % 3 == 0)) {
			k = act[rnd(&seed) % nact];
			ck_assert_int_eq(xenvirtio_vq_push(vq, &held[k],
							   held[k].in_len),
					 0);
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
	ck_assert_uint_eq(served, total_reqs());
	ck_assert_int_eq(xenvirtio_mapper_get_stats(m, &st), 0);
	ck_assert_uint_eq(st.requests, total_reqs());
	if (!copy) /* at most two map calls per request (RO + RW) */
		ck_assert_uint_le(st.map_calls, 3 + 2 * st.requests +
							st.requests);
	xenvirtio_vq_free(vq);
	xenvirtio_mapper_close(m);
	ck_assert_int_eq(write(fd, "U", 1), 1);
	xenvirtio_ctx_close(ctx);
}

static void roundtrip(bool packed, uint32_t copy)
{
	char dir[] = "/tmp/xvrt-XXXXXX", world[64];
	int sv[2], status;
	pid_t pid;

	xv_test_expect_errors(0);
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(world, sizeof(world), "%s/w", dir);
	ck_assert_int_eq(xenvirtio_sim_world_create(world, 2, 1024, 4096), 0);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(sv[0]);
		_exit(frontend(world, packed, sv[1]));
	}
	close(sv[1]);
	backend(world, packed, copy, sv[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "frontend failed: status 0x%x", status);
	close(sv[0]);
	xenvirtio_sim_world_destroy(world);
	rmdir(dir);
}

START_TEST(test_roundtrip_split_random)
{
	scale = 2;
	roundtrip(false, 0);
}
END_TEST

START_TEST(test_roundtrip_split_copy_random)
{
	scale = 1;
	roundtrip(false, 64);
}
END_TEST

START_TEST(test_roundtrip_packed_random)
{
	scale = 2;
	roundtrip(true, 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("vq-roundtrip");
	TCase *tc = tcase_create("sim");

	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_roundtrip_split_random);
	tcase_add_test(tc, test_roundtrip_split_copy_random);
	tcase_add_test(tc, test_roundtrip_packed_random);
	suite_add_tcase(s, tc);
	return xv_test_run(s);
}
