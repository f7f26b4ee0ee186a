//! The output collector (`agentbox collect SRC DEST`, catalog SUP-10): copies
//! what a tool left in a read-write grant to a fresh directory that later host
//! consumers can read without being attacked by it.
//!
//! Everything under SRC is hostile. The walk never follows a symbolic link (every
//! open is `O_NOFOLLOW`, relative to a directory descriptor), opens nothing that
//! is not a regular file or a directory (types come from `fstatat` without
//! following, and are checked again on the opened descriptor, which is opened
//! `O_NONBLOCK` so that a FIFO swapped in cannot hang it), refuses hard-linked
//! files, caps file sizes (a sparse 1 TiB file is refused by its size, unread),
//! the total, the number of files and the depth, refuses names with control
//! characters, and writes copies it creates itself (`O_CREAT|O_EXCL`, mode 0644:
//! no setuid, setgid or execute bit survives). What it leaves out is reported,
//! with names escaped.

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
}

impl Default for CollectLimits {
    fn default() -> Self {
        Self {
            max_file: 16 << 20,
            max_total: 64 << 20,
            max_files: 10_000,
            max_depth: 32,
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

/// A name as printable text: control characters, backslashes and non-UTF-8
/// bytes escaped (`\xNN`).
pub fn escape(name: &[u8]) -> String {
    let text = String::from_utf8_lossy(name);
    let mut out = String::new();
    for c in text.chars() {
        if c.is_control() || c == '\\' || c == '\u{fffd}' {
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
    if s.chars().any(char::is_control) {
        return Err("name holds control characters (newlines, escape codes)");
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
    let mut out = Collected::default();
    let mut total = 0u64;
    walk(&src_fd, &dest_fd, "", 0, limits, &mut out, &mut total)?;
    Ok(out)
}

fn entries(dir: &OwnedFd) -> Result<Vec<Vec<u8>>, String> {
    let dup = dir.try_clone().map_err(|e| e.to_string())?;
    let mut d = nix::dir::Dir::from_fd(dup).map_err(|e| e.to_string())?;
    let mut names = Vec::new();
    for e in d.iter() {
        let e = e.map_err(|e| e.to_string())?;
        let n = e.file_name().to_bytes().to_vec();
        if n != b"." && n != b".." {
            names.push(n);
        }
    }
    names.sort();
    Ok(names)
}

#[allow(clippy::too_many_arguments)]
fn walk(
    src: &OwnedFd,
    dest: &OwnedFd,
    rel: &str,
    depth: u32,
    limits: &CollectLimits,
    out: &mut Collected,
    total: &mut u64,
) -> Result<(), CollectError> {
    let names = entries(src).map_err(|message| CollectError::Source {
        path: format!("/{rel}"),
        message,
    })?;
    for raw in names {
        let shown = format!("{rel}{}", escape(&raw));
        let name = match acceptable(&raw) {
            Ok(n) => n,
            Err(why) => {
                out.skipped.push((shown, why.into()));
                continue;
            }
        };
        let path = format!("{rel}{name}");
        let st = match fstatat(src.as_fd(), name, AtFlags::AT_SYMLINK_NOFOLLOW) {
            Ok(st) => st,
            Err(e) => {
                out.skipped.push((path, format!("cannot stat: {e}")));
                continue;
            }
        };
        match kind(&st) {
            SFlag::S_IFDIR => {
                if depth + 1 > limits.max_depth {
                    out.skipped
                        .push((path, format!("deeper than {} levels", limits.max_depth)));
                    continue;
                }
                let flags = OFlag::O_RDONLY
                    | OFlag::O_DIRECTORY
                    | OFlag::O_NOFOLLOW
                    | OFlag::O_NONBLOCK
                    | OFlag::O_CLOEXEC;
                let sub = match openat(src.as_fd(), name, flags, Mode::empty()) {
                    Ok(fd) => fd,
                    Err(e) => {
                        out.skipped.push((path, format!("cannot open: {e}")));
                        continue;
                    }
                };
                let copy_err = |e: nix::Error| CollectError::Copy {
                    path: path.clone(),
                    message: e.to_string(),
                };
                mkdirat(dest.as_fd(), name, Mode::from_bits_truncate(0o700)).map_err(copy_err)?;
                let sub_dest =
                    openat(dest.as_fd(), name, flags, Mode::empty()).map_err(copy_err)?;
                walk(
                    &sub,
                    &sub_dest,
                    &format!("{path}/"),
                    depth + 1,
                    limits,
                    out,
                    total,
                )?;
            }
            SFlag::S_IFREG => copy_file(src, dest, name, &path, &st, limits, out, total)?,
            other => out.skipped.push((path, kind_name(other).into())),
        }
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn copy_file(
    src: &OwnedFd,
    dest: &OwnedFd,
    name: &str,
    path: &str,
    st: &FileStat,
    limits: &CollectLimits,
    out: &mut Collected,
    total: &mut u64,
) -> Result<(), CollectError> {
    let size = st.st_size.max(0) as u64;
    let skip = |out: &mut Collected, why: String| out.skipped.push((path.to_string(), why));
    if st.st_nlink > 1 {
        skip(
            out,
            format!("hard link ({} names): not copied", st.st_nlink),
        );
        return Ok(());
    }
    if size > limits.max_file {
        skip(
            out,
            format!(
                "{size} bytes, over the limit of {} per file",
                limits.max_file
            ),
        );
        return Ok(());
    }
    if *total + size > limits.max_total || out.files.len() as u64 >= limits.max_files {
        skip(out, "over the collection's total size or file count".into());
        return Ok(());
    }
    let flags = OFlag::O_RDONLY
        | OFlag::O_NOFOLLOW
        | OFlag::O_NONBLOCK
        | OFlag::O_NOCTTY
        | OFlag::O_CLOEXEC;
    let fd = match openat(src.as_fd(), name, flags, Mode::empty()) {
        Ok(fd) => fd,
        Err(e) => {
            skip(out, format!("cannot open: {e}"));
            return Ok(());
        }
    };
    // The descriptor must be the file that was checked (no swap in between).
    match fstat(&fd) {
        Ok(now)
            if kind(&now) == SFlag::S_IFREG
                && now.st_ino == st.st_ino
                && now.st_dev == st.st_dev => {}
        _ => {
            skip(out, "changed while being collected".into());
            return Ok(());
        }
    }
    let mut data = Vec::new();
    let mut f = std::fs::File::from(fd);
    if let Err(e) = (&mut f).take(limits.max_file + 1).read_to_end(&mut data) {
        skip(out, format!("cannot read: {e}"));
        return Ok(());
    }
    if data.len() as u64 > limits.max_file {
        skip(
            out,
            format!("grew past the limit of {} per file", limits.max_file),
        );
        return Ok(());
    }
    let copy_err = |message: String| CollectError::Copy {
        path: path.to_string(),
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
    *total += data.len() as u64;
    out.files.push((path.to_string(), data.len() as u64));
    Ok(())
}
