/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Event channels of the simulated world. Port state (unbound/interdomain,
 * remote end, pending and masked bits) lives in the world; each attached
 * domain has a non-blocking unix datagram socket bound at PATH.evtchn.DOMID,
 * which is the pollable fd. A notify sets the remote port's pending bit and,
 * if it was neither pending nor masked, sends the port number to the remote
 * domain's socket as a doorbell. pending() reads doorbells, checks each
 * against the table (stale ones are skipped), clears pending and masks the
 * port; unmask() rings the own doorbell if the port became pending while
 * masked. So a port notified many times is reported once per unmask.
 *
 * A datagram queue is short (net.unix.max_dgram_qlen, 10 by default), so a
 * doorbell can be dropped while many ports fire at once. No wakeup is lost:
 * a doorbell is dropped only while the queue already holds some, and once
 * the receiver has drained them pending() scans the table under the lock,
 * where every pending bit was set before its doorbell was rung.
 */
#include "platform.h"
#include "sim_world.h"

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int xv_sim_evtchn_path(const char *world, unsigned int domid, char *buf,
		       size_t len)
{
	int n = snprintf(buf, len, "%s.evtchn.%u", world, domid);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static int xv_sim_sun(const char *world, unsigned int domid,
		      struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	return xv_sim_evtchn_path(world, domid, sa->sun_path,
				  sizeof(sa->sun_path));
}

int xv_sim_evtchn_open(struct xv_sim *s)
{
	struct sockaddr_un sa;
	int fd, r;

	r = xv_sim_sun(s->path, s->base.domid, &sa);
	if (r < 0) {
		xv_err(s->ctx, "sim: world path too long for its event "
			       "channel socket");
		return r;
	}
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	unlink(sa.sun_path); /* left by a dead holder of this domain */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = -errno;
		xv_err(s->ctx, "sim: cannot bind %s: %s", sa.sun_path,
		       xenvirtio_strerror(r));
		close(fd);
		return r;
	}
	s->evfd = fd;
	return 0;
}

void xv_sim_evtchn_close(struct xv_sim *s)
{
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];

	if (s->evfd < 0)
		return;
	if (!xv_sim_evtchn_path(s->path, s->base.domid, path, sizeof(path)))
		unlink(path);
	close(s->evfd);
	s->evfd = -1;
}

/* Ring domain @d's doorbell for @port; a full or absent socket is fine. */
static void xv_sim_ring(struct xv_sim *s, uint16_t d, uint32_t port)
{
	struct sockaddr_un sa;

	if (xv_sim_sun(s->path, d, &sa) < 0)
		return;
	sendto(s->evfd, &port, sizeof(port), MSG_DONTWAIT,
	       (struct sockaddr *)&sa, sizeof(sa));
}

static struct xv_sim_port *xv_sim_port(struct xv_sim *s, uint32_t port)
{
	struct xv_sim_port *e;

	if (port == 0 || port >= XV_SIM_NR_PORTS)
		return NULL;
	e = &xv_sim_ports(s, s->base.domid)[port];
	return e->state == XV_SIM_PORT_FREE ? NULL : e;
}

static void xv_sim_port_close(struct xv_sim *s, uint16_t d, uint32_t port)
{
	struct xv_sim_port *e = &xv_sim_ports(s, d)[port];

	if (e->state == XV_SIM_PORT_INTERDOMAIN &&
	    e->remote_dom < s->hdr->max_domains &&
	    e->remote_port < XV_SIM_NR_PORTS) {
		struct xv_sim_port *re =
		    &xv_sim_ports(s, e->remote_dom)[e->remote_port];

		if (re->state == XV_SIM_PORT_INTERDOMAIN &&
		    re->remote_dom == d && re->remote_port == port) {
			re->state = XV_SIM_PORT_UNBOUND;
			re->remote_port = 0;
		}
	}
	memset(e, 0, sizeof(*e));
}

void xv_sim_ports_close_all(struct xv_sim *s, uint16_t d)
{
	struct xv_sim_port *ports = xv_sim_ports(s, d);
	uint32_t i;

	for (i = 1; i < XV_SIM_NR_PORTS; i++)
		if (ports[i].state != XV_SIM_PORT_FREE)
			xv_sim_port_close(s, d, i);
}

int xv_sim_evtchn_fd(struct xv_platform *p)
{
	struct xv_sim *s = xv_sim_of(p);

	return s->evfd >= 0 ? s->evfd : -EBADF;
}

static uint32_t xv_sim_port_alloc(struct xv_sim *s)
{
	struct xv_sim_port *ports = xv_sim_ports(s, s->base.domid);
	uint32_t i;

	for (i = 1; i < XV_SIM_NR_PORTS; i++)
		if (ports[i].state == XV_SIM_PORT_FREE)
			return i;
	return 0;
}

int xv_sim_evtchn_alloc_unbound(struct xv_platform *p, uint16_t remote)
{
	struct xv_sim *s = xv_sim_of(p);
	struct xv_sim_port *e;
	uint32_t port;

	if (remote >= s->hdr->max_domains)
		return -ESRCH;
	xv_sim_lock(s);
	port = xv_sim_port_alloc(s);
	if (port) {
		e = &xv_sim_ports(s, p->domid)[port];
		memset(e, 0, sizeof(*e));
		e->state = XV_SIM_PORT_UNBOUND;
		e->remote_dom = remote;
	}
	xv_sim_unlock(s);
	return port ? (int)port : -ENOSPC;
}

int xv_sim_evtchn_bind(struct xv_platform *p, uint16_t remote,
		       uint32_t remote_port)
{
	struct xv_sim *s = xv_sim_of(p);
	struct xv_sim_port *e, *re;
	uint32_t port;
	int r;

	if (remote >= s->hdr->max_domains)
		return -ESRCH;
	if (remote_port == 0 || remote_port >= XV_SIM_NR_PORTS)
		return -EINVAL;
	xv_sim_lock(s);
	re = &xv_sim_ports(s, remote)[remote_port];
	if (re->state != XV_SIM_PORT_UNBOUND || re->remote_dom != p->domid) {
		r = -EINVAL;
		goto out;
	}
	port = xv_sim_port_alloc(s);
	if (!port) {
		r = -ENOSPC;
		goto out;
	}
	e = &xv_sim_ports(s, p->domid)[port];
	memset(e, 0, sizeof(*e));
	e->state = XV_SIM_PORT_INTERDOMAIN;
	e->remote_dom = remote;
	e->remote_port = remote_port;
	re->state = XV_SIM_PORT_INTERDOMAIN;
	re->remote_port = port;
	r = (int)port;
out:
	xv_sim_unlock(s);
	return r;
}

int xv_sim_evtchn_unbind(struct xv_platform *p, uint32_t port)
{
	struct xv_sim *s = xv_sim_of(p);
	int r = 0;

	xv_sim_lock(s);
	if (xv_sim_port(s, port))
		xv_sim_port_close(s, p->domid, port);
	else
		r = -EINVAL;
	xv_sim_unlock(s);
	return r;
}

int xv_sim_evtchn_notify(struct xv_platform *p, uint32_t port)
{
	struct xv_sim *s = xv_sim_of(p);
	struct xv_sim_port *e, *re;
	uint16_t rd = 0;
	uint32_t rp = 0;
	bool ring = false;
	int r;

	r = xv_sim_fault_hit(s, XENVIRTIO_SIM_OP_NOTIFY, NULL);
	if (r)
		return r;
	xv_sim_lock(s);
	e = xv_sim_port(s, port);
	if (!e) {
		r = -EINVAL;
	} else if (e->state == XV_SIM_PORT_INTERDOMAIN &&
		   e->remote_dom < s->hdr->max_domains &&
		   e->remote_port < XV_SIM_NR_PORTS) {
		rd = e->remote_dom;
		rp = e->remote_port;
		re = &xv_sim_ports(s, rd)[rp];
		if (re->state == XV_SIM_PORT_INTERDOMAIN &&
		    re->remote_dom == p->domid && re->remote_port == port) {
			ring = !re->pending && !re->masked;
			re->pending = 1;
		}
	}
	xv_sim_unlock(s);
	if (ring)
		xv_sim_ring(s, rd, rp);
	return r;
}

/* Deliver @port if it is pending and unmasked (lock held). */
static bool xv_sim_take(struct xv_sim *s, uint32_t port)
{
	struct xv_sim_port *e = xv_sim_port(s, port);

	if (!e || !e->pending || e->masked)
		return false;
	e->pending = 0;
	e->masked = 1;
	return true;
}

int xv_sim_evtchn_pending(struct xv_platform *p)
{
	struct xv_sim *s = xv_sim_of(p);
	uint32_t port, i;
	bool got;
	ssize_t n;

	if (s->evfd < 0)
		return -EBADF;
	for (;;) {
		n = recv(s->evfd, &port, sizeof(port), MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		if (n != sizeof(port))
			continue;
		xv_sim_lock(s);
		got = xv_sim_take(s, port);
		xv_sim_unlock(s);
		if (got)
			return (int)port;
	}
	/* No doorbell: catch one lost to a full socket buffer. */
	xv_sim_lock(s);
	for (i = 0; i < XV_SIM_NR_PORTS - 1; i++) {
		port = 1 + (s->next_pending + i) % (XV_SIM_NR_PORTS - 1);
		if (xv_sim_take(s, port)) {
			s->next_pending = port;
			xv_sim_unlock(s);
			return (int)port;
		}
	}
	xv_sim_unlock(s);
	return -EAGAIN;
}

int xv_sim_evtchn_unmask(struct xv_platform *p, uint32_t port)
{
	struct xv_sim *s = xv_sim_of(p);
	struct xv_sim_port *e;
	bool ring = false;
	int r = 0;

	xv_sim_lock(s);
	e = xv_sim_port(s, port);
	if (!e) {
		r = -EINVAL;
	} else {
		ring = e->masked && e->pending;
		e->masked = 0;
	}
	xv_sim_unlock(s);
	if (ring)
		xv_sim_ring(s, p->domid, port);
	return r;
}
