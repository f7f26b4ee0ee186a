//! WASI preview1 core modules, run directly on wasmtime-wasi's preview1 host
//! (`wasmtime_wasi::p1`), as `wasmtime run` runs them — not through the preview1
//! component adapter, which reports only exit statuses 0 and 1 and traps on some
//! argument and environment layouts.
//!
//! A core module is only ever kind `command`: it must export `_start` and its
//! memory, and import nothing but `wasi_snapshot_preview1`. It gets exactly what a
//! component gets: the WASI context built from the grants ([`build_wasi`]), the
//! memory limiter, the epoch deadlines (wall clock and CPU) and the capped
//! stdout/stderr; none of agentbox's own imports (http, log) exist for it.

use crate::engine::SETTINGS;
use crate::limiter::Limiter;
use crate::output::CappedOutput;
use crate::run::{Ended, GuestEnd, Invocation, InvocationResult, LoadError, build_wasi};
use crate::state::Deadlines;
use agentbox_spec::{ToolKind, WorkerSpec};
use std::time::Instant;
use wasmtime::{Engine, InstancePre, Linker, Module, Store};
use wasmtime_wasi::p1::WasiP1Ctx;

/// The module import every preview1 program uses.
pub const PREVIEW1: &str = "wasi_snapshot_preview1";

/// Store data of one core-module invocation.
pub struct P1State {
    wasi: WasiP1Ctx,
    limiter: Limiter,
    deadlines: Deadlines,
}

impl std::fmt::Debug for P1State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("P1State").finish_non_exhaustive()
    }
}

/// A core module linked against the preview1 host, ready for fresh instances.
#[derive(Clone)]
pub struct ModulePre(InstancePre<P1State>);

impl std::fmt::Debug for ModulePre {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ModulePre")
    }
}

/// Links `module` as `kind`: only kind command, only preview1 imports, and the
/// `_start` and `memory` exports a preview1 command has.
pub fn prepare(engine: &Engine, module: &Module, kind: ToolKind) -> Result<ModulePre, LoadError> {
    if kind != ToolKind::Command {
        return Err(LoadError::WrongShape {
            kind: "tool (world agentbox:tool/tool@0.1.0: exports describe and call)",
            reason: "it is a WASI preview1 core module, which agentbox runs only as kind \"command\"; \
                     for a tool, turn a reactor module into a component with `agentbox pack IN.wasm -o OUT.wasm`"
                .into(),
        });
    }
    let shape = |reason: String| LoadError::WrongShape {
        kind: "command (a WASI preview1 core module exporting _start and memory)",
        reason,
    };
    if let Some(i) = module.imports().find(|i| i.module() != PREVIEW1) {
        return Err(shape(format!(
            "it imports `{}::{}`; a core module may import only {PREVIEW1}",
            i.module(),
            i.name()
        )));
    }
    match module.get_export("_start") {
        Some(wasmtime::ExternType::Func(f)) if f.params().len() == 0 && f.results().len() == 0 => {}
        Some(_) => {
            return Err(shape(
                "its `_start` export is not a function () -> ()".into(),
            ));
        }
        None => return Err(shape("it exports no `_start` function".into())),
    }
    if !matches!(
        module.get_export("memory"),
        Some(wasmtime::ExternType::Memory(_))
    ) {
        return Err(shape("it exports no `memory`".into()));
    }
    let mut linker = Linker::<P1State>::new(engine);
    wasmtime_wasi::p1::add_to_linker_async(&mut linker, |s| &mut s.wasi)
        .map_err(|e| LoadError::Link(format!("{e:#}")))?;
    let pre = linker
        .instantiate_pre(module)
        .map_err(|e| LoadError::Link(format!("{e:#}")))?;
    Ok(ModulePre(pre))
}

/// Runs one invocation of a core module in a fresh instance, under the tool's
/// limits; exit statuses are the program's own (`proc_exit`).
pub(crate) async fn invoke(
    engine: &Engine,
    pre: &ModulePre,
    spec: &WorkerSpec,
    inv: &Invocation,
    describe: bool,
) -> InvocationResult {
    crate::ticker::ensure(engine);
    let started = Instant::now();
    let limits = &spec.limits;
    let stdout = CappedOutput::new(limits.output);
    let stderr = CappedOutput::new(limits.output);
    let mut result = InvocationResult::pending();
    if describe {
        result.detail = "a core module has no describe (it is kind command)".into();
        return result;
    }
    let wasi = match build_wasi(spec, inv, &stdout, &stderr) {
        Ok(mut b) => b.build_p1(),
        Err(e) => {
            result.detail = e;
            result.duration = started.elapsed();
            return result;
        }
    };
    let state = P1State {
        wasi,
        limiter: Limiter::new(limits.memory),
        deadlines: Deadlines {
            started,
            timeout: limits.timeout,
            cpu_start: None,
            cpu_limit: limits.cpu,
            fired: None,
        },
    };
    let mut store = Store::new(engine, state);
    store.limiter(|s| &mut s.limiter);
    crate::run::arm_deadlines(&mut store, |s| &mut s.deadlines);
    // As for components: the wall-clock deadline also cancels a guest blocked in
    // a host call.
    let slack = SETTINGS.epoch_tick * 5;
    let ran = tokio::time::timeout(limits.timeout + slack, run_start(pre, &mut store)).await;
    let data = store.data();
    Ended {
        deadlines: &data.deadlines,
        limiter: &data.limiter,
        limits,
        stdout: &stdout,
        stderr: &stderr,
    }
    .settle(&mut result, ran, started);
    result
}

/// Instantiates and calls `_start`, as `wasmtime run` does: returning from it is
/// status 0, `proc_exit(n)` is status n.
async fn run_start(pre: &ModulePre, store: &mut Store<P1State>) -> wasmtime::Result<GuestEnd> {
    let instance = pre.0.instantiate_async(&mut *store).await?;
    let start = instance.get_typed_func::<(), ()>(&mut *store, "_start")?;
    match start.call_async(&mut *store, ()).await {
        Ok(()) => Ok(GuestEnd::Exit(0)),
        Err(e) => match e.downcast_ref::<wasmtime_wasi::I32Exit>() {
            Some(exit) => Ok(GuestEnd::Exit(exit.0)),
            None => Err(e),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn engine() -> Engine {
        crate::engine::new_engine(false).unwrap_or_else(|e| panic!("{e}"))
    }

    fn module(e: &Engine, text: &str) -> Module {
        Module::new(e, text).unwrap_or_else(|e| panic!("{e:#}"))
    }

    const HELLO: &str = r#"(module
        (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
        (memory (export "memory") 1)
        (func (export "_start") (call $exit (i32.const 42))))"#;

    #[test]
    fn only_kind_command_only_preview1_imports_and_a_start() {
        let e = engine();
        assert!(prepare(&e, &module(&e, HELLO), ToolKind::Command).is_ok());
        let tool = prepare(&e, &module(&e, HELLO), ToolKind::Tool).err();
        assert!(
            matches!(tool, Some(LoadError::WrongShape { .. })),
            "{tool:?}"
        );
        let other = r#"(module (import "env" "f" (func))
            (memory (export "memory") 1) (func (export "_start")))"#;
        let err = prepare(&e, &module(&e, other), ToolKind::Command).err();
        assert!(format!("{err:?}").contains("env::f"), "{err:?}");
        let no_start = r#"(module (memory (export "memory") 1))"#;
        let err = prepare(&e, &module(&e, no_start), ToolKind::Command).err();
        assert!(format!("{err:?}").contains("_start"), "{err:?}");
        let unknown = r#"(module (import "wasi_snapshot_preview1" "no_such_call" (func))
            (memory (export "memory") 1) (func (export "_start")))"#;
        let err = prepare(&e, &module(&e, unknown), ToolKind::Command).err();
        assert!(matches!(err, Some(LoadError::Link(_))), "{err:?}");
    }
}
