#!/bin/sh
# Quick start on a fresh Debian 12 machine:
#   ./quickstart.sh demo    install dependencies, build, run the demo
#   ./quickstart.sh check   install dependencies, build, run the whole test suite
# Builds out of tree in ./build. Installs packages with apt-get (through sudo
# when not root) only when some are missing.
set -eu
cd "$(dirname "$0")"
what=${1:-demo}
case "$what" in
demo | check) ;;
*)
	echo "usage: $0 demo|check" >&2
	exit 2
	;;
esac

PKGS="build-essential autoconf automake libtool pkg-config check libfdt-dev
device-tree-compiler acpica-tools libxen-dev valgrind clang libclang-rt-14-dev"
missing=
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "quickstart: installing$missing"
	sudo=
	[ "$(id -u)" = 0 ] || sudo=sudo
	$sudo apt-get update -q
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q $missing
fi

[ -x configure ] || ./autogen.sh
mkdir -p build
cd build
[ -f Makefile ] || ../configure --enable-werror
make -j"$(nproc)"
if [ "$what" = demo ]; then
	make demo
else
	rc=0
	make -j"$(nproc)" check || rc=$?
	if [ -f test-suite.log ]; then
		[ "$rc" = 0 ] || cat test-suite.log
		# one plain closing line: "check: N passed, N failed, N skipped"
		awk '/^# (PASS|FAIL|SKIP|XFAIL|XPASS|ERROR):/ {n[$2] = $3}
		     END {printf "check: %d passed, %d failed, %d skipped\n",
			  n["PASS:"] + n["XFAIL:"],
			  n["FAIL:"] + n["XPASS:"] + n["ERROR:"], n["SKIP:"]}' \
			test-suite.log
	fi
	exit "$rc"
fi
