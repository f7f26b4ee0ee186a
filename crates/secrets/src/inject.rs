//! Substituting secrets into outgoing requests, per destination: a
//! `{{secret:NAME}}` placeholder in a header value, and the manifest's
//! `header`/`format` injection — only toward URLs the secret's `allow` covers, and
//! only over verified TLS to a DNS name ([`over_verified_tls`]), every use recorded.

use crate::store::SecretStore;
use agentbox_policy::{Host, SecretGrant, Target, UNBOUND_PLACEHOLDER};
use std::sync::Mutex;

/// Why a request's headers could not be made (no value in any of them).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum InjectError {
    /// A placeholder names no secret bound to this destination, or is malformed:
    /// one answer for every case, so that names cannot be probed.
    #[error("{UNBOUND_PLACEHOLDER}")]
    Unbound,
    /// A secret would go somewhere it may never go (cleartext, an IP literal).
    #[error("{0}")]
    Denied(String),
    /// A placeholder outside a header value.
    #[error("{0}")]
    Misplaced(String),
    /// The secret's source could not give its value (the source's words, never
    /// the value).
    #[error("{0}")]
    Source(String),
}

/// One use of a secret (never its value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretUse {
    pub name: String,
    /// Scheme, host, port and path of the request it was sent with.
    pub destination: String,
}

/// The supervisor's [`Credentials`] for one invocation of one tool.
pub struct Injector<'a> {
    store: Option<&'a SecretStore>,
    grants: &'a [SecretGrant],
    /// Uses committed: the request went to a vetted address.
    uses: Mutex<Vec<SecretUse>>,
    /// Uses of the last `headers_for`, not yet committed (the request may still
    /// be refused by the address check or the budget).
    pending: Mutex<Vec<SecretUse>>,
}

impl std::fmt::Debug for Injector<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Injector")
            .field("grants", &self.grants.len())
            .finish_non_exhaustive()
    }
}

fn unbound() -> InjectError {
    InjectError::Unbound
}

/// Does the text carry a placeholder, raw or percent-encoded (any case)?
pub fn mentions_placeholder(bytes: &[u8]) -> bool {
    let lower = bytes.to_ascii_lowercase();
    [
        &b"{{secret:"[..],
        b"%7b%7bsecret:",
        b"%7b%7bsecret%3a",
        b"{{secret%3a",
    ]
    .iter()
    .any(|p| lower.windows(p.len()).any(|w| w == *p))
}

/// May a secret go to `target`? Only over TLS to a DNS name: the egress client
/// always verifies an https server's certificate chain (system roots plus
/// `--extra-ca`) and its name, so https to a DNS name is verified TLS. Plain http,
/// and an IP literal (whose certificate names no host the operator chose), are
/// refused whatever a grant says — the loader already refuses such grants
/// (`agentbox_policy::secret_destination_ok`); this is the same rule at request
/// time, in case a rule or a redirect slips past it.
pub fn over_verified_tls(target: &Target) -> Result<(), InjectError> {
    if target.scheme != "https" {
        return Err(InjectError::Denied(format!(
            "a secret is only sent over verified TLS; refused toward {} ({}:// is cleartext)",
            target.display_without_query(),
            target.scheme
        )));
    }
    if let Host::Ip(_) = target.host {
        return Err(InjectError::Denied(format!(
            "a secret is only sent over verified TLS to a DNS name; refused toward the IP literal {}",
            target.display_without_query()
        )));
    }
    Ok(())
}

impl<'a> Injector<'a> {
    pub fn new(store: Option<&'a SecretStore>, grants: &'a [SecretGrant]) -> Self {
        Self {
            store,
            grants,
            uses: Mutex::new(Vec::new()),
            pending: Mutex::new(Vec::new()),
        }
    }

    /// Placeholders are substituted only in header values: one in the URL or the
    /// body makes the request fail (it would otherwise land in logs as text).
    pub fn check_request(&self, url: &str, body: Option<&[u8]>) -> Result<(), InjectError> {
        if mentions_placeholder(url.as_bytes()) || body.is_some_and(mentions_placeholder) {
            return Err(InjectError::Misplaced(
                "a {{secret:...}} placeholder may only appear in a header value".into(),
            ));
        }
        Ok(())
    }

    /// The uses recorded so far.
    pub fn uses(&self) -> Vec<SecretUse> {
        self.uses.lock().map(|u| u.clone()).unwrap_or_default()
    }

    fn bound(&self, name: &str, target: &Target) -> Option<&SecretGrant> {
        self.grants
            .iter()
            .find(|g| g.name == name && g.allow.iter().any(|r| r.admits(target)))
    }

    fn value(
        &self,
        name: &str,
        target: &Target,
    ) -> Result<zeroize::Zeroizing<String>, InjectError> {
        let store = self.store.ok_or_else(unbound)?;
        if let Some(why) = store.revoked(name) {
            return Err(InjectError::Denied(format!(
                "the secret {name} was revoked for this session ({why})"
            )));
        }
        // Every value passes here: none leaves except over verified TLS.
        over_verified_tls(target)?;
        let v = store
            .value(name)
            .map_err(|e| InjectError::Source(e.to_string()))?;
        if let Ok(mut u) = self.pending.lock() {
            u.push(SecretUse {
                name: name.to_string(),
                destination: target.display_without_query(),
            });
        }
        Ok(v)
    }

    fn substitute(
        &self,
        header: &str,
        value: &str,
        target: &Target,
    ) -> Result<String, InjectError> {
        let mut out = String::new();
        let mut rest = value;
        while let Some(i) = rest.find("{{") {
            out.push_str(&rest[..i]);
            let after = &rest[i + 2..];
            let Some(body) = after.strip_prefix("secret:") else {
                return Err(unbound());
            };
            let end = body.find("}}").ok_or_else(unbound)?;
            let name = &body[..end];
            let g = self.bound(name, target).ok_or_else(unbound)?;
            // A grant that declares its header is substituted there only.
            if g.header
                .as_ref()
                .is_some_and(|h| !h.eq_ignore_ascii_case(header))
            {
                return Err(unbound());
            }
            out.push_str(&self.value(name, target)?);
            rest = &body[end + 2..];
        }
        out.push_str(rest);
        Ok(out)
    }
}

impl Injector<'_> {
    /// The guest's header templates turned into the headers sent to `target`:
    /// placeholders substituted, declared headers injected — only where the
    /// secret's `allow` admits `target`, and only over verified TLS. Called again
    /// for every redirect hop, with that hop's target.
    pub fn headers_for(
        &self,
        target: &Target,
        guest: &[(String, String)],
    ) -> Result<Vec<(String, String)>, InjectError> {
        if let Ok(mut p) = self.pending.lock() {
            p.clear();
        }
        let mut out = Vec::with_capacity(guest.len() + 1);
        for (name, value) in guest {
            if name.contains('{') || name.contains('}') {
                return Err(unbound());
            }
            if value.contains("{{") {
                out.push((name.clone(), self.substitute(name, value, target)?));
            } else if mentions_placeholder(value.as_bytes()) {
                return Err(unbound());
            } else {
                out.push((name.clone(), value.clone()));
            }
        }
        for g in self.grants {
            let Some(header) = &g.header else { continue };
            if !g.allow.iter().any(|r| r.admits(target)) {
                continue;
            }
            let value = self.value(&g.name, target)?;
            let text = match &g.format {
                Some(f) => f.replacen("{}", &value, 1),
                None => value.to_string(),
            };
            out.retain(|(n, _)| !n.eq_ignore_ascii_case(header));
            out.push((header.clone(), text));
        }
        Ok(out)
    }

    /// The headers of the last `headers_for` are about to be sent to a vetted
    /// address: only now does a secret they carry count as used.
    pub fn commit(&self) {
        let pending = self.pending.lock().map(|mut p| std::mem::take(&mut *p));
        if let (Ok(pending), Ok(mut uses)) = (pending, self.uses.lock()) {
            uses.extend(pending);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use agentbox_policy::UrlRule;
    use std::os::unix::fs::PermissionsExt;

    const VALUE: &str = "canary-secret-value-7f3a";

    fn grant(allow: &str, header: Option<&str>) -> SecretGrant {
        SecretGrant {
            name: "TOKEN".into(),
            // Straight from the rule parser: the manifest loader, which refuses
            // these rules, is bypassed on purpose.
            allow: vec![UrlRule::parse(allow).expect("rule")],
            header: header.map(str::to_string),
            format: Some("Bearer {}".into()),
            rationale: "test".into(),
        }
    }

    fn store(dir: &std::path::Path) -> SecretStore {
        let f = dir.join("tok");
        std::fs::write(&f, VALUE).expect("write");
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        let p = dir.join("secrets.toml");
        std::fs::write(&p, "[secrets.TOKEN]\nfile = \"tok\"\n").expect("write");
        SecretStore::load(&p).expect("store")
    }

    fn target(url: &str) -> Target {
        agentbox_policy::target::parse(url).expect("target")
    }

    /// The request-time layer alone: grants the loader would refuse (http://, an
    /// IP literal), as if one had slipped past it, still get no secret — neither
    /// as the declared header nor through a placeholder — and no use is recorded.
    #[test]
    fn no_secret_leaves_over_cleartext_or_to_an_ip_literal() {
        let d = tempfile::tempdir().expect("tmp");
        let s = store(d.path());
        for url in [
            "http://api.example.test/v1",
            "http://127.0.0.1:8080/v1",
            "https://127.0.0.1:8443/v1",
            "https://[::1]:8443/v1",
        ] {
            let rule = url.trim_end_matches("/v1");
            for header in [Some("Authorization"), None] {
                let grants = [grant(rule, header)];
                let inj = Injector::new(Some(&s), &grants);
                let t = target(url);
                let guest = [(
                    "Authorization".to_string(),
                    "Bearer {{secret:TOKEN}}".to_string(),
                )];
                let asked: &[(String, String)] = if header.is_some() { &[] } else { &guest };
                let r = inj.headers_for(&t, asked);
                let e = r.expect_err(url);
                assert!(
                    matches!(&e, InjectError::Denied(m) if m.contains("verified TLS")),
                    "{url}: {e:?}"
                );
                assert!(!format!("{e:?}").contains(VALUE));
                inj.commit();
                assert!(inj.uses().is_empty(), "{url}: a use was recorded");
            }
        }
        // The same grant toward https and a DNS name: injected, one use.
        let grants = [grant("https://api.example.test", Some("Authorization"))];
        let inj = Injector::new(Some(&s), &grants);
        let h = inj
            .headers_for(&target("https://api.example.test/v1"), &[])
            .expect("https");
        assert_eq!(
            h,
            vec![("Authorization".to_string(), format!("Bearer {VALUE}"))]
        );
        inj.commit();
        assert_eq!(inj.uses().len(), 1);
    }

    /// A revoked secret is refused as a policy denial — as the declared header
    /// and through a placeholder — before its value is read; others still flow.
    #[test]
    fn a_revoked_secret_is_never_injected_again() {
        let d = tempfile::tempdir().expect("tmp");
        let s = store(d.path());
        let grants = [grant("https://api.example.test", Some("Authorization"))];
        let t = target("https://api.example.test/v1");
        assert!(
            Injector::new(Some(&s), &grants)
                .headers_for(&t, &[])
                .is_ok()
        );
        s.revoke("TOKEN", "rule 1 fired");
        s.revoke("TOKEN", "a later reason is not kept");
        let placeholder = [grant("https://api.example.test", None)];
        for (grants, asked) in [
            (&grants, vec![]),
            (
                &placeholder,
                vec![("X-Key".to_string(), "{{secret:TOKEN}}".to_string())],
            ),
        ] {
            let inj = Injector::new(Some(&s), grants);
            let e = inj.headers_for(&t, &asked).expect_err("revoked");
            assert!(
                matches!(&e, InjectError::Denied(m) if m.contains("TOKEN was revoked") && m.contains("rule 1 fired")),
                "{e:?}"
            );
            assert!(!format!("{e:?}").contains(VALUE));
            inj.commit();
            assert!(inj.uses().is_empty());
        }
        assert_eq!(s.revoked("OTHER"), None);
    }
}
