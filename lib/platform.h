/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The platform seam: the only interface through which the library reaches a
 * hypervisor. platform_xen.c (the only file that includes Xen headers) and
 * platform_sim.c implement it; everything else calls xv_plat_*() below.
 *
 * Contract, shared by every platform and proven by tests/test-platform.c:
 * - All grant frames are 4 KiB. Refs are uint32_t, domids uint16_t.
 * - Ops return 0 / a count / a port, or a negative errno. Out-params are
 *   written only on success, except per-element status arrays, which are
 *   always written for every element when the call reached the hypervisor.
 * - An op a platform does not offer is NULL; xv_plat_*() then returns
 *   -EOPNOTSUPP. The caps field says which families exist.
 */
#ifndef XV_PLATFORM_H
#define XV_PLATFORM_H

#include "internal.h"

/* Grant status codes (Xen's GNTST_*), as written into status arrays. */
enum {
	XV_GNTST_OKAY = 0,
	XV_GNTST_GENERAL_ERROR = -1,
	XV_GNTST_BAD_DOMAIN = -2,
	XV_GNTST_BAD_GNTREF = -3,
	XV_GNTST_BAD_HANDLE = -4,
	XV_GNTST_BAD_VIRT_ADDR = -5,
	XV_GNTST_BAD_DEV_ADDR = -6,
	XV_GNTST_NO_DEVICE_SPACE = -7,
	XV_GNTST_PERMISSION_DENIED = -8,
	XV_GNTST_BAD_PAGE = -9,
	XV_GNTST_BAD_COPY_ARG = -10,
	XV_GNTST_ADDRESS_TOO_BIG = -11,
	XV_GNTST_EAGAIN = -12,
	XV_GNTST_NO_SPACE = -13,
};
/* Map a GNTST_* code to a negative errno. */
int xv_gntst_to_errno(int16_t st);

/* v1 grant entry flags (SPEC-NOTES §2). */
#define XV_GTF_TYPE_MASK 0x3u
#define XV_GTF_invalid 0u
#define XV_GTF_permit_access 1u
#define XV_GTF_readonly (1u << 2)
#define XV_GTF_reading (1u << 3)
#define XV_GTF_writing (1u << 4)

/* First ref a frontend may allocate: 0..7 are reserved (console, xenstore). */
#define XV_GNTTAB_RESERVED 8u

/* caps */
#define XV_CAP_GRANT_TABLE (1u << 0) /* frontend writes entries, picks refs */
#define XV_CAP_SHARE_PAGES (1u << 1) /* platform picks refs (gntalloc) */
#define XV_CAP_MAP (1u << 2)	     /* backend grant map/unmap */
#define XV_CAP_COPY (1u << 3)	     /* backend grant copy */
#define XV_CAP_FOREIGN (1u << 4)     /* backend foreign map (privileged) */
#define XV_CAP_EVTCHN (1u << 5)
/*
 * unshare_pages of a page the peer still maps succeeds instead of -EBUSY:
 * the platform itself keeps the page until the peer unmaps it (Xen's
 * gntalloc; user space cannot see the busy state there).
 */
#define XV_CAP_REVOKE_DEFERRED (1u << 6)

/*
 * One grant copy segment: copies @len bytes between a granted frame of
 * @domid and local memory. Never crosses a 4 KiB frame on the grant side
 * (@offset + @len <= 4096) nor on the local side (the caller splits).
 */
struct xv_copy_seg {
	void *local;	 /* local buffer */
	uint32_t ref;	 /* grant ref in @domid's table */
	uint16_t domid;	 /* granting domain */
	uint16_t offset; /* offset inside the granted frame */
	uint16_t len;	 /* 1..4096 */
	bool to_grant;	 /* true: local -> granted frame (needs RW grant) */
	int16_t status;	 /* out: XV_GNTST_* */
};

struct xv_platform_ops;

/* Common head of every platform's private state. */
struct xv_platform {
	const struct xv_platform_ops *ops;
	struct xenvirtio_ctx *ctx;
	unsigned int caps;
	uint16_t domid;
	bool privileged;
	bool initial_domain;
	enum xenvirtio_guest_type guest_type;
	uint32_t nr_grant_entries; /* XV_CAP_GRANT_TABLE: size of own table */
	/* XV_CAP_MAP: most grant frames all mappers of this platform can
	 * hold at once (Xen's maptrack), 0 if unknown */
	uint32_t nr_map_entries;
};

struct xv_platform_ops {
	const char *name;
	/* @args: the text after "name:" (may be empty); fills *out. */
	int (*open)(struct xenvirtio_ctx *ctx, const char *args,
		    struct xv_platform **out);
	void (*close)(struct xv_platform *p);

	/*
	 * Frontend, XV_CAP_GRANT_TABLE: grantable memory and the own table.
	 * frames_alloc returns @count zeroed frames, contiguous in virtual
	 * memory (F1); frame_lookup gives the frame number of a byte of such
	 * memory or -EFAULT for memory that cannot be granted.
	 * grant_access publishes an entry (domid and frame, write barrier,
	 * then flags); end_access revokes it with a compare-and-swap and
	 * returns -EBUSY while the peer maps it (F3).
	 */
	int (*frames_alloc)(struct xv_platform *p, uint32_t count, void **va);
	int (*frames_free)(struct xv_platform *p, void *va, uint32_t count);
	int (*frame_lookup)(struct xv_platform *p, const void *va,
			    uint64_t *gfn);
	int (*grant_access)(struct xv_platform *p, uint32_t ref,
			    uint16_t domid, uint64_t gfn, bool readonly);
	int (*end_access)(struct xv_platform *p, uint32_t ref);

	/*
	 * Frontend, XV_CAP_SHARE_PAGES: the platform allocates @count fresh
	 * zeroed pages, grants them to @domid and maps them at *va; refs[i] is
	 * the ref of page i, NOT necessarily consecutive. unshare_pages ends
	 * access and frees; -EBUSY while mapped (the pages are then leaked),
	 * or 0 with XV_CAP_REVOKE_DEFERRED (the platform leaks them).
	 */
	int (*share_pages)(struct xv_platform *p, uint16_t domid,
			   uint32_t count, bool writable, uint32_t *refs,
			   void **va);
	int (*unshare_pages)(struct xv_platform *p, void *va, uint32_t count);

	/*
	 * Backend, XV_CAP_MAP: map @count refs of @domid at one contiguous
	 * *va, all or nothing; status[i] gets each ref's XV_GNTST_* code
	 * (status may be NULL). Read-only unless @writable; a writable map of
	 * a read-only grant fails with XV_GNTST_PERMISSION_DENIED (G3).
	 */
	int (*map_grants)(struct xv_platform *p, uint16_t domid,
			  uint32_t count, const uint32_t *refs, bool writable,
			  void **va, int16_t *status);
	int (*unmap_grants)(struct xv_platform *p, void *va, uint32_t count);
	/* XV_CAP_COPY: every segment's status is written; returns 0 only if
	 * all are XV_GNTST_OKAY, else the errno of the first failing one. */
	int (*grant_copy)(struct xv_platform *p, struct xv_copy_seg *segs,
			  uint32_t count);
	/* XV_CAP_FOREIGN: map guest frames of @domid (privileged only);
	 * errs[i] per frame (may be NULL); all or nothing. */
	int (*map_foreign)(struct xv_platform *p, uint16_t domid,
			   uint32_t count, const uint64_t *gfns, bool writable,
			   void **va, int *errs);
	int (*unmap_foreign)(struct xv_platform *p, void *va, uint32_t count);

	/* XV_CAP_EVTCHN: see include/xenvirtio/evtchn.h. */
	int (*evtchn_fd)(struct xv_platform *p);
	int (*evtchn_alloc_unbound)(struct xv_platform *p, uint16_t remote);
	int (*evtchn_bind)(struct xv_platform *p, uint16_t remote,
			   uint32_t remote_port);
	int (*evtchn_unbind)(struct xv_platform *p, uint32_t port);
	int (*evtchn_notify)(struct xv_platform *p, uint32_t port);
	int (*evtchn_pending)(struct xv_platform *p);
	int (*evtchn_unmask)(struct xv_platform *p, uint32_t port);

	/*
	 * Facts from the platform's store (xenstore on Xen; the world on
	 * sim): read a NUL-terminated value at @path into @buf.
	 * -ENOENT if absent, -ENOSYS if there is no store.
	 */
	int (*store_read)(struct xv_platform *p, const char *path, char *buf,
			  size_t len);
	/* Set @path to @value, or delete it when @value is NULL. */
	int (*store_write)(struct xv_platform *p, const char *path,
			   const char *value);
};

extern const struct xv_platform_ops xv_platform_sim_ops;
#ifdef HAVE_XEN
extern const struct xv_platform_ops xv_platform_xen_ops;
/*
 * Xen only (libxenctrl domain info): the frame of @domid's shared info page
 * as foreign mapping takes it. -ESRCH no such domain, -EPERM unprivileged,
 * -EINVAL not a "xen" platform.
 */
int xv_xen_shared_info_gfn(struct xv_platform *p, uint16_t domid,
			   uint64_t *gfn);
#endif

/* The platform of a context, or NULL. */
static inline struct xv_platform *xv_plat(const struct xenvirtio_ctx *ctx)
{
	return ctx ? ctx->plat : NULL;
}

/* Call an optional op: -EOPNOTSUPP where the platform lacks it. */
#define XV_PLAT_CALL(p, op, ...)                                             \
	((p)->ops->op ? (p)->ops->op((p), ##__VA_ARGS__) : -EOPNOTSUPP)

/* Open a platform from a spec string ("xen", "sim:...", "auto", NULL). */
int xv_platform_open(struct xenvirtio_ctx *ctx, const char *spec,
		     struct xv_platform **out);
void xv_platform_close(struct xv_platform *p);

#endif /* XV_PLATFORM_H */
