//! agentbox-ipc: the supervisor↔worker protocol.
//!
//! Trust zone: both sides; the supervisor treats every frame from a worker as
//! hostile. Messages are intent-named serde types, encoded with postcard, framed as
//! `magic(4) version(u16) length(u32) payload`, each frame bounded. The socket is a
//! `socketpair(AF_UNIX, SOCK_STREAM)` whose worker end is fd 3 in the worker (the process itself is made by
//! `agentbox_confine::spawn_worker`).
//!
//! This crate must never decide policy or create processes: it moves typed requests
//! and answers, and rejects anything malformed, oversized or unexpected with a
//! typed error.

mod component;
mod words;

pub use component::{ComponentBytes, MappedComponent, sealed_memfd};
pub use words::{LandlockStatus, Layer, Limit, LogLevel, Outcome};

use agentbox_spec::WorkerSpec;
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::time::Duration;

/// Frame magic: "ABX" + protocol generation.
pub const MAGIC: [u8; 4] = *b"ABX1";
/// Protocol version; both sides must agree exactly. 2: `Start` carries a
/// `WorkerSpec`, and outcomes, limits, layers and log levels are enums.
pub const VERSION: u16 = 2;
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
    pub disabled_layers: Vec<Layer>,
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
    pub spec: WorkerSpec,
    pub invocation: InvocationMsg,
    /// Length of the precompiled component (wasmtime's serialized form), which
    /// follows this message as a sealed memfd of exactly that length
    /// ([`Channel::send_fd`]; none for native tools): mapped, never copied
    /// through the socket or re-encoded.
    pub component_len: u64,
    /// The component, once received and mapped; not encoded.
    #[serde(skip)]
    pub component: ComponentBytes,
    pub confine: ConfineSpec,
    /// Pooled worker: after the first invocation, serve `Invoke` messages (each in
    /// a fresh instance) until `Shutdown` or the socket closes.
    pub pooled: bool,
    /// Compile worker: the memfd holds the tool's *untrusted component bytes*, not
    /// a precompiled artifact. The worker validates and compiles them, checks that
    /// they link as the tool's kind, and answers [`ToSupervisor::Compiled`] (or
    /// `Done` with outcome `error` and the reason). Nothing of the tool runs.
    #[serde(default)]
    pub compile: bool,
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
    pub landlock_status: LandlockStatus,
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
    pub outcome: Outcome,
    pub limit: Option<Limit>,
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
    /// Limits the runtime enforced during the run even if the guest carried on
    /// (a refused `memory.grow`: `memory`; a refused table growth: `table`).
    pub limits_hit: Vec<Limit>,
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
    Log { level: LogLevel, message: String },
    /// The invocation ended.
    Done(Box<WorkerResult>),
    /// Confinement could not be set up; nothing ran.
    SetupFailed { step: String, message: String },
    /// A compile worker's artifact (wasmtime's serialized component). Untrusted:
    /// the supervisor stores and forwards it to workers, never loads it itself.
    Compiled(#[serde(with = "serde_bytes")] Vec<u8>),
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
    frame.extend_from_slice(&header(len));
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
        self.ready_within_spin();
    }

    /// Busy-waits up to the spin for something to read: true when there is
    /// data, the end of the stream or an error (a read would not block).
    pub fn ready_within_spin(&self) -> bool {
        use std::os::fd::AsRawFd;
        let start = std::time::Instant::now();
        let mut b = [0u8; 1];
        let flags = nix::sys::socket::MsgFlags::MSG_PEEK | nix::sys::socket::MsgFlags::MSG_DONTWAIT;
        loop {
            match nix::sys::socket::recv(self.stream.as_raw_fd(), &mut b, flags) {
                Err(nix::errno::Errno::EAGAIN) if start.elapsed() < self.spin => {
                    std::hint::spin_loop();
                }
                Err(nix::errno::Errno::EAGAIN) => return false,
                // Data, end of stream or an error: the blocking read will see it.
                _ => return true,
            }
        }
    }

    pub fn send<T: Serialize>(&mut self, msg: &T) -> Result<(), IpcError> {
        let frame = encode(msg)?;
        self.stream.write_all(&frame)?;
        Ok(())
    }

    /// Sends `fd` as a frame of its own: a header announcing no payload, with the
    /// descriptor attached (`SCM_RIGHTS`). The component after [`Start`].
    pub fn send_fd(&mut self, fd: std::os::fd::BorrowedFd<'_>) -> Result<(), IpcError> {
        use nix::sys::socket::{ControlMessage, MsgFlags, sendmsg};
        use std::os::fd::AsRawFd;
        let header = header(0);
        let fds = [fd.as_raw_fd()];
        let sent = loop {
            match sendmsg::<()>(
                self.stream.as_raw_fd(),
                &[std::io::IoSlice::new(&header)],
                &[ControlMessage::ScmRights(&fds)],
                MsgFlags::MSG_NOSIGNAL,
                None,
            ) {
                Err(nix::errno::Errno::EINTR) => {}
                r => break r.map_err(|e| IpcError::from(std::io::Error::from(e)))?,
            }
        };
        if sent != header.len() {
            return Err(IpcError::Io(std::io::Error::other(
                "short write of a descriptor frame",
            )));
        }
        Ok(())
    }

    /// Receives the frame of [`Self::send_fd`]: exactly its header and exactly one
    /// descriptor (close-on-exec); anything else is refused, and the descriptors
    /// that came with it are closed — except, when more came than this frame has
    /// room for (`MSG_CTRUNC`), the ones the kernel did pass: they stay open until
    /// the worker, which gives up on such a start, exits.
    pub fn recv_fd(&mut self) -> Result<std::os::fd::OwnedFd, IpcError> {
        use nix::sys::socket::{ControlMessageOwned, MsgFlags, recvmsg};
        use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
        let mut header = [0u8; 10];
        let mut space = nix::cmsg_space!([std::os::fd::RawFd; 1]);
        let (got, mut fds, truncated) = {
            let mut iov = [std::io::IoSliceMut::new(&mut header)];
            let msg = loop {
                match recvmsg::<()>(
                    self.stream.as_raw_fd(),
                    &mut iov,
                    Some(&mut space),
                    MsgFlags::MSG_CMSG_CLOEXEC,
                ) {
                    Err(nix::errno::Errno::EINTR) => {}
                    r => break r.map_err(|e| IpcError::from(std::io::Error::from(e)))?,
                }
            };
            let mut fds = Vec::new();
            if let Ok(cmsgs) = msg.cmsgs() {
                for c in cmsgs {
                    if let ControlMessageOwned::ScmRights(v) = c {
                        // SAFETY: descriptors the kernel has just installed in
                        // this process for this message; nothing else owns them.
                        #[allow(unsafe_code)]
                        fds.extend(v.into_iter().map(|fd| unsafe { OwnedFd::from_raw_fd(fd) }));
                    }
                }
            }
            (msg.bytes, fds, msg.flags.contains(MsgFlags::MSG_CTRUNC))
        };
        if got == 0 {
            return Err(IpcError::Closed);
        }
        if got != header.len() {
            return Err(IpcError::Decode(format!("descriptor frame of {got} bytes")));
        }
        decode_header(&header, 0)?;
        match (truncated, fds.len()) {
            (false, 1) => Ok(fds.remove(0)),
            _ => Err(IpcError::Decode(format!(
                "descriptor frame with {} descriptor(s){}, expected one",
                fds.len(),
                if truncated { " and more cut off" } else { "" }
            ))),
        }
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

    /// Waits up to `timeout` for a frame to start arriving: the spin first, then
    /// poll (no socket option: the worker may call this under its seccomp
    /// profile). True when there is something to read (or the peer has gone).
    pub fn wait_readable(&self, timeout: Duration) -> bool {
        use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
        use std::os::fd::AsFd;
        self.spin_until_readable();
        let ms = u16::try_from(timeout.as_millis()).unwrap_or(u16::MAX);
        let mut fds = [PollFd::new(self.stream.as_fd(), PollFlags::POLLIN)];
        loop {
            match poll(&mut fds, PollTimeout::from(ms)) {
                Err(nix::errno::Errno::EINTR) => continue,
                Ok(0) => return false,
                _ => return true,
            }
        }
    }

    /// The raw stream (tests use it to play a hostile peer).
    pub fn stream_mut(&mut self) -> &mut UnixStream {
        &mut self.stream
    }
}

/// A frame header announcing `len` payload bytes.
fn header(len: u32) -> [u8; 10] {
    let mut h = [0u8; 10];
    h[..4].copy_from_slice(&MAGIC);
    h[4..6].copy_from_slice(&VERSION.to_le_bytes());
    h[6..].copy_from_slice(&len.to_le_bytes());
    h
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
    fn a_component_travels_as_a_sealed_memfd_and_maps_intact() {
        let (mut a, mut b) = channels();
        let sent: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
        let fd = sealed_memfd(&sent).unwrap_or_else(|e| panic!("{e}"));
        assert!(a.send_fd(std::os::fd::AsFd::as_fd(&fd)).is_ok());
        drop(fd);
        let got = b.recv_fd().unwrap_or_else(|e| panic!("{e}"));
        // Sealed: the receiver cannot change what it maps.
        assert!(
            std::fs::File::from(got.try_clone().expect("dup"))
                .set_len(1)
                .is_err()
        );
        let mapped = MappedComponent::map(got, sent.len(), MAX_START_FRAME)
            .unwrap_or_else(|e| panic!("{e}"));
        let bytes = ComponentBytes::Mapped(std::sync::Arc::new(mapped));
        assert!(bytes[..] == sent[..], "bytes differ");
    }

    #[test]
    fn a_component_descriptor_is_refused_unless_exactly_as_announced() {
        let fd = || sealed_memfd(b"component bytes").unwrap_or_else(|e| panic!("{e}"));
        // Another length than announced, or over the bound.
        assert!(matches!(
            MappedComponent::map(fd(), 16, MAX_START_FRAME),
            Err(IpcError::Decode(_))
        ));
        assert!(matches!(
            MappedComponent::map(fd(), 15, 8),
            Err(IpcError::TooLarge { .. })
        ));
        assert!(MappedComponent::map(fd(), 15, MAX_START_FRAME).is_ok());
        // A memfd that is not sealed (its content could change under the map).
        let open = nix::sys::memfd::memfd_create(
            c"t",
            nix::sys::memfd::MFdFlags::MFD_CLOEXEC | nix::sys::memfd::MFdFlags::MFD_ALLOW_SEALING,
        )
        .expect("memfd");
        let mut f = std::fs::File::from(open);
        assert!(f.write_all(b"component bytes").is_ok());
        assert!(matches!(
            MappedComponent::map(f.into(), 15, MAX_START_FRAME),
            Err(IpcError::Decode(_))
        ));
        // A frame without a descriptor, or a message where the frame should be.
        let (mut a, mut b) = channels();
        assert!(a.stream_mut().write_all(&header(0)).is_ok());
        assert!(matches!(b.recv_fd(), Err(IpcError::Decode(_))));
        let (mut c, mut d) = channels();
        assert!(c.send(&ToWorker::Shutdown).is_ok());
        assert!(d.recv_fd().is_err());
        // The peer gone.
        let (e, mut f2) = channels();
        drop(e);
        assert!(matches!(f2.recv_fd(), Err(IpcError::Closed)));
    }

    #[test]
    fn round_trip_and_rejections() {
        let (mut a, mut b) = channels();
        let msg = ToSupervisor::Log {
            level: LogLevel::Info,
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
