//! agentbox-otlp: every audit line, as it is written, sent on as an
//! OpenTelemetry log record over OTLP/HTTP (protobuf) — batched, retried with
//! backoff, from a bounded queue (audit.md "Export").
//!
//! Trust zone: supervisor. The local audit file stays the record of truth: this
//! crate must never block or fail the write of an audit line (a full queue drops
//! the line here and counts it; the caller audits the count), never send a line
//! anywhere but the one endpoint it was given, and never send in cleartext
//! beyond this machine (plain `http://` only to a loopback address).

mod encode;
mod exporter;

pub use encode::{log_record, request};
pub use exporter::{BATCH, DEFAULT_QUEUE, Endpoint, ExportError, Exporter, Options};

use agentbox_audit::{AuditError, AuditLog, Event};
use std::sync::Arc;
use std::time::Duration;

/// Starts an exporter for `log` and taps every line written to it.
pub fn attach(log: &AuditLog, opts: Options) -> Result<Arc<Exporter>, ExportError> {
    let ex = Exporter::start(opts)?;
    let tap = ex.clone();
    log.tap_lines(Arc::new(move |line: &str| tap.push(line)));
    Ok(ex)
}

/// Records the lines dropped since the last call as one `export_dropped` event
/// (itself exported when the receiver takes it). Returns how many.
pub fn audit_drops(log: &AuditLog, ex: &Exporter) -> Result<u64, AuditError> {
    match ex.take_dropped() {
        Some((count, reason)) => {
            log.record(&Event::ExportDropped { count, reason })?;
            Ok(count)
        }
        None => Ok(0),
    }
}

/// A clean stop with an exporter: what is queued is sent (waiting up to
/// `wait`), what could not be is audited, the log is closed (signed), and its
/// last lines are sent too. Returns the lines that never left (the file has
/// them); an error is the log's own.
pub fn close(log: &AuditLog, ex: &Exporter, wait: Duration) -> Result<usize, AuditError> {
    ex.flush(wait);
    let left = ex.abandon();
    if left > 0 {
        log.record(&Event::ExportDropped {
            count: left as u64,
            reason: format!(
                "the receiver did not take them before the stop ({})",
                ex.last_error().unwrap_or_else(|| "no answer".into())
            ),
        })?;
    }
    audit_drops(log, ex)?;
    log.close()?;
    ex.flush(wait.min(Duration::from_secs(1)));
    Ok(ex.stop())
}
