"""Fixtures for the `agentbox mcp` end-to-end suite (run by crates/cli/tests/mcp.rs,
which builds the fixture directory and sets AGENTBOX_BIN and AGENTBOX_MCP_FIXTURES)."""

import contextlib
import json
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest
from mcp import ClientSession, StdioServerParameters, stdio_client, types

BIN = os.environ["AGENTBOX_BIN"]
FIXTURES = Path(os.environ["AGENTBOX_MCP_FIXTURES"])
CACHE = os.environ["AGENTBOX_CACHE_DIR"]


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture
def work(tmp_path):
    """A private copy of the fixtures (tests edit the manifest)."""
    for f in FIXTURES.iterdir():
        if f.is_file():
            shutil.copy(f, tmp_path / f.name)
    (tmp_path / "data").mkdir(exist_ok=True)
    return tmp_path


def server_env(**extra):
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "AGENTBOX_CACHE_DIR": CACHE}
    env.update(extra)
    return env


class Recorder:
    """Everything the server sent besides responses."""

    def __init__(self):
        self.logs, self.notes, self.errors = [], [], []

    async def on_log(self, params):
        self.logs.append(params)

    async def on_msg(self, message):
        (self.errors if isinstance(message, Exception) else self.notes).append(message)

    def list_changed(self):
        return [n for n in self.notes if isinstance(n, types.ToolListChangedNotification)]


@pytest.fixture
def rec():
    return Recorder()


@contextlib.asynccontextmanager
async def open_session(work, rec, *args, audit=None):
    """`agentbox mcp WORK/mcp.toml --audit WORK/audit.jsonl ARGS` over stdio (or
    another audit path)."""
    params = StdioServerParameters(
        command=BIN,
        args=["mcp", str(work / "mcp.toml"), "--audit", str(audit or work / "audit.jsonl"), *args],
        env=server_env(),
        cwd=str(work),
    )
    with open(work / "server.stderr", "w") as errlog:
        async with stdio_client(params, errlog=errlog) as (read, write):
            async with ClientSession(
                read, write, read_timeout_seconds=60, logging_callback=rec.on_log, message_handler=rec.on_msg
            ) as s:
                s.init_result = await s.initialize()
                yield s
    # Nothing but protocol ever reached the client on stdout.
    assert rec.errors == [], rec.errors


@pytest.fixture
async def session(work, rec):
    async with open_session(work, rec) as s:
        yield s


def audit(work):
    """The audit log's events, parsed (every line must be JSON)."""
    path = work / "audit.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


def runs(work):
    """run_start/run_end pairs by run id: {run: {"start": ev, "end": ev}}."""
    out = {}
    for ev in audit(work):
        if ev["event"] in ("run_start", "run_end"):
            out.setdefault(ev["run"], {})[ev["event"][4:]] = ev
    return out


async def until(pred, timeout=10.0, what="condition"):
    """Polls `pred` without blocking the event loop (the client keeps talking)."""
    import anyio

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        await anyio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def worker_pids(server_pid):
    """The server's worker processes (its children running agentbox-worker)."""
    out = subprocess.run(["ps", "-o", "pid=,comm=", "--ppid", str(server_pid)], capture_output=True, text=True)
    return [int(l.split()[0]) for l in out.stdout.splitlines() if "agentbox-worke" in l]


def server_pid(work):
    """The process id of the `agentbox mcp` serving WORK/mcp.toml."""
    out = subprocess.run(["pgrep", "-f", f"^{BIN} mcp {work}/mcp.toml"], capture_output=True, text=True)
    pids = [int(p) for p in out.stdout.split()]
    assert len(pids) == 1, f"expected one server for {work}, found {pids}"
    return pids[0]
