"""Export: every audit line of a server, as an OpenTelemetry log record over
OTLP/HTTP, decoded here with the OpenTelemetry project's own protobuf classes —
all of them while the receiver is up, all of them after it went down and came
back within the queue's bound, and beyond the bound the lines dropped from the
export are counted and audited (the file keeps every one)."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import anyio
import pytest
from conftest import audit, free_port, open_session
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

pytestmark = pytest.mark.anyio


class Receiver:
    """An OTLP/HTTP logs receiver on 127.0.0.1:PORT that can go down and come back."""

    def __init__(self, port):
        self.port, self.requests, self.server = port, [], None

    def start(self):
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                req = ExportLogsServiceRequest()
                req.ParseFromString(body)
                owner.requests.append((self.path, self.headers["Content-Type"], req))
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def records(self):
        return [r for _, _, req in self.requests for rl in req.resource_logs for sl in rl.scope_logs for r in sl.log_records]

    def lines(self):
        return [r.body.string_value for r in self.records()]


def seqs(lines):
    return [json.loads(l)["seq"] for l in lines]


async def wait_for(pred, timeout, what):
    deadline = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await anyio.sleep(0.1)


def file_lines(work):
    return (work / "audit.jsonl").read_text().splitlines()


async def test_every_line_arrives_as_a_log_record(work, rec):
    rx = Receiver(free_port())
    rx.start()
    url = f"http://127.0.0.1:{rx.port}/v1/logs"
    async with open_session(work, rec, "--otlp", url) as s:
        await s.call_tool("hello", {"name": "Ada"})
        await s.call_tool("fetch", {"requests": [{"url": "http://127.0.0.1:9/not-granted"}]})
    rx.stop()
    lines = file_lines(work)
    # Every line, once, in order, byte for byte.
    assert rx.lines() == lines
    path, ctype, req = rx.requests[0]
    assert path == "/v1/logs" and ctype == "application/x-protobuf"
    attrs = {a.key: a.value.string_value for a in req.resource_logs[0].resource.attributes}
    assert attrs["service.name"] == "agentbox" and attrs["agentbox.audit.log"].endswith("audit.jsonl")
    assert req.resource_logs[0].scope_logs[0].scope.name == "agentbox.audit"
    records = rx.records()
    denied = [r for r in records if r.event_name == "agentbox.audit.http_request"]
    assert denied and all(r.severity_text == "WARN" for r in denied)
    first = records[0]
    a = {kv.key: kv.value for kv in first.attributes}
    assert a["agentbox.seq"].int_value == 1 and a["agentbox.event"].string_value == "run_start"
    assert first.time_unix_nano > 1_700_000_000 * 10**9
    assert audit(work) and not [e for e in audit(work) if e["event"] == "export_dropped"]


async def test_a_receiver_that_goes_down_and_comes_back_misses_nothing(work, rec):
    rx = Receiver(free_port())
    url = f"http://127.0.0.1:{rx.port}/v1/logs"
    async with open_session(work, rec, "--otlp", url) as s:
        for name in ("a", "b", "c"):
            await s.call_tool("hello", {"name": name})
        await anyio.sleep(0.5)  # retried against nothing meanwhile
        assert rx.requests == []
        rx.start()
        await wait_for(lambda: len(rx.lines()) >= len(file_lines(work)), 20, "the queued lines")
        await s.call_tool("hello", {"name": "d"})
    rx.stop()
    lines = file_lines(work)
    assert sorted(set(seqs(rx.lines()))) == seqs(lines)
    assert set(rx.lines()) == set(lines)
    assert not [e for e in audit(work) if e["event"] == "export_dropped"]


async def test_beyond_the_queue_lines_are_dropped_counted_and_audited(work, rec):
    rx = Receiver(free_port())
    url = f"http://127.0.0.1:{rx.port}/v1/logs"
    async with open_session(work, rec, "--otlp", url, "--otlp-queue", "5") as s:
        for i in range(4):
            await s.call_tool("hello", {"name": str(i)})
        # The server audits the drops within a second.
        await wait_for(lambda: any(e["event"] == "export_dropped" for e in audit(work)), 10, "export_dropped")
        rx.start()
        await wait_for(lambda: any('"export_dropped"' in l for l in rx.lines()), 20, "the drop report")
    rx.stop()
    lines = file_lines(work)
    got = set(rx.lines())
    assert got <= set(lines)
    dropped = [e for e in audit(work) if e["event"] == "export_dropped"]
    assert dropped and "export queue was full (5 lines)" in dropped[0]["reason"], dropped
    # What the receiver misses is exactly what was counted; the file has it all.
    missing = [l for l in lines if l not in got]
    assert len(missing) == sum(e["count"] for e in dropped) > 0
    # Every drop report reached the receiver (they may go over the bound).
    assert all(l in got for l in lines if '"export_dropped"' in l)
    assert seqs(lines) == list(range(1, len(lines) + 1))
