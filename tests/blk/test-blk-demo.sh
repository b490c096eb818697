#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# The demo (make demo) as a test: four verified frontend runs, the
# backend's clean summary, and nothing left behind: no process, no world,
# image or socket in its temporary directory (given a private parent here
# so that "nothing" can be checked).
set -u
top=${XV_TOP_BUILDDIR:?run through make check}
src=${XV_TOP_SRCDIR:?run through make check}
parent=$(mktemp -d) || exit 99
trap 'rm -rf "$parent" "$parent.out"' EXIT
fail=0
bad() {
	echo "FAIL: $*"
	fail=1
}

secs=0.3
[ -n "${XV_VALGRIND:-}" ] && secs=1
BLK_DEMO_SECONDS=$secs BLK_DEMO_TMPDIR=$parent \
	timeout 120 sh "$src/examples/blk-demo.sh" "$top" >"$parent.out" 2>&1
rc=$?
cat "$parent.out"
[ $rc = 0 ] || bad "the demo exited $rc"
n=$(grep -c "every byte verified" "$parent.out")
[ "$n" = 4 ] || bad "$n verified frontend runs, want 4"
grep -q "^blk-backend: device 1/0: requests [1-9].*(bad 0).*mapped now 0$" \
	"$parent.out" || bad "no clean backend summary line"
grep -q "^blk-demo: cleaned up" "$parent.out" || bad "no cleanup line"
left=$(ls -A "$parent")
[ -z "$left" ] || bad "left in the temporary directory: $left"
# no process of the demo's world survives (its path is on their command line)
if pgrep -f "$parent/" >/dev/null 2>&1; then
	bad "processes left: $(pgrep -af "$parent/")"
fi
rm -f "$parent.out"
[ $fail = 0 ] && echo "test-blk-demo: all checks passed"
exit $fail
