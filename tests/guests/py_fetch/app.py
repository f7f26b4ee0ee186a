"""py_fetch: the Python guest SDK's HTTP call, for the tests. Input: {"url": "...",
"header": "value of X-Probe"}; output: {"status": N, "headers": n, "body": "..."} or
{"error": "kind", "reason": "..."}."""
from agentbox_tool import HttpError, fetch, log, tool


def call(args):
    try:
        r = fetch(args["url"], headers={"Accept": "text/plain", "X-Probe": args.get("header", "none")}, timeout_ms=5000)
    except HttpError as e:
        return {"error": e.kind, "reason": e.reason}
    log.info(f"fetched {len(r.body)} bytes")
    return {"status": r.status, "headers": len(r.headers), "body": r.text()}


WitWorld = tool(
    "py_fetch",
    "Fetches one URL through the host.",
    {"type": "object", "properties": {"url": {"type": "string"}, "header": {"type": "string"}}, "required": ["url"]},
    call,
)
