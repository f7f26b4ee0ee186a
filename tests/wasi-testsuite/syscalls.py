"""Which system calls agentbox's wasm workers made after confinement, from a run of
the WASI test suite under `strace -ff -o DIR/trace` with the seccomp layer off
(scripts/wasi-testsuite.sh --syscalls), checked against the wasm-worker profile.

Usage: syscalls.py TRACE_DIR PROFILE_TOML. Prints every call with its count and
status 1 when one is not in the profile's allow-list.

Which trace file is what: a worker is the process that execs `agentbox-worker
__worker`; its calls count from `landlock_restrict_self` on (the seccomp filter
is installed right after it). The supervisor (`agentbox run`) and the threads it
starts return host pids from clone; every other traced process is a worker thread
(a worker returns pids of its own pid namespace), all of whose calls count.
"""

import glob
import re
import sys
from typing import Dict, List, Set

CALL = re.compile(r"^(?:<\.\.\. )?([a-z_0-9]+)(?:\(| resumed>)")
SPAWN = re.compile(r"^(?:<\.\.\. )?(?:clone3?|vfork|fork)\b.*=\s+(\d+)$")


def main() -> int:
    trace_dir, profile = sys.argv[1], sys.argv[2]
    files = {int(f.rsplit(".", 1)[1]): f for f in glob.glob(f"{trace_dir}/trace.*")}
    text: Dict[int, List[str]] = {
        pid: open(path, encoding="utf-8", errors="replace").read().splitlines()
        for pid, path in files.items()
    }
    workers = [p for p, ls in text.items()
               if any(l.startswith("execve") and "__worker" in l for l in ls)]
    supervisor: Set[int] = set()

    def walk_supervisor(pid: int) -> None:
        if pid in supervisor or pid not in text:
            return
        supervisor.add(pid)
        for line in text[pid]:
            m = SPAWN.match(line)
            if m and "CLONE_NEWPID" not in line:
                walk_supervisor(int(m.group(1)))

    for pid, lines in text.items():
        if any(l.startswith("execve") and '"run"' in l for l in lines):
            walk_supervisor(pid)
    used: Dict[str, int] = {}
    for pid, lines in text.items():
        if pid in supervisor:
            continue
        counting = pid not in workers
        for line in lines:
            if not counting:
                counting = line.startswith("landlock_restrict_self")
                continue
            if line.startswith("+++ killed by SIGKILL"):
                break
            m = CALL.match(line)
            # `syscall_0x…`: strace's name for a call cut short by the worker's
            # SIGKILL at teardown, not a call the worker chose to make.
            if m and not m.group(1).startswith("syscall_"):
                used[m.group(1)] = used.get(m.group(1), 0) + 1
    allowed = set(re.findall(r'^syscall = "([a-z0-9_]+)"',
                             open(profile, encoding="utf-8").read(), re.M))
    print(f"{len(workers)} workers; system calls after confinement:")
    missing = []
    for name in sorted(used):
        mark = "" if name in allowed else "   NOT IN THE ALLOW-LIST"
        if mark:
            missing.append(name)
        print(f"  {name:24} {used[name]:8}{mark}")
    if not workers:
        print("no worker was traced")
        return 1
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
