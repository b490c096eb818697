#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# A backend that dies or hangs in the middle of I/O makes the frontend fail
# with one clear line and exit 3 within a bound, never hang:
#  - hung (SIGSTOP): the frontend gives up after --timeout-ms, and within
#    2 x --timeout-ms of the stop;
#  - killed (SIGKILL): the socket closes, the frontend notices at once
#    (asserted: within 2 x --timeout-ms of the kill).
. "${XV_TOP_SRCDIR:?run through make check}/tests/blk/blk-lib.sh"

timeout_ms=$((1500 * slow))
bound=$((2 * timeout_ms))

make_world 4
make_image disk1.img
make_image disk2.img
start_backend \
	--device "fe=1,devid=0,image=$tmp/disk1.img,queues=2,mode=grant" \
	--device "fe=2,devid=0,image=$tmp/disk2.img,queues=2,mode=grant"

# start_frontend DOMID: a long run in the background ($fepid), returns once
# it does I/O (its GET_ID completed).
start_frontend() {
	: >"$tmp/fe$1.err"
	if [ -n "${XV_VALGRIND:-}" ]; then
		# shellcheck disable=SC2086
		$XV_LIBTOOL --mode=execute "$XV_VALGRIND" --quiet \
			--error-exitcode=4 "$frontend" \
			--platform "sim:$world,domid=$1" --mode grant \
			--queues 2 --depth 4 --sizes 4096,65536 --seconds 60 \
			--timeout-ms "$timeout_ms" --verbose \
			>"$tmp/fe$1.out" 2>"$tmp/fe$1.err" &
	else
		"$frontend" --platform "sim:$world,domid=$1" --mode grant \
			--queues 2 --depth 4 --sizes 4096,65536 --seconds 60 \
			--timeout-ms "$timeout_ms" --verbose \
			>"$tmp/fe$1.out" 2>"$tmp/fe$1.err" &
	fi
	fepid=$!
	pids="$pids $fepid"
	n=0
	until grep -q "device id" "$tmp/fe$1.err"; do
		if ! kill -0 "$fepid" 2>/dev/null || [ $n -ge $((100 * slow)) ]
		then
			echo "FAIL: frontend $1 did not start I/O"
			cat "$tmp/fe$1.err"
			exit 1
		fi
		sleep 0.1
		n=$((n + 1))
	done
	sleep 0.3 # well into the I/O
}

# wait_frontend T0 WHAT: wait (bounded) for $fepid; check exit 3, the
# message, and that it ended within $bound ms of T0.
wait_frontend() {
	n=0
	while kill -0 "$fepid" 2>/dev/null && [ $n -lt $((bound / 50 + 40)) ]
	do
		sleep 0.05
		n=$((n + 1))
	done
	t1=$(now_ms)
	if kill -0 "$fepid" 2>/dev/null; then
		bad "$2: the frontend still runs $((t1 - $1)) ms later"
		kill -KILL "$fepid"
	fi
	wait "$fepid"
	rc=$?
	took=$((t1 - $1))
	line=$(grep "^blk-frontend: backend 0 device" "$tmp/fe$3.err")
	echo "$2: exit $rc after $took ms: $line"
	[ "$rc" = 3 ] || { bad "$2: exit $rc, want 3"; cat "$tmp/fe$3.err"; }
	[ -n "$line" ] || bad "$2: no 'blk-frontend: backend ...' line"
	[ "$took" -lt "$bound" ] ||
		bad "$2: took $took ms, bound 2 x --timeout-ms = $bound ms"
}

# stop_backend_outside_lock: SIGSTOP the backend at a moment it does not
# hold the simulated world's lock. A process stopped inside that lock
# stalls every domain of the world, the frontend's grant calls included:
# the simulated hypervisor would stop with the backend, which Xen's does not
# (a hung backend domain cannot hold up another domain's hypercalls).
stop_backend_outside_lock() {
	n=0
	while :; do
		kill -STOP "$bepid"
		"$simworld" lock-free "$world" && return 0
		kill -CONT "$bepid"
		n=$((n + 1))
		[ $n -lt 100 ] || { echo "FAIL: the backend always holds the lock"; exit 1; }
		sleep 0.01
	done
}

# 1. hung backend: it stops answering and interrupting.
start_frontend 1
stop_backend_outside_lock
t0=$(now_ms)
wait_frontend "$t0" "backend hung" 1
[ "$took" -ge $((timeout_ms - 100)) ] ||
	bad "hung: gave up after $took ms, before --timeout-ms $timeout_ms"
kill -CONT "$bepid"

# 2. killed backend (domain 2's device, the daemon carried on after 1).
start_frontend 2
kill -KILL "$bepid"
t0=$(now_ms)
wait_frontend "$t0" "backend killed" 2
wait "$bepid" 2>/dev/null
[ $fail = 0 ] && echo "test-blk-backend-killed: all checks passed"
exit $fail
