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

/// The names in the directory `dir` (without `.` and `..`), read through a
/// duplicate of the descriptor: for walks that must stay on descriptors (the
/// worker's scratch emptying, `agentbox collect`).
pub fn dir_names(dir: &std::os::fd::OwnedFd) -> Result<Vec<std::ffi::CString>, String> {
    let dup = dir.try_clone().map_err(|e| e.to_string())?;
    let mut d = nix::dir::Dir::from_fd(dup).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for e in d.iter() {
        let e = e.map_err(|e| e.to_string())?;
        let n = e.file_name();
        if n.to_bytes() != b"." && n.to_bytes() != b".." {
            out.push(n.to_owned());
        }
    }
    Ok(out)
}

/// Descriptors open in this process, below `max` (probing each with F_GETFD;
/// /proc may be absent). Not poll(2): it reports O_PATH descriptors as invalid,
/// and those are exactly what a leak of a host path would look like.
pub(crate) fn open_fds(max: i32) -> Vec<i32> {
    (0..max)
        // SAFETY: F_GETFD only reads descriptor flags.
        .filter(|&fd| unsafe { libc::fcntl(fd, libc::F_GETFD) } >= 0)
        .collect()
}

#[cfg(test)]
mod tests {
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::OpenOptionsExt;

    #[test]
    fn open_fds_sees_o_path_descriptors() {
        let f = std::fs::File::options()
            .read(true)
            .custom_flags(libc::O_PATH)
            .open("/")
            .unwrap_or_else(|e| panic!("{e}"));
        let fd = f.as_raw_fd();
        assert!(super::open_fds(fd + 1).contains(&fd));
    }
}
