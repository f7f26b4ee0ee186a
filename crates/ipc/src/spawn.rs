//! Starting a worker with its end of the socket as fd 3, and taking it over there.

#![allow(unsafe_code)]

use crate::Channel;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// The worker's end of the socket.
pub const WORKER_FD: i32 = 3;

/// Why a worker could not be started or could not find its socket.
#[derive(Debug, thiserror::Error)]
pub enum SpawnError {
    #[error("cannot create the worker socket: {0}")]
    Socket(std::io::Error),
    #[error("cannot start the worker {}: {source}", exe.display())]
    Exec {
        exe: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("fd {WORKER_FD} is not the supervisor socket: {0}")]
    NotASocket(String),
}

/// Starts `exe args...` with an empty environment, `/` as working directory, stdin
/// and stdout on /dev/null, stderr piped (diagnostics), and the worker end of a new
/// socketpair as fd 3. Every other supervisor fd is close-on-exec.
pub fn spawn_worker(exe: &Path, args: &[&str]) -> Result<(Child, Channel), SpawnError> {
    let (ours, theirs) = UnixStream::pair().map_err(SpawnError::Socket)?;
    let theirs_fd = theirs.as_raw_fd();
    let mut cmd = Command::new(exe);
    cmd.args(args)
        .env_clear()
        .current_dir("/")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    // SAFETY: the closure runs in the forked child before exec, where only
    // async-signal-safe calls are allowed; it makes exactly one, dup2(2), which
    // copies the worker's socket to fd 3 without close-on-exec. It touches no
    // allocator and no lock.
    unsafe {
        cmd.pre_exec(move || {
            if libc_dup2(theirs_fd, WORKER_FD) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let child = cmd.spawn().map_err(|source| SpawnError::Exec {
        exe: exe.to_path_buf(),
        source,
    })?;
    drop(theirs);
    Ok((child, Channel::new(ours)))
}

fn libc_dup2(from: i32, to: i32) -> i32 {
    // SAFETY: dup2 on two plain integers has no memory-safety preconditions.
    unsafe { nix::libc::dup2(from, to) }
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
