"""The watch: `[monitor]` rules evaluated live over the audit stream of a running
server, one test per response (alert, pause, revoke, kill, stop) and one for an
anomaly against a baseline. Each checks what the rule did to the tools, that the
firing and the response are audit events naming the rule, and what must not
have happened."""

import json
import os
import subprocess
import time

import anyio
import pytest
from conftest import BIN, audit, open_session, server_env, until

pytestmark = pytest.mark.anyio

CANARY = "canary-token-5d1e9b2f"
DENIED = {"url": "http://127.0.0.1:9/not-granted"}


def monitor(work, *rules, baseline=None):
    """Appends a [monitor] section to the session's manifest."""
    text = "\n[monitor]\n"
    if baseline:
        text += f'baseline = "{baseline}"\n'
    for when, tools, do in rules:
        text += (
            f'\n[[monitor.rules]]\nwhen = "{when}"\ntools = {json.dumps(tools)}\n'
            f'do = {json.dumps(do)}\nrationale = "test"\n'
        )
    with open(work / "mcp.toml", "a") as f:
        f.write(text)


def events(work, kind):
    return [e for e in audit(work) if e["event"] == kind]


def responses(work, what):
    return [e for e in events(work, "monitor_response") if e["response"].split()[0] == what]


async def test_alert_is_recorded_and_said_and_changes_nothing_else(work, rec):
    monitor(work, ("errors > 1 in 1m", ["probe"], ["alert"]))
    async with open_session(work, rec) as s:
        for _ in range(2):
            r = await s.call_tool("probe", {"op": "fail"})
            assert r.is_error
        await until(lambda: responses(work, "alert"), what="the alert")
        # Only an alert: the tool still answers.
        r = await s.call_tool("probe", {"op": "echo", "text": "still here"})
        assert not r.is_error, r
    fired = events(work, "monitor_fired")
    assert len(fired) == 1, fired
    assert fired[0]["rule"] == 1 and fired[0]["tool"] == "probe" and fired[0]["when"] == "errors > 1 in 1m"
    assert fired[0]["detail"].startswith("2 errors in 1m"), fired[0]
    assert fired[0]["responses"] == ["alert"]
    stderr = (work / "server.stderr").read_text()
    assert "ALERT rule 1 (line" in stderr and "errors > 1 in 1m" in stderr, stderr


async def test_pause_answers_the_tools_calls_with_an_error_and_spares_the_others(work, rec):
    monitor(work, ("denials > 0 in 1m", ["fetch"], ["pause 10m"]))
    async with open_session(work, rec) as s:
        r = await s.call_tool("fetch", {"requests": [DENIED]})
        assert json.loads(r.content[0].text)[0]["error"] == "denied"
        await until(lambda: responses(work, "pause"), what="the pause")
        before = len(events(work, "http_request"))
        r = await s.call_tool("fetch", {"requests": [{"url": "http://127.0.0.1:9/granted"}]})
        assert r.is_error, r
        assert "paused by rule 1 (line" in r.content[0].text and "for 10m" in r.content[0].text, r
        assert r.structured_content["outcome"] == "denied"
        # The paused call reached no worker: no request was made, no run started.
        assert len(events(work, "http_request")) == before
        runs_before = len(events(work, "run_start"))
        r = await s.call_tool("fetch", {"requests": [DENIED]})
        assert r.is_error
        assert len(events(work, "run_start")) == runs_before
        r = await s.call_tool("hello", {"name": "Ada"})
        assert not r.is_error, r
    refused = events(work, "monitor_refused")
    assert len(refused) == 2 and all(e["rule"] == 1 and e["tool"] == "fetch" for e in refused), refused
    assert "paused by rule 1" in refused[0]["detail"] and refused[0]["mcp"]["session"], refused
    # Refusals feed no rule: the pause fired once.
    assert len(events(work, "monitor_fired")) == 1


async def test_revoke_withdraws_the_secret_for_the_rest_of_the_session(work, rec):
    token = work / "token"
    token.write_text(CANARY)
    os.chmod(token, 0o600)
    (work / "secrets.toml").write_text('[secrets.TOKEN]\nfile = "token"\n')
    with open(work / "mcp.toml", "a") as f:
        f.write(
            '\n[tools.keyed]\ncomponent = "rs_fetch.wasm"\ndescription = "Calls an API with a key."\n'
            'rationale = "revocation"\n'
            '[[tools.keyed.net]]\nallow = "https://api.example.test/v1"\nrationale = "the API"\n'
            '[[tools.keyed.secrets]]\nname = "TOKEN"\nallow = ["https://api.example.test/v1"]\n'
            'header = "Authorization"\nformat = "Bearer {}"\nrationale = "the API key"\n'
        )
    monitor(work, ("denials > 0 in 1m", ["keyed"], ["revoke TOKEN"]))
    api = {"url": "https://api.example.test/v1", "timeout_ms": 1000}
    async with open_session(work, rec, "--secrets", str(work / "secrets.toml")) as s:
        # Before: the key is taken for the request (which then finds no such host).
        r = json.loads((await s.call_tool("keyed", {"requests": [api]})).content[0].text)
        assert r[0]["error"] != "denied", r
        r = await s.call_tool("keyed", {"requests": [DENIED]})
        await until(lambda: responses(work, "revoke"), what="the revocation")
        # After: refused by policy before the value is read, in every later call.
        for _ in range(2):
            r = json.loads((await s.call_tool("keyed", {"requests": [api]})).content[0].text)
            assert r[0]["error"] == "denied" and "TOKEN was revoked" in r[0]["reason"], r
        r = await s.call_tool("hello", {"name": "Ada"})
        assert not r.is_error
    denied = [e for e in events(work, "http_request") if "revoked" in e["reason"]]
    assert len(denied) == 2 and all(e["decision"] == "denied" for e in denied), denied
    assert "revoked by rule 1" in denied[0]["reason"]
    assert responses(work, "revoke")[0]["response"] == "revoke TOKEN"
    # The canary: no secret ever reached a server, a log line or stderr.
    assert events(work, "secret_use") == []
    for f in ("audit.jsonl", "server.stderr"):
        assert CANARY not in (work / f).read_text(), f


async def test_kill_stops_the_tools_invocations_in_flight(work, rec):
    monitor(work, ("calls > 1 in 1m", ["probe"], ["kill"]))
    async with open_session(work, rec) as s:
        results = {}

        async def spin():
            t = time.monotonic()
            results["spin"] = await s.call_tool("probe", {"op": "spin"})
            results["took"] = time.monotonic() - t

        async with anyio.create_task_group() as tg:
            tg.start_soon(spin)
            await until(lambda: events(work, "run_start"), what="the spinning call")
            await s.call_tool("probe", {"op": "echo", "text": "second"})
        r = results["spin"]
        assert r.is_error and r.structured_content["outcome"] == "cancelled", r
        # Killed by the rule, long before its 20 s limit.
        assert results["took"] < 15, results
        await until(lambda: responses(work, "kill"), what="the kill")
    async with open_session(work, rec) as s:
        # Kill is not pause: in a new window the tool runs again.
        r = await s.call_tool("probe", {"op": "echo", "text": "later"})
        assert not r.is_error, r
    kill = responses(work, "kill")[0]
    assert kill["rule"] == 1 and kill["tool"] == "probe" and "killed" in kill["detail"], kill
    assert int(kill["detail"].split()[0]) >= 1, kill


async def test_an_anomalous_call_fires_against_the_baseline(work, rec):
    granted = {"url": "http://127.0.0.1:9/granted", "timeout_ms": 500}
    async with open_session(work, rec, audit=work / "normal.jsonl") as s:
        for _ in range(5):
            await s.call_tool("fetch", {"requests": [granted]})
    out = subprocess.run(
        [BIN, "audit", "baseline", str(work / "normal.jsonl"), "-o", str(work / "baseline.json")],
        capture_output=True, text=True, timeout=60,
    )
    assert out.returncode == 0, out
    monitor(work, ("anomaly > 3.0", ["fetch"], ["alert"]), baseline="baseline.json")
    async with open_session(work, rec) as s:
        await s.call_tool("fetch", {"requests": [granted]})
        await s.call_tool("fetch", {"requests": [granted] * 8})
        await until(lambda: events(work, "monitor_fired"), what="the anomaly")
    fired = events(work, "monitor_fired")
    # The normal call did not fire; the one with eight requests did, once.
    assert len(fired) == 1, fired
    assert fired[0]["detail"].startswith("anomaly score 7.00 > 3: requests 8"), fired[0]


async def test_a_guard_finding_fires_its_rule(work, rec):
    # The manifest's `secrets` is the guard events' `secret`.
    monitor(work, ("guard:secrets", ["guarded"], ["alert", "pause 1m"]))
    async with open_session(work, rec) as s:
        r = await s.call_tool("guarded", {"name": "AKIAQ3EGYXZK7WBM2TRN"})
        assert r.is_error and r.structured_content["outcome"] == "guarded", r
        await until(lambda: responses(work, "pause"), what="the pause")
        r = await s.call_tool("guarded", {"name": "Ada"})
        assert r.is_error and "paused by rule 1" in r.content[0].text, r
        r = await s.call_tool("hello", {"name": "Ada"})
        assert not r.is_error
    fired = events(work, "monitor_fired")
    assert len(fired) == 1 and fired[0]["detail"].startswith("output guard finding secret/"), fired
    assert "AKIA" not in (work / "audit.jsonl").read_text()


async def test_new_destination_fires_once_per_origin(work, rec):
    monitor(work, ("new_destination", ["fetch"], ["alert"]))
    with open(work / "mcp.toml", "a") as f:
        f.write('\n[[tools.fetch.net]]\nallow = "http://127.0.0.1:9/other"\nprivate = true\nrationale = "a second"\n')
    async with open_session(work, rec) as s:
        for _ in range(2):
            await s.call_tool("fetch", {"requests": [{"url": "http://127.0.0.1:9/other", "timeout_ms": 500}]})
        await until(lambda: events(work, "monitor_fired"), what="the firing")
    fired = events(work, "monitor_fired")
    assert len(fired) == 1 and fired[0]["detail"] == "a request to http://127.0.0.1:9, new for fetch", fired


def test_stop_ends_the_server_with_status_126_after_signing_the_log(work):
    monitor(work, ("calls > 1 in 1m", ["hello"], ["stop"]))
    key = work / "audit.pem"
    proc = subprocess.Popen(
        [BIN, "mcp", str(work / "mcp.toml"), "--audit", str(work / "audit.jsonl"), "--audit-key", str(key)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=open(work / "server.stderr", "w"),
        env=server_env(), cwd=work, text=True,
    )

    def send(msg):
        proc.stdin.write(json.dumps(msg) + "\n")
        proc.stdin.flush()

    send({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}})
    assert json.loads(proc.stdout.readline())["id"] == 0
    send({"jsonrpc": "2.0", "method": "notifications/initialized"})
    for i in (1, 2):
        send({"jsonrpc": "2.0", "id": i, "method": "tools/call", "params": {"name": "hello", "arguments": {"name": "x"}}})
        answer = json.loads(proc.stdout.readline())
        assert answer["id"] == i and not answer["result"].get("isError"), answer
    # The second call fired the rule: the server stops by itself, stdin still open.
    assert proc.wait(30) == 126
    stderr = (work / "server.stderr").read_text()
    assert "stopped by monitor rule 1 (line" in stderr, stderr
    ev = audit(work)
    assert [e for e in ev if e["event"] == "monitor_response"][0]["response"] == "stop"
    assert ev[-1]["event"] == "checkpoint" and ev[-1]["reason"] == "stop", ev[-1]
    ok = subprocess.run([BIN, "audit", "verify", str(work / "audit.jsonl"), "--key", f"{key}.pub"],
                        capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0, ok
