# Shared by the scripts: idempotent installation of what agentbox's build and tests need.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-2}"
# The scripts build from scratch or rarely: incremental compilation gains them
# nothing, and its caches take gigabytes of the target directory (a CI run once ran
# out of disk). Off unless asked for.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"

say() { printf 'setup: %s\n' "$*" >&2; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
        say "need root (or sudo) to run: $*"; exit 1; fi
}

# apt_install PKG...: installs the packages that are not installed yet.
apt_install() {
    local missing=()
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    if [ "${#missing[@]}" -gt 0 ]; then
        say "installing Debian packages: ${missing[*]}"
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
    fi
}

need_rust() {
    if ! command -v cargo >/dev/null; then
        say "cargo is missing: install Rust 1.95 or newer (https://rustup.rs), then run this again"
        exit 1
    fi
}

# C guests: clang + wasi-libc; Rust guests: Debian's rustc-web with std sources.
C_PACKAGES=(clang lld wasi-libc libclang-rt-14-dev-wasm32)
RUST_GUEST_PACKAGES=(rustc-web cargo-web rust-web-src rust-web-llvm lld-22)
PY_PACKAGES=(python3 python3-venv)
# chromium: the audit report is rendered headless in the test suite.
TEST_PACKAGES=(bubblewrap gcc libc6-dev procps acl util-linux iproute2 ca-certificates chromium)

# .venv is made from Debian's own Python (not whatever python3 comes first on PATH,
# which may live in root's home): the unprivileged test user runs componentize-py too.
setup_python() {
    apt_install "${PY_PACKAGES[@]}"
    case "$(readlink -f "$ROOT/.venv/bin/python3" 2>/dev/null)" in
        /usr/bin/*) ;;
        *) [ -e "$ROOT/.venv" ] && say "remaking .venv from /usr/bin/python3"; rm -rf "$ROOT/.venv" ;;
    esac
    if [ ! -x "$ROOT/.venv/bin/componentize-py" ] || ! "$ROOT/.venv/bin/componentize-py" --version 2>/dev/null | grep -q "0.25.1"; then
        say "installing componentize-py 0.25.1 into .venv"
        /usr/bin/python3 -m venv "$ROOT/.venv"
        "$ROOT/.venv/bin/pip" install -q "componentize-py==0.25.1"
    fi
}

target_dir() {
    echo "${CARGO_TARGET_DIR:-$ROOT/target}"
}

# agentbox and, next to it, the run worker's binary. The worker is a cargo
# invocation of its own: built alone, it gets no feature another crate asks for
# (no compiler, no TLS), which a workspace-wide build would unify into it.
build_agentbox() {
    cargo build --release --locked -q "$@"
    cargo build --release --locked -q -p agentbox-worker --features standalone --bin agentbox-worker
}

# The MCP end-to-end suite's client (tests/mcp, run by crates/cli/tests/mcp.rs): the
# official Python MCP SDK, pytest and httpx2, pinned, in build/mcp-venv — and the
# OpenTelemetry project's protobuf classes, with which the OTLP test's receiver decodes
# what the exporter sends. Made from Debian's own Python so that the unprivileged test
# user can run it too.
MCP_CLIENT_PINS=("mcp==2.3.0" "httpx2==2.17.0" "pytest==9.2.0" "opentelemetry-proto==1.45.2" "protobuf==7.36.2")
setup_mcp_client() {
    apt_install "${PY_PACKAGES[@]}"
    local venv="$ROOT/build/mcp-venv"
    [ -x "$venv/bin/pip" ] || /usr/bin/python3 -m venv --clear "$venv"
    if ! "$venv/bin/python" - <<'PY' 2>/dev/null
import importlib.metadata as m, sys
want = {"mcp": "2.3.0", "httpx2": "2.17.0", "pytest": "9.2.0", "opentelemetry-proto": "1.45.2", "protobuf": "7.36.2"}
sys.exit(any(m.version(k) != v for k, v in want.items()))
PY
    then
        say "installing ${MCP_CLIENT_PINS[*]} into build/mcp-venv (the MCP tests' client)"
        "$venv/bin/pip" install -q "${MCP_CLIENT_PINS[@]}"
    fi
}

# The MCP Inspector's CLI, for a smoke test of `agentbox mcp`: installed into
# build/inspector where Node.js and npm exist (the test says so and skips otherwise).
INSPECTOR_VERSION=2.12.0
setup_inspector() {
    if ! command -v npm >/dev/null || ! command -v node >/dev/null; then
        say "no Node.js/npm: the MCP Inspector smoke test will be skipped"
        return 0
    fi
    local dir="$ROOT/build/inspector"
    if ! grep -qs "\"version\": \"$INSPECTOR_VERSION\"" "$dir/node_modules/@modelcontextprotocol/inspector/package.json"; then
        say "installing @modelcontextprotocol/inspector $INSPECTOR_VERSION into build/inspector"
        mkdir -p "$dir"
        npm install --prefix "$dir" --no-audit --no-fund --loglevel=error "@modelcontextprotocol/inspector@$INSPECTOR_VERSION"
    fi
}

# JavaScript guests: componentize-js and rolldown, pinned by the lockfile in
# guest-sdk/js/toolchain, installed with `npm ci` into build/js-toolchain (again only
# when the lockfile changed). Node.js 20 and npm come from the system (Debian package
# `nodejs`).
setup_js() {
    command -v node >/dev/null && command -v npm >/dev/null || apt_install nodejs npm
    local dir="$ROOT/build/js-toolchain" src="$ROOT/guest-sdk/js/toolchain"
    if ! cmp -s "$src/package-lock.json" "$dir/package-lock.json" || [ ! -x "$dir/node_modules/.bin/componentize-js" ]; then
        say "installing the JavaScript guest toolchain (componentize-js, rolldown) into build/js-toolchain"
        rm -rf "$dir" && mkdir -p "$dir"
        cp "$src/package.json" "$src/package-lock.json" "$dir/"
        (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
    fi
}

# The WASI test suite's runner (scripts/wasi-testsuite.sh): Python with colorama, in .venv.
setup_wasi_runner() {
    apt_install "${PY_PACKAGES[@]}"
    [ -x "$ROOT/.venv/bin/python" ] || python3 -m venv "$ROOT/.venv"
    if ! "$ROOT/.venv/bin/python" -c 'import colorama, sys; sys.exit(colorama.__version__ != "0.4.6")' 2>/dev/null; then
        say "installing colorama 0.4.6 into .venv (the WASI test suite's runner)"
        "$ROOT/.venv/bin/pip" install -q "colorama==0.4.6"
    fi
}
