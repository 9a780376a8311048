#!/usr/bin/env bash
# Tests of the scripts themselves, on a tiny fake kernel tree with a fake
# kunit.py: no kernel build.  Runs the parts (part-*.sh beside this
# script) at the same time, each in a temp dir of its own (common.sh),
# then prints their "ok"/"not ok" lines part after part and exits
# non-zero if a test failed or a part did not end normally.
#
# Each part is a process group of its own (set -m), whose processes
# get SIGINT only from here: on SIGINT, SIGTERM or SIGHUP this script
# sends SIGTERM to every part's group, whose parts then remove their
# temp dirs (their EXIT traps), and exits.
set -euo pipefail

DIR=$(cd "$(dirname "$0")" && pwd)
OUTS=$(mktemp -d)
PIDS=()
# shellcheck disable=SC2317 # stop: called by the traps
stop() {
	local pid
	for pid in "${PIDS[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
	wait || true
	rm -rf "$OUTS"
	exit "$1"
}
trap 'stop 130' INT
trap 'stop 143' TERM
trap 'stop 129' HUP
trap 'rm -rf "$OUTS"' EXIT

PARTS=("$DIR"/part-*.sh)
set -m
for p in "${PARTS[@]}"; do
	(
		start=$SECONDS rc=0
		bash "$p" >"$OUTS/${p##*/}.out" 2>&1 </dev/null || rc=$?
		echo "$((SECONDS - start))" >"$OUTS/${p##*/}.secs"
		exit "$rc"
	) &
	PIDS+=($!)
done
set +m

RC=0
for i in "${!PARTS[@]}"; do
	name=${PARTS[$i]##*/}
	rc=0
	wait "${PIDS[$i]}" || rc=$?
	echo "# $name ($(cat "$OUTS/$name.secs" 2>/dev/null || echo ?) s)"
	cat "$OUTS/$name.out"
	# A part's last line is "N failed"; one that ended without it (killed,
	# or stopped by set -e) failed as a whole.
	if [[ $rc -ne 0 ]]; then
		tail -n 1 "$OUTS/$name.out" | grep -qE '^[1-9][0-9]* failed$' ||
			echo "not ok - $name ended with exit $rc before its summary"
		RC=1
	fi
done
PIDS=()
n_ok=$(cat "$OUTS"/*.out | grep -c '^ok - ' || true)
n_bad=$(cat "$OUTS"/*.out | grep -c '^not ok - ' || true)
echo "$n_ok ok, $n_bad failed"
exit "$RC"
