//! `agentbox audit verify`: walks the chain through one or more files and names
//! the first line that fails, and how.
//!
//! One pass checks every link and signature while streaming; only when a link
//! breaks is the log read again to tell an edit from an insertion, a deletion or
//! a reordering (which needs the lines around the break).

use crate::chain::{self, GENESIS, Link};
use crate::key::PublicKey;
use serde::Deserialize;
use std::borrow::Cow;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

/// How a log fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Broken {
    Edited,
    Inserted,
    Deleted,
    Reordered,
    /// The log ends in the middle of a line, or after a checkpoint that is not
    /// a clean stop.
    Truncated,
    BadSignature,
    /// Lines after the last signed checkpoint (or a log with none): they could
    /// have been rewritten, hashes and all, without a trace.
    Unsigned,
    /// A file could not be read.
    Unreadable,
}

impl Broken {
    pub fn as_str(self) -> &'static str {
        match self {
            Broken::Edited => "edited",
            Broken::Inserted => "inserted",
            Broken::Deleted => "deleted",
            Broken::Reordered => "reordered",
            Broken::Truncated => "truncated",
            Broken::BadSignature => "bad signature",
            Broken::Unsigned => "unsigned",
            Broken::Unreadable => "unreadable",
        }
    }
}

/// The first line that fails.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("seq {seq}: {}: {detail}", how.as_str())]
pub struct VerifyError {
    pub seq: u64,
    pub how: Broken,
    pub detail: String,
}

/// A log that holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// Lines in the chain (checkpoints included).
    pub events: u64,
    pub first_seq: u64,
    pub last_seq: u64,
    /// The last signed checkpoint's seq.
    pub last_checkpoint: Option<u64>,
    /// The key the checkpoints were checked with, hex.
    pub key: Option<String>,
    /// Whether that key was given (`--key`) rather than read from the log.
    pub pinned: bool,
    /// Lines after the last checkpoint, accepted because the log is live.
    pub unsigned_tail: u64,
}

impl std::fmt::Display for Verified {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ok: {} events, chain intact", self.events)?;
        match self.last_checkpoint {
            Some(k) => write!(f, ", last signed checkpoint at seq {k}")?,
            None => write!(f, ", no signed checkpoint")?,
        }
        if self.unsigned_tail > 0 {
            write!(
                f,
                " ({} later events unsigned: live log)",
                self.unsigned_tail
            )?;
        }
        if let Some(k) = &self.key
            && !self.pinned
        {
            write!(
                f,
                "; key {}… read from the log itself: give --key FILE.pub to pin it",
                &k[..16.min(k.len())]
            )?;
        }
        Ok(())
    }
}

/// What verify reads of a line.
#[derive(Deserialize)]
struct Head<'a> {
    seq: u64,
    #[serde(borrow)]
    ts: Cow<'a, str>,
    #[serde(borrow)]
    prev: Cow<'a, str>,
    #[serde(borrow)]
    event: Cow<'a, str>,
    #[serde(borrow, default)]
    reason: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    key: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    sig: Option<Cow<'a, str>>,
}

/// One line as the classifier sees it.
#[derive(Debug, Clone, Copy)]
struct Entry {
    seq: Option<u64>,
    prev: Option<[u8; 32]>,
    hash: [u8; 32],
}

fn parse_prev(p: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(p, &mut out).ok()?;
    Some(out)
}

/// Verifies the chain through `files` (put in order by their first `seq`).
/// `key` pins the signer; `live` accepts lines after the last checkpoint.
pub fn verify(
    files: &[PathBuf],
    key: Option<&PublicKey>,
    live: bool,
) -> Result<Verified, VerifyError> {
    let files = in_order(files)?;
    let mut link: Option<Link> = None;
    let mut first_seq = 0;
    let mut events = 0u64;
    let mut index = 0usize;
    let mut last_checkpoint: Option<(u64, String)> = None;
    let mut last_was_checkpoint = false;
    let mut seen_key: Option<PublicKey> = key.cloned();
    for path in &files {
        let mut reader = open(path)?;
        let mut buf = Vec::new();
        let mut line_no = 0u64;
        loop {
            buf.clear();
            let n = reader
                .read_until(b'\n', &mut buf)
                .map_err(|e| unreadable(path, e))?;
            if n == 0 {
                break;
            }
            line_no += 1;
            let expected = link.unwrap_or(Link::START);
            if buf.last() != Some(&b'\n') {
                return Err(VerifyError {
                    seq: expected.seq + 1,
                    how: Broken::Truncated,
                    detail: format!("{} ends in the middle of line {line_no}", path.display()),
                });
            }
            let line = &buf[..buf.len() - 1];
            let head: Option<Head> = serde_json::from_slice(line).ok();
            let ok_link = head.as_ref().is_some_and(|h| {
                h.seq == expected.seq + 1 && parse_prev(&h.prev) == Some(expected.hash)
            });
            let Some(head) = head.filter(|_| ok_link) else {
                return Err(classify(&files, index, expected));
            };
            if link.is_none() {
                first_seq = head.seq;
            }
            if head.event == "checkpoint" {
                check_signature(&head, &mut seen_key, key.is_some())?;
                last_checkpoint =
                    Some((head.seq, head.reason.as_deref().unwrap_or("").to_string()));
                last_was_checkpoint = true;
            } else {
                last_was_checkpoint = false;
            }
            link = Some(Link::after(head.seq, line));
            events += 1;
            index += 1;
        }
    }
    let last_seq = link.map_or(0, |l| l.seq);
    let unsigned_tail = match &last_checkpoint {
        Some((k, _)) => last_seq - k,
        None => events,
    };
    if !live {
        if events == 0 {
            return Err(VerifyError {
                seq: 1,
                how: Broken::Truncated,
                detail: "the log is empty".into(),
            });
        }
        match &last_checkpoint {
            None => {
                return Err(VerifyError {
                    seq: first_seq,
                    how: Broken::Unsigned,
                    detail: format!(
                        "no signed checkpoint: seq {first_seq}..{last_seq} could have been rewritten, hashes and all (write the log with --audit-key; --live accepts a log still being written)"
                    ),
                });
            }
            Some((k, _)) if !last_was_checkpoint => {
                return Err(VerifyError {
                    seq: k + 1,
                    how: Broken::Unsigned,
                    detail: format!(
                        "seq {}..{last_seq} come after the last signed checkpoint (seq {k}): the log was cut, or is still being written (--live)",
                        k + 1
                    ),
                });
            }
            Some((k, reason)) if reason != "stop" => {
                return Err(VerifyError {
                    seq: k + 1,
                    how: Broken::Truncated,
                    detail: format!(
                        "the log ends at a `{reason}` checkpoint (seq {k}), not a clean stop: what followed is missing{}",
                        if reason == "rotate" {
                            " (the file rotated into was not given)"
                        } else {
                            ""
                        }
                    ),
                });
            }
            Some(_) => {}
        }
    }
    Ok(Verified {
        events,
        first_seq,
        last_seq,
        last_checkpoint: last_checkpoint.map(|(k, _)| k),
        key: seen_key.map(|k| k.hex()),
        pinned: key.is_some(),
        unsigned_tail: if live { unsigned_tail } else { 0 },
    })
}

fn check_signature(
    head: &Head<'_>,
    seen_key: &mut Option<PublicKey>,
    pinned: bool,
) -> Result<(), VerifyError> {
    let bad = |detail: String| VerifyError {
        seq: head.seq,
        how: Broken::BadSignature,
        detail,
    };
    let Some(named) = head.key.as_deref().and_then(PublicKey::from_hex) else {
        return Err(bad("the checkpoint names no valid key".into()));
    };
    let key = match seen_key {
        Some(k) if *k != named => {
            return Err(bad(format!(
                "signed by key {}…, not {} key {}…",
                &named.hex()[..16],
                if pinned {
                    "the given"
                } else {
                    "the log's earlier"
                },
                &k.hex()[..16]
            )));
        }
        Some(k) => k.clone(),
        None => {
            *seen_key = Some(named.clone());
            named
        }
    };
    let msg = chain::checkpoint_message(
        head.seq,
        &head.ts,
        &head.prev,
        head.reason.as_deref().unwrap_or(""),
    );
    if !key.verifies(&msg, head.sig.as_deref().unwrap_or("")) {
        return Err(bad(
            "the chain up to here is not what was signed: a line before it was changed and the later hashes recomputed".into(),
        ));
    }
    Ok(())
}

/// Files ordered by their first `seq` (so `FILE.*` in any order works).
fn in_order(files: &[PathBuf]) -> Result<Vec<PathBuf>, VerifyError> {
    let mut keyed = Vec::with_capacity(files.len());
    for (i, p) in files.iter().enumerate() {
        let mut r = open(p)?;
        let mut first = Vec::new();
        r.read_until(b'\n', &mut first)
            .map_err(|e| unreadable(p, e))?;
        let seq = serde_json::from_slice::<Head>(first.trim_ascii_end())
            .ok()
            .map(|h| h.seq);
        keyed.push((seq.unwrap_or(u64::MAX), i, p.clone()));
    }
    keyed.sort();
    Ok(keyed.into_iter().map(|(_, _, p)| p).collect())
}

fn open(path: &Path) -> Result<BufReader<std::fs::File>, VerifyError> {
    std::fs::File::open(path)
        .map(|f| BufReader::with_capacity(1 << 16, f))
        .map_err(|e| unreadable(path, e))
}

fn unreadable(path: &Path, e: std::io::Error) -> VerifyError {
    VerifyError {
        seq: 0,
        how: Broken::Unreadable,
        detail: format!("{}: {e}", path.display()),
    }
}

/// Every line's seq, prev and hash (read again only when a link broke).
fn entries(files: &[PathBuf]) -> Result<Vec<Entry>, VerifyError> {
    let mut out = Vec::new();
    for path in files {
        let mut reader = open(path)?;
        let mut buf = Vec::new();
        loop {
            buf.clear();
            if reader
                .read_until(b'\n', &mut buf)
                .map_err(|e| unreadable(path, e))?
                == 0
            {
                break;
            }
            let line = buf.strip_suffix(b"\n").unwrap_or(&buf);
            let head: Option<Head> = serde_json::from_slice(line).ok();
            out.push(Entry {
                seq: head.as_ref().map(|h| h.seq),
                prev: head.as_ref().and_then(|h| parse_prev(&h.prev)),
                hash: chain::hash_line(line),
            });
        }
    }
    Ok(out)
}

/// Why the line at `i` does not follow `expected` (the link after line `i - 1`).
fn classify(files: &[PathBuf], i: usize, expected: Link) -> VerifyError {
    let all = match entries(files) {
        Ok(a) => a,
        Err(e) => return e,
    };
    let want = expected.seq + 1;
    let err = |seq, how, detail: String| VerifyError { seq, how, detail };
    let Some(line) = all.get(i).copied() else {
        return err(
            want,
            Broken::Edited,
            "the log changed while it was read".into(),
        );
    };
    let Some(seq) = line.seq else {
        return err(want, Broken::Edited, "the line is not an audit line".into());
    };
    let links_back = line.prev == Some(expected.hash);
    // Its link is right, so its own seq field was changed.
    if links_back {
        return err(want, Broken::Edited, format!("the line reads seq {seq}"));
    }
    // A copy of another line.
    if let Some(j) = all
        .iter()
        .enumerate()
        .position(|(j, e)| j != i && e.hash == line.hash)
    {
        let of = all[j].seq.unwrap_or(0);
        return err(
            seq,
            Broken::Inserted,
            format!("a copy of the line at seq {of}"),
        );
    }
    // It shares its parent with the line before: that one was added.
    if i > 0 && line.prev.is_some() && line.prev == all[i - 1].prev {
        return err(
            expected.seq,
            Broken::Inserted,
            format!(
                "two lines follow seq {}: the one before this was added",
                expected.seq.saturating_sub(1)
            ),
        );
    }
    // It follows another line of the log: it was moved.
    if let Some(prev) = line.prev
        && prev != GENESIS
        && all
            .iter()
            .enumerate()
            .any(|(j, e)| j + 1 != i && e.hash == prev)
    {
        return err(
            want,
            Broken::Reordered,
            format!("seq {seq} stands where seq {want} should"),
        );
    }
    // The chain goes on around it: it was added.
    if all
        .get(i + 1)
        .is_some_and(|n| n.prev == Some(expected.hash))
    {
        return err(
            seq,
            Broken::Inserted,
            format!(
                "a line claiming seq {seq} was added after seq {}",
                expected.seq
            ),
        );
    }
    if seq > want {
        let what = if seq == want + 1 {
            format!("seq {want} is missing")
        } else {
            format!("seq {want}..{} are missing", seq - 1)
        };
        return err(
            want,
            Broken::Deleted,
            if expected.seq == 0 && expected.hash == GENESIS {
                format!(
                    "the chain starts at seq {seq}: {what} (deleted, or their rotated files not given)"
                )
            } else {
                what
            },
        );
    }
    if seq < want {
        return err(
            seq,
            Broken::Reordered,
            format!("it comes after seq {}", expected.seq),
        );
    }
    if expected.seq == 0 {
        return err(
            seq,
            Broken::Edited,
            "the first line does not start a chain".into(),
        );
    }
    err(
        expected.seq,
        Broken::Edited,
        format!("its hash is not the one seq {want} records"),
    )
}
