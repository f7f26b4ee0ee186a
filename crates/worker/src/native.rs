//! Kind native: the program runs inside the confined worker (the native seccomp
//! profile and Landlock rules are inherited across exec).

use agentbox_ipc::{Start, WorkerResult};
use std::io::{Read, Write};
use std::process::{Command, Stdio};

fn read_capped(mut r: impl Read, cap: u64) -> (Vec<u8>, bool) {
    let mut out = Vec::new();
    let mut buf = [0u8; 65536];
    let mut over = false;
    loop {
        match r.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                let room = cap.saturating_sub(out.len() as u64) as usize;
                out.extend_from_slice(&buf[..n.min(room)]);
                if n > room {
                    over = true;
                }
            }
        }
    }
    (out, over)
}

pub(crate) fn run(start: &Start) -> WorkerResult {
    let spec = &start.spec;
    let mut res = crate::error_result(String::new());
    let Some(prog) = spec.exec.first() else {
        res.detail = "no program to run".into();
        return res;
    };
    let cwd = spec
        .fs
        .iter()
        .find(|g| g.access == agentbox_policy::Access::Rw)
        .or(spec.fs.first())
        .map_or("/", |g| g.guest.as_str());
    let mut cmd = Command::new(prog);
    cmd.args(&spec.exec[1..])
        .args(&start.invocation.args)
        .env_clear()
        .envs(spec.env.iter().map(|e| (e.name.clone(), e.value.clone())))
        .current_dir(cwd)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if !spec.env.iter().any(|e| e.name == "PATH") {
        cmd.env("PATH", "/usr/bin:/bin");
    }
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            res.detail = format!("cannot start {prog}: {e}");
            return res;
        }
    };
    let cap = spec.limits.output;
    let stdin_bytes = start.invocation.stdin.clone();
    let mut stdin = child.stdin.take();
    // Threads count against the pids cgroup too: a program that forks at once may
    // exhaust it first, so a failed spawn is reported, never a panic.
    let writer = std::thread::Builder::new().spawn(move || {
        if let Some(s) = stdin.as_mut() {
            let _ = s.write_all(&stdin_bytes);
        }
        drop(stdin);
    });
    let out = child.stdout.take().and_then(|o| {
        std::thread::Builder::new()
            .spawn(move || read_capped(o, cap))
            .ok()
    });
    let err = child.stderr.take().and_then(|e| {
        std::thread::Builder::new()
            .spawn(move || read_capped(e, cap))
            .ok()
    });
    let status = child.wait();
    if let Ok(w) = writer {
        let _ = w.join();
    }
    let (stdout, o_over) = out.and_then(|h| h.join().ok()).unwrap_or_default();
    let (stderr, e_over) = err.and_then(|h| h.join().ok()).unwrap_or_default();
    res.stdout = stdout;
    res.stderr = stderr;
    match status {
        Ok(s) => {
            use std::os::unix::process::ExitStatusExt;
            if let Some(code) = s.code() {
                res.exit_code = Some(code);
                res.outcome = if code == 0 {
                    "ok".into()
                } else {
                    "exit".into()
                };
                if code != 0 {
                    res.detail = format!("the program exited with status {code}");
                }
            } else if let Some(sig) = s.signal() {
                res.outcome = "signal".into();
                res.exit_code = Some(128 + sig);
                res.detail = format!("the program was killed by signal {sig}");
            }
        }
        Err(e) => res.detail = format!("wait: {e}"),
    }
    if o_over || e_over {
        res.outcome = "limit".into();
        res.limit = Some("output".into());
        res.detail = format!(
            "output limit of {} reached",
            agentbox_policy::units::format_size(cap)
        );
    }
    res
}
