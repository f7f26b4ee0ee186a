//! What the worker's namespaces must hide: host processes and signals, mounts,
//! the network, host names, devices, the supervisor's files.

use super::*;

/// The attempts of this family's cases (`None`: not one of them).
pub(super) fn attempts(case: &str) -> Option<Vec<Attempt>> {
    Some(match case {
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
        _ => return None,
    })
}
