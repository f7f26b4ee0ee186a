"""Reload, shutdown, and a stdout that carries nothing but protocol."""

import json
import signal
import subprocess
import time

import anyio
import pytest
from conftest import BIN, open_session, runs, server_env, until

pytestmark = pytest.mark.anyio

EXTRA = """
[tools.hello2]
component = "hello.wasm"
description = "A second greeter."
rationale = "added while serving"
"""


async def test_reload_announces_a_changed_list(work, rec):
    async with open_session(work, rec) as s:
        before = {t.name for t in (await s.list_tools()).tools}
        manifest = work / "mcp.toml"
        manifest.write_text(manifest.read_text() + EXTRA)
        await until(lambda: rec.list_changed(), timeout=30, what="notifications/tools/list_changed")
        after = {t.name for t in (await s.list_tools()).tools}
        assert after == before | {"hello2"}
        r = await s.call_tool("hello2", {"name": "new"})
        assert r.structured_content == {"greeting": "Hello, new!"}


async def test_an_invalid_edit_keeps_the_old_manifest(work, rec):
    async with open_session(work, rec) as s:
        manifest = work / "mcp.toml"
        manifest.write_text(manifest.read_text() + "\n[tools.bad]\nrationale = 3\n")
        await until(
            lambda: "still serving the previous version" in (work / "server.stderr").read_text(),
            timeout=30,
            what="the refusal on stderr",
        )
        err = (work / "server.stderr").read_text()
        assert "mcp.toml" in err and "rationale" in err
        assert rec.list_changed() == []
        r = await s.call_tool("hello", {"name": "still"})
        assert r.structured_content == {"greeting": "Hello, still!"}


def raw_server(work, *extra):
    return subprocess.Popen(
        [BIN, "mcp", str(work / "mcp.toml"), "--audit", str(work / "audit.jsonl"), *extra],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=open(work / "server.stderr", "w"),
        env=server_env(),
        cwd=work,
    )


def send(p, msg):
    p.stdin.write((json.dumps(msg) + "\n").encode())
    p.stdin.flush()


def handshake(p):
    send(p, {"jsonrpc": "2.0", "id": 1, "method": "initialize",
             "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "raw", "version": "1"}}})
    json.loads(p.stdout.readline())
    send(p, {"jsonrpc": "2.0", "method": "notifications/initialized"})


def test_stdout_is_protocol_only_and_bad_messages_are_answered(work):
    p = raw_server(work)
    handshake(p)
    p.stdin.write(b"this is not json\n")
    send(p, {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "hello", "arguments": "not an object"}})
    send(p, {"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "probe", "arguments": {"op": "garbage"}}})
    send(p, {"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": {"name": "probe", "arguments": {"op": "log", "n": 3}}})
    send(p, {"jsonrpc": "2.0", "id": 5, "method": "tools/call", "params": {"name": "cmd", "arguments": {"args": ["flood", "1000"]}}})
    send(p, {"jsonrpc": "2.0", "id": 6, "nonsense": True})
    p.stdin.close()
    out = p.stdout.read()
    assert p.wait(30) == 0
    replies, errors = {}, []
    for line in out.decode().splitlines():
        msg = json.loads(line)  # every line is one JSON-RPC message
        assert msg["jsonrpc"] == "2.0"
        if msg.get("id") is not None:
            replies[msg["id"]] = msg
        elif "error" in msg:
            errors.append(msg)
    # The line that is not JSON is answered with a parse error, id null.
    assert any(r.get("id") is None and r["error"]["code"] == -32700 for r in errors), out
    assert replies[2]["error"]["code"] == -32602
    assert replies[3]["result"]["isError"] is True
    assert replies[4]["result"]["structuredContent"] == {"logged": 3}
    assert replies[5]["result"]["structuredContent"]["stdout"] == "A" * 1000
    assert replies[6]["error"]["code"] == -32600
    assert b"line 0" not in out  # guest log lines go out only once a level is set


def test_eof_finishes_in_flight_calls_and_exits_0(work):
    p = raw_server(work)
    handshake(p)
    send(p, {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "hello", "arguments": {"name": "eof"}}})
    p.stdin.close()
    out = p.stdout.read().decode()
    assert p.wait(30) == 0
    assert "Hello, eof!" in out


def test_sigterm_cancels_what_does_not_finish_and_exits_0(work):
    p = raw_server(work)
    handshake(p)
    send(p, {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "probe", "arguments": {"op": "spin"}}})
    time.sleep(1.0)
    started = time.monotonic()
    p.send_signal(signal.SIGTERM)
    assert p.wait(30) == 0
    # The spin would have run 20 s: it was cancelled after the 5 s drain.
    assert time.monotonic() - started < 15
    ends = [v["end"]["outcome"] for v in runs(work).values() if "end" in v]
    assert ends == ["cancelled"], ends
    assert "stopping" in (work / "server.stderr").read_text()
