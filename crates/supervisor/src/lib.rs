//! agentbox-supervisor: loads a tool, has its component compiled by a confined
//! compile worker (or takes the verified artifact from its cache), starts a
//! confined run worker (the `agentbox-worker` binary) per invocation or a pool of
//! them, serves their host calls — deciding and auditing every HTTP request (egress)
//! and putting secrets into headers (secrets) — and writes the audit trail and the
//! report.
//!
//! Trust zone: supervisor (trusted). It holds the manifest, the audit log, the
//! secret values and the network; every frame a worker sends is hostile input. It
//! must never run or parse guest code itself (compile and run workers do, confined;
//! only `bench_in_process`, for the benchmark's wasm-only rows, runs it here),
//! never pass the host environment or stdio to a guest, and never put a secret
//! value in an event, report or error.

mod broker;
mod cancel;
pub mod collect;
pub mod guards;
mod load;
mod pool;
pub mod report;
pub mod tool_text;
mod worker_run;

/// Failure injection for the breakout suite (LL-14, SUP-04): makes one
/// confinement step fail in every worker this process starts from now on, to show
/// that agentbox refuses to run a tool with a layer missing. It can only make
/// confinement fail, never skip a step; the CLI never sets it.
pub mod fault {
    use std::sync::Mutex;

    static FAULT: Mutex<Option<String>> = Mutex::new(None);

    /// Supervisor-side steps (`cgroup`, `userns`) besides the worker's
    /// (`agentbox_confine::FAULTS`).
    pub const SUPERVISOR_FAULTS: &[&str] = &["cgroup", "userns"];

    pub fn inject(step: Option<&str>) {
        if let Ok(mut f) = FAULT.lock() {
            *f = step.map(str::to_string);
        }
    }

    pub(crate) fn current() -> Option<String> {
        FAULT.lock().ok().and_then(|f| f.clone())
    }
}

pub use cancel::{Blocking, CallHooks, Cancel, LogSink};
pub use load::{LoadError, LoadedTool};
pub use pool::{WorkerPool, WorkerPss};
pub use worker_run::LAYERS;

use agentbox_audit::{AuditLog, Event, FsGrantRecord, GrantsRecord, NetGrantRecord};
use agentbox_host::{CacheStatus, ComponentCache, Invocation, InvocationResult, Prepared, Runtime};
use agentbox_ipc::{Layer, Limit, Outcome};
use agentbox_policy::{Manifest, ToolKind, ToolSpec};
use broker::LocalBroker;
pub use report::{Confinement, HttpReport, Report};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

/// Exit statuses of `agentbox run` (cli.md).
pub mod status {
    pub const OK: i32 = 0;
    pub const TOOL_ERROR: i32 = 1;
    pub const TIMEOUT: i32 = 124;
    pub const CANNOT_RUN: i32 = 125;
    pub const DENIED: i32 = 126;
    pub const TRAP: i32 = 134;
    pub const LIMIT: i32 = 137;
    /// Cancelled by the caller (`agentbox mcp`; not a status `run` ends with).
    pub const CANCELLED: i32 = 130;
}

/// Why the supervisor could not start.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error(transparent)]
    Engine(#[from] agentbox_host::EngineError),
    #[error(transparent)]
    Cache(#[from] agentbox_host::CacheError),
    #[error("no cache directory: set AGENTBOX_CACHE_DIR or HOME")]
    NoCacheDir,
    #[error("cannot set up the runtime: {0}")]
    Runtime(String),
    #[error(
        "the worker binary {} is missing: agentbox runs every tool in `agentbox-worker`, installed next to it; build it with `cargo build --release -p agentbox-worker --features standalone --bin agentbox-worker` (scripts/hello.sh and scripts/test.sh do)",
        .0.display()
    )]
    NoWorker(PathBuf),
}

/// Where the run worker's binary is installed: `agentbox-worker` next to `agentbox`.
pub fn worker_binary(agentbox: &Path) -> PathBuf {
    agentbox.with_file_name("agentbox-worker")
}

/// How the supervisor is set up.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Where precompiled components live (default: [`ComponentCache::default_dir`]).
    pub cache_dir: Option<PathBuf>,
    /// Use the pooling instance allocator (long-lived processes).
    pub pooling: bool,
    /// The binary to start run workers from (default: [`worker_binary`], the
    /// `agentbox-worker` next to this executable).
    pub worker_exe: Option<PathBuf>,
    /// The binary to start compile workers from, which must have the compiler
    /// (default: this executable when `worker_exe` is unset, else `worker_exe`).
    /// The breakout suite runs tools on its probe binary but compiles with agentbox.
    pub compile_exe: Option<PathBuf>,
    /// OS layers switched off with `--dangerously-disable-layer` (recorded).
    pub disabled_layers: Vec<Layer>,
    /// A PEM file of extra CA certificates trusted for outbound TLS, besides the
    /// system's roots.
    pub extra_ca: Option<PathBuf>,
    /// Name resolution for outbound requests (default: the system resolver).
    pub resolver: Option<Arc<dyn agentbox_egress::Resolver>>,
    /// Secret sources (`--secrets`).
    pub secrets: Option<Arc<agentbox_secrets::SecretStore>>,
}

/// Everything `run` produced.
#[derive(Debug, Clone)]
pub struct RunOutput {
    pub report: Report,
    /// Kind tool: the JSON text `call` returned.
    pub output: Option<String>,
    /// Kind tool: the `Err` text.
    pub tool_error: Option<String>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    /// The exit status `agentbox run` ends with.
    pub status: i32,
    /// The audit log could not be written completely.
    pub audit_failed: bool,
}

/// The host process that runs tools.
#[derive(Debug)]
pub struct Supervisor {
    /// The engine: its fingerprint keys the cache. Compiled code never runs here.
    engine: agentbox_host::Engine,
    /// The benchmark's in-process runtime (the full linker), built on first use:
    /// `run` never needs it, and building it is a large part of a process's start.
    bench_runtime: std::sync::OnceLock<Result<Runtime, String>>,
    cache: ComponentCache,
    worker_exe: PathBuf,
    compile_exe: PathBuf,
    disabled: Vec<Layer>,
    tokio: Option<tokio::runtime::Runtime>,
    /// Outbound HTTP for every invocation.
    net: Arc<broker::Net>,
    /// Tears finished workers down off the caller's path; dropping the supervisor
    /// waits until every one is gone (processes killed, cgroups removed).
    reaper: worker_run::Reaper,
}

impl Drop for Supervisor {
    fn drop(&mut self) {
        // A guest may have left a blocking host call (e.g. opening a FIFO) on a
        // blocking thread after its deadline: never wait for it.
        if let Some(rt) = self.tokio.take() {
            rt.shutdown_background();
        }
    }
}

impl Supervisor {
    pub fn new(opts: &Options) -> Result<Self, SetupError> {
        let engine = agentbox_host::engine::new_engine(opts.pooling)?;
        let dir = match &opts.cache_dir {
            Some(d) => d.clone(),
            None => ComponentCache::default_dir().ok_or(SetupError::NoCacheDir)?,
        };
        let cache = ComponentCache::open(&dir)?;
        let tokio = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| SetupError::Runtime(e.to_string()))?;
        let own = || {
            std::env::current_exe()
                .map_err(|e| SetupError::Runtime(format!("cannot find agentbox's own binary: {e}")))
        };
        let (worker_exe, compile_default) = match &opts.worker_exe {
            Some(p) => (p.clone(), p.clone()),
            None => {
                let own = own()?;
                let worker = worker_binary(&own);
                if !worker.is_file() {
                    return Err(SetupError::NoWorker(worker));
                }
                (worker, own)
            }
        };
        let net = Arc::new(broker::Net::new(
            opts.resolver
                .clone()
                .unwrap_or_else(|| Arc::new(agentbox_egress::SystemResolver)),
            opts.extra_ca.clone(),
            opts.secrets.clone(),
        ));
        // A CA file given explicitly is checked now, not at the first request.
        if opts.extra_ca.is_some() {
            net.egress().map_err(SetupError::Runtime)?;
        }
        Ok(Self {
            engine,
            bench_runtime: std::sync::OnceLock::new(),
            cache,
            compile_exe: opts.compile_exe.clone().unwrap_or(compile_default),
            worker_exe,
            disabled: opts.disabled_layers.clone(),
            net,
            tokio: Some(tokio),
            reaper: worker_run::Reaper::new(),
        })
    }

    fn rt(&self) -> &tokio::runtime::Runtime {
        // Present from `new` until drop.
        self.tokio
            .as_ref()
            .unwrap_or_else(|| unreachable!("runtime taken before drop"))
    }

    /// Runs `describe` of a kind-tool component, in a confined worker.
    pub fn describe(&self, tool: &ToolSpec) -> Result<(Option<String>, String, i32), LoadError> {
        let loaded = self.load(tool)?;
        let audit = Arc::new(AuditLog::memory("describe"));
        let broker = LocalBroker::new(audit, tool, self.net.clone());
        let inv = agentbox_ipc::InvocationMsg {
            describe: true,
            ..Default::default()
        };
        let run = worker_run::run_confined(
            &self.worker_exe,
            tool,
            loaded.serialized,
            inv,
            &broker,
            &self.disabled,
            &run_name(),
            &self.reaper,
        );
        let out = finish_run(tool, run, std::time::Instant::now(), Some(&broker));
        Ok((out.output, out.report.detail, out.status))
    }

    /// The benchmark's in-process runtime, built on first use.
    fn bench_runtime(&self) -> Result<&Runtime, String> {
        self.bench_runtime
            .get_or_init(|| Runtime::new(self.engine.clone()).map_err(|e| e.to_string()))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Benchmark only: loads a tool's artifact into *this* process (the
    /// benchmark's, with the project's own example: never untrusted input), for
    /// [`Self::bench_in_process`]. `run`, `describe` and pools never do this.
    #[doc(hidden)]
    pub fn bench_prepare(&self, loaded: &LoadedTool, tool: &ToolSpec) -> Result<Prepared, String> {
        let runtime = self.bench_runtime()?;
        let component =
            agentbox_host::artifact::load_serialized(runtime.engine(), &loaded.serialized)
                .map_err(|e| e.to_string())?;
        runtime
            .prepare(&component, tool.kind)
            .map_err(|e| e.to_string())
    }

    /// Benchmark only: invokes a prepared tool in *this* process, unconfined, to
    /// measure the wasm layer alone. `run` and `describe` always use a worker.
    #[doc(hidden)]
    pub fn bench_in_process(
        &self,
        prepared: &Prepared,
        tool: &ToolSpec,
        inv: &Invocation,
        audit: Arc<AuditLog>,
    ) -> (InvocationResult, bool) {
        let broker = Arc::new(LocalBroker::new(audit, tool, self.net.clone()));
        let runtime = match self.bench_runtime() {
            Ok(r) => r,
            Err(e) => return (InvocationResult::error(e), false),
        };
        let r = self.rt().block_on(runtime.invoke(
            prepared,
            &tool.worker_spec(),
            inv,
            broker::as_dyn(broker.clone()),
        ));
        (r, broker.audit_failed.load(Ordering::SeqCst))
    }

    /// Every secret the tool is granted must have a source, so that a missing one
    /// is a clear refusal at start rather than a failed request later.
    fn secrets_available(&self, tool: &ToolSpec) -> Result<(), String> {
        if tool.secrets.is_empty() {
            return Ok(());
        }
        let names: Vec<&str> = tool.secrets.iter().map(|s| s.name.as_str()).collect();
        let Some(store) = &self.net.secrets else {
            return Err(format!(
                "tool `{}` is granted secrets ({}): give their sources with --secrets FILE",
                tool.name,
                names.join(", ")
            ));
        };
        let missing: Vec<&str> = names.into_iter().filter(|n| !store.has(n)).collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "secrets not defined in the secrets file: {}",
                missing.join(", ")
            ))
        }
    }

    /// Audits an invocation refused before any worker started (`out` from
    /// [`refused`]): its start and its end. False if the log could not be written.
    pub fn audit_refusal(
        &self,
        manifest: &Manifest,
        tool: &ToolSpec,
        audit: &AuditLog,
        mcp: Option<agentbox_audit::McpCall>,
        out: &RunOutput,
    ) -> bool {
        let audit = audit.for_run(&run_name());
        let start = run_start_event(manifest, tool, None, &self.disabled, mcp);
        audit.record(&start).is_ok() && audit.record(&run_end_event(&out.report)).is_ok()
    }

    /// One whole run: audit start, load, invoke, audit end, report.
    pub fn run(
        &self,
        manifest: &Manifest,
        tool: &ToolSpec,
        inv: &Invocation,
        audit: Arc<AuditLog>,
    ) -> RunOutput {
        let started = Instant::now();
        let mut audit_failed = false;
        let mut record = |ev: &Event| {
            if audit.record(ev).is_err() {
                audit_failed = true;
            }
        };
        // The worker starts first (cgroup, clone into its namespaces, exec) and
        // runs its own startup while this process loads the component: it waits
        // for its start message, so nothing of the tool runs before that.
        let launched = worker_run::launch(&self.worker_exe, tool, &self.disabled, &run_name());
        guards::warm_up();
        let loaded = if tool.kind == ToolKind::Native {
            Err(LoadError::NativeUnsupported(tool.name.clone()))
        } else if let Err(e) = self.secrets_available(tool) {
            Err(LoadError::Secrets(e))
        } else {
            self.load(tool)
        };
        if let Err(e) = audit.record(&run_start_event(
            manifest,
            tool,
            loaded.as_ref().ok().map(|l| l.sha256.clone()),
            &self.disabled,
            None,
        )) {
            // Fail closed: nothing of the tool runs unrecorded.
            if let Ok(w) = launched {
                self.reaper.destroy(w);
            }
            let mut out = refused(tool, Outcome::Error, not_run(&e), status::CANNOT_RUN);
            out.audit_failed = true;
            out.report.duration_ms = ms(started);
            return out;
        }
        let cache_hit = matches!(&loaded, Ok(l) if l.cache == CacheStatus::Hit);
        let run_sha256 = loaded
            .as_ref()
            .map(|l| l.sha256.clone())
            .unwrap_or_default();
        let serialized = match (tool.kind, loaded) {
            (ToolKind::Native, _) => Arc::new(Vec::new()),
            (_, Ok(l)) => {
                record_loaded(&mut record, &l);
                l.serialized
            }
            (_, Err(e)) => {
                if let Ok(w) = launched {
                    self.reaper.destroy(w);
                }
                let (outcome, limit) = e.outcome();
                let mut out = refused(tool, outcome, e.to_string(), e.status());
                out.report.limit = limit;
                out.report.limits_hit = limit.into_iter().collect();
                out.report.duration_ms = ms(started);
                record(&run_end_event(&out.report));
                out.audit_failed = audit_failed;
                return out;
            }
        };
        let broker = LocalBroker::new(audit.clone(), tool, self.net.clone());
        let msg = invocation_msg(inv);
        let mut run = worker_run::run_launched(
            launched,
            tool,
            &serialized,
            msg,
            &broker,
            &self.disabled,
            &self.reaper,
        );
        // A cache entry that passed the file and header checks but that the worker
        // could not load at all (damaged after it was written): dropped, compiled
        // again and run once more, as a damaged entry always was. Only when nothing
        // reached the broker (loading comes before the tool runs; a worker that
        // claims otherwise after making requests gets no second run).
        if cache_hit && run.unusable_component() && broker.untouched() {
            self.cache.forget(&self.engine, &run_sha256);
            // If it cannot be compiled again (an I/O error), the first run's
            // answer stands.
            if let Ok(l) = self.load(tool) {
                record_loaded(&mut record, &l);
                run = worker_run::run_confined(
                    &self.worker_exe,
                    tool,
                    l.serialized,
                    invocation_msg(inv),
                    &broker,
                    &self.disabled,
                    &run_name(),
                    &self.reaper,
                );
            }
        }
        let mut out = finish_run(tool, run, started, Some(&broker));
        let mut record = |ev: &Event| {
            if audit.record(ev).is_err() {
                audit_failed = true;
            }
        };
        guards::apply(tool, &mut out, &mut record);
        record(&run_end_event(&out.report));
        out.audit_failed |= audit_failed;
        if out.audit_failed {
            withhold_unaudited(&mut out, &audit);
        }
        out
    }
}

/// The refusal when an invocation's start cannot be recorded.
pub(crate) fn not_run(e: &agentbox_audit::AuditError) -> String {
    format!("the audit log cannot be written, so the tool was not run: {e}")
}

/// The audit log failed while the invocation ran (audit.md: stopped rather than
/// left unrecorded): its output is withheld and it ends with status 125. The
/// lines already written stay as they are.
pub fn withhold_unaudited(out: &mut RunOutput, audit: &AuditLog) {
    let why = audit
        .failure()
        .unwrap_or_else(|| "a write failed".to_string());
    out.output = None;
    out.tool_error = None;
    out.stdout.clear();
    out.stderr.clear();
    out.report.outcome = Outcome::Error;
    out.report.detail = format!(
        "the audit log cannot be written ({why}): the tool was stopped and its output withheld"
    );
    out.report.exit_code = status::CANNOT_RUN;
    out.status = status::CANNOT_RUN;
}

/// The audit event that opens an invocation.
fn run_start_event(
    manifest: &Manifest,
    tool: &ToolSpec,
    component_sha256: Option<String>,
    disabled: &[Layer],
    mcp: Option<agentbox_audit::McpCall>,
) -> Event {
    Event::RunStart {
        tool: tool.name.clone(),
        kind: tool.kind.as_str().into(),
        manifest: manifest.path.display().to_string(),
        manifest_sha256: manifest.sha256.clone(),
        component_sha256,
        profile: tool.profile.clone(),
        grants: Box::new(grants_record(tool)),
        dangerous: worker_run::dangerous_notes(disabled),
        mcp,
    }
}

/// The audit event that closes an invocation, from its report.
fn run_end_event(report: &Report) -> Event {
    Event::RunEnd {
        outcome: report.outcome.to_string(),
        detail: report.detail.clone(),
        limit: report.limit.map(|l| l.to_string()),
        limits_hit: words(&report.limits_hit),
        exit_code: Some(report.exit_code),
        duration_ms: report.duration_ms,
    }
}

/// The output of an invocation refused before any tool code ran.
pub fn refused(tool: &ToolSpec, outcome: Outcome, detail: String, status: i32) -> RunOutput {
    let mut report = Report::failure(Some(tool.name.clone()), detail, 0.0);
    report.outcome = outcome;
    report.exit_code = status;
    RunOutput {
        report,
        output: None,
        tool_error: None,
        stdout: Vec::new(),
        stderr: Vec::new(),
        status,
        audit_failed: false,
    }
}

/// Audits a load: every rejected cache entry, then where the artifact came from.
fn record_loaded(record: &mut impl FnMut(&Event), l: &LoadedTool) {
    for reason in &l.rejected {
        record(&Event::CacheRejected {
            sha256: l.sha256.clone(),
            reason: reason.clone(),
        });
    }
    record(&Event::ComponentLoaded {
        sha256: l.sha256.clone(),
        cache: cache_word(l.cache),
    });
}

/// How the audit log names a cache status.
fn cache_word(c: CacheStatus) -> String {
    match c {
        CacheStatus::Hit => "hit".into(),
        CacheStatus::Miss => "miss".into(),
    }
}

fn invocation_msg(inv: &Invocation) -> agentbox_ipc::InvocationMsg {
    agentbox_ipc::InvocationMsg {
        describe: false,
        input: inv.input.clone(),
        args: inv.args.clone(),
        stdin: inv.stdin.clone(),
    }
}

fn run_name() -> String {
    use std::sync::atomic::AtomicU64;
    static N: AtomicU64 = AtomicU64::new(0);
    format!(
        "run-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    )
}

/// Maps how a confined run ended to the report and exit status (cli.md).
fn finish_run(
    tool: &ToolSpec,
    run: worker_run::ConfinedRun,
    started: Instant,
    broker: Option<&LocalBroker>,
) -> RunOutput {
    let mut out = RunOutput {
        report: Report {
            tool: Some(tool.name.clone()),
            outcome: Outcome::Error,
            detail: String::new(),
            limit: None,
            limits_hit: Vec::new(),
            exit_code: 0,
            duration_ms: 0.0,
            http: HttpReport::default(),
            secrets_used: Default::default(),
            confinement: run.confinement,
            guards: Default::default(),
        },
        output: None,
        tool_error: None,
        stdout: Vec::new(),
        stderr: Vec::new(),
        status: 0,
        audit_failed: false,
    };
    let mut limits_hit: Vec<Limit> = Vec::new();
    let (outcome, limit, detail, code) = match run.ended {
        worker_run::Ended::Done(r) => {
            let code = match r.outcome {
                Outcome::Ok => status::OK,
                Outcome::ToolError => status::TOOL_ERROR,
                Outcome::Exit => r.exit_code.unwrap_or(1),
                Outcome::Timeout => status::TIMEOUT,
                Outcome::Limit => status::LIMIT,
                Outcome::Trap => status::TRAP,
                // A worker does not get to say these: it may only report how
                // its tool ended.
                Outcome::Denied
                | Outcome::SandboxError
                | Outcome::Error
                | Outcome::Signal
                | Outcome::Cancelled
                | Outcome::InvalidInput
                | Outcome::Guarded => status::CANNOT_RUN,
            };
            out.output = r.output;
            out.tool_error = r.tool_error;
            out.stdout = r.stdout;
            out.stderr = r.stderr;
            limits_hit = r.limits_hit;
            (r.outcome, r.limit, r.detail, code)
        }
        worker_run::Ended::SetupFailed(msg) => (
            Outcome::SandboxError,
            None,
            format!("cannot confine the worker, refusing to run: {msg} (see `agentbox doctor`)"),
            status::CANNOT_RUN,
        ),
        worker_run::Ended::Ready | worker_run::Ended::Compiled(_) => (
            Outcome::SandboxError,
            None,
            "the worker stopped before running".to_string(),
            status::CANNOT_RUN,
        ),
        worker_run::Ended::Stopped {
            outcome,
            limit,
            detail,
            status,
        } => (outcome, limit, detail, status),
    };
    out.report.outcome = outcome;
    out.report.limit = limit;
    out.report.detail = tool_text::visible(&detail);
    out.report.exit_code = code;
    vet_tool_text(&mut out, false);
    if let Some(b) = broker {
        out.audit_failed = b.audit_failed.load(Ordering::SeqCst);
        // Nothing of a secret leaves in the tool's output, messages or report.
        let scrub = b.net_scrubber();
        out.output = out.output.map(|o| scrub.text(&o));
        out.tool_error = out.tool_error.map(|o| scrub.text(&o));
        out.stdout = scrub.bytes(&out.stdout);
        out.stderr = scrub.bytes(&out.stderr);
        out.report.detail = scrub.text(&out.report.detail);
        out.report.secrets_used = b.secrets_used.lock().map(|m| m.clone()).unwrap_or_default();
        out.report.http = HttpReport {
            allowed: b.allowed.load(Ordering::SeqCst),
            denied: b.denied.load(Ordering::SeqCst),
        };
        // A request budget that ran out ends the invocation as a limit (cli.md:
        // 137), even if the tool carried on after its request was refused.
        let hit = b.limit_hit.lock().ok().and_then(|h| *h);
        if let (Some(which), Outcome::Ok | Outcome::ToolError | Outcome::Exit) =
            (hit, out.report.outcome)
        {
            out.report.outcome = Outcome::Limit;
            out.report.limit = Some(which);
            out.report.detail = format!(
                "{which} limit reached ({} per invocation); the request over it was refused",
                match which {
                    Limit::HttpRequests => tool.limits.http_requests.to_string(),
                    _ => agentbox_policy::units::format_size(tool.limits.http_bytes),
                }
            );
            out.report.exit_code = status::LIMIT;
            out.output = None;
            out.tool_error = None;
        }
        // Redaction may, in theory, have cut through JSON syntax: checked again.
        vet_tool_text(&mut out, true);
    }
    limits_hit.extend(out.report.limit);
    // Sorted by word, as the report has always listed them.
    limits_hit.sort_by_key(|l| l.as_str());
    limits_hit.dedup();
    out.report.limits_hit = limits_hit;
    out.report.duration_ms = ms(started);
    out.status = out.report.exit_code;
    out
}

/// Words as the audit log records them.
fn words<W: std::fmt::Display>(ws: &[W]) -> Vec<String> {
    ws.iter().map(ToString::to_string).collect()
}

/// A kind-tool result is printed only if it is valid JSON, and then re-serialised
/// with nothing in it that can drive a terminal ([`tool_text::safe_json`]);
/// otherwise the run is a `tool_error` (status 1) saying where the JSON broke.
/// A result stands only with outcome `ok`, an `Err` text only with `tool_error`,
/// the latter made one visible line ([`tool_text::visible`]). `redacted`: the
/// result was already made safe once and has since been scrubbed of secrets.
fn vet_tool_text(out: &mut RunOutput, redacted: bool) {
    if out.report.outcome != Outcome::Ok {
        out.output = None;
    }
    if out.report.outcome != Outcome::ToolError {
        out.tool_error = None;
    }
    out.tool_error = out.tool_error.take().map(|t| tool_text::visible(&t));
    let Some(text) = out.output.take() else {
        return;
    };
    match tool_text::safe_json(&text) {
        Ok(safe) => out.output = Some(safe),
        Err(e) => {
            out.report.outcome = Outcome::ToolError;
            out.report.exit_code = status::TOOL_ERROR;
            out.report.detail = if redacted {
                format!(
                    "the tool's result is not valid JSON once secret values were redacted from it ({e}); it was not printed"
                )
            } else {
                format!("the tool's result is not valid JSON ({e}); it was not printed")
            };
        }
    }
}

fn ms(t: Instant) -> f64 {
    (t.elapsed().as_secs_f64() * 1e6).round() / 1e3
}

fn grants_record(t: &ToolSpec) -> GrantsRecord {
    GrantsRecord {
        fs: t
            .fs
            .iter()
            .map(|g| FsGrantRecord {
                host: g.host.display().to_string(),
                guest: g.guest.clone(),
                access: g.access.as_str().into(),
            })
            .chain(t.scratch.iter().map(|s| FsGrantRecord {
                host: format!("tmpfs (size {}, {} files)", s.size, s.files),
                guest: s.guest.clone(),
                access: "scratch".into(),
            }))
            .collect(),
        net: t
            .net
            .iter()
            .map(|g| NetGrantRecord {
                allow: g.allow.to_string(),
                methods: g.methods.clone(),
                private: g.private,
            })
            .collect(),
        secrets: t.secrets.iter().map(|s| s.name.clone()).collect(),
        env: t.env.iter().map(|e| e.name.clone()).collect(),
        limits: serde_json::json!({
            "memory": t.limits.memory,
            "timeout_ms": t.limits.timeout.as_millis() as u64,
            "cpu_ms": t.limits.cpu.as_millis() as u64,
            "output": t.limits.output,
            "http_requests": t.limits.http_requests,
            "http_bytes": t.limits.http_bytes,
            "processes": t.limits.processes,
        }),
    }
}

impl Supervisor {
    /// Waits until every finished worker has been killed and reaped and its
    /// cgroup removed (`run` returns before that; the kernel still frees the
    /// namespaces asynchronously afterwards). Benchmarks use this to keep one
    /// run's teardown out of the next one's time.
    pub fn wait_for_teardown(&self) {
        self.reaper.drain();
    }
}
