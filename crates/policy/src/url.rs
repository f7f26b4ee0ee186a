//! URL rules of net grants and secret grants: `scheme://host[:port][/path-prefix]`,
//! where host may be `*.suffix` (subdomains only).

use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

/// What a URL rule may look like, for error messages.
pub const URL_RULE_HELP: &str = "scheme://host[:port][/path-prefix] with scheme http or https, \
host a DNS name, `*.suffix`, an IPv4 address or a bracketed IPv6 address, \
and no user info, query or fragment";

/// The host part of a rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HostPattern {
    /// Exactly this DNS name (lowercase, no trailing dot).
    Exact(String),
    /// Any strict subdomain of this suffix (`*.example.com` matches `a.example.com`,
    /// not `example.com`).
    Subdomains(String),
    /// An IPv4 literal.
    Ipv4(Ipv4Addr),
    /// An IPv6 literal.
    Ipv6(Ipv6Addr),
}

impl HostPattern {
    /// Does this pattern admit the (already lowercased) host name `host`?
    pub fn admits(&self, host: &str) -> bool {
        match self {
            Self::Exact(h) => h == host,
            Self::Subdomains(s) => host
                .strip_suffix(s.as_str())
                .is_some_and(|head| head.len() > 1 && head.ends_with('.')),
            Self::Ipv4(ip) => host.parse::<Ipv4Addr>().is_ok_and(|h| h == *ip),
            Self::Ipv6(ip) => host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<Ipv6Addr>()
                .is_ok_and(|h| h == *ip),
        }
    }

    /// Is every host admitted by `other` also admitted by `self`?
    pub fn covers(&self, other: &HostPattern) -> bool {
        match (self, other) {
            (a, b) if a == b => true,
            (Self::Subdomains(s), Self::Exact(h)) => Self::Subdomains(s.clone()).admits(h),
            (Self::Subdomains(s), Self::Subdomains(t)) => Self::Subdomains(s.clone()).admits(t),
            _ => false,
        }
    }
}

impl fmt::Display for HostPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Exact(h) => f.write_str(h),
            Self::Subdomains(s) => write!(f, "*.{s}"),
            Self::Ipv4(ip) => write!(f, "{ip}"),
            Self::Ipv6(ip) => write!(f, "[{ip}]"),
        }
    }
}

/// A parsed `scheme://host[:port][/path-prefix]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UrlRule {
    /// `http` or `https`.
    pub scheme: String,
    pub host: HostPattern,
    /// Explicit, or the scheme's default.
    pub port: u16,
    /// Always starts with `/`; `/` admits every path.
    pub path_prefix: String,
}

/// Why a URL rule was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct UrlRuleError(pub String);

fn err<T>(msg: impl Into<String>) -> Result<T, UrlRuleError> {
    Err(UrlRuleError(msg.into()))
}

impl UrlRule {
    /// Strictly parses a rule. Anything unusual is refused rather than guessed at.
    pub fn parse(text: &str) -> Result<Self, UrlRuleError> {
        if text.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return err("contains whitespace or control characters");
        }
        if !text.is_ascii() {
            return err("contains non-ASCII characters (write international names in punycode)");
        }
        let Some((scheme, rest)) = text.split_once("://") else {
            return err("has no scheme (write https://host)");
        };
        let scheme = scheme.to_ascii_lowercase();
        let default_port = match scheme.as_str() {
            "https" => 443,
            "http" => 80,
            other => return err(format!("scheme `{other}` is not allowed")),
        };
        if rest.contains(['?', '#']) {
            return err("must not contain a query or fragment");
        }
        if rest.contains('\\') {
            return err("must not contain backslashes");
        }
        let (authority, path) = match rest.find('/') {
            Some(i) => rest.split_at(i),
            None => (rest, "/"),
        };
        if authority.contains('@') {
            return err("must not contain user info (`user@`)");
        }
        if authority.is_empty() {
            return err("has no host");
        }
        let (host_text, port_text) = if let Some(after) = authority.strip_prefix('[') {
            let Some((v6, tail)) = after.split_once(']') else {
                return err("has an unclosed `[` in the host");
            };
            let port = match tail {
                "" => None,
                t => match t.strip_prefix(':') {
                    Some(p) => Some(p),
                    None => return err("has junk after the IPv6 address"),
                },
            };
            (format!("[{v6}]"), port)
        } else {
            match authority.split_once(':') {
                Some((h, p)) => (h.to_string(), Some(p)),
                None => (authority.to_string(), None),
            }
        };
        let port = match port_text {
            None => default_port,
            Some(p) => match p.parse::<u16>() {
                Ok(n) if n > 0 && p.chars().all(|c| c.is_ascii_digit()) => n,
                _ => return err(format!("port `{p}` is not a number from 1 to 65535")),
            },
        };
        let host = parse_host(&host_text)?;
        if path.contains('%') {
            return err("path must not contain percent-encoding");
        }
        if path.split('/').any(|seg| seg == ".." || seg == ".") {
            return err("path must not contain `.` or `..` segments");
        }
        if path.contains("//") {
            return err("path must not contain empty segments (`//`)");
        }
        Ok(Self {
            scheme,
            host,
            port,
            path_prefix: path.to_string(),
        })
    }

    /// Is every URL this rule `other` admits also admitted by `self`?
    pub fn covers(&self, other: &UrlRule) -> bool {
        self.scheme == other.scheme
            && self.port == other.port
            && self.host.covers(&other.host)
            && path_prefix_admits(&self.path_prefix, &other.path_prefix)
    }
}

/// Does the prefix `prefix` admit `path`? Prefixes match at segment boundaries:
/// `/repos` admits `/repos` and `/repos/x`, not `/repository`.
pub fn path_prefix_admits(prefix: &str, path: &str) -> bool {
    if prefix == "/" {
        return true;
    }
    let prefix = prefix.trim_end_matches('/');
    path == prefix
        || path
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with('/'))
}

fn parse_host(text: &str) -> Result<HostPattern, UrlRuleError> {
    if let Some(inner) = text.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
        return match inner.parse::<Ipv6Addr>() {
            Ok(ip) => Ok(HostPattern::Ipv6(ip)),
            Err(_) => err(format!("`{inner}` is not an IPv6 address")),
        };
    }
    let lower = text.to_ascii_lowercase();
    if lower.ends_with('.') {
        return err("host must not end with a dot");
    }
    let (wild, name) = match lower.strip_prefix("*.") {
        Some(rest) => (true, rest),
        None => (false, lower.as_str()),
    };
    if name.contains('*') {
        return err("`*` is allowed only as the whole first label (`*.example.com`)");
    }
    let labels: Vec<&str> = name.split('.').collect();
    let all_numeric = labels
        .iter()
        .all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_digit()));
    if all_numeric || name.starts_with("0x") {
        // Only the canonical dotted-quad spelling is accepted for IPv4.
        return match name.parse::<Ipv4Addr>() {
            Ok(ip) if !wild && ip.to_string() == name => Ok(HostPattern::Ipv4(ip)),
            _ => err(format!(
                "`{name}` is not a DNS name or a canonical dotted-quad IPv4 address"
            )),
        };
    }
    if name.is_empty() || name.len() > 253 {
        return err("host name is empty or longer than 253 characters");
    }
    for label in &labels {
        let ok = !label.is_empty()
            && label.len() <= 63
            && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !label.starts_with('-')
            && !label.ends_with('-');
        if !ok {
            return err(format!(
                "host label `{label}` is not valid (letters, digits and inner hyphens, 1 to 63 characters)"
            ));
        }
    }
    if labels
        .last()
        .is_some_and(|l| l.chars().all(|c| c.is_ascii_digit()))
    {
        return err("the last label of a host name must not be all digits");
    }
    Ok(if wild {
        HostPattern::Subdomains(name.to_string())
    } else {
        HostPattern::Exact(name.to_string())
    })
}

impl fmt::Display for UrlRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let default = if self.scheme == "https" { 443 } else { 80 };
        write!(f, "{}://{}", self.scheme, self.host)?;
        if self.port != default {
            write!(f, ":{}", self.port)?;
        }
        if self.path_prefix != "/" {
            f.write_str(&self.path_prefix)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> UrlRule {
        match UrlRule::parse(s) {
            Ok(r) => r,
            Err(e) => panic!("{s}: {e}"),
        }
    }

    #[test]
    fn parses() {
        let r = ok("https://Docs.RS");
        assert_eq!(r.host, HostPattern::Exact("docs.rs".into()));
        assert_eq!(r.port, 443);
        assert_eq!(r.path_prefix, "/");
        let r = ok("http://*.example.com:8080/api");
        assert_eq!(r.host, HostPattern::Subdomains("example.com".into()));
        assert_eq!(r.port, 8080);
        assert_eq!(r.path_prefix, "/api");
        assert_eq!(
            ok("https://[::1]:9/").host,
            HostPattern::Ipv6("::1".parse().unwrap_or(Ipv6Addr::UNSPECIFIED))
        );
        assert_eq!(
            ok("http://127.0.0.1").host,
            HostPattern::Ipv4(Ipv4Addr::LOCALHOST)
        );
    }

    #[test]
    fn refuses() {
        for bad in [
            "docs.rs",
            "ftp://x.org",
            "https://u:p@x.org",
            "https://x.org?a",
            "https://x.org#f",
            "https://",
            "https://x.org:0",
            "https://x.org:99999",
            "https://x.org:1a",
            "https://*.*.org",
            "https://a*.org",
            "https://0x7f000001",
            "https://017700000001",
            "https://127.1",
            "https://x.org/%2e%2e",
            "https://x.org/a/../b",
            "https://x .org",
            "https://x.org.",
            "https://-x.org",
            "https://[::1",
            "https://ünï.org",
            "https://x.123",
            "https://x.org\\@y.org",
            "https://x.org//a",
        ] {
            assert!(UrlRule::parse(bad).is_err(), "accepted {bad}");
        }
    }

    #[test]
    fn wildcard_is_subdomains_only() {
        let p = HostPattern::Subdomains("example.com".into());
        assert!(p.admits("a.example.com"));
        assert!(p.admits("a.b.example.com"));
        assert!(!p.admits("example.com"));
        assert!(!p.admits("badexample.com"));
    }

    #[test]
    fn coverage() {
        assert!(ok("https://*.github.com").covers(&ok("https://api.github.com/repos")));
        assert!(ok("https://api.github.com/repos").covers(&ok("https://api.github.com/repos/x")));
        assert!(
            !ok("https://api.github.com/repos").covers(&ok("https://api.github.com/repository"))
        );
        assert!(!ok("https://api.github.com").covers(&ok("http://api.github.com")));
        assert!(!ok("https://api.github.com").covers(&ok("https://api.github.com:444")));
        assert!(!ok("https://api.github.com/a").covers(&ok("https://api.github.com")));
    }
}
