#!/usr/bin/env bash
# Tests of the scripts, one part: the base and the trees (a missing
# tarball, KERNEL_DIR, apply, build and run, export, interruptions, the
# base cache, the kernel work dir, the preimage check).
# Run alone, or with the other parts by run-tests.sh.
# shellcheck disable=SC2015 # "cond && ok ... || not_ok ...": see common.sh
# shellcheck source=scripts/tests/common.sh
source "$(dirname "$0")/common.sh"

# ---- base
expect "run: a missing tarball is named, exit 3" 3 "$T/none.tar.xz not found" \
	run_fake BASE_TARBALL="$T/none.tar.xz" "$REPO/scripts/run" --no-deps
[[ ! -e $T/work/linux-$MAINLINE ]] && ok "run: a missing tarball leaves no tree" || not_ok "run: a missing tarball leaves no tree"

# ---- KERNEL_DIR
mkdir -p "$T/notkernel/drivers/vfio/mdev"
touch "$T/notkernel/Makefile"
expect "run: KERNEL_DIR that is no kernel tree, exit 4" 4 'is not a kernel tree \(no tools/testing/kunit/kunit.py\)' \
	run_fake KERNEL_DIR="$T/notkernel" "$REPO/scripts/run" --no-deps
git clone -q "$T/pt" "$T/user"
git -C "$T/user" checkout -q -b mine origin/base
echo dirty >>"$T/user/Makefile"
state() { git -C "$T/user" status --porcelain; git -C "$T/user" for-each-ref; git -C "$T/user" worktree list --porcelain; }
before=$(state)
expect "run: a dirty KERNEL_DIR, exit 4" 4 'has uncommitted changes; commit or stash them first' \
	run_fake KERNEL_DIR="$T/user" "$REPO/scripts/run" --no-deps
[[ $(state) == "$before" ]] && ok "run: a dirty KERNEL_DIR is left untouched" || not_ok "run: a dirty KERNEL_DIR is left untouched"
git -C "$T/user" checkout -q Makefile
expect "run: a clean KERNEL_DIR works through a worktree" 0 'all tests passed' \
	run_fake KERNEL_DIR="$T/user" KERNEL_BASE=origin/base "$REPO/scripts/run" --no-deps
[[ -z $(git -C "$T/user" status --porcelain) && $(git -C "$T/user" rev-parse --abbrev-ref HEAD) == mine ]] &&
	ok "run: KERNEL_DIR's checkout and branch are unchanged" || not_ok "run: KERNEL_DIR's checkout and branch are unchanged"

# ---- apply, build, run
expect "run: the fake series passes" 0 'all tests passed' run_fake "$REPO/scripts/run" --no-deps
TREE=$T/work/linux-$MAINLINE
base1=$(git -C "$TREE" rev-parse base)
# The base commit is what "git add -f -A" and "git commit" make of the
# tarball, with the fixed identity and date.
rm -rf "$T/addbase" && mkdir -p "$T/addbase/src" && tar -xJf "$T/fake.tar.xz" -C "$T/addbase/src" --strip-components=1
git init -q "$T/addbase/src"
git -C "$T/addbase/src" add -f -A
env -u GIT_AUTHOR_NAME -u GIT_AUTHOR_EMAIL -u GIT_COMMITTER_NAME -u GIT_COMMITTER_EMAIL \
	GIT_AUTHOR_DATE=2025-01-01T00:00:00Z GIT_COMMITTER_DATE=2025-01-01T00:00:00Z \
	git -C "$T/addbase/src" -c user.name=base -c user.email=base@localhost \
	commit -q -m "$(git -C "$TREE" log -1 --format=%s base)"
[[ $(git -C "$T/addbase/src" rev-parse HEAD) == "$base1" ]] &&
	ok "cache: the base commit is the one git add -f -A and git commit make" ||
	not_ok "cache: the base commit is the one git add -f -A and git commit make ($base1, git: $(git -C "$T/addbase/src" rev-parse HEAD))"
# A template with a commit-msg hook (init.templateDir, as for Gerrit)
# changes neither the base commit nor its message.
mkdir -p "$T/template/hooks"
# shellcheck disable=SC2016 # "$1" is the hook's own
printf '#!/bin/sh\necho "Change-Id: I0" >>"$1"\n' >"$T/template/hooks/commit-msg"
chmod +x "$T/template/hooks/commit-msg"
cp "$T/gitconfig" "$T/hook.gitconfig"
git config --file "$T/hook.gitconfig" init.templateDir "$T/template"
expect "cache: a run with a commit-msg hook in the user's git template passes" 0 'all tests passed' \
	run_fake XDG_CACHE_HOME="$T/cache-hook" WORK_DIR="$T/work-hook" GIT_CONFIG_GLOBAL="$T/hook.gitconfig" \
	"$REPO/scripts/run" --no-deps
[[ $(git -C "$T/work-hook/linux-$MAINLINE" rev-parse base) == "$base1" ]] &&
	ok "cache: ...and makes the same base commit" ||
	not_ok "cache: ...and makes the same base commit ($(git -C "$T/work-hook/linux-$MAINLINE" log -1 --format=%B base | tr '\n' ' '))"
rm -rf "$T/cache-hook" "$T/work-hook"
# shellcheck disable=SC2016 # expanded by the inner bash
expect "cache: a failed syncfs stops the command, exit 4" 4 'syncfs of the file system of /tmp failed' \
	env PROG=tests bash -c '. "$0/scripts/lib.sh" && exec {fd}</tmp && exec {fd}<&- && syncfs_fd "$fd" /tmp' "$REPO"
grep -q 'Bad file descriptor' "$T/err" && ok "cache: ...on the error of syncfs(2) itself (EBADF)" ||
	not_ok "cache: ...on the error of syncfs(2) itself (EBADF)"
# shellcheck disable=SC2016 # expanded by the inner bash
env PROG=tests bash -c '. "$0/scripts/lib.sh" && exec {fd}</tmp && syncfs_fd "$fd" /tmp' "$REPO" </dev/null &&
	ok "cache: syncfs of an open descriptor succeeds" || not_ok "cache: syncfs of an open descriptor succeeds"
[[ $(git -C "$TREE" ls-tree base scripts/tool.sh | cut -c1-6) == 100755 &&
	$(git -C "$TREE" ls-tree base tools/drivers.link | cut -c1-6) == 120000 ]] &&
	ok "cache: the base records an executable and a symlinked directory" ||
	not_ok "cache: the base records an executable and a symlinked directory"
# The small config (kunit/small.config): allnoconfig of its options
# that the tree defines, the suite's and Kconfig.fragment's, on every
# run; every option asked for must be in the .config after allnoconfig
# and after the build.
SD=$T/work/build/$MAINLINE-small
if grep -q '^CONFIG_EXPERT=y$' "$SD/.config" && grep -q '^CONFIG_FAKE_SUITE=y$' "$SD/.config" &&
	grep -q '^CONFIG_VFIO_MDEV_KUNIT_TEST=y$' "$SD/.config" &&
	[[ $(grep -c '^CONFIG_KUNIT=y$' "$SD/small.allconfig") -eq 1 ]] &&
	grep -q '^# CONFIG_FAKE_OFF is not set$' "$SD/small.allconfig" &&
	! grep -q '^CONFIG_KUNIT_AUTORUN_ENABLED' "$SD/small.allconfig" && ! grep -q FAKE_NOTE "$SD/small.allconfig" &&
	grep -q '^CONFIG_BUG=y$' "$SD/small.allconfig" &&
	! grep -qv '^CONFIG_\|^# CONFIG_.* is not set$' "$SD/small.allconfig"; then
	ok "run: the small kernel's .config comes from allnoconfig of kunit/small.config (less an option the tree does not define; one defined indented kept), the suite's .kunitconfig and Kconfig.fragment, each line once"
else
	not_ok "run: the small kernel's .config from allnoconfig:"
	sed 's/^/#   /' "$SD/small.allconfig" "$SD/.config" 2>/dev/null
fi
expect "run: names the option of kunit/small.config that the tree does not define" 0 \
	'^run: left out of kunit/small.config \(no Kconfig file of the tree defines it\): CONFIG_KUNIT_AUTORUN_ENABLED$' \
	run_fake "$REPO/scripts/run" --no-deps
[[ $(tail -n2 "$SD/config.times" | uniq | wc -l) -eq 1 ]] &&
	ok "run: ...and leaves the .config of the run before untouched" ||
	not_ok "run: ...and leaves the .config of the run before untouched"
# shellcheck disable=SC2016 # expanded by the inner bash
expect "run: a tree whose Kconfig files define nothing stops before allnoconfig" 1 'no Kconfig file defines 64BIT' \
	env PROG=tests bash -c 'mkdir -p "$1/drivers/vfio/mdev" && : >"$1/drivers/vfio/mdev/.kunitconfig" &&
		cp "$3" "$1/Makefile" && . "$0/scripts/lib.sh" && TREE=$1 && kunit_make_small "$2"' \
	"$REPO" "$T/nokconfig" "$T/nokconfig-build" "$T/src/linux-source-6.12/Makefile"
[[ -d $T/nokconfig-build && ! -e $T/nokconfig-build/.config ]] && ok "run: ...and makes no .config" ||
	not_ok "run: ...and makes no .config"
echo CONFIG_FAKE_ALL_TESTS=y >>"$SD/.config"
expect "run: with a .config changed by another command, passes" 0 'all tests passed' run_fake "$REPO/scripts/run" --no-deps
! grep -q FAKE_ALL_TESTS "$SD/.config" && ok "run: ...and makes the small .config again" ||
	not_ok "run: ...and makes the small .config again"
n=$(wc -l <"$SD/config.times")
expect "run: an option allnoconfig does not set fails before the build, named" 6 \
	'not in .*/\.config after allnoconfig: CONFIG_EXPERT=y \(it has: nothing\)' \
	run_fake FAKE_NOCONF=CONFIG_EXPERT "$REPO/scripts/run" --no-deps
[[ $(wc -l <"$SD/config.times") -eq $n ]] && ok "run: ...without building" ||
	not_ok "run: ...without building"
expect "run: an option the build drops fails the build, named" 6 \
	'not in .*/\.config after the build: CONFIG_EXPERT=y \(it has: nothing\)' \
	run_fake FAKE_DROP=CONFIG_EXPERT "$REPO/scripts/run" --no-deps
expect "run: then, passes" 0 'all tests passed' run_fake "$REPO/scripts/run" --no-deps
expect "run: --normal builds kunit.py's default set and passes" 0 'all tests passed \(normal config\)' \
	run_fake "$REPO/scripts/run" --normal --no-deps
[[ -f $T/work/build/$MAINLINE-normal/kunit.py.builds &&
	! -e $T/work/build/$MAINLINE-normal/small.allconfig ]] &&
	ok "run: ...through kunit.py, in the normal build dir" || not_ok "run: ...through kunit.py, in the normal build dir"
expect "run: a failing case, exit 1" 1 'FAILED \(small config\)' run_fake FAKE_FAIL=1 "$REPO/scripts/run" --no-deps
expect "run: a warning in the kernel log, exit 7" 7 'WARNING: CPU: 0 PID: 1 at lib/foo.c:1' \
	run_fake FAKE_LOG=$'boot\nWARNING: CPU: 0 PID: 1 at lib/foo.c:1 foo+0x1/0x2\n' "$REPO/scripts/run" --no-deps
expect "run: known noise in the kernel log passes" 0 'all tests passed' \
	run_fake FAKE_LOG=$'Using a channel type which is configured out of UML\nsetup_one_line failed for device 3 : failed to parse channel pair\n' \
	"$REPO/scripts/run" --no-deps
expect "run: a patch that does not apply is named, with its hunk, exit 5" 5 \
	'0002-vfio-mdev-change-line-7.patch does not apply' run_fake PATCHES_DIR="$T/bad" "$REPO/scripts/run" --no-deps
grep -qE '^  > @@ -4,5 \+4,5 @@' "$T/err" && grep -q 'failing hunk in 0002' "$T/err" &&
	ok "run: the failing hunk is shown" || not_ok "run: the failing hunk is shown"
[[ ! -e $TREE/.git/rebase-apply ]] && ok "run: no rebase-apply left" || not_ok "run: no rebase-apply left"
# Both patches went to one git am (one author): the branch stays at the
# first, as a git am per patch left it, with nothing of the second.
[[ $(git -C "$TREE" log --format=%s base..series) == "vfio/mdev: change line 2" &&
	-z $(git -C "$TREE" status --porcelain) ]] &&
	ok "run: the branch stays at the patch before, the tree clean" ||
	not_ok "run: the branch has '$(git -C "$TREE" log --format=%s base..series | tr '\n' ' ')'," \
		"status '$(git -C "$TREE" status --porcelain | tr '\n' ' ')'"

# A conflict in the three-way merge of the second patch, which adds a
# file: named; the branch stays at the first patch, and neither the
# conflict nor the added file is left in the tree.
expect "run: a patch whose three-way merge conflicts is named, exit 5" 5 \
	'0002-vfio-mdev-change-line-2-otherwise-add-new.c.patch does not apply' \
	run_fake PATCHES_DIR="$T/conflict" "$REPO/scripts/run" --no-deps
[[ $(git -C "$TREE" log --format=%s base..series) == "vfio/mdev: change line 2" &&
	-z $(git -C "$TREE" status --porcelain) && -z $(git -C "$TREE" ls-files -o) &&
	! -e $TREE/drivers/vfio/mdev/new.c && ! -e $TREE/.git/rebase-apply ]] &&
	ok "run: after a conflict, the branch stays at the patch before, the tree clean" ||
	not_ok "run: after a conflict: '$(git -C "$TREE" log --format=%s base..series | tr '\n' ' ')'," \
		"status '$(git -C "$TREE" status --porcelain | tr '\n' ' ')', untracked '$(git -C "$TREE" ls-files -o | tr '\n' ' ')'"
# A file of two messages before a patch that does not apply: git am
# counts messages, not files; the files go to one git am each, and the
# one that does not apply is named.
mkdir "$T/twomsg"
cat "$T/good"/0001-*.patch "$T/good"/0002-*.patch >"$T/twomsg/0001-two-messages.patch"
cp "$T/bad"/0002-*.patch "$T/twomsg/"
expect "run: after a file of two messages, the patch that does not apply is named" 5 \
	'0002-vfio-mdev-change-line-7.patch does not apply' \
	run_fake PATCHES_DIR="$T/twomsg" "$REPO/scripts/run" --no-deps
[[ $(git -C "$TREE" log --format=%s base..series | wc -l) -eq 2 && -z $(git -C "$TREE" status --porcelain) ]] &&
	ok "run: ...and the two messages before it are applied" ||
	not_ok "run: after a file of two messages: '$(git -C "$TREE" log --format=%s base..series | tr '\n' ' ')'"
# A series of two authors: each patch is committed by its own.
mkdir "$T/two"
cp "$T/good"/* "$T/two"/
sed -i 's/^From: .*/From: Other Author <other@localhost>/' "$T/two"/0002-*.patch
run_fake PATCHES_DIR="$T/two" "$REPO/scripts/run" --no-deps >/dev/null 2>&1 || true
[[ $(git -C "$TREE" log --reverse --format='%an <%ae> %cn <%ce>' base..series | tr '\n' '|') == \
	'tester <tester@localhost> tester <tester@localhost>|Other Author <other@localhost> Other Author <other@localhost>|' ]] &&
	ok "run: a series of two authors: each patch committed by its own author" ||
	not_ok "run: a series of two authors: $(git -C "$TREE" log --reverse --format='%an <%ae> %cn <%ce>' base..series | tr '\n' '|')"

# ---- export
mkdir "$T/exp1" "$T/exp2"
prefix=$(PROG=tests bash -c '. "$0/scripts/lib.sh" && series_prefix' "$REPO")
run_fake "$REPO/scripts/run" --no-deps 2>/dev/null
expect "export: writes the series" 0 'wrote 3 files' run_fake "$REPO/scripts/export" -o "$T/exp1"
! grep -q "^base-commit:" "$T/exp1/0000-cover-letter.patch" && ! grep -q 'SUBJECT HERE' "$T/exp1/0000-cover-letter.patch" &&
	grep -qF "Subject: [$prefix 0/" "$T/exp1/0000-cover-letter.patch" &&
	ok "export: cover letter filled, [$prefix] subject, no base-commit trailer" ||
	not_ok "export: cover letter filled, [$prefix] subject, no base-commit trailer"
sleep 1 # another second in the Message-Ids, were they not pinned
run_fake PATCHES_DIR="$T/exp1" "$REPO/scripts/run" --no-deps 2>/dev/null
run_fake "$REPO/scripts/export" -o "$T/exp2" 2>/dev/null
diff -r "$T/exp1" "$T/exp2" >/dev/null && ok "export: round trip is byte for byte" || not_ok "export: round trip is byte for byte"
# A user's format.useAutoBase changes nothing (this branch has no upstream).
run_fake GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=format.useAutoBase GIT_CONFIG_VALUE_0=true \
	"$REPO/scripts/export" -o "$T/exp5" 2>/dev/null || true
diff -r "$T/exp1" "$T/exp5" >/dev/null && ok "export: the same with a user's format.useAutoBase" ||
	not_ok "export: the same with a user's format.useAutoBase"
# The trees are shared by the clones: another clone's export refuses the
# series this one applied.
mkdir -p "$T/other"
cp -r "$REPO/scripts" "$REPO/cover-letter.txt" "$T/other/"
expect "export: another clone's series is refused, exit 4" 4 'not the one of this clone' \
	run_fake "$T/other/scripts/export" -o "$T/exp3"
[[ ! -e $T/exp3 ]] && ok "export: nothing written for another clone's series" ||
	not_ok "export: nothing written for another clone's series"

# ---- interruptions
# Killed during extraction: a half tree in a temp dir of the cache, never
# at the entry's path.
rm -rf "$T/work" "$CACHE"
mkdir -p "$T/slow"
printf '#!/bin/sh\n/bin/tar "$@"; sleep 30\n' >"$T/slow/tar"
chmod +x "$T/slow/tar"
setsid env PATH="$T/slow:$PATH" WORK_DIR="$T/work" BASE_TARBALL="$T/fake.tar.xz" PATCHES_DIR="$T/good" \
	"$REPO/scripts/run" --no-deps 2>/dev/null &
pid=$!
for _ in $(seq 100); do compgen -G "$CACHE/trees/tmp.*/src/Makefile" >/dev/null && break; sleep 0.1; done
kill -KILL -- -"$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
! compgen -G "$CACHE/trees/*.git" >/dev/null && [[ ! -e $TREE ]] &&
	ok "interrupted extraction leaves no cache entry and no tree" || not_ok "interrupted extraction leaves no cache entry and no tree"
expect "a run after an interrupted extraction succeeds" 0 'all tests passed' run_fake "$REPO/scripts/run" --no-deps
# The new entry's files became the tree: a file the series does not touch
# is older than the entry's marker (tree_reset's checkout did not write it
# again: the moved index matched it), the tree is clean, and every file
# of the tarball is in the base.
ENTRY=$(compgen -G "$CACHE/trees/tarball-*.git")
older() {
	local a b
	a=$(stat -c %.9Y "$1") b=$(stat -c %.9Y "$2")
	((${a/./} < ${b/./}))
}
grep -q 'the files the base was committed from' "$T/err" && git -C "$TREE" diff-files --quiet &&
	older "$TREE/Makefile" "$ENTRY/mdev-pipeline-base" &&
	[[ -z $(git -C "$TREE" status --porcelain) ]] && git -C "$TREE" diff-index --quiet HEAD &&
	[[ $(git -C "$TREE" ls-tree -r --name-only base | wc -l) -eq $(tar -tf "$T/fake.tar.xz" | grep -vc '/$') ]] &&
	ok "the tree is the extracted files, clean, every file in the base" ||
	not_ok "the tree is the extracted files, clean, every file in the base"
# Where the files cannot be renamed into the tree, it is checked out.
rm -rf "$CACHE" "$TREE"
expect "a run that cannot rename the new entry's files into the tree passes" 0 'all tests passed' \
	run_fake MDEV_PIPELINE_NO_RENAME=1 "$REPO/scripts/run" --no-deps
! grep -q 'the files the base was committed from' "$T/err" && [[ -z $(git -C "$TREE" status --porcelain) ]] &&
	[[ $(git -C "$TREE" rev-parse base) == "$base1" ]] && ! compgen -G "$CACHE/trees/tmp.*" >/dev/null &&
	ok "...its tree is a clean checkout of the same base, no temp dir left" ||
	not_ok "...its tree is a clean checkout of the same base, no temp dir left"
[[ $(git -C "$TREE" rev-parse base) == "$base1" ]] && ok "the base commit is the same" || not_ok "the base commit is the same"
! compgen -G "$CACHE/trees/tmp.*" >/dev/null && ! compgen -G "$T/work/tmp.*" >/dev/null &&
	ok "no temp tree left" || not_ok "no temp tree left"

# Killed during git am: a hook holds git am in the middle of the series.
printf '#!/bin/sh\nsleep 30\n' >"$TREE/.git/hooks/applypatch-msg"
chmod +x "$TREE/.git/hooks/applypatch-msg"
setsid env WORK_DIR="$T/work" BASE_TARBALL="$T/fake.tar.xz" PATCHES_DIR="$T/good" \
	"$REPO/scripts/run" --no-deps 2>/dev/null &
pid=$!
for _ in $(seq 100); do [[ -d $TREE/.git/rebase-apply ]] && break; sleep 0.1; done
kill -KILL -- -"$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
rm "$TREE/.git/hooks/applypatch-msg"
[[ -d $TREE/.git/rebase-apply ]] && ok "killed in git am (rebase-apply left)" || not_ok "killed in git am (rebase-apply left)"
expect "a run after an interrupted git am succeeds" 0 'all tests passed' run_fake "$REPO/scripts/run" --no-deps
[[ $(git -C "$TREE" rev-list --count base..series) -eq 2 ]] && ok "the series is applied once" || not_ok "the series is applied once"

# ---- the base cache: one entry per base, shared by work dirs and clones
expect "cache: another work dir reuses the cached base, no extraction" 0 'all tests passed' \
	run_fake WORK_DIR="$T/work2" "$REPO/scripts/run" --no-deps
! grep -q 'extracting' "$T/err" && [[ $(git -C "$T/work2/linux-$MAINLINE" rev-parse base) == "$base1" ]] &&
	grep -qx "$CACHE/trees/tarball-.*\.git/objects" "$T/work2/linux-$MAINLINE/.git/objects/info/alternates" &&
	ok "cache: the second tree is a shared clone of the same base" || not_ok "cache: the second tree is a shared clone of the same base"

# ---- the kernel work dir: without WORK_DIR, the trees and build dirs of
# every clone are in the cache's work/, the logs in the clone's .work/
for c in c1 c2; do
	mkdir -p "$T/$c"
	cp -r "$REPO/scripts" "$REPO/kunit" "$REPO/Kconfig.fragment" "$REPO/cover-letter.txt" "$T/$c/"
done
# clone_run CLONE CMD ARGS...: a command of that clone, without WORK_DIR.
clone_run() {
	local c=$1 cmd=$2
	shift 2
	env BASE_TARBALL="$T/fake.tar.xz" PATCHES_DIR="$T/good" "$T/$c/scripts/$cmd" "$@"
}
KT=$CACHE/work/linux-$MAINLINE
expect "work dir: a clone's run passes" 0 'all tests passed' clone_run c1 run --no-deps
[[ -d $KT/.git && -d $CACHE/work/build/$MAINLINE-small && -d $T/c1/.work/logs && ! -e $T/c1/.work/linux-$MAINLINE ]] &&
	ok "work dir: tree and build dir in the cache's work/, logs in the clone's .work/" ||
	not_ok "work dir: tree and build dir in the cache's work/, logs in the clone's .work/"
exec {held}>"$CACHE/work.lock"
flock "$held"
expect "work dir: another clone's command refuses while one runs, exit 4" 4 'a command of another clone is using' \
	clone_run c2 run --no-deps
exec {held}>&-
# A mark of a command that is gone, on a clean tree: the next run writes
# its own and takes it back.
echo "a gone command's token" >"$(git -C "$CACHE/work/linux-$MAINLINE" rev-parse --absolute-git-dir)/mdev-pipeline-busy"
expect "work dir: the other clone's run passes after it" 0 'all tests passed' clone_run c2 run --no-deps
expect "work dir: the first clone's export refuses the other's series, exit 4" 4 'not the one of this clone' \
	clone_run c1 export -o "$T/exp4"
KGD=$(git -C "$KT" rev-parse --absolute-git-dir) # the shared tree's git dir
[[ ! -e $KGD/mdev-pipeline-busy ]] && ok "work dir: a run that ended takes back its busy mark, written over a stale one" ||
	not_ok "work dir: a run that ended takes back its busy mark, written over a stale one"
mkdir "$KGD/rebase-apply"
expect "work dir: a git am of another clone under way is kept, exit 4" 4 'has a git am under way or changes of the clone' \
	clone_run c1 run --no-deps
[[ -d $KGD/rebase-apply ]] && ok "work dir: the git am is still there" ||
	not_ok "work dir: the git am is still there"
rmdir "$KGD/rebase-apply"
echo "by hand" >>"$KT/Makefile"
expect "work dir: a change of another clone in the tree is kept, exit 4" 4 'has a git am under way or changes of the clone' \
	clone_run c1 run --no-deps
grep -q "by hand" "$KT/Makefile" && ok "work dir: the change is still there" || not_ok "work dir: the change is still there"
# scripts/send checks out a branch of its own in the tree: the same guard.
# send_untouched: the tree is on the series branch, send made no branch
# of its own there and wrote no mails.
send_untouched() {
	[[ $(git -C "$KT" symbolic-ref --short HEAD) == series ]] &&
		! git -C "$KT" rev-parse -q --verify refs/heads/series-send >/dev/null && [[ ! -e $T/send1 ]]
}
[[ $(cat "$KGD/mdev-pipeline-clone") == "$T/c2" ]] &&
	ok "send: (the tree is the other clone's)" || not_ok "send: (the tree is the other clone's)"
expect "send: a change of another clone in the tree is kept, exit 4" 4 'has a git am under way or changes of the clone' \
	clone_run c1 send --no-deps -o "$T/send1"
grep -q "by hand" "$KT/Makefile" && send_untouched &&
	ok "send: the change, the branch and the series are as they were; no mails" ||
	not_ok "send: the change, the branch and the series are as they were; no mails"
git -C "$KT" checkout -q Makefile
[[ -z $(git -C "$KT" status --porcelain) ]] && ok "send: (the tree is clean again)" || not_ok "send: (the tree is clean again)"
mkdir "$KGD/rebase-apply"
expect "send: a git am of another clone under way is kept, exit 4" 4 'has a git am under way or changes of the clone' \
	clone_run c1 send --no-deps -o "$T/send1"
[[ -d $KGD/rebase-apply ]] && send_untouched &&
	ok "send: the git am, the branch and the series are as they were; no mails" ||
	not_ok "send: the git am, the branch and the series are as they were; no mails"
rmdir "$KGD/rebase-apply"
expect "work dir: the first clone runs again" 0 'all tests passed' clone_run c1 run --no-deps
# hold_start [MODE]: a run of the other clone in a session of its own,
# held in the fake kunit.py (FAKE_HOLD_MODE=MODE); sets held, its pid.
hold_start() {
	rm -f "$T/held" "$T/held.go" "$KGD"/mdev-pipeline-dropped.*.diff
	setsid env FAKE_HOLD="$T/held" FAKE_HOLD_MODE="${1:-}" BASE_TARBALL="$T/fake.tar.xz" PATCHES_DIR="$T/good" \
		"$T/c2/scripts/run" --no-deps >"$T/held.out" 2>&1 </dev/null &
	held=$!
	for _ in $(seq 300); do
		[[ ! -e $T/held ]] || break
		sleep 0.1
	done
}
# hold_end: wait for the held run and every process of its group.
hold_end() {
	wait "$held" || true
	for _ in $(seq 100); do
		kill -0 -- "-$held" 2>/dev/null || break
		sleep 0.1
	done
}
# dropped_ok WHAT: the killed run's change and the busy mark are gone,
# and the guard kept one copy, which holds the change (hold_start
# removed the copies kept before).
dropped_ok() {
	local f=("$KGD"/mdev-pipeline-dropped.*.diff)
	! grep -q "left by a killed run" "$KT/drivers/vfio/mdev/mdev_core.c" && [[ ! -e $KGD/mdev-pipeline-busy ]] &&
		[[ ${#f[@]} -eq 1 && -f ${f[0]} ]] && grep -q "^+left by a killed run" "${f[0]}" &&
		ok "work dir: the change is gone, and so is the busy mark; the copy holds the change ($1)" ||
		not_ok "work dir: the change is gone, and so is the busy mark; the copy holds the change ($1)"
}
# A run of the other clone killed in the middle of its work (the fake
# kunit.py changes a file, then waits) by SIGKILL, which runs no trap, or
# SIGTERM, whose EXIT trap keeps the busy mark of a tree with changes:
# the next run keeps a copy of what it left and drops it.
for sig in KILL TERM; do
	hold_start
	kill -"$sig" -- "-$held" 2>/dev/null || true
	hold_end
	[[ -e $T/held && -e $KGD/mdev-pipeline-busy ]] && grep -q "left by a killed run" "$KT/drivers/vfio/mdev/mdev_core.c" &&
		ok "work dir: a run killed by SIG$sig leaves its change and its busy mark" ||
		not_ok "work dir: a run killed by SIG$sig leaves its change and its busy mark"
	expect "work dir: a run after one of another clone killed by SIG$sig drops what it left, keeping a copy" 0 \
		'ended in the middle of its work.*a copy: .*mdev-pipeline-dropped\.[0-9]+\.diff' clone_run c1 run --no-deps
	dropped_ok "SIG$sig"
done
# SIGTERM to the run's pid alone: the fake kunit.py goes on and changes
# the tree after it; the run ends once it has ended, so its EXIT trap
# sees the change and keeps the mark.
hold_start late
kill -TERM "$held" 2>/dev/null || true
sleep 0.5
kill -0 "$held" 2>/dev/null && ok "work dir: a run sent SIGTERM alone waits for its kunit.py" ||
	not_ok "work dir: a run sent SIGTERM alone waits for its kunit.py"
touch "$T/held.go"
hold_end
[[ -e $KGD/mdev-pipeline-busy ]] && grep -q "left by a killed run" "$KT/drivers/vfio/mdev/mdev_core.c" &&
	ok "work dir: a run sent SIGTERM alone ends after its kunit.py, which changed the tree, and keeps its busy mark" ||
	not_ok "work dir: a run sent SIGTERM alone ends after its kunit.py, which changed the tree, and keeps its busy mark"
# A copy that cannot be made (a git that fails with the copy's object
# dir): nothing is dropped.
mkdir -p "$T/gitfail"
real_git=$(command -v git)
cat >"$T/gitfail/git" <<EOF
#!/bin/bash
[[ -z \${GIT_OBJECT_DIRECTORY:-} ]] || exit 1
exec "$real_git" "\$@"
EOF
chmod +x "$T/gitfail/git"
expect "work dir: a run that cannot keep a copy of what a killed run left stops, exit 4" 4 'no copy of them could be kept' \
	env PATH="$T/gitfail:$PATH" BASE_TARBALL="$T/fake.tar.xz" PATCHES_DIR="$T/good" "$T/c1/scripts/run" --no-deps
f=("$KGD"/mdev-pipeline-dropped.*)
[[ -e $KGD/mdev-pipeline-busy && ! -e ${f[0]} ]] && grep -q "left by a killed run" "$KT/drivers/vfio/mdev/mdev_core.c" &&
	ok "work dir: ...the change and the busy mark are still there, no copy or temp dir left" ||
	not_ok "work dir: ...the change and the busy mark are still there, no copy or temp dir left: ${f[*]}"
expect "work dir: a run after it drops what it left, keeping a copy" 0 'ended in the middle of its work' clone_run c1 run --no-deps
dropped_ok "SIGTERM alone"
# SIGTERM while the tree is clean: the EXIT trap takes the mark back.
hold_start clean
kill -TERM -- "-$held" 2>/dev/null || true
hold_end
[[ -e $T/held && ! -e $KGD/mdev-pipeline-busy && -z $(git -C "$KT" status --porcelain) ]] &&
	ok "work dir: a run killed by SIGTERM with its tree clean takes back its busy mark" ||
	not_ok "work dir: a run killed by SIGTERM with its tree clean takes back its busy mark"
# A git am under way and no change, left by a command of the other
# clone, and the temp files of a copy that was killed: the git am is
# moved aside and named, no empty diff is kept, the temp files go.
printf '%s\n' "$T/c2" >"$KGD/mdev-pipeline-clone"
echo "a gone command's token" >"$KGD/mdev-pipeline-busy"
rm -rf "$KGD"/mdev-pipeline-dropped*
mkdir "$KGD/rebase-apply" "$KGD/mdev-pipeline-dropped.AbC123"
echo "a patch" >"$KGD/rebase-apply/0001"
touch "$KGD/mdev-pipeline-dropped.1.diff.tmp" "$KGD/mdev-pipeline-dropped.1733200000123456.diff"
mkdir "$KGD/mdev-pipeline-dropped-am.1733200000123456"
expect "work dir: a git am of a killed command of another clone is moved aside and named" 0 \
	'a copy: [^ ]*/mdev-pipeline-dropped-am\.[0-9]+\)' clone_run c1 run --no-deps
f=("$KGD"/mdev-pipeline-dropped*)
am='' # the git am's copy: the one not made above
for d in "$KGD"/mdev-pipeline-dropped-am.*; do
	[[ $d == */mdev-pipeline-dropped-am.1733200000123456 ]] || am=$d
done
[[ ${#f[@]} -eq 3 && -e $KGD/mdev-pipeline-dropped.1733200000123456.diff && -d $KGD/mdev-pipeline-dropped-am.1733200000123456 ]] &&
	[[ -f $am/0001 && ! -e $KGD/rebase-apply ]] &&
	ok "work dir: ...its files kept, earlier copies kept, no rebase-apply, no empty diff, no temp files left" ||
	not_ok "work dir: ...its files kept, earlier copies kept, no rebase-apply, no empty diff, no temp files left: ${f[*]}"

# ---- scripts/send, dry run: the series of a project identity in a
# reserved domain, signed off by a co-developer whose name has a comma
# and by one whose name has quotes and a backslash too, one patch for
# stable.
series_repo "$T/src/linux-source-6.12" "$T/ps"
sed -i 's/line 3/line 3 sent/' "$T/ps/drivers/vfio/mdev/mdev_core.c"
GIT_AUTHOR_NAME=Project GIT_AUTHOR_EMAIL=project@h.example git -C "$T/ps" commit -q -a -m "vfio/mdev: change line 3" \
	-m "Cc: stable@vger.kernel.org # v6.1+
Signed-off-by: Dev, Co <codev@kernel.org>
Signed-off-by: A \"B\" C\\ <x@kernel.org>
Signed-off-by: Project <project@h.example>"
sed -i 's/line 5/line 5 sent/' "$T/ps/drivers/vfio/mdev/mdev_core.c"
GIT_AUTHOR_NAME=Project GIT_AUTHOR_EMAIL=project@h.example git -C "$T/ps" commit -q -a -m "vfio/mdev: change line 5" \
	-m "Signed-off-by: Project <project@h.example>"
mkdir "$T/sendseries"
git -C "$T/ps" format-patch -q --thread --cover-letter -o "$T/sendseries" base..HEAD
# send_run [KEY=VALUE...] -- ARGS...: clone c1's scripts/send of that
# series as Sub Mitter, with the git config KEY=VALUE of a user.
send_run() {
	local kv=(user.name="Sub Mitter" user.email=sub@kernel.org) e=() i
	while [[ $1 != -- ]]; do kv+=("$1"); shift; done
	shift
	for i in "${!kv[@]}"; do
		e+=("GIT_CONFIG_KEY_$i=${kv[$i]%%=*}" "GIT_CONFIG_VALUE_$i=${kv[$i]#*=}")
	done
	env BASE_TARBALL="$T/fake.tar.xz" PATCHES_DIR="${SEND_SERIES:-$T/sendseries}" GIT_CONFIG_COUNT=${#kv[@]} "${e[@]}" \
		"$T/c1/scripts/send" "$@"
}
# rcpt N: the addresses git send-email's dry run names for mail N (1: the
# cover letter), sorted, on one line.
rcpt() { awk -v n="$1" '/^MAIL FROM:/ { m++ } m == n && /^RCPT TO:/ { sub(/^RCPT TO:/, ""); print }' "$T/send.out" | sort | tr '\n' ' '; }
want="<alex@shazbot.org> <codev@kernel.org> <kvm@vger.kernel.org> <linux-kernel@vger.kernel.org> <x@kernel.org> "
# recipients_ok: mails 1 and 3 to $want, mail 2 (the patch for stable)
# also to stable@ (not to you, whom get_maintainer.pl names in upper
# case); To: is the list alone; the name with quotes and a backslash is
# escaped in Cc:.
recipients_ok() {
	[[ $(rcpt 1) == "$want" && $(rcpt 3) == "$want" &&
		$(rcpt 2) == "${want/<x@/<stable@vger.kernel.org> <x@}" ]] &&
		[[ $(grep -c '^To: kvm@vger.kernel.org$' "$T/send.out") -eq 3 && $(grep -c '^To: ' "$T/send.out") -eq 3 ]] &&
		[[ $(grep -cF '"A \"B\" C\\" <x@kernel.org>' "$T/send.out") -eq 3 ]]
}
if [[ -x $(git --exec-path)/git-send-email ]] && perl -MMail::Address -e 1 2>/dev/null; then
	expect "send: a dry run passes and sends nothing" 0 'dry run only: nothing was sent' send_run -- --no-deps -o "$T/mails"
	cp "$T/out" "$T/send.out"
	mails=("$T/mails"/*.patch)
	[[ ${#mails[@]} -eq 3 ]] && ok "send: a cover letter and two patches" || not_ok "send: a cover letter and two patches (${#mails[@]} files)"
	bad=
	for m in "$T/mails"/000[12]-*.patch; do
		# The mail's header is from you; the body starts with the author's
		# From: line; the sign-offs end with yours, after the author's.
		[[ $(sed -n '/^From: /{p;q}' "$m") == "From: Sub Mitter <sub@kernel.org>" ]] || bad+=" header-from"
		[[ $(sed -n '/^$/,${/./{p;q}}' "$m") == "From: Project <project@h.example>" ]] || bad+=" body-from"
		[[ $(grep '^Signed-off-by: ' "$m" | tail -n 2 | tr '\n' '|') == "Signed-off-by: Project <project@h.example>|Signed-off-by: Sub Mitter <sub@kernel.org>|" ]] ||
			bad+=" sign-off"
	done
	[[ -z $bad ]] && ok "send: each patch is from you, keeps its author in the body, ends with your sign-off" ||
		not_ok "send: each patch is from you, keeps its author in the body, ends with your sign-off:$bad"
	! grep -q '^base-commit:' "${mails[@]}" && ok "send: no base-commit: trailer for the tarball's base" ||
		not_ok "send: no base-commit: trailer for the tarball's base"
	! grep -qi 'sub@kernel.org' <(grep '^send: Cc: ' "$T/err") && ok "send: its Cc: line leaves you out, named in another case" ||
		not_ok "send: its Cc: line leaves you out, named in another case: $(grep '^send: Cc: ' "$T/err")"
	recipients_ok && ok "send: To the list, Cc the maintainers and the co-developer, stable on its patch; not the reserved domain" ||
		not_ok "send: recipients: cover: $(rcpt 1); 1: $(rcpt 2); 2: $(rcpt 3); $(grep '^To: ' "$T/send.out" | tr '\n' ' ')"
	[[ $(git -C "$KT" symbolic-ref --short HEAD) == series && -z $(git -C "$KT" status --porcelain) ]] &&
		ok "send: the tree is back on the series branch, clean" || not_ok "send: the tree is back on the series branch, clean"
	# What a command of the other clone killed in the middle of a git am
	# leaves: its busy mark, the git am under way, a change.
	printf '%s\n' "$T/c2" >"$KGD/mdev-pipeline-clone"
	echo "other-clone-token" >"$KGD/mdev-pipeline-busy"
	rm -rf "$KGD"/mdev-pipeline-dropped*
	mkdir "$KGD/rebase-apply"
	echo "left by a killed am" >>"$KT/Makefile"
	expect "send: after a command of another clone killed in a git am, a dry run drops what it left and passes" 0 \
		'ended in the middle of its work' send_run -- --no-deps -o "$T/mails"
	[[ ! -d $KGD/rebase-apply && ! -e $KGD/mdev-pipeline-busy && -z $(git -C "$KT" status --porcelain) ]] &&
		ok "send: ...no git am under way, no busy mark, a clean tree" ||
		not_ok "send: ...no git am under way, no busy mark, a clean tree"
	am_kept=("$KGD"/mdev-pipeline-dropped-am.*)
	[[ ${#am_kept[@]} -eq 1 && -d ${am_kept[0]} ]] && grep -q "^+left by a killed am" "$KGD"/mdev-pipeline-dropped.*.diff &&
		ok "send: ...a copy of the git am under way and of the change kept" ||
		not_ok "send: ...a copy of the git am under way and of the change kept"
	# A user's git config: an automatic base, copies to signers, no
	# suppression of the sender, a cc command, a suppressCc of their own.
	expect "send: with a user's format.useAutoBase, signedOffByCc, suppressFrom=false, cccmd, suppressCc" 0 \
		'your sendemail.suppresscc \(misc-by\) also applies' \
		send_run format.useAutoBase=true sendemail.signedOffByCc=true sendemail.suppressFrom=false \
		sendemail.cccmd="true; echo cc@h.example; :" sendemail.suppressCc=misc-by -- --no-deps -o "$T/mails"
	cp "$T/out" "$T/send.out"
	recipients_ok && ! grep -q '^base-commit:' "$T/mails"/*.patch &&
		ok "send: ...the same recipients, no base-commit:" ||
		not_ok "send: ...recipients: cover: $(rcpt 1); 1: $(rcpt 2); 2: $(rcpt 3); $(grep '^To: ' "$T/send.out" | tr '\n' ' ')"
	# The suppressCc of the user's sendemail.identity, which git send-email
	# reads instead of the plain one; one that drops nothing of ours.
	expect "send: the suppressCc of the user's sendemail.identity is named" 0 \
		'your sendemail.w.suppresscc \(bodycc\) also applies' \
		send_run sendemail.identity=w sendemail.w.suppressCc=bodycc sendemail.suppressCc=misc-by -- --no-deps -o "$T/mails"
	expect "send: no warning for a suppressCc of self" 0 'dry run only' \
		send_run sendemail.suppressCc=self -- --no-deps -o "$T/mails"
	! grep -q 'also applies' "$T/err" && ok "send: ...none" || not_ok "send: ...none"
	# Trailers other than a sign-off with a reserved address, in any case,
	# with a comment after the address: refused before the tree is touched.
	mkdir "$T/sendreserved"
	cp "$T/sendseries"/*.patch "$T/sendreserved"/
	sed -i '0,/^Signed-off-by: Project/s//CC: other@h.example, d@kernel.org\n&/' "$T/sendreserved"/0001-*.patch
	sed -i '0,/^Signed-off-by: Project/s//Reported-By: Rep <rep@h.example> # x\n&/' "$T/sendreserved"/0002-*.patch
	git -C "$KT" branch -q -D series-send 2>/dev/null || true
	SEND_SERIES=$T/sendreserved expect "send: a Reported-By: in a reserved domain is refused, exit 1" 1 \
		'0002-vfio-mdev-change-line-5.patch: Reported-By: Rep <rep@h.example> # x$' send_run -- --no-deps -o "$T/mails-reserved"
	grep -q '0001-vfio-mdev-change-line-3.patch: CC: other@h.example, d@kernel.org$' "$T/err" &&
		ok "send: ...and a CC: of two addresses, the first in one, named too" ||
		not_ok "send: ...and a CC: of two addresses, the first in one, named too"
	# refused_cleanly NAME: a refused send left no mails, no branch of its
	# own, and the tree on the series branch.
	refused_cleanly() {
		[[ ! -e $T/mails-reserved ]] && ! git -C "$KT" rev-parse -q --verify refs/heads/series-send >/dev/null &&
			[[ $(git -C "$KT" symbolic-ref --short HEAD) == series ]] && ok "$1" || not_ok "$1"
	}
	refused_cleanly "send: ...no mails, no branch of its own"
	# A reserved address in the notes after "---" never reaches a mail
	# (git am drops the notes; format-patch makes the mails anew): no
	# refusal, no copy.
	mkdir "$T/sendnotes"
	cp "$T/sendseries"/*.patch "$T/sendnotes"/
	sed -i '0,/^---$/s//---\nTested-by: T <t@h.example>/' "$T/sendnotes"/0001-*.patch
	SEND_SERIES=$T/sendnotes expect "send: a Tested-by: in a reserved domain in the notes after \"---\" passes" 0 \
		'dry run only: nothing was sent' send_run -- --no-deps -o "$T/mails-notes"
	! grep -q 't@h.example' "$T/out" && ok "send: ...and copies no mail to it" ||
		not_ok "send: ...and copies no mail to it: $(grep 't@h.example' "$T/out" | head -n 3)"
	# A patch file of two messages: the commit message of the second is
	# scanned too.
	mkdir "$T/sendtwo"
	cp "$T/sendseries"/0000-*.patch "$T/sendtwo"/
	sed '0,/^Signed-off-by: Project/s//Reported-by: R <r@h.example>\n&/' "$T/sendseries"/0002-*.patch |
		cat "$T/sendseries"/0001-*.patch - >"$T/sendtwo/0001-two.patch"
	git -C "$KT" branch -q -D series-send 2>/dev/null || true
	SEND_SERIES=$T/sendtwo expect "send: a Reported-by: in a reserved domain in a file's second message is refused, exit 1" 1 \
		'0001-two.patch: Reported-by: R <r@h.example>$' send_run -- --no-deps -o "$T/mails-reserved"
	# The cover letter's text: a Cc: right after the subject line.
	cp "$T/c1/cover-letter.txt" "$T/cover-letter.txt.orig"
	sed -i '1a Cc: c@h.example' "$T/c1/cover-letter.txt"
	expect "send: a Cc: in a reserved domain in cover-letter.txt is refused, exit 1" 1 \
		'cover-letter.txt: Cc: c@h.example$' send_run -- --no-deps -o "$T/mails-reserved"
	: >"$T/c1/cover-letter.txt"
	expect "send: an empty cover-letter.txt stops it, exit 2" 2 \
		'cover-letter.txt is missing or empty' send_run -- --no-deps -o "$T/mails-reserved"
	mv "$T/cover-letter.txt.orig" "$T/c1/cover-letter.txt"
	refused_cleanly "send: ...after the second message, the cover letter and the empty one: no mails, no branch of its own"
	# A base of the user's KERNEL_DIR checkout: named in base-commit:.
	expect "send: (the series applied with KERNEL_DIR)" 0 'all tests passed' env KERNEL_DIR="$T/user" \
		KERNEL_BASE=origin/base BASE_TARBALL="$T/fake.tar.xz" PATCHES_DIR="$T/sendseries" "$T/c1/scripts/run" --no-deps
	KERNEL_DIR=$T/user KERNEL_BASE=origin/base expect "send: with KERNEL_DIR, a dry run passes" 0 \
		'dry run only: nothing was sent' send_run -- --no-deps -o "$T/mails-kd"
	[[ $(sed -n 's/^base-commit: //p' "$T/mails-kd"/0000-*.patch) == "$(git -C "$T/user" rev-parse origin/base)" ]] &&
		ok "send: ...base-commit: names KERNEL_BASE of the checkout" || not_ok "send: ...base-commit: names KERNEL_BASE of the checkout"
	# --no-deps: no dpkg or apt command at all (spies that log and fail
	# stand in for them; dpkg-deb is not among them: the base is the
	# tarball of BASE_TARBALL, no .deb); without it, send asks dpkg about
	# its packages.
	mkdir -p "$T/spy"
	for c in apt apt-get apt-cache dpkg dpkg-query; do
		printf '#!/bin/sh\necho "%s $*" >>"%s"\nexit 1\n' "$c" "$T/spy.log" >"$T/spy/$c"
		chmod +x "$T/spy/$c"
	done
	PATH=$T/spy:$PATH send_run -- --no-deps -o "$T/mails" >/dev/null 2>&1 && rc=0 || rc=$?
	PATH=$T/spy:$PATH clone_run c1 run --no-deps >/dev/null 2>&1 && rc2=0 || rc2=$?
	[[ $rc -eq 0 && $rc2 -eq 0 && ! -e $T/spy.log ]] && ok "--no-deps: send and run call no dpkg or apt" ||
		not_ok "--no-deps: send and run call no dpkg or apt (exit $rc, $rc2): $(cat "$T/spy.log" 2>/dev/null)"
	expect "send: without --no-deps it checks its packages (exit 3 when dpkg fails)" 3 'missing packages|apt-get update failed' \
		env PATH="$T/spy:$PATH" BASE_TARBALL="$T/fake.tar.xz" PATCHES_DIR="$T/sendseries" "$T/c1/scripts/send" -o "$T/mails"
	grep -q '^dpkg-query ' "$T/spy.log" && ok "send: ...through the dpkg-query spy" || not_ok "send: ...through the dpkg-query spy"
else
	not_ok "send: git send-email with Mail::Address is needed (Debian: git-email, libmailtools-perl; scripts/check installs them)"
fi
# The same series again: its files keep their times; another series: not.
touch -m -d @1000000000 "$KT/drivers/vfio/mdev/mdev_core.c"
expect "run: the same series again keeps the times of its files" 0 'keep their times' clone_run c1 run --no-deps
[[ $(stat -c %Y "$KT/drivers/vfio/mdev/mdev_core.c") == 1000000000 ]] && ok "run: mdev_core.c kept its time" ||
	not_ok "run: mdev_core.c kept its time"
env BASE_TARBALL="$T/fake.tar.xz" PATCHES_DIR="$T/one" "$T/c1/scripts/run" --no-deps >/dev/null 2>"$T/err" || true
! grep -q 'keep their times' "$T/err" && [[ $(stat -c %Y "$KT/drivers/vfio/mdev/mdev_core.c") != 1000000000 ]] &&
	ok "run: another series gets new times" || not_ok "run: another series gets new times"

# A temp dir left by a run killed after it made the entry (the files it
# was moving into the tree) is removed by the next run.
mkdir -p "$ENTRY/../tmp.$(basename "$ENTRY").killed/src"
expect "cache: a run after one killed with the entry made passes" 0 'all tests passed' run_fake "$REPO/scripts/run" --no-deps
! compgen -G "$CACHE/trees/tmp.*" >/dev/null && ok "cache: its temp dir is removed" || not_ok "cache: its temp dir is removed"

# damage DESCRIPTION COMMAND...: damage the entry, then a run must notice,
# make it again (same commit) and pass.
damage() {
	local what=$1
	shift
	"$@"
	expect "cache: $what is noticed and the entry made again" 0 'incomplete or damaged: making it again' \
		run_fake "$REPO/scripts/run" --no-deps
	if grep -q 'all tests passed' "$T/err" && [[ $(git --git-dir="$ENTRY" rev-parse base) == "$base1" ]] &&
		[[ $(git -C "$TREE" rev-parse base) == "$base1" ]]; then
		ok "cache: after $what, same base and the run passes"
	else
		not_ok "cache: after $what, same base and the run passes (entry: $(git --git-dir="$ENTRY" rev-parse base 2>&1)," \
			"tree: $(git -C "$TREE" rev-parse base 2>&1), want $base1; stderr:)"
		sed 's/^/#   /' "$T/err"
	fi
}
damage "a missing marker file" rm "$ENTRY/mdev-pipeline-base"
damage "a missing base ref" rm -f "$ENTRY/refs/heads/base" "$ENTRY/packed-refs"
# Half of the loose objects (the entry keeps them loose) and any pack.
rm_objects() {
	find "$ENTRY/objects" -path '*/objects/[0-9a-f][0-9a-f]/*' -type f | awk 'NR % 2' | xargs rm -f
	rm -f "$ENTRY"/objects/pack/*
}
damage "objects gone" rm_objects
damage "a marker naming another commit" sed -i 's/^commit .*/commit 0123456789012345678901234567890123456789/' "$ENTRY/mdev-pipeline-base"
git -C "$TREE" remote set-url origin /nowhere
printf '%s\n' /nowhere/objects >"$TREE/.git/objects/info/alternates"
expect "cache: a work tree that is no clone of the entry is made again" 0 "replacing $TREE" \
	run_fake "$REPO/scripts/run" --no-deps
grep -q 'all tests passed' "$T/err" && ok "cache: ...and the run passes" || not_ok "cache: ...and the run passes"

# ---- the preimage check: on the mainline base, the files the series
# changes must be those its patches were made on.
mkdir -p "$T/stale"
cp "$T/good"/*.patch "$T/stale"/
# 0001 now claims to start from another blob of mdev_core.c.
sed -i 's/^index [0-9a-f]*\.\./index 0123abc../' "$T/stale"/0001-*.patch
expect "preimage: a series made on other file versions stops with exit 8, naming the file" 8 \
	"the series needs a rebase onto 6.12.0-fake" run_fake PATCHES_DIR="$T/stale" "$REPO/scripts/run" --no-deps
grep -q 'drivers/vfio/mdev/mdev_core.c: the patches change blob 0123abc, the base has [0-9a-f]\{7\}$' "$T/err" &&
	ok "preimage: the file and both blob ids are named" || not_ok "preimage: the file and both blob ids are named"
[[ $(git -C "$TREE" rev-list --count base..series) -eq 0 ]] && ok "preimage: nothing was applied" ||
	not_ok "preimage: nothing was applied"
# 0002 changes the file 0001 changed: its index line starts from 0001's
# result, not from the base; that is no mismatch (the good series passes).
grep -q '^index ' "$T/good"/0002-*.patch && ok "preimage: the good series has a second patch of the same file, and passed above" ||
	not_ok "preimage: the good series has a second patch of the same file"
expect "preimage: not checked on a stable base" 0 'all tests passed' \
	run_fake BASE=6.12 PATCHES_DIR="$T/stale" "$REPO/scripts/run" --no-deps
expect "preimage: a KERNEL_DIR only warns" 0 'the series needs a rebase onto' \
	run_fake KERNEL_DIR="$T/user" KERNEL_BASE=origin/base PATCHES_DIR="$T/stale" "$REPO/scripts/run" --no-deps

echo "$FAILS failed"
[[ $FAILS -eq 0 ]]
