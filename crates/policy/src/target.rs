//! The one strict URL parse. Everything after it — grant matching, DNS, the
//! connection, SNI and the Host header — uses the [`Target`] it returns, never the
//! guest's string again.

use std::fmt;
use std::net::IpAddr;

/// Longest URL accepted.
pub const MAX_URL: usize = 8 * 1024;

/// The host of a target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Host {
    /// A DNS name: lowercase ASCII (IDNA already applied), no trailing dot.
    Name(String),
    /// An IP literal, however it was spelled (`0x7f.1` is 127.0.0.1 here).
    Ip(IpAddr),
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Name(n) => f.write_str(n),
            Self::Ip(IpAddr::V4(ip)) => write!(f, "{ip}"),
            Self::Ip(IpAddr::V6(ip)) => write!(f, "[{ip}]"),
        }
    }
}

/// A vetted absolute http(s) URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// `http` or `https`.
    pub scheme: String,
    pub host: Host,
    /// Explicit or the scheme's default; never 0.
    pub port: u16,
    /// Normalised path (dot segments resolved), always starting with `/`.
    pub path: String,
    /// The query, without `?`, as sent.
    pub query: Option<String>,
}

impl Target {
    /// The request target sent on the wire (origin form).
    pub fn path_and_query(&self) -> String {
        match &self.query {
            Some(q) => format!("{}?{q}", self.path),
            None => self.path.clone(),
        }
    }

    /// `host[:port]` for the Host header (port omitted when it is the default).
    pub fn authority(&self) -> String {
        if Some(self.port) == default_port(&self.scheme) {
            self.host.to_string()
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// Scheme, host and port: what "same origin" compares.
    pub fn origin(&self) -> (String, Host, u16) {
        (self.scheme.clone(), self.host.clone(), self.port)
    }

    /// The URL without its query: safe to show in audit records and errors.
    pub fn display_without_query(&self) -> String {
        format!("{}://{}{}", self.scheme, self.authority(), self.path)
    }

    /// The full URL (for joining redirects).
    pub fn to_url_string(&self) -> String {
        format!(
            "{}://{}{}",
            self.scheme,
            self.authority(),
            self.path_and_query()
        )
    }
}

fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    }
}

/// Why a URL was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    #[error("URL longer than {MAX_URL} bytes")]
    TooLong,
    #[error("URL contains a control character, a space, a backslash or a non-ASCII byte")]
    BadCharacter,
    #[error("URL is not absolute http(s): {0}")]
    Syntax(String),
    #[error("scheme `{0}` is not allowed (only http and https)")]
    Scheme(String),
    #[error("URL carries user info (`user@` or `user:pass@`), which is refused")]
    UserInfo,
    #[error("URL has a fragment (`#...`), which is refused")]
    Fragment,
    #[error("percent-encoding in the host is refused")]
    EncodedHost,
    #[error("URL has no host")]
    NoHost,
    #[error("port 0 is not a valid destination")]
    PortZero,
}

/// Parses a guest's URL strictly: ASCII without controls, spaces or backslashes;
/// http or https; no user info, no fragment, no percent-encoded host. Numeric
/// IPv4 spellings (`2852039166`, `0xA9FEA9FE`, `0251.0376.0251.0376`, `127.1`)
/// are normalised by the WHATWG rules into the address that will be checked and
/// connected to.
pub fn parse(raw: &str) -> Result<Target, TargetError> {
    if raw.len() > MAX_URL {
        return Err(TargetError::TooLong);
    }
    if raw.bytes().any(|b| b <= 0x20 || b >= 0x7f || b == b'\\') {
        return Err(TargetError::BadCharacter);
    }
    // The authority as written, before any normalisation: user info and encoded
    // hosts are refused on the raw text, so that no parser difference can hide them.
    // The scheme and its "//" must be spelled out: WHATWG also accepts
    // `https:host/…`, and a later "://" in the text must never be taken for the
    // authority's start (found by fuzzing: an encoded host got past this check).
    let lower_start: String = raw.chars().take(8).collect::<String>().to_ascii_lowercase();
    let after_scheme = if lower_start.starts_with("https://") {
        &raw[8..]
    } else if lower_start.starts_with("http://") {
        &raw[7..]
    } else {
        let scheme = raw.split(':').next().unwrap_or("").to_ascii_lowercase();
        return Err(
            if scheme.is_empty() || scheme == "http" || scheme == "https" {
                TargetError::Syntax("expected http://host or https://host".into())
            } else {
                TargetError::Scheme(scheme.chars().take(32).collect())
            },
        );
    };
    let authority_end = after_scheme
        .find(['/', '?', '#'])
        .unwrap_or(after_scheme.len());
    let authority = &after_scheme[..authority_end];
    if authority.contains('@') {
        return Err(TargetError::UserInfo);
    }
    if authority.contains('%') {
        return Err(TargetError::EncodedHost);
    }
    if raw.contains('#') {
        return Err(TargetError::Fragment);
    }
    let url = url::Url::parse(raw).map_err(|e| TargetError::Syntax(e.to_string()))?;
    let scheme = url.scheme().to_string();
    if scheme != "http" && scheme != "https" {
        return Err(TargetError::Scheme(scheme));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(TargetError::UserInfo);
    }
    if url.fragment().is_some() {
        return Err(TargetError::Fragment);
    }
    let host = match url.host() {
        Some(url::Host::Domain(d)) => Host::Name(d.to_ascii_lowercase()),
        Some(url::Host::Ipv4(ip)) => Host::Ip(IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => Host::Ip(IpAddr::V6(ip)),
        None => return Err(TargetError::NoHost),
    };
    if matches!(&host, Host::Name(n) if n.is_empty()) {
        return Err(TargetError::NoHost);
    }
    let port = url
        .port_or_known_default()
        .ok_or_else(|| TargetError::Syntax("no port".into()))?;
    if port == 0 {
        return Err(TargetError::PortZero);
    }
    Ok(Target {
        scheme,
        host,
        port,
        path: url.path().to_string(),
        query: url.query().map(str::to_string),
    })
}

/// Resolves a redirect's `Location` against the URL that answered, then parses the
/// result with the same strict rules as a guest's URL.
pub fn join(base: &Target, location: &str) -> Result<Target, TargetError> {
    let base =
        url::Url::parse(&base.to_url_string()).map_err(|e| TargetError::Syntax(e.to_string()))?;
    if location
        .bytes()
        .any(|b| b <= 0x20 || b >= 0x7f || b == b'\\')
    {
        return Err(TargetError::BadCharacter);
    }
    let mut joined = base
        .join(location)
        .map_err(|e| TargetError::Syntax(e.to_string()))?;
    // A fragment in a Location is for the client only: never sent, dropped here.
    joined.set_fragment(None);
    parse(joined.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    fn ip(u: &str) -> IpAddr {
        match parse(u).map(|t| t.host) {
            Ok(Host::Ip(ip)) => ip,
            other => panic!("{u}: {other:?}"),
        }
    }

    #[test]
    fn numeric_ipv4_spellings_become_the_address_that_is_checked() {
        let meta = IpAddr::V4(Ipv4Addr::new(169, 254, 169, 254));
        for u in [
            "http://2852039166/",
            "http://0xA9FEA9FE/",
            "http://0251.0376.0251.0376/",
            "http://169.254.43518/",
            "http://0xa9.0xfe.0xa9.0xfe/",
            "http://0251.254.169.0376/",
        ] {
            assert_eq!(ip(u), meta, "{u}");
        }
        let lo = IpAddr::V4(Ipv4Addr::LOCALHOST);
        for u in [
            "http://127.1/",
            "http://0x7f.1/",
            "http://017700000001/",
            "http://127.0.0.1./",
        ] {
            assert_eq!(ip(u), lo, "{u}");
        }
        assert_eq!(ip("http://[::1]/"), IpAddr::V6(Ipv6Addr::LOCALHOST));
        assert_eq!(
            ip("http://[::ffff:169.254.169.254]/"),
            "::ffff:a9fe:a9fe".parse::<IpAddr>().unwrap_or(meta)
        );
    }

    #[test]
    fn authority_confusion_is_refused() {
        for u in [
            "https://allowed.test@evil.test/",
            "https://allowed.test:443@evil.test/",
            "https://u:p@allowed.test/",
        ] {
            assert_eq!(parse(u), Err(TargetError::UserInfo), "{u}");
        }
        for u in [
            "https://evil.test\\@allowed.test/",
            "https://evil.test\t.allowed.test/",
            "https://allowed.test/\r\nHost: evil",
            "https://allowed.test/\0",
            "https://allowéd.test/",
            "https://allowed.test/ x",
        ] {
            assert_eq!(parse(u), Err(TargetError::BadCharacter), "{u:?}");
        }
        assert_eq!(
            parse("https://evil.test#@allowed.test"),
            Err(TargetError::Fragment)
        );
        // `?@` puts the @ in the query: the host is evil.test, which grants decide.
        let t = parse("https://evil.test?@allowed.test").expect("parses");
        assert_eq!(t.host, Host::Name("evil.test".into()));
        assert_eq!(
            parse("https://%31%32%37.0.0.1/"),
            Err(TargetError::EncodedHost)
        );
    }

    #[test]
    fn only_http_and_https_with_real_ports() {
        for u in [
            "gopher://x/",
            "file:///etc/passwd",
            "ftp://x/",
            "ws://x/",
            "http+unix://x/",
            "data:text/plain,x",
        ] {
            assert!(parse(u).is_err(), "{u}");
        }
        assert_eq!(parse("https://x.test:0/"), Err(TargetError::PortZero));
        assert!(parse("https://x.test:65536/").is_err());
        let t = parse("https://X.Test/a/../b/./c?q=1").expect("parses");
        assert_eq!(t.host, Host::Name("x.test".into()));
        assert_eq!((t.port, t.path.as_str()), (443, "/b/c"));
        assert_eq!(t.path_and_query(), "/b/c?q=1");
        assert_eq!(
            parse("https://x.test/%2e%2e/etc").map(|t| t.path),
            Ok("/etc".into())
        );
    }

    #[test]
    fn redirects_are_parsed_like_the_first_url() {
        let base = parse("https://api.allowed.test/a/b").expect("base");
        assert_eq!(join(&base, "c").map(|t| t.path), Ok("/a/c".into()));
        assert_eq!(
            join(&base, "//evil.test/x").map(|t| t.host),
            Ok(Host::Name("evil.test".into()))
        );
        assert_eq!(
            join(&base, "http://allowed.test/").map(|t| t.scheme),
            Ok("http".into())
        );
        assert!(join(&base, "file:///etc/passwd").is_err());
        assert!(join(&base, "data:text/plain,x").is_err());
        assert_eq!(
            join(&base, "https://a@evil.test/"),
            Err(TargetError::UserInfo)
        );
    }
}
