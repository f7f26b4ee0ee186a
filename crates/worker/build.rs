//! Link flags for the `agentbox-worker` binary, the same as `agentbox`'s: packed
//! relative relocations and a statically linked unwinder (link_flags.rs says why).

include!("link_flags.rs");

fn main() {
    link_flags();
}
