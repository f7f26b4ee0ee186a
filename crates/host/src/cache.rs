//! The precompiled component cache.
//!
//! Files are keyed by the component's sha256 and the engine fingerprint, live in a
//! directory only the user can write (created 0700, refused when anyone else can
//! write it), are written atomically, and are used only when they are regular
//! files owned by this user and writable by nobody else, read through the very
//! descriptor that was checked, *and* their header binds them to their content:
//! the component's sha256, the engine, and the sha256 and length of the artifact
//! itself. A renamed, swapped, truncated or corrupted entry is removed and
//! reported ([`Lookup::Rejected`]), never sent to a worker.
//!
//! Artifacts come from a confined compile worker: this module stores and reads
//! them as bytes and never parses them. Only workers load them
//! ([`crate::artifact::load_serialized`]).

use crate::engine::fingerprint;
use sha2::{Digest, Sha256};
use std::fs::OpenOptions;
use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use wasmtime::Engine;

/// Why a component could not be loaded or cached.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("cache directory {}: {reason}", dir.display())]
    Directory { dir: PathBuf, reason: String },
    #[error("{}: cannot read the component: {source}", path.display())]
    ReadComponent {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: sha256 is {actual}, but the manifest pins {expected}; refusing to run", path.display())]
    Sha256Mismatch {
        path: PathBuf,
        expected: String,
        actual: String,
    },
    #[error("cannot write the cache file {}: {reason}", path.display())]
    Write { path: PathBuf, reason: String },
}

/// Whether a load hit the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheStatus {
    Hit,
    Miss,
}

/// A cache entry's artifact, verified against its header, not deserialized
/// ([`ComponentCache::lookup`]): what a supervisor sends a worker.
#[derive(Debug, Clone)]
pub struct Cached {
    pub sha256: String,
    pub serialized: std::sync::Arc<Vec<u8>>,
}

/// What the cache holds for a component.
#[derive(Debug, Clone)]
pub enum Lookup {
    /// A verified entry.
    Hit(Cached),
    /// No entry.
    Miss,
    /// An entry that failed verification (named reason); it was removed, and the
    /// component must be compiled again.
    Rejected(String),
}

/// The source bytes of a component and their sha256 (checked against the pin).
#[derive(Debug, Clone)]
pub struct Source {
    pub bytes: Vec<u8>,
    pub sha256: String,
}

/// A directory of precompiled components.
#[derive(Debug, Clone)]
pub struct ComponentCache {
    dir: PathBuf,
}

fn euid() -> u32 {
    nix::unistd::geteuid().as_raw()
}

impl ComponentCache {
    /// `$AGENTBOX_CACHE_DIR`, else `$XDG_CACHE_HOME/agentbox/components`, else
    /// `$HOME/.cache/agentbox/components`.
    pub fn default_dir() -> Option<PathBuf> {
        if let Some(d) = std::env::var_os("AGENTBOX_CACHE_DIR").filter(|d| !d.is_empty()) {
            return Some(PathBuf::from(d));
        }
        if let Some(x) = std::env::var_os("XDG_CACHE_HOME").filter(|d| !d.is_empty()) {
            return Some(PathBuf::from(x).join("agentbox/components"));
        }
        std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/agentbox/components"))
    }

    /// Opens (creating with mode 0700) `dir`, refusing a directory another user owns
    /// or that group/others may write.
    pub fn open(dir: &Path) -> Result<Self, CacheError> {
        let derr = |reason: String| CacheError::Directory {
            dir: dir.to_path_buf(),
            reason,
        };
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| derr(format!("cannot create: {e}")))?;
        let meta = std::fs::symlink_metadata(dir).map_err(|e| derr(format!("cannot stat: {e}")))?;
        if !meta.is_dir() {
            return Err(derr("is not a directory (symlinks are refused)".into()));
        }
        if meta.uid() != euid() {
            return Err(derr(format!(
                "is owned by uid {}, not by you (uid {}); remove it or set AGENTBOX_CACHE_DIR",
                meta.uid(),
                euid()
            )));
        }
        if meta.mode() & 0o022 != 0 {
            return Err(derr(format!(
                "is writable by group or others (mode {:o}); run `chmod 700 {}`",
                meta.mode() & 0o777,
                dir.display()
            )));
        }
        Ok(Self {
            dir: dir.to_path_buf(),
        })
    }

    /// Removes the entry for the component with this sha256 under this engine (one
    /// that a worker could not load), so that the next load compiles it again.
    pub fn forget(&self, engine: &Engine, sha256: &str) {
        let _ = std::fs::remove_file(self.entry(engine, sha256));
    }

    /// Where the component with this sha256 is cached for this engine.
    fn entry(&self, engine: &Engine, sha256: &str) -> PathBuf {
        self.dir
            .join(format!("{sha256}-{}.cwasm", fingerprint(engine)))
    }

    /// Reads the component at `path` and checks it against `pin`.
    pub fn source(&self, path: &Path, pin: Option<&str>) -> Result<Source, CacheError> {
        let bytes = std::fs::read(path).map_err(|source| CacheError::ReadComponent {
            path: path.to_path_buf(),
            source,
        })?;
        let sha256 = hex::encode(Sha256::digest(&bytes));
        if let Some(expected) = pin
            && !expected.eq_ignore_ascii_case(&sha256)
        {
            return Err(CacheError::Sha256Mismatch {
                path: path.to_path_buf(),
                expected: expected.to_string(),
                actual: sha256,
            });
        }
        Ok(Source { bytes, sha256 })
    }

    /// The verified artifact of the component with this sha256 under this engine.
    /// The entry must be a regular, single-link file owned by this user and
    /// writable by no one else, read through the descriptor that was checked
    /// (opened without following links), and its header must bind it to exactly
    /// this component, this engine and these artifact bytes ([`entry_header`]).
    /// An entry that fails is removed and reported, never used: swapped, renamed,
    /// truncated or corrupted entries are compiled again.
    pub fn lookup(&self, engine: &Engine, sha256: &str) -> Lookup {
        let path = self.entry(engine, sha256);
        let mut file = match OpenOptions::new()
            .read(true)
            .custom_flags(nix::libc::O_NOFOLLOW)
            .open(&path)
        {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Lookup::Miss,
            Err(e) => return self.reject(&path, format!("cannot open: {e}")),
        };
        let checked = (|| {
            let meta = file.metadata().map_err(|e| format!("cannot stat: {e}"))?;
            if !meta.is_file() {
                return Err("not a regular file".to_string());
            }
            if meta.uid() != euid() || meta.mode() & 0o022 != 0 || meta.nlink() != 1 {
                return Err(format!(
                    "owner uid {}, mode {:o}, {} links: only a single-link file of yours that no one else can write is trusted",
                    meta.uid(),
                    meta.mode() & 0o777,
                    meta.nlink()
                ));
            }
            let mut header = [0u8; HEADER_LEN];
            file.read_exact(&mut header)
                .map_err(|e| format!("cannot read its header: {e}"))?;
            let len = usize::try_from(meta.len())
                .ok()
                .and_then(|l| l.checked_sub(HEADER_LEN))
                .ok_or("shorter than its header")?;
            let mut artifact = Vec::with_capacity(len);
            file.read_to_end(&mut artifact)
                .map_err(|e| format!("cannot read: {e}"))?;
            let expected = entry_header(engine, sha256, &artifact)?;
            if header != expected {
                return Err(header_mismatch(&header, &expected));
            }
            Ok(artifact)
        })();
        match checked {
            Ok(artifact) => Lookup::Hit(Cached {
                sha256: sha256.to_string(),
                serialized: std::sync::Arc::new(artifact),
            }),
            Err(reason) => self.reject(&path, reason),
        }
    }

    fn reject(&self, path: &Path, reason: String) -> Lookup {
        let _ = std::fs::remove_file(path);
        Lookup::Rejected(format!("{}: {reason}", path.display()))
    }

    /// Stores a compile worker's artifact for the component with this sha256,
    /// atomically, behind a header binding it to that component, this engine and
    /// its own bytes. The artifact is not looked into here: it is untrusted
    /// output, only ever loaded by a worker.
    pub fn store(&self, engine: &Engine, sha256: &str, artifact: &[u8]) -> Result<(), CacheError> {
        let entry = self.entry(engine, sha256);
        let werr = |reason: String| CacheError::Write {
            path: entry.clone(),
            reason,
        };
        let header = entry_header(engine, sha256, artifact).map_err(werr)?;
        let mut tmp = tempfile::Builder::new()
            .prefix(".tmp-")
            .permissions(std::fs::Permissions::from_mode(0o600))
            .tempfile_in(&self.dir)
            .map_err(|e| werr(e.to_string()))?;
        tmp.write_all(&header).map_err(|e| werr(e.to_string()))?;
        tmp.write_all(artifact).map_err(|e| werr(e.to_string()))?;
        tmp.as_file().sync_all().map_err(|e| werr(e.to_string()))?;
        tmp.persist(&entry).map_err(|e| werr(e.to_string()))?;
        Ok(())
    }
}

/// Length of a cache entry's header.
const HEADER_LEN: usize = 8 + 32 + 32 + 32 + 8;
/// First bytes of every cache entry (format version in the last byte).
const ENTRY_MAGIC: &[u8; 8] = b"ABXCWSM1";

/// The header that binds an entry: magic, sha256 of the engine fingerprint,
/// the component's sha256, the artifact's sha256 and its length.
fn entry_header(
    engine: &Engine,
    sha256: &str,
    artifact: &[u8],
) -> Result<[u8; HEADER_LEN], String> {
    let source: [u8; 32] = hex::decode(sha256)
        .ok()
        .and_then(|v| v.try_into().ok())
        .ok_or_else(|| format!("`{sha256}` is not a sha256"))?;
    let mut h = [0u8; HEADER_LEN];
    h[..8].copy_from_slice(ENTRY_MAGIC);
    h[8..40].copy_from_slice(&Sha256::digest(fingerprint(engine).as_bytes()));
    h[40..72].copy_from_slice(&source);
    h[72..104].copy_from_slice(&Sha256::digest(artifact));
    h[104..].copy_from_slice(&(artifact.len() as u64).to_le_bytes());
    Ok(h)
}

/// Which part of a header does not match (for the audit log).
fn header_mismatch(got: &[u8; HEADER_LEN], want: &[u8; HEADER_LEN]) -> String {
    let part = if got[..8] != want[..8] {
        "not an agentbox cache entry (or an older format)"
    } else if got[8..40] != want[8..40] {
        "compiled for another engine configuration"
    } else if got[40..72] != want[40..72] {
        "holds the artifact of another component"
    } else if got[104..] != want[104..] {
        "truncated or extended"
    } else {
        "its artifact does not match its recorded sha256 (corrupted or altered)"
    };
    part.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn engine() -> Engine {
        crate::engine::new_engine(false).unwrap_or_else(|e| panic!("{e}"))
    }

    fn setup() -> (tempfile::TempDir, ComponentCache) {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let cache = ComponentCache::open(&dir.path().join("c")).unwrap_or_else(|e| panic!("{e}"));
        (dir, cache)
    }

    const A: &str = "aa00000000000000000000000000000000000000000000000000000000000001";
    const B: &str = "bb00000000000000000000000000000000000000000000000000000000000002";

    fn hit(l: Lookup) -> Vec<u8> {
        match l {
            Lookup::Hit(c) => c.serialized.to_vec(),
            other => panic!("expected a hit, got {other:?}"),
        }
    }

    fn rejected(l: Lookup, why: &str) {
        match l {
            Lookup::Rejected(r) => assert!(r.contains(why), "{r}"),
            other => panic!("expected a rejection ({why}), got {other:?}"),
        }
    }

    #[test]
    fn an_entry_is_its_artifact_bound_to_component_and_engine() {
        let (_d, cache) = setup();
        let e = engine();
        assert!(matches!(cache.lookup(&e, A), Lookup::Miss));
        cache.store(&e, A, b"artifact of A").expect("store");
        assert_eq!(hit(cache.lookup(&e, A)), b"artifact of A");
        assert!(matches!(cache.lookup(&e, B), Lookup::Miss));
    }

    #[test]
    fn swapped_entries_are_rejected_and_removed() {
        let (_d, cache) = setup();
        let e = engine();
        cache.store(&e, A, b"code of tool A").expect("store");
        cache.store(&e, B, b"code of tool B").expect("store");
        let (pa, pb) = (cache.entry(&e, A), cache.entry(&e, B));
        let tmp = cache.dir.join("swap");
        std::fs::rename(&pa, &tmp).unwrap_or_else(|e| panic!("{e}"));
        std::fs::rename(&pb, &pa).unwrap_or_else(|e| panic!("{e}"));
        std::fs::rename(&tmp, &pb).unwrap_or_else(|e| panic!("{e}"));
        rejected(cache.lookup(&e, A), "artifact of another component");
        rejected(cache.lookup(&e, B), "artifact of another component");
        assert!(!pa.exists() && !pb.exists(), "rejected entries are removed");
        assert!(matches!(cache.lookup(&e, A), Lookup::Miss));
    }

    #[test]
    fn corrupted_truncated_or_foreign_entries_are_rejected() {
        let (_d, cache) = setup();
        let e = engine();
        let path = cache.entry(&e, A);
        let store = || {
            cache.store(&e, A, &[7u8; 4096]).expect("store");
            std::fs::read(&path).unwrap_or_else(|e| panic!("{e}"))
        };
        let write = |bytes: &[u8]| {
            std::fs::write(&path, bytes).unwrap_or_else(|e| panic!("{e}"));
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
                .unwrap_or_else(|e| panic!("{e}"));
        };
        // One flipped byte in the artifact.
        let mut b = store();
        b[HEADER_LEN + 100] ^= 1;
        write(&b);
        rejected(cache.lookup(&e, A), "does not match its recorded sha256");
        // Cut short.
        let b = store();
        write(&b[..b.len() - 1]);
        rejected(cache.lookup(&e, A), "truncated or extended");
        write(&b[..10]);
        rejected(cache.lookup(&e, A), "header");
        // Another engine configuration.
        let mut b = store();
        b[8] ^= 1;
        write(&b);
        rejected(cache.lookup(&e, A), "another engine");
        // A bare artifact as older versions wrote it, or anything else.
        write(b"\x7fELF not a cache entry at all, but long enough to have a header of the right size ................................................");
        rejected(cache.lookup(&e, A), "not an agentbox cache entry");
        // Intact again.
        store();
        assert_eq!(hit(cache.lookup(&e, A)), vec![7u8; 4096]);
    }

    #[test]
    fn entries_others_could_write_or_linked_twice_are_rejected() {
        let (_d, cache) = setup();
        let e = engine();
        let path = cache.entry(&e, A);
        cache.store(&e, A, b"x").expect("store");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666))
            .unwrap_or_else(|e| panic!("{e}"));
        rejected(cache.lookup(&e, A), "mode 666");
        cache.store(&e, A, b"x").expect("store");
        std::fs::hard_link(&path, cache.dir.join("other")).unwrap_or_else(|e| panic!("{e}"));
        rejected(cache.lookup(&e, A), "2 links");
        cache.store(&e, A, b"x").expect("store");
        std::fs::remove_file(&path).unwrap_or_else(|e| panic!("{e}"));
        std::os::unix::fs::symlink(cache.dir.join("other"), &path)
            .unwrap_or_else(|e| panic!("{e}"));
        rejected(cache.lookup(&e, A), "cannot open");
    }
}
