#!/bin/sh
# xenvirtio-probe CLI: JSON output for the libxl-style tree and the same
# devices described by an XVGD table, compared with tests/policy/expected/;
# exit status 1 with a message naming the file for bad input; 2 for usage.
set -u
unset XENVIRTIO_POLICY
src=${XV_TOP_SRCDIR:?run through make check}
build=${XV_TOP_BUILDDIR:?run through make check}
probe="$build/examples/xenvirtio-probe"
mkacpi="$build/tests/policy/mkacpi"
run() {
	if [ -n "${XV_VALGRIND:-}" ]; then
		# $XV_LIBTOOL is "$(SHELL) ./libtool": split it on purpose.
		# shellcheck disable=SC2086
		$XV_LIBTOOL --mode=execute "$XV_VALGRIND" --quiet \
			--error-exitcode=3 --leak-check=full \
			--errors-for-leak-kinds=definite "$probe" "$@"
	else
		"$probe" "$@"
	fi
}
tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT
fail=0
ok() { echo "ok: $1"; }
bad() { echo "FAIL: $1"; fail=1; }

# The "version" line carries the library version: normalise it.
norm() { sed 's/^  "version": ".*",$/  "version": "X",/' "$1"; }
compare() { # name expected actual
	if norm "$3" | diff -u "$2" - >"$tmp/diff"; then
		ok "$1"
	else
		bad "$1"
		cat "$tmp/diff"
	fi
}

"$mkacpi" xvgd "$tmp/XVGD" || exit 99
"$mkacpi" xenv "$tmp/XENV" || exit 99
"$mkacpi" xvgd-badsum "$tmp/badsum" || exit 99
"$mkacpi" xvgd-overlap "$tmp/overlap" || exit 99

# XVGD + XENV, PVH guest, the PCI functions asked about with --device.
run --acpi-table "$tmp/XVGD" --acpi-table "$tmp/XENV" --guest-type pvh \
	--device pci@0000:00:01.0 --device pci@0000:00:02.0 \
	--device pci@0000:00:03.0 --json >"$tmp/out" 2>"$tmp/err"
rc=$?
[ $rc -eq 0 ] || { bad "xvgd json exit $rc"; cat "$tmp/err"; }
compare "xvgd json" "$src/tests/policy/expected/xvgd.json" "$tmp/out"

# Bad input: exit 1, message names the file and the problem.
expect_fail() { # name status needle args...
	name=$1 want=$2 needle=$3
	shift 3
	run "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ $rc -ne "$want" ]; then
		bad "$name: exit $rc, want $want"
		cat "$tmp/err"
	elif ! grep -qF -- "$needle" "$tmp/err"; then
		bad "$name: '$needle' not in: $(cat "$tmp/err")"
	else
		ok "$name"
	fi
}
expect_fail "bad checksum" 1 "$tmp/badsum: XVGD: bad checksum" \
	--acpi-table "$tmp/badsum"
expect_fail "overlap" 1 "$tmp/overlap: XVGD: node 4 at offset 128 overlaps" \
	--acpi-table "$tmp/overlap"
expect_fail "missing file" 1 "$tmp/nope: No such file" --dtb "$tmp/nope"
expect_fail "grammar error" 1 "--cmdline: 'xen_virtio_grant=maybe': bad value" \
	--cmdline "xen_virtio_grant=maybe" --guest-type hvm
expect_fail "bad option" 2 "bad option" --frobnicate
expect_fail "bad device" 2 "bad --device 'virtio0'" --guest-type hvm \
	--device virtio0
expect_fail "bad guest type" 2 "bad --guest-type 'dom0'" --guest-type dom0
expect_fail "backend view needs domid" 2 "--backend-view needs --domid" \
	--backend-view
expect_fail "stray argument" 2 "unexpected argument" foo

check_out() { # name needle args...
	name=$1 needle=$2
	shift 2
	if run "$@" >"$tmp/out" 2>"$tmp/err" &&
		grep -q -- "$needle" "$tmp/out"; then
		ok "$name"
	else
		bad "$name"
		cat "$tmp/out" "$tmp/err"
	fi
}
check_out "help" "--backend-view" --help
check_out "version" "^xenvirtio-probe [0-9]" --version

# Backend view: grant_usage injected, then libxl's default for backend 1.
check_out "backend view grant_usage" "grants=no backend=- source=xenstore" \
	--backend-view --domid 5 --own-domid 1 --grant-usage 0 \
	--device mmio@0x2000000
check_out "backend view libxl default" "grants=yes backend=1 source=default" \
	--backend-view --domid 5 --own-domid 1 --device mmio@0x2000000

# Probing the running system also lists the kernel's virtio devices from
# sysfs (decisions depend on the host, so only the names are checked).
sys="$tmp/sys"
mkdir -p "$sys/bus/pci/devices/0000:00:03.0" "$sys/bus/pci/devices/0000:00:01.0" \
	"$sys/bus/pci/devices/0000:00:02.0" \
	"$sys/bus/platform/devices/a000000.virtio_mmio" \
	"$sys/bus/platform/devices/2000000.virtio"
echo 0x1af4 >"$sys/bus/pci/devices/0000:00:03.0/vendor"
echo 0x1af4 >"$sys/bus/pci/devices/0000:00:01.0/vendor"
echo 0x8086 >"$sys/bus/pci/devices/0000:00:02.0/vendor"
echo platform:virtio-mmio >"$sys/bus/platform/devices/a000000.virtio_mmio/modalias"
echo "of:NvirtioT(null)Cvirtio,mmio" >"$sys/bus/platform/devices/2000000.virtio/modalias"
run --sysfs-root "$sys" >"$tmp/out" 2>"$tmp/err"
names=$(cut -d: -f1-3 "$tmp/out" | sed 's/: grants=.*//' | tr '\n' ' ')
case "$names" in
*"mmio@0xa000000 pci@0000:00:01.0 pci@0000:00:03.0 "*) ok "sysfs devices" ;;
*) bad "sysfs devices: $names"; cat "$tmp/out" "$tmp/err" ;;
esac
grep -q "pci@0000:00:02.0" "$tmp/out" && bad "non-virtio PCI listed"

if [ -z "${XV_DTC:-}" ]; then
	echo "SKIP: device tree cases need dtc"
	exit $fail
fi
"$XV_DTC" -q -I dts -O dtb -o "$tmp/libxl.dtb" "$src/tests/policy/libxl.dts" ||
	exit 99
run --dtb "$tmp/libxl.dtb" --json >"$tmp/out" 2>"$tmp/err"
rc=$?
[ $rc -eq 0 ] || { bad "libxl json exit $rc"; cat "$tmp/err"; }
compare "libxl dtb json" "$src/tests/policy/expected/libxl.json" "$tmp/out"
head -c 300 "$tmp/libxl.dtb" >"$tmp/trunc.dtb"
expect_fail "truncated dtb" 1 "$tmp/trunc.dtb: device tree: invalid blob" \
	--dtb "$tmp/trunc.dtb"
expect_fail "path not in tree" 1 "device /virtio@9: no such node" \
	--dtb "$tmp/libxl.dtb" --device /virtio@9
# A --device the tree already lists is printed once.
n=$(run --dtb "$tmp/libxl.dtb" --device pci@0000:00:01.0 |
	grep -c '^pci@0000:00:01.0:')
[ "$n" = 1 ] || bad "listed device named again printed $n times"
exit $fail
