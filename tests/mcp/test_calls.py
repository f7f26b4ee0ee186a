"""Handshake, listing, schemas, annotations and every kind of call outcome over stdio."""

import anyio
import pytest
from conftest import BIN, audit, runs, server_pid, until, worker_pids
from mcp import MCPError, types

pytestmark = pytest.mark.anyio


async def test_handshake_names_agentbox_and_its_capabilities(session):
    init = session.init_result
    assert init.server_info.name == "agentbox"
    assert init.capabilities.tools is not None and init.capabilities.tools.list_changed
    assert init.capabilities.logging is not None


async def test_tools_schemas_and_annotations(session):
    tools = {t.name: t for t in (await session.list_tools()).tools}
    # Native tools are not served; every component tool is, the broken one too.
    assert set(tools) == {"probe", "hello", "fetch", "cmd", "writer", "guarded", "broken"}
    probe = tools["probe"]
    assert probe.input_schema["required"] == ["op"]  # from the component's describe()
    assert probe.output_schema is None
    assert tools["hello"].output_schema["required"] == ["greeting"]
    assert tools["hello"].description.startswith("Greets someone by name.")
    assert set(tools["cmd"].input_schema["properties"]) == {"args", "stdin"}
    assert tools["broken"].input_schema == {"type": "object"}
    a = {n: t.annotations for n, t in tools.items()}
    assert a["probe"].read_only_hint and not a["probe"].destructive_hint and not a["probe"].open_world_hint
    assert a["fetch"].open_world_hint and a["fetch"].read_only_hint  # GET only
    assert a["writer"].destructive_hint and not a["writer"].read_only_hint


async def test_ok_result_is_text_and_structured(session, work):
    r = await session.call_tool("hello", {"name": "Ada"})
    assert not r.is_error
    assert r.content[0].text == '{"greeting":"Hello, Ada!"}'
    assert r.structured_content == {"greeting": "Hello, Ada!"}
    assert r.meta["agentbox"]["outcome"] == "ok"
    starts = [e for e in audit(work) if e["event"] == "run_start"]
    assert starts[-1]["tool"] == "hello" and starts[-1]["mcp"]["session"].startswith("stdio-")


async def test_tool_error_is_an_error_result(session):
    r = await session.call_tool("probe", {"op": "fail", "text": "because"})
    assert r.is_error
    assert r.structured_content["outcome"] == "tool_error"
    assert r.content[0].text == "failed on purpose: because"


async def test_arguments_failing_the_schema_start_no_worker(session, work):
    r = await session.call_tool("probe", {"op": "echo", "n": -1})
    assert r.is_error
    assert r.structured_content["outcome"] == "invalid_input"
    assert "/n" in r.structured_content["detail"]
    ends = [v for v in runs(work).values() if v["end"]["outcome"] == "invalid_input"]
    assert len(ends) == 1
    # Refused before a worker: no component ran for it.
    assert ends[0]["start"]["component_sha256"] is None


async def test_unknown_tool_is_invalid_params(session):
    with pytest.raises(MCPError) as e:
        await session.call_tool("nope", {})
    assert e.value.code == types.INVALID_PARAMS


async def test_timeout_and_the_next_call(work, rec):
    from conftest import open_session

    (work / "mcp.toml").write_text((work / "mcp.toml").read_text().replace('timeout = "20s"', 'timeout = "1s"'))
    async with open_session(work, rec) as s:
        r = await s.call_tool("probe", {"op": "spin"})
        assert r.is_error and r.structured_content["outcome"] == "timeout"
        assert r.structured_content["limit"] == "timeout"
        r = await s.call_tool("probe", {"op": "echo", "text": "after"})
        assert r.structured_content == {"text": "after"}


async def test_policy_denial_is_reported(session, work):
    r = await session.call_tool("fetch", {"requests": [{"url": "http://127.0.0.1:9/not-granted"}]})
    assert not r.is_error
    assert r.structured_content["result"][0]["error"] == "denied"
    assert r.meta["agentbox"]["http"]["denied"] == 1
    assert any(e["event"] == "http_request" and e["decision"] == "denied" for e in audit(work))


async def test_output_over_the_limit_is_a_limit(session):
    r = await session.call_tool("probe", {"op": "big", "n": 200000})
    assert r.is_error and r.structured_content["outcome"] == "limit"
    assert r.structured_content["limit"] == "output"


async def test_trap(session):
    r = await session.call_tool("probe", {"op": "trap"})
    assert r.is_error and r.structured_content["outcome"] == "trap"
    assert (await session.call_tool("probe", {"op": "echo", "text": "x"})).structured_content == {"text": "x"}


async def test_command_tool(session):
    r = await session.call_tool("cmd", {"args": ["args", "stdin"], "stdin": "four"})
    assert not r.is_error, r
    assert r.structured_content["exit_code"] == 0
    assert "stdin: ok bytes=4" in r.structured_content["stdout"]
    # WASI preview 2 carries only success or failure: exit(3) is status 1.
    r = await session.call_tool("cmd", {"args": ["exit", "3"]})
    assert r.is_error and r.structured_content["outcome"] == "exit" and r.structured_content["exit_code"] == 1


async def test_non_json_output_with_control_bytes(session):
    r = await session.call_tool("probe", {"op": "garbage"})
    assert r.is_error and r.structured_content["outcome"] == "tool_error"
    assert "\x1b" not in r.content[0].text and "\x07" not in r.content[0].text
    assert (await session.call_tool("probe", {"op": "echo", "text": "ok"})).structured_content == {"text": "ok"}


async def test_a_component_that_kills_the_compiler(session, work):
    r = await session.call_tool("broken", {})
    assert r.is_error
    assert "cannot run" in r.structured_content["detail"]
    assert "broken" in (work / "server.stderr").read_text()
    assert (await session.call_tool("hello", {})).structured_content == {"greeting": "Hello, world!"}


async def test_a_worker_killed_mid_call(session, work):
    pid = server_pid(work)
    result = {}

    async def spin():
        result["r"] = await session.call_tool("probe", {"op": "spin"})

    async with anyio.create_task_group() as tg:
        tg.start_soon(spin)
        await anyio.sleep(1.0)
        pids = worker_pids(pid)
        assert pids, "no worker processes found"
        for p in pids:
            import os, signal

            os.kill(p, signal.SIGKILL)
    r = result["r"]
    assert r.is_error and r.structured_content["outcome"] in ("trap", "sandbox_error", "limit"), r
    # Idle workers killed too: the next calls still work.
    for tool in ("probe", "hello"):
        args = {"op": "echo", "text": "alive"} if tool == "probe" else {}
        assert not (await session.call_tool(tool, args)).is_error


async def test_sixteen_concurrent_calls(session):
    results = {}

    async def one(i):
        r = await session.call_tool("probe", {"op": "echo", "text": f"call {i}"})
        results[i] = r

    async with anyio.create_task_group() as tg:
        for i in range(16):
            tg.start_soon(one, i)
    assert len(results) == 16
    for i, r in results.items():
        assert not r.is_error and r.structured_content == {"text": f"call {i}"}


async def test_cancellation_kills_the_invocation(session, work):
    with anyio.move_on_after(1.0) as scope:
        await session.call_tool("probe", {"op": "spin"})
    assert scope.cancelled_caught
    # The spin would run for 20 s; cancelled, it ends now.
    ended = await until(
        lambda: [v for v in runs(work).values() if v.get("end", {}).get("outcome") == "cancelled"],
        timeout=5,
        what="a cancelled run in the audit log",
    )
    assert ended[0]["start"]["tool"] == "probe"
    assert (await session.call_tool("probe", {"op": "echo", "text": "next"})).structured_content == {"text": "next"}


async def test_progress_start_and_end(session):
    seen = []

    async def on_progress(progress, total, message):
        seen.append((progress, total, message))

    await session.call_tool("hello", {"name": "p"}, progress_callback=on_progress)
    await anyio.sleep(0.2)
    assert seen[0][0] == 0 and seen[-1][0] == 1, seen
    assert seen[-1][2] == "hello: ok"


async def test_log_lines_once_a_level_is_set(session, rec):
    await session.call_tool("probe", {"op": "log", "n": 2})
    assert rec.logs == []  # no level set yet: nothing sent
    await session.set_logging_level("info")
    await session.call_tool("probe", {"op": "log", "n": 3})
    lines = [l.data for l in rec.logs if l.logger == "probe"]
    assert lines == ["line 0", "line 1", "line 2"]
    await session.set_logging_level("error")
    await session.call_tool("probe", {"op": "log", "n": 3})
    assert len([l for l in rec.logs if l.logger == "probe"]) == 3


async def test_the_newer_discovery_and_the_handshake_alike(work):
    """The SDK's default client probes `server/discover` (protocol 2026-07-28) and
    falls back to `initialize`: either way the tools are served."""
    from conftest import server_env
    from mcp import Client, StdioServerParameters

    params = StdioServerParameters(command=BIN, args=["mcp", str(work / "mcp.toml")], env=server_env(), cwd=str(work))
    for mode in ("auto", "legacy"):
        async with Client(params, mode=mode) as c:
            names = {t.name for t in (await c.list_tools()).tools}
            assert "hello" in names
            r = await c.call_tool("hello", {"name": mode})
            assert r.structured_content == {"greeting": f"Hello, {mode}!"}
            if mode == "auto":
                assert c.protocol_version == "2026-07-28", c.protocol_version


async def test_max_concurrent_makes_calls_wait_their_turn(work, rec):
    from conftest import open_session

    async with open_session(work, rec, "--max-concurrent", "1") as s:
        async with anyio.create_task_group() as tg:
            for _ in range(3):
                tg.start_soon(s.call_tool, "probe", {"op": "spin", "n": 30})
    spans = sorted(
        (v["start"]["ts"], v["end"]["ts"]) for v in runs(work).values() if v["start"]["tool"] == "probe"
    )
    assert len(spans) == 3
    for (_, end), (start, _) in zip(spans, spans[1:]):
        assert start >= end, f"calls overlapped with --max-concurrent 1: {spans}"
