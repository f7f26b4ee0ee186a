//! Resource exhaustion the cgroup and rlimits must contain: fork and thread
//! bombs, memory, CPU, daemons outliving the run.

use super::*;

/// The attempts of this family's cases (`None`: not one of them).
pub(super) fn attempts(case: &str) -> Option<Vec<Attempt>> {
    Some(match case {
        "CG-02" => [
            "/sys/fs/cgroup/memory/cgroup.procs",
            "/sys/fs/cgroup/pids/tasks",
            "/sys/fs/cgroup/cgroup.procs",
            "/sys/fs/cgroup/unified/cgroup.procs",
        ]
        .iter()
        .map(|&f| {
            at(format!("write own pid into {f}"), move |_| {
                open_must_fail(f, libc::O_WRONLY)
            })
        })
        .collect(),
        "RES-14" => vec![at("fork bomb", |_| {
            let mut n = 0u32;
            loop {
                match sys(libc::SYS_fork, [0; 6]) {
                    Ok(0) => {
                        std::thread::sleep(std::time::Duration::from_secs(600));
                        // SAFETY: exit the child.
                        unsafe { libc::_exit(0) }
                    }
                    Ok(_) => n += 1,
                    Err(e) => {
                        return Blocked(format!("fork refused after {n} children: {}", errname(e)));
                    }
                }
                if n >= 4096 {
                    return Escaped(format!("{n} processes started"));
                }
            }
        })],
        "CG-06" => vec![at("fork a daemon", |_| {
            match sys(libc::SYS_fork, [0; 6]) {
                Ok(0) => {
                    // The child would try to outlive the run: it sleeps.
                    std::thread::sleep(std::time::Duration::from_secs(600));
                    // SAFETY: exit the child.
                    unsafe { libc::_exit(0) }
                }
                r => must_fail("fork", r),
            }
        })],
        "RES-15" => vec![at("thread bomb", |_| {
            let mut n = 0u32;
            loop {
                let spawned = std::thread::Builder::new()
                    .stack_size(64 * 1024)
                    .spawn(|| std::thread::sleep(std::time::Duration::from_secs(600)));
                match spawned {
                    Ok(_) => n += 1,
                    Err(e) => return Blocked(format!("thread {n} refused: {e}")),
                }
                if n >= 4096 {
                    return Escaped(format!("{n} threads started"));
                }
            }
        })],
        "RES-16" => vec![at("memory bomb (mmap and touch)", |e| {
            let limit = e.ctx.memory.max(1 << 20);
            let chunk = 8usize << 20;
            let mut total = 0u64;
            while total < limit.saturating_mul(2) {
                // SAFETY: anonymous private mapping, touched page by page.
                let m = unsafe {
                    libc::mmap(
                        std::ptr::null_mut(),
                        chunk,
                        libc::PROT_READ | libc::PROT_WRITE,
                        libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                        -1,
                        0,
                    )
                };
                if m == libc::MAP_FAILED {
                    return Blocked(format!(
                        "mmap refused after {total} bytes: {}",
                        errname(errno())
                    ));
                }
                for off in (0..chunk).step_by(4096) {
                    // SAFETY: within the mapping just made.
                    unsafe { *(m as *mut u8).add(off) = 1 };
                }
                total += chunk as u64;
            }
            Escaped(format!("touched {total} bytes, twice the limit"))
        })],
        "RES-17" => vec![at("CPU hog on every core", |_| {
            let cpu0 = cpu_time();
            let t0 = std::time::Instant::now();
            let hogs: Vec<_> = (0..2)
                .map(|_| {
                    std::thread::spawn(|| {
                        let t = std::time::Instant::now();
                        let mut x = 0u64;
                        while t.elapsed().as_millis() < 1000 {
                            x = x.wrapping_add(1);
                        }
                        x
                    })
                })
                .collect();
            for h in hogs {
                let _ = h.join();
            }
            let used = cpu_time() - cpu0;
            let wall = t0.elapsed().as_secs_f64();
            // Reported for the harness, which holds it against the quota.
            Blocked(format!("cpu {used:.3}s over {wall:.3}s wall"))
        })],
        _ => return None,
    })
}

fn cpu_time() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime into a local.
    unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 + ts.tv_nsec as f64 / 1e9
}
