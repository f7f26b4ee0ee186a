//! The audit log on the command line: the flags `run` and `mcp` share
//! (`--audit`, `--audit-key`, `--audit-rotate`) and `agentbox audit verify`.

use agentbox_audit::{AuditLog, FileOptions, PublicKey, Signer};
use agentbox_otlp::Exporter;
use std::path::PathBuf;
use std::sync::Arc;

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
    /// Also send every audit line as an OpenTelemetry log record to this OTLP/HTTP
    /// receiver (http://127.0.0.1:4318; loopback only). The file stays the record.
    #[arg(long, value_name = "URL", requires = "audit", value_parser = parse_otlp)]
    pub otlp: Option<agentbox_otlp::Endpoint>,
    /// Lines held at most while the receiver is away (default 10000); beyond,
    /// lines are dropped from the export (never from the file), counted and audited.
    #[arg(long = "otlp-queue", value_name = "N", requires = "otlp", value_parser = clap::value_parser!(u32).range(1..))]
    pub otlp_queue: Option<u32>,
}

fn parse_otlp(v: &str) -> Result<agentbox_otlp::Endpoint, String> {
    agentbox_otlp::Endpoint::parse(v)
        .map_err(|e| e.to_string().trim_start_matches("--otlp ").to_string())
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

    /// The exporter `--otlp` asks for, tapped into `log`.
    pub fn export(&self, log: &AuditLog) -> Result<Option<Arc<Exporter>>, String> {
        let (Some(endpoint), Some(path)) = (&self.otlp, &self.audit) else {
            return Ok(None);
        };
        agentbox_otlp::attach(log, self.otlp_options(endpoint, path))
            .map(Some)
            .map_err(|e| e.to_string())
    }

    pub fn otlp_options(
        &self,
        endpoint: &agentbox_otlp::Endpoint,
        log: &std::path::Path,
    ) -> agentbox_otlp::Options {
        agentbox_otlp::Options {
            endpoint: endpoint.clone(),
            queue: self
                .otlp_queue
                .map_or(agentbox_otlp::DEFAULT_QUEUE, |n| n as usize),
            log: log.display().to_string(),
        }
    }
}

/// A clean stop of the log: with an exporter, what is queued is sent first (up
/// to two seconds), and lines that never left are audited and said.
pub fn close(log: &AuditLog, ex: Option<&Exporter>) -> Result<(), agentbox_audit::AuditError> {
    let Some(ex) = ex else {
        return log.close();
    };
    let left = agentbox_otlp::close(log, ex, std::time::Duration::from_secs(2))?;
    if left > 0 {
        eprintln!(
            "agentbox: {left} audit line(s) were not exported to {} (the audit file has them)",
            ex.endpoint()
        );
    }
    Ok(())
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
    /// Per tool: calls, outcomes, denials, destinations, bytes, secrets used,
    /// guard findings, p50/p95 time.
    Stats {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// One JSON object instead of the table.
        #[arg(long)]
        json: bool,
        /// Only events at or after this RFC 3339 date or time (e.g. 2026-12-01).
        #[arg(long, value_name = "DATE")]
        since: Option<String>,
    },
    /// One self-contained HTML page for a person: calls over time per tool,
    /// outcomes, denials, destinations, secrets used, guard findings, alerts.
    Report(Window),
    /// What normal looks like per tool (call rate, destinations, bytes, time,
    /// denials, secret use), written as JSON for `[monitor] baseline`.
    Baseline(Window),
}

/// A window of the log read into one output file (`report`, `baseline`).
#[derive(clap::Args, Debug)]
pub struct Window {
    #[arg(required = true)]
    files: Vec<PathBuf>,
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: PathBuf,
    /// Only events at or after this RFC 3339 date or time.
    #[arg(long, value_name = "DATE")]
    since: Option<String>,
}

/// `verify`: exit 0 when the log holds, 1 when it does not, 125 when it cannot
/// be checked. The others: 0, or 125 when a file cannot be read or written.
pub fn run(cmd: AuditCmd) -> i32 {
    let cannot = |e: String| {
        eprintln!("agentbox: {e}");
        agentbox_supervisor::status::CANNOT_RUN
    };
    match cmd {
        AuditCmd::Stats { files, json, since } => {
            match agentbox_audit::stats::summarize(&files, since.as_deref()) {
                Ok(sum) if json => {
                    println!("{}", serde_json::to_string_pretty(&sum).unwrap_or_default());
                    0
                }
                Ok(sum) => {
                    print!("{}", stats_table(&sum));
                    0
                }
                Err(e) => cannot(e.to_string()),
            }
        }
        AuditCmd::Report(Window {
            files,
            output,
            since,
        }) => match agentbox_audit::stats::summarize(&files, since.as_deref()) {
            Ok(sum) => {
                let (buckets, series) = agentbox_audit::stats::timeline(&sum, 48);
                let html = crate::audit_html::render(&sum, &buckets, &series);
                match std::fs::write(&output, html) {
                    Ok(()) => {
                        println!(
                            "report of {} events ({} tool{}) written to {}",
                            sum.events,
                            sum.tools.len(),
                            if sum.tools.len() == 1 { "" } else { "s" },
                            output.display()
                        );
                        0
                    }
                    Err(e) => cannot(format!("{}: {e}", output.display())),
                }
            }
            Err(e) => cannot(e.to_string()),
        },
        AuditCmd::Baseline(Window {
            files,
            output,
            since,
        }) => match agentbox_audit::stats::summarize(&files, since.as_deref()) {
            Ok(sum) => {
                let b = agentbox_audit::Baseline::from_summary(&sum);
                let text = serde_json::to_string_pretty(&b).unwrap_or_default() + "\n";
                match std::fs::write(&output, text) {
                    Ok(()) => {
                        println!(
                            "baseline of {} tool{} over {:.1} h written to {}",
                            b.tools.len(),
                            if b.tools.len() == 1 { "" } else { "s" },
                            b.hours,
                            output.display()
                        );
                        0
                    }
                    Err(e) => cannot(format!("{}: {e}", output.display())),
                }
            }
            Err(e) => cannot(e.to_string()),
        },
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

/// `audit stats` as text: one row per tool, then what each reached and used.
fn stats_table(sum: &agentbox_audit::stats::Summary) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} events from {} to {}",
        sum.events,
        sum.from.as_deref().unwrap_or("-"),
        sum.to.as_deref().unwrap_or("-")
    );
    let _ = writeln!(
        out,
        "{:<20} {:>7} {:>7} {:>8} {:>8} {:>9} {:>9} {:>10} {:>10}",
        "tool", "calls", "ok", "denials", "findings", "p50 ms", "p95 ms", "sent", "received"
    );
    for (name, t) in &sum.tools {
        let _ = writeln!(
            out,
            "{:<20} {:>7} {:>7} {:>8} {:>8} {:>9.1} {:>9.1} {:>10} {:>10}",
            name,
            t.calls,
            t.outcomes.get("ok").copied().unwrap_or(0),
            t.denials,
            t.guard_findings.values().sum::<u64>(),
            t.duration_ms.p50,
            t.duration_ms.p95,
            agentbox_policy::units::format_size(t.bytes_sent),
            agentbox_policy::units::format_size(t.bytes_received)
        );
    }
    let list = |m: &std::collections::BTreeMap<String, u64>| {
        m.iter()
            .map(|(k, v)| format!("{k} ({v})"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    for (name, t) in &sum.tools {
        let _ = writeln!(out, "\n{name}");
        for (label, m) in [
            ("outcomes", &t.outcomes),
            ("destinations", &t.destinations),
            ("denied", &t.denied_destinations),
            ("secrets used", &t.secrets),
            ("guard findings", &t.guard_findings),
        ] {
            if !m.is_empty() {
                let _ = writeln!(out, "  {label}: {}", list(m));
            }
        }
    }
    out
}
