//! The MCP server: one handler per client session, sharing the catalog, the
//! supervisor, the audit log and the concurrency limit.

#![allow(deprecated)] // rmcp 3 marks the logging types deprecated (SEP-2577); clients still use them

use crate::catalog::Catalog;
use agentbox_audit::AuditLog;
use agentbox_supervisor::{Cancel, Supervisor};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CustomRequest, CustomResult, ErrorData,
    Implementation, ListToolsResult, LoggingLevel, PaginatedRequestParams, ServerCapabilities,
    ServerConfig, SetLevelRequestParams, Tool,
};
use rmcp::service::{NotificationContext, Peer, RequestContext};
use rmcp::{RoleServer, ServerHandler};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use tokio::sync::Semaphore;
use tokio_util::task::TaskTracker;

/// What every session shares.
pub(crate) struct Shared {
    pub sup: Arc<Supervisor>,
    pub catalog: RwLock<Arc<Catalog>>,
    pub audit: Arc<AuditLog>,
    /// At most `--max-concurrent` invocations at once; more wait their turn.
    pub slots: Semaphore,
    /// Calls at once, and idle workers kept per tool.
    pub max_concurrent: usize,
    /// Cores of this machine.
    pub cores: usize,
    /// Sessions to tell when the tool list changes.
    pub peers: Mutex<Vec<Peer<RoleServer>>>,
    /// Invocations running now (tool, cancel), to cancel at shutdown or when a
    /// monitor rule kills a tool's calls.
    pub inflight: Mutex<HashMap<u64, (String, Cancel)>>,
    pub next_call: AtomicU64,
    /// The blocking tasks that run invocations, waited for at shutdown.
    pub tracker: TaskTracker,
    /// The session id of the stdio transport (HTTP sessions have their own).
    pub stdio_session: String,
    /// The `[monitor]` rules and what their responses changed.
    pub watch: crate::monitor::Watch,
    /// The secret sources (`--secrets`): a monitor rule may revoke one.
    pub secrets: Option<Arc<agentbox_secrets::SecretStore>>,
    /// Cancelled when a monitor rule stops the server.
    pub stop: tokio_util::sync::CancellationToken,
    /// The OTLP exporter (`--otlp`).
    pub exporter: Option<Arc<agentbox_otlp::Exporter>>,
}

impl Shared {
    pub fn catalog(&self) -> Arc<Catalog> {
        self.catalog
            .read()
            .map(|c| c.clone())
            .unwrap_or_else(|p| p.into_inner().clone())
    }

    /// Serves `next` from now on; returns the catalog it replaces (whose pools
    /// go when the last call still using them ends).
    pub fn replace_catalog(&self, next: Catalog) -> Arc<Catalog> {
        let next = Arc::new(next);
        match self.catalog.write() {
            Ok(mut c) => std::mem::replace(&mut *c, next),
            Err(p) => std::mem::replace(&mut *p.into_inner(), next),
        }
    }

    /// Tells every connected session that the tool list changed.
    pub async fn announce_list_changed(&self) {
        let peers: Vec<Peer<RoleServer>> = match self.peers.lock() {
            Ok(mut p) => {
                p.retain(|peer| !peer.is_transport_closed());
                p.clone()
            }
            Err(_) => Vec::new(),
        };
        for peer in peers {
            let _ = peer.notify_tool_list_changed().await;
        }
    }

    /// Cancels every invocation still running.
    pub fn cancel_all(&self) {
        if let Ok(m) = self.inflight.lock() {
            for (_, c) in m.values() {
                c.cancel();
            }
        }
    }

    /// Cancels the invocations of `tool` running now; returns how many.
    pub fn cancel_tool(&self, tool: &str) -> usize {
        match self.inflight.lock() {
            Ok(m) => m
                .values()
                .filter(|(t, _)| t == tool)
                .inspect(|(_, c)| c.cancel())
                .count(),
            Err(_) => 0,
        }
    }
}

/// One client session.
#[derive(Clone)]
pub(crate) struct Session {
    pub shared: Arc<Shared>,
    /// The level the client asked for with `logging/setLevel`; guest log lines
    /// are sent only once it did.
    pub level: Arc<Mutex<Option<LoggingLevel>>>,
}

impl Session {
    pub fn new(shared: Arc<Shared>) -> Self {
        Self {
            shared,
            level: Arc::new(Mutex::new(None)),
        }
    }
}

/// Severity order of MCP's (syslog) levels.
pub(crate) fn rank(l: LoggingLevel) -> u8 {
    match l {
        LoggingLevel::Debug => 0,
        LoggingLevel::Info => 1,
        LoggingLevel::Notice => 2,
        LoggingLevel::Warning => 3,
        LoggingLevel::Error => 4,
        LoggingLevel::Critical => 5,
        LoggingLevel::Alert => 6,
        LoggingLevel::Emergency => 7,
    }
}

impl ServerHandler for Session {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_logging()
                .enable_tools()
                .enable_tool_list_changed()
                .build(),
        )
        .with_server_info(Implementation::new("agentbox", env!("CARGO_PKG_VERSION")))
        .with_instructions(
            "Tools served by agentbox: each call runs confined, with only the grants its manifest gives; a failed call is a result with isError and the reason.",
        )
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let catalog = self.shared.catalog();
        Ok(ListToolsResult::with_all_items(
            catalog.tools.values().map(|e| e.tool.clone()).collect(),
        ))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.shared
            .catalog()
            .tools
            .get(name)
            .map(|e| e.tool.clone())
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        crate::call::call(self, request, context)
            .await
            .map(Into::into)
    }

    async fn set_level(
        &self,
        request: SetLevelRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        if let Ok(mut l) = self.level.lock() {
            *l = Some(request.level);
        }
        Ok(())
    }

    async fn on_initialized(&self, context: NotificationContext<RoleServer>) {
        if let Ok(mut p) = self.shared.peers.lock() {
            p.push(context.peer.clone());
        }
    }

    /// A `tools/call` whose params do not parse reaches here: invalid params
    /// (-32602), as for any other bad call, not "method not found".
    async fn on_custom_request(
        &self,
        request: CustomRequest,
        _context: RequestContext<RoleServer>,
    ) -> Result<CustomResult, ErrorData> {
        if request.method == "tools/call" {
            return Err(ErrorData::invalid_params(
                "tools/call needs params {\"name\": string, \"arguments\": object}",
                None,
            ));
        }
        Err(ErrorData::new(
            rmcp::model::ErrorCode::METHOD_NOT_FOUND,
            format!("method not found: {}", request.method),
            None,
        ))
    }
}

/// Counts calls (ids for the in-flight table).
pub(crate) fn next_id(shared: &Shared) -> u64 {
    shared.next_call.fetch_add(1, Ordering::Relaxed)
}
