//! agentbox-profiles: the OS confinement profiles, as data.
//!
//! Trust zone: supervisor and worker (read-only data). The shipped profiles live in
//! `profiles/` (seccomp allow-lists in `profiles/seccomp/*.toml`, one `reason` per
//! rule; the sandbox layout and Landlock minimum ABI in `profiles/sandbox.toml`) and
//! are embedded in the binary at build time. This crate parses them and compiles
//! seccomp rules to BPF with `seccompiler`; it must never apply anything.

use serde::Deserialize;
use std::collections::BTreeMap;

/// The shipped seccomp profiles: (name, TOML).
pub const SECCOMP_PROFILES: &[(&str, &str)] = &[
    (
        "wasm-worker",
        include_str!("../../../profiles/seccomp/wasm-worker.toml"),
    ),
    (
        "native",
        include_str!("../../../profiles/seccomp/native.toml"),
    ),
];

/// The shipped sandbox layout profiles.
pub const SANDBOX_TOML: &str = include_str!("../../../profiles/sandbox.toml");

/// Why a profile could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("unknown profile `{0}`")]
    Unknown(String),
    #[error("profile {name}: {message}")]
    Invalid { name: String, message: String },
    #[error("profile {name}: seccomp compilation failed: {message}")]
    Compile { name: String, message: String },
}

/// One argument condition (seccompiler's JSON condition).
#[derive(Debug, Clone, Deserialize, serde::Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ArgCond {
    pub index: u8,
    /// `dword` or `qword`.
    #[serde(rename = "type")]
    pub len: String,
    /// `eq`, `ne`, `lt`, `le`, `gt`, `ge`, or `{masked_eq = MASK}`.
    pub op: serde_json::Value,
    pub val: u64,
    #[serde(default)]
    pub comment: Option<String>,
}

/// One allowed syscall, with the reason it is needed.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct AllowRule {
    pub syscall: String,
    pub reason: String,
    /// Alternative argument sets: the call is allowed when any one fully matches.
    #[serde(default)]
    pub args: Vec<Vec<ArgCond>>,
}

/// A syscall answered with an errno instead of being run or killing.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ErrnoRule {
    pub syscall: String,
    pub errno: u32,
    pub reason: String,
}

/// A seccomp profile.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SeccompProfile {
    pub name: String,
    pub description: String,
    /// Only `kill_process` is accepted.
    pub default_action: String,
    #[serde(default)]
    pub allow: Vec<AllowRule>,
    #[serde(default)]
    pub errno: Vec<ErrnoRule>,
}

/// Compiled BPF programs, applied in this order.
#[derive(Debug, Clone)]
pub struct CompiledSeccomp {
    /// Errno answers (mismatch: allow). Applied first; the kernel takes the most
    /// restrictive answer of all filters, so a listed call gets its errno.
    pub errno_filter: Option<seccompiler::BpfProgram>,
    /// The allow-list (mismatch: kill the process).
    pub allow_filter: seccompiler::BpfProgram,
}

/// One BPF instruction as plain data (code, jt, jf, k), for the worker socket.
pub type Insn = (u16, u8, u8, u32);

/// A compiled profile as plain data: what the supervisor sends to a worker, so the
/// worker applies filters without parsing anything.
#[derive(Debug, Clone, Default, serde::Serialize, Deserialize, PartialEq, Eq)]
pub struct SeccompBpf {
    pub name: String,
    pub errno_filter: Option<Vec<Insn>>,
    pub allow_filter: Vec<Insn>,
}

fn to_insns(p: &seccompiler::BpfProgram) -> Vec<Insn> {
    p.iter().map(|f| (f.code, f.jt, f.jf, f.k)).collect()
}

/// Back from plain data to a program seccompiler can apply.
pub fn from_insns(v: &[Insn]) -> seccompiler::BpfProgram {
    v.iter()
        .map(|&(code, jt, jf, k)| seccompiler::sock_filter { code, jt, jf, k })
        .collect()
}

impl SeccompProfile {
    /// Compiles to plain data for a worker.
    pub fn to_bpf(&self) -> Result<SeccompBpf, ProfileError> {
        let c = self.compile()?;
        Ok(SeccompBpf {
            name: self.name.clone(),
            errno_filter: c.errno_filter.as_ref().map(to_insns),
            allow_filter: to_insns(&c.allow_filter),
        })
    }

    /// Parses a shipped profile by name.
    pub fn shipped(name: &str) -> Result<Self, ProfileError> {
        let (_, text) = SECCOMP_PROFILES
            .iter()
            .find(|(n, _)| *n == name)
            .ok_or_else(|| ProfileError::Unknown(name.to_string()))?;
        Self::parse(name, text)
    }

    pub fn parse(name: &str, text: &str) -> Result<Self, ProfileError> {
        let p: Self = toml::from_str(text).map_err(|e| ProfileError::Invalid {
            name: name.into(),
            message: e.to_string(),
        })?;
        if p.default_action != "kill_process" {
            return Err(ProfileError::Invalid {
                name: name.into(),
                message: "default_action must be kill_process".into(),
            });
        }
        let mut seen = std::collections::BTreeSet::new();
        for r in &p.allow {
            if r.reason.trim().is_empty() {
                return Err(ProfileError::Invalid {
                    name: name.into(),
                    message: format!("{}: every rule needs a reason", r.syscall),
                });
            }
            if !seen.insert(r.syscall.clone()) {
                return Err(ProfileError::Invalid {
                    name: name.into(),
                    message: format!("{} is listed twice", r.syscall),
                });
            }
        }
        for r in &p.errno {
            if r.reason.trim().is_empty() {
                return Err(ProfileError::Invalid {
                    name: name.into(),
                    message: format!("{}: every rule needs a reason", r.syscall),
                });
            }
        }
        Ok(p)
    }

    /// Compiles to BPF for x86_64 with seccompiler (architecture checked by the
    /// filter; x32 and other ABIs do not match any rule and are killed).
    pub fn compile(&self) -> Result<CompiledSeccomp, ProfileError> {
        let arch = seccompiler::TargetArch::x86_64;
        let cerr = |message: String| ProfileError::Compile {
            name: self.name.clone(),
            message,
        };
        let mut rules = Vec::new();
        for r in &self.allow {
            if r.args.is_empty() {
                rules.push(serde_json::json!({"syscall": r.syscall}));
            } else {
                for set in &r.args {
                    let args: Vec<serde_json::Value> = set.iter().map(|c| serde_json::json!({"index": c.index, "type": c.len, "op": c.op, "val": c.val})).collect();
                    rules.push(serde_json::json!({"syscall": r.syscall, "args": args}));
                }
            }
        }
        // Errno'd calls must pass the allow-list so that the errno answer wins.
        for r in &self.errno {
            rules.push(serde_json::json!({"syscall": r.syscall}));
        }
        let allow = serde_json::json!({"allow": {"mismatch_action": "kill_process", "match_action": "allow", "filter": rules}});
        let mut map = seccompiler::compile_from_json(allow.to_string().as_bytes(), arch)
            .map_err(|e| cerr(e.to_string()))?;
        let allow_filter = map
            .remove("allow")
            .ok_or_else(|| cerr("no allow filter".into()))?;
        let mut errno_filter = None;
        let mut by_errno: BTreeMap<u32, Vec<serde_json::Value>> = BTreeMap::new();
        for r in &self.errno {
            by_errno
                .entry(r.errno)
                .or_default()
                .push(serde_json::json!({"syscall": r.syscall}));
        }
        if by_errno.len() > 1 {
            return Err(cerr(
                "all errno rules of a profile must use the same errno".into(),
            ));
        }
        if let Some((errno, rules)) = by_errno.into_iter().next() {
            let j = serde_json::json!({"errno": {"mismatch_action": "allow", "match_action": {"errno": errno}, "filter": rules}});
            let mut m = seccompiler::compile_from_json(j.to_string().as_bytes(), arch)
                .map_err(|e| cerr(e.to_string()))?;
            errno_filter = m.remove("errno");
        }
        Ok(CompiledSeccomp {
            errno_filter,
            allow_filter,
        })
    }

    /// Names of syscalls answered with an errno (allowed to pass the allow-list).
    pub fn errno_names(&self) -> Vec<String> {
        self.errno.iter().map(|r| r.syscall.clone()).collect()
    }

    /// Names of allowed syscalls.
    pub fn allowed(&self) -> Vec<&str> {
        self.allow.iter().map(|r| r.syscall.as_str()).collect()
    }
}

/// Sandbox layout of one profile (from `profiles/sandbox.toml`).
#[derive(Debug, Clone, Deserialize, serde::Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SandboxProfile {
    /// Landlock ABI below which the profile refuses to run.
    pub min_landlock_abi: u32,
    /// Host directories bind-mounted read-only (and executable) into the sandbox.
    #[serde(default)]
    pub system_ro: Vec<String>,
    /// Device nodes bind-mounted into the sandbox.
    #[serde(default)]
    pub devices: Vec<String>,
    /// Mount a procfs for the worker's own pid namespace.
    #[serde(default)]
    pub proc: bool,
    /// Allow exec (native tools only).
    #[serde(default)]
    pub exec: bool,
    /// Size of the writable /tmp in the sandbox (0: none).
    #[serde(default)]
    pub tmp_size: String,
    /// Maximum open files (RLIMIT_NOFILE).
    pub max_fds: u64,
    pub reason: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SandboxFile {
    profiles: BTreeMap<String, SandboxProfile>,
}

impl SandboxProfile {
    pub fn shipped(name: &str) -> Result<Self, ProfileError> {
        let f: SandboxFile = toml::from_str(SANDBOX_TOML).map_err(|e| ProfileError::Invalid {
            name: "sandbox.toml".into(),
            message: e.to_string(),
        })?;
        f.profiles
            .get(name)
            .cloned()
            .ok_or_else(|| ProfileError::Unknown(name.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_profiles_parse_and_compile() {
        for (name, _) in SECCOMP_PROFILES {
            let p = SeccompProfile::shipped(name).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(&p.name, name);
            let c = p.compile().unwrap_or_else(|e| panic!("{e}"));
            assert!(!c.allow_filter.is_empty());
            SandboxProfile::shipped(name).unwrap_or_else(|e| panic!("{e}"));
        }
    }

    #[test]
    fn dangerous_calls_are_never_allowed() {
        for (name, _) in SECCOMP_PROFILES {
            let p = SeccompProfile::shipped(name).unwrap_or_else(|e| panic!("{e}"));
            let allowed = p.allowed();
            for bad in [
                "io_uring_setup",
                "io_uring_enter",
                "io_uring_register",
                "bpf",
                "userfaultfd",
                "keyctl",
                "add_key",
                "request_key",
                "perf_event_open",
                "ptrace",
                "process_vm_readv",
                "process_vm_writev",
                "mount",
                "umount2",
                "pivot_root",
                "setns",
                "unshare",
                "kexec_load",
                "init_module",
                "finit_module",
                "delete_module",
                "open_by_handle_at",
                "name_to_handle_at",
                "fsopen",
                "fsmount",
                "move_mount",
                "open_tree",
                "chroot",
                "reboot",
                "swapon",
                "acct",
                "quotactl",
                "lookup_dcookie",
                "personality",
                "vm86",
                "iopl",
                "ioperm",
                "seccomp",
                "mknod",
                "mknodat",
                "syslog",
                "settimeofday",
                "clock_settime",
                "adjtimex",
                "pidfd_open",
                "pidfd_getfd",
                "kcmp",
                "setuid",
                "setgid",
                "setresuid",
                "setresgid",
                "setgroups",
            ] {
                assert!(!allowed.contains(&bad), "{name} allows {bad}");
            }
        }
    }
}
