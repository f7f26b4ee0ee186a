//! The resolved manifest: what one tool may do, as the supervisor holds it.

use super::*;

/// A whole manifest, validated.
#[derive(Debug, Clone)]
pub struct Manifest {
    /// The path the manifest was loaded from, as given.
    pub path: PathBuf,
    /// sha256 of the manifest file's bytes (hex), recorded in the audit log.
    pub sha256: String,
    /// Tools by name (sorted).
    pub tools: BTreeMap<String, ToolSpec>,
    /// `[monitor]`: what a long-running server watches for and how it answers.
    pub monitor: MonitorPolicy,
}

/// `[monitor]`, resolved: the baseline file (relative to the manifest) and the
/// rules in the order written.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MonitorPolicy {
    pub baseline: Option<PathBuf>,
    pub rules: Vec<agentbox_monitor::Rule>,
}

/// A destination granted to a tool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetGrant {
    pub allow: UrlRule,
    /// Upper-case HTTP methods.
    pub methods: Vec<String>,
    pub private: bool,
    pub rationale: String,
}

/// A secret a tool may have the host use on its behalf.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretGrant {
    pub name: String,
    pub allow: Vec<UrlRule>,
    pub header: Option<String>,
    pub format: Option<String>,
    pub rationale: String,
}

/// Everything one tool may do, resolved. A worker receives only its
/// [`ToolSpec::worker_spec`]: the network and secret grants stay here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolSpec {
    pub name: String,
    pub kind: ToolKind,
    /// Canonical path of the component (kinds tool and command).
    pub component: Option<PathBuf>,
    /// Pinned sha256 (lowercase hex), if the manifest gives one.
    pub sha256: Option<String>,
    pub description: String,
    pub rationale: String,
    pub profile: String,
    /// Native argv (kind native).
    pub exec: Vec<String>,
    pub limits: Limits,
    pub fs: Vec<FsGrant>,
    /// Extension: scratch spaces (empty, size-limited, per invocation).
    pub scratch: Vec<ScratchGrant>,
    pub net: Vec<NetGrant>,
    pub secrets: Vec<SecretGrant>,
    pub env: Vec<EnvVar>,
    /// Output and input guards (guards.md); the defaults when the manifest has none.
    pub guards: agentbox_guard::GuardPolicy,
}

impl ToolSpec {
    /// What the worker that runs this tool is told: no network or secret grant.
    pub fn worker_spec(&self) -> WorkerSpec {
        WorkerSpec {
            name: self.name.clone(),
            kind: self.kind,
            component: self.component.clone(),
            exec: self.exec.clone(),
            limits: self.limits.clone(),
            fs: self.fs.clone(),
            scratch: self.scratch.clone(),
            env: self.env.clone(),
        }
    }
}
