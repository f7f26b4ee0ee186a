//! The guards' rows of `cargo xtask bench`: what the default output guards add
//! to a call returning 64 KiB, and `agentbox scan --jsonl` as a whole process on
//! benign text. The text is the project's own documentation (prose, tables,
//! code): benign, and here without a download.

use agentbox_guard::{GuardPolicy, OutputGuard, Scanner};
use anyhow::{Context, Result, bail};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The docs as one benign text.
fn docs_text(root: &Path) -> Result<String> {
    let mut text = String::new();
    let mut paths: Vec<_> = std::fs::read_dir(root.join("docs"))?
        .chain(std::fs::read_dir(root.join("docs/decisions"))?)
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    paths.sort();
    for p in paths {
        text.push_str(&std::fs::read_to_string(&p).with_context(|| p.display().to_string())?);
        text.push('\n');
    }
    if text.len() < 64 << 10 {
        bail!("docs/ has less than 64 KiB of text");
    }
    Ok(text)
}

pub fn rows(
    root: &Path,
    exe: &Path,
    quick: bool,
    rows: &mut Vec<String>,
    notes: &mut Vec<String>,
) -> Result<()> {
    let text = docs_text(root)?;
    // A kind-tool result of 64 KiB: one JSON string, as a fetch tool returns a page.
    let mut cut = 64 << 10;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    let result = serde_json::json!({ "text": &text[..cut] }).to_string();
    let scanner = Scanner::new();
    let guard = OutputGuard::new(&GuardPolicy::default()).map_err(|(_, e)| anyhow::anyhow!(e))?;
    let n = if quick { 30 } else { 200 };
    guard.check(&scanner, &result);
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        let g = guard.check(&scanner, &result);
        times.push(t.elapsed());
        std::hint::black_box(g);
    }
    rows.push(crate::bench::stats(
        "guards: default, on a 64 KiB result",
        times,
    ));

    // Whole-process scan: the docs' lines as JSON lines, repeated to ~8 MiB
    // (2 MiB with --quick).
    let target = if quick { 2 << 20 } else { 8 << 20 };
    let mut jsonl = Vec::with_capacity(target + (64 << 10));
    while jsonl.len() < target {
        for para in text.split("\n\n").filter(|p| !p.trim().is_empty()) {
            serde_json::to_writer(&mut jsonl, &serde_json::json!({ "text": para }))?;
            jsonl.push(b'\n');
        }
    }
    let mut best = Duration::MAX;
    for _ in 0..if quick { 2 } else { 5 } {
        let t = Instant::now();
        let mut child = Command::new(exe)
            .args(["scan", "--jsonl"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .with_context(|| format!("start {}", exe.display()))?;
        child.stdin.take().context("stdin")?.write_all(&jsonl)?;
        let status = child.wait()?;
        if !status.success() {
            bail!("agentbox scan --jsonl failed: {status}");
        }
        best = best.min(t.elapsed());
    }
    notes.push(format!(
        "agentbox scan --jsonl, whole process, every guard, {:.1} MB of benign text (the docs' paragraphs): best of runs {:.0} ms = {:.1} MB/s (target >= 50)",
        jsonl.len() as f64 / 1e6,
        best.as_secs_f64() * 1e3,
        jsonl.len() as f64 / 1e6 / best.as_secs_f64()
    ));
    Ok(())
}
