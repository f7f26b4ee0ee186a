//! rlimits, capabilities, and reading back what the kernel enforces.

use crate::Plan;
use agentbox_ipc::ConfinementReport;
use caps::CapSet;
use nix::sys::resource::{Resource, setrlimit};

pub(crate) fn set_rlimits(plan: &Plan) -> Result<(), String> {
    setrlimit(Resource::RLIMIT_CORE, 0, 0).map_err(|e| format!("RLIMIT_CORE: {e}"))?;
    setrlimit(
        Resource::RLIMIT_NOFILE,
        plan.sandbox.max_fds,
        plan.sandbox.max_fds,
    )
    .map_err(|e| format!("RLIMIT_NOFILE: {e}"))?;
    if plan.cpu_seconds > 0 {
        let cpu = plan.cpu_seconds;
        setrlimit(Resource::RLIMIT_CPU, cpu + 1, cpu + 2)
            .map_err(|e| format!("RLIMIT_CPU: {e}"))?;
    }
    Ok(())
}

pub(crate) fn drop_capabilities() -> Result<(), String> {
    // Clearing the bounding set needs CAP_SETPCAP, which we hold inside our user
    // namespace (and as root). An unprivileged process outside any user namespace
    // (namespaces layer disabled) cannot clear it, and has nothing to lose: its
    // permitted set is empty, and no_new_privs stops exec from gaining any.
    let can_setpcap =
        caps::has_cap(None, CapSet::Effective, caps::Capability::CAP_SETPCAP).unwrap_or(false);
    let permitted_empty = caps::read(None, CapSet::Permitted)
        .map(|s| s.is_empty())
        .unwrap_or(false);
    if can_setpcap || !permitted_empty {
        for cap in caps::all() {
            caps::drop(None, CapSet::Bounding, cap)
                .map_err(|e| format!("bounding set ({cap}): {e}"))?;
        }
    }
    for set in [
        CapSet::Ambient,
        CapSet::Inheritable,
        CapSet::Effective,
        CapSet::Permitted,
    ] {
        caps::clear(None, set).map_err(|e| format!("clear {set:?}: {e}"))?;
    }
    Ok(())
}

fn mask(set: CapSet) -> u64 {
    caps::read(None, set)
        .map(|s| s.iter().fold(0u64, |m, c| m | (1u64 << c.index())))
        .unwrap_or(u64::MAX)
}

/// Fills the report from the kernel: seccomp mode, no_new_privs, capability sets,
/// open descriptors, our pid.
pub(crate) fn read_back(r: &mut ConfinementReport, max_fds: u64) {
    // SAFETY: PR_GET_SECCOMP takes no pointer arguments and returns the mode.
    let mode = unsafe { libc::prctl(libc::PR_GET_SECCOMP, 0, 0, 0, 0) };
    r.seccomp_mode = if mode < 0 { 0 } else { mode as u32 };
    r.no_new_privs = nix::sys::prctl::get_no_new_privs().unwrap_or(false);
    r.cap_eff = mask(CapSet::Effective);
    r.cap_prm = mask(CapSet::Permitted);
    r.cap_inh = mask(CapSet::Inheritable);
    r.cap_amb = mask(CapSet::Ambient);
    // The bounding set has no capget; probe it per capability.
    r.cap_bnd = caps::all()
        .iter()
        .filter(|c| caps::has_cap(None, CapSet::Bounding, **c).unwrap_or(true))
        .fold(0u64, |m, c| m | (1u64 << c.index()));
    r.open_fds = crate::fds::open_fds(i32::try_from(max_fds).unwrap_or(1024))
        .into_iter()
        .filter(|&f| f > 2)
        .collect();
    r.pid_in_namespace = std::process::id() as i32;
}
