//! `agentbox check`: the grants of every tool, with rationale, as a table.

use crate::say;
use agentbox_policy::{Manifest, ToolKind, units, warnings};
use agentbox_supervisor::status;
use std::path::Path;

fn table(rows: &[[String; 4]]) -> String {
    let head = ["GRANT", "TARGET", "MODE", "RATIONALE"];
    let mut w = head.map(str::len);
    for r in rows {
        for (i, c) in r.iter().enumerate().take(3) {
            w[i] = w[i].max(c.chars().count());
        }
    }
    let mut out = String::new();
    let line = |cells: [&str; 4]| {
        format!(
            "  {:<a$}  {:<b$}  {:<c$}  {}\n",
            cells[0],
            cells[1],
            cells[2],
            cells[3],
            a = w[0],
            b = w[1],
            c = w[2]
        )
    };
    out.push_str(&line(head));
    for r in rows {
        out.push_str(&line([&r[0], &r[1], &r[2], &r[3]]));
    }
    out
}

pub fn check(path: &Path) -> i32 {
    let m = match Manifest::load(path) {
        Ok(m) => m,
        Err(e) => {
            say(e);
            return status::CANNOT_RUN;
        }
    };
    let mut text = format!(
        "{}: valid manifest, version 1, {} tool(s)\n",
        path.display(),
        m.tools.len()
    );
    for t in m.tools.values() {
        text.push_str(&format!(
            "\ntool {} (kind {}, profile {})\n",
            t.name,
            t.kind.as_str(),
            t.profile
        ));
        if !t.description.is_empty() {
            text.push_str(&format!("  description: {}\n", t.description));
        }
        text.push_str(&format!("  rationale:   {}\n", t.rationale));
        match t.kind {
            ToolKind::Native => text.push_str(&format!("  exec:        {}\n", t.exec.join(" "))),
            _ => {
                if let Some(c) = &t.component {
                    text.push_str(&format!(
                        "  component:   {}{}\n",
                        c.display(),
                        t.sha256
                            .as_ref()
                            .map(|s| format!(" (sha256 pinned {s})"))
                            .unwrap_or_default()
                    ));
                }
            }
        }
        let l = &t.limits;
        text.push_str(&format!(
            "  limits:      memory {}, timeout {}, cpu {}, output {}, http_requests {}, http_bytes {}{}\n",
            units::format_size(l.memory),
            units::format_duration(l.timeout),
            units::format_duration(l.cpu),
            units::format_size(l.output),
            l.http_requests,
            units::format_size(l.http_bytes),
            if t.kind == ToolKind::Native { format!(", processes {}", l.processes) } else { String::new() }
        ));
        let mut rows: Vec<[String; 4]> = Vec::new();
        for g in &t.fs {
            rows.push([
                "fs".into(),
                format!("{} -> {}", g.host.display(), g.guest),
                g.access.as_str().into(),
                g.rationale.clone(),
            ]);
        }
        for g in &t.scratch {
            rows.push([
                "scratch".into(),
                format!("tmpfs -> {}", g.guest),
                format!("rw, {}, {} files", units::format_size(g.size), g.files),
                g.rationale.clone(),
            ]);
        }
        for g in &t.net {
            let mode = format!(
                "{}{}",
                g.methods.join(","),
                if g.private { " private" } else { "" }
            );
            rows.push(["net".into(), g.allow.to_string(), mode, g.rationale.clone()]);
        }
        for s in &t.secrets {
            let to: Vec<String> = s.allow.iter().map(ToString::to_string).collect();
            let mode = s
                .header
                .as_ref()
                .map(|h| format!("header {h}"))
                .unwrap_or_else(|| "placeholder".into());
            rows.push([
                "secret".into(),
                format!("{} -> {}", s.name, to.join(" ")),
                mode,
                s.rationale.clone(),
            ]);
        }
        for e in &t.env {
            rows.push([
                "env".into(),
                e.name.clone(),
                "plain".into(),
                "(value from the manifest)".into(),
            ]);
        }
        if rows.is_empty() {
            text.push_str("  grants:      none (no files, no network, no secrets)\n");
        } else {
            text.push_str(&table(&rows));
        }
    }
    let warns = warnings(&m);
    if !warns.is_empty() {
        text.push('\n');
    }
    for w in &warns {
        text.push_str(&format!("warning: {}: {}\n", w.key, w.message));
    }
    print!("{text}");
    0
}
