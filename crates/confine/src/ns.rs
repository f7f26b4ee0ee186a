//! Namespaces: the worker is cloned by the supervisor into new user (1:1 map),
//! mount, pid, net, ipc and uts namespaces; here it checks them and enters its
//! cgroup namespace.

use crate::Plan;
use nix::sched::{CloneFlags, unshare};
use std::os::unix::fs::MetadataExt;

/// The namespace kinds compared in the report: (name in reports, /proc/self/ns entry).
pub const KINDS: &[(&str, &str)] = &[
    ("user", "user"),
    ("mount", "mnt"),
    ("pid", "pid"),
    ("net", "net"),
    ("ipc", "ipc"),
    ("uts", "uts"),
    ("cgroup", "cgroup"),
];

/// This process's namespace ids.
pub fn current_ids() -> Vec<(String, u64)> {
    KINDS
        .iter()
        .filter_map(|(name, entry)| {
            std::fs::metadata(format!("/proc/self/ns/{entry}"))
                .ok()
                .map(|m| (name.to_string(), m.ino()))
        })
        .collect()
}

/// Names of namespaces whose id differs from the supervisor's.
fn differing(mine: &[(String, u64)], supervisor: &[(String, u64)]) -> Vec<String> {
    mine.iter()
        .filter(|(n, id)| supervisor.iter().any(|(sn, sid)| sn == n && sid != id))
        .map(|(n, _)| n.clone())
        .collect()
}

/// The namespaces the supervisor's clone created (the worker is pid 1 of its pid
/// namespace, with no intermediate process), checked rather than trusted: any that
/// still equals the supervisor's is a setup failure. Then the cgroup namespace, now
/// that the supervisor has put the worker in its cgroup (so that it becomes the
/// namespace's root and the worker cannot name the supervisor's cgroups).
/// Returns the namespaces that differ from the supervisor's, read back after.
pub(crate) fn enter(plan: &Plan) -> Result<Vec<String>, String> {
    let mut mine = current_ids();
    let shared: Vec<&str> = CLONED
        .iter()
        .copied()
        .filter(|kind| {
            let id = |ids: &[(String, u64)]| ids.iter().find(|(n, _)| n == kind).map(|(_, i)| *i);
            match (id(&mine), id(&plan.supervisor_ns)) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            }
        })
        .collect();
    if !shared.is_empty() {
        return Err(format!(
            "the worker still shares the {} namespace(s) with the supervisor",
            shared.join(", ")
        ));
    }
    if nix::unistd::getpid().as_raw() != 1 {
        return Err("the worker is not pid 1 of a new pid namespace".into());
    }
    unshare(CloneFlags::CLONE_NEWCGROUP).map_err(|e| format!("cgroup namespace: {e}"))?;
    // Only the cgroup namespace changed since `mine` was read.
    mine.retain(|(n, _)| n != "cgroup");
    if let Ok(m) = std::fs::metadata("/proc/self/ns/cgroup") {
        mine.push(("cgroup".into(), m.ino()));
    }
    forbid_nested_namespaces()?;
    Ok(differing(&mine, &plan.supervisor_ns))
}

/// A second layer under seccomp's ban on namespace creation (breakout NS-03): the
/// worker's own user namespace may hold no nested namespace of any kind. The
/// `user.max_*_namespaces` limits are per user namespace, so this changes nothing
/// outside the worker; it needs the capabilities the worker still holds here.
fn forbid_nested_namespaces() -> Result<(), String> {
    use nix::fcntl::{OFlag, openat};
    use nix::sys::stat::Mode;
    let dir = "/proc/sys/user";
    let fail =
        |what: String, e: nix::Error| format!("cannot forbid nested namespaces ({what}): {e}");
    let d = nix::fcntl::open(
        dir,
        OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| fail(dir.into(), e))?;
    for kind in ["user", "mnt", "pid", "net", "ipc", "uts", "cgroup", "time"] {
        let name = format!("max_{kind}_namespaces");
        let f = match openat(
            &d,
            name.as_str(),
            OFlag::O_WRONLY | OFlag::O_CLOEXEC,
            Mode::empty(),
        ) {
            Ok(f) => f,
            // A kernel without this kind of namespace has no limit to set.
            Err(nix::Error::ENOENT) => continue,
            Err(e) => return Err(fail(format!("{dir}/{name}"), e)),
        };
        match nix::unistd::write(&f, b"0") {
            Ok(1) => {}
            Ok(n) => {
                return Err(format!(
                    "cannot forbid nested namespaces ({dir}/{name}): short write ({n})"
                ));
            }
            Err(e) => return Err(fail(format!("{dir}/{name}"), e)),
        }
    }
    Ok(())
}

/// Namespaces created by the supervisor's clone (see [`crate::spawn_worker`]).
const CLONED: &[&str] = &["user", "mount", "pid", "net", "ipc", "uts"];

/// `vm.memfd_noexec = 2` for the worker's own pid namespace (Linux 6.3+; the
/// kernel applies the write to the writer's pid namespace and its children, never
/// to the host's): no memfd created in the sandbox can ever be executed. Writing
/// /proc/sys needs the host's root uid, so an unprivileged supervisor cannot; the
/// native seccomp profile (memfd_create only with MFD_NOEXEC_SEAL) holds either
/// way, so this is a second layer where it is available, not a requirement.
/// Returns whether the kernel now enforces it.
pub(crate) fn memfd_noexec() -> bool {
    const KNOB: &str = "/proc/sys/vm/memfd_noexec";
    let _ = std::fs::write(KNOB, "2");
    std::fs::read_to_string(KNOB).is_ok_and(|v| v.trim() == "2")
}
