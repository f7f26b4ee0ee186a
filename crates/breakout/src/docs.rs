//! docs/breakout.md, generated from the registry so that the documentation and
//! the suite cannot drift apart (a unit test compares them).

use crate::registry::{ISOLATED, Registry};
use std::fmt::Write;

const HEAD: &str = r#"# The breakout suite (`agentbox breakout`)

`agentbox breakout` attacks the sandbox on your own host the way a hostile tool
would, through the production supervisor and worker, and shows which layer stopped
each attack. It needs nothing from the source tree: wasm probes are compiled into
`agentbox`, native probes are the separate `agentbox-probe` binary installed next
to it (the `agentbox` binary contains no attack code; a test checks it).

```
agentbox breakout [--json] [--category C] [--case ID] [--layers] [--probe PATH]
```

- A table per category (case, attack, blocked by, result, what the run showed),
  then `N passed, N failed, N skipped`. `--json` prints one object with every
  attempt of every case. Exit status 0 only when no case failed; 125 when the
  suite could not run (unknown category or case).
- **passed**: every attempt was blocked (an errno, a seccomp kill, a trap, a limit),
  every canary is untouched and the next invocation on the same supervisor works.
- **failed**: an attempt got through, could not be proved blocked (the probe
  crashed for another reason, a wasm probe trapped for the wrong cause), a canary
  moved, or the supervisor could not run the next invocation.
- **skipped**: counted, always with the reason: a case that cannot run on this host
  (the network lab without user namespaces or iproute2's `ip`, the native probe not
  installed), or one of kind `suite` (proved by the project's tests, named).

## How a case runs

- **Native probes (threat T5, a guest that escaped wasm).** The supervisor starts
  `agentbox-probe` exactly as it starts a worker (same clone into namespaces,
  cgroup, start message); the probe confines itself through
  `agentbox_confine::entry::start_confined`, the very function the worker runs,
  and only then makes one attempt and reports `blocked` or `escaped`. The wasm
  worker's seccomp action is kill-process and it cannot fork, so each attempt is
  one run: a seccomp kill ends that run and counts as blocked (`denied`).
- **Wasm probes.** Components written in WAT, assembled at run time and run by the
  production worker; each names the outcome that means blocked and the cause the
  supervisor must report (e.g. `trap` for "out of bounds"). **Preview1 probes**
  (the POSIX-style surface C and Rust guests use) are core modules against
  `wasi_snapshot_preview1`, packed by agentbox's own packer; each first opens a
  known file as a positive control, so that a wrong descriptor can never pass for
  a denial.
- **Harness checks** run from the host side through agentbox's own code: the
  manifest foot-gun corpus (SUP-08), the output collector against planted
  hostile artifacts (SUP-10), the supervisor's pidfds read back from
  `/proc/self/fdinfo` while a worker runs (SUP-15), and failure injection (LL-14, SUP-04:
  `agentbox_supervisor::fault`, which can only make a step fail) showing that a run
  with any confinement step failing is refused and the tool never runs.
- **Network cases (SSRF, SEC, RES-12, CAP-01/03).** `agentbox breakout` re-executes itself
  into a network namespace of its own (and a user namespace when not root), with
  nothing but a loopback: the catalog's fake world is put on it (a fake metadata
  service at 169.254.169.254, internal services at 10.0.0.1 and fd00::1,
  `allowed.test`, `api.allowed.test` and `evil.test` at 203.0.113.10/11/66, HTTP
  and HTTPS with a CA made for the run, a static resolver with per-name answers
  including a rebinding name). A production supervisor runs in there; the native
  probe plays an escaped worker and sends each request over the IPC protocol, so
  nothing on the worker side filters it first. Every request must get the refusal
  the case names, every forbidden service's hit counter must stay 0, the case's
  positive control (an allowed request, an injected secret) must work, and so must
  the next allowed request. CAP-01/03 run a wasm component on the production
  worker there that tries wasi:sockets TCP and UDP instead. The secrets are the run's own random values, in files
  only the user can read; SEC-01 searches the worker's memory for them, SEC-10
  everything the lab printed. Needs iproute2's `ip`.
- **The lab (canaries).** A private temporary directory with a sentinel file
  outside every grant (content and mtime checked), a read-only grant whose listing
  must not change, a marker path that must never exist, TCP and UDP listeners and
  an abstract unix socket on 127.0.0.1 that count what reaches them, and a canary
  process that any signal kills. The suite sends no traffic beyond 127.0.0.1
  (the network lab's addresses exist only in its own namespace's loopback).
- **Layer isolation (`--layers`).** Each OS-layer case runs again with only one
  of seccomp, Landlock, namespaces or cgroup active (capabilities stay dropped and
  rlimits stay set, so an isolation run is never more dangerous than needed).
  Where the matrix says a layer `blocks`, every attempt must be blocked and at
  least one denial must be that layer's own (a seccomp kill or ENOSYS; Landlock's
  EACCES/EPERM); where it says `gap`, the attack must get through (a kernel that
  closes the gap shows up as a failure to update the matrix, not silently).
  `partial` and `-` are not judged alone.

## Expectation matrix (catalog 2.3)

"#;

const TAIL: &str = r#"
## How to add a case

1. Add a `[[case]]` to `crates/breakout/cases.toml`: `id`, `attack`, `why`,
   `blocked_by`, `kind` (`native`, `wasm`, `harness`, `network`, or `suite` with
   `covered_by`), and for OS
   cases a matrix `class` (and per-layer `isolated` overrides), `accept` for the
   supervisor outcomes that count as blocked, `limits` for the run, `manifest`
   for more of the tool's table (`@RW@` names the rw grant's host directory), and
   `profile = "native"` when the probe plays a `kind = "native"` tool's program
   (native profile: system directories, procfs, /tmp) instead of a guest that
   escaped wasm.
2. Native: add the attempts to `attacks()` in `crates/probe/src/attacks.rs` and
   the id to `CASES`. Aim every attempt at the lab's targets (its sentinel, canary
   process, loopback listeners) so that even an escape harms nothing.
3. Wasm: add the probes to `crates/breakout/src/wasm.rs`. Network: add a case
   function to `crates/breakout/src/net.rs` (the requests, the refusal each must
   get, the lab counters to check).
4. Regenerate this file: `AGENTBOX_BLESS=1 cargo test -p agentbox-breakout docs`.
5. `agentbox breakout --case ID --layers` must pass as root and as an
   unprivileged user (CI runs both).
"#;

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

pub fn markdown(reg: &Registry) -> String {
    let mut out = String::from(HEAD);
    let _ = writeln!(out, "| class | {} |", ISOLATED.join(" | "));
    let _ = writeln!(out, "|---|{}", "---|".repeat(ISOLATED.len()));
    for (class, row) in &reg.matrix {
        let cells: Vec<String> = ISOLATED
            .iter()
            .map(|l| row.get(*l).cloned().unwrap_or_else(|| "-".into()))
            .collect();
        let _ = writeln!(out, "| {class} | {} |", cells.join(" | "));
    }
    let (mut native, mut wasm, mut harness, mut network, mut suite) = (0, 0, 0, 0, 0);
    for c in &reg.cases {
        match c.kind.as_str() {
            "native" => native += 1,
            "wasm" => wasm += 1,
            "harness" => harness += 1,
            "network" => network += 1,
            _ => suite += 1,
        }
    }
    let _ = writeln!(
        out,
        "\n## The cases\n\n{} cases: {native} native, {wasm} wasm, {network} network and {harness} harness cases bundled; {suite} reported as skipped by the bundled runner, with the reason.",
        reg.cases.len()
    );
    for cat in &reg.categories {
        let _ = writeln!(out, "\n### {} — {}\n", cat.id, cat.title);
        let _ = writeln!(
            out,
            "| case | what it tries | why it matters | stopped by | proved by |"
        );
        let _ = writeln!(out, "|---|---|---|---|---|");
        for c in reg.cases.iter().filter(|c| c.category() == cat.id) {
            let proof = match c.kind.as_str() {
                "native" => {
                    let iso: Vec<String> = ISOLATED
                        .iter()
                        .map(|l| (l, reg.expectation(c, l)))
                        .filter(|(_, e)| e == "blocks" || e == "gap")
                        .map(|(l, e)| format!("{l} alone {e}"))
                        .collect();
                    let probe = if c.profile.as_deref() == Some("native") {
                        "native probe as a kind = \"native\" tool"
                    } else {
                        "native probe"
                    };
                    if iso.is_empty() {
                        probe.to_string()
                    } else {
                        format!("{probe}; {}", iso.join(", "))
                    }
                }
                "wasm" if c.id == "WASM-06" => "engine read back".to_string(),
                "wasm" => "wasm probe".to_string(),
                "harness" => "host-side check (agentbox's own code)".to_string(),
                "network" if c.category() == "CAP" => {
                    "network lab: wasm component using wasi:sockets, hit counter".to_string()
                }
                "network" => "network lab: probe over IPC, hit counters".to_string(),
                _ => format!("test suite: {}", c.covered_by.as_deref().unwrap_or("")),
            };
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                c.id,
                cell(&c.attack),
                cell(&c.why),
                cell(&c.blocked_by.join(", ")),
                cell(&proof)
            );
        }
    }
    out.push_str(TAIL);
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn docs_are_current() {
        let reg = crate::Registry::bundled().expect("registry");
        let want = super::markdown(&reg);
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/breakout.md");
        if std::env::var_os("AGENTBOX_BLESS").is_some() {
            std::fs::write(&path, &want).expect("write docs/breakout.md");
        }
        let have = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            have == want,
            "docs/breakout.md is out of date: AGENTBOX_BLESS=1 cargo test -p agentbox-breakout docs"
        );
    }
}
