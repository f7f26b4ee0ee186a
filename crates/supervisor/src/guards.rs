//! Output guards (guards.md) on what a tool returned, before any of it leaves:
//! findings redacted or stripped, injection wrapped in the untrusted-data
//! envelope, or the whole output blocked (outcome `guarded`, status 126). Every
//! decision goes to the report's `guards` section and the audit log, with type,
//! offsets, score and action — never the matched text.

use std::sync::OnceLock;

use agentbox_audit::Event;
use agentbox_guard::{Decision, OutputGuard, Scanner};
use agentbox_ipc::Outcome;
use agentbox_policy::ToolSpec;
use serde::Serialize;

use crate::{RunOutput, status, tool_text};

static SCANNER: OnceLock<Scanner> = OnceLock::new();

/// The compiled guards, built once per process.
pub fn scanner() -> &'static Scanner {
    SCANNER.get_or_init(Scanner::new)
}

/// Builds the scanner on a thread of its own, so that a run's guards are ready
/// when its output arrives without the build on the caller's path.
pub fn warm_up() {
    if SCANNER.get().is_none() {
        let _ = std::thread::Builder::new()
            .name("agentbox-guards".into())
            .spawn(|| {
                scanner();
            });
    }
}

/// One decision in the run report: which stream it is in, and the decision.
#[derive(Debug, Clone, Serialize)]
pub struct ReportFinding {
    pub stream: &'static str,
    #[serde(flatten)]
    pub decision: Decision,
}

/// The run report's `guards` section.
#[derive(Debug, Clone, Default, Serialize)]
pub struct GuardsReport {
    /// An output guard blocked the output (outcome `guarded`).
    pub blocked: bool,
    pub findings: Vec<ReportFinding>,
}

/// Applies `tool`'s output guards to `out`, recording each decision.
pub(crate) fn apply(tool: &ToolSpec, out: &mut RunOutput, record: &mut impl FnMut(&Event)) {
    let guard = match OutputGuard::new(&tool.guards) {
        Ok(g) => g,
        // The manifest was validated when it was loaded; a list that no longer
        // compiles blocks rather than letting output pass unguarded.
        Err((i, why)) => {
            block(
                out,
                format!(
                    "the guards' allow entry {} is unusable ({why}): output withheld",
                    i + 1
                ),
            );
            return;
        }
    };
    if !guard.active() {
        return;
    }
    // A guard that fails on some text must not let that text through: the
    // output is withheld, as a block would.
    let mut scratch = RunOutput {
        report: out.report.clone(),
        output: out.output.take(),
        tool_error: out.tool_error.take(),
        stdout: std::mem::take(&mut out.stdout),
        stderr: std::mem::take(&mut out.stderr),
        status: out.status,
        audit_failed: out.audit_failed,
    };
    let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        check_all(&guard, &mut scratch, record);
        scratch
    }));
    match run {
        Ok(done) => *out = done,
        Err(_) => block(
            out,
            "the output guards failed on this output; it was withheld".into(),
        ),
    }
}

fn check_all(guard: &OutputGuard, out: &mut RunOutput, record: &mut impl FnMut(&Event)) {
    let s = scanner();
    let mut report = GuardsReport::default();
    let take = |stream: &'static str, g: agentbox_guard::Guarded, report: &mut GuardsReport| {
        report.blocked |= g.blocked;
        report.findings.extend(
            g.decisions
                .into_iter()
                .map(|decision| ReportFinding { stream, decision }),
        );
        g.text
    };
    if let Some(text) = out.output.take() {
        let g = guard.check(s, &text);
        let t = take("output", g, &mut report);
        // What the guards re-serialised is made terminal-safe again.
        out.output = Some(tool_text::safe_json(&t).unwrap_or(t));
    }
    if let Some(text) = out.tool_error.take() {
        let g = guard.check(s, &text);
        out.tool_error = Some(tool_text::visible(&take("tool_error", g, &mut report)));
    }
    for (stream, bytes) in [("stdout", &mut out.stdout), ("stderr", &mut out.stderr)] {
        if bytes.is_empty() {
            continue;
        }
        let text = String::from_utf8_lossy(bytes).into_owned();
        let g = guard.check(s, &text);
        let changed = g.text != text;
        let t = take(stream, g, &mut report);
        if changed {
            *bytes = t.into_bytes();
        }
    }
    for f in &report.findings {
        let d = &f.decision;
        record(&Event::Guard {
            stream: f.stream.into(),
            kind: d.kind.as_str().into(),
            ty: d.ty.into(),
            path: d.path.clone(),
            start: d.start,
            end: d.end,
            score: d.score,
            action: d.action.into(),
        });
    }
    if report.blocked {
        let mut what: Vec<String> = report
            .findings
            .iter()
            .filter(|f| f.decision.action == "block")
            .map(|f| format!("{} ({})", f.decision.kind.as_str(), f.decision.ty))
            .collect();
        what.dedup();
        block(
            out,
            format!(
                "an output guard blocked the tool's output: {}",
                what.join(", ")
            ),
        );
    }
    out.report.guards = report;
}

fn block(out: &mut RunOutput, detail: String) {
    out.output = None;
    out.tool_error = None;
    out.stdout.clear();
    out.stderr.clear();
    out.report.outcome = Outcome::Guarded;
    out.report.limit = None;
    out.report.exit_code = status::DENIED;
    out.report.detail = detail;
    out.status = status::DENIED;
    out.report.guards.blocked = true;
}
