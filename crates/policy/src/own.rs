//! agentbox's own directories, which no fs grant may cover: the compile cache
//! (a tool that could write it would choose the code other tools run), the state
//! and the configuration (secrets files, audit keys). "Cover" means the grant is
//! the directory, is above it, or is inside it.

use std::path::{Path, PathBuf};

/// One of agentbox's own directories, with what it is and how it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnDir {
    pub path: PathBuf,
    pub what: &'static str,
}

fn env_dir(name: &str) -> Option<PathBuf> {
    std::env::var_os(name)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
}

/// agentbox's directories under this environment (`AGENTBOX_CACHE_DIR`,
/// `XDG_CACHE_HOME`, `XDG_STATE_HOME`, `XDG_CONFIG_HOME`, `HOME`), resolved through
/// symlinks where they exist.
pub fn own_dirs() -> Vec<OwnDir> {
    let home = env_dir("HOME");
    let under = |xdg: &str, fallback: &str| {
        env_dir(xdg)
            .or_else(|| home.as_ref().map(|h| h.join(fallback)))
            .map(|d| d.join("agentbox"))
    };
    let mut dirs = Vec::new();
    if let Some(d) = env_dir("AGENTBOX_CACHE_DIR") {
        dirs.push(OwnDir {
            path: d,
            what: "agentbox's compile cache (AGENTBOX_CACHE_DIR)",
        });
    }
    if let Some(d) = under("XDG_CACHE_HOME", ".cache") {
        dirs.push(OwnDir {
            path: d,
            what: "agentbox's cache directory",
        });
    }
    if let Some(d) = under("XDG_STATE_HOME", ".local/state") {
        dirs.push(OwnDir {
            path: d,
            what: "agentbox's state directory",
        });
    }
    if let Some(d) = under("XDG_CONFIG_HOME", ".config") {
        dirs.push(OwnDir {
            path: d,
            what: "agentbox's configuration directory (secrets files)",
        });
    }
    for d in &mut dirs {
        if let Ok(c) = std::fs::canonicalize(&d.path) {
            d.path = c;
        }
    }
    dirs
}

/// Whether a grant of the canonical directory `grant` covers `protected`.
pub fn covers(grant: &Path, protected: &Path) -> bool {
    protected.starts_with(grant) || grant.starts_with(protected)
}

/// The first of `dirs` that a grant of `grant` covers.
pub fn covered<'a>(grant: &Path, dirs: &'a [OwnDir]) -> Option<&'a OwnDir> {
    dirs.iter().find(|d| covers(grant, &d.path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn above_equal_and_inside_cover_siblings_do_not() {
        let p = Path::new("/home/u/.cache/agentbox");
        assert!(covers(Path::new("/home/u/.cache"), p));
        assert!(covers(Path::new("/home/u/.cache/agentbox"), p));
        assert!(covers(Path::new("/home/u/.cache/agentbox/components"), p));
        assert!(!covers(Path::new("/home/u/.cache/pip"), p));
        assert!(!covers(Path::new("/home/u/.cache/agentbox2"), p));
    }
}
