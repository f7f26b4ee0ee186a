//! Kind tool through the real binary: output discipline, exit statuses, the report
//! and the audit log, deny-by-default HTTP.

mod common;
use common::*;

#[test]
fn ok_result_on_stdout_only() {
    let sb = Sandbox::new();
    sb.wat("t.wasm", &tool_wat(OK_BODY, ""));
    sb.manifest(&tool_manifest("t.wasm", ""));
    let (out, report) = sb.run_report(&["--input", "{}"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.stdout, "{\"ok\":true}\n");
    assert_eq!(out.stderr, "");
    assert_eq!(report["tool"], "t");
    assert_eq!(report["outcome"], "ok");
    assert_eq!(report["exit_code"], 0);
    assert!(report["limit"].is_null());
    assert!(report["duration_ms"].as_f64().is_some_and(|d| d > 0.0));
    assert_eq!(report["http"]["allowed"], 0);
    assert_eq!(report["http"]["denied"], 0);
    // Truthful confinement, read back from the kernel by the worker.
    let c = &report["confinement"];
    assert_eq!(
        c["namespaces"],
        serde_json::json!(["user", "mount", "pid", "net", "ipc", "uts", "cgroup"])
    );
    assert!(c["landlock_abi"].as_u64().is_some_and(|a| a >= 3), "{c}");
    assert_eq!(c["landlock_status"], "fully_enforced");
    assert_eq!(c["seccomp"], "wasm-worker");
    assert!(c["cgroup"] == "v1" || c["cgroup"] == "v2", "{c}");
    assert_eq!(c["no_new_privs"], true);
    assert_eq!(c["capabilities"], "none");
    assert_eq!(
        c["open_fds"],
        serde_json::json!([3]),
        "only the supervisor socket"
    );
    assert_eq!(c["dangerous"], serde_json::json!([]));
}

#[test]
fn tool_error_goes_to_stderr_with_status_1() {
    let sb = Sandbox::new();
    sb.wat("t.wasm", &tool_wat(ERR_BODY, ""));
    sb.manifest(&tool_manifest("t.wasm", ""));
    let (out, report) = sb.run_report(&[]);
    assert_eq!(out.code, 1);
    assert_eq!(out.stdout, "");
    assert_eq!(out.stderr, "tool error: tool failed on purpose\n");
    assert_eq!(report["outcome"], "tool_error");
    assert_eq!(report["exit_code"], 1);
}

#[test]
fn trap_is_134() {
    let sb = Sandbox::new();
    sb.wat("t.wasm", &tool_wat("unreachable", ""));
    sb.manifest(&tool_manifest("t.wasm", ""));
    let (out, report) = sb.run_report(&[]);
    assert_eq!(out.code, 134);
    assert_eq!(out.stdout, "");
    assert_eq!(report["outcome"], "trap");
    assert!(
        out.stderr.starts_with("agentbox: the guest trapped: "),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("unreachable"), "{}", out.stderr);
}

#[test]
fn input_forms_and_bad_input() {
    let sb = Sandbox::new();
    sb.wat("t.wasm", &tool_wat(OK_BODY, ""));
    sb.manifest(&tool_manifest("t.wasm", ""));
    sb.write("in.json", "{\"a\": 1}");
    assert_eq!(
        sb.run(&["run", "agentbox.toml", "--input", "@in.json"])
            .code,
        0
    );
    let out = sb.run_stdin(&["run", "agentbox.toml", "--input", "-"], Some(b"[1,2]"));
    assert_eq!(out.code, 0, "{out:?}");
    let out = sb.run(&["run", "agentbox.toml", "--input", "{nope"]);
    assert_eq!(out.code, 125);
    assert!(
        out.stderr
            .starts_with("agentbox: --input is not valid JSON"),
        "{}",
        out.stderr
    );
    let out = sb.run(&["run", "agentbox.toml", "--", "x"]);
    assert_eq!(out.code, 125);
    assert!(
        out.stderr
            .contains("arguments after `--` are only for kind command or native"),
        "{}",
        out.stderr
    );
}

#[test]
fn unknown_tool_and_ambiguous_tool() {
    let sb = Sandbox::new();
    sb.wat("t.wasm", &tool_wat(OK_BODY, ""));
    sb.manifest("version = 1\n[tools.a]\ncomponent = \"t.wasm\"\nrationale = \"x\"\n[tools.b]\ncomponent = \"t.wasm\"\nrationale = \"y\"\n");
    let out = sb.run(&["run", "agentbox.toml"]);
    assert_eq!(out.code, 125);
    assert!(
        out.stderr
            .contains("has 2 tools; choose one with --tool (a, b)"),
        "{}",
        out.stderr
    );
    let out = sb.run(&["run", "agentbox.toml", "--tool", "zzz"]);
    assert_eq!(out.code, 125);
    assert!(out.stderr.contains("no tool `zzz`"), "{}", out.stderr);
    assert_eq!(sb.run(&["run", "agentbox.toml", "--tool", "b"]).code, 0);
}

#[test]
fn describe_prints_the_components_json() {
    let sb = Sandbox::new();
    sb.wat("t.wasm", &tool_wat(OK_BODY, ""));
    sb.manifest(&tool_manifest("t.wasm", ""));
    let out = sb.run(&["describe", "agentbox.toml"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.stdout, "{\"name\":\"t\"}\n");
}

#[test]
fn bad_secrets_files_and_missing_secrets_are_refused_at_start() {
    let sb = Sandbox::new();
    sb.wat("t.wasm", &tool_wat(OK_BODY, ""));
    sb.manifest(&tool_manifest(
        "t.wasm",
        "[[tools.t.net]]\nallow = \"https://api.example.test\"\nrationale = \"r\"\n[[tools.t.secrets]]\nname = \"TOKEN\"\nallow = [\"https://api.example.test\"]\nheader = \"Authorization\"\nrationale = \"r\"\n",
    ));
    // A malformed secrets file: its line and what is allowed.
    sb.write(
        "bad.toml",
        "[secrets.TOKEN]\nfile = \"tok\"\nvalue = \"inline\"\n",
    );
    let (out, report) = sb.run_report(&["--secrets", "bad.toml"]);
    assert_eq!(out.code, 125, "{out:?}");
    assert_eq!(report["outcome"], "error");
    assert!(out.stderr.contains("bad.toml: line 3"), "{}", out.stderr);
    assert!(
        out.stderr.contains("allowed: [secrets.NAME]"),
        "{}",
        out.stderr
    );
    // No --secrets, or a file without the tool's secret: refused before running.
    let (out, _) = sb.run_report(&[]);
    assert_eq!(out.code, 125, "{out:?}");
    assert!(
        out.stderr.contains("give their sources with --secrets"),
        "{}",
        out.stderr
    );
    sb.write("other.toml", "[secrets.OTHER]\nfile = \"tok\"\n");
    let (out, _) = sb.run_report(&["--secrets", "other.toml"]);
    assert_eq!(out.code, 125, "{out:?}");
    assert!(
        out.stderr
            .contains("not defined in the secrets file: TOKEN"),
        "{}",
        out.stderr
    );
}

/// The Rust example asks for https://example.com with no net grant: denied by the
/// host, counted in the report, audited with the reason; the audit log is typed
/// JSONL with run start (manifest hash, grants), host call, guest log and run end.
#[test]
fn http_is_denied_by_default_and_audited() {
    let sb = Sandbox::new();
    let manifest = example("rust-tool/agentbox.toml");
    example("rust-tool/rust-tool.wasm");
    let m = manifest.to_string_lossy().into_owned();
    let out = sb.run(&[
        "run",
        &m,
        "--input",
        "{\"title\":\"A B\"}",
        "--report",
        "r.json",
        "--audit",
        "a.jsonl",
    ]);
    assert_eq!(out.code, 0, "{out:?}");
    let v: serde_json::Value = serde_json::from_str(&out.stdout).expect("JSON output");
    assert_eq!(v["slug"], "a-b");
    assert_eq!(
        v["network"],
        "denied: the tool has no net grant (deny by default)"
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(sb.path("r.json")).expect("report"))
            .expect("json");
    assert_eq!(report["http"]["denied"], 1);
    assert_eq!(report["http"]["allowed"], 0);
    let audit = std::fs::read_to_string(sb.path("a.jsonl")).expect("audit");
    let events: Vec<serde_json::Value> = audit
        .lines()
        .map(|l| serde_json::from_str(l).expect("audit line is JSON"))
        .collect();
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| e["event"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        kinds,
        [
            "run_start",
            "component_loaded",
            "guest_log",
            "http_request",
            "run_end"
        ]
    );
    let start = &events[0];
    let text = std::fs::read(&manifest).expect("manifest");
    use sha2::Digest;
    assert_eq!(
        start["manifest_sha256"],
        hex::encode(sha2::Sha256::digest(&text))
    );
    assert_eq!(start["grants"]["net"], serde_json::json!([]));
    assert_eq!(events[3]["decision"], "denied");
    assert_eq!(events[3]["method"], "GET");
    assert_eq!(events[3]["target"], "https://example.com/");
    assert_eq!(
        events[3]["reason"],
        "the tool has no net grant (deny by default)"
    );
    assert_eq!(events[4]["outcome"], "ok");
    for (i, e) in events.iter().enumerate() {
        assert_eq!(e["seq"], i as u64 + 1);
    }
}

/// The binaries — the supervisor, the compile workers and every run worker — do not
/// load `libgcc_s.so.1`: their unwinder is linked statically
/// (crates/worker/link_flags.rs), which saves each new worker ~0.2 ms (mapping the
/// library and its constructor's CPUID instructions); and they carry packed
/// relative relocations (DT_RELR). Read from the dynamic section and string table
/// near the start of each file, next to `libc.so.6`, which must be there (so that
/// the check can fail). Where the build keeps the shared unwinder (another target,
/// or `AGENTBOX_DYNAMIC_UNWINDER` set for this build) there is nothing to check.
#[cfg(all(target_os = "linux", target_arch = "x86_64", target_env = "gnu"))]
#[test]
fn binaries_do_not_load_libgcc_s() {
    if option_env!("AGENTBOX_DYNAMIC_UNWINDER").is_some() {
        eprintln!("skipped: built with AGENTBOX_DYNAMIC_UNWINDER (the shared unwinder)");
        return;
    }
    use std::io::Read;
    for b in [std::path::PathBuf::from(bin()), worker_bin()] {
        let mut head = Vec::new();
        std::fs::File::open(&b)
            .expect("open the binary")
            .take(1 << 20)
            .read_to_end(&mut head)
            .expect("read the binary");
        let has = |needle: &[u8]| head.windows(needle.len()).any(|w| w == needle);
        assert!(
            has(b"libc.so.6\0"),
            "{}: no dynamic string table in the first MiB",
            b.display()
        );
        assert!(!has(b"libgcc_s.so"), "{} needs libgcc_s.so.1", b.display());
        if std::env::var_os("AGENTBOX_NO_RELR").is_none() {
            let d = std::process::Command::new("readelf")
                .arg("-d")
                .arg(&b)
                .output()
                .expect("readelf (binutils)");
            let text = String::from_utf8_lossy(&d.stdout);
            assert!(text.contains("(NEEDED)"), "{}: {text}", b.display());
            assert!(
                text.contains("(RELR)"),
                "{} has no packed relocations",
                b.display()
            );
        }
    }
}
