# shellcheck shell=bash
# Functions shared by scripts/run, scripts/check, scripts/export and
# scripts/send.  Source it after setting PROG to the command's name.
#
# Environment understood here (see README.md):
#   BASE=6.12          which Debian linux-source package is the base
#   KERNEL_DIR=/path   use this kernel git checkout instead of the tarball
#   KERNEL_BASE=<rev>  the base revision in KERNEL_DIR (default HEAD)
#   PATCHES_DIR=/path  the series to apply (default <repo>/patches)
#   WORK_DIR=/path     trees, build dirs, logs, ccache (default <repo>/.work)
#   BASE_TARBALL=/path another kernel tarball for the base (for tests)

# Exit codes; README.md lists them.
# shellcheck disable=SC2034 # used by the scripts that source this file
readonly E_FAIL=1 E_USAGE=2 E_DEPS=3 E_TREE=4 E_APPLY=5 E_BUILD=6 E_LOG=7

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORK=${WORK_DIR:-$REPO/.work}
PATCHES_DIR=${PATCHES_DIR:-$REPO/patches}
BASE=${BASE:-6.12}
PROG=${PROG:-$(basename "$0")}

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

# base_params: set the facts of base $BASE.  BASE_PKG_VERSION is the
# version whose tarball gives BASE_EXPECT_COMMIT (empty: not pinned yet).
base_params() {
	case $BASE in
	6.12)
		BASE_PKG=linux-source-6.12
		BASE_PKG_VERSION=6.12.117-1~deb12u1
		BASE_EXPECT_COMMIT=89d549441217ea562dadcc2e44e46aa701ec8ec1
		TREE=$WORK/linux
		;;
	6.1)
		BASE_PKG=linux-source-6.1
		BASE_PKG_VERSION=6.1.192-2
		BASE_EXPECT_COMMIT=bc5cea179ec238d76a87a944095a9df788428121
		TREE=$WORK/linux-6.1
		;;
	*)
		die $E_USAGE "unknown BASE '$BASE'; use BASE=6.12 (or 6.1)"
		;;
	esac
	if [[ -n ${BASE_TARBALL:-} ]]; then
		BASE_EXPECT_COMMIT= # another tarball, another commit
	else
		BASE_TARBALL=/usr/src/$BASE_PKG.tar.xz
	fi
	BASE_DATE=2025-01-01T00:00:00Z
}

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

apt_install() {
	say "installing: $*"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2 ||
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

# deps_base_source: install the linux-source package of $BASE, pinned to
# BASE_PKG_VERSION while the archive still offers it.
deps_base_source() {
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
# ...and what scripts/check needs on top.
# shellcheck disable=SC2034
DEPS_CHECK=(b4 python3-ply python3-git sparse shellcheck perl)
# ...and what the smp config needs (QEMU x86_64; qboot from qemu-system-data).
# shellcheck disable=SC2034
DEPS_SMP=(qemu-system-x86 qemu-system-data)

# ---------------------------------------------------------------- trees

# work_lock: take the work dir's lock so two commands never share a tree.
work_lock() {
	[[ ${MDEV_PIPELINE_LOCKED:-} != "$WORK" ]] || return 0
	mkdir -p "$WORK"
	exec 9>"$WORK/.lock"
	flock -n 9 || die $E_TREE "another command is using $WORK; wait for it to finish"
	export MDEV_PIPELINE_LOCKED=$WORK
}

# git_t ARGS...: git in the work tree.
git_t() { git -C "$TREE" "$@"; }

# tree_prepare: make $TREE a git tree of the base and set BASE_COMMIT and
# SERIES_BRANCH.  Uses KERNEL_DIR through a worktree when it is set.
tree_prepare() {
	if [[ -n ${KERNEL_DIR:-} ]]; then
		tree_from_kernel_dir
	else
		tree_from_tarball
	fi
	tree_reset
}

# tree_from_tarball: the base commit, made once from the tarball; the
# tree is built in a temp dir and renamed, so a half tree never looks ready.
tree_from_tarball() {
	SERIES_BRANCH=series
	local tmp version commit
	if [[ -d $TREE/.git ]] && git_t rev-parse -q --verify refs/heads/base >/dev/null; then
		BASE_COMMIT=$(git_t rev-parse refs/heads/base)
		base_commit_note
		return 0
	fi
	[[ -e $TREE ]] && die $E_TREE "$TREE exists but has no 'base' branch; remove it and rerun"
	[[ -f $BASE_TARBALL ]] || die $E_DEPS "$BASE_TARBALL not found; install $BASE_PKG (apt-get install $BASE_PKG)"
	rm -rf "$WORK"/tmp.linux.*
	tmp=$(mktemp -d "$WORK/tmp.linux.XXXXXX")
	say "extracting $BASE_TARBALL"
	tar -xf "$BASE_TARBALL" -C "$tmp" --strip-components=1 ||
		die $E_TREE "could not extract $BASE_TARBALL; check disk space"
	version=$(make -s -C "$tmp" kernelversion)
	git -C "$tmp" init -q -b base
	git -C "$tmp" add -f -A
	GIT_AUTHOR_DATE=$BASE_DATE GIT_COMMITTER_DATE=$BASE_DATE \
		git -C "$tmp" -c user.name=base -c user.email=base@localhost \
		commit -q -m "Linux $version (Debian $BASE_PKG)"
	commit=$(git -C "$tmp" rev-parse HEAD)
	mv "$tmp" "$TREE"
	BASE_COMMIT=$commit
	base_commit_note
}

base_commit_note() {
	if [[ -n $BASE_EXPECT_COMMIT && $BASE_COMMIT != "$BASE_EXPECT_COMMIT" ]]; then
		warn "base commit is $BASE_COMMIT, not $BASE_EXPECT_COMMIT: another tarball version"
	fi
	say "base $BASE_COMMIT ($(git_t log -1 --format=%s "$BASE_COMMIT"))"
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
	echo "$BASE_COMMIT" >"$TREE.base"
	say "base $BASE_COMMIT ($(git_t log -1 --format=%s "$BASE_COMMIT")) from $kd"
}

# kernel_dir_tree DIR: our worktree of the checkout DIR and its branch.
kernel_dir_tree() {
	TREE=$WORK/kernel-dir-$(printf '%s' "$1" | sha1sum | cut -c1-8)
	SERIES_BRANCH=mdev-pipeline/series
}

# tree_locate: find the tree and series branch of the last scripts/run,
# without changing anything.
tree_locate() {
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
}

# tree_reset: drop any leftover state of an earlier run (an interrupted
# git am, edits, build files) and check out a fresh series branch at the
# base.  The tree is ours (under the work dir), so cleaning it is safe.
tree_reset() {
	local gd
	gd=$(git_t rev-parse --absolute-git-dir)
	rm -f "$gd/index.lock"
	if [[ -d $gd/rebase-apply ]]; then
		say "aborting the git am left by an earlier run"
		git_t am --abort >/dev/null 2>&1 || rm -rf "$gd/rebase-apply"
	fi
	git_t reset -q --hard
	git_t clean -q -ffdx
	git_t checkout -q -B "$SERIES_BRANCH" "$BASE_COMMIT"
	tree_identity
}

# tree_identity: git needs an identity for reflogs; use the project's if
# there is one.  Commits take theirs from the patches (series_apply).
tree_identity() {
	local k v
	[[ -z ${KERNEL_DIR:-} ]] || return 0
	for k in user.name user.email; do
		git_t config "$k" >/dev/null && continue
		v=$(git -C "$REPO" config "$k" || true)
		[[ $k == user.name ]] && v=${v:-mdev pipeline}
		[[ $k == user.email ]] && v=${v:-mdev-pipeline@localhost}
		git_t config "$k" "$v"
	done
}

# ---------------------------------------------------------------- series

# series_list: set PATCHES to the series files (all but the cover letter).
series_list() {
	PATCHES=()
	local f
	for f in "$PATCHES_DIR"/[0-9][0-9][0-9][0-9]-*.patch; do
		[[ -e $f ]] || continue
		[[ $(basename "$f") == 0000-cover-letter.patch ]] && continue
		PATCHES+=("$f")
	done
	[[ ${#PATCHES[@]} -gt 0 ]]
}

# series_apply PATCH...: git am -3 the patches on the checked-out branch,
# one by one, each committed by its own author at its author date: the
# commit ids then depend on the patches only, never on who runs this.
# On a failure: name the patch, show the failing hunk, abort, return 1.
series_apply() {
	local p out info name email
	for p in "$@"; do
		info=$(git mailinfo /dev/null /dev/null <"$p")
		name=$(sed -n 's/^Author: //p' <<<"$info")
		email=$(sed -n 's/^Email: //p' <<<"$info")
		if out=$(GIT_COMMITTER_NAME=$name GIT_COMMITTER_EMAIL=$email \
			git_t am -q -3 --committer-date-is-author-date "$p" 2>&1); then
			continue
		fi
		printf '%s: error: %s does not apply on %s\n' "$PROG" "$(basename "$p")" \
			"$(git_t log -1 --format='%h ("%s")' HEAD)" >&2
		printf '%s\n' "$out" | sed 's/^/  | /' >&2
		failing_hunks "$p" "$out" >&2
		git_t am --abort >/dev/null 2>&1 || true
		return 1
	done
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

# cover_fill FILE: put the subject (line 1) and blurb (the rest) of
# cover-letter.txt into format-patch's cover letter FILE; git's shortlog,
# diffstat and base-commit trailer stay.
cover_fill() {
	local cover=$REPO/cover-letter.txt
	[[ -s $cover ]] || die $E_USAGE "$cover is missing or empty; its first line is the cover letter's subject"
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

# ---------------------------------------------------------------- kunit

# build_dir CONFIG: the kept build dir of a config (normal, debug, smp,
# bisect, kobject-release).  Configs that differ in an option or two share
# a dir: kbuild rebuilds only what depends on the options that changed.
build_dir() {
	local t=$BASE c=$1
	[[ -z ${KERNEL_DIR:-} ]] || t=$(basename "$TREE")
	case $c in
	bisect) c=normal ;;
	kobject-release) c=debug ;;
	esac
	printf '%s/build/%s-%s' "$WORK" "$t" "$c"
}

# ccache_setup: compile through ccache, in the cache ccache uses anyway
# (CCACHE_DIR when set, else its own default), so that every clone and
# work dir of the machine shares it.  Paths below the work dir are hashed
# relative to it and the build dir's path is not hashed: two clones in
# different folders, whose work dirs have the same layout, hit the same
# entries.
ccache_setup() {
	export CCACHE_BASEDIR=$WORK CCACHE_NOHASHDIR=1
	[[ ! -d /usr/lib/ccache ]] || PATH=/usr/lib/ccache:$PATH
	ccache_mark
}

# ccache_counts: "HITS MISSES" of the cache so far.
ccache_counts() {
	ccache --print-stats 2>/dev/null | awk '
		$1 == "direct_cache_hit" || $1 == "preprocessed_cache_hit" { hit += $2 }
		$1 == "cache_miss" { miss += $2 }
		END { print hit + 0, miss + 0 }'
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

# kunitconfigs CONFIG: print the --kunitconfig options of a config.
kunitconfigs() {
	echo "--kunitconfig=drivers/vfio/mdev"
	echo "--kunitconfig=$REPO/Kconfig.fragment"
	case $1 in
	debug) echo "--kunitconfig=$REPO/kunit/debug.kunitconfig" ;;
	smp)
		echo "--kunitconfig=$REPO/kunit/debug.kunitconfig"
		echo "--kunitconfig=$REPO/kunit/smp.kunitconfig"
		;;
	kobject-release)
		echo "--kunitconfig=$REPO/kunit/debug.kunitconfig"
		echo "--kunitconfig=$REPO/kunit/kobject-release.kunitconfig"
		;;
	esac
}

# kunit_arch CONFIG: the architecture of a config: "um" (UML, one CPU), or
# "x86_64" for smp (QEMU with QEMU_SMP CPUs, 2 by default).
kunit_arch() {
	case $1 in
	smp) echo x86_64 ;;
	*) echo um ;;
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

# qemu_accel_note: say which accelerator QEMU will use, and warn when
# QEMU_ACCEL cannot be honoured by the tree's kunit.py.
qemu_accel_note() {
	local want
	want=$(qemu_accel)
	if ! kunit_own_accel; then
		say "x86_64 under QEMU: -smp ${QEMU_SMP:-2} -accel $want"
	elif kvm_usable; then
		[[ $want == kvm ]] || warn "QEMU_ACCEL=$want is not honoured: this kunit.py puts -accel kvm first and /dev/kvm is usable"
		say "x86_64 under QEMU: -smp ${QEMU_SMP:-2}, KVM (kunit.py's -accel kvm -accel hvf -accel tcg; /dev/kvm is usable)"
	else
		[[ $want == tcg ]] || warn "QEMU_ACCEL=$want is not honoured: no usable /dev/kvm, QEMU falls back to TCG"
		say "x86_64 under QEMU: -smp ${QEMU_SMP:-2}, TCG (kunit.py's -accel kvm -accel hvf -accel tcg; no usable /dev/kvm)"
	fi
}

# kunit_arch_opts CONFIG: print the kunit.py options of the config's arch.
kunit_arch_opts() {
	local arch
	arch=$(kunit_arch "$1")
	echo "--arch=$arch"
	[[ $arch != um ]] || return 0
	if kunit_own_accel; then
		echo "--qemu_args=-smp ${QEMU_SMP:-2}"
	else
		echo "--qemu_args=-smp ${QEMU_SMP:-2} -accel $(qemu_accel)"
	fi
}

# kunit_build DIR KUNITCONFIG_OPTION...: configure and build in DIR, for
# the arch of KUNIT_CONFIG (a config name; UML when unset).
kunit_build() {
	local dir=$1 arch=()
	shift
	mkdir -p "$dir"
	mapfile -t arch < <(kunit_arch_opts "${KUNIT_CONFIG:-normal}")
	(cd "$TREE" && python3 tools/testing/kunit/kunit.py build "${arch[@]}" \
		--build_dir="$dir" --jobs="${JOBS:-2}" "$@") >&2
}

# kunit_exec DIR JSON [KERNEL_ARG...]: boot the kernel in DIR, print
# kunit.py's summary, write the parsed results to JSON; the kernel's own
# log stays in DIR/test.log.  Fails if a test failed or crashed.  Runs only
# the cases that match KUNIT_FILTER (kunit.py --filter) when it is set.
kunit_exec() {
	local dir=$1 json=$2 a args=()
	shift 2
	for a in "$@"; do args+=("--kernel_args=$a"); done
	mapfile -t -O "${#args[@]}" args < <(kunit_arch_opts "${KUNIT_CONFIG:-normal}")
	[[ -z ${KUNIT_FILTER:-} ]] || args+=("--filter=$KUNIT_FILTER")
	(cd "$TREE" && python3 tools/testing/kunit/kunit.py exec \
		--build_dir="$dir" --json="$json" --timeout="${KUNIT_TIMEOUT:-600}" "${args[@]}") >&2
}

# kunit_cases JSON: print "suite.case STATUS" for every case kunit.py parsed.
kunit_cases() {
	python3 - "$1" <<'EOF'
import json, sys

def walk(group, suite):
    for sub in group.get("sub_groups", []):
        walk(sub, sub["name"])
    for case in group.get("test_cases", []):
        print(f"{suite}.{case['name']} {case['status']}")

with open(sys.argv[1]) as f:
    walk(json.load(f), "")
EOF
}

# ---------------------------------------------------------------- kernel log

# The lines that mark a problem in a kernel log.
LOG_BAD='WARNING:|BUG:|KASAN|INFO:|Call Trace|Oops|Kernel panic|UBSAN:|ODEBUG:|unreferenced object|list_(add|del) corruption|possible (circular|recursive) locking|inconsistent lock state|lock held|bad unlock balance|suspicious RCU usage|DEBUG_LOCKS_WARN_ON|Disabling lock debugging|turning off the locking correctness validator|lockdep is turned off|refcount_t:|general protection'

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
