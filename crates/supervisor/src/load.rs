//! Loading a tool's component: read and pin-check its bytes, then take the
//! verified artifact from the cache or have a confined compile worker validate
//! and compile it. The supervisor never parses, validates, compiles or
//! deserializes component bytes or artifacts itself: hostile bytes meet wasmtime
//! only inside a worker (confined, limited, holding no secret).

use crate::broker::LocalBroker;
use crate::worker_run::Reaper;
use crate::{Supervisor, run_name, status, worker_run};
use agentbox_audit::AuditLog;
use agentbox_host::{CacheStatus, Lookup};
use agentbox_ipc::Layer;
use agentbox_ipc::{InvocationMsg, Limit, Outcome};
use agentbox_policy::{ToolKind, ToolSpec};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A loaded tool: the artifact workers receive.
#[derive(Debug, Clone)]
pub struct LoadedTool {
    pub sha256: String,
    pub cache: CacheStatus,
    /// The precompiled component, as sent to workers (never loaded here).
    pub serialized: Arc<Vec<u8>>,
    /// Cache entries that failed verification on the way (each audited as
    /// `cache_rejected`).
    pub rejected: Vec<String>,
}

/// Why a tool could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Component(#[from] agentbox_host::CacheError),
    /// The compile worker refused the component, ran out of a compile limit or
    /// died; `status` is the exit status (125, or 137 for its memory limit).
    #[error("{}: {detail}", path.display())]
    Compile {
        path: PathBuf,
        detail: String,
        limit: Option<Limit>,
        status: i32,
    },
    /// The worker refused a component that does not link as the tool's kind
    /// (already worded with the component's path).
    #[error("{0}")]
    Link(String),
    /// The compile worker could not be confined (fail closed).
    #[error(
        "cannot confine the worker, refusing to run: {0} (the compile worker; see `agentbox doctor`)"
    )]
    Sandbox(String),
    #[error("tool `{0}` is kind \"native\": it has no component to load")]
    NativeUnsupported(String),
    #[error("{0}")]
    Secrets(String),
}

impl LoadError {
    /// Exit status of a run that could not load its tool.
    pub fn status(&self) -> i32 {
        match self {
            Self::Compile { status, .. } => *status,
            _ => status::CANNOT_RUN,
        }
    }

    /// Report outcome and limit of a run that could not load its tool.
    pub fn outcome(&self) -> (Outcome, Option<Limit>) {
        match self {
            Self::Compile { limit: Some(l), .. } => (Outcome::Limit, Some(*l)),
            Self::Sandbox(_) => (Outcome::SandboxError, None),
            _ => (Outcome::Error, None),
        }
    }
}

impl Supervisor {
    /// Reads the component, checks its sha256 pin, and returns its artifact:
    /// from the cache when a verified entry exists, else compiled now in a
    /// confined compile worker and stored.
    pub fn load(&self, tool: &ToolSpec) -> Result<LoadedTool, LoadError> {
        let Some(path) = &tool.component else {
            return Err(LoadError::NativeUnsupported(tool.name.clone()));
        };
        let src = self.cache.source(path, tool.sha256.as_deref())?;
        let engine = &self.engine;
        let mut rejected = Vec::new();
        match self.cache.lookup(engine, &src.sha256) {
            Lookup::Hit(hit) => {
                return Ok(LoadedTool {
                    sha256: hit.sha256,
                    cache: CacheStatus::Hit,
                    serialized: hit.serialized,
                    rejected,
                });
            }
            Lookup::Rejected(reason) => rejected.push(reason),
            Lookup::Miss => {}
        }
        let artifact = self.compile(tool, path, &src.bytes)?;
        self.cache.store(engine, &src.sha256, &artifact)?;
        Ok(LoadedTool {
            sha256: src.sha256,
            cache: CacheStatus::Miss,
            serialized: Arc::new(artifact),
            rejected,
        })
    }

    /// Validates and compiles untrusted component bytes in a confined compile
    /// worker, under the tool's compile limits.
    fn compile(
        &self,
        tool: &ToolSpec,
        path: &std::path::Path,
        bytes: &[u8],
    ) -> Result<Vec<u8>, LoadError> {
        let spec = compile_spec(tool);
        let fail = |detail: String, limit: Option<Limit>, status: i32| LoadError::Compile {
            path: path.to_path_buf(),
            detail,
            limit,
            status,
        };
        match compile_confined(
            &self.compile_exe,
            &spec,
            bytes,
            &self.disabled,
            &run_name(),
            &self.reaper,
            &LocalBroker::new(
                Arc::new(AuditLog::memory("compile")),
                &spec,
                self.net.clone(),
            ),
        ) {
            Compiled::Artifact(a) => Ok(a),
            Compiled::Refused(detail) => Err(LoadError::Link(detail)),
            Compiled::SetupFailed(m) => Err(LoadError::Sandbox(m)),
            Compiled::Failed {
                detail,
                limit: Some(Limit::Memory),
                ..
            } => Err(fail(
                format!(
                    "the component could not be compiled within the compile memory limit of {} (limits.compile_memory): {detail}",
                    agentbox_policy::units::format_size(tool.limits.compile_memory)
                ),
                Some(Limit::Memory),
                status::LIMIT,
            )),
            Compiled::Failed {
                detail,
                limit: Some(_),
                ..
            } => Err(fail(
                format!(
                    "the component could not be compiled within the compile time limit of {} (limits.compile_timeout): {detail}",
                    agentbox_policy::units::format_duration(tool.limits.compile_timeout)
                ),
                None,
                status::CANNOT_RUN,
            )),
            Compiled::Failed { detail, .. } => Err(fail(
                format!("the component could not be compiled: {detail}"),
                None,
                status::CANNOT_RUN,
            )),
        }
    }
}

/// What a compile worker is given: the tool's kind and component path (for
/// messages), no grants of any kind, the wasm worker's confinement profile, and
/// the compile limits in place of the invocation's.
pub(crate) fn compile_spec(tool: &ToolSpec) -> ToolSpec {
    let mut spec = tool.clone();
    spec.fs.clear();
    spec.scratch.clear();
    spec.net.clear();
    spec.secrets.clear();
    spec.env.clear();
    spec.profile = "wasm-worker".into();
    debug_assert!(spec.kind != ToolKind::Native);
    spec.limits.timeout = tool.limits.compile_timeout;
    // Compilation runs on two threads: CPU up to twice the wall clock.
    spec.limits.cpu = tool.limits.compile_timeout * 2;
    // The worker's cgroup adds room for the runtime above `memory` (see
    // `cgroup_limits`): the compile worker's whole budget is `compile_memory`.
    spec.limits.memory = tool
        .limits
        .compile_memory
        .saturating_sub(worker_run::RUNTIME_ROOM)
        .max(8 << 20);
    spec
}

/// How a compile worker ended.
#[derive(Debug)]
pub(crate) enum Compiled {
    Artifact(Vec<u8>),
    /// The component is invalid or does not link as the tool's kind (the
    /// worker's words, with the component's path).
    Refused(String),
    /// The compile worker could not be confined (fail closed).
    SetupFailed(String),
    /// Anything else: a compile limit (`limit`), a crash, a broken protocol.
    Failed {
        detail: String,
        limit: Option<Limit>,
    },
}

/// Validates and compiles untrusted component `bytes` in a new confined worker
/// (the compile spec's limits, no grants, the wasm worker profile).
pub(crate) fn compile_confined(
    worker_exe: &Path,
    spec: &ToolSpec,
    bytes: &[u8],
    disabled: &[Layer],
    run_id: &str,
    reaper: &Reaper,
    broker: &LocalBroker,
) -> Compiled {
    let started = worker_run::launch(worker_exe, spec, disabled, run_id).and_then(|w| {
        worker_run::send_start(
            w,
            spec,
            bytes,
            InvocationMsg::default(),
            worker_run::Job::Compile,
            disabled,
        )
    });
    let mut w = match started {
        Ok(w) => w,
        Err(b) => match b.0 {
            worker_run::Ended::SetupFailed(m) => return Compiled::SetupFailed(m),
            other => {
                return Compiled::Failed {
                    detail: describe_end(other),
                    limit: None,
                };
            }
        },
    };
    // `serve` refuses every host call from a compile worker (a protocol
    // violation): the broker is never asked.
    let ended = worker_run::serve(&mut w, spec, broker, false);
    reaper.destroy(w);
    match ended {
        worker_run::Ended::Compiled(a) => Compiled::Artifact(a),
        worker_run::Ended::SetupFailed(m) => Compiled::SetupFailed(m),
        worker_run::Ended::Done(r) if r.outcome == Outcome::Error => Compiled::Refused(r.detail),
        worker_run::Ended::Stopped { limit, detail, .. } => Compiled::Failed { detail, limit },
        other => Compiled::Failed {
            detail: describe_end(other),
            limit: None,
        },
    }
}

/// One line for how a worker ended, for a compile failure.
fn describe_end(e: worker_run::Ended) -> String {
    match e {
        worker_run::Ended::SetupFailed(m) => format!("cannot confine the compile worker: {m}"),
        worker_run::Ended::Stopped { detail, .. } => detail,
        worker_run::Ended::Done(r) => {
            format!("the compile worker answered `{}`: {}", r.outcome, r.detail)
        }
        worker_run::Ended::Ready | worker_run::Ended::Compiled(_) => {
            "the compile worker stopped early".into()
        }
    }
}
