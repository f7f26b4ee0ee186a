//! The run worker is a binary of its own, `agentbox-worker`, and "a worker never
//! links secrets or egress" holds for that binary itself: its symbol table names
//! none of the supervisor's crates, no compiler, no TOML or argument parser, no
//! TLS. The same check on `agentbox` finds every one of them, so it can fail.

mod common;

use common::*;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

/// What the worker must not carry: (what, a demangled-symbol prefix of it).
const FORBIDDEN: &[(&str, &str)] = &[
    ("egress", "agentbox_egress::"),
    ("secrets", "agentbox_secrets::"),
    ("the manifest parser", "agentbox_policy::"),
    ("the CLI", "agentbox::doctor::"),
    ("the supervisor", "agentbox_supervisor::"),
    ("the compiler", "cranelift_codegen::"),
    ("TOML", "toml::"),
    ("an argument parser", "clap_builder::"),
    ("TLS", "rustls::"),
    ("an HTTP client", "hyper_util::"),
];

/// The crates whose code a binary's symbols name (demangled, `crate::` prefixes).
fn crates_in(bin: &Path) -> BTreeSet<String> {
    let out = Command::new("nm")
        .args(["--demangle", "--defined-only"])
        .arg(bin)
        .output()
        .expect("nm (binutils)");
    assert!(out.status.success(), "nm {}: {:?}", bin.display(), out);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.lines().count() > 1000,
        "{} has no symbol table",
        bin.display()
    );
    let mut found = BTreeSet::new();
    for line in text.lines() {
        for (_, prefix) in FORBIDDEN {
            if line.contains(prefix) {
                found.insert((*prefix).to_string());
            }
        }
    }
    found
}

#[test]
fn the_worker_binary_links_no_supervisor_compiler_toml_clap_or_tls_code() {
    let worker = worker_bin();
    let in_agentbox = crates_in(Path::new(bin()));
    // The control: agentbox itself carries all of it (else this check could
    // not tell a clean worker from a broken symbol scan).
    for (what, prefix) in FORBIDDEN {
        assert!(
            in_agentbox.contains(*prefix),
            "the control failed: agentbox's symbols do not name {what} ({prefix})"
        );
    }
    let in_worker = crates_in(&worker);
    let leaked: Vec<&str> = FORBIDDEN
        .iter()
        .filter(|(_, p)| in_worker.contains(*p))
        .map(|(what, _)| *what)
        .collect();
    assert!(
        leaked.is_empty(),
        "{} links code it must never carry: {}",
        worker.display(),
        leaked.join(", ")
    );
}

/// agentbox starts its run workers from the `agentbox-worker` next to it, and
/// only from there: an install without it refuses (naming the fix) and runs
/// nothing; the same install with it runs the tool.
#[test]
fn agentbox_runs_tools_in_the_worker_next_to_it_and_refuses_without_it() {
    let sb = Sandbox::new();
    sb.wat("t.wasm", &tool_wat(OK_BODY, ""));
    sb.manifest(&tool_manifest("t.wasm", ""));
    std::fs::create_dir(sb.path("install")).expect("mkdir");
    let copy = |from: &Path, name: &str| {
        let to = sb.path(&format!("install/{name}"));
        // Copied by a child process (no write descriptor in this one: ETXTBSY).
        let ok = Command::new("cp").arg(from).arg(&to).status().expect("cp");
        assert!(ok.success());
        to
    };
    let agentbox = copy(Path::new(bin()), "agentbox");
    let run = |what: &str| {
        let o = Command::new(&agentbox)
            .args(["run", "agentbox.toml", "--input", "{}"])
            .env("AGENTBOX_CACHE_DIR", sb.path("cache/c"))
            .current_dir(sb.path(""))
            .output()
            .expect(what);
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
            o.stdout,
        )
    };
    let (code, stderr, stdout) = run("without a worker");
    assert_eq!(code, Some(125), "{stderr}");
    assert!(
        stderr.contains("agentbox-worker")
            && stderr.contains("is missing")
            && stderr.contains("cargo build"),
        "{stderr}"
    );
    assert!(stdout.is_empty(), "something ran: {stdout:?}");
    copy(&worker_bin(), "agentbox-worker");
    let (code, stderr, _) = run("with its worker");
    assert_eq!(code, Some(0), "{stderr}");
}

/// The worker binary's own engine (wasmtime built without Cranelift) has the pinned
/// settings, with pooling off and on, and no compiler: read back from the engine
/// the binary builds, not from one built inside `agentbox` or the tests.
#[test]
fn the_worker_binarys_engine_has_the_pinned_settings() {
    let o = Command::new(worker_bin())
        .arg("--engine-drift")
        .output()
        .expect("agentbox-worker --engine-drift");
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(
        stdout
            .lines()
            .filter(|l| l.ends_with("the pinned settings, no compiler"))
            .count(),
        2,
        "{stdout}"
    );
}
