//! Starting a worker with its end of the socket as fd 3 — cloned straight into its
//! own namespaces (and, on cgroup v2, its own cgroup) — and taking it over there.

// The clone trampoline and the child's raw system calls are x86_64 assembly.
#[cfg(not(target_arch = "x86_64"))]
compile_error!("agentbox-confine's worker spawn supports x86_64 only");

mod child;

use agentbox_ipc::Channel;
use child::{ChildMem, ChildPlan, Cloned, clone_and_exec};
use std::ffi::CString;
use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
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
