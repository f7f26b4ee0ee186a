#!/usr/bin/env bash
# One command: set up what the hello example needs, build agentbox, build the
# example from C source, and run it.
source "$(dirname "$0")/lib.sh"
need_rust
apt_install "${C_PACKAGES[@]}"
cd "$ROOT"
say "building agentbox (release; the first build takes a few minutes)"
build_agentbox
cargo xtask guests c
AGENTBOX="$(target_dir)/release/agentbox"
set -x
"$AGENTBOX" doctor || true
"$AGENTBOX" check examples/hello/agentbox.toml
"$AGENTBOX" run examples/hello/agentbox.toml --input '{"name": "Ada"}'
