//! Looking at a running worker from the host (SEC-01, SEC-13): its memory,
//! environment and arguments searched for a secret, its core-dump settings.
//! Reads /proc only; needs the ptrace access the supervisor has over its own
//! workers (root, or uid 0 of the lab's user namespace).

use std::io::{Read, Seek, SeekFrom};

/// Every process below this one (the supervisor's workers).
pub(crate) fn descendants() -> Vec<i32> {
    let me = std::process::id() as i32;
    let mut parent = std::collections::HashMap::new();
    for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        // pid (comm) state ppid ...: comm may hold spaces and parentheses.
        let ppid = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|p| p.parse::<i32>().ok());
        if let Some(ppid) = ppid {
            parent.insert(pid, ppid);
        }
    }
    let mut out: Vec<i32> = parent
        .keys()
        .copied()
        .filter(|p| {
            let mut cur = *p;
            for _ in 0..64 {
                match parent.get(&cur) {
                    Some(&pp) if pp == me => return true,
                    Some(&pp) if pp > 1 => cur = pp,
                    _ => return false,
                }
            }
            false
        })
        .collect();
    out.sort_unstable();
    out
}

fn contains(hay: &[u8], forms: &[Vec<u8>]) -> bool {
    forms
        .iter()
        .any(|f| !f.is_empty() && hay.windows(f.len()).any(|w| w == f.as_slice()))
}

/// Searches every readable mapping, the environment and the arguments of every
/// worker for any of `forms`. Blocked (`Ok`) only when nothing was found *and*
/// the search works: `control`, which the worker is known to hold, was found.
pub fn search_workers(forms: &[Vec<u8>], control: &[u8]) -> Result<String, String> {
    let pids = descendants();
    if pids.is_empty() {
        return Err("no worker to inspect".into());
    }
    let mut total = 0usize;
    let mut control_seen = false;
    let control = [control.to_vec()];
    for pid in &pids {
        for f in ["environ", "cmdline"] {
            let bytes = std::fs::read(format!("/proc/{pid}/{f}")).unwrap_or_default();
            if contains(&bytes, forms) {
                return Err(format!("worker {pid} holds the secret in its {f}"));
            }
        }
        let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).unwrap_or_default();
        let Ok(mut mem) = std::fs::File::open(format!("/proc/{pid}/mem")) else {
            continue;
        };
        for line in maps.lines() {
            let mut f = line.split_whitespace();
            let (Some(range), Some(perms)) = (f.next(), f.next()) else {
                continue;
            };
            if !perms.starts_with('r') || line.contains("[vvar") || line.contains("[vsyscall") {
                continue;
            }
            let (a, b) = range.split_once('-').unwrap_or(("0", "0"));
            let (a, b) = (
                u64::from_str_radix(a, 16).unwrap_or(0),
                u64::from_str_radix(b, 16).unwrap_or(0),
            );
            if b <= a || b - a > (1 << 30) {
                continue;
            }
            let mut buf = vec![0u8; (b - a) as usize];
            if mem.seek(SeekFrom::Start(a)).is_err() || mem.read_exact(&mut buf).is_err() {
                continue;
            }
            total += buf.len();
            control_seen |= contains(&buf, &control);
            if contains(&buf, forms) {
                return Err(format!("worker {pid} holds the secret in {line}"));
            }
        }
    }
    if !control_seen {
        return Err(format!(
            "the search did not find what the worker is known to hold ({total} bytes read): nothing proved"
        ));
    }
    Ok(format!(
        "absent from {} worker(s): {} MiB of memory, environment, arguments (a control string was found)",
        pids.len(),
        total >> 20
    ))
}

/// RLIMIT_CORE of `pid` (`self` or a number): `Ok` when soft and hard are 0.
pub fn core_limit(pid: &str) -> Result<String, String> {
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits"))
        .map_err(|e| format!("/proc/{pid}/limits: {e}"))?;
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max core file size"))
        .unwrap_or("");
    let f: Vec<&str> = line.split_whitespace().collect();
    if f.get(4) == Some(&"0") && f.get(5) == Some(&"0") {
        Ok("0/0".into())
    } else {
        Err(format!("core dumps possible: {line}"))
    }
}

/// Every worker's RLIMIT_CORE is 0.
pub fn worker_core_settings() -> Result<String, String> {
    let pids = descendants();
    if pids.is_empty() {
        return Err("no worker to inspect".into());
    }
    for pid in &pids {
        core_limit(&pid.to_string()).map_err(|e| format!("worker {pid}: {e}"))?;
    }
    Ok(format!("{} worker(s): RLIMIT_CORE 0/0", pids.len()))
}
