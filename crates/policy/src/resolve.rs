//! From the raw manifest to resolved, validated grants.

use crate::error::{Location, ManifestError};
use crate::locate::{key_at, line_col};
use crate::raw::{RawAccess, RawKind, RawManifest, RawSize, RawTool};
use crate::url::{HostPattern, URL_RULE_HELP, UrlRule};
use agentbox_spec::units::{DURATION_HELP, SIZE_HELP, parse_duration, parse_size};
use agentbox_spec::{
    Access, EnvVar, FsGrant, Limits, PREOPEN_MOUNTS, ScratchGrant, ToolKind, WorkerSpec,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Component, Path, PathBuf};
use std::time::Duration;
use toml::Spanned;

/// OS confinement profiles a manifest may name.
pub const KNOWN_PROFILES: &[&str] = &["wasm-worker", "native"];
/// The profile used when a tool names none: (kind, profile).
pub const DEFAULT_PROFILES: &[(ToolKind, &str)] = &[
    (ToolKind::Tool, "wasm-worker"),
    (ToolKind::Command, "wasm-worker"),
    (ToolKind::Native, "native"),
];
const METHODS: &[&str] = &["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

/// A whole manifest, validated.
#[derive(Debug, Clone)]
pub struct Manifest {
    /// The path the manifest was loaded from, as given.
    pub path: PathBuf,
    /// sha256 of the manifest file's bytes (hex), recorded in the audit log.
    pub sha256: String,
    /// Tools by name (sorted).
    pub tools: BTreeMap<String, ToolSpec>,
}

/// The shipped default limits (`profiles/limits.toml`), embedded at build time.
pub const DEFAULT_LIMITS_TOML: &str = include_str!("../../../profiles/limits.toml");

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LimitsFile {
    defaults: crate::raw::RawLimits,
}

/// Limits from the embedded defaults file; every key must be present there.
fn limits_from_profile() -> Result<Limits, String> {
    let f: LimitsFile = toml::from_str(DEFAULT_LIMITS_TOML).map_err(|e| e.to_string())?;
    let d = f.defaults;
    let size = |v: Option<Spanned<RawSize>>, k: &str| -> Result<u64, String> {
        match v.map(Spanned::into_inner) {
            Some(RawSize::Bytes(n)) if n > 0 => Ok(n as u64),
            Some(RawSize::Text(t)) => parse_size(&t).ok_or(format!("defaults.{k}: bad size {t}")),
            _ => Err(format!("defaults.{k} is missing")),
        }
    };
    let dur = |v: Option<Spanned<String>>, k: &str| -> Result<Duration, String> {
        let t = v.ok_or(format!("defaults.{k} is missing"))?.into_inner();
        parse_duration(&t).ok_or(format!("defaults.{k}: bad duration {t}"))
    };
    let num = |v: Option<Spanned<i64>>, k: &str| -> Result<u32, String> {
        v.map(Spanned::into_inner)
            .and_then(|n| u32::try_from(n).ok())
            .ok_or(format!("defaults.{k} is missing"))
    };
    Ok(Limits {
        memory: size(d.memory, "memory")?,
        timeout: dur(d.timeout, "timeout")?,
        cpu: dur(d.cpu, "cpu")?,
        output: size(d.output, "output")?,
        http_requests: num(d.http_requests, "http_requests")?,
        http_bytes: size(d.http_bytes, "http_bytes")?,
        processes: num(d.processes, "processes")?,
        compile_memory: size(d.compile_memory, "compile_memory")?,
        compile_timeout: dur(d.compile_timeout, "compile_timeout")?,
    })
}

/// The shipped default limits. The embedded file is checked by a unit test; should
/// it ever fail to parse, the same small values apply rather than anything larger.
pub fn default_limits() -> Limits {
    limits_from_profile().unwrap_or(Limits {
        memory: 64 << 20,
        timeout: Duration::from_secs(10),
        cpu: Duration::from_secs(5),
        output: 1 << 20,
        http_requests: 20,
        http_bytes: 8 << 20,
        processes: 16,
        compile_memory: 1 << 30,
        compile_timeout: Duration::from_secs(120),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use agentbox_spec::mount_point;

    #[test]
    fn shipped_default_limits_parse_and_are_small() {
        let l = limits_from_profile().unwrap_or_else(|e| panic!("profiles/limits.toml: {e}"));
        assert_eq!(l.memory, 64 << 20);
        assert_eq!(l.timeout, Duration::from_secs(10));
        assert_eq!(l.cpu, Duration::from_secs(5));
        assert_eq!(l.output, 1 << 20);
        assert_eq!(l.http_requests, 20);
        assert_eq!(l.http_bytes, 8 << 20);
        assert_eq!(l.processes, 16);
        assert_eq!(l.compile_memory, 1 << 30);
        assert_eq!(l.compile_timeout, Duration::from_secs(120));
    }

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

/// Upper bounds beyond which a limit is refused outright.
struct Bounds;
impl Bounds {
    const MEMORY: u64 = 4 << 30;
    const TIMEOUT: Duration = Duration::from_secs(24 * 3600);
    const OUTPUT: u64 = 1 << 30;
    const HTTP_REQUESTS: i64 = 100_000;
    const HTTP_BYTES: u64 = 16 << 30;
    const PROCESSES: i64 = 4096;
}

/// Largest scratch space (it lives in memory and counts against the memory cgroup).
pub const MAX_SCRATCH_SIZE: u64 = 4 << 30;
/// Most files (inodes) a scratch space may hold, and the default.
pub const MAX_SCRATCH_FILES: u64 = 1_000_000;
pub const DEFAULT_SCRATCH_FILES: u64 = 4096;

/// A destination granted to a tool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetGrant {
    pub allow: UrlRule,
    /// Upper-case HTTP methods.
    pub methods: Vec<String>,
    pub private: bool,
    pub rationale: String,
}

/// A secret a tool may have the host use on its behalf.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretGrant {
    pub name: String,
    pub allow: Vec<UrlRule>,
    pub header: Option<String>,
    pub format: Option<String>,
    pub rationale: String,
}

/// Everything one tool may do, resolved. A worker receives only its
/// [`ToolSpec::worker_spec`]: the network and secret grants stay here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolSpec {
    pub name: String,
    pub kind: ToolKind,
    /// Canonical path of the component (kinds tool and command).
    pub component: Option<PathBuf>,
    /// Pinned sha256 (lowercase hex), if the manifest gives one.
    pub sha256: Option<String>,
    pub description: String,
    pub rationale: String,
    pub profile: String,
    /// Native argv (kind native).
    pub exec: Vec<String>,
    pub limits: Limits,
    pub fs: Vec<FsGrant>,
    /// Extension: scratch spaces (empty, size-limited, per invocation).
    pub scratch: Vec<ScratchGrant>,
    pub net: Vec<NetGrant>,
    pub secrets: Vec<SecretGrant>,
    pub env: Vec<EnvVar>,
}

impl ToolSpec {
    /// What the worker that runs this tool is told: no network or secret grant.
    pub fn worker_spec(&self) -> WorkerSpec {
        WorkerSpec {
            name: self.name.clone(),
            kind: self.kind,
            component: self.component.clone(),
            exec: self.exec.clone(),
            limits: self.limits.clone(),
            fs: self.fs.clone(),
            scratch: self.scratch.clone(),
            env: self.env.clone(),
        }
    }
}

struct Ctx<'a> {
    file: &'a Path,
    text: &'a str,
    base: &'a Path,
    /// agentbox's own directories, which no fs grant may cover.
    own: Vec<crate::own::OwnDir>,
}

impl Ctx<'_> {
    fn loc(&self, span: &Range<usize>) -> Location {
        let (line, column) = line_col(self.text, span.start);
        Location {
            file: self.file.to_path_buf(),
            line,
            column,
        }
    }

    fn invalid(&self, span: &Range<usize>, key: &str, message: impl Into<String>) -> ManifestError {
        ManifestError::Invalid {
            location: self.loc(span),
            key: key.to_string(),
            message: message.into(),
        }
    }
}

impl Manifest {
    /// Reads, parses, validates and resolves a manifest file.
    pub fn load(path: &Path) -> Result<Self, ManifestError> {
        let bytes = std::fs::read(path).map_err(|source| ManifestError::Read {
            file: path.to_path_buf(),
            source,
        })?;
        let text = String::from_utf8(bytes).map_err(|e| ManifestError::Shape {
            location: Location {
                file: path.to_path_buf(),
                line: 1,
                column: 1,
            },
            key: "(top level)".into(),
            message: format!(
                "the file is not UTF-8 (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            ),
        })?;
        let base = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        Self::parse(path, &text, &base)
    }

    /// Parses manifest text as if it were the file `file` in folder `base`.
    pub fn parse(file: &Path, text: &str, base: &Path) -> Result<Self, ManifestError> {
        let cx = Ctx {
            file,
            text,
            base,
            own: crate::own::own_dirs(),
        };
        let raw: RawManifest = toml::from_str(text).map_err(|e| {
            let whole = e.span().is_none();
            let span = e.span().unwrap_or(0..0);
            let (line, column) = line_col(text, span.start);
            ManifestError::Shape {
                location: Location {
                    file: file.to_path_buf(),
                    line,
                    column,
                },
                // An error about the whole document (e.g. a missing top-level key)
                // is about the top level, whatever the first line holds.
                key: if whole
                    || (span.start == 0 && span.end + 1 >= text.len())
                    || e.message().starts_with("missing field `version`")
                {
                    "(top level)".to_string()
                } else {
                    key_at(text, span.start)
                },
                message: shape_message(e.message()),
            }
        })?;
        if *raw.version.get_ref() != 1 {
            return Err(cx.invalid(
                &raw.version.span(),
                "version",
                format!(
                    "unsupported manifest version {}; allowed: 1",
                    raw.version.get_ref()
                ),
            ));
        }
        let Some(tools) = raw.tools else {
            return Err(ManifestError::Invalid {
                location: cx.loc(&(0..0)),
                key: "tools".into(),
                message: "no tools: add at least one [tools.NAME] table".into(),
            });
        };
        let tools_span = tools.span();
        let tools = tools.into_inner();
        if tools.is_empty() {
            return Err(cx.invalid(
                &tools_span,
                "tools",
                "no tools: add at least one [tools.NAME] table",
            ));
        }
        let mut out = BTreeMap::new();
        for (name, tool) in tools {
            let spec = resolve_tool(&cx, &name, tool)?;
            out.insert(spec.name.clone(), spec);
        }
        Ok(Self {
            path: file.to_path_buf(),
            sha256: hex::encode(Sha256::digest(text.as_bytes())),
            tools: out,
        })
    }

    /// The tool called `name`, or the only tool when `name` is `None`.
    pub fn tool(&self, name: Option<&str>) -> Result<&ToolSpec, String> {
        match name {
            Some(n) => self.tools.get(n).ok_or_else(|| {
                format!(
                    "no tool `{n}` in {}; tools: {}",
                    self.path.display(),
                    self.names()
                )
            }),
            None if self.tools.len() == 1 => self
                .tools
                .values()
                .next()
                .ok_or_else(|| "no tools".to_string()),
            None => Err(format!(
                "{} has {} tools; choose one with --tool ({})",
                self.path.display(),
                self.tools.len(),
                self.names()
            )),
        }
    }

    fn names(&self) -> String {
        self.tools.keys().cloned().collect::<Vec<_>>().join(", ")
    }
}

/// Serde's messages are good; make the common ones say what is allowed.
fn shape_message(msg: &str) -> String {
    let msg = msg.trim_end();
    if let Some(rest) = msg.strip_prefix("unknown field ") {
        return format!(
            "unknown key {}",
            rest.replacen(", expected one of ", "; allowed: ", 1)
                .replacen(", expected ", "; allowed: ", 1)
        );
    }
    if let Some(rest) = msg.strip_prefix("unknown variant ") {
        return format!(
            "unknown value {}",
            rest.replacen(", expected one of ", "; allowed: ", 1)
                .replacen(", expected ", "; allowed: ", 1)
        );
    }
    if let Some(rest) = msg.strip_prefix("missing field ") {
        return format!("required key {rest} is missing");
    }
    if msg.contains("expected i64") {
        return msg.replace("expected i64", "expected a whole number");
    }
    if msg.contains("data did not match any variant of untagged enum RawSize") {
        return format!("invalid size; allowed: {SIZE_HELP}");
    }
    msg.to_string()
}

fn valid_tool_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some('a'..='z'))
        && name.len() <= 63
        && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '_' | '-'))
}

fn required_text(cx: &Ctx<'_>, v: &Spanned<String>, key: &str) -> Result<String, ManifestError> {
    let text = v.get_ref().trim();
    if text.is_empty() {
        return Err(cx.invalid(
            &v.span(),
            key,
            "must not be empty: write why this is granted",
        ));
    }
    if text.chars().any(|c| c.is_control() && c != '\n') {
        return Err(cx.invalid(&v.span(), key, "must not contain control characters"));
    }
    Ok(text.to_string())
}

fn resolve_tool(
    cx: &Ctx<'_>,
    name: &Spanned<String>,
    tool: Spanned<RawTool>,
) -> Result<ToolSpec, ManifestError> {
    let tool_span = tool.span();
    let tool = tool.into_inner();
    let tname = name.get_ref().clone();
    let k = |key: &str| format!("tools.{tname}.{key}");
    if !valid_tool_name(&tname) {
        return Err(cx.invalid(&name.span(), &format!("tools.{tname}"), format!(
            "invalid tool name `{tname}`; allowed: a lowercase letter, then up to 62 of a-z 0-9 _ -"
        )));
    }
    let kind = match tool.kind.as_ref().map(|k| *k.get_ref()) {
        None | Some(RawKind::Tool) => ToolKind::Tool,
        Some(RawKind::Command) => ToolKind::Command,
        Some(RawKind::Native) => ToolKind::Native,
    };
    let rationale = match &tool.rationale {
        Some(r) => required_text(cx, r, &k("rationale"))?,
        None => {
            return Err(cx.invalid(
                &tool_span,
                &format!("tools.{tname}"),
                "required key `rationale` is missing: write why this tool exists",
            ));
        }
    };
    let description = match &tool.description {
        Some(d) => d.get_ref().trim().to_string(),
        None => String::new(),
    };

    // Component or exec, by kind.
    let mut component = None;
    let mut exec = Vec::new();
    match kind {
        ToolKind::Tool | ToolKind::Command => {
            if let Some(e) = &tool.exec {
                return Err(cx.invalid(
                    &e.span(),
                    &k("exec"),
                    format!(
                        "`exec` is only for kind \"native\"; kind \"{}\" runs `component`",
                        kind.as_str()
                    ),
                ));
            }
            let Some(c) = &tool.component else {
                return Err(cx.invalid(&tool_span, &format!("tools.{tname}"), format!(
                    "required key `component` is missing: kind \"{}\" needs a WebAssembly component file", kind.as_str()
                )));
            };
            let p = cx.base.join(c.get_ref());
            let canon = std::fs::canonicalize(&p).map_err(|e| {
                cx.invalid(
                    &c.span(),
                    &k("component"),
                    format!("component file {} cannot be opened: {e}", p.display()),
                )
            })?;
            if !canon.is_file() {
                return Err(cx.invalid(
                    &c.span(),
                    &k("component"),
                    format!("{} is not a regular file", p.display()),
                ));
            }
            component = Some(canon);
        }
        ToolKind::Native => {
            if let Some(c) = &tool.component {
                return Err(cx.invalid(
                    &c.span(),
                    &k("component"),
                    "`component` is not allowed for kind \"native\"; give the program with `exec`",
                ));
            }
            if let Some(s) = &tool.sha256 {
                return Err(cx.invalid(
                    &s.span(),
                    &k("sha256"),
                    "`sha256` pins a component and is not allowed for kind \"native\"",
                ));
            }
            let Some(e) = &tool.exec else {
                return Err(cx.invalid(&tool_span, &format!("tools.{tname}"),
                    "required key `exec` is missing: kind \"native\" needs argv, e.g. [\"/usr/bin/python3\", \"main.py\"]"));
            };
            if e.get_ref().is_empty() {
                return Err(cx.invalid(
                    &e.span(),
                    &k("exec"),
                    "must not be empty; allowed: argv with an absolute program path first",
                ));
            }
            for (i, arg) in e.get_ref().iter().enumerate() {
                if arg.get_ref().contains('\0') {
                    return Err(cx.invalid(
                        &arg.span(),
                        &format!("{}[{i}]", k("exec")),
                        "must not contain NUL",
                    ));
                }
                if arg.get_ref().contains("{{secret:") {
                    return Err(cx.invalid(&arg.span(), &format!("{}[{i}]", k("exec")),
                        "secrets are never passed in arguments; the host injects them into HTTP headers"));
                }
            }
            let prog = &e.get_ref()[0];
            if !prog.get_ref().starts_with('/') {
                return Err(cx.invalid(
                    &prog.span(),
                    &format!("{}[0]", k("exec")),
                    format!(
                        "program `{}` must be an absolute path (no PATH lookup in the sandbox)",
                        prog.get_ref()
                    ),
                ));
            }
            exec = e.get_ref().iter().map(|a| a.get_ref().clone()).collect();
        }
    }
    let sha256 = match &tool.sha256 {
        Some(s) => {
            let v = s.get_ref().trim().to_ascii_lowercase();
            if v.len() != 64 || !v.chars().all(|c| c.is_ascii_hexdigit()) {
                return Err(cx.invalid(
                    &s.span(),
                    &k("sha256"),
                    "must be 64 hexadecimal digits (the component's SHA-256)",
                ));
            }
            Some(v)
        }
        None => None,
    };
    let profile = match &tool.profile {
        Some(p) => {
            let v = p.get_ref().as_str();
            if !KNOWN_PROFILES.contains(&v) {
                return Err(cx.invalid(
                    &p.span(),
                    &k("profile"),
                    format!(
                        "unknown profile `{v}`; allowed: {}",
                        KNOWN_PROFILES.join(", ")
                    ),
                ));
            }
            let native_ok = (kind == ToolKind::Native) == (v == "native");
            if !native_ok {
                return Err(cx.invalid(
                    &p.span(),
                    &k("profile"),
                    format!("profile `{v}` does not fit kind \"{}\"", kind.as_str()),
                ));
            }
            v.to_string()
        }
        None => DEFAULT_PROFILES
            .iter()
            .find(|(kd, _)| *kd == kind)
            .map_or("wasm-worker", |(_, p)| p)
            .to_string(),
    };
    let limits = resolve_limits(cx, &tname, kind, tool.limits.as_ref())?;
    let fs = resolve_fs(cx, &tname, &tool, kind)?;
    let scratch = resolve_scratch(cx, &tname, &tool, &fs)?;
    let net = resolve_net(cx, &tname, &tool)?;
    let secrets = resolve_secrets(cx, &tname, &tool, &net)?;
    let env = resolve_env(cx, &tname, &tool)?;
    Ok(ToolSpec {
        name: tname,
        kind,
        component,
        sha256,
        description,
        rationale,
        profile,
        exec,
        limits,
        fs,
        scratch,
        net,
        secrets,
        env,
    })
}

fn size(cx: &Ctx<'_>, v: &Spanned<RawSize>, key: &str, max: u64) -> Result<u64, ManifestError> {
    let n = match v.get_ref() {
        RawSize::Bytes(n) if *n > 0 => *n as u64,
        RawSize::Bytes(_) => {
            return Err(cx.invalid(
                &v.span(),
                key,
                format!("must be greater than zero; allowed: {SIZE_HELP}"),
            ));
        }
        RawSize::Text(t) => parse_size(t).ok_or_else(|| {
            cx.invalid(
                &v.span(),
                key,
                format!("invalid size \"{t}\"; allowed: {SIZE_HELP}"),
            )
        })?,
    };
    if n == 0 {
        return Err(cx.invalid(&v.span(), key, "must be greater than zero"));
    }
    if n > max {
        return Err(cx.invalid(
            &v.span(),
            key,
            format!(
                "{} is over the maximum of {}",
                crate::units::format_size(n),
                crate::units::format_size(max)
            ),
        ));
    }
    Ok(n)
}

fn duration(cx: &Ctx<'_>, v: &Spanned<String>, key: &str) -> Result<Duration, ManifestError> {
    let d = parse_duration(v.get_ref()).ok_or_else(|| {
        cx.invalid(
            &v.span(),
            key,
            format!(
                "invalid duration \"{}\"; allowed: {DURATION_HELP}",
                v.get_ref()
            ),
        )
    })?;
    if d.is_zero() {
        return Err(cx.invalid(&v.span(), key, "must be greater than zero"));
    }
    if d > Bounds::TIMEOUT {
        return Err(cx.invalid(&v.span(), key, "is over the maximum of 24h"));
    }
    Ok(d)
}

fn count(cx: &Ctx<'_>, v: &Spanned<i64>, key: &str, max: i64) -> Result<u32, ManifestError> {
    let n = *v.get_ref();
    if n <= 0 || n > max {
        return Err(cx.invalid(
            &v.span(),
            key,
            format!("must be a whole number from 1 to {max}"),
        ));
    }
    Ok(n as u32)
}

fn resolve_limits(
    cx: &Ctx<'_>,
    tname: &str,
    kind: ToolKind,
    raw: Option<&Spanned<crate::raw::RawLimits>>,
) -> Result<Limits, ManifestError> {
    let mut l = default_limits();
    let Some(raw) = raw else { return Ok(l) };
    let raw = raw.get_ref();
    let k = |key: &str| format!("tools.{tname}.limits.{key}");
    if let Some(v) = &raw.memory {
        l.memory = size(cx, v, &k("memory"), Bounds::MEMORY)?;
        if l.memory < 1 << 20 {
            return Err(cx.invalid(&v.span(), &k("memory"), "must be at least 1MiB"));
        }
    }
    if let Some(v) = &raw.timeout {
        l.timeout = duration(cx, v, &k("timeout"))?;
    }
    if let Some(v) = &raw.cpu {
        l.cpu = duration(cx, v, &k("cpu"))?;
    }
    if let Some(v) = &raw.output {
        l.output = size(cx, v, &k("output"), Bounds::OUTPUT)?;
    }
    if let Some(v) = &raw.http_requests {
        l.http_requests = count(cx, v, &k("http_requests"), Bounds::HTTP_REQUESTS)?;
    }
    if let Some(v) = &raw.http_bytes {
        l.http_bytes = size(cx, v, &k("http_bytes"), Bounds::HTTP_BYTES)?;
    }
    if let Some(v) = &raw.processes {
        if kind != ToolKind::Native {
            return Err(cx.invalid(
                &v.span(),
                &k("processes"),
                format!(
                    "`processes` is only for kind \"native\" (a {} runs as one process)",
                    kind.as_str()
                ),
            ));
        }
        l.processes = count(cx, v, &k("processes"), Bounds::PROCESSES)?;
    }
    if let Some(v) = &raw.compile_memory {
        l.compile_memory = size(cx, v, &k("compile_memory"), Bounds::MEMORY)?;
        if l.compile_memory < 256 << 20 {
            return Err(cx.invalid(&v.span(), &k("compile_memory"), "must be at least 256MiB"));
        }
    }
    if let Some(v) = &raw.compile_timeout {
        l.compile_timeout = duration(cx, v, &k("compile_timeout"))?;
    }
    Ok(l)
}

/// Normalizes an absolute guest path; refuses `.`/`..` and relative paths.
fn guest_path(text: &str) -> Result<String, String> {
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
fn guest_name(text: &str) -> Result<String, String> {
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

fn resolve_fs(
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
fn nested(a: &str, b: &str) -> bool {
    let inside = |x: &str, y: &str| y == "/" || x == y || x.starts_with(&format!("{y}/"));
    inside(a, b) || inside(b, a)
}

fn resolve_scratch(
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

/// Host directories no grant may name, whatever its access (breakout SUP-08): the
/// whole filesystem, kernel filesystems, runtime sockets, home directories.
fn forbidden_host_dir(canon: &Path) -> Option<&'static str> {
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
    if crate::warn::is_home_or_above(canon) {
        return Some("is a home directory or above one (SSH keys and credentials live there)");
    }
    None
}

fn resolve_net(cx: &Ctx<'_>, tname: &str, tool: &RawTool) -> Result<Vec<NetGrant>, ManifestError> {
    let mut out = Vec::new();
    for (i, g) in tool.net.iter().enumerate() {
        let g = g.get_ref();
        let k = |key: &str| format!("tools.{tname}.net[{i}].{key}");
        let rationale = required_text(cx, &g.rationale, &k("rationale"))?;
        let allow = UrlRule::parse(g.allow.get_ref()).map_err(|e| {
            cx.invalid(
                &g.allow.span(),
                &k("allow"),
                format!("`{}`: {e}; allowed: {URL_RULE_HELP}", g.allow.get_ref()),
            )
        })?;
        if let crate::url::HostPattern::Subdomains(s) = &allow.host
            && (crate::warn::PUBLIC_SUFFIXES.contains(&s.as_str()) || !s.contains('.'))
        {
            return Err(cx.invalid(
                &g.allow.span(),
                &k("allow"),
                format!(
                    "`{}`: wildcard `*.{s}` covers a public suffix, where anyone can register a host; allowed: a wildcard under a domain you control (`*.example.com`)",
                    g.allow.get_ref()
                ),
            ));
        }
        let methods = match &g.methods {
            None => vec!["GET".to_string(), "HEAD".to_string()],
            Some(ms) => {
                if ms.get_ref().is_empty() {
                    return Err(cx.invalid(
                        &ms.span(),
                        &k("methods"),
                        format!("must not be empty; allowed: {}", METHODS.join(", ")),
                    ));
                }
                let mut v: Vec<String> = Vec::new();
                for m in ms.get_ref() {
                    let up = m.get_ref().to_ascii_uppercase();
                    if !METHODS.contains(&up.as_str()) {
                        return Err(cx.invalid(
                            &m.span(),
                            &k("methods"),
                            format!(
                                "unknown method `{}`; allowed: {}",
                                m.get_ref(),
                                METHODS.join(", ")
                            ),
                        ));
                    }
                    if !v.contains(&up) {
                        v.push(up);
                    }
                }
                v
            }
        };
        let private = g.private.as_ref().is_some_and(|p| *p.get_ref());
        out.push(NetGrant {
            allow,
            methods,
            private,
            rationale,
        });
    }
    Ok(out)
}

fn valid_env_name(n: &str) -> bool {
    let mut c = n.chars();
    matches!(c.next(), Some('A'..='Z' | 'a'..='z' | '_'))
        && c.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn valid_header_name(n: &str) -> bool {
    !n.is_empty()
        && n.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// May a secret be sent to destinations of this rule? Only over TLS whose
/// certificate is verified against a DNS name: never `http://`, never an IP literal
/// (manifest.md: "Secrets travel only over verified TLS").
pub fn secret_destination_ok(rule: &UrlRule) -> Result<(), String> {
    if rule.scheme != "https" {
        return Err(format!(
            "a secret may not be sent over {}:// (cleartext)",
            rule.scheme
        ));
    }
    if matches!(rule.host, HostPattern::Ipv4(_) | HostPattern::Ipv6(_)) {
        return Err("a secret may not be sent to an IP literal".into());
    }
    Ok(())
}

fn resolve_secrets(
    cx: &Ctx<'_>,
    tname: &str,
    tool: &RawTool,
    net: &[NetGrant],
) -> Result<Vec<SecretGrant>, ManifestError> {
    let mut out: Vec<SecretGrant> = Vec::new();
    for (i, g) in tool.secrets.iter().enumerate() {
        let g = g.get_ref();
        let k = |key: &str| format!("tools.{tname}.secrets[{i}].{key}");
        let rationale = required_text(cx, &g.rationale, &k("rationale"))?;
        let name = g.name.get_ref().clone();
        let name_ok = name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_uppercase() || c == '_')
            && name
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
            && name.len() <= 128;
        if !name_ok {
            return Err(cx.invalid(&g.name.span(), &k("name"), format!(
                "invalid secret name `{name}`; allowed: upper-case letters, digits and _, not starting with a digit"
            )));
        }
        if out.iter().any(|s| s.name == name) {
            return Err(cx.invalid(
                &g.name.span(),
                &k("name"),
                format!("secret `{name}` is granted twice"),
            ));
        }
        if g.allow.get_ref().is_empty() {
            return Err(cx.invalid(
                &g.allow.span(),
                &k("allow"),
                "must name at least one destination (scheme://host[:port][/path])",
            ));
        }
        let mut allow = Vec::new();
        for (j, a) in g.allow.get_ref().iter().enumerate() {
            let key = format!("{}[{j}]", k("allow"));
            let rule = UrlRule::parse(a.get_ref()).map_err(|e| {
                cx.invalid(
                    &a.span(),
                    &key,
                    format!("`{}`: {e}; allowed: {URL_RULE_HELP}", a.get_ref()),
                )
            })?;
            if let Err(why) = secret_destination_ok(&rule) {
                return Err(cx.invalid(&a.span(), &key, format!(
                    "`{rule}`: {why}; secrets travel only over verified TLS: allowed: https://NAME[:port][/path-prefix] with NAME a DNS name or `*.suffix`"
                )));
            }
            if !net.iter().any(|n| n.allow.covers(&rule)) {
                return Err(cx.invalid(&a.span(), &key, format!(
                    "`{rule}` is not covered by any net grant of tool `{tname}`; a secret may only go where the tool may connect"
                )));
            }
            allow.push(rule);
        }
        let header = match &g.header {
            Some(h) => {
                if !valid_header_name(h.get_ref()) {
                    return Err(cx.invalid(
                        &h.span(),
                        &k("header"),
                        format!("`{}` is not a valid HTTP header name", h.get_ref()),
                    ));
                }
                let lower = h.get_ref().to_ascii_lowercase();
                if [
                    "host",
                    "connection",
                    "content-length",
                    "transfer-encoding",
                    "te",
                    "upgrade",
                    "proxy-authorization",
                    "cookie",
                ]
                .contains(&lower.as_str())
                {
                    return Err(cx.invalid(
                        &h.span(),
                        &k("header"),
                        format!("header `{}` may not carry a secret", h.get_ref()),
                    ));
                }
                Some(h.get_ref().clone())
            }
            None => None,
        };
        let format = match &g.format {
            Some(f) => {
                if header.is_none() {
                    return Err(cx.invalid(&f.span(), &k("format"), "`format` needs `header`: it says how the value is written into that header"));
                }
                if f.get_ref().matches("{}").count() != 1 {
                    return Err(cx.invalid(
                        &f.span(),
                        &k("format"),
                        "must contain `{}` exactly once, where the value goes (e.g. \"Bearer {}\")",
                    ));
                }
                if f.get_ref().chars().any(|c| c.is_control()) {
                    return Err(cx.invalid(
                        &f.span(),
                        &k("format"),
                        "must not contain control characters",
                    ));
                }
                Some(f.get_ref().clone())
            }
            None => None,
        };
        out.push(SecretGrant {
            name,
            allow,
            header,
            format,
            rationale,
        });
    }
    Ok(out)
}

fn resolve_env(cx: &Ctx<'_>, tname: &str, tool: &RawTool) -> Result<Vec<EnvVar>, ManifestError> {
    let mut out = Vec::new();
    for (name, value) in &tool.env {
        let key = format!("tools.{tname}.env.{}", name.get_ref());
        if !valid_env_name(name.get_ref()) {
            return Err(cx.invalid(
                &name.span(),
                &key,
                "invalid variable name; allowed: letters, digits and _, not starting with a digit",
            ));
        }
        if value.get_ref().contains('\0') {
            return Err(cx.invalid(&value.span(), &key, "must not contain NUL"));
        }
        if value.get_ref().contains("{{secret:") {
            return Err(cx.invalid(&value.span(), &key, "secrets never enter the sandbox's environment; use a [[secrets]] grant with `header`"));
        }
        out.push(EnvVar {
            name: name.get_ref().clone(),
            value: value.get_ref().clone(),
        });
    }
    Ok(out)
}
