/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Grant ref allocator (lib/grant.c) against a reference model: F4 runs of
 * consecutive refs, F7 exhaustion as backpressure, reserved refs 0..7,
 * growth a frame at a time, double and foreign frees.
 */
#include "xv-test.h"

#include <pthread.h>

#include "internal.h"
#include "platform.h"
#include "grant_internal.h"

/* Reference model: owner id per ref, 0 free. */
struct model {
	uint32_t max;
	uint32_t *owner;
};

static bool model_has_run(const struct model *m, uint32_t lo, uint32_t hi,
			  uint32_t n)
{
	uint32_t r, run = 0;

	for (r = lo; r < hi; r++) {
		run = m->owner[r] ? 0 : run + 1;
		if (run >= n)
			return true;
	}
	return false;
}

static unsigned int test_seed(void)
{
	const char *s = getenv("XV_TEST_SEED");

	return s ? (unsigned int)strtoul(s, NULL, 0) : 20261124u;
}

/* xorshift32: reproducible everywhere, unlike rand(). */
static uint32_t rnd(uint32_t *st)
{
	uint32_t x = *st;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *st = x;
}

struct live {
	uint32_t ref, n;
};

/*
 * F4: a long random sequence of single refs and runs checked against the
 * model: every run is consecutive, free, outside 0..7 and below the table
 * size; the table grows only when no run fits below its size; -ENOSPC
 * exactly when the model has no free run (F7).
 */
START_TEST(test_F4_runs_random_vs_model)
{
	const uint32_t max = 4096 + 200; /* not a multiple of 512: capped */
	unsigned int seed = test_seed();
	uint32_t st = seed ? seed : 1;
	const char *vg = getenv("XV_VALGRIND");
	unsigned int steps = vg && *vg ? 20000 : 200000;
	struct model m = {max, calloc(max, sizeof(uint32_t))};
	struct live *live = calloc(max, sizeof(*live));
	unsigned int nlive = 0, i, enospc = 0, grows = 0, runs = 0;
	uint32_t in_use = 0, id = 0;
	struct xv_gnttab *gt;

	fprintf(stderr,
		"  test_F4_runs_random_vs_model: seed %u "
		"(set XV_TEST_SEED to replay)\n",
		seed);
	ck_assert_ptr_nonnull(m.owner);
	ck_assert_ptr_nonnull(live);
	ck_assert_int_eq(xv_gnttab_create(NULL, max, &gt), 0);
	ck_assert_uint_eq(xv_gnttab_size(gt), 512);

	for (i = 0; i < steps; i++) {
		/* bias towards allocation, so the table fills and drains */
		bool do_alloc =
		    nlive == 0 || rnd(&st) % 100 < ((i / 5000) % 2 ? 35 : 65);

		if (do_alloc) {
			uint32_t x = rnd(&st) % 100, n, ref = 0, r;
			uint32_t old = xv_gnttab_size(gt);
			int ret;

			n = x < 60   ? 1
			    : x < 95 ? 2 + rnd(&st) % 31
				     : 33 + rnd(&st) % 600;
			ret = xv_gnttab_alloc(gt, n, &ref);
			if (ret == -ENOSPC) {
				ck_assert_msg(!model_has_run(&m, 8, max, n),
					      "step %u: -ENOSPC for %u refs "
					      "but the model has a free run",
					      i, n);
				ck_assert_uint_eq(xv_gnttab_size(gt), max);
				enospc++;
				continue;
			}
			ck_assert_int_eq(ret, 0);
			ck_assert_uint_ge(ref, XV_GNTTAB_RESERVED);
			ck_assert_uint_le(ref + n, xv_gnttab_size(gt));
			for (r = ref; r < ref + n; r++)
				ck_assert_msg(
				    !m.owner[r],
				    "step %u: ref %u handed out twice", i, r);
			if (xv_gnttab_size(gt) != old) {
				uint32_t sz = xv_gnttab_size(gt);

				/* grew only when nothing fitted below */
				ck_assert(!model_has_run(&m, 8, old, n));
				ck_assert(sz % 512 == 0 || sz == max);
				ck_assert_uint_gt(ref + n, old);
				grows++;
			}
			id++;
			for (r = ref; r < ref + n; r++)
				m.owner[r] = id;
			live[nlive].ref = ref;
			live[nlive].n = n;
			nlive++;
			in_use += n;
			runs += n > 1;
		} else {
			unsigned int k = rnd(&st) % nlive;

			ck_assert_int_eq(
			    xv_gnttab_free(gt, live[k].ref, live[k].n), 0);
			memset(&m.owner[live[k].ref], 0,
			       live[k].n * sizeof(uint32_t));
			in_use -= live[k].n;
			live[k] = live[--nlive];
		}
		ck_assert_uint_eq(xv_gnttab_in_use(gt), in_use);
	}
	fprintf(stderr, "  %u steps, %u runs, %u growths, %u -ENOSPC\n", steps,
		runs, grows, enospc);
	/* the sequence must have exercised growth and exhaustion */
	ck_assert_uint_gt(grows, 0);
	ck_assert_uint_gt(enospc, 0);
	while (nlive) {
		nlive--;
		ck_assert_int_eq(
		    xv_gnttab_free(gt, live[nlive].ref, live[nlive].n), 0);
	}
	ck_assert_uint_eq(xv_gnttab_in_use(gt), 0);
	/* everything coalesced: the largest run is the whole table */
	{
		uint32_t ref;

		ck_assert_int_eq(xv_gnttab_alloc(gt, max - 8, &ref), 0);
		ck_assert_uint_eq(ref, 8);
	}
	xv_gnttab_destroy(gt);
	free(live);
	free(m.owner);
}
END_TEST

/* Refs 0..7 (console, xenstore, ...) are never handed out. */
START_TEST(test_reserved_refs_never_allocated)
{
	struct xv_gnttab *gt;
	uint32_t ref, n = 0;
	int r;

	ck_assert_int_eq(xv_gnttab_create(NULL, 1024, &gt), 0);
	while ((r = xv_gnttab_alloc(gt, 1, &ref)) == 0) {
		ck_assert_uint_ge(ref, XV_GNTTAB_RESERVED);
		ck_assert_uint_lt(ref, 1024);
		n++;
	}
	ck_assert_int_eq(r, -ENOSPC);
	ck_assert_uint_eq(n, 1024 - XV_GNTTAB_RESERVED);
	for (ref = 0; ref < XV_GNTTAB_RESERVED; ref++)
		ck_assert_int_eq(xv_gnttab_free(gt, ref, 1), -EINVAL);
	xv_gnttab_destroy(gt);
	/* a table of only reserved refs has nothing to give */
	ck_assert_int_eq(xv_gnttab_create(NULL, 8, &gt), -EINVAL);
	ck_assert_int_eq(xv_gnttab_create(NULL, 9, &gt), 0);
	ck_assert_int_eq(xv_gnttab_alloc(gt, 1, &ref), 0);
	ck_assert_uint_eq(ref, 8);
	ck_assert_int_eq(xv_gnttab_alloc(gt, 1, &ref), -ENOSPC);
	xv_gnttab_destroy(gt);
}
END_TEST

/* Growth: one frame of 512 entries at a time, as many as a run needs. */
START_TEST(test_growth_by_frames)
{
	struct xv_gnttab *gt;
	uint32_t ref, i;

	ck_assert_int_eq(xv_gnttab_create(NULL, 32768, &gt), 0);
	ck_assert_uint_eq(xv_gnttab_size(gt), 512);
	for (i = 0; i < 512 - 8; i++)
		ck_assert_int_eq(xv_gnttab_alloc(gt, 1, &ref), 0);
	ck_assert_uint_eq(xv_gnttab_size(gt), 512);
	ck_assert_int_eq(xv_gnttab_alloc(gt, 1, &ref), 0);
	ck_assert_uint_eq(ref, 512);
	ck_assert_uint_eq(xv_gnttab_size(gt), 1024);
	/* a run of 1000 from ref 513: the tail free run (511) plus 1 frame */
	ck_assert_int_eq(xv_gnttab_alloc(gt, 1000, &ref), 0);
	ck_assert_uint_eq(ref, 513);
	ck_assert_uint_eq(xv_gnttab_size(gt), 1536);
	/* up to the maximum, then backpressure */
	ck_assert_int_eq(xv_gnttab_alloc(gt, 32768 - 1536, &ref), 0);
	/* it starts in the free tail 1513..1535 and grows past it */
	ck_assert_uint_eq(ref, 1513);
	ck_assert_uint_eq(xv_gnttab_size(gt), 32768);
	ck_assert_int_eq(xv_gnttab_alloc(gt, 24, &ref), -ENOSPC);
	ck_assert_int_eq(xv_gnttab_alloc(gt, 23, &ref), 0);
	ck_assert_uint_eq(ref, 32768 - 23);
	ck_assert_int_eq(xv_gnttab_alloc(gt, 1, &ref), -ENOSPC);
	ck_assert_int_eq(xv_gnttab_alloc(gt, 32768, &ref), -EINVAL);
	ck_assert_int_eq(xv_gnttab_alloc(gt, 0, &ref), -EINVAL);
	xv_gnttab_destroy(gt);
}
END_TEST

/* F7: exhaustion is -ENOSPC, and a free makes the next try succeed. */
START_TEST(test_F7_exhaustion_backpressure)
{
	struct xv_gnttab *gt;
	uint32_t ref, a, b, c;

	ck_assert_int_eq(xv_gnttab_create(NULL, 1024, &gt), 0);
	ck_assert_int_eq(xv_gnttab_alloc(gt, 500, &a), 0);
	ck_assert_int_eq(xv_gnttab_alloc(gt, 16, &b), 0);
	ck_assert_int_eq(xv_gnttab_alloc(gt, 1024 - 8 - 516, &c), 0);
	ref = 77;
	ck_assert_int_eq(xv_gnttab_alloc(gt, 1, &ref), -ENOSPC);
	ck_assert_uint_eq(ref, 77); /* untouched */
	ck_assert_int_eq(xv_gnttab_free(gt, b, 16), 0);
	ck_assert_int_eq(xv_gnttab_alloc(gt, 17, &ref), -ENOSPC);
	ck_assert_int_eq(xv_gnttab_alloc(gt, 16, &ref), 0);
	ck_assert_uint_eq(ref, b);
	ck_assert_int_eq(xv_gnttab_free(gt, ref, 16), 0);
	/* freeing a neighbour coalesces: 516 consecutive refs again */
	ck_assert_int_eq(xv_gnttab_free(gt, a, 500), 0);
	ck_assert_int_eq(xv_gnttab_alloc(gt, 516, &ref), 0);
	ck_assert_uint_eq(ref, 8);
	xv_gnttab_destroy(gt);
}
END_TEST

/* Double, partial and foreign frees are refused and change nothing. */
START_TEST(test_double_and_foreign_free)
{
	struct xv_gnttab *gt;
	uint32_t a, b, ref;

	ck_assert_int_eq(xv_gnttab_create(NULL, 2048, &gt), 0);
	ck_assert_int_eq(xv_gnttab_alloc(gt, 4, &a), 0);
	ck_assert_int_eq(xv_gnttab_alloc(gt, 1, &b), 0);
	ck_assert_int_eq(xv_gnttab_free(gt, a + 1, 1), -EINVAL); /* mid-run */
	ck_assert_int_eq(xv_gnttab_free(gt, a, 3), -EINVAL);	 /* short */
	ck_assert_int_eq(xv_gnttab_free(gt, a, 5), -EINVAL);	 /* long */
	ck_assert_int_eq(xv_gnttab_free(gt, b + 1, 1), -EINVAL); /* free ref */
	ck_assert_int_eq(xv_gnttab_free(gt, 600, 1), -EINVAL); /* beyond size */
	ck_assert_int_eq(xv_gnttab_free(gt, UINT32_MAX, 2), -EINVAL);
	ck_assert_int_eq(xv_gnttab_free(gt, a, 0), -EINVAL);
	ck_assert_uint_eq(xv_gnttab_in_use(gt), 5);
	ck_assert_int_eq(xv_gnttab_free(gt, b, 1), 0);
	ck_assert_int_eq(xv_gnttab_free(gt, b, 1), -EINVAL); /* double */
	ck_assert_int_eq(xv_gnttab_free(gt, a, 4), 0);
	ck_assert_int_eq(xv_gnttab_free(gt, a, 4), -EINVAL); /* double */
	ck_assert_uint_eq(xv_gnttab_in_use(gt), 0);
	/* still intact: the whole first frame in one run */
	ck_assert_int_eq(xv_gnttab_alloc(gt, 504, &ref), 0);
	ck_assert_uint_eq(ref, 8);
	ck_assert_uint_eq(xv_gnttab_size(gt), 512);
	xv_gnttab_destroy(gt);
}
END_TEST

struct conc {
	struct xv_gnttab *gt;
	uint32_t *owner; /* per ref: thread id + 1 while allocated */
	uint32_t id;
	unsigned int iters;
	int errors;
	pthread_barrier_t *go;
};

static void *conc_thread(void *arg)
{
	struct conc *c = arg;
	uint32_t st = 0x9e3779b9u * (c->id + 1), held[32][2];
	unsigned int i, nheld = 0, k;

	pthread_barrier_wait(c->go); /* start together: maximise overlap */
	for (i = 0; i < c->iters; i++) {
		uint32_t n = 1 + rnd(&st) % 20, ref, r;

		if (nheld < 32 && xv_gnttab_alloc(c->gt, n, &ref) == 0) {
			for (r = ref; r < ref + n; r++) {
				uint32_t zero = 0;

				if (!__atomic_compare_exchange_n(
					&c->owner[r], &zero, c->id + 1, false,
					__ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
					c->errors++;
			}
			held[nheld][0] = ref;
			held[nheld++][1] = n;
		}
		if (nheld && (nheld == 32 || rnd(&st) % 2)) {
			k = rnd(&st) % nheld;
			for (r = held[k][0]; r < held[k][0] + held[k][1]; r++)
				__atomic_store_n(&c->owner[r], 0,
						 __ATOMIC_SEQ_CST);
			if (xv_gnttab_free(c->gt, held[k][0], held[k][1]))
				c->errors++;
			held[k][0] = held[nheld - 1][0];
			held[k][1] = held[nheld - 1][1];
			nheld--;
		}
	}
	while (nheld--) {
		for (k = 0; k < held[nheld][1]; k++)
			__atomic_store_n(&c->owner[held[nheld][0] + k], 0,
					 __ATOMIC_SEQ_CST);
		if (xv_gnttab_free(c->gt, held[nheld][0], held[nheld][1]))
			c->errors++;
	}
	return NULL;
}

/* The context's table is shared by all its DMA handles, which may run on
 * different threads: concurrent allocations never overlap (F4). */
START_TEST(test_F4_concurrent_allocations)
{
	const char *vg = getenv("XV_VALGRIND");
	struct conc c[2];
	pthread_t th[2];
	struct xv_gnttab *gt;
	uint32_t *owner = calloc(1024, sizeof(uint32_t));
	pthread_barrier_t go;
	unsigned int t;

	ck_assert_ptr_nonnull(owner);
	ck_assert_int_eq(pthread_barrier_init(&go, NULL, 2), 0);
	ck_assert_int_eq(xv_gnttab_create(NULL, 1024, &gt), 0);
	for (t = 0; t < 2; t++) {
		c[t].gt = gt;
		c[t].owner = owner;
		c[t].id = t;
		c[t].iters = vg && *vg ? 5000 : 300000;
		c[t].errors = 0;
		c[t].go = &go;
		ck_assert_int_eq(
		    pthread_create(&th[t], NULL, conc_thread, &c[t]), 0);
	}
	for (t = 0; t < 2; t++) {
		pthread_join(th[t], NULL);
		ck_assert_int_eq(c[t].errors, 0);
	}
	ck_assert_uint_eq(xv_gnttab_in_use(gt), 0);
	pthread_barrier_destroy(&go);
	xv_gnttab_destroy(gt);
	free(owner);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("grant");
	TCase *tc = tcase_create("allocator");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_F4_runs_random_vs_model);
	tcase_add_test(tc, test_reserved_refs_never_allocated);
	tcase_add_test(tc, test_growth_by_frames);
	tcase_add_test(tc, test_F7_exhaustion_backpressure);
	tcase_add_test(tc, test_double_and_foreign_free);
	tcase_add_test(tc, test_F4_concurrent_allocations);
	suite_add_tcase(s, tc);
	return xv_test_run(s);
}
