//! Runs one case: every attempt through the production supervisor, each held
//! against the lab's canaries, then the next invocation on the same supervisor.

use crate::lab::Lab;
use crate::registry::{Case, ISOLATED, Registry};
use agentbox_audit::AuditLog;
use agentbox_ipc::{Layer, Outcome};
use agentbox_policy::Manifest;
use agentbox_supervisor::{Options, RunOutput, Supervisor};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Passed,
    Failed,
    Skipped,
}

/// One attempt in one mode.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AttemptResult {
    /// `full` or `isolated-<layer>`.
    pub mode: String,
    pub attempt: String,
    /// `blocked`, `escaped` or `error` (neither proved).
    pub verdict: String,
    pub how: String,
}

/// One layer alone against a case.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LayerResult {
    pub layer: String,
    /// `blocks`, `gap`, `partial` or `-` (catalog 2.3).
    pub expected: String,
    /// What happened (`blocked`, `escaped (gap confirmed)`, `not run`, ...).
    pub observed: String,
    pub ok: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CaseResult {
    pub id: String,
    pub status: Status,
    /// What the run showed, in a few words.
    pub detail: String,
    pub attempts: Vec<AttemptResult>,
    pub layers: Vec<LayerResult>,
}

/// The lab, the probe and the supervisors (one per layer set, reused across
/// cases: a case must leave its supervisor working for the next).
pub struct Suite {
    pub lab: Lab,
    probe: Option<PathBuf>,
    sups: BTreeMap<(bool, Vec<String>), Supervisor>,
    component: PathBuf,
    n: u64,
    /// The audit log of the last run (SUP-12 reads it).
    last_audit: Option<Arc<AuditLog>>,
    /// The probe's attempt names per case (`agentbox-probe --list`), read once.
    probe_list: Option<BTreeMap<String, Vec<String>>>,
}

impl std::fmt::Debug for Suite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Suite")
            .field("probe", &self.probe)
            .finish_non_exhaustive()
    }
}

impl Suite {
    pub fn new(lab: Lab, probe: Option<PathBuf>) -> Result<Self, String> {
        let component = lab.dir.path().join("probe.wasm");
        let bytes = wat::parse_str(crate::wasm::tool_wat(crate::wasm::OK, "", "1"))
            .map_err(|e| e.to_string())?;
        std::fs::write(&component, bytes).map_err(|e| e.to_string())?;
        Ok(Self {
            lab,
            probe,
            sups: BTreeMap::new(),
            component,
            n: 0,
            last_audit: None,
            probe_list: None,
        })
    }

    /// The "next invocation works" oracle of wasm and harness cases: the plain tool
    /// on the production worker.
    fn next_tool_runs(&mut self) -> Result<(), String> {
        let component = self.component.clone();
        let o = self.run(false, &[], &component, None, vec![])?;
        if o.report.outcome == Outcome::Ok {
            Ok(())
        } else {
            Err(o.report.detail)
        }
    }

    /// The native probe, when installed.
    pub fn probe(&self) -> Option<&Path> {
        self.probe.as_deref()
    }

    /// Tears down: supervisors first (they wait for their workers), then the lab.
    pub fn finish(self) {
        drop(self.sups);
        self.lab.finish();
    }

    fn supervisor(&mut self, native: bool, disabled: Vec<String>) -> Result<&Supervisor, String> {
        let key = (native, disabled.clone());
        if !self.sups.contains_key(&key) {
            let s = Supervisor::new(&Options {
                cache_dir: Some(self.lab.cache.clone()),
                worker_exe: if native { self.probe.clone() } else { None },
                // Components are compiled by agentbox's own compile worker, never
                // by the probe (which only plays a run worker).
                compile_exe: std::env::current_exe().ok(),
                disabled_layers: disabled
                    .iter()
                    .map(|l| Layer::parse(l).ok_or(format!("unknown layer `{l}`")))
                    .collect::<Result<_, _>>()?,
                ..Options::default()
            })
            .map_err(|e| e.to_string())?;
            self.sups.insert(key.clone(), s);
        }
        self.sups.get(&key).ok_or_else(|| "supervisor".to_string())
    }

    /// One run of `component` with the lab's grants and `limits`.
    fn run(
        &mut self,
        native: bool,
        disabled: &[String],
        component: &Path,
        case: Option<&Case>,
        args: Vec<String>,
    ) -> Result<RunOutput, String> {
        let limits = case.and_then(|c| c.limits.as_deref());
        let extra = case.and_then(|c| c.manifest.as_deref()).unwrap_or("");
        // A native-profile case: the probe plays a `kind = "native"` tool's
        // program (it replaces the worker, so the program named never runs).
        let program = if case.and_then(|c| c.profile.as_deref()) == Some("native") {
            "kind = \"native\"\nexec = [\"/bin/true\"]".to_string()
        } else {
            format!("component = {:?}", component.display().to_string())
        };
        // `@RW@` in a case's manifest text: the rw grant's host directory.
        let extra = extra.replace("@RW@", &format!("{:?}", self.lab.rw.display().to_string()));
        self.n += 1;
        let dir = self.lab.dir.path().to_path_buf();
        let text = format!(
            "version = 1\n[tools.probe]\n{}\nrationale = \"breakout probe\"\n\
             [[tools.probe.fs]]\nhost = {:?}\nguest = \"/data\"\naccess = \"ro\"\nrationale = \"read-only canary grant\"\n\
             [[tools.probe.fs]]\nhost = {:?}\nguest = \"/work\"\naccess = \"rw\"\nrationale = \"scratch\"\n\
             {}\n[tools.probe.limits]\n{}\n",
            program,
            self.lab.ro.display().to_string(),
            self.lab.rw.display().to_string(),
            extra,
            limits.unwrap_or("timeout = \"5s\""),
        );
        let path = dir.join("manifest.toml");
        let manifest = Manifest::parse(&path, &text, &dir).map_err(|e| e.to_string())?;
        let tool = manifest.tool(Some("probe"))?.clone();
        let inv = agentbox_host::Invocation {
            input: "{}".into(),
            args,
            ..Default::default()
        };
        let audit = Arc::new(AuditLog::memory(&format!("breakout-{}", self.n)));
        self.last_audit = Some(audit.clone());
        let sup = self.supervisor(native, disabled.to_vec())?;
        Ok(sup.run(&manifest, &tool, &inv, audit))
    }

    fn ctx(&self, memory: u64) -> String {
        serde_json::json!({
            "sentinel": self.lab.sentinel,
            "marker": self.lab.marker,
            "tcp_port": self.lab.tcp_port,
            "udp_port": self.lab.udp_port,
            "abstract_name": self.lab.abstract_name,
            "canary_pid": self.lab.canary_pid(),
            "cache_dir": self.lab.cache,
            "memory": memory,
            "env_canary": "PATH",
            "host_path": self.probe.as_ref().and_then(|p| p.parent()).map(|p| p.display().to_string()).unwrap_or_default(),
        })
        .to_string()
    }
}

/// A check that is not one probe run, as an attempt of the full mode: `Ok` is
/// blocked (with what showed it), `Err` escaped.
pub(crate) fn note(res: &mut CaseResult, attempt: &str, outcome: Result<String, String>) {
    let (verdict, how) = match outcome {
        Ok(h) => ("blocked", h),
        Err(e) => ("escaped", e),
    };
    res.attempts.push(AttemptResult {
        mode: "full".into(),
        attempt: attempt.into(),
        verdict: verdict.into(),
        how,
    });
}

/// How a run ended, as a verdict on the attempt.
fn interpret(out: &RunOutput, accept: &[String]) -> (String, String) {
    let r = &out.report;
    match r.outcome.as_str() {
        "ok" => match serde_json::from_slice::<serde_json::Value>(&out.stdout) {
            Ok(v) => (
                v["verdict"].as_str().unwrap_or("error").to_string(),
                v["detail"].as_str().unwrap_or("").to_string(),
            ),
            Err(_) => ("error".into(), "the probe answered no verdict".into()),
        },
        // A seccomp kill proves a block only where the case expects one: a probe
        // killed by its own housekeeping call would otherwise pass for a block.
        "denied" if accept.iter().any(|a| a == "denied") => {
            ("blocked".into(), "killed by seccomp (SIGSYS)".into())
        }
        o if o != "denied" && accept.iter().any(|a| a == o) => {
            ("blocked".into(), format!("{o}: {}", r.detail))
        }
        "timeout" => (
            "escaped".into(),
            format!("ran until the deadline: {}", r.detail),
        ),
        o => ("error".into(), format!("{o}: {}", r.detail)),
    }
}

fn memory_of(case: &Case) -> u64 {
    let m = case
        .limits
        .as_deref()
        .and_then(|l| l.split('\n').find(|x| x.trim_start().starts_with("memory")))
        .and_then(|l| l.split('"').nth(1))
        .and_then(agentbox_policy::units::parse_size)
        .unwrap_or(64 << 20);
    // The worker's memory cgroup adds room for the runtime (kind tool).
    m + (192 << 20)
}

pub fn run_case(reg: &Registry, case: &Case, suite: &mut Suite, layers: bool) -> CaseResult {
    let mut res = CaseResult {
        id: case.id.clone(),
        status: Status::Skipped,
        detail: String::new(),
        attempts: Vec::new(),
        layers: Vec::new(),
    };
    match case.kind.as_str() {
        "suite" => {
            res.detail = format!(
                "not bundled yet; proved by the test suite ({})",
                case.covered_by.as_deref().unwrap_or("?")
            );
        }
        "wasm" => run_wasm(case, suite, &mut res),
        "harness" => run_harness(case, suite, &mut res),
        _ => run_native(reg, case, suite, &mut res, layers),
    }
    res
}

pub(crate) fn summarize(res: &mut CaseResult, damage: Vec<String>, alive: Result<(), String>) {
    let mode_full: Vec<&AttemptResult> = res.attempts.iter().filter(|a| a.mode == "full").collect();
    let escaped: Vec<String> = mode_full
        .iter()
        .filter(|a| a.verdict != "blocked")
        .map(|a| format!("{} {}: {}", a.attempt, a.verdict, a.how))
        .collect();
    let mut hows: BTreeMap<String, usize> = BTreeMap::new();
    for a in &mode_full {
        let key: String = a
            .how
            .split('(')
            .next()
            .unwrap_or("")
            .trim()
            .chars()
            .take(40)
            .collect();
        *hows.entry(key).or_default() += 1;
    }
    let mut problems = escaped;
    problems.extend(damage.into_iter().map(|d| format!("canary: {d}")));
    if let Err(e) = alive {
        problems.push(format!("next invocation: {e}"));
    }
    problems.extend(res.layers.iter().filter(|l| !l.ok).map(|l| {
        format!(
            "isolated-{}: expected {}, {}",
            l.layer, l.expected, l.observed
        )
    }));
    if problems.is_empty() {
        res.status = Status::Passed;
        res.detail = format!(
            "{} attempt(s): {}",
            mode_full.len(),
            hows.iter()
                .map(|(k, n)| format!("{k} ×{n}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    } else {
        res.status = Status::Failed;
        res.detail = problems.join("; ");
    }
}

fn run_harness(case: &Case, suite: &mut Suite, res: &mut CaseResult) {
    let before = suite.lab.hits();
    let dir = suite.lab.dir.path().join("harness");
    let _ = std::fs::create_dir_all(&dir);
    match case.id.as_str() {
        "SUP-08" => crate::harness::sup08(&dir, res),
        "SUP-10" => {
            let sentinel = suite.lab.sentinel.clone();
            crate::harness::sup10(&dir, &sentinel, res)
        }
        "LL-14" => fail_closed(suite, res, &["landlock-abi", "landlock"]),
        "SUP-15" => {
            sup15(case, suite, res);
            return;
        }
        "SUP-04" => {
            let mut all: Vec<&str> = agentbox_supervisor::fault::SUPERVISOR_FAULTS.to_vec();
            all.extend(agentbox_confine::FAULTS.iter().copied());
            fail_closed(suite, res, &all);
        }
        _ => {}
    }
    if res.attempts.is_empty() {
        res.status = Status::Failed;
        res.detail = "no harness check for this case".into();
        return;
    }
    let damage = suite.lab.damage(before, None);
    let alive = suite.next_tool_runs();
    summarize(res, damage, alive);
}

/// The supervisor's pidfds: (descriptor, the pid its fdinfo names).
fn pidfds() -> Vec<(i32, i32)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc/self/fd")
        .into_iter()
        .flatten()
        .flatten()
    {
        let Ok(fd) = e.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let is_pidfd =
            std::fs::read_link(e.path()).is_ok_and(|t| t.to_string_lossy() == "anon_inode:[pidfd]");
        if !is_pidfd {
            continue;
        }
        let info = std::fs::read_to_string(format!("/proc/self/fdinfo/{fd}")).unwrap_or_default();
        let pid = info
            .lines()
            .find_map(|l| l.strip_prefix("Pid:"))
            .and_then(|p| p.trim().parse::<i32>().ok())
            .unwrap_or(0);
        out.push((fd, pid));
    }
    out
}

/// SUP-15: every worker is controlled through a pidfd, so no signal or wait can
/// ever reach a recycled pid. While a native probe stays alive, the supervisor's
/// own descriptor table must hold a pidfd whose fdinfo names exactly that
/// worker; after the run (and the reaper), no pidfd may be left open.
fn sup15(case: &Case, suite: &mut Suite, res: &mut CaseResult) {
    if suite.probe.is_none() {
        res.detail = "the native probe `agentbox-probe` is not installed next to agentbox (pass --probe PATH)".into();
        return;
    }
    let baseline = pidfds().len();
    let known = crate::scan::descendants();
    let watch = std::thread::spawn(move || -> Result<String, String> {
        let t0 = std::time::Instant::now();
        loop {
            let new: Vec<i32> = crate::scan::descendants()
                .into_iter()
                .filter(|p| !known.contains(p))
                .collect();
            if let Some(&pid) = new.first() {
                std::thread::sleep(std::time::Duration::from_millis(300));
                let held = pidfds();
                return if held.iter().any(|(_, p)| *p == pid) {
                    Ok(format!("the supervisor holds a pidfd naming worker {pid}"))
                } else {
                    Err(format!("no pidfd names worker {pid} (pidfds: {held:?})"))
                };
            }
            if t0.elapsed() > std::time::Duration::from_secs(10) {
                return Err("no worker appeared".into());
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    });
    let ctx = suite.ctx(0);
    let component = suite.component.clone();
    let before = suite.lab.hits();
    let run = suite.run(
        true,
        &[],
        &component,
        Some(case),
        vec!["CG-04".into(), "0".into(), ctx],
    );
    let held = watch
        .join()
        .unwrap_or_else(|_| Err("the watcher panicked".into()));
    let (verdict, how) = match (&run, held) {
        (Err(e), _) => ("error", e.clone()),
        (Ok(_), Ok(h)) => ("blocked", h),
        (Ok(_), Err(e)) => ("escaped", e),
    };
    res.attempts.push(AttemptResult {
        mode: "full".into(),
        attempt: "process control of a live worker by pidfd".into(),
        verdict: verdict.into(),
        how,
    });
    // The reaper tears workers down off the caller's path: give it a moment.
    let t0 = std::time::Instant::now();
    let mut left = pidfds().len();
    while left > baseline && t0.elapsed() < std::time::Duration::from_secs(5) {
        std::thread::sleep(std::time::Duration::from_millis(20));
        left = pidfds().len();
    }
    let how = format!("{left} open, {baseline} before the run");
    note(
        res,
        "pidfds left open after the worker is gone",
        if left <= baseline { Ok(how) } else { Err(how) },
    );
    let damage = suite.lab.damage(before, None);
    let alive = suite.next_tool_runs();
    summarize(res, damage, alive);
}

/// Each step made to fail in turn: the run must be refused (sandbox_error, status
/// 125, the step named) and the tool must not have run (its marker file absent).
/// A run without injection first shows the marker works.
fn fail_closed(suite: &mut Suite, res: &mut CaseResult, faults: &[&str]) {
    let path = suite.lab.dir.path().join("marker.wasm");
    let built = wat::parse_str(crate::p1::marker())
        .map_err(|e| e.to_string())
        .and_then(|core| {
            agentbox_pack::pack(&core, Some(agentbox_pack::World::Tool)).map_err(|e| e.to_string())
        })
        .and_then(|bytes| std::fs::write(&path, bytes).map_err(|e| e.to_string()));
    let ran = suite.lab.rw.join("ran");
    let mut push = |attempt: String, verdict: &str, how: String| {
        res.attempts.push(AttemptResult {
            mode: "full".into(),
            attempt,
            verdict: verdict.into(),
            how,
        })
    };
    if let Err(e) = built {
        push("marker tool".into(), "error", e);
        return;
    }
    let _ = std::fs::remove_file(&ran);
    match suite.run(false, &[], &path, None, vec![]) {
        Ok(o) if o.report.outcome == Outcome::Ok && ran.exists() => {}
        Ok(o) => {
            push(
                "control run".into(),
                "error",
                format!(
                    "the marker tool did not run: {} {}",
                    o.report.outcome, o.report.detail
                ),
            );
            return;
        }
        Err(e) => {
            push("control run".into(), "error", e);
            return;
        }
    }
    for f in faults {
        let _ = std::fs::remove_file(&ran);
        agentbox_supervisor::fault::inject(Some(f));
        let out = suite.run(false, &[], &path, None, vec![]);
        agentbox_supervisor::fault::inject(None);
        let word = match *f {
            "landlock-abi" => "landlock",
            "sandbox-root" => "sandbox root",
            "userns" => "namespaces",
            other => other,
        };
        let (verdict, how) = match out {
            Err(e) => ("error".to_string(), e),
            Ok(o) if ran.exists() => (
                "escaped".into(),
                format!("the tool ran ({}: {})", o.report.outcome, o.report.detail),
            ),
            Ok(o)
                if o.report.outcome == Outcome::SandboxError
                    && o.status == 125
                    && o.report.detail.contains(word) =>
            {
                ("blocked".into(), format!("refused: {}", o.report.detail))
            }
            Ok(o) => (
                "error".into(),
                format!(
                    "not refused as expected: {} {}: {}",
                    o.report.outcome, o.status, o.report.detail
                ),
            ),
        };
        push(format!("{f} fails"), &verdict, how);
    }
    let _ = std::fs::remove_file(&ran);
}

/// Bytes of every file below `dir` (the lab's own directory: nothing else writes
/// there), except the compile cache and the probes the suite itself writes.
fn dir_bytes(dir: &Path, cache: &Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.starts_with(cache) || p.extension().is_some_and(|x| x == "wasm") {
                continue;
            }
            match e.metadata() {
                Ok(m) if m.is_dir() => stack.push(p),
                Ok(m) => total += std::os::unix::fs::MetadataExt::blocks(&m) * 512,
                Err(_) => {}
            }
        }
    }
    total
}

fn run_wasm(case: &Case, suite: &mut Suite, res: &mut CaseResult) {
    let before = suite.lab.hits();
    // RES-08/09: the quota'd space is not on the host's disk at all.
    let quota_case = matches!(case.id.as_str(), "RES-08" | "RES-09");
    let disk = |s: &Suite| {
        if quota_case {
            dir_bytes(s.lab.dir.path(), &s.lab.cache)
        } else {
            0
        }
    };
    let disk_before = disk(suite);
    if case.id == "WASM-06" {
        // The engines exactly as the supervisor (compiling) and the worker (no
        // compiler) build them, read back knob by knob.
        for (pooling, compiler) in [(false, true), (true, true), (false, false), (true, false)] {
            let built = if compiler {
                agentbox_host::engine::new_engine(pooling)
            } else {
                agentbox_host::engine::new_runtime_engine(pooling)
            };
            let (verdict, how) = match built {
                Err(e) => ("error".to_string(), e.to_string()),
                Ok(engine) => {
                    let d = agentbox_host::engine::drift(&engine, pooling, compiler);
                    if d.is_empty() {
                        ("blocked".into(), "configuration as pinned".into())
                    } else {
                        ("escaped".into(), format!("drift: {}", d.join(", ")))
                    }
                }
            };
            res.attempts.push(AttemptResult {
                mode: "full".into(),
                attempt: format!(
                    "{} engine configuration (pooling {pooling})",
                    if compiler { "supervisor's" } else { "worker's" }
                ),
                verdict,
                how,
            });
        }
    }
    for (i, probe) in crate::wasm::probes(&case.id).into_iter().enumerate() {
        let path = suite.lab.dir.path().join(format!("{}-{i}.wasm", case.id));
        let (verdict, how) = match wat::parse_str(&probe.wat) {
            // A module the text parser itself refuses never reached the engine:
            // that proves nothing about agentbox.
            Err(e) => ("error".to_string(), format!("probe does not assemble: {e}")),
            Ok(bytes) => match std::fs::write(&path, bytes)
                .map_err(|e| e.to_string())
                .and_then(|()| suite.run(false, &[], &path, Some(case), vec![]))
            {
                Err(e) => ("error".into(), e),
                Ok(out) => {
                    let o = out.report.outcome;
                    let detail = out.report.detail.clone();
                    let cause_ok = probe
                        .cause
                        .is_none_or(|c| detail.to_lowercase().contains(&c.to_lowercase()));
                    if probe.blocked.contains(&o.as_str()) && cause_ok {
                        ("blocked".into(), format!("{o}: {detail}"))
                    } else if probe.blocked.contains(&o.as_str()) {
                        (
                            "error".into(),
                            format!("{o} but not for the expected cause: {detail}"),
                        )
                    } else {
                        ("escaped".into(), format!("{o}: {detail}"))
                    }
                }
            },
        };
        res.attempts.push(AttemptResult {
            mode: "full".into(),
            attempt: probe.name.into(),
            verdict,
            how,
        });
    }
    for (i, probe) in crate::p1::probes(&case.id).into_iter().enumerate() {
        let path = suite
            .lab
            .dir
            .path()
            .join(format!("{}-p1-{i}.wasm", case.id));
        let packed = wat::parse_str(&probe.wat)
            .map_err(|e| format!("probe does not assemble: {e}"))
            .and_then(|core| {
                agentbox_pack::pack(&core, Some(agentbox_pack::World::Tool))
                    .map_err(|e| format!("probe does not pack: {e}"))
            });
        let (verdict, how) = match packed.and_then(|bytes| {
            std::fs::write(&path, bytes).map_err(|e| e.to_string())?;
            suite.run(false, &[], &path, Some(case), vec![])
        }) {
            Err(e) => ("error".to_string(), e),
            Ok(out) => judge_p1(&out, probe.also),
        };
        res.attempts.push(AttemptResult {
            mode: "full".into(),
            attempt: probe.name,
            verdict,
            how,
        });
    }
    let mut damage = suite.lab.damage(before, None);
    let grown = disk(suite).saturating_sub(disk_before);
    if grown > 1 << 20 {
        damage.push(format!(
            "the lab's files on the host disk grew by {grown} bytes"
        ));
    }
    let alive = suite.next_tool_runs();
    if res.attempts.is_empty() {
        res.status = Status::Failed;
        res.detail = "no wasm probe for this case".into();
        return;
    }
    summarize(res, damage, alive);
}

/// A preview1 probe's verdict: its own answer when it ran to the end, else the
/// outcome it was stopped with (when the case accepts that outcome).
fn judge_p1(out: &RunOutput, also: &[&str]) -> (String, String) {
    let o = out.report.outcome.as_str();
    match o {
        "ok" => {
            let v: serde_json::Value = out
                .output
                .as_deref()
                .and_then(|t| serde_json::from_str(t).ok())
                .unwrap_or_default();
            let errno = v["e"].as_str().unwrap_or("").trim_start_matches('0');
            match v["v"].as_str() {
                Some("blocked") => (
                    "blocked".into(),
                    format!("WASI errno {}", if errno.is_empty() { "0" } else { errno }),
                ),
                Some("escaped") => ("escaped".into(), "the call succeeded".into()),
                _ => ("error".into(), "the probe answered no verdict".into()),
            }
        }
        "tool_error" => (
            "error".into(),
            format!("probe error: {}", out.tool_error.as_deref().unwrap_or("")),
        ),
        o if also.contains(&o) => ("blocked".into(), format!("{o}: {}", out.report.detail)),
        o => ("escaped".into(), format!("{o}: {}", out.report.detail)),
    }
}

fn attempts_of(suite: &mut Suite, case: &str) -> Result<usize, String> {
    if suite.probe_list.is_none() {
        let probe = suite.probe.clone().ok_or("no probe")?;
        let out = std::process::Command::new(&probe)
            .arg("--list")
            .output()
            .map_err(|e| format!("{}: {e}", probe.display()))?;
        let list = serde_json::from_slice(&out.stdout).map_err(|e| format!("probe --list: {e}"))?;
        suite.probe_list = Some(list);
    }
    suite
        .probe_list
        .as_ref()
        .and_then(|l| l.get(case))
        .map(Vec::len)
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("the probe has no attempts for {case}"))
}

/// Runs every attempt of a native case in one mode.
fn native_mode(
    case: &Case,
    suite: &mut Suite,
    n: usize,
    mode: &str,
    disabled: &[String],
    res: &mut CaseResult,
) {
    let component = suite.component.clone();
    let ctx = suite.ctx(memory_of(case));
    for i in 0..n {
        let args = vec![case.id.clone(), i.to_string(), ctx.clone()];
        let (verdict, how, attempt) = match suite.run(true, disabled, &component, Some(case), args)
        {
            Err(e) => ("error".into(), e, format!("#{i}")),
            Ok(out) => {
                let (v, h) = interpret(&out, &case.accepted());
                let name = suite
                    .probe_list
                    .as_ref()
                    .and_then(|l| l.get(&case.id))
                    .and_then(|a| a.get(i))
                    .cloned()
                    .unwrap_or_else(|| format!("#{i}"));
                (v, h, name)
            }
        };
        let (verdict, how) = match (case.id.as_str(), verdict.as_str()) {
            // A killed worker counts only for the forged level, and only as a
            // protocol violation; the flood must run to its end (its own verdict).
            ("SUP-12", "blocked")
                if how.starts_with("sandbox_error")
                    && (attempt.contains("flood") || !how.contains("broke the protocol")) =>
            {
                (
                    "escaped".to_string(),
                    format!("the worker was stopped for another reason: {how}"),
                )
            }
            ("SUP-12", "blocked") => match crate::harness::audit_is_clean(
                &suite
                    .last_audit
                    .as_ref()
                    .map(|a| a.lines())
                    .unwrap_or_default(),
            ) {
                Ok(what) => (verdict, format!("{how}; {what}")),
                Err(e) => ("escaped".to_string(), e),
            },
            _ => (verdict, how),
        };
        res.attempts.push(AttemptResult {
            mode: mode.into(),
            attempt,
            verdict,
            how,
        });
    }
}

fn run_native(reg: &Registry, case: &Case, suite: &mut Suite, res: &mut CaseResult, layers: bool) {
    if suite.probe.is_none() {
        res.detail = "the native probe `agentbox-probe` is not installed next to agentbox (pass --probe PATH)".into();
        return;
    }
    let n = match attempts_of(suite, &case.id) {
        Ok(n) => n,
        Err(e) => {
            res.status = Status::Failed;
            res.detail = e;
            return;
        }
    };
    let before = suite.lab.hits();
    let watch =
        (case.id == "CG-04").then(|| crate::harness::CgroupWatch::start(memory_of(case), 32));
    native_mode(case, suite, n, "full", &[], res);
    if let Some(w) = watch {
        w.finish(res);
    }
    let mut damage = suite.lab.damage(before, None);
    if layers && case.class.is_some() {
        for layer in ISOLATED {
            let expected = reg.expectation(case, layer);
            if expected != "blocks" && expected != "gap" {
                res.layers.push(LayerResult {
                    layer: layer.to_string(),
                    expected: expected.clone(),
                    observed: "not run (no expectation of this layer alone)".into(),
                    ok: true,
                });
                continue;
            }
            let disabled: Vec<String> = ISOLATED
                .iter()
                .filter(|l| *l != layer)
                .map(|l| l.to_string())
                .collect();
            let mode = format!("isolated-{layer}");
            let start = res.attempts.len();
            let before = suite.lab.hits();
            native_mode(case, suite, n, &mode, &disabled, res);
            let gap_counter = (expected == "gap").then_some(case.class.as_deref().unwrap_or(""));
            let harm = suite.lab.damage(before, gap_counter);
            let after = suite.lab.hits();
            let runs = &res.attempts[start..];
            let escaped = runs.iter().filter(|a| a.verdict == "escaped").count();
            let errors = runs.iter().filter(|a| a.verdict == "error").count();
            let by_layer = runs.iter().any(|a| match *layer {
                "seccomp" => a.how.contains("SIGSYS") || a.how.contains("ENOSYS"),
                "landlock" => a.how.contains("EACCES") || a.how.contains("EPERM"),
                _ => a.verdict == "blocked",
            });
            let (observed, ok) = if expected == "blocks" {
                if escaped == 0 && errors == 0 && harm.is_empty() && by_layer {
                    (format!("blocked all {} attempt(s) alone", runs.len()), true)
                } else {
                    (
                        format!(
                            "{escaped} escaped, {errors} unproved{}{}",
                            if by_layer {
                                ""
                            } else {
                                ", no denial attributable to the layer"
                            },
                            if harm.is_empty() {
                                String::new()
                            } else {
                                format!("; canary: {}", harm.join(", "))
                            }
                        ),
                        false,
                    )
                }
            } else {
                let moved =
                    after.udp > before.udp || after.tcp > before.tcp || after.unix > before.unix;
                if escaped > 0 && moved {
                    (
                        "escaped as documented (known kernel gap, asserted)".into(),
                        true,
                    )
                } else {
                    ("the documented gap did not show: update the matrix if the kernel closed it".into(), false)
                }
            };
            if expected == "gap" {
                damage.extend(harm.into_iter().filter(|h| !h.contains("listener")));
            }
            res.layers.push(LayerResult {
                layer: layer.to_string(),
                expected,
                observed,
                ok,
            });
        }
    }
    let component = suite.component.clone();
    let ctx = suite.ctx(0);
    let alive = suite
        .run(
            true,
            &[],
            &component,
            None,
            vec!["ALIVE".into(), "0".into(), ctx],
        )
        .and_then(|o| {
            let (v, h) = interpret(&o, &["denied".to_string()]);
            if v == "blocked" {
                Ok(())
            } else {
                Err(format!("{v}: {h}"))
            }
        });
    // Case-specific oracles on what the probe measured.
    if case.id == "RES-17" {
        for a in res.attempts.iter_mut().filter(|a| a.mode == "full") {
            let nums: Vec<f64> = a
                .how
                .split(|c: char| !(c.is_ascii_digit() || c == '.'))
                .filter_map(|s| s.parse().ok())
                .collect();
            if let [cpu, wall, ..] = nums[..]
                && cpu > wall * 1.25
            {
                a.verdict = "escaped".into();
                a.how = format!("{cpu:.2}s of CPU in {wall:.2}s: over the 1-CPU quota");
            }
        }
    }
    summarize(res, damage, alive);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case_with(verdicts: &[(&str, &str)]) -> CaseResult {
        CaseResult {
            id: "SC-01".into(),
            status: Status::Skipped,
            detail: String::new(),
            attempts: verdicts
                .iter()
                .map(|(mode, v)| AttemptResult {
                    mode: mode.to_string(),
                    attempt: "a".into(),
                    verdict: v.to_string(),
                    how: "EPERM".into(),
                })
                .collect(),
            layers: Vec::new(),
        }
    }

    #[test]
    fn a_case_passes_only_when_everything_held() {
        let mut ok = case_with(&[("full", "blocked"), ("full", "blocked")]);
        summarize(&mut ok, vec![], Ok(()));
        assert_eq!(ok.status, Status::Passed);
        for (verdict, damage, alive) in [
            ("escaped", vec![], Ok(())),
            ("error", vec![], Ok(())),
            (
                "blocked",
                vec!["sentinel content changed".to_string()],
                Ok(()),
            ),
            ("blocked", vec![], Err("worker did not start".to_string())),
        ] {
            let mut r = case_with(&[("full", "blocked"), ("full", verdict)]);
            summarize(&mut r, damage, alive);
            assert_eq!(r.status, Status::Failed, "{r:?}");
        }
        let mut layer = case_with(&[("full", "blocked")]);
        layer.layers.push(LayerResult {
            layer: "seccomp".into(),
            expected: "blocks".into(),
            observed: "1 escaped".into(),
            ok: false,
        });
        summarize(&mut layer, vec![], Ok(()));
        assert_eq!(layer.status, Status::Failed);
    }
}
