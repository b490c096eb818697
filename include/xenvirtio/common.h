/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * DOC: common definitions
 *
 * Types shared by every libxenvirtio module. Conventions for the whole API:
 *
 * - Functions return an int: 0 or a count on success, a negative errno on
 *   failure. errno is never used as a side channel. Out-parameters are
 *   written only on success.
 * - Caller misuse (a NULL handle, an impossible argument) returns -EINVAL.
 * - A peer that breaks the protocol makes the object it touched *broken*:
 *   the library logs one line through the context's log callback and every
 *   later call on that object returns -EIO until it is reset or freed.
 * - Handles are opaque. One handle is used by one thread at a time unless its
 *   header says otherwise; different handles may be used concurrently.
 * - After fork() a child may only close handles it inherited.
 */
#ifndef XENVIRTIO_COMMON_H
#define XENVIRTIO_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** XENVIRTIO_GRANT_PAGE_SIZE - size of a grant frame: always 4 KiB (G9). */
#define XENVIRTIO_GRANT_PAGE_SIZE 4096u
/** XENVIRTIO_GRANT_PAGE_SHIFT - log2 of XENVIRTIO_GRANT_PAGE_SIZE. */
#define XENVIRTIO_GRANT_PAGE_SHIFT 12

/** XENVIRTIO_DOMID_INVALID - "no domain" (DOMID_INVALID in Xen). */
#define XENVIRTIO_DOMID_INVALID 0x7ff4u

struct xenvirtio_ctx;

/**
 * enum xenvirtio_log_level - severity of a log message (syslog numbering)
 * @XENVIRTIO_LOG_ERR: an operation failed, or a peer broke an object
 * @XENVIRTIO_LOG_WARNING: something unusual that the library handled
 * @XENVIRTIO_LOG_INFO: notable state changes
 * @XENVIRTIO_LOG_DEBUG: tracing for developers
 */
enum xenvirtio_log_level {
	XENVIRTIO_LOG_ERR = 3,
	XENVIRTIO_LOG_WARNING = 4,
	XENVIRTIO_LOG_INFO = 6,
	XENVIRTIO_LOG_DEBUG = 7,
};

/**
 * enum xenvirtio_guest_type - what kind of domain the caller runs in
 * @XENVIRTIO_GUEST_UNKNOWN: not determined
 * @XENVIRTIO_GUEST_NONE: not a Xen guest at all
 * @XENVIRTIO_GUEST_PV: x86 paravirtualised guest
 * @XENVIRTIO_GUEST_HVM: x86 HVM guest
 * @XENVIRTIO_GUEST_PVH: x86 PVH guest
 * @XENVIRTIO_GUEST_ARM: Arm guest (device tree or ACPI)
 */
enum xenvirtio_guest_type {
	XENVIRTIO_GUEST_UNKNOWN = 0,
	XENVIRTIO_GUEST_NONE,
	XENVIRTIO_GUEST_PV,
	XENVIRTIO_GUEST_HVM,
	XENVIRTIO_GUEST_PVH,
	XENVIRTIO_GUEST_ARM,
};

#ifdef __cplusplus
}
#endif

#endif /* XENVIRTIO_COMMON_H */
