//! Every seccomp profile, tested against the kernel in forked children: each
//! allowed call (with its allowed arguments) is not killed, and each call of the
//! forbidden list — plus x32 numbers, namespace-creating clone flags and network
//! socket families — kills the process with SIGSYS.
#![allow(unsafe_code)]

use agentbox_profiles::{SECCOMP_PROFILES, SeccompProfile};
use nix::sys::signal::Signal;
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::{ForkResult, fork};
use std::time::{Duration, Instant};

const TABLE: &[(&str, i64)] = &[
    ("accept4", libc::SYS_accept4),
    ("access", libc::SYS_access),
    ("acct", libc::SYS_acct),
    ("add_key", libc::SYS_add_key),
    ("adjtimex", libc::SYS_adjtimex),
    ("alarm", libc::SYS_alarm),
    ("arch_prctl", libc::SYS_arch_prctl),
    ("bind", libc::SYS_bind),
    ("bpf", libc::SYS_bpf),
    ("brk", libc::SYS_brk),
    ("capget", libc::SYS_capget),
    ("chdir", libc::SYS_chdir),
    ("chmod", libc::SYS_chmod),
    ("chroot", libc::SYS_chroot),
    ("clock_getres", libc::SYS_clock_getres),
    ("clock_gettime", libc::SYS_clock_gettime),
    ("clock_nanosleep", libc::SYS_clock_nanosleep),
    ("clock_settime", libc::SYS_clock_settime),
    ("clone", libc::SYS_clone),
    ("clone3", libc::SYS_clone3),
    ("close", libc::SYS_close),
    ("close_range", libc::SYS_close_range),
    ("connect", libc::SYS_connect),
    ("copy_file_range", libc::SYS_copy_file_range),
    ("creat", libc::SYS_creat),
    ("delete_module", libc::SYS_delete_module),
    ("dup", libc::SYS_dup),
    ("dup2", libc::SYS_dup2),
    ("dup3", libc::SYS_dup3),
    ("epoll_create", libc::SYS_epoll_create),
    ("epoll_create1", libc::SYS_epoll_create1),
    ("epoll_ctl", libc::SYS_epoll_ctl),
    ("epoll_pwait", libc::SYS_epoll_pwait),
    ("epoll_pwait2", libc::SYS_epoll_pwait2),
    ("epoll_wait", libc::SYS_epoll_wait),
    ("eventfd2", libc::SYS_eventfd2),
    ("execve", libc::SYS_execve),
    ("execveat", libc::SYS_execveat),
    ("exit", libc::SYS_exit),
    ("exit_group", libc::SYS_exit_group),
    ("faccessat", libc::SYS_faccessat),
    ("faccessat2", libc::SYS_faccessat2),
    ("fadvise64", libc::SYS_fadvise64),
    ("fallocate", libc::SYS_fallocate),
    ("fanotify_init", libc::SYS_fanotify_init),
    ("fchdir", libc::SYS_fchdir),
    ("fchmod", libc::SYS_fchmod),
    ("fchmodat", libc::SYS_fchmodat),
    ("fcntl", libc::SYS_fcntl),
    ("fdatasync", libc::SYS_fdatasync),
    ("finit_module", libc::SYS_finit_module),
    ("flock", libc::SYS_flock),
    ("fork", libc::SYS_fork),
    ("fsmount", libc::SYS_fsmount),
    ("fsopen", libc::SYS_fsopen),
    ("fstat", libc::SYS_fstat),
    ("fstatfs", libc::SYS_fstatfs),
    ("fsync", libc::SYS_fsync),
    ("ftruncate", libc::SYS_ftruncate),
    ("futex", libc::SYS_futex),
    ("futimesat", libc::SYS_futimesat),
    ("get_robust_list", libc::SYS_get_robust_list),
    ("getcpu", libc::SYS_getcpu),
    ("getcwd", libc::SYS_getcwd),
    ("getdents64", libc::SYS_getdents64),
    ("getegid", libc::SYS_getegid),
    ("geteuid", libc::SYS_geteuid),
    ("getgid", libc::SYS_getgid),
    ("getgroups", libc::SYS_getgroups),
    ("getitimer", libc::SYS_getitimer),
    ("getpeername", libc::SYS_getpeername),
    ("getpgid", libc::SYS_getpgid),
    ("getpgrp", libc::SYS_getpgrp),
    ("getpid", libc::SYS_getpid),
    ("getppid", libc::SYS_getppid),
    ("getpriority", libc::SYS_getpriority),
    ("getrandom", libc::SYS_getrandom),
    ("getresgid", libc::SYS_getresgid),
    ("getresuid", libc::SYS_getresuid),
    ("getrlimit", libc::SYS_getrlimit),
    ("getrusage", libc::SYS_getrusage),
    ("getsid", libc::SYS_getsid),
    ("getsockname", libc::SYS_getsockname),
    ("getsockopt", libc::SYS_getsockopt),
    ("gettid", libc::SYS_gettid),
    ("getuid", libc::SYS_getuid),
    ("init_module", libc::SYS_init_module),
    ("inotify_add_watch", libc::SYS_inotify_add_watch),
    ("inotify_init1", libc::SYS_inotify_init1),
    ("inotify_rm_watch", libc::SYS_inotify_rm_watch),
    ("io_uring_enter", libc::SYS_io_uring_enter),
    ("io_uring_register", libc::SYS_io_uring_register),
    ("io_uring_setup", libc::SYS_io_uring_setup),
    ("ioctl", libc::SYS_ioctl),
    ("ioperm", libc::SYS_ioperm),
    ("iopl", libc::SYS_iopl),
    ("kcmp", libc::SYS_kcmp),
    ("kexec_load", libc::SYS_kexec_load),
    ("keyctl", libc::SYS_keyctl),
    ("kill", libc::SYS_kill),
    ("landlock_add_rule", libc::SYS_landlock_add_rule),
    ("landlock_create_ruleset", libc::SYS_landlock_create_ruleset),
    ("landlock_restrict_self", libc::SYS_landlock_restrict_self),
    ("link", libc::SYS_link),
    ("linkat", libc::SYS_linkat),
    ("listen", libc::SYS_listen),
    ("lookup_dcookie", libc::SYS_lookup_dcookie),
    ("lseek", libc::SYS_lseek),
    ("lstat", libc::SYS_lstat),
    ("madvise", libc::SYS_madvise),
    ("mbind", libc::SYS_mbind),
    ("membarrier", libc::SYS_membarrier),
    ("memfd_create", libc::SYS_memfd_create),
    ("migrate_pages", libc::SYS_migrate_pages),
    ("mincore", libc::SYS_mincore),
    ("mkdir", libc::SYS_mkdir),
    ("mkdirat", libc::SYS_mkdirat),
    ("mknod", libc::SYS_mknod),
    ("mknodat", libc::SYS_mknodat),
    ("mlock", libc::SYS_mlock),
    ("mmap", libc::SYS_mmap),
    ("mount", libc::SYS_mount),
    ("move_mount", libc::SYS_move_mount),
    ("move_pages", libc::SYS_move_pages),
    ("mprotect", libc::SYS_mprotect),
    ("mremap", libc::SYS_mremap),
    ("msync", libc::SYS_msync),
    ("munlock", libc::SYS_munlock),
    ("munmap", libc::SYS_munmap),
    ("name_to_handle_at", libc::SYS_name_to_handle_at),
    ("nanosleep", libc::SYS_nanosleep),
    ("newfstatat", libc::SYS_newfstatat),
    ("open", libc::SYS_open),
    ("open_by_handle_at", libc::SYS_open_by_handle_at),
    ("open_tree", libc::SYS_open_tree),
    ("openat", libc::SYS_openat),
    ("openat2", libc::SYS_openat2),
    ("pause", libc::SYS_pause),
    ("perf_event_open", libc::SYS_perf_event_open),
    ("personality", libc::SYS_personality),
    ("pidfd_getfd", libc::SYS_pidfd_getfd),
    ("pidfd_open", libc::SYS_pidfd_open),
    ("pipe", libc::SYS_pipe),
    ("pipe2", libc::SYS_pipe2),
    ("pivot_root", libc::SYS_pivot_root),
    ("poll", libc::SYS_poll),
    ("ppoll", libc::SYS_ppoll),
    ("prctl", libc::SYS_prctl),
    ("pread64", libc::SYS_pread64),
    ("preadv", libc::SYS_preadv),
    ("prlimit64", libc::SYS_prlimit64),
    ("process_vm_readv", libc::SYS_process_vm_readv),
    ("process_vm_writev", libc::SYS_process_vm_writev),
    ("pselect6", libc::SYS_pselect6),
    ("ptrace", libc::SYS_ptrace),
    ("pwrite64", libc::SYS_pwrite64),
    ("pwritev", libc::SYS_pwritev),
    ("pwritev2", libc::SYS_pwritev2),
    ("quotactl", libc::SYS_quotactl),
    ("read", libc::SYS_read),
    ("readlink", libc::SYS_readlink),
    ("readlinkat", libc::SYS_readlinkat),
    ("readv", libc::SYS_readv),
    ("reboot", libc::SYS_reboot),
    ("recvfrom", libc::SYS_recvfrom),
    ("recvmsg", libc::SYS_recvmsg),
    ("rename", libc::SYS_rename),
    ("renameat", libc::SYS_renameat),
    ("renameat2", libc::SYS_renameat2),
    ("request_key", libc::SYS_request_key),
    ("rmdir", libc::SYS_rmdir),
    ("rseq", libc::SYS_rseq),
    ("rt_sigaction", libc::SYS_rt_sigaction),
    ("rt_sigprocmask", libc::SYS_rt_sigprocmask),
    ("rt_sigqueueinfo", libc::SYS_rt_sigqueueinfo),
    ("rt_sigreturn", libc::SYS_rt_sigreturn),
    ("rt_sigsuspend", libc::SYS_rt_sigsuspend),
    ("rt_sigtimedwait", libc::SYS_rt_sigtimedwait),
    ("sched_getaffinity", libc::SYS_sched_getaffinity),
    ("sched_getparam", libc::SYS_sched_getparam),
    ("sched_getscheduler", libc::SYS_sched_getscheduler),
    ("sched_setaffinity", libc::SYS_sched_setaffinity),
    ("sched_setscheduler", libc::SYS_sched_setscheduler),
    ("sched_yield", libc::SYS_sched_yield),
    ("seccomp", libc::SYS_seccomp),
    ("select", libc::SYS_select),
    ("sendfile", libc::SYS_sendfile),
    ("sendmsg", libc::SYS_sendmsg),
    ("sendto", libc::SYS_sendto),
    ("set_robust_list", libc::SYS_set_robust_list),
    ("set_tid_address", libc::SYS_set_tid_address),
    ("setdomainname", libc::SYS_setdomainname),
    ("setgid", libc::SYS_setgid),
    ("setgroups", libc::SYS_setgroups),
    ("sethostname", libc::SYS_sethostname),
    ("setitimer", libc::SYS_setitimer),
    ("setns", libc::SYS_setns),
    ("setpgid", libc::SYS_setpgid),
    ("setresgid", libc::SYS_setresgid),
    ("setresuid", libc::SYS_setresuid),
    ("setsid", libc::SYS_setsid),
    ("setsockopt", libc::SYS_setsockopt),
    ("settimeofday", libc::SYS_settimeofday),
    ("setuid", libc::SYS_setuid),
    ("shutdown", libc::SYS_shutdown),
    ("sigaltstack", libc::SYS_sigaltstack),
    ("socket", libc::SYS_socket),
    ("socketpair", libc::SYS_socketpair),
    ("splice", libc::SYS_splice),
    ("stat", libc::SYS_stat),
    ("statfs", libc::SYS_statfs),
    ("statx", libc::SYS_statx),
    ("swapon", libc::SYS_swapon),
    ("symlink", libc::SYS_symlink),
    ("symlinkat", libc::SYS_symlinkat),
    ("sysinfo", libc::SYS_sysinfo),
    ("syslog", libc::SYS_syslog),
    ("tee", libc::SYS_tee),
    ("tgkill", libc::SYS_tgkill),
    ("timer_create", libc::SYS_timer_create),
    ("timer_delete", libc::SYS_timer_delete),
    ("timer_settime", libc::SYS_timer_settime),
    ("timerfd_create", libc::SYS_timerfd_create),
    ("timerfd_settime", libc::SYS_timerfd_settime),
    ("times", libc::SYS_times),
    ("tkill", libc::SYS_tkill),
    ("truncate", libc::SYS_truncate),
    ("umask", libc::SYS_umask),
    ("umount2", libc::SYS_umount2),
    ("uname", libc::SYS_uname),
    ("unlink", libc::SYS_unlink),
    ("unlinkat", libc::SYS_unlinkat),
    ("unshare", libc::SYS_unshare),
    ("userfaultfd", libc::SYS_userfaultfd),
    ("utime", libc::SYS_utime),
    ("utimensat", libc::SYS_utimensat),
    ("utimes", libc::SYS_utimes),
    ("vfork", libc::SYS_vfork),
    ("vmsplice", libc::SYS_vmsplice),
    ("wait4", libc::SYS_wait4),
    ("waitid", libc::SYS_waitid),
    ("write", libc::SYS_write),
    ("writev", libc::SYS_writev),
];

fn nr(name: &str) -> i64 {
    TABLE
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, n)| *n)
        .unwrap_or_else(|| panic!("no syscall number for {name}"))
}

/// Forks; the child applies the profile and makes one raw syscall; returns how the
/// child ended (None: still running after the deadline, then killed).
fn outcome(
    profile: &agentbox_profiles::CompiledSeccomp,
    nr: i64,
    args: [u64; 6],
) -> Option<WaitStatus> {
    // SAFETY: the child only makes raw syscalls (prctl, seccomp, the probe call,
    // _exit) on data prepared before fork: no allocation, no locks.
    match unsafe { fork() }.expect("fork") {
        ForkResult::Child => unsafe {
            libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
            let f = &profile.filter;
            let prog = libc::sock_fprog {
                len: f.len() as u16,
                filter: f.as_ptr() as *mut libc::sock_filter,
            };
            if libc::syscall(
                libc::SYS_seccomp,
                libc::SECCOMP_SET_MODE_FILTER,
                0,
                &prog as *const libc::sock_fprog,
            ) != 0
            {
                libc::_exit(99);
            }
            libc::syscall(nr, args[0], args[1], args[2], args[3], args[4], args[5]);
            libc::_exit(0);
        },
        ForkResult::Parent { child } => {
            let start = Instant::now();
            loop {
                match waitpid(child, Some(WaitPidFlag::WNOHANG)).expect("waitpid") {
                    WaitStatus::StillAlive => {
                        if start.elapsed() > Duration::from_millis(500) {
                            let _ = nix::sys::signal::kill(child, Signal::SIGKILL);
                            let _ = waitpid(child, None);
                            return None;
                        }
                        std::thread::sleep(Duration::from_millis(1));
                    }
                    s => return Some(s),
                }
            }
        }
    }
}

fn killed_by_seccomp(s: &Option<WaitStatus>) -> bool {
    matches!(s, Some(WaitStatus::Signaled(_, Signal::SIGSYS, _)))
}

const NS_FLAGS: u64 = 0x7E02_0000;

#[test]
fn every_allowed_call_works_with_its_allowed_arguments() {
    for (name, _) in SECCOMP_PROFILES {
        let p = SeccompProfile::shipped(name).expect("profile");
        let c = p.compile().expect("compile");
        for rule in &p.allow {
            let sets: Vec<[u64; 6]> = if rule.args.is_empty() {
                vec![[u64::MAX; 6]]
            } else {
                rule.args
                    .iter()
                    .map(|conds| {
                        let mut a = [u64::MAX; 6];
                        for cnd in conds {
                            a[cnd.index as usize] = cnd.val;
                        }
                        a
                    })
                    .collect()
            };
            for args in sets {
                let s = outcome(&c, nr(&rule.syscall), args);
                assert!(
                    !killed_by_seccomp(&s),
                    "profile {name}: allowed call {} was killed",
                    rule.syscall
                );
                assert!(
                    !matches!(s, Some(WaitStatus::Exited(_, 99))),
                    "profile {name}: filter not applied"
                );
            }
        }
        for rule in &p.errno {
            let s = outcome(&c, nr(&rule.syscall), [u64::MAX; 6]);
            assert!(
                matches!(s, Some(WaitStatus::Exited(_, 0))),
                "profile {name}: {} should get errno {}: {s:?}",
                rule.syscall,
                rule.errno
            );
        }
    }
}

#[test]
fn forbidden_calls_kill() {
    let forbidden: Vec<&str> = TABLE
        .iter()
        .map(|(n, _)| *n)
        .filter(|n| {
            SECCOMP_PROFILES
                .iter()
                .all(|(p, _)| !SeccompProfile::shipped(p).expect("p").allowed().contains(n))
        })
        .collect();
    assert!(forbidden.len() > 50);
    for (name, _) in SECCOMP_PROFILES {
        let p = SeccompProfile::shipped(name).expect("profile");
        let c = p.compile().expect("compile");
        for call in &forbidden {
            if p.errno.iter().any(|e| e.syscall == *call) {
                continue;
            }
            let s = outcome(&c, nr(call), [0; 6]);
            assert!(
                killed_by_seccomp(&s),
                "profile {name}: {call} was not killed: {s:?}"
            );
        }
        // x32 ABI numbers (bit 30) never match the x86_64 allow-list.
        let s = outcome(&c, 0x4000_0000 | libc::SYS_getpid, [0; 6]);
        assert!(
            killed_by_seccomp(&s),
            "profile {name}: x32 getpid was not killed"
        );
        // Namespace-creating clone flags.
        for flag in [
            libc::CLONE_NEWUSER,
            libc::CLONE_NEWNS,
            libc::CLONE_NEWNET,
            libc::CLONE_NEWPID,
        ] {
            let s = outcome(
                &c,
                libc::SYS_clone,
                [(flag as u64) | (libc::SIGCHLD as u64), 0, 0, 0, 0, 0],
            );
            assert!(
                killed_by_seccomp(&s),
                "profile {name}: clone({flag:#x}) was not killed"
            );
        }
        // Network families: AF_INET, AF_INET6, AF_NETLINK, AF_PACKET, AF_ALG.
        for fam in [
            libc::AF_INET,
            libc::AF_INET6,
            libc::AF_NETLINK,
            libc::AF_PACKET,
            libc::AF_ALG,
        ] {
            let s = outcome(
                &c,
                libc::SYS_socket,
                [fam as u64, libc::SOCK_STREAM as u64, 0, 0, 0, 0],
            );
            assert!(
                killed_by_seccomp(&s),
                "profile {name}: socket({fam}) was not killed"
            );
        }
        assert_eq!(
            NS_FLAGS & (libc::CLONE_NEWUSER as u64),
            libc::CLONE_NEWUSER as u64
        );
    }
    // The wasm worker never execs and never forks a process.
    let p = SeccompProfile::shipped("wasm-worker").expect("p");
    let c = p.compile().expect("compile");
    for call in ["execve", "execveat", "fork", "vfork", "socket", "connect"] {
        let s = outcome(&c, nr(call), [0; 6]);
        assert!(killed_by_seccomp(&s), "wasm-worker: {call} was not killed");
    }
    let s = outcome(&c, libc::SYS_clone, [libc::SIGCHLD as u64, 0, 0, 0, 0, 0]);
    assert!(
        killed_by_seccomp(&s),
        "wasm-worker: clone without CLONE_THREAD (a new process) was not killed"
    );
}

/// The native profile (issue 13.6): `prctl` only with the options it lists (never
/// one that loosens the process), and `memfd_create` only with MFD_NOEXEC_SEAL, so
/// no memfd can ever be executed.
#[test]
fn native_prctl_and_memfd_are_restricted() {
    let p = SeccompProfile::shipped("native").expect("profile");
    let c = p.compile().expect("compile");
    const MFD_NOEXEC_SEAL: u64 = 8;
    const MFD_EXEC: u64 = 0x10;
    let name = c"x".as_ptr() as u64;
    for (what, nr, args) in [
        (
            "PR_SET_DUMPABLE 1",
            libc::SYS_prctl,
            [libc::PR_SET_DUMPABLE as u64, 1, 0, 0, 0, 0],
        ),
        (
            "PR_SET_PTRACER",
            libc::SYS_prctl,
            [libc::PR_SET_PTRACER as u64, u64::MAX, 0, 0, 0, 0],
        ),
        (
            "PR_SET_MM",
            libc::SYS_prctl,
            [libc::PR_SET_MM as u64, 1, 0, 0, 0, 0],
        ),
        (
            "PR_SET_SECUREBITS",
            libc::SYS_prctl,
            [libc::PR_SET_SECUREBITS as u64, 0, 0, 0, 0, 0],
        ),
        (
            "PR_SET_KEEPCAPS",
            libc::SYS_prctl,
            [libc::PR_SET_KEEPCAPS as u64, 1, 0, 0, 0, 0],
        ),
        (
            "PR_SET_NO_NEW_PRIVS 0",
            libc::SYS_prctl,
            [libc::PR_SET_NO_NEW_PRIVS as u64, 0, 0, 0, 0, 0],
        ),
        (
            "memfd_create()",
            libc::SYS_memfd_create,
            [name, 0, 0, 0, 0, 0],
        ),
        (
            "memfd_create(MFD_CLOEXEC)",
            libc::SYS_memfd_create,
            [name, 1, 0, 0, 0, 0],
        ),
        (
            "memfd_create(MFD_EXEC)",
            libc::SYS_memfd_create,
            [name, MFD_EXEC, 0, 0, 0, 0],
        ),
        (
            "memfd_create(MFD_EXEC | MFD_NOEXEC_SEAL)",
            libc::SYS_memfd_create,
            [name, MFD_EXEC | MFD_NOEXEC_SEAL, 0, 0, 0, 0],
        ),
    ] {
        let s = outcome(&c, nr, args);
        assert!(
            killed_by_seccomp(&s),
            "native: {what} was not killed: {s:?}"
        );
    }
    for (what, nr, args) in [
        (
            "PR_SET_NAME",
            libc::SYS_prctl,
            [libc::PR_SET_NAME as u64, name, 0, 0, 0, 0],
        ),
        (
            "PR_GET_DUMPABLE",
            libc::SYS_prctl,
            [libc::PR_GET_DUMPABLE as u64, 0, 0, 0, 0, 0],
        ),
        (
            "memfd_create(MFD_NOEXEC_SEAL | MFD_CLOEXEC)",
            libc::SYS_memfd_create,
            [name, MFD_NOEXEC_SEAL | 1, 0, 0, 0, 0],
        ),
    ] {
        let s = outcome(&c, nr, args);
        assert!(
            matches!(s, Some(WaitStatus::Exited(_, 0))),
            "native: {what}: {s:?}"
        );
    }
}

/// Ordinary WASI file operations never trip the wasm worker's filter. The calls
/// and arguments are those wasmtime-wasi makes for the WASI test suite's preview1
/// file tests (docs/wasi-testsuite.md; e.g. pwrite-with-append and fd_flags_set
/// write in append mode with pwritev2(RWF_APPEND)). Each is made on an invalid
/// descriptor: let through, it fails with EBADF; filtered, the child is killed.
#[test]
fn wasi_file_operations_pass_the_wasm_worker_filter() {
    let p = SeccompProfile::shipped("wasm-worker").expect("p");
    let c = p.compile().expect("compile");
    let bad = u64::MAX;
    const RWF_HIPRI: u64 = 0x1;
    const RWF_APPEND: u64 = 0x10;
    let calls: &[(&str, [u64; 6])] = &[
        // fd_write on a file opened with O_APPEND or flagged APPEND.
        ("pwritev2", [bad, 0, 0, u64::MAX, u64::MAX, RWF_APPEND]),
        // fd_pwrite / fd_pread / fd_write / fd_read.
        ("pwritev", [bad, 0, 0, 0, 0, 0]),
        ("pwrite64", [bad, 0, 0, 0, 0, 0]),
        ("preadv", [bad, 0, 0, 0, 0, 0]),
        ("pread64", [bad, 0, 0, 0, 0, 0]),
        ("write", [bad, 0, 0, 0, 0, 0]),
        ("read", [bad, 0, 0, 0, 0, 0]),
        // fd_fdstat_get / fd_fdstat_set_flags (O_NONBLOCK), path_open.
        ("fcntl", [bad, libc::F_GETFL as u64, 0, 0, 0, 0]),
        (
            "fcntl",
            [bad, libc::F_SETFL as u64, libc::O_NONBLOCK as u64, 0, 0, 0],
        ),
        ("openat", [bad, 0, 0, 0, 0, 0]),
        ("openat2", [bad, 0, 0, 0, 0, 0]),
        // fd_seek, fd_tell, fd_readdir, fd_advise, fd_allocate, fd_filestat_set_size,
        // fd_filestat_set_times, fd_sync, fd_datasync.
        ("lseek", [bad, 0, 0, 0, 0, 0]),
        ("getdents64", [bad, 0, 0, 0, 0, 0]),
        ("fadvise64", [bad, 0, 0, 0, 0, 0]),
        ("fallocate", [bad, 0, 0, 0, 0, 0]),
        ("ftruncate", [bad, 0, 0, 0, 0, 0]),
        ("utimensat", [bad, 0, 0, 0, 0, 0]),
        ("fsync", [bad, 0, 0, 0, 0, 0]),
        ("fdatasync", [bad, 0, 0, 0, 0, 0]),
        // path_* calls.
        ("newfstatat", [bad, 0, 0, 0, 0, 0]),
        ("statx", [bad, 0, 0, 0, 0, 0]),
        ("readlinkat", [bad, 0, 0, 0, 0, 0]),
        ("mkdirat", [bad, 0, 0, 0, 0, 0]),
        ("unlinkat", [bad, 0, 0, 0, 0, 0]),
        ("renameat", [bad, 0, bad, 0, 0, 0]),
        ("linkat", [bad, 0, bad, 0, 0, 0]),
        ("symlinkat", [0, bad, 0, 0, 0, 0]),
        ("fstat", [bad, 0, 0, 0, 0, 0]),
    ];
    for (call, args) in calls {
        let s = outcome(&c, nr(call), *args);
        assert!(
            !killed_by_seccomp(&s),
            "wasm-worker: {call}{args:x?} (a WASI file operation) was killed"
        );
    }
    // pwritev2 only with RWF_APPEND: its other flags stay forbidden.
    for flags in [0, RWF_HIPRI, RWF_APPEND | RWF_HIPRI] {
        let s = outcome(&c, nr("pwritev2"), [bad, 0, 0, 0, 0, flags]);
        assert!(
            killed_by_seccomp(&s),
            "wasm-worker: pwritev2 with flags {flags:#x} was not killed"
        );
    }
}
