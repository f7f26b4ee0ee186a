"""py_net: a hostile Python tool that tries to reach the network around agentbox's
HTTP host function (catalog CAP-01/CAP-03): TCP connect, UDP send, name lookup.
Input: {"port": N, "host": "a.b.c.d"} (a TCP/UDP listener the test counts hits on;
host defaults to 127.0.0.1).
Output: one line per attempt, "ok" or the error it got."""
import json
import socket

import wit_world


class WitWorld(wit_world.WitWorld):
    def describe(self) -> str:
        return json.dumps({"name": "py_net", "description": "network escape probe", "input_schema": {}})

    def call(self, input: str) -> str:
        args = json.loads(input)
        port = args.get("port", 9)
        host = args.get("host", "127.0.0.1")
        results = {}

        def attempt(name, fn):
            try:
                fn()
                results[name] = "ok"
            except Exception as e:  # noqa: BLE001 - the probe reports every failure
                results[name] = f"{type(e).__name__}: {e}"

        def tcp():
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.settimeout(2)
            s.connect((host, port))
            s.sendall(b"escaped\n")
            s.close()

        def udp():
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.sendto(b"escaped", (host, port))
            s.close()

        def dns():
            socket.getaddrinfo("localhost", port)

        attempt("tcp", tcp)
        attempt("udp", udp)
        attempt("dns", dns)
        return json.dumps(results)
