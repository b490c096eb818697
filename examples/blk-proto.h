/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the virtio-blk examples agree on: the virtio-blk wire format (virtio
 * 1.2, section 5.2) and how a frontend finds its device in the store.
 *
 * Finding a device (the toolstack's job on Xen; here the backend publishes
 * it itself). For a device (frontend domain FE, device index DEVID) served
 * by backend domain BE, the backend writes under
 *
 *	/local/domain/BE/backend/virtio/FE/DEVID/
 *
 *	socket		unix socket path of the simulated ioreq transport:
 *			one connection carries the frontend's register
 *			accesses (struct xenvirtio_mmio_sock_*); QueueNotify
 *			writes are the kicks
 *	event-channel	port the backend allocated (unbound, for FE): the
 *			device's interrupt; the frontend binds to it
 *	base		guest address of the register region, "0x..."
 *			(BLK_MMIO_BASE + DEVID * BLK_MMIO_SIZE, as libxl lays
 *			virtio-mmio devices out)
 *	state		"ready" while the backend serves the device; deleted
 *			(with the other keys) when it stops
 *
 * The store is the platform's (xenvirtio_store_read()/_write()): xenstore
 * on Xen, the world's store on the simulated platform.
 */
#ifndef XENVIRTIO_EXAMPLES_BLK_PROTO_H
#define XENVIRTIO_EXAMPLES_BLK_PROTO_H

#include <stdint.h>
#include <stdio.h>

/* virtio device ID of a block device. */
#define VIRTIO_ID_BLOCK 2

/* Feature bits (bit numbers). */
#define VIRTIO_BLK_F_SIZE_MAX 1 /* size_max: largest segment */
#define VIRTIO_BLK_F_SEG_MAX 2	/* seg_max: most data segments */
#define VIRTIO_BLK_F_BLK_SIZE 6 /* blk_size: optimal block size */
#define VIRTIO_BLK_F_FLUSH 9	/* FLUSH requests */
#define VIRTIO_BLK_F_MQ 12	/* num_queues */

/* Configuration space (little-endian), offsets of the fields we use. */
#define VIRTIO_BLK_CFG_CAPACITY 0    /* u64, in 512-byte sectors */
#define VIRTIO_BLK_CFG_SIZE_MAX 8    /* u32 */
#define VIRTIO_BLK_CFG_SEG_MAX 12    /* u32 */
#define VIRTIO_BLK_CFG_BLK_SIZE 20   /* u32 */
#define VIRTIO_BLK_CFG_NUM_QUEUES 34 /* u16 */
#define VIRTIO_BLK_CFG_LEN 36	     /* bytes up to and with num_queues */

/* Request types. */
#define VIRTIO_BLK_T_IN 0
#define VIRTIO_BLK_T_OUT 1
#define VIRTIO_BLK_T_FLUSH 4
#define VIRTIO_BLK_T_GET_ID 8

/* Status byte, the last byte the device writes. */
#define VIRTIO_BLK_S_OK 0
#define VIRTIO_BLK_S_IOERR 1
#define VIRTIO_BLK_S_UNSUPP 2

#define VIRTIO_BLK_SECTOR_SIZE 512u
#define VIRTIO_BLK_ID_BYTES 20u /* GET_ID answer, not NUL-terminated */

/* The request header: the first 16 device-readable bytes. */
struct virtio_blk_outhdr {
	uint32_t type;	 /* le32 */
	uint32_t ioprio; /* le32, "reserved" in virtio 1.2 */
	uint64_t sector; /* le64, in 512-byte units */
};
#define VIRTIO_BLK_HDR_LEN 16u

/* Where the examples' devices live. */
#define BLK_MMIO_BASE 0x02000000ull
#define BLK_MMIO_SIZE 0x200ull

static inline uint64_t blk_mmio_base(unsigned int devid)
{
	return BLK_MMIO_BASE + (uint64_t)devid * BLK_MMIO_SIZE;
}

/*
 * blk_store_key() - the store key @name of device (@fe, @devid) served by
 * @be, into @buf. Returns snprintf's result: >= @len means truncated.
 */
static inline int blk_store_key(char *buf, size_t len, unsigned int be,
				unsigned int fe, unsigned int devid,
				const char *name)
{
	return snprintf(buf, len, "/local/domain/%u/backend/virtio/%u/%u/%s",
			be, fe, devid, name);
}

#endif /* XENVIRTIO_EXAMPLES_BLK_PROTO_H */
