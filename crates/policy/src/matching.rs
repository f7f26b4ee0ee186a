//! Matching a vetted [`Target`] and method against a tool's grants: the one
//! place that says whether a URL rule admits a destination, for net grants and
//! for a secret's `allow` alike.

use crate::NetGrant;
use crate::target::{Host, Target};
use crate::url::{HostPattern, UrlRule, path_prefix_admits};
use std::net::IpAddr;

impl UrlRule {
    /// Does this rule admit `target` (scheme, host, port, path prefix)?
    pub fn admits(&self, target: &Target) -> bool {
        self.scheme == target.scheme
            && self.port == target.port
            && host_admits(&self.host, &target.host)
            && path_prefix_admits(&self.path_prefix, &target.path)
            && (self.path_prefix == "/" || !ambiguous_path(&target.path))
    }
}

/// Path text that servers may split differently from us (`..%2f`, `%5c`, `;`
/// parameters): refused under a rule that only allows a path prefix.
fn ambiguous_path(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    lower.contains("%2f") || lower.contains("%5c") || lower.contains(';') || lower.contains("%2e")
}

fn host_admits(pattern: &HostPattern, host: &Host) -> bool {
    match (pattern, host) {
        (HostPattern::Exact(_) | HostPattern::Subdomains(_), Host::Name(n)) => pattern.admits(n),
        (HostPattern::Ipv4(p), Host::Ip(IpAddr::V4(ip))) => p == ip,
        (HostPattern::Ipv6(p), Host::Ip(IpAddr::V6(ip))) => p == ip,
        _ => false,
    }
}

/// The net grant that allows this request, with its index, or why none does.
pub fn find_net_grant<'g>(
    grants: &'g [NetGrant],
    method: &str,
    target: &Target,
) -> Result<(usize, &'g NetGrant), String> {
    if grants.is_empty() {
        return Err("the tool has no net grant (deny by default)".into());
    }
    let mut url_matched = false;
    for (i, g) in grants.iter().enumerate() {
        if g.allow.admits(target) {
            url_matched = true;
            if g.methods.iter().any(|m| m == method) {
                return Ok((i, g));
            }
        }
    }
    Err(if url_matched {
        format!(
            "method {method} is not granted for {}",
            target.display_without_query()
        )
    } else {
        format!(
            "no net grant allows {} (scheme, host, port and path must match a rule)",
            target.display_without_query()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::parse;

    fn grant(allow: &str, methods: &[&str]) -> NetGrant {
        NetGrant {
            allow: UrlRule::parse(allow).unwrap_or_else(|e| panic!("{allow}: {e}")),
            methods: methods.iter().map(|m| m.to_string()).collect(),
            private: false,
            rationale: "test".into(),
        }
    }

    fn ok(grants: &[NetGrant], method: &str, url: &str) -> bool {
        let t = parse(url).unwrap_or_else(|e| panic!("{url}: {e}"));
        find_net_grant(grants, method, &t).is_ok()
    }

    #[test]
    fn scheme_host_port_path_and_method_must_all_match() {
        let g = [
            grant("https://api.allowed.test/repos", &["GET"]),
            grant("https://*.allowed.test", &["GET", "HEAD"]),
        ];
        assert!(ok(&g, "GET", "https://api.allowed.test/repos/x"));
        assert!(ok(&g, "GET", "https://api.allowed.test/repos"));
        assert!(ok(&g, "GET", "https://a.b.allowed.test/anything"));
        assert!(
            !ok(&g, "GET", "https://allowed.test/"),
            "suffix rule admits subdomains only"
        );
        assert!(!ok(&g, "POST", "https://api.allowed.test/repos/x"));
        assert!(!ok(&g, "GET", "http://api.allowed.test/repos/x"), "scheme");
        assert!(
            !ok(&g, "GET", "https://api.allowed.test:8443/repos/x"),
            "port"
        );
        assert!(!ok(&g, "GET", "https://api.allowed.test:6379/"), "port");
        assert!(!ok(&g, "GET", "https://evilallowed.test/"));
        assert!(!ok(&g, "GET", "https://allowed.test.evil.test/"));
        let only_repos = [grant("https://api.allowed.test/repos", &["GET"])];
        assert!(!ok(
            &only_repos,
            "GET",
            "https://api.allowed.test/repository"
        ));
        assert!(!ok(
            &only_repos,
            "GET",
            "https://api.allowed.test/repos/../admin"
        ));
        assert!(!ok(
            &only_repos,
            "GET",
            "https://api.allowed.test/repos/%2e%2e/admin"
        ));
    }

    #[test]
    fn ip_rules_admit_only_that_address_however_spelled() {
        let g = [grant("http://127.0.0.1:8080", &["GET"])];
        assert!(ok(&g, "GET", "http://127.0.0.1:8080/"));
        assert!(ok(&g, "GET", "http://0x7f.1:8080/"));
        assert!(!ok(&g, "GET", "http://localhost:8080/"));
        assert!(!ok(&g, "GET", "http://[::ffff:127.0.0.1]:8080/"));
    }

    #[test]
    fn no_grants_means_deny() {
        let t = parse("https://x.test/").expect("url");
        assert!(find_net_grant(&[], "GET", &t).is_err_and(|e| e.contains("deny by default")));
    }
}
