//! agentbox-host: the wasmtime side of running a tool.
//!
//! Trust zone: worker (today it runs inside the supervisor process; the OS-confined
//! worker process comes next and will run exactly this code). It owns the engine
//! configuration, the precompiled component cache, the `bindgen!` of the agentbox
//! WIT, the WASI context built from grants only, and the limits (memory limiter,
//! epoch deadlines, CPU sampling, output caps).
//!
//! It must never decide network or secret policy (host functions that matter are
//! forwarded to a [`Broker`]), never give a guest the host's environment, stdio,
//! sockets or any path that was not granted, and never read manifests.

pub mod bindings;
pub mod cache;
pub mod engine;
mod limiter;
pub mod module;
mod output;
mod run;
mod state;
mod ticker;
mod wasi_http;
pub mod wire;

pub use bindings::agentbox::tool::{http, log};
pub use cache::{CacheError, CacheStatus, Cached, ComponentCache, Lookup, Source};
pub use engine::{EngineError, SETTINGS};
pub use run::{
    Invocation, InvocationResult, LimitKind, LoadError, Outcome, Prepared, Runtime, truncate_utf8,
};
pub use state::{BoxFuture, Broker, HttpCounts, level_name};
