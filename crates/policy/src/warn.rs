//! Warnings about grants that are allowed but broad (shown by `agentbox check`).

use crate::broad::{PUBLIC_SUFFIXES, is_home_or_above};
use crate::resolve::Manifest;
use crate::url::HostPattern;
use agentbox_spec::{Access, ToolKind};
use std::path::Path;
use std::time::Duration;

/// One warning about one tool's grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub tool: String,
    /// Dotted key of the grant, e.g. `tools.x.fs[0]`.
    pub key: String,
    pub message: String,
}

/// Every broad grant in the manifest.
pub fn warnings(m: &Manifest) -> Vec<Warning> {
    let mut out = Vec::new();
    for (name, t) in &m.tools {
        let mut w = |key: String, message: String| {
            out.push(Warning {
                tool: name.clone(),
                key,
                message,
            })
        };
        for (i, g) in t.fs.iter().enumerate() {
            let key = format!("tools.{name}.fs[{i}]");
            if g.host == Path::new("/") {
                w(
                    key,
                    format!("grants the whole host filesystem (/) {}", g.access.as_str()),
                );
            } else if is_home_or_above(&g.host) {
                let what = if g.access == Access::Rw {
                    "read-write"
                } else {
                    "read-only"
                };
                w(
                    key,
                    format!(
                        "grants a home directory or its parent ({}) {what}: SSH keys and credentials live there",
                        g.host.display()
                    ),
                );
            } else if g.access == Access::Rw
                && [
                    "/etc", "/usr", "/var", "/bin", "/sbin", "/lib", "/boot", "/opt", "/srv",
                ]
                .iter()
                .any(|p| g.host == Path::new(p))
            {
                w(
                    key,
                    format!(
                        "grants a system directory ({}) read-write",
                        g.host.display()
                    ),
                );
            }
        }
        for (i, g) in t.net.iter().enumerate() {
            let key = format!("tools.{name}.net[{i}]");
            if let HostPattern::Subdomains(s) = &g.allow.host
                && (PUBLIC_SUFFIXES.contains(&s.as_str()) || !s.contains('.'))
            {
                w(
                    key.clone(),
                    format!(
                        "wildcard `*.{s}` covers a public suffix: anyone can register a host under it"
                    ),
                );
            }
            if g.private {
                w(key.clone(), "private = true: this rule may reach loopback, private networks and link-local addresses".into());
            }
            if g.allow.scheme == "http" {
                w(
                    key.clone(),
                    "plain http: traffic can be read and changed on the way".into(),
                );
            }
            if g.methods
                .iter()
                .any(|m| !matches!(m.as_str(), "GET" | "HEAD" | "OPTIONS"))
                && g.allow.path_prefix == "/"
            {
                w(
                    key,
                    format!(
                        "write methods ({}) on every path of the host",
                        g.methods.join(", ")
                    ),
                );
            }
        }
        let l = &t.limits;
        let key = format!("tools.{name}.limits");
        if l.memory > 1 << 30 {
            w(
                key.clone(),
                format!(
                    "memory limit {} is very large",
                    crate::units::format_size(l.memory)
                ),
            );
        }
        if l.timeout > Duration::from_secs(600) {
            w(
                key.clone(),
                format!(
                    "timeout {} is very long",
                    crate::units::format_duration(l.timeout)
                ),
            );
        }
        if l.cpu > Duration::from_secs(600) {
            w(
                key.clone(),
                format!(
                    "cpu limit {} is very large",
                    crate::units::format_duration(l.cpu)
                ),
            );
        }
        if l.output > 64 << 20 {
            w(
                key.clone(),
                format!(
                    "output limit {} is very large",
                    crate::units::format_size(l.output)
                ),
            );
        }
        if l.http_bytes > 1 << 30 {
            w(
                key.clone(),
                format!(
                    "http_bytes {} is very large",
                    crate::units::format_size(l.http_bytes)
                ),
            );
        }
        if l.http_requests > 1000 {
            w(
                key.clone(),
                format!("http_requests {} is very large", l.http_requests),
            );
        }
        if t.kind == ToolKind::Native && l.processes > 256 {
            w(key, format!("processes {} is very large", l.processes));
        }
    }
    out
}
