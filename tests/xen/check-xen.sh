#!/bin/bash
# check-xen.sh WORKDIR PROGRAM... - run test programs inside a real Xen dom0.
#
# Prepares Xen 4.17 and Debian's kernel (prepare.sh, cached in WORKDIR),
# builds a busybox initramfs holding the Xen device modules and PROGRAMs
# (with the shared libraries ldd names), boots Xen under
# qemu-system-x86_64 (TCG) with the kernel as PV dom0, lets tests/xen/init
# run each program, and prints their output. Exit: 0 all passed, 1 a test
# failed (or skipped: inside Xen nothing may skip), 2 no result (crash,
# hang, timeout), 77 if the host cannot run it (not root, not Debian amd64).
# Environment: TIMEOUT (s, default 600) bounds the QEMU run; SMP, MEM,
# CPU (default max), XEN_EXTRA, DOM0_EXTRA add to the command lines;
# LOG (default WORKDIR/run.log); XV_BENCH_MS, XV_XEN_VQ_* (see README.md)
# and XV_TEST_TIMEOUT (s per program, default 240) are passed to dom0;
# XEN_QEMU_LIBPATH: where ldd finds libraries of the build tree.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
W=${1:?usage: check-xen.sh WORKDIR PROGRAM...}
shift
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null ||
   [ "$(uname -m)" != x86_64 ]; then
	echo "check-xen: needs root on Debian amd64 (apt-get): skipped"
	exit 77
fi
mkdir -p "$W" && W=$(cd "$W" && pwd)
bash "$HERE/prepare.sh" "$W" || { echo "check-xen: prepare failed"; exit 2; }
KVER=$(cat "$W/kver")

# --- initramfs ---
IR="$W/initramfs"
rm -rf "$IR"
mkdir -p "$IR"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,tests} \
	"$IR/lib/modules/$KVER/kernel/drivers/xen/xenfs"
cp "$(command -v busybox)" "$IR/bin/busybox"
for a in $("$IR/bin/busybox" --list); do
	[ -e "$IR/bin/$a" ] || ln -s busybox "$IR/bin/$a"
done
for m in xen-evtchn xen-privcmd xenfs/xenfs xen-gntdev xen-gntalloc; do
	cp "$W/root/lib/modules/$KVER/kernel/drivers/xen/$m.ko" \
		"$IR/lib/modules/$KVER/kernel/drivers/xen/$m.ko" ||
		{ echo "check-xen: module $m missing"; exit 2; }
done
i=0
for t in "$@"; do
	# A libtool wrapper script would not run there: take the real binary.
	if [ -x "$(dirname "$t")/.libs/$(basename "$t")" ] &&
	   head -c 2 "$t" | grep -q '#!'; then
		t="$(dirname "$t")/.libs/$(basename "$t")"
	fi
	[ -x "$t" ] || { echo "check-xen: no program $t"; exit 2; }
	i=$((i + 1))
	cp "$t" "$IR/tests/$(printf %02d "$i")-$(basename "$t")"
	# Libraries of the build tree (a program linked to libxenvirtio.la)
	# are found through XEN_QEMU_LIBPATH and go to /usr/local/lib.
	LD_LIBRARY_PATH="${XEN_QEMU_LIBPATH:-}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
		ldd "$t" 2>/dev/null | grep -o '/[^ ]*' | while read -r lib; do
		[ -e "$lib" ] || continue
		case "$lib" in
		/lib/* | /lib64/* | /usr/*) dest="$IR$lib" ;;
		*) dest="$IR/usr/local/lib/$(basename "$lib")" ;;
		esac
		mkdir -p "$(dirname "$dest")"
		cp -L "$lib" "$dest"
	done
done
mkdir -p "$IR/etc"
for v in XV_BENCH_MS XV_TEST_TIMEOUT XV_XEN_VQ_REQS XV_XEN_VQ_SLOTS \
	XV_XEN_VQ_DEBUG; do
	[ -n "${!v:-}" ] && echo "export $v=${!v}"
done > "$IR/etc/xv-test-env"
cp "$HERE/init" "$IR/init"
chmod 755 "$IR/init"
(cd "$IR" && find . -print0 | cpio --null -o -H newc --quiet | gzip -1) \
	> "$W/initrd.cpio.gz"

# --- boot ---
TIMEOUT=${TIMEOUT:-600}; LOG=${LOG:-$W/run.log}
# smap=0: QEMU's emulated IRET reads the frame with supervisor accesses even
# at ring 3, where a 64-bit PV kernel runs, so with SMAP on (-cpu max) dom0
# faults on its first iretq. A PVH dom0 does not boot under TCG: PV it is.
XEN_ARGS="console=com1 com1=115200,8n1 dom0_mem=1G,max:1G loglvl=all guest_loglvl=all noreboot smap=0 ${XEN_EXTRA:-}"
DOM0_ARGS="console=hvc0 earlyprintk=xen rdinit=/init ${DOM0_EXTRA:-}"
# Multiboot modules are comma-separated in -initrd.
QEMU=(qemu-system-x86_64 -machine q35 -accel tcg -cpu "${CPU:-max}"
	-smp "${SMP:-2}" -m "${MEM:-2G}" -nographic -no-reboot
	-kernel "$W/xen" -append "$XEN_ARGS"
	-initrd "$W/vmlinuz $DOM0_ARGS,$W/initrd.cpio.gz")
echo "check-xen: booting Xen + dom0 with $# test program(s), timeout ${TIMEOUT}s"
T0=$(date +%s)
echo "# ${QEMU[*]}" > "$LOG"
timeout -k 5 "$TIMEOUT" "${QEMU[@]}" -serial mon:stdio < /dev/null >> "$LOG" 2>&1 &
QPID=$!
while kill -0 "$QPID" 2>/dev/null; do
	if grep -a -q 'XEN-QEMU-RESULT:' "$LOG"; then
		# Give the power-off 30 s to end QEMU by itself.
		for _ in $(seq 60); do
			kill -0 "$QPID" 2>/dev/null || break
			sleep 0.5
		done
		break
	fi
	if grep -a -q -E 'Dom0 crashed|Panic on CPU|Kernel panic' "$LOG"; then
		sleep 3 # let the dump reach the log
		break
	fi
	sleep 0.5
done
kill "$QPID" 2>/dev/null
wait "$QPID" 2>/dev/null
T1=$(date +%s)

# The tests' own output, then the verdict.
tr -d '\r' < "$LOG" | awk '
	/=== XEN-QEMU-TEST-BEGIN/ { on = 1 }
	on || /XEN-QEMU-RESULT|hypervisor:|insmod .*FAILED|Dom0 crashed|Panic|Kernel panic|=== dom0 kernel/ { print }
	/=== XEN-QEMU-TEST-END/ { on = 0 }' | grep -a -v '^(XEN)'
echo "check-xen: $((T1 - T0)) s in QEMU; full log: $LOG"
if grep -a -q 'XEN-QEMU-RESULT: PASS' "$LOG"; then
	echo "check-xen: PASS"
	exit 0
fi
if grep -a -q 'XEN-QEMU-RESULT: FAIL' "$LOG"; then
	echo "check-xen: FAIL"
	exit 1
fi
tail -30 "$LOG"
echo "check-xen: ERROR (no result: crash or timeout)"
exit 2
