//! The attacks, one attempt per worker run (a blocked attempt may kill the worker:
//! the wasm worker's seccomp action is kill-process, and it cannot fork a child to
//! take the hit). Every attempt returns `Blocked(how)` or `Escaped(evidence)`; the
//! harness (`agentbox breakout`) adds what only the host can see: canaries, hit
//! counters, the supervisor's verdict, the next run.
//!
//! Attempts aim only at harness-owned targets (its sentinel files, its canary
//! process, its loopback listeners), so that even an attempt that escaped — in a
//! layer-isolation run, where most layers are off on purpose — harms nothing.

mod exec;
mod landlock;
mod namespaces;
mod resources;
mod supervisor;
mod syscalls;

use agentbox_ipc::{Channel, HttpReply, HttpRequest, MAX_FRAME, Start, ToSupervisor, ToWorker};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::ffi::CString;

/// What the harness tells the probe about its canaries (never a secret).
#[derive(Debug, Deserialize, Default, Clone)]
#[serde(default)]
pub struct Ctx {
    /// A file outside every grant.
    pub sentinel: String,
    /// A host path that must never come to exist.
    pub marker: String,
    /// Loopback TCP and UDP listeners that count what reaches them.
    pub tcp_port: u16,
    pub udp_port: u16,
    /// An abstract unix socket the harness listens on.
    pub abstract_name: String,
    /// A harness process that any signal kills.
    pub canary_pid: i32,
    /// The supervisor's compile cache.
    pub cache_dir: String,
    /// The memory limit of the run, bytes.
    pub memory: u64,
    /// An environment variable set in the supervisor.
    pub env_canary: String,
    /// A host directory name that must not leak into the worker (the install dir).
    pub host_path: String,
    /// The network cases (`RELAY`): requests to send to the supervisor, in order.
    pub requests: Vec<RelayRequest>,
    /// After the requests, stay alive this long (the harness scans the worker).
    pub linger_ms: u64,
}

/// One request the harness wants sent over the IPC protocol, as a compromised
/// worker would send it (no worker-side check in between).
#[derive(Debug, Deserialize, Default, Clone)]
#[serde(default)]
pub struct RelayRequest {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
    pub timeout_ms: Option<u32>,
}

/// The answer for one attempt.
#[derive(Debug, Serialize)]
pub struct Verdict {
    pub case: String,
    pub attempt: String,
    /// `blocked` or `escaped`.
    pub verdict: &'static str,
    pub detail: String,
}

enum Out {
    Blocked(String),
    Escaped(String),
}
use Out::{Blocked, Escaped};

/// What an attempt sees: the harness context and the grants inside the sandbox.
struct Env {
    ctx: Ctx,
    ro: String,
    rw: String,
    /// The IPC channel to the supervisor (SUP-02 speaks the protocol).
    ch: std::cell::RefCell<Option<Channel>>,
}

type AttackFn = Box<dyn Fn(&Env) -> Out>;

struct Attempt {
    name: String,
    f: AttackFn,
}

fn at(name: impl Into<String>, f: impl Fn(&Env) -> Out + 'static) -> Attempt {
    Attempt {
        name: name.into(),
        f: Box::new(f),
    }
}

// ---------------------------------------------------------------- helpers

fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

fn errname(e: i32) -> String {
    let n = match e {
        libc::EPERM => "EPERM",
        libc::ENOENT => "ENOENT",
        libc::ESRCH => "ESRCH",
        libc::EBADF => "EBADF",
        libc::EAGAIN => "EAGAIN",
        libc::ENOMEM => "ENOMEM",
        libc::EACCES => "EACCES",
        libc::EFAULT => "EFAULT",
        libc::EEXIST => "EEXIST",
        libc::EXDEV => "EXDEV",
        libc::ENOTDIR => "ENOTDIR",
        libc::EISDIR => "EISDIR",
        libc::EINVAL => "EINVAL",
        libc::EMFILE => "EMFILE",
        libc::ENOTTY => "ENOTTY",
        libc::EROFS => "EROFS",
        libc::ENOSYS => "ENOSYS",
        libc::ELOOP => "ELOOP",
        libc::ENOTSOCK => "ENOTSOCK",
        libc::EAFNOSUPPORT => "EAFNOSUPPORT",
        libc::EPROTONOSUPPORT => "EPROTONOSUPPORT",
        libc::ENETUNREACH => "ENETUNREACH",
        libc::ECONNREFUSED => "ECONNREFUSED",
        libc::EOPNOTSUPP => "EOPNOTSUPP",
        libc::ENXIO => "ENXIO",
        libc::ENODEV => "ENODEV",
        libc::ENOSPC => "ENOSPC",
        libc::EADDRNOTAVAIL => "EADDRNOTAVAIL",
        _ => return format!("errno {e}"),
    };
    n.into()
}

fn c(s: &str) -> CString {
    CString::new(s).unwrap_or_default()
}

/// A raw system call.
fn sys(nr: i64, a: [u64; 6]) -> Result<i64, i32> {
    // SAFETY: the probe makes arbitrary system calls on purpose; pointer arguments
    // point into live buffers of the caller or are 0.
    let r = unsafe { libc::syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]) };
    if r < 0 { Err(errno()) } else { Ok(r) }
}

/// Tries to set a process flag with `prctl(set, to)`; it must read back as
/// `stays` through `prctl(get)`.
fn flag_stays(name: &str, set: i32, get: i32, to: u64, stays: i64) -> Out {
    let _ = sys(libc::SYS_prctl, [set as u64, to, 0, 0, 0, 0]);
    match sys(libc::SYS_prctl, [get as u64, 0, 0, 0, 0, 0]) {
        Ok(v) if v == stays => Blocked(format!("{name} stays {stays}")),
        r => Escaped(format!("{name} is now {r:?}")),
    }
}

/// Tries to make this process dumpable again; it must stay not dumpable.
fn set_dumpable() -> Out {
    flag_stays(
        "dumpable",
        libc::PR_SET_DUMPABLE,
        libc::PR_GET_DUMPABLE,
        1,
        0,
    )
}

/// Tries to clear no_new_privs; it must stay set.
fn clear_no_new_privs() -> Out {
    flag_stays(
        "no_new_privs",
        libc::PR_SET_NO_NEW_PRIVS,
        libc::PR_GET_NO_NEW_PRIVS,
        0,
        1,
    )
}

/// Blocked when the call failed, escaped when it succeeded.
fn must_fail(what: &str, r: Result<i64, i32>) -> Out {
    match r {
        Err(e) => Blocked(errname(e)),
        Ok(v) => Escaped(format!("{what} succeeded (returned {v})")),
    }
}

fn p(s: &CString) -> u64 {
    s.as_ptr() as u64
}

fn open(path: &str, flags: i32) -> Result<i64, i32> {
    let cs = c(path);
    sys(
        libc::SYS_openat,
        [libc::AT_FDCWD as u64, p(&cs), flags as u64, 0o644, 0, 0],
    )
}

fn close(fd: i64) {
    let _ = sys(libc::SYS_close, [fd as u64, 0, 0, 0, 0, 0]);
}

/// Opening must fail; if it succeeds, a read is the evidence.
fn open_must_fail(path: &str, flags: i32) -> Out {
    match open(path, flags) {
        Err(e) => Blocked(errname(e)),
        Ok(fd) => {
            let mut buf = [0u8; 64];
            // SAFETY: reading into a local buffer.
            let n = unsafe { libc::read(fd as i32, buf.as_mut_ptr().cast(), buf.len()) };
            close(fd);
            Escaped(format!(
                "opened {path}; read {n} bytes: {:?}",
                String::from_utf8_lossy(&buf[..n.max(0) as usize])
            ))
        }
    }
}

fn socket(domain: i32, ty: i32, proto: i32) -> Result<i64, i32> {
    sys(
        libc::SYS_socket,
        [domain as u64, ty as u64, proto as u64, 0, 0, 0],
    )
}

fn sockaddr_in(port: u16, ip: [u8; 4]) -> libc::sockaddr_in {
    libc::sockaddr_in {
        sin_family: libc::AF_INET as u16,
        sin_port: port.to_be(),
        sin_addr: libc::in_addr {
            s_addr: u32::from_ne_bytes(ip),
        },
        sin_zero: [0; 8],
    }
}

fn tcp_connect(port: u16) -> Out {
    let fd = match socket(libc::AF_INET, libc::SOCK_STREAM, 0) {
        Ok(fd) => fd,
        Err(e) => return Blocked(format!("socket: {}", errname(e))),
    };
    let sa = sockaddr_in(port, [127, 0, 0, 1]);
    let r = sys(
        libc::SYS_connect,
        [
            fd as u64,
            &sa as *const _ as u64,
            std::mem::size_of::<libc::sockaddr_in>() as u64,
            0,
            0,
            0,
        ],
    );
    close(fd);
    match r {
        Err(e) => Blocked(format!("connect: {}", errname(e))),
        Ok(_) => Escaped(format!("connected to 127.0.0.1:{port}")),
    }
}

fn udp_send(port: u16) -> Out {
    let fd = match socket(libc::AF_INET, libc::SOCK_DGRAM, 0) {
        Ok(fd) => fd,
        Err(e) => return Blocked(format!("socket: {}", errname(e))),
    };
    let sa = sockaddr_in(port, [127, 0, 0, 1]);
    let msg = b"agentbox-probe";
    let r = sys(
        libc::SYS_sendto,
        [
            fd as u64,
            msg.as_ptr() as u64,
            msg.len() as u64,
            0,
            &sa as *const _ as u64,
            std::mem::size_of::<libc::sockaddr_in>() as u64,
        ],
    );
    close(fd);
    match r {
        Err(e) => Blocked(format!("sendto: {}", errname(e))),
        Ok(_) => Escaped(format!("datagram sent to 127.0.0.1:{port}")),
    }
}

fn abstract_connect(name: &str) -> Out {
    let fd = match socket(libc::AF_UNIX, libc::SOCK_STREAM, 0) {
        Ok(fd) => fd,
        Err(e) => return Blocked(format!("socket: {}", errname(e))),
    };
    // SAFETY: zeroed sockaddr_un is valid.
    let mut sa: libc::sockaddr_un = unsafe { std::mem::zeroed() };
    sa.sun_family = libc::AF_UNIX as u16;
    let bytes = name.as_bytes();
    let n = bytes.len().min(sa.sun_path.len() - 1);
    for (i, b) in bytes[..n].iter().enumerate() {
        sa.sun_path[i + 1] = *b as libc::c_char;
    }
    let len = std::mem::size_of::<libc::sa_family_t>() + 1 + n;
    let r = sys(
        libc::SYS_connect,
        [fd as u64, &sa as *const _ as u64, len as u64, 0, 0, 0],
    );
    close(fd);
    match r {
        Err(e) => Blocked(format!("connect: {}", errname(e))),
        Ok(_) => Escaped(format!("connected to abstract socket @{name}")),
    }
}

/// Every case the probe implements, with its attempts, for a tool profile.
fn attempts(case: &str, profile: &str) -> Vec<Attempt> {
    syscalls::attempts(case, profile)
        .or_else(|| exec::attempts(case))
        .or_else(|| landlock::attempts(case))
        .or_else(|| namespaces::attempts(case))
        .or_else(|| resources::attempts(case))
        .or_else(|| supervisor::attempts(case))
        .unwrap_or_default()
}

/// Case id → attempt names, for the harness.
pub fn catalog() -> BTreeMap<String, Vec<String>> {
    CASES
        .iter()
        .map(|c| {
            (
                c.to_string(),
                attempts(c, "wasm-worker")
                    .into_iter()
                    .map(|a| a.name)
                    .collect(),
            )
        })
        .collect()
}

/// Every case with native attempts.
pub const CASES: &[&str] = &[
    "SC-01", "SC-02", "SC-05", "SC-06", "SC-07", "SC-08", "SC-11", "SC-12", "SC-13", "SC-15",
    "LL-01", "LL-02", "LL-04", "LL-06", "LL-07", "LL-08", "LL-11", "LL-12", "NS-01", "NS-02",
    "NS-03", "NS-04", "NS-05", "NS-06", "NS-08", "CG-01", "CG-02", "CG-06", "RES-14", "RES-15",
    "RES-16", "RES-17", "SUP-01", "SUP-02", "SUP-05", "SUP-06", "SUP-14", "CG-04", "SUP-12",
    "NS-09", "SC-16", "SC-17", "SC-18", "RELAY",
];

/// Runs the attempt named by the invocation's arguments: case id, attempt index,
/// harness context (JSON).
pub fn run(start: &Start, ch: Channel) -> (Verdict, Option<Channel>) {
    let args = &start.invocation.args;
    let case = args.first().cloned().unwrap_or_default();
    let idx: usize = args
        .get(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(usize::MAX);
    let ctx: Ctx = args
        .get(2)
        .and_then(|s| serde_json::from_str(s).ok())
        .unwrap_or_default();
    let grant = |rw: bool| {
        start
            .spec
            .fs
            .iter()
            .find(|g| (g.access == agentbox_spec::Access::Rw) == rw)
            .map(|g| g.host.display().to_string())
            .unwrap_or_default()
    };
    let env = Env {
        ro: grant(false),
        rw: grant(true),
        ctx,
        ch: std::cell::RefCell::new(Some(ch)),
    };
    let mut list = attempts(&case, &start.confine.profile);
    if idx >= list.len() {
        let v = Verdict {
            case,
            attempt: String::new(),
            verdict: "error",
            detail: format!("no attempt {idx}"),
        };
        return (v, env.ch.into_inner());
    }
    let a = list.swap_remove(idx);
    let (verdict, detail) = match (a.f)(&env) {
        Blocked(d) => ("blocked", d),
        Escaped(d) => ("escaped", d),
    };
    let v = Verdict {
        case,
        attempt: a.name,
        verdict,
        detail,
    };
    (v, env.ch.into_inner())
}
