//! agentbox-probe: the breakout suite's native probe. It plays a tool that has
//! escaped wasm (catalog threat T5): started by the supervisor in place of the
//! worker, it confines itself through the production path
//! (`agentbox_confine::entry::start_confined`, the very function the worker runs),
//! then makes one attack attempt and reports what the kernel answered.
//!
//! It must never attack unconfined: run by hand it only lists its attempts
//! (`--list`), and without a supervisor socket on fd 3 it stops before doing
//! anything. It is a separate binary: the `agentbox` binary contains no attack code.

#![allow(unsafe_code)]

mod attacks;

use agentbox_ipc::{ToSupervisor, WorkerResult};

fn main() {
    let argv: Vec<String> = std::env::args().collect();
    if argv.get(1).map(String::as_str) == Some("--list") {
        let list = attacks::catalog();
        println!("{}", serde_json::to_string(&list).unwrap_or_default());
        return;
    }
    let (start, ch) = match agentbox_confine::entry::start_confined() {
        Ok(x) => x,
        Err(agentbox_confine::entry::EntryError::Refused(_)) => std::process::exit(125),
        Err(e) => {
            eprintln!("agentbox-probe: {e}");
            std::process::exit(125)
        }
    };
    // Confined, exactly as a worker. Now attack.
    let (verdict, ch) = attacks::run(&start, ch);
    let result = WorkerResult {
        outcome: agentbox_ipc::Outcome::Ok,
        limit: None,
        exit_code: Some(0),
        detail: String::new(),
        output: None,
        tool_error: None,
        stdout: serde_json::to_vec(&verdict).unwrap_or_default(),
        stderr: Vec::new(),
        unusable_component: false,
        limits_hit: Vec::new(),
    };
    if let Some(mut ch) = ch {
        let _ = ch.send(&ToSupervisor::Done(Box::new(result)));
    }
    std::process::exit(0)
}
