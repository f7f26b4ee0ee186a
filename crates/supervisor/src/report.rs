//! The run report (`--report FILE`): the shape of `cli.md`, extended compatibly.

use agentbox_ipc::{LandlockStatus, Limit, Outcome};
use serde::Serialize;

/// What was actually enforced for a run, read back from the kernel by the worker.
#[derive(Debug, Clone, Serialize)]
pub struct Confinement {
    /// Namespaces whose id differs from the supervisor's.
    pub namespaces: Vec<String>,
    pub landlock_abi: Option<u32>,
    pub seccomp: Option<String>,
    /// `v1` or `v2`.
    pub cgroup: Option<String>,
    pub no_new_privs: bool,
    /// Extensions (compatible additions to cli.md's shape):
    pub profile: Option<String>,
    pub landlock_status: Option<LandlockStatus>,
    pub cgroup_path: Option<String>,
    pub cgroup_memory: Option<u64>,
    pub cgroup_pids: Option<u32>,
    /// `none` when every capability set is empty.
    pub capabilities: String,
    /// Descriptors open in the worker besides stdio.
    pub open_fds: Vec<i32>,
    /// Layers that held for this run.
    pub enforced: Vec<String>,
    pub note: String,
    /// Weakened modes requested with a flag named as dangerous.
    pub dangerous: Vec<String>,
}

impl Confinement {
    /// Nothing enforced (no worker ran).
    pub fn none() -> Self {
        Self {
            namespaces: Vec::new(),
            landlock_abi: None,
            seccomp: None,
            cgroup: None,
            no_new_privs: false,
            profile: None,
            landlock_status: None,
            cgroup_path: None,
            cgroup_memory: None,
            cgroup_pids: None,
            capabilities: "unknown".into(),
            open_fds: Vec::new(),
            enforced: Vec::new(),
            note: "no worker ran".into(),
            dangerous: Vec::new(),
        }
    }
}

/// HTTP counters.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct HttpReport {
    pub allowed: u32,
    pub denied: u32,
}

/// One JSON object describing a run, written whatever the outcome.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub tool: Option<String>,
    pub outcome: Outcome,
    pub detail: String,
    pub limit: Option<Limit>,
    /// Extension: every limit enforced during the run, sorted — the one that
    /// ended it (`limit`) and any the guest survived, such as a refused
    /// `memory.grow` (`memory`) or table growth (`table`).
    pub limits_hit: Vec<Limit>,
    pub exit_code: i32,
    pub duration_ms: f64,
    pub http: HttpReport,
    /// Extension: how many requests carried each secret (names only).
    pub secrets_used: std::collections::BTreeMap<String, u32>,
    pub confinement: Confinement,
    /// Extension (guards.md): what the output guards found and did.
    pub guards: crate::guards::GuardsReport,
}

impl Report {
    /// The report of a run that could not start (outcome `error`, status 125).
    pub fn failure(tool: Option<String>, detail: String, duration_ms: f64) -> Self {
        Self {
            tool,
            outcome: Outcome::Error,
            detail,
            limit: None,
            limits_hit: Vec::new(),
            exit_code: 125,
            duration_ms,
            http: HttpReport::default(),
            secrets_used: Default::default(),
            confinement: Confinement::none(),
            guards: Default::default(),
        }
    }
}
