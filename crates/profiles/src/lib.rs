//! agentbox-profiles: the OS confinement profiles, as data.
//!
//! Trust zone: supervisor and worker (read-only data). The shipped profiles live in
//! `profiles/` (seccomp allow-lists in `profiles/seccomp/*.toml`, one `reason` per
//! rule; the sandbox layout and Landlock minimum ABI in `profiles/sandbox.toml`) and
//! are embedded in the binary at build time. This crate parses them and compiles
//! seccomp rules to one BPF program in seccompiler's format (see [`bpf`] for why
//! not with seccompiler's own compiler); it must never apply anything.

mod bpf;

use serde::Deserialize;
use std::collections::BTreeMap;
use std::str::FromStr;

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

impl ArgCond {
    fn to_cond(&self, syscall: &str) -> Result<bpf::Cond, String> {
        let qword = match self.len.as_str() {
            "dword" => false,
            "qword" => true,
            other => {
                return Err(format!(
                    "{syscall}: argument type `{other}` (allowed: dword, qword)"
                ));
            }
        };
        let cmp = match &self.op {
            serde_json::Value::String(op) => match op.as_str() {
                "eq" => bpf::Cmp::Eq,
                "ne" => bpf::Cmp::Ne,
                "lt" => bpf::Cmp::Lt,
                "le" => bpf::Cmp::Le,
                "gt" => bpf::Cmp::Gt,
                "ge" => bpf::Cmp::Ge,
                other => {
                    return Err(format!(
                        "{syscall}: operator `{other}` (allowed: eq, ne, lt, le, gt, ge, {{ masked_eq = MASK }})"
                    ));
                }
            },
            serde_json::Value::Object(m) => {
                match (m.len(), m.get("masked_eq").and_then(|v| v.as_u64())) {
                    (1, Some(mask)) => bpf::Cmp::MaskedEq(mask),
                    _ => {
                        return Err(format!(
                            "{syscall}: operator {} (allowed: eq, ne, lt, le, gt, ge, {{ masked_eq = MASK }})",
                            self.op
                        ));
                    }
                }
            }
            other => {
                return Err(format!(
                    "{syscall}: operator {other} (allowed: eq, ne, lt, le, gt, ge, {{ masked_eq = MASK }})"
                ));
            }
        };
        if self.index > 5 {
            return Err(format!("{syscall}: argument index {} (0 to 5)", self.index));
        }
        // A dword condition compares the low 32 bits: a wider value or mask
        // could never mean what it says.
        let mask = match cmp {
            bpf::Cmp::MaskedEq(m) => m,
            _ => 0,
        };
        if !qword && (self.val > u64::from(u32::MAX) || mask > u64::from(u32::MAX)) {
            return Err(format!(
                "{syscall}: dword condition with a value or mask above 32 bits (use qword)"
            ));
        }
        Ok(bpf::Cond {
            index: self.index,
            qword,
            cmp,
            val: self.val,
        })
    }
}

/// The x86_64 number of a syscall, by name.
fn syscall_nr(name: &str) -> Result<u32, String> {
    let nr = syscalls::x86_64::Sysno::from_str(name)
        .map_err(|()| format!("unknown syscall `{name}` (x86_64 names, as in syscalls(2))"))?;
    u32::try_from(nr.id()).map_err(|_| format!("syscall `{name}` has no number"))
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

/// A compiled profile: one BPF program (errno answers and the allow-list; any
/// other call kills the process).
#[derive(Debug, Clone)]
pub struct CompiledSeccomp {
    pub filter: seccompiler::BpfProgram,
}

/// One BPF instruction as plain data (code, jt, jf, k), for the worker socket.
pub type Insn = (u16, u8, u8, u32);

/// A compiled profile as plain data: what the supervisor sends to a worker, so the
/// worker applies its filter without parsing anything.
#[derive(Debug, Clone, Default, serde::Serialize, Deserialize, PartialEq, Eq)]
pub struct SeccompBpf {
    pub name: String,
    pub filter: Vec<Insn>,
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
            filter: to_insns(&c.filter),
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

    /// Compiles to one BPF program for x86_64 (architecture checked; x32 and every
    /// other ABI killed; calls not listed killed).
    pub fn compile(&self) -> Result<CompiledSeccomp, ProfileError> {
        let cerr = |message: String| ProfileError::Compile {
            name: self.name.clone(),
            message,
        };
        let mut rules: BTreeMap<u32, bpf::Action> = BTreeMap::new();
        for r in &self.allow {
            let action = if r.args.is_empty() {
                bpf::Action::Allow
            } else {
                let sets = r
                    .args
                    .iter()
                    .map(|set| set.iter().map(|c| c.to_cond(&r.syscall)).collect())
                    .collect::<Result<Vec<Vec<bpf::Cond>>, String>>()
                    .map_err(cerr)?;
                bpf::Action::Sets(sets)
            };
            if rules
                .insert(syscall_nr(&r.syscall).map_err(cerr)?, action)
                .is_some()
            {
                return Err(cerr(format!("{} is listed twice", r.syscall)));
            }
        }
        for r in &self.errno {
            if r.errno == 0 || r.errno > 4095 {
                return Err(cerr(format!(
                    "{}: errno {} (1 to 4095)",
                    r.syscall, r.errno
                )));
            }
            let nr = syscall_nr(&r.syscall).map_err(cerr)?;
            match rules.insert(nr, bpf::Action::Errno(r.errno)) {
                None => {}
                Some(bpf::Action::Errno(_)) => {
                    return Err(cerr(format!("{} is listed twice", r.syscall)));
                }
                Some(_) => {
                    return Err(cerr(format!(
                        "{} is both allowed and answered with an errno",
                        r.syscall
                    )));
                }
            }
        }
        let filter = bpf::program(&rules).map_err(cerr)?;
        Ok(CompiledSeccomp { filter })
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
    /// Mount options of that procfs (e.g. `subset=pid,hidepid=ptraceable`: only
    /// process directories, and only those the tool may ptrace-read).
    #[serde(default)]
    pub proc_options: String,
    /// Set `vm.memfd_noexec = 2` in the worker's pid namespace where the kernel
    /// and the caller's privilege allow it (the seccomp profile holds without it).
    #[serde(default)]
    pub memfd_noexec: bool,
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
            assert!(!c.filter.is_empty());
            SandboxProfile::shipped(name).unwrap_or_else(|e| panic!("{e}"));
        }
    }

    /// seccompiler's compilation of a profile (what agentbox used before: an
    /// errno filter, then the allow-list), the reference for `compile`.
    fn reference(p: &SeccompProfile) -> Vec<seccompiler::BpfProgram> {
        let arch = seccompiler::TargetArch::x86_64;
        let mut rules = Vec::new();
        for r in &p.allow {
            if r.args.is_empty() {
                rules.push(serde_json::json!({"syscall": r.syscall}));
            }
            for set in &r.args {
                let args: Vec<serde_json::Value> = set
                    .iter()
                    .map(|c| serde_json::json!({"index": c.index, "type": c.len, "op": c.op, "val": c.val}))
                    .collect();
                rules.push(serde_json::json!({"syscall": r.syscall, "args": args}));
            }
        }
        for r in &p.errno {
            rules.push(serde_json::json!({"syscall": r.syscall}));
        }
        let allow = serde_json::json!({"allow": {"mismatch_action": "kill_process", "match_action": "allow", "filter": rules}});
        let mut m = seccompiler::compile_from_json(allow.to_string().as_bytes(), arch)
            .unwrap_or_else(|e| panic!("{e}"));
        let mut out = vec![m.remove("allow").unwrap_or_default()];
        for r in &p.errno {
            let j = serde_json::json!({"errno": {"mismatch_action": "allow", "match_action": {"errno": r.errno}, "filter": [{"syscall": r.syscall}]}});
            let mut m = seccompiler::compile_from_json(j.to_string().as_bytes(), arch)
                .unwrap_or_else(|e| panic!("{e}"));
            out.push(m.remove("errno").unwrap_or_default());
        }
        out
    }

    /// The kernel's answer for a stack of filters: the most restrictive action
    /// (lowest signed action value) wins.
    fn answer(filters: &[seccompiler::BpfProgram], nr: u32, arch: u32, args: [u64; 6]) -> u32 {
        filters
            .iter()
            .map(|f| bpf::run(f, nr, arch, args))
            .min_by_key(|r| (r & 0xffff_0000) as i32)
            .unwrap_or(bpf::RET_ALLOW)
    }

    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn pick<T: Copy>(&mut self, v: &[T]) -> T {
            v[(self.next() % v.len() as u64) as usize]
        }
    }

    const POOL: &[u64] = &[
        0,
        1,
        2,
        3,
        42,
        0x7fff_ffff,
        0x8000_0000,
        0xffff_ffff,
        0x1_0000_0000,
        0x1_0000_0001,
        0x7e02_0000,
        0x0001_0000,
        0x8000_0000_0000_0000,
        u64::MAX,
    ];

    /// Argument vectors that hit each condition's edges: its value, one either
    /// side, the other half flipped, and random mixes.
    fn inputs(p: &SeccompProfile, syscall: &str, rng: &mut Rng) -> Vec<[u64; 6]> {
        let mut edge: Vec<u64> = POOL.to_vec();
        let mut out = vec![[0; 6], [u64::MAX; 6]];
        for r in p.allow.iter().filter(|r| r.syscall == syscall) {
            for set in &r.args {
                let mut base = [0u64; 6];
                for c in set {
                    base[c.index as usize] = c.val;
                    for v in [
                        c.val,
                        c.val.wrapping_add(1),
                        c.val.wrapping_sub(1),
                        c.val ^ (1 << 32),
                        c.val ^ 1,
                    ] {
                        edge.push(v);
                    }
                }
                out.push(base);
                for c in set {
                    for v in [
                        c.val.wrapping_add(1),
                        c.val.wrapping_sub(1),
                        c.val ^ (1 << 32),
                        c.val ^ (1 << 63),
                    ] {
                        let mut a = base;
                        a[c.index as usize] = v;
                        out.push(a);
                    }
                }
            }
        }
        for _ in 0..200 {
            let mut a = [0u64; 6];
            for x in &mut a {
                *x = rng.pick(&edge);
            }
            out.push(a);
        }
        out
    }

    fn assert_same(p: &SeccompProfile, rng: &mut Rng) {
        let ours = p.compile().unwrap_or_else(|e| panic!("{e}")).filter;
        let theirs = reference(p);
        let listed: Vec<&str> = p
            .allow
            .iter()
            .map(|r| r.syscall.as_str())
            .chain(p.errno.iter().map(|r| r.syscall.as_str()))
            .collect();
        let archs = [bpf::AUDIT_ARCH_X86_64, 0x4000_0003, 0xc000_00b7];
        let mut nrs: Vec<u32> = (0..520).collect();
        nrs.extend((0..20).map(|n| bpf::X32_SYSCALL_BIT | n));
        nrs.extend([bpf::X32_SYSCALL_BIT | 39, u32::MAX, 0x8000_0000]);
        for &nr in &nrs {
            let name = syscalls::x86_64::Sysno::new(nr as usize).map(|s| s.name());
            let args = match name {
                Some(n) if listed.contains(&n) => inputs(p, n, rng),
                _ => vec![[0; 6], [u64::MAX; 6]],
            };
            for arch in archs {
                for a in &args {
                    let (x, y) = (bpf::run(&ours, nr, arch, *a), answer(&theirs, nr, arch, *a));
                    assert_eq!(
                        x, y,
                        "profile {}: nr {nr} ({name:?}) arch {arch:#x} args {a:x?}: ours {x:#x}, seccompiler {y:#x}",
                        p.name
                    );
                }
            }
        }
    }

    #[test]
    fn same_answers_as_seccompiler() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for (name, _) in SECCOMP_PROFILES {
            let p = SeccompProfile::shipped(name).unwrap_or_else(|e| panic!("{e}"));
            assert_same(&p, &mut rng);
        }
        // Random profiles exercise every operator, both widths and long sets.
        let names = [
            "read",
            "write",
            "openat",
            "ioctl",
            "prctl",
            "clone",
            "mmap",
            "futex",
            "socket",
            "fcntl",
            "kill",
            "madvise",
            "close_range",
            "getrandom",
            "pidfd_open",
        ];
        let ops: Vec<serde_json::Value> = ["eq", "ne", "lt", "le", "gt", "ge"]
            .iter()
            .map(|o| serde_json::json!(o))
            .chain([
                serde_json::json!({"masked_eq": 0xffff_0000u64}),
                serde_json::json!({"masked_eq": 0x7e02_0000u64}),
                serde_json::json!({"masked_eq": 0xffff_ffff_0000_0001u64}),
                serde_json::json!({"masked_eq": 1u64}),
            ])
            .collect();
        for round in 0..150 {
            let mut p = SeccompProfile {
                name: format!("random-{round}"),
                description: String::new(),
                default_action: "kill_process".into(),
                allow: Vec::new(),
                errno: Vec::new(),
            };
            let mut used = std::collections::BTreeSet::new();
            for _ in 0..8 {
                let n = rng.pick(&names);
                if !used.insert(n) {
                    continue;
                }
                if rng.next().is_multiple_of(6) {
                    p.errno.push(ErrnoRule {
                        syscall: n.into(),
                        errno: 1 + (rng.next() % 100) as u32,
                        reason: "test".into(),
                    });
                    continue;
                }
                let sets = (0..rng.next() % 4)
                    .map(|_| {
                        (0..1 + rng.next() % 3)
                            .map(|_| {
                                let qword = rng.next().is_multiple_of(2);
                                let op = ops[(rng.next() % ops.len() as u64) as usize].clone();
                                let mut val = rng.pick(POOL);
                                let mut op2 = op.clone();
                                if !qword {
                                    val &= 0xffff_ffff;
                                    if let Some(m) = op.get("masked_eq").and_then(|m| m.as_u64()) {
                                        op2 = serde_json::json!({"masked_eq": m & 0xffff_ffff});
                                    }
                                }
                                ArgCond {
                                    index: (rng.next() % 6) as u8,
                                    len: if qword { "qword" } else { "dword" }.into(),
                                    op: op2,
                                    val,
                                    comment: None,
                                }
                            })
                            .collect()
                    })
                    .collect();
                p.allow.push(AllowRule {
                    syscall: n.into(),
                    reason: "test".into(),
                    args: sets,
                });
            }
            assert_same(&p, &mut rng);
        }
    }

    #[test]
    fn programs_fit_the_kernel_limit() {
        for (name, _) in SECCOMP_PROFILES {
            let p = SeccompProfile::shipped(name).unwrap_or_else(|e| panic!("{e}"));
            let n = p.compile().unwrap_or_else(|e| panic!("{e}")).filter.len();
            assert!(n <= bpf::BPF_MAXINSNS, "{name}: {n} instructions");
        }
        // A profile past the limit is refused when compiled, not when a worker
        // applies it.
        let sets: Vec<String> = (0..2000)
            .map(|v| format!("[{{ index = 0, type = \"dword\", op = \"eq\", val = {v} }}]"))
            .collect();
        let text = format!(
            "name = \"big\"\ndescription = \"\"\ndefault_action = \"kill_process\"\n[[allow]]\nsyscall = \"read\"\nreason = \"r\"\nargs = [{}]\n",
            sets.join(", ")
        );
        let e = SeccompProfile::parse("big", &text)
            .and_then(|p| p.compile())
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("at most 4096"), "{e}");
    }

    #[test]
    fn compile_rejects_what_it_cannot_mean() {
        let parse = |t: &str| SeccompProfile::parse("t", t).and_then(|p| p.compile());
        let head = "name = \"t\"\ndescription = \"\"\ndefault_action = \"kill_process\"\n";
        for (body, want) in [
            (
                "[[allow]]\nsyscall = \"no_such_call\"\nreason = \"r\"\n",
                "unknown syscall `no_such_call`",
            ),
            (
                "[[allow]]\nsyscall = \"read\"\nreason = \"r\"\nargs = [[{ index = 0, type = \"dword\", op = \"eq\", val = 4294967296 }]]\n",
                "above 32 bits",
            ),
            (
                "[[allow]]\nsyscall = \"read\"\nreason = \"r\"\nargs = [[{ index = 6, type = \"qword\", op = \"eq\", val = 1 }]]\n",
                "argument index 6",
            ),
            (
                "[[allow]]\nsyscall = \"read\"\nreason = \"r\"\nargs = [[{ index = 0, type = \"qword\", op = \"xor\", val = 1 }]]\n",
                "operator `xor`",
            ),
            (
                "[[allow]]\nsyscall = \"read\"\nreason = \"r\"\nargs = [[{ index = 0, type = \"byte\", op = \"eq\", val = 1 }]]\n",
                "argument type `byte`",
            ),
            (
                "[[allow]]\nsyscall = \"read\"\nreason = \"r\"\n[[errno]]\nsyscall = \"read\"\nerrno = 1\nreason = \"r\"\n",
                "both allowed and answered",
            ),
            (
                "[[errno]]\nsyscall = \"read\"\nerrno = 0\nreason = \"r\"\n",
                "errno 0",
            ),
            (
                "[[errno]]\nsyscall = \"read\"\nerrno = 1\nreason = \"r\"\n[[errno]]\nsyscall = \"read\"\nerrno = 1\nreason = \"r\"\n",
                "read is listed twice",
            ),
        ] {
            match parse(&format!("{head}{body}")) {
                Ok(_) => panic!("accepted: {body}"),
                Err(e) => assert!(e.to_string().contains(want), "{e} (wanted {want})"),
            }
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
