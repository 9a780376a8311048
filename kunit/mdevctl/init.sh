#!/bin/bash
# init of the UML kernel that scripts/mdevctl-test boots with the host's /
# as its root (hostfs, read-only).  It drives the mtty sample with the
# host's mdevctl the way an administrator does, and prints every step as
#
#   @@@ step TAG
#   $ COMMAND
#   output of the command (stdout and stderr, kernel lines interleaved)
#   @@@ exit STATUS TAG
#
# on the console; scripts/mdevctl-test asserts the results from that
# transcript.  "@@@ done" ends a complete run; then the kernel powers off.
#
# The kernel command line passes, as environment variables:
#   MDEV_KO MTTY_KO          the mdev.ko and mtty.ko built with the kernel
#   UUID_A UUID_B UUID_C UUID_D  the UUIDs to use; UUID_C is never created
set -u
export PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C HOME=/tmp TERM=dumb
umask 022

# shellcheck source=kunit/mdevctl/step.sh
. "${0%/*}/step.sh"

# sysfs_state: the mdev devices and the free instances of every type, as
# sysfs shows them, one fact per line.
sysfs_state() {
	local d t
	for d in /sys/class/mdev_bus/*/mdev_supported_types/*; do
		[[ -e $d ]] || continue
		t=${d##*/}
		echo "type $t parent $(basename "$(dirname "$(dirname "$d")")") available_instances $(cat "$d/available_instances") device_api $(cat "$d/device_api") name $(cat "$d/name")"
	done
	for d in /sys/bus/mdev/devices/*; do
		[[ -e $d ]] || continue
		echo "device ${d##*/} type $(basename "$(readlink "$d/mdev_type")") parent $(basename "$(dirname "$(readlink -f "$d")")")"
	done
	echo "devices $(find /sys/bus/mdev/devices -mindepth 1 -maxdepth 1 | wc -l)"
}

# state TAG: the sysfs state and mdevctl's list, for before/after checks.
state() {
	step "$1-sysfs" sysfs_state
	step "$1-list" mdevctl list
}

# write_to FILE VALUE: what "echo VALUE > FILE" does, as one command.
write_to() { echo "$2" >"$1"; }

# ---- the system
# The tmpfs on /tmp below hides a repository, and so the modules, below
# /tmp: open them first, and load them through their descriptors.
exec {MDEV_FD}<"$MDEV_KO"
exec {MTTY_FD}<"$MTTY_KO"
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mountpoint -q /dev || mount -t devtmpfs devtmpfs /dev
# The host's / is read-only: everything mdevctl or the tools may write
# goes to tmpfs.  mdevctl wants its config tree with the script dirs.
for d in /run /tmp /etc/mdevctl.d; do
	mount -t tmpfs -o mode=0755 tmpfs "$d"
done
mkdir -p /etc/mdevctl.d/scripts.d/callouts /etc/mdevctl.d/scripts.d/notifiers

echo "@@@ init: $(uname -r) $(uname -m)"
step version mdevctl --version
step mounts grep -E ' (/|/proc|/sys|/dev|/run|/tmp|/etc/mdevctl.d) ' /proc/mounts

# ---- the parent and its types (the mdev core is a module too)
step insmod-mdev insmod "/proc/self/fd/$MDEV_FD"
step insmod insmod "/proc/self/fd/$MTTY_FD"
step parents ls -1 /sys/class/mdev_bus
step type-dirs ls -1 /sys/class/mdev_bus/mtty/mdev_supported_types
step types mdevctl types
step types-json mdevctl types --dumpjson
state baseline

# ---- two devices
step start-a mdevctl start -u "$UUID_A" -p mtty --type mtty-2
step start-b mdevctl start -u "$UUID_B" -p mtty --type mtty-1
step list-json mdevctl list --dumpjson
step list-a-json mdevctl list -u "$UUID_A" --dumpjson
step types-started mdevctl types
state started

# ---- errors: each fails and changes nothing
step err-parent mdevctl start -u "$UUID_C" -p no-such-parent --type mtty-1
state after-err-parent
step err-dup mdevctl start -u "$UUID_A" -p mtty --type mtty-1
state after-err-dup
step err-dup-sysfs write_to /sys/class/mdev_bus/mtty/mdev_supported_types/mtty-1/create "$UUID_A"
state after-err-dup-sysfs
step err-stop mdevctl stop -u "$UUID_C"
state after-err-stop

# ---- stop both
step stop-a mdevctl stop -u "$UUID_A"
step stop-b mdevctl stop -u "$UUID_B"
state stopped

# ---- unregister the parent while it has a device
step start-d mdevctl start -u "$UUID_D" -p mtty --type mtty-2
state before-rmmod
step rmmod timeout 120 rmmod mtty
step rmmod-modules grep -c '^mtty ' /proc/modules
step rmmod-parents ls -1A /sys/class/mdev_bus
state after-rmmod

# Not done: insmod of mtty again.  (It failed under UML's KASAN until
# uml.config enabled KASAN_VMALLOC; the module run loads a module twice.)

echo "@@@ done"
# Power off through sysrq; the host times out if that does not work.
echo o >/proc/sysrq-trigger
sleep 60
echo "@@@ poweroff did not happen"
while :; do sleep 3600; done
