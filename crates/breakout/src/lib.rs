//! agentbox-breakout: the bundled breakout suite (`agentbox breakout`). It attacks
//! the sandbox the way a hostile tool would, on the user's own host, through the
//! production supervisor, and shows which layer stopped each attack.
//!
//! Trust zone: supervisor side (it drives a [`agentbox_supervisor::Supervisor`]).
//! It must never contain attack code that runs outside confinement: wasm attacks
//! are components run by the production worker, native attacks live in the separate
//! `agentbox-probe` binary, which confines itself through the production path
//! before it attacks. It must never report a case as passed that it did not run.

pub mod docs;
mod harness;
mod lab;
pub mod net;
pub mod netlab;
mod output;
mod p1;
mod registry;
mod runner;
mod scan;
mod wasm;

pub use registry::{Case, Registry};
pub use runner::{CaseResult, Status};

use std::path::PathBuf;

/// What `agentbox breakout` was asked to do.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub json: bool,
    pub category: Option<String>,
    pub case: Option<String>,
    /// Also run every OS-layer case with one layer at a time (catalog 2.3).
    pub layers: bool,
    /// The native probe binary (default: `agentbox-probe` next to `agentbox`).
    pub probe: Option<PathBuf>,
}

/// Why the suite could not run at all.
#[derive(Debug, thiserror::Error)]
pub enum BreakoutError {
    #[error("unknown category `{0}` (categories: {1})")]
    Category(String, String),
    #[error("unknown case `{0}` (see docs/breakout.md or `agentbox breakout --json`)")]
    Case(String),
    #[error("cannot set up the breakout lab: {0}")]
    Lab(String),
    #[error("the case registry is invalid: {0}")]
    Registry(String),
}

/// Runs the suite; returns the exit status (0 only when nothing escaped and
/// nothing failed).
pub fn main(opts: &Options) -> Result<i32, BreakoutError> {
    let reg = Registry::bundled()?;
    let cases = reg.select(opts.category.as_deref(), opts.case.as_deref())?;
    let lab = lab::Lab::new().map_err(|e| BreakoutError::Lab(e.to_string()))?;
    let probe = opts.probe.clone().or_else(default_probe);
    let mut suite = runner::Suite::new(lab, probe).map_err(BreakoutError::Lab)?;
    // The network cases run in a lab process of their own (its own network
    // namespace), all at once; their results take their place in the order.
    let net_ids: Vec<String> = cases
        .iter()
        .filter(|c| c.kind == "network")
        .map(|c| c.id.clone())
        .collect();
    let mut net_results = if net_ids.is_empty() {
        Vec::new()
    } else {
        net::run_in_lab(&net_ids, suite.probe(), |r| {
            if !opts.json {
                output::progress(r);
            }
        })
    };
    let mut results = Vec::new();
    for case in &cases {
        if case.kind == "network" {
            if let Some(i) = net_results.iter().position(|r| r.id == case.id) {
                results.push(net_results.swap_remove(i));
            }
            continue;
        }
        let r = runner::run_case(&reg, case, &mut suite, opts.layers);
        if !opts.json {
            output::progress(&r);
        }
        results.push(r);
    }
    suite.finish();
    if opts.json {
        println!("{}", output::json(&results, &reg));
    } else {
        print!("{}", output::table(&results, &reg, opts.layers));
    }
    let failed = results.iter().any(|r| r.status == Status::Failed);
    Ok(if failed { 1 } else { 0 })
}

/// `agentbox-probe` installed next to the running `agentbox`.
fn default_probe() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let p = exe.parent()?.join("agentbox-probe");
    p.exists().then_some(p)
}
