//! Filesystem and socket access Landlock must refuse: files outside the grants,
//! writes to read-only grants, TCP, UDP and abstract unix sockets.

use super::*;

/// The attempts of this family's cases (`None`: not one of them).
pub(super) fn attempts(case: &str) -> Option<Vec<Attempt>> {
    Some(match case {
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
        _ => return None,
    })
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
