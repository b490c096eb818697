#!/bin/sh
# Test wrapper (LOG_COMPILER): shell tests run with sh; programs run directly,
# or under valgrind when `make check-valgrind` sets XV_VALGRIND. A test that
# must not run under valgrind (it times itself, or forks exec'd daemons that
# valgrind cannot follow usefully) sets XV_NO_VALGRIND in its own environment.
prog=$1
shift
case "$prog" in
*.sh) exec "${SHELL:-/bin/sh}" "$prog" "$@" ;;
esac
if [ -n "$XV_VALGRIND" ]; then
	# $XV_LIBTOOL is "$(SHELL) ./libtool": split it on purpose.
	# shellcheck disable=SC2086
	exec $XV_LIBTOOL --mode=execute "$XV_VALGRIND" --quiet \
		--error-exitcode=3 --leak-check=full \
		--errors-for-leak-kinds=definite --show-leak-kinds=definite \
		--track-fds=no --child-silent-after-fork=no \
		"$prog" "$@"
fi
exec "$prog" "$@"
