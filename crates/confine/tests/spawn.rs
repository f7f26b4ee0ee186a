//! `spawn_worker` against the kernel: the child is cloned into new namespaces
//! (pid 1, its own net/user/mount/ipc/uts), with the supervisor's 1:1 id map,
//! only fds 0-3, an empty environment — and, on cgroup v2, born in its cgroup.

use agentbox_confine::{Namespaces, SpawnError, SpawnOptions, spawn_worker};
use std::io::Read;
use std::os::fd::AsFd;
use std::path::Path;

fn ids() -> Namespaces {
    Namespaces {
        uid: nix::unistd::geteuid().as_raw(),
        gid: nix::unistd::getegid().as_raw(),
    }
}

/// Runs `sh -c script` as a worker and returns what it wrote to stderr.
fn run_sh(script: &str, namespaces: Option<Namespaces>, cgroup: Option<&std::fs::File>) -> String {
    let spawning = spawn_worker(&SpawnOptions {
        exe: Path::new("/bin/sh"),
        args: &["-c", &format!("exec 1>&2; {script}")],
        namespaces,
        cgroup_dir: cgroup.map(|f| f.as_fd()),
    })
    .expect("spawn");
    let (mut child, _ch) = spawning.finish().expect("exec");
    let mut out = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut out)
        .expect("read");
    let status = child.wait().expect("wait");
    assert!(status.success(), "{status:?}: {out}");
    out
}

fn ns_id(kind: &str) -> String {
    std::fs::read_link(format!("/proc/self/ns/{kind}"))
        .expect("ns")
        .display()
        .to_string()
}

#[test]
fn the_worker_is_pid_1_of_new_namespaces_with_a_one_to_one_map() {
    let out = run_sh(
        "echo pid=$$; for n in pid net user mnt ipc uts; do echo $n=$(readlink /proc/self/ns/$n); done; \
         echo uid_map=$(cat /proc/self/uid_map); echo gid_map=$(cat /proc/self/gid_map); \
         echo setgroups=$(cat /proc/self/setgroups); echo env=$(env | wc -l);",
        Some(ids()),
        None,
    );
    let get = |k: &str| {
        out.lines()
            .find_map(|l| l.strip_prefix(&format!("{k}=")))
            .unwrap_or_else(|| panic!("{k} missing in {out}"))
            .trim()
            .to_string()
    };
    assert_eq!(get("pid"), "1", "{out}");
    for kind in ["pid", "net", "user", "mnt", "ipc", "uts"] {
        assert_ne!(get(kind), ns_id(kind), "{kind} namespace shared: {out}");
    }
    let me = ids();
    let words = |s: String| s.split_whitespace().map(str::to_string).collect::<Vec<_>>();
    assert_eq!(
        words(get("uid_map")),
        [me.uid, me.uid, 1].map(|v| v.to_string())
    );
    assert_eq!(
        words(get("gid_map")),
        [me.gid, me.gid, 1].map(|v| v.to_string())
    );
    assert_eq!(get("setgroups"), "deny");
    // The worker gets an empty environment (sh may export PWD itself).
    assert!(get("env").parse::<u32>().expect("count") <= 2, "{out}");
}

#[test]
fn the_worker_holds_only_stdio_and_its_socket() {
    let spawning = spawn_worker(&SpawnOptions {
        exe: Path::new("/bin/sleep"),
        args: &["10"],
        namespaces: Some(ids()),
        cgroup_dir: None,
    })
    .expect("spawn");
    let (mut child, _ch) = spawning.finish().expect("exec");
    // Right after exec the dynamic loader of the program briefly holds its
    // libraries open: look until it has settled (what was inherited stays).
    let list = || {
        let mut fds: Vec<u32> = std::fs::read_dir(format!("/proc/{}/fd", child.id()))
            .expect("fd dir")
            .map(|e| {
                e.expect("entry")
                    .file_name()
                    .to_string_lossy()
                    .parse()
                    .expect("fd")
            })
            .collect();
        fds.sort_unstable();
        fds
    };
    let mut fds = list();
    for _ in 0..100 {
        if fds == [0, 1, 2, 3] {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
        fds = list();
    }
    let target = |fd: u32| {
        std::fs::read_link(format!("/proc/{}/fd/{fd}", child.id()))
            .map(|p| p.display().to_string())
            .unwrap_or_default()
    };
    let (stdin, stdout, sock) = (target(0), target(1), target(3));
    child.kill().expect("kill");
    child.wait().expect("wait");
    assert_eq!(fds, [0, 1, 2, 3]);
    assert_eq!(
        (stdin.as_str(), stdout.as_str()),
        ("/dev/null", "/dev/null")
    );
    assert!(sock.starts_with("socket:"), "{sock}");
}

#[test]
fn without_namespaces_the_worker_shares_the_supervisors() {
    let out = run_sh("readlink /proc/self/ns/net", None, None);
    assert_eq!(out.trim(), ns_id("net"));
}

#[test]
fn a_missing_executable_is_a_clear_exec_error() {
    // The executable is opened (by descriptor, O_PATH) before the clone: a
    // missing one fails there, with the same error as a failed exec.
    let err = spawn_worker(&SpawnOptions {
        exe: Path::new("/nonexistent/agentbox"),
        args: &[],
        namespaces: Some(ids()),
        cgroup_dir: None,
    })
    .and_then(|s| s.finish().map(|_| ()))
    .expect_err("must fail");
    match err {
        SpawnError::Exec { source, .. } => {
            assert_eq!(source.raw_os_error(), Some(nix::libc::ENOENT), "{source}")
        }
        other => panic!("unexpected {other}"),
    }
}

/// A cgroup v2 hierarchy this process may create cgroups in: the unified mount
/// (pure v2 hosts, or the controller-less v2 mount of a hybrid host like this
/// one). CLONE_INTO_CGROUP needs no controller.
fn v2_root() -> Option<&'static str> {
    ["/sys/fs/cgroup", "/sys/fs/cgroup/unified"]
        .into_iter()
        .find(|p| {
            nix::sys::statfs::statfs(*p)
                .map(|s| s.filesystem_type() == nix::sys::statfs::CGROUP2_SUPER_MAGIC)
                .unwrap_or(false)
        })
}

#[test]
fn on_cgroup_v2_the_worker_is_born_in_its_cgroup() {
    let Some(root) = v2_root() else {
        eprintln!("skipped: no cgroup v2 hierarchy on this host");
        return;
    };
    let name = format!("agentbox-spawn-test-{}", std::process::id());
    let dir = Path::new(root).join(&name);
    if let Err(e) = std::fs::create_dir(&dir) {
        eprintln!(
            "skipped: cannot create {} ({e}): not delegated to this user",
            dir.display()
        );
        return;
    }
    let f = std::fs::File::open(&dir).expect("open cgroup");
    let out = run_sh("cat /proc/self/cgroup", Some(ids()), Some(&f));
    let _ = std::fs::remove_dir(&dir);
    // Read through the host's /proc from the supervisor's cgroup namespace.
    assert!(
        out.lines()
            .any(|l| l.starts_with("0::") && l.ends_with(&format!("/{name}"))),
        "{out}"
    );
}
