//! Kind native: the program runs inside the confined worker (the native seccomp
//! profile and Landlock rules are inherited across exec).

use agentbox_ipc::{Limit, Outcome, Start, WorkerResult};
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
        .find(|g| g.access == agentbox_spec::Access::Rw)
        .or(spec.fs.first())
        .map_or("/".to_string(), agentbox_spec::FsGrant::mount_point);
    let mut cmd = Command::new(prog);
    cmd.args(&spec.exec[1..])
        .args(&start.invocation.args)
        .env_clear()
        .envs(spec.env.iter().map(|e| (e.name.clone(), e.value.clone())))
        .current_dir(cwd);
    if !spec.env.iter().any(|e| e.name == "PATH") {
        cmd.env("PATH", "/usr/bin:/bin");
    }
    // The I/O threads start before the program, and the stdin writer stays until it
    // exits: the worker's share of the pids cgroup is constant (itself
    // and three threads), so the program's budget is exactly `processes`.
    let cap = spec.limits.output;
    let pipes = (|| -> nix::Result<_> {
        let flags = nix::fcntl::OFlag::O_CLOEXEC;
        Ok((
            nix::unistd::pipe2(flags)?,
            nix::unistd::pipe2(flags)?,
            nix::unistd::pipe2(flags)?,
        ))
    })();
    let ((in_r, in_w), (out_r, out_w), (err_r, err_w)) = match pipes {
        Ok(p) => p,
        Err(e) => {
            res.detail = format!("pipes: {e}");
            return res;
        }
    };
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let stdin_bytes = start.invocation.stdin.clone();
    let writer = std::thread::Builder::new().spawn(move || {
        let mut w = std::fs::File::from(in_w);
        let _ = w.write_all(&stdin_bytes);
        drop(w);
        let _ = done_rx.recv();
    });
    let out = std::thread::Builder::new()
        .spawn(move || read_capped(std::fs::File::from(out_r), cap))
        .ok();
    let err = std::thread::Builder::new()
        .spawn(move || read_capped(std::fs::File::from(err_r), cap))
        .ok();
    cmd.stdin(Stdio::from(in_r))
        .stdout(Stdio::from(out_w))
        .stderr(Stdio::from(err_w));
    let spawned = cmd.spawn();
    // The Command holds the child's pipe ends; drop it so the readers see EOF.
    drop(cmd);
    let mut child = match spawned {
        Ok(c) => c,
        Err(e) => {
            drop(done_tx);
            res.detail = format!("cannot start {prog}: {e}");
            return res;
        }
    };
    let status = child.wait();
    drop(done_tx);
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
                    Outcome::Ok
                } else {
                    Outcome::Exit
                };
                if code != 0 {
                    res.detail = format!("the program exited with status {code}");
                }
            } else if let Some(sig) = s.signal() {
                res.outcome = Outcome::Signal;
                res.exit_code = Some(128 + sig);
                res.detail = format!("the program was killed by signal {sig}");
            }
        }
        Err(e) => res.detail = format!("wait: {e}"),
    }
    if o_over || e_over {
        res.outcome = Outcome::Limit;
        res.limit = Some(Limit::Output);
        res.detail = format!(
            "output limit of {} reached",
            agentbox_spec::units::format_size(cap)
        );
    }
    res
}
