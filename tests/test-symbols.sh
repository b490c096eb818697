#!/bin/sh
# The shared library exports nothing without the xenvirtio_ prefix, and every
# exported symbol belongs to a version node.
set -u
build=${XV_TOP_BUILDDIR:?run through make check}
so=$(ls "$build"/lib/.libs/libxenvirtio.so.0 2>/dev/null)
if [ -z "$so" ]; then
	echo "SKIP: no shared library built"
	exit 77
fi
syms=$(nm -D --defined-only "$so" | awk '$2 ~ /^[TDBRVW]$/ {print $3}')
n=$(printf '%s\n' "$syms" | grep -c .)
bad=$(printf '%s\n' "$syms" | grep -v '^xenvirtio_' | grep -v '^XENVIRTIO_')
if [ -n "$bad" ]; then
	echo "FAIL: exported symbols without the xenvirtio_ prefix:"
	printf '%s\n' "$bad"
	exit 1
fi
unversioned=$(objdump -T "$so" | awk '$NF ~ /^xenvirtio_/ && $(NF-1) !~ /XENVIRTIO_/' )
if [ -n "$unversioned" ]; then
	echo "FAIL: symbols outside a version node:"
	printf '%s\n' "$unversioned"
	exit 1
fi
soname=$(objdump -p "$so" | awk '$1 == "SONAME" {print $2}')
if [ "$soname" != libxenvirtio.so.0 ]; then
	echo "FAIL: SONAME is '$soname'"
	exit 1
fi
echo "ok: $n exported symbols, all xenvirtio_*, SONAME $soname"
[ "$n" -gt 0 ] || exit 1
