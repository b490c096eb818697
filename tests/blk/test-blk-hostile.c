/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-blk-hostile: a hostile frontend against examples/blk-backend, run as
 * a separate process on a simulated world, while a second, well-behaved
 * frontend keeps doing verified I/O on another device of the same daemon.
 *
 * Devices: A = fe 1 devid 0 (the target), C = fe 1 devid 1 (read-only
 * image), B = fe 2 devid 0 (the bystander: two packed queues, connected for
 * the whole test). Each case is named after the SPEC-NOTES check it proves:
 *
 *   S1  queue register written with QueueSel out of range: needs reset
 *   S2  QueueNum above QueueNumMax: needs reset
 *   S3  misaligned ring; ring in ungranted memory: refused, needs reset
 *   G1  plain ring address on a grant device: refused, needs reset
 *   R1  avail index more than the queue size ahead: the backend breaks the
 *       queue, the device needs a reset
 *   G5  a buffer in ungranted memory: the chain is retired with used
 *       length 0 (R16) and counted as bad; the device stays sound
 *   R15 request checks across split descriptors: a header split in two is
 *       served; a short header, a sector beyond the capacity (and one that
 *       overflows), data not a multiple of 512, data segments beyond
 *       seg_max, IN without data, get IOERR; an unknown type UNSUPP; a
 *       request without a status byte is completed with used length 0;
 *       OUT to a read-only image IOERR; GET_ID and FLUSH are served
 *   F7  the world's maptrack exhausted by another domain: the request
 *       waits in the ring (backpressure) and is served once entries free
 *   a client stalled in the middle of a register message is dropped;
 *   nothing is served before DRIVER_OK
 *
 * Every breakage shows as exactly one "broken" line in the daemon's log;
 * after a reset (Status 0, or a new connection) A serves again; at SIGTERM
 * the daemon exits 0 with "mapped now 0" for every device and A's bad
 * request count matches what this test sent.
 */
#include "blk-test.h"

#define SECTORS 256u
#define SEED_A 0xa11ceu
#define SEED_B 0xb0bu
#define SEED_C 0xc0ffeeu

static struct bt_fe A, B;
static int breaks; /* episodes that broke device A */
static unsigned int bad_a, bad_c;

static uint64_t gaddr(uint32_t ref, uint32_t off)
{
	uint64_t a = 0;

	xenvirtio_grant_addr(ref, off, &a);
	return a;
}

static void expect_broken(const char *what)
{
	uint32_t st = bt_status(&A);

	BT_CHECK(st & XENVIRTIO_STATUS_DEVICE_NEEDS_RESET,
		 "%s: status %#x without DEVICE_NEEDS_RESET", what, st);
	breaks++;
	bt_log_wait("device 1/0: broken", breaks);
	/* Logged once: the daemon looks again after every access. */
	bt_status(&A);
	bt_status(&A);
	usleep(20000);
	bt_log_wait("device 1/0: broken", breaks);
	/* Start over: Status 0 resets the device and its queues. */
	BT_OK(xenvirtio_mmio_sock_client_write(A.cl, XENVIRTIO_MMIO_STATUS, 4,
					       0));
	BT_CHECK(bt_status(&A) == 0, "%s: reset did not clear Status", what);
	fprintf(stderr, "  ok %s\n", what);
}

static void bystander_io(const char *when)
{
	bt_verified_io(&B, 0, 3, 8, SEED_B);
	bt_verified_io(&B, 1, SECTORS - 16, 16, SEED_B + 1);
	fprintf(stderr, "  ok bystander I/O %s\n", when);
}

/* ---- register and ring set-up cases (S1 S2 S3 G1 R1) ---- */

static void test_S1_queue_select_out_of_range(void)
{
	bt_fe_negotiate(&A, false);
	BT_OK(xenvirtio_mmio_sock_client_write(A.cl, XENVIRTIO_MMIO_QUEUE_SEL,
					       4, 7));
	BT_CHECK(xenvirtio_mmio_sock_client_write(
		     A.cl, XENVIRTIO_MMIO_QUEUE_NUM, 4, 16) == -EPROTO,
		 "QueueNum with QueueSel 7 accepted");
	expect_broken("test_S1_queue_select_out_of_range");
}

static void test_S2_queue_num_too_big(void)
{
	bt_fe_negotiate(&A, false);
	BT_OK(xenvirtio_mmio_sock_client_write(A.cl, XENVIRTIO_MMIO_QUEUE_SEL,
					       4, 0));
	BT_CHECK(xenvirtio_mmio_sock_client_write(
		     A.cl, XENVIRTIO_MMIO_QUEUE_NUM, 4, 1000) == -EPROTO,
		 "QueueNum 1000 accepted (max 64)");
	expect_broken("test_S2_queue_num_too_big");
}

static void ring_refused(const char *what, uint64_t desc, uint64_t drv,
			 uint64_t dev)
{
	bt_fe_negotiate(&A, false);
	BT_CHECK(xenvirtio_mmio_drv_queue_setup(A.drv, 0, 16, desc, drv, dev) <
		     0,
		 "%s: queue accepted", what);
	expect_broken(what);
}

static void test_S3_ring_misaligned(void)
{
	ring_refused("test_S3_ring_misaligned", gaddr(100, 8), gaddr(101, 0),
		     gaddr(102, 0));
}

static void test_S3_ring_in_ungranted_memory(void)
{
	ring_refused("test_S3_ring_in_ungranted_memory", gaddr(2000, 0),
		     gaddr(2001, 0), gaddr(2002, 0));
}

static void test_G1_plain_ring_address_in_grant_mode(void)
{
	ring_refused("test_G1_plain_ring_address_in_grant_mode", 0x10000,
		     0x11000, 0x12000);
}

/* A split ring written by hand: avail.idx far ahead of the queue. */
static void test_R1_avail_index_ahead(void)
{
	const unsigned int n = 16;
	uint8_t *ring;
	void *va;
	uint64_t da;
	int64_t end;

	bt_fe_negotiate(&A, false);
	BT_OK(xenvirtio_dma_alloc_coherent(A.dma, 4096, &va, &da));
	ring = va;
	BT_OK(xenvirtio_mmio_drv_queue_setup(A.drv, 0, n, da, da + 1024,
					     da + 2048));
	BT_OK(xenvirtio_mmio_drv_driver_ok(A.drv));
	ring[1024 + 2] = 100; /* avail.idx = 100 > 16 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	BT_OK(xenvirtio_mmio_drv_notify(A.drv, 0));
	end = bt_now_ms() + bt_ms(3000);
	while (!(bt_status(&A) & XENVIRTIO_STATUS_DEVICE_NEEDS_RESET) &&
	       bt_now_ms() < end)
		usleep(5000);
	expect_broken("test_R1_avail_index_ahead");
	/* The reset released the ring: it can be revoked and freed. */
	BT_OK(xenvirtio_dma_free_coherent(A.dma, va, 4096, da));
}

/*
 * A chain whose buffer lies in memory the guest never granted: the
 * library retires it with used length 0 (G5, R16), the daemon counts it as
 * bad, and the device stays sound.
 */
static void test_G5_buffer_in_ungranted_memory(void)
{
	const unsigned int n = 16;
	uint8_t *ring, *d;
	uint16_t used_idx;
	uint32_t id, len;
	void *va;
	uint64_t da, a = gaddr(2000, 0);
	int64_t end;
	int i;

	bt_fe_negotiate(&A, false);
	BT_OK(xenvirtio_dma_alloc_coherent(A.dma, 4096, &va, &da));
	ring = va;
	BT_OK(xenvirtio_mmio_drv_queue_setup(A.drv, 0, n, da, da + 1024,
					     da + 2048));
	BT_OK(xenvirtio_mmio_drv_driver_ok(A.drv));
	/* descriptor 0: 512 writable bytes at ref 2000, not granted */
	d = ring;
	for (i = 0; i < 8; i++)
		d[i] = (uint8_t)(a >> (8 * i));
	d[8] = 0x00;
	d[9] = 0x02;	    /* len 512 */
	d[12] = 2;	    /* VRING_DESC_F_WRITE */
	ring[1024 + 4] = 0; /* avail.ring[0] = 0 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	ring[1024 + 2] = 1; /* avail.idx = 1 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	BT_OK(xenvirtio_mmio_drv_notify(A.drv, 0));
	end = bt_now_ms() + bt_ms(3000);
	for (;;) {
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		used_idx = (uint16_t)(ring[2048 + 2] | ring[2048 + 3] << 8);
		if (used_idx == 1 || bt_now_ms() >= end)
			break;
		usleep(2000);
	}
	BT_CHECK(used_idx == 1, "chain not retired: used idx %u", used_idx);
	id = (uint32_t)ring[2048 + 4] | (uint32_t)ring[2048 + 5] << 8;
	len = (uint32_t)ring[2048 + 8] | (uint32_t)ring[2048 + 9] << 8;
	BT_CHECK(id == 0 && len == 0, "used id %u len %u", id, len);
	BT_CHECK(!(bt_status(&A) & XENVIRTIO_STATUS_DEVICE_NEEDS_RESET),
		 "an ungranted buffer broke the device");
	bad_a++;
	BT_OK(xenvirtio_mmio_sock_client_write(A.cl, XENVIRTIO_MMIO_STATUS, 4,
					       0));
	BT_OK(xenvirtio_dma_free_coherent(A.dma, va, 4096, da));
	fprintf(stderr, "  ok test_G5_buffer_in_ungranted_memory\n");
}

/* ---- request cases (R15) on a well set-up device ---- */

static int submit(struct bt_fe *fe, const struct iovec *out, unsigned int no,
		  const struct iovec *in, unsigned int ni, uint32_t *used)
{
	void *tok = NULL;
	uint32_t l = 0;

	bt_add(fe, 0, out, no, in, ni, &l);
	BT_CHECK(bt_get(fe, 0, &tok, &l, bt_ms(5000)) == 1, "no completion");
	BT_CHECK(tok == &l, "wrong token");
	*used = l;
	return 0;
}

static void expect_status(const char *what, int got, int want)
{
	BT_CHECK(got == want, "%s: status %d, expected %d", what, got, want);
	fprintf(stderr, "  ok %s\n", what);
}

static void test_R15_requests(void)
{
	struct bt_req rq;
	uint8_t data[1024], *segs[33];
	struct iovec out[4], in[40];
	uint32_t used;
	unsigned int i;

	/* A header split across two descriptors, data split too: served. */
	bt_hdr(&rq, VIRTIO_BLK_T_IN, 5);
	out[0] = (struct iovec){rq.hdr, 8};
	out[1] = (struct iovec){rq.hdr + 8, 8};
	in[0] = (struct iovec){data, 256};
	in[1] = (struct iovec){data + 256, 256};
	in[2] = (struct iovec){&rq.status, 1};
	submit(&A, out, 2, in, 3, &used);
	expect_status("test_R15_split_header_served", rq.status,
		      VIRTIO_BLK_S_OK);
	BT_CHECK(used == 513, "used %u", used);
	for (i = 0; i < 512; i++)
		BT_CHECK(data[i] == bt_pattern(SEED_A, 5 * 512 + i),
			 "byte %u of sector 5", i);

	/* 12 header bytes in two descriptors. */
	bt_hdr(&rq, VIRTIO_BLK_T_IN, 0);
	out[1].iov_len = 4;
	in[2] = (struct iovec){&rq.status, 1};
	submit(&A, out, 2, in, 3, &used);
	expect_status("test_R15_short_header", rq.status, VIRTIO_BLK_S_IOERR);
	bad_a++;

	/* Sector ranges: at the capacity, across it, overflowing. */
	{
		static const uint64_t sec[] = {SECTORS, SECTORS - 1,
					       UINT64_MAX - 1};
		static const uint32_t len[] = {512, 1024, 1024};

		for (i = 0; i < 3; i++) {
			bt_hdr(&rq, VIRTIO_BLK_T_IN, sec[i]);
			out[0] = (struct iovec){rq.hdr, 16};
			in[0] = (struct iovec){data, len[i]};
			in[1] = (struct iovec){&rq.status, 1};
			submit(&A, out, 1, in, 2, &used);
			expect_status("test_R15_sector_beyond_capacity",
				      rq.status, VIRTIO_BLK_S_IOERR);
			bad_a++;
		}
	}

	/* Data not a multiple of 512, both directions. */
	bt_hdr(&rq, VIRTIO_BLK_T_IN, 0);
	in[0] = (struct iovec){data, 100};
	in[1] = (struct iovec){&rq.status, 1};
	submit(&A, out, 1, in, 2, &used);
	expect_status("test_R15_in_not_sector_multiple", rq.status,
		      VIRTIO_BLK_S_IOERR);
	bt_hdr(&rq, VIRTIO_BLK_T_OUT, 0);
	out[1] = (struct iovec){data, 700};
	in[0] = (struct iovec){&rq.status, 1};
	submit(&A, out, 2, in, 1, &used);
	expect_status("test_R15_out_not_sector_multiple", rq.status,
		      VIRTIO_BLK_S_IOERR);
	bad_a += 2;

	/* IN without data. */
	bt_hdr(&rq, VIRTIO_BLK_T_IN, 0);
	submit(&A, out, 1, in, 1, &used);
	expect_status("test_R15_in_without_data", rq.status,
		      VIRTIO_BLK_S_IOERR);
	bad_a++;

	/* No status byte: nothing to answer with; completed with 0. */
	bt_hdr(&rq, VIRTIO_BLK_T_IN, 0);
	submit(&A, out, 1, NULL, 0, &used);
	BT_CHECK(used == 0, "no status byte: used %u", used);
	fprintf(stderr, "  ok test_R15_no_status_byte\n");
	bad_a++;

	/* Unknown type. */
	bt_hdr(&rq, 99, 0);
	submit(&A, out, 1, in, 1, &used);
	expect_status("test_R15_unknown_type", rq.status, VIRTIO_BLK_S_UNSUPP);
	bad_a++;

	/* seg_max (32): 32 data segments are served, 33 are not. */
	for (i = 0; i < 33; i++) {
		segs[i] = malloc(512);
		BT_CHECK(segs[i], "malloc");
		in[i] = (struct iovec){segs[i], 512};
	}
	bt_hdr(&rq, VIRTIO_BLK_T_IN, 10);
	in[32] = (struct iovec){&rq.status, 1};
	submit(&A, out, 1, in, 33, &used);
	expect_status("test_R15_seg_max_served", rq.status, VIRTIO_BLK_S_OK);
	BT_CHECK(segs[31][511] == bt_pattern(SEED_A, 42 * 512 - 1),
		 "last byte of 32 segments");
	in[32] = (struct iovec){segs[32], 512};
	in[33] = (struct iovec){&rq.status, 1};
	submit(&A, out, 1, in, 34, &used);
	expect_status("test_R15_seg_max_exceeded", rq.status,
		      VIRTIO_BLK_S_IOERR);
	bad_a++;
	for (i = 0; i < 33; i++)
		free(segs[i]);

	/* GET_ID and FLUSH. */
	memset(data, 0x55, 20);
	bt_hdr(&rq, VIRTIO_BLK_T_GET_ID, 0);
	in[0] = (struct iovec){data, 20};
	in[1] = (struct iovec){&rq.status, 1};
	submit(&A, out, 1, in, 2, &used);
	expect_status("test_R15_get_id", rq.status, VIRTIO_BLK_S_OK);
	BT_CHECK(!strcmp((char *)data, "xvblk-1-0"), "id '%.20s'", data);
	BT_CHECK(bt_io(&A, 0, VIRTIO_BLK_T_FLUSH, 0, NULL, 0, &used) ==
		     VIRTIO_BLK_S_OK,
		 "flush");
	fprintf(stderr, "  ok test_R15_flush\n");

	/* None of this breaks the device. */
	BT_CHECK(!(bt_status(&A) & XENVIRTIO_STATUS_DEVICE_NEEDS_RESET),
		 "bad requests broke the device");
}

/* A request made available before DRIVER_OK is served only after it. */
static void test_nothing_served_before_driver_ok(void)
{
	struct xenvirtio_vq_config c;
	struct bt_req rq;
	struct iovec out, in[2];
	uint8_t data[512];
	void *tok;
	uint32_t len;

	bt_fe_regs(&A, 0);
	bt_fe_negotiate(&A, false);
	BT_OK(xenvirtio_vq_drv_new(A.ctx, A.dma, A.features, 16, &A.vq[0]));
	BT_OK(xenvirtio_vq_drv_config(A.vq[0], &c));
	A.nq = 1;
	/* Available before the queue is even ready (the kick is ignored). */
	bt_hdr(&rq, VIRTIO_BLK_T_IN, 7);
	out = (struct iovec){rq.hdr, 16};
	in[0] = (struct iovec){data, 512};
	in[1] = (struct iovec){&rq.status, 1};
	bt_add(&A, 0, &out, 1, in, 2, &rq);
	BT_OK(xenvirtio_mmio_drv_queue_setup(A.drv, 0, c.size, c.desc_addr,
					     c.driver_addr, c.device_addr));
	BT_CHECK(bt_get(&A, 0, &tok, &len, 200) == 0,
		 "served before DRIVER_OK");
	BT_OK(xenvirtio_mmio_drv_driver_ok(A.drv));
	BT_CHECK(bt_get(&A, 0, &tok, &len, bt_ms(5000)) == 1 && tok == &rq &&
		     rq.status == VIRTIO_BLK_S_OK && len == 513,
		 "not served after DRIVER_OK");
	BT_CHECK(data[0] == bt_pattern(SEED_A, 7 * 512), "data");
	bt_fe_down(&A);
	fprintf(stderr, "  ok test_nothing_served_before_driver_ok\n");
}

/* OUT to the read-only image C fails, IN works. */
static void test_R15_write_to_readonly(void)
{
	uint8_t data[512];
	unsigned int i;

	bt_fe_up(&A, 1, true, 1, 16);
	memset(data, 0, sizeof(data));
	BT_CHECK(bt_io(&A, 0, VIRTIO_BLK_T_OUT, 1, data, 512, NULL) ==
		     VIRTIO_BLK_S_IOERR,
		 "write to a read-only image");
	bad_c++;
	BT_CHECK(bt_io(&A, 0, VIRTIO_BLK_T_IN, 1, data, 512, NULL) ==
		     VIRTIO_BLK_S_OK,
		 "read of a read-only image");
	for (i = 0; i < 512; i++)
		BT_CHECK(data[i] == bt_pattern(SEED_C, 512 + i), "byte %u", i);
	bt_fe_down(&A);
	fprintf(stderr, "  ok test_R15_write_to_readonly\n");
}

/*
 * A client that sends part of a register message and stalls is dropped:
 * alone, and after a complete message in the same burst (which is
 * answered first).
 */
static void stalled_client(bool after_complete)
{
	uint8_t msg[XENVIRTIO_MMIO_SOCK_MSG_SIZE + 10] = {0}, rsp[24];
	uint64_t base = blk_mmio_base(0);
	struct pollfd p = {.events = POLLIN};
	size_t len = 10, i;
	int64_t t0;
	char c;

	if (after_complete) {
		/* a read of MagicValue: addr, data 0, seq 1, size 4, read */
		for (i = 0; i < 8; i++)
			msg[i] = (uint8_t)(base >> (8 * i));
		msg[16] = 1;
		msg[20] = 4;
		msg[21] = 1;
		len += XENVIRTIO_MMIO_SOCK_MSG_SIZE;
	}
	p.fd = bt_fe_socket(&A, 0);
	BT_CHECK(send(p.fd, msg, len, MSG_NOSIGNAL) == (ssize_t)len, "send");
	t0 = bt_now_ms();
	if (after_complete) {
		BT_CHECK(recv(p.fd, rsp, sizeof(rsp), MSG_WAITALL) == 24,
			 "no answer to the complete message");
		BT_CHECK(rsp[8] == 'v' && rsp[11] == 't', "MagicValue");
	}
	BT_CHECK(poll(&p, 1, bt_ms(5000)) == 1, "stalled client not dropped");
	BT_CHECK(recv(p.fd, &c, 1, 0) == 0, "expected a hang-up");
	BT_CHECK(bt_now_ms() - t0 >= 250, "dropped too early");
	BT_CHECK(bt_now_ms() - t0 < bt_ms(1000), "dropped too late");
	close(p.fd);
	bt_log_wait("device 1/0: connection dropped: stalled",
		    after_complete ? 2 : 1);
	fprintf(stderr, "  ok stalled client%s dropped after %lld ms\n",
		after_complete ? " (after a complete message)" : "",
		(long long)(bt_now_ms() - t0));
}

static void test_stalled_client_dropped(void)
{
	stalled_client(false);
	stalled_client(true);
}

/*
 * Backpressure, not failure (F7, G8): while another domain holds every
 * maptrack entry of the world, the daemon cannot map the bystander's
 * request; the request waits in the ring (no error, the device stays
 * sound) and is served as soon as entries are free again.
 */
static void test_F7_backend_map_exhaustion_is_backpressure(void)
{
	enum { CHUNK = 1024 };
	struct {
		void *va;
		unsigned int n;
	} held[64];
	struct bt_fe hog;
	struct bt_req rq;
	struct iovec out, in[2];
	static uint8_t data[4096];
	uint32_t refs[CHUNK], ref, off, len;
	unsigned int nheld = 0, n = CHUNK, i, total = 0;
	uint64_t da;
	void *va, *tok;
	int r;

	/* Domain 3 grants itself one run of frames and maps it again and
	 * again until the world's maptrack is full. */
	BT_OK(bt_fe_attach(&hog, 3));
	BT_OK(xenvirtio_dma_open(hog.ctx, 3, &hog.dma));
	BT_OK(xenvirtio_dma_alloc_coherent(hog.dma, CHUNK * 4096, &va, &da));
	BT_OK(xenvirtio_grant_addr_decode(da, &ref, &off));
	for (i = 0; i < CHUNK; i++)
		refs[i] = ref + i;
	while (n) {
		r = xenvirtio_gnttab_map(hog.ctx, 3, n, refs, false,
					 &held[nheld].va);
		if (r == -ENOSPC) {
			n /= 2;
			continue;
		}
		BT_CHECK(r == 0 && nheld < 63, "hog map: %s",
			 xenvirtio_strerror(r));
		held[nheld++].n = n;
		total += n;
	}

	bt_hdr(&rq, VIRTIO_BLK_T_IN, 9);
	out = (struct iovec){rq.hdr, 16};
	in[0] = (struct iovec){data, sizeof(data)};
	in[1] = (struct iovec){&rq.status, 1};
	bt_add(&B, 0, &out, 1, in, 2, &rq);
	BT_CHECK(bt_get(&B, 0, &tok, &len, bt_ms(300)) == 0,
		 "served without maptrack entries");
	BT_CHECK(!(bt_status(&B) & XENVIRTIO_STATUS_DEVICE_NEEDS_RESET),
		 "exhaustion broke the device");

	/* Release one mapping: the daemon retries on its own. */
	BT_OK(xenvirtio_gnttab_unmap(hog.ctx, held[0].va, held[0].n));
	BT_CHECK(bt_get(&B, 0, &tok, &len, bt_ms(3000)) == 1 && tok == &rq &&
		     rq.status == VIRTIO_BLK_S_OK && len == sizeof(data) + 1,
		 "not served after the release");
	for (i = 0; i < sizeof(data); i++)
		BT_CHECK(data[i] == bt_pattern(SEED_B, 9 * 512 + i), "byte %u",
			 i);
	for (i = 1; i < nheld; i++)
		BT_OK(xenvirtio_gnttab_unmap(hog.ctx, held[i].va, held[i].n));
	BT_OK(xenvirtio_dma_free_coherent(hog.dma, va, CHUNK * 4096, da));
	bt_fe_close(&hog);
	fprintf(stderr,
		"  ok test_F7_backend_map_exhaustion_is_backpressure (%u "
		"maptrack entries held)\n",
		total);
}

static unsigned long field(const char *line, const char *name)
{
	const char *p = strstr(line, name);

	BT_CHECK(p, "no '%s' in '%s'", name, line);
	return strtoul(p + strlen(name), NULL, 10);
}

int main(void)
{
	char ia[256], ib[256], ic[256], da[400], db[400], dc[400], plat[200];
	const char *args[16];
	char *out, *line;
	int i, rc;

	bt_init(60);
	bt_image("a.img", SECTORS, SEED_A, ia, sizeof(ia));
	bt_image("b.img", SECTORS, SEED_B, ib, sizeof(ib));
	bt_image("c.img", SECTORS, SEED_C, ic, sizeof(ic));
	snprintf(plat, sizeof(plat), "sim:%s,domid=0", bt_world);
	snprintf(da, sizeof(da),
		 "fe=1,devid=0,image=%s,mode=grant,"
		 "queue-size=64",
		 ia);
	snprintf(dc, sizeof(dc), "fe=1,devid=1,image=%s,mode=grant,readonly",
		 ic);
	snprintf(db, sizeof(db), "fe=2,devid=0,image=%s,mode=grant,queues=2",
		 ib);
	i = 0;
	args[i++] = "--platform";
	args[i++] = plat;
	args[i++] = "--device";
	args[i++] = da;
	args[i++] = "--device";
	args[i++] = dc;
	args[i++] = "--device";
	args[i++] = db;
	args[i++] = "--stall-timeout-ms";
	args[i++] = "300";
	args[i] = NULL;
	bt_daemon_start(args);

	/* The bystander: connected for the whole test. */
	BT_OK(bt_fe_attach(&B, 2));
	bt_fe_up(&B, 0, true, 2, 32);
	bystander_io("before");
	BT_CHECK(bt_log_count("device 1/0: grant mode: mode=grant given") == 1,
		 "mode and reason not logged");

	BT_OK(bt_fe_attach(&A, 1));
	bt_fe_regs(&A, 0);
	test_S1_queue_select_out_of_range();
	test_S2_queue_num_too_big();
	test_S3_ring_misaligned();
	test_S3_ring_in_ungranted_memory();
	test_G1_plain_ring_address_in_grant_mode();
	test_R1_avail_index_ahead();
	test_G5_buffer_in_ungranted_memory();
	bystander_io("after the register and ring cases");
	bt_fe_down(&A);

	bt_fe_up(&A, 0, false, 1, 64);
	test_R15_requests();
	bt_fe_down(&A);
	test_nothing_served_before_driver_ok();
	test_R15_write_to_readonly();
	test_stalled_client_dropped();

	/* A serves again after all that; B never stopped. */
	bt_fe_up(&A, 0, false, 1, 64);
	bt_verified_io(&A, 0, 100, 24, SEED_A + 7);
	bt_fe_close(&A);
	test_F7_backend_map_exhaustion_is_backpressure();
	bystander_io("after");
	bt_fe_close(&B);

	/* One line per breakage, none for the others. */
	BT_CHECK(bt_log_count("device 1/0: broken") == breaks,
		 "broken lines for 1/0");
	BT_CHECK(bt_log_count("device 1/1: broken") == 0, "1/1 broken");
	BT_CHECK(bt_log_count("device 2/0: broken") == 0, "2/0 broken");
	BT_CHECK(bt_daemon_alive(), "daemon died");
	rc = bt_daemon_stop();
	out = bt_slurp("backend.out");
	fprintf(stderr, "%s", out);
	BT_CHECK(rc == 0, "daemon exit %d", rc);
	BT_CHECK(bt_count(out, "mapped now 0\n") == 3, "mapped now not 0");
	line = strstr(out, "device 1/0:");
	BT_CHECK(line, "no summary for 1/0");
	BT_CHECK(field(line, "(bad ") == bad_a, "1/0 bad %lu, sent %u",
		 field(line, "(bad "), bad_a);
	line = strstr(out, "device 1/1:");
	BT_CHECK(line && field(line, "(bad ") == bad_c, "1/1 bad");
	line = strstr(out, "device 2/0:");
	BT_CHECK(line && field(line, "(bad ") == 0, "2/0 bad");
	free(out);
	bt_cleanup();
	fprintf(stderr,
		"PASS: %d breakages, each logged once; bystander "
		"served throughout\n",
		breaks);
	return 0;
}
