//! agentbox-worker: the confined process that runs one tool invocation.
//!
//! Trust zone: worker — untrusted once confinement is applied (assume the guest has
//! escaped wasm and runs native code here). It receives everything over fd 3 from
//! the supervisor, confines itself (agentbox-confine), reports what the kernel
//! enforces, runs the component (agentbox-host) or execs the native program, and
//! forwards every host call that matters to the supervisor.
//!
//! It must never read TOML, the host environment, or any file the supervisor did
//! not grant; it holds no secret and opens no network connection.

mod native;

use agentbox_host::{BoxFuture, Broker, Invocation, Runtime, http, log};
use agentbox_ipc::{Channel, MAX_FRAME, Outcome, Start, ToSupervisor, ToWorker, WorkerResult};
use agentbox_spec::ToolKind;
use std::io::Write;
use std::sync::{Arc, Mutex};

/// The worker's entry point (the `agentbox-worker` binary; `agentbox __worker`
/// for compile workers). Never returns.
pub fn main() -> ! {
    let code = match run() {
        Ok(code) => code,
        // The supervisor was told which step failed.
        Err(agentbox_confine::entry::EntryError::Refused(_)) => 125,
        Err(e) => {
            eprintln!("agentbox-worker: {e}");
            125
        }
    };
    std::process::exit(code)
}

fn run() -> Result<i32, agentbox_confine::entry::EntryError> {
    // Single-threaded until confinement is complete (inside start_confined).
    let (mut start, ch) = agentbox_confine::entry::start_confined()?;
    // Confined. Threads may start now.
    let broker = Arc::new(RemoteBroker { ch: Mutex::new(ch) });
    if start.compile {
        return compile(&start, &broker);
    }
    let (result, session) = match start.spec.kind {
        ToolKind::Native => (native::run(&start), None),
        ToolKind::Tool | ToolKind::Command => run_wasm(&mut start, broker.clone()),
    };
    let mut ch = broker.ch.lock().map_err(|_| {
        agentbox_confine::entry::EntryError::Protocol("channel lock poisoned".into())
    })?;
    let sent = ch.send(&ToSupervisor::Done(Box::new(result)));
    // After the answer (the caller does not wait for the runtime's threads to be
    // let go), and also when it could not be sent: never wait for them.
    if let Some(s) = session {
        s.tokio.shutdown_background();
    }
    sent?;
    Ok(0)
}

/// A compile worker: validates and compiles the untrusted component bytes it was
/// sent, checks that they link as the tool's kind (what a run worker would refuse
/// is refused here, in the same words), and sends the artifact back. Whatever the
/// bytes do to wasmtime's parser, validator or Cranelift happens here, confined
/// and limited, never in the supervisor (issue: hostile components).
#[cfg(feature = "compile")]
fn compile(
    start: &Start,
    broker: &RemoteBroker,
) -> Result<i32, agentbox_confine::entry::EntryError> {
    let path = start
        .spec
        .component
        .clone()
        .unwrap_or_else(|| std::path::PathBuf::from("<component>"));
    let compiled = (|| {
        let engine = agentbox_host::engine::new_engine(false).map_err(|e| e.to_string())?;
        // A WASI preview1 core module runs on the preview1 host (kind command).
        if agentbox_host::artifact::is_core_module(&start.component) {
            let artifact =
                agentbox_host::artifact::precompile_module(&engine, &path, &start.component)
                    .map_err(|e| e.to_string())?;
            let module = agentbox_host::artifact::load_serialized_module(&engine, &artifact)
                .map_err(|e| format!("{}: {e}", path.display()))?;
            Runtime::for_module(engine, &module, start.spec.kind)
                .map_err(|e| format!("{}: {e}", path.display()))?;
            return Ok(artifact);
        }
        let component = agentbox_host::artifact::compile(&engine, &path, &start.component)
            .map_err(|e| e.to_string())?;
        Runtime::for_component(engine, &component, start.spec.kind)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        component.serialize().map_err(|e| {
            format!(
                "{}: cannot serialize the compiled component: {e:#}",
                path.display()
            )
        })
    })();
    let msg = match compiled {
        Ok(artifact) => ToSupervisor::Compiled(artifact),
        Err(detail) => ToSupervisor::Done(Box::new(error_result(detail))),
    };
    let mut ch = broker.ch.lock().map_err(|_| {
        agentbox_confine::entry::EntryError::Protocol("channel lock poisoned".into())
    })?;
    ch.send(&msg)?;
    Ok(0)
}

/// Built without a compiler (the `agentbox-worker` binary): a compile request is
/// answered with an error, nothing is compiled. The supervisor starts compile
/// workers from `agentbox` itself.
#[cfg(not(feature = "compile"))]
fn compile(
    _start: &Start,
    broker: &RemoteBroker,
) -> Result<i32, agentbox_confine::entry::EntryError> {
    let detail =
        "this worker binary has no compiler: compile workers are started from `agentbox` itself"
            .to_string();
    let mut ch = broker.ch.lock().map_err(|_| {
        agentbox_confine::entry::EntryError::Protocol("channel lock poisoned".into())
    })?;
    ch.send(&ToSupervisor::Done(Box::new(error_result(detail))))?;
    Ok(0)
}

/// Forwards host calls over the socket; the supervisor decides.
struct RemoteBroker {
    ch: Mutex<Channel>,
}

impl std::fmt::Debug for RemoteBroker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RemoteBroker")
    }
}

impl Broker for RemoteBroker {
    fn fetch(&self, r: http::Request) -> BoxFuture<'_, Result<http::Response, http::HttpError>> {
        let req = agentbox_host::wire::request_to_wire(r);
        let answer = (|| {
            let mut ch = self
                .ch
                .lock()
                .map_err(|_| http::HttpError::Transport("worker channel poisoned".into()))?;
            ch.send(&ToSupervisor::Fetch(req))
                .map_err(|e| http::HttpError::Transport(e.to_string()))?;
            match ch.recv::<ToWorker>(MAX_FRAME, None) {
                Ok(ToWorker::HttpReply(reply)) => Ok(reply),
                Ok(other) => Err(http::HttpError::Transport(format!(
                    "unexpected message {other:?}"
                ))),
                Err(e) => Err(http::HttpError::Transport(e.to_string())),
            }
        })();
        let out = answer.and_then(agentbox_host::wire::reply_from_wire);
        Box::pin(async move { out })
    }

    fn log(&self, level: log::Level, message: String) {
        let level = agentbox_host::level_word(level);
        if let Ok(mut ch) = self.ch.lock() {
            let _ = ch.send(&ToSupervisor::Log { level, message });
        }
    }
}

fn error_result(detail: String) -> WorkerResult {
    WorkerResult {
        outcome: Outcome::Error,
        limit: None,
        exit_code: None,
        detail,
        output: None,
        tool_error: None,
        stdout: Vec::new(),
        stderr: Vec::new(),
        unusable_component: false,
        limits_hit: Vec::new(),
    }
}

/// A component loaded once; every call gets a fresh instance and store.
struct WasmSession {
    runtime: Runtime,
    prepared: agentbox_host::Prepared,
    tokio: tokio::runtime::Runtime,
}

impl WasmSession {
    /// On failure, the result to report. A pooled worker lets the component's
    /// mapping go once wasmtime has its own copy (the supervisor's memfd is then
    /// freed); a one-shot worker keeps it until it exits, moments later.
    fn new(start: &mut Start) -> Result<Self, Box<WorkerResult>> {
        let fail = |detail: String| Box::new(error_result(detail));
        let engine = agentbox_host::engine::new_runtime_engine(start.pooled)
            .map_err(|e| fail(e.to_string()))?;
        let unusable = |e: agentbox_host::artifact::ArtifactError| {
            Box::new(WorkerResult {
                unusable_component: true,
                ..error_result(e.to_string())
            })
        };
        // Worded as the supervisor's refusal of a component that does not link
        // (it leaves that check to the worker on a cache hit).
        let link_error = |e: agentbox_host::LoadError| {
            fail(match &start.spec.component {
                Some(path) => format!("{}: {e}", path.display()),
                None => e.to_string(),
            })
        };
        // A WASI preview1 core module (wasmtime's header says which) runs on the
        // preview1 host, everything else as a component.
        let linked = if agentbox_host::artifact::is_precompiled_module(&start.component) {
            let module = agentbox_host::artifact::load_serialized_module(&engine, &start.component)
                .map_err(unusable)?;
            Runtime::for_module(engine, &module, start.spec.kind).map_err(link_error)
        } else {
            let component = agentbox_host::artifact::load_serialized(&engine, &start.component)
                .map_err(unusable)?;
            // A one-shot worker links one component once: only what it imports. A
            // pooled worker too (it serves that same component only).
            Runtime::for_component(engine, &component, start.spec.kind).map_err(link_error)
        };
        if start.pooled {
            drop(std::mem::take(&mut start.component));
        }
        let (runtime, prepared) = linked?;
        let tokio = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .max_blocking_threads(2)
            .build()
            .map_err(|e| fail(format!("tokio: {e}")))?;
        Ok(Self {
            runtime,
            prepared,
            tokio,
        })
    }

    fn call(
        &self,
        spec: &agentbox_spec::WorkerSpec,
        msg: &agentbox_ipc::InvocationMsg,
        broker: Arc<RemoteBroker>,
    ) -> WorkerResult {
        let inv = Invocation {
            input: msg.input.clone(),
            args: msg.args.clone(),
            stdin: msg.stdin.clone(),
        };
        let b: Arc<dyn Broker> = broker;
        let r = if msg.describe {
            self.tokio
                .block_on(self.runtime.describe(&self.prepared, spec, b))
        } else {
            self.tokio
                .block_on(self.runtime.invoke(&self.prepared, spec, &inv, b))
        };
        to_result(r)
    }
}

/// How long a pooled worker waits for its next call before it gives back the
/// pages of its code (a worker under steady load never does).
const IDLE_RELEASE: std::time::Duration = std::time::Duration::from_millis(100);

/// Runs a one-shot invocation (and returns its session, still up), or serves a
/// pooled worker's invocations until told to stop (and exits).
fn run_wasm(start: &mut Start, broker: Arc<RemoteBroker>) -> (WorkerResult, Option<WasmSession>) {
    let session = match WasmSession::new(start) {
        Ok(s) => s,
        Err(r) => return (*r, None),
    };
    if !start.pooled {
        let r = session.call(&start.spec, &start.invocation, broker.clone());
        return (r, Some(session));
    }
    // Pooled: wait for invocations, each in a fresh instance, until told to stop.
    if let Ok(mut ch) = broker.ch.lock() {
        ch.set_spin(std::time::Duration::from_micros(200));
    }
    loop {
        let next = match broker.ch.lock() {
            Ok(mut ch) => {
                // Idle for a while: give back the code pages start-up and the
                // last calls touched (the next call faults in what it needs).
                if !ch.wait_readable(IDLE_RELEASE) {
                    agentbox_confine::footprint::release_code_pages();
                }
                ch.recv::<ToWorker>(MAX_FRAME, None)
            }
            Err(_) => std::process::exit(0),
        };
        let result = match next {
            Ok(ToWorker::Invoke(msg)) => {
                let r = session.call(&start.spec, &msg, broker.clone());
                // Nothing carried between calls: scratch spaces are emptied before
                // the worker reports and goes back to the pool. One that cannot be
                // emptied ends the worker without an answer (fail closed): this
                // call fails, the supervisor discards the worker, the next caller
                // gets a fresh one.
                if let Err(e) = empty_scratch(&start.spec) {
                    let _ = writeln!(std::io::stderr(), "agentbox-worker: {e}");
                    std::process::exit(70);
                }
                r
            }
            // Shutdown, a closed socket or anything unexpected: exit quietly.
            _ => std::process::exit(0),
        };
        let sent = broker
            .ch
            .lock()
            .map(|mut ch| ch.send(&ToSupervisor::Done(Box::new(result))).is_ok());
        if !matches!(sent, Ok(true)) {
            std::process::exit(0);
        }
    }
}

/// Removes everything inside each scratch space (pooled workers, after each
/// call). Bounded in descriptors whatever the tree's depth: a directory that is
/// not empty has its entries moved up to the scratch's top level (a rename within
/// one tmpfs), until only files and empty directories are left there.
fn empty_scratch(spec: &agentbox_spec::WorkerSpec) -> Result<(), String> {
    for s in &spec.scratch {
        empty_dir(std::path::Path::new(&s.guest), s.files)
            .map_err(|e| format!("cannot empty scratch {}: {e}", s.guest))?;
    }
    Ok(())
}

fn empty_dir(root: &std::path::Path, inodes: u64) -> Result<(), String> {
    use nix::fcntl::{AT_FDCWD, OFlag, openat, renameat};
    use nix::sys::stat::{Mode, SFlag, fstatat};
    use nix::unistd::{UnlinkatFlags, unlinkat};
    use std::os::fd::AsFd;
    let dir_flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
    let top = openat(AT_FDCWD, root, dir_flags, Mode::empty()).map_err(|e| e.to_string())?;
    let mut serial = 0u64;
    // Every round removes or moves up at least one entry; the inode quota bounds
    // the entries, so the rounds are bounded too.
    for _ in 0..=inodes.saturating_mul(2).saturating_add(16) {
        let list = agentbox_confine::dir_names(&top)?;
        if list.is_empty() {
            return Ok(());
        }
        let mut progress = false;
        for name in list {
            let st = fstatat(
                top.as_fd(),
                name.as_c_str(),
                nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW,
            )
            .map_err(|e| e.to_string())?;
            if SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT != SFlag::S_IFDIR {
                unlinkat(top.as_fd(), name.as_c_str(), UnlinkatFlags::NoRemoveDir)
                    .map_err(|e| e.to_string())?;
                progress = true;
                continue;
            }
            if unlinkat(top.as_fd(), name.as_c_str(), UnlinkatFlags::RemoveDir).is_ok() {
                progress = true;
                continue;
            }
            let sub = openat(top.as_fd(), name.as_c_str(), dir_flags, Mode::empty())
                .map_err(|e| e.to_string())?;
            for child in agentbox_confine::dir_names(&sub)? {
                serial += 1;
                let to = format!(".agentbox-emptying-{serial}");
                if renameat(sub.as_fd(), child.as_c_str(), top.as_fd(), to.as_str()).is_ok() {
                    progress = true;
                }
            }
        }
        if !progress {
            return Err("no entry could be removed".into());
        }
    }
    Err("too many rounds".into())
}

fn to_result(r: agentbox_host::InvocationResult) -> WorkerResult {
    let (outcome, limit, exit_code) = r.outcome.words();
    WorkerResult {
        outcome,
        limit,
        exit_code,
        detail: r.detail,
        output: r.output,
        tool_error: r.tool_error,
        stdout: r.stdout,
        stderr: r.stderr,
        unusable_component: false,
        limits_hit: r.limits_hit,
    }
}
