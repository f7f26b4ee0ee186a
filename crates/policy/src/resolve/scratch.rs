//! Scratch grants: empty, size-limited tmpfs spaces, fresh per invocation.

use super::*;

/// Largest scratch space (it lives in memory and counts against the memory cgroup).
pub const MAX_SCRATCH_SIZE: u64 = 4 << 30;

/// Most files (inodes) a scratch space may hold, and the default.
pub const MAX_SCRATCH_FILES: u64 = 1_000_000;

pub const DEFAULT_SCRATCH_FILES: u64 = 4096;

pub(super) fn resolve_scratch(
    cx: &Ctx<'_>,
    tname: &str,
    tool: &RawTool,
    fs: &[FsGrant],
) -> Result<Vec<ScratchGrant>, ManifestError> {
    let mut out: Vec<ScratchGrant> = Vec::new();
    for (i, g) in tool.scratch.iter().enumerate() {
        let g = g.get_ref();
        let k = |key: &str| format!("tools.{tname}.scratch[{i}].{key}");
        let rationale = required_text(cx, &g.rationale, &k("rationale"))?;
        let guest = guest_path(g.guest.get_ref())
            .map_err(|m| cx.invalid(&g.guest.span(), &k("guest"), m))?;
        // The sandbox's own mounts (procfs, devices, the native profile's /tmp and
        // system directories) would shadow it or be shadowed.
        const RESERVED: &[&str] = &[
            "/proc",
            "/dev",
            "/sys",
            "/tmp",
            "/usr",
            "/bin",
            "/sbin",
            "/lib",
            "/lib32",
            "/lib64",
            "/libx32",
            "/etc",
            "/run",
            "/var",
            PREOPEN_MOUNTS,
        ];
        // Grants are compared where they are mounted (a grant named `/` does not
        // cover the sandbox; it lies under PREOPEN_MOUNTS).
        let mounts: Vec<String> = fs.iter().map(FsGrant::mount_point).collect();
        let clash = mounts
            .iter()
            .map(String::as_str)
            .chain(out.iter().map(|s| s.guest.as_str()))
            .chain(RESERVED.iter().copied())
            .find(|other| nested(&guest, other));
        if guest == "/" || clash.is_some() {
            return Err(cx.invalid(
                &g.guest.span(),
                &k("guest"),
                format!(
                    "scratch path {guest} {}; allowed: a path of its own, neither inside nor above another grant or a directory the sandbox provides (/proc, /dev, /sys, /tmp, /usr, /bin, /sbin, /lib*, /etc, /run, /var)",
                    clash.map_or("is the sandbox root".to_string(), |c| format!("overlaps {c}"))
                ),
            ));
        }
        let bytes = size(cx, &g.size, &k("size"), MAX_SCRATCH_SIZE)?;
        let files = match &g.files {
            None => DEFAULT_SCRATCH_FILES,
            Some(f) => {
                let n = *f.get_ref();
                if n < 1 || n as u64 > MAX_SCRATCH_FILES {
                    return Err(cx.invalid(
                        &f.span(),
                        &k("files"),
                        format!("{n} is out of range; allowed: 1 to {MAX_SCRATCH_FILES} (files and directories it may hold)"),
                    ));
                }
                n as u64
            }
        };
        out.push(ScratchGrant {
            guest,
            size: bytes,
            files,
            rationale,
        });
    }
    Ok(out)
}
