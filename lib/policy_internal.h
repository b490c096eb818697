/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Policy internals: the facts each source yields, and the pure functions
 * that parse sources and decide. Nothing here needs a context or platform.
 */
#ifndef XV_POLICY_INTERNAL_H
#define XV_POLICY_INTERNAL_H

#include "internal.h"

#include <xenvirtio/policy.h>

#define XV_DOMID_MAX 0x7fefu	    /* DOMID_FIRST_RESERVED - 1 */
#define XV_DT_PATH_MAX 256	    /* with the NUL */
#define XV_DT_MAX_SIZE (16u << 20)  /* largest blob accepted */
#define XV_POLICY_MAX_DEVICES 256u  /* listed devices */
#define XV_PARAM_MAX_DEVICES 64u    /* per-device parameters */
#define XV_ACPI_MAX_NODES 256u	    /* XVGD nodes */
#define XV_ERR_LEN 256		    /* error text */
#define XV_EVIDENCE_LEN 800	    /* one source's contribution */

enum xv_dev_kind {
	XV_DEV_MMIO = 1,
	XV_DEV_PCI,
	XV_DEV_PATH,
};

/* A device as named by a parameter, the API or the probe tool. */
struct xv_dev_id {
	enum xv_dev_kind kind;
	uint64_t base;	 /* XV_DEV_MMIO; XV_DEV_PATH if has_base */
	bool has_base;	 /* XV_DEV_PATH: the node's reg base is known */
	uint16_t seg;	 /* XV_DEV_PCI */
	uint16_t bdf;	 /* XV_DEV_PCI: bus << 8 | dev << 3 | fn */
	char path[XV_DT_PATH_MAX]; /* XV_DEV_PATH */
};

/* Parse "mmio@0x..", "pci@SSSS:BB:DD.F" or "/path" (exactly @len bytes). */
int xv_dev_parse(const char *s, size_t len, struct xv_dev_id *out);
/* Canonical text of a device; -ENOSPC if @len is too small. */
int xv_dev_format(const struct xv_dev_id *d, char *buf, size_t len);
/* Strict unsigned number, decimal or 0x-hex, exactly @len bytes. */
int xv_parse_u64(const char *s, size_t len, uint64_t max, uint64_t *out);

/* Parameters (policy_params.c). */
enum xv_mode { XV_MODE_AUTO = 0, XV_MODE_FORCE, XV_MODE_OFF };

struct xv_param_dev {
	struct xv_dev_id id;
	bool grant;
	bool has_backend;
	uint16_t backend;
	enum xenvirtio_policy_origin origin;
};

struct xv_params {
	enum xv_mode mode;
	bool mode_set;
	enum xenvirtio_policy_origin mode_origin;
	bool has_backend;
	uint16_t backend;
	enum xenvirtio_policy_origin backend_origin;
	unsigned int ndev;
	struct xv_param_dev dev[XV_PARAM_MAX_DEVICES];
};

/*
 * Parse @text into @p (which keeps earlier values). All or nothing: on
 * error @p is unchanged and @err says why.
 */
int xv_params_parse(struct xv_params *p, const char *text,
		    enum xenvirtio_policy_origin origin, char *err,
		    size_t errlen);
const char *xv_origin_name(enum xenvirtio_policy_origin o);

/* ACPI (policy_acpi.c). */
enum xv_acpi_type {
	XV_XVGD_PCI = 1,
	XV_XVGD_MMIO = 2,
	XV_XVGD_DEFAULT = 3,
};

struct xv_acpi_node {
	uint8_t type;
	uint16_t seg, bdf_start, bdf_end; /* XV_XVGD_PCI */
	uint64_t base;			  /* XV_XVGD_MMIO */
	uint16_t domid;
	bool grants;
	uint32_t offset; /* in the table, for reasons */
};

struct xv_acpi {
	bool xenv;
	uint64_t gt_start, gt_size;
	uint32_t evt_irq;
	uint8_t evt_flags;
	bool xvgd;
	bool has_default;
	struct xv_acpi_node def;
	unsigned int nnodes;
	struct xv_acpi_node nodes[XV_ACPI_MAX_NODES];
};

/* Parse one table into @a; all or nothing. -EPROTONOSUPPORT: other sig. */
int xv_acpi_parse(struct xv_acpi *a, const void *buf, size_t len, char *err,
		  size_t errlen);

/* What one firmware source says about one device. */
struct xv_evidence {
	bool has_node;	/* the source describes the device */
	bool grants;
	uint16_t domid;
	unsigned int row; /* 2, 3, 4 for DT; 0 for ACPI */
	bool is_default;  /* ACPI platform default node */
	char node_path[XV_DT_PATH_MAX]; /* DT: the device's own node, or "" */
	char what[XV_EVIDENCE_LEN];
};

void xv_acpi_lookup(const struct xv_acpi *a, const struct xv_dev_id *dev,
		    struct xv_evidence *ev);

/* Device tree (policy_dt.c). The blob was validated by xv_dt_check(). */
int xv_dt_check(const void *blob, size_t len, char *err, size_t errlen);
/*
 * Calls @fn for each virtio device the tree lists (virtio,mmio nodes, PCI
 * function nodes under host bridges); stops at the first non-zero return.
 */
int xv_dt_enumerate(const void *blob,
		    int (*fn)(void *opaque, const char *name), void *opaque);
/* -ENOENT if @dev is a path the tree lacks. */
int xv_dt_lookup(const void *blob, const struct xv_dev_id *dev,
		 struct xv_evidence *ev);
/* The reg base of the node at @path; -ENOENT if none. */
int xv_dt_path_base(const void *blob, const char *path, uint64_t *base);

/* Everything the decision needs besides the firmware evidence. */
struct xv_policy_facts {
	enum xenvirtio_guest_type guest_type;
	bool initial_domain;
	bool rule7;
	bool xenv; /* an ACPI XENV table was seen */
	/* backend view */
	bool backend_view;
	uint16_t own_domid;
	uint16_t guest_domid;
	int grant_usage; /* -1 unknown */
	enum xenvirtio_guest_type guest_guest_type;
	const char *backend_note; /* where the backend facts came from */
};

/* The pure decision function (policy.c). */
void xv_policy_decide(const struct xv_policy_facts *f,
		      const struct xv_params *p, const struct xv_dev_id *dev,
		      const struct xv_evidence *dt,
		      const struct xv_evidence *acpi,
		      struct xenvirtio_policy_decision *out);

/* The policy object. */
struct xenvirtio_policy {
	struct xenvirtio_ctx *ctx;
	enum xenvirtio_guest_type guest_type;
	bool initial_domain;
	bool rule7;
	void *dtb;
	size_t dtb_len;
	struct xv_acpi acpi;
	struct xv_params params;
	bool own_domid_set;
	uint16_t own_domid;
	bool guest_set;
	uint16_t guest_domid;
	enum xenvirtio_guest_type guest_guest_type;
	int grant_usage;
	unsigned int ndev;
	char (*devs)[XV_DT_PATH_MAX];
	char *paths[XENVIRTIO_POLICY_PATH_ENV + 1];
	char err[XV_ERR_LEN + 64];
};

void xv_policy_seterr(struct xenvirtio_policy *pol, const char *fmt, ...)
	XV_PRINTF(2, 3);
int xv_policy_rebuild_devices(struct xenvirtio_policy *pol);

#endif /* XV_POLICY_INTERNAL_H */
