//! `agentbox doctor`: what this host can enforce, what `run` would refuse, and how
//! to fix each gap.

use agentbox_confine::probe;
use agentbox_profiles::SandboxProfile;

pub fn doctor() -> i32 {
    let p = probe::probe();
    let mut refuse = Vec::new();
    let mut lines = Vec::new();
    let uid = nix::unistd::geteuid().as_raw();
    lines.push(format!(
        "agentbox doctor (uid {uid}, kernel {})",
        std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .unwrap_or_default()
            .trim()
    ));
    match &p.user_namespaces {
        Ok(()) => {
            lines.push("  ok      namespaces: user, mount, pid, net, ipc, uts, cgroup".into())
        }
        Err(e) => {
            lines.push(format!("  REFUSE  namespaces: {e}"));
            refuse.push("namespaces");
        }
    }
    for profile in ["wasm-worker", "native"] {
        let min = SandboxProfile::shipped(profile)
            .map(|s| s.min_landlock_abi)
            .unwrap_or(u32::MAX);
        if p.landlock_abi >= min {
            lines.push(format!(
                "  ok      landlock: ABI {} (profile {profile} needs {min}){}",
                p.landlock_abi,
                if p.landlock_abi >= 6 {
                    "; TCP rules and signal/abstract-socket scoping on"
                } else if p.landlock_abi >= 4 {
                    "; TCP rules on, no scoping (ABI < 6)"
                } else {
                    "; no TCP rules (ABI < 4): the net namespace still isolates"
                }
            ));
        } else if p.landlock_abi == 0 {
            lines.push(format!("  REFUSE  landlock (profile {profile}): not available; build the kernel with CONFIG_SECURITY_LANDLOCK=y and add `landlock` to the `lsm=` boot parameter"));
            refuse.push("landlock");
        } else {
            lines.push(format!("  REFUSE  landlock (profile {profile}): ABI {} < {min}; upgrade to Linux 6.2 or newer", p.landlock_abi));
            refuse.push("landlock");
        }
    }
    if p.seccomp {
        lines
            .push("  ok      seccomp: filter mode available (profiles wasm-worker, native)".into());
    } else {
        lines.push(
            "  REFUSE  seccomp: not available; build the kernel with CONFIG_SECCOMP_FILTER=y"
                .into(),
        );
        refuse.push("seccomp");
    }
    match &p.cgroup_writable {
        Ok(()) => lines.push(format!(
            "  ok      cgroup {}: parent `{}` usable (memory, pids, cpu)",
            p.cgroup_version.as_str(),
            agentbox_confine::cgroup::parent_name()
        )),
        Err(e) => {
            lines.push(format!(
                "  REFUSE  cgroup {}: {e}; {}",
                p.cgroup_version.as_str(),
                agentbox_confine::cgroup::fix_text(p.cgroup_version)
            ));
            refuse.push("cgroup");
        }
    }
    match std::env::current_exe().map(|e| agentbox_supervisor::worker_binary(&e)) {
        Ok(w) if w.is_file() => lines.push(format!("  ok      worker binary: {}", w.display())),
        Ok(w) => {
            lines.push(format!(
                "  REFUSE  worker binary: {} is missing; it is installed next to agentbox (build it with `cargo build --release -p agentbox-worker --features standalone --bin agentbox-worker`)",
                w.display()
            ));
            refuse.push("worker binary");
        }
        Err(e) => {
            lines.push(format!(
                "  REFUSE  worker binary: cannot find agentbox's own path: {e}"
            ));
            refuse.push("worker binary");
        }
    }
    println!("{}", lines.join("\n"));
    if refuse.is_empty() {
        println!("\nrun would enforce every layer on this host.");
        0
    } else {
        refuse.dedup();
        println!(
            "\nrun would refuse (status 125) until fixed: {}.\nRunning without a layer is possible only with --dangerously-disable-layer LAYER, recorded in the report and audit log.",
            refuse.join(", ")
        );
        125
    }
}
