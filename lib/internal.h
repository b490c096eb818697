/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Internal definitions shared by every file of lib/. Nothing here is
 * exported: internal cross-file names are xv_*, hidden by -fvisibility=hidden.
 */
#ifndef XV_INTERNAL_H
#define XV_INTERNAL_H

#include "config.h"

#include <endian.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <xenvirtio/common.h>
#include <xenvirtio/context.h>

/* Marks a public definition; the version script decides the rest. */
#define XV_EXPORT __attribute__((visibility("default")))

#define XV_PAGE_SHIFT XENVIRTIO_GRANT_PAGE_SHIFT
#define XV_PAGE_SIZE XENVIRTIO_GRANT_PAGE_SIZE
#define XV_PAGE_MASK (XV_PAGE_SIZE - 1)

#define XV_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define XV_MIN(a, b) ((a) < (b) ? (a) : (b))
#define XV_MAX(a, b) ((a) > (b) ? (a) : (b))
#define XV_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define xv_likely(x) __builtin_expect(!!(x), 1)
#define xv_unlikely(x) __builtin_expect(!!(x), 0)

struct xv_platform;
struct xv_gnttab;

struct xenvirtio_ctx {
	xenvirtio_log_fn log_fn;
	void *log_opaque;
	enum xenvirtio_log_level log_max;
	struct xv_platform *plat;
	struct xv_gnttab *gnttab; /* lib/grant.c: created on first use */
};

void xv_log(const struct xenvirtio_ctx *ctx, enum xenvirtio_log_level level,
	    const char *fmt, ...) XV_PRINTF(3, 4);
void xv_vlog(const struct xenvirtio_ctx *ctx, enum xenvirtio_log_level level,
	     const char *fmt, va_list ap) XV_PRINTF(3, 0);

#define xv_err(ctx, ...) xv_log(ctx, XENVIRTIO_LOG_ERR, __VA_ARGS__)
#define xv_warn(ctx, ...) xv_log(ctx, XENVIRTIO_LOG_WARNING, __VA_ARGS__)
#define xv_info(ctx, ...) xv_log(ctx, XENVIRTIO_LOG_INFO, __VA_ARGS__)
#define xv_dbg(ctx, ...) xv_log(ctx, XENVIRTIO_LOG_DEBUG, __VA_ARGS__)

/*
 * Sticky "broken" state of an object a peer misbehaved on: the first call
 * logs one line (with the object's name) and every later xv_broken_check()
 * returns -EIO until xv_broken_clear() (reset).
 */
struct xv_broken {
	bool broken;
	char reason[96];
};

int xv_break(const struct xenvirtio_ctx *ctx, struct xv_broken *b,
	     const char *what, const char *fmt, ...) XV_PRINTF(4, 5);
int xv_vbreak(const struct xenvirtio_ctx *ctx, struct xv_broken *b,
	      const char *what, const char *fmt, va_list ap) XV_PRINTF(4, 0);
static inline int xv_broken_check(const struct xv_broken *b)
{
	return b->broken ? -EIO : 0;
}
static inline void xv_broken_clear(struct xv_broken *b)
{
	b->broken = false;
	b->reason[0] = '\0';
}

/*
 * Little-endian accessors for memory shared with a peer: each is exactly one
 * load or store (never re-read by the compiler), so a value is fetched once
 * into a local and validated there (R13). _acquire/_release give the
 * ordering the ring protocols need (R14).
 */
static inline uint16_t xv_load_le16(const void *p)
{
	return le16toh(__atomic_load_n((const uint16_t *)p, __ATOMIC_RELAXED));
}
static inline uint16_t xv_load_le16_acquire(const void *p)
{
	return le16toh(__atomic_load_n((const uint16_t *)p, __ATOMIC_ACQUIRE));
}
static inline uint32_t xv_load_le32(const void *p)
{
	return le32toh(__atomic_load_n((const uint32_t *)p, __ATOMIC_RELAXED));
}
static inline uint64_t xv_load_le64(const void *p)
{
	return le64toh(__atomic_load_n((const uint64_t *)p, __ATOMIC_RELAXED));
}
static inline void xv_store_le16(void *p, uint16_t v)
{
	__atomic_store_n((uint16_t *)p, htole16(v), __ATOMIC_RELAXED);
}
static inline void xv_store_le16_release(void *p, uint16_t v)
{
	__atomic_store_n((uint16_t *)p, htole16(v), __ATOMIC_RELEASE);
}
static inline void xv_store_le32(void *p, uint32_t v)
{
	__atomic_store_n((uint32_t *)p, htole32(v), __ATOMIC_RELAXED);
}
static inline void xv_store_le64(void *p, uint64_t v)
{
	__atomic_store_n((uint64_t *)p, htole64(v), __ATOMIC_RELAXED);
}

#define xv_mb() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define xv_rmb() __atomic_thread_fence(__ATOMIC_ACQUIRE)
#define xv_wmb() __atomic_thread_fence(__ATOMIC_RELEASE)

/* Overflow-safe range check: [off, off + len) inside [0, size). */
static inline bool xv_range_ok(uint64_t off, uint64_t len, uint64_t size)
{
	return off <= size && len <= size - off;
}

#endif /* XV_INTERNAL_H */
