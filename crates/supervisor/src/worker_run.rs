//! Running one invocation in a confined worker process: spawn, cgroup, start
//! message, serving host calls, deadlines, and classifying how it ended.

use crate::broker::LocalBroker;
use crate::report::Confinement;
use agentbox_confine::cgroup::{CgroupLimits, InvocationCgroup};
use agentbox_ipc::{
    ConfineSpec, ConfinementReport, InvocationMsg, IpcError, MAX_FRAME, Start, ToSupervisor,
    ToWorker, WorkerResult, spawn_worker,
};
use agentbox_policy::{ToolKind, ToolSpec};
use std::io::Read;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How a confined run ended, before mapping to report fields.
#[derive(Debug)]
pub(crate) enum Ended {
    /// The worker reported a result.
    Done(Box<WorkerResult>),
    /// Confinement could not be set up (fail closed).
    SetupFailed(String),
    /// The supervisor stopped it: (outcome, limit, detail, status).
    Stopped {
        outcome: &'static str,
        limit: Option<&'static str>,
        detail: String,
        status: i32,
    },
}

/// Everything a confined run produced.
#[derive(Debug)]
pub(crate) struct ConfinedRun {
    pub ended: Ended,
    pub confinement: Confinement,
}

/// The layers an operator may switch off, each with a flag named as dangerous.
pub const LAYERS: &[&str] = &[
    "namespaces",
    "landlock",
    "seccomp",
    "rlimits",
    "capabilities",
    "cgroup",
];

fn cgroup_limits(tool: &ToolSpec) -> CgroupLimits {
    match tool.kind {
        // The wasm runtime and compiled code live outside linear memory: the
        // cgroup is the backstop above the limiter, so it adds room for them.
        ToolKind::Tool | ToolKind::Command => CgroupLimits {
            memory_bytes: tool.limits.memory + (192 << 20),
            pids: 32,
            cpus: 1.0,
        },
        // `processes` is the program's own budget; the worker adds its intermediate
        // parent, itself and three I/O threads (stdin, stdout, stderr).
        ToolKind::Native => CgroupLimits {
            memory_bytes: tool.limits.memory,
            pids: tool.limits.processes + 5,
            cpus: 1.0,
        },
    }
}

fn stderr_reader(mut r: impl Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut out = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(n) = r.read(&mut buf) {
            if n == 0 {
                break;
            }
            if out.len() < 16 * 1024 {
                out.extend_from_slice(&buf[..n]);
            }
        }
        String::from_utf8_lossy(&out)
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join(" / ")
    })
}

/// Runs one invocation in a new confined worker.
#[allow(clippy::too_many_arguments)]
pub(crate) fn run_confined(
    worker_exe: &Path,
    tool: &ToolSpec,
    component: Arc<Vec<u8>>,
    inv: InvocationMsg,
    broker: &LocalBroker,
    disabled: &[String],
    run_id: &str,
) -> ConfinedRun {
    let started = Instant::now();
    let mut confinement = Confinement::none();
    confinement.dangerous = disabled
        .iter()
        .map(|l| format!("{l} disabled (--dangerously-disable-layer)"))
        .collect();
    let stopped = |detail: String| Ended::Stopped {
        outcome: "sandbox_error",
        limit: None,
        detail,
        status: crate::status::CANNOT_RUN,
    };
    // 1. The cgroup first, so that the worker is in it before it runs any code.
    let cg = if disabled.iter().any(|d| d == "cgroup") {
        None
    } else {
        match InvocationCgroup::create(run_id, cgroup_limits(tool)) {
            Ok(cg) => Some(cg),
            Err(e) => {
                return ConfinedRun {
                    ended: Ended::SetupFailed(format!("cgroup: {e}")),
                    confinement,
                };
            }
        }
    };
    if let Some(cg) = &cg {
        confinement.cgroup = Some(cg.version.as_str().into());
        confinement.cgroup_path = Some(cg.path.clone());
        confinement.cgroup_memory = Some(cg.limits.memory_bytes);
        confinement.cgroup_pids = Some(cg.limits.pids);
    }
    let finish = |ended: Ended, confinement: Confinement, cg: Option<InvocationCgroup>| {
        if let Some(cg) = cg {
            let _ = cg.destroy();
        }
        ConfinedRun { ended, confinement }
    };
    let (mut child, mut ch) = match spawn_worker(worker_exe, &["__worker"]) {
        Ok(x) => x,
        Err(e) => return finish(stopped(e.to_string()), confinement, cg),
    };
    let stderr = child.stderr.take().map(stderr_reader);
    if let Some(e) = cg.as_ref().and_then(|cg| cg.add(child.id()).err()) {
        let _ = child.kill();
        let _ = child.wait();
        return finish(Ended::SetupFailed(e.to_string()), confinement, cg);
    }
    let confine = ConfineSpec {
        profile: tool.profile.clone(),
        disabled_layers: disabled.to_vec(),
        user_namespace: true,
        uid: nix::unistd::geteuid().as_raw(),
        gid: nix::unistd::getegid().as_raw(),
        supervisor_ns: agentbox_confine::probe_ns(),
    };
    let start = Start {
        spec: tool.clone(),
        invocation: inv,
        component: component.to_vec(),
        confine,
    };
    if let Err(e) = ch.send(&ToWorker::Start(Box::new(start))) {
        let _ = child.kill();
        let _ = child.wait();
        return finish(
            stopped(format!("cannot start the worker: {e}")),
            confinement,
            cg,
        );
    }
    // 2. Serve until Done, a violation, a deadline or the worker's death.
    let native = tool.kind == ToolKind::Native;
    let grace = if native {
        Duration::ZERO
    } else {
        Duration::from_secs(1)
    };
    let deadline = started + tool.limits.timeout + grace + Duration::from_millis(500);
    let cpu_limit = tool.limits.cpu + grace;
    let mut ready = false;
    let ended = loop {
        let now = Instant::now();
        if now >= deadline {
            break Ended::Stopped {
                outcome: "timeout",
                limit: Some("timeout"),
                detail: format!(
                    "time limit of {} reached",
                    agentbox_policy::units::format_duration(tool.limits.timeout)
                ),
                status: crate::status::TIMEOUT,
            };
        }
        if cg.as_ref().is_some_and(|cg| cg.cpu_used() > cpu_limit) {
            break Ended::Stopped {
                outcome: "timeout",
                limit: Some("cpu"),
                detail: format!(
                    "CPU limit of {} reached",
                    agentbox_policy::units::format_duration(tool.limits.cpu)
                ),
                status: crate::status::TIMEOUT,
            };
        }
        let slice = (deadline - now).min(Duration::from_millis(100));
        match ch.recv::<ToSupervisor>(MAX_FRAME, Some(slice)) {
            Err(IpcError::TimedOut) => continue,
            Err(IpcError::Closed) => break died(&mut child, cg.as_ref(), stderr_text(stderr)),
            Err(e) => break violation(format!("{e}")),
            Ok(ToSupervisor::Ready(report)) if !ready => {
                ready = true;
                fill(&mut confinement, &report, tool);
            }
            Ok(ToSupervisor::SetupFailed { step, message }) if !ready => {
                break Ended::SetupFailed(format!("{step}: {message}"));
            }
            Ok(ToSupervisor::Fetch(req)) if ready => {
                let reply = broker.decide_fetch(&req.method, &req.url);
                if let Err(e) = ch.send(&ToWorker::HttpReply(reply)) {
                    break violation(format!("cannot answer: {e}"));
                }
            }
            Ok(ToSupervisor::Log { level, message }) if ready => broker.log_line(&level, message),
            Ok(ToSupervisor::Done(r)) if ready => break Ended::Done(r),
            Ok(other) => {
                break violation(format!(
                    "unexpected {} {}",
                    if ready {
                        "after Ready:"
                    } else {
                        "before Ready:"
                    },
                    kind_of(&other)
                ));
            }
        }
    };
    if !matches!(ended, Ended::Done(_)) {
        let _ = child.kill();
    }
    if let Some(cg) = &cg {
        cg.kill_all();
    }
    let _ = child.wait();
    let ended = match ended {
        Ended::Done(r) if r.outcome == "signal" => classify_signal(*r, cg.as_ref()),
        other => other,
    };
    finish(ended, confinement, cg)
}

fn kind_of(m: &ToSupervisor) -> &'static str {
    match m {
        ToSupervisor::Ready(_) => "Ready",
        ToSupervisor::Fetch(_) => "Fetch",
        ToSupervisor::Log { .. } => "Log",
        ToSupervisor::Done(_) => "Done",
        ToSupervisor::SetupFailed { .. } => "SetupFailed",
    }
}

fn violation(what: String) -> Ended {
    Ended::Stopped {
        outcome: "sandbox_error",
        limit: None,
        detail: format!("the worker broke the protocol ({what}); it was killed"),
        status: crate::status::CANNOT_RUN,
    }
}

fn stderr_text(h: Option<std::thread::JoinHandle<String>>) -> impl FnOnce() -> String {
    move || h.and_then(|h| h.join().ok()).unwrap_or_default()
}

/// The worker's code relayed by its intermediate parent: 128 + signal.
fn died(
    child: &mut std::process::Child,
    cg: Option<&InvocationCgroup>,
    stderr: impl FnOnce() -> String,
) -> Ended {
    let status = child.wait().ok();
    let code = status.and_then(|s| s.code());
    use std::os::unix::process::ExitStatusExt;
    let sig = status
        .and_then(|s| s.signal())
        .or_else(|| code.filter(|c| *c > 128).map(|c| c - 128));
    let oom = cg.is_some_and(InvocationCgroup::oom_killed);
    let err = stderr();
    signal_outcome(sig, oom, code, &err)
}

fn signal_outcome(sig: Option<i32>, oom: bool, code: Option<i32>, err: &str) -> Ended {
    let with_err = |s: String| {
        if err.is_empty() {
            s
        } else {
            format!("{s}; worker said: {err}")
        }
    };
    if oom {
        return Ended::Stopped {
            outcome: "limit",
            limit: Some("memory"),
            detail: "memory limit reached (the cgroup's OOM killer stopped the worker)".into(),
            status: crate::status::LIMIT,
        };
    }
    match sig {
        Some(libc_sig::SYS) => Ended::Stopped {
            outcome: "denied",
            limit: None,
            detail: "the worker was killed by seccomp: it made a forbidden system call".into(),
            status: crate::status::DENIED,
        },
        Some(libc_sig::XCPU) => Ended::Stopped {
            outcome: "timeout",
            limit: Some("cpu"),
            detail: "CPU limit reached (RLIMIT_CPU)".into(),
            status: crate::status::TIMEOUT,
        },
        Some(s) => Ended::Stopped {
            outcome: "trap",
            limit: None,
            detail: with_err(format!("the worker died from signal {s}")),
            status: crate::status::TRAP,
        },
        None => Ended::Stopped {
            outcome: "sandbox_error",
            limit: None,
            detail: with_err(format!(
                "the worker exited ({}) without a result",
                code.map_or("no status".to_string(), |c| format!("status {c}"))
            )),
            status: crate::status::CANNOT_RUN,
        },
    }
}

fn classify_signal(r: WorkerResult, cg: Option<&InvocationCgroup>) -> Ended {
    let sig = r.exit_code.map(|c| c - 128);
    let oom = cg.is_some_and(InvocationCgroup::oom_killed);
    match signal_outcome(sig, oom, r.exit_code, "") {
        Ended::Stopped {
            outcome: "trap", ..
        } => {
            // A native program killed by an ordinary signal: report it as its exit.
            let mut r = r;
            r.outcome = "exit".into();
            Ended::Done(Box::new(r))
        }
        other => other,
    }
}

mod libc_sig {
    pub const XCPU: i32 = 24;
    pub const SYS: i32 = 31;
}

fn fill(c: &mut Confinement, r: &ConfinementReport, tool: &ToolSpec) {
    c.namespaces = r.namespaces.clone();
    c.landlock_abi = r.landlock_abi;
    c.landlock_status = Some(r.landlock_status.clone());
    c.seccomp = if r.seccomp_mode == 2 {
        r.seccomp.clone()
    } else {
        None
    };
    c.no_new_privs = r.no_new_privs;
    c.capabilities = if r.cap_eff == 0 && r.cap_prm == 0 && r.cap_bnd == 0 {
        "none".into()
    } else {
        format!(
            "eff={:#x} prm={:#x} bnd={:#x}",
            r.cap_eff, r.cap_prm, r.cap_bnd
        )
    };
    c.open_fds = r.open_fds.clone();
    c.profile = Some(tool.profile.clone());
    c.enforced = ["wasm", "wasi-capabilities", "runtime-limits"]
        .iter()
        .filter(|_| tool.kind != ToolKind::Native)
        .map(|s| s.to_string())
        .collect();
    if !c.namespaces.is_empty() {
        c.enforced.push("namespaces".into());
    }
    if c.landlock_abi.is_some() {
        c.enforced.push("landlock".into());
    }
    if c.seccomp.is_some() {
        c.enforced.push("seccomp".into());
    }
    if c.cgroup.is_some() {
        c.enforced.push("cgroup".into());
    }
    if c.capabilities == "none" {
        c.enforced.push("no-capabilities".into());
    }
    c.note = "read back from the kernel by the worker after confinement".into();
}
