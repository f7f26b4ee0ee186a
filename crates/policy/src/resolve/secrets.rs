//! Secret grants: names, destinations (verified TLS only), header injection.

use super::*;

pub(super) fn valid_header_name(n: &str) -> bool {
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

pub(super) fn resolve_secrets(
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
