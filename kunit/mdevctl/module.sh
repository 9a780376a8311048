#!/bin/bash
# init of the UML kernel that "scripts/mdevctl-test --module" boots with the
# host's / as its root (hostfs, read-only): the kernel of the mdevctl run,
# whose mdev core and KUnit suites are modules.  It loads mdev.ko, then
# loads the suites' module (they run as it loads), prints their results,
# unloads it, and does that a second time; then unloads mdev.ko and prints
# what kmemleak finds unreferenced since the suites were loaded; then checks
# that kmemleak reports the leaks of kmemleak-test.ko.  Every step is
# printed as
#
#   @@@ step TAG
#   $ COMMAND
#   output of the command (stdout and stderr, kernel lines interleaved)
#   @@@ exit STATUS TAG
#
# on the console, as kunit/mdevctl/init.sh does; "@@@ done" ends a complete
# run; then the kernel powers off.
#
# The kernel command line passes, as environment variables:
#   MDEV_KO      the installed mdev.ko
#   KUNIT_KO     the installed vfio_mdev_kunit.ko
#   KUNIT_SUITES the names of its suites, comma-separated (their results
#                in debugfs)
#   LEAK_KO      the installed kmemleak-test.ko (samples/kmemleak)
set -u
export PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C HOME=/ TERM=dumb
umask 022

# shellcheck source=kunit/mdevctl/step.sh
. "${0%/*}/step.sh"

# kmemleak_cmd CMD...: write each CMD to kmemleak's debugfs file, "show"
# prints what it reports.  Fails at the first write that fails (kmemleak is
# off or disabled itself).
kmemleak_cmd() {
	local c k=/sys/kernel/debug/kmemleak
	for c in "$@"; do
		if [[ $c == show ]]; then
			cat "$k" || return
		else
			echo "$c" >"$k" || return
		fi
	done
}

# kmemleak_control: load kmemleak-test.ko (kept loaded, so that its
# functions have names in the reports), scan as above, and print how many
# objects kmemleak reports and how many of those kmemleak_test_init()
# allocated.  Counts only: the kernel log scan of scripts/mdevctl-test
# takes "unreferenced object" for a problem.
kmemleak_control() {
	local r
	insmod "$LEAK_KO" || return
	sleep 6
	r=$(kmemleak_cmd scan scan show) || return
	echo "reported: $(grep -c '^unreferenced object' <<<"$r")"
	echo "by kmemleak_test_init: $(grep -c 'kmemleak_test_init' <<<"$r")"
}

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t debugfs debugfs /sys/kernel/debug

echo "@@@ init: $(uname -r) $(uname -m)"
# kmemleak: what it reports before the suite runs is not the suite's.
step kmemleak-clear kmemleak_cmd scan clear
step insmod-mdev insmod "$MDEV_KO"
for run in 1 2; do
	step "insmod-$run" insmod "$KUNIT_KO"
	for suite in ${KUNIT_SUITES//,/ }; do
		step "results-$run-$suite" cat "/sys/kernel/debug/kunit/$suite/results"
	done
	step "rmmod-$run" rmmod "$(basename "$KUNIT_KO" .ko)"
done
step rmmod-mdev rmmod mdev
step modules-after cat /proc/modules
# kmemleak reports an object that two scans in a row find unreferenced,
# once it is older than 5 s.
sleep 6
step kmemleak kmemleak_cmd scan scan show
# The control: kmemleak-test.ko leaks at load on purpose, and the same
# scan must report that.
step kmemleak-control kmemleak_control

echo "@@@ done"
# Power off through sysrq; the host times out if that does not work.
echo o >/proc/sysrq-trigger
sleep 60
echo "@@@ poweroff did not happen"
while :; do sleep 3600; done
