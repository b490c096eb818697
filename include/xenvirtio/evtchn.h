/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * DOC: event channels
 *
 * Event channels of the context's platform, shaped like libxenevtchn: one
 * pollable file descriptor per context, ports bound to a remote domain's
 * port, notify, then read the pending port and unmask it. The library owns no
 * thread: the caller polls xenvirtio_evtchn_fd() in its own loop.
 *
 * Delivery: a port that is notified several times before the receiver reads
 * it with xenvirtio_evtchn_pending() is reported once; it is reported again
 * only after xenvirtio_evtchn_unmask(). Xen may report a freshly bound
 * interdomain port as pending once without a notify: treat events as hints
 * to look at shared state, never as counts.
 */
#ifndef XENVIRTIO_EVTCHN_H
#define XENVIRTIO_EVTCHN_H

#include <xenvirtio/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * xenvirtio_evtchn_fd() - the pollable descriptor of the context's ports
 * @ctx: context
 *
 * It becomes readable (POLLIN) when a port may be pending. The descriptor
 * belongs to the context; do not close it.
 *
 * Return: the fd, or -EINVAL, or a negative errno if it cannot be opened.
 */
int xenvirtio_evtchn_fd(struct xenvirtio_ctx *ctx);

/**
 * xenvirtio_evtchn_alloc_unbound() - allocate a port for a remote domain
 * @ctx: context
 * @remote_domid: the domain allowed to bind to the port
 *
 * Return: the local port (>= 1); -EINVAL; -ENOSPC if no port is free;
 * -ESRCH if the remote domain does not exist.
 */
int xenvirtio_evtchn_alloc_unbound(struct xenvirtio_ctx *ctx,
				   unsigned int remote_domid);

/**
 * xenvirtio_evtchn_bind() - bind to a remote domain's unbound port
 * @ctx: context
 * @remote_domid: the remote domain
 * @remote_port: its port, allocated for this domain
 *
 * Return: the local port (>= 1); -EINVAL if the remote port is not unbound
 * for this domain; -ENOSPC if no local port is free; -ESRCH if the remote
 * domain does not exist.
 */
int xenvirtio_evtchn_bind(struct xenvirtio_ctx *ctx, unsigned int remote_domid,
			  unsigned int remote_port);

/**
 * xenvirtio_evtchn_unbind() - close a local port
 * @ctx: context
 * @port: a port of this context
 *
 * The remote end sees its port closed: notifying it has no effect.
 *
 * Return: 0; -EINVAL if @port is not open in this context.
 */
int xenvirtio_evtchn_unbind(struct xenvirtio_ctx *ctx, unsigned int port);

/**
 * xenvirtio_evtchn_notify() - send an event through a bound port
 * @ctx: context
 * @port: a bound local port
 *
 * Notifying a port whose peer has gone is not an error (as on Xen).
 *
 * Return: 0; -EINVAL if @port is not bound.
 */
int xenvirtio_evtchn_notify(struct xenvirtio_ctx *ctx, unsigned int port);

/**
 * xenvirtio_evtchn_pending() - read the next pending port
 * @ctx: context
 *
 * Never blocks. The port stays masked until xenvirtio_evtchn_unmask().
 *
 * Return: a pending port (>= 1); -EAGAIN if none is pending; -EINVAL.
 */
int xenvirtio_evtchn_pending(struct xenvirtio_ctx *ctx);

/**
 * xenvirtio_evtchn_unmask() - allow a port to be reported again
 * @ctx: context
 * @port: a port returned by xenvirtio_evtchn_pending()
 *
 * Return: 0; -EINVAL if @port is not open.
 */
int xenvirtio_evtchn_unmask(struct xenvirtio_ctx *ctx, unsigned int port);

#ifdef __cplusplus
}
#endif

#endif /* XENVIRTIO_EVTCHN_H */
