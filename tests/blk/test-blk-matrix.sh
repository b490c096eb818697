#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Backend and frontend as separate processes over {split, packed} x {grant,
# foreign}, two queues, several request sizes, every byte verified by the
# frontend, with indirect tables negotiated (and once without); the DMA mode given explicitly (devices 1 and 2) and chosen by
# policy on both sides (devices 3 and 4: the toolstack records guest 3 as
# PV, so both sides pick grants; guest 4 is HVM-like, so both pick foreign),
# and on a frontend whose platform picks the grant refs itself as Xen's
# gntalloc does (device 5: refs=kernel, rings in one frame, data bounced).
# The backend's per-device request counts must equal the frontends' sums,
# and after SIGTERM it must hold no mapping.
. "${XV_TOP_SRCDIR:?run through make check}/tests/blk/blkfe-lib.sh"

make_world 6
for i in 1 2 3 4 5; do make_image "disk$i.img"; done
"$simworld" store "$world" /libxl/3/type pv || exit 99
start_backend \
	--device "fe=1,devid=0,image=$tmp/disk1.img,queues=2,mode=grant" \
	--device "fe=2,devid=0,image=$tmp/disk2.img,queues=2,mode=foreign" \
	--device "fe=3,devid=0,image=$tmp/disk3.img,queues=2,mode=auto" \
	--device "fe=4,devid=0,image=$tmp/disk4.img,queues=2,mode=auto" \
	--device "fe=5,devid=0,image=$tmp/disk5.img,queues=2,mode=grant"

reqs=$((400 / slow))
for cell in "1 grant grant" "2 foreign foreign" "3 auto grant" \
	"4 auto foreign" "5 grant grant"; do
	set -- $cell
	fe=$1 mode=$2 want=$3
	plat="sim:$world,domid=$fe"
	[ "$fe" = 3 ] && plat="$plat,guest=pv"
	[ "$fe" = 5 ] && plat="$plat,refs=kernel"
	total=0
	runs="split packed"
	# domain 1 also without indirect tables: direct chains both ways
	[ "$fe" = 1 ] && runs="$runs split:direct packed:direct"
	for run in $runs; do
		ring=${run%:direct}
		ind=true
		opt=
		[ "$run" != "$ring" ] && ind=false opt=--no-indirect
		what="domain $fe, --mode $mode, $ring, indirect $ind"
		# shellcheck disable=SC2086
		vg "$frontend" --platform "$plat" --mode "$mode" --ring "$ring" \
			--queues 2 --depth 4 --sizes 512,4096,65536 $opt \
			--requests "$reqs" --timeout-ms 10000 --json \
			>"$tmp/fe.out" 2>"$tmp/fe.err"
		rc=$?
		if [ $rc != 0 ]; then
			bad "$what: exit $rc"
			cat "$tmp/fe.out" "$tmp/fe.err"
			continue
		fi
		r=$(jget "$tmp/fe.out" requests)
		[ "$(jget "$tmp/fe.out" verified)" = true ] ||
			bad "$what: not verified"
		[ "$(jget "$tmp/fe.out" mode)" = "$want" ] ||
			bad "$what: mode $(jget "$tmp/fe.out" mode), want $want"
		[ "$(jget "$tmp/fe.out" ring)" = "$ring" ] ||
			bad "$what: ring $(jget "$tmp/fe.out" ring)"
		[ "$(jget "$tmp/fe.out" queues)" = 2 ] || bad "$what: queues"
		[ "$(jget "$tmp/fe.out" indirect)" = $ind ] ||
			bad "$what: indirect $(jget "$tmp/fe.out" indirect)"
		# every pair is a write and its read-back, plus GET_ID and FLUSH
		[ "$r" -ge $((reqs + 2)) ] 2>/dev/null ||
			bad "$what: $r requests, want >= $((reqs + 2))"
		[ -s "$tmp/fe.err" ] && { bad "$what: stderr"; cat "$tmp/fe.err"; }
		total=$((total + r))
		echo "ok: $what: $r requests," \
			"$(jget "$tmp/fe.out" map_calls_per_request) map calls/request"
	done
	eval "total_$fe=$total"
done

stop_backend
[ "$berc" = 0 ] || { bad "backend exit $berc"; cat "$tmp/backend.err"; }
for fe in 1 2 3 4 5; do
	eval "want=\$total_$fe"
	line=$(grep "device $fe/0:" "$tmp/backend.out")
	echo "$line"
	case $line in
	*"requests $want (bad 0)"*"mapped now 0") ;;
	*) bad "device $fe/0: want 'requests $want (bad 0) ... mapped now 0'" ;;
	esac
done
[ $fail = 0 ] && echo "test-blk-matrix: all checks passed"
exit $fail
