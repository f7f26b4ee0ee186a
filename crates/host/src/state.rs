//! Per-invocation store data and the host side of the agentbox imports.

use crate::bindings::agentbox::tool::{http, log};
use crate::limiter::Limiter;
use agentbox_ipc::LogLevel;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

/// A boxed future, for the object-safe [`Broker`].
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Where host functions that matter go: the supervisor's decision point.
///
/// The host crate never decides policy for these calls itself; it forwards them.
/// Whether the broker is in-process or across the worker socket is invisible here.
pub trait Broker: Send + Sync {
    /// An outbound HTTP request from the guest.
    fn fetch(
        &self,
        request: http::Request,
    ) -> BoxFuture<'_, Result<http::Response, http::HttpError>>;
    /// A log line from the guest.
    fn log(&self, level: log::Level, message: String);
}

/// The word for a guest log level.
pub fn level_word(level: log::Level) -> LogLevel {
    match level {
        log::Level::Debug => LogLevel::Debug,
        log::Level::Info => LogLevel::Info,
        log::Level::Warn => LogLevel::Warn,
        log::Level::Error => LogLevel::Error,
    }
}

/// Counters of one invocation's host calls.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct HttpCounts {
    pub allowed: u32,
    pub denied: u32,
}

/// Why the epoch callback stopped the guest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interrupt {
    WallClock,
    Cpu,
}

/// Deadlines checked at every epoch tick.
#[derive(Debug)]
pub(crate) struct Deadlines {
    pub started: Instant,
    pub timeout: Duration,
    pub cpu_start: Option<Duration>,
    pub cpu_limit: Duration,
    pub fired: Option<Interrupt>,
}

/// Everything a store holds for one invocation.
pub struct HostState {
    pub(crate) wasi: WasiCtx,
    pub(crate) table: ResourceTable,
    pub(crate) limiter: Limiter,
    pub(crate) broker: Arc<dyn Broker>,
    pub(crate) http: HttpCounts,
    pub(crate) deadlines: Deadlines,
    /// Bytes of log messages accepted, so a guest cannot flood the audit log.
    pub(crate) log_bytes: u64,
    pub(crate) log_cap: u64,
    /// `wasi:http`: its context, and hooks that send every request to the broker.
    pub(crate) http_ctx: WasiHttpCtx,
    pub(crate) http_hooks: crate::wasi_http::BrokerHooks,
}

impl std::fmt::Debug for HostState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostState")
            .field("http", &self.http)
            .finish_non_exhaustive()
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for HostState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http_ctx,
            table: &mut self.table,
            hooks: &mut self.http_hooks,
        }
    }
}

impl http::Host for HostState {
    async fn fetch(
        &mut self,
        request: http::Request,
    ) -> wasmtime::Result<Result<http::Response, http::HttpError>> {
        let result = self.broker.fetch(request).await;
        match &result {
            Ok(_) => self.http.allowed += 1,
            Err(_) => self.http.denied += 1,
        }
        Ok(result)
    }
}

impl log::Host for HostState {
    async fn log(&mut self, level: log::Level, message: String) -> wasmtime::Result<()> {
        // Bounded: a guest may not grow the audit log without limit.
        let len = message.len() as u64;
        if self.log_bytes.saturating_add(len) > self.log_cap {
            return Ok(());
        }
        self.log_bytes += len;
        self.broker.log(level, message);
        Ok(())
    }
}
