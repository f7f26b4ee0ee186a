//! agentbox-ipc: the supervisor↔worker protocol.
//!
//! Trust zone: both sides; the supervisor treats every frame from a worker as
//! hostile. Messages are intent-named serde types, encoded with postcard, framed as
//! `magic(4) version(u16) length(u32) payload`, each frame bounded. The socket is a
//! `socketpair(AF_UNIX, SOCK_STREAM)` whose worker end is fd 3 in the worker.
//!
//! This crate must never decide policy: it moves typed requests and answers, and
//! rejects anything malformed, oversized or unexpected with a typed error.

mod spawn;

pub use spawn::{
    Namespaces, SpawnError, SpawnOptions, Spawning, WORKER_FD, WorkerProcess, pidfd_signal,
    spawn_worker, worker_channel,
};

use agentbox_policy::ToolSpec;
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::time::Duration;

/// Frame magic: "ABX" + protocol generation.
pub const MAGIC: [u8; 4] = *b"ABX1";
/// Protocol version; both sides must agree exactly.
pub const VERSION: u16 = 1;
/// Largest frame either side accepts, except the start frame.
pub const MAX_FRAME: usize = 16 << 20;
/// Largest start frame, and largest component frame after it.
pub const MAX_START_FRAME: usize = 512 << 20;

/// How the worker must confine itself.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ConfineSpec {
    /// Profile name: `wasm-worker` or `native`.
    pub profile: String,
    /// Layers the operator disabled with a flag named as dangerous (none normally).
    pub disabled_layers: Vec<String>,
    /// Namespace ids of the supervisor, to compare with the worker's (report).
    pub supervisor_ns: Vec<(String, u64)>,
    /// The profile's sandbox layout (parsed by the supervisor: the worker reads no TOML).
    pub sandbox: agentbox_profiles::SandboxProfile,
    /// The profile's seccomp filters, compiled to BPF by the supervisor.
    pub seccomp: agentbox_profiles::SeccompBpf,
    /// Breakout suite only (LL-14, SUP-04): make this confinement step fail, to
    /// show the worker refuses to run. Can only make confinement fail, never skip it.
    #[serde(default)]
    pub inject_fault: Option<String>,
}

/// One invocation's input.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct InvocationMsg {
    pub describe: bool,
    pub input: String,
    pub args: Vec<String>,
    #[serde(with = "serde_bytes")]
    pub stdin: Vec<u8>,
}

/// Everything a worker needs, sent once.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Start {
    pub spec: ToolSpec,
    pub invocation: InvocationMsg,
    /// Length of the precompiled component (wasmtime's serialized form), which
    /// follows this message as one raw frame of exactly that length (none for
    /// native tools): received straight into its buffer, never re-encoded.
    pub component_len: u64,
    /// The component, once received (see [`Channel::recv_raw`]); not encoded.
    #[serde(skip)]
    pub component: Vec<u8>,
    pub confine: ConfineSpec,
    /// Pooled worker: after the first invocation, serve `Invoke` messages (each in
    /// a fresh instance) until `Shutdown` or the socket closes.
    pub pooled: bool,
}

/// An outbound HTTP request, as the guest made it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct HttpRequest {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    #[serde(with = "serde_bytes")]
    pub body: Option<Vec<u8>>,
    pub timeout_ms: Option<u32>,
}

/// The answer to an HTTP request.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub enum HttpReply {
    Response {
        status: u16,
        headers: Vec<(String, String)>,
        #[serde(with = "serde_bytes")]
        body: Vec<u8>,
    },
    Denied(String),
    InvalidRequest(String),
    Timeout,
    TooLarge,
    Transport(String),
}

/// What the worker found actually enforced, read back from the kernel.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct ConfinementReport {
    /// Namespaces whose id differs from the supervisor's.
    pub namespaces: Vec<String>,
    pub landlock_abi: Option<u32>,
    /// `fully_enforced`, `partially_enforced` or `not_enforced`.
    pub landlock_status: String,
    /// The seccomp profile applied, with `Seccomp:` from /proc/self/status (2 = filter).
    pub seccomp: Option<String>,
    pub seccomp_mode: u32,
    pub no_new_privs: bool,
    /// Capabilities left in the effective, permitted, bounding, inheritable and
    /// ambient sets (all should be 0).
    pub cap_eff: u64,
    pub cap_prm: u64,
    pub cap_bnd: u64,
    pub cap_inh: u64,
    pub cap_amb: u64,
    /// Fds left open in the worker besides stdio.
    pub open_fds: Vec<i32>,
    pub pid_in_namespace: i32,
}

/// How the guest part of an invocation ended (mirrors the host's outcome).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct WorkerResult {
    /// `ok`, `tool_error`, `exit`, `timeout`, `limit`, `trap`, `error`.
    pub outcome: String,
    pub limit: Option<String>,
    pub exit_code: Option<i32>,
    pub detail: String,
    pub output: Option<String>,
    pub tool_error: Option<String>,
    #[serde(with = "serde_bytes")]
    pub stdout: Vec<u8>,
    #[serde(with = "serde_bytes")]
    pub stderr: Vec<u8>,
    /// The worker could not load (deserialize) the component it was sent at all:
    /// nothing of the tool ran. After a cache hit the supervisor then drops that
    /// entry, compiles the component again and retries once.
    pub unusable_component: bool,
}

/// Supervisor → worker.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum ToWorker {
    Start(Box<Start>),
    HttpReply(HttpReply),
    /// Pooled workers: one more invocation, in a fresh instance.
    Invoke(InvocationMsg),
    /// Pooled workers: exit.
    Shutdown,
}

/// Worker → supervisor.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum ToSupervisor {
    /// Confinement is complete; guest code may now run.
    Ready(ConfinementReport),
    /// The guest asks for an HTTP request.
    Fetch(HttpRequest),
    /// A log line from the guest.
    Log { level: String, message: String },
    /// The invocation ended.
    Done(Box<WorkerResult>),
    /// Confinement could not be set up; nothing ran.
    SetupFailed { step: String, message: String },
}

/// Why a frame could not be sent or received.
#[derive(Debug, thiserror::Error)]
pub enum IpcError {
    #[error("the peer closed the channel")]
    Closed,
    #[error("timed out waiting for the peer")]
    TimedOut,
    #[error("bad frame magic {0:02x?}")]
    BadMagic([u8; 4]),
    #[error("protocol version {0}, expected {VERSION}")]
    BadVersion(u16),
    #[error("frame of {size} bytes is over the limit of {max}")]
    TooLarge { size: usize, max: usize },
    #[error("malformed message: {0}")]
    Decode(String),
    #[error("cannot encode message: {0}")]
    Encode(String),
    #[error("i/o error on the channel: {0}")]
    Io(std::io::Error),
}

impl From<std::io::Error> for IpcError {
    fn from(e: std::io::Error) -> Self {
        match e.kind() {
            std::io::ErrorKind::UnexpectedEof
            | std::io::ErrorKind::BrokenPipe
            | std::io::ErrorKind::ConnectionReset => Self::Closed,
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => Self::TimedOut,
            _ => Self::Io(e),
        }
    }
}

/// One end of the supervisor↔worker socket.
#[derive(Debug)]
pub struct Channel {
    stream: UnixStream,
    /// Busy-wait this long for the next frame before blocking (latency of hot
    /// request/response paths; a blocking wake-up costs tens of microseconds).
    spin: Duration,
}

/// Encodes one frame (exposed for fuzzing and tests).
pub fn encode<T: Serialize>(msg: &T) -> Result<Vec<u8>, IpcError> {
    let payload = postcard::to_stdvec(msg).map_err(|e| IpcError::Encode(e.to_string()))?;
    let len = u32::try_from(payload.len()).map_err(|_| IpcError::TooLarge {
        size: payload.len(),
        max: u32::MAX as usize,
    })?;
    let mut frame = Vec::with_capacity(10 + payload.len());
    frame.extend_from_slice(&MAGIC);
    frame.extend_from_slice(&VERSION.to_le_bytes());
    frame.extend_from_slice(&len.to_le_bytes());
    frame.extend_from_slice(&payload);
    Ok(frame)
}

/// Parses a frame header; returns the payload length.
pub fn decode_header(header: &[u8; 10], max: usize) -> Result<usize, IpcError> {
    let mut magic = [0u8; 4];
    magic.copy_from_slice(&header[..4]);
    if magic != MAGIC {
        return Err(IpcError::BadMagic(magic));
    }
    let version = u16::from_le_bytes([header[4], header[5]]);
    if version != VERSION {
        return Err(IpcError::BadVersion(version));
    }
    let len = u32::from_le_bytes([header[6], header[7], header[8], header[9]]) as usize;
    if len > max {
        return Err(IpcError::TooLarge { size: len, max });
    }
    Ok(len)
}

/// Decodes one whole frame (header and payload), e.g. for fuzzing.
pub fn decode<T: DeserializeOwned>(frame: &[u8], max: usize) -> Result<T, IpcError> {
    let header: &[u8; 10] = frame
        .get(..10)
        .and_then(|h| h.try_into().ok())
        .ok_or(IpcError::Closed)?;
    let len = decode_header(header, max)?;
    let payload = frame.get(10..).ok_or(IpcError::Closed)?;
    if payload.len() != len {
        return Err(IpcError::Decode(format!(
            "frame says {len} bytes, has {}",
            payload.len()
        )));
    }
    postcard::from_bytes(payload).map_err(|e| IpcError::Decode(e.to_string()))
}

impl Channel {
    pub fn new(stream: UnixStream) -> Self {
        Self {
            stream,
            spin: Duration::ZERO,
        }
    }

    /// Busy-waits up to `spin` for data before each blocking receive.
    pub fn set_spin(&mut self, spin: Duration) {
        self.spin = spin;
    }

    fn spin_until_readable(&self) {
        if self.spin.is_zero() {
            return;
        }
        use std::os::fd::AsRawFd;
        let start = std::time::Instant::now();
        let mut b = [0u8; 1];
        let flags = nix::sys::socket::MsgFlags::MSG_PEEK | nix::sys::socket::MsgFlags::MSG_DONTWAIT;
        while start.elapsed() < self.spin {
            match nix::sys::socket::recv(self.stream.as_raw_fd(), &mut b, flags) {
                Err(nix::errno::Errno::EAGAIN) => std::hint::spin_loop(),
                // Data, end of stream or an error: the blocking read will see it.
                _ => return,
            }
        }
    }

    pub fn send<T: Serialize>(&mut self, msg: &T) -> Result<(), IpcError> {
        let frame = encode(msg)?;
        self.stream.write_all(&frame)?;
        Ok(())
    }

    /// Sends `bytes` as one raw frame (same header, no encoding): the component
    /// after [`Start`].
    pub fn send_raw(&mut self, bytes: &[u8]) -> Result<(), IpcError> {
        let len = u32::try_from(bytes.len()).map_err(|_| IpcError::TooLarge {
            size: bytes.len(),
            max: u32::MAX as usize,
        })?;
        let mut header = [0u8; 10];
        header[..4].copy_from_slice(&MAGIC);
        header[4..6].copy_from_slice(&VERSION.to_le_bytes());
        header[6..].copy_from_slice(&len.to_le_bytes());
        self.stream.write_all(&header)?;
        self.stream.write_all(bytes)?;
        Ok(())
    }

    /// Receives one raw frame that must be exactly `len` bytes (at most `max`).
    pub fn recv_raw(&mut self, len: usize, max: usize) -> Result<Vec<u8>, IpcError> {
        let mut header = [0u8; 10];
        self.stream.read_exact(&mut header)?;
        let got = decode_header(&header, max.min(len))?;
        if got != len {
            return Err(IpcError::Decode(format!(
                "raw frame of {got} bytes, {len} announced"
            )));
        }
        let mut payload = vec![0u8; len];
        populate(&mut payload);
        self.stream.read_exact(&mut payload)?;
        Ok(payload)
    }

    /// Receives one message of at most `max` payload bytes, waiting at most `timeout`.
    pub fn recv<T: DeserializeOwned>(
        &mut self,
        max: usize,
        timeout: Option<Duration>,
    ) -> Result<T, IpcError> {
        // Only the supervisor sets timeouts; the worker blocks (and may not call
        // setsockopt under its seccomp profile).
        if let Some(t) = timeout {
            self.stream
                .set_read_timeout(Some(t.max(Duration::from_millis(1))))?;
        }
        self.spin_until_readable();
        let mut header = [0u8; 10];
        self.stream.read_exact(&mut header)?;
        let len = decode_header(&header, max)?;
        let mut payload = vec![0u8; len];
        self.stream.read_exact(&mut payload)?;
        postcard::from_bytes(&payload).map_err(|e| IpcError::Decode(e.to_string()))
    }

    /// The raw stream (tests use it to play a hostile peer).
    pub fn stream_mut(&mut self) -> &mut UnixStream {
        &mut self.stream
    }
}

/// Maps a large receive buffer's pages in one system call
/// (`MADV_POPULATE_WRITE`), instead of one page fault per page while the kernel
/// copies into it (a component: ~40 faults). Best effort: a kernel without it
/// (before 5.14) faults them in as before.
fn populate(buf: &mut [u8]) {
    let page = nix::unistd::sysconf(nix::unistd::SysconfVar::PAGE_SIZE)
        .ok()
        .flatten()
        .and_then(|p| usize::try_from(p).ok())
        .filter(|p| p.is_power_of_two())
        .unwrap_or(4096);
    let addr = buf.as_ptr() as usize;
    // The whole pages inside `buf`: [addr + skip, addr + skip + len).
    let skip = addr.next_multiple_of(page) - addr;
    let len = buf.len().saturating_sub(skip) / page * page;
    if len > 0 {
        let start = buf[skip..].as_mut_ptr();
        #[allow(unsafe_code)]
        // SAFETY: [start, start + len) is whole pages inside `buf` (which is
        // borrowed mutably here): `skip` rounds up to a page boundary and `len`
        // rounds the rest down. MADV_POPULATE_WRITE only makes those pages present
        // (writable, contents unchanged: zero); it never moves or frees memory.
        let _ = unsafe { nix::libc::madvise(start.cast(), len, nix::libc::MADV_POPULATE_WRITE) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Both ends of a new socketpair.
    fn channels() -> (Channel, Channel) {
        match UnixStream::pair() {
            Ok((a, b)) => (Channel::new(a), Channel::new(b)),
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn raw_frames_are_exactly_as_announced() {
        let (mut a, mut b) = channels();
        assert!(a.send_raw(b"component bytes").is_ok());
        assert_eq!(
            b.recv_raw(15, MAX_START_FRAME).ok().as_deref(),
            Some(&b"component bytes"[..])
        );
        // Another length than announced, or over the bound: refused.
        assert!(a.send_raw(b"short").is_ok());
        assert!(matches!(
            b.recv_raw(6, MAX_START_FRAME),
            Err(IpcError::Decode(_))
        ));
        let (mut c, mut d) = channels();
        assert!(c.send_raw(&[0u8; 64]).is_ok());
        assert!(matches!(d.recv_raw(64, 32), Err(IpcError::TooLarge { .. })));
    }

    #[test]
    fn a_large_raw_frame_arrives_intact() {
        // Larger than the socket buffer, received into a buffer whose pages are
        // populated first (`populate`): every byte as sent.
        let (mut a, mut b) = channels();
        let sent: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
        let expected = sent.clone();
        let writer = std::thread::spawn(move || a.send_raw(&sent).is_ok());
        let got = b.recv_raw(expected.len(), MAX_START_FRAME).ok();
        // Closed before the join, so that a failed receive cannot leave the
        // writer blocked.
        drop(b);
        assert!(writer.join().unwrap_or(false));
        assert!(got.as_deref() == Some(&expected[..]), "bytes differ");
    }

    #[test]
    fn round_trip_and_rejections() {
        let (mut a, mut b) = channels();
        let msg = ToSupervisor::Log {
            level: "info".into(),
            message: "hi".into(),
        };
        assert!(a.send(&msg).is_ok());
        match b.recv::<ToSupervisor>(MAX_FRAME, Some(Duration::from_secs(1))) {
            Ok(ToSupervisor::Log { message, .. }) => assert_eq!(message, "hi"),
            other => panic!("{other:?}"),
        }
        // Oversized.
        let mut f = encode(&msg).unwrap_or_default();
        f[6..10].copy_from_slice(&(u32::MAX).to_le_bytes());
        assert!(matches!(
            decode::<ToSupervisor>(&f, MAX_FRAME),
            Err(IpcError::TooLarge { .. })
        ));
        // Bad magic, bad version, garbage payload.
        let mut f = encode(&msg).unwrap_or_default();
        f[0] = b'X';
        assert!(matches!(
            decode::<ToSupervisor>(&f, MAX_FRAME),
            Err(IpcError::BadMagic(_))
        ));
        let mut f = encode(&msg).unwrap_or_default();
        f[4] = 9;
        assert!(matches!(
            decode::<ToSupervisor>(&f, MAX_FRAME),
            Err(IpcError::BadVersion(9))
        ));
        let mut f = encode(&msg).unwrap_or_default();
        f[10] = 0xff;
        assert!(decode::<ToSupervisor>(&f, MAX_FRAME).is_err());
        // Timeout.
        assert!(matches!(
            b.recv::<ToSupervisor>(MAX_FRAME, Some(Duration::from_millis(10))),
            Err(IpcError::TimedOut)
        ));
    }
}
