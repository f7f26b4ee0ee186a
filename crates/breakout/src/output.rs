//! Output: a table per category and a final count, or JSON for machines.

use crate::registry::Registry;
use crate::runner::{CaseResult, Status};
use std::fmt::Write;

fn word(s: Status) -> &'static str {
    match s {
        Status::Passed => "passed",
        Status::Failed => "FAILED",
        Status::Skipped => "skipped",
    }
}

/// One line on stderr as each case ends (the table comes at the end).
pub fn progress(r: &CaseResult) {
    eprintln!("agentbox: breakout {} {}", r.id, word(r.status));
}

fn clip(s: &str, n: usize) -> String {
    let one: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if one.chars().count() <= n {
        one
    } else {
        let mut t: String = one.chars().take(n.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

pub fn counts(results: &[CaseResult]) -> (usize, usize, usize) {
    let n = |s| results.iter().filter(|r| r.status == s).count();
    (n(Status::Passed), n(Status::Failed), n(Status::Skipped))
}

pub fn table(results: &[CaseResult], reg: &Registry, layers: bool) -> String {
    let mut out = String::new();
    for cat in &reg.categories {
        let rows: Vec<&CaseResult> = results
            .iter()
            .filter(|r| r.id.split('-').next() == Some(cat.id.as_str()))
            .collect();
        if rows.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n{} — {}", cat.id, cat.title);
        let _ = writeln!(
            out,
            "  {:<8} {:<44} {:<28} {:<8} detail",
            "case", "attack", "blocked by", "result"
        );
        for r in rows {
            let case = reg.cases.iter().find(|c| c.id == r.id);
            let attack = case.map_or("", |c| c.attack.as_str());
            let by = case.map(|c| c.blocked_by.join(", ")).unwrap_or_default();
            let _ = writeln!(
                out,
                "  {:<8} {:<44} {:<28} {:<8} {}",
                r.id,
                clip(attack, 44),
                clip(&by, 28),
                word(r.status),
                clip(&r.detail, 110)
            );
            if layers && !r.layers.is_empty() {
                for l in &r.layers {
                    let _ = writeln!(
                        out,
                        "  {:<8}   isolated-{:<11} expected {:<8} {} {}",
                        "",
                        l.layer,
                        l.expected,
                        if l.ok { "ok " } else { "BAD" },
                        clip(&l.observed, 90)
                    );
                }
            }
        }
    }
    let (p, f, s) = counts(results);
    let _ = writeln!(out, "\n{p} passed, {f} failed, {s} skipped");
    out
}

pub fn json(results: &[CaseResult], reg: &Registry) -> String {
    let (p, f, s) = counts(results);
    let cases: Vec<serde_json::Value> = results
        .iter()
        .map(|r| {
            let c = reg.cases.iter().find(|c| c.id == r.id);
            serde_json::json!({
                "id": r.id,
                "category": r.id.split('-').next(),
                "attack": c.map(|c| c.attack.clone()),
                "blocked_by": c.map(|c| c.blocked_by.clone()),
                "result": r.status,
                "detail": r.detail,
                "attempts": r.attempts,
                "layers": r.layers,
            })
        })
        .collect();
    serde_json::json!({
        "passed": p,
        "failed": f,
        "skipped": s,
        "cases": cases,
    })
    .to_string()
}
