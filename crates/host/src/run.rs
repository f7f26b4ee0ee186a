//! Loading components and running one invocation with its limits.

use crate::bindings::{Tool, ToolPre};
use crate::engine::SETTINGS;
use crate::limiter::Limiter;
use crate::output::CappedOutput;
use crate::state::{Broker, Deadlines, HostState, HttpCounts, Interrupt};
use agentbox_ipc::{Limit, Outcome};
use agentbox_spec::{Access, Limits, ToolKind, WorkerSpec};
use std::sync::Arc;
use std::time::{Duration, Instant};
use wasmtime::component::{Component, HasSelf, Linker, ResourceTable};
use wasmtime::{Engine, Store, UpdateDeadline};
use wasmtime_wasi::p2::bindings::CommandPre;
use wasmtime_wasi::p2::pipe::MemoryInputPipe;
use wasmtime_wasi::{FsPerms, WasiCtxBuilder};

/// Why a component could not be prepared for running.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot link the component: {0}")]
    Link(String),
    #[error("the component is not a {kind}: {reason}")]
    WrongShape { kind: &'static str, reason: String },
}

/// A component linked and pre-instantiated for its kind: instantiating it again is
/// cheap, and every call gets a fresh instance.
#[derive(Clone)]
pub enum Prepared {
    Tool(ToolPre<HostState>),
    Command(CommandPre<HostState>),
    /// A WASI preview1 core module (kind command), run directly on wasmtime-wasi's
    /// preview1 host as `wasmtime run` runs it (crate::module).
    Module(crate::module::ModulePre),
}

impl std::fmt::Debug for Prepared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Tool(_) => "Prepared::Tool",
            Self::Command(_) => "Prepared::Command",
            Self::Module(_) => "Prepared::Module",
        })
    }
}

/// How an invocation ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    /// Kind tool: `call` returned `Ok`; kind command: exit status 0.
    Ok,
    /// Kind tool: `call` returned `Err`.
    ToolError,
    /// Kind command: the program exited with this non-zero status.
    Exit(i32),
    /// Wall clock or CPU time ran out.
    Timeout(Limit),
    /// Another limit.
    Limit(Limit),
    /// The guest trapped.
    Trap,
    /// Something else went wrong inside the host.
    Error,
}

impl Ending {
    /// The report's words for it: outcome, the limit that ended it, and the
    /// exit code a command or native program gave.
    pub fn words(&self) -> (Outcome, Option<Limit>, Option<i32>) {
        match self {
            Self::Ok => (Outcome::Ok, None, Some(0)),
            Self::ToolError => (Outcome::ToolError, None, Some(1)),
            Self::Exit(c) => (Outcome::Exit, None, Some(*c)),
            Self::Timeout(k) => (Outcome::Timeout, Some(*k), None),
            Self::Limit(k) => (Outcome::Limit, Some(*k), None),
            Self::Trap => (Outcome::Trap, None, None),
            Self::Error => (Outcome::Error, None, None),
        }
    }
}

/// The result of one invocation.
#[derive(Debug, Clone)]
pub struct InvocationResult {
    pub outcome: Ending,
    /// One human sentence about the outcome.
    pub detail: String,
    /// Kind tool: the JSON text `call` returned.
    pub output: Option<String>,
    /// Kind tool: the `Err` message.
    pub tool_error: Option<String>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub http: HttpCounts,
    pub duration: Duration,
    /// Limits the runtime enforced during the invocation, whether or not they
    /// ended it: `memory` when a `memory.grow` (or an instantiation) was refused
    /// for the memory limit, `table` when a table growth was refused. A guest that
    /// copes (malloc returns NULL) still ends normally; this says it was limited.
    pub limits_hit: Vec<Limit>,
}

impl InvocationResult {
    /// An invocation that could not run: outcome `Error`, with why.
    pub fn error(detail: String) -> Self {
        Self {
            detail,
            ..Self::pending()
        }
    }

    /// A result not yet settled: outcome `Error`, nothing produced.
    pub(crate) fn pending() -> Self {
        Self {
            outcome: Ending::Error,
            detail: String::new(),
            output: None,
            tool_error: None,
            stdout: Vec::new(),
            stderr: Vec::new(),
            http: HttpCounts::default(),
            duration: Duration::ZERO,
            limits_hit: Vec::new(),
        }
    }
}

/// What one invocation receives.
#[derive(Debug, Clone, Default)]
pub struct Invocation {
    /// Kind tool: the JSON input.
    pub input: String,
    /// Kind command: arguments after argv[0].
    pub args: Vec<String>,
    /// Kind command: stdin bytes.
    pub stdin: Vec<u8>,
}

/// Links components against the agentbox imports and WASI p2, deny-by-default.
#[derive(Clone)]
pub struct Runtime {
    engine: Engine,
    linker: Arc<Linker<HostState>>,
    /// Only the interfaces one component imports ([`Runtime::for_component`]).
    imports_only: bool,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime").finish_non_exhaustive()
    }
}

impl Runtime {
    /// A runtime on `engine`; starts the engine's epoch ticker.
    pub fn new(engine: Engine) -> Result<Self, LoadError> {
        let mut linker = Linker::<HostState>::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)
            .map_err(|e| LoadError::Link(format!("{e:#}")))?;
        // wasi:sockets comes with the p2 set above (toolchains import it) but
        // refuses every address (see `wasi_ctx`); wasi:http: types and
        // outgoing-handler only, every request goes to the broker like
        // agentbox:tool/http.
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)
            .map_err(|e| LoadError::Link(format!("{e:#}")))?;
        Tool::add_to_linker::<_, HasSelf<HostState>>(&mut linker, |s| s)
            .map_err(|e| LoadError::Link(format!("{e:#}")))?;
        Ok(Self {
            engine,
            linker: Arc::new(linker),
            imports_only: false,
        })
    }

    /// A runtime for one component (a one-shot worker) and the component linked
    /// as `kind`. The linker holds only the WASI and wasi:http interfaces the
    /// component imports (building the whole linker is a large part of a new
    /// process's start); each is added exactly as the full linker adds it. A
    /// component importing anything that cannot be added alone, or that does not
    /// link this way, is linked with the full [`Runtime::new`] linker, so the
    /// answer is always the full linker's.
    pub fn for_component(
        engine: Engine,
        component: &Component,
        kind: ToolKind,
    ) -> Result<(Self, Prepared), LoadError> {
        let imports: Vec<String> = component
            .component_type()
            .imports(&engine)
            .map(|(name, _)| name.split('@').next().unwrap_or(name).to_string())
            .collect();
        if let Some(Ok(linker)) = subset_linker(&engine, &imports) {
            let runtime = Self {
                engine: engine.clone(),
                linker: Arc::new(linker),
                imports_only: true,
            };
            if let Ok(prepared) = runtime.prepare(component, kind) {
                return Ok((runtime, prepared));
            }
        }
        let runtime = Self::new(engine)?;
        let prepared = runtime.prepare(component, kind)?;
        Ok((runtime, prepared))
    }

    /// A runtime for one WASI preview1 core module (kind command) and the module
    /// linked against the preview1 host ([`crate::module`]).
    pub fn for_module(
        engine: Engine,
        module: &wasmtime::Module,
        kind: ToolKind,
    ) -> Result<(Self, Prepared), LoadError> {
        let prepared = Prepared::Module(crate::module::prepare(&engine, module, kind)?);
        let runtime = Self {
            linker: Arc::new(Linker::new(&engine)),
            engine,
            imports_only: true,
        };
        Ok((runtime, prepared))
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Whether the linker holds only one component's imports.
    pub fn imports_only(&self) -> bool {
        self.imports_only
    }

    /// Links `component` as `kind`; fails when an import is unknown (e.g. a WIT
    /// package version agentbox does not provide) or the exports do not fit.
    pub fn prepare(&self, component: &Component, kind: ToolKind) -> Result<Prepared, LoadError> {
        let pre = self
            .linker
            .instantiate_pre(component)
            .map_err(|e| LoadError::Link(format!("{e:#}")))?;
        match kind {
            ToolKind::Tool => {
                ToolPre::new(pre)
                    .map(Prepared::Tool)
                    .map_err(|e| LoadError::WrongShape {
                        kind: "tool (world agentbox:tool/tool@0.1.0: exports describe and call)",
                        reason: format!("{e:#}"),
                    })
            }
            ToolKind::Command | ToolKind::Native => CommandPre::new(pre)
                .map(Prepared::Command)
                .map_err(|e| LoadError::WrongShape {
                    kind: "command (exports wasi:cli/run@0.2)",
                    reason: format!("{e:#}"),
                }),
        }
    }

    /// Runs `describe` of a tool component.
    pub async fn describe(
        &self,
        prepared: &Prepared,
        spec: &WorkerSpec,
        broker: Arc<dyn Broker>,
    ) -> InvocationResult {
        self.invoke_inner(prepared, spec, &Invocation::default(), broker, true)
            .await
    }

    /// Runs one invocation in a fresh instance.
    pub async fn invoke(
        &self,
        prepared: &Prepared,
        spec: &WorkerSpec,
        inv: &Invocation,
        broker: Arc<dyn Broker>,
    ) -> InvocationResult {
        self.invoke_inner(prepared, spec, inv, broker, false).await
    }

    async fn invoke_inner(
        &self,
        prepared: &Prepared,
        spec: &WorkerSpec,
        inv: &Invocation,
        broker: Arc<dyn Broker>,
        describe: bool,
    ) -> InvocationResult {
        if let Prepared::Module(pre) = prepared {
            return crate::module::invoke(&self.engine, pre, spec, inv, describe).await;
        }
        // The epoch ticker starts with the first guest, not with every process that
        // only links components (the supervisor).
        crate::ticker::ensure(&self.engine);
        let started = Instant::now();
        let limits = &spec.limits;
        let stdout = CappedOutput::new(limits.output);
        let stderr = CappedOutput::new(limits.output);
        let mut result = InvocationResult::pending();
        let wasi = match build_wasi(spec, inv, &stdout, &stderr) {
            Ok(mut b) => b.build(),
            Err(e) => {
                result.detail = e;
                result.duration = started.elapsed();
                return result;
            }
        };
        let state = HostState {
            wasi,
            table: ResourceTable::new(),
            limiter: Limiter::new(limits.memory),
            broker: broker.clone(),
            http: HttpCounts::default(),
            deadlines: Deadlines {
                started,
                timeout: limits.timeout,
                cpu_start: None,
                cpu_limit: limits.cpu,
                fired: None,
            },
            log_bytes: 0,
            log_cap: limits.output,
            http_ctx: wasmtime_wasi_http::WasiHttpCtx::new(),
            http_hooks: crate::wasi_http::BrokerHooks {
                broker: broker.clone(),
            },
        };
        let mut store = Store::new(&self.engine, state);
        store.limiter(|s| &mut s.limiter);
        arm_deadlines(&mut store, |s| &mut s.deadlines);
        // A guest blocked in a host call (sleep, poll) does not meet epoch checks:
        // the wall-clock deadline also cancels the whole future.
        let slack = SETTINGS.epoch_tick * 5;
        let fut = run_guest(prepared, &mut store, inv, describe);
        let ran = tokio::time::timeout(limits.timeout + slack, fut).await;
        let data = store.data();
        result.http = data.http;
        let ended = Ended {
            deadlines: &data.deadlines,
            limiter: &data.limiter,
            limits,
            stdout: &stdout,
            stderr: &stderr,
        };
        ended.settle(&mut result, ran, started);
        result
    }
}

/// What `settle` needs of a finished store.
pub(crate) struct Ended<'a> {
    pub deadlines: &'a Deadlines,
    pub limiter: &'a Limiter,
    pub limits: &'a Limits,
    pub stdout: &'a CappedOutput,
    pub stderr: &'a CappedOutput,
}

impl Ended<'_> {
    /// Fills `result` from how the guest ended (or the wall-clock cut-off).
    pub(crate) fn settle(
        &self,
        result: &mut InvocationResult,
        ran: Result<wasmtime::Result<GuestEnd>, tokio::time::error::Elapsed>,
        started: Instant,
    ) {
        let (limits, stdout, stderr) = (self.limits, self.stdout, self.stderr);
        result.stdout = stdout.contents();
        result.stderr = stderr.contents();
        result.duration = started.elapsed();
        if self.limiter.memory_refused {
            result.limits_hit.push(Limit::Memory);
        }
        if self.limiter.table_refused {
            result.limits_hit.push(Limit::Table);
        }
        match ran {
            Err(_elapsed) => {
                result.outcome = Ending::Timeout(Limit::Timeout);
                result.detail = format!("time limit of {} reached", fmt_dur(limits.timeout));
            }
            Ok(Ok(GuestEnd::Tool(Ok(json)))) => {
                if json.len() as u64 > limits.output {
                    result.outcome = Ending::Limit(Limit::Output);
                    result.detail = format!(
                        "result of {} bytes is over the output limit of {}",
                        json.len(),
                        fmt_size(limits.output)
                    );
                } else {
                    result.outcome = Ending::Ok;
                    result.output = Some(json);
                }
            }
            Ok(Ok(GuestEnd::Tool(Err(msg)))) => {
                result.outcome = Ending::ToolError;
                let cut = truncate_utf8(&msg, limits.output as usize);
                result.detail = "the tool returned an error".into();
                result.tool_error = Some(cut.to_string());
            }
            Ok(Ok(GuestEnd::Exit(0))) => result.outcome = Ending::Ok,
            Ok(Ok(GuestEnd::Exit(code))) => {
                result.outcome = Ending::Exit(code);
                result.detail = format!("the program exited with status {code}");
            }
            Ok(Err(e)) => classify_failure(
                result,
                e,
                self.deadlines,
                self.limiter,
                limits,
                stdout,
                stderr,
            ),
        }
        // Output caps apply even when the guest ended normally afterwards.
        if matches!(
            result.outcome,
            Ending::Ok | Ending::Exit(_) | Ending::ToolError
        ) && (stdout.overflowed() || stderr.overflowed())
        {
            result.outcome = Ending::Limit(Limit::Output);
            result.detail = format!("output limit of {} reached", fmt_size(limits.output));
        }
    }
}

/// Checks the wall-clock and CPU deadlines at every epoch tick of `store`.
pub(crate) fn arm_deadlines<T: 'static>(
    store: &mut Store<T>,
    deadlines: fn(&mut T) -> &mut Deadlines,
) {
    store.set_epoch_deadline(1);
    store.epoch_deadline_callback(move |mut ctx| {
        let d = deadlines(ctx.data_mut());
        if d.started.elapsed() >= d.timeout {
            d.fired = Some(Interrupt::WallClock);
            return Ok(UpdateDeadline::Interrupt);
        }
        // CPU: the CPU clock of the thread running the guest.
        if let Some(now) = thread_cpu() {
            let start = *d.cpu_start.get_or_insert(now);
            if now.saturating_sub(start) >= d.cpu_limit {
                d.fired = Some(Interrupt::Cpu);
                return Ok(UpdateDeadline::Interrupt);
            }
        }
        Ok(UpdateDeadline::Continue(1))
    });
}

pub(crate) enum GuestEnd {
    Tool(Result<String, String>),
    Exit(i32),
}

async fn run_guest(
    prepared: &Prepared,
    store: &mut Store<HostState>,
    inv: &Invocation,
    describe: bool,
) -> wasmtime::Result<GuestEnd> {
    match prepared {
        Prepared::Tool(pre) => {
            let tool = pre.instantiate_async(&mut *store).await?;
            if describe {
                let d = tool.call_describe(&mut *store).await?;
                Ok(GuestEnd::Tool(Ok(d)))
            } else {
                let r = tool.call_call(&mut *store, &inv.input).await?;
                Ok(GuestEnd::Tool(r))
            }
        }
        // Run by crate::module::invoke, never here.
        Prepared::Module(_) => Err(wasmtime::format_err!(
            "a core module is not run with the component host"
        )),
        Prepared::Command(pre) => {
            let cmd = pre.instantiate_async(&mut *store).await?;
            match cmd.wasi_cli_run().call_run(&mut *store).await {
                Ok(Ok(())) => Ok(GuestEnd::Exit(0)),
                Ok(Err(())) => Ok(GuestEnd::Exit(1)),
                Err(e) => match e.downcast_ref::<wasmtime_wasi::I32Exit>() {
                    Some(exit) => Ok(GuestEnd::Exit(exit.0)),
                    None => Err(e),
                },
            }
        }
    }
}

pub(crate) fn classify_failure(
    result: &mut InvocationResult,
    e: wasmtime::Error,
    deadlines: &Deadlines,
    limiter: &Limiter,
    limits: &Limits,
    stdout: &CappedOutput,
    stderr: &CappedOutput,
) {
    let text = format!("{e:#}");
    let trap = e.downcast_ref::<wasmtime::Trap>().copied();
    if let Some(fired) = deadlines.fired {
        let (kind, what) = match fired {
            Interrupt::WallClock => (
                Limit::Timeout,
                format!("time limit of {} reached", fmt_dur(limits.timeout)),
            ),
            Interrupt::Cpu => (
                Limit::Cpu,
                format!("CPU limit of {} reached", fmt_dur(limits.cpu)),
            ),
        };
        result.outcome = Ending::Timeout(kind);
        result.detail = what;
    } else if stdout.overflowed() || stderr.overflowed() {
        result.outcome = Ending::Limit(Limit::Output);
        result.detail = format!("output limit of {} reached", fmt_size(limits.output));
    } else if limiter.memory_refused
        || text.contains("memory minimum size")
        || text.contains("exceeds memory limits")
    {
        result.outcome = Ending::Limit(Limit::Memory);
        result.detail = format!("memory limit of {} reached", fmt_size(limits.memory));
    } else if trap == Some(wasmtime::Trap::StackOverflow) {
        result.outcome = Ending::Trap;
        result.detail = format!(
            "the guest trapped: wasm stack overflow (stack limit {} KiB)",
            SETTINGS.max_wasm_stack >> 10
        );
    } else if let Some(trap) = trap {
        result.outcome = Ending::Trap;
        result.detail = format!("the guest trapped: {trap}");
    } else {
        result.outcome = Ending::Trap;
        let root = e.chain().last().map(|c| c.to_string()).unwrap_or(text);
        result.detail = format!("the guest failed: {}", first_line(&root));
    }
}

fn first_line(s: &str) -> String {
    let line = s.lines().next().unwrap_or("").trim();
    truncate_utf8(line, 400).to_string()
}

/// The longest prefix of `s` of at most `max` bytes that ends on a char boundary.
pub fn truncate_utf8(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

pub(crate) fn fmt_dur(d: Duration) -> String {
    agentbox_spec::units::format_duration(d)
}

pub(crate) fn fmt_size(n: u64) -> String {
    agentbox_spec::units::format_size(n)
}

fn thread_cpu() -> Option<Duration> {
    let ts = nix::time::clock_gettime(nix::time::ClockId::CLOCK_THREAD_CPUTIME_ID).ok()?;
    Some(Duration::new(ts.tv_sec() as u64, ts.tv_nsec() as u32))
}

/// The WASI context of one invocation: built only from the tool's grants (the
/// caller builds it for WASI 0.2 components or for preview1 core modules).
/// Defaults that matter (all from wasmtime-wasi's deny-by-default builder, restated):
/// no inherited env, args or stdio; no network, no name lookup; no preopens.
pub(crate) fn build_wasi(
    spec: &WorkerSpec,
    inv: &Invocation,
    stdout: &CappedOutput,
    stderr: &CappedOutput,
) -> Result<WasiCtxBuilder, String> {
    let mut b = WasiCtxBuilder::new();
    b.stdout(stdout.clone());
    b.stderr(stderr.clone());
    b.stdin(MemoryInputPipe::new(inv.stdin.clone()));
    let mut args = vec![spec.name.clone()];
    args.extend(inv.args.iter().cloned());
    b.args(&args);
    for v in &spec.env {
        b.env(&v.name, &v.value);
    }
    b.allow_tcp(false);
    b.allow_udp(false);
    b.allow_ip_name_lookup(false);
    b.socket_addr_check(|_, _| Box::pin(async { false }));
    b.allow_blocking_current_thread(false);
    for g in &spec.fs {
        let perms = match g.access {
            Access::Ro => FsPerms::ReadOnly,
            Access::Rw => FsPerms::ReadWrite,
        };
        b.preopened_dir(&g.host, &g.guest, perms)
            .map_err(|e| format!("cannot open granted directory {}: {e:#}", g.host.display()))?;
    }
    Ok(b)
}

/// The linker for [`Runtime::for_component`]: the imported interfaces it can add
/// one by one (WASI p2 as `wasmtime_wasi::p2::add_to_linker_async` adds them,
/// wasi:http as `add_only_http_to_linker_async`) and agentbox:tool, as
/// [`Runtime::new`] adds it. `None`: an import outside this list (e.g.
/// wasi:random/insecure, whose state wasmtime keeps private), so the caller
/// builds the full linker.
fn subset_linker(
    engine: &Engine,
    imports: &[String],
) -> Option<wasmtime::Result<Linker<HostState>>> {
    use wasmtime_wasi::cli::{WasiCli, WasiCliView};
    use wasmtime_wasi::filesystem::{WasiFilesystem, WasiFilesystemView};
    use wasmtime_wasi::p2::bindings::{cli, filesystem, sockets};
    use wasmtime_wasi::sockets::{WasiSockets, WasiSocketsView};
    type L = Linker<HostState>;
    type Add = fn(&mut L) -> wasmtime::Result<()>;
    // wasi:io, the clocks, wasi:random/random and the three standard streams come
    // as one group (wasmtime adds wasi:io only through its own functions).
    const PROXY: &[&str] = &[
        "wasi:io/error",
        "wasi:io/poll",
        "wasi:io/streams",
        "wasi:clocks/wall-clock",
        "wasi:clocks/monotonic-clock",
        "wasi:random/random",
        "wasi:cli/stdin",
        "wasi:cli/stdout",
        "wasi:cli/stderr",
    ];
    let one: &[(&str, Add)] = &[
        ("wasi:cli/exit", |l| {
            cli::exit::add_to_linker::<_, WasiCli>(l, <HostState as WasiCliView>::cli)
        }),
        ("wasi:cli/environment", |l| {
            cli::environment::add_to_linker::<_, WasiCli>(l, <HostState as WasiCliView>::cli)
        }),
        ("wasi:cli/terminal-input", |l| {
            cli::terminal_input::add_to_linker::<_, WasiCli>(l, <HostState as WasiCliView>::cli)
        }),
        ("wasi:cli/terminal-output", |l| {
            cli::terminal_output::add_to_linker::<_, WasiCli>(l, <HostState as WasiCliView>::cli)
        }),
        ("wasi:cli/terminal-stdin", |l| {
            cli::terminal_stdin::add_to_linker::<_, WasiCli>(l, <HostState as WasiCliView>::cli)
        }),
        ("wasi:cli/terminal-stdout", |l| {
            cli::terminal_stdout::add_to_linker::<_, WasiCli>(l, <HostState as WasiCliView>::cli)
        }),
        ("wasi:cli/terminal-stderr", |l| {
            cli::terminal_stderr::add_to_linker::<_, WasiCli>(l, <HostState as WasiCliView>::cli)
        }),
        ("wasi:filesystem/types", |l| {
            filesystem::types::add_to_linker::<_, WasiFilesystem>(
                l,
                <HostState as WasiFilesystemView>::filesystem,
            )
        }),
        ("wasi:filesystem/preopens", |l| {
            filesystem::preopens::add_to_linker::<_, WasiFilesystem>(
                l,
                <HostState as WasiFilesystemView>::filesystem,
            )
        }),
        ("wasi:sockets/tcp", |l| {
            sockets::tcp::add_to_linker::<_, WasiSockets>(
                l,
                <HostState as WasiSocketsView>::sockets,
            )
        }),
        ("wasi:sockets/udp", |l| {
            sockets::udp::add_to_linker::<_, WasiSockets>(
                l,
                <HostState as WasiSocketsView>::sockets,
            )
        }),
        ("wasi:sockets/tcp-create-socket", |l| {
            sockets::tcp_create_socket::add_to_linker::<_, WasiSockets>(
                l,
                <HostState as WasiSocketsView>::sockets,
            )
        }),
        ("wasi:sockets/udp-create-socket", |l| {
            sockets::udp_create_socket::add_to_linker::<_, WasiSockets>(
                l,
                <HostState as WasiSocketsView>::sockets,
            )
        }),
        ("wasi:sockets/instance-network", |l| {
            sockets::instance_network::add_to_linker::<_, WasiSockets>(
                l,
                <HostState as WasiSocketsView>::sockets,
            )
        }),
        ("wasi:sockets/network", |l| {
            let options = wasmtime_wasi::p2::bindings::LinkOptions::default();
            sockets::network::add_to_linker::<_, WasiSockets>(
                l,
                &(&options).into(),
                <HostState as WasiSocketsView>::sockets,
            )
        }),
        ("wasi:sockets/ip-name-lookup", |l| {
            sockets::ip_name_lookup::add_to_linker::<_, WasiSockets>(
                l,
                <HostState as WasiSocketsView>::sockets,
            )
        }),
    ];
    const HTTP: &[&str] = &["wasi:http/types", "wasi:http/outgoing-handler"];
    let known = |i: &str| {
        PROXY.contains(&i)
            || HTTP.contains(&i)
            || i.starts_with("agentbox:tool/")
            || one.iter().any(|(n, _)| *n == i)
    };
    if !imports.iter().all(|i| known(i)) {
        return None;
    }
    let wants = |set: &[&str]| set.iter().any(|n| imports.iter().any(|i| i == n));
    Some((|| {
        let mut l = Linker::<HostState>::new(engine);
        if wants(PROXY) {
            wasmtime_wasi::p2::add_to_linker_proxy_interfaces_async(&mut l)?;
        }
        for (name, add) in one {
            if imports.iter().any(|i| i == name) {
                add(&mut l)?;
            }
        }
        if wants(HTTP) {
            wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut l)?;
        }
        Tool::add_to_linker::<_, HasSelf<HostState>>(&mut l, |s| s)?;
        Ok(l)
    })())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn engine() -> Engine {
        crate::engine::new_engine(false).unwrap_or_else(|e| panic!("{e}"))
    }

    fn component(engine: &Engine, wat_text: &str) -> Component {
        Component::new(engine, wat_text).unwrap_or_else(|e| panic!("{e:#}"))
    }

    /// A command importing `imports` (WAT instance types) and exporting a `run`
    /// that returns ok.
    fn command(imports: &str) -> String {
        format!(
            r#"(component
                {imports}
                (core module $m (func (export "run") (result i32) i32.const 0))
                (core instance $i (instantiate $m))
                (func $run (result (result)) (canon lift (core func $i "run")))
                (instance $e (export "run" (func $run)))
                (export "wasi:cli/run@0.2.0" (instance $e)))"#
        )
    }

    const WALL_CLOCK: &str = r#"(import "wasi:clocks/wall-clock@0.2.0" (instance
        (type $dt (record (field "seconds" u64) (field "nanoseconds" u32)))
        (export "datetime" (type $datetime (eq $dt)))
        (export "now" (func (result $datetime)))))"#;

    #[test]
    fn a_component_gets_only_its_imports_and_links_the_same() {
        let e = engine();
        let c = component(&e, &command(WALL_CLOCK));
        let (r, _) = Runtime::for_component(e.clone(), &c, ToolKind::Command)
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(r.imports_only());
        // The full linker links it too.
        let full = Runtime::new(e).unwrap_or_else(|e| panic!("{e}"));
        assert!(full.prepare(&c, ToolKind::Command).is_ok());
        assert!(!full.imports_only());
    }

    #[test]
    fn an_import_outside_the_subset_gets_the_full_linker() {
        let e = engine();
        let insecure = r#"(import "wasi:random/insecure@0.2.0" (instance
            (export "get-insecure-random-u64" (func (result u64)))))"#;
        let c = component(&e, &command(insecure));
        let (r, _) =
            Runtime::for_component(e, &c, ToolKind::Command).unwrap_or_else(|e| panic!("{e}"));
        assert!(!r.imports_only());
    }

    #[test]
    fn an_unknown_import_fails_as_with_the_full_linker() {
        let e = engine();
        let unknown = r#"(import "example:nope/thing@1.0.0" (instance
            (export "f" (func))))"#;
        let c = component(&e, &command(unknown));
        let subset = Runtime::for_component(e.clone(), &c, ToolKind::Command).err();
        let full = Runtime::new(e)
            .and_then(|r| r.prepare(&c, ToolKind::Command))
            .err();
        assert!(subset.is_some() && full.is_some());
        assert_eq!(subset.map(|e| e.to_string()), full.map(|e| e.to_string()));
    }
}
