#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# G8: blk-backend --quota FRAMES,REQUESTS bounds what one guest may hold
# mapped. Requests within the frame limit are served and verified; a
# request larger than the limit can never be mapped and is retired (used
# length 0, counted as bad) instead of stalling the queue; the device keeps
# serving afterwards and everything is released at shutdown.
. "${XV_TOP_SRCDIR:?run through make check}/tests/blk/blk-lib.sh"

make_world 3
make_image q.img
start_backend --quota 8,1 --device "fe=1,devid=0,image=$tmp/q.img,mode=grant"

run() {
	vg "$frontend" --platform "sim:$world,domid=1" --mode grant \
		--depth 2 "$@" >"$tmp/fe.out" 2>"$tmp/fe.err"
}

run --sizes 512,4096 --requests 40
rc=$?
[ $rc = 0 ] || bad "within the quota: exit $rc: $(cat "$tmp/fe.err")"
# 64 KiB is 16 data frames: more than 8, so never mappable.
run --sizes 65536 --requests 2
rc=$?
[ $rc = 2 ] || bad "beyond the quota: exit $rc, want 2"
grep -q "used length 0" "$tmp/fe.err" ||
	bad "beyond the quota: no used-length message: $(cat "$tmp/fe.err")"
run --sizes 4096 --requests 20
rc=$?
[ $rc = 0 ] || bad "after a refused request: exit $rc: $(cat "$tmp/fe.err")"

stop_backend
[ "$berc" = 0 ] || { bad "backend exit $berc"; cat "$tmp/backend.err"; }
cat "$tmp/backend.out"
grep -q "mapped now 0$" "$tmp/backend.out" || bad "the backend still maps"
bads=$(sed -n 's/.*(bad \([0-9]*\)).*/\1/p' "$tmp/backend.out")
[ "${bads:-0}" -ge 1 ] || bad "no request counted as bad"
[ $fail = 0 ] && echo "test-blk-quota: all checks passed"
exit $fail
