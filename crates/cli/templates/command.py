"""{{name}}: an agentbox command in Python: a program with arguments.
Build: agentbox build .   Run: agentbox run agentbox.toml -- Ada"""
import sys

from wit_world import exports


class Run(exports.Run):
    """wasi:cli/run: what `main` is for a command component."""

    def run(self) -> None:
        name = sys.argv[1] if len(sys.argv) > 1 else "world"
        print(f"Hello, {name}!")
