/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * R14: 16-bit ring indices are loaded atomically with acquire ordering; the
 * used index is stored with release ordering after the used element (and
 * the available index after the available entry; packed: the head's flags
 * after the rest of the chain).
 *
 * test_R14_index_load_never_torn: one thread stores an index that flips
 * between values differing in both bytes (0x00ff <-> 0x0100, 0xffff <->
 * 0x0000), the other loads it with the library's accessors; any other
 * value is a torn load. A control run with a byte-wise loader prints how
 * often tearing is observable on this machine (information only: whether
 * two threads overlap at all depends on the scheduler, so the control
 * cannot be asserted without flakiness).
 *
 * test_R14_ring_publication_stress: our driver side and our device side in
 * two threads of one process (two sim domains), polling each other through
 * a queue of size 4 with no notifications, for more than 65536 requests
 * (every u16 index crosses each 0x..ff/0x..00 boundary and wraps at least
 * once). The device checks that every chain it pops is exactly the next
 * request, payload included, so an index seen before its ring entry (or a
 * packed head seen before its chain) shows up as a stale or garbled chain;
 * the driver checks every used id and length (F6), so a used index seen
 * before its element breaks the queue or fails the check; a torn index
 * read shows up as an index more than the queue size ahead (R1 on the
 * device, F6 on the driver), which breaks the queue.
 *
 * test_R14_avail_published_last / test_R14_used_published_last: exact and
 * deterministic. On x86-64 Linux the ring memory is made read-only and
 * every store into it is logged in program order (fault, log, single-step,
 * re-protect): the available index (packed: the head's flags) must be the
 * last store of xenvirtio_vq_drv_add(), and the used index (packed: the
 * used descriptor's flags) the last store of xenvirtio_vq_push(), each made
 * once, after the entry or element it publishes. Moving either store
 * earlier, on either side, fails these tests on every run (checked by
 * mutating lib/vq_driver.c, lib/vq_split.c and lib/vq_packed.c). They see
 * program order, which is what a release store orders; whether the store
 * is a release is checked by reading the code, not by a test. Skipped
 * under valgrind and on other architectures.
 *
 * What the stress can and cannot prove. On x86 (TSO) the hardware never
 * reorders a store after an earlier store or a load after an earlier load, and
 * aligned 16-bit loads are single-copy atomic even when written as plain
 * C: a missing acquire/release is invisible to the hardware there, and
 * only a compiler that moved or split the access would break the test.
 * So on x86 the stress proves the protocol logic (entry before index,
 * element before index, head flags last) and the absence of torn or
 * double loads, not the barriers themselves; on weakly ordered machines
 * (Arm, POWER, RISC-V) the same test exercises the barriers, still only
 * probabilistically. The barriers are also visible in the source (the
 * xv_*_acquire / xv_*_release accessors of lib/internal.h at each index).
 */
#include "xv-test.h"

#include <pthread.h>
#include <sched.h>
#include <sys/uio.h>

#include "vq_internal.h"

/* ---- torn loads ---- */

struct flip {
	uint16_t idx __attribute__((aligned(64)));
	uint16_t a, b;
	unsigned int rounds;
	int stop;
};

static void *flipper(void *arg)
{
	struct flip *f = arg;
	unsigned int i;

	for (i = 0; i < f->rounds; i++) {
		xv_store_le16_release(&f->idx, f->a);
		xv_store_le16_release(&f->idx, f->b);
	}
	__atomic_store_n(&f->stop, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* A loader that reads the two bytes separately, as a bad accessor would. */
static uint16_t load_bytewise(const void *p)
{
	const volatile uint8_t *b = p;
	uint8_t lo = b[0];
	unsigned int k;

	/* widen the window between the two loads a little, as a slow or
	 * preempted reader would */
	for (k = 0; k < 64; k++)
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
	return (uint16_t)(lo | b[1] << 8);
}

static unsigned long run_flip(uint16_t a, uint16_t b, bool bytewise,
			      unsigned int rounds, unsigned long *loads)
{
	struct flip f = {.a = a, .b = b, .rounds = rounds};
	unsigned long torn = 0, n = 0;
	pthread_t t;

	xv_store_le16(&f.idx, a);
	ck_assert_int_eq(pthread_create(&t, NULL, flipper, &f), 0);
	while (!__atomic_load_n(&f.stop, __ATOMIC_ACQUIRE)) {
		uint16_t v = bytewise ? load_bytewise(&f.idx)
				      : xv_load_le16_acquire(&f.idx);
		uint16_t w = xv_load_le16(&f.idx);

		torn += (v != a && v != b) + (!bytewise && w != a && w != b);
		n++;
	}
	pthread_join(t, NULL);
	*loads = n;
	return torn;
}

static unsigned int scaled(unsigned int full, unsigned int valgrind)
{
	const char *v = getenv("XV_VALGRIND");

	return v && *v ? valgrind : full;
}

START_TEST(test_R14_index_load_never_torn)
{
	static const uint16_t pairs[][2] = {
	    {0x00ff, 0x0100}, {0xffff, 0x0000}, {0x01ff, 0x0200}};
	unsigned int rounds = scaled(2000000, 20000), i;
	unsigned long loads, torn, control = 0, cloads = 0;

	for (i = 0; i < 3; i++) {
		torn =
		    run_flip(pairs[i][0], pairs[i][1], false, rounds, &loads);
		ck_assert_msg(torn == 0,
			      "%lu of %lu index loads torn between 0x%04x "
			      "and 0x%04x",
			      torn, loads, pairs[i][0], pairs[i][1]);
	}
	control = run_flip(0x00ff, 0x0100, true, rounds, &cloads);
	printf("R14 control: a byte-wise loader saw %lu torn values in %lu "
	       "loads (0 means the threads did not overlap enough here)\n",
	       control, cloads);
}
END_TEST

/* ---- ring publication stress ---- */

#define QSIZE 4u

static char dir[32], world[64];
static struct xenvirtio_ctx *fctx, *bctx;
static struct xenvirtio_dma *dma;
static struct xenvirtio_vq_drv *drv;
static struct xenvirtio_mapper *m;
static struct xenvirtio_vq *vq;

struct slot {
	uint32_t out[2]; /* seq, ~seq */
	uint8_t in[4];
	uint32_t seq;
	bool busy;
};

static struct slot slots[QSIZE];
static uint32_t total;
/* failures seen by the device thread: assertions stay in the main one */
static uint32_t dev_bad_seq, dev_bad_len, dev_errors, dev_done, dev_exited;

static uint8_t resp(uint32_t seq, uint32_t i)
{
	return (uint8_t)(seq * 7 + i + 1);
}

static uint32_t written_for(uint32_t seq)
{
	return seq % 4 + 1;
}

static void *device(void *arg)
{
	struct iovec iov[4];
	struct xenvirtio_vq_elem e = {.iov = iov, .iov_cap = 4};
	uint32_t want = 0;
	unsigned int idle = 0;

	(void)arg;
	while (want < total) {
		uint32_t hdr[2], i;
		int r = xenvirtio_vq_pop(vq, &e);

		if (r == 0) {
			if (++idle % 64 == 0)
				sched_yield();
			continue;
		}
		idle = 0;
		if (r < 0) {
			dev_errors++;
			break;
		}
		if (e.out_num != 1 || e.in_num != 1 || e.out_len != 8 ||
		    e.in_len != 4 || xenvirtio_vq_elem_read(&e, 0, hdr, 8) < 0)
			dev_bad_len++;
		else if (hdr[0] != want || hdr[1] != ~want)
			dev_bad_seq++;
		for (i = 0; i < 4; i++)
			((uint8_t *)iov[1].iov_base)[i] = resp(want, i);
		if (xenvirtio_vq_push(vq, &e, written_for(want)) < 0) {
			dev_errors++;
			break;
		}
		want++;
	}
	dev_done = want;
	__atomic_store_n(&dev_exited, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void open_pair(bool packed)
{
	struct xenvirtio_vq_config cfg;
	char spec[128];

	xv_test_expect_errors(0);
	snprintf(dir, sizeof(dir), "/tmp/xvr14-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(world, sizeof(world), "%s/w", dir);
	ck_assert_int_eq(xenvirtio_sim_world_create(world, 2, 256, 1024), 0);
	snprintf(spec, sizeof(spec), "sim:%s,domid=1", world);
	ck_assert_int_eq(xenvirtio_ctx_open_log(spec, xv_test_log, NULL,
						XENVIRTIO_LOG_ERR, &fctx),
			 0);
	snprintf(spec, sizeof(spec), "sim:%s,domid=0", world);
	ck_assert_int_eq(xenvirtio_ctx_open_log(spec, xv_test_log, NULL,
						XENVIRTIO_LOG_ERR, &bctx),
			 0);
	ck_assert_int_eq(xenvirtio_dma_open(fctx, 0, &dma), 0);
	ck_assert_int_eq(xenvirtio_vq_drv_new(
			     fctx, dma,
			     (1ULL << XENVIRTIO_F_VERSION_1) |
				 (1ULL << XENVIRTIO_F_ACCESS_PLATFORM) |
				 (packed ? 1ULL << XENVIRTIO_F_RING_PACKED : 0),
			     QSIZE, &drv),
			 0);
	ck_assert_int_eq(xenvirtio_vq_drv_config(drv, &cfg), 0);
	ck_assert_int_eq(
	    xenvirtio_mapper_open(bctx, XENVIRTIO_MAPPER_GRANT, 1, &m), 0);
	/* small buffers by grant copy: no map per request, more laps */
	ck_assert_int_eq(xenvirtio_mapper_set_copy_threshold(m, 16), 0);
	ck_assert_int_eq(xenvirtio_vq_new(m, QSIZE, &vq), 0);
	ck_assert_int_eq(xenvirtio_vq_enable(vq, &cfg), 0);
}

static void close_pair(void)
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

static void stress(bool packed)
{
	uint32_t sent = 0, got = 0, bad = 0, i;
	unsigned int idle = 0;
	pthread_t t;

	open_pair(packed);
	/* every u16 index wraps once and crosses 256 byte boundaries */
	total = scaled(66000, 1500);
	dev_bad_seq = dev_bad_len = dev_errors = dev_done = dev_exited = 0;
	memset(slots, 0, sizeof(slots));
	ck_assert_int_eq(pthread_create(&t, NULL, device, NULL), 0);
	while (got < total) {
		void *tok;
		uint32_t len;
		int r;

		/* driver: submit into free slots, in sequence */
		for (i = 0; i < QSIZE && sent < total; i++) {
			struct slot *s = &slots[i];
			struct iovec o = {s->out, 8}, in = {s->in, 4};

			if (s->busy)
				continue;
			s->seq = sent;
			s->out[0] = sent;
			s->out[1] = ~sent;
			memset(s->in, 0, 4);
			r = xenvirtio_vq_drv_add(drv, &o, 1, &in, 1, s);
			if (r == -ENOSPC)
				break;
			if (r < 0) {
				bad++;
				break;
			}
			s->busy = true;
			sent++;
		}
		if (bad)
			break;
		/* driver: collect and check (F6 checks id and length) */
		r = xenvirtio_vq_drv_get(drv, &tok, &len);
		if (r == 0) {
			if (__atomic_load_n(&dev_exited, __ATOMIC_ACQUIRE) &&
			    ++idle > 1000000)
				break; /* the device gave up: reported below */
			if (++idle % 64 == 0)
				sched_yield();
			continue;
		}
		idle = 0;
		if (r < 0) {
			bad++;
			break;
		}
		{
			struct slot *s = tok;

			if (s < slots || s >= slots + QSIZE || !s->busy ||
			    len != written_for(s->seq))
				bad++;
			for (i = 0; i < len; i++)
				bad += s->in[i] != resp(s->seq, i);
			s->busy = false;
			got++;
		}
	}
	pthread_join(t, NULL);
	ck_assert_uint_eq(dev_errors, 0);
	ck_assert_uint_eq(dev_bad_len, 0);
	ck_assert_uint_eq(dev_bad_seq, 0);
	ck_assert_uint_eq(bad, 0);
	ck_assert_uint_eq(got, total);
	ck_assert_uint_eq(dev_done, total);
	printf("R14 %s stress: %u requests through a queue of %u\n",
	       packed ? "packed" : "split", total, QSIZE);
	close_pair();
}

START_TEST(test_R14_ring_publication_stress)
{
	stress(_i);
}
END_TEST

/* ---- store order, traced ---- */

#if defined(__x86_64__) && defined(__linux__)
#include <signal.h>
#include <sys/mman.h>
#include <ucontext.h>

#define XV_HAVE_TRACE 1
#define TRACE_MAX 256
#define X86_TF 0x100

/*
 * Every store into a watched area, in program order: the area is made
 * read-only, each write faults, the handler logs the address, opens the
 * area and single-steps the one instruction (trap flag), and the trap
 * handler closes the area again.
 */
static uint8_t *trace_base;
static size_t trace_len;
static uintptr_t trace_log[TRACE_MAX];
static volatile unsigned int trace_n;

static void trace_segv(int sig, siginfo_t *si, void *uc_)
{
	ucontext_t *uc = uc_;
	uintptr_t a = (uintptr_t)si->si_addr;

	(void)sig;
	if (a < (uintptr_t)trace_base ||
	    a >= (uintptr_t)trace_base + trace_len) {
		signal(SIGSEGV, SIG_DFL); /* a real fault: crash */
		return;
	}
	if (trace_n < TRACE_MAX)
		trace_log[trace_n] = a - (uintptr_t)trace_base;
	trace_n++;
	mprotect(trace_base, trace_len, PROT_READ | PROT_WRITE);
	uc->uc_mcontext.gregs[REG_EFL] |= X86_TF;
}

static void trace_trap(int sig, siginfo_t *si, void *uc_)
{
	ucontext_t *uc = uc_;

	(void)sig;
	(void)si;
	uc->uc_mcontext.gregs[REG_EFL] &= ~(greg_t)X86_TF;
	mprotect(trace_base, trace_len, PROT_READ);
}

static struct sigaction old_segv, old_trap;

/* Watch the pages holding [p, p + len). */
static void trace_start(const void *p, size_t len)
{
	struct sigaction sa;
	uintptr_t lo = (uintptr_t)p & ~(uintptr_t)4095;
	uintptr_t hi = ((uintptr_t)p + len + 4095) & ~(uintptr_t)4095;

	memset(&sa, 0, sizeof(sa));
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	sa.sa_sigaction = trace_segv;
	ck_assert_int_eq(sigaction(SIGSEGV, &sa, &old_segv), 0);
	sa.sa_sigaction = trace_trap;
	ck_assert_int_eq(sigaction(SIGTRAP, &sa, &old_trap), 0);
	trace_base = (uint8_t *)lo;
	trace_len = hi - lo;
	trace_n = 0;
	ck_assert_int_eq(mprotect(trace_base, trace_len, PROT_READ), 0);
}

/* Stop watching; the number of stores logged. */
static unsigned int trace_stop(void)
{
	ck_assert_int_eq(
	    mprotect(trace_base, trace_len, PROT_READ | PROT_WRITE), 0);
	sigaction(SIGSEGV, &old_segv, NULL);
	sigaction(SIGTRAP, &old_trap, NULL);
	ck_assert_uint_le(trace_n, TRACE_MAX);
	return trace_n;
}

/* Index of the first logged store at @p, or -1. */
static int trace_find(const void *p)
{
	uintptr_t off = (uintptr_t)p - (uintptr_t)trace_base;
	unsigned int i;

	for (i = 0; i < trace_n; i++)
		if (trace_log[i] == off)
			return (int)i;
	return -1;
}

/* Whether a store below @p was logged before the last one. */
static bool trace_any_below(const void *p)
{
	uintptr_t off = (uintptr_t)p - (uintptr_t)trace_base;
	unsigned int i;

	for (i = 0; i + 1 < trace_n && i < TRACE_MAX; i++)
		if (trace_log[i] < off)
			return true;
	return false;
}

static unsigned int trace_count(const void *p)
{
	uintptr_t off = (uintptr_t)p - (uintptr_t)trace_base;
	unsigned int i, n = 0;

	for (i = 0; i < trace_n; i++)
		n += trace_log[i] == off;
	return n;
}
#endif

static bool trace_unusable(void)
{
#ifdef XV_HAVE_TRACE
	const char *v = getenv("XV_VALGRIND");

	if (!(v && *v))
		return false;
	printf("R14 store-order trace: skipped under valgrind\n");
#else
	printf("R14 store-order trace: needs x86-64 Linux, skipped\n");
#endif
	return true;
}

/*
 * R14, driver side, exact: every store xenvirtio_vq_drv_add() makes into
 * the rings, in program order. Split: the descriptor and the available
 * entry are written, and the available index is the LAST store, made once.
 * Packed: the head descriptor's flags are the last store, made once, after
 * its address, length and id. A compiler or a code change that moved the
 * index (or the head's flags) earlier fails here on any run, unlike the
 * stress. It checks program order (what a release store orders), not what
 * another CPU observes.
 */
START_TEST(test_R14_avail_published_last)
{
#ifdef XV_HAVE_TRACE
	bool packed = _i;
	static uint8_t ob[8], ib[4];
	struct iovec o = {ob, 8}, in = {ib, 4};
	uint8_t *ring;
	size_t len;
	unsigned int round, n;

	if (trace_unusable())
		return;
	open_pair(packed);
	ring = xv_vq_drv_ring(drv, &len);
	/* a few laps, so positions other than 0 and the wrap are seen */
	for (round = 0; round < 2 * QSIZE + 1; round++) {
		struct iovec iov[2];
		struct xenvirtio_vq_elem e = {.iov = iov, .iov_cap = 2};
		uint32_t pos = round % QSIZE;
		const uint8_t *last, *entry;
		void *tok;
		uint32_t l;

		trace_start(ring, len);
		ck_assert_int_eq(xenvirtio_vq_drv_add(drv, &o, 1, &in, 1, ob),
				 0);
		n = trace_stop();
		ck_assert_uint_ge(n, 2);
		last = trace_base + trace_log[n - 1];
		if (packed) {
			/* two descriptors from position 2 * round */
			uint32_t head = (2 * round) % QSIZE;

			entry = ring + 16 * (size_t)head;
			ck_assert_ptr_eq(last, entry + 14);
			ck_assert_uint_eq(trace_count(entry + 14), 1);
			ck_assert_int_ge(trace_find(entry), 0);	     /* addr */
			ck_assert_int_ge(trace_find(entry + 8), 0);  /* len */
			ck_assert_int_ge(trace_find(entry + 12), 0); /* id */
		} else {
			const uint8_t *avail = ring + 16 * QSIZE;

			entry = avail + 4 + 2 * pos;
			ck_assert_ptr_eq(last, avail + 2);
			ck_assert_uint_eq(trace_count(avail + 2), 1);
			ck_assert_int_ge(trace_find(entry), 0);
			ck_assert(trace_any_below(avail)); /* a descriptor */
		}
		ck_assert_int_eq(xenvirtio_vq_pop(vq, &e), 1);
		ck_assert_int_eq(xenvirtio_vq_push(vq, &e, 4), 0);
		ck_assert_int_eq(xenvirtio_vq_drv_get(drv, &tok, &l), 1);
	}
	close_pair();
#else
	(void)trace_unusable();
#endif
}
END_TEST

/*
 * R14, device side, exact: every store xenvirtio_vq_push() makes into the
 * device's ring mapping, in program order. Split: the used element's id
 * and length are written, then the used index, the LAST store, once.
 * Packed: the used descriptor's flags are the last store, after its length
 * and id.
 */
START_TEST(test_R14_used_published_last)
{
#ifdef XV_HAVE_TRACE
	bool packed = _i;
	static uint8_t ob[8], ib[4];
	struct iovec o = {ob, 8}, in = {ib, 4};
	unsigned int round, n;

	if (trace_unusable())
		return;
	open_pair(packed);
	for (round = 0; round < 2 * QSIZE + 1; round++) {
		struct iovec iov[2];
		struct xenvirtio_vq_elem e = {.iov = iov, .iov_cap = 2};
		const uint8_t *last, *elem, *area;
		void *tok;
		uint32_t l;

		ck_assert_int_eq(xenvirtio_vq_drv_add(drv, &o, 1, &in, 1, ob),
				 0);
		ck_assert_int_eq(xenvirtio_vq_pop(vq, &e), 1);
		area = packed ? vq->desc : vq->device;
		elem = packed ? vq->desc + 16 * (size_t)vq->used_idx
			      : vq->device + 4 + 8 * (size_t)(round % QSIZE);
		trace_start(area, packed ? 16 * QSIZE : 4 + 8 * QSIZE + 2);
		ck_assert_int_eq(xenvirtio_vq_push(vq, &e, 4), 0);
		n = trace_stop();
		ck_assert_uint_ge(n, 2);
		last = trace_base + trace_log[n - 1];
		if (packed) {
			ck_assert_ptr_eq(last, elem + 14);
			ck_assert_uint_eq(trace_count(elem + 14), 1);
			ck_assert_int_ge(trace_find(elem + 8), 0);  /* len */
			ck_assert_int_ge(trace_find(elem + 12), 0); /* id */
		} else {
			ck_assert_ptr_eq(last, vq->device + 2);
			ck_assert_uint_eq(trace_count(vq->device + 2), 1);
			ck_assert_int_ge(trace_find(elem), 0);	   /* id */
			ck_assert_int_ge(trace_find(elem + 4), 0); /* len */
		}
		ck_assert_int_eq(xenvirtio_vq_drv_get(drv, &tok, &l), 1);
		ck_assert_uint_eq(l, 4);
	}
	close_pair();
#else
	(void)trace_unusable();
#endif
}
END_TEST

int main(void)
{
	Suite *s = suite_create("vq-r14");
	TCase *tc = tcase_create("r14");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_R14_index_load_never_torn);
	tcase_add_loop_test(tc, test_R14_ring_publication_stress, 0, 2);
	tcase_add_loop_test(tc, test_R14_avail_published_last, 0, 2);
	tcase_add_loop_test(tc, test_R14_used_published_last, 0, 2);
	suite_add_tcase(s, tc);
	return xv_test_run(s);
}
