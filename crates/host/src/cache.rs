//! The precompiled component cache.
//!
//! Files are keyed by the component's sha256 and the engine fingerprint, live in a
//! directory only the user can write (created 0700, refused when anyone else can
//! write it), are written atomically, and are loaded only when they are regular
//! files owned by this user and writable by nobody else, read through the very
//! descriptor that was checked.

use crate::engine::fingerprint;
use sha2::{Digest, Sha256};
use std::fs::OpenOptions;
use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use wasmtime::Engine;
use wasmtime::component::Component;

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
    #[error("{}: {reason}", path.display())]
    NotAComponent { path: PathBuf, reason: String },
    #[error("cannot write the cache file {}: {reason}", path.display())]
    Write { path: PathBuf, reason: String },
}

/// Whether a load hit the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheStatus {
    Hit,
    Miss,
}

/// A component ready to link, with what is known about its bytes.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub component: Component,
    pub sha256: String,
    pub status: CacheStatus,
    /// The precompiled form (what a worker receives).
    pub serialized: std::sync::Arc<Vec<u8>>,
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

    /// Reads the component at `path`, checks `pin`, and returns it compiled: from the
    /// cache when a trusted entry exists, else compiled now and stored.
    pub fn load(
        &self,
        engine: &Engine,
        path: &Path,
        pin: Option<&str>,
    ) -> Result<Loaded, CacheError> {
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
        let entry = self
            .dir
            .join(format!("{sha256}-{}.cwasm", fingerprint(engine)));
        if let Some((component, serialized)) = self.read_trusted(engine, &entry) {
            return Ok(Loaded {
                component,
                sha256,
                status: CacheStatus::Hit,
                serialized: std::sync::Arc::new(serialized),
            });
        }
        let component = compile(engine, path, &bytes)?;
        let serialized = self.store(&component, &entry)?;
        Ok(Loaded {
            component,
            sha256,
            status: CacheStatus::Miss,
            serialized: std::sync::Arc::new(serialized),
        })
    }

    fn read_trusted(&self, engine: &Engine, entry: &Path) -> Option<(Component, Vec<u8>)> {
        let mut file = OpenOptions::new()
            .read(true)
            .custom_flags(nix::libc::O_NOFOLLOW)
            .open(entry)
            .ok()?;
        let meta = file.metadata().ok()?;
        if !meta.is_file() || meta.uid() != euid() || meta.mode() & 0o022 != 0 || meta.nlink() != 1
        {
            return None;
        }
        let mut bytes = Vec::with_capacity(meta.len() as usize);
        file.read_to_end(&mut bytes).ok()?;
        // Only artefacts this engine could have produced are even considered.
        if Engine::detect_precompiled(&bytes) != Some(wasmtime::Precompiled::Component) {
            return None;
        }
        #[allow(unsafe_code)]
        // SAFETY: `Component::deserialize` trusts its input to be wasmtime's own
        // output. These bytes were read through a descriptor opened without following
        // symlinks, from a regular, single-link file owned by this user and writable
        // by no one else, inside a directory that only this user can write (checked
        // in `open`), and under a name that binds the engine fingerprint; agentbox
        // writes such files only from `Component::serialize` (see `store`).
        let component = unsafe { Component::deserialize(engine, &bytes) }.ok()?;
        Some((component, bytes))
    }

    fn store(&self, component: &Component, entry: &Path) -> Result<Vec<u8>, CacheError> {
        let werr = |reason: String| CacheError::Write {
            path: entry.to_path_buf(),
            reason,
        };
        let bytes = component.serialize().map_err(|e| werr(format!("{e:#}")))?;
        let mut tmp = tempfile::Builder::new()
            .prefix(".tmp-")
            .permissions(std::fs::Permissions::from_mode(0o600))
            .tempfile_in(&self.dir)
            .map_err(|e| werr(e.to_string()))?;
        tmp.write_all(&bytes).map_err(|e| werr(e.to_string()))?;
        tmp.as_file().sync_all().map_err(|e| werr(e.to_string()))?;
        tmp.persist(entry).map_err(|e| werr(e.to_string()))?;
        Ok(bytes)
    }
}

/// Compiles component bytes, with clear messages for the usual mistakes.
pub fn compile(engine: &Engine, path: &Path, bytes: &[u8]) -> Result<Component, CacheError> {
    let not = |reason: String| CacheError::NotAComponent {
        path: path.to_path_buf(),
        reason,
    };
    if bytes.len() < 8 || &bytes[..4] != b"\0asm" {
        return Err(not("is not a WebAssembly binary (no \\0asm header)".into()));
    }
    if wasmparser::Parser::is_core_wasm(bytes) {
        return Err(not("is a core WebAssembly module, not a component; turn it into one with `agentbox pack IN.wasm -o OUT.wasm`".into()));
    }
    if !wasmparser::Parser::is_component(bytes) {
        return Err(not(
            "has an unknown WebAssembly version or layer; expected a component".into(),
        ));
    }
    Component::from_binary(engine, bytes)
        .map_err(|e| not(format!("is not a valid component for agentbox: {e:#}")))
}

/// Loads a component that the supervisor compiled and sent over the worker socket.
pub fn load_serialized(engine: &Engine, bytes: &[u8]) -> Result<Component, CacheError> {
    let bad = |reason: String| CacheError::NotAComponent {
        path: PathBuf::from("<from supervisor>"),
        reason,
    };
    if Engine::detect_precompiled(bytes) != Some(wasmtime::Precompiled::Component) {
        return Err(bad("not a precompiled component for this engine".into()));
    }
    #[allow(unsafe_code)]
    // SAFETY: the bytes come from the supervisor over the worker's private
    // socketpair, and the supervisor produced them with `Component::serialize` or
    // read them from its trusted cache (see `read_trusted`); the worker is started
    // with the same binary, so the engine configuration is identical.
    let component =
        unsafe { Component::deserialize(engine, bytes) }.map_err(|e| bad(format!("{e:#}")))?;
    Ok(component)
}
