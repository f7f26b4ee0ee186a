//! Guards: a tool's `[tools.<name>.guards]` (guards.md), defaults when absent.

use super::*;
use agentbox_guard::policy::{Allow, MAX_INPUT_LIMIT};
use agentbox_guard::{Action, GuardPolicy, HiddenAction};

pub(super) fn resolve_guards(
    cx: &Ctx<'_>,
    tname: &str,
    raw: Option<&Spanned<crate::raw::RawGuards>>,
) -> Result<GuardPolicy, ManifestError> {
    let mut g = GuardPolicy::default();
    let Some(raw) = raw else { return Ok(g) };
    let raw = raw.get_ref();
    let k = |key: &str| format!("tools.{tname}.guards.{key}");
    if let Some(v) = &raw.input_schema {
        g.input_schema = *v.get_ref();
    }
    if let Some(v) = &raw.max_input {
        g.max_input = size(cx, v, &k("max_input"), MAX_INPUT_LIMIT)?;
    }
    let action = |v: &Spanned<String>, key: &str, injection: bool| {
        let w = v.get_ref().as_str();
        match Action::parse(w) {
            Some(Action::Redact) if injection => Err(cx.invalid(
                &v.span(),
                &k(key),
                format!(
                    "injection cannot be redacted (the words are the attack, not a value); allowed: {}",
                    Action::INJECTION_WORDS
                ),
            )),
            Some(a) => Ok(a),
            None => Err(cx.invalid(
                &v.span(),
                &k(key),
                format!(
                    "unknown action `{w}`; allowed: {}",
                    if injection { Action::INJECTION_WORDS } else { Action::WORDS }
                ),
            )),
        }
    };
    if let Some(v) = &raw.secrets {
        g.secrets = action(v, "secrets", false)?;
    }
    if let Some(v) = &raw.pii {
        g.pii = action(v, "pii", false)?;
    }
    if let Some(v) = &raw.injection {
        g.injection = action(v, "injection", true)?;
    }
    if let Some(v) = &raw.hidden_text {
        let w = v.get_ref().as_str();
        g.hidden_text = HiddenAction::parse(w).ok_or_else(|| {
            cx.invalid(
                &v.span(),
                &k("hidden_text"),
                format!("unknown action `{w}`; allowed: {}", HiddenAction::WORDS),
            )
        })?;
    }
    if let Some(list) = &raw.pii_types {
        let mut types = Vec::new();
        for t in list.get_ref() {
            let w = t.get_ref().as_str();
            if !agentbox_guard::pii::TYPES.contains(&w) {
                return Err(cx.invalid(
                    &t.span(),
                    &k("pii_types"),
                    format!(
                        "unknown personal-data type `{w}`; allowed: {}",
                        agentbox_guard::pii::TYPES.join(", ")
                    ),
                ));
            }
            types.push(w.to_string());
        }
        g.pii_types = Some(types);
    }
    if let Some(list) = &raw.allow {
        let entries: Vec<String> = list.get_ref().iter().map(|e| e.get_ref().clone()).collect();
        if let Err((i, why)) = Allow::new(&entries) {
            let span = list.get_ref()[i].span();
            return Err(cx.invalid(
                &span,
                &k("allow"),
                format!("entry {}: {why}; allowed: a literal string, or a regular expression written /…/", i + 1),
            ));
        }
        g.allow = entries;
    }
    Ok(g)
}
