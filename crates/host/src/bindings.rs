//! Rust bindings of the `agentbox:tool` WIT world (the project's copy under `wit/`).

wasmtime::component::bindgen!({
    path: "../../wit",
    world: "agentbox:tool/tool",
    imports: { default: async | trappable },
    exports: { default: async },
});
