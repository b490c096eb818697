/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-blk-frontend-killed: a frontend SIGKILLed in the middle of I/O
 * leaves examples/blk-backend alive and clean.
 *
 * A child process (domain 1) keeps 4 requests of 8 KiB in flight on each
 * of two queues; once it has completed some, it is killed. Then:
 *  - the daemon is still running;
 *  - every mapping was released (S4, G6): a new process can attach as
 *    domain 1 only when no live domain maps the dead domain's memory
 *    (xenvirtio_sim_reap(): the attach fails with -EBUSY while the
 *    daemon still maps the old rings), so the attach must succeed within
 *    a bounded time, and the new frontend then does verified I/O, split
 *    and packed, through the same daemon;
 *  - at SIGTERM the daemon prints "mapped now 0" and exits 0.
 * The bounded time-to-attach and the request rate of the new frontend are
 * printed as figures.
 */
#include "blk-test.h"

#define SECTORS 2048u /* 1 MiB */
#define SEED 0x5eedu
#define DEPTH 4
#define REQ 8192 /* test memory is bounced: keep within the 64-frame pool */

/* Page-aligned data: only the header and status bytes are bounced. */
struct slot {
	uint8_t data[REQ] __attribute__((aligned(4096)));
	struct bt_req rq;
	unsigned int q, n;
};

static struct slot slots[2][DEPTH];

static void child_add(struct bt_fe *fe, struct slot *s)
{
	struct iovec out[2], in[2];
	bool write = s->n % 2 == 0;
	uint64_t sector = (uint64_t)((s - &slots[s->q][0]) + DEPTH * s->q) *
			  (REQ / 512) % (SECTORS - REQ / 512);

	bt_hdr(&s->rq, write ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN, sector);
	out[0] = (struct iovec){s->rq.hdr, 16};
	if (write) {
		memset(s->data, (int)s->n, sizeof(s->data));
		out[1] = (struct iovec){s->data, REQ};
		in[0] = (struct iovec){&s->rq.status, 1};
		bt_add(fe, s->q, out, 2, in, 1, s);
	} else {
		in[0] = (struct iovec){s->data, REQ};
		in[1] = (struct iovec){&s->rq.status, 1};
		bt_add(fe, s->q, out, 1, in, 2, s);
	}
	s->n++;
}

/* The frontend to be killed: I/O forever, a byte on @fd once it runs. */
static void __attribute__((noreturn)) child(int fd)
{
	struct bt_fe fe;
	unsigned int q, i, done = 0;

	/* Never clean up the parent's daemon and world from here. */
	bt_world_keep();
	alarm(bt_under_valgrind ? 480 : 60);
	BT_OK(bt_fe_attach(&fe, 1));
	bt_fe_up(&fe, 0, false, 2, 64);
	for (q = 0; q < 2; q++)
		for (i = 0; i < DEPTH; i++) {
			slots[q][i].q = q;
			child_add(&fe, &slots[q][i]);
		}
	for (;;) {
		for (q = 0; q < 2; q++) {
			void *tok;
			uint32_t len;

			if (bt_get(&fe, q, &tok, &len, bt_ms(5000)) != 1)
				_exit(1);
			BT_CHECK(((struct slot *)tok)->rq.status ==
				     VIRTIO_BLK_S_OK,
				 "child: status %u",
				 ((struct slot *)tok)->rq.status);
			child_add(&fe, tok);
			if (++done == 40 && write(fd, "x", 1) != 1)
				_exit(1);
		}
	}
}

/* Requests per second of @n 4 KiB reads on queue @q. */
static double rate(struct bt_fe *fe, unsigned int q, unsigned int n)
{
	static uint8_t buf[4096];
	int64_t t0 = bt_now_ms();
	unsigned int i;

	for (i = 0; i < n; i++)
		BT_CHECK(bt_io(fe, q, VIRTIO_BLK_T_IN, (i * 8) % SECTORS, buf,
			       sizeof(buf), NULL) == VIRTIO_BLK_S_OK,
			 "read");
	return n * 1000.0 / (double)(bt_now_ms() - t0 + 1);
}

int main(void)
{
	char img[256], dev[400], plat[200], *out;
	const char *args[8];
	struct pollfd p = {.events = POLLIN};
	struct bt_fe fe;
	int pfd[2], r, st, tries = 0, rc;
	int64_t t0;
	unsigned int n;
	pid_t pid;
	char c;

	bt_init(60);
	bt_image("disk.img", SECTORS, SEED, img, sizeof(img));
	snprintf(plat, sizeof(plat), "sim:%s,domid=0", bt_world);
	snprintf(dev, sizeof(dev),
		 "fe=1,devid=0,image=%s,mode=grant,queues=2,queue-size=64",
		 img);
	args[0] = "--platform";
	args[1] = plat;
	args[2] = "--device";
	args[3] = dev;
	args[4] = NULL;
	bt_daemon_start(args);

	BT_CHECK(pipe(pfd) == 0, "pipe");
	pid = fork();
	BT_CHECK(pid >= 0, "fork");
	if (pid == 0) {
		close(pfd[0]);
		child(pfd[1]);
	}
	close(pfd[1]);
	p.fd = pfd[0];
	BT_CHECK(poll(&p, 1, bt_ms(10000)) == 1 && read(pfd[0], &c, 1) == 1,
		 "the frontend did not get going");
	usleep(2000);
	kill(pid, SIGKILL); /* in the middle of its I/O */
	BT_CHECK(waitpid(pid, &st, 0) == pid && WIFSIGNALED(st),
		 "the frontend was not killed: status %#x", st);
	close(pfd[0]);
	BT_CHECK(bt_daemon_alive(), "the daemon died with its frontend");

	/* Domain 1 again: only once the daemon released the old memory. */
	t0 = bt_now_ms();
	while ((r = bt_fe_attach(&fe, 1)) == -EBUSY &&
	       bt_now_ms() - t0 < bt_ms(5000)) {
		tries++;
		usleep(2000);
	}
	BT_CHECK(r == 0, "attach as domain 1: %s (after %d tries)",
		 xenvirtio_strerror(r), tries);
	fprintf(stderr,
		"  ok domain 1 re-attached after %lld ms (%d refused "
		"attempts)\n",
		(long long)(bt_now_ms() - t0), tries);
	BT_CHECK(bt_daemon_alive(), "the daemon died");

	/* The same daemon serves the new frontend: packed, then split. */
	bt_fe_up(&fe, 0, true, 2, 64);
	bt_verified_io(&fe, 0, 0, 128, SEED + 1);
	bt_verified_io(&fe, 1, 1000, 8, SEED + 2);
	n = bt_under_valgrind ? 50 : 2000;
	fprintf(stderr,
		"  packed ring: %.0f requests/s (4 KiB reads, depth 1)\n",
		rate(&fe, 0, n));
	bt_fe_down(&fe);
	bt_fe_up(&fe, 0, false, 1, 64);
	bt_verified_io(&fe, 0, 500, 16, SEED + 3);
	fprintf(stderr,
		"  split ring: %.0f requests/s (4 KiB reads, depth 1)\n",
		rate(&fe, 0, n));
	bt_fe_close(&fe);
	fprintf(stderr, "  ok verified I/O after the kill\n");

	rc = bt_daemon_stop();
	out = bt_slurp("backend.out");
	fprintf(stderr, "%s", out);
	BT_CHECK(rc == 0, "daemon exit %d", rc);
	BT_CHECK(bt_count(out, "device 1/0:") == 1 &&
		     bt_count(out, "mapped now 0\n") == 1,
		 "no clean summary");
	free(out);

	/* Nothing published is left: store keys and socket are gone. */
	{
		char key[256], v[256], sock[300];

		BT_OK(bt_fe_attach(&fe, 3));
		blk_store_key(key, sizeof(key), BT_BE, 1, 0, "state");
		BT_CHECK(xenvirtio_store_read(fe.ctx, key, v, sizeof(v)) ==
			     -ENOENT,
			 "store key %s left behind", key);
		blk_store_key(key, sizeof(key), BT_BE, 1, 0, "socket");
		BT_CHECK(xenvirtio_store_read(fe.ctx, key, v, sizeof(v)) ==
			     -ENOENT,
			 "store key %s left behind", key);
		snprintf(sock, sizeof(sock), "%s/xvblk-0-1-0.sock", bt_dir);
		BT_CHECK(access(sock, F_OK) < 0, "socket %s left behind", sock);
		bt_fe_close(&fe);
	}
	bt_cleanup();
	fprintf(stderr, "PASS\n");
	return 0;
}
