//! Finding where a chain stands: the last line of a file (read backwards from
//! its end), or of the newest rotated file `FILE.N` when `FILE` is empty.

use crate::chain::Link;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// No audit line is longer than this (guest log lines are capped at 64 KiB).
const MAX_LINE: u64 = 16 << 20;

/// The link after the last line of `file` (`len` bytes), or None when it is empty.
pub fn last_link(file: &File, len: u64) -> Result<Option<Link>, String> {
    if len == 0 {
        return Ok(None);
    }
    let mut last = [0u8; 1];
    file.read_exact_at(&mut last, len - 1)
        .map_err(|e| format!("cannot read its end: {e}"))?;
    if last[0] != b'\n' {
        return Err("its last line is incomplete (a write was cut short)".into());
    }
    // Read backwards until the newline before the last line.
    let body_end = len - 1;
    let mut start = body_end;
    let mut chunk = vec![0u8; 8192];
    let mut line: Vec<u8> = Vec::new();
    while start > 0 {
        let n = usize::try_from(start.min(chunk.len() as u64)).unwrap_or(chunk.len());
        let at = start - n as u64;
        file.read_exact_at(&mut chunk[..n], at)
            .map_err(|e| format!("cannot read its end: {e}"))?;
        if let Some(i) = chunk[..n].iter().rposition(|&b| b == b'\n') {
            let mut head = chunk[i + 1..n].to_vec();
            head.extend_from_slice(&line);
            line = head;
            break;
        }
        let mut head = chunk[..n].to_vec();
        head.extend_from_slice(&line);
        line = head;
        start = at;
        if body_end - start > MAX_LINE {
            return Err("its last line is longer than any audit line".into());
        }
    }
    let seq = seq_of(&line)
        .filter(|&s| s < u64::MAX)
        .ok_or("its last line is not an audit line (no `seq` that can be continued)")?;
    Ok(Some(Link::after(seq, &line)))
}

/// The `seq` of one line.
fn seq_of(line: &[u8]) -> Option<u64> {
    #[derive(serde::Deserialize)]
    struct Seq {
        seq: u64,
    }
    serde_json::from_slice::<Seq>(line).ok().map(|s| s.seq)
}

/// The rotated files of `path` (`FILE.1`, `FILE.2`, …), oldest first.
pub fn rotated_files(path: &Path) -> Vec<(u64, PathBuf)> {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return Vec::new();
    };
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let prefix = format!("{}.", name.to_string_lossy());
    let mut out: Vec<(u64, PathBuf)> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let n = e
                .file_name()
                .to_string_lossy()
                .strip_prefix(&prefix)?
                .parse()
                .ok()?;
            Some((n, e.path()))
        })
        .collect();
    out.sort();
    out
}

/// Where the chain stands when `path` itself is empty: after the newest rotated
/// file's last line, or at the start.
pub fn rotated_link(path: &Path) -> Result<Link, String> {
    let Some((_, newest)) = rotated_files(path).pop() else {
        return Ok(Link::START);
    };
    let f = File::open(&newest).map_err(|e| format!("{}: {e}", newest.display()))?;
    let len = f
        .metadata()
        .map_err(|e| format!("{}: {e}", newest.display()))?
        .len();
    last_link(&f, len)
        .map_err(|e| format!("{}: {e}", newest.display()))
        .map(|l| l.unwrap_or(Link::START))
}
