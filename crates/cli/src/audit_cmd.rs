//! The audit log on the command line: the flags `run` and `mcp` share
//! (`--audit`, `--audit-key`, `--audit-rotate`) and `agentbox audit verify`.

use agentbox_audit::{AuditLog, FileOptions, PublicKey, Signer};
use std::path::PathBuf;

/// Where and how invocations are recorded.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct AuditArgs {
    /// Append the audit log here: JSON lines, hash-chained (docs/audit.md).
    #[arg(long)]
    pub audit: Option<PathBuf>,
    /// Sign the chain with this Ed25519 key (PKCS#8 PEM; created 0600 on first
    /// use, public key written beside it as FILE.pub).
    #[arg(long = "audit-key", value_name = "FILE", requires = "audit")]
    pub audit_key: Option<PathBuf>,
    /// Rotate the log once it reaches SIZE (e.g. 64MiB): it moves to FILE.1,
    /// FILE.2, … and the chain continues in a new FILE.
    #[arg(long = "audit-rotate", value_name = "SIZE", requires = "audit", value_parser = parse_rotate)]
    pub audit_rotate: Option<u64>,
}

fn parse_rotate(v: &str) -> Result<u64, String> {
    match agentbox_policy::units::parse_size(v) {
        Some(n) if n >= 4096 => Ok(n),
        _ => Err(format!(
            "invalid size `{v}`: at least 4KiB; allowed: {}",
            agentbox_policy::units::SIZE_HELP
        )),
    }
}

impl AuditArgs {
    /// The log these flags name, or None without `--audit`.
    pub fn open(&self, run: &str) -> Result<Option<AuditLog>, String> {
        let Some(path) = &self.audit else {
            return Ok(None);
        };
        let signer = match &self.audit_key {
            Some(k) => Some(Signer::load_or_create(k).map_err(|e| format!("--audit-key: {e}"))?),
            None => None,
        };
        AuditLog::open(
            path,
            run,
            FileOptions {
                signer,
                rotate_bytes: self.audit_rotate,
            },
        )
        .map(Some)
        .map_err(|e| e.to_string())
    }
}

/// `agentbox audit …`.
#[derive(clap::Subcommand, Debug)]
pub enum AuditCmd {
    /// Check the hash chain and signed checkpoints through one or more files
    /// (rotated files in any order); name the first line that fails, and how.
    Verify {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// The public key the checkpoints must be signed with (FILE.pub, as
        /// written beside --audit-key). Without it, the key the log names is used.
        #[arg(long, value_name = "PUBKEY")]
        key: Option<PathBuf>,
        /// A log still being written: accept events after the last checkpoint.
        #[arg(long)]
        live: bool,
    },
}

/// Exit 0 when the log holds, 1 when it does not, 125 when it cannot be checked.
pub fn run(cmd: AuditCmd) -> i32 {
    match cmd {
        AuditCmd::Verify { files, key, live } => {
            let key = match key.map(|k| PublicKey::load(&k)).transpose() {
                Ok(k) => k,
                Err(e) => {
                    eprintln!("agentbox: --key: {e}");
                    return agentbox_supervisor::status::CANNOT_RUN;
                }
            };
            match agentbox_audit::verify(&files, key.as_ref(), live) {
                Ok(v) => {
                    println!("{v}");
                    0
                }
                Err(e) if e.how == agentbox_audit::Broken::Unreadable => {
                    eprintln!("agentbox: {}", e.detail);
                    agentbox_supervisor::status::CANNOT_RUN
                }
                Err(e) => {
                    println!("FAILED: {e}");
                    1
                }
            }
        }
    }
}
