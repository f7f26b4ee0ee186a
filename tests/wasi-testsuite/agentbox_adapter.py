"""agentbox runtime adapter for the WASI test suite's runner (WebAssembly/wasi-testsuite).

The runner imports this module and calls `compute_argv` for every test. For each
test we write a manifest with one `kind = "command"` tool: the test's `.wasm` as the
component, its arguments after `--`, its environment variables as `[tools.t.env]`,
and its root directory (if any) as one read-write fs grant named `/` -- what
`wasmtime run --dir ROOT::/` gives it. The argv we return runs `agentbox run` on
that manifest; the runner then compares agentbox's stdout, stderr and exit status
with the test's expectations. Nothing here knows or decides any test's result.

Environment:
  AGENTBOX           the agentbox binary (default: `agentbox` on PATH)
  AGENTBOX_WASI_WORK where manifests are written (default: a fresh temporary directory)
  AGENTBOX_WASI_PACK set to 1 to turn each core module into a component with
                     `agentbox pack --world command` first (how the suite had to be
                     run before agentbox ran preview1 modules directly; kept to
                     compare the two paths)
  AGENTBOX_WASI_PREFIX a command that runs agentbox (split on spaces), e.g.
                     `runuser -u agentbox-test -- env -i HOME=/home/agentbox-test ...`
                     to run every test as an unprivileged user
  AGENTBOX_WASI_ARGS extra arguments for `agentbox run` (split on spaces), e.g.
                     `--dangerously-disable-layer seccomp` to tell a filter kill
                     from a WASI failure while debugging
"""

import hashlib
import json
import os
import shlex
import subprocess
import tempfile
from pathlib import Path
from typing import Dict, List, Optional, Tuple

AGENTBOX = os.environ.get("AGENTBOX", "agentbox")
TOOL = "t"

_work: Optional[Path] = None
_count = 0


def _workdir() -> Path:
    global _work  # pylint: disable=global-statement
    if _work is None:
        base = os.environ.get("AGENTBOX_WASI_WORK")
        if base:
            Path(base).mkdir(parents=True, exist_ok=True)
            _work = Path(tempfile.mkdtemp(prefix="run-", dir=base))
        else:
            _work = Path(tempfile.mkdtemp(prefix="agentbox-wasi-"))
        # Readable by the user agentbox may run as (AGENTBOX_WASI_PREFIX); the
        # manifests hold nothing secret.
        _work.chmod(0o755)
    return _work


def get_name() -> str:
    return "agentbox"


def get_version() -> str:
    result = subprocess.run([AGENTBOX, "--version"], encoding="UTF-8",
                            capture_output=True, check=True)
    words = result.stdout.split()
    return words[-1] if words else "unknown"


def get_wasi_versions() -> List[str]:
    # Preview 1 only: agentbox runs WASI 0.2 components and preview1 core modules;
    # the suite's wasm32-wasip3 tests need WASI 0.3, which agentbox does not offer.
    return ["wasm32-wasip1"]


def get_wasi_worlds() -> List[str]:
    return ["wasi:cli/command"]


def get_timeout_seconds() -> float:
    # The first run of each test compiles it (the Rust tests are ~2 MB each); the
    # manifest's own limits stop a runaway test well before this.
    return 60.0


def _toml_str(s: str) -> str:
    # A JSON string is a valid TOML basic string for everything json.dumps emits
    # (\" \\ \n \t \uXXXX), with ensure_ascii keeping control characters escaped.
    return json.dumps(s, ensure_ascii=True)


def _component(test_path: str, work: Path) -> str:
    if os.environ.get("AGENTBOX_WASI_PACK") != "1":
        return str(Path(test_path).resolve())
    digest = hashlib.sha256(Path(test_path).read_bytes()).hexdigest()[:16]
    packed = work.parent / f"packed-{digest}.wasm"
    if not packed.exists():
        tmp = packed.with_suffix(".tmp")
        subprocess.run([AGENTBOX, "pack", test_path, "-o", str(tmp), "--world", "command"],
                       check=True, capture_output=True)
        tmp.rename(packed)
    return str(packed)


def manifest_text(component: str, name: str, env: Dict[str, str],
                  root: Optional[str]) -> str:
    lines = [
        "version = 1",
        "",
        f"[tools.{TOOL}]",
        'kind = "command"',
        f"component = {_toml_str(component)}",
        f"rationale = {_toml_str('wasi-testsuite test ' + name)}",
        "",
        f"[tools.{TOOL}.limits]",
        'timeout = "30s"',
        'cpu = "30s"',
        'memory = "256MiB"',
    ]
    if env:
        lines += ["", f"[tools.{TOOL}.env]"]
        lines += [f"{_toml_str(k)} = {_toml_str(v)}" for k, v in env.items()]
    if root:
        lines += [
            "",
            f"[[tools.{TOOL}.fs]]",
            f"host = {_toml_str(str(Path(root).resolve()))}",
            'guest = "/"',
            'access = "rw"',
            'rationale = "the test\'s root directory, preopened as / (wasmtime run --dir ROOT::/)"',
        ]
    return "\n".join(lines) + "\n"


def compute_argv(test_path: str,
                 args_env_root: Tuple[List[str], Dict[str, str], Optional[str]],
                 proposals: List[str],
                 wasi_world: str,
                 wasi_version: str) -> List[str]:
    # pylint: disable=unused-argument
    global _count  # pylint: disable=global-statement
    args, env, root = args_env_root
    work = _workdir()
    _count += 1
    name = Path(test_path).stem
    manifest = work / f"{_count:03d}-{name}.toml"
    manifest.write_text(manifest_text(_component(test_path, work), name, env,
                                      str(root) if root else None),
                        encoding="utf-8")
    manifest.chmod(0o644)
    extra = shlex.split(os.environ.get("AGENTBOX_WASI_ARGS", ""))
    # agentbox reads a command's whole stdin before it runs it; the runner keeps
    # the pipe open while it reads the test's stdout, so the test gets an empty
    # stdin (/dev/null) -- nothing in the preview1 suite writes to it.
    prefix = shlex.split(os.environ.get("AGENTBOX_WASI_PREFIX", ""))
    return [*prefix, "/bin/sh", "-c", 'exec "$0" "$@" </dev/null',
            AGENTBOX, "run", *extra, str(manifest), "--", *args]
