//! agentbox-audit: typed audit events and the JSONL sink they are written to.
//!
//! Trust zone: supervisor. Every decision the supervisor makes about a tool
//! invocation becomes one typed [`Event`]; the sink writes one JSON object per line.
//! This crate must never store a secret's value: events carry secret *names* only,
//! and free text from guests passes through the caller's scrubber before it gets
//! here. (Hash chaining and signing come later; the event shape already has `seq`.)

use serde::Serialize;
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

/// One filesystem grant as recorded at run start.
#[derive(Debug, Clone, Serialize)]
pub struct FsGrantRecord {
    pub host: String,
    pub guest: String,
    pub access: String,
}

/// One network grant as recorded at run start.
#[derive(Debug, Clone, Serialize)]
pub struct NetGrantRecord {
    pub allow: String,
    pub methods: Vec<String>,
    pub private: bool,
}

/// What a run was granted, as recorded at run start (names, never secret values).
#[derive(Debug, Clone, Serialize)]
pub struct GrantsRecord {
    pub fs: Vec<FsGrantRecord>,
    pub net: Vec<NetGrantRecord>,
    pub secrets: Vec<String>,
    pub env: Vec<String>,
    pub limits: serde_json::Value,
}

/// Which MCP request an invocation answers: the session and the JSON-RPC id,
/// as the client sent it.
#[derive(Debug, Clone, Serialize)]
pub struct McpCall {
    pub session: String,
    pub request: String,
}

/// The typed events of one invocation.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    RunStart {
        tool: String,
        kind: String,
        manifest: String,
        manifest_sha256: String,
        component_sha256: Option<String>,
        profile: String,
        grants: Box<GrantsRecord>,
        /// Weakened modes the operator asked for (named as dangerous), if any.
        dangerous: Vec<String>,
        /// The MCP call this invocation answers (`agentbox mcp` only).
        #[serde(skip_serializing_if = "Option::is_none")]
        mcp: Option<McpCall>,
    },
    /// The compile cache was consulted.
    ComponentLoaded { sha256: String, cache: String },
    /// A compile-cache entry failed verification (its content does not match
    /// what its header binds it to, or the file is not trusted): it was removed
    /// and the component compiled again.
    CacheRejected { sha256: String, reason: String },
    /// A host call that matters, and what was decided.
    HostCall {
        interface: String,
        function: String,
        decision: String,
        reason: String,
        target: Option<String>,
    },
    /// One outbound HTTP request or redirect hop, decided by the supervisor: the
    /// rule that allowed it or the reason it was denied. Never a header value or a
    /// query string.
    HttpRequest {
        method: String,
        target: String,
        decision: String,
        reason: String,
        address: Option<String>,
        status: Option<u16>,
        redirect: u32,
    },
    /// A secret was put into a request: its name and destination, and how many
    /// requests of this run carried it so far. Never the value.
    SecretUse {
        name: String,
        destination: String,
        uses: u32,
    },
    /// A log line from the guest (already scrubbed by the caller).
    GuestLog { level: String, message: String },
    /// An output guard's decision on what the tool returned (guards.md): the
    /// finding's kind, type, where it is and how sure, and what was done —
    /// never the matched text.
    Guard {
        /// `output`, `tool_error`, `stdout` or `stderr`.
        stream: String,
        kind: String,
        #[serde(rename = "type")]
        ty: String,
        /// JSON pointer of the string, when the output is JSON.
        #[serde(skip_serializing_if = "Option::is_none")]
        path: Option<String>,
        start: usize,
        end: usize,
        score: f64,
        action: String,
    },
    RunEnd {
        outcome: String,
        detail: String,
        limit: Option<String>,
        /// Every limit enforced during the run, including one the guest survived
        /// (a refused `memory.grow`) and the one that ended it, if any.
        limits_hit: Vec<String>,
        exit_code: Option<i32>,
        duration_ms: f64,
    },
}

#[derive(Serialize)]
struct Line<'a> {
    seq: u64,
    ts_ms: u128,
    run: &'a str,
    #[serde(flatten)]
    event: &'a Event,
}

/// Why the audit log could not be written.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("cannot open audit log {}: {source}", path.display())]
    Open {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write audit log: {0}")]
    Write(std::io::Error),
}

struct SinkState {
    out: Option<BufWriter<File>>,
    seq: u64,
    /// Lines kept in memory (a memory log's only copy).
    keep: bool,
    memory: Vec<String>,
}

/// Where events go: a JSONL file (mode 0600, appended), or memory (tests,
/// reports, `describe`). A long-running server keeps one log and records each
/// invocation through a view of it ([`AuditLog::for_run`]).
pub struct AuditLog {
    run: String,
    state: Arc<Mutex<SinkState>>,
}

impl std::fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditLog")
            .field("run", &self.run)
            .finish_non_exhaustive()
    }
}

impl AuditLog {
    /// A log that keeps events in memory only.
    pub fn memory(run: &str) -> Self {
        Self {
            run: run.to_string(),
            state: Arc::new(Mutex::new(SinkState {
                out: None,
                seq: 0,
                keep: true,
                memory: Vec::new(),
            })),
        }
    }

    /// A log that records nothing (a server run without `--audit`, which says so).
    pub fn discard(run: &str) -> Self {
        let log = Self::memory(run);
        if let Ok(mut st) = log.state.lock() {
            st.keep = false;
        }
        log
    }

    /// A log appended to `path` (created with mode 0600).
    pub fn file(path: &Path, run: &str) -> Result<Self, AuditError> {
        let f = OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(path)
            .map_err(|source| AuditError::Open {
                path: path.to_path_buf(),
                source,
            })?;
        Ok(Self {
            run: run.to_string(),
            state: Arc::new(Mutex::new(SinkState {
                out: Some(BufWriter::new(f)),
                seq: 0,
                keep: false,
                memory: Vec::new(),
            })),
        })
    }

    /// The same log, its lines naming another run (one invocation of many that a
    /// server records into one file; `seq` runs on across them).
    pub fn for_run(&self, run: &str) -> Self {
        Self {
            run: run.to_string(),
            state: self.state.clone(),
        }
    }

    /// Records one event. Write failures are returned, and remembered by the caller.
    pub fn record(&self, event: &Event) -> Result<(), AuditError> {
        let Ok(mut st) = self.state.lock() else {
            return Err(AuditError::Write(std::io::Error::other(
                "audit log lock poisoned",
            )));
        };
        st.seq += 1;
        if st.out.is_none() && !st.keep {
            // A log that records nothing (`discard`): not even serialised.
            return Ok(());
        }
        let ts_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0);
        let line = Line {
            seq: st.seq,
            ts_ms,
            run: &self.run,
            event,
        };
        let text = serde_json::to_string(&line)
            .map_err(|e| AuditError::Write(std::io::Error::other(e)))?;
        let keep = st.keep;
        match st.out.as_mut() {
            Some(out) => {
                out.write_all(text.as_bytes()).map_err(AuditError::Write)?;
                out.write_all(b"\n").map_err(AuditError::Write)?;
            }
            // Only a memory log keeps its lines: a file log of a long-running
            // server must not grow in memory too.
            None if keep => st.memory.push(text),
            None => {}
        }
        Ok(())
    }

    /// Writes buffered lines to the file without waiting for the disk (a server
    /// answering many calls a second syncs on a timer and at exit instead).
    pub fn write_out(&self) -> Result<(), AuditError> {
        let Ok(mut st) = self.state.lock() else {
            return Ok(());
        };
        if let Some(out) = st.out.as_mut() {
            out.flush().map_err(AuditError::Write)?;
        }
        Ok(())
    }

    /// Flushes buffered lines to the file and syncs it.
    pub fn flush(&self) -> Result<(), AuditError> {
        let Ok(mut st) = self.state.lock() else {
            return Ok(());
        };
        if let Some(out) = st.out.as_mut() {
            out.flush().map_err(AuditError::Write)?;
            out.get_ref().sync_data().map_err(AuditError::Write)?;
        }
        Ok(())
    }

    /// The JSON lines recorded so far (a memory log; a file log keeps none).
    pub fn lines(&self) -> Vec<String> {
        self.state
            .lock()
            .map(|s| s.memory.clone())
            .unwrap_or_default()
    }
}

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
