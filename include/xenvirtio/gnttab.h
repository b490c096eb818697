/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * DOC: raw grant mapping (backend side)
 *
 * Map grant references of another domain directly, as libxengnttab does:
 * for pages shared by reference outside a virtqueue (a ring page announced
 * through a store, a test). Virtqueue backends normally let the mapper map
 * whole chains (<xenvirtio/mapper.h>) instead.
 */
#ifndef XENVIRTIO_GNTTAB_H
#define XENVIRTIO_GNTTAB_H

#include <stdbool.h>
#include <xenvirtio/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * xenvirtio_gnttab_map() - map grant refs of one domain, all or nothing
 * @ctx: context
 * @domid: the granting domain
 * @count: number of refs, 1..65536
 * @refs: the refs; frame i of the mapping is @refs[i]
 * @writable: map read-write (the grants must allow it) or read-only
 * @va: the start of one contiguous mapping of @count 4 KiB frames
 *
 * Either every ref is mapped or none is: partial work is undone.
 *
 * Return: 0; -EINVAL for a NULL argument or a @count out of range;
 * -EPERM if a grant is not for this domain or is read-only and @writable;
 * -ESRCH if @domid does not exist; -EOPNOTSUPP if the platform cannot map
 * grants; -ENOSPC if the mapping side's resources are exhausted (retry
 * later); -EAGAIN for a transient hypervisor failure; other negative errno
 * values from the platform.
 */
int xenvirtio_gnttab_map(struct xenvirtio_ctx *ctx, unsigned int domid,
			 unsigned int count, const uint32_t *refs,
			 bool writable, void **va);

/**
 * xenvirtio_gnttab_unmap() - unmap what xenvirtio_gnttab_map() mapped
 * @ctx: context
 * @va: the address it returned
 * @count: the count given to it
 *
 * Return: 0; -EINVAL if (@va, @count) is not one mapping of this context.
 */
int xenvirtio_gnttab_unmap(struct xenvirtio_ctx *ctx, void *va,
			   unsigned int count);

#ifdef __cplusplus
}
#endif

#endif /* XENVIRTIO_GNTTAB_H */
