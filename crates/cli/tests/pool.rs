//! Pooled confined workers: a fresh instance per call (nothing carried between
//! calls), and a worker that misbehaves is discarded, never reused.

mod common;
use agentbox_audit::AuditLog;
use agentbox_host::Invocation;
use agentbox_policy::Manifest;
use agentbox_supervisor::{Options, Supervisor};
use common::*;
use std::path::PathBuf;
use std::sync::Arc;

fn sup(sb: &Sandbox) -> Supervisor {
    Supervisor::new(&Options {
        cache_dir: Some(sb.path("cache/c")),
        worker_exe: Some(worker_bin()),
        compile_exe: Some(PathBuf::from(bin())),
        ..Options::default()
    })
    .expect("sup")
}

#[test]
fn every_call_gets_a_fresh_instance() {
    let sb = Sandbox::new();
    // A global counter: Ok only on the instance's first call.
    let body = format!(
        "(global.set $n (i32.add (global.get $n) (i32.const 1))) (if (i32.ne (global.get $n) (i32.const 1)) (then {ERR_BODY} return)) {OK_BODY}"
    );
    sb.wat(
        "t.wasm",
        &tool_wat(&body, "(global $n (mut i32) (i32.const 0))"),
    );
    let m = Manifest::load(&sb.manifest(&tool_manifest("t.wasm", ""))).expect("manifest");
    let tool = m.tool(None).expect("tool").clone();
    let s = sup(&sb);
    let pool = s.pool(&tool, 2).expect("pool");
    for i in 0..50 {
        let out = pool.invoke(
            &Invocation {
                input: "{}".into(),
                ..Default::default()
            },
            Arc::new(AuditLog::memory("p")),
        );
        assert_eq!(
            out.status, 0,
            "call {i}: {:?} {:?}",
            out.report, out.tool_error
        );
        assert_eq!(
            out.report.confinement.seccomp.as_deref(),
            Some("wasm-worker")
        );
    }
}

#[test]
fn a_timed_out_worker_is_replaced() {
    let sb = Sandbox::new();
    // Loops forever when the input is `[]`, answers Ok otherwise.
    let body = format!(
        "(if (i32.eq (i32.load8_u (local.get 0)) (i32.const 91)) (then (loop $l (br $l)))) {OK_BODY}"
    );
    sb.wat("t.wasm", &tool_wat(&body, ""));
    let m = Manifest::load(&sb.manifest(&tool_manifest(
        "t.wasm",
        "[tools.t.limits]\ntimeout = \"300ms\"\n",
    )))
    .expect("manifest");
    let tool = m.tool(None).expect("tool").clone();
    let s = sup(&sb);
    let pool = s.pool(&tool, 1).expect("pool");
    let out = pool.invoke(
        &Invocation {
            input: "[]".into(),
            ..Default::default()
        },
        Arc::new(AuditLog::memory("p")),
    );
    assert_eq!(out.status, 124, "{:?}", out.report);
    assert_eq!(out.report.limit, Some(agentbox_ipc::Limit::Timeout));
    let out = pool.invoke(
        &Invocation {
            input: "{}".into(),
            ..Default::default()
        },
        Arc::new(AuditLog::memory("p")),
    );
    assert_eq!(out.status, 0, "{:?}", out.report);
}
