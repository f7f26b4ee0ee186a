//! Fail closed: a layer that cannot be set up stops the run with status 125 and a
//! message naming the layer and the fix; running without it needs the dangerous
//! flag, which is printed and recorded in the report and the audit log.

mod common;
use common::*;

#[test]
fn unusable_cgroup_parent_refuses_to_run() {
    let sb = Sandbox::new();
    sb.wat("t.wasm", &tool_wat(OK_BODY, ""));
    sb.manifest(&tool_manifest("t.wasm", ""));
    // A parent that cannot hold cgroups (a control file, not a directory).
    let out = sb
        .cmd()
        .env("AGENTBOX_CGROUP_PARENT", "cgroup.procs/x")
        .args(["run", "agentbox.toml", "--report", "r.json"])
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(125), "{stderr}");
    assert!(
        stderr.contains("cannot confine the worker, refusing to run: cgroup"),
        "{stderr}"
    );
    assert!(stderr.contains("agentbox doctor"), "{stderr}");
    assert!(out.stdout.is_empty());
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(sb.path("r.json")).expect("report"))
            .expect("json");
    assert_eq!(r["outcome"], "sandbox_error");
    // With the dangerous flag it runs, and says so everywhere.
    let out = sb
        .cmd()
        .env("AGENTBOX_CGROUP_PARENT", "cgroup.procs/x")
        .args([
            "run",
            "agentbox.toml",
            "--report",
            "r.json",
            "--audit",
            "a.jsonl",
            "--dangerously-disable-layer",
            "cgroup",
        ])
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("DANGER: the cgroup layer is disabled"),
        "{stderr}"
    );
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(sb.path("r.json")).expect("report"))
            .expect("json");
    assert_eq!(
        r["confinement"]["dangerous"],
        serde_json::json!(["cgroup disabled (--dangerously-disable-layer)"])
    );
    assert!(r["confinement"]["cgroup"].is_null());
    let audit = std::fs::read_to_string(sb.path("a.jsonl")).expect("audit");
    let start: serde_json::Value =
        serde_json::from_str(audit.lines().next().unwrap_or("{}")).expect("json");
    assert_eq!(
        start["dangerous"],
        serde_json::json!(["cgroup disabled (--dangerously-disable-layer)"])
    );
}

#[test]
fn unknown_layer_names_are_refused() {
    let sb = Sandbox::new();
    sb.wat("t.wasm", &tool_wat(OK_BODY, ""));
    sb.manifest(&tool_manifest("t.wasm", ""));
    let out = sb.run(&[
        "run",
        "agentbox.toml",
        "--dangerously-disable-layer",
        "everything",
    ]);
    assert_eq!(out.code, 125);
    assert!(out.stderr.contains("unknown layer `everything`; layers: namespaces, landlock, seccomp, rlimits, capabilities, cgroup"), "{}", out.stderr);
}

#[test]
fn every_layer_can_be_listed_and_each_disable_is_recorded() {
    let sb = Sandbox::new();
    sb.wat("t.wasm", &tool_wat(OK_BODY, ""));
    sb.manifest(&tool_manifest("t.wasm", ""));
    for layer in ["landlock", "seccomp", "rlimits", "capabilities"] {
        let (out, r) = sb.run_report(&["--dangerously-disable-layer", layer]);
        assert_eq!(out.code, 0, "{layer}: {out:?}");
        assert_eq!(
            r["confinement"]["dangerous"],
            serde_json::json!([format!("{layer} disabled (--dangerously-disable-layer)")])
        );
        let enforced = r["confinement"]["enforced"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let names: Vec<&str> = enforced.iter().filter_map(|v| v.as_str()).collect();
        match layer {
            "landlock" => assert!(
                !names.contains(&"landlock") && r["confinement"]["landlock_abi"].is_null(),
                "{names:?}"
            ),
            "seccomp" => assert!(
                !names.contains(&"seccomp") && r["confinement"]["seccomp"].is_null(),
                "{names:?}"
            ),
            _ => {}
        }
    }
}
