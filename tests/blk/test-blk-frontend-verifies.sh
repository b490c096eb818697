#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# The frontend's checks can fail (F6: what the device reports is checked):
#  - a read-only device answers every write with IOERR: exit 2, naming the
#    status;
#  - the image is overwritten behind the backend's back while the frontend
#    runs: a read-back no longer matches what was written: exit 2, "data
#    mismatch", with the sector and byte;
#  - a device whose backend uses grants refuses a frontend that decided no
#    grants (ACCESS_PLATFORM): exit 1, not data corruption.
. "${XV_TOP_SRCDIR:?run through make check}/tests/blk/blkfe-lib.sh"

make_world 5
make_image ro.img
make_image rw.img 1M
make_image g.img
start_backend \
	--device "fe=1,devid=0,image=$tmp/ro.img,mode=grant,readonly" \
	--device "fe=2,devid=0,image=$tmp/rw.img,mode=grant" \
	--device "fe=3,devid=0,image=$tmp/g.img,mode=grant"

# 1. read-only device
vg "$frontend" --platform "sim:$world,domid=1" --mode grant --requests 10 \
	>"$tmp/fe.out" 2>"$tmp/fe.err"
rc=$?
echo "read-only: exit $rc: $(cat "$tmp/fe.err")"
[ $rc = 2 ] || bad "read-only device: exit $rc, want 2"
grep -q "OUT of 4096 bytes at sector [0-9]*: status 1 (I/O error)" \
	"$tmp/fe.err" || bad "read-only device: no status message"

# 2. the image changes under the frontend: zeroes written over it in a loop
(
	end=$(($(date +%s) + 10 * slow))
	while [ "$(date +%s)" -lt $end ] && [ -e "$tmp/rw.img" ]; do
		dd if=/dev/zero of="$tmp/rw.img" bs=64k count=16 conv=notrunc \
			2>/dev/null
	done
) &
pids="$pids $!"
vg "$frontend" --platform "sim:$world,domid=2" --mode grant --depth 2 \
	--sizes 65536 --seconds $((5 * slow)) >"$tmp/fe.out" 2>"$tmp/fe.err"
rc=$?
echo "overwritten: exit $rc: $(cat "$tmp/fe.err")"
[ $rc = 2 ] || bad "overwritten image: exit $rc, want 2"
grep -q "data mismatch: queue 0, 65536 bytes at sector [0-9]*, byte [0-9]*" \
	"$tmp/fe.err" || bad "overwritten image: no mismatch message"

# 3. modes that disagree
vg "$frontend" --platform "sim:$world,domid=3" --mode foreign --requests 10 \
	>"$tmp/fe.out" 2>"$tmp/fe.err"
rc=$?
echo "mode mismatch: exit $rc: $(tail -1 "$tmp/fe.err")"
[ $rc = 1 ] || bad "mode mismatch: exit $rc, want 1"

stop_backend
[ "$berc" = 0 ] || { bad "backend exit $berc"; cat "$tmp/backend.err"; }
grep "mapped now" "$tmp/backend.out"
[ "$(grep -c "mapped now 0$" "$tmp/backend.out")" = 3 ] ||
	bad "the backend still maps something"
[ $fail = 0 ] && echo "test-blk-frontend-verifies: all checks passed"
exit $fail
