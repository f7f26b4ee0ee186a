//! `agentbox review MANIFEST --audit FILE...`: the grants a window of the audit
//! log never used — tools never called, net rules never matched, secrets never
//! injected — each with the manifest line to delete. Least privilege over time.

use agentbox_audit::stats::{Summary, summarize};
use agentbox_policy::{GrantLines, Manifest, grant_lines};
use serde::Serialize;
use std::path::{Path, PathBuf};

#[derive(clap::Args, Debug)]
pub struct ReviewArgs {
    manifest: PathBuf,
    /// The audit log (rotated files too, any order).
    #[arg(long, required = true, num_args = 1..)]
    audit: Vec<PathBuf>,
    /// Only events at or after this RFC 3339 date or time (e.g. 2026-11-01).
    #[arg(long, value_name = "DATE")]
    since: Option<String>,
    /// One JSON object instead of text.
    #[arg(long)]
    json: bool,
}

/// One grant nobody used.
#[derive(Debug, Serialize)]
struct Unused {
    /// `tool`, `net` or `secret`.
    kind: &'static str,
    /// What the manifest grants (the tool's name, the rule, the secret's name).
    grant: String,
    /// The manifest line to delete (the table's header or first key).
    line: usize,
}

#[derive(Debug, Serialize)]
struct ToolReview {
    tool: String,
    calls: u64,
    unused: Vec<Unused>,
    /// Grants the audit log cannot speak for.
    not_reviewed: Vec<String>,
}

#[derive(Debug, Serialize)]
struct Review {
    manifest: String,
    from: Option<String>,
    to: Option<String>,
    since: Option<String>,
    events: u64,
    tools: Vec<ToolReview>,
}

pub fn review(a: ReviewArgs) -> i32 {
    let fail = |e: String| {
        eprintln!("agentbox: {e}");
        agentbox_supervisor::status::CANNOT_RUN
    };
    let manifest = match Manifest::load(&a.manifest) {
        Ok(m) => m,
        Err(e) => return fail(e.to_string()),
    };
    let text = std::fs::read_to_string(&a.manifest).unwrap_or_default();
    let sum = match summarize(&a.audit, a.since.as_deref()) {
        Ok(s) => s,
        Err(e) => return fail(e.to_string()),
    };
    let r = build(&a.manifest, &manifest, &grant_lines(&text), &sum, a.since);
    if a.json {
        println!("{}", serde_json::to_string_pretty(&r).unwrap_or_default());
    } else {
        print!("{}", text_of(&r));
    }
    0
}

fn build(
    path: &Path,
    m: &Manifest,
    lines: &std::collections::BTreeMap<String, GrantLines>,
    sum: &Summary,
    since: Option<String>,
) -> Review {
    let tools = m
        .tools
        .values()
        .map(|spec| {
            let at = lines.get(&spec.name).cloned().unwrap_or_default();
            let stats = sum.tools.get(&spec.name);
            let calls = stats.map_or(0, |s| s.calls);
            let mut unused = Vec::new();
            if calls == 0 {
                unused.push(Unused {
                    kind: "tool",
                    grant: format!("[tools.{}]", spec.name),
                    line: at.tool,
                });
            } else {
                for (i, g) in spec.net.iter().enumerate() {
                    let hits = stats.and_then(|s| s.net_rules.get(&format!("net[{i}]")));
                    if hits.is_none_or(|&n| n == 0) {
                        unused.push(Unused {
                            kind: "net",
                            grant: format!("net[{i}]: {}", g.allow),
                            line: at.net.get(i).copied().unwrap_or(at.tool),
                        });
                    }
                }
                for (i, s) in spec.secrets.iter().enumerate() {
                    let uses = stats.and_then(|t| t.secrets.get(&s.name));
                    if uses.is_none_or(|&n| n == 0) {
                        unused.push(Unused {
                            kind: "secret",
                            grant: s.name.clone(),
                            line: at.secrets.get(i).copied().unwrap_or(at.tool),
                        });
                    }
                }
            }
            let mut not_reviewed = Vec::new();
            if !spec.fs.is_empty() {
                not_reviewed.push(format!(
                    "{} fs grant{}: file access is not in the audit log",
                    spec.fs.len(),
                    if spec.fs.len() == 1 { "" } else { "s" }
                ));
            }
            ToolReview {
                tool: spec.name.clone(),
                calls,
                unused,
                not_reviewed,
            }
        })
        .collect();
    Review {
        manifest: path.display().to_string(),
        from: sum.from.clone(),
        to: sum.to.clone(),
        since,
        events: sum.events,
        tools,
    }
}

fn text_of(r: &Review) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}: {} audit events from {} to {}",
        r.manifest,
        r.events,
        r.from.as_deref().unwrap_or("-"),
        r.to.as_deref().unwrap_or("-")
    );
    let mut any = false;
    for t in &r.tools {
        for u in &t.unused {
            any = true;
            let what = match u.kind {
                "tool" => format!("tool `{}` was never called: delete {}", t.tool, u.grant),
                "net" => format!("tool `{}`: {} never matched a request", t.tool, u.grant),
                _ => format!("tool `{}`: secret {} was never injected", t.tool, u.grant),
            };
            let _ = writeln!(out, "{}:{}: {what}", r.manifest, u.line);
        }
        for n in &t.not_reviewed {
            let _ = writeln!(out, "tool `{}`: not reviewed: {n}", t.tool);
        }
    }
    if !any {
        let _ = writeln!(
            out,
            "every tool, net rule and secret was used in the window"
        );
    }
    out
}
