//! A profile's rules as one classic BPF program, in seccompiler's program format
//! (`Vec<sock_filter>`, applied with `seccompiler::apply_filter`).
//!
//! Why not seccompiler's own compiler: it emits one linear chain of syscall
//! comparisons, and the kernel pays for that chain when the filter is attached
//! (it runs the filter for every syscall number to build its action cache) and on
//! every syscall that is not cached. Here the syscall number is found by a
//! balanced binary search, and errno answers live in the same program, so the
//! worker attaches one short filter instead of two long ones. The semantics are
//! seccompiler's, condition by condition: `tests::same_answers_as_seccompiler`
//! runs both on the shipped profiles and on random ones and compares every answer.
//!
//! Layout:
//! ```text
//!   arch != x86_64            -> kill
//!   nr has the x32 bit        -> kill
//!   binary search on nr       -> the syscall's block, or kill
//!   block: allow | errno | argument sets (any set fully matching: allow; else kill)
//! ```

use seccompiler::sock_filter;
use std::collections::BTreeMap;

// Classic BPF opcodes (linux/filter.h).
const LD_W_ABS: u16 = 0x20; // BPF_LD | BPF_W | BPF_ABS
const JA: u16 = 0x05; // BPF_JMP | BPF_JA
const JEQ_K: u16 = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
const JGT_K: u16 = 0x25; // BPF_JMP | BPF_JGT | BPF_K
const JGE_K: u16 = 0x35; // BPF_JMP | BPF_JGE | BPF_K
const AND_K: u16 = 0x54; // BPF_ALU | BPF_AND | BPF_K
const RET_K: u16 = 0x06; // BPF_RET | BPF_K

// seccomp (linux/seccomp.h, linux/audit.h).
pub(crate) const RET_KILL_PROCESS: u32 = 0x8000_0000;
pub(crate) const RET_ERRNO: u32 = 0x0005_0000;
pub(crate) const RET_ALLOW: u32 = 0x7fff_0000;
pub(crate) const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;
/// Syscall numbers of the x32 ABI carry this bit.
pub(crate) const X32_SYSCALL_BIT: u32 = 0x4000_0000;
/// Offsets in `struct seccomp_data`: nr, arch, then six 64-bit arguments from 16.
const OFF_NR: u32 = 0;
const OFF_ARCH: u32 = 4;
const OFF_ARGS: u32 = 16;
/// The longest classic BPF program the kernel loads (linux/bpf_common.h).
pub(crate) const BPF_MAXINSNS: usize = 4096;

/// How an argument is compared (unsigned), as seccompiler's `SeccompCmpOp`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    /// `(arg & mask) == (val & mask)`.
    MaskedEq(u64),
}

/// One argument condition. A `dword` condition compares the low 32 bits only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cond {
    pub index: u8,
    pub qword: bool,
    pub cmp: Cmp,
    pub val: u64,
}

/// What a listed syscall gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Action {
    Allow,
    Errno(u32),
    /// Allowed when any one set fully matches; otherwise the process is killed.
    Sets(Vec<Vec<Cond>>),
}

#[derive(Debug, Clone, Copy)]
enum Target {
    Next,
    Label(usize),
}

#[derive(Debug)]
enum Item {
    Stmt(u16, u32),
    Jump(u16, u32, Target, Target),
    Ja(usize),
    Place(usize),
}

/// Instructions with forward labels, resolved at the end.
#[derive(Default)]
struct Asm {
    items: Vec<Item>,
    labels: usize,
}

impl Asm {
    fn label(&mut self) -> usize {
        self.labels += 1;
        self.labels - 1
    }
    fn place(&mut self, l: usize) {
        self.items.push(Item::Place(l));
    }
    fn stmt(&mut self, code: u16, k: u32) {
        self.items.push(Item::Stmt(code, k));
    }
    fn jump(&mut self, code: u16, k: u32, jt: Target, jf: Target) {
        self.items.push(Item::Jump(code, k, jt, jf));
    }
    fn ja(&mut self, l: usize) {
        self.items.push(Item::Ja(l));
    }

    fn finish(self) -> Result<Vec<sock_filter>, String> {
        let mut at = vec![None; self.labels];
        let mut n = 0usize;
        for it in &self.items {
            match it {
                Item::Place(l) => at[*l] = Some(n),
                _ => n += 1,
            }
        }
        if n > BPF_MAXINSNS {
            return Err(format!(
                "the program has {n} instructions (the kernel accepts at most {BPF_MAXINSNS})"
            ));
        }
        let offset = |from: usize, l: usize| -> Result<usize, String> {
            let to = at[l].ok_or("a jump to a label never placed")?;
            to.checked_sub(from + 1)
                .ok_or_else(|| "a backward jump".to_string())
        };
        let short = |from: usize, t: Target| -> Result<u8, String> {
            match t {
                Target::Next => Ok(0),
                Target::Label(l) => {
                    let o = offset(from, l)?;
                    u8::try_from(o).map_err(|_| {
                        format!("a conditional jump of {o} instructions (at most 255): an argument set is too long")
                    })
                }
            }
        };
        let mut out = Vec::with_capacity(n);
        for it in &self.items {
            let pc = out.len();
            match *it {
                Item::Place(_) => {}
                Item::Stmt(code, k) => out.push(sock_filter {
                    code,
                    jt: 0,
                    jf: 0,
                    k,
                }),
                Item::Jump(code, k, jt, jf) => out.push(sock_filter {
                    code,
                    jt: short(pc, jt)?,
                    jf: short(pc, jf)?,
                    k,
                }),
                Item::Ja(l) => out.push(sock_filter {
                    code: JA,
                    jt: 0,
                    jf: 0,
                    k: u32::try_from(offset(pc, l)?).map_err(|_| "jump too long")?,
                }),
            }
        }
        Ok(out)
    }
}

/// The program for `rules` (syscall number -> action); anything else is killed.
pub(crate) fn program(rules: &BTreeMap<u32, Action>) -> Result<Vec<sock_filter>, String> {
    let mut a = Asm::default();
    // Only the x86_64 ABI: i386 (int 0x80) and anything else is killed.
    let arch_ok = a.label();
    a.stmt(LD_W_ABS, OFF_ARCH);
    a.jump(
        JEQ_K,
        AUDIT_ARCH_X86_64,
        Target::Label(arch_ok),
        Target::Next,
    );
    a.stmt(RET_K, RET_KILL_PROCESS);
    a.place(arch_ok);
    // x32 numbers (bit 30) would otherwise be searched like x86_64 ones.
    let nr_ok = a.label();
    a.stmt(LD_W_ABS, OFF_NR);
    a.jump(JGE_K, X32_SYSCALL_BIT, Target::Next, Target::Label(nr_ok));
    a.stmt(RET_K, RET_KILL_PROCESS);
    a.place(nr_ok);
    let entries: Vec<(u32, &Action)> = rules.iter().map(|(n, act)| (*n, act)).collect();
    if entries.iter().any(|(n, _)| *n >= X32_SYSCALL_BIT) {
        return Err("a syscall number with the x32 bit".into());
    }
    search(&mut a, &entries)?;
    a.finish()
}

/// Binary search over sorted syscall numbers (the accumulator holds nr). Each
/// level is `nr >= pivot ? right : left`; small groups compare for equality.
fn search(a: &mut Asm, e: &[(u32, &Action)]) -> Result<(), String> {
    if e.len() <= 4 {
        let blocks: Vec<usize> = e.iter().map(|_| a.label()).collect();
        for ((nr, _), block) in e.iter().zip(&blocks) {
            let next = a.label();
            a.jump(JEQ_K, *nr, Target::Next, Target::Label(next));
            a.ja(*block);
            a.place(next);
        }
        a.stmt(RET_K, RET_KILL_PROCESS);
        for ((_, act), block) in e.iter().zip(blocks) {
            a.place(block);
            action(a, act)?;
        }
        return Ok(());
    }
    let (left, right) = e.split_at(e.len() / 2);
    let (l_left, l_right) = (a.label(), a.label());
    a.jump(JGE_K, right[0].0, Target::Next, Target::Label(l_left));
    a.ja(l_right);
    a.place(l_left);
    search(a, left)?;
    a.place(l_right);
    search(a, right)
}

fn action(a: &mut Asm, act: &Action) -> Result<(), String> {
    match act {
        Action::Allow => a.stmt(RET_K, RET_ALLOW),
        Action::Errno(e) => a.stmt(RET_K, RET_ERRNO | (e & 0xffff)),
        Action::Sets(sets) => {
            for set in sets {
                let fail = a.label();
                for c in set {
                    cond(a, c, fail)?;
                }
                a.stmt(RET_K, RET_ALLOW);
                a.place(fail);
            }
            a.stmt(RET_K, RET_KILL_PROCESS);
        }
    }
    Ok(())
}

/// Falls through when the condition holds, jumps to `fail` when it does not.
fn cond(a: &mut Asm, c: &Cond, fail: usize) -> Result<(), String> {
    if c.index > 5 {
        return Err(format!("argument index {} (0 to 5)", c.index));
    }
    let lo = OFF_ARGS + 8 * u32::from(c.index);
    let hi = lo + 4;
    let (vhi, vlo) = ((c.val >> 32) as u32, c.val as u32);
    let fail = Target::Label(fail);
    match c.cmp {
        Cmp::Eq => {
            if c.qword {
                a.stmt(LD_W_ABS, hi);
                a.jump(JEQ_K, vhi, Target::Next, fail);
            }
            a.stmt(LD_W_ABS, lo);
            a.jump(JEQ_K, vlo, Target::Next, fail);
        }
        Cmp::MaskedEq(mask) => {
            let v = c.val & mask;
            if c.qword {
                a.stmt(LD_W_ABS, hi);
                a.stmt(AND_K, (mask >> 32) as u32);
                a.jump(JEQ_K, (v >> 32) as u32, Target::Next, fail);
            }
            a.stmt(LD_W_ABS, lo);
            a.stmt(AND_K, mask as u32);
            a.jump(JEQ_K, v as u32, Target::Next, fail);
        }
        Cmp::Ne => {
            let pass = a.label();
            if c.qword {
                a.stmt(LD_W_ABS, hi);
                a.jump(JEQ_K, vhi, Target::Next, Target::Label(pass));
            }
            a.stmt(LD_W_ABS, lo);
            a.jump(JEQ_K, vlo, fail, Target::Next);
            a.place(pass);
        }
        Cmp::Ge | Cmp::Gt => {
            let pass = a.label();
            if c.qword {
                a.stmt(LD_W_ABS, hi);
                a.jump(JGT_K, vhi, Target::Label(pass), Target::Next);
                a.jump(JEQ_K, vhi, Target::Next, fail);
            }
            a.stmt(LD_W_ABS, lo);
            let op = if c.cmp == Cmp::Ge { JGE_K } else { JGT_K };
            a.jump(op, vlo, Target::Next, fail);
            a.place(pass);
        }
        Cmp::Le | Cmp::Lt => {
            let pass = a.label();
            if c.qword {
                a.stmt(LD_W_ABS, hi);
                a.jump(JGT_K, vhi, fail, Target::Next);
                a.jump(JEQ_K, vhi, Target::Next, Target::Label(pass));
            }
            a.stmt(LD_W_ABS, lo);
            // x <= v is !(x > v); x < v is !(x >= v).
            let op = if c.cmp == Cmp::Le { JGT_K } else { JGE_K };
            a.jump(op, vlo, fail, Target::Next);
            a.place(pass);
        }
    }
    Ok(())
}

/// A classic BPF interpreter for the instructions above and seccompiler's (the
/// tests run both compilers' programs on the same inputs).
#[cfg(test)]
pub(crate) fn run(prog: &[sock_filter], nr: u32, arch: u32, args: [u64; 6]) -> u32 {
    let word = |off: u32| -> u32 {
        match off {
            0 => nr,
            4 => arch,
            o if (16..64).contains(&o) && o % 4 == 0 => {
                let a = args[((o - 16) / 8) as usize];
                if (o - 16) % 8 == 0 {
                    a as u32
                } else {
                    (a >> 32) as u32
                }
            }
            o => panic!("load at offset {o}"),
        }
    };
    let (mut pc, mut acc) = (0usize, 0u32);
    loop {
        let f = &prog[pc];
        pc += 1;
        let jump = |cond: bool| if cond { f.jt } else { f.jf } as usize;
        match f.code {
            LD_W_ABS => acc = word(f.k),
            AND_K => acc &= f.k,
            RET_K => return f.k,
            JA => pc += f.k as usize,
            JEQ_K => pc += jump(acc == f.k),
            JGT_K => pc += jump(acc > f.k),
            JGE_K => pc += jump(acc >= f.k),
            0x45 => pc += jump(acc & f.k != 0), // BPF_JSET
            c => panic!("opcode {c:#x} at {}", pc - 1),
        }
    }
}
