/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The simulated grant world: layout of the shared world file and the state a
 * process keeps per attached domain. Private to lib/sim_*.c and
 * lib/platform_sim.c (and white-box tests).
 *
 * The file, offsets page-aligned, all zero when created except the header:
 *
 *   header         struct xv_sim_hdr (magic written last, robust mutex)
 *   domains        struct xv_sim_dom[max_domains]
 *   grant tables   struct xv_sim_gnt[max_domains][grant_entries] (v1)
 *   active table   struct xv_sim_act[max_domains][grant_entries]: pin counts
 *                  and the frame cached at first pin, as Xen's active entry
 *   frame bitmaps  uint64_t[max_domains][frames/64]: allocated frames
 *   frame pins     uint32_t[max_domains][frames]: mappings of each frame
 *   maptrack       struct xv_sim_mt[maptrack_entries]: one per mapped page
 *   event channels struct xv_sim_port[max_domains][XV_SIM_NR_PORTS]
 *   store          struct xv_sim_kv[XV_SIM_STORE_ENTRIES]
 *   frames         4 KiB guest frames, [max_domains][frames_per_domain]
 *
 * Everything but the grant entries is changed under the world mutex. Grant
 * entries follow Xen's protocol instead: the granting domain writes them
 * without the lock (domid and frame, barrier, flags; revoke by CAS), the
 * mapping side sets the busy bits with a CAS on the flags+domid word.
 */
#ifndef XV_SIM_WORLD_H
#define XV_SIM_WORLD_H

#include "platform.h"

#include <pthread.h>
#include <sys/types.h>

#include <xenvirtio/sim.h>

#define XV_SIM_MAGIC 0x444c524f574d4953ull /* "SIMWORLD" */
#define XV_SIM_VERSION 1u
#define XV_SIM_NR_PORTS 1024u
#define XV_SIM_STORE_ENTRIES 256u
#define XV_SIM_STORE_KEY 128u
#define XV_SIM_STORE_VAL 256u
/* Guest frame numbers start here, so a frame number is never a small ref. */
#define XV_SIM_GFN_BASE 0x1000u
#define XV_SIM_NONE UINT32_MAX

struct xv_sim_hdr {
	uint64_t magic;
	uint32_t version;
	uint32_t max_domains;
	uint32_t frames_per_domain;
	uint32_t grant_entries;
	uint32_t maptrack_entries;
	uint32_t nr_ports;
	uint64_t dom_off;
	uint64_t gnttab_off;
	uint64_t act_off;
	uint64_t bitmap_off;
	uint64_t pins_off;
	uint64_t maptrack_off;
	uint64_t evtchn_off;
	uint64_t store_off;
	uint64_t meta_len; /* everything before the frames */
	uint64_t frames_off;
	uint64_t file_len;
	uint32_t mt_free; /* maptrack free list head, XV_SIM_NONE if empty */
	uint32_t mt_hw;	  /* entries at and above this were never used */
	uint32_t mt_used;
	uint32_t pad;
	pthread_mutex_t lock; /* process-shared, robust */
};

#define XV_SIM_DOM_PRIVILEGED (1u << 0)
#define XV_SIM_DOM_USED (1u << 1) /* table/frames may be dirty */

struct xv_sim_dom {
	int32_t pid;	     /* attached process, 0 if none */
	uint32_t gen;	     /* bumped at every attach */
	uint64_t start_time; /* of pid, from /proc (pid reuse guard) */
	uint32_t flags;
	uint32_t guest_type;
	uint32_t frames_hint;
	uint32_t share_hint;
};

/*
 * v1 grant entry. The first word holds u16 flags then u16 domid in Xen's
 * little-endian layout; it is only accessed as one 32-bit atomic word, so
 * the mapper's CAS and the granter's revoke see flags and domid together.
 */
struct xv_sim_gnt {
	uint32_t word; /* flags | domid << 16 */
	uint32_t frame;
};

#define XV_SIM_GNT_FLAGS(w) ((uint16_t)((w)&0xffffu))
#define XV_SIM_GNT_DOMID(w) ((uint16_t)((w) >> 16))

struct xv_sim_act {
	uint32_t pins;	/* all maps and copies in progress */
	uint32_t wpins; /* writable ones */
	uint32_t frame; /* frame index (not gfn) pinned at first pin */
	uint32_t pad;
};

enum { XV_SIM_MT_FREE = 0, XV_SIM_MT_GRANT, XV_SIM_MT_FOREIGN };

struct xv_sim_mt {
	uint32_t next_free;
	uint8_t kind;
	uint8_t writable;
	uint16_t mapper;
	uint16_t granter;
	uint16_t pad;
	uint32_t gen;	/* the mapper's attach generation */
	uint32_t ref;	/* grant ref (XV_SIM_MT_GRANT) */
	uint32_t frame; /* frame index in the granter's pool */
	uint32_t pad2;
};

enum { XV_SIM_PORT_FREE = 0, XV_SIM_PORT_UNBOUND, XV_SIM_PORT_INTERDOMAIN };

struct xv_sim_port {
	uint8_t state;
	uint8_t pending;
	uint8_t masked;
	uint8_t pad;
	uint16_t remote_dom;
	uint16_t pad2;
	uint32_t remote_port;
};

struct xv_sim_kv {
	char key[XV_SIM_STORE_KEY];
	char val[XV_SIM_STORE_VAL];
};

/* A mapping or allocation this process made, for unmap by (va, count). */
enum xv_sim_region_kind {
	XV_SIM_REG_FRAMES,  /* frames_alloc: idx[0] = first frame */
	XV_SIM_REG_SHARED,  /* share_pages: idx[i] frame, idx[count+i] ref */
	XV_SIM_REG_MAP,	    /* map_grants: idx[i] maptrack entry */
	XV_SIM_REG_FOREIGN, /* map_foreign: idx[i] maptrack entry */
};

struct xv_sim_region {
	struct xv_sim_region *next;
	void *va;
	uint32_t count;
	uint32_t cap; /* elements of idx[] allocated */
	enum xv_sim_region_kind kind;
	uint32_t idx[];
};

struct xv_sim_fault {
	bool armed;
	bool repeat;
	unsigned int countdown;
	int err;
	unsigned int index;
};

struct xv_sim {
	struct xv_platform base;
	struct xenvirtio_ctx *ctx;
	pid_t owner; /* the process that attached; a forked child only closes */
	int fd;
	char *path;
	uint8_t *meta;
	size_t meta_len;
	struct xv_sim_hdr *hdr;
	struct xv_sim_dom *doms;
	uint32_t gen;
	bool refs_kernel;
	int evfd;
	struct xv_sim_region *regions;
	struct xv_sim_fault faults[XENVIRTIO_SIM_OP_COUNT];
	uint32_t next_pending;	     /* round-robin start for pending() */
	bool lock_recovered;	     /* EOWNERDEAD seen: warn after unlock */
	struct xv_sim_region *spare; /* freed regions kept for reuse */
	unsigned int nr_spare;
};

static inline struct xv_sim *xv_sim_of(struct xv_platform *p)
{
	return (struct xv_sim *)p;
}

static inline struct xv_sim_gnt *xv_sim_gnttab(struct xv_sim *s, uint16_t d)
{
	return (struct xv_sim_gnt *)(s->meta + s->hdr->gnttab_off) +
	       (size_t)d * s->hdr->grant_entries;
}

static inline struct xv_sim_act *xv_sim_act(struct xv_sim *s, uint16_t d)
{
	return (struct xv_sim_act *)(s->meta + s->hdr->act_off) +
	       (size_t)d * s->hdr->grant_entries;
}

static inline uint64_t *xv_sim_bitmap(struct xv_sim *s, uint16_t d)
{
	return (uint64_t *)(s->meta + s->hdr->bitmap_off) +
	       (size_t)d * ((s->hdr->frames_per_domain + 63) / 64);
}

static inline uint32_t *xv_sim_pins(struct xv_sim *s, uint16_t d)
{
	return (uint32_t *)(s->meta + s->hdr->pins_off) +
	       (size_t)d * s->hdr->frames_per_domain;
}

static inline struct xv_sim_mt *xv_sim_mt(struct xv_sim *s)
{
	return (struct xv_sim_mt *)(s->meta + s->hdr->maptrack_off);
}

/* Maptrack entries ever used, bounded by the table (the world is shared). */
static inline uint32_t xv_sim_mt_hw(const struct xv_sim *s)
{
	return XV_MIN(s->hdr->mt_hw, s->hdr->maptrack_entries);
}

static inline struct xv_sim_port *xv_sim_ports(struct xv_sim *s, uint16_t d)
{
	return (struct xv_sim_port *)(s->meta + s->hdr->evtchn_off) +
	       (size_t)d * XV_SIM_NR_PORTS;
}

static inline struct xv_sim_kv *xv_sim_store(struct xv_sim *s)
{
	return (struct xv_sim_kv *)(s->meta + s->hdr->store_off);
}

/* File offset of frame @idx of domain @d. */
static inline off_t xv_sim_frame_off(struct xv_sim *s, uint16_t d, uint32_t idx)
{
	return (off_t)(s->hdr->frames_off +
		       ((uint64_t)d * s->hdr->frames_per_domain + idx) *
			   XV_PAGE_SIZE);
}

/* sim_world.c */
int xv_sim_attach(struct xenvirtio_ctx *ctx, const char *args,
		  struct xv_platform **out);
void xv_sim_detach(struct xv_sim *s);
void xv_sim_lock(struct xv_sim *s);
void xv_sim_unlock(struct xv_sim *s);
struct xv_sim *xv_sim_from_ctx(struct xenvirtio_ctx *ctx);
/* Consume one call of @op: 0, or the injected error (*index set). */
int xv_sim_fault_hit(struct xv_sim *s, enum xenvirtio_sim_op op,
		     unsigned int *index);
int16_t xv_sim_errno_to_gntst(int err);
/* Allocate a maptrack entry and pin the frame it maps (world lock held):
 * the entry index, XV_SIM_NONE if the table is full. */
uint32_t xv_sim_mt_take(struct xv_sim *s, uint8_t kind, uint16_t granter,
			uint32_t ref, uint32_t frame, bool writable);
/* Drop a grant pin: pin counts and busy bits (world lock held). */
void xv_sim_unpin(struct xv_sim *s, uint16_t granter, uint32_t ref,
		  bool writable);
/* Release maptrack entry @i and what it pins (world lock held). */
void xv_sim_mt_release(struct xv_sim *s, uint32_t i);
int xv_sim_store_read(struct xv_platform *p, const char *path, char *buf,
		      size_t len);
int xv_sim_store_write(struct xv_platform *p, const char *path,
		       const char *value);

/* platform_sim.c: regions this process holds, released at detach. */
void xv_sim_region_release_all(struct xv_sim *s);
/* Forget them without touching the world (an inherited context). */
void xv_sim_region_release_local(struct xv_sim *s);

/* sim_evtchn.c */
int xv_sim_evtchn_open(struct xv_sim *s);
void xv_sim_evtchn_close(struct xv_sim *s);
/* Close every port of domain @d (world lock held); remotes see it closed. */
void xv_sim_ports_close_all(struct xv_sim *s, uint16_t d);
int xv_sim_evtchn_path(const char *world, unsigned int domid, char *buf,
		       size_t len);
int xv_sim_evtchn_fd(struct xv_platform *p);
int xv_sim_evtchn_alloc_unbound(struct xv_platform *p, uint16_t remote);
int xv_sim_evtchn_bind(struct xv_platform *p, uint16_t remote,
		       uint32_t remote_port);
int xv_sim_evtchn_unbind(struct xv_platform *p, uint32_t port);
int xv_sim_evtchn_notify(struct xv_platform *p, uint32_t port);
int xv_sim_evtchn_pending(struct xv_platform *p);
int xv_sim_evtchn_unmask(struct xv_platform *p, uint32_t port);

/*
 * White-box view for tests: the grant entry @ref of domain @domid as stored
 * in the world. Return: 0, -EINVAL.
 */
int xv_sim_grant_entry(struct xenvirtio_ctx *ctx, uint16_t domid, uint32_t ref,
		       uint16_t *flags, uint16_t *gdomid, uint32_t *frame);

#endif /* XV_SIM_WORLD_H */
