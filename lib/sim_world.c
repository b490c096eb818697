/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The simulated grant world: the world file, attaching a process as a
 * domain, the world lock, reaping what dead processes left behind, the
 * store, and fault injection. The grant operations are in platform_sim.c,
 * event channels in sim_evtchn.c.
 */
#include "platform.h"
#include "sim_world.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static uint64_t xv_sim_align(uint64_t v)
{
	return (v + XV_PAGE_SIZE - 1) & ~(uint64_t)XV_PAGE_MASK;
}

/* Compute every offset of a world of the given sizes into @h. */
static void xv_sim_layout(struct xv_sim_hdr *h, uint32_t doms, uint32_t frames,
			  uint32_t entries)
{
	uint64_t off = xv_sim_align(sizeof(*h));
	uint64_t mt;

	h->max_domains = doms;
	h->frames_per_domain = frames;
	h->grant_entries = entries;
	/* Mapping-side table: as Xen's 1024 maptrack frames, per domain. */
	mt = (uint64_t)doms * 4096;
	h->maptrack_entries = (uint32_t)XV_MIN(mt, 1u << 20);
	h->nr_ports = XV_SIM_NR_PORTS;
	h->dom_off = off;
	off = xv_sim_align(off + (uint64_t)doms * sizeof(struct xv_sim_dom));
	h->gnttab_off = off;
	off = xv_sim_align(off + (uint64_t)doms * entries *
				     sizeof(struct xv_sim_gnt));
	h->act_off = off;
	off = xv_sim_align(off + (uint64_t)doms * entries *
				     sizeof(struct xv_sim_act));
	h->bitmap_off = off;
	off = xv_sim_align(off + (uint64_t)doms * ((frames + 63) / 64) * 8);
	h->pins_off = off;
	off = xv_sim_align(off + (uint64_t)doms * frames * 4);
	h->maptrack_off = off;
	off = xv_sim_align(off + (uint64_t)h->maptrack_entries *
				     sizeof(struct xv_sim_mt));
	h->evtchn_off = off;
	off = xv_sim_align(off + (uint64_t)doms * XV_SIM_NR_PORTS *
				     sizeof(struct xv_sim_port));
	h->store_off = off;
	off = xv_sim_align(off + (uint64_t)XV_SIM_STORE_ENTRIES *
				     sizeof(struct xv_sim_kv));
	h->meta_len = off;
	h->frames_off = off;
	h->file_len = off + (uint64_t)doms * frames * XV_PAGE_SIZE;
}

XV_EXPORT int xenvirtio_sim_world_create(const char *path,
					 unsigned int max_domains,
					 unsigned int frames_per_domain,
					 unsigned int grant_entries)
{
	struct xv_sim_hdr layout, *h;
	pthread_mutexattr_t ma;
	int fd, r;

	if (!path || !*path || max_domains < 1 || max_domains > 1024 ||
	    frames_per_domain < 1 || frames_per_domain > (1u << 20) ||
	    grant_entries < XV_GNTTAB_RESERVED || grant_entries > (1u << 20))
		return -EINVAL;
	memset(&layout, 0, sizeof(layout));
	xv_sim_layout(&layout, max_domains, frames_per_domain, grant_entries);

	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)layout.file_len) < 0) {
		r = -errno;
		goto err_unlink;
	}
	h = mmap(NULL, xv_sim_align(sizeof(*h)), PROT_READ | PROT_WRITE,
		 MAP_SHARED, fd, 0);
	if (h == MAP_FAILED) {
		r = -errno;
		goto err_unlink;
	}
	memcpy(h, &layout, sizeof(*h));
	h->version = XV_SIM_VERSION;
	h->mt_free = XV_SIM_NONE;
	r = -pthread_mutexattr_init(&ma);
	if (!r)
		r = -pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
	if (!r)
		r = -pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST);
	if (!r)
		r = -pthread_mutex_init(&h->lock, &ma);
	pthread_mutexattr_destroy(&ma);
	if (r) {
		munmap(h, xv_sim_align(sizeof(*h)));
		goto err_unlink;
	}
	/* Attachers check the magic last: publish it after everything. */
	__atomic_store_n(&h->magic, XV_SIM_MAGIC, __ATOMIC_RELEASE);
	munmap(h, xv_sim_align(sizeof(*h)));
	close(fd);
	return 0;

err_unlink:
	unlink(path);
	close(fd);
	return r;
}

XV_EXPORT int xenvirtio_sim_world_destroy(const char *path)
{
	struct xv_sim_hdr h;
	unsigned int max = 1024, d;
	char sock[256];
	ssize_t n;
	int fd;

	if (!path || !*path)
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = pread(fd, &h, sizeof(h), 0);
	close(fd);
	if (n == (ssize_t)sizeof(h) && h.magic == XV_SIM_MAGIC &&
	    h.max_domains >= 1 && h.max_domains <= 1024)
		max = h.max_domains;
	if (unlink(path) < 0)
		return -errno;
	for (d = 0; d < max; d++)
		if (xv_sim_evtchn_path(path, d, sock, sizeof(sock)) == 0)
			unlink(sock);
	return 0;
}

void xv_sim_lock(struct xv_sim *s)
{
	int r = pthread_mutex_lock(&s->hdr->lock);

	if (r == EOWNERDEAD) {
		/* A process died inside the lock; its half-done update is
		 * not repaired, but the world stays usable. */
		pthread_mutex_consistent(&s->hdr->lock);
		s->lock_recovered = true;
	}
}

void xv_sim_unlock(struct xv_sim *s)
{
	pthread_mutex_unlock(&s->hdr->lock);
	if (xv_unlikely(s->lock_recovered)) {
		s->lock_recovered = false;
		xv_warn(s->ctx, "sim: a process died holding the world lock");
	}
}

/* State and start time of @pid from /proc, -ENOENT if it does not exist. */
static int xv_sim_proc_stat(pid_t pid, char *state, uint64_t *start)
{
	char path[64], buf[1024], *p;
	unsigned long long st = 0;
	ssize_t n;
	int fd, field;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -ENOENT;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -ENOENT;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ')
		return -EIO;
	p += 2;
	*state = *p;
	/* Field 3 is the state; the start time is field 22. */
	for (field = 3; field < 22 && p; field++) {
		p = strchr(p, ' ');
		if (p)
			p++;
	}
	if (p)
		st = strtoull(p, NULL, 10);
	*start = st;
	return 0;
}

/* Whether the process recorded in @d is still the live holder. */
static bool xv_sim_dom_alive(const struct xv_sim_dom *d)
{
	uint64_t start;
	char state;

	if (d->pid <= 0)
		return false;
	if (kill(d->pid, 0) < 0 && errno == ESRCH)
		return false;
	if (xv_sim_proc_stat(d->pid, &state, &start) < 0)
		return kill(d->pid, 0) == 0 || errno == EPERM;
	return state != 'Z' && state != 'X' && start == d->start_time;
}

static uint32_t xv_sim_mt_alloc(struct xv_sim *s)
{
	struct xv_sim_hdr *h = s->hdr;
	struct xv_sim_mt *mt = xv_sim_mt(s);
	uint32_t i;

	if (h->mt_free != XV_SIM_NONE && h->mt_free < xv_sim_mt_hw(s) &&
	    mt[h->mt_free].kind == XV_SIM_MT_FREE) {
		i = h->mt_free;
		h->mt_free = mt[i].next_free;
	} else if (h->mt_free != XV_SIM_NONE) {
		/* A corrupt free list: forget it, leaking its entries. */
		h->mt_free = XV_SIM_NONE;
		return xv_sim_mt_alloc(s);
	} else if (h->mt_hw < h->maptrack_entries) {
		i = h->mt_hw++;
	} else {
		return XV_SIM_NONE;
	}
	h->mt_used++;
	return i;
}

void xv_sim_unpin(struct xv_sim *s, uint16_t granter, uint32_t ref,
		  bool writable)
{
	struct xv_sim_act *a = &xv_sim_act(s, granter)[ref];
	struct xv_sim_gnt *g = &xv_sim_gnttab(s, granter)[ref];

	if (writable && a->wpins && !--a->wpins)
		__atomic_fetch_and(&g->word, ~(uint32_t)XV_GTF_writing,
				   __ATOMIC_SEQ_CST);
	if (a->pins && !--a->pins)
		__atomic_fetch_and(&g->word, ~(uint32_t)XV_GTF_reading,
				   __ATOMIC_SEQ_CST);
}

void xv_sim_mt_release(struct xv_sim *s, uint32_t i)
{
	struct xv_sim_hdr *h = s->hdr;
	struct xv_sim_mt *e;

	if (i >= xv_sim_mt_hw(s))
		return;
	e = &xv_sim_mt(s)[i];
	if (e->kind == XV_SIM_MT_FREE)
		return;
	/* Every process can write the world: index with checked values. */
	if (e->granter < h->max_domains) {
		if (e->kind == XV_SIM_MT_GRANT && e->ref < h->grant_entries)
			xv_sim_unpin(s, e->granter, e->ref, e->writable);
		if (e->frame < h->frames_per_domain) {
			uint32_t *pins = &xv_sim_pins(s, e->granter)[e->frame];

			if (*pins)
				(*pins)--;
		}
	}
	if (h->mt_used)
		h->mt_used--;
	memset(e, 0, sizeof(*e));
	e->next_free = h->mt_free;
	h->mt_free = i;
}

uint32_t xv_sim_mt_take(struct xv_sim *s, uint8_t kind, uint16_t granter,
			uint32_t ref, uint32_t frame, bool writable)
{
	uint32_t i = xv_sim_mt_alloc(s);
	struct xv_sim_mt *e;

	if (i == XV_SIM_NONE)
		return i;
	e = &xv_sim_mt(s)[i];
	e->kind = kind;
	e->writable = writable;
	e->mapper = s->base.domid;
	e->granter = granter;
	e->gen = s->gen;
	e->ref = ref;
	e->frame = frame;
	xv_sim_pins(s, granter)[frame]++;
	return i;
}

/*
 * Release everything dead processes left (world lock held): their
 * mappings, their ports and their domain slots. Return: mappings released.
 */
static int xv_sim_reap_locked(struct xv_sim *s)
{
	struct xv_sim_hdr *h = s->hdr;
	struct xv_sim_mt *mt = xv_sim_mt(s);
	bool dead_any = false;
	uint8_t *dead;
	uint32_t d, i;
	int n = 0;

	dead = calloc(h->max_domains, 1);
	if (!dead)
		return -ENOMEM;
	for (d = 0; d < h->max_domains; d++) {
		struct xv_sim_dom *dom = &s->doms[d];

		if (dom->pid > 0 && !xv_sim_dom_alive(dom)) {
			dead[d] = 1;
			dead_any = true;
		}
	}
	for (i = 0; i < xv_sim_mt_hw(s); i++) {
		struct xv_sim_mt *e = &mt[i];

		if (e->kind == XV_SIM_MT_FREE || e->mapper >= h->max_domains)
			continue;
		if (dead[e->mapper] || s->doms[e->mapper].pid <= 0 ||
		    s->doms[e->mapper].gen != e->gen) {
			xv_sim_mt_release(s, i);
			n++;
		}
	}
	if (dead_any) {
		for (d = 0; d < h->max_domains; d++) {
			if (!dead[d])
				continue;
			xv_sim_ports_close_all(s, (uint16_t)d);
			s->doms[d].pid = 0;
		}
	}
	free(dead);
	return n;
}

XV_EXPORT int xenvirtio_sim_reap(struct xenvirtio_ctx *ctx)
{
	struct xv_sim *s = xv_sim_from_ctx(ctx);
	int n;

	if (!s)
		return -EINVAL;
	xv_sim_lock(s);
	n = xv_sim_reap_locked(s);
	xv_sim_unlock(s);
	if (n > 0)
		xv_info(ctx, "sim: reaped %d mappings of dead processes", n);
	return n;
}

struct xv_sim *xv_sim_from_ctx(struct xenvirtio_ctx *ctx)
{
	struct xv_platform *p = xv_plat(ctx);

	if (!p || p->ops != &xv_platform_sim_ops)
		return NULL;
	return xv_sim_of(p);
}

struct xv_sim_args {
	char *path;
	int domid; /* -1: first free */
	bool privileged;
	bool refs_kernel;
	enum xenvirtio_guest_type guest;
};

static int xv_sim_parse(struct xenvirtio_ctx *ctx, const char *args,
			struct xv_sim_args *a)
{
	char *copy, *tok, *save = NULL;
	int r = 0;

	a->domid = -1;
	a->privileged = false;
	a->refs_kernel = false;
	a->guest = XENVIRTIO_GUEST_HVM;
	a->path = NULL;
	copy = strdup(args ? args : "");
	if (!copy)
		return -ENOMEM;
	tok = strtok_r(copy, ",", &save);
	if (!tok || !*tok || args[0] == ',') {
		xv_err(ctx, "sim: spec needs a world path: 'sim:PATH[,...]'");
		r = -EINVAL;
		goto out;
	}
	a->path = strdup(tok);
	if (!a->path) {
		r = -ENOMEM;
		goto out;
	}
	while ((tok = strtok_r(NULL, ",", &save))) {
		if (!strncmp(tok, "domid=", 6)) {
			char *end;
			unsigned long v;

			errno = 0;
			v = strtoul(tok + 6, &end, 10);
			if (errno || end == tok + 6 || *end || v > 1023) {
				xv_err(ctx, "sim: bad domid in '%s'", tok);
				r = -EINVAL;
				goto out;
			}
			a->domid = (int)v;
		} else if (!strcmp(tok, "privileged")) {
			a->privileged = true;
		} else if (!strcmp(tok, "refs=kernel")) {
			a->refs_kernel = true;
		} else if (!strcmp(tok, "guest=pv")) {
			a->guest = XENVIRTIO_GUEST_PV;
		} else if (!strcmp(tok, "guest=hvm")) {
			a->guest = XENVIRTIO_GUEST_HVM;
		} else if (!strcmp(tok, "guest=pvh")) {
			a->guest = XENVIRTIO_GUEST_PVH;
		} else if (!strcmp(tok, "guest=arm")) {
			a->guest = XENVIRTIO_GUEST_ARM;
		} else {
			xv_err(ctx, "sim: unknown option '%s'", tok);
			r = -EINVAL;
			goto out;
		}
	}
out:
	free(copy);
	if (r < 0) {
		free(a->path);
		a->path = NULL;
	}
	return r;
}

/* Whether a mapping of domain @d's grants or frames is still live. */
static bool xv_sim_dom_mapped(struct xv_sim *s, uint16_t d)
{
	struct xv_sim_mt *mt = xv_sim_mt(s);
	uint32_t i;

	for (i = 0; i < xv_sim_mt_hw(s); i++)
		if (mt[i].kind != XV_SIM_MT_FREE && mt[i].granter == d)
			return true;
	return false;
}

/* A fresh domain: empty grant table, no frames, no pins. */
static void xv_sim_dom_reset(struct xv_sim *s, uint16_t d)
{
	struct xv_sim_hdr *h = s->hdr;

	memset(xv_sim_gnttab(s, d), 0,
	       (size_t)h->grant_entries * sizeof(struct xv_sim_gnt));
	memset(xv_sim_act(s, d), 0,
	       (size_t)h->grant_entries * sizeof(struct xv_sim_act));
	memset(xv_sim_bitmap(s, d), 0,
	       (size_t)((h->frames_per_domain + 63) / 64) * 8);
	memset(xv_sim_pins(s, d), 0, (size_t)h->frames_per_domain * 4);
	memset(xv_sim_ports(s, d), 0,
	       (size_t)XV_SIM_NR_PORTS * sizeof(struct xv_sim_port));
	s->doms[d].frames_hint = 0;
	s->doms[d].share_hint = 0;
}

static int xv_sim_map_world(struct xv_sim *s)
{
	struct xv_sim_hdr h;
	struct stat st;
	ssize_t n;

	n = pread(s->fd, &h, sizeof(h), 0);
	if (n < 0)
		return -errno;
	if (n != (ssize_t)sizeof(h) || h.magic != XV_SIM_MAGIC ||
	    h.version != XV_SIM_VERSION || fstat(s->fd, &st) < 0) {
		xv_err(s->ctx, "sim: '%s' is not a world file", s->path);
		return -EBADMSG;
	}
	{
		struct xv_sim_hdr want;

		memset(&want, 0, sizeof(want));
		if (h.max_domains < 1 || h.max_domains > 1024 ||
		    h.frames_per_domain < 1 ||
		    h.frames_per_domain > (1u << 20) ||
		    h.grant_entries < XV_GNTTAB_RESERVED ||
		    h.grant_entries > (1u << 20)) {
			xv_err(s->ctx, "sim: '%s' has bad sizes", s->path);
			return -EBADMSG;
		}
		xv_sim_layout(&want, h.max_domains, h.frames_per_domain,
			      h.grant_entries);
		if (want.meta_len != h.meta_len ||
		    want.file_len != h.file_len ||
		    want.maptrack_entries != h.maptrack_entries ||
		    want.nr_ports != h.nr_ports || want.dom_off != h.dom_off ||
		    want.gnttab_off != h.gnttab_off ||
		    want.act_off != h.act_off ||
		    want.bitmap_off != h.bitmap_off ||
		    want.pins_off != h.pins_off ||
		    want.maptrack_off != h.maptrack_off ||
		    want.evtchn_off != h.evtchn_off ||
		    want.store_off != h.store_off ||
		    want.frames_off != h.frames_off ||
		    (uint64_t)st.st_size < h.file_len) {
			xv_err(s->ctx, "sim: '%s' has a bad layout", s->path);
			return -EBADMSG;
		}
	}
	s->meta_len = h.meta_len;
	s->meta = mmap(NULL, s->meta_len, PROT_READ | PROT_WRITE, MAP_SHARED,
		       s->fd, 0);
	if (s->meta == MAP_FAILED) {
		s->meta = NULL;
		return -errno;
	}
	s->hdr = (struct xv_sim_hdr *)s->meta;
	s->doms = (struct xv_sim_dom *)(s->meta + s->hdr->dom_off);
	return 0;
}

int xv_sim_attach(struct xenvirtio_ctx *ctx, const char *args,
		  struct xv_platform **out)
{
	struct xv_sim_args a;
	struct xv_sim *s;
	struct xv_sim_dom *dom;
	uint64_t start = 0;
	char state, why[160] = "";
	uint32_t d;
	int r;

	r = xv_sim_parse(ctx, args, &a);
	if (r < 0)
		return r;
	s = calloc(1, sizeof(*s));
	if (!s) {
		free(a.path);
		return -ENOMEM;
	}
	s->ctx = ctx;
	s->owner = getpid();
	s->path = a.path;
	s->evfd = -1;
	s->fd = open(s->path, O_RDWR | O_CLOEXEC);
	if (s->fd < 0) {
		r = -errno;
		xv_err(ctx, "sim: cannot open world '%s': %s", s->path,
		       xenvirtio_strerror(r));
		goto err_free;
	}
	r = xv_sim_map_world(s);
	if (r < 0)
		goto err_close;
	if (a.domid >= 0 && (uint32_t)a.domid >= s->hdr->max_domains) {
		xv_err(ctx, "sim: domid %d beyond the world's %u domains",
		       a.domid, s->hdr->max_domains);
		r = -EINVAL;
		goto err_unmap;
	}
	xv_sim_proc_stat(getpid(), &state, &start);

	xv_sim_lock(s);
	r = xv_sim_reap_locked(s);
	if (r < 0)
		goto err_unlock;
	if (a.domid >= 0) {
		d = (uint32_t)a.domid;
		if (s->doms[d].pid > 0) {
			snprintf(why, sizeof(why),
				 "domain %u is attached by process %d", d,
				 (int)s->doms[d].pid);
			r = -EBUSY;
			goto err_unlock;
		}
	} else {
		for (d = 0; d < s->hdr->max_domains; d++)
			if (s->doms[d].pid <= 0 && !xv_sim_dom_mapped(s, d))
				break;
		if (d == s->hdr->max_domains) {
			snprintf(why, sizeof(why), "no free domain");
			r = -ENOSPC;
			goto err_unlock;
		}
	}
	if (xv_sim_dom_mapped(s, (uint16_t)d)) {
		/* A zombie: a live process still maps its memory. */
		snprintf(why, sizeof(why),
			 "domain %u's memory is still mapped by another "
			 "domain",
			 d);
		r = -EBUSY;
		goto err_unlock;
	}
	dom = &s->doms[d];
	if (dom->flags & XV_SIM_DOM_USED)
		xv_sim_dom_reset(s, (uint16_t)d);
	dom->pid = (int32_t)getpid();
	dom->start_time = start;
	dom->gen++;
	dom->flags = XV_SIM_DOM_USED |
		     (a.privileged || d == 0 ? XV_SIM_DOM_PRIVILEGED : 0);
	dom->guest_type = a.guest;
	s->gen = dom->gen;
	xv_sim_unlock(s);

	s->base.domid = (uint16_t)d;
	s->base.privileged = a.privileged || d == 0;
	s->base.initial_domain = d == 0;
	s->base.guest_type = a.guest;
	s->base.nr_grant_entries = s->hdr->grant_entries;
	s->base.nr_map_entries = s->hdr->maptrack_entries;
	s->refs_kernel = a.refs_kernel;
	s->base.caps =
	    XV_CAP_SHARE_PAGES | XV_CAP_MAP | XV_CAP_COPY | XV_CAP_EVTCHN;
	if (!a.refs_kernel)
		s->base.caps |= XV_CAP_GRANT_TABLE;
	if (s->base.privileged)
		s->base.caps |= XV_CAP_FOREIGN;

	r = xv_sim_evtchn_open(s);
	if (r < 0) {
		xv_sim_lock(s);
		dom->pid = 0;
		xv_sim_unlock(s);
		goto err_unmap;
	}
	xv_dbg(ctx, "sim: attached to '%s' as domain %u", s->path, d);
	*out = &s->base;
	return 0;

err_unlock:
	xv_sim_unlock(s);
	/* Logged without the world lock held. */
	if (why[0])
		xv_err(ctx, "sim: cannot attach to '%s': %s", s->path, why);
err_unmap:
	munmap(s->meta, s->meta_len);
err_close:
	close(s->fd);
err_free:
	free(s->path);
	free(s);
	return r;
}

void xv_sim_detach(struct xv_sim *s)
{
	struct xv_sim_dom *dom = &s->doms[s->base.domid];

	if (s->owner != getpid()) {
		/* Closing an inherited context after fork(): the world and
		 * the attaching process are left alone. */
		xv_sim_region_release_local(s);
		if (s->evfd >= 0)
			close(s->evfd);
		goto out;
	}
	xv_sim_region_release_all(s);
	xv_sim_lock(s);
	if (dom->pid == (int32_t)getpid() && dom->gen == s->gen) {
		xv_sim_ports_close_all(s, s->base.domid);
		/* Before the slot is free, so a new holder's socket stays. */
		xv_sim_evtchn_close(s);
		dom->pid = 0;
	}
	xv_sim_unlock(s);
	xv_sim_evtchn_close(s);
out:
	munmap(s->meta, s->meta_len);
	close(s->fd);
	free(s->path);
	free(s);
}

int16_t xv_sim_errno_to_gntst(int err)
{
	switch (err) {
	case -ESRCH:
		return XV_GNTST_BAD_DOMAIN;
	case -EINVAL:
		return XV_GNTST_BAD_GNTREF;
	case -EFAULT:
		return XV_GNTST_BAD_VIRT_ADDR;
	case -ENOSPC:
		return XV_GNTST_NO_SPACE;
	case -EPERM:
	case -EACCES:
		return XV_GNTST_PERMISSION_DENIED;
	case -E2BIG:
		return XV_GNTST_ADDRESS_TOO_BIG;
	case -EAGAIN:
		return XV_GNTST_EAGAIN;
	default:
		return XV_GNTST_GENERAL_ERROR;
	}
}

int xv_sim_fault_hit(struct xv_sim *s, enum xenvirtio_sim_op op,
		     unsigned int *index)
{
	struct xv_sim_fault *f = &s->faults[op];

	if (!f->armed)
		return 0;
	if (f->countdown > 1) {
		f->countdown--;
		return 0;
	}
	if (!f->repeat)
		f->armed = false;
	if (index)
		*index = f->index;
	return f->err;
}

XV_EXPORT int xenvirtio_sim_inject_fault(struct xenvirtio_ctx *ctx,
					 enum xenvirtio_sim_op op,
					 unsigned int nth, int err,
					 unsigned int index, int repeat)
{
	struct xv_sim *s = xv_sim_from_ctx(ctx);
	struct xv_sim_fault *f;

	if (!s || (unsigned int)op >= XENVIRTIO_SIM_OP_COUNT ||
	    (nth && err >= 0))
		return -EINVAL;
	f = &s->faults[op];
	if (!nth) {
		memset(f, 0, sizeof(*f));
		return 0;
	}
	f->armed = true;
	f->countdown = nth;
	f->err = err;
	f->index = index;
	f->repeat = repeat != 0;
	return 0;
}

int xv_sim_store_read(struct xv_platform *p, const char *path, char *buf,
		      size_t len)
{
	struct xv_sim *s = xv_sim_of(p);
	struct xv_sim_kv *kv = xv_sim_store(s);
	uint32_t i;
	int r = -ENOENT;

	if (!path || !buf || !len)
		return -EINVAL;
	xv_sim_lock(s);
	for (i = 0; i < XV_SIM_STORE_ENTRIES; i++) {
		size_t n;

		if (!kv[i].key[0] || strncmp(kv[i].key, path, XV_SIM_STORE_KEY))
			continue;
		n = strnlen(kv[i].val, XV_SIM_STORE_VAL - 1);
		if (n >= len) {
			r = -ERANGE;
		} else {
			memcpy(buf, kv[i].val, n);
			buf[n] = '\0';
			r = 0;
		}
		break;
	}
	xv_sim_unlock(s);
	return r;
}

XV_EXPORT int xenvirtio_sim_store_write(struct xenvirtio_ctx *ctx,
					const char *path, const char *value)
{
	struct xv_sim *s = xv_sim_from_ctx(ctx);

	return s ? xv_sim_store_write(&s->base, path, value) : -EINVAL;
}

int xv_sim_store_write(struct xv_platform *p, const char *path,
		       const char *value)
{
	struct xv_sim *s = xv_sim_of(p);
	struct xv_sim_kv *kv;
	uint32_t i, slot = XV_SIM_NONE;
	int r = 0;

	if (!path || !*path || strlen(path) >= XV_SIM_STORE_KEY ||
	    (value && strlen(value) >= XV_SIM_STORE_VAL))
		return -EINVAL;
	kv = xv_sim_store(s);
	xv_sim_lock(s);
	for (i = 0; i < XV_SIM_STORE_ENTRIES; i++) {
		if (kv[i].key[0] && !strcmp(kv[i].key, path)) {
			slot = i;
			break;
		}
		if (!kv[i].key[0] && slot == XV_SIM_NONE)
			slot = i;
	}
	if (value) {
		if (slot == XV_SIM_NONE) {
			r = -ENOSPC;
		} else {
			strcpy(kv[slot].key, path);
			strcpy(kv[slot].val, value);
		}
	} else if (slot != XV_SIM_NONE && !strcmp(kv[slot].key, path)) {
		memset(&kv[slot], 0, sizeof(kv[slot]));
	}
	xv_sim_unlock(s);
	return r;
}

int xv_sim_grant_entry(struct xenvirtio_ctx *ctx, uint16_t domid, uint32_t ref,
		       uint16_t *flags, uint16_t *gdomid, uint32_t *frame)
{
	struct xv_sim *s = xv_sim_from_ctx(ctx);
	struct xv_sim_gnt *g;
	uint32_t w;

	if (!s || domid >= s->hdr->max_domains || ref >= s->hdr->grant_entries)
		return -EINVAL;
	g = &xv_sim_gnttab(s, domid)[ref];
	w = __atomic_load_n(&g->word, __ATOMIC_ACQUIRE);
	if (flags)
		*flags = XV_SIM_GNT_FLAGS(w);
	if (gdomid)
		*gdomid = XV_SIM_GNT_DOMID(w);
	if (frame)
		*frame = __atomic_load_n(&g->frame, __ATOMIC_RELAXED);
	return 0;
}
