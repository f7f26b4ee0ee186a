//! `agentbox audit report FILE... -o report.html`: one self-contained page for a
//! person — no script, no font, no CDN, every chart inline SVG — showing calls
//! over time per tool, outcomes, denials, destinations, secrets used, guard
//! findings and alerts. Every text from the log is HTML-escaped.

use agentbox_audit::stats::Summary;
use std::collections::BTreeMap;
use std::fmt::Write;

const PALETTE: [&str; 8] = [
    "#2f6fb3", "#d9822b", "#3a9a5b", "#c23b3b", "#7b5ea7", "#8c6d3f", "#d16ba5", "#5f7f8c",
];

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// Calls per time bucket, one line per tool.
fn timeline_svg(buckets: &[String], series: &BTreeMap<String, Vec<u64>>) -> String {
    let (w, h, left, bottom) = (860.0, 260.0, 48.0, 36.0);
    let max = series
        .values()
        .flat_map(|v| v.iter().copied())
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let n = buckets.len().max(2) as f64;
    let x = |i: usize| left + (w - left - 10.0) * i as f64 / (n - 1.0);
    let y = |v: u64| 10.0 + (h - bottom - 10.0) * (1.0 - v as f64 / max);
    let mut svg = format!(
        r#"<svg class="chart" id="calls-over-time" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" aria-label="calls over time per tool">"#
    );
    let _ = write!(
        svg,
        r##"<line x1="{left}" y1="{}" x2="{}" y2="{}" stroke="#888"/><line x1="{left}" y1="10" x2="{left}" y2="{}" stroke="#888"/>"##,
        h - bottom,
        w - 10.0,
        h - bottom,
        h - bottom
    );
    let _ = write!(
        svg,
        r#"<text x="4" y="16" font-size="11">{}</text><text x="4" y="{}" font-size="11">0</text>"#,
        max as u64,
        h - bottom
    );
    for (i, label) in [0, buckets.len().saturating_sub(1)]
        .iter()
        .zip(["start", "end"])
    {
        if let Some(b) = buckets.get(*i) {
            let anchor = if label == "start" { "start" } else { "end" };
            let _ = write!(
                svg,
                r#"<text x="{}" y="{}" font-size="11" text-anchor="{anchor}">{}</text>"#,
                x(*i),
                h - bottom + 16.0,
                esc(b)
            );
        }
    }
    for (k, (tool, counts)) in series.iter().enumerate() {
        let colour = PALETTE[k % PALETTE.len()];
        let points: Vec<String> = counts
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{:.1},{:.1}", x(i), y(*c)))
            .collect();
        let _ = write!(
            svg,
            r#"<polyline class="series" data-tool="{}" fill="none" stroke="{colour}" stroke-width="2" points="{}"/>"#,
            esc(tool),
            points.join(" ")
        );
        let _ = write!(
            svg,
            r#"<rect x="{}" y="{}" width="10" height="10" fill="{colour}"/><text x="{}" y="{}" font-size="11">{}</text>"#,
            left + 130.0 * k as f64,
            h - 14.0,
            left + 130.0 * k as f64 + 14.0,
            h - 5.0,
            esc(tool)
        );
    }
    svg.push_str("</svg>");
    svg
}

/// Horizontal bars, one per label.
fn bars_svg(id: &str, title: &str, items: &[(String, u64)]) -> String {
    if items.is_empty() {
        return format!(
            r#"<p class="empty" id="{id}">No {} recorded.</p>"#,
            esc(title)
        );
    }
    let max = items.iter().map(|(_, v)| *v).max().unwrap_or(1).max(1) as f64;
    let row = 22.0;
    let h = row * items.len() as f64 + 8.0;
    let mut svg = format!(
        r#"<svg class="chart" id="{id}" viewBox="0 0 860 {h}" width="860" height="{h}" role="img" aria-label="{}">"#,
        esc(title)
    );
    for (i, (label, v)) in items.iter().enumerate() {
        let y = 4.0 + row * i as f64;
        let width = 480.0 * *v as f64 / max;
        let _ = write!(
            svg,
            r#"<text x="4" y="{}" font-size="12">{}</text><rect class="bar" x="320" y="{y}" width="{width:.1}" height="16" fill="{}"/><text x="{}" y="{}" font-size="12">{v}</text>"#,
            y + 12.0,
            esc(&label.chars().take(48).collect::<String>()),
            PALETTE[i % PALETTE.len()],
            326.0 + width,
            y + 12.0
        );
    }
    svg.push_str("</svg>");
    svg
}

/// Everything in one map, keyed `tool: label`.
fn per_tool(
    sum: &Summary,
    pick: impl Fn(&agentbox_audit::stats::ToolStats) -> &BTreeMap<String, u64>,
) -> Vec<(String, u64)> {
    let mut v: Vec<(String, u64)> = sum
        .tools
        .iter()
        .flat_map(|(tool, t)| {
            pick(t)
                .iter()
                .map(move |(k, n)| (format!("{tool}: {k}"), *n))
        })
        .collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v.truncate(30);
    v
}

/// The page.
pub fn render(sum: &Summary, buckets: &[String], series: &BTreeMap<String, Vec<u64>>) -> String {
    let mut html = String::from(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>agentbox audit report</title>
<style>body{font:14px/1.4 system-ui,sans-serif;margin:24px auto;max-width:900px;color:#222}
h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd}
table{border-collapse:collapse}td,th{padding:3px 10px;border-bottom:1px solid #eee;text-align:right}
td:first-child,th:first-child{text-align:left}#alerts td,#alerts th{text-align:left;vertical-align:top}#alerts td:first-child{white-space:nowrap}.empty{color:#777}</style></head><body>
<h1>agentbox audit report</h1>"#,
    );
    let _ = write!(
        html,
        "<p>{} events from {} to {}, {} tool{}.</p>",
        sum.events,
        esc(sum.from.as_deref().unwrap_or("-")),
        esc(sum.to.as_deref().unwrap_or("-")),
        sum.tools.len(),
        if sum.tools.len() == 1 { "" } else { "s" }
    );
    html.push_str("<h2>Calls over time</h2>");
    html.push_str(&timeline_svg(buckets, series));
    html.push_str("<h2>Per tool</h2><table id=\"tools\"><tr><th>tool</th><th>calls</th><th>requests</th><th>denials</th><th>p50 ms</th><th>p95 ms</th><th>sent</th><th>received</th></tr>");
    for (name, t) in &sum.tools {
        let _ = write!(
            html,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.1}</td><td>{:.1}</td><td>{}</td><td>{}</td></tr>",
            esc(name),
            t.calls,
            t.requests,
            t.denials,
            t.duration_ms.p50,
            t.duration_ms.p95,
            t.bytes_sent,
            t.bytes_received
        );
    }
    html.push_str("</table>");
    html.push_str("<h2>Outcomes</h2>");
    html.push_str(&bars_svg(
        "outcomes",
        "outcomes",
        &per_tool(sum, |t| &t.outcomes),
    ));
    html.push_str("<h2>Denials</h2>");
    let denials: Vec<(String, u64)> = sum
        .tools
        .iter()
        .filter(|(_, t)| t.denials > 0)
        .map(|(k, t)| (k.clone(), t.denials))
        .collect();
    html.push_str(&bars_svg("denials", "denials", &denials));
    html.push_str("<h2>Destinations</h2>");
    html.push_str(&bars_svg(
        "destinations",
        "destinations",
        &per_tool(sum, |t| &t.destinations),
    ));
    html.push_str("<h3>Denied destinations</h3>");
    html.push_str(&bars_svg(
        "denied-destinations",
        "denied destinations",
        &per_tool(sum, |t| &t.denied_destinations),
    ));
    html.push_str("<h2>Secrets used</h2>");
    html.push_str(&bars_svg(
        "secrets",
        "secret uses",
        &per_tool(sum, |t| &t.secrets),
    ));
    html.push_str("<h2>Guard findings</h2>");
    html.push_str(&bars_svg(
        "guard-findings",
        "guard findings",
        &per_tool(sum, |t| &t.guard_findings),
    ));
    html.push_str("<h2>Alerts</h2>");
    if sum.alerts.is_empty() {
        html.push_str(r#"<p class="empty" id="alerts">No monitor rule fired.</p>"#);
    } else {
        html.push_str(r#"<table id="alerts"><tr><th>time</th><th>rule</th><th>tool</th><th>what was seen</th><th>responses</th></tr>"#);
        for a in &sum.alerts {
            let _ = write!(
                html,
                "<tr><td>{}</td><td>{} ({})</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&a.ts),
                a.rule,
                esc(&a.when),
                esc(&a.tool),
                esc(&a.detail),
                esc(&a.responses.join(", "))
            );
        }
        html.push_str("</table>");
    }
    html.push_str("</body></html>\n");
    html
}
