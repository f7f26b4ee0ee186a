//! Link flags for the `agentbox` binary: packed relative relocations and a
//! statically linked unwinder (crates/worker/link_flags.rs says why).

include!("../worker/link_flags.rs");

fn main() {
    link_flags();
}
