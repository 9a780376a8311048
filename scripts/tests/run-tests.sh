#!/usr/bin/env bash
# Tests of the scripts themselves, on a tiny fake kernel tree with a fake
# kunit.py: no kernel build.  Runs the parts (part-*.sh beside this
# script) at the same time, each in a temp dir of its own (common.sh),
# then prints their "ok"/"not ok" lines part after part and exits
# non-zero if a test failed or a part did not end normally.
#
# Each part is a process group of its own (set -m).  On SIGTERM or SIGHUP,
# and on SIGINT where this script gets it (not where it was started in
# the background of a non-interactive shell, as scripts/check does, which
# makes it ignore SIGINT), it sends SIGTERM to the groups of the parts
# still running, waits up to 10 s for them to end (their EXIT traps
# remove their temp dirs), and exits.
set -euo pipefail

DIR=$(cd "$(dirname "$0")" && pwd)
OUTS=$(mktemp -d)
PIDS=() # of the parts not yet waited for
# shellcheck disable=SC2317 # stop: called by the traps
stop() {
	local pid alive
	for pid in "${PIDS[@]}"; do
		[[ -z $pid ]] || kill -TERM -- "-$pid" 2>/dev/null || true
	done
	for _ in $(seq 100); do
		alive=
		for pid in "${PIDS[@]}"; do
			[[ -n $pid ]] && kill -0 -- "-$pid" 2>/dev/null && alive=1
		done
		[[ -n $alive ]] || break
		sleep 0.1
	done
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
	PIDS[i]=
	echo "# $name ($(cat "$OUTS/$name.secs" 2>/dev/null || echo ?) s)"
	cat "$OUTS/$name.out"
	# A part's last line is "N failed"; one that ended without it (killed,
	# or stopped by set -e) failed as a whole, and counts as a failed test.
	if [[ $rc -ne 0 ]]; then
		tail -n 1 "$OUTS/$name.out" | grep -qE '^[1-9][0-9]* failed$' ||
			echo "not ok - $name ended with exit $rc before its summary" | tee -a "$OUTS/driver.out"
		RC=1
	fi
done
n_ok=$(cat "$OUTS"/*.out | grep -c '^ok - ' || true)
n_bad=$(cat "$OUTS"/*.out | grep -c '^not ok - ' || true)
echo "$n_ok ok, $n_bad failed"
exit "$RC"
