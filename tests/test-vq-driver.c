/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Our driver side against our device side on the simulated platform: a
 * frontend domain (DMA layer, grants) and a backend domain (grant-mode
 * mapper) in one process; random requests verified byte for byte, out of
 * order; used elements validated (F6); reclaim on reset.
 *
 * The "-nogrant" cases run the same tests, unchanged, over a no-grant DMA
 * handle (XENVIRTIO_DMA_F_NO_GRANTS: guest-physical addresses) against a
 * FOREIGN-mode mapper in the privileged domain 0 of the same sim world.
 */
#include "xv-test.h"

#include <sys/uio.h>

#include "vq_internal.h"

static char dir[32], world[64];
static struct xenvirtio_ctx *fctx, *bctx;
static struct xenvirtio_dma *dma;
static struct xenvirtio_vq_drv *drv;
static struct xenvirtio_mapper *m;
static struct xenvirtio_vq *vq;

static bool packed, nogrant, indirect, kernel_refs;

static uint64_t features_of(bool p, bool ind)
{
	return (1ULL << XENVIRTIO_F_VERSION_1) |
	       (1ULL << XENVIRTIO_F_ACCESS_PLATFORM) |
	       (p ? 1ULL << XENVIRTIO_F_RING_PACKED : 0) |
	       (ind ? 1ULL << XENVIRTIO_F_INDIRECT_DESC : 0);
}

static void setup(void)
{
	struct xenvirtio_vq_config cfg;
	char spec[128];

	xv_test_expect_errors(0);
	snprintf(dir, sizeof(dir), "/tmp/xvdrv-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(world, sizeof(world), "%s/w", dir);
	ck_assert_int_eq(xenvirtio_sim_world_create(world, 2, 512, 4096), 0);
	/* kernel_refs: the platform picks refs, as Xen's gntalloc does: no
	 * multi-frame coherent area, so indirect tables go frame by frame */
	snprintf(spec, sizeof(spec), "sim:%s,domid=1%s", world,
		 kernel_refs ? ",refs=kernel" : "");
	ck_assert_int_eq(xenvirtio_ctx_open_log(spec, xv_test_log, NULL,
						XENVIRTIO_LOG_ERR, &fctx),
			 0);
	snprintf(spec, sizeof(spec), "sim:%s,domid=0", world);
	ck_assert_int_eq(xenvirtio_ctx_open_log(spec, xv_test_log, NULL,
						XENVIRTIO_LOG_ERR, &bctx),
			 0);
	{
		unsigned int fl = nogrant ? XENVIRTIO_DMA_F_NO_GRANTS : 0;

		ck_assert_int_eq(xenvirtio_dma_open_ex(fctx, 0, fl, 0, &dma),
				 0);
	}
	ck_assert_int_eq(xenvirtio_vq_drv_new(
				 fctx, dma,
				 features_of(packed, indirect) |
					 (1ULL << XENVIRTIO_F_EVENT_IDX),
				 64, &drv),
			 0);
	ck_assert_int_eq(xenvirtio_vq_drv_config(drv, &cfg), 0);
	ck_assert_int_eq(
		xenvirtio_mapper_open(bctx,
				      nogrant ? XENVIRTIO_MAPPER_FOREIGN
					      : XENVIRTIO_MAPPER_GRANT,
				      1, &m),
		0);
	ck_assert_int_eq(xenvirtio_vq_new(m, 64, &vq), 0);
	ck_assert_int_eq(xenvirtio_vq_enable(vq, &cfg), 0);
}

#define SETUP(name, p, ng, ind)                                              \
	static void setup_##name(void)                                       \
	{                                                                    \
		packed = p;                                                  \
		nogrant = ng;                                                \
		indirect = ind;                                              \
		kernel_refs = false;                                         \
		setup();                                                     \
	}
SETUP(split, false, false, false)
SETUP(packed, true, false, false)
SETUP(split_nogrant, false, true, false)
SETUP(packed_nogrant, true, true, false)
SETUP(split_indirect, false, false, true)
SETUP(packed_indirect, true, false, true)
SETUP(split_nogrant_indirect, false, true, true)
SETUP(packed_nogrant_indirect, true, true, true)

static void setup_split_kref_indirect(void)
{
	packed = nogrant = false;
	indirect = kernel_refs = true;
	setup();
}

static void setup_packed_kref_indirect(void)
{
	nogrant = false;
	packed = indirect = kernel_refs = true;
	setup();
}

static void teardown(void)
{
	xenvirtio_vq_free(vq);
	xenvirtio_mapper_close(m);
	xenvirtio_vq_drv_free(drv);
	xenvirtio_dma_close(dma);
	xenvirtio_ctx_close(fctx);
	xenvirtio_ctx_close(bctx);
	xenvirtio_sim_world_destroy(world);
	rmdir(dir);
}

static uint32_t rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

struct rq {
	struct iovec out[3], in[2];
	unsigned int nout, nin;
	uint32_t in_len, sum;
	bool busy;
};

static uint8_t resp(uint32_t sum, uint32_t i)
{
	return (uint8_t)(sum + i * 13);
}

START_TEST(test_driver_device_random)
{
	static struct rq rqs[8];
	struct xenvirtio_vq_elem held[8];
	struct iovec iovs[8][8];
	bool hbusy[8] = { false };
	uint32_t seed = 4242, done = 0, sent = 0;
	const char *vg = getenv("XV_VALGRIND");
	uint32_t total = vg && *vg ? 100 : 800, nospc = 0;
	unsigned int i, k, j, inflight = 0;
	int rc;

	for (i = 0; i < 8; i++) {
		held[i].iov = iovs[i];
		held[i].iov_cap = 8;
	}
	while (done < total) {
		/* driver: fill free slots */
		for (i = 0; i < 8 && sent < total; i++) {
			struct rq *r = &rqs[i];

			if (r->busy)
				continue;
			r->nout = 1 + rnd(&seed) % 3;
			r->nin = rnd(&seed) % 3;
			r->sum = 0;
			r->in_len = 0;
			for (k = 0; k < r->nout; k++) {
				uint8_t *b;

				r->out[k].iov_len = 1 + rnd(&seed) % 10000;
				b = r->out[k].iov_base =
					malloc(r->out[k].iov_len);
				for (j = 0; j < r->out[k].iov_len; j++) {
					b[j] = (uint8_t)rnd(&seed);
					r->sum = r->sum * 131 + b[j];
				}
			}
			for (k = 0; k < r->nin; k++) {
				r->in[k].iov_len = 1 + rnd(&seed) % 10000;
				r->in[k].iov_base = calloc(1, r->in[k].iov_len);
				r->in_len += (uint32_t)r->in[k].iov_len;
			}
			rc = xenvirtio_vq_drv_add(drv, r->out, r->nout, r->in,
						  r->nin, r);
			if (rc == -ENOSPC && inflight) {
				/* backpressure (F7): bounce frames or refs
				 * run out; retry once requests complete */
				for (k = 0; k < r->nout; k++)
					free(r->out[k].iov_base);
				for (k = 0; k < r->nin; k++)
					free(r->in[k].iov_base);
				nospc++;
				break;
			}
			ck_assert_int_eq(rc, 0);
			inflight++;
			r->busy = true;
			sent++;
		}
		xenvirtio_vq_drv_kick_prepare(drv);
		/* device: pop what it can, complete some out of order */
		for (i = 0; i < 8; i++) {
			struct xenvirtio_vq_elem *e = &held[i];
			uint32_t sum = 0, w = 0;
			int r;

			if (hbusy[i])
				continue;
			r = xenvirtio_vq_pop(vq, e);
			ck_assert_int_ge(r, 0);
			if (!r)
				break;
			for (k = 0; k < e->out_num; k++)
				for (j = 0; j < e->iov[k].iov_len; j++)
					sum = sum * 131 +
					      ((uint8_t *)e->iov[k].iov_base)[j];
			for (; k < e->out_num + e->in_num; k++)
				for (j = 0; j < e->iov[k].iov_len; j++, w++)
					((uint8_t *)e->iov[k].iov_base)[j] =
						resp(sum, w);
			hbusy[i] = true;
		}
		for (i = 0; i < 8; i++) {
			if (hbusy[i] && rnd(&seed) % 2) {
				ck_assert_int_eq(xenvirtio_vq_push(
							 vq, &held[i],
							 held[i].in_len),
						 0);
				hbusy[i] = false;
			}
		}
		xenvirtio_vq_should_notify(vq);
		/* driver: collect and check (F6 is checked by the library) */
		for (;;) {
			void *tok = NULL;
			uint32_t len = 0, w = 0, bad;
			struct rq *r;
			int g = xenvirtio_vq_drv_get(drv, &tok, &len);

			ck_assert_int_ge(g, 0);
			if (!g)
				break;
			r = tok;
			ck_assert(r >= rqs && r < rqs + 8 && r->busy);
			ck_assert_uint_eq(len, r->in_len);
			/* one assertion per request: Check writes a pipe
			 * message for every assertion that passes */
			bad = 0;
			for (k = 0; k < r->nin; k++)
				for (j = 0; j < r->in[k].iov_len; j++, w++) {
					uint8_t *ib = r->in[k].iov_base;

					bad += ib[j] != resp(r->sum, w);
				}
			ck_assert_uint_eq(bad, 0);
			for (k = 0; k < r->nout; k++)
				free(r->out[k].iov_base);
			for (k = 0; k < r->nin; k++)
				free(r->in[k].iov_base);
			r->busy = false;
			inflight--;
			done++;
		}
	}
	ck_assert_uint_eq(done, total);
	printf("driver round trip: %u requests, %u backpressure retries\n",
	       done, nospc);
}
END_TEST

/* F6: a used id the driver never made available, and a used length
 * beyond the writable buffers, break the queue; reset reclaims. */
START_TEST(test_F6_used_id_and_len_validated)
{
	static uint8_t obuf[100], ibuf[10];
	struct iovec o = { obuf, sizeof(obuf) }, in = { ibuf, sizeof(ibuf) };
	struct xenvirtio_vq_elem e;
	struct iovec iov[4];
	struct xv_map_rec *rec;
	void *tok;
	uint32_t len;
	uint8_t *u;

	xv_test_expect_errors(2);
	e.iov = iov;
	e.iov_cap = 4;
	ck_assert_int_eq(xenvirtio_vq_drv_add(drv, &o, 1, &in, 1, obuf), 0);
	ck_assert_int_eq(xenvirtio_vq_drv_kick_prepare(drv), 1);
	ck_assert_int_eq(xenvirtio_vq_pop(vq, &e), 1);
	ck_assert_int_eq(xenvirtio_vq_push(vq, &e, 10), 0);
	/* the device's used element, rewritten by a hostile device */
	u = packed ? vq->desc + 8 : vq->device + 8;
	xv_store_le32(u, 11);
	ck_assert_int_eq(xenvirtio_vq_drv_get(drv, &tok, &len), -EIO);
	ck_assert_int_eq(xenvirtio_vq_drv_get(drv, &tok, &len), -EIO);
	ck_assert_int_eq(xenvirtio_vq_drv_reset(drv), 0);
	xenvirtio_vq_reset(vq);

	{
		struct xenvirtio_vq_config cfg;

		ck_assert_int_eq(xenvirtio_vq_drv_config(drv, &cfg), 0);
		ck_assert_int_eq(xenvirtio_vq_enable(vq, &cfg), 0);
	}
	ck_assert_int_eq(xenvirtio_vq_drv_add(drv, &o, 1, &in, 1, obuf), 0);
	ck_assert_int_eq(xenvirtio_vq_pop(vq, &e), 1);
	rec = &vq->recs[e.priv_slot];
	(void)rec;
	ck_assert_int_eq(xenvirtio_vq_push(vq, &e, 3), 0);
	if (packed) /* id not in flight */
		xv_store_le16(vq->desc + 12, 63);
	else
		xv_store_le32(vq->device + 4, 63);
	ck_assert_int_eq(xenvirtio_vq_drv_get(drv, &tok, &len), -EIO);
	ck_assert_int_eq(xenvirtio_vq_drv_reset(drv), 0);
}
END_TEST

START_TEST(test_driver_add_errors)
{
	static uint8_t b[16];
	struct iovec o = { b, sizeof(b) }, z = { b, 0 };
	void *tok;
	uint32_t len;

	ck_assert_int_eq(xenvirtio_vq_drv_add(drv, &o, 1, NULL, 0, NULL),
			 -EINVAL);
	ck_assert_int_eq(xenvirtio_vq_drv_add(drv, NULL, 0, NULL, 0, b),
			 -EINVAL);
	ck_assert_int_eq(xenvirtio_vq_drv_add(drv, &z, 1, NULL, 0, b),
			 -EINVAL);
	ck_assert_int_eq(xenvirtio_vq_drv_get(drv, &tok, &len), 0);
	ck_assert_int_eq(xenvirtio_vq_drv_new(fctx, dma, 0, 64, &drv),
			 -EINVAL);
	ck_assert_int_eq(xenvirtio_vq_drv_new(
				 fctx, dma, 1ULL << XENVIRTIO_F_VERSION_1, 48,
				 &drv),
			 -EINVAL);
	/* backpressure: fill all 64 descriptors, the 65th waits */
	{
		unsigned int i;

		for (i = 0; i < 64; i++)
			ck_assert_int_eq(xenvirtio_vq_drv_add(drv, &o, 1, NULL,
							      0, b),
					 0);
		ck_assert_int_eq(xenvirtio_vq_drv_add(drv, &o, 1, NULL, 0, b),
				 -ENOSPC);
		/* misuse stays -EINVAL on a full ring */
		ck_assert_int_eq(xenvirtio_vq_drv_add(drv, &o, 1, &z, 1, b),
				 -EINVAL);
	}
}
END_TEST

/*
 * F7 / R16 (driver side): an add that fails part-way (here: backpressure on
 * the fourth buffer) must leave nothing in the ring the device could take
 * for a request; the next request is served normally.
 */
START_TEST(test_F7_failed_add_leaves_ring_intact)
{
	static uint8_t b[32];
	struct iovec o = { b, 16 }, many[20];
	/* with indirect tables, 20 buffers (more than a table's 16 entries)
	 * still go direct into the ring */
	unsigned int nmany = indirect ? 20 : 4;
	struct xenvirtio_vq_elem e;
	struct iovec iov[4];
	unsigned int i;
	uint32_t len;
	void *tok;

	for (i = 0; i < nmany; i++) {
		many[i].iov_base = b + i;
		many[i].iov_len = 1;
	}
	e.iov = iov;
	e.iov_cap = 4;
	for (i = 0; i < 61; i++)
		ck_assert_int_eq(xenvirtio_vq_drv_add(drv, &o, 1, NULL, 0, b),
				 0);
	/* three descriptors left: the fourth buffer does not fit */
	ck_assert_int_eq(xenvirtio_vq_drv_add(drv, many, nmany, NULL, 0, b),
			 -ENOSPC);
	for (i = 0; i < 61; i++) {
		ck_assert_int_eq(xenvirtio_vq_pop(vq, &e), 1);
		ck_assert_int_eq(xenvirtio_vq_push(vq, &e, 0), 0);
	}
	ck_assert_int_eq(xenvirtio_vq_pop(vq, &e), 0);
	for (i = 0; i < 61; i++)
		ck_assert_int_eq(xenvirtio_vq_drv_get(drv, &tok, &len), 1);
	/* one descriptor: the failed add's later slots must not follow it */
	ck_assert_int_eq(xenvirtio_vq_drv_add(drv, &o, 1, NULL, 0, b), 0);
	ck_assert_int_eq(xenvirtio_vq_pop(vq, &e), 1);
	ck_assert_uint_eq(e.out_num, 1);
	ck_assert_uint_eq(e.out_len, 16);
	ck_assert_int_eq(xenvirtio_vq_push(vq, &e, 0), 0);
	/* nothing left over from the failed add */
	ck_assert_int_eq(xenvirtio_vq_pop(vq, &e), 0);
	ck_assert_int_eq(xenvirtio_vq_drv_get(drv, &tok, &len), 1);
}
END_TEST

/* F7: on a queue smaller than the per-buffer segment limit, a buffer that
 * can never be mapped is -E2BIG, not a -ENOSPC the caller would retry. */
START_TEST(test_F7_never_fits_is_e2big_small_queue)
{
	struct xenvirtio_vq_drv *small;
	size_t big = 1u << 20; /* more frames than the bounce pool holds */
	uint8_t *b = malloc(big);
	struct iovec o = { b, big };

	ck_assert_ptr_nonnull(b);
	ck_assert_int_eq(xenvirtio_vq_drv_new(
				 fctx, dma,
				 (1ULL << XENVIRTIO_F_VERSION_1) |
					 (1ULL << XENVIRTIO_F_ACCESS_PLATFORM) |
					 (packed ? 1ULL << XENVIRTIO_F_RING_PACKED
						 : 0),
				 16, &small),
			 0);
	ck_assert_int_eq(xenvirtio_vq_drv_add(small, &o, 1, NULL, 0, b),
			 -E2BIG);
	ck_assert_int_eq(xenvirtio_vq_drv_add(drv, &o, 1, NULL, 0, b), -E2BIG);
	xenvirtio_vq_drv_free(small);
	free(b);
}
END_TEST

/* A driver/device queue pair of @size on the fixture's DMA handle (or
 * @d) and mapper, with @ind indirect tables. */
static void pair_new(struct xenvirtio_dma *d, uint32_t size, bool ind,
		     struct xenvirtio_vq_drv **dq, struct xenvirtio_vq **q)
{
	struct xenvirtio_vq_config cfg;

	ck_assert_int_eq(xenvirtio_vq_drv_new(fctx, d ? d : dma,
					      features_of(packed, ind), size,
					      dq),
			 0);
	ck_assert_int_eq(xenvirtio_vq_drv_config(*dq, &cfg), 0);
	ck_assert_int_eq(xenvirtio_vq_new(m, size, q), 0);
	ck_assert_int_eq(xenvirtio_vq_enable(*q, &cfg), 0);
}

/* Flags of ring descriptor @i as the device sees the ring. */
static uint16_t ring_flags(const struct xenvirtio_vq *q, uint32_t i)
{
	return xv_load_le16(q->desc + 16 * (size_t)i + (packed ? 14 : 12));
}

/*
 * F7: buffers that each fit the bounce pool but together never can are
 * -E2BIG too, not -ENOSPC forever (a caller retrying on -ENOSPC would spin
 * on an idle queue); what fits the pool is served.
 */
START_TEST(test_F7_request_over_bounce_pool_is_e2big)
{
	struct xenvirtio_dma *small_pool;
	struct xenvirtio_vq_drv *dq;
	static uint8_t hdr[16], st[1];
	struct iovec o = { hdr, sizeof(hdr) }, i = { st, sizeof(st) };
	uint8_t *big = malloc(320u << 10);
	struct iovec b[2] = { { big, 160u << 10 }, { big + (160u << 10),
						       160u << 10 } };
	void *tok;
	uint32_t len;
	struct xenvirtio_vq_elem e;
	struct iovec iov[40];
	struct xenvirtio_vq *q;

	ck_assert_ptr_nonnull(big);
	ck_assert_int_eq(xenvirtio_dma_open_ex(
				 fctx, 0, nogrant ? XENVIRTIO_DMA_F_NO_GRANTS : 0,
				 1, &small_pool),
			 0);
	pair_new(small_pool, 8, false, &dq, &q);
	/* one bounce frame each: two never fit a pool of one */
	ck_assert_int_eq(xenvirtio_vq_drv_add(dq, &o, 1, &i, 1, hdr), -E2BIG);
	ck_assert_int_eq(xenvirtio_vq_drv_add(dq, &o, 1, NULL, 0, hdr), 0);
	ck_assert_int_eq(xenvirtio_vq_drv_add(dq, NULL, 0, &i, 1, st), -ENOSPC);
	e.iov = iov;
	e.iov_cap = 40;
	ck_assert_int_eq(xenvirtio_vq_pop(q, &e), 1);
	ck_assert_int_eq(xenvirtio_vq_push(q, &e, 0), 0);
	ck_assert_int_eq(xenvirtio_vq_drv_get(dq, &tok, &len), 1);
	ck_assert_ptr_eq(tok, hdr);
	ck_assert_int_eq(xenvirtio_vq_drv_add(dq, NULL, 0, &i, 1, st), 0);
	ck_assert_int_eq(xenvirtio_vq_drv_reset(dq), 0);
	xenvirtio_vq_free(q);
	xenvirtio_vq_drv_free(dq);
	xenvirtio_dma_close(small_pool);
	/* the default pool (64 frames): 2 x 40 or 41 bounced frames never
	 * fit, though each alone would */
	pair_new(NULL, 8, false, &dq, &q);
	ck_assert_int_eq(xenvirtio_vq_drv_add(dq, b, 2, NULL, 0, big), -E2BIG);
	ck_assert_int_eq(xenvirtio_vq_drv_add(dq, b, 1, NULL, 0, big), 0);
	ck_assert_int_eq(xenvirtio_vq_drv_reset(dq), 0);
	xenvirtio_vq_free(q);
	xenvirtio_vq_drv_free(dq);
	free(big);
}
END_TEST

/*
 * Indirect tables are an option: a queue whose tables the DMA handle cannot
 * give (32768 slots x 16 entries: 8 MiB, more than the world's 512 frames)
 * is made without them, and requests go direct.
 */
START_TEST(test_indirect_tables_optional)
{
	struct xenvirtio_vq_drv *dq;
	struct xenvirtio_vq *q;
	static uint8_t a[16], b[16];
	struct iovec o[2] = { { a, sizeof(a) }, { b, sizeof(b) } };

	pair_new(NULL, 32768, true, &dq, &q);
	ck_assert_int_eq(xenvirtio_vq_drv_add(dq, o, 2, NULL, 0, a), 0);
	ck_assert_uint_eq(ring_flags(q, 0) & XV_DESC_F_INDIRECT, 0);
	ck_assert_int_eq(xenvirtio_vq_drv_reset(dq), 0);
	xenvirtio_vq_free(q);
	xenvirtio_vq_drv_free(dq);
}
END_TEST

/*
 * Indirect tables (issue 3 item 3): a queue of size 8 carries 8 requests of
 * 8 descriptors each at once, each in ONE ring descriptor flagged
 * INDIRECT; the device side (which validates R7-R9) takes them, byte for
 * byte; a request of more buffers than the queue size is -E2BIG (virtio
 * forbids chains longer than the queue, indirect or not; R7).
 */
START_TEST(test_indirect_queue_carries_size_requests)
{
	struct xenvirtio_vq_drv *dq;
	struct xenvirtio_vq *q;
	static uint8_t ob[8][6][16], ib[8][2][8];
	struct iovec o[8][6], in[8][2], iov[8][9];
	struct xenvirtio_vq_elem e[8];
	unsigned int r, k, j, bad = 0;
	uint32_t len;
	void *tok;

	pair_new(NULL, 8, true, &dq, &q);
	for (r = 0; r < 8; r++) {
		for (k = 0; k < 6; k++) {
			for (j = 0; j < 16; j++)
				ob[r][k][j] = (uint8_t)(r * 97 + k * 16 + j);
			o[r][k].iov_base = ob[r][k];
			o[r][k].iov_len = 16;
		}
		for (k = 0; k < 2; k++) {
			memset(ib[r][k], 0, 8);
			in[r][k].iov_base = ib[r][k];
			in[r][k].iov_len = 8;
		}
		ck_assert_int_eq(
		    xenvirtio_vq_drv_add(dq, o[r], 6, in[r], 2, ob[r]), 0);
	}
	{
		struct iovec nine[9];

		for (k = 0; k < 9; k++)
			nine[k] = o[0][k % 6];
		ck_assert_int_eq(xenvirtio_vq_drv_add(dq, nine, 9, NULL, 0, q),
				 -E2BIG);
		/* the ring is full: one descriptor per request */
		ck_assert_int_eq(xenvirtio_vq_drv_add(dq, o[0], 2, NULL, 0, q),
				 -ENOSPC);
	}
	for (r = 0; r < 8; r++)
		ck_assert_uint_eq(ring_flags(q, r) & XV_DESC_F_INDIRECT,
				  XV_DESC_F_INDIRECT);
	xenvirtio_vq_drv_kick_prepare(dq);
	for (r = 0; r < 8; r++) {
		uint8_t tag;

		e[r].iov = iov[r];
		e[r].iov_cap = 9;
		ck_assert_int_eq(xenvirtio_vq_pop(q, &e[r]), 1);
		ck_assert_uint_eq(e[r].out_num, 6);
		ck_assert_uint_eq(e[r].in_num, 2);
		ck_assert_uint_eq(e[r].out_len, 96);
		ck_assert_uint_eq(e[r].in_len, 16);
		tag = ((uint8_t *)iov[r][0].iov_base)[0];
		for (k = 0; k < 6; k++)
			for (j = 0; j < 16; j++)
				bad += ((uint8_t *)iov[r][k].iov_base)[j] !=
				       (uint8_t)(tag + k * 16 + j);
		for (k = 6; k < 8; k++)
			memset(iov[r][k].iov_base, tag ^ 0xff, 8);
	}
	ck_assert_uint_eq(bad, 0);
	ck_assert_int_eq(xenvirtio_vq_pop(q, &e[0]), 0);
	for (r = 8; r-- > 0;) /* out of order */
		ck_assert_int_eq(xenvirtio_vq_push(q, &e[r], 16), 0);
	for (r = 0; r < 8; r++) {
		uint8_t *t;

		ck_assert_int_eq(xenvirtio_vq_drv_get(dq, &tok, &len), 1);
		ck_assert_uint_eq(len, 16);
		t = tok;
		k = (unsigned int)((uint8_t(*)[6][16])t - ob);
		ck_assert_uint_lt(k, 8);
		for (j = 0; j < 8; j++) {
			uint8_t want = (uint8_t)(t[0] ^ 0xffu);

			bad += ib[k][0][j] != want || ib[k][1][j] != want;
		}
	}
	ck_assert_uint_eq(bad, 0);
	ck_assert_int_eq(xenvirtio_vq_drv_get(dq, &tok, &len), 0);
	/* the slots came back: 8 more */
	for (r = 0; r < 8; r++)
		ck_assert_int_eq(
		    xenvirtio_vq_drv_add(dq, o[r], 6, in[r], 2, ob[r]), 0);
	ck_assert_int_eq(xenvirtio_vq_drv_reset(dq), 0);
	xenvirtio_vq_free(q);
	xenvirtio_vq_drv_free(dq);
}
END_TEST

/*
 * A request needing more descriptors than a table holds (16) falls back to
 * direct descriptors; one of exactly 16 goes indirect; a single buffer goes
 * direct. All three round trip.
 */
START_TEST(test_indirect_fallback_to_direct)
{
	static uint8_t b[20][4];
	struct iovec o[20], iov[24];
	struct xenvirtio_vq_elem e = { .iov = iov, .iov_cap = 24 };
	static const unsigned int counts[] = { 20, 16, 1 };
	unsigned int c, k, j, bad = 0;
	uint32_t len;
	void *tok;

	for (k = 0; k < 20; k++) {
		memset(b[k], (int)k + 1, 4);
		o[k].iov_base = b[k];
		o[k].iov_len = 4;
	}
	for (c = 0; c < 3; c++) {
		uint32_t pos;

		ck_assert_int_eq(xenvirtio_vq_drv_add(drv, o, counts[c], NULL,
						      0, o),
				 0);
		/* split: each request's chain returns to the free list's
		 * head, so the head is descriptor 0 every time; packed:
		 * ring positions 0, 20, 21 */
		pos = packed && c ? 19 + c : 0;
		ck_assert_uint_eq(ring_flags(vq, pos) &
					  (XV_DESC_F_INDIRECT | XV_DESC_F_NEXT),
				  counts[c] == 16  ? XV_DESC_F_INDIRECT
				  : counts[c] > 1 ? XV_DESC_F_NEXT
						  : 0);
		ck_assert_int_eq(xenvirtio_vq_pop(vq, &e), 1);
		ck_assert_uint_eq(e.out_num, counts[c]);
		for (k = 0; k < counts[c]; k++)
			for (j = 0; j < 4; j++)
				bad += ((uint8_t *)iov[k].iov_base)[j] != k + 1;
		ck_assert_int_eq(xenvirtio_vq_push(vq, &e, 0), 0);
		ck_assert_int_eq(xenvirtio_vq_drv_get(drv, &tok, &len), 1);
		ck_assert_ptr_eq(tok, o);
	}
	ck_assert_uint_eq(bad, 0);
}
END_TEST

/*
 * F7 with indirect tables: an add whose fifth buffer finds the bounce pool
 * (4 frames) empty fails with -ENOSPC and leaves nothing behind: every
 * mapping undone, the pool full again, nothing the device can pop; the
 * same slot then carries a request that fits.
 */
START_TEST(test_F7_indirect_failed_add_atomic)
{
	struct xenvirtio_dma *small;
	struct xenvirtio_vq_drv *dq;
	struct xenvirtio_vq *q;
	static uint8_t pad[4096 * 6] __attribute__((aligned(4096)));
	struct iovec o[6], iov[8];
	struct xenvirtio_vq_elem e = { .iov = iov, .iov_cap = 8 };
	unsigned int k;
	uint32_t len;
	void *tok;

	ck_assert_int_eq(xenvirtio_dma_open_ex(
			     fctx, 0, nogrant ? XENVIRTIO_DMA_F_NO_GRANTS : 0,
			     4, &small),
			 0);
	pair_new(small, 8, true, &dq, &q);
	for (k = 0; k < 6; k++) {
		/* each buffer in its own frame: one bounce frame each */
		o[k].iov_base = pad + 4096 * k;
		o[k].iov_len = 64;
		memset(pad + 4096 * k, (int)k + 1, 64);
	}
	/* 6 bounce frames never fit a pool of 4: -E2BIG once the 5th
	 * buffer fails, and the 4 mapped before are undone */
	ck_assert_int_eq(xenvirtio_vq_drv_add(dq, o, 6, NULL, 0, o), -E2BIG);
	ck_assert_int_eq(
	    xenvirtio_dma_counter(small, XENVIRTIO_DMA_CNT_BOUNCE_FREE), 4);
	ck_assert_int_eq(
		xenvirtio_dma_counter(small, XENVIRTIO_DMA_CNT_MAPS),
		xenvirtio_dma_counter(small, XENVIRTIO_DMA_CNT_UNMAPS));
	ck_assert_int_eq(xenvirtio_vq_pop(q, &e), 0);
	ck_assert_int_eq(xenvirtio_vq_drv_add(dq, o, 4, NULL, 0, o), 0);
	ck_assert_uint_eq(ring_flags(q, 0) & XV_DESC_F_INDIRECT,
			  XV_DESC_F_INDIRECT);
	ck_assert_int_eq(xenvirtio_vq_pop(q, &e), 1);
	ck_assert_uint_eq(e.out_num, 4);
	for (k = 0; k < 4; k++)
		ck_assert_uint_eq(((uint8_t *)iov[k].iov_base)[63], k + 1);
	ck_assert_int_eq(xenvirtio_vq_push(q, &e, 0), 0);
	ck_assert_int_eq(xenvirtio_vq_drv_get(dq, &tok, &len), 1);
	ck_assert_int_eq(
	    xenvirtio_dma_counter(small, XENVIRTIO_DMA_CNT_BOUNCE_FREE), 4);
	xenvirtio_vq_free(q);
	xenvirtio_vq_drv_free(dq);
	xenvirtio_dma_close(small);
}
END_TEST

/* Reset reclaims indirect requests in flight: every mapping undone, the
 * pool full, all slots usable again. Each request: two whole coherent
 * frames (in place) and one bounced buffer, so 64 requests take exactly the
 * 64 bounce frames. */
START_TEST(test_indirect_reset_reclaims)
{
	static uint8_t b[128] __attribute__((aligned(128)));
	struct iovec o[3];
	uint64_t daddr;
	uint8_t *mem;
	unsigned int i;

	ck_assert_int_eq(
	    xenvirtio_dma_alloc_coherent(dma, 2 * 4096, (void **)&mem, &daddr),
	    0);
	o[0].iov_base = mem;
	o[0].iov_len = 4096;
	o[1].iov_base = mem + 4096;
	o[1].iov_len = 4096;
	o[2].iov_base = b;
	o[2].iov_len = sizeof(b);

	for (i = 0; i < 64; i++)
		ck_assert_int_eq(xenvirtio_vq_drv_add(drv, o, 2, &o[2], 1, b),
				 0);
	ck_assert_int_eq(xenvirtio_vq_drv_add(drv, o, 2, &o[2], 1, b),
			 -ENOSPC);
	ck_assert_int_eq(
	    xenvirtio_dma_counter(dma, XENVIRTIO_DMA_CNT_BOUNCE_FREE), 0);
	ck_assert_int_eq(
	    xenvirtio_dma_counter(dma, XENVIRTIO_DMA_CNT_INPLACE_FRAMES),
	    2 * 64);
	ck_assert_int_eq(xenvirtio_vq_drv_reset(drv), 0);
	ck_assert_int_eq(
	    xenvirtio_dma_counter(dma, XENVIRTIO_DMA_CNT_BOUNCE_FREE), 64);
	ck_assert_int_eq(xenvirtio_dma_counter(dma, XENVIRTIO_DMA_CNT_MAPS),
			 xenvirtio_dma_counter(dma, XENVIRTIO_DMA_CNT_UNMAPS));
	for (i = 0; i < 64; i++)
		ck_assert_int_eq(xenvirtio_vq_drv_add(drv, o, 2, &o[2], 1, b),
				 0);
	ck_assert_int_eq(xenvirtio_vq_drv_reset(drv), 0);
	ck_assert_int_eq(
	    xenvirtio_dma_free_coherent(dma, mem, 2 * 4096, daddr), 0);
}
END_TEST

static void add_cases(Suite *s, const char *name, void (*fix)(void))
{
	TCase *tc = tcase_create(name);

	tcase_add_checked_fixture(tc, fix, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_driver_device_random);
	tcase_add_test(tc, test_F6_used_id_and_len_validated);
	tcase_add_test(tc, test_driver_add_errors);
	tcase_add_test(tc, test_F7_failed_add_leaves_ring_intact);
	tcase_add_test(tc, test_F7_never_fits_is_e2big_small_queue);
	tcase_add_test(tc, test_F7_request_over_bounce_pool_is_e2big);
	suite_add_tcase(s, tc);
}

static void add_indirect_cases(Suite *s, const char *name, void (*fix)(void))
{
	TCase *tc = tcase_create(name);

	tcase_add_checked_fixture(tc, fix, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_driver_device_random);
	tcase_add_test(tc, test_F7_failed_add_leaves_ring_intact);
	tcase_add_test(tc, test_indirect_queue_carries_size_requests);
	tcase_add_test(tc, test_indirect_fallback_to_direct);
	tcase_add_test(tc, test_F7_indirect_failed_add_atomic);
	tcase_add_test(tc, test_indirect_reset_reclaims);
	tcase_add_test(tc, test_indirect_tables_optional);
	suite_add_tcase(s, tc);
}

/*
 * The platform picks refs (Xen's gntalloc): indirect tables come one frame
 * at a time and still carry whole requests. (The other cases assume
 * consecutive refs: one segment per buffer, coherent areas of two frames.)
 */
static void add_kref_cases(Suite *s, const char *name, void (*fix)(void))
{
	TCase *tc = tcase_create(name);

	tcase_add_checked_fixture(tc, fix, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_indirect_queue_carries_size_requests);
	tcase_add_test(tc, test_indirect_fallback_to_direct);
	suite_add_tcase(s, tc);
}

int main(void)
{
	Suite *s = suite_create("vq-driver");

	add_cases(s, "split", setup_split);
	add_cases(s, "packed", setup_packed);
	add_cases(s, "split-nogrant", setup_split_nogrant);
	add_cases(s, "packed-nogrant", setup_packed_nogrant);
	add_indirect_cases(s, "split-indirect", setup_split_indirect);
	add_indirect_cases(s, "packed-indirect", setup_packed_indirect);
	add_indirect_cases(s, "split-nogrant-indirect",
			   setup_split_nogrant_indirect);
	add_indirect_cases(s, "packed-nogrant-indirect",
			   setup_packed_nogrant_indirect);
	add_kref_cases(s, "split-kernel-refs-indirect",
		       setup_split_kref_indirect);
	add_kref_cases(s, "packed-kernel-refs-indirect",
		       setup_packed_kref_indirect);
	return xv_test_run(s);
}
