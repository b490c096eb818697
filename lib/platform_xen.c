/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The real Xen platform, on Linux, through Xen's own user-space libraries:
 * libxengnttab (/dev/xen/gntdev: map, unmap, grant copy), libxengntshr
 * (/dev/xen/gntalloc: share pages), libxenevtchn (/dev/xen/evtchn),
 * libxenforeignmemory (privcmd: foreign maps), libxenctrl (domain facts)
 * and libxenstore. This is the only file of the library that includes Xen
 * headers.
 *
 * Handles: the event channel and control handles are opened with the
 * platform (they tell the own domid); the grant, share, foreign memory and
 * xenstore handles are opened on first use and all are closed with the
 * context. Xen's libraries log through a xentoollog logger that forwards
 * into the context's log callback (see xen_vmessage()).
 *
 * fork(): as for libxengnttab, a child may only close the handles (the
 * context) it inherited; mappings made through gntdev and gntalloc are not
 * shared with the child in any useful way. Open a new context in the child.
 *
 * What Xen really does where the seam asks for more than it offers:
 * - gntdev maps a batch all or nothing and reports one errno (EINVAL) for
 *   any refused ref, not Xen's per-ref GNTST_* code. On failure the ref's
 *   status is recovered by mapping each ref alone and, for a ref that
 *   fails, by a 1-byte grant copy *from* it (a read, which changes
 *   nothing): the copy returns the real GNTST_* code; a ref that copies
 *   but cannot be mapped writable is a read-only grant (PERMISSION_DENIED).
 * - gntalloc (libxengntshr) cannot report "busy at revoke": unsharing is a
 *   munmap, and Linux (since XSA-396) then ends foreign access itself; a
 *   grant still mapped by the peer is put on a deferred list and the page
 *   is kept (leaked) until the peer unmaps it, then freed by a kernel
 *   timer (seen under check-xen: the ref stays mappable about 1 s after
 *   the peer's unmap, then maps fail). So unshare_pages never returns
 *   -EBUSY on Xen and the page is never reused while mapped: the leak
 *   half of F3 is done by the kernel (XV_CAP_REVOKE_DEFERRED), and the
 *   caller cannot learn that the peer held on. Reading the busy bits
 *   ourselves is not possible either: XENMEM_acquire_resource refuses a
 *   domain's own grant table (EPERM for its domid, ESRCH for DOMID_SELF,
 *   measured in dom0 under check-xen).
 */
#include "platform.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <xenctrl.h>
#include <xenevtchn.h>
#include <xenforeignmemory.h>
#include <xengnttab.h>
#include <xenstore.h>
#include <xentoollog.h>

/* Grant copy segments converted per batch, on the stack (hot path). */
#define XEN_COPY_BATCH 32u

struct xen_plat {
	struct xv_platform base;
	struct xentoollog_logger logger; /* forwards into base.ctx */
	pthread_mutex_t lock;		 /* lazy opening */
	xengnttab_handle *gnttab;
	xengntshr_handle *gntshr;
	xenforeignmemory_handle *fmem;
	struct xs_handle *xs;
	bool xs_tried;
	xenevtchn_handle *evtchn;
	int evtchn_fd;
	xc_interface *xc;
};

static struct xen_plat *to_xen(struct xv_platform *p)
{
	return (struct xen_plat *)p;
}

/*
 * xentoollog -> context log. Xen's libraries log each failed system call at
 * XTL_ERROR, including refusals the seam reports as an ordinary result (a
 * read-only grant refusing a writable map: "mmap failed"), so their errors
 * arrive as warnings; the library's own errors stay errors.
 */
static void xen_vmessage(struct xentoollog_logger *logger,
			 xentoollog_level level, int errnoval,
			 const char *context, const char *format, va_list al)
	XV_PRINTF(5, 0);
static void xen_vmessage(struct xentoollog_logger *logger,
			 xentoollog_level level, int errnoval,
			 const char *context, const char *format, va_list al)
{
	struct xen_plat *x =
	    (struct xen_plat *)((char *)logger -
				offsetof(struct xen_plat, logger));
	enum xenvirtio_log_level l;
	char msg[320];

	if (level >= XTL_WARN)
		l = XENVIRTIO_LOG_WARNING;
	else if (level >= XTL_INFO)
		l = XENVIRTIO_LOG_INFO;
	else
		l = XENVIRTIO_LOG_DEBUG;
	if (!x->base.ctx || l > x->base.ctx->log_max)
		return;
	if (vsnprintf(msg, sizeof(msg), format, al) < 0)
		return;
	if (errnoval >= 0)
		xv_log(x->base.ctx, l, "xen %s: %s (%s)",
		       context ? context : "", msg, strerror(errnoval));
	else
		xv_log(x->base.ctx, l, "xen %s: %s", context ? context : "",
		       msg);
}

static void xen_logger_destroy(struct xentoollog_logger *logger)
{
}

/* Read a small sysfs/procfs file into buf; 0 or -errno. */
static int xen_read_file(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return 0;
}

static enum xenvirtio_guest_type xen_guest_type(void)
{
	char buf[32];

	if (xen_read_file("/sys/hypervisor/guest_type", buf, sizeof(buf)))
		return XENVIRTIO_GUEST_UNKNOWN;
#if defined(__aarch64__) || defined(__arm__)
	return XENVIRTIO_GUEST_ARM; /* Linux says "HVM" there */
#endif
	if (!strcmp(buf, "PV"))
		return XENVIRTIO_GUEST_PV;
	if (!strcmp(buf, "PVH"))
		return XENVIRTIO_GUEST_PVH;
	if (!strcmp(buf, "HVM"))
		return XENVIRTIO_GUEST_HVM;
	return XENVIRTIO_GUEST_UNKNOWN;
}

static bool xen_initial_domain(void)
{
	char buf[128];

	return !xen_read_file("/proc/xen/capabilities", buf, sizeof(buf)) &&
	       strstr(buf, "control_d");
}

/*
 * Lazily opened handles: opened once under the lock, then read without it
 * (acquire pairs with the release store).
 */
#define XEN_LAZY(x, field, opener)                                  \
	({                                                          \
		__typeof__((x)->field) h_ =                         \
		    __atomic_load_n(&(x)->field, __ATOMIC_ACQUIRE); \
		if (!h_) {                                          \
			pthread_mutex_lock(&(x)->lock);             \
			h_ = (x)->field;                            \
			if (!h_) {                                  \
				h_ = (opener);                      \
				__atomic_store_n(&(x)->field, h_,   \
						 __ATOMIC_RELEASE); \
			}                                           \
			pthread_mutex_unlock(&(x)->lock);           \
		}                                                   \
		h_;                                                 \
	})

static xengnttab_handle *xen_gnttab(struct xen_plat *x)
{
	xengnttab_handle *h =
	    XEN_LAZY(x, gnttab, xengnttab_open(&x->logger, 0));

	if (!h)
		xv_dbg(x->base.ctx, "xen: cannot open /dev/xen/gntdev");
	return h;
}

static xengntshr_handle *xen_gntshr(struct xen_plat *x)
{
	return XEN_LAZY(x, gntshr, xengntshr_open(&x->logger, 0));
}

static xenforeignmemory_handle *xen_fmem(struct xen_plat *x)
{
	return XEN_LAZY(x, fmem, xenforeignmemory_open(&x->logger, 0));
}

/*
 * xenstore without hanging. A guest talks to the remote xenstored through
 * /dev/xen/xenbus. The initial domain only through xenstored's socket: its
 * xenbus requests block forever while no xenstored has started (the minimal
 * dom0 has none), and libxenstore falls back to xenbus when the socket is
 * missing, so the socket's presence is checked first.
 */
static bool xen_xenstored_socket(void)
{
	const char *path = getenv("XENSTORED_PATH");
	const char *dir = getenv("XENSTORED_RUNDIR");
	char buf[256];

	if (!path) {
		snprintf(buf, sizeof(buf), "%s/socket",
			 dir ? dir : "/var/run/xenstored");
		path = buf;
	}
	return access(path, F_OK) == 0;
}

static struct xs_handle *xen_xs(struct xen_plat *x)
{
	struct xs_handle *h = NULL;

	pthread_mutex_lock(&x->lock);
	if (!x->xs_tried) {
		x->xs_tried = true;
		if (!x->base.initial_domain || xen_xenstored_socket())
			h = xs_open(0);
		if (!h)
			xv_dbg(x->base.ctx, "xen: no xenstore reachable");
		x->xs = h;
	}
	h = x->xs;
	pthread_mutex_unlock(&x->lock);
	return h;
}

/*
 * The own domid without xenstore: an unbound port offered to DOMID_SELF
 * records the caller's real domid as its remote end, which EVTCHNOP_status
 * reports.
 */
static int xen_domid_from_evtchn(struct xen_plat *x)
{
	xc_evtchn_status_t st;
	int port, r;

	if (!x->evtchn || !x->xc)
		return -ENODEV;
	port = xenevtchn_bind_unbound_port(x->evtchn, DOMID_SELF);
	if (port < 0)
		return -errno;
	memset(&st, 0, sizeof(st));
	st.dom = DOMID_SELF;
	st.port = (evtchn_port_t)port;
	r = xc_evtchn_status(x->xc, &st);
	if (r < 0)
		r = -errno;
	else if (st.status != EVTCHNSTAT_unbound)
		r = -EIO;
	else
		r = st.u.unbound.dom;
	xenevtchn_unbind(x->evtchn, (evtchn_port_t)port);
	return r;
}

static int xen_store_write(struct xv_platform *p, const char *path,
			   const char *value)
{
	struct xen_plat *x = to_xen(p);
	struct xs_handle *h;
	bool ok;

	if (!path)
		return -EINVAL;
	h = xen_xs(x);
	if (!h)
		return -ENOSYS;
	errno = 0;
	if (value)
		ok = xs_write(h, XBT_NULL, path, value, strlen(value));
	else
		ok = xs_rm(h, XBT_NULL, path) || errno == ENOENT;
	if (!ok)
		return errno ? -errno : -EIO;
	return 0;
}

static int xen_store_read(struct xv_platform *p, const char *path, char *buf,
			  size_t len)
{
	struct xen_plat *x = to_xen(p);
	struct xs_handle *h;
	unsigned int n = 0;
	char *v;

	if (!path || !buf || !len)
		return -EINVAL;
	h = xen_xs(x);
	if (!h)
		return -ENOSYS;
	v = xs_read(h, XBT_NULL, path, &n);
	if (!v)
		return errno ? -errno : -EIO;
	if ((size_t)n >= len) {
		free(v);
		return -ERANGE;
	}
	memcpy(buf, v, n);
	buf[n] = '\0';
	free(v);
	return 0;
}

static int xen_open(struct xenvirtio_ctx *ctx, const char *args,
		    struct xv_platform **out)
{
	struct xen_plat *x;
	char buf[16];
	int r;

	if (args && *args) {
		xv_err(ctx, "platform xen: unknown arguments '%s'", args);
		return -EINVAL;
	}
	if (access("/dev/xen/evtchn", F_OK) && access("/proc/xen", F_OK) &&
	    (xen_read_file("/sys/hypervisor/type", buf, sizeof(buf)) ||
	     strcmp(buf, "xen"))) {
		xv_err(ctx, "platform xen: not running on Xen");
		return -ENODEV;
	}
	x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	x->base.ctx = ctx;
	x->logger.vmessage = xen_vmessage;
	x->logger.progress = NULL;
	x->logger.destroy = xen_logger_destroy;
	x->evtchn_fd = -1;
	pthread_mutex_init(&x->lock, NULL);

	x->base.guest_type = xen_guest_type();
	x->base.initial_domain = xen_initial_domain();
	x->base.privileged = x->base.initial_domain;
	x->base.caps = XV_CAP_SHARE_PAGES | XV_CAP_REVOKE_DEFERRED |
		       XV_CAP_MAP | XV_CAP_COPY | XV_CAP_EVTCHN;
	if (x->base.privileged)
		x->base.caps |= XV_CAP_FOREIGN;

	x->evtchn = xenevtchn_open(&x->logger, 0);
	if (x->evtchn) {
		x->evtchn_fd = xenevtchn_fd(x->evtchn);
		/* pending() must not block: the caller polls the fd. */
		r = fcntl(x->evtchn_fd, F_GETFL);
		if (r >= 0)
			fcntl(x->evtchn_fd, F_SETFL, r | O_NONBLOCK);
	}
	x->xc = xc_interface_open(&x->logger, &x->logger, 0);

	r = xen_domid_from_evtchn(x);
	if (r < 0 && !xen_store_read(&x->base, "domid", buf, sizeof(buf))) {
		char *end;
		unsigned long v = strtoul(buf, &end, 10);

		r = (*end || end == buf || v >= DOMID_FIRST_RESERVED) ? -EIO
								      : (int)v;
	}
	if (r < 0 && x->base.initial_domain)
		r = 0;
	if (r < 0) {
		xv_warn(ctx, "platform xen: own domid unknown");
		x->base.domid = XENVIRTIO_DOMID_INVALID;
	} else {
		x->base.domid = (uint16_t)r;
	}
	xv_dbg(ctx, "platform xen: domid %u, guest type %d%s%s", x->base.domid,
	       (int)x->base.guest_type,
	       x->base.initial_domain ? ", initial domain" : "",
	       x->evtchn ? "" : ", no event channels");
	*out = &x->base;
	return 0;
}

static void xen_close(struct xv_platform *p)
{
	struct xen_plat *x = to_xen(p);

	if (x->gnttab)
		xengnttab_close(x->gnttab);
	if (x->gntshr)
		xengntshr_close(x->gntshr);
	if (x->fmem)
		xenforeignmemory_close(x->fmem);
	if (x->xs)
		xs_close(x->xs);
	if (x->evtchn)
		xenevtchn_close(x->evtchn);
	if (x->xc)
		xc_interface_close(x->xc);
	pthread_mutex_destroy(&x->lock);
	free(x);
}

/* ---- backend: grant map, unmap, copy ---- */

static int xen_copy_one(xengnttab_handle *h, void *local, uint32_t ref,
			uint16_t domid, uint16_t offset, uint16_t len,
			bool to_grant, int16_t *status)
{
	xengnttab_grant_copy_segment_t s;

	memset(&s, 0, sizeof(s));
	if (to_grant) {
		s.source.virt = local;
		s.dest.foreign.ref = ref;
		s.dest.foreign.offset = offset;
		s.dest.foreign.domid = domid;
		s.flags = GNTCOPY_dest_gref;
	} else {
		s.source.foreign.ref = ref;
		s.source.foreign.offset = offset;
		s.source.foreign.domid = domid;
		s.dest.virt = local;
		s.flags = GNTCOPY_source_gref;
	}
	s.len = len;
	if (xengnttab_grant_copy(h, 1, &s) < 0)
		return -errno;
	*status = s.status;
	return 0;
}

/*
 * A batched map failed: find each ref's GNTST_* code (see the top comment).
 * Returns the errno of the first failing ref, 0 if every ref maps alone.
 */
static int xen_map_diagnose(struct xen_plat *x, xengnttab_handle *h,
			    uint16_t domid, uint32_t count,
			    const uint32_t *refs, bool writable,
			    int16_t *status)
{
	int prot = PROT_READ | (writable ? PROT_WRITE : 0);
	int first = 0;
	uint32_t i;

	for (i = 0; i < count; i++) {
		void *m = xengnttab_map_grant_ref(h, domid, refs[i], prot);
		int16_t st = XV_GNTST_GENERAL_ERROR;
		uint8_t byte;

		if (m) {
			xengnttab_unmap(h, m, 1);
			st = XV_GNTST_OKAY;
		} else if (xen_copy_one(h, &byte, refs[i], domid, 0, 1, false,
					&st) == 0 &&
			   st == XV_GNTST_OKAY) {
			/* Readable but not mappable as asked. */
			st = writable ? XV_GNTST_PERMISSION_DENIED
				      : XV_GNTST_GENERAL_ERROR;
		}
		if (status)
			status[i] = st;
		if (st != XV_GNTST_OKAY && !first)
			first = xv_gntst_to_errno(st);
	}
	xv_dbg(x->base.ctx, "xen: map of %u refs of dom%u refused: %s", count,
	       domid, first ? strerror(-first) : "transient");
	return first;
}

static int xen_map_grants(struct xv_platform *p, uint16_t domid, uint32_t count,
			  const uint32_t *refs, bool writable, void **va,
			  int16_t *status)
{
	struct xen_plat *x = to_xen(p);
	xengnttab_handle *h;
	void *m;
	uint32_t i;
	int e, r;

	if (!count || !refs || !va)
		return -EINVAL;
	h = xen_gnttab(x);
	if (!h)
		return -ENODEV;
	/* gntdev does not write refs; the prototype lacks const. */
	m = xengnttab_map_domain_grant_refs(
	    h, count, domid, (uint32_t *)(uintptr_t)refs,
	    PROT_READ | (writable ? PROT_WRITE : 0));
	if (m) {
		if (status)
			for (i = 0; i < count; i++)
				status[i] = XV_GNTST_OKAY;
		*va = m;
		return 0;
	}
	e = errno ? errno : EIO;
	/* Out of room in gntdev or address space: backpressure (F7). */
	if (e == ENOMEM || e == ENOSPC) {
		if (status)
			for (i = 0; i < count; i++)
				status[i] = XV_GNTST_NO_SPACE;
		return -ENOSPC;
	}
	r = xen_map_diagnose(x, h, domid, count, refs, writable, status);
	return r ? r : -e;
}

static int xen_unmap_grants(struct xv_platform *p, void *va, uint32_t count)
{
	struct xen_plat *x = to_xen(p);
	xengnttab_handle *h = __atomic_load_n(&x->gnttab, __ATOMIC_ACQUIRE);

	if (!va || !count || !h)
		return -EINVAL;
	return xengnttab_unmap(h, va, count) ? -errno : 0;
}

/* Xen's own per-segment rule (gntdev would refuse the whole batch). */
static bool xen_copy_seg_ok(const struct xv_copy_seg *s)
{
	return s->local && s->len && s->len <= XV_PAGE_SIZE &&
	       s->offset + s->len <= XV_PAGE_SIZE;
}

static int xen_grant_copy(struct xv_platform *p, struct xv_copy_seg *segs,
			  uint32_t count)
{
	xengnttab_grant_copy_segment_t xs[XEN_COPY_BATCH];
	uint32_t idx[XEN_COPY_BATCH];
	struct xen_plat *x = to_xen(p);
	xengnttab_handle *h;
	uint32_t i, j, n;
	int first = 0;

	if (!segs)
		return -EINVAL;
	h = xen_gnttab(x);
	if (!h)
		return -ENODEV;
	for (i = 0; i < count;) {
		/* Gather up to a batch of well-formed segments. */
		for (n = 0; i < count && n < XEN_COPY_BATCH; i++) {
			struct xv_copy_seg *s = &segs[i];
			xengnttab_grant_copy_segment_t *d = &xs[n];

			if (!xen_copy_seg_ok(s)) {
				s->status = XV_GNTST_BAD_COPY_ARG;
				if (!first)
					first = -EINVAL;
				continue;
			}
			memset(d, 0, sizeof(*d));
			if (s->to_grant) {
				d->source.virt = s->local;
				d->dest.foreign.ref = s->ref;
				d->dest.foreign.offset = s->offset;
				d->dest.foreign.domid = s->domid;
				d->flags = GNTCOPY_dest_gref;
			} else {
				d->source.foreign.ref = s->ref;
				d->source.foreign.offset = s->offset;
				d->source.foreign.domid = s->domid;
				d->dest.virt = s->local;
				d->flags = GNTCOPY_source_gref;
			}
			d->len = s->len;
			d->status = XV_GNTST_GENERAL_ERROR;
			idx[n++] = i;
		}
		if (!n)
			continue;
		if (xengnttab_grant_copy(h, n, xs) < 0) {
			int e = errno ? -errno : -EIO;

			/* This batch and the rest never reached Xen. */
			for (j = 0; j < n; j++)
				segs[idx[j]].status = XV_GNTST_GENERAL_ERROR;
			for (; i < count; i++)
				segs[i].status = XV_GNTST_GENERAL_ERROR;
			return first ? first : e;
		}
		/* G4: every segment's own status. */
		for (j = 0; j < n; j++) {
			struct xv_copy_seg *s = &segs[idx[j]];

			s->status = xs[j].status;
			if (s->status != XV_GNTST_OKAY && !first)
				first = xv_gntst_to_errno(s->status);
		}
	}
	return first;
}

/* ---- backend: foreign mapping (privileged) ---- */

static int xen_map_foreign(struct xv_platform *p, uint16_t domid,
			   uint32_t count, const uint64_t *gfns, bool writable,
			   void **va, int *errs)
{
	struct xen_plat *x = to_xen(p);
	xenforeignmemory_handle *h;
	uint32_t i;
	void *m;
	int first = 0;

	_Static_assert(sizeof(xen_pfn_t) == sizeof(uint64_t),
		       "gfns are passed to Xen as they are");
	if (!count || !gfns || !va)
		return -EINVAL;
	if (!p->privileged)
		return -EPERM;
	h = xen_fmem(x);
	if (!h)
		return -ENODEV;
	/* Xen refuses a domain's own id as the "foreign" one: say SELF. */
	m = xenforeignmemory_map(h, domid == p->domid ? DOMID_SELF : domid,
				 PROT_READ | (writable ? PROT_WRITE : 0), count,
				 (const xen_pfn_t *)gfns, errs);
	if (!m)
		return errno ? -errno : -EIO;
	if (!errs)
		goto ok;
	/* Non-NULL with per-frame errors: all or nothing. */
	for (i = 0; i < count; i++) {
		if (errs[i] > 0)
			errs[i] = -errs[i];
		if (errs[i] && !first)
			first = errs[i];
	}
	if (first) {
		xenforeignmemory_unmap(h, m, count);
		return first;
	}
ok:
	*va = m;
	return 0;
}

static int xen_unmap_foreign(struct xv_platform *p, void *va, uint32_t count)
{
	struct xen_plat *x = to_xen(p);
	xenforeignmemory_handle *h =
	    __atomic_load_n(&x->fmem, __ATOMIC_ACQUIRE);

	if (!va || !count || !h)
		return -EINVAL;
	return xenforeignmemory_unmap(h, va, count) ? -errno : 0;
}

/* ---- frontend: gntalloc ---- */

static int xen_share_pages(struct xv_platform *p, uint16_t domid,
			   uint32_t count, bool writable, uint32_t *refs,
			   void **va)
{
	struct xen_plat *x = to_xen(p);
	xengntshr_handle *h;
	void *m;

	if (!count || !refs || !va)
		return -EINVAL;
	h = xen_gntshr(x);
	if (!h)
		return -ENODEV;
	/* gntalloc zeroes the pages it allocates (F1). */
	m = xengntshr_share_pages(h, domid, (int)count, refs, writable);
	if (!m)
		return errno == ENOMEM || errno == ENOSPC
			   ? -ENOSPC
			   : (errno ? -errno : -EIO);
	*va = m;
	return 0;
}

/*
 * xengntshr_unshare() is a bare munmap(): make sure [va, va + count pages)
 * is exactly one gntalloc mapping, so that caller misuse is -EINVAL and not
 * the silent unmapping of unrelated memory. Where /proc/self/map_files
 * cannot be read (no procfs, restricted), the check is skipped.
 */
static int xen_is_gntalloc_area(const void *va, uint32_t count)
{
	char path[80], target[64];
	uintptr_t start = (uintptr_t)va;
	ssize_t n;

	if (start & XV_PAGE_MASK)
		return -EINVAL;
	snprintf(path, sizeof(path), "/proc/self/map_files/%lx-%lx",
		 (unsigned long)start,
		 (unsigned long)(start + (uintptr_t)count * XV_PAGE_SIZE));
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return errno == ENOENT &&
			       access("/proc/self/map_files", F_OK) == 0
			   ? -EINVAL
			   : 0;
	target[n] = '\0';
	return strcmp(target, "/dev/xen/gntalloc") ? -EINVAL : 0;
}

static int xen_unshare_pages(struct xv_platform *p, void *va, uint32_t count)
{
	struct xen_plat *x = to_xen(p);
	xengntshr_handle *h = __atomic_load_n(&x->gntshr, __ATOMIC_ACQUIRE);
	int r;

	if (!va || !count || !h)
		return -EINVAL;
	r = xen_is_gntalloc_area(va, count);
	if (r < 0)
		return r;
	/* A still-mapped page is kept by the kernel: see the top comment. */
	return xengntshr_unshare(h, va, count) ? -errno : 0;
}

/* ---- event channels ---- */

static int xen_evtchn_fd(struct xv_platform *p)
{
	struct xen_plat *x = to_xen(p);

	return x->evtchn ? x->evtchn_fd : -ENODEV;
}

static int xen_evtchn_ret(xenevtchn_port_or_error_t r)
{
	if (r >= 0)
		return r;
	return errno ? -errno : -EIO;
}

static int xen_evtchn_alloc_unbound(struct xv_platform *p, uint16_t remote)
{
	struct xen_plat *x = to_xen(p);

	if (!x->evtchn)
		return -ENODEV;
	return xen_evtchn_ret(xenevtchn_bind_unbound_port(x->evtchn, remote));
}

static int xen_evtchn_bind(struct xv_platform *p, uint16_t remote,
			   uint32_t remote_port)
{
	struct xen_plat *x = to_xen(p);

	if (!x->evtchn)
		return -ENODEV;
	return xen_evtchn_ret(
	    xenevtchn_bind_interdomain(x->evtchn, remote, remote_port));
}

/* The evtchn driver says ENOTCONN for a port this fd does not hold. */
static int xen_evtchn_err(void)
{
	if (errno == ENOTCONN)
		return -EINVAL;
	return errno ? -errno : -EIO;
}

static int xen_evtchn_unbind(struct xv_platform *p, uint32_t port)
{
	struct xen_plat *x = to_xen(p);

	if (!x->evtchn)
		return -ENODEV;
	return xenevtchn_unbind(x->evtchn, port) ? xen_evtchn_err() : 0;
}

static int xen_evtchn_notify(struct xv_platform *p, uint32_t port)
{
	struct xen_plat *x = to_xen(p);

	if (!x->evtchn)
		return -ENODEV;
	return xenevtchn_notify(x->evtchn, port) ? xen_evtchn_err() : 0;
}

static int xen_evtchn_pending(struct xv_platform *p)
{
	struct xen_plat *x = to_xen(p);
	xenevtchn_port_or_error_t r;

	if (!x->evtchn)
		return -ENODEV;
	r = xenevtchn_pending(x->evtchn);
	if (r < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : (errno ? -errno : -EIO);
	return r;
}

static int xen_evtchn_unmask(struct xv_platform *p, uint32_t port)
{
	struct xen_plat *x = to_xen(p);

	if (!x->evtchn)
		return -ENODEV;
	return xenevtchn_unmask(x->evtchn, port) ? xen_evtchn_err() : 0;
}

const struct xv_platform_ops xv_platform_xen_ops = {
    .name = "xen",
    .open = xen_open,
    .close = xen_close,
    .share_pages = xen_share_pages,
    .unshare_pages = xen_unshare_pages,
    .map_grants = xen_map_grants,
    .unmap_grants = xen_unmap_grants,
    .grant_copy = xen_grant_copy,
    .map_foreign = xen_map_foreign,
    .unmap_foreign = xen_unmap_foreign,
    .evtchn_fd = xen_evtchn_fd,
    .evtchn_alloc_unbound = xen_evtchn_alloc_unbound,
    .evtchn_bind = xen_evtchn_bind,
    .evtchn_unbind = xen_evtchn_unbind,
    .evtchn_notify = xen_evtchn_notify,
    .evtchn_pending = xen_evtchn_pending,
    .evtchn_unmask = xen_evtchn_unmask,
    .store_read = xen_store_read,
    .store_write = xen_store_write,
};

int xv_xen_shared_info_gfn(struct xv_platform *p, uint16_t domid, uint64_t *gfn)
{
	struct xen_plat *x;
	xc_dominfo_t info;

	if (!p || !gfn || p->ops != &xv_platform_xen_ops)
		return -EINVAL;
	x = to_xen(p);
	if (!x->xc)
		return -EPERM;
	if (xc_domain_getinfo(x->xc, domid, 1, &info) != 1)
		return errno == EPERM || errno == EACCES ? -EPERM : -ESRCH;
	if (info.domid != domid)
		return -ESRCH;
	*gfn = info.shared_info_frame;
	return 0;
}
