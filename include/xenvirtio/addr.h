/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * DOC: grant DMA addresses
 *
 * Under grant DMA the virtio "DMA address" of a byte carries the grant
 * reference of the 4 KiB frame holding it: bit 63 set, the reference in
 * bits 12..43, the offset inside the frame in bits 0..11. A buffer of len
 * bytes starting at offset off covers (off + len + 4095) / 4096 frames and is
 * addressed through the consecutive refs ref, ref + 1, ... Grant frames are
 * always 4 KiB, whatever the host page size.
 *
 * These helpers are pure functions: no context, thread-safe.
 */
#ifndef XENVIRTIO_ADDR_H
#define XENVIRTIO_ADDR_H

#include <stdbool.h>
#include <xenvirtio/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/** XENVIRTIO_GRANT_ADDR_FLAG - bit 63: the address is a grant address. */
#define XENVIRTIO_GRANT_ADDR_FLAG (1ULL << 63)

/**
 * xenvirtio_grant_addr() - encode a grant DMA address
 * @ref: grant reference
 * @offset: byte offset inside the 4 KiB frame (0..4095)
 * @addr: the encoded address
 *
 * Return: 0 on success; -EINVAL if @offset > 4095 or @addr is NULL.
 */
int xenvirtio_grant_addr(uint32_t ref, uint32_t offset, uint64_t *addr);

/**
 * xenvirtio_is_grant_addr() - whether an address carries the grant flag
 * @addr: a DMA address
 *
 * Return: true if bit 63 is set.
 */
bool xenvirtio_is_grant_addr(uint64_t addr);

/**
 * xenvirtio_grant_addr_decode() - decode a grant DMA address
 * @addr: a grant DMA address
 * @ref: the grant reference (may be NULL)
 * @offset: the offset inside the frame (may be NULL)
 *
 * Return: 0 on success; -EINVAL if bit 63 is clear; -ERANGE if bits 44..62
 * are set (the reference would not fit in 32 bits).
 */
int xenvirtio_grant_addr_decode(uint64_t addr, uint32_t *ref,
				uint32_t *offset);

/**
 * xenvirtio_grant_frames() - number of 4 KiB frames a buffer covers
 * @offset: offset of the first byte inside its frame (0..4095)
 * @len: length in bytes (0 covers no frame)
 * @frames: the count, (offset + len + 4095) / 4096
 *
 * Return: 0 on success; -EINVAL if @offset > 4095 or @frames is NULL;
 * -EOVERFLOW if the count does not fit in 32 bits.
 */
int xenvirtio_grant_frames(uint32_t offset, uint64_t len, uint32_t *frames);

/**
 * xenvirtio_grant_range() - validate a grant buffer and return its extent
 * @addr: grant DMA address of the first byte
 * @len: length in bytes, at least 1
 * @ref: first grant reference
 * @offset: offset of the first byte inside the first frame
 * @frames: number of frames, i.e. refs @ref .. @ref + @frames - 1
 *
 * Return: 0 on success; -EINVAL if @addr is not a grant address, @len is 0
 * or an out pointer is NULL; -ERANGE if the reference does not fit in 32
 * bits; -EOVERFLOW if @ref + @frames - 1 overflows 32 bits (check G2).
 */
int xenvirtio_grant_range(uint64_t addr, uint64_t len, uint32_t *ref,
			  uint32_t *offset, uint32_t *frames);

#ifdef __cplusplus
}
#endif

#endif /* XENVIRTIO_ADDR_H */
