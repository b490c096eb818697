/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * DOC: virtqueues, device side
 *
 * The device side of a split or packed virtqueue (virtio 1.2). A backend
 * pops chains into caller-provided iovec arrays (device-readable buffers
 * first, then device-writable), fully validated against a hostile driver,
 * with every data buffer translated through a &struct xenvirtio_mapper;
 * then pushes each request back with the number of bytes written and asks
 * whether the driver must be notified.
 *
 * Outcomes of a pop: a request, an empty ring, backpressure (a mapper quota
 * is reached, or the platform is out of mapping space; the chain stays in
 * the ring), a failed request (the chain was malformed or not translatable,
 * or larger than the platform could ever map: it has been retired with used
 * length 0, check R16), or a broken queue: the driver broke the ring protocol in a way
 * that leaves no safe way on; one error is logged and every later call
 * returns -EIO until xenvirtio_vq_reset().
 *
 * Context: one thread at a time per queue and its mapper. No call allocates
 * except xenvirtio_vq_new() and xenvirtio_vq_enable().
 */
#ifndef XENVIRTIO_VIRTQUEUE_H
#define XENVIRTIO_VIRTQUEUE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>
#include <xenvirtio/common.h>
#include <xenvirtio/dma.h>
#include <xenvirtio/mapper.h>

#ifdef __cplusplus
extern "C" {
#endif

/** XENVIRTIO_VQ_MAX_SIZE - largest queue size (split and packed). */
#define XENVIRTIO_VQ_MAX_SIZE 32768u

/* Feature bits the ring code cares about (bit numbers). */
/** XENVIRTIO_F_INDIRECT_DESC - indirect descriptor tables */
#define XENVIRTIO_F_INDIRECT_DESC 28
/** XENVIRTIO_F_EVENT_IDX - event index notification suppression */
#define XENVIRTIO_F_EVENT_IDX 29
/** XENVIRTIO_F_VERSION_1 - virtio 1.x (little-endian rings) */
#define XENVIRTIO_F_VERSION_1 32
/** XENVIRTIO_F_ACCESS_PLATFORM - DMA goes through a platform translation */
#define XENVIRTIO_F_ACCESS_PLATFORM 33
/** XENVIRTIO_F_RING_PACKED - packed ring layout */
#define XENVIRTIO_F_RING_PACKED 34

struct xenvirtio_vq;

/**
 * struct xenvirtio_vq_config - a queue as the driver configured it
 * @features: negotiated feature bits (1ULL << XENVIRTIO_F_*); selects split
 *	or packed, indirect and event index
 * @size: queue size; split: a power of two; both: 1..max size of the queue
 * @desc_addr: DMA address of the descriptor table / ring
 * @driver_addr: split: available ring; packed: driver event suppression
 * @device_addr: split: used ring; packed: device event suppression
 */
struct xenvirtio_vq_config {
	uint64_t features;
	uint32_t size;
	uint64_t desc_addr;
	uint64_t driver_addr;
	uint64_t device_addr;
};

/**
 * struct xenvirtio_vq_elem - one popped request
 * @iov: caller's array; gets the readable buffers, then the writable ones
 * @iov_cap: capacity of @iov in entries
 * @out_num: out: readable entries, @iov[0 .. @out_num)
 * @in_num: out: writable entries, @iov[@out_num .. @out_num + @in_num)
 * @out_len: out: total readable bytes
 * @in_len: out: total writable bytes
 * @id: out: the request's id (split: head index; packed: buffer id)
 * @priv_slot: private to the library
 * @priv_ndescs: private to the library
 *
 * Zero-length descriptors produce no entry (check R11).
 */
struct xenvirtio_vq_elem {
	struct iovec *iov;
	unsigned int iov_cap;
	unsigned int out_num;
	unsigned int in_num;
	uint32_t out_len;
	uint32_t in_len;
	uint32_t id;
	uint32_t priv_slot;
	uint32_t priv_ndescs;
};

/**
 * xenvirtio_vq_new() - a device-side virtqueue, not yet enabled
 * @m: the mapper translating this queue's addresses (outlives the queue)
 * @max_size: largest size the driver may configure, 1..32768
 * @out: the new queue
 *
 * Return: 0 on success; -EINVAL if an argument is NULL or @max_size is out
 * of range; -ENOMEM if out of memory.
 */
int xenvirtio_vq_new(struct xenvirtio_mapper *m, uint32_t max_size,
		     struct xenvirtio_vq **out);

/**
 * xenvirtio_vq_free() - free a queue, releasing every mapping it holds
 * @vq: the queue, or NULL
 */
void xenvirtio_vq_free(struct xenvirtio_vq *vq);

/**
 * xenvirtio_vq_enable() - validate a configuration and map the rings
 * @vq: the queue (disabled, or it is reset first)
 * @cfg: the driver's configuration
 *
 * Checks the size (S2) and the ring areas' alignment and extent (S3), then
 * maps the rings for the queue's life (S4: every enable starts from fresh
 * mappings).
 *
 * Return: 0 on success; -EINVAL if an argument is NULL, the size is 0, above
 * the maximum or (split) not a power of two, a ring address is misaligned,
 * or VERSION_1 is not negotiated; -EFAULT if a ring area is not wholly
 * mapped or granted memory; -ENOMEM if out of memory; another negative errno
 * from the platform.
 */
int xenvirtio_vq_enable(struct xenvirtio_vq *vq,
			const struct xenvirtio_vq_config *cfg);

/**
 * xenvirtio_vq_reset() - disable a queue and forget its state
 * @vq: the queue
 *
 * Releases the mappings of requests in flight (their elems become invalid)
 * and of the rings, and clears the broken state.
 *
 * Return: 0 on success; -EINVAL if @vq is NULL.
 */
int xenvirtio_vq_reset(struct xenvirtio_vq *vq);

/**
 * xenvirtio_vq_pop() - take the next available request
 * @vq: an enabled queue
 * @elem: caller storage; @elem->iov and @elem->iov_cap set by the caller
 *
 * Return: 1 if a request was popped into @elem; 0 if the ring is empty;
 * -ENOSPC if a mapper quota is reached, or the platform asked to try again
 * (grant status "eagain": a frame being paged in) or ran out of mapping
 * space (grant status "no space"), whether or not requests are in flight
 * (another mapper or domain may hold the space): the chain stays in the
 * ring, retry after pushing requests or after a delay; -ENOBUFS if the
 * chain has more buffers than @elem->iov_cap (R6), -EBADMSG if the chain
 * is malformed (indirect table, ordering, length), -EFAULT or -EACCES if a
 * buffer cannot be translated (G1, G3, G5), -EFAULT also if the chain needs
 * more frames than the mapper's quota or than the platform can ever map
 * (with the queue's rings), so that waiting would stall the queue for
 * good: in these cases the chain has been retired with used length 0
 * (R16); -EIO if the queue is broken or not enabled; -EINVAL if an
 * argument is NULL.
 */
int xenvirtio_vq_pop(struct xenvirtio_vq *vq, struct xenvirtio_vq_elem *elem);

/**
 * xenvirtio_vq_push() - complete a popped request
 * @vq: the queue the request was popped from
 * @elem: the request, as xenvirtio_vq_pop() filled it
 * @written: bytes written into the writable buffers, at most @elem->in_len
 *
 * Copies out and unmaps the request's buffers, then publishes the used
 * element (G6).
 *
 * Return: 0 on success; -EINVAL if an argument is NULL, @written exceeds
 * @elem->in_len, or @elem is not in flight on @vq; -EIO if the queue is
 * broken; -EFAULT if a copy-out failed (the element is published with
 * length 0).
 */
int xenvirtio_vq_push(struct xenvirtio_vq *vq,
		      const struct xenvirtio_vq_elem *elem, uint32_t written);

/**
 * xenvirtio_vq_elem_read() - copy bytes out of a request's readable buffers
 * @elem: a popped request
 * @offset: byte offset into the concatenated readable buffers
 * @buf: destination
 * @len: bytes to copy
 *
 * For headers that a driver may split across descriptors (R15).
 *
 * Return: 0 on success; -EBADMSG if the readable buffers hold fewer than
 * @offset + @len bytes (nothing is copied); -EINVAL if an argument is NULL.
 */
int xenvirtio_vq_elem_read(const struct xenvirtio_vq_elem *elem,
			   uint32_t offset, void *buf, uint32_t len);

/**
 * xenvirtio_vq_elem_write() - copy bytes into a request's writable buffers
 * @elem: a popped request
 * @offset: byte offset into the concatenated writable buffers
 * @buf: source
 * @len: bytes to copy
 *
 * For status bytes and footers that may be split across descriptors (R15).
 *
 * Return: 0 on success; -EBADMSG if the writable buffers hold fewer than
 * @offset + @len bytes (nothing is copied); -EINVAL if an argument is NULL.
 */
int xenvirtio_vq_elem_write(const struct xenvirtio_vq_elem *elem,
			    uint32_t offset, const void *buf, uint32_t len);

/**
 * xenvirtio_vq_should_notify() - whether to interrupt the driver now
 * @vq: the queue, after one or more pushes
 *
 * Honours EVENT_IDX (used_event / driver event suppression) or the
 * driver's no-interrupt flag. Call once per batch of pushes.
 *
 * Return: 1 to notify, 0 not to; -EIO if broken; -EINVAL if @vq is NULL.
 */
int xenvirtio_vq_should_notify(struct xenvirtio_vq *vq);

/**
 * xenvirtio_vq_set_notification() - ask the driver to kick, or not
 * @vq: an enabled queue
 * @enable: true: kick when new buffers are available; false: don't
 *
 * With EVENT_IDX the device asks for a kick at the next available entry.
 * After enabling, pop again before sleeping: buffers made available before
 * the driver saw the request do not kick.
 *
 * Return: 0 on success; -EIO if broken or not enabled; -EINVAL if @vq is
 * NULL.
 */
int xenvirtio_vq_set_notification(struct xenvirtio_vq *vq, bool enable);

/**
 * DOC: virtqueues, driver side
 *
 * The driver side of a split or packed virtqueue for frontend ports and
 * tests: the
 * rings live in coherent memory of a &struct xenvirtio_dma handle; each
 * buffer added is mapped through that handle (read-only grants for
 * device-readable buffers) and unmapped when its used element is collected.
 * What the device writes (used id, length, index) is validated (F6); a
 * device that breaks the protocol breaks the queue (-EIO until reset).
 *
 * Indirect tables: with INDIRECT_DESC among the queue's features (and a
 * queue size above 1), every ring slot owns an indirect table of
 * min(size, 16) entries, preallocated at xenvirtio_vq_drv_new() in one
 * coherent area of the DMA handle (16 * size * min(size, 16) bytes), or,
 * on platforms that cannot give a multi-frame coherent area (those that
 * pick grant refs themselves, like Xen's gntalloc), one area per 4 KiB
 * frame so that no table straddles frames. A
 * request of two or more buffers whose mapping takes at most that many
 * descriptors is written into its slot's table and takes ONE ring
 * descriptor (split: VIRTQ_DESC_F_INDIRECT; packed: the indirect flag,
 * the table's address and length), so a queue of size N carries N such
 * requests at once. A request that needs more entries falls back to
 * direct descriptors in the ring (where it may have to wait for free
 * descriptors). No request, direct or indirect, may have more buffers
 * than the queue size: the virtio specification forbids chains longer than
 * the queue even through a table, and devices (this library's included,
 * check R7) refuse such tables.
 *
 * Context: one thread at a time per queue. Adding and collecting allocate
 * nothing.
 */
struct xenvirtio_vq_drv;

/**
 * xenvirtio_vq_drv_new() - a driver-side queue with its rings
 * @ctx: the context @dma was opened on (for logging)
 * @dma: the device's DMA handle (outlives the queue)
 * @features: negotiated features; VERSION_1 required; RING_PACKED selects
 *	the packed layout; EVENT_IDX honoured; INDIRECT_DESC uses indirect
 *	tables (see the DOC section above)
 * @size: queue size, 1..32768; a power of two for split
 * @out: the new queue
 *
 * Allocates the rings and, with INDIRECT_DESC, the indirect tables, both
 * through xenvirtio_dma_alloc_coherent(). If the tables cannot be had (too
 * few free refs or frames for 16 * size * min(size, 16) bytes), the queue
 * is made without them and every request uses direct descriptors.
 *
 * Return: 0 on success; -EINVAL if an argument is NULL, @size is out of
 * range (or not a power of two for split), or VERSION_1 is missing;
 * -ENOMEM if out of memory; a negative errno of
 * xenvirtio_dma_alloc_coherent() (-ENOSPC, -EIO, -EOPNOTSUPP, ...).
 */
int xenvirtio_vq_drv_new(struct xenvirtio_ctx *ctx, struct xenvirtio_dma *dma,
			 uint64_t features, uint32_t size,
			 struct xenvirtio_vq_drv **out);

/**
 * xenvirtio_vq_drv_free() - unmap everything in flight, free the rings
 * @drv: the queue, or NULL
 */
void xenvirtio_vq_drv_free(struct xenvirtio_vq_drv *drv);

/**
 * xenvirtio_vq_drv_config() - the configuration to hand to the device
 * @drv: the queue
 * @cfg: filled: features, size and the three ring DMA addresses
 *
 * Return: 0 on success; -EINVAL if an argument is NULL.
 */
int xenvirtio_vq_drv_config(const struct xenvirtio_vq_drv *drv,
			    struct xenvirtio_vq_config *cfg);

/**
 * xenvirtio_vq_drv_add() - map and make available one request
 * @drv: the queue
 * @out: device-readable buffers
 * @out_num: their number
 * @in: device-writable buffers
 * @in_num: their number
 * @token: returned by xenvirtio_vq_drv_get() with this request (not NULL)
 *
 * Each buffer becomes one descriptor per DMA segment, in the slot's
 * indirect table when the queue has them and the request fits (two or
 * more buffers, at most min(size, 16) descriptors), else in the ring. The
 * buffers must stay valid until the request is collected.
 *
 * Return: 0 on success; -EINVAL for a NULL argument, no buffer at all, or
 * an empty buffer; -ENOSPC if descriptors, grant refs or bounce frames are
 * exhausted (backpressure: collect, then retry); -E2BIG if the request can
 * never fit the queue (more buffers than the queue size, or more
 * descriptors than an empty ring holds) or the DMA handle (more bounce
 * frames, or grant refs, at once than it can ever give); -EIO if the queue
 * is broken;
 * another negative errno of xenvirtio_dma_map(). Nothing stays mapped on
 * failure.
 */
int xenvirtio_vq_drv_add(struct xenvirtio_vq_drv *drv,
			 const struct iovec *out, unsigned int out_num,
			 const struct iovec *in, unsigned int in_num,
			 void *token);

/**
 * xenvirtio_vq_drv_kick_prepare() - whether to notify the device now
 * @drv: the queue, after one or more adds
 *
 * Return: 1 to notify, 0 not to (EVENT_IDX avail_event or the device's
 * no-notify flag); -EIO if broken; -EINVAL if @drv is NULL.
 */
int xenvirtio_vq_drv_kick_prepare(struct xenvirtio_vq_drv *drv);

/**
 * xenvirtio_vq_drv_get() - collect one completed request
 * @drv: the queue
 * @token: out: the request's token
 * @len: out: bytes the device wrote, validated against the writable size
 *
 * Unmaps the request's buffers (copying bounced data back) first.
 *
 * Return: 1 if a request was collected; 0 if none is pending; -EIO if the
 * queue is broken, now or before: the device wrote a used index more
 * than the queue size ahead (split), an id that is not in flight, or a
 * length beyond the writable buffers (F6), or a buffer could not be
 * revoked; -EINVAL if an argument is NULL.
 */
int xenvirtio_vq_drv_get(struct xenvirtio_vq_drv *drv, void **token,
			 uint32_t *len);

/**
 * xenvirtio_vq_drv_reset() - reclaim every request and clear the rings
 * @drv: the queue (the device must have stopped using it)
 *
 * Return: 0 on success; -EIO if a buffer could not be revoked (it is
 * leaked, see xenvirtio_dma_unmap()); -EINVAL if @drv is NULL.
 */
int xenvirtio_vq_drv_reset(struct xenvirtio_vq_drv *drv);

#ifdef __cplusplus
}
#endif

#endif /* XENVIRTIO_VIRTQUEUE_H */
