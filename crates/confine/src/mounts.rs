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

pub(crate) fn build_root(plan: &Plan) -> Result<(), String> {
    mount(
        none(),
        "/",
        none(),
        MsFlags::MS_REC | MsFlags::MS_PRIVATE,
        none(),
    )
    .map_err(|e| format!("make / private: {e}"))?;
    // 1. Open everything while the host tree is still visible.
    let mut items = Vec::new();
    for g in &plan.grants {
        items.push(Item {
            source: match g.scratch {
                Some((bytes, inodes)) => Source::Scratch(bytes, inodes),
                None => Source::Dir(open_path(&g.host, true)?),
            },
            target: g.guest.clone(),
            writable: g.writable,
        });
    }
    for s in &plan.sandbox.system_ro {
        let p = Path::new(s);
        match std::fs::symlink_metadata(p) {
            Ok(m) if m.file_type().is_symlink() => {
                let t = std::fs::read_link(p).map_err(|e| format!("{s}: {e}"))?;
                items.push(Item {
                    source: Source::Symlink(t),
                    target: s.clone(),
                    writable: false,
                });
            }
            Ok(m) if m.is_dir() => items.push(Item {
                source: Source::Dir(open_path(p, true)?),
                target: s.clone(),
                writable: false,
            }),
            Ok(_) => items.push(Item {
                source: Source::File(open_path(p, false)?),
                target: s.clone(),
                writable: false,
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
            });
        }
    }
    // 2. An empty tmpfs as the new root.
    mount(
        Some("agentbox"),
        STAGE,
        Some("tmpfs"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
        Some("mode=0755,size=1m"),
    )
    .map_err(|e| format!("tmpfs root: {e}"))?;
    let stage = Path::new(STAGE);
    for it in &items {
        let target = stage.join(it.target.trim_start_matches('/'));
        match &it.source {
            Source::Symlink(t) => {
                if let Some(parent) = target.parent() {
                    mkdirs(parent)?;
                }
                std::os::unix::fs::symlink(t, &target)
                    .map_err(|e| format!("symlink {}: {e}", target.display()))?;
                continue;
            }
            Source::Scratch(bytes, inodes) => {
                // Empty, size- and inode-limited, never on the host's disk: the
                // tool's writes end with ENOSPC at the quota (breakout RES-08/09).
                mkdirs(&target)?;
                let opts = format!("mode=0755,size={bytes},nr_inodes={inodes}");
                let mut flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV;
                if !plan.sandbox.exec {
                    flags |= MsFlags::MS_NOEXEC;
                }
                mount(
                    Some("scratch"),
                    &target,
                    Some("tmpfs"),
                    flags,
                    Some(opts.as_str()),
                )
                .map_err(|e| format!("scratch tmpfs at {}: {e}", it.target))?;
                continue;
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
            Source::Symlink(_) | Source::Scratch(..) => continue,
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
        let mut flags =
            MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_NOSUID | kept_flags(fd);
        if !it.writable {
            flags |= MsFlags::MS_RDONLY;
        }
        if !plan.sandbox.exec {
            flags |= MsFlags::MS_NOEXEC;
        }
        let is_device = plan.sandbox.devices.contains(&it.target);
        if !is_device {
            flags |= MsFlags::MS_NODEV;
        }
        mount(none(), &target, none(), flags, none())
            .map_err(|e| format!("remount {}: {e}", it.target))?;
    }
    if plan.sandbox.proc {
        let p = stage.join("proc");
        mkdirs(&p)?;
        mount(
            Some("proc"),
            &p,
            Some("proc"),
            MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
            none(),
        )
        .map_err(|e| format!("procfs: {e}"))?;
    }
    if !plan.sandbox.tmp_size.is_empty() {
        let p = stage.join("tmp");
        mkdirs(&p)?;
        let opts = format!("mode=1777,size={}", plan.sandbox.tmp_size);
        mount(
            Some("tmp"),
            &p,
            Some("tmpfs"),
            MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
            Some(opts.as_str()),
        )
        .map_err(|e| format!("tmpfs /tmp: {e}"))?;
    }
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
        MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY | MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
        none(),
    )
    .map_err(|e| format!("remount / read-only: {e}"))?;
    Ok(())
}
