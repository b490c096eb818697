/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The mapper in grant and foreign mode (checks G1-G9, S3/S4 for rings)
 * against a small in-test platform: guest frames in a memfd, a grant table
 * with read-only entries, real mmap per map call, fault injection, and
 * hooks that record what the device had published when it unmapped.
 */
#define _GNU_SOURCE
#include "xv-test.h"

#include <sys/mman.h>
#include <sys/uio.h>

#include "vq_internal.h"
#include "test-vq-tdrv.h"

#define NFRAMES 256u
#define MEM_SIZE (NFRAMES * 4096u)
#define DATA 0x80000u

struct fake {
	struct xv_platform p;
	int fd;
	bool granted[NFRAMES], ro[NFRAMES];
	unsigned int map_calls, unmap_calls, copy_calls;
	unsigned int ro_calls, rw_calls;
	int live_frames;
	unsigned int fail_map_at;     /* fail the Nth map call (1-based) */
	bool fail_lying;	      /* ...by status only, returning 0 */
	int used_idx_at_unmap;	      /* split used idx seen at last unmap */
};

static struct fake F;
static uint8_t *mem;
static struct xenvirtio_ctx *ctx;
static struct xenvirtio_mapper *m;
static struct xenvirtio_vq *vq;
static struct tdrv t;
static struct iovec iov[64];
static struct xenvirtio_vq_elem e;

static int16_t check_ref(uint32_t ref, bool writable)
{
	if (ref < 8 || ref >= 8 + NFRAMES || !F.granted[ref - 8])
		return XV_GNTST_BAD_GNTREF;
	if (writable && F.ro[ref - 8])
		return XV_GNTST_PERMISSION_DENIED;
	return XV_GNTST_OKAY;
}

static int do_map(uint32_t count, const uint64_t *frames, bool writable,
		  void **va)
{
	uint8_t *r = mmap(NULL, count * 4096ul, PROT_NONE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint32_t k;

	ck_assert_ptr_ne(r, MAP_FAILED);
	for (k = 0; k < count; k++)
		ck_assert_ptr_ne(mmap(r + k * 4096ul, 4096,
				      PROT_READ | (writable ? PROT_WRITE : 0),
				      MAP_SHARED | MAP_FIXED, F.fd,
				      (off_t)frames[k] * 4096),
				 MAP_FAILED);
	F.live_frames += (int)count;
	*va = r;
	return 0;
}

static int fake_map_grants(struct xv_platform *p, uint16_t domid,
			   uint32_t count, const uint32_t *refs, bool writable,
			   void **va, int16_t *status)
{
	uint64_t frames[1100];
	uint32_t i;
	bool bad = false;

	(void)p;
	(void)domid;
	ck_assert_uint_le(count, 1100);
	F.map_calls++;
	if (writable)
		F.rw_calls++;
	else
		F.ro_calls++;
	for (i = 0; i < count; i++) {
		status[i] = check_ref(refs[i], writable);
		bad |= status[i] != XV_GNTST_OKAY;
		frames[i] = refs[i] - 8;
	}
	if (F.fail_map_at && F.map_calls == F.fail_map_at) {
		status[count - 1] = XV_GNTST_GENERAL_ERROR;
		if (F.fail_lying)
			return do_map(count, frames, writable, va);
		return -EIO;
	}
	if (bad)
		return -EFAULT;
	return do_map(count, frames, writable, va);
}

static int fake_unmap(struct xv_platform *p, void *va, uint32_t count)
{
	(void)p;
	F.unmap_calls++;
	F.used_idx_at_unmap = tdrv_rd16(mem + t.dev + 2);
	F.live_frames -= (int)count;
	ck_assert_int_ge(F.live_frames, 0);
	return munmap(va, count * 4096ul);
}

static int fake_map_foreign(struct xv_platform *p, uint16_t domid,
			    uint32_t count, const uint64_t *gfns,
			    bool writable, void **va, int *errs)
{
	uint32_t i;

	(void)p;
	(void)domid;
	F.map_calls++;
	for (i = 0; i < count; i++)
		errs[i] = gfns[i] >= NFRAMES ? -EINVAL : 0;
	for (i = 0; i < count; i++)
		if (errs[i])
			return -EINVAL;
	return do_map(count, gfns, writable, va);
}

static int fake_copy(struct xv_platform *p, struct xv_copy_seg *s,
		     uint32_t count)
{
	uint32_t i;
	int r = 0;

	(void)p;
	F.copy_calls++;
	for (i = 0; i < count; i++) {
		s[i].status = check_ref(s[i].ref, s[i].to_grant);
		if (s[i].status == XV_GNTST_OKAY &&
		    s[i].offset + s[i].len > 4096)
			s[i].status = XV_GNTST_BAD_COPY_ARG;
		if (s[i].status != XV_GNTST_OKAY) {
			r = r ? r : -EFAULT;
			continue;
		}
		if (s[i].to_grant)
			memcpy(mem + (s[i].ref - 8) * 4096ul + s[i].offset,
			       s[i].local, s[i].len);
		else
			memcpy(s[i].local,
			       mem + (s[i].ref - 8) * 4096ul + s[i].offset,
			       s[i].len);
	}
	return r;
}

static const struct xv_platform_ops fake_ops = {
	.name = "fake",
	.map_grants = fake_map_grants,
	.unmap_grants = fake_unmap,
	.grant_copy = fake_copy,
	.map_foreign = fake_map_foreign,
	.unmap_foreign = fake_unmap,
};

static void setup_world(void)
{
	unsigned int i;

	xv_test_expect_errors(0);
	memset(&F, 0, sizeof(F));
	F.fd = memfd_create("guest", 0);
	ck_assert_int_ge(F.fd, 0);
	ck_assert_int_eq(ftruncate(F.fd, MEM_SIZE), 0);
	mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, F.fd,
		   0);
	ck_assert_ptr_ne(mem, MAP_FAILED);
	for (i = 0; i < NFRAMES; i++)
		F.granted[i] = true;
	F.p.ops = &fake_ops;
	F.p.caps = XV_CAP_MAP | XV_CAP_COPY | XV_CAP_FOREIGN;
	F.p.privileged = true;
	ctx = calloc(1, sizeof(*ctx));
	ctx->log_fn = xv_test_log;
	ctx->log_max = XENVIRTIO_LOG_DEBUG;
	ctx->plat = &F.p;
	F.p.ctx = ctx;
	e.iov = iov;
	e.iov_cap = XV_ARRAY_SIZE(iov);
}

static void open_q(enum xenvirtio_mapper_mode mode, bool packed,
		   uint32_t copy)
{
	struct xenvirtio_vq_config cfg;

	ck_assert_int_eq(xenvirtio_mapper_open(ctx, mode, 1, &m), 0);
	if (copy)
		ck_assert_int_eq(xenvirtio_mapper_set_copy_threshold(m, copy),
				 0);
	ck_assert_int_eq(xenvirtio_vq_new(m, 256, &vq), 0);
	tdrv_init(&t, mem, 0, 64, packed, false,
		  mode == XENVIRTIO_MAPPER_GRANT);
	tdrv_config(&t, &cfg, 0);
	ck_assert_int_eq(xenvirtio_vq_enable(vq, &cfg), 0);
}

static void teardown_world(void)
{
	xenvirtio_vq_free(vq);
	vq = NULL;
	ck_assert_int_eq(F.live_frames, 0); /* nothing leaked */
	xenvirtio_mapper_close(m);
	m = NULL;
	munmap(mem, MEM_SIZE);
	close(F.fd);
	free(ctx);
}

static void expect_used(uint32_t id, uint32_t len, unsigned int nd)
{
	uint32_t uid = 0xdead, ulen = 0xdead;

	ck_assert_int_eq(tdrv_get_used(&t, &uid, &ulen, nd), 1);
	ck_assert_uint_eq(uid, id);
	ck_assert_uint_eq(ulen, len);
}

/* The block-style request: 16-byte header, 8 x 4 KiB, 1-byte status. */
static uint16_t add_block(bool write_data, bool indirect, uint16_t id)
{
	struct tbuf b[10];
	unsigned int i;

	b[0] = (struct tbuf){ DATA, 16, false };
	for (i = 0; i < 8; i++)
		b[1 + i] = (struct tbuf){ DATA + 4096 * (1 + i), 4096,
					  write_data };
	b[9] = (struct tbuf){ DATA + 4096 * 9 + 100, 1, true };
	return tdrv_add(&t, b, 10, indirect, id);
}

/* G1: grant mode fails a plain address, foreign mode a grant address,
 * per request; the queue goes on. */
START_TEST(test_G1_mode_per_request)
{
	struct tbuf b = { DATA, 8, false };
	uint16_t id;

	open_q(XENVIRTIO_MAPPER_GRANT, _i, 0);
	t.grant = false;
	id = tdrv_add(&t, &b, 1, false, 1);
	ck_assert_int_eq(xenvirtio_vq_pop(vq, &e), -EFAULT);
	expect_used(id, 0, 1);
	t.grant = true;
	id = tdrv_add(&t, &b, 1, false, 2);
	ck_assert_int_eq(xenvirtio_vq_pop(vq, &e), 1);
	ck_assert_int_eq(xenvirtio_vq_push(vq, &e, 0), 0);
	xenvirtio_vq_free(vq);
	vq = NULL;
	xenvirtio_mapper_close(m);

	open_q(XENVIRTIO_MAPPER_FOREIGN, _i, 0);
	t.grant = true;
	id = tdrv_add(&t, &b, 1, false, 3);
	ck_assert_int_eq(xenvirtio_vq_pop(vq, &e), -EFAULT);
	expect_used(id, 0, 1);
	t.grant = false;
	memcpy(mem + DATA, "foreign!", 8);
	id = tdrv_add(&t, &b, 1, false, 4);
	ck_assert_int_eq(xenvirtio_vq_pop(vq, &e), 1);
	ck_assert_int_eq(memcmp(iov[0].iov_base, "foreign!", 8), 0);
	ck_assert_int_eq(xenvirtio_vq_push(vq, &e, 0), 0);
}
END_TEST

/* G2: ref + frames overflowing 32 bits; frames include the offset. */
START_TEST(test_G2_ref_overflow)
{
	uint16_t id;
	unsigned int calls;

	open_q(XENVIRTIO_MAPPER_GRANT, false, 0);
	calls = F.map_calls;
	tdrv_wdesc_split(mem + t.desc,
			 XENVIRTIO_GRANT_ADDR_FLAG | (0xffffffffull << 12) |
				 0xfff,
			 2, 0, 0);
	tdrv_publish_split(&t, 0);
	ck_assert_int_eq(xenvirtio_vq_pop(vq, &e), -EFAULT);
	expect_used(0, 0, 1);
	/* one byte in the last ref is fine as far as arithmetic goes; the
	 * ref is not granted in this world */
	tdrv_wdesc_split(mem + t.desc,
			 XENVIRTIO_GRANT_ADDR_FLAG | (0xffffffffull << 12) |
				 0xfff,
			 1, 0, 0);
	tdrv_publish_split(&t, 0);
	id = 0;
	ck_assert_int_eq(xenvirtio_vq_pop(vq, &e), -EFAULT);
	expect_used(id, 0, 1);
	ck_assert_uint_eq(F.map_calls - calls, 1); /* only the 1-byte try */
}
END_TEST

/* G3: readable buffers mapped read-only, writable ones read-write, in
 * separate calls; a writable buffer in a read-only grant fails. */
START_TEST(test_G3_readonly_map)
{
	uint16_t id;
	unsigned int ro0, rw0;

	open_q(XENVIRTIO_MAPPER_GRANT, _i, 0);
	ro0 = F.ro_calls;
	rw0 = F.rw_calls;
	F.ro[DATA / 4096] = true; /* the header's frame: granted RO */
	id = add_block(false, false, 1);
	ck_assert_int_eq(xenvirtio_vq_pop(vq, &e), 1);
	ck_assert_uint_eq(F.ro_calls - ro0, 1);
	ck_assert_uint_eq(F.rw_calls - rw0, 1);
	ck_assert_int_eq(xenvirtio_vq_push(vq, &e, 1), 0);
	expect_used(id, 1, 10);
	/* status byte placed into the read-only frame: must fail */
	{
		struct tbuf b[2] = { { DATA + 16, 16, false },
				     { DATA + 64, 1, true } };

		id = tdrv_add(&t, b, 2, false, 2);
		ck_assert_int_eq(xenvirtio_vq_pop(vq, &e), -EACCES);
		expect_used(id, 0, 2);
	}
}
END_TEST

/* G4: a failure in the second batched call unmaps the first; a platform
 * that reports success with a failed element is caught and undone. */
START_TEST(test_G4_partial_failure_undone)
{
	uint16_t id;
	int live;

	open_q(XENVIRTIO_MAPPER_GRANT, _i, 0);
	live = F.live_frames; /* the rings */
	F.fail_map_at = F.map_calls + 2; /* the RW call of the next pop */
	id = add_block(false, false, 1);
	ck_assert_int_eq(xenvirtio_vq_pop(vq, &e), -EFAULT);
	expect_used(id, 0, 10);
	ck_assert_int_eq(F.live_frames, live);
	F.fail_map_at = F.map_calls + 1;
	F.fail_lying = true;
	id = add_block(false, false, 2);
	ck_assert_int_eq(xenvirtio_vq_pop(vq, &e), -EFAULT);
	expect_used(id, 0, 10);
	ck_assert_int_eq(F.live_frames, live);
}
END_TEST

/* G5: a buffer that runs into an ungranted frame fails cleanly. */
START_TEST(test_G5_ungranted_frame)
{
	struct tbuf b[1] = { { DATA + 4000, 200, true } };
	uint16_t id;
	int live;

	open_q(XENVIRTIO_MAPPER_GRANT, _i, 0);
	live = F.live_frames;
	F.granted[DATA / 4096 + 1] = false;
	id = tdrv_add(&t, b, 1, false, 1);
	ck_assert_int_eq(xenvirtio_vq_pop(vq, &e), -EFAULT);
	expect_used(id, 0, 1);
	ck_assert_int_eq(F.live_frames, live);
}
END_TEST

/* G6: data is unmapped before the used element is published. */
START_TEST(test_G6_unmap_before_publish)
{
	open_q(XENVIRTIO_MAPPER_GRANT, false, 0);
	add_block(true, false, 0);
	ck_assert_int_eq(xenvirtio_vq_pop(vq, &e), 1);
	/* the writable group lands where the guest sees it */
	memset(iov[8].iov_base, 0x77, 4096);
	*(uint8_t *)iov[9].iov_base = 0x78;
	ck_assert_uint_eq(mem[DATA + 4096 * 8], 0x77);
	ck_assert_uint_eq(mem[DATA + 4096 * 9 + 100], 0x78);
	ck_assert_int_eq(memcmp(iov[0].iov_base, mem + DATA, 16), 0);
	F.used_idx_at_unmap = -1;
	ck_assert_int_eq(xenvirtio_vq_push(vq, &e, 100), 0);
	ck_assert_int_eq(F.used_idx_at_unmap, 0);
	ck_assert_uint_eq(tdrv_rd16(mem + t.dev + 2), 1);
}
END_TEST

/* G8: quotas on mapped frames and in-flight requests: backpressure. */
START_TEST(test_G8_quota)
{
	struct xenvirtio_vq_elem e2 = e;
	struct iovec iov2[4];
	struct tbuf b[1] = { { DATA, 3 * 4096, true } };

	open_q(XENVIRTIO_MAPPER_GRANT, _i, 0);
	e2.iov = iov2;
	e2.iov_cap = 4;
	ck_assert_int_eq(xenvirtio_mapper_set_quota(m, 4, 0), 0);
	uint16_t id2;

	tdrv_add(&t, b, 1, false, 1);
	id2 = tdrv_add(&t, b, 1, false, 2);
	ck_assert_int_eq(xenvirtio_vq_pop(vq, &e), 1);
	ck_assert_int_eq(xenvirtio_vq_pop(vq, &e2), -ENOSPC);
	ck_assert_int_eq(xenvirtio_vq_pop(vq, &e2), -ENOSPC);
	ck_assert_int_eq(xenvirtio_vq_push(vq, &e, 0), 0);
	ck_assert_int_eq(xenvirtio_vq_pop(vq, &e2), 1);
	ck_assert_uint_eq(e2.id, id2);
	ck_assert_int_eq(xenvirtio_vq_push(vq, &e2, 0), 0);
	/* one chain larger than the whole quota fails instead */
	b[0].len = 5 * 4096;
	tdrv_add(&t, b, 1, false, 3);
	ck_assert_int_eq(xenvirtio_vq_pop(vq, &e), -EFAULT);
	/* in-flight quota */
	ck_assert_int_eq(xenvirtio_mapper_set_quota(m, 0, 1), 0);
	b[0].len = 10;
	tdrv_add(&t, b, 1, false, 4);
	tdrv_add(&t, b, 1, false, 5);
	ck_assert_int_eq(xenvirtio_vq_pop(vq, &e), 1);
	ck_assert_int_eq(xenvirtio_vq_pop(vq, &e2), -ENOSPC);
	ck_assert_int_eq(xenvirtio_vq_push(vq, &e, 0), 0);
	ck_assert_int_eq(xenvirtio_vq_pop(vq, &e2), 1);
	ck_assert_int_eq(xenvirtio_vq_push(vq, &e2, 0), 0);
}
END_TEST

/* G9: 4 KiB arithmetic: a buffer crossing a frame boundary maps both
 * frames and reads contiguously. */
START_TEST(test_G9_frame_arithmetic)
{
	struct tbuf b[1] = { { DATA + 4000, 200, false } };
	struct xenvirtio_mapper_stats st0, st1;
	unsigned int i;

	open_q(XENVIRTIO_MAPPER_GRANT, _i, 0);
	for (i = 0; i < 200; i++)
		mem[DATA + 4000 + i] = (uint8_t)(i * 7 + 1);
	xenvirtio_mapper_get_stats(m, &st0);
	tdrv_add(&t, b, 1, false, 1);
	ck_assert_int_eq(xenvirtio_vq_pop(vq, &e), 1);
	xenvirtio_mapper_get_stats(m, &st1);
	ck_assert_uint_eq(st1.frames_mapped - st0.frames_mapped, 2);
	ck_assert_uint_eq(iov[0].iov_len, 200);
	ck_assert_int_eq(memcmp(iov[0].iov_base, mem + DATA + 4000, 200), 0);
	ck_assert_int_eq(xenvirtio_vq_push(vq, &e, 0), 0);
}
END_TEST

/* R9 in grant mode: an indirect table straddling two frames. */
START_TEST(test_R9_grant_indirect_straddles)
{
	struct tbuf b[3] = { { DATA, 1, false },
			     { DATA + 4096, 2, true },
			     { DATA + 8192, 3, true } };

	open_q(XENVIRTIO_MAPPER_GRANT, _i, 0);
	t.itab += 4096 - 16 - 256u * (t.packed ? 5 : 0);
	tdrv_add(&t, b, 3, true, 5);
	ck_assert_int_eq(xenvirtio_vq_pop(vq, &e), 1);
	ck_assert_uint_eq(e.out_num, 1);
	ck_assert_uint_eq(e.in_num, 2);
	ck_assert_uint_eq(iov[2].iov_len, 3);
	ck_assert_int_eq(xenvirtio_vq_push(vq, &e, 5), 0);
	expect_used(e.id, 5, 1);
}
END_TEST

/* R9 in grant mode: the table is read by grant copy (no map call); a table
 * in memory the guest did not grant retires the chain, the queue lives. */
START_TEST(test_R9_grant_indirect_ungranted)
{
	struct tbuf b[2] = { { DATA, 1, false }, { DATA + 4096, 2, true } };
	struct xenvirtio_mapper_stats st0, st1;
	uint32_t tframe;

	open_q(XENVIRTIO_MAPPER_GRANT, _i, 0);
	xenvirtio_mapper_get_stats(m, &st0);
	tdrv_add(&t, b, 2, true, 1);
	ck_assert_int_eq(xenvirtio_vq_pop(vq, &e), 1);
	xenvirtio_mapper_get_stats(m, &st1);
	ck_assert_uint_eq(st1.copy_ops - st0.copy_ops, 1);
	ck_assert_uint_eq(st1.map_calls - st0.map_calls, 2); /* RO + RW */
	ck_assert_int_eq(xenvirtio_vq_push(vq, &e, 2), 0);
	expect_used(e.id, 2, 1);

	tframe = (uint32_t)(t.itab / 4096);
	F.granted[tframe] = false;
	xenvirtio_mapper_get_stats(m, &st0);
	tdrv_add(&t, b, 2, true, 2);
	ck_assert_int_eq(xenvirtio_vq_pop(vq, &e), -EFAULT);
	xenvirtio_mapper_get_stats(m, &st1);
	ck_assert_uint_eq(st1.map_calls - st0.map_calls, 0);
	F.granted[tframe] = true;
	tdrv_add(&t, b, 2, true, 3);
	ck_assert_int_eq(xenvirtio_vq_pop(vq, &e), 1);
	ck_assert_int_eq(xenvirtio_vq_push(vq, &e, 0), 0);
}
END_TEST

/* S3/S4 with grants: rings in ungranted memory fail; ring mappings live
 * for the queue's life and are released on reset. */
START_TEST(test_S3_S4_grant_rings)
{
	struct xenvirtio_vq_config cfg;
	int live;

	open_q(XENVIRTIO_MAPPER_GRANT, _i, 0);
	live = F.live_frames;
	ck_assert_int_gt(live, 0);
	tdrv_config(&t, &cfg, 0);
	F.granted[t.dev / 4096] = false;
	ck_assert_int_eq(xenvirtio_vq_enable(vq, &cfg), -EFAULT);
	ck_assert_int_eq(F.live_frames, 0);
	F.granted[t.dev / 4096] = true;
	ck_assert_int_eq(xenvirtio_vq_enable(vq, &cfg), 0);
	ck_assert_int_eq(F.live_frames, live);
	add_block(true, false, 1);
	ck_assert_int_eq(xenvirtio_vq_pop(vq, &e), 1);
	ck_assert_int_gt(F.live_frames, live);
	ck_assert_int_eq(xenvirtio_vq_reset(vq), 0);
	ck_assert_int_eq(F.live_frames, 0);
}
END_TEST

/* The batched strategy with grant copy: the block request costs exactly
 * one map and one unmap call, direct or through an indirect table (read by
 * grant copy); header copied in, status copied out, only the written
 * prefix. */
START_TEST(test_batched_block_one_map_call)
{
	struct xenvirtio_mapper_stats st0, st1;
	unsigned int i;

	open_q(XENVIRTIO_MAPPER_GRANT, _i, 16);
	memcpy(mem + DATA, "0123456789abcdef", 16);
	for (i = 0; i < 3; i++) {
		xenvirtio_mapper_get_stats(m, &st0);
		mem[DATA + 4096 * 9 + 100] = 0xee;
		add_block(true, i == 2, (uint16_t)i);
		ck_assert_int_eq(xenvirtio_vq_pop(vq, &e), 1);
		ck_assert_int_eq(memcmp(iov[0].iov_base, "0123456789abcdef",
					16),
				 0);
		memset(iov[1].iov_base, 0x5a, 4096);
		*(uint8_t *)iov[9].iov_base = (uint8_t)i;
		ck_assert_int_eq(xenvirtio_vq_push(vq, &e,
						   i == 1 ? 4096 : 8 * 4096 + 1),
				 0);
		xenvirtio_mapper_get_stats(m, &st1);
		ck_assert_uint_eq(st1.map_calls - st0.map_calls, 1);
		ck_assert_uint_eq(st1.unmap_calls - st0.unmap_calls, 1);
		ck_assert_uint_eq(st1.frames_mapped - st0.frames_mapped, 8);
		/* header in, status out (not when outside the written
		 * length, i == 1), and the indirect table (i == 2) is read by
		 * grant copy too, not mapped */
		ck_assert_uint_eq(st1.copy_calls - st0.copy_calls,
				  2 - (i == 1) + (i == 2));
		ck_assert_uint_eq(mem[DATA + 4096], 0x5a);
		/* status copied out only when inside the written length */
		ck_assert_uint_eq(mem[DATA + 4096 * 9 + 100],
				  i == 1 ? 0xee : i);
	}
}
END_TEST

/* Per-descriptor strategy, for comparison: one call per buffer. */
START_TEST(test_per_desc_strategy)
{
	struct xenvirtio_mapper_stats st0, st1;

	open_q(XENVIRTIO_MAPPER_GRANT, _i, 0);
	ck_assert_int_eq(xenvirtio_mapper_set_strategy(
				 m, XENVIRTIO_MAPPER_PER_DESC),
			 0);
	xenvirtio_mapper_get_stats(m, &st0);
	add_block(true, false, 0);
	ck_assert_int_eq(xenvirtio_vq_pop(vq, &e), 1);
	ck_assert_int_eq(xenvirtio_vq_push(vq, &e, 1), 0);
	xenvirtio_mapper_get_stats(m, &st1);
	ck_assert_uint_eq(st1.map_calls - st0.map_calls, 10);
	ck_assert_uint_eq(st1.unmap_calls - st0.unmap_calls, 10);
}
END_TEST

START_TEST(test_mapper_open_errors)
{
	ck_assert_int_eq(xenvirtio_mapper_open(ctx, XENVIRTIO_MAPPER_IDENTITY,
					       1, &m),
			 -EINVAL);
	F.p.privileged = false;
	ck_assert_int_eq(xenvirtio_mapper_open(ctx, XENVIRTIO_MAPPER_FOREIGN,
					       1, &m),
			 -EOPNOTSUPP);
	F.p.caps = 0;
	ck_assert_int_eq(xenvirtio_mapper_open(ctx, XENVIRTIO_MAPPER_GRANT, 1,
					       &m),
			 -EOPNOTSUPP);
	m = NULL;
}
END_TEST

int main(void)
{
	Suite *s = suite_create("mapper");
	TCase *tc = tcase_create("grant");

	tcase_add_checked_fixture(tc, setup_world, teardown_world);
	tcase_add_loop_test(tc, test_G1_mode_per_request, 0, 2);
	tcase_add_test(tc, test_G2_ref_overflow);
	tcase_add_loop_test(tc, test_G3_readonly_map, 0, 2);
	tcase_add_loop_test(tc, test_G4_partial_failure_undone, 0, 2);
	tcase_add_loop_test(tc, test_G5_ungranted_frame, 0, 2);
	tcase_add_test(tc, test_G6_unmap_before_publish);
	tcase_add_loop_test(tc, test_G8_quota, 0, 2);
	tcase_add_loop_test(tc, test_G9_frame_arithmetic, 0, 2);
	tcase_add_loop_test(tc, test_R9_grant_indirect_straddles, 0, 2);
	tcase_add_loop_test(tc, test_R9_grant_indirect_ungranted, 0, 2);
	tcase_add_loop_test(tc, test_S3_S4_grant_rings, 0, 2);
	tcase_add_loop_test(tc, test_batched_block_one_map_call, 0, 2);
	tcase_add_loop_test(tc, test_per_desc_strategy, 0, 2);
	tcase_add_test(tc, test_mapper_open_errors);
	suite_add_tcase(s, tc);
	return xv_test_run(s);
}
