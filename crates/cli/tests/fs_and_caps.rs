//! WASI capability tests through the real binary (catalog FS and CAP cases that
//! target WASI): deny by default, ro vs rw, escapes by `..`, absolute paths,
//! symlinks (absolute, relative, trailing slashes, chains, loops), hard links and
//! renames; the host environment, argv and stdio stay invisible. Every attack
//! asserts the refusal *and* that the canary (sentinel file) is untouched.

mod common;
use common::*;
use std::os::unix::fs::symlink;
use std::path::Path;

const SENTINEL: &str = "canary: host data outside every grant\n";

struct Fs {
    sb: Sandbox,
}

/// Layout: <tmp>/sentinel (outside the grants), <tmp>/ro (granted ro, holds f),
/// <tmp>/rw (granted rw), <tmp>/rw-outside/secret (next to rw, not granted).
fn setup(with_grants: bool) -> Fs {
    let sb = Sandbox::new();
    sb.write("sentinel", SENTINEL);
    sb.write("ro/f", "read-only data\n");
    sb.write("rw/.keep", "");
    sb.write("rw-outside/secret", SENTINEL);
    let wasm = fixture("cmd_probe");
    let grants = if with_grants {
        "[[tools.p.fs]]\nhost = \"ro\"\nguest = \"/ro\"\naccess = \"ro\"\nrationale = \"inputs\"\n\
         [[tools.p.fs]]\nhost = \"rw\"\nguest = \"/rw\"\naccess = \"rw\"\nrationale = \"outputs\"\n"
    } else {
        ""
    };
    sb.manifest(&format!(
        "version = 1\n[tools.p]\nkind = \"command\"\ncomponent = \"{}\"\nrationale = \"probe\"\n{grants}[tools.p.env]\nGREETING = \"hi\"\n",
        wasm.display()
    ));
    Fs { sb }
}

impl Fs {
    fn probe(&self, ops: &[&str]) -> Vec<String> {
        let mut args = vec!["run", "agentbox.toml", "--"];
        args.extend_from_slice(ops);
        let out = self.sb.run(&args);
        assert_eq!(out.code, 0, "{out:?}");
        out.stdout.lines().map(str::to_string).collect()
    }

    fn canaries_untouched(&self) {
        let p = self.sb.path("sentinel");
        assert_eq!(std::fs::read_to_string(&p).expect("sentinel"), SENTINEL);
        assert_eq!(
            std::fs::read_to_string(self.sb.path("rw-outside/secret")).expect("secret"),
            SENTINEL
        );
        assert_eq!(
            std::fs::read_to_string(self.sb.path("ro/f")).expect("ro/f"),
            "read-only data\n"
        );
        let names: Vec<_> = std::fs::read_dir(self.sb.dir.path())
            .expect("ls")
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        for n in &names {
            assert!(
                [
                    "sentinel",
                    "ro",
                    "rw",
                    "rw-outside",
                    "agentbox.toml",
                    "cache",
                    "report.json"
                ]
                .contains(&n.as_str()),
                "unexpected host file {n}"
            );
        }
    }
}

fn refused(line: &str) -> bool {
    line.contains(": error ")
}

#[test]
fn no_grant_no_files() {
    let fs = setup(false);
    let lines = fs.probe(&[
        "ls",
        "/",
        "read",
        "/sentinel",
        "read",
        "sentinel",
        "write",
        "/x",
        "write",
        "x",
        "ls",
        ".",
    ]);
    assert_eq!(lines.len(), 6);
    for l in &lines {
        assert!(refused(l), "{l}");
    }
    fs.canaries_untouched();
}

#[test]
fn read_only_grant_reads_but_never_writes() {
    let fs = setup(true);
    let lines = fs.probe(&[
        "read",
        "/ro/f",
        "write",
        "/ro/new",
        "append",
        "/ro/f",
        "trunc-open",
        "/ro/f",
        "truncate",
        "/ro/f",
        "mkdir",
        "/ro/d",
        "unlink",
        "/ro/f",
        "rename",
        "/ro/f",
        "/ro/g",
        "symlink",
        "f",
        "/ro/l",
        "utimes",
        "/ro/f",
        "link",
        "/ro/f",
        "/ro/h",
    ]);
    assert_eq!(lines[0], "read /ro/f: ok read-only data\\x0a");
    for l in &lines[1..] {
        assert!(refused(l), "{l}");
    }
    let meta_before = std::fs::metadata(fs.sb.path("ro/f")).expect("meta");
    assert_eq!(meta_before.len(), 15, "length unchanged (FS-07)");
    assert_eq!(
        std::fs::read_dir(fs.sb.path("ro")).expect("ls").count(),
        1,
        "nothing created in ro"
    );
    fs.canaries_untouched();
}

#[test]
fn read_write_grant_writes_inside_only() {
    let fs = setup(true);
    let lines = fs.probe(&[
        "write",
        "/rw/out",
        "read",
        "/rw/out",
        "mkdir",
        "/rw/d",
        "rename",
        "/rw/out",
        "/rw/d/out2",
        "ls",
        "/rw/d",
    ]);
    assert_eq!(
        lines,
        [
            "write /rw/out: ok",
            "read /rw/out: ok pwned\\x0a",
            "mkdir /rw/d: ok",
            "rename /rw/out: ok",
            "ls /rw/d: ok out2",
        ]
    );
    assert_eq!(
        std::fs::read_to_string(fs.sb.path("rw/d/out2")).expect("written"),
        "pwned\n"
    );
    fs.canaries_untouched();
}

#[test]
fn dot_dot_and_absolute_escapes_fail() {
    let fs = setup(true);
    let attacks = [
        "/ro/../sentinel",
        "/rw/../sentinel",
        "/rw/../../sentinel",
        "/rw/./../sentinel",
        "/rw/a/../../sentinel",
        "/rw/../rw-outside/secret",
        "/sentinel",
        "/etc/passwd",
        "/proc/self/environ",
        "../sentinel",
        "sentinel",
        "/rw/../../../../../../etc/passwd",
        "",
        "/rw//../sentinel",
        "/rw/.//..//sentinel",
    ];
    let mut ops = Vec::new();
    for a in &attacks {
        ops.push("read");
        ops.push(*a);
    }
    for a in &attacks {
        ops.push("write");
        ops.push(*a);
    }
    let lines = fs.probe(&ops);
    assert_eq!(lines.len(), attacks.len() * 2);
    for l in &lines {
        assert!(refused(l), "escape not refused: {l}");
    }
    fs.canaries_untouched();
}

#[test]
fn guest_made_symlinks_cannot_escape() {
    let fs = setup(true);
    let lines = fs.probe(&[
        "symlink",
        "/etc/passwd",
        "/rw/abs", // FS-04: absolute target refused at creation
        "symlink",
        "../sentinel",
        "/rw/rel", // FS-03: may be created...
        "read",
        "/rw/rel", // ...but never followed out
        "write",
        "/rw/rel",
        "symlink",
        "../../../../etc",
        "/rw/up",
        "read",
        "/rw/up/passwd",
        "symlink",
        "../rw-outside/",
        "/rw/trail", // trailing slash forms (GHSA-vqjp-4c8c-hfgg)
        "read",
        "/rw/trail/secret",
        "read",
        "/rw/trail/",
        "ls",
        "/rw/trail/",
        "read",
        "/rw/rel/",
    ]);
    assert!(refused(&lines[0]), "{}", lines[0]);
    for (i, l) in lines.iter().enumerate() {
        if i == 1 || i == 4 || i == 6 {
            continue; // creation of relative links inside the root is allowed
        }
        assert!(refused(l), "{l}");
    }
    // The link the guest planted must not make the host follow it either.
    fs.canaries_untouched();
}

#[test]
fn planted_symlinks_chains_and_loops_are_refused() {
    let fs = setup(true);
    let rw = fs.sb.path("rw");
    symlink("/etc/passwd", rw.join("abs")).expect("symlink");
    symlink(fs.sb.path("sentinel"), rw.join("abs-sentinel")).expect("symlink");
    symlink("../sentinel", rw.join("rel")).expect("symlink");
    symlink("..", rw.join("dotdot")).expect("symlink");
    symlink("loop-b", rw.join("loop-a")).expect("symlink");
    symlink("loop-a", rw.join("loop-b")).expect("symlink");
    // A chain of 45 links ending outside.
    symlink("../sentinel", rw.join("chain0")).expect("symlink");
    for i in 1..45 {
        symlink(format!("chain{}", i - 1), rw.join(format!("chain{i}"))).expect("symlink");
    }
    let lines = fs.probe(&[
        "read",
        "/rw/abs",
        "read",
        "/rw/abs-sentinel",
        "read",
        "/rw/rel",
        "read",
        "/rw/dotdot/sentinel",
        "read",
        "/rw/loop-a",
        "read",
        "/rw/chain44",
        "write",
        "/rw/abs-sentinel",
        "write",
        "/rw/rel",
        "ls",
        "/rw/dotdot",
        "stat",
        "/rw/dotdot/sentinel",
        "rename",
        "/rw/abs-sentinel",
        "/rw/moved",
    ]);
    for l in &lines[..10] {
        assert!(refused(l), "{l}");
    }
    // Renaming the link itself (not its target) inside rw is fine; the target stays.
    assert_eq!(lines[10], "rename /rw/abs-sentinel: ok");
    fs.canaries_untouched();
}

#[test]
fn hard_links_and_renames_cannot_cross_the_root() {
    let fs = setup(true);
    let lines = fs.probe(&[
        "link",
        "/rw/../sentinel",
        "/rw/hl",
        "link",
        "/ro/f",
        "/rw/hl2", // across preopens
        "rename",
        "/ro/f",
        "/rw/stolen", // out of a read-only grant
        "write",
        "/rw/x",
        "rename",
        "/rw/x",
        "/rw/../escaped",
        "rename",
        "/rw/x",
        "/ro/x",
        "link",
        "/rw/x",
        "/rw/../hl3",
    ]);
    for (i, l) in lines.iter().enumerate() {
        if i == 3 {
            assert_eq!(l, "write /rw/x: ok");
            continue;
        }
        assert!(refused(l), "{l}");
    }
    assert!(!fs.sb.path("escaped").exists());
    assert!(!fs.sb.path("hl3").exists());
    fs.canaries_untouched();
}

#[test]
fn special_files_do_not_hang_or_leak() {
    let fs = setup(true);
    let fifo = fs.sb.path("rw/fifo");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).expect("mkfifo");
    symlink("/dev/zero", fs.sb.path("rw/zero")).expect("symlink");
    fs.sb.manifest(
        &std::fs::read_to_string(fs.sb.path("agentbox.toml"))
            .expect("m")
            .replace(
                "[tools.p.env]",
                "[tools.p.limits]\ntimeout = \"1s\"\n[tools.p.env]",
            ),
    );
    let out = fs.sb.run(&[
        "run",
        "agentbox.toml",
        "--",
        "read",
        "/rw/zero",
        "read",
        "/rw/fifo",
    ]);
    // The link to /dev/zero is refused; the FIFO blocks until the wall clock ends it.
    assert!(out.stdout.starts_with("read /rw/zero: error"), "{out:?}");
    assert!(
        out.code == 124 || out.stdout.contains("read /rw/fifo: error"),
        "{out:?}"
    );
    fs.canaries_untouched();
}

#[test]
fn host_environment_args_and_cwd_are_invisible() {
    let fs = setup(true);
    let out = fs
        .sb
        .cmd()
        .env("AGENTBOX_CANARY_TOKEN", "sk-live-canary-123")
        .env("HTTPS_PROXY", "http://user:pass@proxy:8080")
        .args(["run", "agentbox.toml", "--", "env", "args", "cwd"])
        .output()
        .expect("run");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[0], "env: ok GREETING=hi", "only manifest env");
    assert_eq!(lines[1], "args: ok argc=4 [p] [env] [args] [cwd]");
    assert!(!stdout.contains("canary") && !stdout.contains("proxy") && !stdout.contains("HOME"));
    fs.canaries_untouched();
}

#[test]
fn stdin_is_passed_through_to_commands_and_empty_otherwise() {
    let fs = setup(true);
    let out = fs.sb.run_stdin(
        &["run", "agentbox.toml", "--", "stdin"],
        Some(b"twelve bytes"),
    );
    assert_eq!(out.stdout, "stdin: ok bytes=12\n");
    let out = fs.sb.run(&["run", "agentbox.toml", "--", "stdin"]);
    assert_eq!(out.stdout, "stdin: ok bytes=0\n");
}

#[test]
fn manifest_symlinked_grant_resolves_once_at_load() {
    // `host` that is a symlink is resolved when the manifest loads; the guest sees
    // the target directory, and the grant cannot be redirected by the link later.
    let fs = setup(false);
    symlink(fs.sb.path("ro"), fs.sb.path("link-to-ro")).expect("symlink");
    let wasm = fixture("cmd_probe");
    fs.sb.manifest(&format!(
        "version = 1\n[tools.p]\nkind = \"command\"\ncomponent = \"{}\"\nrationale = \"x\"\n[[tools.p.fs]]\nhost = \"link-to-ro\"\nguest = \"/in\"\naccess = \"ro\"\nrationale = \"r\"\n",
        wasm.display()
    ));
    let out = fs.sb.run(&["check", "agentbox.toml"]);
    assert!(
        out.stdout.contains(&format!(
            "{} -> /in",
            std::fs::canonicalize(fs.sb.path("ro"))
                .expect("c")
                .display()
        )),
        "{}",
        out.stdout
    );
    let lines = fs.probe(&["read", "/in/f"]);
    assert_eq!(lines[0], "read /in/f: ok read-only data\\x0a");
    assert!(Path::new(&fs.sb.path("link-to-ro")).exists());
}
