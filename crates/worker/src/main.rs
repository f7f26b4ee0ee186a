//! The `agentbox-worker` binary: a run worker and nothing else. The supervisor
//! starts it (from next to `agentbox`) for every invocation; it links no compiler,
//! no egress or secrets code, no TOML or argument parser (a test checks its
//! symbols), so the confined process maps only what running a tool needs.
//!
//! `agentbox-worker --engine-drift` (for the tests; runs nothing) reads back this
//! binary's own engine, built without the compiler feature, against the pinned
//! settings: the same check the unit tests and breakout WASM-06 make on the engine
//! inside `agentbox`.

fn main() {
    if std::env::args_os()
        .nth(1)
        .is_some_and(|a| a == "--engine-drift")
    {
        std::process::exit(engine_drift());
    }
    agentbox_worker::main()
}

fn engine_drift() -> i32 {
    let mut code = 0;
    for pooling in [false, true] {
        match agentbox_host::engine::new_runtime_engine(pooling) {
            Ok(e) => {
                let d = agentbox_host::engine::drift(&e, pooling, false);
                if d.is_empty() {
                    println!("pooling {pooling}: the pinned settings, no compiler");
                } else {
                    eprintln!("pooling {pooling}: drift: {}", d.join("; "));
                    code = 1;
                }
            }
            Err(e) => {
                eprintln!("pooling {pooling}: {e}");
                code = 1;
            }
        }
    }
    code
}
