//! Attacks on the supervisor through the IPC protocol: forged, oversized and
//! out-of-order frames, floods of log lines, requests a worker must not get answered.

use super::*;
use agentbox_ipc::LogLevel;

/// The attempts of this family's cases (`None`: not one of them).
pub(super) fn attempts(case: &str) -> Option<Vec<Attempt>> {
    Some(match case {
        "SUP-06" => vec![
            at("environment", |e| {
                let vars: Vec<String> = std::env::vars_os()
                    .map(|(k, _)| k.to_string_lossy().into_owned())
                    .collect();
                if vars.contains(&e.ctx.env_canary) {
                    Escaped(format!(
                        "the supervisor's {} reached the worker",
                        e.ctx.env_canary
                    ))
                } else if vars.is_empty() {
                    Blocked("empty environment".into())
                } else {
                    Escaped(format!("environment not empty: {}", vars.join(", ")))
                }
            }),
            at("argv and AT_EXECFN", |e| {
                let args: Vec<String> = std::env::args_os()
                    .map(|a| a.to_string_lossy().into_owned())
                    .collect();
                // SAFETY: getauxval returns a pointer to a C string in the auxv area or 0.
                let execfn = unsafe {
                    let ptr = libc::getauxval(libc::AT_EXECFN) as *const libc::c_char;
                    if ptr.is_null() {
                        String::new()
                    } else {
                        std::ffi::CStr::from_ptr(ptr).to_string_lossy().into_owned()
                    }
                };
                let all = format!("{} {execfn}", args.join(" "));
                if !e.ctx.host_path.is_empty() && all.contains(&e.ctx.host_path) {
                    Escaped(format!("host path in argv/AT_EXECFN: {all}"))
                } else {
                    Blocked(format!("argv/AT_EXECFN carry no host path ({all})"))
                }
            }),
        ],
        "SUP-01" => vec![
            at("4 GiB length prefix", |_| {
                raw_frame(&[b'A', b'B', b'X', b'1', 1, 0, 0xff, 0xff, 0xff, 0xff])
            }),
            at("unknown magic", |_| raw_frame(b"GARBAGE-GARBAGE-GARBAGE")),
            at("truncated frame", |_| raw_frame(b"AB")),
            at("flood of frames", |_| {
                let junk = vec![0x41u8; 1 << 20];
                for _ in 0..64 {
                    // SAFETY: writing a local buffer to the IPC socket.
                    if unsafe { libc::write(3, junk.as_ptr().cast(), junk.len()) } < 0 {
                        return Blocked(format!("write: {}", errname(errno())));
                    }
                }
                raw_frame(b"")
            }),
        ],
        "SUP-02" => vec![
            at("HTTP to a host the manifest does not grant", |e| {
                fetch(e, &format!("http://127.0.0.1:{}/", e.ctx.tcp_port), vec![])
            }),
            at("a secret placeholder the manifest does not grant", |e| {
                fetch(
                    e,
                    &format!("http://127.0.0.1:{}/", e.ctx.tcp_port),
                    vec![("Authorization".into(), "Bearer {{secret:TOKEN}}".into())],
                )
            }),
            at("a host file through the HTTP host function", |e| {
                fetch(e, "file:///etc/passwd", vec![])
            }),
            at("a second Ready mid-run (out-of-order message)", |e| {
                let mut ch = e.ch.borrow_mut();
                let Some(ch) = ch.as_mut() else {
                    return Escaped("no channel".into());
                };
                let _ = ch.send(&ToSupervisor::Ready(Default::default()));
                // The supervisor must drop the worker; if it answers instead, the
                // harness sees this verdict.
                match ch.recv::<ToWorker>(MAX_FRAME, None) {
                    Ok(m) => Escaped(format!("the supervisor answered {m:?}")),
                    Err(err) => Blocked(format!("dropped: {err}")),
                }
            }),
        ],
        "SUP-14" => vec![
            at("ignore every signal and spin", |_| {
                for sig in 1..32 {
                    if sig != libc::SIGKILL && sig != libc::SIGSTOP {
                        // SAFETY: installing SIG_IGN for a standard signal.
                        unsafe { libc::signal(sig, libc::SIG_IGN) };
                    }
                }
                let mut x = 0u64;
                loop {
                    x = std::hint::black_box(x.wrapping_add(1));
                }
            }),
            at("stop itself (SIGSTOP), then spin", |_| {
                // As pid 1 of its namespace the kernel may ignore this; either
                // way the deadline must end it.
                // SAFETY: signals this very thread.
                unsafe {
                    libc::syscall(
                        libc::SYS_tgkill,
                        libc::getpid(),
                        libc::gettid(),
                        libc::SIGSTOP,
                    )
                };
                let mut x = 0u64;
                loop {
                    x = std::hint::black_box(x.wrapping_add(1));
                }
            }),
            at("block in a host call (sleep past the deadline)", |_| {
                std::thread::sleep(std::time::Duration::from_secs(3600));
                Escaped("woke up after an hour".into())
            }),
        ],
        // The harness reads the audit log afterwards (SUP-12).
        "SUP-12" => vec![
            at("guest log with CR/LF/ANSI, then a forged level", forged_log),
            at("guest log flood (64 MiB in 1 KiB lines)", |e| {
                send_logs(e, 65536, LogLevel::Info, &"x".repeat(1024))
            }),
        ],
        // The harness inspects the worker's cgroups meanwhile (CG-04).
        "CG-04" => vec![at("stay alive while the harness looks", |_| {
            std::thread::sleep(std::time::Duration::from_millis(1500));
            Blocked("stayed 1.5 s in its cgroups".into())
        })],
        // The network cases: the harness chose the requests (SSRF, SEC, RES-12);
        // the probe sends them over IPC and reports every answer for the harness
        // to judge against the lab's hit counters.
        "RELAY" => vec![at("send the harness's requests over IPC", relay)],
        // Not an attack: the harness's "next invocation works" check.
        "ALIVE" => vec![at("confined and answering", |_| Blocked("alive".into()))],
        _ => return None,
    })
}

/// Asks the supervisor for an HTTP request over the IPC protocol, as a compromised
/// worker would: anything but a refusal is an escape.
fn fetch(e: &Env, url: &str, headers: Vec<(String, String)>) -> Out {
    let mut ch = e.ch.borrow_mut();
    let Some(ch) = ch.as_mut() else {
        return Escaped("no channel".into());
    };
    let req = HttpRequest {
        method: "GET".into(),
        url: url.into(),
        headers,
        body: None,
        timeout_ms: Some(2000),
    };
    if let Err(err) = ch.send(&ToSupervisor::Fetch(req)) {
        return Blocked(format!("dropped: {err}"));
    }
    // Blocking: a receive timeout would need setsockopt, which the worker's
    // seccomp profile does not allow (the deadline bounds the wait).
    match ch.recv::<ToWorker>(MAX_FRAME, None) {
        Ok(ToWorker::HttpReply(HttpReply::Response { status, .. })) => {
            Escaped(format!("the supervisor fetched {url}: status {status}"))
        }
        Ok(ToWorker::HttpReply(r)) => Blocked(format!("refused: {r:?}")),
        Ok(other) => Escaped(format!("unexpected answer {other:?}")),
        Err(err) => Blocked(format!("dropped: {err}")),
    }
}

/// The `RELAY` attempt: every request of the context, one after another; the
/// answers as JSON (`{status, headers, body}` or `{error, reason}`).
fn relay(e: &Env) -> Out {
    let mut answers = Vec::new();
    {
        let mut ch = e.ch.borrow_mut();
        let Some(ch) = ch.as_mut() else {
            return Escaped("no channel".into());
        };
        for r in &e.ctx.requests {
            let req = HttpRequest {
                method: r.method.clone(),
                url: r.url.clone(),
                headers: r.headers.clone(),
                body: r.body.clone().map(String::into_bytes),
                timeout_ms: r.timeout_ms,
            };
            if let Err(err) = ch.send(&ToSupervisor::Fetch(req)) {
                answers.push(serde_json::json!({"error": "dropped", "reason": err.to_string()}));
                break;
            }
            let a = match ch.recv::<ToWorker>(MAX_FRAME, None) {
                Ok(ToWorker::HttpReply(HttpReply::Response {
                    status,
                    headers,
                    body,
                })) => {
                    let body = &body[..body.len().min(64 << 10)];
                    serde_json::json!({"status": status, "headers": headers, "body": String::from_utf8_lossy(body)})
                }
                Ok(ToWorker::HttpReply(r)) => {
                    let (kind, reason) = match r {
                        HttpReply::Denied(m) => ("denied", m),
                        HttpReply::InvalidRequest(m) => ("invalid-request", m),
                        HttpReply::Timeout => ("timeout", String::new()),
                        HttpReply::TooLarge => ("too-large", String::new()),
                        HttpReply::Transport(m) => ("transport", m),
                        HttpReply::Response { .. } => ("response", String::new()),
                    };
                    serde_json::json!({"error": kind, "reason": reason})
                }
                Ok(other) => {
                    serde_json::json!({"error": "unexpected", "reason": format!("{other:?}")})
                }
                Err(err) => {
                    answers
                        .push(serde_json::json!({"error": "dropped", "reason": err.to_string()}));
                    break;
                }
            };
            answers.push(a);
        }
    }
    if e.ctx.linger_ms > 0 {
        std::thread::sleep(std::time::Duration::from_millis(e.ctx.linger_ms));
    }
    Blocked(serde_json::Value::Array(answers).to_string())
}

/// Sends log lines as a compromised worker would (no worker-side budget).
fn send_logs(e: &Env, n: usize, level: LogLevel, message: &str) -> Out {
    let mut ch = e.ch.borrow_mut();
    let Some(ch) = ch.as_mut() else {
        return Escaped("no channel".into());
    };
    for i in 0..n {
        let msg = ToSupervisor::Log {
            level,
            message: message.into(),
        };
        if let Err(err) = ch.send(&msg) {
            return Blocked(format!("dropped after {i} lines: {err}"));
        }
    }
    Blocked(format!(
        "{n} line(s) sent; the harness checks the audit log"
    ))
}

/// A log line whose message carries CR/LF and terminal controls (recorded, escaped),
/// then one whose level is no level agentbox knows: `ToSupervisor::Log` as postcard
/// lays it out, the level a raw variant number. The supervisor cannot decode it:
/// it kills the worker (outcome `sandbox_error`), and the harness checks that the
/// audit log holds the first line, escaped, and no forged level.
fn forged_log(e: &Env) -> Out {
    #[derive(Serialize)]
    enum Forged {
        _Ready,
        _Fetch,
        Log { level: u32, message: String },
    }
    let first = send_logs(
        e,
        1,
        LogLevel::Error,
        "line1\r\nagentbox: forged line\x1b[2J\x1b]0;pwned\x07",
    );
    if matches!(first, Escaped(_)) {
        return first;
    }
    let mut ch = e.ch.borrow_mut();
    let Some(ch) = ch.as_mut() else {
        return Escaped("no channel".into());
    };
    let forged = Forged::Log {
        level: 99,
        message: "error\n[forged]".into(),
    };
    if let Err(err) = ch.send(&forged) {
        return Blocked(format!("the forged level was not sent: {err}"));
    }
    // The supervisor should kill this worker now; an answer means it went on (and
    // no answer at all ends in the case's timeout, an escape).
    match ch.recv::<ToWorker>(MAX_FRAME, None) {
        Ok(_) => Escaped("the supervisor answered after a forged log level".into()),
        Err(err) => Blocked(format!("the supervisor hung up: {err}")),
    }
}

/// Writes raw bytes to the IPC socket and waits to be dropped.
fn raw_frame(bytes: &[u8]) -> Out {
    // SAFETY: writing a local buffer to the IPC socket.
    unsafe { libc::write(3, bytes.as_ptr().cast(), bytes.len()) };
    let mut buf = [0u8; 64];
    // The supervisor should hang up; the harness checks what it reported.
    // SAFETY: reading into a local buffer.
    let n = unsafe { libc::read(3, buf.as_mut_ptr().cast(), buf.len()) };
    std::process::exit(if n <= 0 { 0 } else { 3 })
}
