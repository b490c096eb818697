/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * DOC: backend mapper
 *
 * A mapper translates the DMA addresses one guest puts in its virtqueues
 * into host memory of the backend. It works in one of three modes, fixed at
 * open time and enforced on every request (check G1):
 *
 * - identity: DMA addresses are offsets into one memory region the caller
 *   registered (no grants; tests, fuzzing, and the benchmark's ceiling);
 * - grant: DMA addresses are grant addresses (bit 63 set); all frames a chain
 *   needs are mapped with one batched platform call per access direction,
 *   device-readable buffers read-only (G3), and released before the used
 *   element is published (G6);
 * - foreign: DMA addresses are guest-physical; frames are mapped through the
 *   privileged foreign-mapping interface, only when policy says so.
 *
 * Buffers up to a configurable threshold can be moved with grant copy
 * instead of mapping (copy-in when popped, copy-out when pushed). Per-guest
 * quotas bound the frames mapped and the requests in flight (G8).
 *
 * Context: a mapper belongs to one guest and is used by one thread at a time
 * together with the virtqueues bound to it. Errors are logged through the
 * context's callback.
 */
#ifndef XENVIRTIO_MAPPER_H
#define XENVIRTIO_MAPPER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <xenvirtio/common.h>

#ifdef __cplusplus
extern "C" {
#endif

struct xenvirtio_mapper;

/**
 * enum xenvirtio_mapper_mode - how DMA addresses are interpreted
 * @XENVIRTIO_MAPPER_IDENTITY: offsets into a caller-registered region
 * @XENVIRTIO_MAPPER_GRANT: grant addresses, mapped through grant tables
 * @XENVIRTIO_MAPPER_FOREIGN: guest-physical addresses, foreign-mapped
 */
enum xenvirtio_mapper_mode {
	XENVIRTIO_MAPPER_IDENTITY = 0,
	XENVIRTIO_MAPPER_GRANT = 1,
	XENVIRTIO_MAPPER_FOREIGN = 2,
};

/**
 * enum xenvirtio_mapper_strategy - how a chain's data buffers are mapped
 * @XENVIRTIO_MAPPER_BATCH: one platform call per chain and access direction
 * @XENVIRTIO_MAPPER_PER_DESC: one platform call per descriptor (what most
 *	backends do; offered for comparison)
 */
enum xenvirtio_mapper_strategy {
	XENVIRTIO_MAPPER_BATCH = 0,
	XENVIRTIO_MAPPER_PER_DESC = 1,
};

/** XENVIRTIO_MAPPER_COPY_MAX - largest grant-copy threshold, in bytes. */
#define XENVIRTIO_MAPPER_COPY_MAX 256u

/**
 * struct xenvirtio_mapper_stats - cumulative counters of a mapper
 * @map_calls: platform map calls (grant or foreign)
 * @frames_mapped: frames mapped by those calls
 * @unmap_calls: platform unmap calls
 * @copy_calls: platform grant-copy calls
 * @copy_ops: grant-copy segments
 * @bytes_copied: bytes moved by grant copy
 * @requests: chains translated
 */
struct xenvirtio_mapper_stats {
	uint64_t map_calls;
	uint64_t frames_mapped;
	uint64_t unmap_calls;
	uint64_t copy_calls;
	uint64_t copy_ops;
	uint64_t bytes_copied;
	uint64_t requests;
};

/**
 * xenvirtio_mapper_open_identity() - a mapper over one local region
 * @ctx: library context
 * @base: start of the region; DMA address 0 is @base
 * @size: size of the region in bytes, at least 1
 * @out: the new mapper
 *
 * Return: 0 on success; -EINVAL if an argument is NULL or @size is 0;
 * -ENOMEM if out of memory.
 */
int xenvirtio_mapper_open_identity(struct xenvirtio_ctx *ctx, void *base,
				   size_t size,
				   struct xenvirtio_mapper **out);

/**
 * xenvirtio_mapper_open() - a mapper for one guest's grant or foreign DMA
 * @ctx: library context (its platform does the mapping)
 * @mode: %XENVIRTIO_MAPPER_GRANT or %XENVIRTIO_MAPPER_FOREIGN
 * @domid: the guest
 * @out: the new mapper
 *
 * Return: 0 on success; -EINVAL if an argument is NULL or @mode is not one
 * of the two; -EOPNOTSUPP if the platform cannot map in that mode (no grant
 * map for grant mode; no foreign map, or not privileged, for foreign mode);
 * -ENOMEM if out of memory.
 */
int xenvirtio_mapper_open(struct xenvirtio_ctx *ctx,
			  enum xenvirtio_mapper_mode mode, uint16_t domid,
			  struct xenvirtio_mapper **out);

/**
 * xenvirtio_mapper_close() - free a mapper
 * @m: the mapper, or NULL
 *
 * Every virtqueue bound to @m must have been freed first.
 */
void xenvirtio_mapper_close(struct xenvirtio_mapper *m);

/**
 * xenvirtio_mapper_set_strategy() - choose how data buffers are mapped
 * @m: the mapper
 * @strategy: see &enum xenvirtio_mapper_strategy
 *
 * Return: 0 on success; -EINVAL if @m is NULL, @strategy unknown, or
 * requests are in flight.
 */
int xenvirtio_mapper_set_strategy(struct xenvirtio_mapper *m,
				  enum xenvirtio_mapper_strategy strategy);

/**
 * xenvirtio_mapper_set_copy_threshold() - move small buffers by grant copy
 * @m: the mapper (grant mode)
 * @bytes: buffers of at most this many bytes are copied, not mapped;
 *	0 disables copying
 *
 * Applies to virtqueues enabled after the call.
 *
 * Return: 0 on success; -EINVAL if @m is NULL, @bytes exceeds
 * %XENVIRTIO_MAPPER_COPY_MAX or requests are in flight; -EOPNOTSUPP if @m is
 * not in grant mode or the platform has no grant copy.
 */
int xenvirtio_mapper_set_copy_threshold(struct xenvirtio_mapper *m,
					uint32_t bytes);

/**
 * xenvirtio_mapper_set_quota() - per-guest limits (check G8)
 * @m: the mapper
 * @max_frames: most data frames mapped at once (0: no limit); also the
 *	largest chain that can be mapped at all
 * @max_inflight: most requests popped but not pushed (0: no limit)
 *
 * A pop that would exceed a limit returns -ENOSPC and leaves the chain in
 * the ring (backpressure); a single chain larger than @max_frames fails.
 *
 * Return: 0 on success; -EINVAL if @m is NULL or @max_frames exceeds 65536;
 * -ENOMEM if out of memory.
 */
int xenvirtio_mapper_set_quota(struct xenvirtio_mapper *m,
			       uint32_t max_frames, uint32_t max_inflight);

/**
 * xenvirtio_mapper_get_stats() - read the cumulative counters
 * @m: the mapper
 * @stats: filled on success
 *
 * Return: 0 on success; -EINVAL if an argument is NULL.
 */
int xenvirtio_mapper_get_stats(const struct xenvirtio_mapper *m,
			       struct xenvirtio_mapper_stats *stats);

/**
 * xenvirtio_mapper_translate() - host address of an identity-mode range
 * @m: the mapper (identity mode)
 * @addr: DMA address
 * @len: bytes wanted
 * @write: whether the caller will write
 * @host: host address of @addr
 * @contig: bytes contiguous from @host, at most @len; callers loop for
 *	the rest
 *
 * Return: 0 on success; -EINVAL if an argument is NULL; -EFAULT if @addr is
 * outside the region; -EOPNOTSUPP if @m is not in identity mode (grant and
 * foreign mappings have a lifetime: they come through virtqueue pops).
 */
int xenvirtio_mapper_translate(const struct xenvirtio_mapper *m,
			       uint64_t addr, uint64_t len, bool write,
			       void **host, size_t *contig);

#ifdef __cplusplus
}
#endif

#endif /* XENVIRTIO_MAPPER_H */
