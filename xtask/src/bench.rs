//! `cargo xtask bench`: invocation latency of the `hello` example.
//!
//! - cold: a new engine, the component loaded from the compile cache, linked, one
//!   fresh instance, one call (what one `agentbox run` does inside the process);
//! - warm: an already linked component (instance-pre), one fresh instance and call;
//! - process: the whole `agentbox run` binary, end to end, interleaved with the
//!   reference like cold confined; its CPU time (agentbox and every worker it
//!   started, all reaped by the bench as their subreaper) against bwrap's;
//! - sizes: the `agentbox-worker` binary against `agentbox`;
//! - cold confined: a new confined worker per call, interleaved with the
//!   reference (`bwrap ... /bin/true`), alternating which goes first, each after
//!   the previous worker's teardown and a short settle; the note under the table
//!   gives the ratio of their medians (the issue's target).

use agentbox_audit::AuditLog;
use agentbox_host::Invocation;
use agentbox_ipc::Layer;
use agentbox_policy::Manifest;
use agentbox_supervisor::{Options, Supervisor};
use anyhow::{Context, Result, bail};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The `q` quantile of sorted `v`.
fn quantile(v: &[Duration], q: f64) -> Duration {
    v[((v.len() as f64 - 1.0) * q).round() as usize]
}

pub(crate) fn stats(name: &str, mut v: Vec<Duration>) -> String {
    v.sort();
    let n = v.len();
    let pick = |q: f64| quantile(&v, q);
    let mean = v.iter().sum::<Duration>() / n as u32;
    let us = |d: Duration| format!("{:.1}", d.as_secs_f64() * 1e6);
    format!(
        "| {name:<40} | {n:>6} | {:>10} | {:>10} | {:>10} | {:>10} |",
        us(v[0]),
        us(pick(0.5)),
        us(pick(0.9)),
        us(mean)
    )
}

/// Debian's bubblewrap starting /bin/true in fresh namespaces (the reference):
/// `None` when bwrap is not installed, an error when it fails.
/// The reference sandbox: `bwrap --unshare-all ... /bin/true`.
fn bwrap_command() -> Option<std::process::Command> {
    if !Path::new("/usr/bin/bwrap").exists() {
        return None;
    }
    let mut c = std::process::Command::new("/usr/bin/bwrap");
    c.args([
        "--unshare-all",
        "--die-with-parent",
        "--ro-bind",
        "/usr",
        "/usr",
        "--symlink",
        "usr/lib",
        "/lib",
        "--symlink",
        "usr/lib64",
        "/lib64",
        "--symlink",
        "usr/bin",
        "/bin",
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "/bin/true",
    ]);
    Some(c)
}

fn bwrap_once() -> Result<Option<Duration>> {
    match bwrap_command() {
        None => Ok(None),
        Some(mut c) => Ok(Some(timed(&mut c, "bwrap")?.0)),
    }
}

/// CPU time (user + system) of every child this process has reaped so far.
fn children_cpu() -> Duration {
    use nix::sys::resource::{UsageWho, getrusage};
    getrusage(UsageWho::RUSAGE_CHILDREN).map_or(Duration::ZERO, |u| {
        let tv = |t: nix::sys::time::TimeVal| {
            Duration::new(t.tv_sec() as u64, t.tv_usec() as u32 * 1000)
        };
        tv(u.user_time()) + tv(u.system_time())
    })
}

/// Runs `cmd` to completion: its wall time (until it exits) and the CPU time of
/// it and of everything it started — the bench is their subreaper, so a worker
/// that outlives `agentbox` is reaped (and counted) here too.
fn timed(cmd: &mut std::process::Command, what: &str) -> Result<(Duration, Duration)> {
    let cpu0 = children_cpu();
    let t = Instant::now();
    let out = cmd
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .output()
        .with_context(|| format!("starting {what}"))?;
    let wall = t.elapsed();
    if !out.status.success() {
        bail!(
            "{what} failed on this host ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // Orphans (a worker agentbox did not wait for) come back to us: reap them,
    // within a deadline (a worker that never exits is a failure, not a hang).
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
        match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::StillAlive) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_micros(200));
            }
            Ok(WaitStatus::StillAlive) => bail!("{what} left a process that did not exit in 30 s"),
            Ok(_) | Err(nix::errno::Errno::EINTR) => {}
            Err(_) => break,
        }
    }
    Ok((wall, children_cpu().saturating_sub(cpu0)))
}

/// The cold confined rows: a whole invocation through one supervisor (a new
/// worker process with every layer), interleaved with bwrap, then without the
/// cgroup layer and without namespaces (what each layer's setup costs).
fn cold_rows(
    opts: &Options,
    manifest: &Manifest,
    tool: &agentbox_policy::ToolSpec,
    inv: &Invocation,
    quick: bool,
    rows: &mut Vec<String>,
    notes: &mut Vec<String>,
) -> Result<()> {
    // A whole confined invocation through the supervisor (new worker process,
    // namespaces, pivot_root, Landlock, seccomp, cgroup; component from cache).
    // The reference (bwrap) runs interleaved with it, one each in turn (which
    // goes first alternates), each after the previous worker's teardown and a
    // `settle`, so that both see the same machine: the ratio of their medians
    // is the target.
    let sup = Supervisor::new(opts)?;
    // Quick (the CI smoke run): 15 pairs, enough for a median that is not noise.
    let n = if quick { 15 } else { 40 };
    let mut confined = Vec::new();
    let mut bw = Vec::new();
    let mut bwrap_error = None;
    for i in 0..n {
        // Alternating which one goes first, so that neither always follows
        // the other's teardown.
        let cold_first = i % 2 == 0;
        for which in [cold_first, !cold_first] {
            sup.wait_for_teardown();
            settle();
            if which {
                let t = Instant::now();
                let out = sup.run(manifest, tool, inv, Arc::new(AuditLog::memory("bench")));
                confined.push(t.elapsed());
                if out.status != 0 {
                    bail!("confined run failed: {}", out.report.detail);
                }
            } else if bwrap_error.is_none() {
                match bwrap_once() {
                    Ok(Some(d)) => bw.push(d),
                    Ok(None) => {}
                    Err(e) => bwrap_error = Some(e.to_string()),
                }
            }
        }
    }
    rows.push(stats("cold confined: new worker + call", confined.clone()));
    if let Some(e) = &bwrap_error {
        rows.push(format!("| reference: {e} | | | | | |"));
    } else if bw.len() == n {
        let ratio = median(&confined).as_secs_f64() / median(&bw).as_secs_f64();
        rows.push(stats("reference: bwrap ... /bin/true", bw));
        notes.push(format!(
            "cold confined / bwrap, medians of {n} interleaved runs: {ratio:.2}x (target <= 1.0x)"
        ));
    } else {
        rows.push(
            "| reference: bwrap not installed (apt-get install bubblewrap) | | | | | |".into(),
        );
    }
    // Diagnostics: where the cold time goes (each layer's setup cost).
    for layer in [Layer::Cgroup, Layer::Namespaces] {
        let sup = Supervisor::new(&Options {
            disabled_layers: vec![layer],
            ..opts.clone()
        })?;
        let mut t_layer = Vec::new();
        for _ in 0..n {
            // Measured as the cold confined row is: after the last teardown and
            // the settle, so that their difference is the layer's cost.
            sup.wait_for_teardown();
            settle();
            let t = Instant::now();
            let out = sup.run(manifest, tool, inv, Arc::new(AuditLog::memory("bench")));
            t_layer.push(t.elapsed());
            if out.status != 0 {
                bail!("confined run without {layer} failed: {}", out.report.detail);
            }
        }
        rows.push(stats(
            &format!("diagnostic: cold confined without {layer}"),
            t_layer,
        ));
    }
    Ok(())
}

/// Before each measured run of the cold / bwrap pair (after agentbox's reaper has
/// finished): 3 ms of busy waiting, so that the previous run's asynchronous
/// teardown in the kernel (namespace cleanup, for both) mostly happens outside
/// the next measurement, without letting the machine go idle (a halted vCPU
/// takes ~0.1 ms to wake).
fn settle() {
    let t = Instant::now();
    while t.elapsed() < Duration::from_millis(3) {
        std::hint::spin_loop();
    }
}

/// Cores of this machine (the server's default concurrency is twice this).
pub(crate) fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

pub(crate) fn median(v: &[Duration]) -> Duration {
    let mut v = v.to_vec();
    v.sort();
    quantile(&v, 0.5)
}

pub fn run(root: &Path, args: &[String]) -> Result<()> {
    let quick = args.iter().any(|a| a == "--quick");
    // Workers that outlive the `agentbox run` that started them are reparented to
    // the bench, which reaps them and so counts their CPU time ([`timed`]).
    nix::sys::prctl::set_child_subreaper(true).context("PR_SET_CHILD_SUBREAPER")?;
    let manifest_path = root.join("examples/hello/agentbox.toml");
    if !root.join("examples/hello/hello.wasm").exists() {
        bail!("examples/hello/hello.wasm is missing: run `cargo xtask guests c` first");
    }
    let manifest = Manifest::load(&manifest_path).context("loading the hello manifest")?;
    let tool = manifest.tool(None).map_err(anyhow::Error::msg)?.clone();
    let cache = tempfile::tempdir()?;
    let exe = std::env::var_os("AGENTBOX_BIN")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            let t = std::env::var_os("CARGO_TARGET_DIR")
                .map(std::path::PathBuf::from)
                .unwrap_or_else(|| root.join("target"));
            t.join("release/agentbox")
        });
    if args.iter().any(|a| a == "--process-only") {
        // Only the whole-process rows: also measures an older agentbox binary
        // (AGENTBOX_BIN), whatever its worker.
        let (mut rows, mut notes) = (Vec::new(), Vec::new());
        whole_process(
            &exe,
            &manifest_path,
            &cache.path().join("c"),
            quick,
            &mut rows,
            &mut notes,
        )?;
        notes.push(format!(
            "agentbox: {:.1} MiB mapped from the file (PT_LOAD)",
            loadable_bytes(&exe)? as f64 / f64::from(1 << 20)
        ));
        print_table(&rows, &notes);
        return Ok(());
    }
    if args.iter().any(|a| a == "--audit-only") {
        let (mut rows, mut notes) = (Vec::new(), Vec::new());
        crate::bench_audit::rows(quick, &mut rows, &mut notes)?;
        print_table(&rows, &notes);
        return Ok(());
    }
    if args.iter().any(|a| a == "--guards-only") {
        let (mut rows, mut notes) = (Vec::new(), Vec::new());
        crate::bench_guard::rows(root, &exe, quick, &mut rows, &mut notes)?;
        print_table(&rows, &notes);
        return Ok(());
    }
    if args.iter().any(|a| a == "--mcp-only") {
        let (mut rows, mut notes) = (Vec::new(), Vec::new());
        crate::bench_mcp::rows(
            root,
            &exe,
            &manifest_path,
            &cache.path().join("c"),
            quick,
            &mut rows,
            &mut notes,
        )?;
        print_table(&rows, &notes);
        return Ok(());
    }
    let worker = agentbox_supervisor::worker_binary(&exe);
    if !worker.is_file() {
        bail!(
            "{} is missing: build it with `cargo build --release -p agentbox-worker --features standalone --bin agentbox-worker`",
            worker.display()
        );
    }
    let opts = Options {
        cache_dir: Some(cache.path().join("c")),
        pooling: false,
        worker_exe: Some(worker.clone()),
        compile_exe: Some(exe.clone()),
        ..Options::default()
    };
    let inv = Invocation {
        input: r#"{"name":"bench"}"#.into(),
        ..Default::default()
    };
    // Fill the compile cache once.
    Supervisor::new(&opts)?.load(&tool)?;

    let mut rows = Vec::new();
    let mut notes: Vec<String> = Vec::new();
    if args.iter().any(|a| a == "--cold-only") {
        // Only the cold confined rows (the cgroup v2 VM lane compares them with v1).
        cold_rows(&opts, &manifest, &tool, &inv, quick, &mut rows, &mut notes)?;
        print_table(&rows, &notes);
        return Ok(());
    }
    let n_cold = if quick { 10 } else { 50 };
    let mut cold = Vec::new();
    for _ in 0..n_cold {
        let t = Instant::now();
        let sup = Supervisor::new(&opts)?;
        let loaded = sup.load(&tool)?;
        let prepared = sup
            .bench_prepare(&loaded, &tool)
            .map_err(anyhow::Error::msg)?;
        let (r, _) =
            sup.bench_in_process(&prepared, &tool, &inv, Arc::new(AuditLog::memory("bench")));
        if r.output.is_none() {
            bail!("cold call failed: {}", r.detail);
        }
        cold.push(t.elapsed());
    }
    rows.push(stats("cold: engine + cache load + call", cold));

    for (label, pooling) in [
        ("warm: instance-pre + call (on-demand)", false),
        ("warm: instance-pre + call (pooling)", true),
    ] {
        let sup = Supervisor::new(&Options {
            pooling,
            ..opts.clone()
        })?;
        let loaded = sup.load(&tool)?;
        let prepared = sup
            .bench_prepare(&loaded, &tool)
            .map_err(anyhow::Error::msg)?;
        let n = if quick { 200 } else { 2000 };
        let mut warm = Vec::with_capacity(n);
        for _ in 0..n {
            let t = Instant::now();
            let (r, _) =
                sup.bench_in_process(&prepared, &tool, &inv, Arc::new(AuditLog::memory("bench")));
            warm.push(t.elapsed());
            if r.output.is_none() {
                bail!("warm call failed: {}", r.detail);
            }
        }
        rows.push(stats(label, warm));
    }

    if exe.exists() {
        cold_rows(&opts, &manifest, &tool, &inv, quick, &mut rows, &mut notes)?;
        let sup = Supervisor::new(&opts)?;
        // Warm: a pre-spawned confined worker, a fresh instance per call.
        let pool = sup.pool(&tool, 1).map_err(anyhow::Error::msg)?;
        let n_warm = if quick { 200 } else { 2000 };
        let mut pooled = Vec::with_capacity(n_warm);
        for _ in 0..n_warm {
            let t = Instant::now();
            let out = pool.invoke(&inv, Arc::new(AuditLog::memory("bench")));
            pooled.push(t.elapsed());
            if out.status != 0 {
                bail!("pooled call failed: {}", out.report.detail);
            }
        }
        rows.push(stats("warm pooled: confined worker + call", pooled));
        // Idle: a pooled worker gives back its code pages after 100 ms without a
        // call (IDLE_RELEASE in the worker); measured once that has happened.
        std::thread::sleep(std::time::Duration::from_millis(300));
        match pool.idle_workers_pss().first() {
            Some(p) => {
                rows.push(kib_row("idle worker PSS, alone (KiB, not µs)", p.pss));
                notes.push(format!(
                    "idle worker alone: {} process(es), PSS {} KiB = anonymous {} + file-backed {}",
                    p.processes, p.pss, p.anon, p.file
                ));
            }
            None => rows.push("| idle pooled worker PSS: unavailable | | | | | |".into()),
        }
        for pid in pool.idle_worker_pids() {
            notes.push(format!("largest mappings of worker {pid} by PSS (KiB):"));
            notes.extend(top_mappings(pid, 8));
        }
        drop(pool);
        // The same measure in a pool of 4 idle workers: what each costs when
        // their shared pages (the binary's code) are divided among them.
        let pool4 = sup.pool(&tool, 4).map_err(anyhow::Error::msg)?;
        std::thread::sleep(std::time::Duration::from_millis(300));
        let each = pool4.idle_workers_pss();
        if each.len() == 4 {
            let avg = |f: fn(&agentbox_supervisor::WorkerPss) -> u64| {
                each.iter().map(f).sum::<u64>() / each.len() as u64
            };
            rows.push(kib_row(
                "idle worker PSS, pool of 4 (KiB, not µs)",
                avg(|p| p.pss),
            ));
            notes.push(format!(
                "idle worker in a pool of 4 (mean): PSS {} KiB = anonymous {} + file-backed {}",
                avg(|p| p.pss),
                avg(|p| p.anon),
                avg(|p| p.file)
            ));
        }
        drop(pool4);
        rows.push(stats(
            "IPC round trip: Fetch -> HttpReply",
            ipc_round_trips(if quick { 2000 } else { 20000 })?,
        ));
        whole_process(
            &exe,
            &manifest_path,
            &cache.path().join("c"),
            quick,
            &mut rows,
            &mut notes,
        )?;
        crate::bench_mcp::rows(
            root,
            &exe,
            &manifest_path,
            &cache.path().join("c"),
            quick,
            &mut rows,
            &mut notes,
        )?;
        crate::bench_guard::rows(root, &exe, quick, &mut rows, &mut notes)?;
        crate::bench_audit::rows(quick, &mut rows, &mut notes)?;
        let (a, w) = (loadable_bytes(&exe)?, loadable_bytes(&worker)?);
        notes.push(format!(
            "binaries, bytes mapped from the file (PT_LOAD): agentbox {:.1} MiB, agentbox-worker {:.1} MiB = {:.0}% of it (target <= 40%)",
            a as f64 / f64::from(1 << 20),
            w as f64 / f64::from(1 << 20),
            100.0 * w as f64 / a.max(1) as f64
        ));
    } else {
        rows.push(format!(
            "| process: skipped, {} not built | | | | | |",
            exe.display()
        ));
    }

    print_table(&rows, &notes);
    Ok(())
}

fn print_table(rows: &[String], notes: &[String]) {
    println!("agentbox bench: the hello example (times in microseconds)\n");
    println!(
        "| {:<40} | {:>6} | {:>10} | {:>10} | {:>10} | {:>10} |",
        "case", "n", "min", "median", "p90", "mean"
    );
    println!(
        "|{:-<42}|{:->8}|{:->12}|{:->12}|{:->12}|{:->12}|",
        "", "", "", "", "", ""
    );
    for r in rows {
        println!("{r}");
    }
    for n in notes {
        println!("{n}");
    }
}

pub(crate) fn kib_row(label: &str, kib: u64) -> String {
    format!(
        "| {:<40} | {:>6} | {:>10} | {:>10} | {:>10} | {:>10} |",
        label, 1, kib, kib, kib, kib
    )
}

/// The `n` mappings of a process with the largest proportional set size.
fn top_mappings(pid: u64, n: usize) -> Vec<String> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/smaps")).unwrap_or_default();
    let mut maps: Vec<(u64, String)> = Vec::new();
    let mut name = String::new();
    for line in text.lines() {
        let mut parts = line.split_whitespace();
        let first = parts.next().unwrap_or_default();
        if first.contains('-') && !first.ends_with(':') {
            name = parts.nth(4).unwrap_or("[anon]").to_string();
        } else if first == "Pss:" {
            let kib = parts.next().and_then(|v| v.parse().ok()).unwrap_or(0);
            match maps.iter_mut().find(|(_, n)| *n == name) {
                Some(m) => m.0 += kib,
                None => maps.push((kib, name.clone())),
            }
        }
    }
    maps.sort_by_key(|m| std::cmp::Reverse(m.0));
    maps.into_iter()
        .take(n)
        .map(|(k, m)| format!("  {k:>6}  {m}"))
        .collect()
}

/// Round trips of a Fetch frame answered by an HttpReply frame over a socketpair
/// (two threads): the transport cost of one host call from a worker.
fn ipc_round_trips(n: usize) -> Result<Vec<Duration>> {
    use agentbox_ipc::{Channel, HttpReply, HttpRequest, MAX_FRAME, ToSupervisor, ToWorker};
    let (a, b) = std::os::unix::net::UnixStream::pair()?;
    let (mut worker, mut sup) = (Channel::new(a), Channel::new(b));
    // As the pooled path does: spin briefly before blocking.
    worker.set_spin(Duration::from_micros(200));
    sup.set_spin(Duration::from_micros(200));
    let server = std::thread::spawn(move || {
        while let Ok(ToSupervisor::Fetch(_)) =
            sup.recv::<ToSupervisor>(MAX_FRAME, Some(Duration::from_secs(5)))
        {
            if sup
                .send(&ToWorker::HttpReply(HttpReply::Denied(
                    "no net grant".into(),
                )))
                .is_err()
            {
                break;
            }
        }
    });
    let req = HttpRequest {
        method: "GET".into(),
        url: "https://example.com/".into(),
        headers: vec![],
        body: None,
        timeout_ms: None,
    };
    let mut v = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        worker.send(&ToSupervisor::Fetch(req.clone()))?;
        let _ = worker.recv::<ToWorker>(MAX_FRAME, None)?;
        v.push(t.elapsed());
    }
    drop(worker);
    let _ = server.join();
    Ok(v)
}

/// `agentbox run` as a user runs it, interleaved with the reference (bwrap),
/// alternating which goes first: wall time and CPU time (with every worker, which
/// [`timed`] waits for), and the ratios of their medians.
fn whole_process(
    exe: &Path,
    manifest_path: &Path,
    cache_dir: &Path,
    quick: bool,
    rows: &mut Vec<String>,
    notes: &mut Vec<String>,
) -> Result<()> {
    let agentbox_run = || {
        let mut c = std::process::Command::new(exe);
        c.env("AGENTBOX_CACHE_DIR", cache_dir)
            .arg("run")
            .arg(manifest_path)
            .args(["--input", r#"{"name":"bench"}"#]);
        timed(&mut c, "agentbox run")
    };
    // A first run fills the compile cache.
    agentbox_run()?;
    // The whole process, as a user runs it, interleaved with the reference
    // like the cold confined pairs above.
    let n = if quick { 15 } else { 40 };
    let (mut proc_times, mut proc_cpu) = (Vec::new(), Vec::new());
    let (mut bw, mut bw_cpu) = (Vec::new(), Vec::new());
    for i in 0..n {
        for ours in [i % 2 == 0, i % 2 != 0] {
            settle();
            if ours {
                let (wall, cpu) = agentbox_run()?;
                proc_times.push(wall);
                proc_cpu.push(cpu);
            } else if let Some(mut c) = bwrap_command() {
                let (wall, cpu) = timed(&mut c, "bwrap")?;
                bw.push(wall);
                bw_cpu.push(cpu);
            }
        }
    }
    rows.push(stats(
        "process: `agentbox run` end to end",
        proc_times.clone(),
    ));
    rows.push(stats("  its CPU time, with its workers", proc_cpu.clone()));
    if bw.len() == n {
        let ratio =
            |a: &[Duration], b: &[Duration]| median(a).as_secs_f64() / median(b).as_secs_f64();
        notes.push(format!(
            "agentbox run / bwrap, medians of {n} interleaved runs: wall {:.2}x (target <= 1.0x), CPU {:.2}x (target <= 2.5x)",
            ratio(&proc_times, &bw),
            ratio(&proc_cpu, &bw_cpu)
        ));
        rows.push(stats("reference: bwrap ... /bin/true, again", bw));
        rows.push(stats("  its CPU time", bw_cpu));
    }
    Ok(())
}

/// Bytes of a binary that are mapped from its file when it runs (the sum of its
/// PT_LOAD segments' file sizes): code and data, not debug information.
fn loadable_bytes(bin: &Path) -> Result<u64> {
    let b = std::fs::read(bin).with_context(|| format!("reading {}", bin.display()))?;
    let u16_at = |o: usize| u16::from_le_bytes([b[o], b[o + 1]]) as usize;
    let u64_at = |o: usize| {
        let mut a = [0u8; 8];
        a.copy_from_slice(&b[o..o + 8]);
        u64::from_le_bytes(a)
    };
    if b.len() < 64 || &b[..4] != b"\x7fELF" || b[4] != 2 {
        bail!("{} is not a 64-bit ELF file", bin.display());
    }
    let (phoff, phentsize, phnum) = (u64_at(0x20) as usize, u16_at(0x36), u16_at(0x38));
    let mut total = 0;
    for k in 0..phnum {
        let ph = phoff + k * phentsize;
        if ph + 0x28 > b.len() {
            bail!("{}: program header out of bounds", bin.display());
        }
        if u32::from_le_bytes([b[ph], b[ph + 1], b[ph + 2], b[ph + 3]]) == 1 {
            total += u64_at(ph + 0x20);
        }
    }
    Ok(total)
}
