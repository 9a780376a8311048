# shellcheck shell=bash
# The setup that every part of the scripts' tests (part-*.sh, run by
# run-tests.sh) sources: a temp dir of the part's own, removed when it
# exits; a git config and a cache of .debs and base trees of the tests'
# own, never the user's; ok, not_ok and expect; a tiny fake kernel tree
# with a fake kunit.py, its tarball, and a series for it.
# "cond && ok ... || not_ok ...": ok always succeeds, so this is if/else.
# shellcheck disable=SC2015
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export GIT_AUTHOR_NAME=tester GIT_AUTHOR_EMAIL=tester@localhost
export GIT_COMMITTER_NAME=tester GIT_COMMITTER_EMAIL=tester@localhost
# git config of the tests' own: none of the user's hooks, templates or
# am.* settings; an identity for the commands that read it (send).
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=$T/gitconfig
git config --global user.name tester
git config --global user.email tester@localhost
unset KERNEL_DIR KERNEL_BASE PATCHES_DIR WORK_DIR BASE_TARBALL MDEV_PIPELINE_LOCKED MDEV_PIPELINE_RUN MDEV_PIPELINE_MARKED BASE KBUILD_LOCK \
	MAINLINE_PKG_VERSION BASE_APT_SOURCE
# The cache of .debs and base trees: a fresh one, never the user's.
export XDG_CACHE_HOME=$T/cache
# shellcheck disable=SC2034 # CACHE and MAINLINE: for the parts
CACHE=$T/cache/mdev-pipeline
# shellcheck disable=SC2034
MAINLINE=$(sed -n 's/^MAINLINE=//p' "$REPO/scripts/lib.sh")
# python3 resolved once: through a version manager's shim (pyenv here) a
# call costs half a second more, and the tests make about a hundred.
if py=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null) && [[ -x $py ]]; then
	mkdir -p "$T/bin"
	ln -s "$py" "$T/bin/python3"
	PATH=$T/bin:$PATH
fi

FAILS=0
ok() { echo "ok - $*"; }
not_ok() {
	echo "not ok - $*"
	FAILS=$((FAILS + 1))
}

# expect NAME CODE PATTERN CMD...: CMD exits with CODE and its stderr
# matches the extended regex PATTERN.
expect() {
	local name=$1 code=$2 pattern=$3 rc=0
	shift 3
	"$@" >"$T/out" 2>"$T/err" </dev/null || rc=$?
	if [[ $rc -eq $code ]] && grep -qE -- "$pattern" "$T/err"; then
		ok "$name"
	else
		not_ok "$name (exit $rc, want $code; stderr:)"
		sed 's/^/#   /' "$T/err"
	fi
}

# ---- a fake kernel: just what the scripts look at
make_fake_kernel() {
	local d=$1
	mkdir -p "$d/drivers/vfio/mdev" "$d/tools/testing/kunit"
	# "all" drops the option FAKE_DROP names from O's .config, as make's
	# syncconfig drops one whose dependencies are no longer met, leaves
	# the kernel and its release, and notes the times of mdev_core.c and
	# of the .config (times kbuild would compare); "olddefconfig" keeps
	# the last line of each option, as kconfig does; "allnoconfig" makes
	# O's .config of the options KCONFIG_ALLCONFIG sets (the last line of
	# each), without the one FAKE_NOCONF names (as one whose dependencies
	# are unmet), and leaves a .config that is the same untouched, as
	# kconfig does;
	# "modules_install" leaves the modules scripts/mdevctl-test boots with.
	cat >"$d/Makefile" <<'EOF'
kernelversion:
	@echo 6.12.0-fake
allnoconfig:
	@tac "$(KCONFIG_ALLCONFIG)" | awk '{ s = $$0; sub(/^# /, "", s); sub(/[= ].*/, "", s) } !seen[s]++ && /^CONFIG_/' | tac >"$(O)/.config.new"
	@[ -z "$(FAKE_NOCONF)" ] || sed -i "/^$(FAKE_NOCONF)=/d" "$(O)/.config.new"
	@if cmp -s "$(O)/.config.new" "$(O)/.config"; then rm "$(O)/.config.new"; else mv "$(O)/.config.new" "$(O)/.config"; fi
olddefconfig:
	@tac "$(O)/.config" | awk '{ s = $$0; sub(/^# /, "", s); sub(/[= ].*/, "", s) } !seen[s]++' | tac >"$(O)/.config.new"
	@mv "$(O)/.config.new" "$(O)/.config"
all:
	@[ -z "$(FAKE_DROP)" ] || sed -i "/^$(FAKE_DROP)=/d" "$(O)/.config"
	@mkdir -p "$(O)/include/config"
	@echo 6.12.0-fake >"$(O)/include/config/kernel.release"
	@touch "$(O)/linux"
	@stat -c %.9Y drivers/vfio/mdev/mdev_core.c >>"$(O)/mdev_core.times"
	@stat -c %.9Y "$(O)/.config" >>"$(O)/config.times"
modules_install:
	@for m in drivers/vfio/mdev/mdev drivers/vfio/mdev/tests/vfio_mdev_kunit samples/vfio-mdev/mtty samples/kmemleak/kmemleak-test; do \
		mkdir -p "$(INSTALL_MOD_PATH)/lib/modules/6.12.0-fake/kernel/$$(dirname $$m)" && \
		touch "$(INSTALL_MOD_PATH)/lib/modules/6.12.0-fake/kernel/$$m.ko"; done
EOF
	printf '/*\n' >"$d/.gitignore"
	# The options of kunit/small.config, but KUNIT_AUTORUN_ENABLED, as a
	# tree of 6.12 defines them (one a menuconfig, one indented).
	sed -n 's/^CONFIG_\([A-Za-z0-9_]*\)=.*/config \1/p' "$REPO/kunit/small.config" |
		sed '/^config KUNIT_AUTORUN_ENABLED$/d; s/^config EXPERT$/menuconfig EXPERT/; s/^config BUG$/\tconfig BUG/' >"$d/Kconfig"
	for i in 1 2 3 4 5 6 7 8; do echo "line $i"; done >"$d/drivers/vfio/mdev/mdev_core.c"
	# An executable script, a symlink to a file and one to a directory, a
	# name with a quote: the modes and names the base commit records.
	mkdir -p "$d/scripts" "$d/tools/odd"
	printf '#!/bin/sh\n' >"$d/scripts/tool.sh"
	chmod +x "$d/scripts/tool.sh"
	ln -s ../Makefile "$d/scripts/Makefile.link"
	ln -s ../drivers "$d/tools/drivers.link"
	echo x >"$d/tools/odd/a\"b"
	# get_maintainer.pl: the addresses scripts/send sends to (the last one
	# is the submitter of its tests, in another case).
	cat >"$d/scripts/get_maintainer.pl" <<'EOF'
print "Alex Williamson <alex\@shazbot.org>\nkvm\@vger.kernel.org\nlinux-kernel\@vger.kernel.org\nSub Mitter <SUB\@kernel.org>\n";
EOF
	cat >"$d/tools/testing/kunit/kunit.py" <<'EOF'
#!/usr/bin/env python3
# Fake kunit.py: "build" makes the build dir; "config" makes it, writes
# the UML options and the kunitconfigs after them (which win, as in
# kunit.py's make_arch_config) to its last_used_kunitconfig, and a
# .config of the options set (one not set is absent there, as kconfig
# leaves an option whose dependencies are unmet); "exec" writes a kernel
# log and the results of one case, failing when FAKE_FAIL is set; with
# FAKE_HOLD=FILE, "exec" leaves a change in the tree, as a command that
# ended in the middle of its work leaves one, creates FILE and waits to
# be killed (20 s at most, then fails); with FAKE_HOLD_MODE=clean, it
# makes no change; with FAKE_HOLD_MODE=late, it creates FILE, waits for
# FILE.go (20 s at most), then makes the change and fails.
import json, os, sys, time
cmd, opts, kconfigs = sys.argv[1], {}, []
for a in sys.argv[2:]:
    k, _, v = a.partition("=")
    if k == "--kunitconfig":
        kconfigs.append(os.path.join(v, ".kunitconfig") if os.path.isdir(v) else v)
    opts[k] = v
bd = opts["--build_dir"]
if cmd in ("build", "config"):
    os.makedirs(bd, exist_ok=True)
    if cmd == "build":
        open(os.path.join(bd, "kunit.py.builds"), "a").write("build\n")
    if cmd == "config":
        lines = []
        for path in ["tools/testing/kunit/configs/arch_uml.config"] + kconfigs:
            with open(path) as f:
                lines += [line for line in f if line.startswith("CONFIG_") or
                          line.startswith("# CONFIG_") and line.rstrip().endswith(" is not set")]
        with open(os.path.join(bd, "last_used_kunitconfig"), "w") as c:
            c.writelines(lines)
        with open(os.path.join(bd, ".config"), "w") as c:
            c.writelines(line for line in lines if line.startswith("CONFIG_"))
    sys.exit(0)
if os.environ.get("FAKE_HOLD"):
    hold, mode = os.environ["FAKE_HOLD"], os.environ.get("FAKE_HOLD_MODE", "")
    def change():
        with open("drivers/vfio/mdev/mdev_core.c", "a") as f:
            f.write("left by a killed run\n")
    if mode == "":
        change()
    open(hold, "w").close()
    for _ in range(200):
        if mode == "late" and os.path.exists(hold + ".go"):
            break
        time.sleep(0.1)
    if mode == "late":
        change()
    sys.exit(1)
status = "FAIL" if os.environ.get("FAKE_FAIL") else "PASS"
with open(os.path.join(bd, "test.log"), "w") as f:
    f.write(os.environ.get("FAKE_LOG", "fake kernel log\n"))
case = {"name": "mdev_test_a", "status": status}
res = {"name": "KUnit Test Group", "test_cases": [],
       "sub_groups": [{"name": "mdev", "sub_groups": [], "test_cases": [case]}]}
with open(opts["--json"], "w") as f:
    json.dump(res, f)
print("Testing complete. Ran 1 tests: " + status)
sys.exit(0 if status == "PASS" else 1)
EOF
	# What kunit_make (scripts/lib.sh) uses of kunit.py's modules, with
	# their semantics: an option set to n matches one that is absent.
	cat >"$d/tools/testing/kunit/kunit_config.py" <<'EOF'
import re
from dataclasses import dataclass

@dataclass(frozen=True)
class KconfigEntry:
    name: str
    value: str
    def __str__(self):
        if self.value == "n":
            return "# CONFIG_%s is not set" % self.name
        return "CONFIG_%s=%s" % (self.name, self.value)

class Kconfig:
    def __init__(self):
        self._entries = {}
    def as_entries(self):
        return [KconfigEntry(k, v) for k, v in self._entries.items()]
    def is_subset_of(self, other):
        for name, value in self._entries.items():
            b = other._entries.get(name)
            if (b is None and value != "n") or (b is not None and b != value):
                return False
        return True

def parse_file(path):
    k = Kconfig()
    for line in open(path):
        line = line.strip()
        m = re.match(r"^CONFIG_(\w+)=(.*)$", line)
        if m:
            k._entries[m.group(1)] = m.group(2)
        m = re.match(r"^# CONFIG_(\w+) is not set$", line)
        if m:
            k._entries[m.group(1)] = "n"
    return k
EOF
	cat >"$d/tools/testing/kunit/kunit_kernel.py" <<'EOF'
import os

def get_old_kunitconfig_path(build_dir):
    return os.path.join(build_dir, "last_used_kunitconfig")
EOF
	mkdir -p "$d/tools/testing/kunit/configs"
	echo CONFIG_FAKE_UML=y >"$d/tools/testing/kunit/configs/arch_uml.config"
	printf '# a note\n\nCONFIG_KUNIT=y\nCONFIG_FAKE_SUITE=y\n# CONFIG_FAKE_OFF is not set\n# CONFIG_FAKE_NOTE=y is a note\n' \
		>"$d/drivers/vfio/mdev/.kunitconfig"
}

make_fake_kernel "$T/src/linux-source-6.12"
tar -C "$T/src" -cJf "$T/fake.tar.xz" linux-source-6.12

# series_repo SRC DIR: DIR, a git repository of the tree SRC committed on
# the branch base, with the branch work at it checked out, to make a
# fake series in.
series_repo() {
	git init -q -b base "$2"
	cp -r "$1/." "$2/"
	git -C "$2" add -f -A
	git -C "$2" commit -q -m base
	git -C "$2" checkout -q -b work
}

# A good patch and one whose context is not in the tree.
series_repo "$T/src/linux-source-6.12" "$T/pt"
sed -i 's/line 2/line 2 changed/' "$T/pt/drivers/vfio/mdev/mdev_core.c"
git -C "$T/pt" commit -q -a -s -m "vfio/mdev: change line 2"
sed -i 's/line 7/line 7 changed/' "$T/pt/drivers/vfio/mdev/mdev_core.c"
git -C "$T/pt" commit -q -a -s -m "vfio/mdev: change line 7"
mkdir "$T/good" "$T/bad"
git -C "$T/pt" format-patch -q --thread --cover-letter -o "$T/good" base..HEAD
cp "$T/good"/* "$T/bad"/
# Another series: the cover letter and the first patch alone.
mkdir "$T/one"
cp "$T/good"/0000-* "$T/good"/0001-* "$T/one"/
# A series whose second patch, made on the base, changes the line the
# first one changes and adds a file: git am -3 merges it, and the merge
# conflicts.
git -C "$T/pt" checkout -q -b alt base
sed -i 's/line 2/line 2 otherwise/' "$T/pt/drivers/vfio/mdev/mdev_core.c"
echo new >"$T/pt/drivers/vfio/mdev/new.c"
git -C "$T/pt" add -f drivers/vfio/mdev/new.c
git -C "$T/pt" commit -q -a -s -m "vfio/mdev: change line 2 otherwise, add new.c"
mkdir "$T/conflict"
cp "$T/good"/0000-* "$T/good"/0001-* "$T/conflict"/
git -C "$T/pt" format-patch -q --start-number 2 -o "$T/conflict" -1
sed -i 's/^ line 6$/ line six/' "$T/bad"/0002-*.patch

# run_fake ENV...: scripts/run on the fake tarball in a fresh work dir.
run_fake() {
	env WORK_DIR="$T/work" BASE_TARBALL="$T/fake.tar.xz" PATCHES_DIR="$T/good" "$@"
}

