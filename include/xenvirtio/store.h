/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * DOC: the platform's key-value store
 *
 * The store domains use to find each other's devices: xenstore on Xen, the
 * world's small store on the simulated platform. Backends publish what a
 * frontend needs to reach a device (event channel ports, transport
 * addresses) and read the toolstack's settings; frontends read them.
 *
 * Paths are absolute ("/local/domain/0/backend/virtio/1/0/event-channel") or
 * relative to the own domain's home, as xenstore resolves them. On the
 * simulated platform keys are plain strings (a relative key is not
 * prefixed), at most 127 bytes, values at most 255 bytes, 256 keys per
 * world.
 *
 * Context: calls may block briefly on the store (xenstored round trip).
 */
#ifndef XENVIRTIO_STORE_H
#define XENVIRTIO_STORE_H

#include <stddef.h>
#include <xenvirtio/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * xenvirtio_store_read() - read a value from the store
 * @ctx: context
 * @path: the key
 * @buf: receives the NUL-terminated value
 * @len: size of @buf
 *
 * Return: 0 on success; -EINVAL if an argument is NULL or @len is 0;
 * -ENOENT if the key is absent; -ERANGE if the value does not fit in @buf
 * (@buf is then untouched); -ENOSYS if the platform has no reachable store
 * (a Xen initial domain without xenstored); other negative errno values
 * from the store.
 */
int xenvirtio_store_read(struct xenvirtio_ctx *ctx, const char *path,
			 char *buf, size_t len);

/**
 * xenvirtio_store_write() - set or delete a key in the store
 * @ctx: context
 * @path: the key
 * @value: NUL-terminated value, or NULL to delete the key (deleting an
 *	absent key is not an error)
 *
 * Return: 0 on success; -EINVAL if @ctx or @path is NULL, @path is empty,
 * or (simulated platform) @path or @value is too long; -ENOSPC if the
 * simulated store is full; -EACCES if xenstore refuses the write (the key
 * belongs to another domain); -ENOSYS if the platform has no reachable
 * store; other negative errno values from the store.
 */
int xenvirtio_store_write(struct xenvirtio_ctx *ctx, const char *path,
			  const char *value);

#ifdef __cplusplus
}
#endif

#endif /* XENVIRTIO_STORE_H */
