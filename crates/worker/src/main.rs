//! The `agentbox-worker` binary: a run worker and nothing else. The supervisor
//! starts it (from next to `agentbox`) for every invocation; it links no compiler,
//! no egress or secrets code, no TOML or argument parser (a test checks its
//! symbols), so the confined process maps only what running a tool needs.

fn main() {
    agentbox_worker::main()
}
