//! The egress tests' network of their own: the breakout suite's lab
//! (`agentbox_breakout::netlab`), entered with a private `/etc/resolv.conf` and a
//! DNS responder so that the system resolver path is exercised too.
#![allow(dead_code)]

pub use agentbox_breakout::netlab::*;

/// Enters the lab's namespaces (must be called first in `main`, while the process
/// is single-threaded) and returns the real uid.
pub fn enter() -> u32 {
    let uid = agentbox_breakout::netlab::enter(true).expect("enter the network lab");
    // agentbox inside sees uid 0: point it at the user's delegated cgroup.
    if uid != 0 && std::env::var_os("AGENTBOX_CGROUP_PARENT").is_none() {
        set_env("AGENTBOX_CGROUP_PARENT", &format!("agentbox-{uid}"));
    }
    uid
}

#[allow(unsafe_code)]
fn set_env(k: &str, v: &str) {
    // SAFETY: called only from `enter`, while the process is single-threaded.
    unsafe { std::env::set_var(k, v) };
}
