/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virtio-mmio internals shared by the register file (mmio.c) and the
 * transports that feed it (mmio_sock.c today, a Xen ioreq server later).
 */
#ifndef XV_MMIO_INTERNAL_H
#define XV_MMIO_INTERNAL_H

#include "internal.h"

#include <xenvirtio/addr.h>
#include <xenvirtio/mmio.h>

/* Direction codes, as Xen's IOREQ_WRITE / IOREQ_READ. */
#define XV_MMIO_DIR_WRITE 0
#define XV_MMIO_DIR_READ 1

/* Response status on the wire. */
#define XV_MMIO_ST_DONE 0
#define XV_MMIO_ST_REFUSED 1

/*
 * One guest access, the transport-independent seam: a transport decodes its
 * own format (socket message, Xen ioreq_t) into this and hands it to
 * xv_mmio_dev_ioreq().
 */
struct xv_mmio_ioreq {
	uint64_t addr; /* guest address of the access */
	uint64_t data; /* write data in, read data out */
	uint32_t size; /* bytes: 1, 2, 4 or 8 */
	uint8_t dir;   /* XV_MMIO_DIR_* */
};

/*
 * Apply @req to @dev, whose register region starts at guest address @base.
 * A read that fails leaves all-ones (of @req->size bytes) in @req->data, as
 * an unclaimed read does on real hardware. Returns what
 * xenvirtio_mmio_dev_read()/_write() return, or -EPROTO for an address
 * outside the region or a size the register file cannot take.
 */
int xv_mmio_dev_ioreq(struct xenvirtio_mmio_dev *dev, uint64_t base,
		      struct xv_mmio_ioreq *req);

/* Wire message (XENVIRTIO_MMIO_SOCK_MSG_SIZE bytes, little-endian). */
struct xv_mmio_msg {
	uint64_t addr;
	uint64_t data;
	uint32_t seq;
	uint8_t size;
	uint8_t dir;
	uint8_t status;
	uint8_t reserved;
};

void xv_mmio_msg_encode(const struct xv_mmio_msg *m,
			uint8_t buf[XENVIRTIO_MMIO_SOCK_MSG_SIZE]);
void xv_mmio_msg_decode(const uint8_t buf[XENVIRTIO_MMIO_SOCK_MSG_SIZE],
			struct xv_mmio_msg *m);

static inline uint64_t xv_mmio_size_mask(unsigned int size)
{
	return size >= 8 ? ~0ULL : (1ULL << (8 * size)) - 1;
}

#endif /* XV_MMIO_INTERNAL_H */
