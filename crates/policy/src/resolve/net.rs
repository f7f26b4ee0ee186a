//! Network grants (`net`): URL rules, methods, `private`.

use super::*;

pub(super) const METHODS: &[&str] = &["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

pub(super) fn resolve_net(
    cx: &Ctx<'_>,
    tname: &str,
    tool: &RawTool,
) -> Result<Vec<NetGrant>, ManifestError> {
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
            && (crate::broad::PUBLIC_SUFFIXES.contains(&s.as_str()) || !s.contains('.'))
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
