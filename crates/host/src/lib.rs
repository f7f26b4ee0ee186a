//! agentbox-host: the wasmtime side of running a tool.
//!
//! Trust zone: worker. Run workers (the `agentbox-worker` binary) and compile
//! workers run this code confined; the supervisor uses only the engine settings
//! (to fingerprint its cache) and the [`ComponentCache`], which stores artifacts
//! as bytes. It owns the engine configuration, compiling and loading artifacts
//! ([`artifact`]), the `bindgen!` of the agentbox WIT, the WASI context built from
//! grants only, and the limits (memory limiter, epoch deadlines, CPU sampling,
//! output caps). Without the `compiler` feature it contains no compiler at all
//! (Cranelift is not linked): what the run worker's binary is built with.
//!
//! It must never decide network or secret policy (host functions that matter are
//! forwarded to a [`Broker`]), never give a guest the host's environment, stdio,
//! sockets or any path that was not granted, and never read manifests.

pub mod artifact;
pub mod bindings;
#[cfg(feature = "compiler")]
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
#[cfg(feature = "compiler")]
pub use cache::{CacheError, CacheStatus, Cached, ComponentCache, Lookup, Source};
pub use engine::{EngineError, SETTINGS};
pub use run::{Ending, Invocation, InvocationResult, LoadError, Prepared, Runtime, truncate_utf8};
pub use state::{BoxFuture, Broker, HttpCounts, level_word};
pub use wasmtime::Engine;
