//! The sandbox root: an empty tmpfs with only the grants (and, for native tools,
//! read-only system directories) bind-mounted; pivot_root into it.

use crate::Plan;
use nix::fcntl::{OFlag, open};
use nix::mount::{MntFlags, MsFlags, mount, umount2};
use nix::sys::stat::Mode;
use nix::sys::statvfs::{FsFlags, fstatvfs};
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};

/// Where the new root is assembled (shadowed only inside our mount namespace).
const STAGE: &str = "/tmp";

enum Source {
    /// A fresh tmpfs of (bytes, inodes).
    Scratch(u64, u64),
    Dir(OwnedFd),
    File(OwnedFd),
    Symlink(PathBuf),
}

struct Item {
    source: Source,
    /// Absolute path inside the sandbox.
    target: String,
    writable: bool,
    /// Executable (execve, mmap PROT_EXEC): never for anything writable.
    exec: bool,
}

fn open_path(p: &Path, dir: bool) -> Result<OwnedFd, String> {
    let mut flags = OFlag::O_PATH | OFlag::O_CLOEXEC | OFlag::O_NOFOLLOW;
    if dir {
        flags |= OFlag::O_DIRECTORY;
    }
    open(p, flags, Mode::empty()).map_err(|e| format!("{}: {e}", p.display()))
}

/// Mount flags a bind mount must keep (the kernel refuses to clear locked flags in
/// a user namespace), read from the source's filesystem.
fn kept_flags(fd: &OwnedFd) -> MsFlags {
    let mut f = MsFlags::empty();
    if let Ok(st) = fstatvfs(fd) {
        let fl = st.flags();
        if fl.contains(FsFlags::ST_NOSUID) {
            f |= MsFlags::MS_NOSUID;
        }
        if fl.contains(FsFlags::ST_NODEV) {
            f |= MsFlags::MS_NODEV;
        }
        if fl.contains(FsFlags::ST_NOEXEC) {
            f |= MsFlags::MS_NOEXEC;
        }
        if fl.contains(FsFlags::ST_RDONLY) {
            f |= MsFlags::MS_RDONLY;
        }
        if fl.contains(FsFlags::ST_NOATIME) {
            f |= MsFlags::MS_NOATIME;
        }
        if fl.contains(FsFlags::ST_NODIRATIME) {
            f |= MsFlags::MS_NODIRATIME;
        }
        if fl.contains(FsFlags::ST_RELATIME) {
            f |= MsFlags::MS_RELATIME;
        }
    }
    f
}

fn mkdirs(path: &Path) -> Result<(), String> {
    std::fs::create_dir_all(path).map_err(|e| format!("mkdir {}: {e}", path.display()))
}

fn none() -> Option<&'static str> {
    None
}

/// The profile's own mount covering sandbox path `target`, if any: a grant
/// there cannot be shown when its mount point cannot be made (procfs, a
/// read-only system directory).
fn profile_mount_over(plan: &Plan, target: &str) -> Option<String> {
    let under = |t: &str, m: &str| t == m || t.starts_with(&format!("{m}/"));
    let mut mounts: Vec<&str> = plan.sandbox.system_ro.iter().map(String::as_str).collect();
    mounts.extend(plan.sandbox.devices.iter().map(String::as_str));
    if plan.sandbox.proc {
        mounts.push("/proc");
    }
    mounts
        .into_iter()
        .find(|m| under(target, m))
        .map(str::to_string)
}

/// Mounts one item of the new root at its place under `stage`.
fn mount_item(plan: &Plan, stage: &Path, it: &Item) -> Result<(), String> {
    let target = stage.join(it.target.trim_start_matches('/'));
    match &it.source {
        Source::Symlink(t) => {
            if let Some(parent) = target.parent() {
                mkdirs(parent)?;
            }
            std::os::unix::fs::symlink(t, &target)
                .map_err(|e| format!("symlink {}: {e}", target.display()))?;
            return Ok(());
        }
        Source::Scratch(bytes, inodes) => {
            // Empty, size- and inode-limited, never on the host's disk: the
            // tool's writes end with ENOSPC at the quota (breakout RES-08/09).
            // Writable, so never executable.
            mkdirs(&target)?;
            let opts = format!("mode=0755,size={bytes},nr_inodes={inodes}");
            mount(
                Some("scratch"),
                &target,
                Some("tmpfs"),
                MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
                Some(opts.as_str()),
            )
            .map_err(|e| format!("scratch tmpfs at {}: {e}", it.target))?;
            return Ok(());
        }
        Source::Dir(_) => mkdirs(&target)?,
        Source::File(_) => {
            if let Some(parent) = target.parent() {
                mkdirs(parent)?;
            }
            std::fs::File::create(&target)
                .map_err(|e| format!("create {}: {e}", target.display()))?;
        }
    }
    let fd = match &it.source {
        Source::Dir(fd) | Source::File(fd) => fd,
        Source::Symlink(_) | Source::Scratch(..) => return Ok(()),
    };
    let from = format!("/proc/self/fd/{}", fd.as_raw_fd());
    mount(
        Some(from.as_str()),
        &target,
        none(),
        MsFlags::MS_BIND | MsFlags::MS_REC,
        none(),
    )
    .map_err(|e| format!("bind {} on {}: {e}", it.target, target.display()))?;
    let mut flags = MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_NOSUID | kept_flags(fd);
    if !it.writable {
        flags |= MsFlags::MS_RDONLY;
    }
    if !it.exec {
        flags |= MsFlags::MS_NOEXEC;
    }
    let is_device = plan.sandbox.devices.contains(&it.target);
    if !is_device {
        flags |= MsFlags::MS_NODEV;
    }
    mount(none(), &target, none(), flags, none()).map_err(|e| format!("remount {}: {e}", it.target))
}

pub(crate) fn build_root(plan: &Plan) -> Result<(), String> {
    mount(
        none(),
        "/",
        none(),
        MsFlags::MS_REC | MsFlags::MS_PRIVATE,
        none(),
    )
    .map_err(|e| format!("make / private: {e}"))?;
    // 1. Open everything while the host tree is still visible: first the
    //    profile's own layout, then the grants, which are mounted last so that
    //    they always win over it (a grant under /tmp shows the granted directory,
    //    not the profile's /tmp).
    let mut items = Vec::new();
    for s in &plan.sandbox.system_ro {
        let p = Path::new(s);
        match std::fs::symlink_metadata(p) {
            Ok(m) if m.file_type().is_symlink() => {
                let t = std::fs::read_link(p).map_err(|e| format!("{s}: {e}"))?;
                items.push(Item {
                    source: Source::Symlink(t),
                    target: s.clone(),
                    writable: false,
                    exec: plan.sandbox.exec,
                });
            }
            Ok(m) if m.is_dir() => items.push(Item {
                source: Source::Dir(open_path(p, true)?),
                target: s.clone(),
                writable: false,
                exec: plan.sandbox.exec,
            }),
            Ok(_) => items.push(Item {
                source: Source::File(open_path(p, false)?),
                target: s.clone(),
                writable: false,
                exec: plan.sandbox.exec,
            }),
            Err(_) => {} // absent on this host: nothing to show
        }
    }
    for d in &plan.sandbox.devices {
        let p = Path::new(d);
        if p.exists() {
            items.push(Item {
                source: Source::File(open_path(p, false)?),
                target: d.clone(),
                writable: true,
                exec: false,
            });
        }
    }
    // Parents before children, so that a grant nested in another shows.
    let mut grants: Vec<&crate::Grant> = plan.grants.iter().collect();
    grants.sort_by_key(|g| g.guest.matches('/').count());
    let mut granted = Vec::new();
    for g in grants {
        granted.push(Item {
            source: match g.scratch {
                Some((bytes, inodes)) => Source::Scratch(bytes, inodes),
                None => Source::Dir(open_path(&g.host, true)?),
            },
            target: g.guest.clone(),
            writable: g.writable,
            exec: plan.grant_exec(g),
        });
    }
    // 2. An empty tmpfs as the new root.
    mount(
        Some("agentbox"),
        STAGE,
        Some("tmpfs"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
        Some("mode=0755,size=1m"),
    )
    .map_err(|e| format!("tmpfs root: {e}"))?;
    let stage = Path::new(STAGE);
    for it in &items {
        mount_item(plan, stage, it)?;
    }
    if plan.sandbox.proc {
        let p = stage.join("proc");
        mkdirs(&p)?;
        // subset=pid: no /proc/sys, kallsyms, meminfo...; hidepid=ptraceable: only
        // the processes the tool may ptrace-read (never the non-dumpable worker).
        let opts = plan.sandbox.proc_options.as_str();
        mount(
            Some("proc"),
            &p,
            Some("proc"),
            MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
            (!opts.is_empty()).then_some(opts),
        )
        .map_err(|e| {
            format!(
                "procfs ({}): {e}{}",
                if opts.is_empty() { "no options" } else { opts },
                if e == nix::errno::Errno::EINVAL {
                    " (procfs `subset=pid` and `hidepid=ptraceable` need Linux 5.8 or newer)"
                } else {
                    ""
                }
            )
        })?;
    }
    if !plan.sandbox.tmp_size.is_empty() {
        let p = stage.join("tmp");
        mkdirs(&p)?;
        let opts = format!("mode=1777,size={}", plan.sandbox.tmp_size);
        // Writable, so never executable (execve, mmap PROT_EXEC).
        mount(
            Some("tmp"),
            &p,
            Some("tmpfs"),
            MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
            Some(opts.as_str()),
        )
        .map_err(|e| format!("tmpfs /tmp: {e}"))?;
    }
    for it in &granted {
        mount_item(plan, stage, it).map_err(|e| match profile_mount_over(plan, &it.target) {
            Some(m) => format!(
                "grant {} lies under {m}, which profile `{}` mounts itself; it cannot be shown there: choose another guest path ({e})",
                it.target, plan.profile_name
            ),
            None => e,
        })?;
    }
    drop(granted);
    drop(items);
    // 3. pivot_root into it and detach the old root.
    nix::unistd::chdir(stage).map_err(|e| format!("chdir {STAGE}: {e}"))?;
    nix::unistd::pivot_root(".", ".").map_err(|e| format!("pivot_root: {e}"))?;
    umount2(".", MntFlags::MNT_DETACH).map_err(|e| format!("detach the old root: {e}"))?;
    nix::unistd::chdir("/").map_err(|e| format!("chdir /: {e}"))?;
    // 4. The root itself becomes read-only: the tool writes only in rw grants (and
    //    the native profile's /tmp).
    mount(
        none(),
        "/",
        none(),
        MsFlags::MS_REMOUNT
            | MsFlags::MS_RDONLY
            | MsFlags::MS_NOSUID
            | MsFlags::MS_NODEV
            | MsFlags::MS_NOEXEC,
        none(),
    )
    .map_err(|e| format!("remount / read-only: {e}"))?;
    Ok(())
}
