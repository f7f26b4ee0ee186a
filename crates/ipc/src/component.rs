//! The precompiled component on its way to a worker: the supervisor writes it into
//! a sealed memfd and passes the descriptor after the start message; the worker
//! maps it read-only and closes the descriptor before it confines itself. No copy
//! through the socket, none into the worker's heap (docs/decisions/33).
#![allow(unsafe_code)]

use crate::IpcError;
use std::io::Write;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::ptr::NonNull;
use std::sync::Arc;

/// A worker's view of its component: nothing (native tools), or the supervisor's
/// memfd mapped read-only.
#[derive(Debug, Clone, Default)]
pub enum ComponentBytes {
    #[default]
    None,
    Mapped(Arc<MappedComponent>),
}

impl std::ops::Deref for ComponentBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Self::None => &[],
            Self::Mapped(m) => m.bytes(),
        }
    }
}

/// A read-only private mapping of a whole sealed memfd.
#[derive(Debug)]
pub struct MappedComponent {
    ptr: NonNull<u8>,
    len: usize,
}

// SAFETY: the mapping is read-only, owned by this value alone and unmapped only in
// `drop`; sharing or moving the pointer between threads cannot race.
unsafe impl Send for MappedComponent {}
// SAFETY: as above: `&self` only ever reads.
unsafe impl Sync for MappedComponent {}

impl MappedComponent {
    /// Maps `fd` (closed on return) after checking that it is a memfd sealed
    /// against every change and exactly `len` bytes long (1..=`max`).
    pub fn map(fd: OwnedFd, len: usize, max: usize) -> Result<Self, IpcError> {
        if len == 0 || len > max {
            return Err(IpcError::TooLarge { size: len, max });
        }
        let seals = nix::fcntl::fcntl(fd.as_fd(), nix::fcntl::FcntlArg::F_GET_SEALS)
            .map_err(|e| IpcError::Decode(format!("component descriptor: {e}")))?;
        let want = SEALS.bits();
        if seals & want != want {
            return Err(IpcError::Decode(
                "component descriptor is not sealed against changes".into(),
            ));
        }
        let size = nix::sys::stat::fstat(fd.as_fd())
            .map_err(|e| IpcError::Decode(format!("component descriptor: {e}")))?
            .st_size;
        if usize::try_from(size).ok() != Some(len) {
            return Err(IpcError::Decode(format!(
                "component of {size} bytes, {len} announced"
            )));
        }
        // SAFETY: a new private read-only mapping of `len` bytes of a file that is
        // exactly `len` bytes long and sealed so that it can never shrink (no
        // SIGBUS) nor change (F_SEAL_WRITE, checked above); the kernel picks the
        // address. MAP_POPULATE maps its pages now, in one call.
        let ptr = unsafe {
            nix::libc::mmap(
                std::ptr::null_mut(),
                len,
                nix::libc::PROT_READ,
                nix::libc::MAP_PRIVATE | nix::libc::MAP_POPULATE,
                fd.as_raw_fd(),
                0,
            )
        };
        if ptr == nix::libc::MAP_FAILED {
            return Err(IpcError::Io(std::io::Error::last_os_error()));
        }
        drop(fd);
        let ptr = NonNull::new(ptr.cast::<u8>())
            .ok_or_else(|| IpcError::Decode("component mapped at address 0".into()))?;
        Ok(Self { ptr, len })
    }

    fn bytes(&self) -> &[u8] {
        // SAFETY: `ptr` is a live read-only mapping of `len` bytes owned by `self`
        // (see `map`), unmapped only in `drop`.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }
}

impl Drop for MappedComponent {
    fn drop(&mut self) {
        // SAFETY: the mapping made in `map`, not borrowed any more (`&mut self`).
        unsafe { nix::libc::munmap(self.ptr.as_ptr().cast(), self.len) };
    }
}

/// Every change a memfd's content could still undergo, sealed off.
const SEALS: nix::fcntl::SealFlag = nix::fcntl::SealFlag::F_SEAL_SHRINK
    .union(nix::fcntl::SealFlag::F_SEAL_GROW)
    .union(nix::fcntl::SealFlag::F_SEAL_WRITE)
    .union(nix::fcntl::SealFlag::F_SEAL_SEAL);

/// A memfd holding `bytes`, sealed against every change (close-on-exec): what the
/// supervisor passes a worker with [`crate::Channel::send_fd`].
pub fn sealed_memfd(bytes: &[u8]) -> Result<OwnedFd, IpcError> {
    use nix::sys::memfd::{MFdFlags, memfd_create};
    let flags = MFdFlags::MFD_CLOEXEC | MFdFlags::MFD_ALLOW_SEALING;
    // Not executable, ever (Linux 6.3+; required where vm.memfd_noexec = 2);
    // older kernels refuse the flag (EINVAL) and get a plain memfd.
    let noexec = MFdFlags::from_bits_retain(nix::libc::MFD_NOEXEC_SEAL);
    let fd = match memfd_create(c"agentbox-component", flags | noexec) {
        Err(nix::errno::Errno::EINVAL) => memfd_create(c"agentbox-component", flags),
        r => r,
    }
    .map_err(|e| IpcError::Io(e.into()))?;
    let mut file = std::fs::File::from(fd);
    file.write_all(bytes)?;
    nix::fcntl::fcntl(file.as_fd(), nix::fcntl::FcntlArg::F_ADD_SEALS(SEALS))
        .map_err(|e| IpcError::Io(e.into()))?;
    Ok(OwnedFd::from(file))
}
