/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * DOC: library context
 *
 * A context is the root handle: it owns the platform (real Xen or the
 * simulated grant world), the log callback and every object created from it.
 * The library has no global state; two contexts are independent.
 */
#ifndef XENVIRTIO_CONTEXT_H
#define XENVIRTIO_CONTEXT_H

#include <stdbool.h>
#include <xenvirtio/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * typedef xenvirtio_log_fn - log callback
 * @opaque: the pointer given to xenvirtio_ctx_set_log()
 * @level: severity
 * @msg: one line of text, without a trailing newline
 *
 * Context: called from whichever thread made the failing call, with no
 * library lock held; it must not call back into the same context.
 */
typedef void (*xenvirtio_log_fn)(void *opaque, enum xenvirtio_log_level level,
				 const char *msg);

/**
 * xenvirtio_version() - the library's version string
 *
 * Return: a static string such as "0.1.0".
 */
const char *xenvirtio_version(void);

/**
 * xenvirtio_ctx_open() - open a context on a platform
 * @platform: platform specification:
 *	"xen" - the real Xen platform (needs a build with Xen and /dev/xen);
 *	"sim:PATH[,domid=N][,privileged][,guest=pv|hvm|pvh|arm][,refs=kernel]"
 *	- attach to the simulated grant world in the file PATH as domain N
 *	(default: the first free domain); "privileged" marks a domain that may
 *	map foreign frames (domid 0 always may); "refs=kernel" makes the
 *	platform choose grant refs itself, as Xen's gntalloc does;
 *	"auto" or NULL - "xen" when /dev/xen/gntdev exists and the library was
 *	built with Xen, otherwise "sim:" + the XENVIRTIO_SIM environment
 *	variable.
 * @out: the new context
 *
 * Return: 0 on success;
 * -EINVAL if @platform is malformed or @out is NULL;
 * -ENODEV if the platform is not available ("xen" without Xen, or "auto"
 * with neither Xen nor XENVIRTIO_SIM);
 * -ENOENT if the simulated world file does not exist;
 * -EBADMSG if the world file is not a valid world;
 * -EBUSY if the requested domain is already attached by a live process;
 * -ENOSPC if the world has no free domain;
 * -ENOMEM on allocation failure;
 * other negative errno values from the platform's system calls.
 *
 * Context: logs through the default (silent) logger until
 * xenvirtio_ctx_set_log() is called; use xenvirtio_ctx_open_log() to see
 * errors raised while opening.
 */
int xenvirtio_ctx_open(const char *platform, struct xenvirtio_ctx **out);

/**
 * xenvirtio_ctx_open_log() - open a context with a log callback in place
 * @platform: as for xenvirtio_ctx_open()
 * @fn: log callback, or NULL for silence
 * @opaque: passed to @fn
 * @max_level: messages above this level are not delivered
 * @out: the new context
 *
 * Return: as xenvirtio_ctx_open().
 */
int xenvirtio_ctx_open_log(const char *platform, xenvirtio_log_fn fn,
			   void *opaque, enum xenvirtio_log_level max_level,
			   struct xenvirtio_ctx **out);

/**
 * xenvirtio_ctx_close() - close a context and release its platform
 * @ctx: context, or NULL (no-op)
 *
 * Objects created from @ctx must have been freed before.
 */
void xenvirtio_ctx_close(struct xenvirtio_ctx *ctx);

/**
 * xenvirtio_ctx_set_log() - set the log callback
 * @ctx: context
 * @fn: callback, or NULL to be silent (the default)
 * @opaque: passed to @fn
 * @max_level: messages above this level are not delivered
 */
void xenvirtio_ctx_set_log(struct xenvirtio_ctx *ctx, xenvirtio_log_fn fn,
			   void *opaque, enum xenvirtio_log_level max_level);

/**
 * xenvirtio_log_stderr() - a ready-made log callback printing to stderr
 * @opaque: a prefix string, or NULL for "xenvirtio"
 * @level: severity
 * @msg: the message
 */
void xenvirtio_log_stderr(void *opaque, enum xenvirtio_log_level level,
			  const char *msg);

/**
 * xenvirtio_ctx_domid() - the domain id the context runs as
 * @ctx: context
 *
 * Return: the domid (0..0x7fef), or -EINVAL if @ctx is NULL.
 */
int xenvirtio_ctx_domid(const struct xenvirtio_ctx *ctx);

/**
 * xenvirtio_ctx_platform() - name of the context's platform
 * @ctx: context
 *
 * Return: "xen" or "sim", or NULL if @ctx is NULL.
 */
const char *xenvirtio_ctx_platform(const struct xenvirtio_ctx *ctx);

/**
 * xenvirtio_ctx_guest_type() - the guest type the platform reports
 * @ctx: context
 *
 * Return: the guest type, XENVIRTIO_GUEST_UNKNOWN if not known.
 */
enum xenvirtio_guest_type
xenvirtio_ctx_guest_type(const struct xenvirtio_ctx *ctx);

/**
 * xenvirtio_ctx_privileged() - whether the domain may map foreign frames
 * @ctx: context
 *
 * Return: true for a privileged domain (dom0 or a domain the simulated
 * world marks privileged).
 */
bool xenvirtio_ctx_privileged(const struct xenvirtio_ctx *ctx);

/**
 * xenvirtio_strerror() - describe a libxenvirtio error code
 * @err: a negative errno returned by the library (or a positive one)
 *
 * Return: a static string (strerror() text), never NULL.
 */
const char *xenvirtio_strerror(int err);

#ifdef __cplusplus
}
#endif

#endif /* XENVIRTIO_CONTEXT_H */
