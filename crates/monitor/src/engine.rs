//! The rules, evaluated one audit event at a time.

use crate::rule::{Condition, Metric, Response, Rule};
use crate::score::{CallFacts, anomaly};
use agentbox_audit::stats::origin;
use agentbox_audit::{Baseline, Event};
use std::collections::{HashMap, HashSet, VecDeque};
use std::time::Instant;

/// A rule that fired: for which tool and invocation, why, and what to do.
#[derive(Debug, Clone, PartialEq)]
pub struct Firing {
    pub rule: Rule,
    pub tool: String,
    /// The invocation whose event made it fire.
    pub run: String,
    /// What was seen, in words (never a secret's value: events carry none).
    pub detail: String,
}

impl Firing {
    pub fn responses(&self) -> &[Response] {
        &self.rule.responses
    }
}

/// One invocation being watched.
#[derive(Debug, Default)]
struct RunState {
    tool: String,
    facts: CallFacts,
}

/// A rate rule's recent events for one tool.
#[derive(Debug, Default)]
struct Window {
    events: VecDeque<(Instant, u64)>,
    total: u64,
    /// Fired: quiet until this instant (one window), so a burst fires once.
    quiet_until: Option<Instant>,
}

/// The watch's state for one server.
#[derive(Debug, Default)]
pub struct Monitor {
    rules: Vec<Rule>,
    baseline: Option<Baseline>,
    runs: HashMap<String, RunState>,
    windows: HashMap<(usize, String), Window>,
    /// (tool, origin) reached this session.
    seen: HashSet<(String, String)>,
    /// (tool, secret, origin) carried this session.
    seen_secret: HashSet<(String, String, String)>,
}

impl Monitor {
    pub fn new(rules: Vec<Rule>, baseline: Option<Baseline>) -> Self {
        Self {
            rules,
            baseline,
            ..Self::default()
        }
    }

    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// New rules (a reloaded manifest); what was seen this session is kept, and
    /// so are the windows of every rule that did not change (a reload cannot be
    /// used to reset a count).
    pub fn set_rules(&mut self, rules: Vec<Rule>, baseline: Option<Baseline>) {
        let old = std::mem::replace(&mut self.rules, rules);
        self.windows
            .retain(|(i, _), _| old.get(*i).is_some_and(|r| self.rules.get(*i) == Some(r)));
        if self.rules.is_empty() {
            self.runs.clear();
        }
        self.baseline = baseline;
    }

    /// Takes one event of invocation `run` and returns the rules it made fire.
    pub fn observe(&mut self, run: &str, event: &Event, now: Instant) -> Vec<Firing> {
        if self.rules.is_empty() {
            return Vec::new();
        }
        if let Event::RunStart { tool, .. } = event {
            self.runs.insert(
                run.to_string(),
                RunState {
                    tool: tool.clone(),
                    ..RunState::default()
                },
            );
        }
        let Some(state) = self.runs.get_mut(run) else {
            // The server's own lines, and checkpoints: nothing to watch.
            return Vec::new();
        };
        let tool = state.tool.clone();
        let mut fired = Vec::new();
        let mut amounts: Vec<(Metric, u64, String)> = Vec::new();
        let mut novel: Vec<(bool, String)> = Vec::new();
        let mut guard_kind = None;
        let mut finished = None;
        match event {
            Event::RunStart { .. } => amounts.push((Metric::Calls, 1, String::new())),
            Event::HttpRequest {
                target,
                decision,
                bytes_sent,
                bytes_received,
                ..
            } => {
                let dest = origin(target);
                state.facts.requests += 1;
                if decision == "allowed" {
                    if self.seen.insert((tool.clone(), dest.clone()))
                        && !in_baseline(self.baseline.as_ref(), &tool, &dest)
                    {
                        novel.push((false, format!("a request to {dest}, new for {tool}")));
                    }
                } else {
                    state.facts.denials += 1;
                    amounts.push((Metric::Denials, 1, format!(" (last: {dest})")));
                }
                let (sent, got) = (bytes_sent.unwrap_or(0), bytes_received.unwrap_or(0));
                state.facts.bytes_sent += sent;
                state.facts.bytes_received += got;
                amounts.push((Metric::BytesSent, sent, String::new()));
                amounts.push((Metric::BytesReceived, got, String::new()));
            }
            Event::HostCall {
                decision,
                interface,
                function,
                ..
            } if decision == "denied" => {
                state.facts.denials += 1;
                amounts.push((
                    Metric::Denials,
                    1,
                    format!(" (last: {interface}.{function})"),
                ));
            }
            Event::SecretUse {
                name, destination, ..
            } => {
                amounts.push((Metric::SecretUses, 1, String::new()));
                let dest = origin(destination);
                if self
                    .seen_secret
                    .insert((tool.clone(), name.clone(), dest.clone()))
                    && !in_baseline(self.baseline.as_ref(), &tool, &dest)
                {
                    novel.push((
                        true,
                        format!("secret {name} sent to {dest}, new for {tool}"),
                    ));
                }
            }
            Event::Guard { kind, ty, .. } => {
                amounts.push((Metric::GuardFindings, 1, String::new()));
                guard_kind = Some((kind.clone(), ty.clone()));
            }
            Event::RunEnd {
                outcome,
                duration_ms,
                ..
            } => {
                if outcome != "ok" {
                    amounts.push((Metric::Errors, 1, format!(" (last: {outcome})")));
                }
                let mut facts = state.facts;
                facts.duration_ms = *duration_ms;
                finished = Some(facts);
                self.runs.remove(run);
            }
            _ => {}
        }
        for i in 0..self.rules.len() {
            let rule = &self.rules[i];
            if !rule.covers(&tool) {
                continue;
            }
            let detail = match &rule.condition {
                Condition::Rate {
                    metric,
                    above,
                    window,
                } => amounts
                    .iter()
                    .filter(|(m, n, _)| m == metric && *n > 0)
                    .find_map(|(_, n, last)| {
                        let w = self.windows.entry((i, tool.clone())).or_default();
                        w.events.push_back((now, *n));
                        w.total += n;
                        while let Some(&(t, k)) = w.events.front() {
                            if now.duration_since(t) < *window {
                                break;
                            }
                            w.events.pop_front();
                            w.total -= k;
                        }
                        let quiet = w.quiet_until.is_some_and(|q| now < q);
                        (w.total > *above && !quiet).then(|| {
                            w.quiet_until = Some(now + *window);
                            let total = w.total;
                            w.events.clear();
                            w.total = 0;
                            format!(
                                "{total} {} in {}{last}",
                                metric_word(*metric, total),
                                crate::rule::show_duration(*window)
                            )
                        })
                    }),
                Condition::NewDestination => novel
                    .iter()
                    .find(|(secret, _)| !secret)
                    .map(|(_, d)| d.clone()),
                Condition::SecretToNewDestination => novel
                    .iter()
                    .find(|(secret, _)| *secret)
                    .map(|(_, d)| d.clone()),
                Condition::Guard(want) => guard_kind
                    .as_ref()
                    .filter(|(k, _)| want == "*" || k == want)
                    .map(|(k, t)| format!("output guard finding {k}/{t}")),
                Condition::Anomaly(over) => finished.and_then(|facts| {
                    let base = self.baseline.as_ref()?.tools.get(&tool)?;
                    let (score, why) = anomaly(base, &facts);
                    (score > *over).then(|| format!("anomaly score {score:.2} > {over}: {why}"))
                }),
            };
            if let Some(detail) = detail {
                fired.push(Firing {
                    rule: self.rules[i].clone(),
                    tool: tool.clone(),
                    run: run.to_string(),
                    detail,
                });
            }
        }
        fired
    }
}

/// Did the tool reach `dest` in the baseline's window?
fn in_baseline(baseline: Option<&Baseline>, tool: &str, dest: &str) -> bool {
    baseline
        .and_then(|b| b.tools.get(tool))
        .is_some_and(|t| t.destinations.iter().any(|d| d == dest))
}

fn metric_word(m: Metric, n: u64) -> &'static str {
    let (one, many) = match m {
        Metric::Calls => ("call", "calls"),
        Metric::Denials => ("denial", "denials"),
        Metric::Errors => ("error", "errors"),
        Metric::SecretUses => ("secret use", "secret uses"),
        Metric::GuardFindings => ("guard finding", "guard findings"),
        Metric::BytesSent => ("byte sent", "bytes sent"),
        Metric::BytesReceived => ("byte received", "bytes received"),
    };
    if n == 1 { one } else { many }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rule::{Condition, Response};
    use agentbox_audit::{GrantsRecord, ToolBaseline};
    use std::time::Duration;

    fn rule(n: usize, when: &str, tools: &[&str], responses: Vec<Response>) -> Rule {
        Rule {
            number: n,
            line: 10 + n,
            when: when.into(),
            condition: Condition::parse(when).expect("when"),
            tools: tools.iter().map(|s| s.to_string()).collect(),
            responses,
            rationale: "test".into(),
        }
    }

    fn start(tool: &str) -> Event {
        Event::RunStart {
            tool: tool.into(),
            kind: "tool".into(),
            manifest: "m.toml".into(),
            manifest_sha256: String::new(),
            component_sha256: None,
            profile: "wasm-worker".into(),
            grants: Box::new(GrantsRecord {
                fs: vec![],
                net: vec![],
                secrets: vec![],
                env: vec![],
                limits: serde_json::Value::Null,
            }),
            dangerous: vec![],
            mcp: None,
        }
    }

    fn http(target: &str, decision: &str, sent: u64) -> Event {
        Event::HttpRequest {
            method: "GET".into(),
            target: target.into(),
            decision: decision.into(),
            reason: String::new(),
            address: None,
            status: None,
            redirect: 0,
            bytes_sent: Some(sent),
            bytes_received: Some(0),
        }
    }

    fn end(outcome: &str, ms: f64) -> Event {
        Event::RunEnd {
            outcome: outcome.into(),
            detail: String::new(),
            limit: None,
            limits_hit: vec![],
            exit_code: None,
            duration_ms: ms,
        }
    }

    #[test]
    fn a_rate_rule_fires_once_per_burst_for_the_tools_it_covers() {
        let mut m = Monitor::new(
            vec![rule(
                1,
                "denials > 2 in 1m",
                &["fetch"],
                vec![Response::Kill],
            )],
            None,
        );
        let t0 = Instant::now();
        assert!(m.observe("r1", &start("fetch"), t0).is_empty());
        assert!(m.observe("r2", &start("other"), t0).is_empty());
        for i in 0..2 {
            assert!(
                m.observe("r1", &http("http://x.test/a", "denied", 0), t0)
                    .is_empty(),
                "{i}"
            );
            assert!(
                m.observe("r2", &http("http://x.test/a", "denied", 0), t0)
                    .is_empty()
            );
        }
        let f = m.observe("r1", &http("http://x.test/b", "denied", 0), t0);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].tool, "fetch");
        assert_eq!(f[0].detail, "3 denials in 1m (last: http://x.test)");
        // Quiet for the window, then armed again.
        for _ in 0..5 {
            assert!(
                m.observe("r1", &http("http://x.test/c", "denied", 0), t0)
                    .is_empty()
            );
        }
        let later = t0 + Duration::from_secs(61);
        let mut fired = 0;
        for _ in 0..3 {
            fired += m
                .observe("r1", &http("http://x.test/c", "denied", 0), later)
                .len();
        }
        assert_eq!(fired, 1);
        // Events of a window ago no longer count.
        let mut m = Monitor::new(
            vec![rule(1, "calls > 1 in 10s", &["*"], vec![Response::Alert])],
            None,
        );
        assert!(m.observe("a", &start("t"), t0).is_empty());
        assert!(
            m.observe("b", &start("t"), t0 + Duration::from_secs(11))
                .is_empty()
        );
        assert_eq!(
            m.observe("c", &start("t"), t0 + Duration::from_secs(12))
                .len(),
            1
        );
    }

    #[test]
    fn new_destinations_against_the_baseline_or_the_session() {
        let rules = vec![rule(1, "new_destination", &["*"], vec![Response::Alert])];
        let mut m = Monitor::new(rules.clone(), None);
        let t = Instant::now();
        m.observe("r", &start("fetch"), t);
        assert_eq!(
            m.observe("r", &http("https://a.test/x", "allowed", 0), t)
                .len(),
            1
        );
        assert!(
            m.observe("r", &http("https://a.test/y", "allowed", 0), t)
                .is_empty()
        );
        assert!(
            m.observe("r", &http("https://b.test/y", "denied", 0), t)
                .is_empty()
        );
        let mut base = Baseline::default();
        base.tools.insert(
            "fetch".into(),
            ToolBaseline {
                destinations: vec!["https://a.test".into()],
                ..ToolBaseline::default()
            },
        );
        let mut m = Monitor::new(rules, Some(base));
        m.observe("r", &start("fetch"), t);
        assert!(
            m.observe("r", &http("https://a.test/x", "allowed", 0), t)
                .is_empty()
        );
        let f = m.observe("r", &http("https://c.test/x", "allowed", 0), t);
        assert_eq!(f[0].detail, "a request to https://c.test, new for fetch");
    }

    #[test]
    fn anomaly_is_scored_when_a_call_ends() {
        let mut base = Baseline::default();
        base.tools.insert(
            "fetch".into(),
            ToolBaseline {
                requests_per_call: 1.0,
                ..ToolBaseline::default()
            },
        );
        let mut m = Monitor::new(
            vec![rule(1, "anomaly > 3.0", &["*"], vec![Response::Alert])],
            Some(base),
        );
        let t = Instant::now();
        m.observe("r", &start("fetch"), t);
        for _ in 0..6 {
            assert!(
                m.observe("r", &http("https://a.test/", "allowed", 0), t)
                    .is_empty()
            );
        }
        let f = m.observe("r", &end("ok", 1.0), t);
        assert_eq!(f.len(), 1);
        assert!(
            f[0].detail
                .starts_with("anomaly score 5.00 > 3: requests 6"),
            "{}",
            f[0].detail
        );
        // A tool with no baseline is not scored.
        m.observe("s", &start("new_tool"), t);
        assert!(m.observe("s", &end("ok", 1e9), t).is_empty());
    }
}
