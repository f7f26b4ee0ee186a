//! Kind native and the OS layers, attacked by a native probe that plays a guest
//! which escaped wasm (catalog SC, LL, NS, CG, RES cases). Every attack asserts the
//! block *and* the canary: host files unread/unchanged, the host listener saw no
//! connection, the host canary process is alive, the host's process count is
//! unaffected. Layer-isolation runs switch every other layer off (the dangerous
//! flag) and show that the remaining layer blocks the class on its own.

mod common;
use common::*;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Command;

const SENTINEL: &str = "canary: host data outside every grant\n";

fn probe_dir() -> PathBuf {
    let d = root().join("build/native");
    assert!(
        d.join("probe").exists(),
        "{} is missing: run `cargo xtask guests` (scripts/test.sh does)",
        d.display()
    );
    std::fs::canonicalize(d).expect("canonical")
}

/// A native tool running the probe, with one rw grant.
fn native(sb: &Sandbox, limits: &str) {
    sb.write("sentinel", SENTINEL);
    sb.write("work/.keep", "");
    sb.manifest(&format!(
        "version = 1\n[tools.probe]\nkind = \"native\"\nexec = [\"/probe/probe\"]\nrationale = \"attack probe\"\n\
         [[tools.probe.fs]]\nhost = \"{}\"\nguest = \"/probe\"\naccess = \"ro\"\nrationale = \"the probe binary\"\n\
         [[tools.probe.fs]]\nhost = \"work\"\nguest = \"/work\"\naccess = \"rw\"\nrationale = \"scratch\"\n\
         [tools.probe.limits]\ntimeout = \"10s\"\n{limits}\n",
        probe_dir().display()
    ));
}

fn run_probe(sb: &Sandbox, disable: &[&str], ops: &[&str]) -> (Out, serde_json::Value) {
    let mut args: Vec<&str> = Vec::new();
    for d in disable {
        args.push("--dangerously-disable-layer");
        args.push(d);
    }
    args.push("--");
    args.extend_from_slice(ops);
    sb.run_report(&args)
}

fn sentinel_untouched(sb: &Sandbox) {
    assert_eq!(
        std::fs::read_to_string(sb.path("sentinel")).expect("sentinel"),
        SENTINEL
    );
}

#[test]
fn native_python_runs_confined_with_args_and_stdin() {
    let sb = Sandbox::new();
    sb.manifest(
        "version = 1\n[tools.py]\nkind = \"native\"\nexec = [\"/usr/bin/python3\", \"-c\", \"import sys; d = sys.stdin.read(); print(len(d), sys.argv[1:]); sys.exit(3)\"]\nrationale = \"python\"\n",
    );
    let out = sb.run_stdin(
        &[
            "run",
            "agentbox.toml",
            "--report",
            "r.json",
            "--",
            "a",
            "b c",
        ],
        Some(b"hello"),
    );
    assert_eq!(out.code, 3, "{out:?}");
    assert_eq!(out.stdout, "5 ['a', 'b c']\n");
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(sb.path("r.json")).expect("report"))
            .expect("json");
    assert_eq!(r["outcome"], "exit");
    assert_eq!(r["confinement"]["seccomp"], "native");
    assert_eq!(r["confinement"]["profile"], "native");
    assert_eq!(r["confinement"]["landlock_status"], "fully_enforced");
    assert_eq!(r["confinement"]["capabilities"], "none");
}

#[test]
fn host_files_are_invisible_and_grants_work() {
    let sb = Sandbox::new();
    native(&sb, "");
    let sentinel = sb.path("sentinel").display().to_string();
    let (out, r) = run_probe(
        &sb,
        &[],
        &[
            "read",
            "/etc/shadow",
            "read",
            "/etc/passwd",
            "read",
            &sentinel,
            "read",
            "/root/.bashrc",
            "write",
            "/work/out",
            "write",
            "/probe/x",
            "write",
            "/etc/x",
            "fds",
        ],
    );
    assert_eq!(out.code, 0, "{out:?}");
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines[0], "read /etc/shadow: error ENOENT");
    assert_eq!(lines[1], "read /etc/passwd: error ENOENT");
    assert!(lines[2].ends_with("error ENOENT"), "{}", lines[2]);
    assert!(
        lines[3].ends_with("error ENOENT") || lines[3].ends_with("error EACCES"),
        "{}",
        lines[3]
    );
    assert_eq!(lines[4], "write /work/out: ok");
    assert!(lines[5].contains("error"), "ro grant written: {}", lines[5]);
    assert!(lines[6].contains("error"), "{}", lines[6]);
    assert_eq!(
        lines[7], "fds: ok 0 1 2",
        "no descriptor leaks into the sandbox"
    );
    assert_eq!(
        std::fs::read_to_string(sb.path("work/out")).expect("out"),
        "pwned\n"
    );
    assert_eq!(r["confinement"]["open_fds"], serde_json::json!([3]));
    sentinel_untouched(&sb);
}

#[test]
fn no_network_and_no_host_processes() {
    let sb = Sandbox::new();
    native(&sb, "");
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("nonblocking");
    let port = listener.local_addr().expect("addr").port().to_string();
    let mut canary = Command::new("sleep").arg("60").spawn().expect("canary");
    let pid = canary.id().to_string();
    let (out, _) = run_probe(
        &sb,
        &[],
        &[
            "connect",
            "127.0.0.1",
            &port,
            "kill",
            &pid,
            "kill",
            "1",
            "tiocsti",
        ],
    );
    // socket(AF_INET) is not in the native allow-list: the first attack kills.
    assert_eq!(out.code, 126, "{out:?}");
    assert!(out.stderr.contains("killed by seccomp"), "{}", out.stderr);
    assert!(
        listener.accept().is_err(),
        "the host listener saw a connection"
    );
    // Without seccomp, the net namespace alone stops the connection and the pid
    // namespace alone hides the canary.
    let (out, _) = run_probe(
        &sb,
        &["seccomp", "landlock"],
        &["connect", "127.0.0.1", &port, "kill", &pid, "tiocsti"],
    );
    assert_eq!(out.code, 0, "{out:?}");
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines[0], "connect 127.0.0.1: error ENETUNREACH");
    assert_eq!(lines[1], format!("kill {pid}: error ESRCH"));
    assert!(lines[2].starts_with("tiocsti 0: error"), "{}", lines[2]);
    assert!(
        listener.accept().is_err(),
        "the host listener saw a connection"
    );
    assert!(
        canary.try_wait().expect("wait").is_none(),
        "the canary process was killed"
    );
    let _ = canary.kill();
    let _ = canary.wait();
}

#[test]
fn forbidden_kernel_surface_kills_the_worker() {
    let sb = Sandbox::new();
    native(&sb, "");
    for call in [
        "ptrace",
        "mount",
        "unshare",
        "setns",
        "bpf",
        "io_uring_setup",
        "keyctl",
        "perf_event_open",
        "userfaultfd",
        "inet",
        "inet6",
        "netlink",
        "packet",
        "alg",
        "clone-newuser",
        "mknod",
        "chroot",
        "x32-getpid",
    ] {
        let (out, r) = run_probe(&sb, &[], &["syscall", call]);
        assert_eq!(out.code, 126, "{call}: {out:?}");
        assert_eq!(r["outcome"], "denied", "{call}");
        assert_eq!(out.stdout, "", "{call} returned instead of being killed");
    }
    // The next invocation works.
    let (out, _) = run_probe(&sb, &[], &["read", "/probe/probe"]);
    assert_eq!(out.code, 0, "{out:?}");
    sentinel_untouched(&sb);
}

#[test]
fn seccomp_alone_blocks_the_kernel_surface() {
    let sb = Sandbox::new();
    native(&sb, "");
    sb.manifest(
        &std::fs::read_to_string(sb.path("agentbox.toml"))
            .expect("m")
            .replace(
                "exec = [\"/probe/probe\"]",
                &format!("exec = [\"{}/probe\"]", probe_dir().display()),
            ),
    );
    for call in ["mount", "unshare", "bpf", "io_uring_setup", "inet"] {
        let (out, _) = run_probe(
            &sb,
            &["namespaces", "landlock", "capabilities", "rlimits"],
            &["syscall", call],
        );
        assert_eq!(out.code, 126, "{call}: {out:?}");
    }
}

#[test]
fn landlock_alone_blocks_host_files() {
    let sb = Sandbox::new();
    native(&sb, "");
    let sentinel = sb.path("sentinel").display().to_string();
    let work = std::fs::canonicalize(sb.path("work"))
        .expect("work")
        .display()
        .to_string();
    let out_file = format!("{work}/ok");
    // Without namespaces the probe sees the host tree: only Landlock stands between.
    sb.manifest(
        &std::fs::read_to_string(sb.path("agentbox.toml"))
            .expect("m")
            .replace(
                "exec = [\"/probe/probe\"]",
                &format!("exec = [\"{}/probe\"]", probe_dir().display()),
            ),
    );
    let (out, r) = run_probe(
        &sb,
        &["namespaces", "seccomp"],
        &[
            "read",
            &sentinel,
            "read",
            "/etc/shadow",
            "write",
            "/etc/agentbox-pwned",
            "write",
            &out_file,
        ],
    );
    assert_eq!(out.code, 0, "{out:?}");
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert!(lines[0].ends_with("error EACCES"), "{}", lines[0]);
    assert!(lines[1].ends_with("error EACCES"), "{}", lines[1]);
    assert!(lines[2].ends_with("error EACCES"), "{}", lines[2]);
    assert_eq!(lines[3], format!("write {out_file}: ok"));
    assert!(!std::path::Path::new("/etc/agentbox-pwned").exists());
    assert!(
        r["confinement"]["dangerous"]
            .as_array()
            .is_some_and(|a| a.len() == 2),
        "{}",
        r["confinement"]
    );
    sentinel_untouched(&sb);
}

#[test]
fn fork_bomb_is_capped_by_the_pids_cgroup() {
    let sb = Sandbox::new();
    native(&sb, "processes = 8");
    let (out, r) = run_probe(&sb, &[], &["forkbomb"]);
    let line = out.stdout.lines().next().unwrap_or_default().to_string();
    assert!(line.starts_with("forkbomb: stopped after "), "{out:?}");
    let n: u32 = line
        .trim_start_matches("forkbomb: stopped after ")
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(999);
    // `processes = 8` covers the program itself and its children: 7 children.
    assert_eq!(n, 7, "{line}");
    // pids.max = processes + the worker's own 4 (the worker, 3 I/O threads).
    assert_eq!(r["confinement"]["cgroup_pids"], 12);
    assert!(line.contains("EAGAIN"), "{line}");
}

#[test]
fn memory_bomb_is_killed_in_its_own_cgroup() {
    let sb = Sandbox::new();
    native(&sb, "memory = \"64MiB\"");
    let (out, r) = run_probe(&sb, &[], &["membomb"]);
    assert_eq!(out.code, 137, "{out:?}");
    assert_eq!(r["outcome"], "limit");
    assert_eq!(r["limit"], "memory");
    // The supervisor survived and the next invocation works.
    let (out, _) = run_probe(&sb, &[], &["fds"]);
    assert_eq!(out.code, 0, "{out:?}");
}

#[test]
fn native_timeout_and_cpu() {
    let sb = Sandbox::new();
    native(&sb, "cpu = \"1s\"");
    let (out, r) = run_probe(&sb, &[], &["spin"]);
    assert_eq!(out.code, 124, "{out:?}");
    assert_eq!(r["limit"], "cpu");
}

#[test]
fn no_cgroup_or_process_left_behind() {
    let sb = Sandbox::new();
    native(&sb, "processes = 8");
    let marker = format!("marker-{}", std::process::id());
    for _ in 0..5 {
        let (_, r) = run_probe(&sb, &[], &[&marker, "forkbomb"]);
        let path = r["confinement"]["cgroup_path"]
            .as_str()
            .unwrap_or("missing")
            .to_string();
        for ctrl in ["pids", "memory", "cpu"] {
            let dir = format!("/sys/fs/cgroup/{ctrl}/{path}");
            let v2 = format!("/sys/fs/cgroup/{path}");
            assert!(
                !std::path::Path::new(&dir).exists() && !std::path::Path::new(&v2).exists(),
                "cgroup {path} left behind"
            );
        }
    }
    let stray = Command::new("pgrep")
        .args(["-f", &marker])
        .output()
        .expect("pgrep");
    assert!(
        String::from_utf8_lossy(&stray.stdout).trim().is_empty(),
        "probe processes left behind"
    );
}

/// Grants under the sandbox's own mounts (issue 13.5): a grant under /tmp or /dev
/// is mounted after the native profile's /tmp and device nodes and shows the
/// granted directory (here even the program itself lives under /tmp); a grant
/// that cannot be shown (inside procfs or a read-only system directory, or over
/// a device node) is refused at load, naming the clash.
#[test]
fn grants_under_the_profiles_own_mounts_show_or_are_refused() {
    let sb = Sandbox::new();
    sb.write("work/.keep", "");
    sb.write("data/file", "granted data\n");
    let manifest = |guests: [&str; 3]| {
        format!(
            "version = 1\n[tools.probe]\nkind = \"native\"\nexec = [\"{}/probe\"]\nrationale = \"attack probe\"\n\
             [[tools.probe.fs]]\nhost = \"{}\"\nguest = \"{}\"\naccess = \"ro\"\nrationale = \"the probe binary\"\n\
             [[tools.probe.fs]]\nhost = \"work\"\nguest = \"{}\"\naccess = \"rw\"\nrationale = \"output\"\n\
             [[tools.probe.fs]]\nhost = \"data\"\nguest = \"{}\"\naccess = \"ro\"\nrationale = \"input\"\n",
            guests[0],
            probe_dir().display(),
            guests[0],
            guests[1],
            guests[2]
        )
    };
    sb.manifest(&manifest(["/tmp/probe", "/tmp/work", "/dev/data"]));
    let (out, r) = run_probe(
        &sb,
        &[],
        &[
            "read",
            "/dev/data/file",
            "write",
            "/tmp/work/out",
            "write",
            "/tmp/scratch-file",
            "read",
            "/dev/null",
        ],
    );
    assert_eq!(out.code, 0, "{out:?} {r}");
    assert_eq!(
        out.stdout,
        "read /dev/data/file: ok\nwrite /tmp/work/out: ok\nwrite /tmp/scratch-file: ok\nread /dev/null: ok\n"
    );
    assert_eq!(
        std::fs::read_to_string(sb.path("work/out")).expect("out"),
        "pwned\n"
    );
    for (guests, refusal) in [
        (["/proc/probe", "/work", "/data"], "clashes with /proc"),
        (["/probe", "/usr/local/work", "/data"], "clashes with /usr"),
        (["/probe", "/work", "/dev/null"], "clashes with /dev/null"),
        (
            ["/probe", "/work", "/etc"],
            "clashes with /etc/alternatives",
        ),
        // `/` names a wasm preopen; a native tool cannot have it at all.
        (["/probe", "/work", "/"], "`/` is a preopen name"),
    ] {
        sb.manifest(&manifest(guests));
        let out = sb.run(&["check", "agentbox.toml"]);
        assert_ne!(out.code, 0, "{guests:?} accepted: {out:?}");
        assert!(out.stderr.contains(refusal), "{guests:?}: {}", out.stderr);
    }
}

/// Nothing the tool writes becomes a program (issue 13.6), and each layer that
/// claims it holds alone: with every layer, with the mounts alone (noexec) and
/// with Landlock alone (no EXECUTE on writable grants); programs of the system
/// directories and of the tool's own read-only grant still run.
#[test]
fn written_files_never_run_with_each_layer_alone() {
    let sb = Sandbox::new();
    native(&sb, "");
    let work = std::fs::canonicalize(sb.path("work"))
        .expect("work")
        .display()
        .to_string();
    // With every layer and with the mount namespace alone: sandbox paths.
    for disable in [&[][..], &["landlock", "seccomp"][..]] {
        let (out, _) = run_probe(
            &sb,
            disable,
            &[
                "plant",
                "/work/w",
                "exec",
                "/work/w",
                "plant",
                "/tmp/t",
                "exec",
                "/tmp/t",
                "exec",
                "/usr/bin/true",
                "exec",
                "/probe/probe",
            ],
        );
        assert_eq!(out.code, 0, "{disable:?}: {out:?}");
        assert_eq!(
            out.stdout,
            "plant /work/w: ok\nexec /work/w: error EACCES\nplant /tmp/t: ok\nexec /tmp/t: error EACCES\n\
             exec /usr/bin/true: ok\nexec /probe/probe: ok\n",
            "{disable:?}"
        );
    }
    // Landlock alone: the host's paths.
    sb.manifest(
        &std::fs::read_to_string(sb.path("agentbox.toml"))
            .expect("m")
            .replace(
                "exec = [\"/probe/probe\"]",
                &format!("exec = [\"{}/probe\"]", probe_dir().display()),
            ),
    );
    let planted = format!("{work}/l");
    let (out, _) = run_probe(
        &sb,
        &["namespaces", "seccomp"],
        &["plant", &planted, "exec", &planted, "exec", "/usr/bin/true"],
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        out.stdout,
        format!("plant {planted}: ok\nexec {planted}: error EACCES\nexec /usr/bin/true: ok\n")
    );
    sentinel_untouched(&sb);
}
