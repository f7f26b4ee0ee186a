//! Directory grants (`fs`): guest names, host paths resolved once, what may never be granted.

use super::*;

/// Normalizes an absolute guest path; refuses `.`/`..` and relative paths.
pub(super) fn guest_path(text: &str) -> Result<String, String> {
    if !text.starts_with('/') {
        return Err(format!(
            "`{text}` must be an absolute path inside the sandbox, e.g. /workspace"
        ));
    }
    guest_name(text)
}

/// Normalizes an fs grant's guest name: an absolute path (`/` included) or a
/// relative name (what a WASI preopen may be called, e.g. `data`); refuses
/// `.`/`..`, empty names and control characters.
pub(super) fn guest_name(text: &str) -> Result<String, String> {
    if text.contains('\0') || text.chars().any(char::is_control) {
        return Err("must not contain control characters".into());
    }
    let mut parts = Vec::new();
    for c in Path::new(text).components() {
        match c {
            Component::RootDir => {}
            Component::Normal(p) => parts.push(p.to_string_lossy().into_owned()),
            Component::CurDir | Component::ParentDir | Component::Prefix(_) => {
                return Err(format!("`{text}` must not contain `.` or `..`"));
            }
        }
    }
    if text.starts_with('/') {
        return Ok(format!("/{}", parts.join("/")));
    }
    if parts.is_empty() {
        return Err("must not be empty; allowed: an absolute path such as /workspace, or a preopen name such as data".into());
    }
    Ok(parts.join("/"))
}

/// What the native profile mounts itself (profiles/sandbox.toml, profile
/// `native`; a test in agentbox-supervisor keeps the two equal): its procfs, its
/// read-only system directories and files, its device nodes. A grant nested with
/// one of them either way cannot be shown (nothing can be mounted inside procfs or
/// a read-only system directory) or would hide part of the runtime, so the
/// manifest is refused naming the clash. The profile's /tmp and the rest of /dev
/// are plain directories of the sandbox root: a grant there is mounted after them
/// and wins.
pub const NATIVE_LAYOUT: &[&str] = &[
    "/proc",
    "/usr",
    "/bin",
    "/sbin",
    "/lib",
    "/lib64",
    "/etc/alternatives",
    "/etc/ld.so.cache",
    "/etc/localtime",
    "/dev/null",
    "/dev/zero",
    "/dev/urandom",
    "/dev/random",
];

pub(super) fn resolve_fs(
    cx: &Ctx<'_>,
    tname: &str,
    tool: &RawTool,
    kind: ToolKind,
) -> Result<Vec<FsGrant>, ManifestError> {
    let mut out: Vec<FsGrant> = Vec::new();
    for (i, g) in tool.fs.iter().enumerate() {
        let g = g.get_ref();
        let k = |key: &str| format!("tools.{tname}.fs[{i}].{key}");
        let rationale = required_text(cx, &g.rationale, &k("rationale"))?;
        let host = cx.base.join(g.host.get_ref());
        let canon = std::fs::canonicalize(&host).map_err(|e| {
            cx.invalid(
                &g.host.span(),
                &k("host"),
                format!(
                    "directory {} cannot be resolved: {e}; it must exist",
                    host.display()
                ),
            )
        })?;
        if !canon.is_dir() {
            return Err(cx.invalid(
                &g.host.span(),
                &k("host"),
                format!(
                    "{} is not a directory; allowed: an existing directory",
                    host.display()
                ),
            ));
        }
        if let Some(why) = forbidden_host_dir(&canon) {
            return Err(cx.invalid(
                &g.host.span(),
                &k("host"),
                format!(
                    "{} {why}; allowed: a directory of its own (a project or data directory), never /, /proc, /sys, /dev, /run or a home directory or one above it",
                    canon.display()
                ),
            ));
        }
        if let Some(own) = crate::own::covered(&canon, &cx.own) {
            return Err(cx.invalid(
                &g.host.span(),
                &k("host"),
                format!(
                    "{} covers {} ({}); a tool that could read or write it could run other tools' code or read their secrets; allowed: a directory that neither contains nor lies inside agentbox's own directories",
                    canon.display(),
                    own.what,
                    own.path.display()
                ),
            ));
        }
        let guest = guest_name(g.guest.get_ref())
            .map_err(|m| cx.invalid(&g.guest.span(), &k("guest"), m))?;
        let named = guest == "/" || !guest.starts_with('/');
        if named && kind == ToolKind::Native {
            return Err(cx.invalid(
                &g.guest.span(),
                &k("guest"),
                format!(
                    "`{guest}` is a preopen name, which only wasm tools have; allowed for kind \"native\": an absolute path other than /, e.g. /workspace"
                ),
            ));
        }
        if !named && nested(&guest, PREOPEN_MOUNTS) {
            return Err(cx.invalid(
                &g.guest.span(),
                &k("guest"),
                format!("`{guest}` is inside {PREOPEN_MOUNTS}, where agentbox mounts grants named / or by a relative name; allowed: any other absolute path"),
            ));
        }
        if kind == ToolKind::Native
            && let Some(clash) = NATIVE_LAYOUT.iter().find(|m| nested(&guest, m))
        {
            return Err(cx.invalid(
                &g.guest.span(),
                &k("guest"),
                format!(
                    "guest path {guest} clashes with {clash}, which the native profile mounts itself ({}); allowed: a path of its own, e.g. /data or /workspace (under /tmp and /dev a grant is fine: it is mounted after the profile's own and wins)",
                    if *clash == "/proc" {
                        "its procfs: nothing can be mounted inside it"
                    } else if guest.len() <= clash.len() {
                        "the grant would hide it from the program"
                    } else {
                        "read-only: no mount point can be made inside it"
                    }
                ),
            ));
        }
        if let Some(prev) = out.iter().find(|p| p.guest == guest) {
            return Err(cx.invalid(
                &g.guest.span(),
                &k("guest"),
                format!(
                    "guest path {guest} is already granted (host {}); each guest path once",
                    prev.host.display()
                ),
            ));
        }
        let access = match g.access.get_ref() {
            RawAccess::Ro => Access::Ro,
            RawAccess::Rw => Access::Rw,
        };
        out.push(FsGrant {
            host: canon,
            guest,
            access,
            rationale,
        });
    }
    Ok(out)
}

/// `a` is `b` or one of them lies inside the other (as sandbox paths).
pub(super) fn nested(a: &str, b: &str) -> bool {
    let inside = |x: &str, y: &str| y == "/" || x == y || x.starts_with(&format!("{y}/"));
    inside(a, b) || inside(b, a)
}

/// Host directories no grant may name, whatever its access (breakout SUP-08): the
/// whole filesystem, kernel filesystems, runtime sockets, home directories.
pub(super) fn forbidden_host_dir(canon: &Path) -> Option<&'static str> {
    if canon == Path::new("/") {
        return Some("is the whole host filesystem");
    }
    if ["/proc", "/sys", "/dev"]
        .iter()
        .any(|p| canon.starts_with(p))
    {
        return Some("is in a kernel filesystem");
    }
    if canon.starts_with("/run") || canon.starts_with("/var/run") {
        return Some("holds runtime sockets (docker, D-Bus, systemd)");
    }
    if crate::broad::is_home_or_above(canon) {
        return Some("is a home directory or above one (SSH keys and credentials live there)");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use agentbox_spec::mount_point;

    #[test]
    fn preopen_names_and_mount_points() {
        assert_eq!(guest_name("/work//a/").as_deref(), Ok("/work/a"));
        assert_eq!(guest_name("/").as_deref(), Ok("/"));
        assert_eq!(guest_name("fs-tests.dir").as_deref(), Ok("fs-tests.dir"));
        assert_eq!(guest_name("a//b/").as_deref(), Ok("a/b"));
        for bad in ["", "..", "./a", "a/../b", "a\nb"] {
            assert!(guest_name(bad).is_err(), "{bad:?}");
        }
        assert_eq!(mount_point("/work"), "/work");
        assert_eq!(mount_point("/"), "/.agentbox-preopen/root");
        assert_eq!(mount_point("data"), "/.agentbox-preopen/rel/data");
        assert_eq!(mount_point("a/b"), "/.agentbox-preopen/rel/a/b");
        // Absolute guest paths never reach the preopen mounts (refused in resolve_fs).
        assert!(nested("/.agentbox-preopen/x", PREOPEN_MOUNTS));
    }
}
