//! The Ed25519 key that signs checkpoints (`--audit-key FILE`), and the public
//! key `audit verify --key` checks them with.
//!
//! The private key is a PKCS#8 PEM file (what `openssl genpkey -algorithm ed25519`
//! writes), created with mode 0600 on first use and refused when anyone but its
//! owner can read it; the public key is written beside it as `FILE.pub`
//! (SubjectPublicKeyInfo PEM). No error ever carries key material.

use base64::Engine;
use ring::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};
use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// The DER of an Ed25519 SubjectPublicKeyInfo, up to the 32 key bytes.
const SPKI_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];

/// Why a key could not be loaded or created.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("audit key {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "audit key {}: readable by others (mode {mode:04o}); it must be readable by its owner only: chmod 600 {}",
        path.display(),
        path.display()
    )]
    Exposed { path: PathBuf, mode: u32 },
    #[error("audit key {}: {what}", path.display())]
    Invalid { path: PathBuf, what: &'static str },
    #[error("cannot generate an audit key: the system's random source failed")]
    Random,
}

/// Signs checkpoints.
#[derive(Debug)]
pub struct Signer {
    pair: Ed25519KeyPair,
    public_hex: String,
}

impl Signer {
    /// Loads the private key at `path`, or creates it (0600) with `path.pub`
    /// beside it when there is none.
    pub fn load_or_create(path: &Path) -> Result<Signer, KeyError> {
        let io = |source| KeyError::Io {
            path: path.to_path_buf(),
            source,
        };
        match std::fs::metadata(path) {
            Ok(_) => Self::load(path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let rng = ring::rand::SystemRandom::new();
                let doc = Ed25519KeyPair::generate_pkcs8(&rng).map_err(|_| KeyError::Random)?;
                let mut f = OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(path)
                    .map_err(io)?;
                f.write_all(pem("PRIVATE KEY", doc.as_ref()).as_bytes())
                    .and_then(|()| f.sync_all())
                    .map_err(io)?;
                let signer = Self::load(path)?;
                let pub_path = public_path(path);
                let mut spki = SPKI_PREFIX.to_vec();
                spki.extend_from_slice(signer.pair.public_key().as_ref());
                std::fs::write(&pub_path, pem("PUBLIC KEY", &spki)).map_err(|source| {
                    KeyError::Io {
                        path: pub_path,
                        source,
                    }
                })?;
                Ok(signer)
            }
            Err(e) => Err(io(e)),
        }
    }

    fn load(path: &Path) -> Result<Signer, KeyError> {
        let io = |source| KeyError::Io {
            path: path.to_path_buf(),
            source,
        };
        let meta = std::fs::metadata(path).map_err(io)?;
        if meta.mode() & 0o077 != 0 {
            return Err(KeyError::Exposed {
                path: path.to_path_buf(),
                mode: meta.mode() & 0o7777,
            });
        }
        let text = std::fs::read_to_string(path).map_err(io)?;
        let invalid = |what| KeyError::Invalid {
            path: path.to_path_buf(),
            what,
        };
        let der = unpem(&text, "PRIVATE KEY")
            .ok_or_else(|| invalid("not a PEM \"PRIVATE KEY\" (PKCS#8) file"))?;
        let pair = Ed25519KeyPair::from_pkcs8_maybe_unchecked(&der)
            .map_err(|_| invalid("not an Ed25519 private key in PKCS#8"))?;
        let public_hex = hex::encode(pair.public_key().as_ref());
        Ok(Signer { pair, public_hex })
    }

    /// The public key, hex (as checkpoints name it).
    pub fn public_hex(&self) -> &str {
        &self.public_hex
    }

    /// The signature of `msg`, hex.
    pub fn sign_hex(&self, msg: &[u8]) -> String {
        hex::encode(self.pair.sign(msg).as_ref())
    }
}

/// `KEY.pub` beside `KEY`.
pub fn public_path(key: &Path) -> PathBuf {
    let mut s = key.as_os_str().to_owned();
    s.push(".pub");
    PathBuf::from(s)
}

/// A public key that checkpoints are checked against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey([u8; 32]);

impl PublicKey {
    /// From a `FILE.pub` (SubjectPublicKeyInfo PEM) or 64 hex digits.
    pub fn load(path: &Path) -> Result<PublicKey, KeyError> {
        let text = std::fs::read_to_string(path).map_err(|source| KeyError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let invalid = || KeyError::Invalid {
            path: path.to_path_buf(),
            what: "not an Ed25519 public key (a PEM \"PUBLIC KEY\" file, as written beside the audit key, or 64 hex digits)",
        };
        let bytes = match unpem(&text, "PUBLIC KEY") {
            Some(der) => der
                .strip_prefix(&SPKI_PREFIX[..])
                .map(<[u8]>::to_vec)
                .ok_or_else(invalid)?,
            None => hex::decode(text.trim()).map_err(|_| invalid())?,
        };
        Self::from_bytes(&bytes).ok_or_else(invalid)
    }

    /// From hex (a checkpoint's `key`).
    pub fn from_hex(hex_key: &str) -> Option<PublicKey> {
        Self::from_bytes(&hex::decode(hex_key).ok()?)
    }

    fn from_bytes(b: &[u8]) -> Option<PublicKey> {
        Some(PublicKey(b.try_into().ok()?))
    }

    /// Whether `sig_hex` is this key's signature of `msg`.
    pub fn verifies(&self, msg: &[u8], sig_hex: &str) -> bool {
        let Ok(sig) = hex::decode(sig_hex) else {
            return false;
        };
        UnparsedPublicKey::new(&ED25519, self.0)
            .verify(msg, &sig)
            .is_ok()
    }

    pub fn hex(&self) -> String {
        hex::encode(self.0)
    }
}

fn pem(label: &str, der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

fn unpem(text: &str, label: &str) -> Option<Vec<u8>> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let body = text.split_once(&begin)?.1.split_once(&end)?.0;
    let b64: String = body.chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD.decode(b64).ok()
}
