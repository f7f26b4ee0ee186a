//! Where lines go: a file (mode 0600, appended, chained, signed, rotated) or
//! memory (tests, reports, `describe`).
//!
//! Each line reaches the file in one `write` under an exclusive `flock`, so
//! several processes may append to one log: before writing, a writer that finds
//! the file longer than it left it (or replaced by a rotation) reads the last
//! line again and continues the chain from there. A write that fails is cut back
//! off the file (`set_len`), so a full disk never leaves half a line behind.
//! Lines are in the kernel's page cache once `record` returns; `sync` puts them
//! on disk (`agentbox run` at its end, `agentbox mcp` every second and at exit).

use crate::chain::{self, Link};
use crate::event::Event;
use crate::key::Signer;
use crate::tail;
use nix::fcntl::{Flock, FlockArg};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A checkpoint after this many unsigned lines…
const CHECKPOINT_EVERY: u64 = 1000;
/// …or at a `sync` once the oldest unsigned line is this old.
const CHECKPOINT_AFTER: Duration = Duration::from_secs(10);

/// Why the audit log could not be written.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("cannot open audit log {}: {source}", path.display())]
    Open {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("audit log {}: {what}; check it with `agentbox audit verify`, or move it aside to start a new log", path.display())]
    Damaged { path: PathBuf, what: String },
    #[error("cannot write audit log: {0}")]
    Write(std::io::Error),
    #[error(transparent)]
    Key(#[from] crate::key::KeyError),
}

/// How a file log is kept.
#[derive(Debug, Default)]
pub struct FileOptions {
    /// Signs checkpoints (`--audit-key`); without it the chain is unsigned.
    pub signer: Option<Signer>,
    /// Rotates the file once it reaches this many bytes: it becomes
    /// `FILE.1`, `FILE.2`, … and the chain continues in a new `FILE`.
    pub rotate_bytes: Option<u64>,
}

struct FileOut {
    path: PathBuf,
    file: Option<File>,
    ino: u64,
    /// The file's length after this writer's last line.
    end: u64,
    rotate_bytes: Option<u64>,
    /// Handed each line once it is in the file (the OTLP exporter's queue).
    taps: Vec<LineTap>,
}

/// Takes each line written to a file log, in `seq` order, right after it was
/// written (under the log's lock): it must only queue it, never block.
pub type LineTap = Arc<dyn Fn(&str) + Send + Sync>;

enum Out {
    File(FileOut),
    /// Lines kept in memory (a memory log's only copy), or none (`discard`).
    Memory {
        keep: bool,
        lines: Vec<String>,
    },
}

struct State {
    link: Link,
    out: Out,
    signer: Option<Arc<Signer>>,
    unsigned: u64,
    oldest_unsigned: Option<Instant>,
    /// Lines written since this writer's last `stop` checkpoint (a periodic one
    /// does not end a log: `verify` wants a finished log to end with a stop).
    since_stop: bool,
    /// A write failed: every later one fails too, so no line follows a gap.
    failed: Option<String>,
}

/// The audit log. A long-running server keeps one and records each invocation
/// through a view of it ([`AuditLog::for_run`]).
pub struct AuditLog {
    run: String,
    state: Arc<Mutex<State>>,
    observer: Arc<Mutex<Option<Observer>>>,
}

/// Hears every event recorded, after it is in the log (the monitor's feed). It
/// runs on the recording thread: it must hand the event on, never block, and
/// never record into the same log.
pub type Observer = Arc<dyn Fn(&str, &Event) + Send + Sync>;

impl std::fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditLog")
            .field("run", &self.run)
            .finish_non_exhaustive()
    }
}

impl AuditLog {
    fn with(run: &str, out: Out, link: Link, signer: Option<Signer>) -> Self {
        Self {
            run: run.to_string(),
            state: Arc::new(Mutex::new(State {
                link,
                out,
                signer: signer.map(Arc::new),
                unsigned: 0,
                oldest_unsigned: None,
                since_stop: false,
                failed: None,
            })),
            observer: Arc::new(Mutex::new(None)),
        }
    }

    /// A log that keeps its lines in memory only.
    pub fn memory(run: &str) -> Self {
        Self::with(
            run,
            Out::Memory {
                keep: true,
                lines: Vec::new(),
            },
            Link::START,
            None,
        )
    }

    /// A log that records nothing (a server run without `--audit`, which says so).
    pub fn discard(run: &str) -> Self {
        Self::with(
            run,
            Out::Memory {
                keep: false,
                lines: Vec::new(),
            },
            Link::START,
            None,
        )
    }

    /// A log appended to `path`, unsigned and never rotated.
    pub fn file(path: &Path, run: &str) -> Result<Self, AuditError> {
        Self::open(path, run, FileOptions::default())
    }

    /// A log appended to `path` (created with mode 0600): the chain continues
    /// from the file's last line, or from the last rotated file's.
    pub fn open(path: &Path, run: &str, opts: FileOptions) -> Result<Self, AuditError> {
        let (file, ino, end) = open_file(path)?;
        let link = match tail::last_link(&file, end).map_err(|what| damaged(path, what))? {
            Some(l) => l,
            None => tail::rotated_link(path).map_err(|what| damaged(path, what))?,
        };
        let out = Out::File(FileOut {
            path: path.to_path_buf(),
            file: Some(file),
            ino,
            end,
            rotate_bytes: opts.rotate_bytes,
            taps: Vec::new(),
        });
        Ok(Self::with(run, out, link, opts.signer))
    }

    /// The same log, its lines naming another run (one invocation of many that a
    /// server records into one file; `seq` runs on across them).
    pub fn for_run(&self, run: &str) -> Self {
        Self {
            run: run.to_string(),
            state: self.state.clone(),
            observer: self.observer.clone(),
        }
    }

    /// From now on `tap` gets every line written to this file log (a memory log
    /// has no file: nothing is tapped).
    pub fn tap_lines(&self, tap: LineTap) {
        if let Ok(mut st) = self.state.lock()
            && let Out::File(f) = &mut st.out
        {
            f.taps.push(tap);
        }
    }

    /// No observer from now on (the one there is dropped, with what it holds).
    pub fn unobserve(&self) {
        if let Ok(mut o) = self.observer.lock() {
            *o = None;
        }
    }

    /// From now on `observer` hears every event this log (and every view of it)
    /// records, with the run it belongs to.
    pub fn observe(&self, observer: Observer) {
        if let Ok(mut o) = self.observer.lock() {
            *o = Some(observer);
        }
    }

    /// Records one event: on return it is in the file (not yet necessarily on
    /// disk). An error means it is not, and no later event will be either.
    pub fn record(&self, event: &Event) -> Result<(), AuditError> {
        {
            let mut st = self.lock()?;
            st.append(&self.run, event)?;
            if st.unsigned >= CHECKPOINT_EVERY {
                st.checkpoint(&self.run, "periodic")?;
            }
        }
        let observer = self.observer.lock().ok().and_then(|o| o.clone());
        if let Some(observe) = observer {
            observe(&self.run, event);
        }
        Ok(())
    }

    /// Puts what was written on disk, signing the chain first when its oldest
    /// unsigned line is a while old.
    pub fn sync(&self) -> Result<(), AuditError> {
        let mut st = self.lock()?;
        if st
            .oldest_unsigned
            .is_some_and(|t| t.elapsed() >= CHECKPOINT_AFTER)
        {
            st.checkpoint(&self.run, "periodic")?;
        }
        st.sync()
    }

    /// A clean stop: signs the chain (when there is a key and this writer wrote
    /// anything since its last stop) and puts it on disk.
    pub fn close(&self) -> Result<(), AuditError> {
        let mut st = self.lock()?;
        if st.since_stop {
            st.checkpoint(&self.run, "stop")?;
        }
        st.sync()
    }

    /// Why writing failed, once it has (every later write fails too).
    pub fn failure(&self) -> Option<String> {
        self.state.lock().ok().and_then(|st| st.failed.clone())
    }

    /// The JSON lines recorded so far (a memory log; a file log keeps none).
    pub fn lines(&self) -> Vec<String> {
        match self.state.lock() {
            Ok(st) => match &st.out {
                Out::Memory { lines, .. } => lines.clone(),
                Out::File(_) => Vec::new(),
            },
            Err(_) => Vec::new(),
        }
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, State>, AuditError> {
        self.state
            .lock()
            .map_err(|_| AuditError::Write(std::io::Error::other("audit log lock poisoned")))
    }
}

impl State {
    fn append(&mut self, run: &str, event: &Event) -> Result<(), AuditError> {
        if let Some(why) = &self.failed {
            return Err(AuditError::Write(std::io::Error::other(format!(
                "an earlier write failed ({why})"
            ))));
        }
        let result = match &mut self.out {
            Out::Memory { keep: false, .. } => {
                // Records nothing: not even serialised.
                self.link.seq += 1;
                return Ok(());
            }
            Out::Memory { keep: true, lines } => {
                line_for(self.link, run, event, self.signer.as_deref()).map(|(text, link)| {
                    lines.push(text);
                    link
                })
            }
            Out::File(f) => f.append(&mut self.link, run, event, self.signer.as_deref()),
        };
        match result {
            Ok(link) => {
                self.link = link;
                self.since_stop =
                    !matches!(event, Event::Checkpoint { reason, .. } if reason == "stop");
                if self.signer.is_some() && !matches!(event, Event::Checkpoint { .. }) {
                    self.unsigned += 1;
                    self.oldest_unsigned.get_or_insert_with(Instant::now);
                }
                Ok(())
            }
            Err(e) => {
                self.failed = Some(e.to_string());
                Err(e)
            }
        }
    }

    fn checkpoint(&mut self, run: &str, reason: &str) -> Result<(), AuditError> {
        if self.signer.is_none() {
            return Ok(());
        }
        // Signed when its line is made: the chain's end and time are known then.
        let request = Event::Checkpoint {
            reason: reason.into(),
            key: String::new(),
            sig: String::new(),
        };
        self.append(run, &request)?;
        self.unsigned = 0;
        self.oldest_unsigned = None;
        Ok(())
    }

    fn sync(&mut self) -> Result<(), AuditError> {
        if let Out::File(f) = &self.out
            && let Some(file) = &f.file
            && let Err(e) = file.sync_data()
        {
            self.failed.get_or_insert_with(|| e.to_string());
            return Err(AuditError::Write(e));
        }
        Ok(())
    }
}

/// A checkpoint signing the chain up to `link`, timed `ts`.
fn checkpoint_event(signer: &Signer, link: Link, ts: &str, reason: &str) -> Event {
    let msg = chain::checkpoint_message(link.seq + 1, ts, &hex::encode(link.hash), reason);
    Event::Checkpoint {
        reason: reason.into(),
        key: signer.public_hex().to_string(),
        sig: signer.sign_hex(&msg),
    }
}

/// The line after `link`, timed now. A checkpoint is signed here, over the
/// chain's end and the time its own line carries.
fn line_for(
    link: Link,
    run: &str,
    event: &Event,
    signer: Option<&Signer>,
) -> Result<(String, Link), AuditError> {
    let ts = chain::now();
    let signed;
    let event = match (event, signer) {
        (Event::Checkpoint { reason, .. }, Some(s)) => {
            signed = checkpoint_event(s, link, &ts, reason);
            &signed
        }
        _ => event,
    };
    chain::next_line(link, &ts, run, event).map_err(|e| AuditError::Write(std::io::Error::other(e)))
}

impl FileOut {
    /// Appends one line under the file lock, continuing whatever chain the file
    /// now ends with; rotates first when the file is full.
    fn append(
        &mut self,
        link: &mut Link,
        run: &str,
        event: &Event,
        signer: Option<&Signer>,
    ) -> Result<Link, AuditError> {
        let file = self
            .file
            .take()
            .ok_or_else(|| AuditError::Write(std::io::Error::other("audit log closed")))?;
        let mut locked = match Flock::lock(file, FlockArg::LockExclusive) {
            Ok(l) => l,
            Err((file, errno)) => {
                self.file = Some(file);
                return Err(AuditError::Write(errno.into()));
            }
        };
        let result = self.append_locked(&mut locked, link, run, event, signer);
        match locked.unlock() {
            Ok(f) => self.file = Some(f),
            Err((locked, errno)) => {
                // Closing the file drops the lock as well; open it again.
                drop(locked);
                match open_file(&self.path) {
                    Ok((f, ino, end)) => {
                        self.file = Some(f);
                        self.ino = ino;
                        self.end = end;
                    }
                    Err(_) => return Err(AuditError::Write(errno.into())),
                }
            }
        }
        result
    }

    fn append_locked(
        &mut self,
        file: &mut File,
        link: &mut Link,
        run: &str,
        event: &Event,
        signer: Option<&Signer>,
    ) -> Result<Link, AuditError> {
        self.catch_up(file, link)?;
        if let Some(max) = self.rotate_bytes
            && self.end >= max
        {
            self.rotate(file, link, run, signer)?;
        }
        let (text, next_link) = line_for(*link, run, event, signer)?;
        self.write_line(file, &text)?;
        Ok(next_link)
    }

    /// Another writer appended (or rotated the file) since this one last wrote:
    /// continue from the chain's real end.
    fn catch_up(&mut self, file: &mut File, link: &mut Link) -> Result<(), AuditError> {
        let len = file.metadata().map_err(AuditError::Write)?.len();
        // Nobody wrote since this writer did, so nobody rotated either (every
        // writer of one log is expected to rotate it alike: a rotation is seen
        // here when it wrote a `rotate` checkpoint, or by a writer that rotates).
        if len == self.end && self.rotate_bytes.is_none() {
            return Ok(());
        }
        let now = match std::fs::metadata(&self.path) {
            Ok(m) => Some(m.ino()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(AuditError::Write(e)),
        };
        if now != Some(self.ino) {
            // Rotated away by another writer: take up the new file.
            let (new, ino, end) = open_file(&self.path)?;
            let _ = std::mem::replace(file, new);
            self.ino = ino;
            self.end = end;
            *link = match tail::last_link(file, end).map_err(|w| damaged(&self.path, w))? {
                Some(l) => l,
                None => tail::rotated_link(&self.path).map_err(|w| damaged(&self.path, w))?,
            };
            return Ok(());
        }
        if len != self.end {
            self.end = len;
            if let Some(l) = tail::last_link(file, len).map_err(|w| damaged(&self.path, w))? {
                *link = l;
            }
        }
        Ok(())
    }

    /// Closes this file with a `rotate` checkpoint and moves it to the next free
    /// `FILE.N`; the chain continues in a new, empty `FILE`.
    fn rotate(
        &mut self,
        file: &mut File,
        link: &mut Link,
        run: &str,
        signer: Option<&Signer>,
    ) -> Result<(), AuditError> {
        if signer.is_some() {
            let request = Event::Checkpoint {
                reason: "rotate".into(),
                key: String::new(),
                sig: String::new(),
            };
            let (text, next_link) = line_for(*link, run, &request, signer)?;
            self.write_line(file, &text)?;
            *link = next_link;
        }
        file.sync_data().map_err(AuditError::Write)?;
        let n = tail::rotated_files(&self.path)
            .last()
            .map_or(1, |(n, _)| n + 1);
        let mut to = self.path.as_os_str().to_owned();
        to.push(format!(".{n}"));
        std::fs::rename(&self.path, &to).map_err(AuditError::Write)?;
        let (new, ino, end) = open_file(&self.path)?;
        let _ = std::mem::replace(file, new);
        self.ino = ino;
        self.end = end;
        Ok(())
    }

    /// One line in one write; a write that fails is cut back off the file.
    fn write_line(&mut self, file: &mut File, text: &str) -> Result<(), AuditError> {
        let mut buf = Vec::with_capacity(text.len() + 1);
        buf.extend_from_slice(text.as_bytes());
        buf.push(b'\n');
        if let Err(e) = file.write_all(&buf) {
            let _ = file.set_len(self.end);
            return Err(AuditError::Write(e));
        }
        self.end += buf.len() as u64;
        for tap in &self.taps {
            tap(text);
        }
        Ok(())
    }
}

fn open_file(path: &Path) -> Result<(File, u64, u64), AuditError> {
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .read(true)
        .mode(0o600)
        .open(path)
        .map_err(|source| AuditError::Open {
            path: path.to_path_buf(),
            source,
        })?;
    let meta = file.metadata().map_err(|source| AuditError::Open {
        path: path.to_path_buf(),
        source,
    })?;
    Ok((file, meta.ino(), meta.len()))
}

fn damaged(path: &Path, what: String) -> AuditError {
    AuditError::Damaged {
        path: path.to_path_buf(),
        what,
    }
}
