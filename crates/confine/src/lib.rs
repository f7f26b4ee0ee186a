//! agentbox-confine: the Linux side effects that confine a worker process, from its
//! creation ([`spawn_worker`]: clone3 straight into new namespaces and its cgroup)
//! to the read-back of what the kernel actually enforces.
//!
//! Trust zone: worker (everything in [`apply`] runs in the worker process, while it
//! is still single-threaded) and supervisor ([`spawn_worker`], [`cgroup`], [`probe`]). It must never
//! link wasmtime, never weaken a layer silently (a layer that cannot be set up is an
//! error unless the operator disabled it with a flag named as dangerous), and never
//! leave the worker with a capability, a foreign descriptor or a way back.

#![allow(unsafe_code)]

pub mod cgroup;
pub mod entry;
mod fds;
pub mod footprint;
mod landlock_layer;
mod mounts;
pub mod ns;
pub mod probe;
mod report;
mod seccomp_layer;
mod spawn;

use agentbox_ipc::{ConfinementReport, LandlockStatus, Layer};
use agentbox_profiles::{SandboxProfile, SeccompBpf};
use std::path::PathBuf;

pub use fds::dir_names;
pub use landlock_layer::kernel_landlock_abi;
pub use ns::current_ids as probe_ns;
pub use spawn::{
    Namespaces, SpawnError, SpawnOptions, Spawning, WORKER_FD, WorkerProcess, pidfd_signal,
    spawn_worker, worker_channel,
};

/// A directory the sandbox shows to the tool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// Canonical host path (resolved at manifest load); empty for scratch space.
    pub host: PathBuf,
    /// Absolute path inside the sandbox.
    pub guest: String,
    pub writable: bool,
    /// Scratch space: (bytes, inodes) of a fresh tmpfs mounted at `guest` instead
    /// of a host directory.
    pub scratch: Option<(u64, u64)>,
}

/// Every OS layer (used by the layer-isolation switches and reports).
pub const LAYERS: &[Layer] = Layer::ALL;

/// Everything `apply` needs.
#[derive(Debug, Clone)]
pub struct Plan {
    pub profile_name: String,
    pub sandbox: SandboxProfile,
    pub seccomp: SeccompBpf,
    pub grants: Vec<Grant>,
    /// CPU seconds backstop (RLIMIT_CPU), from the tool's cpu limit.
    pub cpu_seconds: u64,
    /// Layers the operator disabled with a dangerous flag.
    pub disabled: Vec<Layer>,
    /// The supervisor's namespace ids, to compare.
    pub supervisor_ns: Vec<(String, u64)>,
    /// The IPC socket to keep open.
    pub keep_fd: i32,
    /// A step to fail on purpose (breakout suite: LL-14, SUP-04); see [`FAULTS`].
    pub fault: Option<String>,
}

/// Steps whose failure the breakout suite injects: each must stop the worker.
pub const FAULTS: &[&str] = &[
    "namespaces",
    "sandbox-root",
    "rlimits",
    "capabilities",
    "no_new_privs",
    "landlock",
    "landlock-abi",
    "seccomp",
];

impl Plan {
    fn on(&self, layer: Layer) -> bool {
        !self.disabled.contains(&layer)
    }

    /// Whether the tool may execute (execve, mmap/mprotect PROT_EXEC) files of
    /// grant `g`: only in a profile with exec, only a read-only grant, and only
    /// when no writable grant reaches the same files (a ro grant inside or above a
    /// rw grant's host directory holds what the tool wrote; one nested with a
    /// writable grant or scratch space in the sandbox would lend it EXECUTE
    /// through Landlock's inheritance). Scratch space is writable, so never.
    pub(crate) fn grant_exec(&self, g: &Grant) -> bool {
        fn nested<P: AsRef<std::path::Path>>(a: P, b: P) -> bool {
            let (a, b) = (a.as_ref(), b.as_ref());
            a.starts_with(b) || b.starts_with(a)
        }
        self.sandbox.exec
            && !g.writable
            && g.scratch.is_none()
            && !self.grants.iter().any(|o| {
                o.writable
                    && ((o.scratch.is_none() && nested(&o.host, &g.host))
                        || nested(&o.guest, &g.guest))
            })
    }

    /// An injected failure of `step`, if the suite asked for one.
    fn injected(&self, fault: &str, step: &'static str) -> Result<(), ConfineError> {
        if self.fault.as_deref() == Some(fault) {
            return Err(ConfineError::Step {
                step,
                message: "failure injected by the breakout suite".into(),
            });
        }
        Ok(())
    }
}

/// Which step of confinement failed.
#[derive(Debug, thiserror::Error)]
pub enum ConfineError {
    #[error("{step}: {message}")]
    Step { step: &'static str, message: String },
}

pub(crate) fn step(step: &'static str) -> impl Fn(String) -> ConfineError {
    move |message| ConfineError::Step { step, message }
}

/// Confines the calling process, in the documented order. Must be called while the
/// process is single-threaded, in a worker started by [`crate::spawn_worker`].
///
/// Order, and why each step sits where it is:
/// 0. (supervisor, at spawn) the clone that starts the worker creates its user
///    namespace (always, also for root: capabilities gained inside it are worthless
///    outside) with a 1:1 uid/gid map written by the supervisor before the worker
///    may exec, and its mount, pid, net, ipc and uts namespaces: the worker is pid 1
///    of its own pid namespace, with no intermediate process; on cgroup v2 it is
///    born in its cgroup (CLONE_INTO_CGROUP), on v1 the supervisor moves it there
///    before sending the start message. Every supervisor descriptor is
///    close-on-exec: the worker starts with stdio and the IPC socket only;
/// 1. close every descriptor but stdio and the IPC socket anyway: nothing inherited
///    by accident may cross into the sandbox (and later steps open no host files
///    but the grants);
/// 2. check the namespaces against the supervisor's (never trusted) and enter the
///    cgroup namespace, now that the worker is in its cgroup, so that the cgroup is
///    the namespace's root;
/// 3. the new root: grants opened by descriptor while the host tree is still
///    visible, an empty tmpfs with only the grants (and, for native, the profile's
///    read-only system directories) bind-mounted, pivot_root, the old root
///    detached, the new root remounted read-only — this needs CAP_SYS_ADMIN in the
///    new namespaces, so it precedes dropping capabilities;
/// 4. rlimits (no core dumps, descriptor cap, CPU backstop): needs no privilege, and
///    must precede exec of anything;
/// 5. capabilities: bounding set cleared, ambient/inheritable/permitted/effective
///    emptied — after the mounts that needed them;
/// 6. no_new_privs: required by unprivileged Landlock and seccomp, and stops any
///    setuid binary from regaining privilege;
/// 7. Landlock on the new root's paths: after pivot_root so that rules name the
///    sandbox's paths; before seccomp because it needs the landlock syscalls;
/// 8. seccomp last: it forbids the syscalls every earlier step used.
pub fn apply(plan: &Plan) -> Result<ConfinementReport, ConfineError> {
    fds::close_all_but(&[0, 1, 2, plan.keep_fd]).map_err(step("closing inherited descriptors"))?;
    let mut report = ConfinementReport::default();
    if !plan.on(Layer::Namespaces) && plan.grants.iter().any(|g| g.scratch.is_some()) {
        return Err(ConfineError::Step {
            step: "sandbox root (mount namespace, pivot_root)",
            message: "scratch space is a tmpfs in the worker's own mount namespace: it cannot be provided with the namespaces layer disabled".into(),
        });
    }
    if plan.on(Layer::Namespaces) {
        plan.injected("namespaces", "namespaces")?;
        report.namespaces = ns::enter(plan).map_err(step("namespaces"))?;
        plan.injected("sandbox-root", "sandbox root (mount namespace, pivot_root)")?;
        if plan.sandbox.memfd_noexec {
            ns::memfd_noexec();
        }
        mounts::build_root(plan).map_err(step("sandbox root (mount namespace, pivot_root)"))?;
        nix::unistd::sethostname("agentbox").map_err(|e| step("uts namespace")(e.to_string()))?;
    }
    if plan.on(Layer::Rlimits) {
        plan.injected("rlimits", "rlimits")?;
        report::set_rlimits(plan).map_err(step("rlimits"))?;
    }
    if plan.on(Layer::Capabilities) {
        plan.injected("capabilities", "capabilities")?;
        report::drop_capabilities().map_err(step("capabilities"))?;
    }
    plan.injected("no_new_privs", "no_new_privs")?;
    nix::sys::prctl::set_no_new_privs().map_err(|e| step("no_new_privs")(e.to_string()))?;
    // Not dumpable: no same-uid process outside may ptrace the worker or open its
    // /proc files; seccomp then forbids turning it back on (breakout SC-12).
    nix::sys::prctl::set_dumpable(false).map_err(|e| step("dumpable")(e.to_string()))?;
    if plan.on(Layer::Landlock) {
        plan.injected("landlock", "landlock")?;
        let (abi, status) = landlock_layer::restrict(plan).map_err(step("landlock"))?;
        report.landlock_abi = Some(abi);
        report.landlock_status = status;
    } else {
        report.landlock_status = LandlockStatus::Disabled;
    }
    if plan.on(Layer::Seccomp) {
        plan.injected("seccomp", "seccomp")?;
        seccomp_layer::apply(&plan.seccomp).map_err(step("seccomp"))?;
        report.seccomp = Some(plan.seccomp.name.clone());
    }
    // Every descriptor is below the fd limit set above (all others were closed).
    report::read_back(
        &mut report,
        plan.sandbox.max_fds.max(plan.keep_fd as u64 + 1),
    );
    Ok(report)
}
