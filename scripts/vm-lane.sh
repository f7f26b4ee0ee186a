#!/usr/bin/env bash
# The cgroup v2 VM lane: boots Debian's own kernel in qemu with pure cgroup v2,
# the host's root shared read-only, and runs scripts/vm/guest.sh there: doctor, breakout and
# the integration tests that touch cgroups, as root and as an unprivileged user
# with a delegated subtree. Needs the release build, the guests and the test user
# (scripts/test.sh makes them first). Installs qemu and busybox (apt) and fetches
# the kernel package from bookworm-backports once (build/vm/), idempotently.
# AGENTBOX_VM=0 skips it (said, never silent); AGENTBOX_VM_ACCEL=kvm|tcg forces the
# accelerator. `scripts/vm-lane.sh --bench` runs only the cold-start benchmark, with
# its full counts.
source "$(dirname "$0")/lib.sh"
BENCH=; [ "${1:-}" = --bench ] && BENCH=1
VM="$ROOT/build/vm"
mkdir -p "$VM"
# A lane that cannot run is said, never silent; under CI (CI=true) it fails the
# suite instead, unless AGENTBOX_VM=0 asked for the skip.
skip() {
    say "SKIPPED: the cgroup v2 VM lane: $*"; echo "skipped: $*" > "$VM/skipped"
    if [ "${CI:-}" = true ] && [ "${AGENTBOX_VM:-1}" != 0 ]; then say "(under CI a skipped lane fails the suite)"; exit 1; fi
    exit 0
}
rm -f "$VM/skipped"
[ "${AGENTBOX_VM:-1}" = 0 ] && skip "AGENTBOX_VM=0"
[ "$(uname -m)" = x86_64 ] || skip "it boots an x86_64 Debian kernel; this host is $(uname -m)"
case "$ROOT$(target_dir)" in *[[:space:]]*) skip "the checkout's path has a space, which the kernel command line cannot carry";; esac
USER_NAME="${AGENTBOX_TEST_USER:-agentbox-test}"
id -u "$USER_NAME" >/dev/null 2>&1 || skip "user $USER_NAME is missing (scripts/unprivileged.sh creates it)"
apt_install qemu-system-x86 busybox-static xz-utils zstd debian-archive-keyring
ldd /bin/busybox >/dev/null 2>&1 && skip "/bin/busybox is dynamically linked (the initramfs needs busybox-static's)"

# The kernel: Debian's own, from bookworm-backports (6.12: Landlock ABI 6;
# bookworm's 6.1 has ABI 2, under the 3 agentbox needs). A private apt state in
# build/vm, so the host's sources stay as they are.
A="$VM/apt"
APT=(-o "Dir::Etc::SourceList=/dev/null" -o "Dir::Etc::SourceParts=$A/sources" -o "Dir::State::Lists=$A/lists"
     -o "Dir::Cache=$A/cache" -o "Debug::NoLocking=1" -o "APT::Sandbox::User=root")
mkdir -p "$A/sources" "$A/lists/partial" "$A/cache/archives/partial" "$VM/dl"
cat > "$A/sources/backports.sources" <<SRC
Types: deb
URIs: ${AGENTBOX_VM_MIRROR:-http://deb.debian.org/debian}
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
KDEB=$(ls "$VM"/dl/linux-image-6.*-amd64_*.deb 2>/dev/null | head -1 || true)
if [ -z "$KDEB" ]; then
    say "fetching Debian's kernel package (bookworm-backports) for the VM"
    apt-get "${APT[@]}" -q update >"$VM/apt-update.log" 2>&1 || { cat "$VM/apt-update.log" >&2; skip "cannot update bookworm-backports' package list (above)"; }
    PKG=$(apt-cache "${APT[@]}" depends linux-image-amd64 | awk '/Depends: linux-image-6/{print $2; exit}')
    [ -n "$PKG" ] || skip "bookworm-backports names no linux-image-amd64 kernel"
    (cd "$VM/dl" && apt-get "${APT[@]}" -q download "$PKG") || skip "cannot download $PKG"
    KDEB=$(ls "$VM"/dl/linux-image-6.*-amd64_*.deb | head -1)
fi
K="$VM/kernel"
if [ ! -f "$K/initrd.cpio.gz" ] || [ -n "$(find "$ROOT"/scripts/vm/{init,stage2,build-initrd.sh} "$KDEB" /bin/busybox -newer "$K/initrd.cpio.gz" 2>/dev/null)" ]; then
    "$ROOT/scripts/vm/build-initrd.sh" "$KDEB" /bin/busybox "$K"
fi

# KVM runs a stock kernel only with hardware virtualisation (vmx/svm); a /dev/kvm
# without it (a paravirtual one, as on some cloud VMs) cannot boot Debian's kernel.
ACCEL="${AGENTBOX_VM_ACCEL:-}"
if [ -z "$ACCEL" ]; then
    if [ -w /dev/kvm ] && grep -qwE 'vmx|svm' /proc/cpuinfo; then ACCEL=kvm; else
        ACCEL=tcg
        say "no hardware virtualisation here (/dev/kvm $([ -e /dev/kvm ] && echo "without vmx/svm in /proc/cpuinfo" || echo missing)): the VM runs under qemu's TCG emulator, 25-40x slower"
    fi
fi
case "$ACCEL" in kvm) ACCEL_ARGS=(-accel kvm -cpu host);; *) ACCEL_ARGS=(-accel tcg,thread=multi -cpu max);; esac
BIOS=(); [ -f /usr/share/qemu/qboot.rom ] && BIOS=(-bios /usr/share/qemu/qboot.rom)

# What the guest runs: the test binaries that touch cgroups.
cd "$ROOT"
for f in agentbox agentbox-worker xtask; do
    [ -x "$(target_dir)/release/$f" ] || { say "$(target_dir)/release/$f is missing: build first (scripts/test.sh)"; exit 1; }
done
OUT="$VM/results"
rm -rf "$OUT"; mkdir -p "$OUT"
cargo test --release --locked -p agentbox-cli --test cleanup --test limits --test native --test fail_closed \
    --test tool_runs --test pool -p agentbox-confine --test spawn --no-run --message-format=json |
    python3 -c 'import json,sys
for l in sys.stdin:
    m = json.loads(l)
    if m.get("reason") == "compiler-artifact" and m.get("profile", {}).get("test") and m.get("executable") and m["target"]["kind"] == ["test"]:
        print(m["executable"])' > "$OUT/test-bins"
[ -s "$OUT/test-bins" ] || { say "no test binaries for the VM lane"; exit 1; }
{
    printf 'ROOT=%q\nTARGET=%q\nTEST_USER=%q\n' "$ROOT" "$(target_dir)" "$USER_NAME"
    printf 'CARGO_TARGET_DIR=%q\nexport CARGO_TARGET_DIR\n' "$(target_dir)"
    [ -n "$BENCH" ] || printf 'BENCH_QUICK=1\nexport BENCH_QUICK\n'
} > "$OUT/lane.env"

# boot CGROUP: one VM, its console on stderr (and in a file); prints the guest's
# exit status.
boot() {
    local extra=() log="$OUT/console-$1.txt"
    extra=(cgroup_no_v1=all); [ "$1" = v2-bench ] && extra+=(vmbench)
    rm -f "$OUT/rc"
    timeout --kill-after=10 "${AGENTBOX_VM_TIMEOUT:-2400}" qemu-system-x86_64 "${ACCEL_ARGS[@]}" "${BIOS[@]}" \
        -machine q35 -m 4096 -smp 2 -nodefaults -no-user-config -display none -serial stdio -no-reboot \
        -kernel "$K/vmlinuz" -initrd "$K/initrd.cpio.gz" \
        -append "console=ttyS0 quiet loglevel=4 panic=-1 rdinit=/init ${extra[*]} vmcmd=$ROOT/scripts/vm/guest.sh" \
        -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
        -virtfs local,path="$OUT",mount_tag=results,security_model=none,multidevs=remap \
        -device isa-debug-exit,iobase=0xf4,iosize=0x04 </dev/null | tee "$log" >&2
    local q=${PIPESTATUS[0]}
    if [ -s "$OUT/rc" ]; then cat "$OUT/rc"; else
        say "the VM ($1) gave no result (qemu exit $q; 124 = timed out): see $log"; echo 255; fi
}
if [ -n "$BENCH" ]; then
    say "booting Debian's kernel $(cat "$K/version") in qemu ($ACCEL), pure cgroup v2: the cold-start benchmark"
    rc=$(boot v2-bench)
    [ "$rc" = 0 ] || { say "the benchmark boot failed (exit $rc)"; exit 1; }
    say "cold start in the VM on cgroup v2 (the cgroup layer's cost: cold confined against the row without cgroup):"
    grep -hE '^\| (cold confined|reference|diagnostic)|medians' "$OUT/bench-v2.txt" >&2
    exit 0
fi
say "booting Debian's kernel $(cat "$K/version") in qemu ($ACCEL), pure cgroup v2: doctor, breakout and the cgroup tests, as root and as $USER_NAME"
start=$(date +%s)
rc=$(boot v2)
say "VM lane (cgroup v2): $(grep -c '^vm-lane: ok' "$OUT/console-v2.txt" || true) steps ok, exit $rc, $(( $(date +%s) - start )) s"
[ "$rc" = 0 ] || { grep '^vm-lane: FAIL' "$OUT/console-v2.txt" >&2 || true; exit 1; }
say "cold start in the VM on cgroup v2 (quick; scripts/vm-lane.sh --bench: full counts):"
grep -hE '^\| (cold confined|reference|diagnostic)|medians' "$OUT/bench-v2.txt" >&2
say "VM lane passed"
