//! The one place where the wasmtime engine is configured.
//!
//! Every security-relevant knob is set explicitly here, from the constant
//! [`SETTINGS`], and `tests::every_knob_is_pinned` reads each back from the built
//! `Config`. Changing a knob means changing the test too, on purpose.

#[cfg(feature = "compiler")]
use std::hash::{Hash, Hasher};
use std::time::Duration;
use wasmtime::{
    Config, Engine, InstanceAllocationStrategy, OptLevel, PoolingAllocationConfig, Strategy,
    WasmFeatures,
};

/// Every proposal that agentbox's guests do not need: each is less-audited engine
/// surface (catalog WASM-05), so each is off and a component using it is refused.
pub const OFF_FEATURES: WasmFeatures = WasmFeatures::THREADS
    .union(WasmFeatures::SHARED_EVERYTHING_THREADS)
    .union(WasmFeatures::MEMORY64)
    .union(WasmFeatures::MULTI_MEMORY)
    .union(WasmFeatures::GC)
    .union(WasmFeatures::FUNCTION_REFERENCES)
    .union(WasmFeatures::EXCEPTIONS)
    .union(WasmFeatures::LEGACY_EXCEPTIONS)
    .union(WasmFeatures::TAIL_CALL)
    .union(WasmFeatures::STACK_SWITCHING)
    .union(WasmFeatures::CUSTOM_PAGE_SIZES)
    .union(WasmFeatures::WIDE_ARITHMETIC)
    .union(WasmFeatures::RELAXED_SIMD)
    .union(WasmFeatures::CM_ASYNC)
    .union(WasmFeatures::CM_MORE_ASYNC_BUILTINS)
    .union(WasmFeatures::CM_ASYNC_STACKFUL)
    .union(WasmFeatures::CM_ERROR_CONTEXT)
    .union(WasmFeatures::CM_GC)
    .union(WasmFeatures::CM64)
    .union(WasmFeatures::CM_FIXED_LENGTH_LISTS)
    .union(WasmFeatures::CM_THREADING)
    .union(WasmFeatures::CM_MAP)
    .union(WasmFeatures::CM_VALUES)
    .union(WasmFeatures::MEMORY_CONTROL)
    .union(WasmFeatures::CUSTOM_DESCRIPTORS);

/// Pinned engine settings (data, asserted by tests).
#[derive(Debug, Clone, Copy)]
pub struct EngineSettings {
    /// Maximum native stack for wasm frames, bytes.
    pub max_wasm_stack: usize,
    /// Host stack for async (fiber) execution; must exceed `max_wasm_stack`.
    pub async_stack_size: usize,
    /// Virtual reservation per linear memory (4 GiB: bounds checks elided by guard pages).
    pub memory_reservation: u64,
    /// Guard region after each linear memory.
    pub memory_guard_size: u64,
    /// Period of the epoch ticker: the granularity of timeouts and CPU sampling.
    pub epoch_tick: Duration,
    /// Pooling allocator: how many component instances may be live at once.
    pub pool_component_instances: u32,
    /// Pooling allocator: linear memories live at once.
    pub pool_memories: u32,
    /// Pooling allocator: tables live at once.
    pub pool_tables: u32,
    /// Pooling allocator: largest memory one instance may grow to.
    pub pool_max_memory_size: usize,
    /// Pooling allocator: elements per table.
    pub pool_table_elements: usize,
}

/// The settings every agentbox engine uses.
pub const SETTINGS: EngineSettings = EngineSettings {
    max_wasm_stack: 1 << 20,
    async_stack_size: 4 << 20,
    memory_reservation: 4 << 30,
    memory_guard_size: 2 << 30,
    epoch_tick: Duration::from_millis(10),
    pool_component_instances: 64,
    pool_memories: 256,
    pool_tables: 512,
    pool_max_memory_size: 4 << 30,
    pool_table_elements: 100_000,
};

/// Bumped whenever anything here changes in a way that affects compiled code.
pub const CONFIG_VERSION: u32 = 1;

/// Why an engine could not be built.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("cannot create the wasmtime engine: {0}")]
    Create(String),
}

/// Builds the pinned configuration. `pooling` selects the pooling allocator
/// (long-lived processes) over on-demand allocation (one-shot runs).
pub fn config(pooling: bool) -> Config {
    let s = SETTINGS;
    let mut c = Config::new();
    // Compiler: Cranelift only (never Winch), optimised, deterministic NaNs not needed.
    // Built without the `compiler` feature (the agentbox-worker binary), this
    // engine has no compiler at all and only loads what one with it compiled.
    #[cfg(feature = "compiler")]
    {
        c.strategy(Strategy::Cranelift);
        c.cranelift_opt_level(OptLevel::Speed);
        c.parallel_compilation(true);
    }
    // Execution model: async so that the host can cancel blocking host calls at the
    // wall-clock deadline; epochs interrupt loops; no fuel (CPU is sampled from the
    // thread's CPU clock at each epoch tick, see `limits`).
    c.epoch_interruption(true);
    c.consume_fuel(false);
    c.max_wasm_stack(s.max_wasm_stack);
    c.async_stack_size(s.async_stack_size);
    c.async_stack_zeroing(true);
    // Memory safety: 4 GiB reservation + 2 GiB guard, guard before memory too,
    // signal-based traps: no bounds check can be miscompiled away silently.
    c.signals_based_traps(true);
    c.memory_reservation(s.memory_reservation);
    c.memory_guard_size(s.memory_guard_size);
    c.memory_reservation_for_growth(0);
    c.guard_before_linear_memory(true);
    c.memory_may_move(false);
    c.memory_init_cow(true);
    c.table_lazy_init(true);
    // Wasm features: exactly what components built by clang, rustc and
    // componentize-py need; every proposal with less-audited engine code is off.
    c.wasm_component_model(true);
    c.wasm_multi_value(true);
    c.wasm_bulk_memory(true);
    c.wasm_features(WasmFeatures::REFERENCE_TYPES, true);
    c.wasm_simd(true);
    // componentize-py's CPython uses extended constant expressions (wasm 3.0).
    c.wasm_extended_const(true);
    c.wasm_features(OFF_FEATURES, false);
    c.concurrency_support(false);
    c.gc_support(false);
    // Diagnostics: backtraces for trap messages; no debug info, no guest debugging.
    c.wasm_backtrace_max_frames(std::num::NonZeroUsize::new(32));
    c.native_unwind_info(true);
    c.debug_info(false);
    if pooling {
        let mut p = PoolingAllocationConfig::new();
        p.total_component_instances(s.pool_component_instances);
        p.total_core_instances(s.pool_component_instances * 32);
        p.total_memories(s.pool_memories);
        p.total_tables(s.pool_tables);
        p.total_stacks(s.pool_component_instances);
        p.max_memory_size(s.pool_max_memory_size);
        p.table_elements(s.pool_table_elements);
        p.max_core_instances_per_component(64);
        p.max_memories_per_component(16);
        p.max_tables_per_component(32);
        p.max_core_instance_size(1 << 20);
        p.max_component_instance_size(1 << 20);
        p.linear_memory_keep_resident(0);
        p.table_keep_resident(0);
        c.allocation_strategy(InstanceAllocationStrategy::Pooling(p));
    } else {
        c.allocation_strategy(InstanceAllocationStrategy::OnDemand);
    }
    c
}

/// Builds an engine from [`config`] that compiles.
#[cfg(feature = "compiler")]
pub fn new_engine(pooling: bool) -> Result<Engine, EngineError> {
    Engine::new(&config(pooling)).map_err(|e| EngineError::Create(format!("{e:#}")))
}

/// An engine from [`config`] that cannot compile, only load what an engine from
/// [`new_engine`] compiled: a worker's (it receives precompiled components and has
/// no use for a compiler). Not building cranelift's compiler makes the engine
/// ~0.1 ms cheaper for every new worker (docs/decisions/32).
pub fn new_runtime_engine(pooling: bool) -> Result<Engine, EngineError> {
    #[cfg_attr(
        not(feature = "compiler"),
        expect(unused_mut, reason = "no compiler to disable")
    )]
    let mut c = config(pooling);
    #[cfg(feature = "compiler")]
    c.enable_compiler(false);
    Engine::new(&c).map_err(|e| EngineError::Create(format!("{e:#}")))
}

/// A stable fingerprint of everything that makes compiled code valid for an engine:
/// wasmtime's own compatibility hash, the wasmtime version and [`CONFIG_VERSION`].
#[cfg(feature = "compiler")]
pub fn fingerprint(engine: &Engine) -> String {
    // DefaultHasher::new() uses fixed keys: stable across processes of one build.
    let mut h = std::hash::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut h);
    CONFIG_VERSION.hash(&mut h);
    format!("w48-{:016x}", h.finish())
}

/// Every way `engine` differs from the pinned configuration (empty: none), read
/// back from the built engine — what wasmtime will actually do. Used by the unit
/// tests and by `agentbox breakout` (WASM-06) on the user's own build.
///
/// `compiler`: the engine compiles (the supervisor's, [`new_engine`]) — with
/// Cranelift at opt level speed — or it has no compiler at all (a worker's,
/// [`new_runtime_engine`]).
pub fn drift(c: &Engine, pooling: bool, compiler: bool) -> Vec<String> {
    let mut d = Vec::new();
    let mut want = |ok: bool, what: &str| {
        if !ok {
            d.push(what.to_string());
        }
    };
    if compiler {
        want(
            c.get_strategy() == Some(Strategy::Cranelift),
            "Cranelift backend (not Winch)",
        );
        want(
            c.get_cranelift_opt_level() == Some(OptLevel::Speed),
            "opt level speed",
        );
    } else {
        want(
            c.get_strategy().is_none(),
            "no compiler (a worker's engine)",
        );
    }
    want(c.get_epoch_interruption(), "epoch interruption on");
    want(!c.get_consume_fuel(), "fuel off");
    want(c.get_max_wasm_stack() == 1 << 20, "max wasm stack 1 MiB");
    want(c.get_async_stack_size() == 4 << 20, "async stack 4 MiB");
    want(
        c.get_async_stack_size() > c.get_max_wasm_stack(),
        "async stack above the wasm stack",
    );
    want(c.get_signals_based_traps(), "signals-based traps on");
    want(
        c.get_memory_reservation() == 4 << 30,
        "4 GiB memory reservation",
    );
    want(c.get_memory_guard_size() == 2 << 30, "2 GiB guard region");
    want(
        c.get_guard_before_linear_memory(),
        "guard before linear memory",
    );
    want(!c.get_memory_may_move(), "memories never move");
    want(!c.get_debug_info(), "no debug info");
    want(c.get_async_stack_zeroing(), "async stacks zeroed");
    want(
        c.get_wasm_backtrace_max_frames() == 32,
        "backtraces capped at 32 frames",
    );
    want(!c.get_shared_memory(), "no shared memory");
    want(
        !c.get_concurrency_support(),
        "no component-model concurrency",
    );
    let f = c.get_wasm_features();
    let on = WasmFeatures::COMPONENT_MODEL
        | WasmFeatures::MULTI_VALUE
        | WasmFeatures::BULK_MEMORY
        | WasmFeatures::REFERENCE_TYPES
        | WasmFeatures::SIMD
        | WasmFeatures::EXTENDED_CONST;
    want(f.contains(on), "required features on");
    for off in OFF_FEATURES.iter() {
        want(!f.contains(off), &format!("feature {off:?} off"));
    }
    want(
        !f.contains(WasmFeatures::THREADS) && !f.contains(WasmFeatures::CM_ASYNC),
        "threads and component-model-async off",
    );
    match (pooling, c.get_pooling_config()) {
        (true, Some(p)) => {
            want(
                p.get_max_memory_size() == SETTINGS.pool_max_memory_size,
                "pool memory size",
            );
            want(
                p.get_total_memories() == SETTINGS.pool_memories,
                "pool memories",
            );
        }
        (false, None) => {}
        _ => want(false, "pooling allocator as requested"),
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_knob_is_pinned() {
        for pooling in [false, true] {
            let e = new_engine(pooling).map_err(|e| e.to_string());
            assert_eq!(e.as_ref().map(|e| drift(e, pooling, true)), Ok(Vec::new()));
            let e = new_runtime_engine(pooling).map_err(|e| e.to_string());
            assert_eq!(e.as_ref().map(|e| drift(e, pooling, false)), Ok(Vec::new()));
            // Each is told apart from the other.
            let e = new_engine(pooling).map_err(|e| e.to_string());
            assert_ne!(e.as_ref().map(|e| drift(e, pooling, false)), Ok(Vec::new()));
        }
    }

    #[test]
    fn a_runtime_engine_loads_what_the_compiling_engine_made_and_compiles_nothing() {
        use wasmtime::component::Component;
        let text = "(component (core module (func (export \"f\"))))";
        let compiling = new_engine(false).unwrap_or_else(|e| panic!("{e}"));
        let bytes = Component::new(&compiling, text)
            .and_then(|c| c.serialize())
            .unwrap_or_else(|e| panic!("{e:#}"));
        for pooling in [false, true] {
            let runtime = new_runtime_engine(pooling).unwrap_or_else(|e| panic!("{e}"));
            assert!(
                crate::artifact::load_serialized(&runtime, &bytes).is_ok(),
                "pooling {pooling}: does not load precompiled bytes"
            );
            assert!(
                Component::new(&runtime, text).is_err(),
                "pooling {pooling}: compiled wasm"
            );
        }
    }

    fn rejects(wat_text: &str) -> String {
        let engine = match new_engine(false) {
            Ok(e) => e,
            Err(e) => panic!("{e}"),
        };
        match wasmtime::Module::new(&engine, wat_text) {
            Ok(_) => panic!("accepted: {wat_text}"),
            Err(e) => format!("{e:#}"),
        }
    }

    #[test]
    fn proposals_off_are_rejected_at_validation() {
        for (what, text) in [
            ("memory64", "(module (memory i64 1))"),
            ("threads", "(module (memory 1 1 shared))"),
            ("multi-memory", "(module (memory 1) (memory 1))"),
            ("tail calls", "(module (func $f return_call $f))"),
            ("exceptions", "(module (tag $t) (func throw $t))"),
            ("gc", "(module (type (struct)))"),
            ("custom page sizes", "(module (memory 1 (pagesize 1)))"),
        ] {
            let e = rejects(text);
            assert!(!e.is_empty(), "{what}");
        }
    }

    #[test]
    fn fingerprint_is_stable() {
        let a = new_engine(false)
            .map(|e| fingerprint(&e))
            .unwrap_or_default();
        let b = new_engine(false)
            .map(|e| fingerprint(&e))
            .unwrap_or_default();
        assert_eq!(a, b);
        assert!(a.starts_with("w48-"));
    }
}
