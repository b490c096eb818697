/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Grant DMA address encoding (SPEC-NOTES §1): 4 KiB arithmetic (G9). */
#include "internal.h"

#include <xenvirtio/addr.h>

/* Bits 44..62: a ref above 32 bits. */
#define XV_GRANT_ADDR_REF_HIGH (~(XENVIRTIO_GRANT_ADDR_FLAG | 0xfffffffffffULL))

XV_EXPORT int xenvirtio_grant_addr(uint32_t ref, uint32_t offset,
				   uint64_t *addr)
{
	if (offset > XV_PAGE_MASK || !addr)
		return -EINVAL;
	*addr = XENVIRTIO_GRANT_ADDR_FLAG | ((uint64_t)ref << XV_PAGE_SHIFT) |
		offset;
	return 0;
}

XV_EXPORT bool xenvirtio_is_grant_addr(uint64_t addr)
{
	return addr & XENVIRTIO_GRANT_ADDR_FLAG;
}

XV_EXPORT int xenvirtio_grant_addr_decode(uint64_t addr, uint32_t *ref,
					  uint32_t *offset)
{
	if (!(addr & XENVIRTIO_GRANT_ADDR_FLAG))
		return -EINVAL;
	if (addr & XV_GRANT_ADDR_REF_HIGH)
		return -ERANGE;
	if (ref)
		*ref = (uint32_t)((addr & ~XENVIRTIO_GRANT_ADDR_FLAG) >>
				  XV_PAGE_SHIFT);
	if (offset)
		*offset = (uint32_t)(addr & XV_PAGE_MASK);
	return 0;
}

XV_EXPORT int xenvirtio_grant_frames(uint32_t offset, uint64_t len,
				     uint32_t *frames)
{
	uint64_t n;

	if (offset > XV_PAGE_MASK || !frames)
		return -EINVAL;
	/* offset + len + 4095 cannot wrap: compute the quotient in parts. */
	n = len >> XV_PAGE_SHIFT;
	n += ((len & XV_PAGE_MASK) + offset + XV_PAGE_MASK) >> XV_PAGE_SHIFT;
	if (n > UINT32_MAX)
		return -EOVERFLOW;
	*frames = (uint32_t)n;
	return 0;
}

XV_EXPORT int xenvirtio_grant_range(uint64_t addr, uint64_t len, uint32_t *ref,
				    uint32_t *offset, uint32_t *frames)
{
	uint32_t r, off, n;
	int err;

	if (!ref || !offset || !frames || len == 0)
		return -EINVAL;
	err = xenvirtio_grant_addr_decode(addr, &r, &off);
	if (err)
		return err;
	err = xenvirtio_grant_frames(off, len, &n);
	if (err)
		return err;
	/* G2: the last ref, r + n - 1, must not wrap. */
	if (n - 1 > UINT32_MAX - r)
		return -EOVERFLOW;
	*ref = r;
	*offset = off;
	*frames = n;
	return 0;
}
