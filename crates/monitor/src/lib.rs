//! agentbox-monitor: the watch over a long-running `agentbox mcp` (audit.md
//! "Watching and answering"). `[monitor]` rules are data ([`Rule`]: a
//! condition, the tools it covers, the responses it asks for, a rationale);
//! [`Monitor`] evaluates them live over the audit event stream, with a
//! per-tool [`Baseline`](agentbox_audit::Baseline) to score how far a call
//! strays, and says which rules fired and what to do.
//!
//! Trust zone: supervisor. This crate decides, it never acts: it must never
//! stop, pause or kill anything itself, never touch a secret (a revocation is
//! a secret's *name* handed back to the server), never block or fail the event
//! stream it reads (a rule that cannot be evaluated does not fire), and never
//! read anything but the events and the baseline it is given.

mod engine;
mod rule;
mod score;

pub use engine::{Firing, Monitor};
pub use rule::{Condition, MAX_DURATION, Metric, Response, Rule, glob_match};
pub use score::anomaly;
