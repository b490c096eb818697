/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * DOC: virtio-mmio transport
 *
 * The virtio-mmio version 2 register file (virtio 1.2, section 4.2.2), both
 * sides of it.
 *
 * Device side (&struct xenvirtio_mmio_dev): a state machine a device model
 * feeds with the guest's register accesses - trapped MMIO from a Xen ioreq
 * server, or messages from the simulated transport below. Every access is
 * validated against the specification's access rules (32-bit aligned
 * accesses to the control registers; 8-, 16- or 32-bit naturally aligned
 * accesses to the configuration space; no writes to read-only registers, no
 * reads of write-only ones) and every written value is validated before use.
 * A driver that breaks the rules makes the device *need a reset*: Status
 * shows DEVICE_NEEDS_RESET (with a configuration change interrupt once
 * DRIVER_OK is set), later writes other than a Status write of 0 return
 * -EIO, and reads keep working so that the driver can see it. A bad value
 * written to one queue's registers breaks only that queue: it refuses
 * QueueReady until the device or the queue is reset. The register file
 * reaches the virtqueue layer only through &struct xenvirtio_mmio_dev_ops.
 *
 * Driver side (&struct xenvirtio_mmio_drv): the matching accessor over an
 * abstract register read/write function, which performs the initialisation
 * sequence (reset, ACKNOWLEDGE, DRIVER, features, FEATURES_OK check, queue
 * set-up, DRIVER_OK) so that frontend ports do not hand-roll it.
 *
 * Simulated transport: on the simulated platform the frontend's register
 * accesses travel to the backend as request/response messages over a
 * connected unix stream socket, in the shape of a Xen ioreq (address, size,
 * direction, data). &struct xenvirtio_mmio_sock_client is the frontend end,
 * &struct xenvirtio_mmio_sock_server the backend end. Interrupts and queue
 * kicks other than QueueNotify writes travel outside this socket (event
 * channels); the device reports interrupts through its ops.
 *
 * Context: one handle is used by one thread at a time. Callbacks run in the
 * thread that made the access, and must not call back into the same handle
 * except where stated. Nothing here allocates after creation.
 */
#ifndef XENVIRTIO_MMIO_H
#define XENVIRTIO_MMIO_H

#include <stdbool.h>
#include <xenvirtio/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Register offsets (virtio 1.2, table 4.1). */
#define XENVIRTIO_MMIO_MAGIC_VALUE 0x000	 /**< R: "virt" */
#define XENVIRTIO_MMIO_VERSION 0x004		 /**< R: 2 */
#define XENVIRTIO_MMIO_DEVICE_ID 0x008		 /**< R */
#define XENVIRTIO_MMIO_VENDOR_ID 0x00c		 /**< R */
#define XENVIRTIO_MMIO_DEVICE_FEATURES 0x010	 /**< R */
#define XENVIRTIO_MMIO_DEVICE_FEATURES_SEL 0x014 /**< W */
#define XENVIRTIO_MMIO_DRIVER_FEATURES 0x020	 /**< W */
#define XENVIRTIO_MMIO_DRIVER_FEATURES_SEL 0x024 /**< W */
#define XENVIRTIO_MMIO_QUEUE_SEL 0x030		 /**< W */
#define XENVIRTIO_MMIO_QUEUE_NUM_MAX 0x034	 /**< R */
#define XENVIRTIO_MMIO_QUEUE_NUM 0x038		 /**< W */
#define XENVIRTIO_MMIO_QUEUE_READY 0x044	 /**< RW */
#define XENVIRTIO_MMIO_QUEUE_NOTIFY 0x050	 /**< W */
#define XENVIRTIO_MMIO_INTERRUPT_STATUS 0x060	 /**< R */
#define XENVIRTIO_MMIO_INTERRUPT_ACK 0x064	 /**< W */
#define XENVIRTIO_MMIO_STATUS 0x070		 /**< RW */
#define XENVIRTIO_MMIO_QUEUE_DESC_LOW 0x080	 /**< W */
#define XENVIRTIO_MMIO_QUEUE_DESC_HIGH 0x084	 /**< W */
#define XENVIRTIO_MMIO_QUEUE_DRIVER_LOW 0x090	 /**< W */
#define XENVIRTIO_MMIO_QUEUE_DRIVER_HIGH 0x094	 /**< W */
#define XENVIRTIO_MMIO_QUEUE_DEVICE_LOW 0x0a0	 /**< W */
#define XENVIRTIO_MMIO_QUEUE_DEVICE_HIGH 0x0a4	 /**< W */
#define XENVIRTIO_MMIO_SHM_SEL 0x0ac		 /**< W */
#define XENVIRTIO_MMIO_SHM_LEN_LOW 0x0b0	 /**< R */
#define XENVIRTIO_MMIO_SHM_LEN_HIGH 0x0b4	 /**< R */
#define XENVIRTIO_MMIO_SHM_BASE_LOW 0x0b8	 /**< R */
#define XENVIRTIO_MMIO_SHM_BASE_HIGH 0x0bc	 /**< R */
#define XENVIRTIO_MMIO_QUEUE_RESET 0x0c0	 /**< RW */
#define XENVIRTIO_MMIO_CONFIG_GENERATION 0x0fc	 /**< R */
#define XENVIRTIO_MMIO_CONFIG 0x100 /**< device-specific configuration */

/** XENVIRTIO_MMIO_MAGIC - the value of MagicValue, "virt" little-endian. */
#define XENVIRTIO_MMIO_MAGIC 0x74726976u

/** XENVIRTIO_MMIO_MAX_CONFIG - largest device configuration space. */
#define XENVIRTIO_MMIO_MAX_CONFIG 0xf00u
/** XENVIRTIO_MMIO_MAX_QUEUES - most queues a device may have. */
#define XENVIRTIO_MMIO_MAX_QUEUES 1024u
/** XENVIRTIO_MMIO_MAX_QUEUE_NUM - largest queue size (split and packed). */
#define XENVIRTIO_MMIO_MAX_QUEUE_NUM 32768u

/* Device status bits (virtio 1.2, section 2.1). */
#define XENVIRTIO_STATUS_ACKNOWLEDGE 1u /**< the guest found the device */
#define XENVIRTIO_STATUS_DRIVER 2u	/**< the guest has a driver for it */
#define XENVIRTIO_STATUS_DRIVER_OK 4u	/**< the driver is ready */
#define XENVIRTIO_STATUS_FEATURES_OK 8u /**< feature negotiation done */
#define XENVIRTIO_STATUS_DEVICE_NEEDS_RESET 64u /**< the device gave up */
#define XENVIRTIO_STATUS_FAILED 128u		/**< the driver gave up */

/* InterruptStatus bits. */
#define XENVIRTIO_MMIO_INT_VRING 1u  /**< used buffer notification */
#define XENVIRTIO_MMIO_INT_CONFIG 2u /**< configuration change */

/* Transport feature bits the register file knows about. */
#define XENVIRTIO_F_VERSION_1 32	 /**< modern device (required by v2) */
#define XENVIRTIO_F_ACCESS_PLATFORM 33	 /**< DMA through the platform */
#define XENVIRTIO_F_RING_PACKED 34	 /**< packed virtqueues */
#define XENVIRTIO_F_NOTIFICATION_DATA 38 /**< QueueNotify carries data */
#define XENVIRTIO_F_RING_RESET 40	 /**< per-queue reset (QueueReset) */

/**
 * xenvirtio_mmio_transport_features() - transport features a device offers
 * @grants: whether the policy decided grant DMA for the device
 *
 * A virtio-mmio version 2 device always offers VERSION_1. Under grant DMA it
 * must also offer ACCESS_PLATFORM: Linux refuses a grant device otherwise,
 * and a driver that drops it would hand the device guest-physical addresses.
 * The device side offers and requires exactly these bits in addition to the
 * device-specific ones.
 *
 * Return: the feature bits (1ULL << XENVIRTIO_F_VERSION_1, plus
 * 1ULL << XENVIRTIO_F_ACCESS_PLATFORM when @grants is true).
 */
uint64_t xenvirtio_mmio_transport_features(bool grants);

/**
 * struct xenvirtio_mmio_queue_info - a queue the driver made ready
 * @index: queue index
 * @num: queue size, validated (S2): 1..max, a power of 2 unless packed
 * @packed: RING_PACKED was negotiated
 * @grants: the addresses are grant addresses (bit 63 set), else
 *	guest-physical addresses
 * @desc: descriptor area address, 16-byte aligned
 * @driver: driver area (split: available ring, 2-aligned; packed: driver
 *	event suppression, 4-aligned)
 * @device: device area (split: used ring, 4-aligned; packed: device event
 *	suppression, 4-aligned)
 * @features: the negotiated feature bits
 */
struct xenvirtio_mmio_queue_info {
	unsigned int index;
	unsigned int num;
	bool packed;
	bool grants;
	uint64_t desc;
	uint64_t driver;
	uint64_t device;
	uint64_t features;
};

/**
 * struct xenvirtio_mmio_dev_ops - how the register file reaches the device
 * @queue_ready: the driver wrote 1 to QueueReady and every register of the
 *	queue passed validation; create the virtqueue (map the rings through
 *	the mapper). Return 0, or a negative errno if the rings cannot be
 *	used (e.g. not inside granted memory): the queue then breaks and
 *	QueueReady stays 0. Required.
 * @queue_reset: release the virtqueue made by @queue_ready (QueueReady 0,
 *	QueueReset, a broken queue, device reset). Called exactly once per
 *	successful @queue_ready. Required.
 * @queue_notify: the driver kicked ready queue @index; @data is the whole
 *	value written to QueueNotify (meaningful with NOTIFICATION_DATA; a
 *	kick held until DRIVER_OK is delivered then with @data = @index).
 *	Required.
 * @device_reset: the driver wrote 0 to Status, or the device was reset by
 *	xenvirtio_mmio_dev_reset(), after every queue was released. Optional.
 * @status: Status changed to @status (e.g. DRIVER_OK: start serving).
 *	Optional.
 * @features_ok: the driver asks for FEATURES_OK with @features, which
 *	passed the register file's own checks; return 0 to accept, anything
 *	else to refuse. Optional.
 * @config_write: the driver wrote @size bytes (@value, little-endian) at
 *	@offset of the configuration space; the access rules were checked.
 *	Return 0 to accept (the callback may call
 *	xenvirtio_mmio_dev_set_config() to update the space), a negative errno
 *	to ignore the write. Optional: without it the configuration space is
 *	read-only and writes to it break the device.
 * @interrupt: InterruptStatus changed from 0 to non-zero: raise the
 *	interrupt (inject the IRQ, notify the event channel). Required.
 */
struct xenvirtio_mmio_dev_ops {
	int (*queue_ready)(void *opaque,
			   const struct xenvirtio_mmio_queue_info *q);
	void (*queue_reset)(void *opaque, unsigned int index);
	void (*queue_notify)(void *opaque, unsigned int index, uint32_t data);
	void (*device_reset)(void *opaque);
	void (*status)(void *opaque, uint8_t status);
	int (*features_ok)(void *opaque, uint64_t features);
	int (*config_write)(void *opaque, unsigned int offset,
			    unsigned int size, uint32_t value);
	void (*interrupt)(void *opaque, uint32_t status);
};

/**
 * struct xenvirtio_mmio_dev_config - what the device looks like
 * @device_id: virtio device ID (non-zero, e.g. 2 for block)
 * @vendor_id: vendor ID
 * @features: device-specific and ring feature bits offered; the register
 *	file adds xenvirtio_mmio_transport_features(@grants) and requires the
 *	driver to accept those
 * @grants: the policy decision for the device: grant DMA
 * @num_queues: number of queues, 1..XENVIRTIO_MMIO_MAX_QUEUES
 * @queue_num_max: QueueNumMax of every queue, 1..XENVIRTIO_MMIO_MAX_QUEUE_NUM
 * @config_len: size of the configuration space, 0..XENVIRTIO_MMIO_MAX_CONFIG
 * @config: its initial contents (@config_len bytes), or NULL for zeros
 */
struct xenvirtio_mmio_dev_config {
	uint32_t device_id;
	uint32_t vendor_id;
	uint64_t features;
	bool grants;
	unsigned int num_queues;
	unsigned int queue_num_max;
	unsigned int config_len;
	const void *config;
};

struct xenvirtio_mmio_dev;

/**
 * xenvirtio_mmio_dev_new() - create a virtio-mmio register file
 * @ctx: context (for logging)
 * @cfg: the device; copied
 * @ops: callbacks; the table must outlive the device
 * @opaque: passed to every callback
 * @out: the new device, in the reset state
 *
 * Return: 0 on success; -EINVAL if an argument is NULL, a required callback
 * is missing or @cfg is out of range; -ENOMEM on allocation failure.
 */
int xenvirtio_mmio_dev_new(struct xenvirtio_ctx *ctx,
			   const struct xenvirtio_mmio_dev_config *cfg,
			   const struct xenvirtio_mmio_dev_ops *ops,
			   void *opaque, struct xenvirtio_mmio_dev **out);

/**
 * xenvirtio_mmio_dev_free() - destroy a register file
 * @dev: the device, or NULL
 *
 * Ready queues are released through @queue_reset first.
 */
void xenvirtio_mmio_dev_free(struct xenvirtio_mmio_dev *dev);

/**
 * xenvirtio_mmio_dev_read() - the guest reads a register
 * @dev: device
 * @offset: offset in the register region
 * @size: access width in bytes
 * @val: the value read, zero-extended
 *
 * Return: 0 on success; -EINVAL if @dev or @val is NULL; -EPROTO if the
 * access breaks the access rules (offset outside the region or in a hole,
 * width other than 4 on a control register, width other than 1, 2 or 4 or
 * misaligned in the configuration space, read of a write-only register):
 * the device then needs a reset and the caller should complete the guest's
 * read with all-ones. @val is untouched on failure.
 */
int xenvirtio_mmio_dev_read(struct xenvirtio_mmio_dev *dev, uint32_t offset,
			    unsigned int size, uint32_t *val);

/**
 * xenvirtio_mmio_dev_write() - the guest writes a register
 * @dev: device
 * @offset: offset in the register region
 * @size: access width in bytes
 * @val: the value written
 *
 * Validates the access and the value before anything else uses it. A bad
 * QueueNum (S2), queue registers written while the queue is ready, and a
 * queue that fails validation on QueueReady (S4: size, ring alignment,
 * grant or plain addresses as the mode says, FEATURES_OK, @queue_ready)
 * break that queue and set DEVICE_NEEDS_RESET. A queue register written
 * while QueueSel is out of range (S1), an access-rule violation, a Status
 * write that clears a bit, skips a step or sets an undefined bit,
 * DriverFeatures written outside negotiation and a notify of a queue that
 * does not exist break the device. QueueNotify of a queue that is not ready
 * is ignored; before DRIVER_OK it is held and delivered at DRIVER_OK.
 *
 * Return: 0 on success, including a FEATURES_OK request the device refused
 * (Status then reads back without FEATURES_OK, as the specification says);
 * -EINVAL if @dev is NULL; -EPROTO if this write broke the rules (the write
 * was ignored; the queue or the device is now broken); -EIO if the device
 * was already broken (only a Status write of 0 is accepted then), or the
 * write went to a broken queue's registers (QueueReady 0 and QueueReset
 * excepted).
 */
int xenvirtio_mmio_dev_write(struct xenvirtio_mmio_dev *dev, uint32_t offset,
			     unsigned int size, uint32_t val);

/**
 * xenvirtio_mmio_dev_reset() - reset the device from the device model's side
 * @dev: device
 *
 * Does what a Status write of 0 does: releases every ready queue, calls
 * @device_reset and clears the broken state, Status, InterruptStatus, the
 * features and the selectors. The configuration space is kept.
 *
 * Return: 0; -EINVAL if @dev is NULL.
 */
int xenvirtio_mmio_dev_reset(struct xenvirtio_mmio_dev *dev);

/**
 * xenvirtio_mmio_dev_interrupt() - signal used buffers to the driver
 * @dev: device
 *
 * Sets the used-buffer bit of InterruptStatus and calls @interrupt if the
 * status was 0.
 *
 * Return: 0; -EINVAL if @dev is NULL; -EAGAIN before DRIVER_OK (a device
 * must not notify before, nothing is raised); -EIO if the device needs a
 * reset.
 */
int xenvirtio_mmio_dev_interrupt(struct xenvirtio_mmio_dev *dev);

/**
 * xenvirtio_mmio_dev_set_config() - update the configuration space
 * @dev: device
 * @offset: first byte
 * @data: new contents
 * @len: number of bytes
 *
 * Changes ConfigGeneration, and raises a configuration change interrupt
 * once DRIVER_OK is set. May be called from @config_write.
 *
 * Return: 0; -EINVAL if @dev or @data is NULL or the range is outside the
 * configuration space.
 */
int xenvirtio_mmio_dev_set_config(struct xenvirtio_mmio_dev *dev,
				  unsigned int offset, const void *data,
				  unsigned int len);

/**
 * xenvirtio_mmio_dev_needs_reset() - set DEVICE_NEEDS_RESET
 * @dev: device
 * @why: a short reason for the log
 *
 * For a device model that hit an error it cannot recover from (e.g. a
 * broken virtqueue): breaks the device as a driver violation does.
 *
 * Return: 0; -EINVAL if an argument is NULL.
 */
int xenvirtio_mmio_dev_needs_reset(struct xenvirtio_mmio_dev *dev,
				   const char *why);

/**
 * xenvirtio_mmio_dev_status() - the current device status
 * @dev: device
 *
 * Return: the Status register (0..255); -EINVAL if @dev is NULL.
 */
int xenvirtio_mmio_dev_status(const struct xenvirtio_mmio_dev *dev);

/**
 * xenvirtio_mmio_dev_features() - the negotiated features
 * @dev: device
 * @features: the driver features accepted with FEATURES_OK
 *
 * Return: 0; -EINVAL if an argument is NULL; -EAGAIN before FEATURES_OK.
 */
int xenvirtio_mmio_dev_features(const struct xenvirtio_mmio_dev *dev,
				uint64_t *features);

/**
 * struct xenvirtio_mmio_drv_io - how the driver side reaches the registers
 * @read: read @size (1, 2 or 4) bytes at @offset into @val; 0 or a
 *	negative errno
 * @write: write @val of @size bytes at @offset; 0 or a negative errno
 */
struct xenvirtio_mmio_drv_io {
	int (*read)(void *opaque, uint32_t offset, unsigned int size,
		    uint32_t *val);
	int (*write)(void *opaque, uint32_t offset, unsigned int size,
		     uint32_t val);
};

struct xenvirtio_mmio_drv;

/**
 * xenvirtio_mmio_drv_new() - create a driver-side accessor
 * @ctx: context (for logging)
 * @io: register access functions; must outlive the accessor
 * @opaque: passed to @io
 * @out: the accessor
 *
 * Return: 0; -EINVAL if an argument is NULL; -ENOMEM.
 */
int xenvirtio_mmio_drv_new(struct xenvirtio_ctx *ctx,
			   const struct xenvirtio_mmio_drv_io *io, void *opaque,
			   struct xenvirtio_mmio_drv **out);

/**
 * xenvirtio_mmio_drv_free() - destroy an accessor
 * @drv: accessor, or NULL
 */
void xenvirtio_mmio_drv_free(struct xenvirtio_mmio_drv *drv);

/**
 * xenvirtio_mmio_drv_init() - probe and negotiate
 * @drv: accessor
 * @features: features the driver supports (device-specific and ring bits);
 *	VERSION_1, and ACCESS_PLATFORM when @grants, are added here. The
 *	driver accepts the offered subset of the union.
 * @grants: the policy decided grant DMA for this device
 * @device_id: the device ID read from the device, or NULL
 * @negotiated: the features accepted by the device, or NULL
 *
 * Checks MagicValue and Version, resets the device, sets ACKNOWLEDGE and
 * DRIVER, reads the offered features, writes the accepted ones, sets
 * FEATURES_OK and reads it back. On refusal sets FAILED.
 *
 * Return: 0; -EINVAL if @drv is NULL; -ENODEV if there is no version 2
 * virtio-mmio device (bad magic or version, device ID 0), or it does not
 * offer VERSION_1, or @grants and it does not offer ACCESS_PLATFORM;
 * -ENOTSUP if the device refused FEATURES_OK; -EIO if the device does not
 * reset or needs a reset; errors of @io.
 */
int xenvirtio_mmio_drv_init(struct xenvirtio_mmio_drv *drv, uint64_t features,
			    bool grants, uint32_t *device_id,
			    uint64_t *negotiated);

/**
 * xenvirtio_mmio_drv_queue_setup() - set up and enable one queue
 * @drv: accessor, after xenvirtio_mmio_drv_init()
 * @index: queue index
 * @num: queue size
 * @desc: descriptor area address
 * @driver: driver area address
 * @device: device area address
 *
 * Return: 0; -EINVAL if @drv is NULL or @num is 0; -ENOENT if the queue
 * does not exist (QueueNumMax 0); -EBUSY if it is already ready;
 * -ERANGE if @num exceeds QueueNumMax; -EIO if the device did not accept
 * the queue (QueueReady reads back 0); errors of @io.
 */
int xenvirtio_mmio_drv_queue_setup(struct xenvirtio_mmio_drv *drv,
				   unsigned int index, unsigned int num,
				   uint64_t desc, uint64_t driver,
				   uint64_t device);

/**
 * xenvirtio_mmio_drv_queue_num_max() - read a queue's QueueNumMax
 * @drv: accessor
 * @index: queue index
 *
 * Return: QueueNumMax (0 if the queue does not exist); -EINVAL; errors of
 * @io.
 */
int xenvirtio_mmio_drv_queue_num_max(struct xenvirtio_mmio_drv *drv,
				     unsigned int index);

/**
 * xenvirtio_mmio_drv_driver_ok() - finish initialisation
 * @drv: accessor
 *
 * Return: 0; -EINVAL; -EIO if Status does not read back with DRIVER_OK or
 * shows DEVICE_NEEDS_RESET; errors of @io.
 */
int xenvirtio_mmio_drv_driver_ok(struct xenvirtio_mmio_drv *drv);

/**
 * xenvirtio_mmio_drv_reset() - reset the device
 * @drv: accessor
 *
 * Return: 0; -EINVAL; -EIO if Status does not read back 0; errors of @io.
 */
int xenvirtio_mmio_drv_reset(struct xenvirtio_mmio_drv *drv);

/**
 * xenvirtio_mmio_drv_notify() - kick a queue
 * @drv: accessor
 * @index: queue index
 *
 * Return: 0; -EINVAL; errors of @io.
 */
int xenvirtio_mmio_drv_notify(struct xenvirtio_mmio_drv *drv,
			      unsigned int index);

/**
 * xenvirtio_mmio_drv_ack_interrupt() - read and acknowledge InterruptStatus
 * @drv: accessor
 * @status: the bits that were pending (XENVIRTIO_MMIO_INT_*), or NULL
 *
 * Return: 0; -EINVAL; errors of @io.
 */
int xenvirtio_mmio_drv_ack_interrupt(struct xenvirtio_mmio_drv *drv,
				     uint32_t *status);

/**
 * xenvirtio_mmio_drv_config_read() - read a configuration field
 * @drv: accessor
 * @offset: offset of the field in the configuration space
 * @size: field width: 1, 2, 4 or 8 (read as two 32-bit halves)
 * @val: the field
 *
 * Reads under ConfigGeneration: retries while the generation changes.
 *
 * Return: 0; -EINVAL if @drv or @val is NULL, @size is not 1, 2, 4 or 8 or
 * @offset is not aligned to min(@size, 4); -EAGAIN if the generation kept
 * changing; errors of @io.
 */
int xenvirtio_mmio_drv_config_read(struct xenvirtio_mmio_drv *drv,
				   unsigned int offset, unsigned int size,
				   uint64_t *val);

/**
 * xenvirtio_mmio_drv_config_write() - write a configuration field
 * @drv: accessor
 * @offset: offset of the field in the configuration space
 * @size: field width: 1, 2 or 4
 * @val: the value
 *
 * Return: 0; -EINVAL if @drv is NULL, @size is not 1, 2 or 4 or @offset is
 * misaligned; errors of @io.
 */
int xenvirtio_mmio_drv_config_write(struct xenvirtio_mmio_drv *drv,
				    unsigned int offset, unsigned int size,
				    uint32_t val);

/**
 * XENVIRTIO_MMIO_SOCK_MSG_SIZE - bytes of one request or response
 *
 * The wire format (all little-endian): u64 address, u64 data, u32 sequence
 * number, u8 size (1, 2, 4 or 8), u8 direction (0 write, 1 read, as Xen's
 * IOREQ_WRITE/IOREQ_READ), u8 status (0 in requests; in responses 0 done,
 * 1 refused: reads then carry all-ones), u8 reserved (0). A response echoes
 * the request's address, sequence number, size and direction.
 */
#define XENVIRTIO_MMIO_SOCK_MSG_SIZE 24u

struct xenvirtio_mmio_sock_server;

/**
 * xenvirtio_mmio_sock_server_new() - serve a register file on a socket
 * @ctx: context (for logging)
 * @dev: the register file
 * @fd: a connected unix stream socket, closed by
 *	xenvirtio_mmio_sock_server_free()
 * @base: guest address of the register region (requests carry guest
 *	addresses)
 * @out: the server
 *
 * Return: 0; -EINVAL if an argument is NULL or @fd is negative; -ENOMEM.
 */
int xenvirtio_mmio_sock_server_new(struct xenvirtio_ctx *ctx,
				   struct xenvirtio_mmio_dev *dev, int fd,
				   uint64_t base,
				   struct xenvirtio_mmio_sock_server **out);

/**
 * xenvirtio_mmio_sock_server_free() - close a server
 * @srv: server, or NULL
 */
void xenvirtio_mmio_sock_server_free(struct xenvirtio_mmio_sock_server *srv);

/**
 * xenvirtio_mmio_sock_server_fd() - the descriptor to poll for POLLIN
 * @srv: server
 *
 * Return: the fd; -EINVAL.
 */
int xenvirtio_mmio_sock_server_fd(const struct xenvirtio_mmio_sock_server *srv);

/**
 * xenvirtio_mmio_sock_server_process() - handle what the client sent
 * @srv: server
 * @timeout_ms: how long a response may wait for room in the socket
 *
 * Never blocks on input: reads what is there, keeps a partial message for
 * the next call, and answers every complete request (at most 64 per
 * call). A request that is malformed (size other than 1, 2, 4 or 8, bad
 * direction, non-zero status or reserved byte, write data wider than its
 * size, read data not 0) breaks the connection; a well-formed access the
 * register file refuses (outside the region, wrong width, ...) is answered
 * with status 1 and the device needs a reset. A client that stalls in the
 * middle of a request costs nothing here; dropping it after a while is the
 * caller's policy.
 *
 * Return: the number of requests answered (0 if none was complete);
 * -EINVAL if @srv is NULL; -EPIPE if the client hung up (the message
 * says whether in the middle of a request); -EPROTO if the client sent a
 * malformed request; -ETIMEDOUT if a response could not be sent in time;
 * -EIO if the connection was already broken; errors of recv()/send().
 */
int xenvirtio_mmio_sock_server_process(struct xenvirtio_mmio_sock_server *srv,
				       int timeout_ms);

struct xenvirtio_mmio_sock_client;

/**
 * xenvirtio_mmio_sock_client_new() - register accesses over a socket
 * @ctx: context (for logging)
 * @fd: a connected unix stream socket; closed by
 *	xenvirtio_mmio_sock_client_free()
 * @base: guest address of the register region
 * @timeout_ms: bound on each round trip, > 0
 * @out: the client
 *
 * Return: 0; -EINVAL if an argument is NULL, @fd is negative or
 * @timeout_ms <= 0; -ENOMEM.
 */
int xenvirtio_mmio_sock_client_new(struct xenvirtio_ctx *ctx, int fd,
				   uint64_t base, int timeout_ms,
				   struct xenvirtio_mmio_sock_client **out);

/**
 * xenvirtio_mmio_sock_client_free() - close a client
 * @cl: client, or NULL
 */
void xenvirtio_mmio_sock_client_free(struct xenvirtio_mmio_sock_client *cl);

/**
 * xenvirtio_mmio_sock_client_io() - the client as driver-side register I/O
 *
 * Pass it to xenvirtio_mmio_drv_new() with the client as opaque.
 * Its functions return what xenvirtio_mmio_sock_client_read() and
 * xenvirtio_mmio_sock_client_write() return.
 *
 * Return: a static table.
 */
const struct xenvirtio_mmio_drv_io *xenvirtio_mmio_sock_client_io(void);

/**
 * xenvirtio_mmio_sock_client_read() - read a register through the socket
 * @cl: client
 * @offset: offset in the register region
 * @size: 1, 2 or 4
 * @val: the value
 *
 * Return: 0; -EINVAL if @cl or @val is NULL or @size is bad; -EPROTO if the
 * device refused the access, or the response was malformed (which breaks
 * the client); -EPIPE if the server hung up; -ETIMEDOUT if no complete
 * response arrived within the timeout (breaks the client); -EIO if the
 * client was already broken; errors of send()/recv().
 */
int xenvirtio_mmio_sock_client_read(struct xenvirtio_mmio_sock_client *cl,
				    uint32_t offset, unsigned int size,
				    uint32_t *val);

/**
 * xenvirtio_mmio_sock_client_write() - write a register through the socket
 * @cl: client
 * @offset: offset in the register region
 * @size: 1, 2 or 4
 * @val: the value
 *
 * Return: as xenvirtio_mmio_sock_client_read(); -EINVAL also if @val does
 * not fit in @size bytes.
 */
int xenvirtio_mmio_sock_client_write(struct xenvirtio_mmio_sock_client *cl,
				     uint32_t offset, unsigned int size,
				     uint32_t val);

#ifdef __cplusplus
}
#endif

#endif /* XENVIRTIO_MMIO_H */
