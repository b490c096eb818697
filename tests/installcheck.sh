#!/bin/sh
# make installcheck: the installed library exports only xenvirtio_* symbols,
# and a program built with `pkg-config --cflags --libs libxenvirtio` against
# the installed copy links and runs.
# Usage: installcheck.sh PKGCONFIGDIR LIBDIR VERSION CC PKG_CONFIG
set -eu
pcdir=$1 libdir=$2 version=$3 cc=$4 pkgconfig=$5
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

so="$libdir/libxenvirtio.so.0"
[ -e "$so" ] || { echo "FAIL: $so is not installed"; exit 1; }
bad=$(nm -D --defined-only "$so" | awk '$2 ~ /^[TDBRVW]$/ {print $3}' |
	grep -v -e '^xenvirtio_' -e '^XENVIRTIO_' || true)
if [ -n "$bad" ]; then
	echo "FAIL: installed library exports symbols without the prefix:"
	echo "$bad"
	exit 1
fi

cat >"$tmp/t.c" <<'C'
#include <stdio.h>
#include <xenvirtio.h>
int main(void)
{
	uint64_t a;
	uint32_t ref, off;

	if (xenvirtio_grant_addr(42, 7, &a) ||
	    xenvirtio_grant_addr_decode(a, &ref, &off) || ref != 42 || off != 7)
		return 1;
	printf("%s\n", xenvirtio_version());
	return 0;
}
C
flags=$(PKG_CONFIG_PATH="$pcdir" $pkgconfig --cflags --libs libxenvirtio)
# shellcheck disable=SC2086
$cc "$tmp/t.c" -o "$tmp/t" $flags -Wl,-rpath,"$libdir"
out=$("$tmp/t")
[ "$out" = "$version" ] || { echo "FAIL: program printed '$out'"; exit 1; }
echo "installcheck: pkg-config build against $libdir runs ($out); exports ok"
