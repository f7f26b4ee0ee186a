//! Component and module bytes on their way to running code: compiling them (a
//! compile worker, with the `compiler` feature) and loading the artifact a compile
//! worker made (a run worker, which has no compiler).

#[cfg(feature = "compiler")]
use std::path::Path;
use std::path::PathBuf;
use wasmtime::Engine;
use wasmtime::component::Component;

/// Why bytes could not be compiled or loaded: the component's path (or where the
/// bytes came from) and the reason.
#[derive(Debug, thiserror::Error)]
#[error("{}: {reason}", path.display())]
pub struct ArtifactError {
    pub path: PathBuf,
    pub reason: String,
}

/// Compiles component bytes, with clear messages for the usual mistakes.
#[cfg(feature = "compiler")]
pub fn compile(engine: &Engine, path: &Path, bytes: &[u8]) -> Result<Component, ArtifactError> {
    let not = |reason: String| ArtifactError {
        path: path.to_path_buf(),
        reason,
    };
    if bytes.len() < 8 || &bytes[..4] != b"\0asm" {
        return Err(not("is not a WebAssembly binary (no \\0asm header)".into()));
    }
    if wasmparser::Parser::is_core_wasm(bytes) {
        return Err(not("is a core WebAssembly module, not a component; turn it into one with `agentbox pack IN.wasm -o OUT.wasm`".into()));
    }
    if !wasmparser::Parser::is_component(bytes) {
        return Err(not(
            "has an unknown WebAssembly version or layer; expected a component".into(),
        ));
    }
    Component::from_binary(engine, bytes)
        .map_err(|e| not(format!("is not a valid component for agentbox: {e:#}")))
}

/// Precompiles the bytes of a WASI preview1 core module (validating them) for
/// `engine`: what a compile worker does for a core module.
#[cfg(feature = "compiler")]
pub fn precompile_module(
    engine: &Engine,
    path: &Path,
    bytes: &[u8],
) -> Result<Vec<u8>, ArtifactError> {
    let not = |reason: String| ArtifactError {
        path: path.to_path_buf(),
        reason,
    };
    if !wasmparser::Parser::is_core_wasm(bytes) {
        return Err(not("is not a core WebAssembly module".into()));
    }
    engine.precompile_module(bytes).map_err(|e| {
        not(format!(
            "is not a valid WebAssembly module for agentbox: {e:#}"
        ))
    })
}

/// Whether `bytes` are a core WebAssembly module (a WASI preview1 program, run
/// on the preview1 host) rather than a component: the header alone.
pub fn is_core_module(bytes: &[u8]) -> bool {
    wasmparser::Parser::is_core_wasm(bytes)
}

/// Whether `bytes` are a precompiled core module (wasmtime's header), not a
/// precompiled component: how a worker tells which host runs them.
pub fn is_precompiled_module(bytes: &[u8]) -> bool {
    Engine::detect_precompiled(bytes) == Some(wasmtime::Precompiled::Module)
}

/// Loads a core module that the supervisor sent to the worker (or that a compile
/// worker just precompiled, to check that it links).
pub fn load_serialized_module(
    engine: &Engine,
    bytes: &[u8],
) -> Result<wasmtime::Module, ArtifactError> {
    let bad = |reason: String| ArtifactError {
        path: PathBuf::from("<from supervisor>"),
        reason,
    };
    if !is_precompiled_module(bytes) {
        return Err(bad("not a precompiled core module for this engine".into()));
    }
    #[allow(unsafe_code)]
    // SAFETY: as for `load_serialized`: `Module::deserialize` trusts its input to
    // be wasmtime's own output; these bytes come from a confined compile worker,
    // directly or through the content-bound cache, and only workers load them —
    // confined as if the guest had escaped wasm. wasmtime refuses, with an error,
    // bytes made for another engine configuration.
    unsafe { wasmtime::Module::deserialize(engine, bytes) }.map_err(|e| bad(format!("{e:#}")))
}

/// Loads a component that the supervisor compiled and sent over the worker socket.
pub fn load_serialized(engine: &Engine, bytes: &[u8]) -> Result<Component, ArtifactError> {
    let bad = |reason: String| ArtifactError {
        path: PathBuf::from("<from supervisor>"),
        reason,
    };
    if Engine::detect_precompiled(bytes) != Some(wasmtime::Precompiled::Component) {
        return Err(bad("not a precompiled component for this engine".into()));
    }
    #[allow(unsafe_code)]
    // SAFETY: `Component::deserialize` trusts its input to be wasmtime's own
    // output. These bytes come from the supervisor (a sealed memfd on the worker's
    // private socketpair), which got them from a confined compile worker running
    // this same binary's engine configuration, directly or through its cache
    // (whose entries are bound to their content: see `ComponentCache::lookup`).
    // A hostile component that subverted that compile worker could hand us
    // arbitrary native code: running it here is exactly the threat this worker is
    // confined against (the guest is assumed to have escaped wasm). wasmtime still
    // checks the engine configuration and refuses, with an error, what does not
    // match it.
    let component =
        unsafe { Component::deserialize(engine, bytes) }.map_err(|e| bad(format!("{e:#}")))?;
    Ok(component)
}
