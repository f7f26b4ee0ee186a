//! Host capability probes (for `agentbox doctor` and fail-closed checks).

use crate::cgroup::{Version, parent_name};

/// What this host can enforce.
#[derive(Debug, Clone)]
pub struct HostProbe {
    pub landlock_abi: u32,
    pub user_namespaces: Result<(), String>,
    pub seccomp: bool,
    pub cgroup_version: Version,
    pub cgroup_writable: Result<(), String>,
}

/// Tries to create a user namespace in a throwaway child.
fn probe_userns() -> Result<(), String> {
    let max = std::fs::read_to_string("/proc/sys/user/max_user_namespaces").unwrap_or_default();
    if max.trim() == "0" {
        return Err("user.max_user_namespaces is 0: set it above 0 with sysctl".into());
    }
    let apparmor =
        std::fs::read_to_string("/proc/sys/kernel/apparmor_restrict_unprivileged_userns")
            .unwrap_or_default();
    let out = std::process::Command::new("/proc/self/exe")
        .arg("__probe-userns")
        .env_clear()
        .output();
    match out {
        Ok(o) if o.status.success() => Ok(()),
        Ok(o) => {
            let msg = String::from_utf8_lossy(&o.stderr).trim().to_string();
            if apparmor.trim() == "1" {
                Err(format!(
                    "{msg}; Ubuntu's AppArmor restricts unprivileged user namespaces: allow agentbox with an AppArmor profile granting `userns`, or set kernel.apparmor_restrict_unprivileged_userns=0"
                ))
            } else {
                Err(msg)
            }
        }
        Err(e) => Err(e.to_string()),
    }
}

/// The body of `__probe-userns` (run in a child process).
pub fn userns_child() -> Result<(), String> {
    // Read before unsharing: inside an unmapped user namespace the uid is 65534.
    let uid = nix::unistd::geteuid().as_raw();
    nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWUSER)
        .map_err(|e| format!("cannot create a user namespace: {e}"))?;
    std::fs::write("/proc/self/setgroups", "deny").map_err(|e| e.to_string())?;
    std::fs::write("/proc/self/uid_map", format!("{uid} {uid} 1\n"))
        .map_err(|e| format!("cannot map uid: {e}"))?;
    nix::sched::unshare(
        nix::sched::CloneFlags::CLONE_NEWNS
            | nix::sched::CloneFlags::CLONE_NEWNET
            | nix::sched::CloneFlags::CLONE_NEWPID,
    )
    .map_err(|e| format!("cannot create mount/net/pid namespaces inside it: {e}"))
}

fn probe_cgroup(v: Version) -> Result<(), String> {
    let parent = parent_name();
    if !crate::cgroup::parent_valid(&parent) {
        return Err(format!("`{parent}` is not a usable cgroup parent"));
    }
    let dirs: Vec<String> = match v {
        Version::V1 => ["memory", "pids", "cpu"]
            .iter()
            .map(|c| format!("/sys/fs/cgroup/{c}/{parent}"))
            .collect(),
        Version::V2 => vec![format!("/sys/fs/cgroup/{parent}")],
    };
    for d in &dirs {
        let p = std::path::Path::new(d);
        if !p.exists() {
            // Creatable if the controller root is writable (root) .
            let root = p.parent().map(|x| x.to_path_buf()).unwrap_or_default();
            if nix::unistd::access(&root, nix::unistd::AccessFlags::W_OK).is_err() {
                return Err(format!(
                    "{d} does not exist and {} is not writable",
                    root.display()
                ));
            }
        } else if nix::unistd::access(p, nix::unistd::AccessFlags::W_OK).is_err() {
            return Err(format!("{d} is not writable by you"));
        }
    }
    if v == Version::V2 {
        probe_v2_delegation(&parent)?;
    }
    Ok(())
}

/// Pure cgroup v2: the parent must offer memory, pids and cpu to its children,
/// and this process may move workers into them only if it can write
/// `cgroup.procs` of the closest cgroup holding both it and the parent (the
/// kernel's delegation rule): a user must start agentbox inside the subtree
/// delegated to it.
fn probe_v2_delegation(parent: &str) -> Result<(), String> {
    let root = std::path::Path::new("/sys/fs/cgroup");
    let dir = root.join(parent);
    let wanted = ["memory", "pids", "cpu"];
    let lacking = |file: &str| -> Vec<&str> {
        let have = std::fs::read_to_string(dir.join(file)).unwrap_or_default();
        wanted
            .into_iter()
            .filter(|c| !have.split_whitespace().any(|o| o == *c))
            .collect()
    };
    let plus = |cs: &[&str]| {
        cs.iter()
            .map(|c| format!("+{c}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    if dir.exists() {
        let missing = lacking("cgroup.controllers");
        if !missing.is_empty() {
            return Err(format!(
                "{} is not offered {} (as root, write `{}` to the cgroup.subtree_control of its parent)",
                dir.display(),
                missing.join(", "),
                plus(&missing)
            ));
        }
        // Offered but not enabled for its children: agentbox enables them only
        // if it may write the file.
        let missing = lacking("cgroup.subtree_control");
        let control = dir.join("cgroup.subtree_control");
        if !missing.is_empty()
            && nix::unistd::access(&control, nix::unistd::AccessFlags::W_OK).is_err()
        {
            return Err(format!(
                "{} does not enable {} for its children and is not writable by you",
                control.display(),
                missing.join(", ")
            ));
        }
    }
    let own = std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
    let Some(own) = own.lines().find_map(|l| l.strip_prefix("0::")) else {
        return Ok(());
    };
    let own: Vec<&str> = own.split('/').filter(|c| !c.is_empty()).collect();
    if own.contains(&"..") {
        // Outside this cgroup namespace's root: nothing to check from here.
        return Ok(());
    }
    let target: Vec<&str> = parent.split('/').filter(|c| !c.is_empty()).collect();
    let common = own.iter().zip(&target).take_while(|(a, b)| a == b).count();
    // cgroup v2 allows no process in a cgroup whose children have controllers
    // (the root excepted): a supervisor in the parent, or above it, cannot have
    // workers below.
    if !own.is_empty() && common == own.len() {
        return Err(format!(
            "this process is in cgroup /{}, which is /{parent} or above it: v2 lets no process sit in a cgroup whose children get controllers",
            own.join("/")
        ));
    }
    let procs = root.join(own[..common].join("/")).join("cgroup.procs");
    if nix::unistd::access(&procs, nix::unistd::AccessFlags::W_OK).is_err() {
        let place = if common == target.len() {
            format!("inside /{parent}")
        } else {
            format!("outside /{parent}")
        };
        return Err(format!(
            "this process is in cgroup /{}, {place}, and cannot write {} (the kernel moves workers only within a subtree delegated to their supervisor)",
            own.join("/"),
            procs.display()
        ));
    }
    Ok(())
}

pub fn probe() -> HostProbe {
    let v = Version::detect();
    HostProbe {
        landlock_abi: crate::kernel_landlock_abi(),
        user_namespaces: probe_userns(),
        // SAFETY: PR_GET_SECCOMP takes no pointers.
        seccomp: unsafe { libc::prctl(libc::PR_GET_SECCOMP, 0, 0, 0, 0) } >= 0,
        cgroup_version: v,
        cgroup_writable: probe_cgroup(v),
    }
}
