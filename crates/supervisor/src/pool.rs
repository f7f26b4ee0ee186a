//! Pre-spawned, confined workers for one tool: each call runs in a fresh wasm
//! instance on an idle worker (nothing is carried between calls); a worker that
//! misbehaves, times out, is cancelled or dies is discarded, never reused.

use crate::broker::{LocalBroker, Net};
use crate::report::Confinement;
use crate::worker_run::{self, Ended, LiveWorker};
use crate::{CallHooks, RunOutput, Supervisor, finish_run, invocation_msg, run_name};
use agentbox_audit::{AuditLog, McpCall};
use agentbox_host::Invocation;
use agentbox_ipc::{Layer, Outcome};
use agentbox_policy::{Manifest, ToolKind, ToolSpec};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Busy-waiting this long for a pooled worker's answer saves a sleep and a
/// wake-up on a lone call; a server answering many at once on few cores turns it
/// off ([`WorkerPool::with_spin`]), as the CPU it burns is what the workers need.
const DEFAULT_SPIN: Duration = Duration::from_micros(200);

/// Confined workers for one tool, owning what it needs of the supervisor (so a
/// server can keep pools per tool and replace them on reload).
#[derive(Debug)]
pub struct WorkerPool {
    worker_exe: PathBuf,
    disabled: Vec<Layer>,
    net: Arc<Net>,
    tool: ToolSpec,
    component: Arc<Vec<u8>>,
    sha256: String,
    idle: Mutex<Vec<LiveWorker>>,
    /// Idle workers kept after a call; more are torn down.
    max_idle: usize,
    /// How long a call busy-waits for its worker's answer before blocking.
    spin: Duration,
}

impl Supervisor {
    /// Starts `size` pooled workers for a kind-tool or command tool; as many
    /// as are busy at once stay idle after their calls.
    pub fn pool(&self, tool: &ToolSpec, size: usize) -> Result<WorkerPool, String> {
        self.pool_keeping(tool, size, usize::MAX)
    }

    /// Like [`Self::pool`], keeping at most `max_idle` idle workers.
    pub fn pool_keeping(
        &self,
        tool: &ToolSpec,
        size: usize,
        max_idle: usize,
    ) -> Result<WorkerPool, String> {
        if tool.kind == ToolKind::Native {
            return Err("native tools are not pooled".into());
        }
        self.secrets_available(tool)?;
        let loaded = self.load(tool).map_err(|e| e.to_string())?;
        let pool = WorkerPool {
            worker_exe: self.worker_exe.clone(),
            disabled: self.disabled.clone(),
            net: self.net.clone(),
            tool: tool.clone(),
            component: loaded.serialized,
            sha256: loaded.sha256,
            idle: Mutex::new(Vec::new()),
            max_idle,
            spin: DEFAULT_SPIN,
        };
        for _ in 0..size {
            let w = pool.spawn_one()?;
            if let Ok(mut idle) = pool.idle.lock() {
                idle.push(w);
            }
        }
        Ok(pool)
    }
}

impl WorkerPool {
    /// Calls busy-wait `spin` for their worker's answer before blocking.
    pub fn with_spin(mut self, spin: Duration) -> Self {
        self.spin = spin;
        if let Ok(mut idle) = self.idle.lock() {
            for w in idle.iter_mut() {
                w.set_spin(spin);
            }
        }
        self
    }

    /// The tool these workers run.
    pub fn tool(&self) -> &ToolSpec {
        &self.tool
    }

    /// The SHA-256 of the component these workers run.
    pub fn component_sha256(&self) -> &str {
        &self.sha256
    }

    fn spawn_one(&self) -> Result<LiveWorker, String> {
        let mut w = worker_run::start_worker(
            &self.worker_exe,
            &self.tool,
            &self.component,
            agentbox_ipc::InvocationMsg::default(),
            true,
            &self.disabled,
            &run_name(),
        )
        .map_err(|b| format!("{:?}", b.0))?;
        let broker = LocalBroker::new(
            Arc::new(AuditLog::memory("pool")),
            &self.tool,
            self.net.clone(),
        );
        match worker_run::serve(&mut w, &self.tool, &broker, true) {
            Ended::Ready => {
                w.set_spin(self.spin);
                Ok(w)
            }
            other => {
                w.destroy();
                Err(format!("pooled worker did not start: {other:?}"))
            }
        }
    }

    /// One invocation on an idle worker (a new one is started if none is idle).
    pub fn invoke(&self, inv: &Invocation, audit: Arc<AuditLog>) -> RunOutput {
        self.invoke_with(inv, audit, CallHooks::default(), false)
    }

    /// Runs the component's `describe` on a pooled worker: its JSON text.
    pub fn describe(&self) -> RunOutput {
        self.invoke_with(
            &Invocation::default(),
            Arc::new(AuditLog::memory("describe")),
            CallHooks::default(),
            true,
        )
    }

    /// An idle worker that is still alive; dead ones found on the way are torn
    /// down (a call never goes to a worker that died while idle).
    fn take_idle(&self, hooks: &CallHooks) -> Option<LiveWorker> {
        loop {
            let w = self.idle.lock().ok().and_then(|mut v| v.pop())?;
            if !w.exited() {
                return Some(w);
            }
            hooks.off_thread(|| w.destroy());
        }
    }

    /// Puts a worker back among the idle ones; gives it back if there is no room.
    fn park(&self, w: LiveWorker) -> Option<LiveWorker> {
        match self.idle.lock() {
            Ok(mut idle) if idle.len() < self.max_idle => {
                idle.push(w);
                None
            }
            _ => Some(w),
        }
    }

    fn invoke_with(
        &self,
        inv: &Invocation,
        audit: Arc<AuditLog>,
        hooks: CallHooks,
        describe: bool,
    ) -> RunOutput {
        let started = Instant::now();
        let stopped = |ended| {
            let run = worker_run::ConfinedRun {
                ended,
                confinement: Confinement::none(),
            };
            finish_run(&self.tool, run, started, None)
        };
        if hooks
            .cancel
            .as_ref()
            .is_some_and(crate::Cancel::is_cancelled)
        {
            return stopped(worker_run::cancelled());
        }
        // Starting and tearing down workers take milliseconds: never on a
        // caller's async thread (the `blocking` hook).
        let mut w = match self.take_idle(&hooks) {
            Some(w) => w,
            None => match hooks.off_thread(|| self.spawn_one()) {
                Ok(w) => w,
                Err(e) => return stopped(Ended::SetupFailed(e)),
            },
        };
        w.set_spin(hooks.spin.unwrap_or(self.spin));
        let broker = LocalBroker::new(audit, &self.tool, self.net.clone()).with_hooks(hooks);
        let mut msg = invocation_msg(inv);
        msg.describe = describe;
        let ended = worker_run::invoke_pooled(&mut w, &self.tool, msg, &broker);
        // Only a worker that reported how its tool ended, in words a worker may
        // use, serves again.
        let healthy = matches!(&ended, Ended::Done(r) if matches!(r.outcome, Outcome::Ok | Outcome::ToolError | Outcome::Exit | Outcome::Limit));
        let run = worker_run::ConfinedRun {
            ended,
            confinement: w.confinement.clone(),
        };
        let spare = if healthy { self.park(w) } else { Some(w) };
        if let Some(w) = spare {
            broker.hooks.off_thread(|| w.destroy());
        }
        finish_run(&self.tool, run, started, Some(&broker))
    }

    /// One audited invocation, as `agentbox mcp` makes them: `run_start` and
    /// `run_end` (with the MCP request) around it in `audit`. If the start cannot
    /// be recorded the tool does not run (status 125).
    pub fn call(
        &self,
        manifest: &Manifest,
        inv: &Invocation,
        audit: &AuditLog,
        hooks: CallHooks,
        mcp: Option<McpCall>,
    ) -> RunOutput {
        let run_id = run_name();
        let audit = Arc::new(audit.for_run(&run_id));
        let start = crate::run_start_event(
            manifest,
            &self.tool,
            Some(self.sha256.clone()),
            &self.disabled,
            mcp,
        );
        if let Err(e) = audit.record(&start) {
            let mut out = crate::refused(
                &self.tool,
                Outcome::Error,
                crate::not_run(&e),
                crate::status::CANNOT_RUN,
            );
            out.audit_failed = true;
            return out;
        }
        let mut out = self.invoke_with(inv, audit.clone(), hooks.clone(), false);
        let mut guard_failed = false;
        // The output guards read ~10 MB/s: a large output is read off the
        // caller's async thread.
        let size = out.output.as_ref().map_or(0, String::len) + out.stdout.len();
        let mut guard = || {
            crate::guards::apply(&self.tool, &mut out, &mut |ev| {
                if audit.record(ev).is_err() {
                    guard_failed = true;
                }
            });
        };
        if size > GUARD_ON_THREAD {
            hooks.off_thread(guard);
        } else {
            guard();
        }
        out.audit_failed |= guard_failed;
        let end = crate::run_end_event(&out.report);
        if audit.record(&end).is_err() {
            out.audit_failed = true;
        }
        if out.audit_failed {
            crate::withhold_unaudited(&mut out, &audit);
        }
        out
    }
}

impl WorkerPool {
    /// Process ids of the first idle worker (for measurements).
    pub fn idle_worker_pids(&self) -> Vec<u64> {
        self.idle
            .lock()
            .ok()
            .and_then(|idle| idle.first().map(LiveWorker::pids))
            .unwrap_or_default()
    }

    /// The proportional set size of every idle worker (pages shared between
    /// workers, such as the worker binary's code, count once in total).
    pub fn idle_workers_pss(&self) -> Vec<WorkerPss> {
        let Ok(idle) = self.idle.lock() else {
            return Vec::new();
        };
        idle.iter().filter_map(|w| worker_pss(&w.pids())).collect()
    }
}

fn worker_pss(pids: &[u64]) -> Option<WorkerPss> {
    let mut total = WorkerPss::default();
    for pid in pids {
        let text = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?;
        let field = |name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        };
        total.pss += field("Pss:")?;
        total.anon += field("Pss_Anon:").unwrap_or(0);
        total.file += field("Pss_File:").unwrap_or(0);
        total.processes += 1;
    }
    (total.processes > 0).then_some(total)
}

/// Proportional set size of an idle worker, KiB (from /proc/PID/smaps_rollup).
#[derive(Debug, Clone, Copy, Default)]
pub struct WorkerPss {
    pub pss: u64,
    pub anon: u64,
    pub file: u64,
    pub processes: u32,
}

impl Drop for WorkerPool {
    fn drop(&mut self) {
        if let Ok(mut idle) = self.idle.lock() {
            for w in idle.drain(..) {
                w.destroy();
            }
        }
    }
}

/// Outputs up to this size are guarded on the caller's thread (~1 ms).
const GUARD_ON_THREAD: usize = 8 << 10;
