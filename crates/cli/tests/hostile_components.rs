//! Hostile component bytes never reach wasmtime in the supervisor: each of these
//! is validated and compiled in a confined compile worker, under the tool's
//! compile limits, and ends as a clean refusal (125) or limit (137) — the
//! supervisor exits normally, writes its report, and the next invocation works.
//! Before the compile worker, the deep type nesting killed `agentbox run` and
//! `agentbox describe` with "fatal runtime error: stack overflow".

mod common;
use common::hostile;
use common::*;
use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;

const LIMITS: &str = "[tools.t.limits]\ncompile_timeout = \"30s\"\ncompile_memory = \"512MiB\"\n";

/// Runs `args` and checks that agentbox itself ended normally, with one of the
/// statuses a refused or limited component may end with.
fn survives(sb: &Sandbox, args: &[&str], what: &str) -> (i32, String) {
    let o = sb
        .cmd()
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .expect("spawn agentbox");
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(
        o.status.signal().is_none(),
        "{what}: agentbox itself was killed by signal {:?}: {stderr}",
        o.status.signal()
    );
    let code = o.status.code().unwrap_or(-1);
    assert!(
        [125, 134, 137].contains(&code),
        "{what}: status {code}: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{what}: {stderr}");
    for line in stderr.lines() {
        assert!(line.starts_with("agentbox:"), "{what}: stray line {line:?}");
    }
    (code, stderr)
}

fn good_tool_still_runs(sb: &Sandbox) {
    sb.wat("good.wasm", &tool_wat(OK_BODY, ""));
    sb.write(
        "good.toml",
        &tool_manifest("good.wasm", "").replace("[tools.t]", "[tools.good]"),
    );
    let out = sb.run(&["run", "good.toml", "--input", "{}"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.stdout.trim(), r#"{"ok":true}"#);
}

fn attack(name: &str, bytes: &[u8]) -> (i32, String) {
    let sb = Sandbox::new();
    sb.write_bytes("bad.wasm", bytes);
    sb.manifest(&tool_manifest("bad.wasm", LIMITS));
    let (code, stderr) = survives(
        &sb,
        &[
            "run",
            "agentbox.toml",
            "--input",
            "{}",
            "--report",
            "r.json",
            "--audit",
            "a.jsonl",
        ],
        name,
    );
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(sb.path("r.json")).unwrap_or_else(|e| panic!("{name}: {e}")),
    )
    .expect("report is JSON");
    assert_eq!(report["exit_code"], code, "{name}: {report}");
    let audit = std::fs::read_to_string(sb.path("a.jsonl")).expect("audit");
    assert!(
        audit.contains("\"run_end\"") || audit.contains("RunEnd"),
        "{name}: {audit}"
    );
    // `describe` goes through the same path.
    survives(&sb, &["describe", "agentbox.toml"], name);
    good_tool_still_runs(&sb);
    eprintln!("{name}: {code}: {stderr}");
    (code, stderr)
}

#[test]
fn deeply_nested_component_types() {
    let (code, err) = attack(
        "component types 5,000 deep",
        &hostile::nested_types(5_000, false),
    );
    assert_eq!(code, 125, "{err}");
    assert!(
        err.contains("could not be compiled") || err.contains("nest"),
        "{err}"
    );
}

#[test]
fn deeply_nested_instance_types() {
    let (code, err) = attack(
        "instance types 5,000 deep",
        &hostile::nested_types(5_000, true),
    );
    assert_eq!(code, 125, "{err}");
}

#[test]
fn deeply_nested_components() {
    let (code, err) = attack("components 5,000 deep", &hostile::nested_components(5_000));
    assert!(code == 125 || code == 137, "{err}");
    assert!(err.contains("could not be compiled"), "{err}");
}

#[test]
fn a_million_functions() {
    attack("a million functions", &hostile::many_functions(1_000_000));
}

#[test]
fn a_huge_br_table() {
    attack(
        "br_table of a million targets",
        &hostile::huge_br_table(1_000_000),
    );
}

#[test]
fn fifty_thousand_locals() {
    attack("50,000 locals", &hostile::many_locals(50_000));
}

#[test]
fn a_huge_data_segment() {
    attack("64 MiB data segment", &hostile::huge_data(1024, 64 << 20));
}

/// A compile worker's memory is its own limit: a component that needs more to
/// compile than `compile_memory` allows ends as a memory limit (137), and the
/// supervisor lives on.
#[test]
fn the_compile_memory_limit_is_a_limit() {
    let sb = Sandbox::new();
    sb.write_bytes("bad.wasm", &hostile::many_functions(400_000));
    sb.manifest(&tool_manifest(
        "bad.wasm",
        "[tools.t.limits]\ncompile_memory = \"256MiB\"\ncompile_timeout = \"60s\"\n",
    ));
    let (code, err) = survives(&sb, &["run", "agentbox.toml", "--input", "{}"], "memory");
    assert_eq!(code, 137, "{err}");
    assert!(err.contains("compile memory limit of 256 MiB"), "{err}");
    good_tool_still_runs(&sb);
}

/// The kept inputs of the `component_load` fuzz target (tests/fuzz-load/corpus),
/// each given to `agentbox run` and `agentbox describe` as a tool's component:
/// agentbox survives every one (the in-process replay is `cargo xtask fuzz
/// --replay component_load`, too heavy a build for every test run).
#[test]
fn the_component_load_fuzz_corpus_goes_through_the_binary() {
    let dir = root().join("tests/fuzz-load/corpus/component_load");
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = e.expect("entry").path();
        let bytes = std::fs::read(&path).expect("input");
        let name = path.display().to_string();
        let sb = Sandbox::new();
        sb.write_bytes("bad.wasm", &bytes);
        sb.manifest(&tool_manifest("bad.wasm", LIMITS));
        for args in [
            &["run", "agentbox.toml", "--input", "{}"][..],
            &["describe", "agentbox.toml"][..],
        ] {
            let o = sb
                .cmd()
                .args(args)
                .stdin(Stdio::null())
                .output()
                .expect("run");
            assert!(o.status.signal().is_none(), "{name}: {args:?}: {o:?}");
            let code = o.status.code().unwrap_or(-1);
            assert!([0, 1, 125, 137].contains(&code), "{name}: {args:?}: {o:?}");
        }
        n += 1;
    }
    assert!(n >= 5, "only {n} kept inputs in {}", dir.display());
}
