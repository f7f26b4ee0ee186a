//! Harness cases: checks the suite makes from the host side, through the same
//! library code `agentbox run` uses (manifest validation).

use crate::runner::{AttemptResult, CaseResult};
use std::path::Path;

/// SUP-08: manifest foot-guns. Each must be refused at load with an error that
/// names the offending key; none may load.
fn foot_guns() -> Vec<(&'static str, String, &'static str)> {
    let tool = "version = 1\n[tools.t]\ncomponent = \"t.wasm\"\nrationale = \"r\"\n";
    let fs = |host: &str, guest: &str| {
        format!(
            "{tool}[[tools.t.fs]]\nhost = \"{host}\"\nguest = \"{guest}\"\naccess = \"ro\"\nrationale = \"r\"\n"
        )
    };
    let net =
        |allow: &str| format!("{tool}[[tools.t.net]]\nallow = \"{allow}\"\nrationale = \"r\"\n");
    let limits = |l: &str| format!("{tool}[tools.t.limits]\n{l}\n");
    vec![
        ("grant of /", fs("/", "/host"), "tools.t.fs[0].host"),
        ("grant of /proc", fs("/proc", "/p"), "tools.t.fs[0].host"),
        (
            "grant of /sys/kernel",
            fs("/sys/kernel", "/k"),
            "tools.t.fs[0].host",
        ),
        ("grant of /dev", fs("/dev", "/d"), "tools.t.fs[0].host"),
        ("grant of /run", fs("/run", "/r"), "tools.t.fs[0].host"),
        ("grant of /home", fs("/home", "/h"), "tools.t.fs[0].host"),
        (
            "relative grant resolving to /",
            fs("../../../../../../../../..", "/up"),
            "tools.t.fs[0].host",
        ),
        // A relative guest name is a WASI preopen's name (mounted under
        // /.agentbox-preopen, docs/decisions/41); climbing out of it is not.
        (
            "relative guest path with ..",
            fs(".", "../data"),
            "tools.t.fs[0].guest",
        ),
        (
            "guest path inside agentbox's preopen mounts",
            fs(".", "/.agentbox-preopen/root"),
            "tools.t.fs[0].guest",
        ),
        (
            "relative guest path on a native tool",
            "version = 1\n[tools.t]\nkind = \"native\"\nexec = [\"/bin/true\"]\nrationale = \"r\"\n[[tools.t.fs]]\nhost = \".\"\nguest = \"data\"\naccess = \"ro\"\nrationale = \"r\"\n".to_string(),
            "tools.t.fs[0].guest",
        ),
        (
            "guest path with ..",
            fs(".", "/a/../b"),
            "tools.t.fs[0].guest",
        ),
        (
            "the same guest path twice",
            format!(
                "{}[[tools.t.fs]]\nhost = \".\"\nguest = \"/host\"\naccess = \"rw\"\nrationale = \"r\"\n",
                fs(".", "/host")
            ),
            "tools.t.fs[1].guest",
        ),
        ("allow *", net("*"), "tools.t.net[0].allow"),
        ("allow https://*", net("https://*"), "tools.t.net[0].allow"),
        (
            "wildcard over a public suffix",
            net("https://*.com"),
            "tools.t.net[0].allow",
        ),
        (
            "user info in a rule",
            net("https://u:p@x.org"),
            "tools.t.net[0].allow",
        ),
        (
            "non-HTTP scheme",
            net("gopher://x.org"),
            "tools.t.net[0].allow",
        ),
        (
            "zero memory",
            limits("memory = \"0\""),
            "tools.t.limits.memory",
        ),
        (
            "huge timeout",
            limits("timeout = \"10000h\""),
            "tools.t.limits.timeout",
        ),
        (
            "misspelled key",
            format!(
                "{tool}[[tools.t.fs]]\nhost = \".\"\nguest = \"/d\"\nacess = \"ro\"\nrationale = \"r\"\n"
            ),
            "acess",
        ),
        ("misspelled limit", limits("memroy = \"1GiB\""), "memroy"),
        (
            "secret to an ungranted host",
            format!(
                "{tool}[[tools.t.secrets]]\nname = \"TOKEN\"\nallow = [\"https://evil.org\"]\nrationale = \"r\"\n"
            ),
            "tools.t.secrets[0].allow",
        ),
    ]
}

pub fn sup08(dir: &Path, res: &mut CaseResult) {
    let _ = std::fs::write(dir.join("t.wasm"), b"");
    for (name, text, key) in foot_guns() {
        let path = dir.join("footgun.toml");
        let (verdict, how) = match agentbox_policy::Manifest::parse(&path, &text, dir) {
            Ok(_) => ("escaped".to_string(), "the manifest loaded".to_string()),
            Err(e) => {
                let msg = e.to_string();
                if msg.contains(key) {
                    ("blocked".into(), format!("refused: {msg}"))
                } else {
                    (
                        "error".into(),
                        format!("refused, but the error does not name `{key}`: {msg}"),
                    )
                }
            }
        };
        res.attempts.push(AttemptResult {
            mode: "full".into(),
            attempt: name.into(),
            verdict,
            how,
        });
    }
}

/// CG-04: while a probe runs, find its per-invocation cgroups (this process's
/// `run-<pid>-<n>`) and check that every task of the worker is in each of them and
/// that the limits are the ones the run asked for; afterwards, that they are gone.
pub struct CgroupWatch {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    handle: std::thread::JoinHandle<Vec<(String, bool, String)>>,
}

impl std::fmt::Debug for CgroupWatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CgroupWatch")
    }
}

fn controllers() -> (bool, Vec<(&'static str, std::path::PathBuf)>) {
    let parent = agentbox_confine::cgroup::parent_name();
    let root = Path::new("/sys/fs/cgroup");
    if matches!(
        agentbox_confine::cgroup::Version::detect(),
        agentbox_confine::cgroup::Version::V2
    ) {
        (true, vec![("unified", root.join(&parent))])
    } else {
        (
            false,
            ["memory", "pids", "cpu"]
                .iter()
                .map(|c| (*c, root.join(c).join(&parent)))
                .collect(),
        )
    }
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p)
        .unwrap_or_default()
        .trim()
        .to_string()
}

fn tasks(dir: &Path, v2: bool) -> Vec<String> {
    let f = if v2 { "cgroup.threads" } else { "tasks" };
    let mut t: Vec<String> = read(&dir.join(f)).lines().map(str::to_string).collect();
    t.sort();
    t
}

impl CgroupWatch {
    pub fn start(memory_bytes: u64, pids: u32) -> Self {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let s = stop.clone();
        let prefix = format!("run-{}-", std::process::id());
        // Cgroups of earlier runs may still be being torn down: only one that is
        // new from here on (listed before the run starts) is this run's.
        let list = |d: &Path| -> Vec<String> {
            std::fs::read_dir(d)
                .map(|rd| {
                    rd.flatten()
                        .map(|e| e.file_name().to_string_lossy().into_owned())
                        .collect()
                })
                .unwrap_or_default()
        };
        let (v2, ctl) = controllers();
        let earlier = list(&ctl[0].1);
        let handle = std::thread::spawn(move || {
            let mut out = Vec::new();
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(4);
            while !s.load(std::sync::atomic::Ordering::SeqCst)
                && std::time::Instant::now() < deadline
            {
                let found = list(&ctl[0].1)
                    .into_iter()
                    .find(|n| n.starts_with(&prefix) && !earlier.contains(n));
                let Some(name) = found else {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                    continue;
                };
                // Let the worker start its threads.
                std::thread::sleep(std::time::Duration::from_millis(300));
                let first = tasks(&ctl[0].1.join(&name), v2);
                out.push((
                    format!("worker tasks in {name}"),
                    !first.is_empty(),
                    format!("{} task(s)", first.len()),
                ));
                for (c, dir) in &ctl {
                    let d = dir.join(&name);
                    let t = tasks(&d, v2);
                    out.push((
                        format!("{c}: the same tasks"),
                        t == first,
                        format!("{} task(s)", t.len()),
                    ));
                    let (ok, what) = match (v2, *c) {
                        (true, _) => {
                            let m = read(&d.join("memory.max"));
                            let p = read(&d.join("pids.max"));
                            let cpu = read(&d.join("cpu.max"));
                            (
                                m == memory_bytes.to_string()
                                    && p == pids.to_string()
                                    && cpu == "100000 100000",
                                format!("memory.max {m}, pids.max {p}, cpu.max {cpu}"),
                            )
                        }
                        (false, "memory") => {
                            let m = read(&d.join("memory.limit_in_bytes"));
                            (
                                m == memory_bytes.to_string(),
                                format!("memory.limit_in_bytes {m}"),
                            )
                        }
                        (false, "pids") => {
                            let p = read(&d.join("pids.max"));
                            (p == pids.to_string(), format!("pids.max {p}"))
                        }
                        _ => {
                            let q = read(&d.join("cpu.cfs_quota_us"));
                            (q == "100000", format!("cpu.cfs_quota_us {q}"))
                        }
                    };
                    out.push((format!("{c}: limits as asked"), ok, what));
                }
                // And gone once the run is over.
                while !s.load(std::sync::atomic::Ordering::SeqCst) {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                let gone_by = std::time::Instant::now() + std::time::Duration::from_secs(5);
                let left = loop {
                    let left: Vec<&str> = ctl
                        .iter()
                        .filter(|(_, d)| d.join(&name).exists())
                        .map(|(c, _)| *c)
                        .collect();
                    if left.is_empty() || std::time::Instant::now() > gone_by {
                        break left;
                    }
                    std::thread::sleep(std::time::Duration::from_millis(20));
                };
                out.push((
                    "cgroups removed after the run".into(),
                    left.is_empty(),
                    format!("left: {left:?}"),
                ));
                return out;
            }
            out.push((
                "per-invocation cgroup found".into(),
                false,
                "no cgroup of this run appeared".into(),
            ));
            out
        });
        Self { stop, handle }
    }

    pub fn finish(self, res: &mut CaseResult) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        for (name, ok, how) in self.handle.join().unwrap_or_default() {
            res.attempts.push(AttemptResult {
                mode: "full".into(),
                attempt: name,
                verdict: if ok { "blocked" } else { "escaped" }.into(),
                how,
            });
        }
    }
}

/// SUP-12: every audit line is one line of JSON with no raw control character,
/// guest log levels are the four known ones, and guest log bytes stay within the
/// invocation's budget (1 MiB output limit, plus one line and the notice).
pub fn audit_is_clean(lines: &[String]) -> Result<String, String> {
    let mut bytes = 0usize;
    let mut n = 0usize;
    for l in lines {
        if l.bytes().any(|b| b < 0x20) {
            return Err(format!("raw control character in an audit line: {l:?}"));
        }
        let v: serde_json::Value =
            serde_json::from_str(l).map_err(|e| format!("audit line is not JSON ({e}): {l:?}"))?;
        if v["event"] == "guest_log" {
            n += 1;
            let level = v["level"].as_str().unwrap_or("");
            if !matches!(level, "debug" | "info" | "warn" | "error") {
                return Err(format!("guest log level not normalised: {level:?}"));
            }
            bytes += v["message"].as_str().unwrap_or("").len();
        }
    }
    if n == 0 {
        return Err("no guest_log event recorded: the check proves nothing".into());
    }
    if bytes > (1 << 20) + 2 * 1024 + 256 {
        return Err(format!(
            "{n} guest log lines, {bytes} bytes: the supervisor did not bound them"
        ));
    }
    Ok(format!("{n} guest log line(s), {bytes} bytes, all escaped"))
}

/// SUP-10: hostile artifacts a tool leaves in a read-write grant for later host
/// consumers, collected with agentbox's output collector (`agentbox collect`,
/// the same library function). The harness plants what a tool (or an escaped
/// worker) could leave: a symlink to the lab's sentinel (the operator's SSH key
/// stand-in) and to /etc, a hard link to the sentinel, a FIFO, a unix socket, a
/// device node (as root), a setuid file, a sparse 1 TiB file, names with a
/// newline and an escape sequence; plus two ordinary files as the positive
/// control. The collector must copy exactly the ordinary files and the setuid
/// one (mode stripped), leave out the rest with a reason, never hang (a 20 s
/// watchdog), and never put the sentinel's content into the copy.
pub fn sup10(dir: &Path, sentinel: &Path, res: &mut CaseResult) {
    use std::os::unix::fs::PermissionsExt;
    let src = dir.join("sup10-grant");
    let dest = dir.join("sup10-collected");
    let _ = std::fs::remove_dir_all(&src);
    let _ = std::fs::remove_dir_all(&dest);
    let mut note = |attempt: &str, outcome: Result<String, String>| {
        crate::runner::note(res, attempt, outcome);
    };
    let plant = || -> Result<Vec<&'static str>, String> {
        let e = |what: &str| {
            let what = what.to_string();
            move |err: std::io::Error| format!("planting {what}: {err}")
        };
        std::fs::create_dir_all(src.join("sub")).map_err(e("sub"))?;
        std::fs::write(src.join("report.txt"), "the tool's result\n").map_err(e("report"))?;
        std::fs::write(src.join("sub/inner.txt"), "nested\n").map_err(e("inner"))?;
        std::os::unix::fs::symlink(sentinel, src.join("id_rsa")).map_err(e("symlink"))?;
        std::os::unix::fs::symlink("/etc", src.join("etc")).map_err(e("dir symlink"))?;
        std::fs::hard_link(sentinel, src.join("hard")).map_err(e("hard link"))?;
        nix::unistd::mkfifo(
            &src.join("fifo"),
            nix::sys::stat::Mode::from_bits_truncate(0o644),
        )
        .map_err(|err| format!("planting fifo: {err}"))?;
        let sock = std::os::unix::net::UnixListener::bind(src.join("sock")).map_err(e("socket"))?;
        drop(sock);
        std::fs::write(src.join("suid"), "#!/bin/sh\n").map_err(e("suid"))?;
        std::fs::set_permissions(src.join("suid"), std::fs::Permissions::from_mode(0o4755))
            .map_err(e("suid mode"))?;
        let huge = std::fs::File::create(src.join("huge")).map_err(e("huge"))?;
        huge.set_len(1 << 40).map_err(e("sparse 1 TiB"))?;
        std::fs::write(src.join("evil\nname"), "x").map_err(e("newline name"))?;
        std::fs::write(src.join("esc\x1b]0;pwned\x07"), "x").map_err(e("escape name"))?;
        std::fs::write(src.join("report\u{202e}txt.exe"), "x").map_err(e("bidi name"))?;
        let mut planted = vec![
            "symlink",
            "dir symlink",
            "hard link",
            "fifo",
            "socket",
            "sparse",
            "names",
        ];
        if nix::unistd::geteuid().is_root() {
            nix::sys::stat::mknod(
                &src.join("null"),
                nix::sys::stat::SFlag::S_IFCHR,
                nix::sys::stat::Mode::from_bits_truncate(0o666),
                nix::sys::stat::makedev(1, 3),
            )
            .map_err(|err| format!("planting a device node: {err}"))?;
            planted.push("device");
        }
        Ok(planted)
    };
    let planted = match plant() {
        Ok(p) => p,
        Err(e) => {
            note("plant the hostile artifacts", Err(e));
            return;
        }
    };
    let (tx, rx) = std::sync::mpsc::channel();
    let (s2, d2) = (src.clone(), dest.clone());
    std::thread::spawn(move || {
        let r = agentbox_supervisor::collect::collect(
            &s2,
            &d2,
            &agentbox_supervisor::collect::CollectLimits::default(),
        );
        let _ = tx.send(r);
    });
    let collected = match rx.recv_timeout(std::time::Duration::from_secs(20)) {
        Err(_) => {
            note(
                "collect without hanging",
                Err("the collector did not finish in 20 s".into()),
            );
            return;
        }
        Ok(Err(e)) => {
            note("collect", Err(e.to_string()));
            return;
        }
        Ok(Ok(c)) => c,
    };
    note(
        "collect without hanging (FIFO, socket, device planted)",
        Ok(format!(
            "{} copied, {} left out",
            collected.files.len(),
            collected.skipped.len()
        )),
    );
    // Exactly the ordinary files (and the setuid one) were copied.
    let mut copied: Vec<&str> = collected.files.iter().map(|(p, _)| p.as_str()).collect();
    copied.sort_unstable();
    note(
        "copy only regular, single-link, bounded files (positive control: report.txt, sub/inner.txt)",
        if copied == ["report.txt", "sub/inner.txt", "suid"]
            && std::fs::read_to_string(dest.join("report.txt"))
                .is_ok_and(|t| t == "the tool's result\n")
        {
            Ok(format!("copied {copied:?}"))
        } else {
            Err(format!("copied {copied:?}"))
        },
    );
    let left: Vec<&str> = collected.skipped.iter().map(|(p, _)| p.as_str()).collect();
    let must_skip = ["id_rsa", "etc", "hard", "fifo", "sock", "huge"];
    note(
        &format!("leave out {}", planted.join(", ")),
        if must_skip.iter().all(|n| left.contains(n))
            && (!planted.contains(&"device") || left.contains(&"null"))
            && collected.skipped.len()
                == must_skip.len() + 3 + usize::from(planted.contains(&"device"))
        {
            Ok(format!(
                "{} left out, each with its reason",
                collected.skipped.len()
            ))
        } else {
            Err(format!("left out: {:?}", collected.skipped))
        },
    );
    // Nothing in the copy is a link, a special file, setuid or executable, and
    // nothing holds the sentinel's bytes.
    let secret = std::fs::read(sentinel).unwrap_or_default();
    let mut problems = Vec::new();
    let mut stack = vec![dest.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            let Ok(m) = std::fs::symlink_metadata(&p) else {
                continue;
            };
            if m.is_dir() {
                stack.push(p);
            } else if !m.is_file() {
                problems.push(format!("{} is not a regular file", p.display()));
            } else {
                if m.permissions().mode() & 0o7111 != 0 {
                    problems.push(format!(
                        "{} has mode {:o}",
                        p.display(),
                        m.permissions().mode()
                    ));
                }
                let bytes = std::fs::read(&p).unwrap_or_default();
                if !secret.is_empty() && bytes.windows(secret.len()).any(|w| w == secret.as_slice())
                {
                    problems.push(format!("{} holds the sentinel", p.display()));
                }
            }
        }
    }
    note(
        "a copy that is a link, a special file, setuid, executable or the sentinel",
        if problems.is_empty() {
            Ok("none: regular files, mode 0644".into())
        } else {
            Err(problems.join("; "))
        },
    );
    // Reported names are escaped: no raw newline or escape character.
    let report = format!(
        "{:?}",
        collected
            .skipped
            .iter()
            .map(|(p, w)| format!("{p}: {w}"))
            .collect::<Vec<_>>()
    );
    let raw = collected
        .skipped
        .iter()
        .any(|(p, _)| p.chars().any(|c| c.is_control() || c == '\u{202e}'));
    note(
        "a newline or escape sequence reaching the collector's report",
        if raw {
            Err(report)
        } else {
            Ok("names escaped (\\x0a, \\x1b)".into())
        },
    );
    let _ = std::fs::remove_dir_all(&src);
    let _ = std::fs::remove_dir_all(&dest);
}
