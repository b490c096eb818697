#!/bin/bash
# prepare.sh WORKDIR - get real Xen and a Debian kernel ready to boot in QEMU.
#
# Installs the host tools with apt-get when one is missing (Debian 12, root),
# downloads the hypervisor and kernel packages with `apt-get download` into
# WORKDIR/debs (a cache: a package already there is not fetched again) and
# unpacks them with dpkg-deb -x into WORKDIR/root; nothing is installed on the
# host and /boot is not touched. Writes WORKDIR/xen (the ELF32 multiboot image
# QEMU's -kernel needs), WORKDIR/vmlinuz and WORKDIR/kver.
# Environment: XEN_PKG (default xen-hypervisor-4.17-amd64), KERNEL_PKG
# (default: the package linux-image-amd64 depends on), SKIP_APT_INSTALL=1.
set -euo pipefail
W=${1:?usage: prepare.sh WORKDIR}
XEN_PKG=${XEN_PKG:-xen-hypervisor-4.17-amd64}
mkdir -p "$W/debs"
W=$(cd "$W" && pwd)

need=()
for t in qemu-system-x86_64:qemu-system-x86 busybox:busybox-static \
	 cpio:cpio gzip:gzip depmod:kmod dpkg-deb:dpkg timeout:coreutils; do
	command -v "${t%%:*}" >/dev/null 2>&1 || need+=("${t#*:}")
done
[ -e /usr/include/xengnttab.h ] || need+=(libxen-dev)
# busybox must be the static one: it is PID 1's only tool in the initramfs.
if command -v busybox >/dev/null && ldd "$(command -v busybox)" >/dev/null 2>&1; then
	need+=(busybox-static)
fi
if [ ${#need[@]} -gt 0 ] && [ "${SKIP_APT_INSTALL:-0}" != 1 ]; then
	echo "prepare: installing ${need[*]}"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends "${need[@]}" >/dev/null
fi

if [ ! -s "$W/xen" ] || [ ! -s "$W/vmlinuz" ] || [ ! -s "$W/kver" ]; then
	# linux-image-amd64 is a metapackage; resolve the real image package.
	KPKG=${KERNEL_PKG:-$(apt-cache depends linux-image-amd64 2>/dev/null |
		awk '/Depends: linux-image-[0-9]/{print $2; exit}')}
	if [ -z "$KPKG" ]; then
		apt-get update -qq
		KPKG=$(apt-cache depends linux-image-amd64 |
			awk '/Depends: linux-image-[0-9]/{print $2; exit}')
	fi
	echo "prepare: hypervisor $XEN_PKG, kernel $KPKG"
	cd "$W/debs"
	for p in "$XEN_PKG" "$KPKG"; do
		ls "$p"_*.deb >/dev/null 2>&1 && continue
		# As root apt warns that the download is unsandboxed: harmless.
		apt-get download "$p" 2>&1 | grep -v 'unsandboxed' || true
		ls "$p"_*.deb >/dev/null 2>&1 || { echo "prepare: cannot download $p" >&2; exit 1; }
	done
	rm -rf "$W/root"
	mkdir -p "$W/root"
	for d in "$XEN_PKG"_*.deb "$KPKG"_*.deb; do
		dpkg-deb -x "$d" "$W/root"
	done
	KVER=$(ls "$W/root/lib/modules" | head -1)
	depmod -b "$W/root" "$KVER"
	# QEMU's multiboot loader takes the ELF32 image, not the .gz or .efi.
	zcat "$(ls "$W"/root/boot/xen-*-amd64.gz | head -1)" > "$W/xen.tmp"
	mv "$W/xen.tmp" "$W/xen"
	cp "$W/root/boot/vmlinuz-$KVER" "$W/vmlinuz"
	echo "$KVER" > "$W/kver"
fi
echo "prepare: ready in $W (kernel $(cat "$W/kver"))"
