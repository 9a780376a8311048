#!/usr/bin/env bash
# Tests of the scripts, one part: the arguments of every command;
# scripts/check (--quick and --list, the builds ahead, bisect and the
# suites' kernels on the fake kernel); scripts/mdevctl-test's .config
# check and worktree; the mainline package; the benchmark's report; the
# log scanner; the shellcheck check's cache; lib.sh's small helpers.
# Run alone, or with the other parts by run-tests.sh.
# shellcheck disable=SC2015 # "cond && ok ... || not_ok ...": see common.sh
# shellcheck source=scripts/tests/common.sh
source "$(dirname "$0")/common.sh"

# ---- arguments
for s in run check export send; do
	expect "$s: a bad argument prints the usage, exit 2" 2 '^usage: scripts/'"$s" \
		"$REPO/scripts/$s" --no-such-option
done
expect "run: --help exits 0" 0 '^usage:' "$REPO/scripts/run" --help
expect "run: an unknown BASE, exit 2" 2 "unknown BASE '9.9'" \
	env BASE=9.9 PATCHES_DIR="$T/good" "$REPO/scripts/run" --no-deps
expect "run: no patches, exit 2" 2 'no patches in' \
	env PATCHES_DIR="$T/empty" "$REPO/scripts/run" --no-deps

# ---- scripts/check --quick and --list
# no_build_checks: the checks of scripts/check whose functions, followed
# through every function of scripts/check and scripts/lib.sh they call,
# never build or boot a kernel (kunit_build, kunit_make, kunit_make_small,
# kunit_exec, or a run of scripts/mdevctl-test or scripts/stable); in the
# order of --list.
no_build_checks() {
	# shellcheck disable=SC2016 # "$REPO" is text the Python code looks for
	"$REPO/scripts/check" --list | python3 -c '
import re, sys
funcs = {}
for path in sys.argv[1:]:
    name = None
    for line in open(path):
        m = re.match(r"([A-Za-z_][A-Za-z0-9_]*)\(\) \{(.*)$", line)
        if name is None and m:
            if m.group(2).rstrip().endswith("}"):
                funcs[m.group(1)] = m.group(2)
            else:
                name, body = m.group(1), []
        elif name is not None:
            if line.rstrip() == "}":
                funcs[name] = "".join(body)
                name = None
            else:
                body.append(line)
build = re.compile(r"\b(kunit_build|kunit_make|kunit_make_small|kunit_exec)\b|\$REPO/scripts/(mdevctl-test|stable)\b")
def builds(f, seen):
    if f in seen:
        return False
    seen.add(f)
    body = funcs.get(f, "")
    if build.search(body):
        return True
    return any(builds(g, seen) for g in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", body) if g in funcs)
for check in sys.stdin.read().split():
    f = "check_" + re.sub(r"[-.]", "_", check)
    if f not in funcs:
        print("no function " + f)
    elif not builds(f, set()):
        print(check)
' "$REPO/scripts/check" "$REPO/scripts/lib.sh"
}
list() { "$REPO/scripts/check" "$@" | tr '\n' ' '; }
nobuild=$(no_build_checks | tr '\n' ' ')
quick=$(env WORK_DIR="$T/listwork" "$REPO/scripts/check" --list --quick | tr '\n' ' ')
if [[ -n $quick && $quick == "$nobuild" ]]; then
	ok "check: --quick selects exactly the checks that build no kernel (${quick% })"
else
	not_ok "check: --quick selects '$quick'; the checks that build no kernel are '$nobuild'"
fi
[[ ! -e $T/listwork ]] && ok "check: --list runs nothing and makes no work dir" || not_ok "check: --list runs nothing and makes no work dir"
all=$(list --list)
[[ $all == "$quick"?* ]] && ok "check: without arguments every check, the quick ones first" ||
	not_ok "check: without arguments '$all', --quick '$quick'"
[[ $(list --list --quick bisect) == "${quick}bisect " && $(list --list bisect --quick) == "${quick}bisect " ]] &&
	ok "check: --quick with a named check runs both, in the order of the checks" ||
	not_ok "check: --quick bisect gives '$(list --list --quick bisect)', bisect --quick '$(list --list bisect --quick)'"
[[ $(list --list --quick checkpatch shellcheck) == "$quick" ]] &&
	ok "check: a quick check named with --quick runs once" ||
	not_ok "check: --quick checkpatch shellcheck gives '$(list --list --quick checkpatch shellcheck)'"
[[ $(list --list mdevctl stress) == "stress mdevctl " ]] &&
	ok "check: named checks alone, in the order of the checks" || not_ok "check: mdevctl stress gives '$(list --list mdevctl stress)'"
expect "check: --quick with an unknown check names it, exit 2" 2 "unknown check 'no-such-check'" \
	"$REPO/scripts/check" --quick no-such-check
grep -q -- '--quick' "$T/err" && ok "check: ...and the usage shows --quick" || not_ok "check: ...and the usage shows --quick"

# ---- shellcheck: a silent run is noted in the cache under a hash of the
# version of shellcheck, SHELLCHECK_OPTS and the files, and not repeated
# for the same ones.  A copy of the scripts, and a fake shellcheck that
# logs its runs and the files it was given, finds fault with a file that
# has the line $SC_MARK (made here, so that no file has it by chance),
# and appends a line to the file FAKE_SC_EDIT names, as an edit during
# the run would.
SR=$T/sc-repo
mkdir -p "$SR/bin" "$SR/.ci" "$SR/kunit" "$T/sc-empty"
cp -r "$REPO/scripts" "$SR/"
cp -r "$REPO/kunit/mdevctl" "$SR/kunit/"
cp "$REPO/.ci/run" "$SR/.ci/"
cat >"$SR/bin/shellcheck" <<'EOF'
#!/usr/bin/env bash
[[ $1 != --version ]] || { echo "version: ${FAKE_SC_VERSION:-0.9.0}"; exit 0; }
[[ $1 == --norc && $2 == -x ]] || { echo "fake shellcheck: unexpected arguments: $*"; exit 2; }
echo run >>"$FAKE_SC_LOG"
shift 2
printf '%s\n' "$@" >"$FAKE_SC_LOG.files"
[[ -z ${FAKE_SC_EDIT:-} ]] || echo "# edited" >>"$FAKE_SC_EDIT"
! grep -lxF -- "$SC_MARK" "$@"
EOF
chmod +x "$SR/bin/shellcheck"
: >"$T/sc.log"
SC_MARK="# fault $$ $RANDOM"
# sc_check ENV...: scripts/check of the copy, shellcheck alone (no series,
# so no tree), its output in $T/sc.out; prints "pass" or "fail" and how
# often shellcheck has run.
sc_check() {
	if env PATH="$SR/bin:$PATH" WORK_DIR="$T/sc-work" PATCHES_DIR="$T/sc-empty" FAKE_SC_LOG="$T/sc.log" SC_MARK="$SC_MARK" "$@" \
		"$SR/scripts/check" --no-deps shellcheck >"$T/sc.out" 2>&1; then
		printf 'pass '
	else
		printf 'fail '
	fi
	grep -c '^run$' "$T/sc.log" || true
}
sc_entries() { find "$CACHE/shellcheck" -type f 2>/dev/null | wc -l; }
r=$(sc_check)
[[ $r == "pass 1" && $(sc_entries) -eq 1 ]] &&
	ok "shellcheck: a silent run passes and is noted in the cache" ||
	not_ok "shellcheck: the first run: $r, $(sc_entries) entries; $(tr '\n' ' ' <"$T/sc.out")"
# The key hashes the files it was given; a file they source that is not
# one of them could change the verdict and not the key.
missing=
checked=()
[[ ! -s $T/sc.log.files ]] || mapfile -t checked <"$T/sc.log.files"
while read -r src; do
	grep -qxF -- "$src" "$T/sc.log.files" || missing+="$src "
done < <([[ ${#checked[@]} -gt 0 ]] && cd "$SR" &&
	sed -n 's/^[[:space:]]*# shellcheck source=\([^ ]*\).*/\1/p' "${checked[@]}" | sort -u)
n_src=$(cd "$SR" && cat "${checked[@]}" /dev/null | grep -c '^[[:space:]]*# shellcheck source=' || true)
[[ -s $T/sc.log.files && $n_src -gt 0 && -z $missing ]] &&
	ok "shellcheck: every file that a checked file names in a \"shellcheck source=\" directive ($n_src of them) is checked, so in the key" ||
	not_ok "shellcheck: $n_src directives; sourced but not in the key: ${missing:-(none, or no files logged)}"
r=$(sc_check)
[[ $r == "pass 1" ]] && grep -q 'as the run noted in' "$T/sc-work/check/shellcheck.log" &&
	ok "shellcheck: the same files again pass without a run, and the log says so" ||
	not_ok "shellcheck: the same files again: $r; $(tr '\n' ' ' <"$T/sc.out")"
cp "$SR/scripts/tests/common.sh" "$T/sc-common.sh"
echo "$SC_MARK" >>"$SR/scripts/tests/common.sh"
r=$(sc_check)
[[ $r == "fail 2" && $(sc_entries) -eq 1 ]] && grep -q '^FAIL shellcheck' "$T/sc.out" &&
	ok "shellcheck: a changed file runs it again and its fault fails the check; a failed run is not noted" ||
	not_ok "shellcheck: a changed file: $r, $(sc_entries) entries; $(tr '\n' ' ' <"$T/sc.out")"
cp "$T/sc-common.sh" "$SR/scripts/tests/common.sh"
r=$(sc_check)
[[ $r == "pass 2" ]] && ok "shellcheck: the file as it was passes without a run" ||
	not_ok "shellcheck: the file as it was: $r; $(tr '\n' ' ' <"$T/sc.out")"
r=$(sc_check FAKE_SC_VERSION=0.10.0)
[[ $r == "pass 3" && $(sc_entries) -eq 2 ]] && ok "shellcheck: another version of shellcheck runs it again" ||
	not_ok "shellcheck: another version: $r, $(sc_entries) entries"
r=$(sc_check SHELLCHECK_OPTS=--enable=all)
[[ $r == "pass 4" && $(sc_entries) -eq 3 ]] && ok "shellcheck: other SHELLCHECK_OPTS run it again" ||
	not_ok "shellcheck: other SHELLCHECK_OPTS: $r, $(sc_entries) entries"
# A file edited while shellcheck runs: the run's verdict may be of
# either content, so it is not noted.  Another version, for a key with no
# entry: common.sh is back to the content noted for 0.9.0.
r=$(sc_check FAKE_SC_EDIT="$SR/scripts/tests/common.sh" FAKE_SC_VERSION=0.11.0)
[[ $r == "pass 5" && $(sc_entries) -eq 3 ]] && grep -q 'changed while shellcheck ran' "$T/sc-work/check/shellcheck.log" &&
	ok "shellcheck: a file changed during the run: passes, not noted, and says so" ||
	not_ok "shellcheck: a file changed during the run: $r, $(sc_entries) entries"
cp "$T/sc-common.sh" "$SR/scripts/tests/common.sh"
# A cache that cannot be written: its shellcheck dir is a file.
mkdir -p "$T/sc-ro/mdev-pipeline"
: >"$T/sc-ro/mdev-pipeline/shellcheck"
r=$(sc_check XDG_CACHE_HOME="$T/sc-ro")
[[ $r == "pass 6" ]] && grep -q 'could not write' "$T/sc-work/check/shellcheck.log" &&
	ok "shellcheck: a cache that cannot be written: passes, and says the run is not noted" ||
	not_ok "shellcheck: a cache that cannot be written: $r; $(tr '\n' ' ' <"$T/sc.out")"

# ---- scripts/check: the kernels of mdevctl, module and stable-* are built
# ahead, at nice 19, beside the other checks; each check waits for its
# build, then runs its command.  A copy of the repo whose
# scripts/mdevctl-test and scripts/stable are fakes that log what they
# run and at which nice value.
AR=$T/ahead-repo
mkdir -p "$AR"
cp -r "$REPO/scripts" "$REPO/kunit" "$AR/"
for s in mdevctl-test stable; do
	cat >"$AR/scripts/$s" <<'FAKE'
#!/usr/bin/env bash
# Fake: "--build-only" logs its start with its nice value; the build named
# by FAKE_WAIT's "NAME:LINE" first waits up to 30 s for LINE in the log
# (another check's run: the builds ahead run beside the checks); it
# sleeps FAKE_SLEEP seconds (default 0.2), logs its end and fails when
# FAKE_AHEAD_FAIL names it.  Otherwise it logs a run.
name=$(basename "$0")
[[ $name != mdevctl-test ]] || name=mdevctl
[[ " $* " != *" --base 6.1 "* ]] || name=stable-6.1
[[ " $* " != *" --base 6.12 "* ]] || name=stable-6.12
if [[ " $* " == *" --build-only "* ]]; then
	echo "$name build start nice=$(nice)" >>"$FAKE_LOG"
	if [[ ${FAKE_WAIT:-} == "$name:"* ]]; then
		for _ in $(seq 300); do
			grep -qxF -- "${FAKE_WAIT#*:}" "$FAKE_LOG" && break
			sleep 0.1
		done
		grep -qxF -- "${FAKE_WAIT#*:}" "$FAKE_LOG" || echo "$name build gave up waiting" >>"$FAKE_LOG"
	fi
	sleep "${FAKE_SLEEP:-0.2}"
	echo "$name build end" >>"$FAKE_LOG"
	[[ ${FAKE_AHEAD_FAIL:-} != "$name" ]] || { echo "fake build failed"; exit 6; }
	echo "fake build ok"
else
	echo "$name run $*" >>"$FAKE_LOG"
fi
FAKE
	chmod +x "$AR/scripts/$s"
done
# ahead_env NAME ENV...: the environment of scripts/check in the copy, on
# the fake tarball, the fakes' log in $T/ahead-NAME.log (made empty); the
# build dirs named in AHEAD_BUILT (DIR...) hold a kernel.
ahead_env() {
	local name=$1 d
	shift
	rm -rf "$T/ahead-work"
	for d in ${AHEAD_BUILT:-}; do
		mkdir -p "$T/ahead-work/build/$d"
		: >"$T/ahead-work/build/$d/linux"
	done
	: >"$T/ahead-$name.log"
	env WORK_DIR="$T/ahead-work" BASE_TARBALL="$T/fake.tar.xz" PATCHES_DIR="$T/good" \
		FAKE_LOG="$T/ahead-$name.log" "$@"
}
# check_ahead NAME ENV... -- CHECK...: scripts/check --no-deps CHECK... in
# ahead_env, its output in $T/ahead-NAME.out.
check_ahead() {
	local name=$1 envs=()
	shift
	while [[ $1 != -- ]]; do envs+=("$1"); shift; done
	shift
	ahead_env "$name" ${envs[@]+"${envs[@]}"} "$AR/scripts/check" --no-deps "$@" >"$T/ahead-$name.out" 2>&1
}
# in_order FILE LINE...: the LINEs are lines of FILE, in this order.
in_order() {
	local f=$1 n last=0
	shift
	for l in "$@"; do
		n=$(grep -nxF -- "$l" "$f" | head -n1 | cut -d: -f1)
		[[ -n $n && $n -gt $last ]] || return 1
		last=$n
	done
}
# The stable-6.1 build waits for the mdevctl check's run: it must be
# running beside the checks, not before them.
if check_ahead all "FAKE_WAIT=stable-6.1:mdevctl run --no-deps" -- mdevctl module stable-6.12 stable-6.1 &&
	grep -qx '4 passed, 0 failed' "$T/ahead-all.out"; then
	ok "check: with builds ahead, mdevctl, module, stable-6.12 and stable-6.1 pass"
else
	not_ok "check: with builds ahead, the checks did not pass:"
	sed 's/^/#   /' "$T/ahead-all.out"
fi
if in_order "$T/ahead-all.log" "mdevctl build start nice=19" "mdevctl build end" \
	"stable-6.12 build start nice=19" "stable-6.12 build end" \
	"stable-6.1 build start nice=19" "stable-6.1 build end" &&
	in_order "$T/ahead-all.log" "mdevctl run --no-deps" "stable-6.1 build end" &&
	! grep -q 'gave up' "$T/ahead-all.log" &&
	in_order "$T/ahead-all.log" "mdevctl build end" "mdevctl run --no-deps" \
		"mdevctl run --module --no-deps" &&
	in_order "$T/ahead-all.log" "stable-6.12 build end" "stable-6.12 run --base 6.12 --no-deps" &&
	in_order "$T/ahead-all.log" "stable-6.1 build end" "stable-6.1 run --base 6.1 --no-deps"; then
	ok "check: the builds ahead run one after the other at nice 19, beside the checks, and each check runs after its build ended"
else
	not_ok "check: the builds ahead and the checks ran in this order:"
	sed 's/^/#   /' "$T/ahead-all.log"
fi
grep -q "^waited [0-9]*s for the build ahead (fake build ok;" "$T/ahead-work/check/mdevctl.log" 2>/dev/null &&
	ok "check: the check's log says how long it waited and how the build ahead ended" ||
	not_ok "check: no 'waited Ns for the build ahead' line in the mdevctl check's log"
# A failed build ahead: the next builds go on, and its check runs its own
# command all the same.
if check_ahead fail FAKE_AHEAD_FAIL=mdevctl -- mdevctl stable-6.12 &&
	in_order "$T/ahead-fail.log" "mdevctl build end" "stable-6.12 build start nice=19" \
		"stable-6.12 build end" "stable-6.12 run --base 6.12 --no-deps" &&
	in_order "$T/ahead-fail.log" "mdevctl build end" "mdevctl run --no-deps" &&
	grep -q 'for the build ahead (fake build failed;' "$T/ahead-work/check/mdevctl.log"; then
	ok "check: after a failed build ahead the next ones run, and its check runs its own command and says so"
else
	not_ok "check: after a failed build ahead:"
	sed 's/^/#   /' "$T/ahead-fail.out" "$T/ahead-fail.log"
fi
# Only the selected checks' kernels (module's is mdevctl's); none with
# KBUILD_LOCK or on a stable BASE.
check_ahead one -- stable-6.1 || true
[[ $(grep -c ' build start ' "$T/ahead-one.log") -eq 1 ]] && grep -q '^stable-6.1 build start' "$T/ahead-one.log" &&
	ok "check: only the kernels of the selected checks are built ahead" ||
	not_ok "check: stable-6.1 alone built ahead: $(grep ' build start ' "$T/ahead-one.log" | tr '\n' ' ')"
check_ahead module -- module || true
[[ $(grep -c ' build start ' "$T/ahead-module.log") -eq 1 ]] && in_order "$T/ahead-module.log" \
	"mdevctl build start nice=19" "mdevctl build end" "mdevctl run --module --no-deps" &&
	ok "check: module alone builds the mdevctl kernel ahead" ||
	not_ok "check: module alone: $(tr '\n' ' ' <"$T/ahead-module.log")"
AHEAD_BUILT="$MAINLINE-mdevctl 6.1-debug" check_ahead built -- module stable-6.12 stable-6.1 || true
[[ $(grep ' build start ' "$T/ahead-built.log" | tr '\n' ' ') == "stable-6.12 build start nice=19 " ]] &&
	ok "check: a kernel whose build dir has one already is not built ahead" ||
	not_ok "check: with the mdevctl and 6.1 kernels built: $(tr '\n' ' ' <"$T/ahead-built.log")"
check_ahead lock KBUILD_LOCK="$T/kbuild.lock" -- mdevctl stable-6.1 || true
! grep -q ' build start ' "$T/ahead-lock.log" && grep -q '^stable-6.1 run ' "$T/ahead-lock.log" &&
	ok "check: with KBUILD_LOCK nothing is built ahead" ||
	not_ok "check: with KBUILD_LOCK: $(tr '\n' ' ' <"$T/ahead-lock.log")"
check_ahead base BASE=6.12 -- stable-6.1 || true
! grep -q ' build start ' "$T/ahead-base.log" &&
	ok "check: on a stable BASE nothing is built ahead" ||
	not_ok "check: BASE=6.12: $(tr '\n' ' ' <"$T/ahead-base.log")"
# SIGINT to the check's process group (Ctrl-C) during a build ahead: the
# check ends within seconds (no background check is selected, which would
# ignore SIGINT and be waited for), and no build ahead runs on.
# The check runs in a session of its own (setsid), so that its process
# group is its pid, written to ahead-int.pid, and with SIGINT's default
# action, as from a terminal: where these tests run in the background of
# scripts/check, bash started them with SIGINT ignored, and a script
# cannot undo that for its children.
rm -f "$T/ahead-int.pid"
# shellcheck disable=SC2016 # $$ and $@ are the inner bash's
ahead_env int FAKE_SLEEP=60 setsid env --default-signal=INT bash -c 'echo $$ >"$0"; exec "$@"' "$T/ahead-int.pid" \
	"$AR/scripts/check" --no-deps stable-6.12 stable-6.1 >"$T/ahead-int.out" 2>&1 &
bg=$!
for _ in $(seq 300); do
	[[ -s $T/ahead-int.pid ]] && grep -q '^stable-6.12 build start' "$T/ahead-int.log" 2>/dev/null && break
	sleep 0.1
done
pid=$(cat "$T/ahead-int.pid" 2>/dev/null || echo 0)
# Never "kill -- -0", which is this script's own process group.
[[ $pid -le 1 ]] || kill -INT -- "-$pid" 2>/dev/null || true
for _ in $(seq 100); do
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
sleep 0.5
if ! kill -0 "$pid" 2>/dev/null && ! pgrep -f "$AR/scripts/stable" >/dev/null &&
	grep -q '^stable-6.12 build start' "$T/ahead-int.log" && ! grep -q 'build end\|stable-6.1 ' "$T/ahead-int.log"; then
	ok "check: Ctrl-C ends the check and its builds ahead"
else
	not_ok "check: after SIGINT: $(kill -0 "$pid" 2>/dev/null && echo 'the check runs on;') $(pgrep -af "$AR/scripts/stable" | tr '\n' ' ') log: $(tr '\n' ' ' <"$T/ahead-int.log")"
	pkill -f "$AR/scripts/" || true
fi
wait "$bg" 2>/dev/null || true

# ---- bisect: every prefix is configured by kunit.py config and built by
# make all, then every option of its config must be in the .config
# (kunit_make; the fake make all that drops one stands for syncconfig
# dropping an option whose dependencies went unmet).
bisect_fake() {
	rm -rf "$T/bwork"
	env WORK_DIR="$T/bwork" BASE_TARBALL="$T/fake.tar.xz" PATCHES_DIR="$T/good" "$@" \
		"$REPO/scripts/check" --no-deps bisect >"$T/bisect.out" 2>&1
}
bisect_fake && grep -q '^PASS bisect' "$T/bisect.out" &&
	[[ $(grep -c '^== prefix' "$T/bwork/check/bisect.log") -eq 2 ]] &&
	ok "bisect: both prefixes of the fake series configure and build" ||
	{ not_ok "bisect: the fake series:"; sed 's/^/#   /' "$T/bisect.out"; }
if ! bisect_fake FAKE_DROP=CONFIG_SAMPLE_VFIO_MDEV_MTTY &&
	grep -q '^not in .*/\.config after the build: CONFIG_SAMPLE_VFIO_MDEV_MTTY=y (it has: nothing)' "$T/bwork/check/bisect.log" &&
	grep -q '^FAIL: prefix 1 does not build with its config' "$T/bwork/check/bisect.log"; then
	ok "bisect: an option of the config missing from the .config fails the prefix, named"
else
	not_ok "bisect: an option dropped from the .config:"
	sed 's/^/#   /' "$T/bisect.out" "$T/bwork/check/bisect.log" 2>/dev/null
fi
if ! bisect_fake FAKE_DROP=CONFIG_FAKE_UML &&
	grep -q '^not in .*/\.config after the build: CONFIG_FAKE_UML=y (it has: nothing)' "$T/bwork/check/bisect.log"; then
	ok "bisect: one of kunit.py's UML options missing from the .config fails the prefix, named"
else
	not_ok "bisect: a UML option dropped from the .config:"
	sed 's/^/#   /' "$T/bisect.out" "$T/bwork/check/bisect.log" 2>/dev/null
fi

# ---- the suites' kernels (run_suite of scripts/check; scripts/stable's
# too, not run here) are built by kunit_make as well: every option of
# every kunitconfig given, a directory's .kunitconfig included, must be
# in the .config.  The fake .kunitconfig's option not set is absent from
# the fake .config: the run passes, as kunit_make leaves that verdict to
# kunit_config (here the fake's copy of its rule).
# suite_fake CHECK [ENV...]: scripts/check CHECK on the fake series in a
# fresh work dir, with the ENVs.
suite_fake() {
	local check=$1
	shift
	rm -rf "$T/swork"
	# The kunitconfig kunit.py takes when given none, which it copies to
	# the build dir's .kunitconfig: not the one it keeps of its last run.
	mkdir -p "$T/swork/build/$MAINLINE-normal"
	echo CONFIG_NOT_ASKED_FOR=y >"$T/swork/build/$MAINLINE-normal/.kunitconfig"
	env WORK_DIR="$T/swork" BASE_TARBALL="$T/fake.tar.xz" PATCHES_DIR="$T/good" "$@" \
		"$REPO/scripts/check" --no-deps "$check" >"$T/suite.out" 2>&1
}
suite_fake suite-normal && grep -q '^PASS suite-normal' "$T/suite.out" &&
	grep -q '^CONFIG_FAKE_SUITE=y$' "$T/swork/build/$MAINLINE-normal/last_used_kunitconfig" &&
	grep -q '^# CONFIG_FAKE_OFF is not set$' "$T/swork/build/$MAINLINE-normal/last_used_kunitconfig" &&
	grep -q '^CONFIG_VFIO_MDEV_KUNIT_TEST=y$' "$T/swork/build/$MAINLINE-normal/last_used_kunitconfig" &&
	ok "suite-normal: the fake series is configured by kunit.py config with both kunitconfigs, built, and passes" ||
	{ not_ok "suite-normal: the fake series:"; sed 's/^/#   /' "$T/suite.out" "$T/swork/check/suite-normal.log" 2>/dev/null; }
suite_fake suite-small
grep -q '^PASS suite-small' "$T/suite.out" && grep -q '^CONFIG_EXPERT=y$' "$T/swork/build/$MAINLINE-small/.config" &&
	grep -q '^CONFIG_FAKE_SUITE=y$' "$T/swork/build/$MAINLINE-small/.config" &&
	ok "suite-small: the fake series is configured by allnoconfig from kunit/small.config and the suite's options, built, and passes" ||
	{ not_ok "suite-small: the fake series:"; sed 's/^/#   /' "$T/suite.out" "$T/swork/check/suite-small.log" 2>/dev/null; }
for opt in CONFIG_FAKE_SUITE CONFIG_VFIO_MDEV_KUNIT_TEST CONFIG_FAKE_UML; do
	if ! suite_fake suite-normal FAKE_DROP=$opt && grep -q '^FAIL suite-normal' "$T/suite.out" &&
		grep -q "^not in .*/\.config after the build: $opt=y (it has: nothing)" "$T/swork/check/suite-normal.log"; then
		ok "suite-normal: $opt missing from the .config after make fails the build, named"
	else
		not_ok "suite-normal: $opt dropped from the .config:"
		sed 's/^/#   /' "$T/suite.out" "$T/swork/check/suite-normal.log" 2>/dev/null
	fi
done

# ---- lib.sh's small helpers: rm_glob, file_has_line, ccache_counts,
# get_maintainer_f.
lib() { PROG=tests bash -c 'set -euo pipefail; . "$0/scripts/lib.sh"; eval "$1"' "$REPO" "$1" 2>"$T/lib.err"; }
mkdir -p "$T/rg"
touch "$T/rg/tmp.a" "$T/rg/tmp.b" "$T/rg/one.x" "$T/rg/keep"
ln -s nowhere "$T/rg/dl.x"
r=$(lib "rm_glob \"$T/rg/none\".*; rm_glob \"$T/rg/one\".*; rm_glob \"$T/rg/dl\".*
	shopt -s nullglob; rm_glob \"$T/rg/none\".*; rm_glob \"$T/rg/tmp\".*; echo done") || true
[[ $r == "done" && $(cd "$T/rg" && echo *) == keep ]] &&
	ok "rm_glob: a glob that matched nothing, also with nullglob, removes nothing; one that matched a file, a dangling symlink or two files removes them" ||
	not_ok "rm_glob: '$r', $(cd "$T/rg" && echo *) $(tr '\n' ' ' <"$T/lib.err")"
printf 'one\nline two\nlast' >"$T/fhl"
r=$(lib "for l in one 'line two' last line on two\ x; do file_has_line \"$T/fhl\" \"\$l\" && echo -n y || echo -n n; done
	file_has_line \"$T/none\" one && echo -n y || echo -n n") || true
[[ $r == yyynnnn ]] && ok "file_has_line: whole lines only, the last one without a newline too; a missing file has none" ||
	not_ok "file_has_line: '$r' (want yyynnnn)"
# at_exit: the hooks run last added first, all of them even when a
# SIGTERM comes while they run.
rm -f "$T/hooks"
lib "h1() { echo h1 >>\"$T/hooks\"; }; h2() { kill -TERM \$BASHPID; sleep 0.2; echo h2 >>\"$T/hooks\"; }
	at_exit h1; at_exit h2" || true
hooks=$(tr '\n' ' ' <"$T/hooks" 2>/dev/null) || true
[[ $hooks == "h2 h1 " ]] &&
	ok "at_exit: the hooks run last added first, a SIGTERM during them cuts none short" ||
	not_ok "at_exit: hooks ran: '$hooks' (want h2 h1)"
# bg_wait: a command in a process group of its own (timeout's) ends
# when its caller gets SIGTERM, or Ctrl-C, to its group.  The command
# notes a SIGTERM, a second later, which the caller must wait for;
# timeout would send it none, only SIGKILL after 60 s.
for sig in TERM INT; do
	rm -f "$T/bgw.on" "$T/bgw.term"
	# shellcheck disable=SC2016 # expanded by the inner bash
	setsid env --default-signal=INT bash -c 'set -euo pipefail; . "$0/scripts/lib.sh"; bg_wait timeout -s KILL 60 \
		bash -c "trap \"sleep 1; touch $1/bgw.term; exit 0\" TERM; touch $1/bgw.on; while :; do sleep 0.1; done"; echo ended' \
		"$REPO" "$T" >"$T/bgw.out" 2>&1 </dev/null &
	b=$!
	for _ in $(seq 300); do
		[[ ! -e $T/bgw.on ]] || break
		sleep 0.1
	done
	kill -"$sig" -- "-$b" 2>/dev/null || true
	rc=0
	wait "$b" || rc=$?
	want=$([[ $sig == TERM ]] && echo 143 || echo 130)
	[[ $rc == "$want" && -e $T/bgw.term ]] && ! grep -q ended "$T/bgw.out" &&
		ok "bg_wait: SIG$sig to the caller's group ends it ($rc) and the command in timeout's group" ||
		not_ok "bg_wait: SIG$sig: exit $rc (want $want), $([[ -e $T/bgw.term ]] && echo "the command got SIGTERM" || echo "the command got no SIGTERM") $(cat "$T/bgw.out")"
done
# A signal between bg_wait's fork and its BG_WAIT_PID=$!: the exit hook
# ends the command all the same (its $! differs from the one before the
# fork); one before the fork ends nothing, not the job $! named then.
rm -f "$T/win.pid" "$T/win.term" "$T/keep.pid"
lib "BG_WAIT_FROM=\${!:-none}
	timeout -s KILL 60 bash -c 'trap \"touch $T/win.term; exit 0\" TERM; echo \$\$ >$T/win.pid; while :; do sleep 0.1; done' &
	for _ in \$(seq 300); do [[ ! -s $T/win.pid ]] || break; sleep 0.1; done
	kill -TERM \$BASHPID" >/dev/null 2>&1 || true
# The command got SIGTERM (timeout would send none, only SIGKILL after
# 60 s), and the caller waited for it to end.
r=$([[ -e $T/win.term ]] && echo ended || echo "not ended")
pkill -KILL -f -- "$T/win.pid" 2>/dev/null || true
lib "sleep 60 & echo \$! >$T/keep.pid; BG_WAIT_FROM=\$!; kill -TERM \$BASHPID" >/dev/null 2>&1 || true
keep=$(cat "$T/keep.pid" 2>/dev/null) || true
if [[ $keep =~ ^[0-9]+$ && $keep -gt 1 ]]; then
	kill -0 "$keep" 2>/dev/null && r+=", the job kept" || r+=", the job ended"
	kill -KILL "$keep" 2>/dev/null || true
else
	r+=", no job"
fi
[[ $r == "ended, the job kept" ]] &&
	ok "bg_wait: a signal right after the fork ends the command; one before it ends no job" ||
	not_ok "bg_wait: a signal around the fork: $r (want: ended, the job kept)"
# A command ended by SIGTERM or SIGHUP to its pid alone runs its hooks
# once its foreground program has ended, then dies of that signal: its
# caller sees the signal (a negative returncode in Python), not exit 143
# or 129.
for sig in TERM HUP; do
	r=$(python3 - "$REPO" "$T" "$sig" <<'PY' 2>&1
import os, signal, subprocess, sys, time
repo, t, name = sys.argv[1:]
for f in ("sig.on", "sig.hook"):
    if os.path.exists(os.path.join(t, f)):
        os.unlink(os.path.join(t, f))
p = subprocess.Popen(["bash", "-c", 'set -euo pipefail; PROG=tests; . "$0/scripts/lib.sh"; '
                      't=$1; h() { echo ran >"$t/sig.hook"; }; at_exit h; touch "$t/sig.on"; '
                      'while :; do sleep 0.1; done; echo reached', repo, t],
                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
for _ in range(300):
    if os.path.exists(os.path.join(t, "sig.on")):
        break
    time.sleep(0.1)
os.kill(p.pid, getattr(signal, "SIG" + name))
out = p.communicate(timeout=30)[0].decode()
print(" ".join(filter(None, [str(p.returncode),
                             "hook ran" if os.path.exists(os.path.join(t, "sig.hook")) else "no hook",
                             out.strip()])))
PY
	) || true
	want="-$(kill -l "$sig") hook ran"
	[[ $r == "$want" ]] &&
		ok "lib: SIG$sig to the pid alone runs the hooks, then the command dies of it" ||
		not_ok "lib: SIG$sig to the pid alone: '$r' (want '$want')"
done
# tree_busy and tree_release: a mark of this command's token that a
# command it ran left (that one ended with the tree changed) is written
# again and taken back at exit; one that a command running this one
# wrote (its git dir in MDEV_PIPELINE_MARKED) is left to it.
git init -q "$T/tb"
git -C "$T/tb" -c user.name=t -c user.email=t@example.org commit -q --allow-empty -m t
r=$(lib "MDEV_PIPELINE_RUN=tok; MDEV_PIPELINE_MARKED=; echo tok >\"$T/tb/.git/mdev-pipeline-busy\"
	tree_busy \"$T/tb\" \"$T/tb/.git\"; echo \"\${#TREES_BUSY[@]}\"") || true
[[ -e $T/tb/.git/mdev-pipeline-busy ]] && r+=" (the mark stayed)"
r2=$(lib "MDEV_PIPELINE_RUN=tok; MDEV_PIPELINE_MARKED=$'\n'\"$T/tb/.git\"; echo tok >\"$T/tb/.git/mdev-pipeline-busy\"
	tree_busy \"$T/tb\" \"$T/tb/.git\"; echo \"\${#TREES_BUSY[@]}\"") || true
[[ $r == 2 && $r2 == 0 && $(cat "$T/tb/.git/mdev-pipeline-busy" 2>/dev/null) == tok ]] &&
	ok "tree_busy: a mark of its token that a command it ran left is its own to take back; one its caller wrote is left" ||
	not_ok "tree_busy: '$r' '$r2' (want 2 0), mark: $(cat "$T/tb/.git/mdev-pipeline-busy" 2>/dev/null || echo none) $(tr '\n' ' ' <"$T/lib.err")"
mkdir -p "$T/ccbin"
printf '#!/bin/sh\nprintf "direct_cache_hit\\t3\\npreprocessed_cache_hit\\t2\\ncache_miss\\t4\\nfiles_in_cache\\t9\\nstats_updated_timestamp\\tnever\\n"\n' >"$T/ccbin/ccache"
chmod +x "$T/ccbin/ccache"
r="$(PATH=$T/ccbin:$PATH lib ccache_counts || true) / $(lib "PATH=/nonexistent ccache_counts" || true)"
[[ $r == "5 4 / 0 0" ]] && ok "ccache_counts: hits direct and preprocessed, misses; 0 0 without ccache" ||
	not_ok "ccache_counts: '$r' (want '5 4 / 0 0'); $(tr '\n' ' ' <"$T/lib.err")"
# get_maintainer_f: a fake get_maintainer.pl logs what it is asked; one
# file's answer fails.
mkdir -p "$T/gm/scripts"
cat >"$T/gm/scripts/get_maintainer.pl" <<'EOF'
open(my $l, ">>", $ENV{GM_LOG}); print $l "$ARGV[-1]\n"; close($l);
if ($ARGV[-1] eq "bad.c") { print "no entry for bad.c\n"; exit 3 }
print "Some One <one\@localhost> (maintainer:ENTRY OF $ARGV[-1])\n";
EOF
: >"$T/gm.log"
# gm FILE [MEMO]: get_maintainer_f of FILE, in MEMO (default c1).
gm() { GM_LOG=$T/gm.log lib "TREE=$T/gm; get_maintainer_f \"$T/gm-memo/${2:-c1}\" \"$1\"; echo \"rc=\$?\"" || echo "rc=$?"; }
r="$(gm a/b.c)|$(gm a/b.c)|$(gm a%2Fb.c)|$(gm a/b.c.out/x)|$(gm a/b.c.out/x)|$(gm bad.c)|$(gm bad.c)|$(gm a/b.c c2)"
want="Some One <one@localhost> (maintainer:ENTRY OF a/b.c)
rc=0|Some One <one@localhost> (maintainer:ENTRY OF a/b.c)
rc=0|Some One <one@localhost> (maintainer:ENTRY OF a%2Fb.c)
rc=0|Some One <one@localhost> (maintainer:ENTRY OF a/b.c.out/x)
rc=0|Some One <one@localhost> (maintainer:ENTRY OF a/b.c.out/x)
rc=0|no entry for bad.c
rc=3|no entry for bad.c
rc=3|Some One <one@localhost> (maintainer:ENTRY OF a/b.c)
rc=0"
[[ $r == "$want" && $(tr '\n' ' ' <"$T/gm.log") == "a/b.c a%2Fb.c a/b.c.out/x bad.c a/b.c " ]] &&
	ok "get_maintainer_f: each file asked once a memo dir, its answer and status given again, no two files' answers mixed up" ||
	not_ok "get_maintainer_f: '$(tr '\n' '~' <<<"$r")', asked: $(tr '\n' ' ' <"$T/gm.log")"

# ---- fragments_landed (scripts/mdevctl-test's check of its .config): the
# last line of an option wins, "=n" and an absent option are not set.
landed() { PROG=tests bash -c '. "$0/scripts/lib.sh" && fragments_landed "$@"' "$REPO" "$@" 2>"$T/landed.err"; }
printf 'CONFIG_A=y\n# CONFIG_B is not set\nCONFIG_C=y\nCONFIG_C=m  \nCONFIG_D=n\nnot an option\n' >"$T/frag1"
printf '# CONFIG_E is not set\n' >"$T/frag2"
printf 'CONFIG_A=y\n# CONFIG_B is not set\nCONFIG_C=m\nCONFIG_Z=y\n' >"$T/cfg-ok"
landed "$T/cfg-ok" "$T/frag1" "$T/frag2" && [[ ! -s $T/landed.err ]] &&
	ok "fragments_landed: every value there, the options not set absent or not set" ||
	not_ok "fragments_landed: a .config with every value: $(tr '\n' ' ' <"$T/landed.err")"
printf 'CONFIG_B=y\nCONFIG_C=y\n# CONFIG_D is not set\nCONFIG_E=m\n' >"$T/cfg-bad"
if ! landed "$T/cfg-bad" "$T/frag1" "$T/frag2" &&
	[[ $(<"$T/landed.err") == "tests: not in the .config: CONFIG_A=y (it has: nothing)
tests: not in the .config: # CONFIG_B is not set (it has: CONFIG_B=y)
tests: not in the .config: CONFIG_C=m (it has: CONFIG_C=y)
tests: not in the .config: # CONFIG_E is not set (it has: CONFIG_E=m)" ]]; then
	ok "fragments_landed: a missing option and three other values fail, each named"
else
	not_ok "fragments_landed: a .config with other values:"
	sed 's/^/#   /' "$T/landed.err"
fi

# A fragment whose last line has no newline: the line counts, last or
# before another fragment, and is not joined to the next one's first.
printf 'CONFIG_Y=y' >"$T/frag3"
nonl=
for order in "$T/frag3 $T/frag2" "$T/frag2 $T/frag3"; do
	# shellcheck disable=SC2086 # the two fragments of $order
	! landed "$T/cfg-ok" $order &&
		[[ $(<"$T/landed.err") == "tests: not in the .config: CONFIG_Y=y (it has: nothing)" ]] ||
		nonl+="${order//$T\//}: $(tr '\n' ' ' <"$T/landed.err"); "
done
[[ -z $nonl ]] && ok "fragments_landed: a last line without a newline counts, alone, last or not" ||
	not_ok "fragments_landed: a last line without a newline: $nonl"

# ---- scripts/mdevctl-test's worktree: the same series again keeps the
# times of its files, so that its kernel is not rebuilt for them (the
# module check after the mdevctl check, a run after a run); another
# series gets new times.  The fake make all notes the time of mdev_core.c.
mt_fake() {
	env WORK_DIR="$T/mwork" BASE_TARBALL="$T/fake.tar.xz" PATCHES_DIR="$T/good" "$@" \
		"$REPO/scripts/mdevctl-test" --build-only --no-deps >"$T/mt.out" 2>&1
}
rm -rf "$T/mwork"
mtimes=$T/mwork/build/$MAINLINE-mdevctl/mdev_core.times
if mt_fake && ! grep -q 'keep their times' "$T/mt.out" && mt_fake && grep -q 'keep their times' "$T/mt.out" &&
	[[ $(wc -l <"$mtimes") -eq 2 && $(sort -u "$mtimes" | wc -l) -eq 1 ]]; then
	ok "mdevctl-test: the same series again: its files keep their times for the build"
else
	not_ok "mdevctl-test: the same series again: times $(tr '\n' ' ' <"$mtimes" 2>/dev/null)"
	sed 's/^/#   /' "$T/mt.out"
fi
ctimes=$T/mwork/build/$MAINLINE-mdevctl/config.times
[[ -f $ctimes && $(wc -l <"$ctimes") -eq 2 && $(sort -u "$ctimes" | wc -l) -eq 1 ]] &&
	ok "mdevctl-test: the same .config again keeps its time for the build" ||
	not_ok "mdevctl-test: the same .config again: times $(tr '\n' ' ' <"$ctimes" 2>/dev/null)"
# A .config that differs from the one before gets a new time (the one
# before has the time of the runs before).
echo '# changed by hand' >>"$T/mwork/build/$MAINLINE-mdevctl/.config"
touch -m -d "@$(head -n1 "$ctimes")" "$T/mwork/build/$MAINLINE-mdevctl/.config"
mt_fake
[[ -f $ctimes && $(wc -l <"$ctimes") -eq 3 && $(sort -u "$ctimes" | wc -l) -eq 2 ]] &&
	ok "mdevctl-test: a .config that differs from the one before gets a new time" ||
	not_ok "mdevctl-test: a changed .config: times $(tr '\n' ' ' <"$ctimes" 2>/dev/null)"
# A worktree with changes (a file edited, an untracked one) keeps no
# times, and is clean at the series after the run.
MT=$T/mwork/linux-$MAINLINE-mdevctl
echo edited >>"$MT/drivers/vfio/mdev/mdev_core.c"
echo x >"$MT/drivers/vfio/mdev/untracked"
if mt_fake && ! grep -q 'keep their times' "$T/mt.out" &&
	[[ $(wc -l <"$mtimes") -eq 4 && $(sort -u "$mtimes" | wc -l) -eq 2 ]] &&
	[[ -z $(git -C "$MT" status --porcelain) && ! -e $MT/drivers/vfio/mdev/untracked ]] &&
	! grep -q edited "$MT/drivers/vfio/mdev/mdev_core.c"; then
	ok "mdevctl-test: a worktree with changes keeps no times and is clean after the run"
else
	not_ok "mdevctl-test: a worktree with changes: times $(tr '\n' ' ' <"$mtimes" 2>/dev/null) status $(git -C "$MT" status --porcelain | tr '\n' ' ')"
	sed 's/^/#   /' "$T/mt.out"
fi
if mt_fake PATCHES_DIR="$T/one" && ! grep -q 'keep their times' "$T/mt.out" &&
	[[ $(wc -l <"$mtimes") -eq 5 && $(sort -u "$mtimes" | wc -l) -eq 3 ]]; then
	ok "mdevctl-test: another series: its files get new times"
else
	not_ok "mdevctl-test: another series: times $(tr '\n' ' ' <"$mtimes" 2>/dev/null)"
	sed 's/^/#   /' "$T/mt.out"
fi

# ---- the mainline base: the package from a (local) apt repository through
# the private apt state, never installed; the newest version is used.
# publish VERSION [FILE]: a repository with linux-source-MAINLINE VERSION
# only; its FILE (default README) differs from the other versions'.
publish() {
	local p=$T/pkg d
	rm -rf "$p" "$T/repo"
	mkdir -p "$p/DEBIAN" "$p/usr/src" "$T/repo" "$T/msrc"
	rm -rf "$T/msrc/linux-source-$MAINLINE"
	cp -r "$T/src/linux-source-6.12" "$T/msrc/linux-source-$MAINLINE"
	echo "/* $1 */" >>"$T/msrc/linux-source-$MAINLINE/${2:-README}"
	tar -C "$T/msrc" -cJf "$p/usr/src/linux-source-$MAINLINE.tar.xz" "linux-source-$MAINLINE"
	printf 'Package: linux-source-%s\nVersion: %s\nArchitecture: all\nMaintainer: t <t@localhost>\nDescription: fake\n' \
		"$MAINLINE" "$1" >"$p/DEBIAN/control"
	d=$T/repo/linux-source-${MAINLINE}_$1_all.deb
	dpkg-deb -Zxz --build "$p" "$d" >/dev/null
	{
		cat "$p/DEBIAN/control"
		echo "Filename: ./$(basename "$d")"
		echo "Size: $(stat -c %s "$d")"
		echo "SHA256: $(sha256sum <"$d" | cut -d' ' -f1)"
		echo
	} >"$T/repo/Packages"
}
# run_mainline ENV...: scripts/run on the mainline package of the local
# repository, with a series made on that version.
run_mainline() {
	env WORK_DIR="$T/work3" PATCHES_DIR="$T/mgood" BASE_APT_SOURCE="deb [trusted=yes] file:$T/repo ./" "$@"
}
publish "$MAINLINE.4-1~bpo13+1"
# The fake series, made on this base (other blob ids in its index lines).
rm -rf "$T/mpt" "$T/mgood"
mkdir "$T/mgood"
series_repo "$T/msrc/linux-source-$MAINLINE" "$T/mpt"
sed -i 's/line 2/line 2 changed/' "$T/mpt/drivers/vfio/mdev/mdev_core.c"
git -C "$T/mpt" commit -q -a -s -m "vfio/mdev: change line 2"
git -C "$T/mpt" format-patch -q -o "$T/mgood" base..HEAD
if [[ $(id -u) -eq 0 ]] && command -v dpkg-deb >/dev/null; then
	expect "mainline: downloads the package through the private apt state and says which version" 0 \
		"base [0-9a-f]{40} \(Linux 6.12.0-fake \(Debian linux-source-$MAINLINE\)\), linux-source-$MAINLINE $MAINLINE.4-1~bpo13\+1" \
		run_mainline "$REPO/scripts/run" --no-deps
	grep -q "downloading linux-source-$MAINLINE $MAINLINE.4-1~bpo13+1" "$T/err" &&
		[[ -s $CACHE/debs/linux-source-${MAINLINE}_$MAINLINE.4-1~bpo13+1_all.deb ]] &&
		! grep -q "$T/repo" /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null &&
		ok "mainline: the .deb is in the cache, the system's apt sources untouched" ||
		not_ok "mainline: the .deb is in the cache, the system's apt sources untouched"
	! dpkg-query -W "linux-source-$MAINLINE" >/dev/null 2>&1 && ok "mainline: the package is not installed" ||
		not_ok "mainline: the package is not installed"
	m1=$(git -C "$T/work3/linux-$MAINLINE" rev-parse base)
	publish "$MAINLINE.5-1~bpo13+1"
	expect "mainline: a newer version in the archive is used (the series' files unchanged)" 0 "linux-source-$MAINLINE $MAINLINE.5-1~bpo13\+1" \
		run_mainline "$REPO/scripts/run" --no-deps
	m2=$(git -C "$T/work3/linux-$MAINLINE" rev-parse base)
	[[ $m1 != "$m2" ]] && ok "mainline: ...with a base commit of its own" || not_ok "mainline: ...with a base commit of its own"
	expect "mainline: offline, the newest cached version is used" 0 \
		"apt-get update of trixie-backports failed .*: using linux-source-$MAINLINE $MAINLINE.5-1~bpo13\+1 from the cache" \
		run_mainline BASE_APT_SOURCE="deb [trusted=yes] file:$T/none ./" "$REPO/scripts/run" --no-deps
	expect "mainline: MAINLINE_PKG_VERSION picks a cached version" 0 "linux-source-$MAINLINE $MAINLINE.4-1~bpo13\+1" \
		run_mainline MAINLINE_PKG_VERSION="$MAINLINE.4-1~bpo13+1" BASE_APT_SOURCE="deb [trusted=yes] file:$T/none ./" \
		"$REPO/scripts/run" --no-deps
	[[ $(git -C "$T/work3/linux-$MAINLINE" rev-parse base) == "$m1" ]] && ok "mainline: ...and its base commit" ||
		not_ok "mainline: ...and its base commit"
	publish "$MAINLINE.6-1~bpo13+1" drivers/vfio/mdev/mdev_core.c
	expect "mainline: a newer version that changes a file of the series stops: rebase, exit 8" 8 \
		"the series needs a rebase onto 6.12.0-fake, linux-source-$MAINLINE $MAINLINE.6-1~bpo13\+1" \
		run_mainline "$REPO/scripts/run" --no-deps
	grep -q '^  drivers/vfio/mdev/mdev_core.c: the patches change blob' "$T/err" && ok "mainline: ...naming the file" ||
		not_ok "mainline: ...naming the file"
else
	echo "ok - # SKIP mainline package tests: need root (apt-get download as root) and dpkg-deb"
fi

# ---- the benchmark: its arguments and its report (no kernel)
expect "bench: an unknown arch, exit 2" 2 "unknown arch 'arm'" "$REPO/scripts/bench" --arch arm
expect "bench: --boots 0, exit 2" 2 '--boots needs a positive number' "$REPO/scripts/bench" --boots 0
# The fixes are the patches whose subject lacks "KUnit", whatever their
# number: a fix after the KUnit patches counts, a subject folded before
# "KUnit" does not.
mkdir -p "$T/benchfix"
bench_patch() {
	printf 'From: A <a@example.org>\nSubject: [PATCH v2 %s] %s\n\nbody\n---\n' "$2" "$3" >"$T/benchfix/$1"
}
bench_patch 0000-cover-letter.patch 0/4 "vfio/mdev: a cover letter"
bench_patch 0001-fix.patch 1/4 "vfio/mdev: Take unreg_sem first"
bench_patch 0002-stub.patch 2/4 "vfio/mdev: Let
 KUnit tests stub a function"
bench_patch 0003-tests.patch 3/4 "vfio/mdev: Add KUnit tests"
bench_patch 0004-late-fix.patch 4/4 "vfio/mdev: Give the instance back"
if out=$(PATCHES_DIR="$T/benchfix" "$REPO/scripts/bench" --list-fixes 2>&1) &&
	[[ $out == $'0001-fix.patch\tvfio/mdev: Take unreg_sem first\n0004-late-fix.patch\tvfio/mdev: Give the instance back' ]]; then
	ok "bench: --list-fixes picks the patches whose subject lacks \"KUnit\", by rule"
else
	not_ok "bench: --list-fixes picks the patches whose subject lacks \"KUnit\", by rule"
	printf '%s\n' "$out" | sed 's/^/#   /'
fi
# bench_log FILE DEVS_NS UNREG_NS [STORM]: a kernel log of one boot: a
# round of 1000 devices in DEVS_NS, unregistrations with 0 and 100
# children in UNREG_NS and 100 * UNREG_NS, registration and unregistration
# of 16 types in 2 * UNREG_NS and UNREG_NS, a storm line on 2 CPUs, on 1
# with STORM=1cpu, none with STORM=no.
bench_log() {
	{
		echo "    # bench_throughput: BENCH throughput round=0 count=1000 errors=0 total_ns=$2 create_ns=1 remove_ns=1"
		echo "    # bench_unregister: BENCH unregister children=0 rep=0 ns=$3"
		echo "    # bench_unregister: BENCH unregister children=100 rep=0 ns=$(($3 * 100))"
		echo "    # bench_types: BENCH types types=16 rep=0 register_ns=$(($3 * 2)) unregister_ns=$3"
		[[ ${4:-} == no ]] ||
			echo "    # bench_storm: BENCH storm cpus=$([[ ${4:-} == 1cpu ]] && echo 1 || echo 2) storm_cpu=1 unreg_cpu=0 children=90 ns=2000000 ops_before=30 ops_during=7 ok_during=1 ops_total=300 ok_total=30"
	} >"$1"
}
bench_report() {
	python3 "$REPO/bench/report.py" --runs "$T/runs.txt" --json "$T/bench.json" --count 1000 --boots 1 --rounds 1
}
bench_log "$T/b1.log" 1000000000 10000
bench_log "$T/p1.log" 1052631579 12000
printf 'x86_64 base 1 %s\nx86_64 patched 1 %s\nx86_64 accel tcg\n' "$T/b1.log" "$T/p1.log" >"$T/runs.txt"
if bench_report >"$T/out" 2>&1 && grep -q 'x86_64 (tcg, 2 CPUs)' "$T/out" && grep -q '(target >= 0.99 in instructions, not asserted): x86_64 0.950 (0.950-0.950)' "$T/out" &&
	grep -qE '^\|   unregister, 100 children, us \(median\) +\| +1,000\.0 \| +1,200\.0 \| +1\.200 \| +1\.200-1\.200 \|$' "$T/out" &&
	grep -qE '^\|   register, 16 types, no child, us \(median\) +\| +20\.0 \| +24\.0 \| +1\.200 \| +1\.200-1\.200 \|$' "$T/out" &&
	python3 -c 'import json, sys
a = json.load(open(sys.argv[1]))["arches"]["x86_64"]
assert round(a["ratio"]["throughput"], 3) == 0.95, a["ratio"]
assert a["ratio"]["unregister"]["0"] == 1.2 and a["patched"]["storm"]["ops_during"] == [7] and a["patched"]["storm"]["ok_during"] == [1], a
assert a["ratio"]["types"]["16"]["unregister"] == 1.2 and a["base"]["types_us"]["16"]["register"]["median"] == 20, a
assert a["boot_order"] == ["base1", "patched1"] and a["accel"] == "tcg", a' "$T/bench.json"; then
	ok "bench: the report computes the ratios, the table and the JSON"
else
	not_ok "bench: the report computes the ratios, the table and the JSON"
	sed 's/^/#   /' "$T/out"
fi
bench_log "$T/p1.log" 1052631579 12000 no
expect "bench: a boot without a storm result fails the report" 1 \
	'x86_64 patched: 0 of 1 boots report a completed unregistration under the storm' bench_report
bench_log "$T/p1.log" 1052631579 12000 1cpu
expect "bench: an x86_64 boot on one CPU fails the report" 1 \
	'x86_64 patched: the kernel ran on 1 CPU, the storm needs a CPU of its own' bench_report
: >"$T/p1.log"
if bench_report >"$T/out" 2>&1; then
	not_ok "bench: a boot that printed nothing fails the report, which still prints its table"
elif grep -q 'x86_64 patched: 0 of 1 boots report a completed unregistration' "$T/out" &&
	grep -qE '^\|   create\+remove, devices/s \(median\) +\| +1,000 \| +- \| +- \| +- \|$' "$T/out"; then
	ok "bench: a boot that printed nothing fails the report, which still prints its table"
else
	not_ok "bench: a boot that printed nothing fails the report, which still prints its table"
	sed 's/^/#   /' "$T/out"
fi

# ---- the log scanner
# scan LINE...: log_scan on a log of these lines.
scan() {
	printf '%s\n' "$@" >"$T/scan.log"
	mkdir -p "$T/work/build/x"
	(
		PROG="test"
		# shellcheck source=scripts/lib.sh
		source "$REPO/scripts/lib.sh"
		TREE=$T/work/linux
		log_scan "$T/scan.log" "$T/work/build/x"
	) >/dev/null 2>&1
}
scan 'WARNING: CPU: 0 PID: 1 at ../../linux/arch/um/drivers/virt-pci.c:1005 0x60006afa' \
	'Call Trace:' ' [<6002b090>] ? um_set_signals+0x0/0x50' '---[ end trace 0000000000000000 ]---' 'ok' &&
	ok "log_scan: a listed WARNING covers its splat" || not_ok "log_scan: a listed WARNING covers its splat"
for w in 'virt-pci.c:1005 um_pci_init+0xc7/0xd4' 'virt-pci.c:886 0x6000637d' 'virt-pci.c:886 um_pci_init+0xc7/0xd4'; do
	scan "WARNING: CPU: 0 PID: 1 at ../../linux/arch/um/drivers/$w" '---[ end trace 0000000000000000 ]---' 'ok' &&
		ok "log_scan: the listed WARNING at $w" || not_ok "log_scan: the listed WARNING at $w"
done
scan 'WARNING: CPU: 0 PID: 1 at ../../linux/arch/um/drivers/virt-pci.c:1006 0x60006afa' &&
	not_ok "log_scan: a WARNING elsewhere with a bare address fails" || ok "log_scan: a WARNING elsewhere with a bare address fails"
scan 'BUG: KASAN: slab-use-after-free in mdev_device_remove+0x1/0x2' &&
	not_ok "log_scan: a KASAN report fails" || ok "log_scan: a KASAN report fails"
scan '** 12 printk messages dropped **' &&
	not_ok "log_scan: a log with dropped messages fails" || ok "log_scan: a log with dropped messages fails"
scan 'kmemleak: 2 new suspected memory leaks (see /sys/kernel/debug/kmemleak)' &&
	not_ok "log_scan: a kmemleak report fails" || ok "log_scan: a kmemleak report fails"
scan 'Disabling lock debugging due to kernel taint' &&
	not_ok "log_scan: lockdep switched off fails" || ok "log_scan: lockdep switched off fails"
scan 'WARNING: CPU: 0 PID: 1 at ../../linux/arch/um/drivers/virt-pci.c:1005 0x60006afa' \
	'---[ end trace 0000000000000000 ]---' 'Call Trace:' &&
	not_ok "log_scan: a trace after the listed splat fails" || ok "log_scan: a trace after the listed splat fails"

echo "$FAILS failed"
[[ $FAILS -eq 0 ]]
