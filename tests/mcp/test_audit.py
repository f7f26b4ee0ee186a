"""The server's audit log: a signed chain that `agentbox audit verify` accepts,
and a log that cannot be written refuses every call while the server lives on."""

import os
import stat
import subprocess

import pytest
from conftest import BIN, audit, open_session

pytestmark = pytest.mark.anyio


def verify(*args):
    return subprocess.run([BIN, "audit", "verify", *args], capture_output=True, text=True, timeout=60)


async def test_a_signed_session_verifies_and_an_edit_is_named(work, rec):
    key = work / "audit.pem"
    async with open_session(work, rec, "--audit-key", str(key)) as s:
        for name in ("a", "b", "c"):
            r = await s.call_tool("hello", {"name": name})
            assert not r.is_error, r
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    events = audit(work)
    assert events[-1]["event"] == "checkpoint" and events[-1]["reason"] == "stop", events[-1]
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    ok = verify(str(work / "audit.jsonl"), "--key", f"{key}.pub")
    assert ok.returncode == 0, ok
    assert ok.stdout.startswith(f"ok: {len(events)} events, chain intact, last signed checkpoint at seq {len(events)}")
    # One name changed in one line: named at its seq.
    path = work / "audit.jsonl"
    lines = path.read_text().splitlines()
    target = next(i for i, line in enumerate(lines) if '"run_end"' in line)
    lines[target] = lines[target].replace('"outcome":"ok"', '"outcome":"error"')
    path.write_text("\n".join(lines) + "\n")
    bad = verify(str(path), "--key", f"{key}.pub")
    assert bad.returncode == 1, bad
    assert f"seq {target + 1}: edited" in bad.stdout, bad.stdout


async def test_an_unwritable_log_refuses_every_call_and_the_server_lives_on(work, rec):
    async with open_session(work, rec, audit="/dev/full") as s:
        for _ in range(2):
            r = await s.call_tool("hello", {"name": "x"})
            assert r.is_error, r
            text = r.content[0].text
            assert "audit log cannot be written" in text, text
            assert "Hello" not in text
        tools = await s.list_tools()
        assert any(t.name == "hello" for t in tools.tools)
