/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * DOC: libxenvirtio umbrella header
 *
 * Grant-based virtio DMA under Xen: frontend grant allocation and DMA
 * mapping, backend ring translation, per-device grant policy, and the
 * platforms (real Xen and a simulated grant world). Include this header, or
 * the module headers under <xenvirtio/> one by one.
 */
#ifndef XENVIRTIO_H
#define XENVIRTIO_H

#include <xenvirtio/common.h>
#include <xenvirtio/context.h>
#include <xenvirtio/addr.h>
#include <xenvirtio/evtchn.h>
#include <xenvirtio/store.h>
#include <xenvirtio/gnttab.h>
#include <xenvirtio/sim.h>
#include <xenvirtio/dma.h>
#include <xenvirtio/mmio.h>
#include <xenvirtio/policy.h>
#include <xenvirtio/virtqueue.h>

#endif /* XENVIRTIO_H */
