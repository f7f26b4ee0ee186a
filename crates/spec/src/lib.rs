//! agentbox-spec: what a worker is told about the one tool it runs — its kind, its
//! limits, the directories, scratch spaces and environment it may see
//! ([`WorkerSpec`]) — and the units those are written in.
//!
//! Trust zone: both (pure data). The supervisor resolves these values from a
//! manifest (`agentbox-policy`) and sends them; the worker enforces them. This crate
//! must never parse a manifest (no TOML), do I/O, or carry a network or secret
//! grant: those are enforced by the supervisor alone, and a worker is never told
//! them.

pub mod units;

use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::time::Duration;

/// What kind of program a tool is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ToolKind {
    /// A component exporting `describe` and `call` (world `agentbox:tool/tool`).
    Tool,
    /// A component exporting `wasi:cli/run`.
    Command,
    /// A native program run under OS confinement only.
    Native,
}

impl ToolKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Tool => "tool",
            Self::Command => "command",
            Self::Native => "native",
        }
    }
}

/// Directory access.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Access {
    Ro,
    Rw,
}

impl Access {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ro => "ro",
            Self::Rw => "rw",
        }
    }
}

/// Limits of one invocation. Every field has a small default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    pub memory: u64,
    pub timeout: Duration,
    pub cpu: Duration,
    pub output: u64,
    pub http_requests: u32,
    pub http_bytes: u64,
    pub processes: u32,
    /// Extension: memory of the confined compile worker that validates and
    /// compiles the component on a cache miss (its memory cgroup).
    pub compile_memory: u64,
    /// Extension: wall clock for that compile worker (CPU: twice this, as
    /// compilation runs on two threads).
    pub compile_timeout: Duration,
}

/// A directory granted to a tool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FsGrant {
    /// Canonical host path (symlinks resolved once, at load).
    pub host: PathBuf,
    /// The name the guest knows the directory by (its WASI preopen's name), normalized:
    /// an absolute path (also where it lies inside the sandbox), `/` (wasm tools
    /// only), or a relative name such as `data` (wasm tools only) — see
    /// [`FsGrant::mount_point`].
    pub guest: String,
    pub access: Access,
    pub rationale: String,
}

/// Where grants named `/` or by a relative name are mounted inside the sandbox
/// (their preopen keeps its name); no absolute guest path may lie under it.
pub const PREOPEN_MOUNTS: &str = "/.agentbox-preopen";

impl FsGrant {
    /// Where the directory is mounted inside the sandbox. An absolute guest path
    /// is its own mount point; `/` and relative names (which wasm guests see only
    /// as preopen names: WASI has no other view of the filesystem) are mounted
    /// under [`PREOPEN_MOUNTS`] (`/` as `root`, `data` as `rel/data`).
    pub fn mount_point(&self) -> String {
        mount_point(&self.guest)
    }
}

/// See [`FsGrant::mount_point`].
pub fn mount_point(guest: &str) -> String {
    if guest == "/" {
        format!("{PREOPEN_MOUNTS}/root")
    } else if guest.starts_with('/') {
        guest.to_string()
    } else {
        format!("{PREOPEN_MOUNTS}/rel/{guest}")
    }
}

/// Extension: scratch space granted to a tool (`[[tools.<name>.scratch]]`): an
/// empty tmpfs of at most `size` bytes and `files` inodes, at `guest`, fresh for
/// every invocation and discarded after it. Nothing of it reaches the host's disk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScratchGrant {
    /// Absolute, normalized path inside the sandbox.
    pub guest: String,
    pub size: u64,
    pub files: u64,
    pub rationale: String,
}

/// A plain environment variable for the guest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvVar {
    pub name: String,
    pub value: String,
}

/// Everything a worker needs to know about its tool, and nothing more: no network
/// or secret grant (the supervisor serves those host calls and decides them
/// itself), no rationale, no manifest path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkerSpec {
    pub name: String,
    pub kind: ToolKind,
    /// The component's host path, only to word error messages (kinds tool and
    /// command); its bytes travel separately.
    pub component: Option<PathBuf>,
    /// Native argv (kind native).
    pub exec: Vec<String>,
    pub limits: Limits,
    pub fs: Vec<FsGrant>,
    /// Extension: scratch spaces (empty, size-limited, per invocation).
    pub scratch: Vec<ScratchGrant>,
    pub env: Vec<EnvVar>,
}
