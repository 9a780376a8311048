# shellcheck shell=bash
# The transcript step of the inits of scripts/mdevctl-test (init.sh and
# module.sh), which source this file.

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
