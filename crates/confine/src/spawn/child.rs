//! The child side of a spawn: the memory a `CLONE_VM` child runs on, the clone3
//! trampoline, and everything the child does before its exec (async-signal-safe
//! system calls only).

use super::{SpawnError, WORKER_FD};
use std::ffi::CString;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};

/// Everything the child needs, prepared before the clone: after it, the child
/// may only make async-signal-safe system calls (the supervisor is multi-threaded).
pub(super) struct ChildPlan {
    /// The worker executable, opened O_PATH: exec'd by descriptor, so that no
    /// host path reaches the worker (its AT_EXECFN reads `/dev/fd/N`).
    pub(super) exe_fd: RawFd,
    /// Its path, for an interpreter script only (test doubles): a script cannot
    /// be exec'd through a close-on-exec descriptor.
    pub(super) exe_path: CString,
    #[expect(dead_code, reason = "owns the strings `argv_ptrs` points to")]
    pub(super) argv: Vec<CString>,
    pub(super) sock: RawFd,
    pub(super) null: RawFd,
    pub(super) stderr_w: RawFd,
    /// Read end of the go-ahead pipe (id maps written), when namespaces are new.
    pub(super) go_r: Option<RawFd>,
    /// Its write end: the child closes its inherited copy, so that the
    /// supervisor's death reads as EOF.
    pub(super) go_w: Option<RawFd>,
    /// Write end of the exec-error pipe (close-on-exec: EOF means exec succeeded).
    pub(super) err_w: RawFd,
    /// Raise the namespace's capabilities as ambient before exec: only when the
    /// worker's uid is not 0 (an execve by uid 0 keeps them anyway).
    pub(super) ambient: bool,
    /// NULL-terminated pointers into `argv`, and an empty environment.
    pub(super) argv_ptrs: Vec<*const nix::libc::c_char>,
    pub(super) envp: [*const nix::libc::c_char; 1],
}

/// What the child uses until it execs. It is cloned with `CLONE_VM` (as
/// `posix_spawn` does): it shares the supervisor's memory instead of getting a
/// copy of it, so the clone costs the same whatever the supervisor's size, and
/// the supervisor takes no copy-on-write faults while the child execs. So its
/// stack and everything it reads live here, and are released only once it has
/// exec'd (it has a new address space then) or is dead.
pub(super) struct ChildMem {
    pub(super) plan: Box<ChildPlan>,
    pub(super) stack: *mut nix::libc::c_void,
}

/// The child's stack, with a guard page below it.
const CHILD_STACK: usize = 64 << 10;
const GUARD: usize = 4 << 10;

impl ChildMem {
    pub(super) fn new(plan: ChildPlan) -> Result<Self, SpawnError> {
        use nix::libc;
        // SAFETY: a fresh private anonymous mapping; nothing else refers to it.
        let stack = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                CHILD_STACK + GUARD,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_STACK,
                -1,
                0,
            )
        };
        if stack == libc::MAP_FAILED {
            return Err(SpawnError::Prepare(std::io::Error::last_os_error()));
        }
        // SAFETY: the lowest page of the mapping made above.
        if unsafe { libc::mprotect(stack, GUARD, libc::PROT_NONE) } != 0 {
            let e = std::io::Error::last_os_error();
            // SAFETY: the mapping made above, not used by anything yet.
            unsafe { libc::munmap(stack, CHILD_STACK + GUARD) };
            return Err(SpawnError::Prepare(e));
        }
        Ok(Self {
            plan: Box::new(plan),
            stack,
        })
    }

    /// The top of the stack (16-byte aligned, as the x86_64 ABI wants at a call).
    fn stack_top(&self) -> u64 {
        self.stack as u64 + (CHILD_STACK + GUARD) as u64
    }
}

impl Drop for ChildMem {
    fn drop(&mut self) {
        // SAFETY: the mapping made in `new`; the owner drops this only once the
        // child has exec'd or been reaped (see `Spawning`).
        unsafe { nix::libc::munmap(self.stack, CHILD_STACK + GUARD) };
    }
}

/// Starts `exe args...` as a direct child: with an empty environment, `/` as
/// working directory, stdin and stdout on /dev/null, stderr piped, the worker end
/// of a new socketpair as fd 3, and nothing else (everything above fd 3 is made
/// close-on-exec in the child, including descriptors the supervisor inherited). With `namespaces`, the child is cloned into new user, mount,
/// pid, net, ipc and uts namespaces and waits until the supervisor has written its
/// uid/gid map before it execs; with `cgroup_dir`, it is born in that cgroup.
impl std::fmt::Debug for ChildMem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ChildMem")
    }
}

pub(super) fn clone_and_exec(
    mem: &ChildMem,
    flags: u64,
    cgroup_fd: u64,
) -> Result<(i32, OwnedFd), Cloned> {
    // The kernel stores the new process's pidfd here (close-on-exec).
    let mut pidfd: nix::libc::c_int = -1;
    let mut args = nix::libc::clone_args {
        flags: flags | nix::libc::CLONE_VM as u64 | nix::libc::CLONE_PIDFD as u64,
        pidfd: &mut pidfd as *mut nix::libc::c_int as u64,
        child_tid: 0,
        parent_tid: 0,
        exit_signal: nix::libc::SIGCHLD as u64,
        stack: mem.stack as u64 + GUARD as u64,
        stack_size: CHILD_STACK as u64,
        tls: 0,
        set_tid: 0,
        set_tid_size: 0,
        cgroup: cgroup_fd,
    };
    debug_assert_eq!(args.stack + args.stack_size, mem.stack_top());
    // No signal handler of the supervisor may run in the child, which shares its
    // memory: every signal is blocked across the clone (raw rt_sigprocmask, so
    // that glibc's own two are blocked too), and the child sets every disposition
    // to default before it unblocks them.
    let all: u64 = !0;
    let mut old: u64 = 0;
    // SAFETY: rt_sigprocmask with valid pointers to 8-byte masks.
    let blocked = unsafe {
        sys(
            nix::libc::SYS_rt_sigprocmask,
            [
                nix::libc::SIG_SETMASK as u64,
                &all as *const u64 as u64,
                &mut old as *mut u64 as u64,
                8,
                0,
                0,
            ],
        )
    };
    if blocked < 0 {
        return Err(Cloned::Reaped(SpawnError::Prepare(
            std::io::Error::from_raw_os_error((-blocked) as i32),
        )));
    }
    // SAFETY: `args` is a valid clone_args of the size passed; its stack is
    // `mem`'s, which outlives the child's use of it (released only after the
    // exec or the child's death, see `Spawning`). The child starts on that stack
    // in `child_entry` and never returns; it makes raw system calls only.
    let r = unsafe { clone3_into(&mut args, &mem.plan) };
    // SAFETY: as above, restoring the mask saved there.
    let restored = unsafe {
        sys(
            nix::libc::SYS_rt_sigprocmask,
            [
                nix::libc::SIG_SETMASK as u64,
                &old as *const u64 as u64,
                0,
                8,
                0,
                0,
            ],
        )
    };
    // SAFETY: clone3 with CLONE_PIDFD stored a new descriptor (when >= 0) that
    // nothing else owns.
    let owned = (r > 0 && pidfd >= 0).then(|| unsafe { OwnedFd::from_raw_fd(pidfd) });
    // Kills and reaps the child; `Unreaped` tells the caller that the child may
    // still run on `mem`, which must then never be unmapped.
    let reap = |why: SpawnError| {
        // SAFETY: kill and waitpid on our own unreaped child (its pid cannot
        // have been recycled yet).
        let reaped = unsafe {
            nix::libc::kill(r as i32, nix::libc::SIGKILL);
            loop {
                if nix::libc::waitpid(r as i32, std::ptr::null_mut(), nix::libc::__WALL) >= 0 {
                    break true;
                }
                if *nix::libc::__errno_location() != nix::libc::EINTR {
                    break false;
                }
            }
        };
        Err(if reaped {
            Cloned::Reaped(why)
        } else {
            Cloned::Unreaped(why)
        })
    };
    if restored < 0 {
        let why = SpawnError::Prepare(std::io::Error::from_raw_os_error((-restored) as i32));
        return if r > 0 {
            reap(why)
        } else {
            Err(Cloned::Reaped(why))
        };
    }
    if r < 0 {
        return Err(Cloned::Reaped(SpawnError::Clone(
            std::io::Error::from_raw_os_error((-r) as i32),
        )));
    }
    let Some(pidfd) = owned else {
        // Cannot happen with CLONE_PIDFD; never leave the unreaped child behind.
        return reap(SpawnError::Clone(std::io::Error::other(
            "clone3 returned no pidfd",
        )));
    };
    Ok((r as i32, pidfd))
}

/// A failed [`clone_and_exec`]: whether a child that was cloned is gone.
pub(super) enum Cloned {
    /// No child, or it was killed and reaped.
    Reaped(SpawnError),
    /// It could not be reaped and may still run on its memory.
    Unreaped(SpawnError),
}

/// clone3 that starts the child in [`child_entry`] on the stack named in `args`.
/// Returns the child's pid, or `-errno`.
///
/// # Safety
/// `args` must be a valid `clone_args` with `CLONE_VM` and a stack that stays
/// mapped until the child has exec'd or died; `plan` must stay valid as long.
unsafe fn clone3_into(args: &mut nix::libc::clone_args, plan: &ChildPlan) -> i64 {
    let ret: i64;
    // SAFETY: the parent path is a plain system call (rax, rcx and r11 change).
    // In the child the kernel returns 0 on the new, empty stack: nothing of this
    // function's frame may be used there, so the child calls `child_entry`
    // directly with `plan` (kept in r12 and r13, which the kernel preserves); the
    // stack top is 16-byte aligned, as the call wants, and `child_entry` never
    // returns (ud2 would trap).
    unsafe {
        std::arch::asm!(
            "syscall",
            "test rax, rax",
            "jnz 2f",
            "mov rdi, r12",
            "call r13",
            "ud2",
            "2:",
            inlateout("rax") nix::libc::SYS_clone3 => ret,
            in("rdi") args as *mut nix::libc::clone_args,
            in("rsi") std::mem::size_of::<nix::libc::clone_args>(),
            in("r12") plan as *const ChildPlan,
            in("r13") child_entry as extern "C" fn(*const ChildPlan) -> !,
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack),
        );
    }
    ret
}

/// A raw system call: no libc, no errno. The child shares the supervisor's
/// memory, thread-local errno included, until it execs. Returns `-errno` on error.
///
/// # Safety
/// As the system call `n` with these arguments.
unsafe fn sys(n: nix::libc::c_long, a: [u64; 6]) -> i64 {
    let ret: i64;
    // SAFETY: the syscall instruction; the kernel changes rax, rcx and r11 only.
    unsafe {
        std::arch::asm!(
            "syscall",
            inlateout("rax") n => ret,
            in("rdi") a[0],
            in("rsi") a[1],
            in("rdx") a[2],
            in("r10") a[3],
            in("r8") a[4],
            in("r9") a[5],
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack),
        );
    }
    ret
}

/// The child's first (and only) frame on its own stack.
extern "C" fn child_entry(plan: *const ChildPlan) -> ! {
    // SAFETY: `plan` points into the `ChildMem` that outlives the child's use of
    // it; child_exec only makes raw system calls and ends in execve or exit.
    unsafe { child_exec(&*plan) }
}

/// In the cloned child: signals to default, wait for the go-ahead, arrange
/// descriptors, exec.
///
/// # Safety
/// Must only run in the child of [`clone3_into`].
unsafe fn child_exec(plan: &ChildPlan) -> ! {
    use nix::libc;
    // SAFETY (whole body): raw system calls on integers and on pointers into
    // memory prepared before the clone (`plan`) or on this stack.
    unsafe {
        let exit = |code: u64| -> ! {
            sys(libc::SYS_exit_group, [code, 0, 0, 0, 0, 0]);
            std::hint::unreachable_unchecked()
        };
        // No core dump: before exec it would hold the supervisor's memory, which
        // the child shares until then (a core pattern that pipes to a helper
        // ignores this limit; signals stay blocked until just before the exec).
        // It stays 0 for the worker, which sets it to 0 itself anyway.
        let no_core: [u64; 2] = [0, 0];
        sys(
            libc::SYS_prlimit64,
            [
                0,
                libc::RLIMIT_CORE as u64,
                no_core.as_ptr() as u64,
                0,
                0,
                0,
            ],
        );
        // Every disposition to default: the supervisor's handlers are in memory
        // the child shares, and an ignored signal would stay ignored across exec.
        // The kernel's sigaction: handler, flags, restorer, mask.
        let dfl: [u64; 4] = [0; 4];
        for sig in 1..=64u64 {
            if sig != libc::SIGKILL as u64 && sig != libc::SIGSTOP as u64 {
                sys(
                    libc::SYS_rt_sigaction,
                    [sig, dfl.as_ptr() as u64, 0, 8, 0, 0],
                );
            }
        }
        let fail = |err_w: i64, r: i64| -> ! {
            let b = ((-r) as i32).to_ne_bytes();
            sys(
                libc::SYS_write,
                [err_w as u64, b.as_ptr() as u64, 4, 0, 0, 0],
            );
            exit(127)
        };
        if let Some(w) = plan.go_w {
            sys(libc::SYS_close, [w as u64, 0, 0, 0, 0, 0]);
        }
        let dup_hi = |fd: RawFd| {
            sys(
                libc::SYS_fcntl,
                [fd as u64, libc::F_DUPFD_CLOEXEC as u64, 10, 0, 0, 0],
            )
        };
        // The exec-error pipe above the dup2 targets too (close-on-exec).
        let err_w = dup_hi(plan.err_w);
        if err_w < 0 {
            exit(127);
        }
        if let Some(go) = plan.go_r {
            let mut b = 0u8;
            loop {
                let r = sys(
                    libc::SYS_read,
                    [go as u64, &mut b as *mut u8 as u64, 1, 0, 0, 0],
                );
                if r == 1 {
                    break;
                }
                if r == -(libc::EINTR as i64) {
                    continue;
                }
                // The supervisor gave up (EOF): never exec unmapped.
                exit(126);
            }
            if plan.ambient {
                keep_capabilities_across_exec();
            }
        }
        // Move the sources above the targets first, so that no dup2 clobbers one.
        let (sock, null, errw, exe) = (
            dup_hi(plan.sock),
            dup_hi(plan.null),
            dup_hi(plan.stderr_w),
            dup_hi(plan.exe_fd),
        );
        for r in [sock, null, errw, exe] {
            if r < 0 {
                fail(err_w, r);
            }
        }
        for (from, to) in [(null, 0), (null, 1), (errw, 2), (sock, WORKER_FD as i64)] {
            let r = sys(libc::SYS_dup2, [from as u64, to as u64, 0, 0, 0, 0]);
            if r < 0 {
                fail(err_w, r);
            }
        }
        // Descriptors the supervisor itself inherited without close-on-exec (from
        // whatever started it) must not reach the worker: mark everything above
        // the socket close-on-exec (the exec-error pipe already is).
        let r = sys(
            libc::SYS_close_range,
            [
                (WORKER_FD + 1) as u64,
                u64::from(u32::MAX),
                libc::CLOSE_RANGE_CLOEXEC as u64,
                0,
                0,
                0,
            ],
        );
        if r < 0 {
            fail(err_w, r);
        }
        let r = sys(libc::SYS_chdir, [c"/".as_ptr() as u64, 0, 0, 0, 0, 0]);
        if r < 0 {
            fail(err_w, r);
        }
        // Nothing blocked for the program it execs (the supervisor blocked
        // everything for the clone): unblocked only now, so that a signal meant
        // for the child is handled, by default, within a few instructions of the
        // exec and never while it waits for the go-ahead above.
        let none: u64 = 0;
        sys(
            libc::SYS_rt_sigprocmask,
            [
                libc::SIG_SETMASK as u64,
                &none as *const u64 as u64,
                0,
                8,
                0,
                0,
            ],
        );
        let (argv, envp) = (plan.argv_ptrs.as_ptr() as u64, plan.envp.as_ptr() as u64);
        let r = sys(
            libc::SYS_execveat,
            [
                exe as u64,
                c"".as_ptr() as u64,
                argv,
                envp,
                libc::AT_EMPTY_PATH as u64,
                0,
            ],
        );
        // ENOENT from execveat on an existing file: an interpreter script, which
        // cannot run from a close-on-exec descriptor. Exec it by path.
        let r = if r == -(libc::ENOENT as i64) {
            sys(
                libc::SYS_execve,
                [plan.exe_path.as_ptr() as u64, argv, envp, 0, 0, 0],
            )
        } else {
            r
        };
        fail(err_w, r)
    }
}

/// The clone gave the child every capability in its new user namespace, but an
/// execve by a non-zero uid (the 1:1 map of an unprivileged supervisor) would drop
/// them, and the worker needs them to build its root (mount, pivot_root, the
/// cgroup namespace) before it drops them all itself. Inheritable := permitted,
/// then each one raised as ambient, so that they survive the exec — inside the new
/// user namespace only; the worker clears the ambient set with the rest.
///
/// # Safety
/// Raw capget/capset/prctl on stack values (no libc: see [`sys`]).
unsafe fn keep_capabilities_across_exec() {
    use nix::libc;
    #[repr(C)]
    struct Header {
        version: u32,
        pid: i32,
    }
    #[repr(C)]
    #[derive(Clone, Copy)]
    struct Data {
        effective: u32,
        permitted: u32,
        inheritable: u32,
    }
    let mut header = Header {
        version: 0x2008_0522, // _LINUX_CAPABILITY_VERSION_3
        pid: 0,
    };
    let mut data = [Data {
        effective: 0,
        permitted: 0,
        inheritable: 0,
    }; 2];
    let hp = &mut header as *mut Header as u64;
    // SAFETY: header and data are valid for the kernel's version-3 layout.
    unsafe {
        if sys(libc::SYS_capget, [hp, data.as_mut_ptr() as u64, 0, 0, 0, 0]) != 0 {
            return;
        }
        for d in &mut data {
            d.inheritable = d.permitted;
        }
        if sys(libc::SYS_capset, [hp, data.as_ptr() as u64, 0, 0, 0, 0]) != 0 {
            return;
        }
        for cap in 0..64u32 {
            let (word, bit) = ((cap / 32) as usize, cap % 32);
            if data[word].permitted & (1 << bit) != 0 {
                sys(
                    libc::SYS_prctl,
                    [
                        libc::PR_CAP_AMBIENT as u64,
                        libc::PR_CAP_AMBIENT_RAISE as u64,
                        u64::from(cap),
                        0,
                        0,
                        0,
                    ],
                );
            }
        }
    }
}
