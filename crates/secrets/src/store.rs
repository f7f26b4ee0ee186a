//! Secret sources from `--secrets secrets.toml`: a file (refused when group- or
//! world-readable) or a command run by the supervisor (with a timeout, its stderr
//! discarded), re-read after `ttl` when one is given. Values are held in
//! zeroizing buffers and never formatted into an error.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::io::Read;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use zeroize::Zeroizing;

/// How long a secret command may run.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest secret value.
pub const MAX_VALUE: usize = 16 * 1024;

/// Why the secrets file or a secret could not be used. Never carries a value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretsError {
    #[error("{path}: {message}")]
    File { path: String, message: String },
    #[error("secret `{name}`: {message}")]
    Source { name: String, message: String },
    #[error("secret `{0}` is not defined in the secrets file")]
    Unknown(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    secrets: BTreeMap<String, RawSecret>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSecret {
    file: Option<PathBuf>,
    command: Option<Vec<String>>,
    ttl: Option<String>,
}

#[derive(Debug, Clone)]
enum Source {
    File(PathBuf),
    Command(Vec<String>),
}

struct Cached {
    value: Zeroizing<String>,
    read_at: Instant,
}

struct Entry {
    source: Source,
    ttl: Option<Duration>,
    cached: Mutex<Option<Cached>>,
    /// Every value read before the current one (a rotated value may still be
    /// echoed back, and must still be scrubbed); bounded.
    previous: Mutex<Vec<Zeroizing<String>>>,
}

/// Earlier values kept per secret for scrubbing.
const MAX_PREVIOUS: usize = 32;

/// The secrets known to this supervisor (names and sources; values on demand).
pub struct SecretStore {
    path: PathBuf,
    entries: BTreeMap<String, Entry>,
    /// Secrets withdrawn for the rest of this process (a monitor rule's
    /// `revoke`), with the reason.
    revoked: Mutex<BTreeMap<String, String>>,
}

impl std::fmt::Debug for SecretStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretStore")
            .field("path", &self.path)
            .field("names", &self.entries.keys().collect::<Vec<_>>())
            .finish()
    }
}

fn valid_name(n: &str) -> bool {
    !n.is_empty()
        && n.len() <= 64
        && !n.starts_with(|c: char| c.is_ascii_digit())
        && n.chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

impl SecretStore {
    /// Reads and checks `secrets.toml` (sources only: no value is read here).
    /// From then on values may live in this process, so no core dump of it may
    /// be written ([`crate::forbid_core_dumps`], the one place that says so).
    pub fn load(path: &Path) -> Result<Self, SecretsError> {
        let shown = path.display().to_string();
        let err = |message: String| SecretsError::File {
            path: shown.clone(),
            message,
        };
        let text = std::fs::read_to_string(path).map_err(|e| err(format!("cannot read: {e}")))?;
        let raw: RawFile = toml::from_str(&text).map_err(|e| {
            let at = e
                .span()
                .map(|s| {
                    let line = text[..s.start].matches('\n').count() + 1;
                    let col = s.start - text[..s.start].rfind('\n').map_or(0, |i| i + 1) + 1;
                    format!("line {line}, column {col}: ")
                })
                .unwrap_or_default();
            err(format!(
                "{at}{}; allowed: [secrets.NAME] tables with `file` or `command` (and optional `ttl`)",
                e.message()
            ))
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        let mut entries = BTreeMap::new();
        for (name, s) in raw.secrets {
            if !valid_name(&name) {
                return Err(err(format!(
                    "[secrets.{name}]: invalid name; allowed: upper-case letters, digits and _, not starting with a digit"
                )));
            }
            let source = match (s.file, s.command) {
                (Some(f), None) => Source::File(if f.is_absolute() { f } else { base.join(f) }),
                (None, Some(c)) if !c.is_empty() => Source::Command(c),
                (None, Some(_)) => {
                    return Err(err(format!("[secrets.{name}].command: must not be empty")));
                }
                _ => {
                    return Err(err(format!(
                        "[secrets.{name}]: exactly one of `file` or `command` is required"
                    )));
                }
            };
            let ttl = match s.ttl {
                None => None,
                Some(t) => Some(agentbox_policy::units::parse_duration(&t).ok_or_else(|| {
                    err(format!(
                        "[secrets.{name}].ttl: `{t}` is not a duration (like \"15m\" or \"30s\")"
                    ))
                })?),
            };
            entries.insert(
                name,
                Entry {
                    source,
                    ttl,
                    cached: Mutex::new(None),
                    previous: Mutex::new(Vec::new()),
                },
            );
        }
        crate::forbid_core_dumps();
        Ok(Self {
            path: path.to_path_buf(),
            entries,
            revoked: Mutex::new(BTreeMap::new()),
        })
    }

    /// Withdraws `name` for the rest of this process: no request carries it
    /// again (every injection asks [`SecretStore::revoked`] first).
    pub fn revoke(&self, name: &str, why: &str) {
        if let Ok(mut r) = self.revoked.lock() {
            r.entry(name.to_string()).or_insert_with(|| why.to_string());
        }
    }

    /// Why `name` was revoked, if it was. A poisoned lock counts as revoked.
    pub fn revoked(&self, name: &str) -> Option<String> {
        match self.revoked.lock() {
            Ok(r) => r.get(name).cloned(),
            Err(_) => Some("the revocation list is unreadable".into()),
        }
    }

    /// Is `name` defined?
    pub fn has(&self, name: &str) -> bool {
        self.entries.contains_key(name)
    }

    /// The current value of `name` (read from its source now, or cached within
    /// its ttl; without a ttl it is read once).
    pub fn value(&self, name: &str) -> Result<Zeroizing<String>, SecretsError> {
        let entry = self
            .entries
            .get(name)
            .ok_or_else(|| SecretsError::Unknown(name.to_string()))?;
        let mut cached = entry.cached.lock().map_err(|_| SecretsError::Source {
            name: name.into(),
            message: "internal lock poisoned".into(),
        })?;
        if let Some(c) = cached.as_ref() {
            let fresh = entry.ttl.is_none_or(|ttl| c.read_at.elapsed() < ttl);
            if fresh {
                return Ok(c.value.clone());
            }
        }
        let value = read_source(name, &entry.source)?;
        if let Some(old) = cached.take()
            && old.value != value
            && let Ok(mut prev) = entry.previous.lock()
        {
            if prev.len() >= MAX_PREVIOUS {
                prev.remove(0);
            }
            prev.push(old.value);
        }
        *cached = Some(Cached {
            value: value.clone(),
            read_at: Instant::now(),
        });
        Ok(value)
    }

    /// Every value read so far, current and earlier ones (for scrubbing).
    pub fn loaded_values(&self) -> Vec<Zeroizing<String>> {
        let mut out = Vec::new();
        for e in self.entries.values() {
            if let Some(c) = e
                .cached
                .lock()
                .ok()
                .and_then(|c| c.as_ref().map(|c| c.value.clone()))
            {
                out.push(c);
            }
            if let Ok(prev) = e.previous.lock() {
                out.extend(prev.iter().cloned());
            }
        }
        out
    }
}

fn read_source(name: &str, source: &Source) -> Result<Zeroizing<String>, SecretsError> {
    let err = |message: String| SecretsError::Source {
        name: name.to_string(),
        message,
    };
    let raw: Zeroizing<Vec<u8>> = match source {
        Source::File(path) => {
            let meta = std::fs::metadata(path)
                .map_err(|e| err(format!("cannot read {}: {e}", path.display())))?;
            if meta.permissions().mode() & 0o077 != 0 {
                return Err(err(format!(
                    "{} is readable by group or others (mode {:o}); refusing it: chmod 600 it",
                    path.display(),
                    meta.permissions().mode() & 0o777
                )));
            }
            let me = nix_uid();
            if meta.uid() != me && meta.uid() != 0 {
                return Err(err(format!(
                    "{} is owned by uid {}, not by you or root; refusing it",
                    path.display(),
                    meta.uid()
                )));
            }
            let mut buf = Zeroizing::new(Vec::new());
            std::fs::File::open(path)
                .and_then(|f| f.take(MAX_VALUE as u64 + 1).read_to_end(&mut buf))
                .map_err(|e| err(format!("cannot read {}: {e}", path.display())))?;
            buf
        }
        Source::Command(argv) => run_command(argv).map_err(err)?,
    };
    if raw.len() > MAX_VALUE {
        return Err(err(format!("value longer than {MAX_VALUE} bytes")));
    }
    let text = std::str::from_utf8(&raw).map_err(|_| err("value is not UTF-8".into()))?;
    let value = Zeroizing::new(text.trim_end_matches(['\n', '\r']).to_string());
    if value.len() < 8 {
        return Err(err(
            "value shorter than 8 characters (too short to be scrubbed reliably)".into(),
        ));
    }
    if value.chars().any(|c| c.is_control()) {
        return Err(err("value contains control characters".into()));
    }
    Ok(value)
}

fn nix_uid() -> u32 {
    // getuid without a libc dependency: the owner of /proc/self.
    std::fs::metadata("/proc/self")
        .map(|m| m.uid())
        .unwrap_or(u32::MAX)
}

/// Runs a secret command: stdin and stderr on /dev/null (stderr is never logged),
/// stdout captured, killed after [`COMMAND_TIMEOUT`].
fn run_command(argv: &[String]) -> Result<Zeroizing<Vec<u8>>, String> {
    let mut child = std::process::Command::new(&argv[0])
        .args(&argv[1..])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot run `{}`: {e}", argv[0]))?;
    let mut stdout = child.stdout.take().ok_or("no stdout")?;
    let reader = std::thread::spawn(move || {
        let mut buf = Zeroizing::new(Vec::new());
        let _ = (&mut stdout)
            .take(MAX_VALUE as u64 + 1)
            .read_to_end(&mut buf);
        buf
    });
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break s,
            Ok(None) if started.elapsed() > COMMAND_TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "`{}` did not finish within {}s",
                    argv[0],
                    COMMAND_TIMEOUT.as_secs()
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => return Err(format!("waiting for `{}`: {e}", argv[0])),
        }
    };
    let out = reader.join().map_err(|_| "reader failed".to_string())?;
    if !status.success() {
        return Err(format!("`{}` failed ({status})", argv[0]));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(dir: &Path, toml: &str) -> Result<SecretStore, SecretsError> {
        let p = dir.join("secrets.toml");
        std::fs::write(&p, toml).expect("write");
        SecretStore::load(&p)
    }

    #[test]
    fn file_sources_must_be_private() {
        let d = tempfile::tempdir().expect("tmp");
        let f = d.path().join("tok");
        std::fs::write(&f, "s3cr3t-value-123\n").expect("write");
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let s = store(d.path(), "[secrets.TOKEN]\nfile = \"tok\"\n").expect("load");
        let e = s.value("TOKEN").expect_err("world-readable");
        assert!(e.to_string().contains("readable by group or others"), "{e}");
        assert!(!e.to_string().contains("s3cr3t"));
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        assert_eq!(
            s.value("TOKEN").expect("value").as_str(),
            "s3cr3t-value-123"
        );
        assert!(matches!(s.value("OTHER"), Err(SecretsError::Unknown(_))));
    }

    #[test]
    fn commands_run_with_a_timeout_and_their_stderr_is_dropped() {
        let d = tempfile::tempdir().expect("tmp");
        let s = store(
            d.path(),
            "[secrets.A]\ncommand = [\"/bin/sh\", \"-c\", \"echo from-command-42; echo leaked >&2\"]\nttl = \"1s\"\n[secrets.B]\ncommand = [\"/bin/sh\", \"-c\", \"echo nope-secret >&2; exit 3\"]\n",
        )
        .expect("load");
        assert_eq!(s.value("A").expect("A").as_str(), "from-command-42");
        let e = s.value("B").expect_err("fails").to_string();
        assert!(e.contains("failed") && !e.contains("nope-secret"), "{e}");
    }

    #[test]
    fn ttl_rereads_and_no_ttl_reads_once() {
        let d = tempfile::tempdir().expect("tmp");
        let s = store(
            d.path(),
            "[secrets.FRESH]\ncommand = [\"/bin/cat\", \"/proc/sys/kernel/random/uuid\"]\nttl = \"20ms\"\n[secrets.ONCE]\ncommand = [\"/bin/cat\", \"/proc/sys/kernel/random/uuid\"]\n",
        )
        .expect("load");
        let a = s.value("FRESH").expect("a").to_string();
        assert_eq!(
            s.value("FRESH").expect("cached").as_str(),
            a,
            "within the ttl"
        );
        std::thread::sleep(Duration::from_millis(40));
        assert_ne!(
            s.value("FRESH").expect("b").as_str(),
            a,
            "re-read after the ttl"
        );
        let once = s.value("ONCE").expect("once").to_string();
        std::thread::sleep(Duration::from_millis(40));
        assert_eq!(s.value("ONCE").expect("again").as_str(), once);
    }

    #[test]
    fn bad_files_name_the_problem() {
        let d = tempfile::tempdir().expect("tmp");
        for (toml, want) in [
            ("[secrets.tok]\nfile = \"x\"\n", "invalid name"),
            ("[secrets.A]\n", "exactly one of"),
            (
                "[secrets.A]\nfile = \"x\"\ncommand = [\"y\"]\n",
                "exactly one of",
            ),
            (
                "[secrets.A]\nfile = \"x\"\nttl = \"soon\"\n",
                "not a duration",
            ),
            ("[secrets.A]\nfile = \"x\"\nvalue = \"inline\"\n", "line 3"),
        ] {
            let e = store(d.path(), toml).expect_err(toml).to_string();
            assert!(e.contains(want), "{toml}: {e}");
        }
    }
}
