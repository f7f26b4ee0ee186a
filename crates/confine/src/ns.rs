//! Namespaces: user (1:1 map), then mount, pid, net, ipc, uts, cgroup; fork into
//! the new pid namespace.

use crate::Plan;
use nix::sched::{CloneFlags, unshare};
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{ForkResult, fork};
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
pub(crate) fn differing(supervisor: &[(String, u64)]) -> Vec<String> {
    let mine = current_ids();
    mine.iter()
        .filter(|(n, id)| supervisor.iter().any(|(sn, sid)| sn == n && sid != id))
        .map(|(n, _)| n.clone())
        .collect()
}

pub(crate) fn enter(plan: &Plan) -> Result<(), String> {
    unshare(CloneFlags::CLONE_NEWUSER).map_err(|e| format!("user namespace: {e} (on Ubuntu, AppArmor may restrict unprivileged user namespaces: see `agentbox doctor`)"))?;
    std::fs::write("/proc/self/setgroups", "deny").map_err(|e| format!("setgroups deny: {e}"))?;
    std::fs::write("/proc/self/uid_map", format!("{0} {0} 1\n", plan.uid))
        .map_err(|e| format!("uid_map: {e}"))?;
    std::fs::write("/proc/self/gid_map", format!("{0} {0} 1\n", plan.gid))
        .map_err(|e| format!("gid_map: {e}"))?;
    let flags = CloneFlags::CLONE_NEWNS
        | CloneFlags::CLONE_NEWPID
        | CloneFlags::CLONE_NEWNET
        | CloneFlags::CLONE_NEWIPC
        | CloneFlags::CLONE_NEWUTS
        | CloneFlags::CLONE_NEWCGROUP;
    unshare(flags).map_err(|e| format!("mount/pid/net/ipc/uts/cgroup namespaces: {e}"))?;
    // SAFETY: the process is single-threaded (confinement runs before any thread
    // is started), so the child may continue with arbitrary code after fork.
    match unsafe { fork() }.map_err(|e| format!("fork into the pid namespace: {e}"))? {
        ForkResult::Child => {
            // If the intermediate parent dies, so does the sandbox.
            nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL)
                .map_err(|e| format!("pdeathsig: {e}"))?;
            Ok(())
        }
        ForkResult::Parent { child } => {
            // The intermediate parent holds nothing: it drops the IPC socket and
            // relays the child's end.
            // SAFETY: closing our copy of the IPC socket; the child has its own.
            unsafe { libc::close(plan.keep_fd) };
            let code = loop {
                match waitpid(child, None) {
                    Ok(WaitStatus::Exited(_, c)) => break c,
                    Ok(WaitStatus::Signaled(_, sig, _)) => break 128 + sig as i32,
                    Ok(_) => continue,
                    Err(nix::errno::Errno::EINTR) => continue,
                    Err(_) => break 125,
                }
            };
            std::process::exit(code);
        }
    }
}
