"""Smoke run of the MCP Inspector's CLI mode against `agentbox mcp`, where Node.js is
installed (scripts/test.sh installs the Inspector into build/inspector then)."""

import json
import subprocess
from pathlib import Path

import pytest
from conftest import BIN, CACHE

INSPECTOR = Path(__file__).resolve().parents[2] / "build/inspector/node_modules/.bin/mcp-inspector"


def inspector(work, *method):
    if not INSPECTOR.exists():
        pytest.skip(f"{INSPECTOR} is not installed (no Node.js on this machine: scripts/test.sh installs it where npm exists)")
    p = subprocess.run(
        [str(INSPECTOR), "--cli", "-e", f"AGENTBOX_CACHE_DIR={CACHE}", BIN, "mcp", str(work / "mcp.toml"),
         *method, "--format", "json"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=work,
    )
    return p


def test_inspector_lists_and_calls(work):
    p = inspector(work, "--method", "tools/list")
    assert p.returncode == 0, p.stderr
    names = {t["name"] for t in json.loads(p.stdout)["result"]["tools"]}
    assert {"hello", "probe"} <= names
    p = inspector(work, "--method", "tools/call", "--tool-name", "hello", "--tool-arg", "name=Inspector")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["result"]["structuredContent"] == {"greeting": "Hello, Inspector!"}
    p = inspector(work, "--method", "tools/call", "--tool-name", "probe", "--tool-arg", "op=fail")
    assert p.returncode == 5, p.stderr  # the Inspector's "tool error"
