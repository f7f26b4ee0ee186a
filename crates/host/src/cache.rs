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

/// A cache hit's precompiled bytes, not deserialized ([`ComponentCache::cached`]).
#[derive(Debug, Clone)]
pub struct Cached {
    pub sha256: String,
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
        let (bytes, sha256, entry) = self.source(engine, path, pin)?;
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

    /// The precompiled bytes of the component at `path` (after the `pin` check)
    /// when a trusted entry exists, *not* deserialized here: what a supervisor sends
    /// a worker that deserializes and links them itself. `Ok(None)`: no usable entry
    /// ([`Self::load`] compiles and stores it).
    pub fn cached(
        &self,
        engine: &Engine,
        path: &Path,
        pin: Option<&str>,
    ) -> Result<Option<Cached>, CacheError> {
        let (_, sha256, entry) = self.source(engine, path, pin)?;
        Ok(self.read_entry(&entry).map(|serialized| Cached {
            sha256,
            serialized: std::sync::Arc::new(serialized),
        }))
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

    /// The component's bytes, their sha256 (checked against `pin`) and the cache
    /// entry for them under this engine.
    fn source(
        &self,
        engine: &Engine,
        path: &Path,
        pin: Option<&str>,
    ) -> Result<(Vec<u8>, String, PathBuf), CacheError> {
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
        let entry = self.entry(engine, &sha256);
        Ok((bytes, sha256, entry))
    }

    /// The bytes of a trusted entry: read through a descriptor opened without
    /// following symlinks, from a regular, single-link file owned by this user and
    /// writable by no one else, starting with wasmtime's header for a component.
    fn read_entry(&self, entry: &Path) -> Option<Vec<u8>> {
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
        // Only artefacts this engine could have produced are even considered: a
        // component, or a WASI preview1 core module ([`Self::load_module`]).
        if !matches!(
            Engine::detect_precompiled(&bytes),
            Some(wasmtime::Precompiled::Component | wasmtime::Precompiled::Module)
        ) {
            return None;
        }
        Some(bytes)
    }

    /// Reads the WASI preview1 core module at `path`, checks `pin`, and returns it
    /// compiled and linked-ready: from the cache when a trusted entry exists, else
    /// precompiled now (`Engine::precompile_module`) and stored.
    ///
    /// MERGE NOTE (core modules, issue 13 item 7): this is the one place the
    /// supervisor compiles a core module, next to the component path in
    /// [`Self::load`]; when compiling moves into a confined compile worker, the
    /// `precompile_module` call moves with it (the worker then sends back the bytes
    /// that `store_bytes` writes), and the deserialize below becomes the worker's.
    pub fn load_module(
        &self,
        engine: &Engine,
        path: &Path,
        pin: Option<&str>,
    ) -> Result<LoadedModule, CacheError> {
        let (bytes, sha256, entry) = self.source(engine, path, pin)?;
        if let Some(serialized) = self.read_entry(&entry)
            && Engine::detect_precompiled(&serialized) == Some(wasmtime::Precompiled::Module)
            && let Ok(module) = deserialize_module(engine, &serialized)
        {
            return Ok(LoadedModule {
                module,
                sha256,
                status: CacheStatus::Hit,
                serialized: std::sync::Arc::new(serialized),
            });
        }
        let serialized = precompile_module(engine, path, &bytes)?;
        let module = deserialize_module(engine, &serialized).map_err(|reason| {
            CacheError::NotAComponent {
                path: path.to_path_buf(),
                reason,
            }
        })?;
        self.store_bytes(&serialized, &entry)?;
        Ok(LoadedModule {
            module,
            sha256,
            status: CacheStatus::Miss,
            serialized: std::sync::Arc::new(serialized),
        })
    }

    fn read_trusted(&self, engine: &Engine, entry: &Path) -> Option<(Component, Vec<u8>)> {
        let bytes = self.read_entry(entry)?;
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
        let bytes = component.serialize().map_err(|e| CacheError::Write {
            path: entry.to_path_buf(),
            reason: format!("{e:#}"),
        })?;
        self.store_bytes(&bytes, entry)?;
        Ok(bytes)
    }

    /// Writes precompiled bytes to `entry` atomically, mode 0600.
    fn store_bytes(&self, bytes: &[u8], entry: &Path) -> Result<(), CacheError> {
        let werr = |reason: String| CacheError::Write {
            path: entry.to_path_buf(),
            reason,
        };
        let mut tmp = tempfile::Builder::new()
            .prefix(".tmp-")
            .permissions(std::fs::Permissions::from_mode(0o600))
            .tempfile_in(&self.dir)
            .map_err(|e| werr(e.to_string()))?;
        tmp.write_all(bytes).map_err(|e| werr(e.to_string()))?;
        tmp.as_file().sync_all().map_err(|e| werr(e.to_string()))?;
        tmp.persist(entry).map_err(|e| werr(e.to_string()))?;
        Ok(())
    }
}

/// Whether the file at `path` is a core WebAssembly module (a WASI preview1
/// program, run on the preview1 host) rather than a component: its first 8 bytes.
///
/// MERGE NOTE (core modules): the supervisor's `load`/`load_for_worker` branch on
/// this before choosing the component path or [`ComponentCache::load_module`].
pub fn is_core_module_file(path: &Path) -> Result<bool, CacheError> {
    let mut head = [0u8; 8];
    let mut file = std::fs::File::open(path).map_err(|source| CacheError::ReadComponent {
        path: path.to_path_buf(),
        source,
    })?;
    let mut n = 0;
    while n < head.len() {
        match file.read(&mut head[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(source) => {
                return Err(CacheError::ReadComponent {
                    path: path.to_path_buf(),
                    source,
                });
            }
        }
    }
    Ok(n == head.len() && wasmparser::Parser::is_core_wasm(&head))
}

/// A WASI preview1 core module ready to link, with what is known about its bytes.
#[derive(Debug, Clone)]
pub struct LoadedModule {
    pub module: wasmtime::Module,
    pub sha256: String,
    pub status: CacheStatus,
    /// The precompiled form (what a worker receives).
    pub serialized: std::sync::Arc<Vec<u8>>,
}

/// Precompiles the bytes of a core module (validating them) for `engine`.
pub fn precompile_module(
    engine: &Engine,
    path: &Path,
    bytes: &[u8],
) -> Result<Vec<u8>, CacheError> {
    let not = |reason: String| CacheError::NotAComponent {
        path: path.to_path_buf(),
        reason,
    };
    if !wasmparser::Parser::is_core_wasm(bytes) {
        return Err(not("is not a core WebAssembly module".into()));
    }
    engine.precompile_module(bytes).map_err(|e| {
        not(format!(
            "is not a valid WebAssembly module for agentbox: {e:#}"
        ))
    })
}

fn deserialize_module(engine: &Engine, bytes: &[u8]) -> Result<wasmtime::Module, String> {
    if Engine::detect_precompiled(bytes) != Some(wasmtime::Precompiled::Module) {
        return Err("not a precompiled core module for this engine".into());
    }
    #[allow(unsafe_code)]
    // SAFETY: `Module::deserialize` trusts its input to be wasmtime's own output.
    // Callers pass bytes that `precompile_module` just produced, bytes read from a
    // trusted cache entry (`read_entry`: the checks `read_trusted` relies on), or
    // bytes the supervisor sent a worker over its private socket (see
    // `load_serialized`); wasmtime still refuses, with an error, bytes made for
    // another engine configuration.
    unsafe { wasmtime::Module::deserialize(engine, bytes) }.map_err(|e| format!("{e:#}"))
}

/// Whether `bytes` are a precompiled core module (wasmtime's header), not a
/// precompiled component: how a worker tells which host runs them.
pub fn is_precompiled_module(bytes: &[u8]) -> bool {
    Engine::detect_precompiled(bytes) == Some(wasmtime::Precompiled::Module)
}

/// Loads a core module that the supervisor precompiled and sent to the worker.
pub fn load_serialized_module(
    engine: &Engine,
    bytes: &[u8],
) -> Result<wasmtime::Module, CacheError> {
    deserialize_module(engine, bytes).map_err(|reason| CacheError::NotAComponent {
        path: PathBuf::from("<from supervisor>"),
        reason,
    })
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
    // SAFETY: the bytes come from the supervisor (a sealed memfd passed over the
    // worker's private socketpair), and the supervisor produced them with `Component::serialize` or
    // read them from its trusted cache (`read_entry`: the checks that
    // `read_trusted` relies on); the worker is started with the same binary, so
    // the engine configuration is identical. wasmtime still checks that
    // configuration and refuses (an error, not undefined behaviour) what does not
    // match it.
    let component =
        unsafe { Component::deserialize(engine, bytes) }.map_err(|e| bad(format!("{e:#}")))?;
    Ok(component)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn engine() -> Engine {
        crate::engine::new_engine(false).unwrap_or_else(|e| panic!("{e}"))
    }

    /// A cache in a fresh directory and a small component file.
    fn setup() -> (tempfile::TempDir, ComponentCache, PathBuf) {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let cache = ComponentCache::open(&dir.path().join("c")).unwrap_or_else(|e| panic!("{e}"));
        let wasm = dir.path().join("t.wasm");
        let bytes = wat::parse_str("(component (core module))").unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(&wasm, bytes).unwrap_or_else(|e| panic!("{e}"));
        (dir, cache, wasm)
    }

    #[test]
    fn cached_is_the_stored_entry_not_deserialized_again() {
        let (_dir, cache, wasm) = setup();
        let e = engine();
        assert!(cache.cached(&e, &wasm, None).expect("no error").is_none());
        let loaded = cache.load(&e, &wasm, None).expect("load");
        assert_eq!(loaded.status, CacheStatus::Miss);
        let hit = cache
            .cached(&e, &wasm, None)
            .expect("no error")
            .expect("a hit");
        assert_eq!(hit.sha256, loaded.sha256);
        assert_eq!(hit.serialized, loaded.serialized);
        // The pin is checked on a hit as on a load.
        let wrong = "0".repeat(64);
        assert!(matches!(
            cache.cached(&e, &wasm, Some(&wrong)),
            Err(CacheError::Sha256Mismatch { .. })
        ));
        assert!(cache.cached(&e, &wasm, Some(&loaded.sha256)).is_ok());
    }

    #[test]
    fn cached_refuses_what_load_would_not_trust() {
        let (_dir, cache, wasm) = setup();
        let e = engine();
        let sha = cache.load(&e, &wasm, None).expect("load").sha256;
        let entry = cache.entry(&e, &sha);
        // Writable by others: not used.
        std::fs::set_permissions(&entry, std::fs::Permissions::from_mode(0o666))
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(cache.cached(&e, &wasm, None).expect("no error").is_none());
        // Not wasmtime's header: not used.
        std::fs::write(&entry, b"\x7fELF not a component").unwrap_or_else(|e| panic!("{e}"));
        std::fs::set_permissions(&entry, std::fs::Permissions::from_mode(0o600))
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(cache.cached(&e, &wasm, None).expect("no error").is_none());
        // A second link to it: not used.
        std::fs::remove_file(&entry).unwrap_or_else(|e| panic!("{e}"));
        cache.load(&e, &wasm, None).expect("load");
        std::fs::hard_link(&entry, cache.dir.join("other")).unwrap_or_else(|e| panic!("{e}"));
        assert!(cache.cached(&e, &wasm, None).expect("no error").is_none());
    }
}
