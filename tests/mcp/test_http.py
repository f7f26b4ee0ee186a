"""Streamable HTTP: bearer token, Host and Origin checks, and a real session."""

import os
import subprocess
import time

import httpx2
import pytest
from conftest import BIN, free_port, server_env
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

pytestmark = pytest.mark.anyio

TOKEN = "test-token-0123456789abcdef"
ACCEPT = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
INIT = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
}


def start(work, *args):
    port = free_port()
    err = open(work / "http.stderr", "w")
    proc = subprocess.Popen(
        [BIN, "mcp", str(work / "mcp.toml"), "--listen", f"127.0.0.1:{port}", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=err,
        env=server_env(),
        cwd=work,
    )
    deadline = time.monotonic() + 60
    while "listening on" not in (work / "http.stderr").read_text():
        assert proc.poll() is None, (work / "http.stderr").read_text()
        assert time.monotonic() < deadline, "the server did not start listening"
        time.sleep(0.05)
    return proc, f"http://127.0.0.1:{port}/mcp", port


@pytest.fixture
def http_server(work):
    tok = work / "token"
    tok.write_text(TOKEN + "\n")
    os.chmod(tok, 0o600)
    proc, url, port = start(work, "--token-file", str(tok))
    yield url, port
    proc.terminate()
    assert proc.wait(15) == 0
    # Nothing at all on stdout in HTTP mode.
    assert proc.stdout.read() == b""


async def post(url, headers, body=INIT):
    async with httpx2.AsyncClient() as c:
        return await c.post(url, json=body, headers={**ACCEPT, **headers})


async def test_no_or_wrong_token_is_401(http_server):
    url, _ = http_server
    assert (await post(url, {})).status_code == 401
    assert (await post(url, {"Authorization": "Bearer wrong"})).status_code == 401
    assert (await post(url, {"Authorization": "Basic " + TOKEN})).status_code == 401


async def test_foreign_host_or_origin_is_403(http_server):
    url, port = http_server
    auth = {"Authorization": f"Bearer {TOKEN}"}
    assert (await post(url, {**auth, "Host": f"evil.example:{port}"})).status_code == 403
    assert (await post(url, {**auth, "Origin": f"http://evil.example:{port}"})).status_code == 403
    assert (await post(url, {**auth, "Origin": "null"})).status_code == 403
    ok = await post(url, {**auth, "Origin": f"http://localhost:{port}"})
    assert ok.status_code == 200, ok.text


async def test_a_session_lists_and_calls(http_server):
    url, _ = http_server
    async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60) as http:
        async with streamable_http_client(url, http_client=http) as (read, write):
            async with ClientSession(read, write) as s:
                await s.initialize()
                names = {t.name for t in (await s.list_tools()).tools}
                assert "hello" in names
                r = await s.call_tool("hello", {"name": "web"})
                assert r.structured_content == {"greeting": "Hello, web!"}
                r = await s.call_tool("probe", {"op": "fail", "text": "x"})
                assert r.is_error


def test_token_file_readable_by_others_is_refused(work):
    tok = work / "token"
    tok.write_text(TOKEN)
    os.chmod(tok, 0o644)
    p = subprocess.run(
        [BIN, "mcp", str(work / "mcp.toml"), "--listen", "127.0.0.1:1", "--token-file", str(tok)],
        capture_output=True,
        text=True,
        env=server_env(),
        timeout=60,
    )
    assert p.returncode == 125
    assert "chmod 600" in p.stderr


async def test_a_generated_token_is_printed_on_stderr(work):
    proc, url, _ = start(work)
    try:
        text = (work / "http.stderr").read_text()
        line = next(l for l in text.splitlines() if "bearer token" in l)
        token = line.rsplit(" ", 1)[1]
        assert len(token) == 64
        assert (await post(url, {"Authorization": f"Bearer {token}"})).status_code == 200
        assert (await post(url, {})).status_code == 401
    finally:
        proc.terminate()
        assert proc.wait(15) == 0
