/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A grant map the platform refuses for lack of space, on the simulated
 * platform, split and packed. It is backpressure (-ENOSPC: the chain stays
 * in the ring and pops once space is free), with requests in flight or
 * none (another mapper, even another domain, may hold the space), and so
 * is "try again". Only a chain that needs more frames than the platform
 * can ever map (with this mapper's rings) would stall the queue for good:
 * it is retired with used length 0 (-EFAULT, R16).
 */
#include "xv-test.h"

#include <sys/uio.h>

#include "vq_internal.h"
#include "sim-testworld.h"
#include "test-vq-tdrv.h"

#define NFRAMES 64u
#define DATA 0x20000u
#define BIG_FRAMES 8300u /* over the maptrack of a 2-domain world (8192) */

static struct xv_sim_test_world world;
static struct xenvirtio_ctx *front, *back;
static struct xenvirtio_mapper *m;
static struct xenvirtio_vq *vq;
static uint8_t *mem;
static struct tdrv t;

static void open_world_sized(bool packed, unsigned int nframes)
{
	struct xenvirtio_vq_config cfg;
	struct xv_platform *p;
	char spec[160];
	unsigned int i;
	void *va;

	xv_test_expect_errors(0);
	xv_sim_test_world_create(&world, 2, nframes + 16, nframes + 64);
	snprintf(spec, sizeof(spec), "sim:%s,domid=1", world.path);
	ck_assert_int_eq(xenvirtio_ctx_open(spec, &front), 0);
	snprintf(spec, sizeof(spec), "sim:%s,domid=0", world.path);
	ck_assert_int_eq(xenvirtio_ctx_open(spec, &back), 0);
	xenvirtio_ctx_set_log(back, xv_test_log, NULL, XENVIRTIO_LOG_DEBUG);
	p = xv_plat(front);
	ck_assert_int_eq(p->ops->frames_alloc(p, nframes, &va), 0);
	mem = va;
	for (i = 0; i < nframes; i++) {
		uint64_t gfn;

		ck_assert_int_eq(p->ops->frame_lookup(p, mem + i * 4096ul,
						      &gfn),
				 0);
		ck_assert_int_eq(p->ops->grant_access(p, 8 + i, 0, gfn, false),
				 0);
	}
	ck_assert_int_eq(xenvirtio_mapper_open(back, XENVIRTIO_MAPPER_GRANT, 1,
					       &m),
			 0);
	ck_assert_int_eq(xenvirtio_vq_new(m, 64, &vq), 0);
	tdrv_init(&t, mem, 0, 16, packed, false, true);
	tdrv_config(&t, &cfg, 0);
	ck_assert_int_eq(xenvirtio_vq_enable(vq, &cfg), 0);
}

static void open_world(bool packed)
{
	open_world_sized(packed, NFRAMES);
}

static void close_world(void)
{
	xenvirtio_vq_free(vq);
	xenvirtio_mapper_close(m);
	xenvirtio_ctx_close(back);
	xenvirtio_ctx_close(front);
	xv_sim_test_world_destroy(&world);
}

/* A small block-like request: header, one data frame, status. */
static uint16_t add_req(uint16_t id)
{
	struct tbuf b[3] = { { DATA, 16, false },
			     { DATA + 4096, 4096, true },
			     { DATA + 2 * 4096, 1, true } };

	return tdrv_add(&t, b, 3, false, id);
}

/* The next grant map call the backend makes fails with @err's status. */
static void inject_map(int err)
{
	ck_assert_int_eq(xenvirtio_sim_inject_fault(back,
						    XENVIRTIO_SIM_OP_MAP, 1,
						    err, 0, 0),
			 0);
}

static void inject_nospace(void)
{
	inject_map(-ENOSPC);
}

/* Nothing in flight: still backpressure, the space may be another's. */
static void nospace_idle(bool packed)
{
	struct iovec iov[8];
	struct xenvirtio_vq_elem e = { .iov = iov, .iov_cap = 8 };
	uint32_t uid = 0xdead, ulen = 0xdead;
	uint16_t id;

	open_world(packed);
	id = add_req(3);
	inject_nospace();
	ck_assert_int_eq(xenvirtio_vq_pop(vq, &e), -ENOSPC);
	ck_assert_int_eq(tdrv_get_used(&t, &uid, &ulen, 3), 0);
	ck_assert_uint_eq(m->inflight, 0);
	ck_assert_uint_eq(m->frames_now, 0);
	/* the same chain, once the platform has room */
	ck_assert_int_eq(xenvirtio_vq_pop(vq, &e), 1);
	ck_assert_uint_eq(e.id, id);
	ck_assert_int_eq(xenvirtio_vq_push(vq, &e, 1), 0);
	ck_assert_int_eq(tdrv_get_used(&t, &uid, &ulen, 3), 1);
	ck_assert_uint_eq(uid, id);
	ck_assert_uint_eq(ulen, 1);
	close_world();
}

/*
 * A chain larger than all the platform can map: retired, the queue goes
 * on. One just under the limit is served (the check is not eager).
 */
static void over_capacity(bool packed)
{
	struct iovec iov[8];
	struct xenvirtio_vq_elem e = { .iov = iov, .iov_cap = 8 };
	uint32_t uid = 0xdead, ulen = 0xdead, cap;
	struct tbuf b[2] = { { DATA, 16, false }, { DATA + 4096, 0, true } };
	uint16_t id;

	open_world_sized(packed, BIG_FRAMES);
	cap = xv_plat(back)->nr_map_entries;
	ck_assert_uint_eq(cap, 8192);
	ck_assert_uint_gt(m->ring_frames, 0);
	/* no mapper quota in the way: frames up to 65536 per chain */
	ck_assert_int_eq(xenvirtio_mapper_set_quota(m, 65536, 0), 0);

	/* header frame + data frames + the rings' frames > cap */
	b[1].len = (cap - m->ring_frames) * 4096u;
	id = tdrv_add(&t, b, 2, false, 1);
	ck_assert_int_eq(xenvirtio_vq_pop(vq, &e), -EFAULT);
	ck_assert_int_eq(tdrv_get_used(&t, &uid, &ulen, 2), 1);
	ck_assert_uint_eq(uid, id);
	ck_assert_uint_eq(ulen, 0);
	ck_assert_uint_eq(m->inflight, 0);

	/* exactly what is left: served */
	b[1].len = (cap - m->ring_frames - 1) * 4096u;
	id = tdrv_add(&t, b, 2, false, 2);
	ck_assert_int_eq(xenvirtio_vq_pop(vq, &e), 1);
	ck_assert_uint_eq(e.id, id);
	ck_assert_uint_eq(e.in_len, b[1].len);
	ck_assert_int_eq(xenvirtio_vq_push(vq, &e, 0), 0);
	ck_assert_int_eq(tdrv_get_used(&t, &uid, &ulen, 2), 1);
	ck_assert_uint_eq(uid, id);
	close_world();
}

/* A request in flight: backpressure; the chain pops after a push. */
static void nospace_busy(bool packed)
{
	struct iovec iov[8], iov2[8];
	struct xenvirtio_vq_elem a = { .iov = iov, .iov_cap = 8 };
	struct xenvirtio_vq_elem b = { .iov = iov2, .iov_cap = 8 };
	uint32_t uid = 0xdead, ulen = 0xdead;
	uint16_t ida, idb;

	open_world(packed);
	ida = add_req(1);
	ck_assert_int_eq(xenvirtio_vq_pop(vq, &a), 1);
	ck_assert_uint_eq(a.id, ida);
	idb = add_req(2);
	inject_nospace();
	ck_assert_int_eq(xenvirtio_vq_pop(vq, &b), -ENOSPC);
	/* not retired: no used element, and the same chain comes again */
	ck_assert_int_eq(tdrv_get_used(&t, &uid, &ulen, 3), 0);
	ck_assert_uint_eq(m->inflight, 1);
	ck_assert_int_eq(xenvirtio_vq_push(vq, &a, 0), 0);
	ck_assert_int_eq(tdrv_get_used(&t, &uid, &ulen, 3), 1);
	ck_assert_uint_eq(uid, ida);
	ck_assert_int_eq(xenvirtio_vq_pop(vq, &b), 1);
	ck_assert_uint_eq(b.id, idb);
	ck_assert_uint_eq(b.out_num, 1);
	ck_assert_uint_eq(b.in_num, 2);
	ck_assert_int_eq(xenvirtio_vq_push(vq, &b, 4097), 0);
	ck_assert_int_eq(tdrv_get_used(&t, &uid, &ulen, 3), 1);
	ck_assert_uint_eq(uid, idb);
	ck_assert_uint_eq(ulen, 4097);
	close_world();
}

/* "Try again" (a frame being paged in) is not "no space": backpressure
 * even with nothing in flight; the retry pops the chain. */
static void try_again_idle(bool packed)
{
	struct iovec iov[8];
	struct xenvirtio_vq_elem e = { .iov = iov, .iov_cap = 8 };
	uint32_t uid = 0xdead, ulen = 0xdead;
	uint16_t id;

	open_world(packed);
	id = add_req(5);
	inject_map(-EAGAIN);
	ck_assert_int_eq(xenvirtio_vq_pop(vq, &e), -ENOSPC);
	ck_assert_int_eq(tdrv_get_used(&t, &uid, &ulen, 3), 0);
	ck_assert_uint_eq(m->inflight, 0);
	ck_assert_int_eq(xenvirtio_vq_pop(vq, &e), 1);
	ck_assert_uint_eq(e.id, id);
	ck_assert_int_eq(xenvirtio_vq_push(vq, &e, 0), 0);
	close_world();
}

START_TEST(test_G8_nospace_nothing_in_flight_backpressure)
{
	nospace_idle(_i);
}
END_TEST

START_TEST(test_R16_chain_over_platform_capacity_retired)
{
	over_capacity(_i);
}
END_TEST

START_TEST(test_G8_nospace_in_flight_backpressure)
{
	nospace_busy(_i);
}
END_TEST

START_TEST(test_G8_try_again_backpressure)
{
	try_again_idle(_i);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("vq-nospace");
	TCase *tc = tcase_create("sim");

	/* _i: 0 split, 1 packed */
	tcase_add_loop_test(tc, test_G8_nospace_nothing_in_flight_backpressure,
			    0, 2);
	tcase_add_loop_test(tc, test_R16_chain_over_platform_capacity_retired,
			    0, 2);
	tcase_add_loop_test(tc, test_G8_nospace_in_flight_backpressure, 0, 2);
	tcase_add_loop_test(tc, test_G8_try_again_backpressure, 0, 2);
	suite_add_tcase(s, tc);
	return xv_test_run(s);
}
