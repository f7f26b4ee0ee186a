//! Plain environment variables for the guest.

use super::*;

pub(super) fn valid_env_name(n: &str) -> bool {
    let mut c = n.chars();
    matches!(c.next(), Some('A'..='Z' | 'a'..='z' | '_'))
        && c.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

pub(super) fn resolve_env(
    cx: &Ctx<'_>,
    tname: &str,
    tool: &RawTool,
) -> Result<Vec<EnvVar>, ManifestError> {
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
