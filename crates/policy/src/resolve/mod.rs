//! From the raw manifest to resolved, validated grants: the shape of a tool
//! here, each grant kind in a module of its own.

mod env;
mod fs;
mod guards;
mod limits;
mod monitor;
mod net;
mod scratch;
mod secrets;
mod types;

pub use fs::NATIVE_LAYOUT;
pub use secrets::secret_destination_ok;
pub use types::{Manifest, MonitorPolicy, NetGrant, SecretGrant, ToolSpec};

use env::resolve_env;
use fs::{guest_path, nested, resolve_fs};
use guards::resolve_guards;
use limits::{resolve_limits, size};
use net::resolve_net;
use scratch::resolve_scratch;
use secrets::resolve_secrets;

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
        let monitor = monitor::resolve_monitor(&cx, raw.monitor.as_ref(), &out)?;
        Ok(Self {
            path: file.to_path_buf(),
            sha256: hex::encode(Sha256::digest(text.as_bytes())),
            tools: out,
            monitor,
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
    let guards = resolve_guards(cx, &tname, tool.guards.as_ref())?;
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
        guards,
    })
}
