//! agentbox-mcp: `agentbox mcp` — every tool of a manifest served to agents over
//! the Model Context Protocol (stdio, or streamable HTTP with a bearer token),
//! each call one confined invocation on the tool's pool of workers.
//!
//! Trust zone: supervisor. The only crate that knows the MCP SDK (rmcp). It must
//! never let a client change a grant (the manifest is the only source of
//! capabilities: no tool, prompt or resource here edits it), never run guest code
//! itself (every call goes to a confined worker), never write anything but
//! protocol messages to stdout in stdio mode, and never answer an HTTP request
//! that lacks the bearer token or names a foreign Host or Origin.

mod call;
mod catalog;
mod http;
mod monitor;
mod server;
mod stdio;
mod watch;

use agentbox_audit::AuditLog;
use agentbox_policy::Manifest;
use agentbox_supervisor::{Options, Supervisor};
use catalog::Catalog;
use server::{Session, Shared};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// How long in-flight calls may finish at shutdown before they are cancelled.
pub const DRAIN: Duration = Duration::from_secs(5);

/// `agentbox mcp`'s settings.
#[derive(Debug, Clone, Default)]
pub struct Config {
    pub manifest: PathBuf,
    /// Secret sources, extra CA, disabled layers (as `run`).
    pub options: Options,
    /// Append audit events here (`--audit`).
    pub audit: Option<PathBuf>,
    /// Sign the chain with this key (`--audit-key`).
    pub audit_key: Option<PathBuf>,
    /// Rotate the log at this size (`--audit-rotate`).
    pub audit_rotate: Option<u64>,
    /// Send every audit line to an OTLP/HTTP receiver too (`--otlp`).
    pub otlp: Option<agentbox_otlp::Options>,
    /// Invocations running at once (`--max-concurrent`, default 2 × cores).
    pub max_concurrent: usize,
    /// Streamable HTTP at `http://ADDR/mcp` instead of stdio.
    pub listen: Option<SocketAddr>,
    /// The bearer token's file (0600); generated and printed when absent.
    pub token_file: Option<PathBuf>,
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Manifest(#[from] agentbox_policy::ManifestError),
    #[error(transparent)]
    Setup(#[from] agentbox_supervisor::SetupError),
    #[error(transparent)]
    Audit(#[from] agentbox_audit::AuditError),
    #[error(transparent)]
    Export(#[from] agentbox_otlp::ExportError),
    #[error("cannot start the server's runtime: {0}")]
    Runtime(std::io::Error),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("--token-file {}: {reason}", path.display())]
    Token { path: PathBuf, reason: String },
    #[error("--max-concurrent must be at least 1")]
    Concurrency,
    #[error("the MCP session ended with an error: {0}")]
    Transport(String),
    #[error("{0}")]
    Monitor(String),
    /// A `[monitor]` rule answered with `stop`.
    #[error("stopped by monitor {0}")]
    Stopped(String),
}

/// The default of `--max-concurrent`: two per core.
pub fn default_max_concurrent() -> usize {
    2 * std::thread::available_parallelism().map_or(1, usize::from)
}

fn say(msg: impl std::fmt::Display) {
    eprintln!("agentbox mcp: {msg}");
}

/// Runs the server until the client goes away (stdio EOF) or SIGTERM/SIGINT;
/// in-flight calls get [`DRAIN`] to finish, then are cancelled.
pub fn serve(config: Config) -> Result<(), ServeError> {
    if config.max_concurrent == 0 {
        return Err(ServeError::Concurrency);
    }
    let manifest = Manifest::load(&config.manifest)?;
    let token = match config.listen {
        Some(_) => Some(http::token(config.token_file.as_deref())?),
        None => None,
    };
    let mut options = config.options.clone();
    options.pooling = true;
    let sup = Arc::new(Supervisor::new(&options)?);
    let audit = match &config.audit {
        Some(p) => {
            let signer = config
                .audit_key
                .as_deref()
                .map(agentbox_audit::Signer::load_or_create)
                .transpose()
                .map_err(agentbox_audit::AuditError::from)?;
            let opts = agentbox_audit::FileOptions {
                signer,
                rotate_bytes: config.audit_rotate,
            };
            AuditLog::open(p, "mcp", opts)?
        }
        None => {
            say("no --audit FILE given: calls are not recorded");
            AuditLog::discard("mcp")
        }
    };
    let exporter = config
        .otlp
        .clone()
        .map(|o| agentbox_otlp::attach(&audit, o))
        .transpose()?;
    let baseline = monitor::load_baseline(&manifest.monitor).map_err(ServeError::Monitor)?;
    let watch = monitor::Watch::new(&manifest.monitor, baseline);
    if !manifest.monitor.rules.is_empty() {
        say(format!(
            "watching with {} monitor rule{}",
            manifest.monitor.rules.len(),
            if manifest.monitor.rules.len() == 1 {
                ""
            } else {
                "s"
            }
        ));
    }
    let catalog = Catalog::build(&sup, manifest, config.max_concurrent);
    let names: Vec<&str> = catalog.tools.keys().map(String::as_str).collect();
    say(format!(
        "serving {} tool{} ({}) from {}",
        names.len(),
        if names.len() == 1 { "" } else { "s" },
        names.join(", "),
        config.manifest.display()
    ));
    let shared = Arc::new(Shared {
        sup,
        catalog: std::sync::RwLock::new(Arc::new(catalog)),
        audit: Arc::new(audit),
        slots: tokio::sync::Semaphore::new(config.max_concurrent),
        max_concurrent: config.max_concurrent,
        cores: std::thread::available_parallelism().map_or(1, usize::from),
        peers: std::sync::Mutex::new(Vec::new()),
        inflight: std::sync::Mutex::new(Default::default()),
        next_call: Default::default(),
        tracker: tokio_util::task::TaskTracker::new(),
        stdio_session: format!("stdio-{}", std::process::id()),
        watch,
        secrets: options.secrets.clone(),
        stop: tokio_util::sync::CancellationToken::new(),
        exporter,
    });
    let events = monitor::attach(&shared);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("agentbox-mcp")
        .enable_all()
        .build()
        .map_err(ServeError::Runtime)?;
    let result = rt.block_on(async {
        tokio::spawn(watch::watch(shared.clone(), config.manifest.clone()));
        let syncing = tokio_util::sync::CancellationToken::new();
        let syncer = tokio::spawn(sync_audit(shared.clone(), syncing.clone()));
        let watcher = tokio::spawn(monitor::run(shared.clone(), events));
        let served = match (config.listen, token) {
            (Some(addr), Some(token)) => http::serve(shared.clone(), addr, token).await,
            _ => stdio(shared.clone()).await,
        };
        drain(&shared).await;
        // Nothing may record after the closing lines: the watch's feed is cut
        // (dropping the observer drops the channel's sender), what it still holds
        // is evaluated, and the periodic sync finishes its round and stops.
        shared.audit.unobserve();
        let _ = tokio::time::timeout(DRAIN, watcher).await;
        syncing.cancel();
        let _ = syncer.await;
        served
    });
    // A clean stop: the chain signed and on disk (and sent on, with --otlp).
    let closed = match &shared.exporter {
        Some(ex) => agentbox_otlp::close(&shared.audit, ex, DRAIN).map(|left| {
            if left > 0 {
                say(format!(
                    "{left} audit line(s) were not exported to {} (the audit file has them)",
                    ex.endpoint()
                ));
            }
        }),
        None => shared.audit.close(),
    };
    if let Err(e) = closed {
        say(format!("the audit log could not be closed: {e}"));
    }
    // Every pooled worker is destroyed (processes killed, cgroups removed).
    drop(shared.replace_catalog(Catalog::empty(shared.catalog().manifest.clone())));
    // A read of stdin may still be pending on a blocking thread: not waited for.
    rt.shutdown_background();
    match (result, shared.watch.stopped_by()) {
        (Ok(()), Some(rule)) => Err(ServeError::Stopped(rule)),
        (r, _) => r,
    }
}

/// Serves one client over stdin/stdout until EOF or a signal.
async fn stdio(shared: Arc<Shared>) -> Result<(), ServeError> {
    use rmcp::ServiceExt;
    let (read, write) = rmcp::transport::stdio_pipes();
    let running = Session::new(shared.clone())
        .serve(stdio::Stdio::new(read, write))
        .await
        .map_err(|e| ServeError::Transport(e.to_string()))?;
    let stop = running.cancellation_token();
    // Polled by reference: when a stop wins the race below, the session (and
    // every request it serves) lives on while the calls in flight drain; dropping
    // it would cancel them at once.
    let waiting = running.waiting();
    tokio::pin!(waiting);
    tokio::select! {
        r = &mut waiting => {
            r.map_err(|e| ServeError::Transport(e.to_string()))?;
        }
        () = stopping(&shared) => {
            // Calls in flight finish (or are cancelled) while their answers can
            // still be written; then the session stops.
            drain(&shared).await;
            // The answers of the last calls are on their way to stdout.
            tokio::time::sleep(Duration::from_millis(200)).await;
            stop.cancel();
            let _ = waiting.await;
        }
    }
    Ok(())
}

/// Resolves on SIGTERM, SIGINT or a monitor rule's `stop`.
pub(crate) async fn stopping(shared: &Shared) {
    tokio::select! {
        () = signalled() => {}
        () = shared.stop.cancelled() => {
            say("stopping: a monitor rule said stop; in-flight calls get 5 s to finish");
        }
    }
}

/// Resolves on SIGTERM or SIGINT.
pub(crate) async fn signalled() {
    use tokio::signal::unix::{SignalKind, signal};
    match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(mut term), Ok(mut int)) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        }
        _ => std::future::pending().await,
    }
    say("stopping: in-flight calls get 5 s to finish");
}

/// Lets in-flight calls finish for up to [`DRAIN`], then cancels the rest and
/// waits until their workers are gone.
async fn drain(shared: &Shared) {
    // No call starts from now on ("the server is stopping").
    shared.slots.close();
    shared.tracker.close();
    if tokio::time::timeout(DRAIN, shared.tracker.wait())
        .await
        .is_err()
    {
        shared.cancel_all();
        shared.tracker.wait().await;
    }
}

/// Syncs the audit file to disk once a second (each call's lines are written
/// out as it ends; waiting for the disk on every call would halve throughput).
async fn sync_audit(shared: Arc<Shared>, stop: tokio_util::sync::CancellationToken) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            () = stop.cancelled() => return,
        }
        let audit = shared.audit.clone();
        let exporter = shared.exporter.clone();
        let _ = tokio::task::spawn_blocking(move || {
            // Lines the exporter had to drop are themselves audited (and exported).
            if let Some(ex) = &exporter {
                let _ = agentbox_otlp::audit_drops(&audit, ex);
            }
            audit.sync()
        })
        .await;
    }
}
