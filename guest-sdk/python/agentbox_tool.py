"""agentbox's guest SDK for Python: a tool in a few lines, built into a WebAssembly
component by componentize-py (see docs/guests.md).

    from agentbox_tool import tool, fetch, log

    def greet(args):
        return {"greeting": f"Hello, {args['name']}!"}

    WitWorld = tool("hello", "Greets someone.",
                    {"type": "object", "properties": {"name": {"type": "string"}}},
                    greet)

Outbound HTTP goes through the host (agentbox:tool/http): only to destinations the
manifest grants, with secrets injected by the host; the tool never sees them.
"""
import json

import wit_world
from componentize_py_types import Err
from wit_world.imports import http as _http
from wit_world.imports import log as _log


class ToolError(Exception):
    """Raise it (or any exception) from the call function: its text is the tool's error."""


class HttpError(Exception):
    """A request the host did not make or that failed: `kind` is `denied`,
    `invalid-request`, `timeout`, `too-large` or `transport`."""

    def __init__(self, kind, reason=""):
        super().__init__(f"{kind}: {reason}" if reason else kind)
        self.kind, self.reason = kind, reason


class Response:
    """What the host answered: `status`, `headers` (lower-case names), `body` (bytes)."""

    def __init__(self, raw):
        self.status = raw.status
        self.headers = {h.name.lower(): h.value for h in raw.headers}
        self.body = raw.body

    @property
    def ok(self):
        return 200 <= self.status < 300

    def text(self):
        return self.body.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.body)


_KINDS = {
    "HttpError_Denied": "denied",
    "HttpError_InvalidRequest": "invalid-request",
    "HttpError_Timeout": "timeout",
    "HttpError_TooLarge": "too-large",
    "HttpError_Transport": "transport",
}


def fetch(url, method="GET", headers=None, body=None, timeout_ms=None):
    """One HTTP request through the host. A header value may hold
    `{{secret:NAME}}`, which the host fills in where the manifest allows. A
    timeout of 0 or None means the tool's own limit. Raises HttpError when the
    request is denied or fails."""
    if isinstance(body, str):
        body = body.encode()
    req = _http.Request(
        method=method,
        url=url,
        headers=[_http.Header(name=k, value=str(v)) for k, v in (headers or {}).items()],
        body=body,
        timeout_ms=timeout_ms or None,
    )
    try:
        return Response(_http.fetch(req))
    except Err as e:
        err = e.value
        raise HttpError(_KINDS.get(type(err).__name__, "transport"), getattr(err, "value", "") or "") from None


class _Log:
    """Log lines, recorded in the audit log (and sent to an MCP client that asked)."""

    def debug(self, m):
        _log.log(_log.Level.DEBUG, str(m))

    def info(self, m):
        _log.log(_log.Level.INFO, str(m))

    def warn(self, m):
        _log.log(_log.Level.WARN, str(m))

    def error(self, m):
        _log.log(_log.Level.ERROR, str(m))


log = _Log()


def tool(name, description, input_schema, call, output_schema=None):
    """The class componentize-py exports (assign it to `WitWorld` in app.py): from
    a name, a description, the input's JSON Schema (what `agentbox mcp` lists) and a
    function from the parsed input to a JSON-able result. Raising is the tool's error."""
    info = {"name": name, "description": description, "input_schema": input_schema}
    if output_schema is not None:
        info["output_schema"] = output_schema

    class Tool(wit_world.WitWorld):
        def describe(self) -> str:
            return json.dumps(info)

        def call(self, input: str) -> str:
            try:
                args = json.loads(input)
            except ValueError as e:
                raise Err(f"the input is not JSON: {e}")
            try:
                # Strict JSON: NaN and Infinity are not JSON.
                return json.dumps(call(args), allow_nan=False)
            except Err:
                raise
            except Exception as e:  # noqa: BLE001 - every failure is the tool's error text
                raise Err(str(e) or type(e).__name__)

    return Tool
