"""Output guards over MCP (docs/guards.md): a redaction is in the result and its
`_meta`, a blocking guard is an `isError` result with outcome `guarded`, and the
credential never reaches the client or the audit log."""

import json

import pytest

pytestmark = pytest.mark.anyio

# An AWS-format key id: the pattern and its entropy, not a real key.
KEY = "AKIAQ3EGYXZK7WBM2TRN"


async def test_redacted_output_and_its_decisions_in_meta(session, work):
    r = await session.call_tool("hello", {"name": KEY})
    assert not r.is_error
    assert r.structured_content == {"greeting": "Hello, [REDACTED:aws_access_key_id]!"}
    findings = r.meta["agentbox"]["guards"]["findings"]
    assert any(f["type"] == "aws_access_key_id" and f["action"] == "redact" for f in findings), findings
    assert KEY not in json.dumps(r.model_dump(mode="json"))
    audit = (work / "audit.jsonl").read_text()
    assert '"event":"guard"' in audit and KEY not in audit


async def test_a_blocking_guard_is_an_error_result(session, work):
    r = await session.call_tool("guarded", {"name": KEY})
    assert r.is_error
    assert r.structured_content["outcome"] == "guarded"
    assert r.meta["agentbox"]["guards"]["blocked"] is True
    assert KEY not in json.dumps(r.model_dump(mode="json"))
    # The same tool answers clean output normally.
    ok = await session.call_tool("guarded", {"name": "Ada"})
    assert not ok.is_error and ok.structured_content == {"greeting": "Hello, Ada!"}
