//! The hash chain: how one line is written and what links it to the one before.
//!
//! Every line carries `seq` (1, 2, … along the chain), `ts` (RFC 3339, UTC,
//! milliseconds), `prev` (hex SHA-256 of the previous line's bytes without its
//! newline; 64 zeros before the first line) and `run`, then the event's own
//! fields. Changing, adding, removing or moving a line breaks the link of the
//! line after it; a checkpoint's signature covers the whole chain before it.

use crate::event::Event;
use serde::Serialize;

/// The `prev` of the first line of a chain.
pub const GENESIS: [u8; 32] = [0; 32];

/// Where the chain stands: the last line's `seq` and hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Link {
    pub seq: u64,
    pub hash: [u8; 32],
}

impl Link {
    /// Before the first line of a new chain.
    pub const START: Link = Link {
        seq: 0,
        hash: GENESIS,
    };

    /// The link after `line` (its bytes without the newline), numbered `seq`.
    pub fn after(seq: u64, line: &[u8]) -> Link {
        Link {
            seq,
            hash: hash_line(line),
        }
    }
}

/// SHA-256 of one line's bytes (without its newline).
pub fn hash_line(line: &[u8]) -> [u8; 32] {
    let d = ring::digest::digest(&ring::digest::SHA256, line);
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

#[derive(Serialize)]
struct Line<'a> {
    seq: u64,
    ts: &'a str,
    prev: &'a str,
    run: &'a str,
    #[serde(flatten)]
    event: &'a Event,
}

/// The current time as a line's `ts`.
pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// The line that follows `link`: its text (no newline) and the new link.
pub fn next_line(
    link: Link,
    ts: &str,
    run: &str,
    event: &Event,
) -> Result<(String, Link), serde_json::Error> {
    let seq = link.seq + 1;
    let prev = hex::encode(link.hash);
    let text = serde_json::to_string(&Line {
        seq,
        ts,
        prev: &prev,
        run,
        event,
    })?;
    let next = Link::after(seq, text.as_bytes());
    Ok((text, next))
}

/// The bytes a checkpoint signs: a fixed label, then its `seq`, `ts`, `prev` and
/// `reason`, each on its own line (so it can be checked with any Ed25519 tool).
pub fn checkpoint_message(seq: u64, ts: &str, prev: &str, reason: &str) -> Vec<u8> {
    format!("agentbox audit checkpoint v1\n{seq}\n{ts}\n{prev}\n{reason}\n").into_bytes()
}
