#!/bin/bash
# init of the UML kernel that "scripts/mdevctl-test --module" boots with the
# host's / as its root (hostfs, read-only): the kernel of the mdevctl run,
# whose mdev core and KUnit suite are modules.  It loads mdev.ko, then
# loads the suite (which runs as it loads), prints its results, unloads
# it, and does that a second time; then unloads mdev.ko.  Every step is
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
#   KUNIT_SUITE  the name of its suite (its results in debugfs)
set -u
export PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C HOME=/ TERM=dumb
umask 022

# step TAG COMMAND...: run COMMAND with the transcript markers around it.
step() {
	local tag=$1 rc
	shift
	echo "@@@ step $tag"
	echo "\$ $*"
	"$@" </dev/null 2>&1
	rc=$?
	echo "@@@ exit $rc $tag"
}

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t debugfs debugfs /sys/kernel/debug

echo "@@@ init: $(uname -r) $(uname -m)"
step insmod-mdev insmod "$MDEV_KO"
for run in 1 2; do
	step "insmod-$run" insmod "$KUNIT_KO"
	step "results-$run" cat "/sys/kernel/debug/kunit/$KUNIT_SUITE/results"
	step "rmmod-$run" rmmod "$(basename "$KUNIT_KO" .ko)"
done
step rmmod-mdev rmmod mdev
step modules-after cat /proc/modules

echo "@@@ done"
# Power off through sysrq; the host times out if that does not work.
echo o >/proc/sysrq-trigger
sleep 60
echo "@@@ poweroff did not happen"
while :; do sleep 3600; done
