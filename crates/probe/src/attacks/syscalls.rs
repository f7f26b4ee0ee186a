//! System-call attacks the seccomp filter and the kernel must stop: 32-bit and x32
//! entry points, io_uring, new namespaces, ptrace, keyrings, flags that must stay set.

use super::exec::{child_reads_worker, proc_extras};
use super::*;

/// The attempts of this family's cases (`None`: not one of them).
pub(super) fn attempts(case: &str, profile: &str) -> Option<Vec<Attempt>> {
    Some(match case {
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
        _ => return None,
    })
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
    let mut v: Vec<Attempt> = ::syscalls::Sysno::iter()
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
