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
 * is reached; the chain stays in the ring), a failed request (the chain was
 * malformed or not translatable: it has been retired with used length 0,
 * check R16), or a broken queue: the driver broke the ring protocol in a way
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
 * -ENOSPC if a mapper quota is reached (retry after pushing); -ENOBUFS if
 * the chain has more buffers than @elem->iov_cap (R6), -EBADMSG if the
 * chain is malformed (indirect table, ordering, length), -EFAULT or
 * -EACCES if a buffer cannot be translated (G1, G3, G5): in these three
 * cases the chain has been retired with used length 0 (R16); -EIO if the
 * queue is broken or not enabled; -EINVAL if an argument is NULL.
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

#ifdef __cplusplus
}
#endif

#endif /* XENVIRTIO_VIRTQUEUE_H */
