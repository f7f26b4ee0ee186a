//! agentbox-audit: the audit log — typed events, written as a hash chain with
//! Ed25519-signed checkpoints (audit.md), and the verifier that checks it.
//!
//! Trust zone: supervisor. Every decision the supervisor makes about a tool
//! invocation becomes one typed [`Event`], one JSON line linked to the line before
//! it by its hash. This crate must never store a secret's value (events carry
//! secret *names* only; free text from guests passes through the caller's
//! scrubber before it gets here), never write the signing key anywhere but its
//! own 0600 file, and never leave half a line in the log.

mod baseline;
mod chain;
mod event;
mod key;
mod sink;
pub mod stats;
mod tail;
mod verify;

pub use baseline::{Baseline, ToolBaseline};
pub use chain::{GENESIS, Link, checkpoint_message, hash_line};
pub use event::{Event, FsGrantRecord, GrantsRecord, McpCall, NetGrantRecord};
pub use key::{KeyError, PublicKey, Signer, public_path};
pub use sink::{AuditError, AuditLog, FileOptions, LineTap, Observer};
pub use verify::{Broken, Verified, VerifyError, verify};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_typed_and_numbered() {
        let log = AuditLog::memory("r1");
        let ev = Event::GuestLog {
            level: "info".into(),
            message: "hi".into(),
        };
        assert!(log.record(&ev).is_ok());
        assert!(log.record(&ev).is_ok());
        let lines = log.lines();
        assert_eq!(lines.len(), 2);
        let v: serde_json::Value = serde_json::from_str(&lines[1]).unwrap_or_default();
        assert_eq!(v["seq"], 2);
        assert_eq!(v["event"], "guest_log");
        assert_eq!(v["run"], "r1");
    }
}
