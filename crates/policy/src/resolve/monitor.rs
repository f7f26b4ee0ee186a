//! `[monitor]`: each rule's `when`, `tools` and `do` read into data, with the
//! file, line and key of anything that cannot be — an unknown tool, a secret no
//! tool is granted, an anomaly rule without a baseline.

use super::*;
use crate::raw::RawMonitor;
use agentbox_monitor::{Condition, Response, Rule, glob_match};

pub(super) fn resolve_monitor(
    cx: &Ctx<'_>,
    raw: Option<&Spanned<RawMonitor>>,
    tools: &BTreeMap<String, ToolSpec>,
) -> Result<MonitorPolicy, ManifestError> {
    let Some(raw) = raw else {
        return Ok(MonitorPolicy::default());
    };
    let raw = raw.get_ref();
    let baseline = match &raw.baseline {
        Some(b) if b.get_ref().trim().is_empty() => {
            return Err(cx.invalid(
                &b.span(),
                "monitor.baseline",
                "empty path; allowed: a baseline file written by `agentbox audit baseline`",
            ));
        }
        Some(b) => Some(cx.base.join(b.get_ref())),
        None => None,
    };
    let granted: Vec<&str> = tools
        .values()
        .flat_map(|t| t.secrets.iter().map(|s| s.name.as_str()))
        .collect();
    let mut rules = Vec::new();
    for (i, r) in raw.rules.iter().enumerate() {
        let span = r.span();
        let r = r.get_ref();
        let k = |key: &str| format!("monitor.rules[{i}].{key}");
        let condition = Condition::parse(r.when.get_ref())
            .map_err(|m| cx.invalid(&r.when.span(), &k("when"), m))?;
        if condition.needs_baseline() && baseline.is_none() {
            return Err(cx.invalid(
                &r.when.span(),
                &k("when"),
                "an anomaly rule needs `baseline = \"FILE\"` in [monitor] (written by `agentbox audit baseline`)",
            ));
        }
        let globs: Vec<String> = match &r.tools {
            None => vec!["*".to_string()],
            Some(list) => {
                if list.get_ref().is_empty() {
                    return Err(cx.invalid(
                        &list.span(),
                        &k("tools"),
                        "empty list; allowed: tool names or globs (\"*\" for every tool), or leave `tools` out",
                    ));
                }
                let mut out = Vec::new();
                for g in list.get_ref() {
                    let w = g.get_ref();
                    if !tools.keys().any(|t| glob_match(w, t)) {
                        return Err(cx.invalid(
                            &g.span(),
                            &k("tools"),
                            format!(
                                "`{w}` matches no tool; tools: {}",
                                tools.keys().cloned().collect::<Vec<_>>().join(", ")
                            ),
                        ));
                    }
                    out.push(w.clone());
                }
                out
            }
        };
        if r.responses.get_ref().is_empty() {
            return Err(cx.invalid(
                &r.responses.span(),
                &k("do"),
                format!("no response; allowed: {}", Response::WORDS),
            ));
        }
        let mut responses = Vec::new();
        for d in r.responses.get_ref() {
            let resp =
                Response::parse(d.get_ref()).map_err(|m| cx.invalid(&d.span(), &k("do"), m))?;
            if let Response::Revoke(name) = &resp
                && !granted.contains(&name.as_str())
            {
                return Err(cx.invalid(
                    &d.span(),
                    &k("do"),
                    format!(
                        "no tool is granted the secret `{name}`; granted: {}",
                        if granted.is_empty() {
                            "none".to_string()
                        } else {
                            granted.join(", ")
                        }
                    ),
                ));
            }
            responses.push(resp);
        }
        let rationale = match &r.rationale {
            None => {
                return Err(cx.invalid(
                    &span,
                    &format!("monitor.rules[{i}]"),
                    "required key `rationale` is missing: write why this rule exists",
                ));
            }
            Some(t) if t.get_ref().trim().is_empty() => {
                return Err(cx.invalid(
                    &t.span(),
                    &k("rationale"),
                    "must not be empty: write why this rule exists",
                ));
            }
            Some(t) => t.get_ref().clone(),
        };
        rules.push(Rule {
            number: i + 1,
            line: cx.loc(&span).line,
            when: r.when.get_ref().trim().to_string(),
            condition,
            tools: globs,
            responses,
            rationale,
        });
    }
    Ok(MonitorPolicy { baseline, rules })
}
