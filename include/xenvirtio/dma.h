/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * DOC: frontend grant DMA
 *
 * The frontend (driver) side of grant DMA: a DMA handle per device, bound
 * to the backend domain, turns buffers into grant DMA addresses (see
 * <xenvirtio/addr.h>) and allocates coherent memory for rings.
 *
 * Grants are read-only for XENVIRTIO_DMA_TO_DEVICE and read-write for the
 * other directions and for coherent memory (SPEC-NOTES §1).
 *
 * Platforms that let the library write its own grant table (the simulated
 * world, Xen with a grant table mapping) give every mapping ONE segment
 * addressed through consecutive refs (check F4). Memory the platform cannot
 * grant in place (anything that is not platform frames, e.g. malloc() or
 * stack memory) and 4 KiB frames the buffer covers only partly, which may
 * hold unrelated data (check F2), are bounced through zeroed granted frames
 * kept at the same in-frame offset; whole platform frames (e.g. carved out of
 * coherent memory) are granted in place.
 *
 * Platforms on which the platform picks the refs (Xen's gntalloc, the
 * simulated world with "refs=kernel") cannot promise consecutive refs: a
 * mapping there is split at 4 KiB frames, one segment per frame, and always
 * bounced (such platforms grant only pages they allocate). A coherent
 * allocation of more than one frame there succeeds only when the platform
 * returns consecutive refs; otherwise it fails with -EOPNOTSUPP.
 *
 * Bounce frames are zeroed before they are granted, so no byte of an
 * unrelated or uninitialised buffer reaches the backend (F1, F5). Copy-in
 * happens at map time for TO_DEVICE and BIDIRECTIONAL, copy-back at unmap
 * time for FROM_DEVICE and BIDIRECTIONAL, after the grant was revoked.
 *
 * Revocation: if the backend still maps a grant at unmap or free time, the
 * frame can never be reused safely: the library leaks it (the ref stays
 * granted, a bounce frame leaves the pool forever), marks the handle broken
 * (one log line) and returns -EIO (F3). On a broken handle map and
 * alloc_coherent return -EIO; unmap, free_coherent and close still revoke
 * and release what they can, so the caller can tear the device down. A new
 * handle (close, open) is the reset.
 *
 * On real Xen with Linux's gntalloc the kernel, not the library, ends a
 * shared page's grant: unsharing a page the backend still maps succeeds, and
 * the kernel keeps the page (never reusing it) until the backend unmaps.
 * The page is still never reused, but the library cannot tell, so the handle
 * is not marked broken there.
 *
 * Exhaustion of refs or bounce frames is backpressure: -ENOSPC, retry after
 * an unmap (F7). Map and unmap allocate nothing on the heap.
 *
 * The bounce pool: xenvirtio_dma_open_ex() sets its size (default 64
 * frames, at most %XENVIRTIO_DMA_BOUNCE_MAX); xenvirtio_dma_open() uses the
 * default. A mapping needing more bounce frames than the pool holds fails
 * with -E2BIG; a pool that is merely in use is -ENOSPC (F7).
 *
 * No-grant mode (%XENVIRTIO_DMA_F_NO_GRANTS): for a device whose backend
 * maps the frontend's memory by guest frame number (a privileged backend
 * with foreign mapping; policy decided "no grants"). DMA addresses are then
 * guest-physical, ``gfn << 12 | offset`` with bit 63 clear, for the frame
 * numbers the platform's frame lookup reports; nothing is granted or
 * revoked. Which bytes reach the device is decided exactly as in grant
 * mode: whole platform frames are addressed in place, memory that is not
 * platform frames and frames the buffer covers only partly are bounced
 * through the pool's zeroed frames at the same in-frame offset (F1, F2: no
 * unrelated byte is ever addressed). A mapping is one segment per run of
 * consecutive frame numbers: in place frames keep their own numbers, and
 * the bounced frames of one mapping are one run of consecutive pool frames
 * (so a buffer that is bounced whole is one segment; a buffer mixing bounced
 * and in-place frames may be several). The number of segments is fixed by
 * the buffer: -E2BIG for too small a @max_segs is permanent. Up to 32768
 * mappings and coherent allocations may be live per handle (more is
 * -ENOSPC). The pool and every coherent allocation must be consecutive
 * frame numbers (true of the simulated platform's frames); a platform that
 * gives otherwise fails with -EOPNOTSUPP. Platforms without a frame lookup
 * (Xen's gntalloc path) refuse the mode at open with -EOPNOTSUPP. Since the
 * backend can map any frame of the guest at any time, nothing can be
 * revoked and F3 does not apply to mappings: unmap copies bounced data back
 * and returns the bounce frames; it never returns -EIO. Freeing coherent
 * memory the platform refuses to free (the simulated platform refuses while
 * the backend still maps a frame) leaks it and breaks the handle (-EIO).
 *
 * Context: one handle is used by one thread at a time; handles of one
 * context may be used concurrently (they share the context's grant table,
 * which is locked internally). Errors are logged through the context's log
 * callback only when the backend misbehaves (broken handle) or a platform
 * call fails unexpectedly; caller misuse returns -EINVAL silently.
 */
#ifndef XENVIRTIO_DMA_H
#define XENVIRTIO_DMA_H

#include <xenvirtio/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * enum xenvirtio_dma_dir - direction of a DMA mapping
 * @XENVIRTIO_DMA_TO_DEVICE: the device reads the buffer (read-only grant)
 * @XENVIRTIO_DMA_FROM_DEVICE: the device writes the buffer (read-write grant)
 * @XENVIRTIO_DMA_BIDIRECTIONAL: both (read-write grant)
 */
enum xenvirtio_dma_dir {
	XENVIRTIO_DMA_TO_DEVICE = 1,
	XENVIRTIO_DMA_FROM_DEVICE = 2,
	XENVIRTIO_DMA_BIDIRECTIONAL = 3,
};

/**
 * struct xenvirtio_dma_seg - one DMA segment of a mapping
 * @addr: grant DMA address of the first byte
 * @len: length in bytes (>= 1)
 */
struct xenvirtio_dma_seg {
	uint64_t addr;
	uint32_t len;
};

/**
 * enum xenvirtio_dma_counter - counters of a DMA handle
 * @XENVIRTIO_DMA_CNT_MAPS: successful xenvirtio_dma_map() calls
 * @XENVIRTIO_DMA_CNT_UNMAPS: xenvirtio_dma_unmap() calls that released a
 *	mapping
 * @XENVIRTIO_DMA_CNT_INPLACE_FRAMES: frames granted in place by maps
 * @XENVIRTIO_DMA_CNT_BOUNCE_FRAMES: frames bounced by maps
 * @XENVIRTIO_DMA_CNT_LEAKED_FRAMES: frames leaked because the backend still
 *	mapped them at revocation (F3)
 * @XENVIRTIO_DMA_CNT_ENOSPC: map or coherent allocations refused for lack of
 *	refs or bounce frames (F7 backpressure)
 * @XENVIRTIO_DMA_CNT_BOUNCE_FREE: bounce frames currently free (a gauge;
 *	always 0 on platforms that pick refs, which bounce through fresh pages)
 * @XENVIRTIO_DMA_CNT_COUNT: number of counters
 */
enum xenvirtio_dma_counter {
	XENVIRTIO_DMA_CNT_MAPS = 0,
	XENVIRTIO_DMA_CNT_UNMAPS,
	XENVIRTIO_DMA_CNT_INPLACE_FRAMES,
	XENVIRTIO_DMA_CNT_BOUNCE_FRAMES,
	XENVIRTIO_DMA_CNT_LEAKED_FRAMES,
	XENVIRTIO_DMA_CNT_ENOSPC,
	XENVIRTIO_DMA_CNT_BOUNCE_FREE,
	XENVIRTIO_DMA_CNT_COUNT,
};

struct xenvirtio_dma;

/**
 * XENVIRTIO_DMA_F_NO_GRANTS - xenvirtio_dma_open_ex() flag: guest-physical
 * DMA addresses, no grants (see the DOC section above)
 */
#define XENVIRTIO_DMA_F_NO_GRANTS 1u

/** XENVIRTIO_DMA_BOUNCE_DEFAULT - bounce pool size when 0 is asked for */
#define XENVIRTIO_DMA_BOUNCE_DEFAULT 64u
/** XENVIRTIO_DMA_BOUNCE_MAX - largest bounce pool, in 4 KiB frames */
#define XENVIRTIO_DMA_BOUNCE_MAX 65536u

/**
 * xenvirtio_dma_open_ex() - open a DMA handle with flags and a pool size
 * @ctx: context (frontend side)
 * @backend_domid: the domain the device's backend runs in (0..0x7fef)
 * @flags: 0 (grant DMA) or %XENVIRTIO_DMA_F_NO_GRANTS
 * @bounce_frames: frames in the handle's bounce pool, 1 ..
 *	%XENVIRTIO_DMA_BOUNCE_MAX, or 0 for %XENVIRTIO_DMA_BOUNCE_DEFAULT;
 *	ignored on platforms that pick refs (they bounce through pages
 *	shared per mapping and have no pool)
 * @out: the new handle
 *
 * The pool is allocated from the platform at open, zeroed (F1).
 *
 * Return: 0 on success;
 * -EINVAL if @ctx or @out is NULL, @backend_domid is out of range, @flags
 * has an unknown bit or @bounce_frames exceeds %XENVIRTIO_DMA_BOUNCE_MAX;
 * -EOPNOTSUPP if the platform can neither write grant entries nor share
 * pages, or with %XENVIRTIO_DMA_F_NO_GRANTS if it cannot allocate frames
 * and tell their frame numbers (Xen's gntalloc path, the simulated
 * platform with "refs=kernel") or its pool frames are not consecutive;
 * -ENOMEM on allocation failure (also when the platform has fewer free
 * frames than @bounce_frames);
 * other negative errno values from the platform (allocating frames).
 *
 * Context: the context must outlive the handle.
 */
int xenvirtio_dma_open_ex(struct xenvirtio_ctx *ctx, unsigned int backend_domid,
			  unsigned int flags, unsigned int bounce_frames,
			  struct xenvirtio_dma **out);

/**
 * xenvirtio_dma_open() - open a DMA handle for one device
 * @ctx: context (frontend side)
 * @backend_domid: the domain the device's backend runs in (0..0x7fef)
 * @out: the new handle
 *
 * Same as xenvirtio_dma_open_ex(@ctx, @backend_domid, 0, 0, @out): grant
 * DMA. On platforms where the library writes the grant table, this also
 * allocates the handle's bounce pool (64 frames) from the platform.
 *
 * Return: 0 on success;
 * -EINVAL if @ctx or @out is NULL or @backend_domid is out of range;
 * -EOPNOTSUPP if the platform can neither write grant entries nor share
 * pages;
 * -ENOMEM on allocation failure;
 * other negative errno values from the platform (allocating frames).
 *
 * Context: the context must outlive the handle.
 */
int xenvirtio_dma_open(struct xenvirtio_ctx *ctx, unsigned int backend_domid,
		       struct xenvirtio_dma **out);

/**
 * xenvirtio_dma_close() - close a DMA handle
 * @dma: handle, or NULL (no-op)
 *
 * Mappings and coherent allocations still outstanding are revoked and
 * released; those the backend still maps are leaked (and logged).
 */
void xenvirtio_dma_close(struct xenvirtio_dma *dma);

/**
 * xenvirtio_dma_alloc_coherent() - allocate zeroed memory shared read-write
 * @dma: handle
 * @size: bytes (>= 1); rounded up to whole 4 KiB frames
 * @va: out: the memory, 4 KiB aligned, zeroed (F1)
 * @dma_addr: out: its grant DMA address; the frames are granted through
 *	consecutive refs (F4), so @dma_addr + k addresses byte k (no-grant
 *	mode: its guest-physical address, on consecutive frame numbers)
 *
 * For rings and other long-lived shared structures. Not a hot path.
 *
 * Return: 0 on success;
 * -EINVAL if an argument is NULL or @size is 0 or larger than the grant
 * table;
 * -EIO if the handle is broken;
 * -ENOSPC if no run of consecutive refs or no grantable memory is free, or
 * (no-grant mode) 32768 mappings and allocations are live (backpressure,
 * F7);
 * -EOPNOTSUPP on a platform that picks refs, when it returned
 * non-consecutive refs for a multi-frame allocation, and in no-grant mode
 * when the platform's frames for a multi-frame allocation do not have
 * consecutive frame numbers;
 * -ENOMEM on allocation failure;
 * other negative errno values from the platform.
 */
int xenvirtio_dma_alloc_coherent(struct xenvirtio_dma *dma, size_t size,
				 void **va, uint64_t *dma_addr);

/**
 * xenvirtio_dma_free_coherent() - revoke and free coherent memory
 * @dma: handle
 * @va: as returned by xenvirtio_dma_alloc_coherent()
 * @size: as given to xenvirtio_dma_alloc_coherent()
 * @dma_addr: as returned by xenvirtio_dma_alloc_coherent()
 *
 * Return: 0 on success;
 * -EINVAL if the triple does not name a live coherent allocation of @dma
 * (nothing is released);
 * -EIO if the backend still maps a frame: the grants of the other frames
 * are revoked, but the whole area (memory and refs) is leaked for good, and
 * the handle is broken (F3); in no-grant mode, if the platform refuses to
 * free the memory (the area is leaked, the handle broken).
 */
int xenvirtio_dma_free_coherent(struct xenvirtio_dma *dma, void *va,
				size_t size, uint64_t dma_addr);

/**
 * xenvirtio_dma_map() - make a buffer reachable by the device
 * @dma: handle
 * @buf: the buffer; any memory
 * @len: its length, 1..UINT32_MAX bytes
 * @dir: direction
 * @segs: out: the segments, in buffer order
 * @max_segs: capacity of @segs (>= 1)
 *
 * On platforms where the library writes the grant table the result is
 * always one segment. On platforms that pick refs it is one segment per
 * 4 KiB frame the buffer covers. In no-grant mode it is one segment per run
 * of consecutive frame numbers (see the DOC section), at most one per frame.
 * The buffer must stay valid until the matching xenvirtio_dma_unmap().
 *
 * Return: the number of segments (>= 1) on success;
 * -EINVAL for a NULL argument, @len 0 or above UINT32_MAX, a bad @dir or
 * @max_segs 0;
 * -E2BIG if the mapping can never be made, whatever is unmapped first: it
 * needs more than @max_segs segments (never truncated), more refs than the
 * grant table has, or more bounce frames than the handle's pool holds (by
 * default 64 frames, i.e. a little under 256 KiB of memory that is not
 * grantable in place); nothing is mapped;
 * -EIO if the handle is broken;
 * -ENOSPC if refs, bounce frames or shareable pages are exhausted
 * (backpressure, F7); in no-grant mode also when no run of free pool frames
 * is long enough although enough are free, or 32768 mappings are live;
 * -EFAULT (no-grant mode) if the platform's frame lookup changed its answer
 * for the buffer during the call; nothing is mapped;
 * other negative errno values from the platform; partial work is undone.
 *
 * Context: allocates nothing on the heap.
 */
int xenvirtio_dma_map(struct xenvirtio_dma *dma, const void *buf, size_t len,
		      enum xenvirtio_dma_dir dir,
		      struct xenvirtio_dma_seg *segs, unsigned int max_segs);

/**
 * xenvirtio_dma_unmap() - revoke a mapping, copying bounced data back
 * @dma: handle
 * @segs: the segments xenvirtio_dma_map() returned
 * @nsegs: their number
 * @dir: the direction given to xenvirtio_dma_map()
 *
 * Return: 0 on success;
 * -EINVAL if the segments do not name a live mapping of @dma made with @dir
 * (nothing is released);
 * -EIO if the backend still maps a frame: that frame is leaked forever
 * (never reused; whether its bytes were copied back is unspecified), the
 * other frames are revoked and copied back, the mapping's refs stay
 * allocated, and the handle is broken (F3). Never in no-grant mode, where
 * nothing is revoked: bounced data is copied back and the bounce frames
 * return to the pool (the caller must know the device is done with them).
 *
 * Context: allocates nothing on the heap.
 */
int xenvirtio_dma_unmap(struct xenvirtio_dma *dma,
			const struct xenvirtio_dma_seg *segs,
			unsigned int nsegs, enum xenvirtio_dma_dir dir);

/**
 * xenvirtio_dma_broken() - whether the handle is broken
 * @dma: handle
 *
 * Return: 0 if usable; -EIO if broken (F3); -EINVAL if @dma is NULL.
 */
int xenvirtio_dma_broken(const struct xenvirtio_dma *dma);

/**
 * xenvirtio_dma_counter() - read a counter of the handle
 * @dma: handle
 * @which: the counter
 *
 * Return: the value (>= 0); -EINVAL if @dma is NULL or @which is out of
 * range.
 */
int64_t xenvirtio_dma_counter(const struct xenvirtio_dma *dma,
			      enum xenvirtio_dma_counter which);

#ifdef __cplusplus
}
#endif

#endif /* XENVIRTIO_DMA_H */
