#!/bin/sh
# blk-backend's command line: --help documents every option and the exit
# codes; bad options, images and modes are setup errors (exit 1, one line
# naming the problem), and nothing is left behind by a failed start.
set -u
B=${XV_TOP_BUILDDIR:-.}
BE=$B/examples/blk-backend
SW=$B/tests/sim-world
D=$(mktemp -d "${TMPDIR:-/tmp}/xvblkopt-XXXXXX") || exit 1
trap '"$SW" destroy "$D/w" >/dev/null 2>&1; rm -rf "$D"' EXIT INT TERM
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

out=$("$BE" --help) || fail "--help exit $?"
for opt in --platform --device fe= devid= image= queues= queue-size= mode= \
	readonly --socket-dir --policy --copy-threshold --strategy \
	--stall-timeout-ms --verbose --help "Exit status" "mapped now"; do
	case $out in
	*"$opt"*) ;;
	*) fail "--help does not mention $opt" ;;
	esac
done

"$SW" create "$D/w" 4 64 64 >/dev/null || exit 1
head -c 65536 /dev/zero >"$D/img"
P="sim:$D/w,domid=0"

# expect_setup_error WORD ARGS...: exit 1, one stderr line containing WORD
expect_setup_error() {
	word=$1
	shift
	timeout 20 "$BE" "$@" >"$D/out" 2>"$D/err"
	rc=$?
	[ $rc -eq 1 ] || fail "$* : exit $rc, expected 1"
	grep -q -- "$word" "$D/err" || fail "$* : no '$word' in: $(cat "$D/err")"
	[ ! -s "$D/out" ] || fail "$* : printed a summary"
}
expect_setup_error "no --device" --platform "$P"
expect_setup_error "unknown option" --platform "$P" --bogus 1
expect_setup_error "needs fe=" --platform "$P" --device fe=1
expect_setup_error "bad mode" --platform "$P" --device fe=1,devid=0,image=$D/img,mode=x
expect_setup_error "queues must be" --platform "$P" --device fe=1,devid=0,image=$D/img,queues=0
expect_setup_error "given twice" --platform "$P" --device fe=1,devid=0,image=$D/img \
	--device fe=1,devid=0,image=$D/img
expect_setup_error "copy-threshold" --platform "$P" --copy-threshold 9999 \
	--device fe=1,devid=0,image=$D/img
expect_setup_error "$D/nope" --platform "$P" --device fe=1,devid=0,image=$D/nope
expect_setup_error "platform" --platform "sim:$D/nowhere" --device fe=1,devid=0,image=$D/img
# Foreign mapping needs a privileged backend domain.
expect_setup_error "privileged" --platform "sim:$D/w,domid=2" \
	--device fe=1,devid=0,image=$D/img,mode=foreign
expect_setup_error "policy" --platform "$P" --policy xen_virtio_grant=bogus \
	--device fe=1,devid=0,image=$D/img
ls "$D"/*.sock >/dev/null 2>&1 && fail "a failed start left a socket"

[ $fails -eq 0 ] || exit 1
echo "test-blk-backend-options: all checks passed"
