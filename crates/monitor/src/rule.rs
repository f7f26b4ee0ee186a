//! A `[[monitor.rules]]` entry as data: `when`, `tools`, `do`, `rationale`.
//! The words are parsed here; the manifest loader adds file and line.

use agentbox_spec::units::{DURATION_HELP, parse_duration, parse_size};
use std::time::Duration;

/// What a rate condition counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// Invocations started.
    Calls,
    /// Outbound requests and host calls denied by policy.
    Denials,
    /// Invocations that ended other than `ok`.
    Errors,
    /// Requests that carried a secret.
    SecretUses,
    /// Output guard findings.
    GuardFindings,
    /// Request body bytes sent.
    BytesSent,
    /// Response body bytes received.
    BytesReceived,
}

impl Metric {
    pub const WORDS: &'static str =
        "calls, denials, errors, secret_uses, guard_findings, bytes_sent, bytes_received";

    fn parse(w: &str) -> Option<Metric> {
        Some(match w {
            "calls" => Metric::Calls,
            "denials" => Metric::Denials,
            "errors" => Metric::Errors,
            "secret_uses" => Metric::SecretUses,
            "guard_findings" => Metric::GuardFindings,
            "bytes_sent" => Metric::BytesSent,
            "bytes_received" => Metric::BytesReceived,
            _ => return None,
        })
    }

    /// Counted in bytes (the threshold may carry a size unit).
    pub fn is_bytes(self) -> bool {
        matches!(self, Metric::BytesSent | Metric::BytesReceived)
    }
}

/// When a rule fires.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// `METRIC > N in DURATION`: more than N within any window of that length.
    Rate {
        metric: Metric,
        above: u64,
        window: Duration,
    },
    /// `new_destination`: an allowed request to an origin the tool's baseline
    /// never reached (without a baseline: the first request of the session to it).
    NewDestination,
    /// `secret_to_new_destination`: the same, for a request carrying a secret.
    SecretToNewDestination,
    /// `guard:KIND`: an output guard finding of that kind (`*` for any), held
    /// as the word guard events carry (`secret`, `pii`, `injection`,
    /// `hidden_text`).
    Guard(String),
    /// `anomaly > X`: a finished call scores above X against the baseline.
    Anomaly(f64),
}

/// The guard kinds a `guard:` condition may name.
pub const GUARD_KINDS: &[&str] = &["secrets", "pii", "injection", "hidden_text", "*"];

/// What to do when a rule fires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    /// An audit event and a line on stderr.
    Alert,
    /// The tool's calls are answered `isError` "paused by rule …" for a while.
    Pause(Duration),
    /// The secret is never injected again in this session.
    Revoke(String),
    /// The tool's invocations running now are killed.
    Kill,
    /// The server stops (in-flight calls drain, the log is signed and closed).
    Stop,
}

impl Response {
    pub const WORDS: &'static str = "alert, pause DURATION, revoke SECRET, kill, stop";
}

impl std::fmt::Display for Response {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Response::Alert => f.write_str("alert"),
            Response::Pause(d) => write!(f, "pause {}", show_duration(*d)),
            Response::Revoke(s) => write!(f, "revoke {s}"),
            Response::Kill => f.write_str("kill"),
            Response::Stop => f.write_str("stop"),
        }
    }
}

/// `90s` → `1m30s`-free plain form: the largest unit that divides it.
pub fn show_duration(d: Duration) -> String {
    let ms = d.as_millis();
    for (unit, div) in [("h", 3_600_000), ("m", 60_000), ("s", 1000)] {
        if ms > 0 && ms.is_multiple_of(div) {
            return format!("{}{unit}", ms / div);
        }
    }
    format!("{ms}ms")
}

/// One rule, resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// 1-based position among `[[monitor.rules]]`; how events name the rule.
    pub number: usize,
    /// The manifest line of its table.
    pub line: usize,
    /// `when` as written.
    pub when: String,
    pub condition: Condition,
    /// Tool names or globs (`*` matches any run of characters).
    pub tools: Vec<String>,
    pub responses: Vec<Response>,
    pub rationale: String,
}

impl Rule {
    /// Does the rule cover `tool`?
    pub fn covers(&self, tool: &str) -> bool {
        self.tools.iter().any(|g| glob_match(g, tool))
    }

    /// How an alert names the rule: `rule 2 (line 14: denials > 5 in 1m)`.
    pub fn label(&self) -> String {
        format!("rule {} (line {}: {})", self.number, self.line, self.when)
    }
}

/// `*` matches any run of characters; everything else matches itself.
pub fn glob_match(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == name;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !name.starts_with(first) || name.len() < first.len() + last.len() || !name.ends_with(last) {
        return false;
    }
    let mut rest = &name[first.len()..name.len() - last.len()];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(i) => rest = &rest[i + mid.len()..],
            None => return false,
        }
    }
    true
}

/// The longest window or pause a rule may name.
pub const MAX_DURATION: Duration = Duration::from_secs(366 * 24 * 3600);

/// A window or a pause: more than nothing, at most [`MAX_DURATION`].
fn duration(d: &str) -> Result<Duration, String> {
    match parse_duration(d) {
        Some(v) if !v.is_zero() && v <= MAX_DURATION => Ok(v),
        Some(v) if !v.is_zero() => Err(format!(
            "`{d}` is longer than a year ({}h at most)",
            MAX_DURATION.as_secs() / 3600
        )),
        _ => Err(format!("`{d}` is not a duration: {DURATION_HELP}")),
    }
}

/// What `when` may say, for error messages.
pub const WHEN_HELP: &str = "`METRIC > N in DURATION` (METRIC one of calls, denials, errors, secret_uses, guard_findings, bytes_sent, bytes_received), `new_destination`, `secret_to_new_destination`, `guard:KIND` (secrets, pii, injection, hidden_text or *), or `anomaly > X`";

impl Condition {
    /// Parses `when`.
    pub fn parse(text: &str) -> Result<Condition, String> {
        let words: Vec<&str> = text.split_whitespace().collect();
        match words.as_slice() {
            ["new_destination"] => Ok(Condition::NewDestination),
            ["secret_to_new_destination"] => Ok(Condition::SecretToNewDestination),
            [g] if g.starts_with("guard:") => {
                let kind = &g["guard:".len()..];
                if kind == "*" {
                    Ok(Condition::Guard(kind.to_string()))
                } else if let Some(k) = agentbox_guard::Kind::parse(kind)
                    && GUARD_KINDS.contains(&kind)
                {
                    Ok(Condition::Guard(k.as_str().to_string()))
                } else {
                    Err(format!(
                        "unknown guard kind `{kind}`; allowed: {}",
                        GUARD_KINDS.join(", ")
                    ))
                }
            }
            ["anomaly", ">", x] => match x.parse::<f64>() {
                Ok(v) if v.is_finite() && v > 0.0 => Ok(Condition::Anomaly(v)),
                _ => Err(format!("`{x}` is not a positive number (e.g. 3.0)")),
            },
            [m, ">", n, "in", d] => {
                let metric = Metric::parse(m)
                    .ok_or_else(|| format!("unknown measure `{m}`; allowed: {}", Metric::WORDS))?;
                let above = if metric.is_bytes() {
                    parse_size(n).ok_or_else(|| {
                        format!("`{n}` is not a size (e.g. 1MiB, or a byte count)")
                    })?
                } else {
                    n.parse::<u64>()
                        .map_err(|_| format!("`{n}` is not a whole number"))?
                };
                let window = duration(d)?;
                Ok(Condition::Rate {
                    metric,
                    above,
                    window,
                })
            }
            _ => Err(format!("cannot read `{text}`; allowed: {WHEN_HELP}")),
        }
    }

    /// Needs a baseline to be evaluated.
    pub fn needs_baseline(&self) -> bool {
        matches!(self, Condition::Anomaly(_))
    }
}

impl Response {
    /// Parses one entry of `do`.
    pub fn parse(text: &str) -> Result<Response, String> {
        let words: Vec<&str> = text.split_whitespace().collect();
        match words.as_slice() {
            ["alert"] => Ok(Response::Alert),
            ["kill"] => Ok(Response::Kill),
            ["stop"] => Ok(Response::Stop),
            ["pause", d] => duration(d).map(Response::Pause),
            ["revoke", name] => Ok(Response::Revoke((*name).to_string())),
            _ => Err(format!(
                "cannot read `{text}`; allowed: {}",
                Response::WORDS
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions_parse_and_refuse_with_the_allowed_words() {
        assert_eq!(
            Condition::parse("denials > 5 in 1m"),
            Ok(Condition::Rate {
                metric: Metric::Denials,
                above: 5,
                window: Duration::from_secs(60)
            })
        );
        assert_eq!(
            Condition::parse("bytes_sent > 1MiB in 10s"),
            Ok(Condition::Rate {
                metric: Metric::BytesSent,
                above: 1 << 20,
                window: Duration::from_secs(10)
            })
        );
        assert_eq!(
            Condition::parse("guard:injection"),
            Ok(Condition::Guard("injection".into()))
        );
        // The manifest's word for credentials is the guard events' `secret`.
        assert_eq!(
            Condition::parse("guard:secrets"),
            Ok(Condition::Guard("secret".into()))
        );
        assert!(Condition::parse("pause > 1 in 9000000h").is_err());
        assert!(Response::parse("pause 9000000h").is_err());
        assert_eq!(
            Condition::parse("anomaly > 3.0"),
            Ok(Condition::Anomaly(3.0))
        );
        assert_eq!(
            Condition::parse("new_destination"),
            Ok(Condition::NewDestination)
        );
        for (bad, says) in [
            ("denials > five in 1m", "whole number"),
            ("denial > 5 in 1m", "allowed: calls"),
            ("denials > 5 in 0s", "duration"),
            ("guard:jokes", "allowed: secrets"),
            ("anomaly > -1", "positive"),
            ("whenever", "allowed:"),
        ] {
            let e = Condition::parse(bad).expect_err(bad);
            assert!(e.contains(says), "{bad}: {e}");
        }
    }

    #[test]
    fn responses_parse() {
        assert_eq!(
            Response::parse("pause 10m"),
            Ok(Response::Pause(Duration::from_secs(600)))
        );
        assert_eq!(
            Response::parse("revoke GITHUB_TOKEN"),
            Ok(Response::Revoke("GITHUB_TOKEN".into()))
        );
        assert_eq!(
            Response::Pause(Duration::from_secs(600)).to_string(),
            "pause 10m"
        );
        assert!(Response::parse("pause").is_err());
        assert!(
            Response::parse("reboot")
                .expect_err("reboot")
                .contains("alert, pause")
        );
    }

    #[test]
    fn globs() {
        assert!(glob_match("*", "fetch"));
        assert!(glob_match("fetch", "fetch"));
        assert!(!glob_match("fetch", "fetcher"));
        assert!(glob_match("gh_*", "gh_issues"));
        assert!(glob_match("*_page", "fetch_page"));
        assert!(glob_match("a*c*e", "abcde"));
        assert!(!glob_match("a*c*e", "abde"));
        assert!(!glob_match("ab*ba", "aba"));
    }
}
