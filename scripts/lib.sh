# shellcheck shell=bash
# Functions shared by the commands in scripts/.  Source it after setting
# PROG to the command's name.
#
# Environment understood here (see README.md):
#   BASE=7.3           which base: MAINLINE (the series' own), 6.12 or 6.1
#   KERNEL_DIR=/path   use this kernel git checkout instead of the tarball
#   KERNEL_BASE=<rev>  the base revision in KERNEL_DIR (default HEAD)
#   PATCHES_DIR=/path  the series to apply (default <repo>/patches)
#   WORK_DIR=/path     trees, build dirs, logs (default: logs and results
#                      in <repo>/.work, kernel trees and build dirs in the
#                      cache's work/, shared by every clone)
#   MAINLINE_PKG_VERSION=V  the linux-source-MAINLINE version to use
#                      (default: the newest trixie-backports offers)
#   XDG_CACHE_HOME     the cache of .debs, base trees, kernel trees and
#                      build dirs is in ${XDG_CACHE_HOME:-~/.cache}/mdev-pipeline
#   CCACHE_DIR         ccache's own: its default unless set
#   BASE_TARBALL=/path another kernel tarball for the base (for tests)
#   BASE_APT_SOURCE=L  another sources.list line for the mainline package
#                      (for tests)

# Exit codes; README.md lists them.
# shellcheck disable=SC2034 # used by the scripts that source this file
readonly E_FAIL=1 E_USAGE=2 E_DEPS=3 E_TREE=4 E_APPLY=5 E_BUILD=6 E_LOG=7 E_REBASE=8

# The mainline release the series is made on, from Debian's
# linux-source-<MAINLINE> in trixie-backports.  Moving to the next release
# is this line (and a series rebased onto it).
MAINLINE=7.3

# The version of the series on the list: its subjects read [PATCH vN n/m].
SERIES_VERSION=2

# Paths cut with ${..%/*} and ${..##*/} rather than dirname and basename:
# a process costs milliseconds on some machines (3-6 ms here for a fork
# and an exec; docs/measured.md).
REPO=${BASH_SOURCE[0]%/*}
[[ $REPO != "${BASH_SOURCE[0]}" ]] || REPO=.
REPO=$(cd "$REPO/.." && pwd)
WORK=${WORK_DIR:-$REPO/.work}
PATCHES_DIR=${PATCHES_DIR:-$REPO/patches}
BASE=${BASE:-$MAINLINE}
PROG=${PROG:-${0##*/}}
# Downloaded .debs, the private apt state and the base trees, kept across
# work dirs and clones of this repository.
if [[ ${XDG_CACHE_HOME:-} == /* ]]; then
	CACHE=$XDG_CACHE_HOME/mdev-pipeline
else
	CACHE=$HOME/.cache/mdev-pipeline
fi
# The kernel trees and build dirs: in $CACHE/work, shared by every clone of
# this repository, so that a fresh clone on a machine that has run the
# checks rebuilds what its series changes, not every object (each tree is
# reset and the series applied again; kbuild goes by the files' times).
# With WORK_DIR, in it, beside the logs.
KWORK=${WORK_DIR:-$CACHE/work}

# ---------------------------------------------------------------- messages

say() { printf '%s: %s\n' "$PROG" "$*" >&2; }
warn() { printf '%s: warning: %s\n' "$PROG" "$*" >&2; }

# die CODE MESSAGE...: print an error and exit with CODE.
die() {
	local code=$1
	shift
	printf '%s: error: %s\n' "$PROG" "$*" >&2
	exit "$code"
}

# at_exit FUNCTION: call FUNCTION when the command exits, before the
# functions added earlier; the commands add theirs here rather than set
# an EXIT trap of their own, which would replace this one.  bg_wait_stop
# runs first, tree_release last.  A hook must neither exit nor expand an
# unset variable (it would end the hooks after it).  Call at_exit, and
# mark a tree busy (tree_guard), in the command's main shell only: a
# subshell or a background job runs no EXIT trap, so its hooks would
# never run and its marks never be taken back.  SIGTERM, SIGHUP and
# SIGINT are ignored while the hooks run, so that a second kill or
# Ctrl-C does not cut them short; the programs a hook starts inherit
# that (only SIGKILL stops them).  A command ended by SIGTERM or SIGHUP
# (the traps below) dies of that signal once the hooks have run, as a
# program that does not catch it would, so that its caller sees the
# signal, not an exit status; Ctrl-C, which has no trap, ends it the
# same way.
EXIT_HOOKS=()
EXIT_SIGNAL=
at_exit() { EXIT_HOOKS=("$1" ${EXIT_HOOKS[@]+"${EXIT_HOOKS[@]}"}); }
exit_hooks() {
	local h
	trap '' TERM HUP INT
	bg_wait_stop
	for h in ${EXIT_HOOKS[@]+"${EXIT_HOOKS[@]}"}; do
		"$h" || true
	done
	tree_release
	if [[ -n $EXIT_SIGNAL ]]; then
		trap - EXIT "$EXIT_SIGNAL"
		kill -s "$EXIT_SIGNAL" "$BASHPID"
	fi
}
trap exit_hooks EXIT
# SIGTERM or SIGHUP to the command's pid alone (kill PID) ends it only
# once the command, pipeline or subshell it runs in the foreground (a git
# am, a make, a kunit.py run; in scripts/check, a whole check) has ended,
# so that the exit hooks never look at a tree that is still changing.
# The wait builtin, and read or mapfile from a process substitution
# (whose programs only read), are interrupted at once.
# Sent to the process group, it ends that program too, which then ends
# at once unless it is in a group of its own (see bg_wait).
trap 'EXIT_SIGNAL=HUP; exit 129' HUP
trap 'EXIT_SIGNAL=TERM; exit 143' TERM

# bg_wait CMD...: run CMD, which may put itself in a process group of
# its own (timeout does), and return its status.  It runs in the
# background and is waited for with the wait builtin, which the TERM and
# HUP traps above and Ctrl-C end at once; exit_hooks then calls
# bg_wait_stop, which sends SIGTERM to CMD's process group (or to CMD, if
# it made none) and waits for CMD, and up to 10 s for the rest of its
# group, to end.  Call it in the command's main
# shell only (a subshell runs no EXIT trap).  Redirections on the call
# stay in force while the exit hooks run after such a signal.  A trap
# runs between two commands, never inside one: when the signal comes
# right after the fork, before BG_WAIT_PID is set, $! is already CMD's,
# and differs from BG_WAIT_FROM, the $! of before the fork.
BG_WAIT_PID='' BG_WAIT_FROM=''
bg_wait() {
	local rc=0
	BG_WAIT_FROM=${!:-none}
	"$@" &
	BG_WAIT_PID=$! BG_WAIT_FROM=''
	wait "$BG_WAIT_PID" || rc=$?
	BG_WAIT_PID=
	return "$rc"
}
bg_wait_stop() {
	local pid=${BG_WAIT_PID:-}
	[[ -n $pid || -z ${BG_WAIT_FROM:-} || ${!:-none} == "$BG_WAIT_FROM" ]] || pid=$!
	[[ -z $pid ]] || group_stop "$pid"
}

# group_stop PID: send SIGTERM to the process group of the background
# job PID (to PID alone if it leads none), wait for PID, and up to 10 s
# for the rest of its group.  The wait can return while other processes
# of the group still run (seen in the tests, rarely: timeout's status
# 143 within a millisecond of the signal, its command ending later).
group_stop() {
	kill -TERM -- "-$1" 2>/dev/null || kill -TERM "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
	for _ in $(seq 100); do
		kill -0 -- "-$1" 2>/dev/null || return 0
		sleep 0.1
	done
}

# patch_on_base PATCH: the copy of the test patch PATCH in kunit/base/,
# adjusted to the code without the fixes, if there is one; else nothing.
patch_on_base() {
	[[ ! -f $REPO/kunit/base/${1##*/} ]] || echo "$REPO/kunit/base/${1##*/}"
}

# rm_glob PATH...: rm -rf the PATHs, the words of a glob; nothing when the
# glob matched nothing (no word with nullglob set, else one word, the
# pattern, that names no file).
rm_glob() {
	[[ $# -gt 0 ]] || return 0
	[[ $# -gt 1 || -e $1 || -L $1 ]] || return 0
	rm -rf "$@"
}

# file_has_line FILE LINE: FILE has a line that is LINE (grep -qxF, in
# bash); false if FILE cannot be read.
file_has_line() {
	local line
	[[ -r $1 ]] || return 1
	while IFS= read -r line || [[ -n $line ]]; do
		[[ $line != "$2" ]] || return 0
	done <"$1"
	return 1
}

# ---------------------------------------------------------------- phases

PHASE_NAMES=()
PHASE_SECS=()
PHASE_NAME=
PHASE_START=0

# phase_begin NAME: start timing a phase (ends the previous one).
phase_begin() {
	[[ -z $PHASE_NAME ]] || phase_end
	PHASE_NAME=$1
	PHASE_START=$SECONDS
	say "== $PHASE_NAME"
}

phase_end() {
	[[ -n $PHASE_NAME ]] || return 0
	PHASE_NAMES+=("$PHASE_NAME")
	PHASE_SECS+=($((SECONDS - PHASE_START)))
	PHASE_NAME=
}

# phase_report: print the elapsed time of every phase on stderr.
phase_report() {
	phase_end
	local i
	for i in "${!PHASE_NAMES[@]}"; do
		printf '%s: %-10s %4ds\n' "$PROG" "${PHASE_NAMES[$i]}" "${PHASE_SECS[$i]}" >&2
	done
}

# ---------------------------------------------------------------- bases

# base_params: set the facts of base $BASE.
#   BASE_PKG            the Debian package whose tarball is the base
#   BASE_FROM           "backports": the mainline base, fetched with
#                       apt-get download (mainline_deb); "apt": a stable
#                       base, installed with apt-get (deps_base_source)
#   BASE_PKG_VERSION    for "apt": the version that gives
#                       BASE_EXPECT_COMMIT; for "backports": set by
#                       mainline_version
#   TREE                the work tree of the base
base_params() {
	case $BASE in
	"$MAINLINE")
		BASE_PKG=linux-source-$MAINLINE
		BASE_FROM=backports
		BASE_PKG_VERSION=
		BASE_EXPECT_COMMIT=
		;;
	6.12)
		BASE_PKG=linux-source-6.12
		BASE_FROM=apt
		BASE_PKG_VERSION=6.12.117-1~deb12u1
		BASE_EXPECT_COMMIT=89d549441217ea562dadcc2e44e46aa701ec8ec1
		;;
	6.1)
		BASE_PKG=linux-source-6.1
		BASE_FROM=apt
		BASE_PKG_VERSION=6.1.192-2
		BASE_EXPECT_COMMIT=bc5cea179ec238d76a87a944095a9df788428121
		;;
	*)
		die $E_USAGE "unknown BASE '$BASE'; use BASE=$MAINLINE (the series' base), 6.12 or 6.1"
		;;
	esac
	TREE=$KWORK/linux-$BASE
	if [[ -n ${BASE_TARBALL:-} ]]; then
		BASE_FROM=tarball
		BASE_EXPECT_COMMIT= # another tarball, another commit
	elif [[ $BASE_FROM == apt ]]; then
		BASE_TARBALL=/usr/src/$BASE_PKG.tar.xz
	fi
	BASE_DATE=2025-01-01T00:00:00Z
}

# is_mainline: the base is the one the series is made on.
is_mainline() { [[ $BASE == "$MAINLINE" ]]; }

# ---------------------------------------------------------------- packages

APT_UPDATED=

pkg_installed() {
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

apt_update_once() {
	[[ -z $APT_UPDATED ]] || return 0
	say "apt-get update"
	apt-get update -qq >&2 || die $E_DEPS "apt-get update failed; check the network and /etc/apt/sources.list"
	APT_UPDATED=1
}

# apt_install PKG...: install; waits up to 10 min for dpkg's lock, which
# another apt or dpkg run may hold.
apt_install() {
	say "installing: $*"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		-o DPkg::Lock::Timeout=600 "$@" >&2 ||
		die $E_DEPS "apt-get install $* failed; install it by hand and rerun"
}

# deps_install PKG...: install the Debian packages that are missing.
deps_install() {
	local p missing=()
	for p in "$@"; do
		pkg_installed "$p" || missing+=("$p")
	done
	[[ ${#missing[@]} -eq 0 ]] && return 0
	[[ $(id -u) -eq 0 ]] || die $E_DEPS "missing packages: ${missing[*]}; run as root or install them with apt-get"
	apt_update_once
	apt_install "${missing[@]}"
}

# deps_base_source: install the linux-source package of a stable base,
# pinned to BASE_PKG_VERSION while the archive still offers it.  The
# mainline base is never installed: mainline_deb fetches it.
deps_base_source() {
	[[ $BASE_FROM == apt ]] || return 0
	local have
	have=$(dpkg-query -W -f='${Version}' "$BASE_PKG" 2>/dev/null || true)
	if pkg_installed "$BASE_PKG"; then
		if [[ -n $BASE_PKG_VERSION && $have != "$BASE_PKG_VERSION" ]]; then
			warn "$BASE_PKG $have is installed, not $BASE_PKG_VERSION: the base commit id will differ"
		fi
		[[ -f $BASE_TARBALL ]] || die $E_DEPS "$BASE_PKG is installed but $BASE_TARBALL is missing; reinstall it: apt-get install --reinstall $BASE_PKG"
		return 0
	fi
	[[ $(id -u) -eq 0 ]] || die $E_DEPS "$BASE_PKG is not installed; run as root or install it with apt-get"
	apt_update_once
	if [[ -n $BASE_PKG_VERSION ]] &&
		apt-cache madison "$BASE_PKG" | awk -F'|' '{gsub(/ /, "", $2); print $2}' | grep -qxF "$BASE_PKG_VERSION"; then
		apt_install "$BASE_PKG=$BASE_PKG_VERSION"
	else
		warn "$BASE_PKG ${BASE_PKG_VERSION:-(unpinned)} is not offered; installing the newest: the base commit id will differ"
		apt_install "$BASE_PKG"
	fi
	[[ -f $BASE_TARBALL ]] || die $E_DEPS "$BASE_PKG did not install $BASE_TARBALL"
}

# The packages every command needs to apply, build and run the series.
# shellcheck disable=SC2034 # used by the scripts that source this file
DEPS_RUN=(git make gcc libc6-dev flex bison bc libelf-dev libssl-dev
	ccache python3 rsync xz-utils)
# ...and what scripts/check needs on top (git-email and Mail::Address of
# libmailtools-perl: the scripts' tests run scripts/send's dry run).
# shellcheck disable=SC2034
DEPS_CHECK=(b4 python3-ply python3-git sparse shellcheck perl git-email libmailtools-perl)
# ...and what the qemu config of "scripts/run --qemu" needs (QEMU x86_64;
# qboot from qemu-system-data).
# shellcheck disable=SC2034
DEPS_QEMU=(qemu-system-x86 qemu-system-data)
# ...and what scripts/mdevctl-test needs on top (the mdevctl run also
# mdevctl): depmod, for make modules_install; insmod, rmmod, mount and
# mountpoint, which its UML guest runs from the host's root.
# shellcheck disable=SC2034
DEPS_GUEST=(kmod util-linux)

# ---------------------------------------------------------------- mainline

# The mainline package comes from trixie-backports, which keeps only its
# newest version.  These machines run Debian 12, so it is fetched with
# apt-get download through a private sources.list and private apt state
# under $CACHE/apt-state: the system's apt setup is never read for
# sources or preferences, nor written.  It is never installed (dpkg -i):
# its tarball is taken out of the .deb.
APT_STATE=$CACHE/apt-state
BPO_SUITE=trixie-backports

# debian_mirror: the Debian archive URI the system's apt already uses
# (deb822 .sources first, then one-line .list files), else deb.debian.org.
debian_mirror() {
	local uri
	uri=$(awk '
		/^[ \t]*$/ { if (uris != "" && suites !~ /security/ && uris !~ /security/) { print uris; exit } uris = suites = ""; next }
		tolower($1) == "uris:" { uris = $2 }
		tolower($1) == "suites:" { suites = $0 }
		END { if (uris != "" && suites !~ /security/ && uris !~ /security/) print uris }' \
		/etc/apt/sources.list.d/*.sources 2>/dev/null | head -n1)
	if [[ -z $uri ]]; then
		uri=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
			sed -E -n 's/^deb[ \t]+(\[[^]]*\][ \t]+)?([^ \t]+)[ \t]+([^ \t]+).*/\2 \3/p' |
			awk '$1 !~ /security/ && $2 !~ /security/ { print $1; exit }')
	fi
	echo "${uri:-http://deb.debian.org/debian}"
}

# bpo_setup: the private apt state: a sources.list with the one line of
# trixie-backports, empty parts dirs, lists and cache of its own.
bpo_setup() {
	local line
	line=${BASE_APT_SOURCE:-"deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $(debian_mirror) $BPO_SUITE main"}
	mkdir -p "$APT_STATE"/{sourceparts,prefparts,lists/partial,cache/archives/partial}
	[[ $(cat "$APT_STATE/sources.list" 2>/dev/null) == "$line" ]] ||
		printf '%s\n' "$line" >"$APT_STATE/sources.list"
	BPO_OPTS=(-o "Dir::Etc::SourceList=$APT_STATE/sources.list"
		-o "Dir::Etc::SourceParts=$APT_STATE/sourceparts"
		-o "Dir::Etc::PreferencesParts=$APT_STATE/prefparts"
		-o "Dir::Etc::Preferences=$APT_STATE/preferences"
		-o "Dir::State::Lists=$APT_STATE/lists"
		-o "Dir::Cache=$APT_STATE/cache"
		-o Dir::State::status=/dev/null
		-o Acquire::Languages=none)
	# As root, apt drops to the _apt user to download, which cannot enter
	# a cache below /root: download as the caller instead.
	[[ $(id -u) -ne 0 ]] || BPO_OPTS+=(-o APT::Sandbox::User=root)
}

# bpo_lock: hold the lock of the private apt state until the caller's
# shell exits or bpo_unlock.
bpo_lock() {
	mkdir -p "$CACHE"
	exec {BPO_LOCK_FD}>"$CACHE/apt-state.lock"
	flock "$BPO_LOCK_FD"
}
bpo_unlock() { exec {BPO_LOCK_FD}>&-; }

# cached_versions PKG: the versions of PKG with a .deb or a base tree in
# the cache, newest first.
cached_versions() {
	local f v vs=()
	for f in "$CACHE/debs/$1"_*_all.deb "$CACHE/trees/$1"_*.git; do
		[[ -e $f ]] || continue
		v=${f##*/"$1"_}
		v=${v%_all.deb}
		v=${v%.git}
		vs+=("$v")
	done
	[[ ${#vs[@]} -gt 0 ]] || return 0
	printf '%s\n' "${vs[@]}" | sort -u | sort -r -V
}

# mainline_version: set BASE_PKG_VERSION to the version of the mainline
# package to use: MAINLINE_PKG_VERSION if set, else the newest that
# trixie-backports offers (apt-get update of the private state), else,
# when the archive cannot be reached, the newest in the cache.  It is
# exported as MAINLINE_PKG_VERSION, so that the commands this one starts
# (scripts/check runs scripts/mdevctl-test and scripts/stable) use the same.
mainline_version() {
	local v
	if [[ -n ${MAINLINE_PKG_VERSION:-} ]]; then
		BASE_PKG_VERSION=$MAINLINE_PKG_VERSION
		return 0
	fi
	bpo_setup
	bpo_lock
	# apt-get update exits 0 when an index could not be fetched ("W:
	# Failed to fetch"): the offline case is told by its output.
	if apt-get "${BPO_OPTS[@]}" -qq update >"$APT_STATE/update.log" 2>&1 &&
		! grep -qE '^(E:|W: (Failed to fetch|Some index files failed))' "$APT_STATE/update.log"; then
		v=$(apt-cache "${BPO_OPTS[@]}" policy "$BASE_PKG" | awk '$1 == "Candidate:" && $2 != "(none)" { print $2 }')
		[[ -n $v ]] || die $E_DEPS "$BPO_SUITE does not offer $BASE_PKG (sources: $(cat "$APT_STATE/sources.list")); is MAINLINE=$MAINLINE in scripts/lib.sh released in Debian yet?"
	else
		sed 's/^/  | /' "$APT_STATE/update.log" >&2
		v=$(cached_versions "$BASE_PKG" | head -n1)
		[[ -n $v ]] || die $E_DEPS "apt-get update of $BPO_SUITE failed (above) and no $BASE_PKG is cached in $CACHE; check the network"
		warn "apt-get update of $BPO_SUITE failed (above): using $BASE_PKG $v from the cache"
	fi
	bpo_unlock
	BASE_PKG_VERSION=$v
	export MAINLINE_PKG_VERSION=$v
}

# mainline_deb: print the path of the .deb of $BASE_PKG $BASE_PKG_VERSION
# in the cache, downloaded first if it is not there.
mainline_deb() {
	local deb=$CACHE/debs/${BASE_PKG}_${BASE_PKG_VERSION}_all.deb tmp got
	if [[ -s $deb ]]; then
		echo "$deb"
		return 0
	fi
	bpo_setup
	bpo_lock
	mkdir -p "$CACHE/debs"
	rm -rf "$CACHE"/debs/tmp.*
	tmp=$(mktemp -d "$CACHE/debs/tmp.XXXXXX")
	say "downloading $BASE_PKG $BASE_PKG_VERSION from $BPO_SUITE"
	(cd "$tmp" && apt-get "${BPO_OPTS[@]}" -qq download "$BASE_PKG=$BASE_PKG_VERSION") >&2 ||
		die $E_DEPS "apt-get download $BASE_PKG=$BASE_PKG_VERSION failed; $BPO_SUITE offers $(apt-cache "${BPO_OPTS[@]}" policy "$BASE_PKG" | awk '$1 == "Candidate:" { print $2 }'); unset MAINLINE_PKG_VERSION to use that"
	got=$(find "$tmp" -maxdepth 1 -name '*.deb' | head -n1)
	[[ -n $got ]] || die $E_DEPS "apt-get download $BASE_PKG=$BASE_PKG_VERSION left no .deb"
	mv "$got" "$deb"
	rm -rf "$tmp"
	bpo_unlock
	echo "$deb"
}

# ---------------------------------------------------------------- base cache

# Every base is kept in the cache as a bare git repository,
# $CACHE/trees/<package>_<version>.git, with one commit on the branch
# "base": the tarball, committed with fixed dates and identity, so that
# its id is the same on every machine.  It is made once, in a temp dir
# renamed into place under a lock, and gets its marker file last.  The
# work trees are "git clone --shared" of it.

BASE_MARKER=mdev-pipeline-base

# base_cache_name: the name of the cache entry of the base.
base_cache_name() {
	case $BASE_FROM in
	tarball) echo "tarball-$(sha256sum <"$BASE_TARBALL" | cut -c1-16)" ;;
	*) echo "${BASE_PKG}_$BASE_PKG_VERSION" ;;
	esac
}

# base_version: set BASE_PKG_VERSION to the version the base comes from.
base_version() {
	case $BASE_FROM in
	backports) mainline_version ;;
	apt) BASE_PKG_VERSION=$(dpkg-query -W -f='${Version}' "$BASE_PKG" 2>/dev/null || true) ;;
	tarball) BASE_PKG_VERSION=tarball ;;
	esac
	[[ -n $BASE_PKG_VERSION ]] || die $E_DEPS "$BASE_PKG is not installed; install it (apt-get install $BASE_PKG) or run without --no-deps"
}

# cache_repo_ok REPO: REPO is a complete entry: marker written, its commit
# is the branch base, and every object the commit reaches is there.  Sets
# CACHE_REPO_COMMIT to that commit when it is.
cache_repo_ok() {
	local repo=$1 want='' line nograph=()
	while IFS= read -r line || [[ -n $line ]]; do
		[[ $line != "commit "* ]] || want=${line#"commit "}
	done 2>/dev/null <"$repo/$BASE_MARKER" || true
	[[ -n $want ]] || return 1
	[[ $(git --git-dir="$repo" rev-parse -q --verify 'refs/heads/base^{commit}' 2>/dev/null) == "$want" ]] || return 1
	# git fsck verifies a commit-graph and a multi-pack-index in a git
	# process each, also where there is none (and those of the alternates,
	# which an entry has not): an entry has neither unless someone ran git
	# gc or the like in it.
	[[ -e $repo/objects/info/commit-graph || -e $repo/objects/info/commit-graphs ]] ||
		nograph+=(-c core.commitGraph=false)
	[[ -e $repo/objects/pack/multi-pack-index || -e $repo/objects/pack/multi-pack-index.d ]] ||
		nograph+=(-c core.multiPackIndex=false)
	git "${nograph[@]}" --git-dir="$repo" fsck --no-progress --connectivity-only --no-dangling >/dev/null 2>&1 || return 1
	CACHE_REPO_COMMIT=$want
}

# base_extract DIR: the base's source tree into DIR, every file with the
# time of its extraction (as a checkout gives it: kbuild then rebuilds
# what a build dir made from an older tree has).  Debian's tarballs are
# xz streams of many blocks (69 for linux-source-7.3), which xz
# decompresses on every core with -T0.
base_extract() {
	local - deb
	set -o pipefail
	case $BASE_FROM in
	backports)
		deb=$(mainline_deb) || exit
		say "extracting $BASE_PKG.tar.xz from $deb"
		if ! dpkg-deb --fsys-tarfile "$deb" | tar -xO --wildcards "*$BASE_PKG.tar.xz" |
			xz -dc -T0 | tar -x -m -C "$1" --strip-components=1; then
			rm -f "$deb" # a damaged download: fetched again next time
			die $E_DEPS "could not extract $BASE_PKG.tar.xz from $deb (removed; rerun to download it again); check disk space"
		fi
		;;
	*)
		[[ -f $BASE_TARBALL ]] || die $E_DEPS "$BASE_TARBALL not found; install $BASE_PKG (apt-get install $BASE_PKG)"
		say "extracting $BASE_TARBALL"
		case $BASE_TARBALL in
		*.xz) xz -dc -T0 "$BASE_TARBALL" | tar -x -m -C "$1" --strip-components=1 ;;
		*) tar -xf "$BASE_TARBALL" -m -C "$1" --strip-components=1 ;;
		esac || die $E_TREE "could not extract $BASE_TARBALL; check disk space"
		;;
	esac
}

# syncfs_fd FD WHAT: syncfs(2) the file system of the open FD (WHAT
# names it in the error); an error, or a write-back error of the file
# system since FD was opened, stops the command (E_TREE).
syncfs_fd() {
	python3 -c 'import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
if libc.syncfs(int(sys.argv[1])) != 0:
    sys.exit(os.strerror(ctypes.get_errno()))' "$1" ||
		die $E_TREE "syncfs of the file system of $2 failed"
}

# cache_repo_make REPO [keep]: make the entry REPO (the caller holds its
# lock).  Its objects stay loose: packing them took 58 s for 7.3, more
# than the one checkout a cold scripts/check makes from the entry loses
# by reading them loose (30 s against 9 s; docs/base.md).  With "keep", the
# extracted files and the index that committed them are left in BASE_SRC
# (src/ and index), for tree_from_base to make its tree of.
cache_repo_make() {
	local repo=$1 keep=${2:-} name tmp version commit genv g sfd
	name=${repo##*/}
	tmp=$(mktemp -d "$CACHE/trees/tmp.$name.XXXXXX")
	# Opened before anything is written: syncfs on it below reports a
	# write-back error of anything written since, or an earlier one not
	# yet reported (Linux 5.8 and later; not through overlayfs).
	exec {sfd}<"$tmp"
	mkdir "$tmp/src"
	base_extract "$tmp/src"
	version=$(make -s -C "$tmp/src" kernelversion)
	# The identity and dates are the commit's own: GIT_AUTHOR_NAME and the
	# like from the environment would override -c user.name, and the user's
	# or the system's git config (commit.gpgSign, i18n.commitEncoding) could
	# change the commit, and so could a hook: the repository gets no
	# template (init.templateDir could bring a commit-msg hook) and no
	# hooks run.
	genv=(env -u GIT_AUTHOR_NAME -u GIT_AUTHOR_EMAIL -u GIT_COMMITTER_NAME -u GIT_COMMITTER_EMAIL
		-u GIT_INDEX_FILE -u GIT_OBJECT_DIRECTORY -u GIT_ALTERNATE_OBJECT_DIRECTORIES -u GIT_COMMON_DIR
		-u GIT_CONFIG_PARAMETERS -u GIT_CONFIG_COUNT -u GIT_DEFAULT_HASH GIT_CONFIG_NOSYSTEM=1
		GIT_CONFIG_GLOBAL=/dev/null)
	g=("${genv[@]}" git -c core.autocrlf=false -c core.filemode=true -c core.symlinks=true
		-c core.hooksPath=/dev/null -c gc.auto=0 -c maintenance.auto=false
		--git-dir="$tmp/repo.git" --work-tree="$tmp/src")
	"${genv[@]}" git init -q --bare --template= --object-format=sha1 -b base "$tmp/repo.git"
	say "committing the base"
	"${g[@]}" add -f -A
	GIT_AUTHOR_DATE=$BASE_DATE GIT_COMMITTER_DATE=$BASE_DATE \
		"${g[@]}" -c user.name=base -c user.email=base@localhost \
		commit -q -m "Linux $version (Debian $BASE_PKG)"
	commit=$("${g[@]}" rev-parse HEAD)
	if [[ -n $keep ]]; then
		mv "$tmp/repo.git/index" "$tmp/index"
	else
		rm -rf "$tmp/src" "$tmp/repo.git/index"
	fi
	"${genv[@]}" git --git-dir="$tmp/repo.git" config gc.auto 0
	# Every object, the ref and the config are on disk before the marker
	# is written: one syncfs of the file system the cache is on (all of
	# it; git's default syncs no loose object, ref or index).  With
	# core.fsync=loose-object and core.fsyncMethod=batch instead (a
	# write-back per object, then one flush), git add of 7.3 took 56-71 s
	# instead of 37-38 s; the syncfs took 1 s (docs/measured.md).  The
	# marker and the rename need no sync: after a crash, a temp dir is
	# swept, and an entry with a lost or empty marker is made again.
	syncfs_fd "$sfd" "$tmp"
	exec {sfd}<&-
	printf 'commit %s\npackage %s %s\n' "$commit" "$BASE_PKG" "$BASE_PKG_VERSION" >"$tmp/repo.git/$BASE_MARKER"
	if [[ -e $repo ]]; then
		mv "$repo" "$tmp/old"
	fi
	mv "$tmp/repo.git" "$repo"
	rm -rf "$tmp/old"
	if [[ -n $keep ]]; then
		BASE_SRC=$tmp
	else
		rm -rf "$tmp"
	fi
}

# base_cache [keep]: make sure the cache entry of the base exists and is
# whole (a partial or damaged one is made again); set BASE_REPO and
# BASE_COMMIT.  With "keep", an entry made now leaves its files in
# BASE_SRC (cache_repo_make), and the entry's lock stays taken until the
# caller has called base_src_done.  The temp dirs of the entry are
# removed under its lock: those of a killed run.
base_cache() {
	[[ -z ${BASE_SRC:-} ]] || die $E_TREE "base_cache: called again before base_src_done"
	BASE_SRC=
	base_version
	[[ -d $CACHE/trees ]] || mkdir -p "$CACHE/trees"
	BASE_REPO=$CACHE/trees/$(base_cache_name).git
	exec {BASE_LOCK_FD}>"$BASE_REPO.lock"
	if ! flock -n "$BASE_LOCK_FD"; then
		say "waiting for another run that is making $BASE_REPO"
		flock "$BASE_LOCK_FD"
	fi
	rm_glob "$CACHE/trees/tmp.${BASE_REPO##*/}".*
	if ! cache_repo_ok "$BASE_REPO"; then
		[[ ! -e $BASE_REPO ]] || warn "$BASE_REPO is incomplete or damaged: making it again"
		cache_repo_make "$BASE_REPO" "${1:-}"
		cache_repo_ok "$BASE_REPO" || die $E_TREE "$BASE_REPO is not whole right after it was made; check disk space"
	fi
	BASE_COMMIT=$CACHE_REPO_COMMIT
	[[ -n $BASE_SRC ]] || base_src_done
}

# base_src_done: remove what is left of BASE_SRC and drop the entry's lock.
base_src_done() {
	[[ -z $BASE_SRC ]] || rm -rf "$BASE_SRC"
	BASE_SRC=
	exec {BASE_LOCK_FD}>&-
}

# ---------------------------------------------------------------- trees

# work_lock: take the work dir's lock so two commands never share a tree,
# then the lock of the kernel trees and build dirs, which commands of other
# clones share ($CACHE/work.lock, beside the dir, so that removing the dir
# never frees it).  Neither is waited for: a command that waited while
# holding KBUILD_LOCK (flock KBUILD_LOCK scripts/check) could wait forever
# for one that holds this lock and waits for KBUILD_LOCK.
work_lock() {
	if [[ ${MDEV_PIPELINE_LOCKED:-} == "$WORK" ]]; then
		[[ -z ${MDEV_PIPELINE_RUN:-} ]] || return 0
	else
		[[ -d $WORK && -d $KWORK ]] || mkdir -p "$WORK" "$KWORK"
		exec 9>"$WORK/.lock"
		flock -n 9 || die $E_TREE "another command is using $WORK; wait for it to finish"
		if [[ $KWORK != "$WORK" ]]; then
			exec 7>"$CACHE/work.lock"
			flock -n 7 || die $E_TREE "a command of another clone is using $KWORK (the kernel trees and build dirs every clone shares); wait for it to finish"
		fi
		export MDEV_PIPELINE_LOCKED=$WORK
	fi
	# This command's token for tree_busy (made here unless a command that
	# holds the lock and runs this one made it); its children, which hold
	# the lock with it, keep it.
	export MDEV_PIPELINE_RUN="$REPO $BASHPID $EPOCHREALTIME"
	export MDEV_PIPELINE_MARKED=
}

# git_t ARGS...: git in the work tree.
git_t() { git -C "$TREE" "$@"; }

# tree_prepare: make $TREE a git tree of the base and set BASE_COMMIT and
# SERIES_BRANCH.  Uses KERNEL_DIR through a worktree when it is set.
tree_prepare() {
	if [[ -n ${KERNEL_DIR:-} ]]; then
		tree_from_kernel_dir
	else
		tree_from_base
	fi
	tree_reset
}

# tree_is_clone_of REPO: $TREE is our shared clone of REPO, at its base.
tree_is_clone_of() {
	[[ -d $TREE/.git ]] &&
		file_has_line "$TREE/.git/objects/info/alternates" "$1/objects" &&
		[[ $(git_t rev-parse -q --verify 'refs/heads/base^{commit}' 2>/dev/null) == "$BASE_COMMIT" ]]
}

# tree_from_base: $TREE, a shared clone of the base's cache entry (its
# objects are the cache's; only the series' are its own).  A tree of
# another version of the base, or a broken one, is replaced: the tree is
# ours.  The clone is made in a temp dir and renamed.  When the entry was
# made just now and the work dir is on the cache's file system, the files
# it was made of become the tree, with the index that committed them,
# instead of a second checkout of the same files (MDEV_PIPELINE_NO_RENAME=1,
# for the tests, takes the checkout).
tree_from_base() {
	local tmp
	SERIES_BRANCH=series
	base_cache keep
	if ! tree_is_clone_of "$BASE_REPO"; then
		[[ ! -e $TREE ]] || say "replacing $TREE: it is not a clone of $BASE_REPO"
		mkdir -p "$KWORK"
		rm -rf "$KWORK"/tmp.linux.*
		tmp=$(mktemp -d "$KWORK/tmp.linux.XXXXXX")
		git clone -q --shared --no-checkout --branch base "$BASE_REPO" "$tmp/linux" ||
			die $E_TREE "git clone --shared $BASE_REPO failed"
		# Only where a rename works (a hard link is the probe): a copy
		# would give the files new inodes, and the index would not match.
		if [[ -n $BASE_SRC && -z ${MDEV_PIPELINE_NO_RENAME:-} ]] && ln "$BASE_SRC/index" "$tmp/probe" 2>/dev/null; then
			rm "$tmp/probe"
			mv "$tmp/linux/.git" "$BASE_SRC/src/.git"
			mv "$BASE_SRC/index" "$BASE_SRC/src/.git/index"
			rmdir "$tmp/linux"
			mv "$BASE_SRC/src" "$tmp/linux"
			say "$TREE: the files the base was committed from (no second checkout)"
		fi
		rm -rf "$TREE"
		mv "$tmp/linux" "$TREE"
		rm -rf "$tmp"
	fi
	[[ -z $BASE_SRC ]] || base_src_done
	base_commit_note
}

base_commit_note() {
	if [[ -n $BASE_EXPECT_COMMIT && $BASE_COMMIT != "$BASE_EXPECT_COMMIT" ]]; then
		warn "base commit is $BASE_COMMIT, not $BASE_EXPECT_COMMIT: another tarball version"
	fi
	say "base $BASE_COMMIT ($(git_t log -1 --format=%s "$BASE_COMMIT")), $BASE_PKG $BASE_PKG_VERSION"
}
# tree_from_kernel_dir: check KERNEL_DIR and add a detached worktree of
# KERNEL_BASE under the work dir.  The user's checkout is only read; our
# branches live under mdev-pipeline/.
tree_from_kernel_dir() {
	local kd=$KERNEL_DIR rev=${KERNEL_BASE:-HEAD} f
	[[ -d $kd ]] || die $E_TREE "KERNEL_DIR=$kd is not a directory"
	kd=$(cd "$kd" && pwd)
	for f in Makefile drivers/vfio/mdev tools/testing/kunit/kunit.py; do
		[[ -e $kd/$f ]] || die $E_TREE "KERNEL_DIR=$kd is not a kernel tree (no $f); point it at a Linux git checkout"
	done
	[[ $(git -C "$kd" rev-parse --show-toplevel 2>/dev/null) == "$kd" ]] ||
		die $E_TREE "KERNEL_DIR=$kd is not the top of a git checkout; point it at a Linux git checkout"
	[[ -z $(git -C "$kd" status --porcelain --untracked-files=no) ]] ||
		die $E_TREE "KERNEL_DIR=$kd has uncommitted changes; commit or stash them first"
	BASE_COMMIT=$(git -C "$kd" rev-parse -q --verify "$rev^{commit}") ||
		die $E_TREE "KERNEL_BASE=$rev is not a commit in $kd"
	kernel_dir_tree "$kd"
	if [[ ! -e $TREE/.git ]]; then
		rm -rf "$TREE"
		git -C "$kd" worktree prune
		git -C "$kd" worktree add -q --detach "$TREE" "$BASE_COMMIT" >&2 ||
			die $E_TREE "git worktree add failed in $kd"
	fi
	# Written whole (a rename) and only when it changes: scripts/export
	# may read it while a build ahead of scripts/check runs this.
	if [[ $(cat "$TREE.base" 2>/dev/null || true) != "$BASE_COMMIT" ]]; then
		echo "$BASE_COMMIT" >"$TREE.base.tmp.$$"
		mv -f "$TREE.base.tmp.$$" "$TREE.base"
	fi
	say "base $BASE_COMMIT ($(git_t log -1 --format=%s "$BASE_COMMIT")) from $kd"
}

# kernel_dir_tree DIR: our worktree of the checkout DIR and its branch.
kernel_dir_tree() {
	TREE=$KWORK/kernel-dir-$(printf '%s' "$1" | sha1sum | cut -c1-8)
	SERIES_BRANCH=mdev-pipeline/series
}

# tree_at REV: check out REV (detached) in a clean tree (scripts/check,
# scripts/stable, scripts/mdevctl-test's worktree): checkout -f throws away the changes to tracked files,
# staged ones and conflicts included, as reset --hard did before it, in
# the same pass; clean removes the untracked files.  On the 7.3 tree,
# warm, each run twice: checkout -f 0.6 s, against reset --hard 1.2 s
# and checkout 0.6 s.
tree_at() { tree_checkout --detach "$1"; }

# tree_checkout ARG...: git checkout -f ARG..., then clean: the checkout
# of tree_at, tree_series (scripts/check) and tree_reset.
tree_checkout() {
	git_t checkout -q -f "$@"
	git_t clean -q -ffdx
}

# tree_times_save [BASE]: if $TREE has no changes git sees (the base's
# .gitignore of "/*" hides untracked files; the restore never touches
# those) on its series branch, note its commit and the times of the
# regular files the series changes, for tree_times_restore.  With BASE
# (scripts/mdevctl-test's worktree, whose HEAD is detached), at any
# commit, the files that differ from BASE.  Not with KERNEL_DIR.
tree_times_save() {
	local f s line head='' branch='' base=${1:-} files=() times=() i
	TIMES_COMMIT=
	TIMES=()
	[[ -z ${KERNEL_DIR:-} && -e $TREE/.git ]] || return 0
	# One git status: the commit and branch of HEAD, and a line for each
	# change.
	s=$(git_t status --porcelain=v2 --branch --no-ahead-behind 2>/dev/null) || return 0
	while IFS= read -r line; do
		case $line in
		"# branch.oid "*) head=${line#"# branch.oid "} ;;
		"# branch.head "*) branch=${line#"# branch.head "} ;;
		"# "*) ;;
		*) return 0 ;;
		esac
	done <<<"$s"
	[[ $head =~ ^[0-9a-f]{40,}$ ]] || return 0
	if [[ -z $base ]]; then
		[[ $branch == series ]] || return 0
		git_t rev-parse -q --verify refs/heads/base >/dev/null || return 0
		base=base
	fi
	while IFS= read -r -d '' f; do
		[[ ! -f $TREE/$f || -L $TREE/$f ]] || files+=("$TREE/$f")
	done < <(git_t diff -z --name-only "$base" "$head")
	if [[ ${#files[@]} -gt 0 ]]; then
		mapfile -t times < <(stat -c %.9Y -- "${files[@]}")
		[[ ${#times[@]} -eq ${#files[@]} ]] || return 0
		for i in "${!files[@]}"; do
			TIMES+=("${files[i]#"$TREE/"}" "${times[i]}")
		done
	fi
	TIMES_COMMIT=$head
}

# tree_times_restore: after the series is applied again, if the result is
# the commit tree_times_save noted (the ids depend on the patches only),
# the files have their content of before: give them back their times, so
# that kbuild rebuilds nothing for them.
tree_times_restore() {
	local i
	[[ -n ${TIMES_COMMIT:-} && $(git_t rev-parse HEAD) == "$TIMES_COMMIT" ]] || return 0
	for ((i = 0; i < ${#TIMES[@]}; i += 2)); do
		touch -m -d "@${TIMES[i + 1]}" "$TREE/${TIMES[i]}"
	done
	# The index still has the times of git am: refresh it, or the next
	# checkout -f (tree_reset, tree_at) writes those files again.
	git_t update-index -q --refresh >/dev/null || true
	say "the series is the commit already built in $TREE: its files keep their times"
}

# tree_owner [GIT_DIR]: the clone whose series tree_reset last marked in
# $TREE, whose git dir is GIT_DIR (looked up if not given).
tree_owner() {
	local gd=${1:-} owner=''
	[[ -n $gd ]] || gd=$(git_t rev-parse --absolute-git-dir)
	IFS= read -r owner 2>/dev/null <"$gd/mdev-pipeline-clone" || true
	printf '%s' "$owner"
}

# tree_guard [GIT_DIR]: stop if another clone left a git am under way or
# changes in the shared tree (a rebase by hand?): resetting it would drop
# them.  GIT_DIR is $TREE's (looked up if not given).  Unless the tree
# still has the busy mark of a command (tree_busy): that command ended
# in the middle of its work (killed, or its machine stopped; work_lock,
# held by the caller, shows that no command runs there now).  What it
# left is most likely its own, as no command leaves a git am under way
# or changes on purpose, but hand work done in the tree while it ran
# would look the same: tree_keep_dropped keeps a copy, and the reset
# that follows drops it.  Then marks the tree busy: call it with
# work_lock held, before changing the tree.  The trees of this clone are
# not guarded: its commands reset them whatever they hold.
tree_guard() {
	local gd=${1:-} owner kept
	[[ -n $gd ]] || gd=$(git_t rev-parse --absolute-git-dir)
	owner=$(tree_owner "$gd")
	# The temp files of a copy (tree_keep_dropped) that was killed.
	rm_glob "$gd"/mdev-pipeline-dropped.?????? "$gd"/mdev-pipeline-dropped.*.diff.tmp
	if [[ -n $owner && $owner != "$REPO" ]] && tree_dirty "$TREE" "$gd"; then
		[[ -e $gd/mdev-pipeline-busy ]] ||
			die $E_TREE "$TREE has a git am under way or changes of the clone $owner (a rebase by hand?); finish them there, or remove $TREE to drop them"
		kept=$(tree_keep_dropped "$TREE" "$gd") ||
			die $E_TREE "$TREE has a git am under way or changes left by a command of the clone $owner that ended in the middle of its work, and no copy of them could be kept (disk full?); remove $TREE to drop them"
		say "$TREE: a command of the clone $owner ended in the middle of its work (killed?); dropping the git am or changes it left (a copy: ${kept:-none, as the diff is empty})"
	fi
	tree_busy "$TREE" "$gd"
}

# tree_keep_dropped DIR GIT_DIR: keep a copy of the changes in the tree
# DIR (a diff against HEAD, whose commit its first line names and which
# git apply applies again; files that .gitignore does not hide included)
# and of its git am under way (the rebase-apply dir, moved), and print
# their names.  Its objects go to a temp dir, not to the tree's object
# store.  Fails, keeping everything in place, if either cannot be kept.
tree_keep_dropped() {
	local t=${EPOCHREALTIME//[.,]/} tmp diff head objects kept=()
	diff=$2/mdev-pipeline-dropped.$t.diff
	tmp=$(mktemp -d "$2/mdev-pipeline-dropped.XXXXXX") || return 1
	if ! head=$(git -C "$1" rev-parse -q --verify HEAD) ||
		! objects=$(git -C "$1" rev-parse --path-format=absolute --git-path objects) ||
		! { [[ ! -e $2/index ]] || cp "$2/index" "$tmp/index"; } || ! mkdir "$tmp/objects" ||
		! (
			export GIT_INDEX_FILE=$tmp/index GIT_OBJECT_DIRECTORY=$tmp/objects GIT_ALTERNATE_OBJECT_DIRECTORIES=$objects
			git -C "$1" add -A && printf '# HEAD %s\n' "$head" && git -C "$1" diff --cached --binary HEAD
		) >"$diff.tmp"; then
		rm -rf "$tmp" "$diff.tmp"
		return 1
	fi
	rm -rf "$tmp"
	if [[ $(wc -l <"$diff.tmp") -gt 1 ]]; then
		mv "$diff.tmp" "$diff" || return 1
		kept+=("$diff")
	else
		rm -f "$diff.tmp"
	fi
	if [[ -d $2/rebase-apply ]]; then
		mv "$2/rebase-apply" "$2/mdev-pipeline-dropped-am.$t" || return 1
		kept+=("$2/mdev-pipeline-dropped-am.$t")
	fi
	printf '%s' "${kept[*]-}"
}

# tree_dirty DIR GIT_DIR: the tree DIR has a git am under way or changes,
# untracked files (that .gitignore does not hide) included.
tree_dirty() {
	[[ -d $2/rebase-apply ]] || [[ -n $(git -C "$1" status --porcelain 2>/dev/null) ]]
}

# tree_busy DIR GIT_DIR: mark the tree DIR busy ($GIT_DIR/mdev-pipeline-busy,
# this command's token) until tree_release takes the mark back when this
# command exits.  A mark that this command, or a command that runs it,
# wrote and will take back (MDEV_PIPELINE_MARKED, their git dirs) is
# left to its writer; one of this token that a command run by this one
# left (it ended with the tree changed) is written again, and is this
# command's to take back.
TREES_BUSY=()
tree_busy() {
	local mark=''
	IFS= read -r mark 2>/dev/null <"$2/mdev-pipeline-busy" || true
	if [[ $mark == "${MDEV_PIPELINE_RUN:?work_lock first}" && $'\n'${MDEV_PIPELINE_MARKED:-}$'\n' == *$'\n'"$2"$'\n'* ]]; then
		return 0
	fi
	printf '%s\n' "$MDEV_PIPELINE_RUN" >"$2/mdev-pipeline-busy"
	TREES_BUSY+=("$1" "$2")
	export MDEV_PIPELINE_MARKED="${MDEV_PIPELINE_MARKED:-}"$'\n'"$2"
}

# tree_release: at exit, take back the busy marks of this command whose
# trees are clean.  A tree with a git am under way or changes keeps it:
# those are this command's (killed by a signal, or stopped by an error in
# the middle of its work), and the next command of any clone may drop them.
tree_release() {
	local i mark
	for ((i = 0; i < ${#TREES_BUSY[@]}; i += 2)); do
		mark=''
		IFS= read -r mark 2>/dev/null <"${TREES_BUSY[i + 1]}/mdev-pipeline-busy" || true
		[[ $mark == "$MDEV_PIPELINE_RUN" ]] || continue
		tree_dirty "${TREES_BUSY[i]}" "${TREES_BUSY[i + 1]}" ||
			rm -f "${TREES_BUSY[i + 1]}/mdev-pipeline-busy"
	done
}

# tree_clear [GIT_DIR]: drop a stale index.lock and a git am under way,
# left by a command that ended in the middle of its work.
tree_clear() {
	local gd=${1:-}
	[[ -n $gd ]] || gd=$(git_t rev-parse --absolute-git-dir)
	[[ ! -e $gd/index.lock && ! -L $gd/index.lock ]] || rm -f "$gd/index.lock"
	if [[ -d $gd/rebase-apply ]]; then
		say "aborting the git am left by an earlier run"
		git_t am --abort >/dev/null 2>&1 || rm -rf "$gd/rebase-apply"
	fi
}

# tree_locate mine|any: find the tree and series branch of the last
# scripts/run, without changing anything.  The trees are shared by every
# clone: with "mine", the series must be the one this clone applied
# (tree_reset's mark); "any" is for scripts/send, which applies its own
# patches.
tree_locate() {
	local owner
	case $1 in
	mine | any) ;;
	*) die $E_USAGE "tree_locate: '$1' is neither mine nor any" ;;
	esac
	if [[ -n ${KERNEL_DIR:-} ]]; then
		kernel_dir_tree "$(cd "$KERNEL_DIR" && pwd)"
		BASE_COMMIT=$(cat "$TREE.base" 2>/dev/null || true)
	else
		SERIES_BRANCH=series
		BASE_COMMIT=$(git_t rev-parse -q --verify refs/heads/base 2>/dev/null || true)
	fi
	if [[ -z $BASE_COMMIT ]] || ! git_t rev-parse -q --verify "refs/heads/$SERIES_BRANCH" >/dev/null; then
		die $E_TREE "no applied series in $TREE; run scripts/run first"
	fi
	[[ $1 != any ]] || return 0
	owner=$(tree_owner)
	[[ $owner == "$REPO" ]] ||
		die $E_TREE "the series in $TREE is not the one of this clone (applied from ${owner:-an unknown clone}); run scripts/run first"
}

# tree_reset: drop any leftover state of an earlier run (an interrupted
# git am, edits, build files) and check out a fresh series branch at the
# base, marked as this clone's (tree_locate).  The tree is ours (under the
# kernel work dir), so cleaning it is safe.
tree_reset() {
	local gd
	gd=$(git_t rev-parse --absolute-git-dir)
	tree_guard "$gd"
	tree_clear "$gd"
	tree_checkout -B "$SERIES_BRANCH" "$BASE_COMMIT"
	printf '%s\n' "$REPO" >"$gd/mdev-pipeline-clone"
	tree_identity
}

# tree_identity: git needs an identity for reflogs; use the project's if
# there is one.  Commits take theirs from the patches (series_apply).
tree_identity() {
	local k v have
	[[ -z ${KERNEL_DIR:-} ]] || return 0
	have=$'\n'$(git_t config --get-regexp '^user\.(name|email)$' || true)$'\n'
	for k in user.name user.email; do
		[[ $have != *$'\n'"$k"[$' \n']* ]] || continue
		v=$(git -C "$REPO" config "$k" || true)
		[[ $k == user.name ]] && v=${v:-mdev pipeline}
		[[ $k == user.email ]] && v=${v:-mdev-pipeline@localhost}
		git_t config "$k" "$v"
	done
}


# worktree_ensure DIR REV: DIR is a detached worktree of $TREE at REV (for
# trees of their own beside $TREE: scripts/mdevctl-test, scripts/bench);
# one whose repository is gone (a replaced $TREE) is made again.
worktree_ensure() {
	local dir=$1 rev=$2 common
	common=$(git -C "$dir" rev-parse --path-format=absolute --git-common-dir 2>/dev/null || true)
	if [[ ! -e $dir/.git || $common != "$(git_t rev-parse --path-format=absolute --git-common-dir)" ]]; then
		rm -rf "$dir"
		mkdir -p "$(dirname "$dir")"
		git_t worktree prune
		git_t worktree add -q --detach "$dir" "$rev" >&2 ||
			die $E_TREE "git worktree add $dir failed"
	fi
}
# ---------------------------------------------------------------- series

# series_list: set PATCHES to the series files (all but the cover letter).
series_list() {
	PATCHES=()
	local f
	for f in "$PATCHES_DIR"/[0-9][0-9][0-9][0-9]-*.patch; do
		[[ -e $f ]] || continue
		[[ ${f##*/} == 0000-cover-letter.patch ]] && continue
		PATCHES+=("$f")
	done
	[[ ${#PATCHES[@]} -gt 0 ]]
}

# series_apply PATCH...: git am -3 the patches on the checked-out branch,
# each committed by its own author at its author date: the commit ids then
# depend on the patches only, never on who runs this.  Patches in a row
# with the same author go to one git am (on the 7.3 tree a git am costs
# about 0.5 s, plus about 0.13 s a patch: the nine patches took 1.7 s in
# one, 5.8 s one by one).  On a failure: name the patch, show the failing
# hunk, stop the git am with the patches before the failing one applied
# (for files of one message each, as one git am per patch left it),
# return 1.
series_apply() {
	local p info line name email group=() gname='' gemail=''
	for p in "$@"; do
		info=$(git mailinfo /dev/null /dev/null <"$p")
		name='' email=''
		while IFS= read -r line; do
			case $line in
			"Author: "*) name=${line#"Author: "} ;;
			"Email: "*) email=${line#"Email: "} ;;
			esac
		done <<<"$info"
		if [[ ${#group[@]} -gt 0 && ($name != "$gname" || $email != "$gemail") ]]; then
			series_am "$gname" "$gemail" "${group[@]}" || return 1
			group=()
		fi
		group+=("$p")
		gname=$name gemail=$email
	done
	[[ ${#group[@]} -eq 0 ]] || series_am "$gname" "$gemail" "${group[@]}"
}

# series_am NAME EMAIL PATCH...: one git am -3 of the PATCHes with NAME
# <EMAIL> as committer.  On a failure, the patch git am stopped at is the
# PATCH of that number (rebase-apply/next counts the messages from 1) if
# git am split the PATCHes into as many messages (rebase-apply/last);
# report it and leave the branch at the message before it (a PATCH of
# several messages keeps those before the failing one).  Otherwise, with
# several PATCHes (a file of no message or of several, or a failure
# before git am split them), abort, and give each PATCH to a git am of
# its own.
series_am() {
	local name=$1 email=$2 out gd n='' last='' p
	shift 2
	if out=$(GIT_COMMITTER_NAME=$name GIT_COMMITTER_EMAIL=$email \
		git_t am -q -3 --committer-date-is-author-date "$@" 2>&1); then
		return 0
	fi
	gd=$(git_t rev-parse --absolute-git-dir)
	read -r n 2>/dev/null <"$gd/rebase-apply/next" || true
	read -r last 2>/dev/null <"$gd/rebase-apply/last" || true
	[[ $n =~ ^[0-9]+$ && $n -ge 1 && $n -le $# ]] || n=
	if [[ $# -gt 1 && ($last != "$#" || -z $n) ]]; then
		git_t am --abort >/dev/null 2>&1 || true
		for p in "$@"; do
			series_am "$name" "$email" "$p" || return 1
		done
		return 0
	fi
	[[ -n $n ]] || n=1
	p=${!n}
	printf '%s: error: %s does not apply on %s\n' "$PROG" "${p##*/}" \
		"$(git_t log -1 --format='%h ("%s")' HEAD)" >&2
	printf '%s\n' "$out" | sed 's/^/  | /' >&2
	failing_hunks "$p" "$out" >&2
	# --quit keeps HEAD at the last patch applied; the reset drops what
	# the failed one left in the index and the files.
	if git_t am --quit >/dev/null 2>&1; then
		git_t reset -q --hard
	else
		git_t am --abort >/dev/null 2>&1 || true
	fi
	return 1
}

# failing_hunks PATCH AM_OUTPUT: print the hunks git am reported as failed
# ("error: patch failed: FILE:LINE"), else the conflicts of the 3-way merge.
failing_hunks() {
	local patch=$1 out=$2 loc file line shown=
	while read -r loc; do
		file=${loc%:*}
		line=${loc##*:}
		echo "failing hunk in $(basename "$patch"), $file at line $line:"
		awk -v f="$file" -v l="$line" '
			/^diff --git / { infile = ($3 == "a/" f); inhunk = 0; next }
			/^@@ / && infile {
				split($2, a, ","); inhunk = (substr(a[1], 2) == l)
			}
			/^(diff --git|-- $)/ { inhunk = 0 }
			inhunk { print "  > " $0 }' "$patch"
		shown=1
	done < <(printf '%s\n' "$out" | sed -n 's/^error: patch failed: //p' | sort -u)
	if [[ -z $shown ]]; then
		echo "conflicting hunks (3-way merge) in $(basename "$patch"):"
		git_t diff | head -80 | sed 's/^/  > /'
	fi
}

# series_prefix: the subject prefix of the series, "PATCH vN" (or "PATCH"
# for a first version).
series_prefix() {
	if [[ ${SERIES_VERSION:-1} -gt 1 ]]; then
		echo "PATCH v$SERIES_VERSION"
	else
		echo PATCH
	fi
}

# cover_text_need: stop (E_USAGE) unless cover-letter.txt has text.
cover_text_need() {
	[[ -s $REPO/cover-letter.txt ]] ||
		die $E_USAGE "$REPO/cover-letter.txt is missing or empty; its first line is the cover letter's subject"
}

# cover_fill FILE: put the subject (line 1) and blurb (the rest) of
# cover-letter.txt into format-patch's cover letter FILE; git's shortlog,
# diffstat stay.
cover_fill() {
	local cover=$REPO/cover-letter.txt
	cover_text_need
	awk -v cover="$cover" '
		BEGIN {
			getline subject <cover
			while ((getline line <cover) > 0) blurb = blurb line "\n"
			sub(/^\n+/, "", blurb); sub(/\n+$/, "\n", blurb)
		}
		/^Subject: / && (i = index($0, "*** SUBJECT HERE ***")) {
			$0 = substr($0, 1, i - 1) subject
		}
		$0 == "*** BLURB HERE ***" { printf "%s", blurb; next }
		{ print }' "$1" >"$1.tmp"
	mv "$1.tmp" "$1"
}


# series_preimages PATCH...: "FILE OLD" for each file the series changes
# that exists before it: OLD is the blob id of the "index OLD..NEW" line
# of the first patch that changes FILE (a later patch starts from an
# earlier one's NEW, not from the base).
series_preimages() {
	awk '
		/^diff --git / { a = substr($3, 3); b = substr($4, 3); next }
		/^index [0-9a-f]+\.\.[0-9a-f]+/ && a != "" {
			split($2, id, /\.\./)
			if (id[1] !~ /^0+$/ && !(a in seen)) print a, id[1]
			seen[a] = seen[b] = 1
			a = ""
		}' "$@"
}

# series_check_base PATCH...: on the mainline base from the cache, every
# file the series changes must be the one its patches were made on (the
# blob ids of their index lines): otherwise git am -3 would build the
# series on other code than the author's.  Dies with E_REBASE naming the
# files.  Not for a stable base (scripts/stable merges there on purpose)
# nor for a KERNEL_DIR, whose base the user picks (a warning there).
series_check_base() {
	local file old have stale=() version files=() olds=() haves=() i
	is_mainline || return 0
	while read -r file old; do
		files+=("$file")
		olds+=("$old")
	done < <(series_preimages "$@")
	# One git for every file: "BASE:FILE missing" for a file the base has
	# not (and for a gitlink, or a blob missing from the repository: no
	# kernel tree has either).
	[[ ${#files[@]} -eq 0 ]] ||
		mapfile -t haves < <(printf '%s\n' "${files[@]/#/"$BASE_COMMIT:"}" | git_t cat-file --batch-check='%(objectname)')
	for i in "${!files[@]}"; do
		file=${files[i]} old=${olds[i]} have=${haves[i]:-}
		[[ $have =~ ^[0-9a-f]+$ ]] || have=
		if [[ -z $have ]]; then
			stale+=("$file: the patches change blob $old, the base has no such file")
		elif [[ $have != "$old"* ]]; then
			stale+=("$file: the patches change blob $old, the base has ${have:0:${#old}}")
		fi
	done
	[[ ${#stale[@]} -gt 0 ]] || return 0
	version=$(git_t log -1 --format=%s "$BASE_COMMIT" | sed -n 's/^Linux \([^ ]*\).*/\1/p')
	printf '%s: the series needs a rebase onto %s (%s): these files are not the ones its patches were made on:\n' \
		"$PROG" "${version:-$BASE}${BASE_PKG_VERSION:+, $BASE_PKG $BASE_PKG_VERSION}" "base $BASE_COMMIT" >&2
	printf '  %s\n' "${stale[@]}" >&2
	if [[ -n ${KERNEL_DIR:-} ]]; then
		warn "KERNEL_DIR is set: applying anyway, git am -3 merges where it can"
		return 0
	fi
	return 1
}

# get_maintainer_f MEMO FILE: print what get_maintainer.pl -f FILE
# (without git) prints in $TREE, and return its status.  The answer is
# kept in the directory MEMO, which the caller names for the commit $TREE
# is at, without changes, and read from there when asked again.
# get_maintainer.pl takes 0.4 s a file here.
get_maintainer_f() {
	local key rc=0 f=${2//%/%25}
	key=$1/${f//\//%2F}
	if [[ ! -f $key.rc ]]; then
		[[ -d $1 ]] || mkdir -p "$1"
		(cd "$TREE" && perl scripts/get_maintainer.pl --no-git --no-git-fallback -f "$2") >"$key.out" 2>&1 || rc=$?
		echo "$rc" >"$key.rc"
	fi
	cat "$key.out"
	read -r rc <"$key.rc"
	return "$rc"
}

# ---------------------------------------------------------------- kunit

# build_dir CONFIG: the kept build dir of a config (small, normal, debug, qemu,
# bisect, kobject-release, mdevctl), <base>-<config>.  bisect shares the
# normal dir: the two differ in the mtty sample alone, and kbuild rebuilds
# only what depends on it.  kobject-release has a dir of its own:
# DEBUG_KOBJECT_RELEASE changes struct kobject (include/linux/kobject.h),
# so nearly every file differs from the debug build.
build_dir() {
	local t=$BASE c=$1
	[[ -z ${KERNEL_DIR:-} ]] || t=$(basename "$TREE")
	case $c in
	bisect) c=normal ;;
	esac
	printf '%s/build/%s-%s' "$KWORK" "$t" "$c"
}

# ccache_setup: compile through ccache, in the cache ccache uses anyway
# (CCACHE_DIR when set, else its own default), so that every clone and
# work dir of the machine shares it.  Paths below $KWORK (the kernel trees
# and build dirs) are hashed relative to it and the build dir's path is not
# hashed: work dirs in different folders, with the same layout, hit the
# same entries.  Depend mode: ccache hashes the source, the headers of the
# compiler's dependency file (kbuild's -Wp,-MMD) and the command line, and
# on a miss compiles once, without the extra preprocessor run of its
# default mode: rebuilding 205 objects of the debug kernel without hits
# took 154 s instead of 194 s here.
ccache_setup() {
	export CCACHE_BASEDIR=$KWORK CCACHE_NOHASHDIR=1 CCACHE_DEPEND=1
	[[ ! -d /usr/lib/ccache ]] || PATH=/usr/lib/ccache:$PATH
	ccache_mark
}

# ccache_counts: "HITS MISSES" of the cache so far.
ccache_counts() {
	local k v hit=0 miss=0
	while read -r k v _; do
		[[ $v =~ ^[0-9]+$ ]] || continue
		case $k in
		direct_cache_hit | preprocessed_cache_hit) hit=$((hit + v)) ;;
		cache_miss) miss=$((miss + v)) ;;
		esac
	done < <(ccache --print-stats 2>/dev/null)
	echo "$hit $miss"
}

# ccache_mark: count the hits and misses from now on (the cache's own
# statistics are not reset: the cache may be shared).
ccache_mark() { CCACHE_MARK=$(ccache_counts); }

# ccache_report: one line with the hits and misses since ccache_mark.
ccache_report() {
	local h0 m0 h1 m1
	read -r h0 m0 <<<"${CCACHE_MARK:-0 0}"
	read -r h1 m1 <<<"$(ccache_counts)"
	printf 'ccache (%s): %d hits, %d misses\n' "$(ccache -k cache_dir 2>/dev/null)" $((h1 - h0)) $((m1 - m0)) >&2
}

# debug_without CONFIG SYMBOL: print the --kunitconfig option of a copy of
# kunit/debug.kunitconfig without CONFIG_SYMBOL, written to the work dir:
# kunit.py refuses a kunitconfig that overrides another one's option.
debug_without() {
	mkdir -p "$WORK"
	grep -v "^CONFIG_$2=" "$REPO/kunit/debug.kunitconfig" >"$WORK/$1-debug.kunitconfig"
	echo "--kunitconfig=$WORK/$1-debug.kunitconfig"
}

# kunitconfigs CONFIG: print the --kunitconfig options of a config.
kunitconfigs() {
	echo "--kunitconfig=drivers/vfio/mdev"
	echo "--kunitconfig=$REPO/Kconfig.fragment"
	case $1 in
	debug)
		# Two CPUs, without kmemleak (kunit/smp.kunitconfig).
		debug_without "$1" DEBUG_KMEMLEAK
		echo "--kunitconfig=$REPO/kunit/smp.kunitconfig"
		;;
	qemu)
		# Without DEBUG_TEST_DRIVER_REMOVE, which silences the guest's
		# serial console (kunit/qemu.kunitconfig).
		debug_without "$1" DEBUG_TEST_DRIVER_REMOVE
		echo "--kunitconfig=$REPO/kunit/qemu.kunitconfig"
		;;
	kobject-release)
		echo "--kunitconfig=$REPO/kunit/debug.kunitconfig"
		echo "--kunitconfig=$REPO/kunit/kobject-release.kunitconfig"
		;;
	esac
}

# kunit_arch CONFIG: the architecture of a config: "um" (UML), or "x86_64"
# for qemu (QEMU with QEMU_SMP CPUs, 2 by default).
kunit_arch() {
	case $1 in
	qemu) echo x86_64 ;;
	*) echo um ;;
	esac
}

# kunit_boot_args CONFIG: the kernel arguments a config boots with, one a
# line.  Every config: a log buffer that keeps every boot message for the
# log scan (with the default one the UML kernels dropped hundreds to
# 1649 of them before their console registered).  debug: UML with two
# CPUs (kunit/smp.kunitconfig), each a host thread, which UML runs only
# with its seccomp userspace.  kobject-release: UML's basic time-travel
# mode (kunit/kobject-release.kunitconfig): the clock skips ahead while
# the kernel is idle, so the 1-4 s that each release waits pass at once.
# The configs with kunit/debug.kunitconfig (debug, kobject-release, qemu):
# kasan_multi_shot, or KASAN prints only the first report of a boot.
kunit_boot_args() {
	echo log_buf_len=4M
	case $1 in
	debug) printf '%s\n' seccomp=on ncpus=2 ;;
	kobject-release) echo time-travel ;;
	esac
	case $1 in
	debug | kobject-release | qemu) echo kasan_multi_shot ;;
	esac
}

# qemu_accel: the QEMU accelerator asked for: QEMU_ACCEL, tcg by default
# (software emulation, one host thread per CPU).  KVM is opt-in: where it
# is nested, as on some CI machines, the kernel may not even print its
# banner.
qemu_accel() {
	echo "${QEMU_ACCEL:-tcg}"
}

# kunit_own_accel: the tree's kunit.py passes "-accel kvm -accel hvf
# -accel tcg" itself (7.3 does, 6.12 does not): QEMU uses the first that
# initialises, and an -accel of ours after them changes nothing.
kunit_own_accel() {
	grep -q "'-accel'" "$TREE/tools/testing/kunit/kunit_kernel.py" 2>/dev/null
}

kvm_usable() { [[ -r /dev/kvm && -w /dev/kvm ]]; }

# qemu_wrapper DIR: DIR/qemu-system-x86_64, first on PATH for kunit.py.
# 7.3's kunit.py puts "-accel kvm -accel hvf -accel tcg" before the
# options of --qemu_args, and QEMU takes the first accelerator that
# initialises: KVM wherever /dev/kvm opens, even where it is nested and
# cannot run the guest (the kernel then prints nothing until kunit.py's
# timeout).  The wrapper drops that list, so the -accel of --qemu_args is
# the only one; a kunit.py without it (6.12) is passed through unchanged.
qemu_wrapper() {
	local dir=$1 real
	real=$(PATH=${PATH#"$dir:"} command -v qemu-system-x86_64) ||
		die $E_DEPS "no qemu-system-x86_64 on PATH (apt: qemu-system-x86)"
	mkdir -p "$dir"
	cat >"$dir/qemu-system-x86_64.tmp" <<EOF
#!/usr/bin/env bash
# Written by scripts/lib.sh (qemu_wrapper): kunit.py's QEMU command
# without its own accelerator list (-accel kvm -accel hvf -accel tcg).
args=()
while [[ \$# -gt 0 ]]; do
	if [[ \$# -ge 6 && \$1 == -accel && \$2 == kvm && \$3 == -accel && \$4 == hvf && \$5 == -accel && \$6 == tcg ]]; then
		shift 6
		continue
	fi
	args+=("\$1")
	shift
done
exec $(printf %q "$real") "\${args[@]}"
EOF
	chmod +x "$dir/qemu-system-x86_64.tmp"
	mv "$dir/qemu-system-x86_64.tmp" "$dir/qemu-system-x86_64"
	[[ :$PATH: == *":$dir:"* ]] || PATH=$dir:$PATH
}

# qemu_accel_note: say which accelerator QEMU will use.
qemu_accel_note() {
	local want
	want=$(qemu_accel)
	if kunit_own_accel; then
		say "x86_64 under QEMU: -smp ${QEMU_SMP:-2} -accel $want (kunit.py's own -accel kvm -accel hvf -accel tcg dropped by $WORK/bin/qemu-system-x86_64)"
	else
		say "x86_64 under QEMU: -smp ${QEMU_SMP:-2} -accel $want"
	fi
	[[ $want != kvm ]] || kvm_usable || warn "QEMU_ACCEL=kvm, but /dev/kvm cannot be opened"
}

# kunit_arch_opts CONFIG: print the kunit.py options of the config's arch.
# For x86_64 with a kunit.py that passes its own accelerator list,
# kunit_exec puts the QEMU wrapper first on PATH.
kunit_arch_opts() {
	local arch
	arch=$(kunit_arch "$1")
	echo "--arch=$arch"
	[[ $arch != um ]] || return 0
	echo "--qemu_args=-smp ${QEMU_SMP:-2} -accel $(qemu_accel)"
}

# kunit_build DIR KUNITCONFIG_OPTION...: configure and build in DIR, for
# the arch of KUNIT_CONFIG (a config name; UML when unset).
kunit_build() {
	local dir=$1 arch=()
	shift
	[[ -d $dir ]] || mkdir -p "$dir"
	mapfile -t arch < <(kunit_arch_opts "${KUNIT_CONFIG:-normal}")
	(cd "$TREE" && python3 tools/testing/kunit/kunit.py build "${arch[@]}" \
		--build_dir="$dir" --jobs="${JOBS:-2}" "$@") >&2
}

# kunit_make DIR KUNITCONFIG_OPTION...: configure and build a UML kernel
# in DIR as kunit.py build does, without what the checks never use.
# kunit.py config configures DIR (or leaves it, if its .config already
# has every option and the kunitconfig is the one of its last run) and
# keeps the kunitconfig it asked for, the given ones merged and
# kunit.py's UML options added, in DIR (get_old_kunitconfig_path:
# DIR/last_used_kunitconfig from 6.1 to 7.3); then make's default goal
# "all", as kunit.py build makes it; then kunit.py's own kunit_config
# code checks that every option of that kunitconfig is in the .config,
# as kunit.py build does after its make, and names each one that is not.
# kunit.py build would also run olddefconfig before make (a second time
# when its config step made the .config) and, from 6.12 on, make
# compile_commands.json, and on 7.3 scripts_gdb, which the checks do not
# use: 4-7 s of each incremental build on 7.3 (docs/measured.md).
# Without that olddefconfig, make's own syncconfig takes in a change of
# the tree's Kconfig since the .config was made; with stdin from
# /dev/null it takes the default of each new option instead of waiting
# for an answer (its prompt and "Error in reading or end of file." go to
# the log).  A new int or hex option whose default is not valid stops
# make on 6.12 and later; on 6.1 one without a default makes kconfig ask
# again without end, under kunit.py build as well.  UML only: run_suite
# and scripts/stable build no other arch.  scripts/run --normal, --debug
# and --qemu, and scripts/bench build with kunit.py build, as the cover
# letter's command does; scripts/run and suite-small with
# kunit_make_small.
kunit_make() {
	local dir=$1
	shift
	mkdir -p "$dir"
	(cd "$TREE" && python3 tools/testing/kunit/kunit.py config --arch=um \
		--build_dir="$dir" "$@") >&2 || return 1
	echo "\$ make -s -C $TREE ARCH=um O=$dir --jobs=${JOBS:-2} all </dev/null" >&2
	make -s -C "$TREE" ARCH=um O="$dir" --jobs="${JOBS:-2}" all </dev/null >&2 || return 1
	kconfig_landed "$dir"
}

# kconfig_landed DIR [FILE [WHEN]]: every option of FILE (by default the
# kunitconfig kunit.py config kept in DIR) has its value in DIR/.config
# after WHEN ("the build" by default), as kunit.py's own kunit_config
# code compares them (an option set to n matches one that is absent);
# names each one that has not.
kconfig_landed() {
	(cd "$TREE" && python3 - "$1" "${2:-}" "${3:-the build}" <<'PY'
import os, sys
sys.path.insert(0, "tools/testing/kunit")
import kunit_config, kunit_kernel
want = kunit_config.parse_file(sys.argv[2] or kunit_kernel.get_old_kunitconfig_path(sys.argv[1]))
config = kunit_config.parse_file(os.path.join(sys.argv[1], ".config"))
if want.is_subset_of(config):
    sys.exit(0)
have = {e.name: e.value for e in config.as_entries()}
for e in want.as_entries():
    h = have.get(e.name)
    if (h is None and e.value != "n") or (h is not None and h != e.value):
        print("not in %s/.config after %s: %s (it has: %s)" % (sys.argv[1], sys.argv[3], e,
              "nothing" if h is None else kunit_config.KconfigEntry(e.name, h)))
sys.exit(1)
PY
	) >&2
}

# kunit_make_small DIR: configure and build scripts/run's small UML
# kernel in DIR (kunit/small.config).  Its .config comes from make
# allnoconfig, run every time, with KCONFIG_ALLCONFIG set to
# DIR/small.allconfig: the option lines of kunit/small.config whose
# option the tree's Kconfig files define (not KUNIT_AUTORUN_ENABLED on
# 6.12 and 6.1; each one left out is named), then those of the tree's
# drivers/vfio/mdev/.kunitconfig and of Kconfig.fragment, a line
# repeated among them kept once.
# allnoconfig leaves a .config that it would write the same untouched
# ("No change to .config"): nothing rebuilds for it.  A .config that
# something else changed (a kunit.py build in DIR, a new Kconfig option
# that make's syncconfig gave its default) is made small again.  Every
# option of the input must be in the .config after allnoconfig, before
# a build of minutes, and after make's default goal (kconfig_landed).
kunit_make_small() {
	local dir=$1 want
	want=$dir/small.allconfig
	mkdir -p "$dir"
	awk -v prog="$PROG" 'FILENAME == ARGV[1] { d[$2] = 1; next }
		/^CONFIG_[A-Za-z0-9_]+=/ || /^# CONFIG_[A-Za-z0-9_]+ is not set$/ {
			s = $0; sub(/^# /, "", s); s = substr(s, 8); sub(/[= ].*/, "", s)
			if (FILENAME != ARGV[2] || s in d)
				print
			else
				printf "%s: left out of kunit/small.config (no Kconfig file of the tree defines it): CONFIG_%s\n", prog, s >"/dev/stderr"
		}' <(grep -rhoE --include='Kconfig*' '^[[:space:]]*(menu)?config [A-Za-z0-9_]+' "$TREE" || true) \
		"$REPO/kunit/small.config" "$TREE/drivers/vfio/mdev/.kunitconfig" "$REPO/Kconfig.fragment" |
		awk '!seen[$0]++' >"$want" || return 1
	grep -q '^CONFIG_64BIT=y$' "$want" ||
		{ say "$TREE: no Kconfig file defines 64BIT; not a kernel tree?"; return 1; }
	echo "\$ make -s -C $TREE ARCH=um O=$dir KCONFIG_ALLCONFIG=$want allnoconfig </dev/null" >&2
	make -s -C "$TREE" ARCH=um O="$dir" KCONFIG_ALLCONFIG="$want" allnoconfig </dev/null >&2 || return 1
	kconfig_landed "$dir" "$want" allnoconfig || return 1
	echo "\$ make -s -C $TREE ARCH=um O=$dir --jobs=${JOBS:-2} all </dev/null" >&2
	make -s -C "$TREE" ARCH=um O="$dir" --jobs="${JOBS:-2}" all </dev/null >&2 || return 1
	kconfig_landed "$dir" "$want"
}

# fragments_landed CONFIG FRAGMENT...: every option of the FRAGMENTs has
# its value in the .config CONFIG.  The value of an option is its last
# line in the FRAGMENTs, as for kconfig; "=n" means not set, and so does
# an option absent from CONFIG (not in the tree, or its dependencies
# unmet), as for kunit.py.  Says which did not land; returns 1 if one
# did not.  Bash alone, no process per option.
fragments_landed() {
	local cfg=$1 line sym have bad=0 syms=()
	local -A landed_want=() landed_config=()
	shift
	while read -r line || [[ -n $line ]]; do
		if [[ $line =~ ^(CONFIG_[A-Za-z0-9_]+)=n$ ]]; then
			line="# ${BASH_REMATCH[1]} is not set"
		fi
		case $line in
		CONFIG_* | "# CONFIG_"*" is not set") ;;
		*) continue ;;
		esac
		[[ $line =~ CONFIG_[A-Za-z0-9_]+ ]]
		sym=${BASH_REMATCH[0]}
		[[ -n ${landed_want[$sym]:-} ]] || syms+=("$sym")
		landed_want[$sym]=$line
	done < <(sed -E 's/[[:space:]]+$//' "$@")
	while IFS= read -r line; do
		if [[ $line =~ ^(CONFIG_[A-Za-z0-9_]+)= || $line =~ ^#\ (CONFIG_[A-Za-z0-9_]+)\  ]]; then
			landed_config[${BASH_REMATCH[1]}]=$line
		fi
	done <"$cfg"
	for sym in ${syms[@]+"${syms[@]}"}; do
		line=${landed_want[$sym]}
		have=${landed_config[$sym]:-}
		[[ -n $have || $line != "# $sym is not set" ]] || continue
		if [[ $have != "$line" ]]; then
			say "not in the .config: $line (it has: ${have:-nothing})"
			bad=1
		fi
	done
	return "$bad"
}

# kunit_exec DIR JSON [KERNEL_ARG...]: boot the kernel in DIR, with the
# arguments of kunit_boot_args and KERNEL_ARGs, print kunit.py's summary,
# write the parsed results to JSON; the kernel's own log stays in
# DIR/test.log.  Fails if a test failed or crashed.  Runs only
# the cases that match KUNIT_FILTER (kunit.py --filter) when it is set,
# and of the suites that match KUNIT_GLOB (kunit.py's filter_glob).
kunit_exec() {
	local dir=$1 json=$2 a boot args=()
	shift 2
	mapfile -t boot < <(kunit_boot_args "${KUNIT_CONFIG:-normal}")
	for a in "${boot[@]}" "$@"; do args+=("--kernel_args=$a"); done
	mapfile -t -O "${#args[@]}" args < <(kunit_arch_opts "${KUNIT_CONFIG:-normal}")
	[[ -z ${KUNIT_FILTER:-} ]] || args+=("--filter=$KUNIT_FILTER")
	[[ -z ${KUNIT_GLOB:-} ]] || args+=("$KUNIT_GLOB")
	[[ $(kunit_arch "${KUNIT_CONFIG:-normal}") == um ]] || ! kunit_own_accel ||
		qemu_wrapper "$WORK/bin"
	(cd "$TREE" && python3 tools/testing/kunit/kunit.py exec \
		--build_dir="$dir" --json="$json" --timeout="${KUNIT_TIMEOUT:-600}" "${args[@]}") >&2
}

# kunit_cases JSON: print "suite.case STATUS" for every case kunit.py parsed,
# a parameterised case once, with the status of its parameters together.
kunit_cases() {
	python3 - "$1" <<'EOF'
import json, sys

def status(group):
    # A parameterised case: FAIL if a parameter failed, SKIP if all were
    # skipped, else PASS (ERROR if it ran no parameter).
    s = [c["status"] for c in group.get("test_cases", [])]
    s += [status(g) for g in group.get("sub_groups", [])]
    if any(x in ("FAIL", "ERROR") for x in s):
        return "FAIL"
    if s and all(x == "SKIP" for x in s):
        return "SKIP"
    return "PASS" if s else "ERROR"

def walk(group, suite, depth):
    for sub in group.get("sub_groups", []):
        if depth == 0:
            walk(sub, sub["name"], 1)
        else:
            print(f"{suite}.{sub['name']} {status(sub)}")
    for case in group.get("test_cases", []):
        print(f"{suite}.{case['name']} {case['status']}")

with open(sys.argv[1]) as f:
    walk(json.load(f), "", 0)
EOF
}

# ---------------------------------------------------------------- kernel log

# The lines that mark a problem in a kernel log.
LOG_BAD='WARNING:|BUG:|KASAN|INFO:|Call Trace|Oops|Kernel panic|UBSAN:|ODEBUG:|unreferenced object|suspected memory leaks|printk messages dropped|list_(add|del) corruption|possible (circular|recursive) locking|inconsistent lock state|lock held|bad unlock balance|suspicious RCU usage|DEBUG_LOCKS_WARN_ON|Disabling lock debugging|turning off the locking correctness validator|lockdep is turned off|refcount_t:|general protection'

# log_scan LOG DIR: print every line of LOG (the kernel built in DIR) that
# marks a problem and is not a listed entry of kunit/known-noise.txt;
# return 1 if there is one.  A listed WARNING covers its whole splat, up
# to its "---[ end trace" line.
log_scan() {
	local src
	src=$(realpath --relative-to="$2" "$TREE")
	awk -v bad="$LOG_BAD" -v src=" at $src/" '
		function norm(s,   i) {
			sub(/\r$/, "", s)
			if ((i = index(s, src)))
				s = substr(s, 1, i - 1) " at " substr(s, i + length(src))
			sub(/^\[ *[0-9]+\.[0-9]+\] /, "", s)
			gsub(/\+0x[0-9a-f]+\/0x[0-9a-f]+/, "+0x…/0x…", s)
			if (s ~ /^WARNING: /)
				sub(/ 0x[0-9a-f]+$/, " 0x…", s)
			sub(/[ \t]+$/, "", s)
			return s
		}
		FILENAME == ARGV[1] { if ($0 !~ /^(#|$)/) noise[$0] = 1; next }
		{ line = norm($0) }
		insplat { if (line ~ /---\[ end trace/) insplat = 0; next }
		line in noise { if (line ~ /^WARNING:/) insplat = 1; next }
		line ~ bad { print "  " FILENAME ":" FNR ": " line; n++ }
		END { exit n > 0 }' "$REPO/kunit/known-noise.txt" "$1"
}
