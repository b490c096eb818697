/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The simulated virtio-mmio transport across two real processes (fork +
 * socketpair): the driver-side init sequence through the socket with the
 * interrupt on a side channel (a pipe, and a simulated event channel), a
 * client
 * that sends garbage or hangs up mid-request, a server that answers garbage,
 * hangs up mid-response or never answers. Every wait is bounded.
 */
#include "test-mmio-common.h"

#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>

#define TIMEOUT_MS 2000

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int child_errors; /* mid-request hang-ups logged */

static void quiet_log(void *opaque, enum xenvirtio_log_level level,
		      const char *msg)
{
	(void)opaque;
	if (level <= XENVIRTIO_LOG_ERR && strstr(msg, "hung up after"))
		child_errors++;
	if (getenv("XV_TEST_VERBOSE"))
		fprintf(stderr, "  child log(%d): %s\n", (int)level, msg);
}

/* Child exit codes of the backend. */
enum {
	SRV_OK_HANGUP = 10,
	SRV_PROTO = 11,
	SRV_PIPE_MID = 12,
	SRV_OTHER = 13,
	SRV_TIMEOUT = 14,
};

/*
 * The interrupt travels outside the register socket, as it will over a
 * simulated event channel: here the device model's interrupt callback
 * writes a byte to a pipe the frontend polls.
 */
static int irq_pipe[2] = {-1, -1};

static void pipe_interrupt(void *opaque, uint32_t status)
{
	char c = 'i';

	fake_interrupt(opaque, status);
	if (irq_pipe[1] >= 0 && write(irq_pipe[1], &c, 1) != 1)
		_exit(SRV_OTHER);
}

/*
 * Or over a real simulated event channel: the backend (domain 0) allocates
 * an unbound port for the frontend (domain 1), hands its number over the
 * pipe, and notifies it on every interrupt.
 */
static char sim_world[96];
static struct xenvirtio_ctx *evt_ctx;
static int evt_port;

static void evtchn_interrupt(void *opaque, uint32_t status)
{
	fake_interrupt(opaque, status);
	if (xenvirtio_evtchn_notify(evt_ctx, (unsigned int)evt_port) < 0)
		_exit(SRV_OTHER);
}

static void backend_evtchn_setup(void)
{
	char spec[128];

	snprintf(spec, sizeof(spec), "sim:%s,domid=0", sim_world);
	if (xenvirtio_ctx_open_log(spec, quiet_log, NULL, XENVIRTIO_LOG_DEBUG,
				   &evt_ctx) < 0)
		_exit(SRV_OTHER);
	evt_port = xenvirtio_evtchn_alloc_unbound(evt_ctx, 1);
	if (evt_port < 0 || write(irq_pipe[1], &evt_port, sizeof(evt_port)) !=
				(ssize_t)sizeof(evt_port))
		_exit(SRV_OTHER);
}

/*
 * Backend child: serve a fake device on @fd until the client goes away or
 * misbehaves; the exit code says how it ended, plus the state seen.
 */
static void run_server(int fd, bool expect_init)
{
	static const struct xenvirtio_mmio_dev_config cfg = {
	    .device_id = 2,
	    .features = FAKE_FEATURES,
	    .grants = true,
	    .num_queues = FAKE_QUEUES,
	    .queue_num_max = FAKE_QMAX,
	    .config_len = FAKE_CONFIG_LEN,
	};
	struct xenvirtio_mmio_sock_server *srv;
	struct pollfd p = {.fd = fd, .events = POLLIN};
	int64_t end = now_ms() + 10 * TIMEOUT_MS;
	struct xenvirtio_mmio_dev_ops ops = fake_ops;
	struct fake f;
	int r, code = SRV_OTHER, kicks = 0;

	ops.interrupt = pipe_interrupt;
	if (sim_world[0]) {
		backend_evtchn_setup();
		ops.interrupt = evtchn_interrupt;
	}
	memset(&f, 0, sizeof(f));
	fake_ctx_init(&f.ctx, quiet_log);
	if (xenvirtio_mmio_dev_new(&f.ctx, &cfg, &ops, &f, &f.dev) ||
	    xenvirtio_mmio_sock_server_new(&f.ctx, f.dev, fd, 0x2000000, &srv))
		_exit(SRV_OTHER);
	for (;;) {
		if (now_ms() > end) {
			code = SRV_TIMEOUT;
			break;
		}
		if (poll(&p, 1, 100) <= 0)
			continue;
		r = xenvirtio_mmio_sock_server_process(srv, TIMEOUT_MS);
		/* The device model "completes" each kick with a used-buffer
		 * interrupt (outside the callback: no re-entry). */
		if (f.notify_calls > kicks) {
			kicks = f.notify_calls;
			xenvirtio_mmio_dev_interrupt(f.dev);
		}
		if (r >= 0)
			continue;
		/* Mid-request hang-ups are logged as errors, clean ones
		 * are not. */
		if (r == -EPIPE)
			code = child_errors ? SRV_PIPE_MID : SRV_OK_HANGUP;
		else if (r == -EPROTO)
			code = SRV_PROTO;
		/* A later call stays refused. */
		if (xenvirtio_mmio_sock_server_process(srv, 0) != -EIO)
			code = SRV_OTHER;
		break;
	}
	if (expect_init && code == SRV_OK_HANGUP &&
	    (f.ready_calls != 1 || f.notify_calls != 1 || f.last_q.num != 64 ||
	     !f.last_q.grants))
		code = SRV_OTHER;
	xenvirtio_mmio_sock_server_free(srv);
	xenvirtio_mmio_dev_free(f.dev);
	xenvirtio_ctx_close(evt_ctx);
	_exit(code);
}

static pid_t spawn(int *fd, void (*child)(int fd, bool arg), bool arg)
{
	int sv[2];
	pid_t pid;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(sv[0]);
		/* Check's handlers forward SIGTERM to the whole group. */
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		alarm(30); /* never outlive a broken test */
		child(sv[1], arg);
		_exit(SRV_OTHER);
	}
	close(sv[1]);
	*fd = sv[0];
	return pid;
}

static int reap(pid_t pid)
{
	int st;

	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st), "child died: status %#x", st);
	return WEXITSTATUS(st);
}

static void send_bytes(int fd, const void *buf, size_t len)
{
	ck_assert_int_eq(send(fd, buf, len, MSG_NOSIGNAL), (ssize_t)len);
}

static int frontend_evtchn_bind(struct xenvirtio_ctx **ctx)
{
	char spec[128];
	int port, r;

	snprintf(spec, sizeof(spec), "sim:%s,domid=1", sim_world);
	ck_assert_int_eq(xenvirtio_ctx_open_log(spec, xv_test_log, NULL,
						XENVIRTIO_LOG_DEBUG, ctx),
			 0);
	ck_assert_int_eq(read(irq_pipe[0], &port, sizeof(port)),
			 (ssize_t)sizeof(port));
	r = xenvirtio_evtchn_bind(*ctx, 0, (unsigned int)port);
	ck_assert_int_ge(r, 1);
	return r;
}

static void wait_interrupt(struct xenvirtio_ctx *ctx, int port)
{
	struct pollfd p = {.events = POLLIN};
	char c;

	p.fd = ctx ? xenvirtio_evtchn_fd(ctx) : irq_pipe[0];
	ck_assert_int_ge(p.fd, 0);
	ck_assert_int_eq(poll(&p, 1, TIMEOUT_MS), 1);
	if (!ctx) {
		ck_assert_int_eq(read(irq_pipe[0], &c, 1), 1);
		return;
	}
	ck_assert_int_eq(xenvirtio_evtchn_pending(ctx), port);
	ck_assert_int_eq(xenvirtio_evtchn_unmask(ctx, (unsigned int)port), 0);
}

/* The whole init sequence of the driver side, through the socket. */
static void driver_init_two_processes(void)
{
	struct xenvirtio_ctx *fe_ctx = NULL;
	int fe_port = 0;
	struct xenvirtio_ctx ctx;
	struct xenvirtio_mmio_sock_client *cl;
	struct xenvirtio_mmio_drv *drv;
	uint64_t neg = 0, v = 0;
	uint32_t id = 0, val;
	int64_t t0;
	int fd, i, n;
	pid_t pid;

	xv_test_expect_errors(0);
	fake_ctx_init(&ctx, xv_test_log);
	ck_assert_int_eq(pipe(irq_pipe), 0);
	pid = spawn(&fd, run_server, true);
	close(irq_pipe[1]);
	irq_pipe[1] = -1;
	if (sim_world[0])
		fe_port = frontend_evtchn_bind(&fe_ctx);
	ck_assert_int_eq(xenvirtio_mmio_sock_client_new(&ctx, fd, 0x2000000,
							TIMEOUT_MS, &cl),
			 0);
	ck_assert_int_eq(xenvirtio_mmio_drv_new(
			     &ctx, xenvirtio_mmio_sock_client_io(), cl, &drv),
			 0);
	ck_assert_int_eq(
	    xenvirtio_mmio_drv_init(drv, FAKE_FEATURES, true, &id, &neg), 0);
	ck_assert_uint_eq(id, 2);
	ck_assert_uint_eq(neg, grant_features());
	ck_assert_int_eq(xenvirtio_mmio_drv_queue_setup(drv, 1, 64, G(1, 0),
							G(2, 0), G(3, 0)),
			 0);
	ck_assert_int_eq(xenvirtio_mmio_drv_driver_ok(drv), 0);
	ck_assert_int_eq(xenvirtio_mmio_drv_notify(drv, 1), 0);
	/* The interrupt arrives on the side channel, then is acknowledged
	 * through the registers. */
	wait_interrupt(fe_ctx, fe_port);
	ck_assert_int_eq(xenvirtio_mmio_drv_ack_interrupt(drv, &val), 0);
	ck_assert_uint_eq(val, XENVIRTIO_MMIO_INT_VRING);
	ck_assert_int_eq(xenvirtio_mmio_drv_ack_interrupt(drv, &val), 0);
	ck_assert_uint_eq(val, 0);
	ck_assert_int_eq(xenvirtio_mmio_drv_config_read(drv, 0, 8, &v), 0);
	ck_assert_uint_eq(v, 0);
	ck_assert_int_eq(xenvirtio_mmio_sock_client_read(cl, 0, 4, &val), 0);
	ck_assert_uint_eq(val, XENVIRTIO_MMIO_MAGIC);
	/* Round-trip cost of one register access across the processes. */
	n = getenv("XV_VALGRIND") && *getenv("XV_VALGRIND") ? 50 : 2000;
	t0 = now_ms();
	for (i = 0; i < n; i++)
		ck_assert_int_eq(xenvirtio_mmio_sock_client_read(
				     cl, XENVIRTIO_MMIO_STATUS, 4, &val),
				 0);
	fprintf(stderr, "  %d register reads over the socket: %.1f us each\n",
		n, 1000.0 * (double)(now_ms() - t0) / n);
	/* A value wider than the access is the caller's misuse. */
	ck_assert_int_eq(xenvirtio_mmio_sock_client_write(cl, 0x100, 1, 0x100),
			 -EINVAL);
	xenvirtio_mmio_drv_free(drv);
	xenvirtio_mmio_sock_client_free(cl); /* hang up cleanly */
	ck_assert_int_eq(reap(pid), SRV_OK_HANGUP);
	close(irq_pipe[0]);
	xenvirtio_ctx_close(fe_ctx);
}

START_TEST(test_sock_driver_init_two_processes)
{
	driver_init_two_processes();
}
END_TEST

/* The same, with the interrupt on a simulated event channel. */
START_TEST(test_sock_interrupt_over_sim_evtchn)
{
	char dir[64];

	snprintf(dir, sizeof(dir), "/tmp/xvmmio-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(sim_world, sizeof(sim_world), "%s/w", dir);
	ck_assert_int_eq(xenvirtio_sim_world_create(sim_world, 2, 8, 64), 0);
	driver_init_two_processes();
	ck_assert_int_eq(xenvirtio_sim_world_destroy(sim_world), 0);
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

/* An access the register file refuses comes back as status "refused": the
 * read yields an error (not a value), the device needs a reset, and the
 * connection stays usable. */
START_TEST(test_sock_refused_access)
{
	struct xenvirtio_ctx ctx;
	struct xenvirtio_mmio_sock_client *cl;
	uint32_t val = 0x5a5a5a5a;
	int fd;
	pid_t pid;

	xv_test_expect_errors(0);
	fake_ctx_init(&ctx, xv_test_log);
	pid = spawn(&fd, run_server, false);
	ck_assert_int_eq(xenvirtio_mmio_sock_client_new(&ctx, fd, 0x2000000,
							TIMEOUT_MS, &cl),
			 0);
	ck_assert_int_eq(xenvirtio_mmio_sock_client_read(cl, 0x71, 1, &val),
			 -EPROTO);
	ck_assert_uint_eq(val, 0x5a5a5a5a);
	ck_assert_int_eq(
	    xenvirtio_mmio_sock_client_read(cl, XENVIRTIO_MMIO_STATUS, 4, &val),
	    0);
	ck_assert_uint_eq(val, XENVIRTIO_STATUS_DEVICE_NEEDS_RESET);
	/* Outside the region (the server subtracts its base). */
	xenvirtio_mmio_sock_client_free(cl);
	ck_assert_int_eq(reap(pid), SRV_OK_HANGUP);

	pid = spawn(&fd, run_server, false);
	ck_assert_int_eq(xenvirtio_mmio_sock_client_new(&ctx, fd, 0x1000000,
							TIMEOUT_MS, &cl),
			 0);
	ck_assert_int_eq(xenvirtio_mmio_sock_client_read(cl, 0, 4, &val),
			 -EPROTO);
	xenvirtio_mmio_sock_client_free(cl);
	ck_assert_int_eq(reap(pid), SRV_OK_HANGUP);
}
END_TEST

static void make_req(uint8_t *buf, uint64_t addr, uint8_t size, uint8_t dir,
		     uint64_t data)
{
	struct xv_mmio_msg m = {
	    .addr = addr,
	    .data = data,
	    .seq = 7,
	    .size = size,
	    .dir = dir,
	};

	xv_mmio_msg_encode(&m, buf);
}

/* Requests that arrive in pieces are put together; garbage breaks the
 * connection with -EPROTO. */
START_TEST(test_sock_client_sends_garbage)
{
	uint8_t buf[XENVIRTIO_MMIO_SOCK_MSG_SIZE];
	struct xv_mmio_msg a;
	size_t i;
	int fd, k;
	pid_t pid;
	static const struct {
		uint8_t size, dir, status, reserved;
		uint64_t data;
	} bad[] = {
	    {3, 1, 0, 0, 0},	 {0, 1, 0, 0, 0}, {16, 0, 0, 0, 0},
	    {4, 2, 0, 0, 0},	 {4, 1, 1, 0, 0}, {4, 1, 0, 9, 0},
	    {1, 0, 0, 0, 0x100}, {4, 1, 0, 0, 1},
	};

	for (k = 0; k < (int)XV_ARRAY_SIZE(bad); k++) {
		pid = spawn(&fd, run_server, false);
		/* One good request, sent a byte at a time. */
		make_req(buf, 0x2000000, 4, 1, 0);
		for (i = 0; i < sizeof(buf); i++) {
			send_bytes(fd, buf + i, 1);
			if (i % 8 == 0)
				usleep(1000);
		}
		ck_assert_int_eq(recv(fd, buf, sizeof(buf), MSG_WAITALL),
				 (ssize_t)sizeof(buf));
		xv_mmio_msg_decode(buf, &a);
		ck_assert_uint_eq(a.seq, 7);
		ck_assert_uint_eq(a.status, 0);
		ck_assert_uint_eq(a.data, XENVIRTIO_MMIO_MAGIC);
		/* Then a malformed one. */
		make_req(buf, 0x2000000, bad[k].size, bad[k].dir, bad[k].data);
		buf[22] = bad[k].status;
		buf[23] = bad[k].reserved;
		send_bytes(fd, buf, sizeof(buf));
		ck_assert_msg(reap(pid) == SRV_PROTO, "garbage %d", k);
		close(fd);
	}
}
END_TEST

START_TEST(test_sock_client_hangs_up_mid_request)
{
	uint8_t buf[XENVIRTIO_MMIO_SOCK_MSG_SIZE];
	int fd;
	pid_t pid;

	pid = spawn(&fd, run_server, false);
	make_req(buf, 0x2000000, 4, 1, 0);
	send_bytes(fd, buf, 10);
	usleep(20000);
	close(fd);
	ck_assert_int_eq(reap(pid), SRV_PIPE_MID);
}
END_TEST

/* Hostile servers, run in the child; the client is in the test process. */
enum srv_mode {
	BAD_SEQ,
	BAD_DATA,
	BAD_STATUS,
	HALF_THEN_HANGUP,
	SILENT,
	HANGUP_AT_ONCE
};

static void evil_server(int fd, enum srv_mode mode)
{
	uint8_t buf[XENVIRTIO_MMIO_SOCK_MSG_SIZE];
	struct xv_mmio_msg m;

	if (recv(fd, buf, sizeof(buf), MSG_WAITALL) != (ssize_t)sizeof(buf))
		_exit(SRV_OTHER);
	if (mode == HANGUP_AT_ONCE)
		_exit(0);
	xv_mmio_msg_decode(buf, &m);
	switch (mode) {
	case BAD_SEQ:
		m.seq++;
		break;
	case BAD_DATA:
		m.data = 0x100000000ULL; /* wider than the 4-byte read */
		break;
	case BAD_STATUS:
		m.status = 7;
		break;
	default:
		break;
	}
	xv_mmio_msg_encode(&m, buf);
	if (mode == SILENT) {
		pause();
		_exit(0);
	}
	if (mode == HALF_THEN_HANGUP) {
		send_bytes(fd, buf, 5);
		_exit(0);
	}
	send_bytes(fd, buf, sizeof(buf));
	/* Wait for the client to hang up. */
	recv(fd, buf, 1, 0);
	_exit(0);
}

static enum srv_mode evil_mode;

static void evil_server_trampoline(int fd, bool arg)
{
	(void)arg;
	evil_server(fd, evil_mode);
}

static int client_against(enum srv_mode mode, int timeout_ms, int64_t *ms)
{
	struct xenvirtio_ctx ctx;
	struct xenvirtio_mmio_sock_client *cl;
	uint32_t val = 0x5a5a5a5a;
	int64_t t0;
	int fd, r;
	pid_t pid;

	fake_ctx_init(&ctx, xv_test_log);
	evil_mode = mode;
	pid = spawn(&fd, evil_server_trampoline, false);
	ck_assert_int_eq(
	    xenvirtio_mmio_sock_client_new(&ctx, fd, 0, timeout_ms, &cl), 0);
	t0 = now_ms();
	r = xenvirtio_mmio_sock_client_read(cl, 0, 4, &val);
	*ms = now_ms() - t0;
	ck_assert_uint_eq(val, 0x5a5a5a5a);
	/* Whatever went wrong, the client is broken now. */
	ck_assert_int_eq(xenvirtio_mmio_sock_client_read(cl, 0, 4, &val), -EIO);
	if (mode == SILENT)
		kill(pid, SIGKILL);
	xenvirtio_mmio_sock_client_free(cl);
	waitpid(pid, NULL, 0);
	return r;
}

START_TEST(test_sock_server_sends_garbage)
{
	int64_t ms;

	xv_test_expect_errors(-1);
	ck_assert_int_eq(client_against(BAD_SEQ, TIMEOUT_MS, &ms), -EPROTO);
	ck_assert_int_eq(client_against(BAD_DATA, TIMEOUT_MS, &ms), -EPROTO);
	ck_assert_int_eq(client_against(BAD_STATUS, TIMEOUT_MS, &ms), -EPROTO);
}
END_TEST

START_TEST(test_sock_server_hangs_up)
{
	int64_t ms;

	xv_test_expect_errors(-1);
	ck_assert_int_eq(client_against(HALF_THEN_HANGUP, TIMEOUT_MS, &ms),
			 -EPIPE);
	ck_assert_int_lt(ms, TIMEOUT_MS);
	ck_assert_int_eq(client_against(HANGUP_AT_ONCE, TIMEOUT_MS, &ms),
			 -EPIPE);
	ck_assert_int_lt(ms, TIMEOUT_MS);
}
END_TEST

/* A server that never answers costs the client its timeout, no more. */
START_TEST(test_sock_server_silent_timeout)
{
	int64_t ms;

	xv_test_expect_errors(-1);
	ck_assert_int_eq(client_against(SILENT, 200, &ms), -ETIMEDOUT);
	ck_assert_int_ge(ms, 190);
	ck_assert_int_lt(ms, 1500);
	fprintf(stderr,
		"  silent server: -ETIMEDOUT after %lld ms (bound "
		"200 ms)\n",
		(long long)ms);
}
END_TEST

START_TEST(test_sock_args)
{
	struct xenvirtio_ctx ctx;
	struct xenvirtio_mmio_sock_client *cl = (void *)0x1;
	struct xenvirtio_mmio_sock_server *srv = (void *)0x1;

	fake_ctx_init(&ctx, xv_test_log);
	ck_assert_int_eq(xenvirtio_mmio_sock_client_new(&ctx, -1, 0, 10, &cl),
			 -EINVAL);
	ck_assert_int_eq(xenvirtio_mmio_sock_client_new(&ctx, 0, 0, 0, &cl),
			 -EINVAL);
	ck_assert_ptr_eq(cl, (void *)0x1);
	ck_assert_int_eq(xenvirtio_mmio_sock_server_new(&ctx, NULL, 0, 0, &srv),
			 -EINVAL);
	ck_assert_ptr_eq(srv, (void *)0x1);
	ck_assert_int_eq(xenvirtio_mmio_sock_server_process(NULL, 0), -EINVAL);
	ck_assert_int_eq(xenvirtio_mmio_sock_server_fd(NULL), -EINVAL);
	ck_assert_int_eq(xenvirtio_mmio_sock_client_read(NULL, 0, 4, NULL),
			 -EINVAL);
}
END_TEST

static Suite *sock_suite(void)
{
	Suite *s = suite_create("mmio-sock");
	TCase *tc = tcase_create("sock");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_sock_driver_init_two_processes);
	tcase_add_test(tc, test_sock_interrupt_over_sim_evtchn);
	tcase_add_test(tc, test_sock_refused_access);
	tcase_add_test(tc, test_sock_client_sends_garbage);
	tcase_add_test(tc, test_sock_client_hangs_up_mid_request);
	tcase_add_test(tc, test_sock_server_sends_garbage);
	tcase_add_test(tc, test_sock_server_hangs_up);
	tcase_add_test(tc, test_sock_server_silent_timeout);
	tcase_add_test(tc, test_sock_args);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return xv_test_run(sock_suite());
}
