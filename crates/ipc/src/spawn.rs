//! Starting a worker with its end of the socket as fd 3 — cloned straight into its
//! own namespaces (and, on cgroup v2, its own cgroup) — and taking it over there.

#![allow(unsafe_code)]

// The clone trampoline and the child's raw system calls are x86_64 assembly.
#[cfg(not(target_arch = "x86_64"))]
compile_error!("agentbox-ipc's worker spawn supports x86_64 only");

use crate::Channel;
use std::ffi::CString;
use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::net::UnixStream;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::ExitStatus;

/// clone3's flag (libc's constant is an `i32` and overflows).
const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;

/// The worker's end of the socket.
pub const WORKER_FD: i32 = 3;

/// Why a worker could not be started or could not find its socket.
#[derive(Debug, thiserror::Error)]
pub enum SpawnError {
    #[error("cannot create the worker socket or pipes: {0}")]
    Socket(std::io::Error),
    #[error(
        "cannot create the worker's namespaces: {0} (on Ubuntu, AppArmor may restrict unprivileged user namespaces: see `agentbox doctor`)"
    )]
    Clone(std::io::Error),
    #[error("cannot map the worker's uid/gid into its user namespace: {0}")]
    IdMap(String),
    #[error("cannot prepare the worker's start (its stack, the signal mask): {0}")]
    Prepare(std::io::Error),
    #[error("cannot start the worker {}: {source}", exe.display())]
    Exec {
        exe: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("invalid worker path or argument (contains a NUL byte)")]
    Nul,
    #[error("fd {WORKER_FD} is not the supervisor socket: {0}")]
    NotASocket(String),
}

/// New namespaces for the worker, created by the clone that starts it (so the
/// worker is pid 1 of its pid namespace with no intermediate process).
#[derive(Debug, Clone, Copy)]
pub struct Namespaces {
    /// The uid and gid mapped 1:1 into the new user namespace (the supervisor's).
    pub uid: u32,
    pub gid: u32,
}

/// How to start a worker.
#[derive(Debug)]
pub struct SpawnOptions<'a> {
    pub exe: &'a Path,
    pub args: &'a [&'a str],
    /// User, mount, pid, net, ipc and uts namespaces (the cgroup namespace is
    /// entered by the worker once it is in its cgroup). `None` only when the
    /// operator disabled the layer.
    pub namespaces: Option<Namespaces>,
    /// A cgroup v2 directory to start the worker in (`CLONE_INTO_CGROUP`): the
    /// worker never runs outside its cgroup and no migration is needed.
    pub cgroup_dir: Option<BorrowedFd<'a>>,
}

/// A started worker process (a direct child of the supervisor). Every signal and
/// the wait go through its pidfd (catalog SUP-15): nothing is ever done to a
/// process id that may have been recycled.
#[derive(Debug)]
pub struct WorkerProcess {
    pid: i32,
    /// From `CLONE_PIDFD`: refers to this process and no other, ever.
    pidfd: OwnedFd,
    status: Option<ExitStatus>,
    /// The read end of the worker's stderr (diagnostics).
    pub stderr: Option<File>,
}

impl WorkerProcess {
    /// Its process id (in the supervisor's pid namespace).
    pub fn id(&self) -> u32 {
        self.pid as u32
    }

    /// Its pidfd (process control and the breakout suite's SUP-15 check).
    pub fn pidfd(&self) -> BorrowedFd<'_> {
        use std::os::fd::AsFd;
        self.pidfd.as_fd()
    }

    /// SIGKILL through the pidfd, unless it was already reaped (a process that
    /// already exited is not an error).
    pub fn kill(&mut self) -> std::io::Result<()> {
        if self.status.is_some() {
            return Ok(());
        }
        match pidfd_signal(self.pidfd(), nix::libc::SIGKILL) {
            Err(e) if e.raw_os_error() == Some(nix::libc::ESRCH) => Ok(()),
            r => r,
        }
    }

    /// Waits for it to exit and reaps it through the pidfd (once; later calls
    /// return the same status).
    pub fn wait(&mut self) -> std::io::Result<ExitStatus> {
        if let Some(s) = self.status {
            return Ok(s);
        }
        loop {
            // SAFETY: a zeroed siginfo_t is a valid out-parameter for waitid.
            let mut info: nix::libc::siginfo_t = unsafe { std::mem::zeroed() };
            // SAFETY: waitid(P_PIDFD) on a pidfd we own, with a valid pointer.
            let r = unsafe {
                nix::libc::waitid(
                    nix::libc::P_PIDFD,
                    self.pidfd.as_raw_fd() as nix::libc::id_t,
                    &mut info,
                    nix::libc::WEXITED,
                )
            };
            if r == 0 {
                // SAFETY: waitid succeeded for WEXITED: si_status is valid.
                let status = unsafe { info.si_status() };
                // Re-encode as a wait(2) status for ExitStatus.
                let raw = match info.si_code {
                    nix::libc::CLD_EXITED => (status & 0xff) << 8,
                    nix::libc::CLD_DUMPED => (status & 0x7f) | 0x80,
                    _ => status & 0x7f,
                };
                let s = ExitStatus::from_raw(raw);
                self.status = Some(s);
                return Ok(s);
            }
            let e = std::io::Error::last_os_error();
            if e.kind() != std::io::ErrorKind::Interrupted {
                return Err(e);
            }
        }
    }
}

/// Sends `sig` (0: only checks that the process still exists) to the process a
/// pidfd refers to: never to a recycled pid.
pub fn pidfd_signal(pidfd: BorrowedFd<'_>, sig: i32) -> std::io::Result<()> {
    // SAFETY: pidfd_send_signal on a borrowed, open pidfd, with no siginfo (NULL)
    // and no flags.
    let r = unsafe {
        nix::libc::syscall(
            nix::libc::SYS_pidfd_send_signal,
            pidfd.as_raw_fd(),
            sig,
            std::ptr::null::<nix::libc::siginfo_t>(),
            0,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

fn pipe() -> Result<(OwnedFd, OwnedFd), SpawnError> {
    nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)
        .map_err(|e| SpawnError::Socket(std::io::Error::from(e)))
}

/// Everything the child needs, prepared before the clone: after it, the child
/// may only make async-signal-safe system calls (the supervisor is multi-threaded).
struct ChildPlan {
    /// The worker executable, opened O_PATH: exec'd by descriptor, so that no
    /// host path reaches the worker (its AT_EXECFN reads `/dev/fd/N`).
    exe_fd: RawFd,
    /// Its path, for an interpreter script only (test doubles): a script cannot
    /// be exec'd through a close-on-exec descriptor.
    exe_path: CString,
    #[expect(dead_code, reason = "owns the strings `argv_ptrs` points to")]
    argv: Vec<CString>,
    sock: RawFd,
    null: RawFd,
    stderr_w: RawFd,
    /// Read end of the go-ahead pipe (id maps written), when namespaces are new.
    go_r: Option<RawFd>,
    /// Its write end: the child closes its inherited copy, so that the
    /// supervisor's death reads as EOF.
    go_w: Option<RawFd>,
    /// Write end of the exec-error pipe (close-on-exec: EOF means exec succeeded).
    err_w: RawFd,
    /// Raise the namespace's capabilities as ambient before exec: only when the
    /// worker's uid is not 0 (an execve by uid 0 keeps them anyway).
    ambient: bool,
    /// NULL-terminated pointers into `argv`, and an empty environment.
    argv_ptrs: Vec<*const nix::libc::c_char>,
    envp: [*const nix::libc::c_char; 1],
}

/// What the child uses until it execs. It is cloned with `CLONE_VM` (as
/// `posix_spawn` does): it shares the supervisor's memory instead of getting a
/// copy of it, so the clone costs the same whatever the supervisor's size, and
/// the supervisor takes no copy-on-write faults while the child execs. So its
/// stack and everything it reads live here, and are released only once it has
/// exec'd (it has a new address space then) or is dead.
struct ChildMem {
    plan: Box<ChildPlan>,
    stack: *mut nix::libc::c_void,
}

/// The child's stack, with a guard page below it.
const CHILD_STACK: usize = 64 << 10;
const GUARD: usize = 4 << 10;

impl ChildMem {
    fn new(plan: ChildPlan) -> Result<Self, SpawnError> {
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
/// Returns once the worker is released; [`Spawning::finish`] waits for its exec.
pub fn spawn_worker(opts: &SpawnOptions<'_>) -> Result<Spawning, SpawnError> {
    let (ours, theirs) = UnixStream::pair().map_err(SpawnError::Socket)?;
    let null = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")
        .map_err(SpawnError::Socket)?;
    let (stderr_r, stderr_w) = pipe()?;
    let (err_r, err_w) = pipe()?;
    let (go_r, go_w) = match opts.namespaces {
        Some(_) => {
            let (r, w) = pipe()?;
            (Some(r), Some(w))
        }
        None => (None, None),
    };
    let exe_path = CString::new(opts.exe.as_os_str().as_bytes()).map_err(|_| SpawnError::Nul)?;
    let exe = std::fs::File::options()
        .read(true)
        .custom_flags(nix::libc::O_PATH)
        .open(opts.exe)
        .map_err(|source| SpawnError::Exec {
            exe: opts.exe.to_path_buf(),
            source,
        })?;
    // argv[0] names the role, not the host path of the binary.
    let mut argv = vec![c"agentbox-worker".to_owned()];
    for a in opts.args {
        argv.push(CString::new(*a).map_err(|_| SpawnError::Nul)?);
    }
    let argv_ptrs = argv
        .iter()
        .map(|a| a.as_ptr())
        .chain(std::iter::once(std::ptr::null()))
        .collect();
    let mem = ChildMem::new(ChildPlan {
        exe_fd: exe.as_raw_fd(),
        exe_path,
        argv,
        sock: theirs.as_raw_fd(),
        null: null.as_raw_fd(),
        stderr_w: stderr_w.as_raw_fd(),
        go_r: go_r.as_ref().map(AsRawFd::as_raw_fd),
        go_w: go_w.as_ref().map(AsRawFd::as_raw_fd),
        err_w: err_w.as_raw_fd(),
        ambient: opts.namespaces.is_some_and(|ns| ns.uid != 0),
        argv_ptrs,
        envp: [std::ptr::null()],
    })?;
    let mut flags: u64 = 0;
    if opts.namespaces.is_some() {
        flags |= (nix::libc::CLONE_NEWUSER
            | nix::libc::CLONE_NEWNS
            | nix::libc::CLONE_NEWPID
            | nix::libc::CLONE_NEWNET
            | nix::libc::CLONE_NEWIPC
            | nix::libc::CLONE_NEWUTS) as u64;
    }
    let mut cgroup_fd = 0u64;
    if let Some(fd) = opts.cgroup_dir {
        flags |= CLONE_INTO_CGROUP;
        cgroup_fd = fd.as_raw_fd() as u64;
    }
    let (pid, pidfd) = match clone_and_exec(&mem, flags, cgroup_fd) {
        Ok(x) => x,
        Err(Cloned::Reaped(e)) => return Err(e),
        Err(Cloned::Unreaped(e)) => {
            // The child may still run on `mem`: never unmap it.
            std::mem::forget(mem);
            return Err(e);
        }
    };
    // The child's ends are its own now.
    drop((theirs, null, stderr_w, err_w, go_r, exe));
    // From here `spawning` owns the child: dropped on any error (or a panic), it
    // kills and reaps the child before the memory the child runs on is released.
    let spawning = Spawning {
        pid: pid as u32,
        proc: Some(WorkerProcess {
            pid,
            pidfd,
            status: None,
            stderr: Some(File::from(stderr_r)),
        }),
        ch: Some(Channel::new(ours)),
        exec_result: File::from(err_r),
        exe: opts.exe.to_path_buf(),
        mem: Some(mem),
    };
    if let (Some(ns), Some(go_w)) = (opts.namespaces, go_w) {
        write_id_maps(pid, ns)?;
        File::from(go_w)
            .write_all(b"g")
            .map_err(|e| SpawnError::IdMap(format!("cannot release the worker: {e}")))?;
    }
    Ok(spawning)
}

/// A worker that was released and is exec'ing: the supervisor may do other work
/// (move it to its v1 cgroup) before waiting for the exec's result. Dropped
/// without [`Spawning::finish`], it kills and reaps the worker first (the worker
/// runs on memory this value owns until it has exec'd).
#[derive(Debug)]
pub struct Spawning {
    pid: u32,
    proc: Option<WorkerProcess>,
    ch: Option<Channel>,
    exec_result: File,
    exe: std::path::PathBuf,
    mem: Option<ChildMem>,
}

impl std::fmt::Debug for ChildMem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ChildMem")
    }
}

impl Spawning {
    /// The worker's process id (in the supervisor's pid namespace).
    pub fn id(&self) -> u32 {
        self.pid
    }

    /// Kills and reaps it.
    pub fn abort(mut self) {
        self.kill_and_release();
    }

    /// Kills and reaps the child, then releases its memory — or leaks that memory
    /// when the child could not be reaped (it might still run on it).
    fn kill_and_release(&mut self) {
        let reaped = match self.proc.as_mut() {
            Some(p) => {
                let _ = p.kill();
                p.wait().is_ok()
            }
            None => true,
        };
        if let Some(mem) = self.mem.take()
            && !reaped
        {
            std::mem::forget(mem);
        }
    }

    /// Waits until its exec succeeded (the exec-error pipe is close-on-exec: EOF)
    /// or failed (its errno).
    pub fn finish(mut self) -> Result<(WorkerProcess, Channel), SpawnError> {
        let mut errno = [0u8; 4];
        let source = match read_full(&mut self.exec_result, &mut errno) {
            // EOF: the child exec'd (or died): it no longer uses `mem`.
            Ok(0) => {
                self.mem = None;
                if let (Some(p), Some(ch)) = (self.proc.take(), self.ch.take()) {
                    return Ok((p, ch));
                }
                std::io::Error::other("the worker was already taken")
            }
            Ok(4) => std::io::Error::from_raw_os_error(i32::from_ne_bytes(errno)),
            Ok(_) | Err(_) => std::io::Error::other("the worker died before exec"),
        };
        let exe = self.exe.clone();
        self.kill_and_release();
        Err(SpawnError::Exec { exe, source })
    }
}

impl Drop for Spawning {
    fn drop(&mut self) {
        if self.mem.is_some() {
            self.kill_and_release();
        }
    }
}

fn read_full(f: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// The supervisor (the namespace's creator, in the parent user namespace) maps
/// exactly its own uid and gid; setgroups is denied first, as the kernel requires
/// for an unprivileged gid map (and so that no supplementary group can be dropped
/// to gain access).
fn write_id_maps(pid: i32, ns: Namespaces) -> Result<(), SpawnError> {
    let w = |file: &str, text: String| {
        std::fs::write(format!("/proc/{pid}/{file}"), text)
            .map_err(|e| SpawnError::IdMap(format!("{file}: {e}")))
    };
    w("setgroups", "deny".into())?;
    w("uid_map", format!("{0} {0} 1\n", ns.uid))?;
    w("gid_map", format!("{0} {0} 1\n", ns.gid))
}

fn clone_and_exec(mem: &ChildMem, flags: u64, cgroup_fd: u64) -> Result<(i32, OwnedFd), Cloned> {
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
enum Cloned {
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

/// In the worker: takes fd 3, after checking that it is a unix stream socket.
pub fn worker_channel() -> Result<Channel, SpawnError> {
    // SAFETY: the borrow lives only for this fstat call; fstat on a closed fd
    // fails with EBADF, which is reported.
    let fd3 = unsafe { std::os::fd::BorrowedFd::borrow_raw(WORKER_FD) };
    let st = nix::sys::stat::fstat(fd3).map_err(|e| SpawnError::NotASocket(e.to_string()))?;
    if st.st_mode & nix::libc::S_IFMT != nix::libc::S_IFSOCK {
        return Err(SpawnError::NotASocket("not a socket".into()));
    }
    // SAFETY: fd 3 was checked to be an open socket just above; the worker owns it
    // from here on (nothing else in the worker uses fd 3).
    let fd = unsafe { OwnedFd::from_raw_fd(WORKER_FD) };
    // Never inherited by anything the worker may exec (native tools).
    nix::fcntl::fcntl(
        &fd,
        nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::FD_CLOEXEC),
    )
    .map_err(|e| SpawnError::NotASocket(format!("cannot set close-on-exec: {e}")))?;
    Ok(Channel::new(UnixStream::from(fd)))
}
