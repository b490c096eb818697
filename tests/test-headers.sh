#!/bin/sh
# Every public header compiles alone as C99 -pedantic -Werror and as C++
# (STYLE.md habit 9), and includes no Xen header.
set -u
src=${XV_TOP_SRCDIR:?run through make check}
cc=${XV_CC:-cc}
cxx=${XV_CXX:-c++}
tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT
fail=0
n=0
for h in "$src"/include/xenvirtio.h "$src"/include/xenvirtio/*.h; do
	rel=${h#"$src"/include/}
	n=$((n + 1))
	if grep -qE '#include *[<"](xen[a-z]*\.h|xen/)' "$h"; then
		echo "FAIL: $rel includes a Xen header"
		fail=1
	fi
	printf '#include <%s>\n#include <%s>\nint xv_header_test_unused;\n' \
		"$rel" "$rel" >"$tmp/t.c"
	if ! $cc -std=c99 -pedantic -Wall -Wextra -Werror -I"$src/include" \
		-c "$tmp/t.c" -o "$tmp/t.o" 2>"$tmp/err"; then
		echo "FAIL: $rel does not compile alone as C99 -pedantic:"
		cat "$tmp/err"
		fail=1
	fi
	cp "$tmp/t.c" "$tmp/t.cc"
	if ! $cxx -std=c++11 -pedantic -Wall -Wextra -Werror -I"$src/include" \
		-c "$tmp/t.cc" -o "$tmp/t.o" 2>"$tmp/err"; then
		echo "FAIL: $rel does not compile as C++:"
		cat "$tmp/err"
		fail=1
	fi
done
echo "checked $n public headers"
[ "$n" -gt 1 ] || fail=1
exit $fail
