#!/bin/sh
# The VM lane's tests, run inside the VM by stage2 (vmcmd=), as root, on Debian's
# kernel with pure cgroup v2 (as systemd sets it up). The host wrote
# $R/lane.env (the checkout, the target directory, the test user) and
# $R/test-bins (test binaries that touch cgroups). Each step prints
# "vm-lane: ok|FAIL step"; the exit status is the number of failed steps.
set -u
R=/run/vm/results
. "$R/lane.env"            # ROOT, TARGET, TEST_USER
T="$TARGET/release"
fails=0
step() { # step NAME CMD...: runs CMD, records the outcome
    name=$1; shift
    echo "vm-lane: --- $name"
    t0=$(date +%s)
    if "$@"; then echo "vm-lane: ok $name ($(( $(date +%s) - t0 )) s)"; else
        echo "vm-lane: FAIL $name (exit $?, $(( $(date +%s) - t0 )) s)"; fails=$((fails + 1)); fi
}
leftovers() { # cgroups of finished invocations still there
    find /sys/fs/cgroup -mindepth 1 -type d \( -name 'run-*' -o -name 'pool-*' -o -name 'compile-*' \) 2>/dev/null
}
no_leftovers() { l=$(leftovers); [ -z "$l" ] || { echo "left behind: $l"; return 1; }; }

if grep -q 'vmbench' /proc/cmdline; then
    # A benchmark boot (scripts/vm-lane.sh --bench): cold start only.
    cd /tmp && "$T/xtask" bench --cold-only ${BENCH_QUICK:+--quick} > "$R/bench-v2.txt"
    rc=$?; cat "$R/bench-v2.txt"; exit $rc
fi
echo "vm-lane: cgroup2 offers: $(cat /sys/fs/cgroup/cgroup.controllers); enabled for children: $(cat /sys/fs/cgroup/cgroup.subtree_control)"

# --- as root
doctor_root() { "$T/agentbox" doctor > /tmp/doctor; rc=$?; cat /tmp/doctor; [ $rc -eq 0 ] && grep -q 'ok      cgroup v2: parent `agentbox` usable' /tmp/doctor; }
step "root: agentbox doctor (cgroup v2 usable)" doctor_root
while read -r b; do
    step "root: $(basename "$b")" sh -c 'cd /tmp && "$1" --test-threads=2 -q' _ "$b"
done < "$R/test-bins"
step "root: agentbox breakout" sh -c "cd /tmp && '$T/agentbox' breakout >/tmp/breakout.out 2>&1 || { cat /tmp/breakout.out; exit 1; }"
step "root: no cgroup left behind" no_leftovers

# --- an unprivileged user
U=$(id -u "$TEST_USER"); G=$(id -g "$TEST_USER")
P=/sys/fs/cgroup/agentbox-$U
H=/tmp/home-$U; mkdir -p "$H"; chown "$U:$G" "$H"
as_user() { # as_user CGROUP CMD...: CMD as the test user, started inside CGROUP
    cg=$1; shift
    sh -c 'echo $$ > "$1/cgroup.procs" && shift && exec setpriv --reuid="$U" --regid="$G" --clear-groups --inh-caps=-all env -i HOME="$H" PATH=/usr/bin:/bin TMPDIR=/tmp "$@"' _ "$cg" "$@"
}
export U G H
# Without delegation agentbox refuses, and doctor names the fix.
refused_without() {
    as_user /sys/fs/cgroup "$T/agentbox" doctor > /tmp/d1; rc=$?; cat /tmp/d1
    [ $rc -eq 125 ] && grep -q 'REFUSE  cgroup v2' /tmp/d1 && grep -q 'ask an administrator to delegate a cgroup' /tmp/d1 || return 1
    as_user /sys/fs/cgroup "$T/agentbox" run "$ROOT/examples/hello/agentbox.toml" --input '{"name":"Ada"}' 2>/tmp/r1
    rc=$?; cat /tmp/r1
    [ $rc -eq 125 ] && grep -q 'cgroup' /tmp/r1
}
step "user: no delegated cgroup: doctor names the fix, run refuses" refused_without
# Delegated (cgroup-v2.rst, "Delegation"), but agentbox started outside it: the
# kernel refuses to move workers there, and doctor says to start inside.
# The user gets the directory and what creating, entering and enabling need,
# not the delegation root's own limits.
mkdir -p "$P/session"
chown "$U:$G" "$P" "$P/cgroup.procs" "$P/cgroup.threads" "$P/cgroup.subtree_control"
chown -R "$U:$G" "$P/session"
echo '+memory +pids +cpu' > "$P/cgroup.subtree_control"
refused_outside() {
    as_user /sys/fs/cgroup "$T/agentbox" doctor > /tmp/d2; rc=$?; cat /tmp/d2
    [ $rc -eq 125 ] && grep -q "outside /agentbox-$U" /tmp/d2
}
step "user: started outside the delegated subtree: doctor says so" refused_outside
doctor_user() { as_user "$P/session" "$T/agentbox" doctor > /tmp/d3; rc=$?; cat /tmp/d3; [ $rc -eq 0 ] && grep -q "ok      cgroup v2: parent \`agentbox-$U\` usable" /tmp/d3; }
step "user: agentbox doctor (delegated cgroup v2 usable)" doctor_user
while read -r b; do
    step "user: $(basename "$b")" as_user "$P/session" sh -c 'cd /tmp && "$0" --test-threads=2 -q' "$b"
done < "$R/test-bins"
step "user: agentbox breakout" as_user "$P/session" sh -c "cd /tmp && '$T/agentbox' breakout >/tmp/ubreakout.out 2>&1 || { cat /tmp/ubreakout.out; exit 1; }"
step "user: no cgroup left behind" no_leftovers

# --- cold start on v2, quick (scripts/vm-lane.sh --bench: full counts)
step "cold-start benchmark, cgroup v2" sh -c "cd /tmp && '$T/xtask' bench --cold-only ${BENCH_QUICK:+--quick} > '$R/bench-v2.txt'; rc=\$?; cat '$R/bench-v2.txt'; exit \$rc"

echo "vm-lane: $fails step(s) failed"
[ "$fails" -eq 0 ]
