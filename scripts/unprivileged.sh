#!/usr/bin/env bash
# Runs the integration tests again as an unprivileged user, the way users run
# agentbox: creates the user `agentbox-test` and a cgroup delegated to it
# (idempotently), lets it reach the checkout, and runs the already built test
# binaries of crates/cli, ipc and confine as that user.
source "$(dirname "$0")/lib.sh"
USER_NAME="${AGENTBOX_TEST_USER:-agentbox-test}"
if ! id -u "$USER_NAME" >/dev/null 2>&1; then
    say "creating user $USER_NAME"
    as_root useradd --create-home --shell /usr/sbin/nologin "$USER_NAME"
fi
TEST_UID="$(id -u "$USER_NAME")"
PARENT="agentbox-$TEST_UID"
if [ "$(stat -fc %T /sys/fs/cgroup)" = "cgroup2fs" ]; then
    say "delegating cgroup v2 /sys/fs/cgroup/$PARENT to $USER_NAME"
    as_root mkdir -p "/sys/fs/cgroup/$PARENT"
    as_root sh -c "echo '+memory +pids +cpu' > /sys/fs/cgroup/cgroup.subtree_control" || true
    as_root chown -R "$TEST_UID" "/sys/fs/cgroup/$PARENT"
    as_root sh -c "echo '+memory +pids +cpu' > /sys/fs/cgroup/$PARENT/cgroup.subtree_control" || true
else
    for c in memory pids cpu cpuacct; do
        [ -d "/sys/fs/cgroup/$c" ] || continue
        as_root mkdir -p "/sys/fs/cgroup/$c/$PARENT"
        as_root chown -R "$TEST_UID" "/sys/fs/cgroup/$c/$PARENT"
    done
    say "delegated cgroup v1 $PARENT (memory, pids, cpu, cpuacct) to $USER_NAME"
fi
apt_install acl
# The user needs to traverse to the checkout and the target directory. ACL entries
# are added only where the user lacks access: a named entry on a directory such as
# /tmp would otherwise *replace* the access it has as "other".
can() { as_root runuser -u "$USER_NAME" -- test "$1" "$2" 2>/dev/null; }
TARGET="$(target_dir)"
for base in "$ROOT" "$TARGET"; do
    d="$base"
    while [ "$d" != "/" ]; do
        can -x "$d" || as_root setfacl -m "u:$USER_NAME:rx" "$d"
        d="$(dirname "$d")"
    done
done
for p in "$ROOT/build" "$ROOT/examples" "$ROOT/wit" "$ROOT/.venv" "$TARGET/release"; do
    [ -e "$p" ] || continue
    can -r "$p" || as_root setfacl -R -m "u:$USER_NAME:rX" "$p"
done
cd "$ROOT"
mapfile -t BINS < <(cargo test --release --locked -p agentbox-cli -p agentbox-ipc -p agentbox-confine --no-run --message-format=json 2>/dev/null |
    python3 -c 'import json,sys
for l in sys.stdin:
    m = json.loads(l)
    if m.get("reason") == "compiler-artifact" and m.get("profile", {}).get("test") and m.get("executable") and m["target"]["kind"] == ["test"]:
        print(m["executable"])')
[ "${#BINS[@]}" -gt 0 ] || { say "no test binaries found"; exit 1; }
HOME_DIR="$(getent passwd "$USER_NAME" | cut -d: -f6)"
as_root runuser -u "$USER_NAME" -- env -i HOME="$HOME_DIR" PATH=/usr/bin:/bin "$TARGET/release/agentbox" doctor
say "as $USER_NAME: agentbox breakout --layers"
(cd /tmp && as_root runuser -u "$USER_NAME" -- env -i HOME="$HOME_DIR" PATH=/usr/bin:/bin TMPDIR=/tmp "$TARGET/release/agentbox" breakout --layers)
for b in "${BINS[@]}"; do
    say "as $USER_NAME: $(basename "$b")"
    (cd /tmp && as_root runuser -u "$USER_NAME" -- env -i HOME="$HOME_DIR" PATH=/usr/bin:/bin TMPDIR=/tmp "$b" --test-threads=2 -q)
done
say "unprivileged tests passed"
