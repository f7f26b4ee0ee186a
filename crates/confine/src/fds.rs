//! Closing inherited descriptors.

/// Closes every descriptor not in `keep` (close_range over the gaps).
pub(crate) fn close_all_but(keep: &[i32]) -> Result<(), String> {
    let mut keep: Vec<u32> = keep
        .iter()
        .filter(|&&f| f >= 0)
        .map(|&f| f as u32)
        .collect();
    keep.sort_unstable();
    keep.dedup();
    let mut next = 0u32;
    for k in keep.iter().copied().chain(std::iter::once(u32::MAX)) {
        if k > next {
            let last = if k == u32::MAX { u32::MAX } else { k - 1 };
            // SAFETY: close_range only closes descriptors; the caller is
            // single-threaded and owns no Rust object over the closed range (the
            // kept descriptors are excluded).
            let rc = unsafe { libc::syscall(libc::SYS_close_range, next, last, 0u32) };
            if rc != 0 {
                return Err(format!(
                    "close_range({next}, {last}): {}",
                    std::io::Error::last_os_error()
                ));
            }
        }
        if k == u32::MAX {
            break;
        }
        next = k + 1;
    }
    Ok(())
}

/// Descriptors open in this process, below `max` (at most the fd limit): one
/// poll(2) with no events reports POLLNVAL for every descriptor that is not open
/// (/proc may be absent). Falls back to F_GETFD per descriptor.
pub(crate) fn open_fds(max: i32) -> Vec<i32> {
    let mut fds: Vec<libc::pollfd> = (0..max.max(0))
        .map(|fd| libc::pollfd {
            fd,
            events: 0,
            revents: 0,
        })
        .collect();
    // SAFETY: `fds` is a valid array of `fds.len()` pollfd; timeout 0 never blocks.
    let r = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, 0) };
    if r >= 0 {
        return fds
            .iter()
            .filter(|p| p.revents & libc::POLLNVAL == 0)
            .map(|p| p.fd)
            .collect();
    }
    (0..max)
        // SAFETY: F_GETFD only reads descriptor flags.
        .filter(|&fd| unsafe { libc::fcntl(fd, libc::F_GETFD) } >= 0)
        .collect()
}
