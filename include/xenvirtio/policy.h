/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * DOC: grant DMA policy
 *
 * Decides, per virtio device, whether its DMA goes through grants and which
 * domain is the backend. A policy object collects facts from sources (a
 * device tree blob, ACPI XENV/XVGD tables, parameter strings, platform facts,
 * and on the backend side xenstore), then answers per device. The answer
 * reproduces Linux's decision table (SPEC-NOTES §3 rows 1-7) plus the
 * library's extensions: per-device parameters win over everything, ACPI XVGD
 * describes devices the way a device tree does, global force/off, and the
 * initial-domain rule 7 as an explicit option.
 *
 * Facts are evaluated top-down (frontend view):
 *  per-device parameter; row 1 (not a Xen guest); rows 2-4 (the device has
 *  a DT node: its iommus, or its host bridge's iommu-map); ACPI XVGD node
 *  listing the device, then the XVGD platform default; row 7 (initial
 *  domain, when enabled); global "off"; row 5 (PV guest or global "force":
 *  grants to the global backend, default 0); row 6 (no grants).
 *
 * Backend view (xenvirtio_policy_decide_backend()): per-device parameter;
 * libxl's xenstore grant_usage; the guest's firmware (DT/ACPI, when given);
 * a PV guest; global force/off; libxl's default (grants iff the backend
 * domain is not 0).
 *
 * Every parser treats its input as hostile: bounded, overflow-safe, and a
 * source that fails to parse adds nothing (the policy is unchanged) while
 * xenvirtio_policy_last_error() says what was wrong. Parsing and deciding
 * need no platform: a policy made with a NULL context works everywhere.
 *
 * Context: a policy object is used by one thread at a time. Functions never
 * log except through the context given to xenvirtio_policy_new().
 */
#ifndef XENVIRTIO_POLICY_H
#define XENVIRTIO_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <xenvirtio/common.h>

#ifdef __cplusplus
extern "C" {
#endif

struct xenvirtio_policy;

/**
 * enum xenvirtio_policy_source - which source settled a decision
 * @XENVIRTIO_POLICY_SOURCE_DEFAULT: the table's default (row 6, libxl's
 *	backend default)
 * @XENVIRTIO_POLICY_SOURCE_PARAM: a per-device parameter
 * @XENVIRTIO_POLICY_SOURCE_DT: the device tree (rows 2-4)
 * @XENVIRTIO_POLICY_SOURCE_ACPI: an ACPI XVGD node
 * @XENVIRTIO_POLICY_SOURCE_GLOBAL: a global parameter (force, off)
 * @XENVIRTIO_POLICY_SOURCE_PLATFORM: a platform fact (not Xen, PV guest,
 *	initial domain)
 * @XENVIRTIO_POLICY_SOURCE_XENSTORE: libxl's grant_usage entry
 */
enum xenvirtio_policy_source {
	XENVIRTIO_POLICY_SOURCE_DEFAULT = 0,
	XENVIRTIO_POLICY_SOURCE_PARAM,
	XENVIRTIO_POLICY_SOURCE_DT,
	XENVIRTIO_POLICY_SOURCE_ACPI,
	XENVIRTIO_POLICY_SOURCE_GLOBAL,
	XENVIRTIO_POLICY_SOURCE_PLATFORM,
	XENVIRTIO_POLICY_SOURCE_XENSTORE,
};

/**
 * enum xenvirtio_policy_origin - where a parameter string came from
 * @XENVIRTIO_POLICY_ORIGIN_CMDLINE: the kernel command line
 * @XENVIRTIO_POLICY_ORIGIN_ENV: the XENVIRTIO_POLICY environment variable
 * @XENVIRTIO_POLICY_ORIGIN_API: the application
 *
 * Only used to label the reason trail; the grammar is the same for all.
 */
enum xenvirtio_policy_origin {
	XENVIRTIO_POLICY_ORIGIN_CMDLINE = 0,
	XENVIRTIO_POLICY_ORIGIN_ENV,
	XENVIRTIO_POLICY_ORIGIN_API,
};

/**
 * enum xenvirtio_policy_option - behaviour switches
 * @XENVIRTIO_POLICY_OPT_INITIAL_DOMAIN_RULE: apply row 7 (the initial
 *	domain never uses grants for a device without a firmware node);
 *	default 0 (off), as in Linux 6.2.
 */
enum xenvirtio_policy_option {
	XENVIRTIO_POLICY_OPT_INITIAL_DOMAIN_RULE = 0,
};

/**
 * enum xenvirtio_policy_path - files auto-detection reads
 * @XENVIRTIO_POLICY_PATH_FDT: flattened device tree ("/sys/firmware/fdt")
 * @XENVIRTIO_POLICY_PATH_ACPI_DIR: ACPI tables directory
 *	("/sys/firmware/acpi/tables"); its files XENV and XVGD are read
 * @XENVIRTIO_POLICY_PATH_CMDLINE: kernel command line ("/proc/cmdline")
 * @XENVIRTIO_POLICY_PATH_HYPERVISOR_DIR: "/sys/hypervisor" (files type,
 *	guest_type)
 * @XENVIRTIO_POLICY_PATH_XEN_CAPABILITIES: "/proc/xen/capabilities"
 * @XENVIRTIO_POLICY_PATH_ENV: the NAME of the environment variable holding
 *	parameters ("XENVIRTIO_POLICY")
 */
enum xenvirtio_policy_path {
	XENVIRTIO_POLICY_PATH_FDT = 0,
	XENVIRTIO_POLICY_PATH_ACPI_DIR,
	XENVIRTIO_POLICY_PATH_CMDLINE,
	XENVIRTIO_POLICY_PATH_HYPERVISOR_DIR,
	XENVIRTIO_POLICY_PATH_XEN_CAPABILITIES,
	XENVIRTIO_POLICY_PATH_ENV,
};

/** XENVIRTIO_POLICY_REASON_LEN - size of the reason text, with its NUL. */
#define XENVIRTIO_POLICY_REASON_LEN 512

/**
 * struct xenvirtio_policy_decision - the answer for one device
 * @grants: true if the device's DMA must go through grants
 * @backend_domid: the backend domain when @grants, else
 *	XENVIRTIO_DOMID_INVALID
 * @source: which source settled the decision
 * @row: the row of the decision table (SPEC-NOTES §3, 1-7) that applied,
 *	or 0 for a library extension (parameters, ACPI, global off,
 *	xenstore, libxl's default)
 * @reason_truncated: true if @reason was cut to fit (its end then reads
 *	"...")
 * @reason: the reason trail, NUL-terminated: each source consulted, in
 *	order, separated by "; "
 */
struct xenvirtio_policy_decision {
	bool grants;
	uint16_t backend_domid;
	enum xenvirtio_policy_source source;
	unsigned int row;
	bool reason_truncated;
	char reason[XENVIRTIO_POLICY_REASON_LEN];
};

/**
 * xenvirtio_policy_new() - create an empty policy
 * @ctx: context for logging, the platform's store (backend view) and the
 *	own domid, or NULL for a pure policy
 * @out: the new policy
 *
 * A new policy assumes a Xen guest of unknown type (not PV, not the initial
 * domain), mode "auto", no firmware, no parameters; with a context whose
 * platform knows its guest type, the platform's guest type and initial
 * domain flag instead.
 *
 * Return: 0 on success; -EINVAL if @out is NULL; -ENOMEM.
 */
int xenvirtio_policy_new(struct xenvirtio_ctx *ctx,
			 struct xenvirtio_policy **out);

/**
 * xenvirtio_policy_free() - free a policy
 * @pol: policy, or NULL (no-op)
 */
void xenvirtio_policy_free(struct xenvirtio_policy *pol);

/**
 * xenvirtio_policy_last_error() - text of the last failure
 * @pol: policy
 *
 * Return: a string owned by @pol describing the last failed call (file,
 * offset, what was wrong), "" if none; valid until the next call on @pol.
 */
const char *xenvirtio_policy_last_error(const struct xenvirtio_policy *pol);

/**
 * xenvirtio_policy_add_dtb() - add a flattened device tree
 * @pol: policy
 * @blob: the blob (copied)
 * @len: its size in bytes
 *
 * Validates the whole blob (fdt_check_full) before anything else. Replaces
 * a device tree added earlier.
 *
 * Return: 0 on success;
 * -EINVAL if @pol or @blob is NULL;
 * -EBADMSG if the blob is not a valid device tree (truncated, corrupt);
 * -E2BIG if it exceeds 16 MiB or lists more than 256 virtio devices, or a
 * node path exceeds 255 bytes;
 * -ENOMEM.
 */
int xenvirtio_policy_add_dtb(struct xenvirtio_policy *pol, const void *blob,
			     size_t len);

/**
 * xenvirtio_policy_add_acpi_table() - add an ACPI table (XENV or XVGD)
 * @pol: policy
 * @table: the table, header included
 * @len: its size in bytes; must equal the header's length field
 *
 * XENV records the Xen ACPI platform and its grant table region. XVGD
 * describes devices (SPEC-NOTES §3) and replaces an XVGD added earlier.
 *
 * Return: 0 on success;
 * -EINVAL if @pol or @table is NULL;
 * -EBADMSG if the table is malformed: short, length mismatch, bad
 * checksum, wrong revision, a node shorter than its type or running past
 * the table, a node count that does not match, overlapping ranges with
 * different answers, a domid above 0x7fef;
 * -EPROTONOSUPPORT if the signature is neither XENV nor XVGD;
 * -E2BIG if the XVGD has more than 256 nodes, or the device tree and XVGD
 * together list more than 256 devices;
 * -ENOMEM.
 */
int xenvirtio_policy_add_acpi_table(struct xenvirtio_policy *pol,
				    const void *table, size_t len);

/**
 * xenvirtio_policy_add_params() - add parameters
 * @pol: policy
 * @text: NUL-terminated tokens separated by spaces or commas:
 *	"xen_virtio_grant=auto|force|off", "xen_virtio_backend=<domid>",
 *	"xen_virtio.<device>=grant:on|off[:backend=<domid>]" with <device>
 *	"mmio@0x<hex>", "pci@SSSS:BB:DD.F" or a DT path; other tokens that do
 *	not start with "xen_virtio" are ignored (a kernel command line). Later
 *	values replace earlier ones.
 * @origin: label for the reason trail
 *
 * Return: 0 on success (all or nothing);
 * -EINVAL if @pol or @text is NULL, @origin is unknown, or the text has a
 * grammar error: an unknown xen_virtio* key, a bad value, a domid above
 * 0x7fef, a malformed device;
 * -E2BIG if more than 64 devices are named.
 */
int xenvirtio_policy_add_params(struct xenvirtio_policy *pol,
				const char *text,
				enum xenvirtio_policy_origin origin);

/**
 * xenvirtio_policy_set_platform() - set the platform facts
 * @pol: policy
 * @type: XENVIRTIO_GUEST_NONE for "not a Xen guest", a guest type, or
 *	XENVIRTIO_GUEST_UNKNOWN for "a Xen guest of unknown type"
 * @initial_domain: the domain is the initial domain (dom0)
 *
 * Return: 0 on success; -EINVAL if @pol is NULL or @type is out of range.
 */
int xenvirtio_policy_set_platform(struct xenvirtio_policy *pol,
				  enum xenvirtio_guest_type type,
				  bool initial_domain);

/**
 * xenvirtio_policy_set_option() - set a behaviour switch
 * @pol: policy
 * @opt: the option
 * @value: its value (0 off, 1 on)
 *
 * Return: 0 on success; -EINVAL if @pol is NULL, @opt unknown or @value is
 * neither 0 nor 1.
 */
int xenvirtio_policy_set_option(struct xenvirtio_policy *pol,
				enum xenvirtio_policy_option opt, int value);

/**
 * xenvirtio_policy_set_path() - point auto-detection at another file
 * @pol: policy
 * @which: which source
 * @path: the file (or directory, or variable name); "" skips the source;
 *	NULL restores the default
 *
 * Return: 0 on success; -EINVAL if @pol is NULL or @which unknown;
 * -ENAMETOOLONG if @path exceeds 4095 bytes; -ENOMEM.
 */
int xenvirtio_policy_set_path(struct xenvirtio_policy *pol,
			      enum xenvirtio_policy_path which,
			      const char *path);

/**
 * xenvirtio_policy_probe() - detect the running system
 * @pol: policy
 *
 * Reads, in this order, the hypervisor files (not Xen when
 * <dir>/type is missing or not "xen"), the Xen capabilities (initial
 * domain), the device tree, the ACPI XENV and XVGD tables, the command line
 * and the environment variable; with a context, the own domid from the
 * store's "domid" key (unless set with xenvirtio_policy_set_domid()). A
 * missing file is a fact ("no DT"), not an error. A source that fails to
 * parse is skipped; the others are still read.
 *
 * Return: 0 on success; the first error of a source that failed (see
 * the add functions; -EIO or another negative errno if a present file could
 * not be read), with xenvirtio_policy_last_error() naming the file;
 * -EINVAL if @pol is NULL.
 */
int xenvirtio_policy_probe(struct xenvirtio_policy *pol);

/**
 * xenvirtio_policy_device_count() - devices the firmware lists
 * @pol: policy
 *
 * Devices are the device tree's "virtio,mmio" nodes, PCI function nodes
 * under its host bridges, then the XVGD's MMIO endpoints, in that order.
 *
 * Return: the count (>= 0); -EINVAL if @pol is NULL.
 */
int xenvirtio_policy_device_count(const struct xenvirtio_policy *pol);

/**
 * xenvirtio_policy_device_name() - name of a listed device
 * @pol: policy
 * @index: 0 .. xenvirtio_policy_device_count() - 1
 * @buf: receives the device as accepted by xenvirtio_policy_decide(): a DT
 *	path, "pci@SSSS:BB:DD.F" or "mmio@0x<hex>"
 * @len: size of @buf
 *
 * Return: 0 on success; -EINVAL if @pol or @buf is NULL; -ENOENT if @index
 * is out of range; -ENOSPC if @buf is too small (then untouched).
 */
int xenvirtio_policy_device_name(const struct xenvirtio_policy *pol,
				 unsigned int index, char *buf, size_t len);

/**
 * xenvirtio_policy_decide() - decide for a device (frontend view)
 * @pol: policy
 * @device: "mmio@0x<hex>", "pci@SSSS:BB:DD.F" or a DT path
 * @out: the decision
 *
 * Pure: reads only the facts collected in @pol.
 *
 * Return: 0 on success;
 * -EINVAL if an argument is NULL or @device is malformed;
 * -ENOENT if @device is a DT path that the device tree lacks (or there is
 * no device tree).
 */
int xenvirtio_policy_decide(const struct xenvirtio_policy *pol,
			    const char *device,
			    struct xenvirtio_policy_decision *out);

/**
 * xenvirtio_policy_set_guest() - inject facts about a guest (backend view)
 * @pol: policy
 * @guest_domid: the guest
 * @type: its type (XENVIRTIO_GUEST_UNKNOWN: read it from the store)
 * @grant_usage: libxl's grant_usage for its devices: 0 or 1, or -1 to read
 *	it from the store
 *
 * Return: 0 on success; -EINVAL if @pol is NULL, @guest_domid > 0x7fef,
 * @type out of range or @grant_usage not -1, 0 or 1.
 */
int xenvirtio_policy_set_guest(struct xenvirtio_policy *pol,
			       uint16_t guest_domid,
			       enum xenvirtio_guest_type type,
			       int grant_usage);

/**
 * xenvirtio_policy_set_domid() - set the own (backend) domid
 * @pol: policy
 * @domid: 0..0x7fef
 *
 * Default: the context's domid, or 0 without a context.
 *
 * Return: 0 on success; -EINVAL if @pol is NULL or @domid > 0x7fef.
 */
int xenvirtio_policy_set_domid(struct xenvirtio_policy *pol, uint16_t domid);

/**
 * xenvirtio_policy_decide_backend() - decide for a guest's device (backend)
 * @pol: policy; its device tree and ACPI tables, if any, are the guest's
 * @guest_domid: the guest
 * @devid: the device's index in xenstore (backend/virtio/<guest>/<devid>)
 * @device: the device as for xenvirtio_policy_decide(), or NULL if it has
 *	no firmware identity
 * @out: the decision; the backend domid is the own domid
 *
 * Facts not injected with xenvirtio_policy_set_guest() are read from the
 * context's store: "/local/domain/<own>/backend/virtio/<guest>/<devid>/
 * grant_usage" and "/libxl/<guest>/type"; without a store they are unknown.
 *
 * Return: 0 on success;
 * -EINVAL if @pol or @out is NULL, @guest_domid > 0x7fef or @device is
 * malformed;
 * -ENOENT as for xenvirtio_policy_decide();
 * -EBADMSG if the store holds a malformed (or overlong) grant_usage or
 * type;
 * other negative errno values from the platform's store.
 *
 * Context: logs an error through the policy's context for a malformed
 * store value.
 */
int xenvirtio_policy_decide_backend(const struct xenvirtio_policy *pol,
				    uint16_t guest_domid, uint32_t devid,
				    const char *device,
				    struct xenvirtio_policy_decision *out);

/**
 * xenvirtio_policy_platform() - the platform facts in use
 * @pol: policy
 * @type: the guest type (may be NULL)
 * @initial_domain: whether the initial domain (may be NULL)
 *
 * Return: 0 on success; -EINVAL if @pol is NULL.
 */
int xenvirtio_policy_platform(const struct xenvirtio_policy *pol,
			      enum xenvirtio_guest_type *type,
			      bool *initial_domain);

/**
 * xenvirtio_policy_xenv() - the XENV table's grant table region
 * @pol: policy
 * @start: region start (may be NULL)
 * @size: region size, 0 if the table says absent (may be NULL)
 *
 * Return: 0 if an XENV table was added; -ENOENT if not; -EINVAL if @pol is
 * NULL.
 */
int xenvirtio_policy_xenv(const struct xenvirtio_policy *pol, uint64_t *start,
			  uint64_t *size);

/**
 * xenvirtio_policy_source_name() - short name of a source
 * @src: the source
 *
 * Return: "default", "param", "dt", "acpi", "global", "platform",
 * "xenstore", or "unknown".
 */
const char *xenvirtio_policy_source_name(enum xenvirtio_policy_source src);

/**
 * xenvirtio_policy_guest_type_name() - short name of a guest type
 * @type: the type
 *
 * Return: "unknown", "none", "pv", "hvm", "pvh", "arm", or "invalid".
 */
const char *xenvirtio_policy_guest_type_name(enum xenvirtio_guest_type type);

#ifdef __cplusplus
}
#endif

#endif /* XENVIRTIO_POLICY_H */
