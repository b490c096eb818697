/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The virtio-mmio version 2 register file, device side: a state machine fed
 * one guest access at a time. Every access is checked against the access
 * rules first, every written value is validated before it is stored, and a
 * queue is validated again, as a whole, each time it is made ready (S4).
 */
#include "mmio_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MMIO_VERSION 2u

#define STATUS_DEFINED                                               \
	(XENVIRTIO_STATUS_ACKNOWLEDGE | XENVIRTIO_STATUS_DRIVER |    \
	 XENVIRTIO_STATUS_DRIVER_OK | XENVIRTIO_STATUS_FEATURES_OK | \
	 XENVIRTIO_STATUS_FAILED)

#define INT_DEFINED (XENVIRTIO_MMIO_INT_VRING | XENVIRTIO_MMIO_INT_CONFIG)

#define BIT64(n) (1ULL << (n))

struct mmio_queue {
	uint32_t num;
	uint64_t desc;
	uint64_t driver;
	uint64_t device;
	bool ready;	   /* queue_ready() accepted; queue_reset() owed */
	bool reset_done;   /* QueueReset reads 1 until re-enabled */
	bool kick_pending; /* notified before DRIVER_OK */
	struct xv_broken broken;
};

struct xenvirtio_mmio_dev {
	struct xenvirtio_ctx *ctx;
	const struct xenvirtio_mmio_dev_ops *ops;
	void *opaque;

	uint32_t device_id;
	uint32_t vendor_id;
	uint64_t offered;
	uint64_t required;
	bool grants;
	unsigned int num_queues;
	unsigned int queue_num_max;
	unsigned int config_len;

	uint32_t dev_features_sel;
	uint32_t drv_features_sel;
	uint32_t queue_sel;
	uint32_t shm_sel;
	uint64_t drv_features;
	bool drv_features_unoffered; /* a word beyond 64 bits was non-zero */
	uint64_t features;	     /* accepted with FEATURES_OK */
	uint8_t status;
	uint32_t isr;
	uint32_t generation;
	struct xv_broken broken;

	struct mmio_queue *q;
	uint8_t *config;
};

XV_EXPORT uint64_t xenvirtio_mmio_transport_features(bool grants)
{
	uint64_t f = BIT64(XENVIRTIO_F_VERSION_1);

	if (grants)
		f |= BIT64(XENVIRTIO_F_ACCESS_PLATFORM);
	return f;
}

static bool negotiated(const struct xenvirtio_mmio_dev *dev, int bit)
{
	return (dev->status & XENVIRTIO_STATUS_FEATURES_OK) &&
	       (dev->features & BIT64(bit));
}

static void raise_interrupt(struct xenvirtio_mmio_dev *dev, uint32_t bits)
{
	uint32_t old = dev->isr;

	dev->isr |= bits;
	if (!old && dev->isr)
		dev->ops->interrupt(dev->opaque, dev->isr);
}

static void queue_release(struct xenvirtio_mmio_dev *dev, unsigned int i)
{
	struct mmio_queue *q = &dev->q[i];

	q->kick_pending = false;
	if (!q->ready)
		return;
	q->ready = false;
	dev->ops->queue_reset(dev->opaque, i);
}

static void queue_clear(struct xenvirtio_mmio_dev *dev, unsigned int i)
{
	struct mmio_queue *q = &dev->q[i];

	queue_release(dev, i);
	memset(q, 0, sizeof(*q));
	q->num = dev->queue_num_max;
}

/* DEVICE_NEEDS_RESET, announced by a configuration change interrupt. */
static void set_needs_reset(struct xenvirtio_mmio_dev *dev)
{
	if (dev->status & XENVIRTIO_STATUS_DEVICE_NEEDS_RESET)
		return;
	dev->status |= XENVIRTIO_STATUS_DEVICE_NEEDS_RESET;
	if (dev->status & XENVIRTIO_STATUS_DRIVER_OK)
		raise_interrupt(dev, XENVIRTIO_MMIO_INT_CONFIG);
}

static int dev_break(struct xenvirtio_mmio_dev *dev, const char *fmt, ...)
	XV_PRINTF(2, 3);
static int queue_break(struct xenvirtio_mmio_dev *dev, unsigned int i,
		       const char *fmt, ...) XV_PRINTF(3, 4);

static int dev_break(struct xenvirtio_mmio_dev *dev, const char *fmt, ...)
{
	va_list ap;
	unsigned int i;

	va_start(ap, fmt);
	xv_vbreak(dev->ctx, &dev->broken, "virtio-mmio device", fmt, ap);
	va_end(ap);
	for (i = 0; i < dev->num_queues; i++)
		queue_release(dev, i);
	set_needs_reset(dev);
	return -EPROTO;
}

static int queue_break(struct xenvirtio_mmio_dev *dev, unsigned int i,
		       const char *fmt, ...)
{
	char what[32];
	va_list ap;

	snprintf(what, sizeof(what), "virtio-mmio queue %u", i);
	va_start(ap, fmt);
	xv_vbreak(dev->ctx, &dev->q[i].broken, what, fmt, ap);
	va_end(ap);
	queue_release(dev, i);
	set_needs_reset(dev);
	return -EPROTO;
}

static void do_reset(struct xenvirtio_mmio_dev *dev)
{
	unsigned int i;

	for (i = 0; i < dev->num_queues; i++)
		queue_clear(dev, i);
	dev->dev_features_sel = 0;
	dev->drv_features_sel = 0;
	dev->queue_sel = 0;
	dev->shm_sel = 0;
	dev->drv_features = 0;
	dev->drv_features_unoffered = false;
	dev->features = 0;
	dev->status = 0;
	dev->isr = 0;
	xv_broken_clear(&dev->broken);
	if (dev->ops->device_reset)
		dev->ops->device_reset(dev->opaque);
}

XV_EXPORT int
xenvirtio_mmio_dev_new(struct xenvirtio_ctx *ctx,
		       const struct xenvirtio_mmio_dev_config *cfg,
		       const struct xenvirtio_mmio_dev_ops *ops, void *opaque,
		       struct xenvirtio_mmio_dev **out)
{
	struct xenvirtio_mmio_dev *dev;

	if (!ctx || !cfg || !ops || !out)
		return -EINVAL;
	if (!ops->queue_ready || !ops->queue_reset || !ops->queue_notify ||
	    !ops->interrupt) {
		xv_err(ctx, "virtio-mmio: a required callback is missing");
		return -EINVAL;
	}
	if (!cfg->device_id || !cfg->num_queues ||
	    cfg->num_queues > XENVIRTIO_MMIO_MAX_QUEUES ||
	    !cfg->queue_num_max ||
	    cfg->queue_num_max > XENVIRTIO_MMIO_MAX_QUEUE_NUM ||
	    cfg->config_len > XENVIRTIO_MMIO_MAX_CONFIG) {
		xv_err(ctx,
		       "virtio-mmio: bad device configuration "
		       "(id %u, %u queues of %u, config %u bytes)",
		       cfg->device_id, cfg->num_queues, cfg->queue_num_max,
		       cfg->config_len);
		return -EINVAL;
	}
	dev = calloc(1, sizeof(*dev));
	if (!dev)
		return -ENOMEM;
	dev->q = calloc(cfg->num_queues, sizeof(*dev->q));
	dev->config = calloc(1, cfg->config_len ? cfg->config_len : 1);
	if (!dev->q || !dev->config) {
		free(dev->q);
		free(dev->config);
		free(dev);
		return -ENOMEM;
	}
	if (cfg->config && cfg->config_len)
		memcpy(dev->config, cfg->config, cfg->config_len);
	dev->ctx = ctx;
	dev->ops = ops;
	dev->opaque = opaque;
	dev->device_id = cfg->device_id;
	dev->vendor_id = cfg->vendor_id;
	dev->grants = cfg->grants;
	dev->required = xenvirtio_mmio_transport_features(cfg->grants);
	dev->offered = cfg->features | dev->required;
	dev->num_queues = cfg->num_queues;
	dev->queue_num_max = cfg->queue_num_max;
	dev->config_len = cfg->config_len;
	for (unsigned int i = 0; i < dev->num_queues; i++)
		dev->q[i].num = dev->queue_num_max;
	*out = dev;
	return 0;
}

XV_EXPORT void xenvirtio_mmio_dev_free(struct xenvirtio_mmio_dev *dev)
{
	unsigned int i;

	if (!dev)
		return;
	for (i = 0; i < dev->num_queues; i++)
		queue_release(dev, i);
	free(dev->q);
	free(dev->config);
	free(dev);
}

/* The access rules (virtio 1.2, 4.2.2.2): which accesses exist at all. */
enum reg_dir { REG_NONE = 0, REG_R = 1, REG_W = 2, REG_RW = 3 };

static enum reg_dir reg_dir(uint32_t offset)
{
	switch (offset) {
	case XENVIRTIO_MMIO_MAGIC_VALUE:
	case XENVIRTIO_MMIO_VERSION:
	case XENVIRTIO_MMIO_DEVICE_ID:
	case XENVIRTIO_MMIO_VENDOR_ID:
	case XENVIRTIO_MMIO_DEVICE_FEATURES:
	case XENVIRTIO_MMIO_QUEUE_NUM_MAX:
	case XENVIRTIO_MMIO_INTERRUPT_STATUS:
	case XENVIRTIO_MMIO_SHM_LEN_LOW:
	case XENVIRTIO_MMIO_SHM_LEN_HIGH:
	case XENVIRTIO_MMIO_SHM_BASE_LOW:
	case XENVIRTIO_MMIO_SHM_BASE_HIGH:
	case XENVIRTIO_MMIO_CONFIG_GENERATION:
		return REG_R;
	case XENVIRTIO_MMIO_DEVICE_FEATURES_SEL:
	case XENVIRTIO_MMIO_DRIVER_FEATURES:
	case XENVIRTIO_MMIO_DRIVER_FEATURES_SEL:
	case XENVIRTIO_MMIO_QUEUE_SEL:
	case XENVIRTIO_MMIO_QUEUE_NUM:
	case XENVIRTIO_MMIO_QUEUE_NOTIFY:
	case XENVIRTIO_MMIO_INTERRUPT_ACK:
	case XENVIRTIO_MMIO_QUEUE_DESC_LOW:
	case XENVIRTIO_MMIO_QUEUE_DESC_HIGH:
	case XENVIRTIO_MMIO_QUEUE_DRIVER_LOW:
	case XENVIRTIO_MMIO_QUEUE_DRIVER_HIGH:
	case XENVIRTIO_MMIO_QUEUE_DEVICE_LOW:
	case XENVIRTIO_MMIO_QUEUE_DEVICE_HIGH:
	case XENVIRTIO_MMIO_SHM_SEL:
		return REG_W;
	case XENVIRTIO_MMIO_QUEUE_READY:
	case XENVIRTIO_MMIO_STATUS:
	case XENVIRTIO_MMIO_QUEUE_RESET:
		return REG_RW;
	default:
		return REG_NONE;
	}
}

static const char *reg_kind(uint32_t offset, enum reg_dir dir)
{
	if (reg_dir(offset) == REG_NONE)
		return "undefined";
	return dir == REG_R ? "write-only" : "read-only";
}

/* 0 if the access may happen at all, else breaks the device. */
static int check_access(struct xenvirtio_mmio_dev *dev, uint32_t offset,
			unsigned int size, enum reg_dir dir)
{
	const char *op = dir == REG_R ? "read" : "write";

	if (offset >= XENVIRTIO_MMIO_CONFIG) {
		uint32_t off = offset - XENVIRTIO_MMIO_CONFIG;

		if (size != 1 && size != 2 && size != 4)
			return dev_break(dev, "%u-byte config %s at %#x", size,
					 op, (unsigned int)offset);
		if (off & (size - 1))
			return dev_break(dev,
					 "misaligned %u-byte config %s "
					 "at %#x",
					 size, op, (unsigned int)offset);
		if (!xv_range_ok(off, size, dev->config_len))
			return dev_break(dev,
					 "config %s at %#x past the %u-byte "
					 "config space",
					 op, (unsigned int)offset,
					 dev->config_len);
		return 0;
	}
	if (size != 4 || (offset & 3))
		return dev_break(dev,
				 "%u-byte %s at %#x (control registers "
				 "take aligned 32-bit accesses)",
				 size, op, (unsigned int)offset);
	if (!(reg_dir(offset) & dir))
		return dev_break(dev, "%s of %s register %#x", op,
				 reg_kind(offset, dir), (unsigned int)offset);
	return 0;
}

static uint32_t config_load(const struct xenvirtio_mmio_dev *dev, uint32_t off,
			    unsigned int size)
{
	uint32_t v = 0;
	unsigned int i;

	for (i = 0; i < size; i++)
		v |= (uint32_t)dev->config[off + i] << (8 * i);
	return v;
}

XV_EXPORT int xenvirtio_mmio_dev_read(struct xenvirtio_mmio_dev *dev,
				      uint32_t offset, unsigned int size,
				      uint32_t *val)
{
	const struct mmio_queue *q;
	uint32_t v;
	int r;

	if (!dev || !val)
		return -EINVAL;
	r = check_access(dev, offset, size, REG_R);
	if (r < 0)
		return r;
	if (offset >= XENVIRTIO_MMIO_CONFIG) {
		*val = config_load(dev, offset - XENVIRTIO_MMIO_CONFIG, size);
		return 0;
	}
	q = dev->queue_sel < dev->num_queues ? &dev->q[dev->queue_sel] : NULL;
	switch (offset) {
	case XENVIRTIO_MMIO_MAGIC_VALUE:
		v = XENVIRTIO_MMIO_MAGIC;
		break;
	case XENVIRTIO_MMIO_VERSION:
		v = MMIO_VERSION;
		break;
	case XENVIRTIO_MMIO_DEVICE_ID:
		v = dev->device_id;
		break;
	case XENVIRTIO_MMIO_VENDOR_ID:
		v = dev->vendor_id;
		break;
	case XENVIRTIO_MMIO_DEVICE_FEATURES:
		v = dev->dev_features_sel == 0 ? (uint32_t)dev->offered
		    : dev->dev_features_sel == 1
			? (uint32_t)(dev->offered >> 32)
			: 0;
		break;
	case XENVIRTIO_MMIO_QUEUE_NUM_MAX:
		/* 0: "the queue is not available" (S1 for the driver) */
		v = q ? dev->queue_num_max : 0;
		break;
	case XENVIRTIO_MMIO_QUEUE_READY:
		v = q ? q->ready : 0;
		break;
	case XENVIRTIO_MMIO_INTERRUPT_STATUS:
		v = dev->isr;
		break;
	case XENVIRTIO_MMIO_STATUS:
		v = dev->status;
		break;
	case XENVIRTIO_MMIO_QUEUE_RESET:
		v = q && negotiated(dev, XENVIRTIO_F_RING_RESET) ? q->reset_done
								 : 0;
		break;
	case XENVIRTIO_MMIO_CONFIG_GENERATION:
		v = dev->generation;
		break;
	default:
		/* Shared memory regions: none; length ~0 says so. */
		v = 0xffffffffu;
		break;
	}
	*val = v;
	return 0;
}

static bool is_pow2(uint32_t n)
{
	return n && !(n & (n - 1));
}

/* S4: the whole queue, checked again at every QueueReady = 1. */
static int queue_enable(struct xenvirtio_mmio_dev *dev, unsigned int i)
{
	struct mmio_queue *q = &dev->q[i];
	struct xenvirtio_mmio_queue_info info;
	bool packed = negotiated(dev, XENVIRTIO_F_RING_PACKED);
	uint64_t flag = XENVIRTIO_GRANT_ADDR_FLAG;
	int r;

	if (q->ready)
		return 0;
	if (!(dev->status & XENVIRTIO_STATUS_FEATURES_OK) ||
	    (dev->status & XENVIRTIO_STATUS_FAILED))
		return queue_break(dev, i, "made ready before FEATURES_OK");
	if (!q->num || q->num > dev->queue_num_max ||
	    (!packed && !is_pow2(q->num)))
		return queue_break(dev, i, "bad size %u (max %u, %s)", q->num,
				   dev->queue_num_max,
				   packed ? "packed" : "split");
	if ((q->desc & 15) || (q->driver & (packed ? 3 : 1)) || (q->device & 3))
		return queue_break(dev, i,
				   "misaligned ring: desc %#llx "
				   "driver %#llx device %#llx",
				   (unsigned long long)q->desc,
				   (unsigned long long)q->driver,
				   (unsigned long long)q->device);
	if (dev->grants &&
	    (!(q->desc & flag) || !(q->driver & flag) || !(q->device & flag)))
		return queue_break(dev, i, "plain ring address in grant mode");
	if (!dev->grants &&
	    ((q->desc & flag) || (q->driver & flag) || (q->device & flag)))
		return queue_break(dev, i, "grant ring address without grants");

	info.index = i;
	info.num = q->num;
	info.packed = packed;
	info.grants = dev->grants;
	info.desc = q->desc;
	info.driver = q->driver;
	info.device = q->device;
	info.features = dev->features;
	r = dev->ops->queue_ready(dev->opaque, &info);
	if (r < 0)
		return queue_break(dev, i, "rings refused by the device: %s",
				   xenvirtio_strerror(r));
	q->ready = true;
	q->reset_done = false;
	return 0;
}

static int queue_write(struct xenvirtio_mmio_dev *dev, uint32_t offset,
		       uint32_t val)
{
	unsigned int i = dev->queue_sel;
	struct mmio_queue *q;
	uint64_t *addr;

	/* S1: the selector is checked before it indexes anything. */
	if (dev->queue_sel >= dev->num_queues)
		return dev_break(dev, "write %#x to QueueSel %u of %u queues",
				 (unsigned int)offset, dev->queue_sel,
				 dev->num_queues);
	q = &dev->q[i];
	if (offset == XENVIRTIO_MMIO_QUEUE_READY) {
		if (val > 1)
			return queue_break(dev, i, "QueueReady %u", val);
		if (!val) {
			queue_release(dev, i);
			return 0;
		}
		if (xv_broken_check(&q->broken))
			return -EIO;
		return queue_enable(dev, i);
	}
	if (xv_broken_check(&q->broken))
		return -EIO;
	if (q->ready)
		return queue_break(dev, i, "register %#x written while ready",
				   (unsigned int)offset);
	switch (offset) {
	case XENVIRTIO_MMIO_QUEUE_NUM:
		/* S2, early; queue_enable() checks again. */
		if (!val || val > dev->queue_num_max ||
		    (!negotiated(dev, XENVIRTIO_F_RING_PACKED) &&
		     (dev->status & XENVIRTIO_STATUS_FEATURES_OK) &&
		     !is_pow2(val)))
			return queue_break(dev, i, "bad QueueNum %u (max %u)",
					   val, dev->queue_num_max);
		q->num = val;
		return 0;
	case XENVIRTIO_MMIO_QUEUE_DESC_LOW:
	case XENVIRTIO_MMIO_QUEUE_DESC_HIGH:
		addr = &q->desc;
		break;
	case XENVIRTIO_MMIO_QUEUE_DRIVER_LOW:
	case XENVIRTIO_MMIO_QUEUE_DRIVER_HIGH:
		addr = &q->driver;
		break;
	default:
		addr = &q->device;
		break;
	}
	if (offset & 4)
		*addr = (*addr & 0xffffffffULL) | (uint64_t)val << 32;
	else
		*addr = (*addr & ~0xffffffffULL) | val;
	return 0;
}

static int queue_reset_write(struct xenvirtio_mmio_dev *dev, uint32_t val)
{
	unsigned int i = dev->queue_sel;

	if (dev->queue_sel >= dev->num_queues)
		return dev_break(dev, "QueueReset of QueueSel %u of %u queues",
				 dev->queue_sel, dev->num_queues);
	if (!negotiated(dev, XENVIRTIO_F_RING_RESET))
		return dev_break(dev, "QueueReset without RING_RESET");
	if (val != 1)
		return dev_break(dev, "QueueReset %u", val);
	/* S4: release, forget everything, clear the queue's broken state. */
	queue_clear(dev, i);
	dev->q[i].reset_done = true;
	return 0;
}

static int features_acceptable(struct xenvirtio_mmio_dev *dev)
{
	uint64_t f = dev->drv_features;

	if (dev->drv_features_unoffered || (f & ~dev->offered)) {
		xv_warn(dev->ctx,
			"virtio-mmio: FEATURES_OK refused: driver "
			"accepts unoffered features %#llx",
			(unsigned long long)(f & ~dev->offered));
		return -ENOTSUP;
	}
	if ((f & dev->required) != dev->required) {
		xv_warn(dev->ctx,
			"virtio-mmio: FEATURES_OK refused: required "
			"features %#llx not accepted",
			(unsigned long long)(dev->required & ~f));
		return -ENOTSUP;
	}
	if (dev->ops->features_ok && dev->ops->features_ok(dev->opaque, f)) {
		xv_warn(dev->ctx,
			"virtio-mmio: FEATURES_OK refused by the "
			"device for features %#llx",
			(unsigned long long)f);
		return -ENOTSUP;
	}
	return 0;
}

static int status_write(struct xenvirtio_mmio_dev *dev, uint32_t val)
{
	uint8_t old = dev->status;
	uint8_t set;
	unsigned int i;

	if (!val) {
		do_reset(dev);
		return 0;
	}
	if (xv_broken_check(&dev->broken))
		return -EIO;
	/* Drivers write back what they read (Linux's add_status does), so
	 * DEVICE_NEEDS_RESET may be echoed, never set. */
	if (old & XENVIRTIO_STATUS_DEVICE_NEEDS_RESET)
		val &= ~XENVIRTIO_STATUS_DEVICE_NEEDS_RESET;
	if (val & ~STATUS_DEFINED)
		return dev_break(dev,
				 "Status %#x sets undefined or "
				 "device-owned bits",
				 val);
	old &= (uint8_t)~XENVIRTIO_STATUS_DEVICE_NEEDS_RESET;
	if (old & ~val)
		return dev_break(dev, "Status %#x clears bits of %#x", val,
				 old);
	set = (uint8_t)(val & ~old);
	if ((set & XENVIRTIO_STATUS_FEATURES_OK) && features_acceptable(dev))
		val &= ~XENVIRTIO_STATUS_FEATURES_OK;
	if (((val & XENVIRTIO_STATUS_DRIVER) &&
	     !(val & XENVIRTIO_STATUS_ACKNOWLEDGE)) ||
	    ((val & XENVIRTIO_STATUS_FEATURES_OK) &&
	     !(val & XENVIRTIO_STATUS_DRIVER)) ||
	    ((val & XENVIRTIO_STATUS_DRIVER_OK) &&
	     !(val & XENVIRTIO_STATUS_FEATURES_OK)))
		return dev_break(dev, "Status %#x out of order (was %#x)", val,
				 old);
	if (set & XENVIRTIO_STATUS_FEATURES_OK)
		dev->features = dev->drv_features;
	dev->status = (uint8_t)(val | (dev->status &
				       XENVIRTIO_STATUS_DEVICE_NEEDS_RESET));
	if (dev->ops->status)
		dev->ops->status(dev->opaque, dev->status);
	if ((set & XENVIRTIO_STATUS_DRIVER_OK)) {
		for (i = 0; i < dev->num_queues; i++) {
			if (dev->q[i].ready && dev->q[i].kick_pending) {
				dev->q[i].kick_pending = false;
				dev->ops->queue_notify(dev->opaque, i, i);
			}
		}
	}
	return 0;
}

static int notify_write(struct xenvirtio_mmio_dev *dev, uint32_t val)
{
	unsigned int i = val;

	if (negotiated(dev, XENVIRTIO_F_NOTIFICATION_DATA))
		i = val & 0xffff;
	if (i >= dev->num_queues)
		return dev_break(dev, "QueueNotify of queue %u of %u", i,
				 dev->num_queues);
	if (!dev->q[i].ready) {
		xv_dbg(dev->ctx, "virtio-mmio: notify of idle queue %u", i);
		return 0;
	}
	if (!(dev->status & XENVIRTIO_STATUS_DRIVER_OK)) {
		dev->q[i].kick_pending = true;
		return 0;
	}
	dev->ops->queue_notify(dev->opaque, i, val);
	return 0;
}

static int features_write(struct xenvirtio_mmio_dev *dev, uint32_t val)
{
	uint32_t sel = dev->drv_features_sel;

	if ((dev->status & XENVIRTIO_STATUS_FEATURES_OK) ||
	    !(dev->status & XENVIRTIO_STATUS_DRIVER))
		return dev_break(dev, "DriverFeatures written in Status %#x",
				 dev->status);
	if (sel == 0)
		dev->drv_features = (dev->drv_features & ~0xffffffffULL) | val;
	else if (sel == 1)
		dev->drv_features =
		    (dev->drv_features & 0xffffffffULL) | (uint64_t)val << 32;
	else if (val)
		dev->drv_features_unoffered = true;
	return 0;
}

XV_EXPORT int xenvirtio_mmio_dev_write(struct xenvirtio_mmio_dev *dev,
				       uint32_t offset, unsigned int size,
				       uint32_t val)
{
	int r;

	if (!dev)
		return -EINVAL;
	/* A reset is the way out of the broken state: always accepted. */
	if (offset == XENVIRTIO_MMIO_STATUS && size == 4 && val == 0)
		return status_write(dev, 0);
	r = xv_broken_check(&dev->broken);
	if (r < 0)
		return r;
	r = check_access(dev, offset, size, REG_W);
	if (r < 0)
		return r;
	if (offset >= XENVIRTIO_MMIO_CONFIG) {
		if (!dev->ops->config_write)
			return dev_break(dev,
					 "write to read-only config "
					 "space at %#x",
					 (unsigned int)offset);
		r = dev->ops->config_write(
		    dev->opaque, offset - XENVIRTIO_MMIO_CONFIG, size, val);
		if (r < 0)
			xv_dbg(dev->ctx,
			       "virtio-mmio: config write at %#x "
			       "ignored by the device",
			       (unsigned int)offset);
		return 0;
	}
	switch (offset) {
	case XENVIRTIO_MMIO_DEVICE_FEATURES_SEL:
		dev->dev_features_sel = val;
		return 0;
	case XENVIRTIO_MMIO_DRIVER_FEATURES:
		return features_write(dev, val);
	case XENVIRTIO_MMIO_DRIVER_FEATURES_SEL:
		dev->drv_features_sel = val;
		return 0;
	case XENVIRTIO_MMIO_QUEUE_SEL:
		dev->queue_sel = val;
		return 0;
	case XENVIRTIO_MMIO_QUEUE_NOTIFY:
		return notify_write(dev, val);
	case XENVIRTIO_MMIO_INTERRUPT_ACK:
		if (val & ~INT_DEFINED)
			xv_warn(dev->ctx,
				"virtio-mmio: InterruptACK %#x has "
				"undefined bits",
				val);
		dev->isr &= ~val;
		return 0;
	case XENVIRTIO_MMIO_STATUS:
		return status_write(dev, val);
	case XENVIRTIO_MMIO_SHM_SEL:
		dev->shm_sel = val;
		return 0;
	case XENVIRTIO_MMIO_QUEUE_RESET:
		return queue_reset_write(dev, val);
	default: /* QueueNum, QueueReady, the six address halves */
		return queue_write(dev, offset, val);
	}
}

XV_EXPORT int xenvirtio_mmio_dev_reset(struct xenvirtio_mmio_dev *dev)
{
	if (!dev)
		return -EINVAL;
	do_reset(dev);
	return 0;
}

XV_EXPORT int xenvirtio_mmio_dev_interrupt(struct xenvirtio_mmio_dev *dev)
{
	if (!dev)
		return -EINVAL;
	if (xv_broken_check(&dev->broken))
		return -EIO;
	if (!(dev->status & XENVIRTIO_STATUS_DRIVER_OK))
		return -EAGAIN;
	raise_interrupt(dev, XENVIRTIO_MMIO_INT_VRING);
	return 0;
}

XV_EXPORT int xenvirtio_mmio_dev_set_config(struct xenvirtio_mmio_dev *dev,
					    unsigned int offset,
					    const void *data, unsigned int len)
{
	if (!dev || !data || !xv_range_ok(offset, len, dev->config_len))
		return -EINVAL;
	memcpy(dev->config + offset, data, len);
	dev->generation++;
	if (dev->status & XENVIRTIO_STATUS_DRIVER_OK)
		raise_interrupt(dev, XENVIRTIO_MMIO_INT_CONFIG);
	return 0;
}

XV_EXPORT int xenvirtio_mmio_dev_needs_reset(struct xenvirtio_mmio_dev *dev,
					     const char *why)
{
	if (!dev || !why)
		return -EINVAL;
	dev_break(dev, "%s", why);
	return 0;
}

XV_EXPORT int xenvirtio_mmio_dev_status(const struct xenvirtio_mmio_dev *dev)
{
	return dev ? dev->status : -EINVAL;
}

XV_EXPORT int xenvirtio_mmio_dev_features(const struct xenvirtio_mmio_dev *dev,
					  uint64_t *features)
{
	if (!dev || !features)
		return -EINVAL;
	if (!(dev->status & XENVIRTIO_STATUS_FEATURES_OK))
		return -EAGAIN;
	*features = dev->features;
	return 0;
}

int xv_mmio_dev_ioreq(struct xenvirtio_mmio_dev *dev, uint64_t base,
		      struct xv_mmio_ioreq *req)
{
	uint64_t off = req->addr - base;
	uint32_t v = 0;
	int r;

	if (req->addr < base || off > 0xffffffffULL || req->size > 4) {
		r = dev_break(dev,
			      "%u-byte access at %#llx outside the "
			      "register file at %#llx or too wide",
			      req->size, (unsigned long long)req->addr,
			      (unsigned long long)base);
	} else if (req->dir == XV_MMIO_DIR_READ) {
		r = xenvirtio_mmio_dev_read(dev, (uint32_t)off, req->size, &v);
		if (r == 0)
			req->data = v;
	} else {
		return xenvirtio_mmio_dev_write(dev, (uint32_t)off, req->size,
						(uint32_t)req->data);
	}
	if (r < 0 && req->dir == XV_MMIO_DIR_READ)
		req->data = xv_mmio_size_mask(req->size);
	return r;
}

/*
 * Driver side: the initialisation sequence of virtio 1.2, 3.1.1 and
 * 4.2.3, over the caller's register access functions.
 */
struct xenvirtio_mmio_drv {
	struct xenvirtio_ctx *ctx;
	const struct xenvirtio_mmio_drv_io *io;
	void *opaque;
	uint64_t features;
};

/* Retries of a configuration read whose generation keeps changing. */
#define DRV_CONFIG_TRIES 16

static int drv_rd(struct xenvirtio_mmio_drv *drv, uint32_t off, uint32_t *v)
{
	return drv->io->read(drv->opaque, off, 4, v);
}

static int drv_wr(struct xenvirtio_mmio_drv *drv, uint32_t off, uint32_t v)
{
	return drv->io->write(drv->opaque, off, 4, v);
}

XV_EXPORT int xenvirtio_mmio_drv_new(struct xenvirtio_ctx *ctx,
				     const struct xenvirtio_mmio_drv_io *io,
				     void *opaque,
				     struct xenvirtio_mmio_drv **out)
{
	struct xenvirtio_mmio_drv *drv;

	if (!ctx || !io || !io->read || !io->write || !out)
		return -EINVAL;
	drv = calloc(1, sizeof(*drv));
	if (!drv)
		return -ENOMEM;
	drv->ctx = ctx;
	drv->io = io;
	drv->opaque = opaque;
	*out = drv;
	return 0;
}

XV_EXPORT void xenvirtio_mmio_drv_free(struct xenvirtio_mmio_drv *drv)
{
	free(drv);
}

XV_EXPORT int xenvirtio_mmio_drv_reset(struct xenvirtio_mmio_drv *drv)
{
	uint32_t st;
	int r;

	if (!drv)
		return -EINVAL;
	r = drv_wr(drv, XENVIRTIO_MMIO_STATUS, 0);
	if (r < 0)
		return r;
	r = drv_rd(drv, XENVIRTIO_MMIO_STATUS, &st);
	if (r < 0)
		return r;
	if (st) {
		xv_err(drv->ctx, "virtio-mmio: Status %#x after reset", st);
		return -EIO;
	}
	return 0;
}

static int drv_add_status(struct xenvirtio_mmio_drv *drv, uint32_t bits,
			  uint32_t *now)
{
	uint32_t st;
	int r;

	r = drv_rd(drv, XENVIRTIO_MMIO_STATUS, &st);
	if (r < 0)
		return r;
	r = drv_wr(drv, XENVIRTIO_MMIO_STATUS,
		   (st & ~XENVIRTIO_STATUS_DEVICE_NEEDS_RESET) | bits);
	if (r < 0)
		return r;
	return drv_rd(drv, XENVIRTIO_MMIO_STATUS, now);
}

static int drv_features(struct xenvirtio_mmio_drv *drv, uint64_t *f)
{
	uint32_t lo, hi;
	int r;

	r = drv_wr(drv, XENVIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	if (!r)
		r = drv_rd(drv, XENVIRTIO_MMIO_DEVICE_FEATURES, &hi);
	if (!r)
		r = drv_wr(drv, XENVIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	if (!r)
		r = drv_rd(drv, XENVIRTIO_MMIO_DEVICE_FEATURES, &lo);
	if (!r)
		*f = (uint64_t)hi << 32 | lo;
	return r;
}

static int drv_fail(struct xenvirtio_mmio_drv *drv, int err)
{
	uint32_t st;

	drv_add_status(drv, XENVIRTIO_STATUS_FAILED, &st);
	return err;
}

XV_EXPORT int xenvirtio_mmio_drv_init(struct xenvirtio_mmio_drv *drv,
				      uint64_t features, bool grants,
				      uint32_t *device_id,
				      uint64_t *negotiated_out)
{
	uint64_t need = xenvirtio_mmio_transport_features(grants);
	uint64_t offered = 0, want;
	uint32_t magic, version, id, st;
	int r;

	if (!drv)
		return -EINVAL;
	r = drv_rd(drv, XENVIRTIO_MMIO_MAGIC_VALUE, &magic);
	if (!r)
		r = drv_rd(drv, XENVIRTIO_MMIO_VERSION, &version);
	if (!r)
		r = drv_rd(drv, XENVIRTIO_MMIO_DEVICE_ID, &id);
	if (r < 0)
		return r;
	if (magic != XENVIRTIO_MMIO_MAGIC || version != MMIO_VERSION || !id) {
		xv_err(drv->ctx,
		       "virtio-mmio: no version 2 device here "
		       "(magic %#x, version %u, device id %u)",
		       magic, version, id);
		return -ENODEV;
	}
	r = xenvirtio_mmio_drv_reset(drv);
	if (!r)
		r = drv_add_status(drv, XENVIRTIO_STATUS_ACKNOWLEDGE, &st);
	if (!r)
		r = drv_add_status(drv, XENVIRTIO_STATUS_DRIVER, &st);
	if (!r)
		r = drv_features(drv, &offered);
	if (r < 0)
		return r;
	if ((offered & need) != need) {
		xv_err(drv->ctx, "virtio-mmio: device %u lacks %s", id,
		       !(offered & BIT64(XENVIRTIO_F_VERSION_1))
			   ? "VERSION_1"
			   : "ACCESS_PLATFORM, required for grant DMA");
		return drv_fail(drv, -ENODEV);
	}
	want = (features | need) & offered;
	r = drv_wr(drv, XENVIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	if (!r)
		r = drv_wr(drv, XENVIRTIO_MMIO_DRIVER_FEATURES,
			   (uint32_t)(want >> 32));
	if (!r)
		r = drv_wr(drv, XENVIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	if (!r)
		r = drv_wr(drv, XENVIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)want);
	if (!r)
		r = drv_add_status(drv, XENVIRTIO_STATUS_FEATURES_OK, &st);
	if (r < 0)
		return r;
	if (!(st & XENVIRTIO_STATUS_FEATURES_OK)) {
		xv_err(drv->ctx,
		       "virtio-mmio: device %u refused features "
		       "%#llx",
		       id, (unsigned long long)want);
		return drv_fail(drv, -ENOTSUP);
	}
	drv->features = want;
	if (device_id)
		*device_id = id;
	if (negotiated_out)
		*negotiated_out = want;
	return 0;
}

XV_EXPORT int xenvirtio_mmio_drv_queue_num_max(struct xenvirtio_mmio_drv *drv,
					       unsigned int index)
{
	uint32_t max;
	int r;

	if (!drv)
		return -EINVAL;
	r = drv_wr(drv, XENVIRTIO_MMIO_QUEUE_SEL, index);
	if (!r)
		r = drv_rd(drv, XENVIRTIO_MMIO_QUEUE_NUM_MAX, &max);
	if (r < 0)
		return r;
	return max > XENVIRTIO_MMIO_MAX_QUEUE_NUM
		   ? (int)XENVIRTIO_MMIO_MAX_QUEUE_NUM
		   : (int)max;
}

XV_EXPORT int xenvirtio_mmio_drv_queue_setup(struct xenvirtio_mmio_drv *drv,
					     unsigned int index,
					     unsigned int num, uint64_t desc,
					     uint64_t driver, uint64_t device)
{
	uint32_t ready, max;
	int r;

	if (!drv || !num)
		return -EINVAL;
	r = drv_wr(drv, XENVIRTIO_MMIO_QUEUE_SEL, index);
	if (!r)
		r = drv_rd(drv, XENVIRTIO_MMIO_QUEUE_READY, &ready);
	if (!r)
		r = drv_rd(drv, XENVIRTIO_MMIO_QUEUE_NUM_MAX, &max);
	if (r < 0)
		return r;
	if (ready)
		return -EBUSY;
	if (!max)
		return -ENOENT;
	if (num > max)
		return -ERANGE;
	r = drv_wr(drv, XENVIRTIO_MMIO_QUEUE_NUM, num);
	if (!r)
		r = drv_wr(drv, XENVIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)desc);
	if (!r)
		r = drv_wr(drv, XENVIRTIO_MMIO_QUEUE_DESC_HIGH,
			   (uint32_t)(desc >> 32));
	if (!r)
		r = drv_wr(drv, XENVIRTIO_MMIO_QUEUE_DRIVER_LOW,
			   (uint32_t)driver);
	if (!r)
		r = drv_wr(drv, XENVIRTIO_MMIO_QUEUE_DRIVER_HIGH,
			   (uint32_t)(driver >> 32));
	if (!r)
		r = drv_wr(drv, XENVIRTIO_MMIO_QUEUE_DEVICE_LOW,
			   (uint32_t)device);
	if (!r)
		r = drv_wr(drv, XENVIRTIO_MMIO_QUEUE_DEVICE_HIGH,
			   (uint32_t)(device >> 32));
	if (!r)
		r = drv_wr(drv, XENVIRTIO_MMIO_QUEUE_READY, 1);
	/* Read back: a device that refuses the rings leaves it at 0. */
	if (!r)
		r = drv_rd(drv, XENVIRTIO_MMIO_QUEUE_READY, &ready);
	if (r < 0)
		return r;
	if (ready != 1) {
		xv_err(drv->ctx, "virtio-mmio: queue %u refused by the device",
		       index);
		return -EIO;
	}
	return 0;
}

XV_EXPORT int xenvirtio_mmio_drv_driver_ok(struct xenvirtio_mmio_drv *drv)
{
	uint32_t st;
	int r;

	if (!drv)
		return -EINVAL;
	r = drv_add_status(drv, XENVIRTIO_STATUS_DRIVER_OK, &st);
	if (r < 0)
		return r;
	if (!(st & XENVIRTIO_STATUS_DRIVER_OK) ||
	    (st & XENVIRTIO_STATUS_DEVICE_NEEDS_RESET)) {
		xv_err(drv->ctx, "virtio-mmio: Status %#x after DRIVER_OK", st);
		return -EIO;
	}
	return 0;
}

XV_EXPORT int xenvirtio_mmio_drv_notify(struct xenvirtio_mmio_drv *drv,
					unsigned int index)
{
	if (!drv)
		return -EINVAL;
	return drv_wr(drv, XENVIRTIO_MMIO_QUEUE_NOTIFY, index);
}

XV_EXPORT int xenvirtio_mmio_drv_ack_interrupt(struct xenvirtio_mmio_drv *drv,
					       uint32_t *status)
{
	uint32_t isr;
	int r;

	if (!drv)
		return -EINVAL;
	r = drv_rd(drv, XENVIRTIO_MMIO_INTERRUPT_STATUS, &isr);
	if (r < 0)
		return r;
	isr &= INT_DEFINED;
	if (isr) {
		r = drv_wr(drv, XENVIRTIO_MMIO_INTERRUPT_ACK, isr);
		if (r < 0)
			return r;
	}
	if (status)
		*status = isr;
	return 0;
}

XV_EXPORT int xenvirtio_mmio_drv_config_read(struct xenvirtio_mmio_drv *drv,
					     unsigned int offset,
					     unsigned int size, uint64_t *val)
{
	unsigned int w = size == 8 ? 4 : size;
	uint32_t gen, gen2, lo, hi = 0;
	int tries, r;

	if (!drv || !val ||
	    (size != 1 && size != 2 && size != 4 && size != 8) ||
	    (offset & (w - 1)) || offset > XENVIRTIO_MMIO_MAX_CONFIG)
		return -EINVAL;
	for (tries = 0; tries < DRV_CONFIG_TRIES; tries++) {
		r = drv_rd(drv, XENVIRTIO_MMIO_CONFIG_GENERATION, &gen);
		if (!r)
			r = drv->io->read(drv->opaque,
					  XENVIRTIO_MMIO_CONFIG + offset, w,
					  &lo);
		if (!r && size == 8)
			r = drv->io->read(drv->opaque,
					  XENVIRTIO_MMIO_CONFIG + offset + 4, 4,
					  &hi);
		if (!r)
			r = drv_rd(drv, XENVIRTIO_MMIO_CONFIG_GENERATION,
				   &gen2);
		if (r < 0)
			return r;
		if (gen == gen2) {
			*val = (uint64_t)hi << 32 | lo;
			return 0;
		}
	}
	xv_err(drv->ctx, "virtio-mmio: config generation keeps changing");
	return -EAGAIN;
}

XV_EXPORT int xenvirtio_mmio_drv_config_write(struct xenvirtio_mmio_drv *drv,
					      unsigned int offset,
					      unsigned int size, uint32_t val)
{
	if (!drv || (size != 1 && size != 2 && size != 4) ||
	    (offset & (size - 1)) || offset > XENVIRTIO_MMIO_MAX_CONFIG)
		return -EINVAL;
	return drv->io->write(drv->opaque, XENVIRTIO_MMIO_CONFIG + offset, size,
			      val);
}
