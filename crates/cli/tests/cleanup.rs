//! 1,000 confined invocations from one supervisor leave no cgroup, process or
//! descriptor behind.

mod common;
use agentbox_audit::AuditLog;
use agentbox_host::Invocation;
use agentbox_policy::Manifest;
use agentbox_supervisor::{Options, Supervisor};
use common::*;
use std::path::PathBuf;
use std::sync::Arc;

fn fd_count() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .map(|d| d.count())
        .unwrap_or(0)
}

fn children() -> usize {
    let me = std::process::id().to_string();
    std::fs::read_dir("/proc")
        .map(|d| {
            d.filter_map(|e| e.ok())
                .filter(|e| {
                    std::fs::read_to_string(e.path().join("stat"))
                        .ok()
                        .and_then(|s| {
                            s.rsplit(')')
                                .next()
                                .map(|r| r.split_whitespace().nth(1) == Some(me.as_str()))
                        })
                        .unwrap_or(false)
                })
                .count()
        })
        .unwrap_or(0)
}

fn our_cgroups() -> usize {
    let prefix = format!("run-{}-", std::process::id());
    let parent = agentbox_confine::cgroup::parent_name();
    ["pids", "memory", "cpu", ""]
        .iter()
        .map(|c| {
            let dir = if c.is_empty() {
                format!("/sys/fs/cgroup/{parent}")
            } else {
                format!("/sys/fs/cgroup/{c}/{parent}")
            };
            std::fs::read_dir(dir)
                .map(|d| {
                    d.filter_map(|e| e.ok())
                        .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
                        .count()
                })
                .unwrap_or(0)
        })
        .sum()
}

#[test]
fn a_thousand_invocations_leave_nothing_behind() {
    let sb = Sandbox::new();
    sb.wat("t.wasm", &tool_wat(OK_BODY, ""));
    let m = Manifest::load(&sb.manifest(&tool_manifest("t.wasm", ""))).expect("manifest");
    let tool = m.tool(None).expect("tool").clone();
    let options = Options {
        cache_dir: Some(sb.path("cache/c")),
        worker_exe: Some(worker_bin()),
        compile_exe: Some(PathBuf::from(bin())),
        ..Options::default()
    };
    // A first supervisor, dropped before counting: what the process sets up once
    // for good (tokio's signal registry, a socket pair, with agentbox mcp's
    // `signal` feature in the binary) is not a leak of any supervisor.
    drop(Supervisor::new(&options).expect("sup"));
    let fds = fd_count();
    let sup = Supervisor::new(&options).expect("sup");
    let inv = Invocation {
        input: "{}".into(),
        ..Default::default()
    };
    // Warm up once (compile cache, lazily opened descriptors).
    assert_eq!(
        sup.run(&m, &tool, &inv, Arc::new(AuditLog::memory("w")))
            .status,
        0
    );
    let warm = fd_count();
    for i in 0..1000 {
        let out = sup.run(&m, &tool, &inv, Arc::new(AuditLog::memory("t")));
        assert_eq!(out.status, 0, "invocation {i}: {:?}", out.report);
    }
    // At most the reaper's backlog (8 workers, a socket and a stderr pipe each)
    // is still open: nothing grows with the number of runs.
    assert!(fd_count() <= warm + 16, "descriptors grow with runs");
    // Finished workers are torn down off the caller's path; dropping the
    // supervisor waits for the last of them (and closes its own descriptors).
    drop(sup);
    assert_eq!(fd_count(), fds, "descriptors leaked");
    assert_eq!(children(), 0, "processes left behind");
    assert_eq!(our_cgroups(), 0, "cgroups left behind");
}
