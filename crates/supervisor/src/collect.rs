//! The output collector (`agentbox collect SRC DEST`, catalog SUP-10): copies
//! what a tool left in a read-write grant to a fresh directory that later host
//! consumers can read without being attacked by it.
//!
//! Everything under SRC is hostile. The walk goes by directory descriptor and
//! never follows a symbolic link (`O_NOFOLLOW` everywhere) nor enters another
//! filesystem; types come from `fstatat` without following. A file is opened
//! `O_PATH` first and reopened for reading only after its descriptor shows it is
//! the regular file that was checked, so a FIFO or device swapped in is never
//! opened. Hard-linked files, names with control or formatting characters, and
//! files over the caps (by size, unread: a sparse 1 TiB file) are left out; the
//! total, the file count, the depth and the entries looked at are bounded. Copies
//! are created `O_EXCL` with mode 0644 (no setuid, setgid or execute bit
//! survives). What is left out is reported, with names escaped. DEST must not
//! exist and must not be inside SRC.

use nix::fcntl::{AtFlags, OFlag, open, openat};
use nix::sys::stat::{FileStat, Mode, SFlag, fstat, fstatat, mkdirat};
use std::io::{Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::DirBuilderExt;
use std::path::Path;

/// Bounds of one collection.
#[derive(Debug, Clone)]
pub struct CollectLimits {
    /// Largest file copied.
    pub max_file: u64,
    /// All files together.
    pub max_total: u64,
    /// Files copied.
    pub max_files: u64,
    /// Directory depth below SRC.
    pub max_depth: u32,
    /// Entries looked at (files, directories, everything left out): bounds the
    /// work, the directories created and the report.
    pub max_entries: u64,
}

impl Default for CollectLimits {
    fn default() -> Self {
        Self {
            max_file: 16 << 20,
            max_total: 64 << 20,
            max_files: 10_000,
            max_depth: 32,
            max_entries: 100_000,
        }
    }
}

/// What one collection did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Collected {
    /// Copied files: (path relative to SRC, bytes).
    pub files: Vec<(String, u64)>,
    /// Left out: (path relative to SRC, escaped; why).
    pub skipped: Vec<(String, String)>,
}

/// Why a collection could not run at all.
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    #[error("source {path}: {message}")]
    Source { path: String, message: String },
    #[error("destination {path}: {message}")]
    Dest { path: String, message: String },
    #[error("cannot copy {path}: {message}")]
    Copy { path: String, message: String },
}

/// Invisible formatting characters that can make a name read as another in a
/// report (bidirectional overrides and isolates, zero-width characters).
fn is_format(c: char) -> bool {
    matches!(c as u32,
        0x00ad | 0x061c | 0x180e | 0x200b..=0x200f | 0x202a..=0x202e | 0x2060..=0x206f | 0xfeff)
}

/// A name as printable text: control and formatting characters, backslashes
/// and non-UTF-8 bytes escaped (`\xNN`).
pub fn escape(name: &[u8]) -> String {
    let text = String::from_utf8_lossy(name);
    let mut out = String::new();
    for c in text.chars() {
        if c.is_control() || is_format(c) || c == '\\' || c == '\u{fffd}' {
            for b in c.to_string().bytes() {
                out.push_str(&format!("\\x{b:02x}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// A name the collector will copy: UTF-8, no control characters, at most 255
/// bytes, not `.` or `..`.
fn acceptable(name: &[u8]) -> Result<&str, &'static str> {
    let s = std::str::from_utf8(name).map_err(|_| "name is not UTF-8")?;
    if s.chars().any(|c| c.is_control() || is_format(c)) {
        return Err(
            "name holds control or formatting characters (newlines, escape codes, bidi overrides)",
        );
    }
    if s.is_empty() || s == "." || s == ".." || s.contains('/') || name.len() > 255 {
        return Err("name not allowed");
    }
    Ok(s)
}

fn kind(st: &FileStat) -> SFlag {
    SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT
}

fn kind_name(k: SFlag) -> &'static str {
    match k {
        SFlag::S_IFLNK => "symbolic link (never followed)",
        SFlag::S_IFIFO => "FIFO (never opened)",
        SFlag::S_IFSOCK => "unix socket (never opened)",
        SFlag::S_IFCHR => "character device (never opened)",
        SFlag::S_IFBLK => "block device (never opened)",
        _ => "not a regular file or directory",
    }
}

/// Copies the regular files and directories under `src` to `dest`, which must
/// not exist yet (it is created, mode 0700).
pub fn collect(src: &Path, dest: &Path, limits: &CollectLimits) -> Result<Collected, CollectError> {
    let src_fd = open(
        src,
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| CollectError::Source {
        path: src.display().to_string(),
        message: format!("{e}; it must be a directory (not a symbolic link)"),
    })?;
    let dest_err = |message: String| CollectError::Dest {
        path: dest.display().to_string(),
        message,
    };
    // The copy must not land inside what is being collected.
    let src_canon = std::fs::canonicalize(src).map_err(|e| CollectError::Source {
        path: src.display().to_string(),
        message: e.to_string(),
    })?;
    let dest_parent = dest
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let parent_canon =
        std::fs::canonicalize(dest_parent).map_err(|e| dest_err(format!("its parent: {e}")))?;
    if parent_canon.starts_with(&src_canon) {
        return Err(dest_err(format!(
            "is inside the source {}; allowed: a directory outside it",
            src_canon.display()
        )));
    }
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(dest)
        .map_err(|e| dest_err(format!("{e}; it must not exist yet")))?;
    let dest_fd = open(
        dest,
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| dest_err(e.to_string()))?;
    let root = fstat(&src_fd).map_err(|e| CollectError::Source {
        path: src.display().to_string(),
        message: e.to_string(),
    })?;
    let mut w = Walk {
        limits,
        dev: root.st_dev,
        out: Collected::default(),
        total: 0,
        seen: 0,
    };
    w.dir(&src_fd, &dest_fd, "", 0)?;
    Ok(w.out)
}

/// One collection's state.
struct Walk<'a> {
    limits: &'a CollectLimits,
    /// SRC's filesystem: the walk never crosses into another one.
    dev: u64,
    out: Collected,
    total: u64,
    seen: u64,
}

impl Walk<'_> {
    fn skip(&mut self, path: String, why: String) {
        self.out.skipped.push((path, why));
    }

    /// An opened descriptor, if the open worked and it is the file `st` described;
    /// otherwise `path` is left out with the reason.
    fn checked(
        &mut self,
        opened: nix::Result<OwnedFd>,
        what: &str,
        st: &FileStat,
        path: &str,
    ) -> Option<OwnedFd> {
        match opened {
            Err(e) => {
                self.skip(path.to_string(), format!("cannot {what}: {e}"));
                None
            }
            Ok(fd) if !same_file(&fd, st) => {
                self.skip(path.to_string(), "changed while being collected".into());
                None
            }
            Ok(fd) => Some(fd),
        }
    }

    fn dir(
        &mut self,
        src: &OwnedFd,
        dest: &OwnedFd,
        rel: &str,
        depth: u32,
    ) -> Result<(), CollectError> {
        let names = match agentbox_confine::dir_names(src) {
            Ok(mut n) => {
                n.sort();
                n
            }
            Err(e) => {
                self.skip(format!("{rel}."), format!("cannot list: {e}"));
                return Ok(());
            }
        };
        for raw in names {
            let raw = raw.as_bytes();
            self.seen += 1;
            if self.seen > self.limits.max_entries {
                self.skip(
                    format!("{rel}..."),
                    format!(
                        "more than {} entries: the rest was not looked at",
                        self.limits.max_entries
                    ),
                );
                return Ok(());
            }
            let name = match acceptable(raw) {
                Ok(n) => n,
                Err(why) => {
                    self.skip(format!("{rel}{}", escape(raw)), why.into());
                    continue;
                }
            };
            let path = format!("{rel}{name}");
            let st = match fstatat(src.as_fd(), name, AtFlags::AT_SYMLINK_NOFOLLOW) {
                Ok(st) => st,
                Err(e) => {
                    self.skip(path, format!("cannot stat: {e}"));
                    continue;
                }
            };
            if st.st_dev != self.dev {
                self.skip(
                    path,
                    "another filesystem (a mount point): not entered".into(),
                );
                continue;
            }
            match kind(&st) {
                SFlag::S_IFDIR => self.subdir(src, dest, name, path, &st, depth)?,
                SFlag::S_IFREG => self.file(src, dest, name, path, &st)?,
                other => self.skip(path, kind_name(other).into()),
            }
        }
        Ok(())
    }

    fn subdir(
        &mut self,
        src: &OwnedFd,
        dest: &OwnedFd,
        name: &str,
        path: String,
        st: &FileStat,
        depth: u32,
    ) -> Result<(), CollectError> {
        if depth + 1 > self.limits.max_depth {
            self.skip(
                path,
                format!("deeper than {} levels", self.limits.max_depth),
            );
            return Ok(());
        }
        let flags = OFlag::O_RDONLY
            | OFlag::O_DIRECTORY
            | OFlag::O_NOFOLLOW
            | OFlag::O_NONBLOCK
            | OFlag::O_CLOEXEC;
        let Some(sub) = self.checked(
            openat(src.as_fd(), name, flags, Mode::empty()),
            "open",
            st,
            &path,
        ) else {
            return Ok(());
        };
        let copy_err = |e: nix::Error| CollectError::Copy {
            path: path.clone(),
            message: e.to_string(),
        };
        mkdirat(dest.as_fd(), name, Mode::from_bits_truncate(0o700)).map_err(copy_err)?;
        let sub_dest = openat(dest.as_fd(), name, flags, Mode::empty()).map_err(copy_err)?;
        self.dir(&sub, &sub_dest, &format!("{path}/"), depth + 1)
    }

    fn file(
        &mut self,
        src: &OwnedFd,
        dest: &OwnedFd,
        name: &str,
        path: String,
        st: &FileStat,
    ) -> Result<(), CollectError> {
        let size = st.st_size.max(0) as u64;
        let limits = self.limits;
        if st.st_nlink > 1 {
            self.skip(
                path,
                format!("hard link ({} names): not copied", st.st_nlink),
            );
            return Ok(());
        }
        if size > limits.max_file {
            self.skip(
                path,
                format!(
                    "{size} bytes, over the limit of {} per file",
                    limits.max_file
                ),
            );
            return Ok(());
        }
        let room = limits.max_total.saturating_sub(self.total);
        if size > room || self.out.files.len() as u64 >= limits.max_files {
            self.skip(
                path,
                "over the collection's total size or file count".into(),
            );
            return Ok(());
        }
        // Opened as a path first: nothing of a file is opened for reading until
        // its descriptor shows it is the regular file that was checked (a device
        // node swapped in is never opened).
        let flags = OFlag::O_PATH | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
        let Some(pfd) = self.checked(
            openat(src.as_fd(), name, flags, Mode::empty()),
            "open",
            st,
            &path,
        ) else {
            return Ok(());
        };
        let reopen = format!("/proc/self/fd/{}", std::os::fd::AsRawFd::as_raw_fd(&pfd));
        let flags = OFlag::O_RDONLY | OFlag::O_NONBLOCK | OFlag::O_NOCTTY | OFlag::O_CLOEXEC;
        let opened = open(reopen.as_str(), flags, Mode::empty());
        let Some(fd) = self.checked(opened, "reopen through /proc/self/fd", st, &path) else {
            return Ok(());
        };
        let cap = limits.max_file.min(room);
        let mut data = Vec::new();
        let mut f = std::fs::File::from(fd);
        if let Err(e) = (&mut f).take(cap + 1).read_to_end(&mut data) {
            self.skip(path, format!("cannot read: {e}"));
            return Ok(());
        }
        if data.len() as u64 > cap {
            self.skip(path, "grew past the limits while being collected".into());
            return Ok(());
        }
        let copy_err = |message: String| CollectError::Copy {
            path: path.clone(),
            message,
        };
        let made = openat(
            dest.as_fd(),
            name,
            OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
            Mode::from_bits_truncate(0o644),
        )
        .map_err(|e| copy_err(e.to_string()))?;
        let mut w = std::fs::File::from(made);
        w.write_all(&data).map_err(|e| copy_err(e.to_string()))?;
        self.total += data.len() as u64;
        self.out.files.push((path, data.len() as u64));
        Ok(())
    }
}

/// The descriptor is the file `st` described (same device, inode and type).
fn same_file(fd: &OwnedFd, st: &FileStat) -> bool {
    fstat(fd).is_ok_and(|now| {
        now.st_dev == st.st_dev && now.st_ino == st.st_ino && kind(&now) == kind(st)
    })
}
