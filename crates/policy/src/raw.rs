//! The manifest exactly as written: serde types with spans, unknown keys refused.

use serde::Deserialize;
use std::collections::BTreeMap;
use toml::Spanned;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawManifest {
    pub version: Spanned<i64>,
    #[serde(default)]
    pub tools: Option<Spanned<BTreeMap<Spanned<String>, Spanned<RawTool>>>>,
    pub monitor: Option<Spanned<RawMonitor>>,
}

/// `[monitor]` (audit.md): rules watched by a long-running `agentbox mcp`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawMonitor {
    pub baseline: Option<Spanned<String>>,
    #[serde(default)]
    pub rules: Vec<Spanned<RawRule>>,
}

/// One `[[monitor.rules]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRule {
    pub when: Spanned<String>,
    pub tools: Option<Spanned<Vec<Spanned<String>>>>,
    #[serde(rename = "do")]
    pub responses: Spanned<Vec<Spanned<String>>>,
    pub rationale: Option<Spanned<String>>,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub(crate) enum RawKind {
    Tool,
    Command,
    Native,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTool {
    pub kind: Option<Spanned<RawKind>>,
    pub component: Option<Spanned<String>>,
    pub sha256: Option<Spanned<String>>,
    pub description: Option<Spanned<String>>,
    pub rationale: Option<Spanned<String>>,
    pub profile: Option<Spanned<String>>,
    pub exec: Option<Spanned<Vec<Spanned<String>>>>,
    pub limits: Option<Spanned<RawLimits>>,
    #[serde(default)]
    pub fs: Vec<Spanned<RawFs>>,
    #[serde(default)]
    pub scratch: Vec<Spanned<RawScratch>>,
    #[serde(default)]
    pub net: Vec<Spanned<RawNet>>,
    #[serde(default)]
    pub secrets: Vec<Spanned<RawSecret>>,
    #[serde(default)]
    pub env: BTreeMap<Spanned<String>, Spanned<String>>,
    pub guards: Option<Spanned<RawGuards>>,
}

/// `[tools.<name>.guards]` (guards.md).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawGuards {
    pub input_schema: Option<Spanned<bool>>,
    pub max_input: Option<Spanned<RawSize>>,
    pub secrets: Option<Spanned<String>>,
    pub pii: Option<Spanned<String>>,
    pub injection: Option<Spanned<String>>,
    pub hidden_text: Option<Spanned<String>>,
    pub pii_types: Option<Spanned<Vec<Spanned<String>>>>,
    pub allow: Option<Spanned<Vec<Spanned<String>>>>,
}

/// A size may be written as a string with a unit or as a plain byte count.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum RawSize {
    Bytes(i64),
    Text(String),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawLimits {
    pub memory: Option<Spanned<RawSize>>,
    pub timeout: Option<Spanned<String>>,
    pub cpu: Option<Spanned<String>>,
    pub output: Option<Spanned<RawSize>>,
    pub http_requests: Option<Spanned<i64>>,
    pub http_bytes: Option<Spanned<RawSize>>,
    pub processes: Option<Spanned<i64>>,
    pub compile_memory: Option<Spanned<RawSize>>,
    pub compile_timeout: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFs {
    pub host: Spanned<String>,
    pub guest: Spanned<String>,
    pub access: Spanned<RawAccess>,
    pub rationale: Spanned<String>,
}

/// Extension: scratch space, an empty size-limited tmpfs per invocation.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawScratch {
    pub guest: Spanned<String>,
    pub size: Spanned<RawSize>,
    pub files: Option<Spanned<i64>>,
    pub rationale: Spanned<String>,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub(crate) enum RawAccess {
    Ro,
    Rw,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawNet {
    pub allow: Spanned<String>,
    pub methods: Option<Spanned<Vec<Spanned<String>>>>,
    pub rationale: Spanned<String>,
    pub private: Option<Spanned<bool>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSecret {
    pub name: Spanned<String>,
    pub allow: Spanned<Vec<Spanned<String>>>,
    pub header: Option<Spanned<String>>,
    pub format: Option<Spanned<String>>,
    pub rationale: Spanned<String>,
}
