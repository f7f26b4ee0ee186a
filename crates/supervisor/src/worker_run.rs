//! Running one invocation in a confined worker process: spawn, cgroup, start
//! message, serving host calls, deadlines, and classifying how it ended.

use crate::broker::LocalBroker;
use crate::report::Confinement;
use agentbox_confine::cgroup::{CgroupLimits, InvocationCgroup, Version};
use agentbox_confine::{Namespaces, SpawnOptions, WorkerProcess, spawn_worker};
use agentbox_ipc::{
    ConfineSpec, ConfinementReport, InvocationMsg, IpcError, Layer, Limit, MAX_FRAME, Outcome,
    Start, ToSupervisor, ToWorker, WorkerResult,
};
use agentbox_policy::{ToolKind, ToolSpec};
use std::io::Read;
use std::os::fd::AsFd;
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
    /// A pooled worker is confined and waiting (only with `until_ready`).
    Ready,
    /// A compile worker's artifact (untrusted bytes, never loaded here).
    Compiled(Vec<u8>),
    /// The supervisor stopped it: (outcome, limit, detail, status).
    Stopped {
        outcome: Outcome,
        limit: Option<Limit>,
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

impl ConfinedRun {
    /// The worker reported that it could not load the component it was sent.
    pub(crate) fn unusable_component(&self) -> bool {
        matches!(&self.ended, Ended::Done(r) if r.unusable_component)
    }
}

/// The layers an operator may switch off, each with a flag named as dangerous.
pub use agentbox_confine::LAYERS;

/// Room a wasm worker's memory cgroup gives the runtime and compiled code above
/// the tool's linear-memory limit.
pub(crate) const RUNTIME_ROOM: u64 = 192 << 20;

fn cgroup_limits(tool: &ToolSpec) -> CgroupLimits {
    // Scratch spaces are tmpfs pages charged to the worker's memory cgroup: the
    // cgroup makes room for them, so that a full scratch ends in ENOSPC at its
    // quota rather than in an out-of-memory kill.
    let scratch: u64 = tool.scratch.iter().map(|s| s.size).sum();
    let mut l = cgroup_limits_without_scratch(tool);
    l.memory_bytes += scratch;
    l
}

fn cgroup_limits_without_scratch(tool: &ToolSpec) -> CgroupLimits {
    match tool.kind {
        // The wasm runtime and compiled code live outside linear memory: the
        // cgroup is the backstop above the limiter, so it adds room for them.
        ToolKind::Tool | ToolKind::Command => CgroupLimits {
            memory_bytes: tool.limits.memory + RUNTIME_ROOM,
            pids: 32,
            cpus: 1.0,
        },
        // `processes` is the program's own budget; the worker adds itself and
        // three I/O threads (stdin, stdout, stderr).
        ToolKind::Native => CgroupLimits {
            memory_bytes: tool.limits.memory,
            pids: tool.limits.processes + 4,
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

/// A started worker: its process, socket, cgroup and what it reported.
#[derive(Debug)]
pub(crate) struct LiveWorker {
    child: WorkerProcess,
    ch: agentbox_ipc::Channel,
    cg: Option<InvocationCgroup>,
    stderr: Option<std::thread::JoinHandle<String>>,
    pub confinement: Confinement,
    ready: bool,
    /// A pooled worker (serves many calls).
    pooled: bool,
    /// A compile worker (answers with an artifact).
    compile: bool,
}

impl LiveWorker {
    /// Process ids in the worker's cgroup (for RSS measurements).
    pub(crate) fn pids(&self) -> Vec<u64> {
        self.cg
            .as_ref()
            .map(InvocationCgroup::procs)
            .unwrap_or_default()
    }

    /// The worker process has exited (an idle pooled worker killed from outside,
    /// e.g. by the OOM killer): its pidfd is readable. One poll, no wait.
    pub(crate) fn exited(&self) -> bool {
        use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
        let mut fds = [PollFd::new(self.child.pidfd(), PollFlags::POLLIN)];
        poll(&mut fds, PollTimeout::ZERO).is_ok_and(|n| n > 0)
    }

    /// Busy-wait before blocking on this worker's socket (pooled, hot path).
    pub(crate) fn set_spin(&mut self, spin: Duration) {
        self.ch.set_spin(spin);
    }

    /// Kills the worker and everything in its cgroup, and removes the cgroup.
    pub(crate) fn destroy(mut self) {
        // The worker is pid 1 of its pid namespace: once it is reaped, the kernel
        // has killed everything else in the namespace too. The cgroup sweep is for
        // a worker run without namespaces (dangerous flag), whose children survive.
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(cg) = &self.cg {
            cg.kill_all();
        }
        if let Some(cg) = self.cg.take() {
            let _ = cg.destroy();
            // Every process of the worker is gone, so its stderr pipe is at EOF:
            // join the reader so that its descriptor is closed now, not later.
            if let Some(h) = self.stderr.take() {
                let _ = h.join();
            }
        }
    }
}

/// How a layer the operator switched off is named in the report and audit log.
pub(crate) fn dangerous_notes(disabled: &[Layer]) -> Vec<String> {
    disabled
        .iter()
        .map(|l| format!("{l} disabled (--dangerously-disable-layer)"))
        .collect()
}

/// Destroys finished workers on a thread of its own, so that a run's result is
/// returned without waiting for the kernel to tear the worker's process,
/// namespaces and cgroup down. Bounded: when it falls behind, callers wait. Its
/// drop waits until every worker handed to it is gone.
#[derive(Debug)]
pub(crate) struct Reaper {
    tx: Option<std::sync::mpsc::SyncSender<LiveWorker>>,
    thread: Option<std::thread::JoinHandle<()>>,
    /// Workers handed over and not yet destroyed.
    pending: Pending,
}

type Pending = Arc<(std::sync::Mutex<usize>, std::sync::Condvar)>;

impl Reaper {
    pub(crate) fn new() -> Self {
        let (tx, rx) = std::sync::mpsc::sync_channel::<LiveWorker>(8);
        let pending: Pending = Arc::new((std::sync::Mutex::new(0usize), std::sync::Condvar::new()));
        let done = pending.clone();
        match std::thread::Builder::new()
            .name("agentbox-reaper".into())
            .spawn(move || {
                // Counted down per worker even if destroying one panics; when the
                // thread ends, whatever is left counts as gone (nothing will
                // destroy it here any more), so that `drain` never hangs.
                struct Done<'a>(&'a Pending, bool);
                impl Drop for Done<'_> {
                    fn drop(&mut self) {
                        let (n, cv) = &**self.0;
                        if let Ok(mut n) = n.lock() {
                            *n = if self.1 { 0 } else { n.saturating_sub(1) };
                        }
                        cv.notify_all();
                    }
                }
                let _on_exit = Done(&done, true);
                for w in rx {
                    let _one = Done(&done, false);
                    w.destroy();
                }
            }) {
            Ok(thread) => Self {
                tx: Some(tx),
                thread: Some(thread),
                pending,
            },
            // No thread: destroy on the caller's path instead.
            Err(_) => Self {
                tx: None,
                thread: None,
                pending,
            },
        }
    }

    pub(crate) fn destroy(&self, w: LiveWorker) {
        match &self.tx {
            Some(tx) => {
                if let Ok(mut n) = self.pending.0.lock() {
                    *n += 1;
                }
                if let Err(std::sync::mpsc::SendError(w)) = tx.send(w) {
                    if let Ok(mut n) = self.pending.0.lock() {
                        *n = n.saturating_sub(1);
                    }
                    w.destroy();
                }
            }
            None => w.destroy(),
        }
    }

    /// Waits until no handed-over worker is left to destroy (workers handed
    /// over meanwhile, by concurrent runs, are waited for too).
    pub(crate) fn drain(&self) {
        let (n, cv) = &*self.pending;
        if let Ok(mut g) = n.lock() {
            while *g > 0 {
                match cv.wait(g) {
                    Ok(next) => g = next,
                    Err(_) => return,
                }
            }
        }
    }
}

impl Drop for Reaper {
    fn drop(&mut self) {
        self.tx = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Spawns a worker in a new cgroup and sends it its start message. `pooled`
/// workers wait for `Invoke` messages after confinement instead of running `inv`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn start_worker(
    worker_exe: &Path,
    tool: &ToolSpec,
    component: &[u8],
    inv: InvocationMsg,
    pooled: bool,
    disabled: &[Layer],
    run_id: &str,
) -> Result<LiveWorker, Box<(Ended, Confinement)>> {
    let w = launch(worker_exe, tool, disabled, run_id)?;
    send_start(w, tool, component, inv, Job::new(pooled), disabled)
}

/// Creates the worker's cgroup and starts the worker in it (in its namespaces):
/// it waits for its start message, so nothing of the tool has run yet.
pub(crate) fn launch(
    worker_exe: &Path,
    tool: &ToolSpec,
    disabled: &[Layer],
    run_id: &str,
) -> Result<LiveWorker, Box<(Ended, Confinement)>> {
    let mut confinement = Confinement::none();
    confinement.dangerous = dangerous_notes(disabled);
    let fault = crate::fault::current();
    let cgroup_on = !disabled.contains(&Layer::Cgroup);
    if cgroup_on && fault.as_deref() == Some("cgroup") {
        return Err(Box::new((
            Ended::SetupFailed("cgroup: failure injected by the breakout suite".into()),
            confinement,
        )));
    }
    let create = |confinement: &mut Confinement| {
        let cg = InvocationCgroup::create(run_id, cgroup_limits(tool))
            .map_err(|e| Ended::SetupFailed(format!("cgroup: {e}")))?;
        confinement.cgroup = Some(cg.version.as_str().into());
        confinement.cgroup_path = Some(cg.path.clone());
        confinement.cgroup_memory = Some(cg.limits.memory_bytes);
        confinement.cgroup_pids = Some(cg.limits.pids);
        Ok::<_, Ended>(cg)
    };
    // v2: the cgroup first, and the worker is born in it (`CLONE_INTO_CGROUP`: no
    // migration, it never runs outside it). v1 has no such clone: the cgroup is
    // created and the worker moved into it below, while the worker execs (the
    // move waits for the kernel's cgroup lock, which can take a grace period). In
    // both cases the worker runs nothing of the tool's before its start message,
    // which is sent only once it is in its cgroup.
    let v1 = cgroup_on && Version::detect() == Version::V1;
    let mut cg = None;
    if cgroup_on && !v1 {
        match create(&mut confinement) {
            Ok(c) => cg = Some(c),
            Err(ended) => return Err(Box::new((ended, confinement))),
        }
    }
    let fail = |ended: Ended, confinement: Confinement, cg: Option<InvocationCgroup>| {
        if let Some(cg) = cg {
            let _ = cg.destroy();
        }
        Err(Box::new((ended, confinement)))
    };
    let cgroup_dir = match cg.as_ref().map(InvocationCgroup::clone_into).transpose() {
        Ok(fd) => fd.flatten(),
        Err(e) => return fail(Ended::SetupFailed(e.to_string()), confinement, cg),
    };
    let namespaces = (!disabled.contains(&Layer::Namespaces)).then(|| Namespaces {
        uid: nix::unistd::geteuid().as_raw(),
        gid: nix::unistd::getegid().as_raw(),
    });
    if fault.as_deref() == Some("userns") && namespaces.is_some() {
        return fail(
            Ended::SetupFailed(
                "namespaces: cannot create the worker's namespaces: failure injected by the breakout suite".into(),
            ),
            confinement,
            cg,
        );
    }
    let spawned = spawn_worker(&SpawnOptions {
        exe: worker_exe,
        args: &["__worker"],
        namespaces,
        cgroup_dir: cgroup_dir.as_ref().map(|fd| fd.as_fd()),
    });
    drop(cgroup_dir);
    let spawning = match spawned {
        Ok(x) => x,
        Err(e @ agentbox_confine::SpawnError::Clone(_)) if namespaces.is_some() => {
            return fail(
                Ended::SetupFailed(format!("namespaces: {e}")),
                confinement,
                cg,
            );
        }
        Err(e) => return fail(sandbox_error(e.to_string()), confinement, cg),
    };
    if v1 {
        match create(&mut confinement) {
            Ok(c) => cg = Some(c),
            Err(ended) => {
                spawning.abort();
                return fail(ended, confinement, None);
            }
        }
        if let Some(e) = cg.as_ref().and_then(|cg| cg.add(spawning.id()).err()) {
            spawning.abort();
            return fail(Ended::SetupFailed(e.to_string()), confinement, cg);
        }
    }
    let (mut child, ch) = match spawning.finish() {
        Ok(x) => x,
        Err(e) => return fail(sandbox_error(e.to_string()), confinement, cg),
    };
    let stderr = child.stderr.take().map(stderr_reader);
    Ok(LiveWorker {
        child,
        ch,
        cg,
        stderr,
        confinement,
        ready: false,
        pooled: false,
        compile: false,
    })
}

/// What a started worker is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Job {
    OneShot,
    Pooled,
    /// Validate and compile the (untrusted) component bytes it is sent.
    Compile,
}

impl Job {
    fn new(pooled: bool) -> Self {
        if pooled { Self::Pooled } else { Self::OneShot }
    }
}

/// Sends a launched worker everything it needs; on failure it is destroyed.
pub(crate) fn send_start(
    mut w: LiveWorker,
    tool: &ToolSpec,
    component: &[u8],
    inv: InvocationMsg,
    job: Job,
    disabled: &[Layer],
) -> Result<LiveWorker, Box<(Ended, Confinement)>> {
    let fail = |w: LiveWorker, ended: Ended| {
        let confinement = w.confinement.clone();
        w.destroy();
        Err(Box::new((ended, confinement)))
    };
    let (sandbox, seccomp) = match compiled_profile(&tool.profile) {
        Ok(x) => x,
        Err(e) => return fail(w, Ended::SetupFailed(format!("profile: {e}"))),
    };
    let confine = ConfineSpec {
        sandbox,
        seccomp,
        profile: tool.profile.clone(),
        disabled_layers: disabled.to_vec(),
        supervisor_ns: agentbox_confine::probe_ns(),
        inject_fault: crate::fault::current(),
    };
    let start = Start {
        spec: tool.worker_spec(),
        invocation: inv,
        component_len: component.len() as u64,
        component: Default::default(),
        confine,
        pooled: job == Job::Pooled,
        compile: job == Job::Compile,
    };
    let sent = w.ch.send(&ToWorker::Start(Box::new(start))).and_then(|()| {
        if component.is_empty() {
            Ok(())
        } else {
            let fd = agentbox_ipc::sealed_memfd(component)?;
            w.ch.send_fd(std::os::fd::AsFd::as_fd(&fd))
        }
    });
    if let Err(e) = sent {
        return fail(w, sandbox_error(format!("cannot start the worker: {e}")));
    }
    w.pooled = job == Job::Pooled;
    w.compile = job == Job::Compile;
    Ok(w)
}

/// A profile's sandbox layout and compiled seccomp filters, computed once per
/// process (the worker receives them as data).
pub(crate) fn compiled_profile(
    name: &str,
) -> Result<
    (
        agentbox_profiles::SandboxProfile,
        agentbox_profiles::SeccompBpf,
    ),
    String,
> {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    type Entry = (
        agentbox_profiles::SandboxProfile,
        agentbox_profiles::SeccompBpf,
    );
    static CACHE: OnceLock<Mutex<HashMap<String, Entry>>> = OnceLock::new();
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    if let Some(e) = cache.lock().ok().and_then(|c| c.get(name).cloned()) {
        return Ok(e);
    }
    let sandbox = agentbox_profiles::SandboxProfile::shipped(name).map_err(|e| e.to_string())?;
    let seccomp = agentbox_profiles::SeccompProfile::shipped(name)
        .and_then(|p| p.to_bpf())
        .map_err(|e| e.to_string())?;
    if let Ok(mut c) = cache.lock() {
        c.insert(name.to_string(), (sandbox.clone(), seccomp.clone()));
    }
    Ok((sandbox, seccomp))
}

fn sandbox_error(detail: String) -> Ended {
    Ended::Stopped {
        outcome: Outcome::SandboxError,
        limit: None,
        detail,
        status: crate::status::CANNOT_RUN,
    }
}

/// Serves a worker until it reports `Done` (or `Ready`, when `until_ready`), breaks
/// the protocol, misses its deadline or dies.
/// How long a call with a `blocking` hook may run on its caller's thread.
const ON_THREAD: Duration = Duration::from_millis(2);

pub(crate) fn serve(
    w: &mut LiveWorker,
    tool: &ToolSpec,
    broker: &LocalBroker,
    until_ready: bool,
) -> Ended {
    let started = Instant::now();
    let native = tool.kind == ToolKind::Native;
    let grace = if native {
        Duration::ZERO
    } else {
        Duration::from_secs(1)
    };
    let deadline = started + tool.limits.timeout + grace + Duration::from_millis(500);
    // The cgroup's CPU usage is a file read, done only at the 100 ms ticks of the
    // serving loop. A fresh worker's cgroup starts at zero; a pooled worker's
    // baseline is taken at its first tick, which under-counts at most that tick —
    // the guest thread's own CPU clock is the primary check for wasm, this is the
    // backstop (and the primary one for native tools, which are never pooled).
    let mut cpu_start = if w.pooled { None } else { Some(Duration::ZERO) };
    let cpu_limit = tool.limits.cpu + grace;
    let mut ticks = 0u32;
    let cancel = broker.hooks.cancel.as_ref();
    let _watch = cancel.map(|c| c.watch(w.child.pidfd()));
    let hooks = &broker.hooks;
    let hooked = hooks.blocking.is_some();
    let mut waited = false;
    loop {
        if cancel.is_some_and(crate::Cancel::is_cancelled) {
            return cancelled();
        }
        let now = Instant::now();
        if now >= deadline {
            return Ended::Stopped {
                outcome: Outcome::Timeout,
                limit: Some(Limit::Timeout),
                detail: format!(
                    "time limit of {} reached",
                    agentbox_policy::units::format_duration(tool.limits.timeout)
                ),
                status: crate::status::TIMEOUT,
            };
        }
        let over_cpu = match (&w.cg, ticks > 0) {
            (Some(cg), true) => {
                let now_cpu = cg.cpu_used();
                let start = *cpu_start.get_or_insert(now_cpu);
                now_cpu.saturating_sub(start) > cpu_limit
            }
            _ => false,
        };
        if over_cpu {
            return Ended::Stopped {
                outcome: Outcome::Timeout,
                limit: Some(Limit::Cpu),
                detail: format!(
                    "CPU limit of {} reached",
                    agentbox_policy::units::format_duration(tool.limits.cpu)
                ),
                status: crate::status::TIMEOUT,
            };
        }
        let slice = (deadline - now).min(Duration::from_millis(100));
        // A compile worker's artifact can be larger than any other frame, but
        // never larger than the compile worker's whole memory.
        let max = if w.compile {
            usize::try_from(tool.limits.memory.saturating_add(RUNTIME_ROOM))
                .unwrap_or(usize::MAX)
                .min(agentbox_ipc::MAX_START_FRAME)
        } else {
            MAX_FRAME
        };
        // A call keeps its caller's thread only briefly: after ON_THREAD (a
        // guest streaming log lines, say) every wait leaves it, so the caller's
        // other tasks (a cancellation among them) are not held up.
        waited |= started.elapsed() > ON_THREAD;
        // Once a wait has left the caller's thread, later ones do not spin here
        // first.
        let frame = if hooked && (waited || !w.ch.ready_within_spin()) {
            waited = true;
            hooks.off_thread(|| w.ch.recv::<ToSupervisor>(max, Some(slice)))
        } else {
            w.ch.recv::<ToSupervisor>(max, Some(slice))
        };
        match frame {
            Err(IpcError::TimedOut) => {
                ticks += 1;
                continue;
            }
            Err(IpcError::Closed) => {
                let ended = died(&mut w.child, w.cg.as_ref(), stderr_text(w.stderr.take()));
                if cancel.is_some_and(crate::Cancel::is_cancelled) {
                    return cancelled();
                }
                return ended;
            }
            Err(e) => return violation(format!("{e}")),
            Ok(ToSupervisor::Ready(report)) if !w.ready => {
                w.ready = true;
                fill(&mut w.confinement, &report, tool);
                if until_ready {
                    return Ended::Ready;
                }
            }
            Ok(ToSupervisor::SetupFailed { step, message }) if !w.ready => {
                return Ended::SetupFailed(format!("{step}: {message}"));
            }
            Ok(ToSupervisor::Fetch(req)) if w.ready && !w.compile => {
                let reply = hooks.off_thread(|| broker.fetch_for_worker(req));
                if broker
                    .audit_failed
                    .load(std::sync::atomic::Ordering::SeqCst)
                {
                    return audit_stopped();
                }
                if let Err(e) = w.ch.send(&ToWorker::HttpReply(reply)) {
                    return violation(format!("cannot answer: {e}"));
                }
            }
            Ok(ToSupervisor::Log { level, message }) if w.ready && !w.compile => {
                broker.log_line(level, message);
                if broker
                    .audit_failed
                    .load(std::sync::atomic::Ordering::SeqCst)
                {
                    return audit_stopped();
                }
            }
            Ok(ToSupervisor::Done(r)) if w.ready && (!w.compile || r.outcome == Outcome::Error) => {
                return Ended::Done(r);
            }
            Ok(ToSupervisor::Compiled(a)) if w.ready && w.compile => return Ended::Compiled(a),
            Ok(other) => {
                return violation(format!(
                    "unexpected {} {}",
                    if w.ready {
                        "after Ready:"
                    } else {
                        "before Ready:"
                    },
                    kind_of(&other)
                ));
            }
        }
    }
}

/// A host call could not be recorded: the invocation stops here (its worker is
/// discarded), rather than go on unrecorded.
fn audit_stopped() -> Ended {
    Ended::Stopped {
        outcome: Outcome::Error,
        limit: None,
        detail: "the audit log cannot be written: the tool was stopped".into(),
        status: crate::status::CANNOT_RUN,
    }
}

/// The caller cancelled the invocation (its worker is killed, or about to be).
pub(crate) fn cancelled() -> Ended {
    Ended::Stopped {
        outcome: Outcome::Cancelled,
        limit: None,
        detail: "cancelled by the caller".into(),
        status: crate::status::CANCELLED,
    }
}

/// Sends one more invocation to a pooled worker and serves it.
pub(crate) fn invoke_pooled(
    w: &mut LiveWorker,
    tool: &ToolSpec,
    inv: InvocationMsg,
    broker: &LocalBroker,
) -> Ended {
    if let Err(e) = w.ch.send(&ToWorker::Invoke(inv)) {
        return sandbox_error(format!("cannot reach the pooled worker: {e}"));
    }
    let ended = serve(w, tool, broker, false);
    match ended {
        Ended::Done(r) if r.outcome == Outcome::Signal => classify_signal(*r, w.cg.as_ref()),
        other => other,
    }
}

/// Runs one invocation in a new confined worker.
#[allow(clippy::too_many_arguments)]
pub(crate) fn run_confined(
    worker_exe: &Path,
    tool: &ToolSpec,
    component: Arc<Vec<u8>>,
    inv: InvocationMsg,
    broker: &LocalBroker,
    disabled: &[Layer],
    run_id: &str,
    reaper: &Reaper,
) -> ConfinedRun {
    let launched = launch(worker_exe, tool, disabled, run_id);
    run_launched(launched, tool, &component, inv, broker, disabled, reaper)
}

/// Runs one invocation in a worker that [`launch`] started.
pub(crate) fn run_launched(
    launched: Result<LiveWorker, Box<(Ended, Confinement)>>,
    tool: &ToolSpec,
    component: &[u8],
    inv: InvocationMsg,
    broker: &LocalBroker,
    disabled: &[Layer],
    reaper: &Reaper,
) -> ConfinedRun {
    let started =
        launched.and_then(|w| send_start(w, tool, component, inv, Job::OneShot, disabled));
    let mut w = match started {
        Ok(w) => w,
        Err(b) => {
            let (ended, confinement) = *b;
            return ConfinedRun { ended, confinement };
        }
    };
    let ended = serve(&mut w, tool, broker, false);
    let ended = match ended {
        Ended::Done(r) if r.outcome == Outcome::Signal => classify_signal(*r, w.cg.as_ref()),
        other => other,
    };
    let confinement = w.confinement.clone();
    reaper.destroy(w);
    ConfinedRun { ended, confinement }
}

fn kind_of(m: &ToSupervisor) -> &'static str {
    match m {
        ToSupervisor::Ready(_) => "Ready",
        ToSupervisor::Fetch(_) => "Fetch",
        ToSupervisor::Log { .. } => "Log",
        ToSupervisor::Done(_) => "Done",
        ToSupervisor::SetupFailed { .. } => "SetupFailed",
        ToSupervisor::Compiled(_) => "Compiled",
    }
}

fn violation(what: String) -> Ended {
    Ended::Stopped {
        outcome: Outcome::SandboxError,
        limit: None,
        detail: format!("the worker broke the protocol ({what}); it was killed"),
        status: crate::status::CANNOT_RUN,
    }
}

fn stderr_text(h: Option<std::thread::JoinHandle<String>>) -> impl FnOnce() -> String {
    // Only joined once the worker is gone (its stderr is closed).
    move || h.and_then(|h| h.join().ok()).unwrap_or_default()
}

/// How the worker process ended: its exit code or the signal that killed it.
fn died(
    child: &mut WorkerProcess,
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
            outcome: Outcome::Limit,
            limit: Some(Limit::Memory),
            detail: "memory limit reached (the cgroup's OOM killer stopped the worker)".into(),
            status: crate::status::LIMIT,
        };
    }
    match sig {
        Some(libc_sig::SYS) => Ended::Stopped {
            outcome: Outcome::Denied,
            limit: None,
            detail: "the worker was killed by seccomp: it made a forbidden system call".into(),
            status: crate::status::DENIED,
        },
        Some(libc_sig::XCPU) => Ended::Stopped {
            outcome: Outcome::Timeout,
            limit: Some(Limit::Cpu),
            detail: "CPU limit reached (RLIMIT_CPU)".into(),
            status: crate::status::TIMEOUT,
        },
        Some(s) => Ended::Stopped {
            outcome: Outcome::Trap,
            limit: None,
            detail: with_err(format!("the worker died from signal {s}")),
            status: crate::status::TRAP,
        },
        None => Ended::Stopped {
            outcome: Outcome::SandboxError,
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
            outcome: Outcome::Trap,
            ..
        } => {
            // A native program killed by an ordinary signal: report it as its exit.
            let mut r = r;
            r.outcome = Outcome::Exit;
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
    c.landlock_status = Some(r.landlock_status);
    c.seccomp = if r.seccomp_mode == 2 {
        r.seccomp.clone()
    } else {
        None
    };
    c.no_new_privs = r.no_new_privs;
    let sets = [r.cap_eff, r.cap_prm, r.cap_bnd, r.cap_inh, r.cap_amb];
    c.capabilities = if sets.iter().all(|s| *s == 0) {
        "none".into()
    } else {
        format!(
            "eff={:#x} prm={:#x} bnd={:#x} inh={:#x} amb={:#x}",
            r.cap_eff, r.cap_prm, r.cap_bnd, r.cap_inh, r.cap_amb
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

#[cfg(test)]
mod tests {
    /// The manifest check of native grants (agentbox-policy) names exactly what
    /// the native profile mounts itself: a mount added to profiles/sandbox.toml
    /// without it would let a grant vanish under it again.
    #[test]
    fn native_layout_matches_the_profile() {
        let p = agentbox_profiles::SandboxProfile::shipped("native").expect("native profile");
        let mut mine: Vec<String> = p.system_ro.iter().chain(&p.devices).cloned().collect();
        if p.proc {
            mine.push("/proc".into());
        }
        mine.sort();
        let mut policy: Vec<String> = agentbox_policy::NATIVE_LAYOUT
            .iter()
            .map(|s| s.to_string())
            .collect();
        policy.sort();
        assert_eq!(mine, policy);
    }
}
