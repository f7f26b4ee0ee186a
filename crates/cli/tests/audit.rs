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

#[test]
fn stats_and_baseline_count_what_ran() {
    let sb = Sandbox::new();
    sb.wat("t.wasm", &tool_wat(OK_BODY, ""));
    sb.wat("e.wasm", &tool_wat(ERR_BODY, ""));
    sb.manifest(&format!(
        "{}\n[tools.e]\ncomponent = \"e.wasm\"\nrationale = \"fails\"\n",
        tool_manifest("t.wasm", "")
    ));
    for tool in ["t", "t", "e"] {
        sb.run(&["run", "agentbox.toml", "--tool", tool, "--audit", "a.jsonl"]);
    }
    let out = sb.run(&["audit", "stats", "a.jsonl", "--json"]);
    assert_eq!(out.code, 0, "{out:?}");
    let v: serde_json::Value = serde_json::from_str(&out.stdout).expect("json");
    assert_eq!(v["tools"]["t"]["calls"], 2, "{v}");
    assert_eq!(v["tools"]["t"]["outcomes"]["ok"], 2, "{v}");
    assert_eq!(v["tools"]["e"]["outcomes"]["tool_error"], 1, "{v}");
    assert!(
        v["tools"]["t"]["duration_ms"]["p50"]
            .as_f64()
            .is_some_and(|d| d > 0.0),
        "{v}"
    );
    let out = sb.run(&["audit", "stats", "a.jsonl"]);
    assert!(
        out.stdout
            .lines()
            .any(|l| l.starts_with('t') && l.split_whitespace().nth(1) == Some("2")),
        "{}",
        out.stdout
    );
    let out = sb.run(&["audit", "baseline", "a.jsonl", "-o", "b.json"]);
    assert_eq!(out.code, 0, "{out:?}");
    let b: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(sb.path("b.json")).expect("baseline"))
            .expect("json");
    assert_eq!(b["version"], 1);
    assert_eq!(b["tools"]["t"]["calls"], 2, "{b}");
    // A line that is not JSON is named, file and line.
    std::fs::write(
        sb.path("bad.jsonl"),
        "{\"seq\":1,\"event\":\"run_start\"}\nnot json\n",
    )
    .expect("write");
    let out = sb.run(&["audit", "stats", "bad.jsonl"]);
    assert_eq!(out.code, 125, "{out:?}");
    assert!(
        out.stderr.contains("bad.jsonl:2: not an audit line"),
        "{out:?}"
    );
}

#[test]
fn review_names_the_unused_grants_and_their_lines() {
    let sb = Sandbox::new();
    sb.wat("t.wasm", &tool_wat(OK_BODY, ""));
    let manifest = "version = 1\n\
[tools.t]\n\
component = \"t.wasm\"\n\
rationale = \"used\"\n\
\n\
[[tools.t.net]]\n\
allow = \"https://api.example.com/\"\n\
rationale = \"used\"\n\
\n\
[[tools.t.net]]\n\
allow = \"https://old.example.com/\"\n\
rationale = \"no longer\"\n\
\n\
[[tools.t.secrets]]\n\
name = \"TOKEN\"\n\
allow = [\"https://api.example.com/\"]\n\
rationale = \"used\"\n\
\n\
[[tools.t.secrets]]\n\
name = \"OLD\"\n\
allow = [\"https://old.example.com/\"]\n\
rationale = \"no longer\"\n\
\n\
[tools.u]\n\
component = \"t.wasm\"\n\
rationale = \"never called\"\n";
    sb.manifest(manifest);
    // What the supervisor records when net[0] allows a request carrying TOKEN.
    let log = [
        r#"{"seq":1,"ts":"2026-12-01T10:00:00.000Z","prev":"","run":"r1","event":"run_start","tool":"t"}"#,
        r#"{"seq":2,"ts":"2026-12-01T10:00:00.010Z","prev":"","run":"r1","event":"http_request","method":"GET","target":"https://api.example.com/x","decision":"allowed","reason":"net[0]: https://api.example.com","status":200,"redirect":0}"#,
        r#"{"seq":3,"ts":"2026-12-01T10:00:00.011Z","prev":"","run":"r1","event":"secret_use","name":"TOKEN","destination":"https://api.example.com","uses":1}"#,
        r#"{"seq":4,"ts":"2026-12-01T10:00:00.020Z","prev":"","run":"r1","event":"run_end","outcome":"ok","duration_ms":20.0}"#,
    ];
    std::fs::write(sb.path("a.jsonl"), log.join("\n") + "\n").expect("write");
    let out = sb.run(&["review", "agentbox.toml", "--audit", "a.jsonl"]);
    assert_eq!(out.code, 0, "{out:?}");
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert!(
        lines.contains(
            &"agentbox.toml:10: tool `t`: net[1]: https://old.example.com never matched a request"
        ) || lines.contains(
            &"agentbox.toml:11: tool `t`: net[1]: https://old.example.com never matched a request"
        ),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("secret OLD was never injected"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("agentbox.toml:24: tool `u` was never called"),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains("net[0]"), "{}", out.stdout);
    assert!(!out.stdout.contains("TOKEN"), "{}", out.stdout);
    // The window can leave everything out: then t's grants are all unused too.
    let out = sb.run(&[
        "review",
        "agentbox.toml",
        "--audit",
        "a.jsonl",
        "--since",
        "2026-12-02",
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).expect("json");
    assert_eq!(v["tools"][0]["tool"], "t");
    assert_eq!(v["tools"][0]["unused"][0]["kind"], "tool", "{v}");
}

/// `audit report`: one self-contained page (no script, nothing fetched), every
/// chart there, log text escaped — and Chromium lays the charts out.
#[test]
fn the_report_is_one_page_with_its_charts_and_chromium_draws_them() {
    let sb = Sandbox::new();
    sb.wat("t.wasm", &tool_wat(OK_BODY, ""));
    sb.wat("e.wasm", &tool_wat(ERR_BODY, ""));
    std::fs::copy(fixture("rs_fetch"), sb.path("f.wasm")).expect("copy guest");
    sb.manifest(&format!(
        "{}\n[tools.e]\ncomponent = \"e.wasm\"\nrationale = \"fails\"\n\
         [tools.f]\ncomponent = \"f.wasm\"\nrationale = \"fetches\"\n\
         [[tools.f.net]]\nallow = \"http://127.0.0.1:9/granted\"\nprivate = true\nrationale = \"a closed port\"\n",
        tool_manifest("t.wasm", "")
    ));
    for tool in ["t", "t", "e"] {
        sb.run(&["run", "agentbox.toml", "--tool", tool, "--audit", "a.jsonl"]);
    }
    let fetch = r#"{"requests": [{"url": "http://127.0.0.1:9/granted"}, {"url": "http://127.0.0.1:9/other"}]}"#;
    sb.run(&[
        "run",
        "agentbox.toml",
        "--tool",
        "f",
        "--input",
        fetch,
        "--audit",
        "a.jsonl",
    ]);
    // A monitor firing whose text would be markup if it were not escaped.
    let mut log = std::fs::read_to_string(sb.path("a.jsonl")).expect("log");
    log.push_str(r#"{"seq":999,"ts":"2026-12-07T10:00:00.000Z","prev":"","run":"mcp","event":"monitor_fired","rule":1,"line":9,"when":"denials > 0 in 1m","tool":"f","trigger":"r","detail":"<script>alert(1)</script>","responses":["alert"]}"#);
    log.push('\n');
    std::fs::write(sb.path("a.jsonl"), log).expect("write");

    let out = sb.run(&["audit", "report", "a.jsonl", "-o", "report.html"]);
    assert_eq!(out.code, 0, "{out:?}");
    let html = std::fs::read_to_string(sb.path("report.html")).expect("report");
    for id in [
        "calls-over-time",
        "outcomes",
        "denials",
        "destinations",
        "denied-destinations",
    ] {
        assert!(
            html.contains(&format!("<svg class=\"chart\" id=\"{id}\"")),
            "no chart {id}"
        );
    }
    for id in ["secrets", "guard-findings"] {
        assert!(html.contains(&format!("id=\"{id}\"")), "no section {id}");
    }
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    for external in ["<script", "src=", "href=", "@import", "url("] {
        assert!(!html.contains(external), "the page refers to `{external}`");
    }
    assert!(html.contains("data-tool=\"t\"") && html.contains("data-tool=\"f\""));

    // Laid out by a real browser: each chart has a size and its marks.
    let chromium = ["chromium", "chromium-browser"]
        .into_iter()
        .find(|c| {
            std::process::Command::new(c)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .expect("chromium is not installed: run scripts/test.sh (it installs Debian's chromium)");
    let probe = html.replace(
        "</body>",
        "<pre id=\"layout\"></pre><script>document.getElementById('layout').textContent = \
         JSON.stringify([...document.querySelectorAll('svg.chart')].map(s => { const r = s.getBoundingClientRect(); \
         return [s.id, Math.round(r.width), Math.round(r.height), s.querySelectorAll('polyline.series, rect.bar').length]; }));</script></body>",
    );
    std::fs::write(sb.path("probe.html"), probe).expect("write");
    let out = std::process::Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--virtual-time-budget=3000",
        ])
        .arg(format!("--user-data-dir={}", sb.path("chromium").display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", sb.path("probe.html").display()))
        .output()
        .expect("run chromium");
    let dom = String::from_utf8_lossy(&out.stdout);
    let layout = dom
        .split("<pre id=\"layout\">")
        .nth(1)
        .and_then(|s| s.split("</pre>").next())
        .unwrap_or_else(|| panic!("chromium did not run the layout probe: {out:?}"));
    let charts: Vec<(String, u64, u64, u64)> = serde_json::from_str(layout).expect("layout JSON");
    let find = |id: &str| {
        charts
            .iter()
            .find(|c| c.0 == id)
            .unwrap_or_else(|| panic!("chart {id} not laid out: {charts:?}"))
    };
    for (id, marks) in [
        ("calls-over-time", 3),
        ("outcomes", 3),
        ("denials", 1),
        ("destinations", 1),
        ("denied-destinations", 1),
    ] {
        let c = find(id);
        assert!(c.1 >= 400 && c.2 >= 20, "{id} has no size: {c:?}");
        assert!(
            c.3 >= marks,
            "{id} has {} marks, wanted {marks}: {c:?}",
            c.3
        );
    }
}
