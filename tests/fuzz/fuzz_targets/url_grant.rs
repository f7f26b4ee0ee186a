//! URL parsing and grant matching: whatever the guest's URL, a target that
//! matches a grant has that grant's scheme and port, a host the rule admits, no
//! user info and no control characters; and every address the host would connect
//! to for an internal name is classified without panicking.
#![no_main]
use agentbox_egress::ip;
use agentbox_policy::{NetGrant, UrlRule, find_net_grant, target};
use libfuzzer_sys::fuzz_target;

fn grants() -> Vec<NetGrant> {
    [
        "https://api.allowed.test/repos",
        "http://*.allowed.test",
        "http://169.254.169.254",
        "https://[fd00::1]:8443/x",
    ]
    .iter()
    .map(|a| NetGrant {
        allow: UrlRule::parse(a).expect("rule"),
        methods: vec!["GET".into()],
        private: false,
        rationale: "fuzz".into(),
    })
    .collect()
}

fuzz_target!(|data: &[u8]| {
    let Ok(url) = std::str::from_utf8(data) else {
        return;
    };
    // Rules themselves are parsed strictly too.
    let _ = UrlRule::parse(url);
    let Ok(t) = target::parse(url) else { return };
    assert!(t.scheme == "http" || t.scheme == "https");
    assert!(t.port != 0);
    assert!(t.path.starts_with('/'));
    let shown = t.to_url_string();
    assert!(!shown.bytes().any(|b| b < 0x21 || b > 0x7e), "{shown:?}");
    // No user info: nothing between "://" and the first "/" holds an "@".
    let authority = shown
        .split_once("://")
        .map(|(_, r)| r.split('/').next().unwrap_or(""))
        .unwrap_or("");
    assert!(!authority.contains('@'), "{shown:?}");
    // Parsing what we would send gives the same target (one parse, stable) — when
    // normalisation (percent-encoding of the path) kept it within the length cap.
    if shown.len() <= target::MAX_URL {
        assert_eq!(target::parse(&shown).as_ref(), Ok(&t), "{shown}");
    }
    // The raw text never carries a percent-encoded or user-info authority.
    let raw_authority = url
        .get(url.find("//").map_or(0, |i| i + 2)..)
        .unwrap_or("")
        .split(['/', '?', '#'])
        .next()
        .unwrap_or("");
    assert!(
        !raw_authority.contains('%') && !raw_authority.contains('@'),
        "{url:?}"
    );
    let g = grants();
    if let Ok((i, rule)) = find_net_grant(&g, "GET", &t) {
        assert_eq!(rule.allow.scheme, t.scheme);
        assert_eq!(rule.allow.port, t.port);
        assert!(i < g.len());
    }
    if let target::Host::Ip(addr) = t.host {
        let _ = ip::forbidden(addr);
    }
    if let Ok(next) = target::join(&t, url) {
        assert!(next.scheme == "http" || next.scheme == "https");
    }
});
