#!/usr/bin/env bash
# Runs the official WASI test suite's preview1 tests (WebAssembly/wasi-testsuite)
# through `agentbox run`, with the suite's own Python runner and agentbox's runtime
# adapter (tests/wasi-testsuite/agentbox_adapter.py). See docs/wasi-testsuite.md.
#
#   scripts/wasi-testsuite.sh [--user NAME | --syscalls]
#
# WASI_TESTSUITE: a copy of the suite (its prod/testsuite-base branch, which holds
# the prebuilt tests; default build/wasi-testsuite). The suite is not part of this
# repository. Without a copy the script says so and, when WASI_TESTSUITE_OPTIONAL=1
# (scripts/test.sh), ends with status 0 having run nothing; otherwise status 1.
# --user NAME: every `agentbox run` runs as NAME (an unprivileged user with a
# delegated cgroup, as set up by scripts/unprivileged.sh); the runner stays root.
# --syscalls: runs every test under `strace -ff` with the seccomp layer off and lists
# the system calls the wasm workers made after confinement, each checked against
# profiles/seccomp/wasm-worker.toml (tests/wasi-testsuite/syscalls.py): how the
# profile's coverage of ordinary WASI file operations is derived from the suite.
# Ends with the line `wasi-testsuite: N passed, N failed, N skipped`; status 0 when
# no test failed.
source "$(dirname "$0")/lib.sh"
RUN_AS=""
SYSCALLS=0
while [ $# -gt 0 ]; do
    case "$1" in
        --user) RUN_AS="$2"; shift 2 ;;
        --syscalls) SYSCALLS=1; shift ;;
        *) say "usage: $0 [--user NAME | --syscalls]"; exit 2 ;;
    esac
done
SUITE="${WASI_TESTSUITE:-$ROOT/build/wasi-testsuite}"
if [ ! -f "$SUITE/test-runner/wasi_test_runner.py" ]; then
    say "no copy of the WASI test suite at $SUITE: set WASI_TESTSUITE to a checkout of"
    say "WebAssembly/wasi-testsuite's prod/testsuite-base branch (docs/wasi-testsuite.md)"
    if [ "${WASI_TESTSUITE_OPTIONAL:-0}" = 1 ]; then
        say "wasi-testsuite: not run"
        exit 0
    fi
    exit 1
fi
setup_wasi_runner
AGENTBOX_BIN="$(target_dir)/release/agentbox"
[ -x "$AGENTBOX_BIN" ] || { say "build agentbox first: cargo build --release"; exit 1; }

# A fresh copy of the tests for each run: tests write into their root directory.
WORK="$(mktemp -d /tmp/agentbox-wasi-XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
chmod 755 "$WORK"
SUITES=()
for lang in c rust assemblyscript; do
    src="$SUITE/tests/$lang/testsuite/wasm32-wasip1"
    [ -d "$src" ] || continue
    mkdir -p "$WORK/tests/$lang"
    cp -a "$src" "$WORK/tests/$lang/"
    SUITES+=("$WORK/tests/$lang/wasm32-wasip1")
done
[ "${#SUITES[@]}" -gt 0 ] || { say "no preview1 tests under $SUITE/tests"; exit 1; }
mkdir -p "$WORK/manifests" "$WORK/cache"
chmod 700 "$WORK/cache"
export AGENTBOX="$AGENTBOX_BIN" AGENTBOX_WASI_WORK="$WORK/manifests"
export AGENTBOX_CACHE_DIR="$WORK/cache"
if [ -n "$RUN_AS" ]; then
    chown -R "$RUN_AS" "$WORK/tests" "$WORK/cache"
    chmod -R a+rX "$WORK/manifests"
    HOME_DIR="$(getent passwd "$RUN_AS" | cut -d: -f6)"
    export AGENTBOX_WASI_PREFIX="runuser -u $RUN_AS -- env -i HOME=$HOME_DIR PATH=/usr/bin:/bin TMPDIR=/tmp AGENTBOX_CACHE_DIR=$WORK/cache"
    say "running the WASI test suite as $RUN_AS"
elif [ "$SYSCALLS" = 1 ]; then
    apt_install strace
    mkdir -p "$WORK/strace"
    export AGENTBOX_WASI_PREFIX="strace -ff -qq -o $WORK/strace/trace"
    export AGENTBOX_WASI_ARGS="--dangerously-disable-layer seccomp"
    say "running the WASI test suite under strace, seccomp layer off"
else
    say "running the WASI test suite as $(id -un)"
fi
# The runner's --version probe of the adapter must see nothing on stderr.
set +e
"$ROOT/.venv/bin/python" "$ROOT/tests/wasi-testsuite/run_runner.py" "$SUITE/test-runner/wasi_test_runner.py" \
    -r "$ROOT/tests/wasi-testsuite/agentbox_adapter.py" \
    -t "${SUITES[@]}" \
    -e "$ROOT/tests/wasi-testsuite/expectations.toml" \
    --json-output-location "$WORK/results.json" --disable-colors >"$WORK/runner.log" 2>&1
runner_status=$?
set -e
cat "$WORK/runner.log"
[ -f "$WORK/results.json" ] || { say "the runner wrote no results (status $runner_status)"; exit 1; }
"$ROOT/.venv/bin/python" - "$WORK/results.json" <<'EOF'
import json, sys
data = json.load(open(sys.argv[1]))
passed = failed = skipped = 0
for suite in data["results"]:
    for t in suite["tests"]:
        o = t["outcome"]
        if o == "pass":
            passed += 1
        elif o == "skip":
            skipped += 1
        elif o == "xfail":
            # Listed in tests/wasi-testsuite/expectations.toml with its reason; it
            # ran and failed as expected. Counted apart, never as passed.
            skipped += 1
            print(f"known failure (expectations.toml): {suite['name']}: {t['name']}")
        else:
            failed += 1
            print(f"FAILED ({o}): {suite['name']}: {t['name']}")
print(f"wasi-testsuite: {passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed else 0)
EOF
if [ "$SYSCALLS" = 1 ]; then
    "$ROOT/.venv/bin/python" "$ROOT/tests/wasi-testsuite/syscalls.py" "$WORK/strace" \
        "$ROOT/profiles/seccomp/wasm-worker.toml"
fi
