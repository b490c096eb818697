#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The blk demo (what `make demo` runs): a virtio-blk device served across
# two domains of a simulated Xen grant world.
#
#   1. create a world (in /dev/shm when available) and a sparse disk image;
#   2. record domain 1 as a PV guest in the store (the toolstack's job) and
#      start examples/blk-backend as domain 0, serving the image to domain 1
#      with two queues; both sides ask their policy, and both pick grant
#      DMA (a PV guest's devices use grants, SPEC-NOTES section 3, row 5);
#   3. run examples/blk-frontend as domain 1 four times: 4 KiB and 64 KiB
#      requests over split and packed rings, every byte written, read back
#      and verified; each run prints its summary;
#   4. SIGTERM the backend, which releases every mapping and prints its
#      summary line;
#   5. print the figures, and check that nothing is left behind: no
#      process, no world file, no image, no socket.
#
# Usage: blk-demo.sh [BUILDDIR]   (default: $XV_TOP_BUILDDIR, else .)
# Environment: BLK_DEMO_SECONDS (per run, default 1), BLK_DEMO_TMPDIR (where
# the temporary directory goes; default /dev/shm, else /tmp), XV_VALGRIND
# (run the frontend under it, as make check-valgrind does).
# Exit status: 0 if every run verified and everything was cleaned up.
set -u

top=${1:-${XV_TOP_BUILDDIR:-.}}
backend=$top/examples/blk-backend
frontend=$top/examples/blk-frontend
simworld=$top/tests/sim-world
seconds=${BLK_DEMO_SECONDS:-1}
queues=2
depth=8

for p in "$backend" "$frontend" "$simworld"; do
	if [ ! -x "$p" ]; then
		echo "blk-demo: $p is missing: run make first" >&2
		exit 1
	fi
done

parent=${BLK_DEMO_TMPDIR:-}
if [ -z "$parent" ]; then
	parent=/tmp
	[ -d /dev/shm ] && [ -w /dev/shm ] && parent=/dev/shm
fi
tmp=$(mktemp -d "$parent/xv-blk-demo.XXXXXX") || exit 1
world=$tmp/world
image=$tmp/disk.img
bepid=
started=

# Every exit path ends here: stop the backend (TERM, then KILL after a
# bound), destroy the world, remove the directory.
cleanup() {
	if [ -n "$bepid" ] && kill -0 "$bepid" 2>/dev/null; then
		kill -TERM "$bepid" 2>/dev/null
		n=0
		while kill -0 "$bepid" 2>/dev/null && [ $n -lt 50 ]; do
			sleep 0.1
			n=$((n + 1))
		done
		kill -KILL "$bepid" 2>/dev/null
		wait "$bepid" 2>/dev/null
	fi
	bepid=
	[ -e "$world" ] && "$simworld" destroy "$world" 2>/dev/null
	rm -rf "$tmp"
}
trap 'rc=$?; trap - EXIT; cleanup; exit $rc' EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM
# A closed stdout (demo | head) must not skip the cleanup.
trap '' PIPE

run_fe() {
	if [ -n "${XV_VALGRIND:-}" ]; then
		# shellcheck disable=SC2086
		${XV_LIBTOOL:-libtool} --mode=execute "$XV_VALGRIND" --quiet \
			--error-exitcode=4 --leak-check=full \
			--errors-for-leak-kinds=definite \
			--show-leak-kinds=definite "$frontend" "$@"
	else
		"$frontend" "$@"
	fi
}

echo "blk-demo: a world in $tmp: domain 0 serves a 64 MiB disk image to"
echo "blk-demo: domain 1, a PV guest" \
	"($queues queues, $depth requests in flight each)"
"$simworld" create "$world" 4 8192 || exit 1
"$simworld" store "$world" /libxl/1/type pv || exit 1
# A sparse image: the capacity is its size.
: >"$image" && truncate -s 64M "$image" || exit 1

"$backend" --platform "sim:$world,domid=0" --socket-dir "$tmp" \
	--device "fe=1,devid=0,image=$image,queues=$queues,mode=auto" \
	>"$tmp/backend.out" 2>"$tmp/backend.err" &
bepid=$!
started=$bepid

# The backend logs its policy decision once the device is up.
n=0
until grep -q "mode:" "$tmp/backend.err" 2>/dev/null || [ $n -ge 50 ]; do
	sleep 0.1
	n=$((n + 1))
done
sed -n 's/^blk-backend: device [0-9/]*: \(.* mode: .*\)/blk-demo: backend: \1/p' \
	"$tmp/backend.err"

status=0
figures=
for ring in split packed; do
	for size in 4096 65536; do
		echo
		echo "blk-demo: frontend: $ring ring, $size-byte requests," \
			"${seconds}s"
		if run_fe --platform "sim:$world,domid=1,guest=pv" --mode auto \
			--ring "$ring" --queues "$queues" --depth "$depth" \
			--sizes "$size" --seconds "$seconds" --wait-ms 5000 \
			>"$tmp/fe.out" 2>"$tmp/fe.err"; then
			cat "$tmp/fe.out"
			# "... 123.4 MiB/s, map calls N (3.00/request) ..."
			re='.* \([0-9.]*\) MiB/s, map calls [0-9]* (\([0-9.]*\)/request).*'
			fig=$(sed -n "s|$re|\1 \2|p" "$tmp/fe.out")
			figures="$figures$ring $size $fig
"
		else
			rc=$?
			cat "$tmp/fe.out" "$tmp/fe.err"
			echo "blk-demo: the frontend failed (exit $rc)"
			status=1
			break 2
		fi
	done
done

echo
# SIGTERM: the backend releases everything and prints its summary line.
kill -TERM "$bepid" 2>/dev/null
n=0
while kill -0 "$bepid" 2>/dev/null && [ $n -lt 100 ]; do
	sleep 0.1
	n=$((n + 1))
done
if kill -0 "$bepid" 2>/dev/null; then
	echo "blk-demo: the backend did not exit within 10 s of SIGTERM"
	status=1
else
	wait "$bepid"
	rc=$?
	bepid=
	cat "$tmp/backend.out"
	if [ $rc != 0 ]; then
		echo "blk-demo: the backend exited with $rc:"
		cat "$tmp/backend.err"
		status=1
	fi
fi

if [ -n "$figures" ]; then
	echo
	echo "blk-demo: ring    request  MiB/s   DMA map calls/request"
	printf '%s' "$figures" | while read -r ring size mibs per; do
		printf 'blk-demo: %-7s %5s KiB %7s %6s\n' "$ring" \
			$((size / 1024)) "$mibs" "$per"
	done
fi

cleanup
left=
[ -e "$tmp" ] && left="$left $tmp"
[ -n "$started" ] && kill -0 "$started" 2>/dev/null &&
	left="$left backend(pid $started)"
if [ -n "$left" ]; then
	echo "blk-demo: left behind:$left"
	status=1
else
	echo "blk-demo: cleaned up: no process, world, image or socket left"
fi
exit $status
