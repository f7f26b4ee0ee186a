//! `agentbox mcp` benchmarks: a warm `tools/call` round trip over stdio, isolated
//! calls per second with pipelined requests, and the server's memory with 8 idle
//! pooled workers. The client is this process, speaking JSON-RPC lines.

use anyhow::{Context, Result, bail};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

struct Server {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Server {
    fn start(exe: &Path, manifest: &Path, cache: &Path, max_concurrent: usize) -> Result<Self> {
        // Audited to a file, as a deployment would be.
        let mut child = Command::new(exe)
            .args(["mcp"])
            .arg(manifest)
            .arg("--audit")
            .arg(cache.join("bench-audit.jsonl"))
            .args(["--max-concurrent", &max_concurrent.to_string()])
            .env("AGENTBOX_CACHE_DIR", cache)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .context("starting agentbox mcp")?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            bail!("no pipes to agentbox mcp");
        };
        let mut s = Self {
            child,
            stdin,
            stdout: BufReader::new(stdout),
        };
        s.send(r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"bench","version":"1"}}}"#)?;
        s.recv()?;
        s.send(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#)?;
        Ok(s)
    }

    fn send(&mut self, line: &str) -> Result<()> {
        self.stdin.write_all(line.as_bytes())?;
        self.stdin.write_all(b"\n")?;
        self.stdin.flush()?;
        Ok(())
    }

    fn recv(&mut self) -> Result<String> {
        let mut line = String::new();
        if self.stdout.read_line(&mut line)? == 0 {
            bail!("agentbox mcp closed its stdout");
        }
        Ok(line)
    }

    /// The server process's resident set and its workers' proportional set, KiB.
    fn memory(&self) -> (u64, u64, usize) {
        let pid = self.child.id();
        let field = |text: &str, name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
                .unwrap_or(0)
        };
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        // Workers are started from whichever thread ran the call.
        let children: String = std::fs::read_dir(format!("/proc/{pid}/task"))
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|t| std::fs::read_to_string(t.path().join("children")).ok())
            .collect::<Vec<_>>()
            .join(" ");
        let workers: Vec<&str> = children.split_whitespace().collect();
        let pss: u64 = workers
            .iter()
            .map(|w| {
                let t =
                    std::fs::read_to_string(format!("/proc/{w}/smaps_rollup")).unwrap_or_default();
                field(&t, "Pss:")
            })
            .sum();
        (field(&status, "VmRSS:"), pss, workers.len())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // EOF on stdin: the server drains and exits.
        let _ = self.stdin.flush();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn call(id: usize) -> String {
    format!(
        r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{{"name":"hello","arguments":{{"name":"bench"}}}}}}"#
    )
}

fn check(line: &str) -> Result<()> {
    if !line.contains(r#""isError":false"#) {
        bail!("a benchmark call failed: {line}");
    }
    Ok(())
}

/// Rows for the bench table; notes for what is under it.
pub fn rows(
    root: &Path,
    exe: &Path,
    manifest: &Path,
    cache: &Path,
    quick: bool,
    rows: &mut Vec<String>,
    notes: &mut Vec<String>,
) -> Result<()> {
    // Round trip: one call at a time on a warm pool.
    let mut s = Server::start(exe, manifest, cache, crate::bench::cores() * 2)?;
    for i in 1..=50 {
        s.send(&call(i))?;
        check(&s.recv()?)?;
    }
    let n = if quick { 300 } else { 3000 };
    let mut times: Vec<Duration> = Vec::with_capacity(n);
    for i in 0..n {
        let t = Instant::now();
        s.send(&call(100 + i))?;
        let line = s.recv()?;
        times.push(t.elapsed());
        check(&line)?;
    }
    rows.push(crate::bench::stats(
        "mcp: warm tools/call round trip (stdio)",
        times,
    ));

    // Throughput: requests written as fast as the pipe takes them, answers read
    // as they come; every call is a fresh instance on a pooled confined worker.
    let n = if quick { 2000 } else { 20000 };
    let mut stdin = dup(&s.stdin)?;
    let writer = std::thread::spawn(move || -> Result<()> {
        let mut buf = Vec::new();
        for i in 0..n {
            buf.extend_from_slice(call(100_000 + i).as_bytes());
            buf.push(b'\n');
            if buf.len() > 64 * 1024 {
                stdin.write_all(&buf)?;
                buf.clear();
            }
        }
        stdin.write_all(&buf)?;
        stdin.flush()?;
        Ok(())
    });
    let t = Instant::now();
    for _ in 0..n {
        check(&s.recv()?)?;
    }
    let took = t.elapsed();
    writer
        .join()
        .map_err(|_| anyhow::anyhow!("writer thread panicked"))??;
    notes.push(format!(
        "mcp: {n} pipelined tools/call over stdio (max-concurrent {}): {:.0} calls/s (target >= 5000)",
        crate::bench::cores() * 2,
        n as f64 / took.as_secs_f64()
    ));
    drop(s);

    // Memory with 8 idle pooled workers: 8 calls of the probe that each take a
    // while, at once, grow its pool to 8.
    let probe_dir = tempfile::tempdir()?;
    let probe = probe_dir.path().join("mcp.toml");
    std::fs::copy(
        root.join("build/guests/mcp_probe.wasm"),
        probe_dir.path().join("mcp_probe.wasm"),
    )
    .context("build/guests/mcp_probe.wasm is missing: run `cargo xtask guests c`")?;
    std::fs::write(
        &probe,
        "version = 1\n[tools.probe]\ncomponent = \"mcp_probe.wasm\"\nrationale = \"bench\"\n",
    )?;
    let mut s = Server::start(exe, &probe, cache, 8)?;
    for i in 0..8 {
        s.send(&format!(
            r#"{{"jsonrpc":"2.0","id":{},"method":"tools/call","params":{{"name":"probe","arguments":{{"op":"spin","n":100}}}}}}"#,
            i + 1
        ))?;
    }
    for _ in 0..8 {
        check(&s.recv()?)?;
    }
    // Idle workers give back their code pages after 100 ms without a call.
    std::thread::sleep(Duration::from_millis(300));
    let (rss, pss, workers) = s.memory();
    rows.push(crate::bench::kib_row(
        "mcp: server RSS, 8-worker pool (KiB)",
        rss,
    ));
    notes.push(format!(
        "mcp: server RSS {:.1} MiB (target <= 64 MiB) with {workers} idle pooled workers (their PSS together {:.1} MiB)",
        rss as f64 / 1024.0,
        pss as f64 / 1024.0
    ));
    Ok(())
}

/// A second handle on the server's stdin, for the writer thread.
fn dup(stdin: &ChildStdin) -> Result<std::fs::File> {
    use std::os::fd::AsFd;
    Ok(std::fs::File::from(stdin.as_fd().try_clone_to_owned()?))
}
