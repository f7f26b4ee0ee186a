//! The watch (audit.md "Watching and answering"): every audit event the server
//! records is handed to the `[monitor]` rules as it is written; a rule that
//! fires is recorded with what it saw, said on stderr, and answered — alert,
//! pause the tool, revoke a secret, kill the tool's invocations in flight, stop
//! the server. Each response is an audit event naming the rule.

use crate::say;
use crate::server::Shared;
use agentbox_audit::{Baseline, Event};
use agentbox_monitor::{Firing, Monitor, Response};
use agentbox_policy::MonitorPolicy;
use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::sync::mpsc;

/// What the responses changed, as the call path reads it.
#[derive(Debug, Default)]
pub(crate) struct Watch {
    engine: Mutex<Monitor>,
    /// Any rules at all (events are not copied for a monitor with none).
    active: AtomicBool,
    /// Tool → until when, the rule, and why.
    paused: Mutex<HashMap<String, (Instant, usize, String)>>,
    /// The rule that stopped the server, once one did.
    stopped_by: Mutex<Option<String>>,
}

/// Reads the baseline a `[monitor]` names (`agentbox audit baseline` wrote it).
pub(crate) fn load_baseline(policy: &MonitorPolicy) -> Result<Option<Baseline>, String> {
    let Some(path) = &policy.baseline else {
        return Ok(None);
    };
    Baseline::load(path)
        .map(Some)
        .map_err(|e| format!("[monitor] baseline {}: {e}", show(path)))
}

fn show(p: &Path) -> String {
    p.display().to_string()
}

impl Watch {
    pub fn new(policy: &MonitorPolicy, baseline: Option<Baseline>) -> Self {
        let w = Self::default();
        w.set(policy, baseline);
        w
    }

    /// The rules of a (re)loaded manifest.
    pub fn set(&self, policy: &MonitorPolicy, baseline: Option<Baseline>) {
        self.active
            .store(!policy.rules.is_empty(), Ordering::SeqCst);
        if let Ok(mut e) = self.engine.lock() {
            e.set_rules(policy.rules.clone(), baseline);
        }
    }

    /// The rule and the reason calls to `tool` are answered "paused" now, if
    /// they are. A table that cannot be read pauses everything (fail closed).
    pub fn paused(&self, tool: &str) -> Option<(usize, String)> {
        let Ok(mut p) = self.paused.lock() else {
            return Some((0, "the monitor's pause table is unreadable".into()));
        };
        match p.get(tool) {
            Some((until, rule, why)) if Instant::now() < *until => Some((*rule, why.clone())),
            Some(_) => {
                p.remove(tool);
                None
            }
            None => None,
        }
    }

    pub fn stopped_by(&self) -> Option<String> {
        self.stopped_by.lock().ok().and_then(|s| s.clone())
    }
}

/// Feeds the audit log's events to the watch (a channel: the recording thread
/// never waits for the rules).
pub(crate) fn attach(shared: &Arc<Shared>) -> mpsc::UnboundedReceiver<(String, Event)> {
    let (tx, rx) = mpsc::unbounded_channel();
    let watch = shared.clone();
    shared
        .audit
        .observe(Arc::new(move |run: &str, event: &Event| {
            if watch.watch.active.load(Ordering::Relaxed)
                && !matches!(
                    event,
                    Event::MonitorFired { .. } | Event::MonitorResponse { .. }
                )
            {
                let _ = tx.send((run.to_string(), event.clone()));
            }
        }));
    rx
}

/// Evaluates the rules over the events as they come, and answers.
pub(crate) async fn run(shared: Arc<Shared>, mut events: mpsc::UnboundedReceiver<(String, Event)>) {
    while let Some((run, event)) = events.recv().await {
        let fired = match shared.watch.engine.lock() {
            Ok(mut e) => e.observe(&run, &event, Instant::now()),
            Err(_) => {
                say("the monitor's state is unreadable (a rule panicked): the watch has stopped");
                return;
            }
        };
        for f in fired {
            respond(&shared, &f);
        }
    }
}

fn record(shared: &Shared, event: &Event) {
    if let Err(e) = shared.audit.record(event) {
        say(format!(
            "the audit log could not record a monitor event: {e}"
        ));
    }
}

fn respond(shared: &Shared, f: &Firing) {
    let label = f.rule.label();
    let responses: Vec<String> = f.responses().iter().map(ToString::to_string).collect();
    say(format!(
        "{label} fired for tool {}: {}; responding: {}",
        f.tool,
        f.detail,
        responses.join(", ")
    ));
    record(
        shared,
        &Event::MonitorFired {
            rule: f.rule.number,
            line: f.rule.line,
            when: f.rule.when.clone(),
            tool: f.tool.clone(),
            trigger: f.run.clone(),
            detail: f.detail.clone(),
            responses: responses.clone(),
        },
    );
    for r in f.responses() {
        let detail = match r {
            Response::Alert => {
                say(format!(
                    "ALERT {label}, tool {}: {} — {}",
                    f.tool, f.detail, f.rule.rationale
                ));
                f.rule.rationale.clone()
            }
            Response::Pause(d) => {
                // Rules cap a pause at a year: this cannot overflow, and if it
                // did the tool would stay paused.
                let now = Instant::now();
                let until = now
                    .checked_add(*d)
                    .unwrap_or(now + agentbox_monitor::MAX_DURATION);
                let why = format!("paused by {label} for {}: {}", show_for(*d), f.detail);
                if let Ok(mut p) = shared.watch.paused.lock() {
                    p.insert(f.tool.clone(), (until, f.rule.number, why.clone()));
                }
                why
            }
            Response::Revoke(name) => match &shared.secrets {
                Some(store) => {
                    store.revoke(name, &format!("revoked by {label}"));
                    format!("the secret {name} is refused for the rest of this session")
                }
                None => {
                    format!("no secret store (--secrets) is loaded: {name} cannot be used anyway")
                }
            },
            Response::Kill => {
                let n = shared.cancel_tool(&f.tool);
                format!("{n} invocation(s) of {} killed", f.tool)
            }
            Response::Stop => {
                if let Ok(mut s) = shared.watch.stopped_by.lock() {
                    s.get_or_insert_with(|| format!("{label}, tool {}: {}", f.tool, f.detail));
                }
                "the server stops: calls in flight drain, then the log is signed and closed".into()
            }
        };
        record(
            shared,
            &Event::MonitorResponse {
                rule: f.rule.number,
                tool: f.tool.clone(),
                response: r.to_string(),
                detail,
            },
        );
        // Recorded before the stop begins, so it precedes the closing lines.
        if *r == Response::Stop {
            shared.stop.cancel();
        }
    }
}

fn show_for(d: std::time::Duration) -> String {
    agentbox_monitor::Response::Pause(d)
        .to_string()
        .trim_start_matches("pause ")
        .to_string()
}
