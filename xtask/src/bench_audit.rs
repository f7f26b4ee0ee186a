//! The audit log's rows of `cargo xtask bench`: what the hash chain and the
//! signed stop checkpoint add to one invocation's lines (target ≤ 50 µs p50), and
//! how fast `audit verify` checks a log (target ≥ 100,000 events/s). Files live on
//! tmpfs (/dev/shm) so that the disk's sync time is not counted as the chain's.

use agentbox_audit::{AuditLog, Event, FileOptions, GrantsRecord, Signer};
use anyhow::{Context, Result};
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

/// The lines of a typical invocation: start, load, one request, one log line, end.
fn invocation() -> Vec<Event> {
    vec![
        Event::RunStart {
            tool: "fetch".into(),
            kind: "tool".into(),
            manifest: "/srv/agentbox/tools.toml".into(),
            manifest_sha256: "ab".repeat(32),
            component_sha256: Some("cd".repeat(32)),
            profile: "default".into(),
            grants: Box::new(GrantsRecord {
                fs: Vec::new(),
                net: Vec::new(),
                secrets: vec!["API_TOKEN".into()],
                env: Vec::new(),
                limits: serde_json::json!({"memory": 67108864, "timeout_ms": 10000}),
            }),
            dangerous: Vec::new(),
            mcp: None,
        },
        Event::ComponentLoaded {
            sha256: "cd".repeat(32),
            cache: "hit".into(),
        },
        Event::HttpRequest {
            method: "GET".into(),
            target: "https://api.example.com/v1/items".into(),
            decision: "allowed".into(),
            reason: "net[0]: https://api.example.com/v1/".into(),
            address: Some("192.0.2.7:443".into()),
            status: Some(200),
            redirect: 0,
            bytes_sent: Some(0),
            bytes_received: Some(2048),
        },
        Event::GuestLog {
            level: "info".into(),
            message: "fetched 12 items".into(),
        },
        Event::RunEnd {
            outcome: "ok".into(),
            detail: String::new(),
            limit: None,
            limits_hit: Vec::new(),
            exit_code: Some(0),
            duration_ms: 3.2,
        },
    ]
}

pub fn rows(quick: bool, rows: &mut Vec<String>, notes: &mut Vec<String>) -> Result<()> {
    let dir = tempfile::Builder::new()
        .prefix("agentbox-bench-audit")
        .tempdir_in(if Path::new("/dev/shm").is_dir() {
            "/dev/shm"
        } else {
            "/tmp"
        })?;
    let events = invocation();
    let n = if quick { 200 } else { 2000 };

    // The log as it was: each event serialised and appended, nothing else.
    let plain_path = dir.path().join("plain.jsonl");
    let mut plain = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&plain_path)?;
    let mut plain_t = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        for e in &events {
            let mut line = serde_json::to_vec(e)?;
            line.push(b'\n');
            plain.write_all(&line)?;
        }
        plain.sync_data()?;
        plain_t.push(t.elapsed());
    }
    rows.push(crate::bench::stats(
        "audit: 5 plain lines (no chain)",
        plain_t.clone(),
    ));

    // Chained and signed, closed like one `agentbox run`: a stop checkpoint each.
    let key = dir.path().join("k.pem");
    let signer = || Signer::load_or_create(&key).context("audit key");
    let path = dir.path().join("chained.jsonl");
    let mut signed_t = Vec::with_capacity(n);
    for i in 0..n {
        let log = AuditLog::open(
            &path,
            &format!("r{i}"),
            FileOptions {
                signer: Some(signer()?),
                rotate_bytes: None,
            },
        )?;
        let t = Instant::now();
        for e in &events {
            log.record(e)?;
        }
        log.close()?;
        signed_t.push(t.elapsed());
    }
    rows.push(crate::bench::stats(
        "audit: 5 chained lines + signed stop",
        signed_t.clone(),
    ));
    // As `agentbox mcp` writes them: one long-lived writer, a checkpoint every
    // 1,000 lines or 10 s (counted where it falls), synced once a second (not here).
    let served = dir.path().join("served.jsonl");
    let log = AuditLog::open(
        &served,
        "mcp",
        FileOptions {
            signer: Some(signer()?),
            rotate_bytes: None,
        },
    )?;
    let mut served_t = Vec::with_capacity(n);
    let mut plain_nosync_t = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        for e in &events {
            log.record(e)?;
        }
        served_t.push(t.elapsed());
        let t = Instant::now();
        for e in &events {
            let mut line = serde_json::to_vec(e)?;
            line.push(b'\n');
            plain.write_all(&line)?;
        }
        plain_nosync_t.push(t.elapsed());
    }
    log.close()?;
    rows.push(crate::bench::stats(
        "audit: 5 chained lines, served (mcp)",
        served_t.clone(),
    ));
    let added = |a: &[Duration], b: &[Duration]| {
        crate::bench::median(a)
            .saturating_sub(crate::bench::median(b))
            .as_secs_f64()
            * 1e6
    };
    notes.push(format!(
        "audit: per invocation, the chain and signing add {:.1} µs p50 under `agentbox mcp` (checkpoint every 1,000 lines) and {:.1} µs p50 for one `agentbox run` (its own signed stop checkpoint); target <= 50",
        added(&served_t, &plain_nosync_t),
        added(&signed_t, &plain_t)
    ));

    // `audit verify` on a signed log (a periodic checkpoint every 1,000 events).
    let big = dir.path().join("big.jsonl");
    let total = if quick { 20_000 } else { 200_000 };
    {
        let log = AuditLog::open(
            &big,
            "v",
            FileOptions {
                signer: Some(signer()?),
                rotate_bytes: None,
            },
        )?;
        for i in 0..total {
            log.record(&events[i % events.len()])?;
        }
        log.close()?;
    }
    let mut best = Duration::MAX;
    let mut checked = 0;
    for _ in 0..3 {
        let t = Instant::now();
        let v = agentbox_audit::verify(std::slice::from_ref(&big), None, false)
            .map_err(|e| anyhow::anyhow!("verify: {e}"))?;
        best = best.min(t.elapsed());
        checked = v.events;
    }
    notes.push(format!(
        "audit verify: {checked} events ({:.1} MB) in {:.0} ms = {:.0} events/s (target >= 100,000)",
        std::fs::metadata(&big)?.len() as f64 / 1e6,
        best.as_secs_f64() * 1e3,
        checked as f64 / best.as_secs_f64()
    ));
    Ok(())
}
