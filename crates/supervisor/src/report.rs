//! The run report (`--report FILE`), exactly the shape of `cli.md`.

use serde::Serialize;

/// What was actually enforced for a run. Today: the wasm and WASI layers only.
#[derive(Debug, Clone, Serialize)]
pub struct Confinement {
    /// Namespaces the worker was placed in (none yet: no worker process).
    pub namespaces: Vec<String>,
    pub landlock_abi: Option<u32>,
    pub seccomp: Option<String>,
    pub cgroup: Option<String>,
    pub no_new_privs: bool,
    /// Layers that did hold for this run, in the order they apply.
    pub enforced: Vec<String>,
    /// Plain words about what is and is not enforced.
    pub note: String,
    /// Weakened modes requested with a flag named as dangerous.
    pub dangerous: Vec<String>,
}

impl Confinement {
    /// The truth for an in-process wasm run: no OS layers.
    pub fn wasm_only() -> Self {
        Self {
            namespaces: Vec::new(),
            landlock_abi: None,
            seccomp: None,
            cgroup: None,
            no_new_privs: false,
            enforced: vec![
                "wasm".into(),
                "wasi-capabilities".into(),
                "runtime-limits".into(),
            ],
            note: "wasm isolation and WASI capabilities from the manifest only; no OS confinement \
                   (namespaces, Landlock, seccomp, cgroups) is applied in this version"
                .into(),
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
    pub outcome: String,
    pub detail: String,
    pub limit: Option<String>,
    pub exit_code: i32,
    pub duration_ms: f64,
    pub http: HttpReport,
    pub confinement: Confinement,
}
