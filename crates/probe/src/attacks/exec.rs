//! Running code the sandbox did not ship: exec, execveat, memfds, mapping planted
//! files executable, and the prctl and /proc tricks around them.

use super::*;

/// The attempts of this family's cases (`None`: not one of them).
pub(super) fn attempts(case: &str) -> Option<Vec<Attempt>> {
    Some(match case {
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
        _ => return None,
    })
}

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
pub(super) fn proc_extras() -> Out {
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
pub(super) fn child_reads_worker() -> Out {
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
