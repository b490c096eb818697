#!/bin/sh
# The sim-world helper: create, store, reap, lock-free and destroy a world from a
# script, and refuse what it must.
set -u
top=${XV_TOP_BUILDDIR:?run through make check}
tool="$top/tests/sim-world"
tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT
fail=0
check() { # expected-status description command...
	want=$1
	what=$2
	shift 2
	"$@" >"$tmp/out" 2>"$tmp/err"
	got=$?
	if [ "$got" != "$want" ]; then
		echo "FAIL: $what: exit $got, want $want"
		cat "$tmp/err"
		fail=1
	fi
}
check 0 "create" "$tool" create "$tmp/w" 2 16 64
check 1 "create over an existing world" "$tool" create "$tmp/w" 2 16 64
check 1 "create with bad sizes" "$tool" create "$tmp/x" 0 16 64
check 2 "create with a non-number" "$tool" create "$tmp/x" two
check 0 "store" "$tool" store "$tmp/w" backend/virtio/1/0/grant_usage 1
check 0 "delete a key" "$tool" store "$tmp/w" some/key
check 0 "reap" "$tool" reap "$tmp/w"
[ "$(cat "$tmp/out")" = 0 ] || { echo "FAIL: reap printed $(cat "$tmp/out")"; fail=1; }
check 1 "attach to no world" "$tool" reap "$tmp/none"
check 0 "lock-free on an idle world" "$tool" lock-free "$tmp/w"
: >"$tmp/empty"
check 2 "lock-free on a file that is no world" "$tool" lock-free "$tmp/empty"
check 2 "lock-free on no file" "$tool" lock-free "$tmp/none"
check 2 "usage" "$tool" frobnicate "$tmp/w"
check 0 "destroy" "$tool" destroy "$tmp/w"
check 1 "destroy twice" "$tool" destroy "$tmp/w"
[ ! -e "$tmp/w" ] || { echo "FAIL: world file left"; fail=1; }
[ $fail = 0 ] && echo "sim-world: all checks passed"
exit $fail
