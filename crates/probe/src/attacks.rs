//! The attacks, one attempt per worker run (a blocked attempt may kill the worker:
//! the wasm worker's seccomp action is kill-process, and it cannot fork a child to
//! take the hit). Every attempt returns `Blocked(how)` or `Escaped(evidence)`; the
//! harness (`agentbox breakout`) adds what only the host can see: canaries, hit
//! counters, the supervisor's verdict, the next run.
//!
//! Attempts aim only at harness-owned targets (its sentinel files, its canary
//! process, its loopback listeners), so that even an attempt that escaped — in a
//! layer-isolation run, where most layers are off on purpose — harms nothing.

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

/// `int 0x80` with an i386 system call number (catalog SC-02).
fn int80(nr: u32, a: u32, b: u32, cc: u32) -> i64 {
    let ret: i64;
    // SAFETY: a 32-bit compat system call; rbx is saved and restored around it
    // (LLVM reserves it).
    unsafe {
        std::arch::asm!(
            "xchg {b:r}, rbx",
            "int 0x80",
            "xchg {b:r}, rbx",
            b = inout(reg) b as u64 => _,
            inlateout("rax") nr as i64 => ret,
            in("rcx") a as u64,
            in("rdx") cc as u64,
            out("r8") _, out("r9") _, out("r10") _, out("r11") _,
        );
    }
    ret
}

// ---------------------------------------------------------------- the cases

/// Every case the probe implements, with its attempts, for a tool profile.
fn attempts(case: &str, profile: &str) -> Vec<Attempt> {
    match case {
        "SC-01" => sc01(profile),
        "SC-02" => vec![
            at("int 0x80 getpid (i386 20)", |_| {
                let r = int80(20, 0, 0, 0);
                Escaped(format!("32-bit getpid returned {r}"))
            }),
            at("int 0x80 ptrace (i386 26)", |_| {
                let r = int80(26, 0, 0, 0);
                Escaped(format!("32-bit ptrace returned {r}"))
            }),
            at("int 0x80 mount (i386 21)", |_| {
                let r = int80(21, 0, 0, 0);
                Escaped(format!("32-bit mount returned {r}"))
            }),
            at("int 0x80 socket (i386 359)", |_| {
                let r = int80(359, 2, 1, 0);
                Escaped(format!("32-bit socket returned {r}"))
            }),
            at("x32 getpid (0x40000000|39)", |_| {
                must_fail("x32 getpid", sys(0x4000_0000 | 39, [0; 6]))
            }),
        ],
        "SC-05" => vec![
            at("io_uring_setup", |_| {
                let mut params = [0u8; 120];
                must_fail(
                    "io_uring_setup",
                    sys(
                        libc::SYS_io_uring_setup,
                        [8, params.as_mut_ptr() as u64, 0, 0, 0, 0],
                    ),
                )
            }),
            at("io_uring_enter", |_| {
                must_fail("io_uring_enter", sys(libc::SYS_io_uring_enter, [0; 6]))
            }),
            at("io_uring_register", |_| {
                must_fail(
                    "io_uring_register",
                    sys(libc::SYS_io_uring_register, [0; 6]),
                )
            }),
        ],
        "SC-06" => vec![
            at("clone3(CLONE_NEWUSER)", |_| {
                let mut args = [0u64; 11];
                args[0] = libc::CLONE_NEWUSER as u64;
                args[4] = libc::SIGCHLD as u64;
                match sys(libc::SYS_clone3, [args.as_mut_ptr() as u64, 88, 0, 0, 0, 0]) {
                    // SAFETY: the child of a successful clone exits at once.
                    Ok(0) => unsafe { libc::_exit(0) },
                    r => must_fail("clone3(CLONE_NEWUSER)", r),
                }
            }),
            at("clone(CLONE_NEWUSER)", |_| {
                match sys(
                    libc::SYS_clone,
                    [(libc::CLONE_NEWUSER | libc::SIGCHLD) as u64, 0, 0, 0, 0, 0],
                ) {
                    // SAFETY: as above.
                    Ok(0) => unsafe { libc::_exit(0) },
                    r => must_fail("clone(CLONE_NEWUSER)", r),
                }
            }),
            at("unshare(CLONE_NEWUSER)", |_| {
                must_fail(
                    "unshare",
                    sys(
                        libc::SYS_unshare,
                        [libc::CLONE_NEWUSER as u64, 0, 0, 0, 0, 0],
                    ),
                )
            }),
            at("unshare(CLONE_NEWNS|CLONE_NEWNET)", |_| {
                must_fail(
                    "unshare",
                    sys(
                        libc::SYS_unshare,
                        [
                            (libc::CLONE_NEWNS | libc::CLONE_NEWNET) as u64,
                            0,
                            0,
                            0,
                            0,
                            0,
                        ],
                    ),
                )
            }),
            at("setns", |_| {
                must_fail("setns", sys(libc::SYS_setns, [0; 6]))
            }),
        ],
        "SC-07" => {
            let mut v = Vec::new();
            for fd in 0..4u64 {
                v.push(at(format!("TIOCSTI on fd {fd}"), move |_| {
                    let ch = b'x';
                    must_fail(
                        "TIOCSTI",
                        sys(
                            libc::SYS_ioctl,
                            [fd, libc::TIOCSTI, &ch as *const u8 as u64, 0, 0, 0],
                        ),
                    )
                }));
                v.push(at(format!("TIOCLINUX paste on fd {fd}"), move |_| {
                    let sub = 3u8;
                    must_fail(
                        "TIOCLINUX",
                        sys(
                            libc::SYS_ioctl,
                            [fd, libc::TIOCLINUX, &sub as *const u8 as u64, 0, 0, 0],
                        ),
                    )
                }));
            }
            v.push(at("open /dev/tty", |_| {
                open_must_fail("/dev/tty", libc::O_RDWR)
            }));
            v
        }
        "SC-08" => vec![
            at("ptrace(PTRACE_ATTACH, canary)", |e| {
                must_fail(
                    "ptrace attach",
                    sys(
                        libc::SYS_ptrace,
                        [
                            libc::PTRACE_ATTACH as u64,
                            e.ctx.canary_pid as u64,
                            0,
                            0,
                            0,
                            0,
                        ],
                    ),
                )
            }),
            at("ptrace(PTRACE_SEIZE, 1)", |_| {
                must_fail(
                    "ptrace seize",
                    sys(libc::SYS_ptrace, [libc::PTRACE_SEIZE as u64, 1, 0, 0, 0, 0]),
                )
            }),
            at("process_vm_writev(canary)", |e| {
                // One byte to address 1 of the canary: EFAULT means the kernel
                // found the process and allowed the access (nothing is written).
                let byte = [0u8; 1];
                let local = libc::iovec {
                    iov_base: byte.as_ptr() as *mut _,
                    iov_len: 1,
                };
                let remote = libc::iovec {
                    iov_base: std::ptr::dangling_mut(),
                    iov_len: 1,
                };
                match sys(
                    libc::SYS_process_vm_writev,
                    [
                        e.ctx.canary_pid as u64,
                        &local as *const _ as u64,
                        1,
                        &remote as *const _ as u64,
                        1,
                        0,
                    ],
                ) {
                    Err(libc::EFAULT) => {
                        Escaped("reached the canary's address space (EFAULT at address 1)".into())
                    }
                    r => must_fail("process_vm_writev", r),
                }
            }),
            at("pidfd_open(canary)", |e| {
                must_fail(
                    "pidfd_open",
                    sys(
                        libc::SYS_pidfd_open,
                        [e.ctx.canary_pid as u64, 0, 0, 0, 0, 0],
                    ),
                )
            }),
            at("pidfd_getfd", |_| {
                must_fail(
                    "pidfd_getfd",
                    sys(libc::SYS_pidfd_getfd, [3, 3, 0, 0, 0, 0]),
                )
            }),
        ],
        "SC-11" => vec![
            at("helper thread is filtered (PR_GET_SECCOMP)", |_| {
                let mode = std::thread::spawn(|| {
                    sys(
                        libc::SYS_prctl,
                        [libc::PR_GET_SECCOMP as u64, 0, 0, 0, 0, 0],
                    )
                })
                .join();
                match mode {
                    Ok(Ok(2)) => Blocked("thread in seccomp filter mode".into()),
                    other => Escaped(format!("thread seccomp mode: {other:?}")),
                }
            }),
            at("denied call from a helper thread kills the process", |_| {
                let _ = std::thread::spawn(|| sys(libc::SYS_getppid, [0; 6])).join();
                std::thread::sleep(std::time::Duration::from_millis(200));
                Escaped("the process survived a denied call made by a thread".into())
            }),
        ],
        "SC-12" => vec![
            at("PR_SET_DUMPABLE 1", |_| set_dumpable()),
            at("PR_SET_PTRACER ANY", |_| {
                must_fail(
                    "PR_SET_PTRACER",
                    sys(
                        libc::SYS_prctl,
                        [
                            libc::PR_SET_PTRACER as u64,
                            libc::PR_SET_PTRACER_ANY,
                            0,
                            0,
                            0,
                            0,
                        ],
                    ),
                )
            }),
            at("PR_SET_MM", |_| {
                must_fail(
                    "PR_SET_MM",
                    sys(
                        libc::SYS_prctl,
                        [
                            libc::PR_SET_MM as u64,
                            libc::PR_SET_MM_START_CODE as u64,
                            0,
                            0,
                            0,
                            0,
                        ],
                    ),
                )
            }),
            at("PR_SET_SECUREBITS 0", |_| {
                must_fail(
                    "PR_SET_SECUREBITS",
                    sys(
                        libc::SYS_prctl,
                        [libc::PR_SET_SECUREBITS as u64, 0, 0, 0, 0, 0],
                    ),
                )
            }),
            at("clear no_new_privs", |_| clear_no_new_privs()),
            at("seccomp(NEW_LISTENER) user-notify filter", |_| {
                // An allow-everything filter asking for a notification fd.
                let ins = [libc::sock_filter {
                    code: (libc::BPF_RET | libc::BPF_K) as u16,
                    jt: 0,
                    jf: 0,
                    k: libc::SECCOMP_RET_USER_NOTIF,
                }];
                let prog = libc::sock_fprog {
                    len: 1,
                    filter: ins.as_ptr() as *mut _,
                };
                must_fail(
                    "seccomp(SET_MODE_FILTER, NEW_LISTENER)",
                    sys(
                        libc::SYS_seccomp,
                        [
                            libc::SECCOMP_SET_MODE_FILTER as u64,
                            libc::SECCOMP_FILTER_FLAG_NEW_LISTENER,
                            &prog as *const _ as u64,
                            0,
                            0,
                            0,
                        ],
                    ),
                )
            }),
        ],
        "SC-13" => {
            let fams: &[(&str, i32, i32, i32)] = &[
                (
                    "AF_NETLINK route",
                    libc::AF_NETLINK,
                    libc::SOCK_RAW,
                    libc::NETLINK_ROUTE,
                ),
                (
                    "AF_NETLINK netfilter",
                    libc::AF_NETLINK,
                    libc::SOCK_RAW,
                    libc::NETLINK_NETFILTER,
                ),
                (
                    "AF_NETLINK audit",
                    libc::AF_NETLINK,
                    libc::SOCK_RAW,
                    libc::NETLINK_AUDIT,
                ),
                ("AF_PACKET", libc::AF_PACKET, libc::SOCK_RAW, 0),
                (
                    "AF_INET SOCK_RAW",
                    libc::AF_INET,
                    libc::SOCK_RAW,
                    libc::IPPROTO_ICMP,
                ),
                ("AF_ALG", libc::AF_ALG, libc::SOCK_SEQPACKET, 0),
                ("AF_VSOCK", libc::AF_VSOCK, libc::SOCK_STREAM, 0),
                ("AF_KEY", libc::AF_KEY, libc::SOCK_RAW, 2),
                ("AF_XDP", libc::AF_XDP, libc::SOCK_RAW, 0),
                ("AF_BLUETOOTH", libc::AF_BLUETOOTH, libc::SOCK_RAW, 0),
                ("SCTP", libc::AF_INET, libc::SOCK_STREAM, libc::IPPROTO_SCTP),
                ("MPTCP", libc::AF_INET, libc::SOCK_STREAM, 262),
                ("AF_SMC", 43, libc::SOCK_STREAM, 0),
                ("AF_INET TCP", libc::AF_INET, libc::SOCK_STREAM, 0),
                ("AF_INET6 UDP", libc::AF_INET6, libc::SOCK_DGRAM, 0),
                ("AF_UNIX", libc::AF_UNIX, libc::SOCK_STREAM, 0),
            ];
            fams.iter()
                .map(|&(n, d, t, pr)| {
                    at(format!("socket({n})"), move |_| match socket(d, t, pr) {
                        Ok(fd) => {
                            close(fd);
                            Escaped(format!("socket({n}) created"))
                        }
                        Err(e) => Blocked(errname(e)),
                    })
                })
                .collect()
        }
        "NS-09" => vec![
            at("read /proc/sys/kernel/random/boot_id", |_| {
                open_must_fail("/proc/sys/kernel/random/boot_id", libc::O_RDONLY)
            }),
            at("read /proc/sys/vm/overcommit_memory", |_| {
                open_must_fail("/proc/sys/vm/overcommit_memory", libc::O_RDONLY)
            }),
            at("write /proc/sys/vm/memfd_noexec", |_| {
                open_must_fail("/proc/sys/vm/memfd_noexec", libc::O_WRONLY)
            }),
            at("read /proc/kallsyms", |_| {
                open_must_fail("/proc/kallsyms", libc::O_RDONLY)
            }),
            at("list /proc: anything but process directories", |_| {
                proc_extras()
            }),
            at("a child reads the worker's /proc/1/status", |_| {
                child_reads_worker()
            }),
        ],
        "SC-16" => vec![
            at("PR_SET_DUMPABLE 1", |_| set_dumpable()),
            at("PR_SET_PTRACER ANY", |_| {
                prctl_set(
                    "PR_SET_PTRACER",
                    [
                        libc::PR_SET_PTRACER as u64,
                        libc::PR_SET_PTRACER_ANY,
                        0,
                        0,
                        0,
                    ],
                )
            }),
            at("PR_SET_MM start_code", |_| {
                prctl_set(
                    "PR_SET_MM",
                    [
                        libc::PR_SET_MM as u64,
                        libc::PR_SET_MM_START_CODE as u64,
                        0,
                        0,
                        0,
                    ],
                )
            }),
            at("PR_SET_SECUREBITS 0", |_| {
                prctl_set(
                    "PR_SET_SECUREBITS",
                    [libc::PR_SET_SECUREBITS as u64, 0, 0, 0, 0],
                )
            }),
            at("PR_SET_KEEPCAPS 1", |_| {
                prctl_set(
                    "PR_SET_KEEPCAPS",
                    [libc::PR_SET_KEEPCAPS as u64, 1, 0, 0, 0],
                )
            }),
            at("PR_SET_NO_NEW_PRIVS 0", |_| clear_no_new_privs()),
            at("PR_SET_SYSCALL_USER_DISPATCH on", |_| {
                // An empty region: every syscall would be dispatched to SIGSYS
                // handling by the program itself.
                prctl_set("PR_SET_SYSCALL_USER_DISPATCH", [59, 1, 0, 0, 0])
            }),
        ],
        "SC-17" => vec![
            at("execve a program written into the rw grant", |e| {
                plant_and_exec(&format!("{}/run-me", e.rw))
            }),
            at("execve a program written into /tmp", |_| {
                plant_and_exec("/tmp/run-me")
            }),
            at("execve a program written into scratch space", |_| {
                plant_and_exec("/scratch/run-me")
            }),
            at(
                "execve it through a ro grant of the rw grant's directory",
                |e| {
                    if let Err(err) = plant(&format!("{}/via-ro", e.rw)) {
                        return Blocked(err);
                    }
                    execve_path("/rw-view/via-ro")
                },
            ),
            at("execveat of an O_TMPFILE in /tmp", |_| {
                let fd = match open("/tmp", libc::O_TMPFILE | libc::O_RDWR) {
                    Ok(fd) => fd,
                    Err(e) => return Blocked(format!("O_TMPFILE: {}", errname(e))),
                };
                let data = std::fs::read(ELF).unwrap_or_default();
                // SAFETY: writing a local buffer to our file; fchmod of our fd.
                unsafe {
                    libc::write(fd as i32, data.as_ptr().cast(), data.len());
                    libc::fchmod(fd as i32, 0o755);
                }
                execveat_fd(fd)
            }),
            at("mmap PROT_EXEC of a file written into the rw grant", |e| {
                plant_and_map(&format!("{}/map-me", e.rw), false)
            }),
            at(
                "mprotect PROT_EXEC of a mapped file written into /tmp",
                |_| plant_and_map("/tmp/map-me", true),
            ),
            at(
                "mmap PROT_EXEC of a file written into scratch space",
                |_| plant_and_map("/scratch/map-me", false),
            ),
        ],
        "SC-18" => vec![
            at(
                "execveat of a memfd created without flags",
                |_| match memfd_with_elf(libc::MFD_CLOEXEC) {
                    Ok(fd) => execveat_fd(fd),
                    Err(o) => o,
                },
            ),
            at(
                "execveat of a memfd created MFD_EXEC",
                |_| match memfd_with_elf(MFD_EXEC) {
                    Ok(fd) => execveat_fd(fd),
                    Err(o) => o,
                },
            ),
            at("MFD_NOEXEC_SEAL memfd: chmod +x, execveat", |_| {
                match memfd_with_elf(MFD_NOEXEC_SEAL) {
                    Ok(fd) => {
                        // SAFETY: fchmod of our own descriptor.
                        let _ = unsafe { libc::fchmod(fd as i32, 0o755) };
                        execveat_fd(fd)
                    }
                    Err(o) => o,
                }
            }),
            at(
                "MFD_NOEXEC_SEAL memfd: execve /proc/self/fd/N",
                |_| match memfd_with_elf(MFD_NOEXEC_SEAL) {
                    Ok(fd) => execve_path(&format!("/proc/self/fd/{fd}")),
                    Err(o) => o,
                },
            ),
        ],
        "SC-15" => vec![
            at("execve /bin/sh", |e| {
                let sh = c("/bin/sh");
                let arg = c(&format!("touch {}", e.ctx.marker));
                let dash_c = c("-c");
                let argv = [sh.as_ptr(), dash_c.as_ptr(), arg.as_ptr(), std::ptr::null()];
                let envp: [*const libc::c_char; 1] = [std::ptr::null()];
                must_fail(
                    "execve(/bin/sh)",
                    sys(
                        libc::SYS_execve,
                        [p(&sh), argv.as_ptr() as u64, envp.as_ptr() as u64, 0, 0, 0],
                    ),
                )
            }),
            at("execveat(memfd, AT_EMPTY_PATH)", |_| {
                let name = c("x");
                let fd = match sys(libc::SYS_memfd_create, [p(&name), 0, 0, 0, 0, 0]) {
                    Ok(fd) => fd,
                    Err(e) => return Blocked(format!("memfd_create: {}", errname(e))),
                };
                let script = b"#!/bin/sh\nexit 0\n";
                // SAFETY: writing a local buffer to our memfd.
                unsafe { libc::write(fd as i32, script.as_ptr().cast(), script.len()) };
                let empty = c("");
                let argv: [*const libc::c_char; 1] = [std::ptr::null()];
                must_fail(
                    "execveat(memfd)",
                    sys(
                        libc::SYS_execveat,
                        [
                            fd as u64,
                            p(&empty),
                            argv.as_ptr() as u64,
                            argv.as_ptr() as u64,
                            libc::AT_EMPTY_PATH as u64,
                            0,
                        ],
                    ),
                )
            }),
            at("execve of a file written into the rw grant", |e| {
                let path = format!("{}/run-me", e.rw);
                if let Err(err) = std::fs::write(&path, b"#!/bin/sh\nexit 0\n") {
                    return Blocked(format!("cannot write {path}: {err}"));
                }
                let pc = c(&path);
                let argv = [pc.as_ptr(), std::ptr::null()];
                let r = sys(
                    libc::SYS_execve,
                    [
                        p(&pc),
                        argv.as_ptr() as u64,
                        argv.as_ptr().wrapping_add(1) as u64,
                        0,
                        0,
                        0,
                    ],
                );
                let _ = std::fs::remove_file(&path);
                must_fail("execve(rw file)", r)
            }),
            at("vsyscall time()", |_| {
                // SAFETY: calls the legacy vsyscall page; the kernel either emulates
                // it (subject to seccomp) or faults.
                let f: extern "C" fn(*mut i64) -> i64 =
                    unsafe { std::mem::transmute(0xffff_ffff_ff60_0400usize) };
                let t = f(std::ptr::null_mut());
                Escaped(format!("vsyscall time() returned {t}"))
            }),
        ],
        "LL-01" => vec![
            at("read the host sentinel", |e| {
                open_must_fail(&e.ctx.sentinel, libc::O_RDONLY)
            }),
            at("read /etc/passwd", |_| {
                open_must_fail("/etc/passwd", libc::O_RDONLY)
            }),
            at("read /etc/shadow", |_| {
                open_must_fail("/etc/shadow", libc::O_RDONLY)
            }),
            at("list the supervisor's cache dir", |e| {
                open_must_fail(&e.ctx.cache_dir, libc::O_RDONLY | libc::O_DIRECTORY)
            }),
            at("read /root/.ssh", |_| {
                open_must_fail("/root/.ssh", libc::O_RDONLY | libc::O_DIRECTORY)
            }),
        ],
        "LL-02" => ll02(),
        "LL-04" => {
            let devs = [
                ("/dev/null", libc::FIONREAD),
                ("/dev/tty", libc::TCGETS),
                ("/dev/console", libc::TCGETS),
                ("/dev/tty0", 0x4B3B), // KDGETMODE
                ("/dev/kmsg", libc::FIONREAD),
                ("/dev/loop0", 0x4C05),    // LOOP_GET_STATUS
                ("/dev/sda", 0x8008_1272), // BLKGETSIZE64
                ("/dev/vda", 0x8008_1272),
                ("/dev/kvm", 0xAE00),         // KVM_GET_API_VERSION
                ("/dev/net/tun", 0x800454d2), // TUNGETFEATURES
            ];
            devs.iter()
                .map(|&(d, req)| {
                    at(format!("ioctl on {d}"), move |_| {
                        let fd = match open(d, libc::O_RDONLY | libc::O_NONBLOCK) {
                            Ok(fd) => fd,
                            Err(e) => return Blocked(format!("open: {}", errname(e))),
                        };
                        let mut buf = [0u8; 256];
                        let r = sys(
                            libc::SYS_ioctl,
                            [fd as u64, req, buf.as_mut_ptr() as u64, 0, 0, 0],
                        );
                        close(fd);
                        match r {
                            Err(e) => Blocked(format!("opened, ioctl: {}", errname(e))),
                            Ok(v) => Escaped(format!("ioctl {req:#x} on {d} returned {v}")),
                        }
                    })
                })
                .collect()
        }
        "LL-06" => vec![
            at("TCP connect to the harness listener", |e| {
                tcp_connect(e.ctx.tcp_port)
            }),
            at("TCP bind and listen on 18080", |_| {
                let fd = match socket(libc::AF_INET, libc::SOCK_STREAM, 0) {
                    Ok(fd) => fd,
                    Err(e) => return Blocked(format!("socket: {}", errname(e))),
                };
                let sa = sockaddr_in(18080, [127, 0, 0, 1]);
                let r = sys(
                    libc::SYS_bind,
                    [fd as u64, &sa as *const _ as u64, 16, 0, 0, 0],
                );
                close(fd);
                match r {
                    Err(e) => Blocked(format!("bind: {}", errname(e))),
                    Ok(_) => Escaped("bound 127.0.0.1:18080".into()),
                }
            }),
        ],
        "LL-07" => vec![at("UDP datagram to the harness listener", |e| {
            udp_send(e.ctx.udp_port)
        })],
        "LL-08" => vec![
            at("connect to the harness's abstract unix socket", |e| {
                abstract_connect(&e.ctx.abstract_name)
            }),
            at("SIGUSR1 to the harness canary process", |e| {
                must_fail(
                    "kill(canary, SIGUSR1)",
                    sys(
                        libc::SYS_kill,
                        [e.ctx.canary_pid as u64, libc::SIGUSR1 as u64, 0, 0, 0, 0],
                    ),
                )
            }),
        ],
        "LL-11" | "SUP-05" => vec![
            at("descriptor inventory", |_| {
                let mut extra = Vec::new();
                for fd in 0..4096 {
                    // SAFETY: F_GETFD on an integer.
                    let fl = unsafe { libc::fcntl(fd, libc::F_GETFD) };
                    if fl < 0 {
                        continue;
                    }
                    // SAFETY: fstat into a zeroed local.
                    let mut st: libc::stat = unsafe { std::mem::zeroed() };
                    unsafe { libc::fstat(fd, &mut st) };
                    let kind = st.st_mode & libc::S_IFMT;
                    let ok = match fd {
                        0 | 1 => kind == libc::S_IFCHR, // /dev/null
                        2 => kind == libc::S_IFIFO,     // the supervisor's stderr pipe
                        3 => kind == libc::S_IFSOCK,    // the IPC socket
                        _ => false,
                    };
                    if !ok {
                        extra.push(format!("fd {fd} (mode {:o})", st.st_mode));
                    }
                }
                if extra.is_empty() {
                    Blocked("only stdio and the IPC socket are open".into())
                } else {
                    Escaped(format!("unexpected descriptors: {}", extra.join(", ")))
                }
            }),
            at("reopen /proc/self/fd/3 read-write", |_| {
                open_must_fail("/proc/self/fd/3", libc::O_RDWR)
            }),
            at("reopen /proc/self/exe", |_| {
                open_must_fail("/proc/self/exe", libc::O_RDONLY)
            }),
        ],
        "LL-12" => vec![
            at("chroot", |e| {
                let d = c(&e.rw);
                must_fail("chroot", sys(libc::SYS_chroot, [p(&d), 0, 0, 0, 0, 0]))
            }),
            at("mount tmpfs", |e| {
                let (t, d) = (c("tmpfs"), c(&e.rw));
                must_fail(
                    "mount",
                    sys(libc::SYS_mount, [p(&t), p(&d), p(&t), 0, 0, 0]),
                )
            }),
            at("pivot_root", |_| {
                let d = c(".");
                must_fail(
                    "pivot_root",
                    sys(libc::SYS_pivot_root, [p(&d), p(&d), 0, 0, 0, 0]),
                )
            }),
        ],
        "NS-01" => vec![
            at("capability sets", |_| {
                let mut hdr = [0x2008_0522u32, 0]; // _LINUX_CAPABILITY_VERSION_3, self
                let mut data = [0u32; 6];
                match sys(
                    libc::SYS_capget,
                    [
                        hdr.as_mut_ptr() as u64,
                        data.as_mut_ptr() as u64,
                        0,
                        0,
                        0,
                        0,
                    ],
                ) {
                    Err(e) => Blocked(format!("capget: {}", errname(e))),
                    Ok(_) if data.iter().all(|d| *d == 0) => {
                        Blocked("effective, permitted and inheritable sets are empty".into())
                    }
                    Ok(_) => Escaped(format!("capabilities held: {data:x?}")),
                }
            }),
            at("bounding and ambient sets", |_| {
                for cap in 0..64u64 {
                    if let Ok(1) = sys(
                        libc::SYS_prctl,
                        [libc::PR_CAPBSET_READ as u64, cap, 0, 0, 0, 0],
                    ) {
                        return Escaped(format!("capability {cap} in the bounding set"));
                    }
                    if let Ok(1) = sys(
                        libc::SYS_prctl,
                        [
                            libc::PR_CAP_AMBIENT as u64,
                            libc::PR_CAP_AMBIENT_IS_SET as u64,
                            cap,
                            0,
                            0,
                            0,
                        ],
                    ) {
                        return Escaped(format!("capability {cap} in the ambient set"));
                    }
                }
                Blocked("bounding and ambient sets are empty".into())
            }),
            at("no_new_privs", |_| {
                match sys(
                    libc::SYS_prctl,
                    [libc::PR_GET_NO_NEW_PRIVS as u64, 0, 0, 0, 0, 0],
                ) {
                    Ok(1) => Blocked("no_new_privs = 1".into()),
                    r => Escaped(format!("no_new_privs: {r:?}")),
                }
            }),
        ],
        "NS-02" => vec![
            at("setresuid(0,0,0) then write as root", |_| {
                must_fail("setresuid", sys(libc::SYS_setresuid, [0, 0, 0, 0, 0, 0]))
            }),
            at("setgroups", |_| {
                must_fail("setgroups", sys(libc::SYS_setgroups, [0; 6]))
            }),
            at("capset raise", |_| {
                let mut hdr = [0x2008_0522u32, 0];
                let data = [u32::MAX; 6];
                must_fail(
                    "capset",
                    sys(
                        libc::SYS_capset,
                        [hdr.as_mut_ptr() as u64, data.as_ptr() as u64, 0, 0, 0, 0],
                    ),
                )
            }),
        ],
        "NS-03" | "CG-01" => vec![
            at("unshare(NEWUSER|NEWNS|NEWCGROUP)", |_| {
                must_fail(
                    "unshare",
                    sys(
                        libc::SYS_unshare,
                        [
                            (libc::CLONE_NEWUSER | libc::CLONE_NEWNS | libc::CLONE_NEWCGROUP)
                                as u64,
                            0,
                            0,
                            0,
                            0,
                            0,
                        ],
                    ),
                )
            }),
            at("mount a v1 cgroup hierarchy", |e| {
                let (t, d, o) = (c("cgroup"), c(&e.rw), c("memory"));
                must_fail(
                    "mount cgroup",
                    sys(libc::SYS_mount, [p(&t), p(&d), p(&t), 0, p(&o), 0]),
                )
            }),
        ],
        "NS-04" => vec![
            at("SIGUSR1 to the canary by pid", |e| {
                must_fail(
                    "kill",
                    sys(
                        libc::SYS_kill,
                        [e.ctx.canary_pid as u64, libc::SIGUSR1 as u64, 0, 0, 0, 0],
                    ),
                )
            }),
            at("pidfd_open(canary)", |e| {
                must_fail(
                    "pidfd_open",
                    sys(
                        libc::SYS_pidfd_open,
                        [e.ctx.canary_pid as u64, 0, 0, 0, 0, 0],
                    ),
                )
            }),
            at("getppid", |_| match sys(libc::SYS_getppid, [0; 6]) {
                Ok(0) => Blocked("getppid() == 0".into()),
                Ok(pp) => Escaped(format!("parent pid {pp} visible")),
                Err(e) => Blocked(errname(e)),
            }),
        ],
        "NS-05" => {
            let paths = [
                "/home",
                "/root",
                "/tmp",
                "/var/tmp",
                "/run",
                "/var/run/docker.sock",
                "/run/dbus/system_bus_socket",
                "/run/systemd",
                "/proc",
                "/proc/self/mountinfo",
                "/proc/self/uid_map",
                "/proc/sys/user/max_user_namespaces",
                "/sys/fs/cgroup",
                "/etc",
                "/usr",
                "/sys",
            ];
            let mut v: Vec<Attempt> = paths
                .iter()
                .map(|&path| {
                    at(format!("look for {path}"), move |_| {
                        let cs = c(path);
                        // SAFETY: stat into a zeroed local.
                        let mut st: libc::stat = unsafe { std::mem::zeroed() };
                        let r = unsafe { libc::stat(cs.as_ptr(), &mut st) };
                        if r < 0 {
                            Blocked(errname(errno()))
                        } else {
                            Escaped(format!("{path} exists in the sandbox"))
                        }
                    })
                })
                .collect();
            v.push(at("look for the sentinel's directory", |e| {
                let dir = std::path::Path::new(&e.ctx.sentinel)
                    .parent()
                    .map(|d| d.display().to_string())
                    .unwrap_or_default();
                open_must_fail(&dir, libc::O_RDONLY | libc::O_DIRECTORY)
            }));
            v
        }
        "NS-06" => vec![
            at("remount the ro grant read-write", |e| {
                let d = c(&e.ro);
                must_fail(
                    "mount(MS_REMOUNT|MS_BIND)",
                    sys(
                        libc::SYS_mount,
                        [0, p(&d), 0, (libc::MS_REMOUNT | libc::MS_BIND), 0, 0],
                    ),
                )
            }),
            at("unmount the rw grant", |e| {
                let d = c(&e.rw);
                must_fail(
                    "umount2",
                    sys(
                        libc::SYS_umount2,
                        [p(&d), libc::MNT_DETACH as u64, 0, 0, 0, 0],
                    ),
                )
            }),
            at("make / shared", |_| {
                let d = c("/");
                must_fail(
                    "mount(MS_SHARED)",
                    sys(
                        libc::SYS_mount,
                        [0, p(&d), 0, (libc::MS_SHARED | libc::MS_REC), 0, 0],
                    ),
                )
            }),
            at("mount proc", |e| {
                let (t, d) = (c("proc"), c(&e.rw));
                must_fail(
                    "mount proc",
                    sys(libc::SYS_mount, [p(&t), p(&d), p(&t), 0, 0, 0]),
                )
            }),
        ],
        "NS-08" => vec![
            at("list interfaces (netlink)", |_| {
                // SAFETY: if_nameindex returns a list freed below, or NULL.
                unsafe {
                    let list = libc::if_nameindex();
                    if list.is_null() {
                        return Blocked(errname(errno()));
                    }
                    let mut names = Vec::new();
                    let mut i = list;
                    while (*i).if_index != 0 {
                        names.push(
                            std::ffi::CStr::from_ptr((*i).if_name)
                                .to_string_lossy()
                                .into_owned(),
                        );
                        i = i.add(1);
                    }
                    libc::if_freenameindex(list);
                    if names.iter().all(|n| n == "lo") {
                        Blocked(format!("only {names:?}"))
                    } else {
                        Escaped(format!("interfaces: {}", names.join(", ")))
                    }
                }
            }),
            at("TCP to the harness listener on loopback", |e| {
                tcp_connect(e.ctx.tcp_port)
            }),
            at("UDP to the harness listener on loopback", |e| {
                udp_send(e.ctx.udp_port)
            }),
        ],
        "CG-02" => [
            "/sys/fs/cgroup/memory/cgroup.procs",
            "/sys/fs/cgroup/pids/tasks",
            "/sys/fs/cgroup/cgroup.procs",
            "/sys/fs/cgroup/unified/cgroup.procs",
        ]
        .iter()
        .map(|&f| {
            at(format!("write own pid into {f}"), move |_| {
                open_must_fail(f, libc::O_WRONLY)
            })
        })
        .collect(),
        "RES-14" => vec![at("fork bomb", |_| {
            let mut n = 0u32;
            loop {
                match sys(libc::SYS_fork, [0; 6]) {
                    Ok(0) => {
                        std::thread::sleep(std::time::Duration::from_secs(600));
                        // SAFETY: exit the child.
                        unsafe { libc::_exit(0) }
                    }
                    Ok(_) => n += 1,
                    Err(e) => {
                        return Blocked(format!("fork refused after {n} children: {}", errname(e)));
                    }
                }
                if n >= 4096 {
                    return Escaped(format!("{n} processes started"));
                }
            }
        })],
        "CG-06" => vec![at("fork a daemon", |_| {
            match sys(libc::SYS_fork, [0; 6]) {
                Ok(0) => {
                    // The child would try to outlive the run: it sleeps.
                    std::thread::sleep(std::time::Duration::from_secs(600));
                    // SAFETY: exit the child.
                    unsafe { libc::_exit(0) }
                }
                r => must_fail("fork", r),
            }
        })],
        "RES-15" => vec![at("thread bomb", |_| {
            let mut n = 0u32;
            loop {
                let spawned = std::thread::Builder::new()
                    .stack_size(64 * 1024)
                    .spawn(|| std::thread::sleep(std::time::Duration::from_secs(600)));
                match spawned {
                    Ok(_) => n += 1,
                    Err(e) => return Blocked(format!("thread {n} refused: {e}")),
                }
                if n >= 4096 {
                    return Escaped(format!("{n} threads started"));
                }
            }
        })],
        "RES-16" => vec![at("memory bomb (mmap and touch)", |e| {
            let limit = e.ctx.memory.max(1 << 20);
            let chunk = 8usize << 20;
            let mut total = 0u64;
            while total < limit.saturating_mul(2) {
                // SAFETY: anonymous private mapping, touched page by page.
                let m = unsafe {
                    libc::mmap(
                        std::ptr::null_mut(),
                        chunk,
                        libc::PROT_READ | libc::PROT_WRITE,
                        libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                        -1,
                        0,
                    )
                };
                if m == libc::MAP_FAILED {
                    return Blocked(format!(
                        "mmap refused after {total} bytes: {}",
                        errname(errno())
                    ));
                }
                for off in (0..chunk).step_by(4096) {
                    // SAFETY: within the mapping just made.
                    unsafe { *(m as *mut u8).add(off) = 1 };
                }
                total += chunk as u64;
            }
            Escaped(format!("touched {total} bytes, twice the limit"))
        })],
        "RES-17" => vec![at("CPU hog on every core", |_| {
            let cpu0 = cpu_time();
            let t0 = std::time::Instant::now();
            let hogs: Vec<_> = (0..2)
                .map(|_| {
                    std::thread::spawn(|| {
                        let t = std::time::Instant::now();
                        let mut x = 0u64;
                        while t.elapsed().as_millis() < 1000 {
                            x = x.wrapping_add(1);
                        }
                        x
                    })
                })
                .collect();
            for h in hogs {
                let _ = h.join();
            }
            let used = cpu_time() - cpu0;
            let wall = t0.elapsed().as_secs_f64();
            // Reported for the harness, which holds it against the quota.
            Blocked(format!("cpu {used:.3}s over {wall:.3}s wall"))
        })],
        "SUP-06" => vec![
            at("environment", |e| {
                let vars: Vec<String> = std::env::vars_os()
                    .map(|(k, _)| k.to_string_lossy().into_owned())
                    .collect();
                if vars.contains(&e.ctx.env_canary) {
                    Escaped(format!(
                        "the supervisor's {} reached the worker",
                        e.ctx.env_canary
                    ))
                } else if vars.is_empty() {
                    Blocked("empty environment".into())
                } else {
                    Escaped(format!("environment not empty: {}", vars.join(", ")))
                }
            }),
            at("argv and AT_EXECFN", |e| {
                let args: Vec<String> = std::env::args_os()
                    .map(|a| a.to_string_lossy().into_owned())
                    .collect();
                // SAFETY: getauxval returns a pointer to a C string in the auxv area or 0.
                let execfn = unsafe {
                    let ptr = libc::getauxval(libc::AT_EXECFN) as *const libc::c_char;
                    if ptr.is_null() {
                        String::new()
                    } else {
                        std::ffi::CStr::from_ptr(ptr).to_string_lossy().into_owned()
                    }
                };
                let all = format!("{} {execfn}", args.join(" "));
                if !e.ctx.host_path.is_empty() && all.contains(&e.ctx.host_path) {
                    Escaped(format!("host path in argv/AT_EXECFN: {all}"))
                } else {
                    Blocked(format!("argv/AT_EXECFN carry no host path ({all})"))
                }
            }),
        ],
        "SUP-01" => vec![
            at("4 GiB length prefix", |_| {
                raw_frame(&[b'A', b'B', b'X', b'1', 1, 0, 0xff, 0xff, 0xff, 0xff])
            }),
            at("unknown magic", |_| raw_frame(b"GARBAGE-GARBAGE-GARBAGE")),
            at("truncated frame", |_| raw_frame(b"AB")),
            at("flood of frames", |_| {
                let junk = vec![0x41u8; 1 << 20];
                for _ in 0..64 {
                    // SAFETY: writing a local buffer to the IPC socket.
                    if unsafe { libc::write(3, junk.as_ptr().cast(), junk.len()) } < 0 {
                        return Blocked(format!("write: {}", errname(errno())));
                    }
                }
                raw_frame(b"")
            }),
        ],
        "SUP-02" => vec![
            at("HTTP to a host the manifest does not grant", |e| {
                fetch(e, &format!("http://127.0.0.1:{}/", e.ctx.tcp_port), vec![])
            }),
            at("a secret placeholder the manifest does not grant", |e| {
                fetch(
                    e,
                    &format!("http://127.0.0.1:{}/", e.ctx.tcp_port),
                    vec![("Authorization".into(), "Bearer {{secret:TOKEN}}".into())],
                )
            }),
            at("a host file through the HTTP host function", |e| {
                fetch(e, "file:///etc/passwd", vec![])
            }),
            at("a second Ready mid-run (out-of-order message)", |e| {
                let mut ch = e.ch.borrow_mut();
                let Some(ch) = ch.as_mut() else {
                    return Escaped("no channel".into());
                };
                let _ = ch.send(&ToSupervisor::Ready(Default::default()));
                // The supervisor must drop the worker; if it answers instead, the
                // harness sees this verdict.
                match ch.recv::<ToWorker>(MAX_FRAME, None) {
                    Ok(m) => Escaped(format!("the supervisor answered {m:?}")),
                    Err(err) => Blocked(format!("dropped: {err}")),
                }
            }),
        ],
        "SUP-14" => vec![
            at("ignore every signal and spin", |_| {
                for sig in 1..32 {
                    if sig != libc::SIGKILL && sig != libc::SIGSTOP {
                        // SAFETY: installing SIG_IGN for a standard signal.
                        unsafe { libc::signal(sig, libc::SIG_IGN) };
                    }
                }
                let mut x = 0u64;
                loop {
                    x = std::hint::black_box(x.wrapping_add(1));
                }
            }),
            at("stop itself (SIGSTOP), then spin", |_| {
                // As pid 1 of its namespace the kernel may ignore this; either
                // way the deadline must end it.
                // SAFETY: signals this very thread.
                unsafe {
                    libc::syscall(
                        libc::SYS_tgkill,
                        libc::getpid(),
                        libc::gettid(),
                        libc::SIGSTOP,
                    )
                };
                let mut x = 0u64;
                loop {
                    x = std::hint::black_box(x.wrapping_add(1));
                }
            }),
            at("block in a host call (sleep past the deadline)", |_| {
                std::thread::sleep(std::time::Duration::from_secs(3600));
                Escaped("woke up after an hour".into())
            }),
        ],
        // The harness reads the audit log afterwards (SUP-12).
        "SUP-12" => vec![
            at("guest log with CR/LF/ANSI and a forged level", |e| {
                send_logs(
                    e,
                    1,
                    "error\n[forged]",
                    "line1\r\nagentbox: forged line\x1b[2J\x1b]0;pwned\x07",
                )
            }),
            at("guest log flood (64 MiB in 1 KiB lines)", |e| {
                send_logs(e, 65536, "info", &"x".repeat(1024))
            }),
        ],
        // The harness inspects the worker's cgroups meanwhile (CG-04).
        "CG-04" => vec![at("stay alive while the harness looks", |_| {
            std::thread::sleep(std::time::Duration::from_millis(1500));
            Blocked("stayed 1.5 s in its cgroups".into())
        })],
        // The network cases: the harness chose the requests (SSRF, SEC, RES-12);
        // the probe sends them over IPC and reports every answer for the harness
        // to judge against the lab's hit counters.
        "RELAY" => vec![at("send the harness's requests over IPC", relay)],
        // Not an attack: the harness's "next invocation works" check.
        "ALIVE" => vec![at("confined and answering", |_| Blocked("alive".into()))],
        _ => Vec::new(),
    }
}

/// Asks the supervisor for an HTTP request over the IPC protocol, as a compromised
/// worker would: anything but a refusal is an escape.
fn fetch(e: &Env, url: &str, headers: Vec<(String, String)>) -> Out {
    let mut ch = e.ch.borrow_mut();
    let Some(ch) = ch.as_mut() else {
        return Escaped("no channel".into());
    };
    let req = HttpRequest {
        method: "GET".into(),
        url: url.into(),
        headers,
        body: None,
        timeout_ms: Some(2000),
    };
    if let Err(err) = ch.send(&ToSupervisor::Fetch(req)) {
        return Blocked(format!("dropped: {err}"));
    }
    // Blocking: a receive timeout would need setsockopt, which the worker's
    // seccomp profile does not allow (the deadline bounds the wait).
    match ch.recv::<ToWorker>(MAX_FRAME, None) {
        Ok(ToWorker::HttpReply(HttpReply::Response { status, .. })) => {
            Escaped(format!("the supervisor fetched {url}: status {status}"))
        }
        Ok(ToWorker::HttpReply(r)) => Blocked(format!("refused: {r:?}")),
        Ok(other) => Escaped(format!("unexpected answer {other:?}")),
        Err(err) => Blocked(format!("dropped: {err}")),
    }
}

/// The `RELAY` attempt: every request of the context, one after another; the
/// answers as JSON (`{status, headers, body}` or `{error, reason}`).
fn relay(e: &Env) -> Out {
    let mut answers = Vec::new();
    {
        let mut ch = e.ch.borrow_mut();
        let Some(ch) = ch.as_mut() else {
            return Escaped("no channel".into());
        };
        for r in &e.ctx.requests {
            let req = HttpRequest {
                method: r.method.clone(),
                url: r.url.clone(),
                headers: r.headers.clone(),
                body: r.body.clone().map(String::into_bytes),
                timeout_ms: r.timeout_ms,
            };
            if let Err(err) = ch.send(&ToSupervisor::Fetch(req)) {
                answers.push(serde_json::json!({"error": "dropped", "reason": err.to_string()}));
                break;
            }
            let a = match ch.recv::<ToWorker>(MAX_FRAME, None) {
                Ok(ToWorker::HttpReply(HttpReply::Response {
                    status,
                    headers,
                    body,
                })) => {
                    let body = &body[..body.len().min(64 << 10)];
                    serde_json::json!({"status": status, "headers": headers, "body": String::from_utf8_lossy(body)})
                }
                Ok(ToWorker::HttpReply(r)) => {
                    let (kind, reason) = match r {
                        HttpReply::Denied(m) => ("denied", m),
                        HttpReply::InvalidRequest(m) => ("invalid-request", m),
                        HttpReply::Timeout => ("timeout", String::new()),
                        HttpReply::TooLarge => ("too-large", String::new()),
                        HttpReply::Transport(m) => ("transport", m),
                        HttpReply::Response { .. } => ("response", String::new()),
                    };
                    serde_json::json!({"error": kind, "reason": reason})
                }
                Ok(other) => {
                    serde_json::json!({"error": "unexpected", "reason": format!("{other:?}")})
                }
                Err(err) => {
                    answers
                        .push(serde_json::json!({"error": "dropped", "reason": err.to_string()}));
                    break;
                }
            };
            answers.push(a);
        }
    }
    if e.ctx.linger_ms > 0 {
        std::thread::sleep(std::time::Duration::from_millis(e.ctx.linger_ms));
    }
    Blocked(serde_json::Value::Array(answers).to_string())
}

/// Sends log lines as a compromised worker would (no worker-side budget).
fn send_logs(e: &Env, n: usize, level: &str, message: &str) -> Out {
    let mut ch = e.ch.borrow_mut();
    let Some(ch) = ch.as_mut() else {
        return Escaped("no channel".into());
    };
    for i in 0..n {
        let msg = ToSupervisor::Log {
            level: level.into(),
            message: message.into(),
        };
        if let Err(err) = ch.send(&msg) {
            return Blocked(format!("dropped after {i} lines: {err}"));
        }
    }
    Blocked(format!(
        "{n} line(s) sent; the harness checks the audit log"
    ))
}

/// Writes raw bytes to the IPC socket and waits to be dropped.
fn raw_frame(bytes: &[u8]) -> Out {
    // SAFETY: writing a local buffer to the IPC socket.
    unsafe { libc::write(3, bytes.as_ptr().cast(), bytes.len()) };
    let mut buf = [0u8; 64];
    // The supervisor should hang up; the harness checks what it reported.
    // SAFETY: reading into a local buffer.
    let n = unsafe { libc::read(3, buf.as_mut_ptr().cast(), buf.len()) };
    std::process::exit(if n <= 0 { 0 } else { 3 })
}

fn cpu_time() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime into a local.
    unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 + ts.tv_nsec as f64 / 1e9
}

fn ll02() -> Vec<Attempt> {
    let mk = |name: &'static str, f: fn(&str) -> Result<i64, i32>| {
        at(name, move |e: &Env| must_fail(name, f(&e.ro)))
    };
    fn at_path(ro: &str, rel: &str) -> CString {
        c(&format!("{ro}/{rel}"))
    }
    const CWD: u64 = libc::AT_FDCWD as u64;
    vec![
        mk("creat", |ro| {
            open(&format!("{ro}/new-file"), libc::O_CREAT | libc::O_WRONLY)
        }),
        mk("open O_TRUNC read-only", |ro| {
            open(&format!("{ro}/file.txt"), libc::O_RDONLY | libc::O_TRUNC)
        }),
        mk("mkdir", |ro| {
            let x = at_path(ro, "new-dir");
            sys(libc::SYS_mkdirat, [CWD, p(&x), 0o755, 0, 0, 0])
        }),
        mk("mknod fifo", |ro| {
            let x = at_path(ro, "fifo");
            sys(
                libc::SYS_mknodat,
                [CWD, p(&x), (libc::S_IFIFO | 0o644) as u64, 0, 0, 0],
            )
        }),
        mk("mknod char device", |ro| {
            let x = at_path(ro, "null");
            sys(
                libc::SYS_mknodat,
                [
                    CWD,
                    p(&x),
                    (libc::S_IFCHR | 0o666) as u64,
                    libc::makedev(1, 3),
                    0,
                    0,
                ],
            )
        }),
        mk("symlink", |ro| {
            let (t, x) = (c("/etc/passwd"), at_path(ro, "link"));
            sys(libc::SYS_symlinkat, [p(&t), CWD, p(&x), 0, 0, 0])
        }),
        mk("unlink", |ro| {
            let x = at_path(ro, "file.txt");
            sys(libc::SYS_unlinkat, [CWD, p(&x), 0, 0, 0, 0])
        }),
        mk("rmdir", |ro| {
            let x = at_path(ro, "sub");
            sys(
                libc::SYS_unlinkat,
                [CWD, p(&x), libc::AT_REMOVEDIR as u64, 0, 0, 0],
            )
        }),
        mk("rename", |ro| {
            let (a, b) = (at_path(ro, "file.txt"), at_path(ro, "moved.txt"));
            sys(libc::SYS_renameat, [CWD, p(&a), CWD, p(&b), 0, 0])
        }),
        mk("link", |ro| {
            let (a, b) = (at_path(ro, "file.txt"), at_path(ro, "hard.txt"));
            sys(libc::SYS_linkat, [CWD, p(&a), CWD, p(&b), 0, 0])
        }),
        mk("write into a file", |ro| {
            open(&format!("{ro}/file.txt"), libc::O_WRONLY)
        }),
    ]
}

// ---------------------------------------------------- native tool (exec, procfs)

/// A program the attempts copy into writable places: any ELF that exits 0.
const ELF: &str = "/usr/bin/true";

/// Copies [`ELF`] to `path`, mode 0755.
fn plant(path: &str) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::copy(ELF, path).map_err(|e| format!("cannot write {path}: {e}"))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
        .map_err(|e| format!("cannot chmod {path}: {e}"))
}

/// Runs `exec` (an execve or execveat that should fail) in a forked child: the
/// attempt escaped when the child ran the planted program (exit 0 with no errno
/// reported), blocked with the errno the exec call got.
fn exec_in_child(what: &str, exec: impl Fn() -> Result<i64, i32>) -> Out {
    let mut fds = [0i32; 2];
    // SAFETY: pipe2 fills the two-element array.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Escaped(format!("pipe2: {}", errname(errno())));
    }
    // SAFETY: the child only makes system calls and leaves with _exit.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Escaped(format!("fork: {}", errname(errno())));
    }
    if pid == 0 {
        let e = exec().err().unwrap_or(0);
        // SAFETY: the write end of our pipe; a local value.
        unsafe {
            libc::write(fds[1], (&e as *const i32).cast(), 4);
            libc::_exit(127);
        }
    }
    // SAFETY: closing our copy of the write end.
    unsafe { libc::close(fds[1]) };
    let mut e = 0i32;
    // SAFETY: reading 4 bytes into a local value.
    let n = unsafe { libc::read(fds[0], (&mut e as *mut i32).cast(), 4) };
    let mut status = 0;
    // SAFETY: waiting for our own child.
    unsafe {
        libc::close(fds[0]);
        libc::waitpid(pid, &mut status, 0);
    }
    if n == 4 {
        Blocked(errname(e))
    } else if libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0 {
        Escaped(format!(
            "{what}: succeeded (the child exited 0 without an errno)"
        ))
    } else {
        Blocked(format!("{what}: child status {status:#x}"))
    }
}

fn execve_path(path: &str) -> Out {
    let pc = c(path);
    let argv = [pc.as_ptr(), std::ptr::null()];
    let envp: [*const libc::c_char; 1] = [std::ptr::null()];
    exec_in_child(path, || {
        sys(
            libc::SYS_execve,
            [p(&pc), argv.as_ptr() as u64, envp.as_ptr() as u64, 0, 0, 0],
        )
    })
}

fn execveat_fd(fd: i64) -> Out {
    let empty = c("");
    let name = c("x");
    let argv = [name.as_ptr(), std::ptr::null()];
    let envp: [*const libc::c_char; 1] = [std::ptr::null()];
    exec_in_child("execveat(fd, AT_EMPTY_PATH)", || {
        sys(
            libc::SYS_execveat,
            [
                fd as u64,
                p(&empty),
                argv.as_ptr() as u64,
                envp.as_ptr() as u64,
                libc::AT_EMPTY_PATH as u64,
                0,
            ],
        )
    })
}

/// Plants [`ELF`] at `path` and tries to execve it.
fn plant_and_exec(path: &str) -> Out {
    if let Err(e) = plant(path) {
        return Blocked(e);
    }
    execve_path(path)
}

/// Plants [`ELF`] at `path` and maps it executable: directly (`mprotect` false)
/// or readable first, then made executable.
fn plant_and_map(path: &str, mprotect: bool) -> Out {
    if let Err(e) = plant(path) {
        return Blocked(e);
    }
    let fd = match open(path, libc::O_RDONLY | libc::O_CLOEXEC) {
        Ok(fd) => fd,
        Err(e) => return Blocked(format!("open {path}: {}", errname(e))),
    };
    let first = if mprotect {
        libc::PROT_READ
    } else {
        libc::PROT_READ | libc::PROT_EXEC
    };
    let r = sys(
        libc::SYS_mmap,
        [
            0,
            4096,
            first as u64,
            libc::MAP_PRIVATE as u64,
            fd as u64,
            0,
        ],
    );
    close(fd);
    let addr = match (r, mprotect) {
        (Err(e), _) => return Blocked(format!("mmap: {}", errname(e))),
        (Ok(a), false) => {
            let _ = sys(libc::SYS_munmap, [a as u64, 4096, 0, 0, 0, 0]);
            return Escaped(format!("{path} mapped PROT_EXEC"));
        }
        (Ok(a), true) => a,
    };
    let r = sys(
        libc::SYS_mprotect,
        [
            addr as u64,
            4096,
            (libc::PROT_READ | libc::PROT_EXEC) as u64,
            0,
            0,
            0,
        ],
    );
    let _ = sys(libc::SYS_munmap, [addr as u64, 4096, 0, 0, 0, 0]);
    must_fail("mprotect(PROT_EXEC) of the mapping", r)
}

/// A memfd holding [`ELF`], created with `flags`.
fn memfd_with_elf(flags: u32) -> Result<i64, Out> {
    let name = c("x");
    let fd = sys(
        libc::SYS_memfd_create,
        [p(&name), u64::from(flags), 0, 0, 0, 0],
    )
    .map_err(|e| Blocked(format!("memfd_create: {}", errname(e))))?;
    let data = std::fs::read(ELF).map_err(|e| Escaped(format!("read {ELF}: {e}")))?;
    // SAFETY: writing a local buffer to our memfd.
    let n = unsafe { libc::write(fd as i32, data.as_ptr().cast(), data.len()) };
    if n != data.len() as isize {
        return Err(Escaped(format!("write to the memfd: {}", errname(errno()))));
    }
    Ok(fd)
}

const MFD_NOEXEC_SEAL: u32 = 8;
const MFD_EXEC: u32 = 0x10;

/// Names in /proc that are not process directories.
fn proc_extras() -> Out {
    match std::fs::read_dir("/proc") {
        Err(e) => Blocked(errname(e.raw_os_error().unwrap_or(0))),
        Ok(d) => {
            let extra: Vec<String> = d
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| {
                    !n.bytes().all(|b| b.is_ascii_digit()) && n != "self" && n != "thread-self"
                })
                .collect();
            if extra.is_empty() {
                Blocked("only process directories".into())
            } else {
                Escaped(format!("/proc shows {}", extra.join(" ")))
            }
        }
    }
}

/// A forked child (as a tool's program is) reads the worker's /proc entry.
fn child_reads_worker() -> Out {
    exec_in_child("read /proc/1/status from a child", || {
        match open("/proc/1/status", libc::O_RDONLY) {
            // Readable: report "no errno" with exit 0 (escaped).
            // SAFETY: leaving the child.
            Ok(_) => unsafe { libc::_exit(0) },
            Err(e) => Err(e),
        }
    })
}

fn prctl_set(what: &str, a: [u64; 5]) -> Out {
    must_fail(
        what,
        sys(libc::SYS_prctl, [a[0], a[1], a[2], a[3], a[4], 0]),
    )
}

fn sc01(profile: &str) -> Vec<Attempt> {
    let allowed: Vec<String> = agentbox_profiles::SeccompProfile::shipped(profile)
        .map(|p| {
            p.allowed()
                .iter()
                .map(|s| s.to_string())
                .chain(p.errno_names())
                .collect()
        })
        .unwrap_or_default();
    let mut v: Vec<Attempt> = syscalls::Sysno::iter()
        .filter(|s| !allowed.iter().any(|a| a == s.name()))
        .map(|s| {
            let (name, nr) = (s.name(), s.id() as i64);
            at(format!("{name} ({nr})"), move |_| match sys(nr, [0; 6]) {
                // SAFETY: a process-creating call that got through: the child leaves.
                Ok(0) if matches!(name, "fork" | "vfork" | "clone") => unsafe { libc::_exit(0) },
                r => must_fail(name, r),
            })
        })
        .collect();
    for nr in [463i64, 511, 1000, 0x4000_0000] {
        v.push(at(format!("unassigned number {nr}"), move |_| {
            must_fail("syscall", sys(nr, [0; 6]))
        }));
    }
    v
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
