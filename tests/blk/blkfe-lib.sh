# SPDX-License-Identifier: LGPL-2.1-or-later
# Shared by the blk frontend's integration tests (sourced, not run): a world
# in a temporary directory, a backend started in the background, programs
# run under valgrind when make check-valgrind sets XV_VALGRIND, and a
# cleanup that runs on every exit path.
set -u
top=${XV_TOP_BUILDDIR:?run through make check}
backend=$top/examples/blk-backend
frontend=$top/examples/blk-frontend
simworld=$top/tests/sim-world
for p in "$backend" "$frontend" "$simworld"; do
	[ -x "$p" ] || { echo "missing $p"; exit 99; }
done
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
	tmp=$(mktemp -d /dev/shm/xv-blkfe.XXXXXX) || exit 99
else
	tmp=$(mktemp -d) || exit 99
fi
world=$tmp/world
pids=
fail=0

cleanup() {
	for p in $pids; do
		kill -CONT "$p" 2>/dev/null
		kill -TERM "$p" 2>/dev/null
	done
	for p in $pids; do
		n=0
		while kill -0 "$p" 2>/dev/null && [ $n -lt 50 ]; do
			sleep 0.1
			n=$((n + 1))
		done
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	pids=
	[ -e "$world" ] && "$simworld" destroy "$world" 2>/dev/null
	rm -rf "$tmp"
}
trap 'rc=$?; trap - EXIT; cleanup; exit $rc' EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

# Slower under valgrind: scale what the tests ask for.
slow=1
[ -n "${XV_VALGRIND:-}" ] && slow=4

# Run a program, under valgrind with make check-valgrind (exit 4 on errors).
vg() {
	if [ -n "${XV_VALGRIND:-}" ]; then
		# shellcheck disable=SC2086
		$XV_LIBTOOL --mode=execute "$XV_VALGRIND" --quiet \
			--error-exitcode=4 --leak-check=full \
			--errors-for-leak-kinds=definite \
			--show-leak-kinds=definite "$@"
	else
		"$@"
	fi
}

bad() {
	echo "FAIL: $*"
	fail=1
}

now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

# make_world DOMAINS: the world and a 16 MiB sparse image per name given.
make_world() {
	"$simworld" create "$world" "$1" 4096 || exit 99
}

make_image() {
	: >"$tmp/$1" && truncate -s "${2:-16M}" "$tmp/$1" || exit 99
}

# start_backend ARGS...: blk-backend as domain 0 in the background; its pid
# in $bepid, stdout/stderr in $tmp/backend.out/.err. A simple command, not
# a function, goes to the background, so that $! is the daemon itself
# (libtool --mode=execute execs valgrind) and signals reach it.
start_backend() {
	if [ -n "${XV_VALGRIND:-}" ]; then
		# shellcheck disable=SC2086
		$XV_LIBTOOL --mode=execute "$XV_VALGRIND" --quiet \
			--error-exitcode=4 --leak-check=full \
			--errors-for-leak-kinds=definite \
			--show-leak-kinds=definite "$backend" \
			--platform "sim:$world,domid=0" --socket-dir "$tmp" \
			"$@" >"$tmp/backend.out" 2>"$tmp/backend.err" &
	else
		"$backend" --platform "sim:$world,domid=0" --socket-dir "$tmp" \
			"$@" >"$tmp/backend.out" 2>"$tmp/backend.err" &
	fi
	bepid=$!
	pids="$pids $bepid"
}

# stop_backend: SIGTERM, wait at most 10 s (x slow); its exit code in $berc.
stop_backend() {
	kill -TERM "$bepid" 2>/dev/null
	n=0
	while kill -0 "$bepid" 2>/dev/null && [ $n -lt $((100 * slow)) ]; do
		sleep 0.1
		n=$((n + 1))
	done
	if kill -0 "$bepid" 2>/dev/null; then
		bad "the backend ignored SIGTERM for $((10 * slow)) s"
		berc=124
		return
	fi
	wait "$bepid"
	berc=$?
}

# jget FILE KEY: a field of the frontend's one-line JSON summary.
jget() {
	sed -n "s/.*\"$2\":\(\"[^\"]*\"\|[^,}]*\).*/\1/p" "$1" | tr -d '"'
}
