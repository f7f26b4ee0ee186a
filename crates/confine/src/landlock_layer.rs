//! Landlock: every filesystem right of the running ABI handled, only the grants
//! allowed; TCP bind/connect handled with no rule (denied); abstract unix sockets
//! and signals scoped.

use crate::Plan;
use agentbox_ipc::{LandlockStatus, Layer};
use landlock::{
    ABI, Access, AccessFs, AccessNet, BitFlags, CompatLevel, Compatible, Ruleset, RulesetAttr,
    RulesetCreatedAttr, RulesetStatus, Scope, path_beneath_rules,
};

/// The newest ABI this build knows how to use.
const TARGET: ABI = ABI::V7;

/// The running kernel's Landlock ABI (0 when Landlock is missing or disabled).
pub fn kernel_landlock_abi() -> u32 {
    // SAFETY: landlock_create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION) only
    // returns the ABI version; it reads and writes no memory.
    let v = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<u8>(),
            0usize,
            1u32,
        )
    };
    if v < 0 { 0 } else { v as u32 }
}

pub(crate) fn restrict(plan: &Plan) -> Result<(u32, LandlockStatus), String> {
    // The breakout suite (LL-14) plays an old kernel: ABI 2, below every profile.
    let kernel = if plan.fault.as_deref() == Some("landlock-abi") {
        2
    } else {
        kernel_landlock_abi()
    };
    let min = plan.sandbox.min_landlock_abi;
    if kernel < min {
        return Err(if kernel == 0 {
            "Landlock is not available in this kernel: enable CONFIG_SECURITY_LANDLOCK and add `landlock` to the `lsm=` boot parameter".to_string()
        } else {
            format!(
                "this kernel has Landlock ABI {kernel}; profile `{}` needs ABI {min} or newer (Linux 6.2+)",
                plan.profile_name
            )
        });
    }
    let abi = TARGET;
    let e = |x: landlock::RulesetError| x.to_string();
    // Best effort above the profile's minimum: rights the kernel lacks are reported
    // through the ABI number, never silently claimed.
    // Execution only from read-only grants nothing writable reaches
    // (`Plan::grant_exec`); rw grants and scratch never get EXECUTE.
    let ro_exec: BitFlags<AccessFs> = AccessFs::from_read(abi);
    let ro_noexec: BitFlags<AccessFs> = AccessFs::ReadFile | AccessFs::ReadDir;
    let rw_rights: BitFlags<AccessFs> = AccessFs::from_all(abi) & !AccessFs::Execute;
    let mut ruleset = Ruleset::default()
        .set_compatibility(CompatLevel::BestEffort)
        .handle_access(AccessFs::from_all(abi))
        .map_err(e)?
        .handle_access(AccessNet::from_all(abi))
        .map_err(e)?
        .scope(Scope::from_all(abi))
        .map_err(e)?
        .create()
        .map_err(e)?;
    // Rules name the paths as this process sees them: the sandbox's paths after
    // pivot_root, the host's when the namespaces layer is disabled.
    let seen = |g: &crate::Grant| -> std::path::PathBuf {
        if plan.on(Layer::Namespaces) {
            std::path::PathBuf::from(&g.guest)
        } else {
            g.host.clone()
        }
    };
    let pick = |writable: bool, exec: bool| -> Vec<std::path::PathBuf> {
        plan.grants
            .iter()
            .filter(|g| g.writable == writable && plan.grant_exec(g) == exec)
            .map(seen)
            .collect()
    };
    ruleset = ruleset
        .add_rules(path_beneath_rules(pick(false, true), ro_exec))
        .map_err(e)?;
    ruleset = ruleset
        .add_rules(path_beneath_rules(pick(false, false), ro_noexec))
        .map_err(e)?;
    ruleset = ruleset
        .add_rules(path_beneath_rules(pick(true, false), rw_rights))
        .map_err(e)?;
    if plan.sandbox.exec {
        let sys: Vec<&str> = plan
            .sandbox
            .system_ro
            .iter()
            .map(String::as_str)
            .filter(|p| std::path::Path::new(p).exists())
            .collect();
        ruleset = ruleset
            .add_rules(path_beneath_rules(&sys, AccessFs::from_read(abi)))
            .map_err(e)?;
        let devs: Vec<&str> = plan
            .sandbox
            .devices
            .iter()
            .map(String::as_str)
            .filter(|p| std::path::Path::new(p).exists())
            .collect();
        ruleset = ruleset
            .add_rules(path_beneath_rules(
                &devs,
                AccessFs::ReadFile | AccessFs::WriteFile,
            ))
            .map_err(e)?;
    }
    if plan.sandbox.exec && plan.on(Layer::Namespaces) {
        // The sandbox root holds only mount points; listing it reveals nothing.
        ruleset = ruleset
            .add_rules(path_beneath_rules(["/"], AccessFs::ReadDir))
            .map_err(e)?;
    }
    // /proc and /tmp rules name the sandbox's own procfs and tmpfs: without the
    // namespaces layer those paths would be the host's, so they get no rule.
    if plan.sandbox.proc && plan.on(Layer::Namespaces) {
        ruleset = ruleset
            .add_rules(path_beneath_rules(
                ["/proc"],
                AccessFs::ReadFile | AccessFs::ReadDir,
            ))
            .map_err(e)?;
    }
    if !plan.sandbox.tmp_size.is_empty() && plan.on(Layer::Namespaces) {
        ruleset = ruleset
            .add_rules(path_beneath_rules(
                ["/tmp"],
                AccessFs::from_all(abi) & !AccessFs::Execute,
            ))
            .map_err(e)?;
    }
    let status = ruleset.restrict_self().map_err(e)?;
    let enforced = match status.ruleset {
        RulesetStatus::FullyEnforced => LandlockStatus::FullyEnforced,
        RulesetStatus::PartiallyEnforced => LandlockStatus::PartiallyEnforced,
        RulesetStatus::NotEnforced => {
            return Err("the kernel did not enforce the Landlock ruleset".into());
        }
    };
    Ok((kernel.min(TARGET as u32), enforced))
}
