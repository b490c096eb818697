/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * DOC: the simulated grant world
 *
 * A world is one shared-memory file that any number of processes attach to,
 * each as a domain (xenvirtio_ctx_open() with "sim:PATH,domid=N"). Per domain
 * it holds a grant table of v1 entries and a pool of guest frames; maps are
 * real mmap()s of the file, so processes alias the same bytes. It enforces
 * Xen's grant rules (granted domid only, read-only grants, busy bits while
 * mapped, copy within a frame, foreign maps for privileged domains only) and
 * offers deterministic fault injection for tests.
 *
 * Attaching: "sim:PATH,domid=N" takes domain N (-EBUSY while a live process
 * holds it; a dead holder is reaped first); without domid= the first free
 * domain is taken. Domain 0 is privileged and the initial domain; the guest
 * type defaults to HVM. Guest frame numbers start at 0x1000. Event channel
 * sockets live beside the world file (PATH.evtchn.N), so PATH must be short
 * enough for a unix socket name (about 100 bytes) and every process must
 * name the world by the same path (relative paths resolve against each
 * process's working directory) and contain no comma. A world on tmpfs
 * (/dev/shm) keeps its frames off the disk.
 *
 * Trust: every attached process maps the world's tables writable, so the
 * world is a test bench, not an isolation boundary. The library checks
 * every index it reads from the world, but a hostile process can disturb
 * the others' view of it. Every domain's calls take one world lock for a
 * moment: a process that dies inside it is recovered from, but one that is
 * stopped (SIGSTOP, a debugger) inside it stalls every domain until it
 * continues, as if the hypervisor had stopped.
 *
 * Processes: a context belongs to the process that opened it. After fork()
 * the child may only close an inherited context, which releases the
 * child's copy and leaves the parent's domain attached; a child that wants
 * its own domain opens a new context.
 *
 * Frontend modes: by default a domain has both the grant table (the caller
 * picks refs: grant_access) and platform-chosen refs (share_pages, which
 * takes free refs from the top of the table downwards, never in ascending
 * runs); "refs=kernel" leaves only the latter, as on Xen's gntalloc. A
 * frontend that mixes both must expect grant_access to find a ref taken
 * (-EBUSY). An exhausted frame pool is -ENOMEM, a full grant table -ENOSPC,
 * a full maptrack on the mapping side XV_GNTST_NO_SPACE (-ENOSPC).
 *
 * Grant status codes of a refused map: a ref beyond the table or an entry
 * that is not granted gives XV_GNTST_BAD_GNTREF; an entry granted to another
 * domain, or a writable map of a read-only grant, gives
 * XV_GNTST_PERMISSION_DENIED (Xen gives GNTST_general_error for the last
 * three; code should only rely on the status being negative).
 */
#ifndef XENVIRTIO_SIM_H
#define XENVIRTIO_SIM_H

#include <xenvirtio/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * xenvirtio_sim_world_create() - create a simulated grant world file
 * @path: the world file; event channel sockets are created beside it as
 *	PATH.evtchn.N
 * @max_domains: number of domains (1..1024); domids 0 .. @max_domains - 1
 * @frames_per_domain: guest frames in each domain's pool (1..1048576)
 * @grant_entries: grant table entries per domain (8..1048576; Xen's default
 *	is 32768: 64 frames of 512 v1 entries)
 *
 * Fails if @path exists.
 *
 * Return: 0; -EINVAL for out-of-range sizes; -EEXIST if @path exists;
 * other negative errno values from open/ftruncate/mmap.
 */
int xenvirtio_sim_world_create(const char *path, unsigned int max_domains,
			       unsigned int frames_per_domain,
			       unsigned int grant_entries);

/**
 * xenvirtio_sim_world_destroy() - remove a world file and its sockets
 * @path: the world file
 *
 * Processes still attached keep their mappings (the file stays alive until
 * the last one detaches) but no new process can attach.
 *
 * Return: 0; -ENOENT if @path does not exist; other negative errno values.
 */
int xenvirtio_sim_world_destroy(const char *path);

/**
 * enum xenvirtio_sim_op - operations fault injection can target
 * @XENVIRTIO_SIM_OP_MAP: grant map (backend); per-element @index
 * @XENVIRTIO_SIM_OP_COPY: grant copy (backend); per-segment @index, the
 *	other segments are still copied
 * @XENVIRTIO_SIM_OP_FOREIGN_MAP: foreign map (backend); per-frame @index
 * @XENVIRTIO_SIM_OP_GRANT_ACCESS: granting a ref (frontend): grant_access,
 *	and share_pages as a whole
 * @XENVIRTIO_SIM_OP_FRAMES_ALLOC: allocating grantable frames (frontend)
 * @XENVIRTIO_SIM_OP_NOTIFY: event channel notify
 * @XENVIRTIO_SIM_OP_COUNT: number of operations
 *
 * Errors are mapped to grant status codes for batched calls: -EAGAIN to
 * EAGAIN, -ENOSPC to NO_SPACE, -EPERM/-EACCES to PERMISSION_DENIED, -EINVAL
 * to BAD_GNTREF, -ESRCH to BAD_DOMAIN, -EFAULT to BAD_VIRT_ADDR, -E2BIG to
 * ADDRESS_TOO_BIG, anything else to GENERAL_ERROR.
 */
enum xenvirtio_sim_op {
	XENVIRTIO_SIM_OP_MAP = 0,
	XENVIRTIO_SIM_OP_COPY,
	XENVIRTIO_SIM_OP_FOREIGN_MAP,
	XENVIRTIO_SIM_OP_GRANT_ACCESS,
	XENVIRTIO_SIM_OP_FRAMES_ALLOC,
	XENVIRTIO_SIM_OP_NOTIFY,
	XENVIRTIO_SIM_OP_COUNT,
};

/**
 * xenvirtio_sim_inject_fault() - make a future operation fail
 * @ctx: a context on the simulated platform
 * @op: which operation
 * @nth: fail the @nth call of @op made by this context from now on
 *	(1 = the next one); 0 cancels the pending fault for @op
 * @err: negative errno the call returns (for a batched map or copy, the
 *	element at index @index gets the matching grant status and the call
 *	fails as a whole, undoing partial work)
 * @index: element of a batched call that fails (0 for unbatched ops)
 * @repeat: 0 to fail once, 1 to fail that call and every later one
 *
 * Faults are deterministic and belong to the context (not to the world):
 * counting starts at this call. An @index beyond a batch fails its last
 * element.
 *
 * Return: 0; -EINVAL for a bad @op, @err >= 0 (with @nth != 0), or a context
 * that is not on the simulated platform.
 */
int xenvirtio_sim_inject_fault(struct xenvirtio_ctx *ctx,
			       enum xenvirtio_sim_op op, unsigned int nth,
			       int err, unsigned int index, int repeat);

/**
 * xenvirtio_sim_reap() - release what dead processes left in the world
 * @ctx: a context on the simulated platform
 *
 * A process that dies while it maps grants leaves their busy bits set, as a
 * backend that never unmaps would on Xen. Reaping (also done when a domain
 * attaches) drops the mappings of every dead process, clearing the busy bits,
 * closes its event channel ports (their remote ends become unbound, so
 * notifying them is a no-op) and frees the domain slots of dead processes;
 * grants a dead frontend made stay in its table until a new process attaches
 * as that domain, which starts with a fresh table and frame pool (as a
 * rebooted domain would). That attach fails with -EBUSY while a live domain
 * still maps the old memory (a zombie domain). A process is dead when its
 * pid no longer exists, is a zombie, or belongs to a process started later
 * (pid reuse). A context closed normally releases its own mappings and
 * ports at once, like a dead one.
 *
 * Return: the number of mappings released (>= 0); -EINVAL for a context
 * that is not on the simulated platform; -ENOMEM.
 */
int xenvirtio_sim_reap(struct xenvirtio_ctx *ctx);

/**
 * xenvirtio_sim_store_write() - set or delete a key in the world's store
 * @ctx: a context on the simulated platform
 * @path: the key, such as "backend/virtio/5/0/grant_usage" (1..127 bytes)
 * @value: NUL-terminated value (at most 255 bytes), or NULL to delete
 *
 * The store stands in for xenstore: every domain of the world reads it (the
 * library reads facts such as libxl's grant_usage from it). It holds up to
 * 256 keys. Deleting an absent key is not an error.
 *
 * Return: 0; -EINVAL for a context not on the simulated platform, a NULL,
 * empty or too long @path or a too long @value; -ENOSPC if the store is
 * full.
 */
int xenvirtio_sim_store_write(struct xenvirtio_ctx *ctx, const char *path,
			      const char *value);

#ifdef __cplusplus
}
#endif

#endif /* XENVIRTIO_SIM_H */
