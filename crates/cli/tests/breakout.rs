//! `agentbox breakout`: the bundled suite runs every bundled case, with every
//! layer alone too, and nothing escapes; its output and filters are as documented;
//! the agentbox binary itself carries no attack code. Runs as root and, through
//! scripts/unprivileged.sh, as an unprivileged user.

mod common;
use common::*;
use std::process::Command;

fn breakout(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(bin())
        .arg("breakout")
        .args(args)
        .current_dir(std::env::temp_dir())
        .output()
        .expect("run agentbox breakout");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn every_bundled_case_is_blocked_also_by_each_layer_alone() {
    let (code, stdout, stderr) = breakout(&["--layers", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&stdout).expect(&stderr);
    let cases = v["cases"].as_array().expect("cases");
    // The catalog's 92 and the native-tool cases NS-09, SC-16, SC-17, SC-18.
    assert_eq!(cases.len(), 96, "the whole catalog");
    let (p, f, s) = (
        v["passed"].as_u64().unwrap_or(0),
        v["failed"].as_u64().unwrap_or(0),
        v["skipped"].as_u64().unwrap_or(0),
    );
    let failed: Vec<String> = cases
        .iter()
        .filter(|c| c["result"] != "passed" && c["result"] != "skipped")
        .map(|c| format!("{}: {}", c["id"], c["detail"]))
        .collect();
    assert!(failed.is_empty(), "{failed:#?}");
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(p + f + s, 96);
    assert!(p >= 96, "bundled cases must run and pass, got {p}");
    // The cases bundled last (network lab, scratch quota, collector, pidfds, kind
    // native tools) passed.
    for id in [
        "SSRF-01", "SSRF-02", "SSRF-04", "SSRF-06", "SSRF-08", "SSRF-09", "SSRF-10", "SSRF-13",
        "SSRF-14", "SEC-01", "SEC-02", "SEC-04", "SEC-05", "SEC-06", "SEC-10", "SEC-12", "SEC-13",
        "RES-12", "CAP-01", "CAP-03", "RES-08", "RES-09", "SUP-10", "SUP-15", "NS-09", "SC-16",
        "SC-17", "SC-18",
    ] {
        let c = cases.iter().find(|c| c["id"] == id).expect(id);
        assert_eq!(c["result"], "passed", "{c}");
    }
    for c in cases {
        // A skipped case says why; a passed one shows what blocked each attempt.
        assert!(!c["detail"].as_str().unwrap_or("").is_empty(), "{c}");
        if c["result"] == "passed" {
            let attempts = c["attempts"].as_array().expect("attempts");
            assert!(!attempts.is_empty(), "{c}");
            for a in attempts {
                let gap = a["mode"] == "isolated-landlock" && c["id"] == "LL-07";
                assert!(
                    a["verdict"] == "blocked" || (gap && a["verdict"] == "escaped"),
                    "{a}"
                );
            }
        }
    }
    // The documented Landlock gap (UDP) is asserted, not hidden.
    let ll07 = cases.iter().find(|c| c["id"] == "LL-07").expect("LL-07");
    let landlock = ll07["layers"]
        .as_array()
        .and_then(|l| l.iter().find(|x| x["layer"] == "landlock"))
        .expect("LL-07 isolated-landlock");
    assert_eq!(landlock["expected"], "gap");
    assert_eq!(landlock["ok"], true, "{landlock}");
    // Each layer alone blocked something on its own.
    for layer in ["seccomp", "landlock", "namespaces", "cgroup"] {
        assert!(
            cases
                .iter()
                .any(|c| c["layers"]
                    .as_array()
                    .is_some_and(|l| l.iter().any(|x| x["layer"] == layer
                        && x["expected"] == "blocks"
                        && x["ok"] == true
                        && x["observed"].as_str().unwrap_or("").starts_with("blocked")))),
            "no case shows {layer} blocking alone"
        );
    }
}

#[test]
fn table_filters_and_errors() {
    let (code, out, err) = breakout(&["--category", "SC"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("SC — Seccomp allow-list"), "{out}");
    assert!(!out.contains("LL-01"), "{out}");
    let last = out.lines().last().unwrap_or("");
    assert_eq!(last, "13 passed, 0 failed, 0 skipped", "{out}");
    let (code, out, _) = breakout(&["--case", "sc-02", "--json"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v["cases"].as_array().map(Vec::len), Some(1));
    assert_eq!(v["cases"][0]["id"], "SC-02");
    let (code, out, err) = breakout(&["--case", "SUP-10"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.ends_with("1 passed, 0 failed, 0 skipped\n"), "{out}");
    let (code, out, err) = breakout(&["--case", "SSRF-01"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.ends_with("1 passed, 0 failed, 0 skipped\n"), "{out}");
    let (code, out, err) = breakout(&["--category", "NOPE"]);
    assert_eq!(code, 125);
    assert_eq!(out, "");
    assert!(
        err.starts_with("agentbox: unknown category `NOPE` (categories: WASM, CM,"),
        "{err}"
    );
    let (code, _, err) = breakout(&["--case", "SC-99"]);
    assert_eq!(code, 125);
    assert!(err.contains("unknown case `SC-99`"), "{err}");
    // Without the probe, native cases are skipped with the reason, never passed.
    let (code, out, _) = breakout(&["--case", "SC-01", "--probe", "/nonexistent/probe", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(code, 1, "a probe that cannot run is a failure: {out}");
    assert_eq!(v["cases"][0]["result"], "failed", "{out}");
}

#[test]
fn the_agentbox_binary_carries_no_attack_code() {
    let probe = std::path::Path::new(bin())
        .parent()
        .expect("dir")
        .join("agentbox-probe");
    let needle = b"int 0x80 ptrace (i386 26)";
    let has = |p: &std::path::Path| {
        let bytes = std::fs::read(p).expect("read binary");
        bytes.windows(needle.len()).any(|w| w == needle)
    };
    assert!(
        has(&probe),
        "the probe must contain its attacks (else this test proves nothing)"
    );
    assert!(
        !has(std::path::Path::new(bin())),
        "attack code in the agentbox binary"
    );
}
