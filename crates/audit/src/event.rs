//! The typed events of an invocation, as the audit log records them (docs/cli.md).

use serde::Serialize;

/// One filesystem grant as recorded at run start.
#[derive(Debug, Clone, Serialize)]
pub struct FsGrantRecord {
    pub host: String,
    pub guest: String,
    pub access: String,
}

/// One network grant as recorded at run start.
#[derive(Debug, Clone, Serialize)]
pub struct NetGrantRecord {
    pub allow: String,
    pub methods: Vec<String>,
    pub private: bool,
}

/// What a run was granted, as recorded at run start (names, never secret values).
#[derive(Debug, Clone, Serialize)]
pub struct GrantsRecord {
    pub fs: Vec<FsGrantRecord>,
    pub net: Vec<NetGrantRecord>,
    pub secrets: Vec<String>,
    pub env: Vec<String>,
    pub limits: serde_json::Value,
}

/// Which MCP request an invocation answers: the session and the JSON-RPC id,
/// as the client sent it.
#[derive(Debug, Clone, Serialize)]
pub struct McpCall {
    pub session: String,
    pub request: String,
}

/// The typed events of one invocation.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    RunStart {
        tool: String,
        kind: String,
        manifest: String,
        manifest_sha256: String,
        component_sha256: Option<String>,
        profile: String,
        grants: Box<GrantsRecord>,
        /// Weakened modes the operator asked for (named as dangerous), if any.
        dangerous: Vec<String>,
        /// The MCP call this invocation answers (`agentbox mcp` only).
        #[serde(skip_serializing_if = "Option::is_none")]
        mcp: Option<McpCall>,
    },
    /// The compile cache was consulted.
    ComponentLoaded { sha256: String, cache: String },
    /// A compile-cache entry failed verification (its content does not match
    /// what its header binds it to, or the file is not trusted): it was removed
    /// and the component compiled again.
    CacheRejected { sha256: String, reason: String },
    /// A host call that matters, and what was decided.
    HostCall {
        interface: String,
        function: String,
        decision: String,
        reason: String,
        target: Option<String>,
    },
    /// One outbound HTTP request or redirect hop, decided by the supervisor: the
    /// rule that allowed it or the reason it was denied. Never a header value or a
    /// query string.
    HttpRequest {
        method: String,
        target: String,
        decision: String,
        reason: String,
        address: Option<String>,
        status: Option<u16>,
        redirect: u32,
        /// Request body bytes sent (on the guest's own request, when allowed).
        #[serde(skip_serializing_if = "Option::is_none")]
        bytes_sent: Option<u64>,
        /// Response body bytes handed back (on the hop that answered).
        #[serde(skip_serializing_if = "Option::is_none")]
        bytes_received: Option<u64>,
    },
    /// A secret was put into a request: its name and destination, and how many
    /// requests of this run carried it so far. Never the value.
    SecretUse {
        name: String,
        destination: String,
        uses: u32,
    },
    /// A log line from the guest (already scrubbed by the caller).
    GuestLog { level: String, message: String },
    /// An output guard's decision on what the tool returned (guards.md): the
    /// finding's kind, type, where it is and how sure, and what was done —
    /// never the matched text.
    Guard {
        /// `output`, `tool_error`, `stdout` or `stderr`.
        stream: String,
        kind: String,
        #[serde(rename = "type")]
        ty: String,
        /// JSON pointer of the string, when the output is JSON.
        #[serde(skip_serializing_if = "Option::is_none")]
        path: Option<String>,
        start: usize,
        end: usize,
        score: f64,
        action: String,
    },
    /// The chain so far, signed (audit.md): written every so often, before a
    /// file is rotated away and at every clean stop. The signature covers this
    /// line's `seq`, `ts` and `prev` (so every line before it) and `reason`;
    /// `key` is the signer's public key (hex), `sig` the Ed25519 signature (hex).
    Checkpoint {
        /// `periodic`, `rotate` or `stop`.
        reason: String,
        key: String,
        sig: String,
    },
    /// A `[monitor]` rule fired (audit.md): which rule, for which tool and
    /// invocation, what was seen, and the responses it asks for.
    MonitorFired {
        /// 1-based position among the manifest's `[[monitor.rules]]`.
        rule: usize,
        line: usize,
        when: String,
        tool: String,
        /// The invocation whose event made it fire.
        trigger: String,
        detail: String,
        responses: Vec<String>,
    },
    /// A call to a tool a rule paused, answered `isError` without a worker: no
    /// invocation ran, so this is not a run; it names the rule and the request.
    MonitorRefused {
        rule: usize,
        tool: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        mcp: Option<McpCall>,
        detail: String,
    },
    /// One response taken for a rule that fired: `alert`, `pause 10m`,
    /// `revoke NAME`, `kill` (with how many invocations) or `stop`.
    MonitorResponse {
        rule: usize,
        tool: String,
        response: String,
        detail: String,
    },
    /// Lines the OTLP exporter could not send (its queue was full while the
    /// receiver was away, or the receiver refused them): how many since the last
    /// such event, and why. The file still holds every one of them.
    ExportDropped { count: u64, reason: String },
    RunEnd {
        outcome: String,
        detail: String,
        limit: Option<String>,
        /// Every limit enforced during the run, including one the guest survived
        /// (a refused `memory.grow`) and the one that ended it, if any.
        limits_hit: Vec<String>,
        exit_code: Option<i32>,
        duration_ms: f64,
    },
}
