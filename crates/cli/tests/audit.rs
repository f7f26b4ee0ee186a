//! The audit log through the binary (audit.md): signed runs verify, tampering is
//! named, and a log that cannot be written stops the tool — before it starts
//! (/dev/full, a read-only directory) or while it runs (a full tmpfs) — without
//! losing a line already written.

mod common;
use common::*;
use std::path::Path;

/// A command tool that writes a canary into its read-write grant.
fn canary_tool(sb: &Sandbox) {
    sb.write("w/.keep", "");
    sb.manifest(&format!(
        "version = 1\n[tools.p]\nkind = \"command\"\ncomponent = \"{}\"\nrationale = \"probe\"\n\
         [[tools.p.fs]]\nhost = \"w\"\nguest = \"/w\"\naccess = \"rw\"\nrationale = \"outputs\"\n",
        fixture("cmd_probe").display()
    ));
}

fn lines(p: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(p)
        .expect("audit log")
        .lines()
        .map(|l| serde_json::from_str(l).expect("every line is whole JSON"))
        .collect()
}

#[test]
fn signed_runs_verify_and_tampering_is_named() {
    let sb = Sandbox::new();
    sb.wat("t.wasm", &tool_wat(OK_BODY, ""));
    sb.manifest(&tool_manifest("t.wasm", ""));
    let run = [
        "run",
        "agentbox.toml",
        "--audit",
        "a.jsonl",
        "--audit-key",
        "k.pem",
    ];
    for _ in 0..2 {
        let out = sb.run(&run);
        assert_eq!(out.code, 0, "{out:?}");
    }
    let key_text = std::fs::read_to_string(sb.path("k.pem")).expect("key");
    let body: String = key_text.lines().nth(1).unwrap_or_default().to_string();
    let log = std::fs::read_to_string(sb.path("a.jsonl")).expect("log");
    assert!(!log.contains(&body), "key material in the log");
    let v = lines(&sb.path("a.jsonl"));
    assert_eq!(v[0]["event"], "run_start");
    assert_eq!(v[0]["prev"], "0".repeat(64));
    let stops = v.iter().filter(|l| l["event"] == "checkpoint").count();
    assert_eq!(stops, 2, "one stop checkpoint per run");
    let verify = ["audit", "verify", "a.jsonl", "--key", "k.pem.pub"];
    let out = sb.run(&verify);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout.starts_with(&format!(
            "ok: {} events, chain intact, last signed checkpoint at seq {}",
            v.len(),
            v.len()
        )),
        "{out:?}"
    );
    // One changed character in the second line.
    let tampered = log.replacen("component_loaded", "component_lodged", 1);
    assert_ne!(tampered, log);
    std::fs::write(sb.path("a.jsonl"), tampered).expect("write");
    let out = sb.run(&verify);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stdout.contains("seq 2: edited"), "{out:?}");
}

#[test]
fn an_unwritable_log_stops_the_tool_before_it_runs() {
    let sb = Sandbox::new();
    canary_tool(&sb);
    // A read-only directory: a read-only mount as root (root passes mode bits), mode 0555 otherwise.
    std::fs::create_dir(sb.path("ro")).expect("mkdir");
    let root = nix::unistd::geteuid().is_root();
    let _mount = if root {
        Some(Mount::tmpfs(&sb.path("ro"), "ro,size=64k"))
    } else {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(sb.path("ro"), std::fs::Permissions::from_mode(0o555))
            .expect("chmod");
        None
    };
    for log in ["/dev/full", "ro/a.jsonl"] {
        let out = sb.run(&[
            "run",
            "agentbox.toml",
            "--audit",
            log,
            "--",
            "write",
            "/w/canary",
            "x",
        ]);
        assert_eq!(out.code, 125, "{log}: {out:?}");
        assert!(out.stderr.contains("audit log"), "{log}: {out:?}");
        assert!(out.stdout.is_empty(), "{log}: {out:?}");
        assert!(!sb.path("w/canary").exists(), "{log}: the tool ran");
    }
    // The same tool with a writable log runs: the canary proves the probe works.
    let out = sb.run(&[
        "run",
        "agentbox.toml",
        "--audit",
        "ok.jsonl",
        "--",
        "write",
        "/w/canary",
        "x",
    ]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(sb.path("w/canary").exists());
}

#[test]
fn a_log_that_fills_while_the_tool_runs_stops_it_and_keeps_what_was_written() {
    if !nix::unistd::geteuid().is_root() {
        eprintln!(
            "skipped: needs root to mount a small tmpfs (the root run of scripts/test.sh covers it)"
        );
        return;
    }
    let sb = Sandbox::new();
    std::fs::copy(fixture("mcp_probe"), sb.path("p.wasm")).expect("copy");
    sb.manifest(&tool_manifest(
        "p.wasm",
        "[tools.t.limits]\noutput = \"4MiB\"\n",
    ));
    std::fs::create_dir(sb.path("full")).expect("mkdir");
    let _mount = Mount::tmpfs(&sb.path("full"), "size=32k");
    let out = sb.run(&[
        "run",
        "agentbox.toml",
        "--audit",
        "full/a.jsonl",
        "--audit-key",
        "k.pem",
        "--input",
        r#"{"op":"log","n":20000}"#,
    ]);
    assert_eq!(out.code, 125, "{out:?}");
    assert!(out.stderr.contains("audit log"), "{out:?}");
    assert!(
        !out.stdout.contains("logged"),
        "the output of an unrecorded run was handed out: {out:?}"
    );
    // Whole lines only, the run's start first, the chain intact up to the last one.
    let v = lines(&sb.path("full/a.jsonl"));
    assert_eq!(v[0]["event"], "run_start");
    assert!(v.len() > 10, "{} lines", v.len());
    assert!(v.len() < 20000);
    let out = sb.run(&[
        "audit",
        "verify",
        "full/a.jsonl",
        "--live",
        "--key",
        "k.pem.pub",
    ]);
    assert_eq!(out.code, 0, "{out:?}");
    // Not a clean stop: without --live the unsigned tail is named.
    let out = sb.run(&["audit", "verify", "full/a.jsonl", "--key", "k.pem.pub"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stdout.contains("unsigned"), "{out:?}");
}

/// A tmpfs mounted for one test, unmounted when dropped.
struct Mount(std::path::PathBuf);

impl Mount {
    fn tmpfs(at: &Path, opts: &str) -> Mount {
        let st = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", opts, "tmpfs"])
            .arg(at)
            .status()
            .expect("mount");
        assert!(st.success(), "mount tmpfs at {}", at.display());
        Mount(at.to_path_buf())
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
    }
}
