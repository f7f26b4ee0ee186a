//! What normal looks like, per tool (`agentbox audit baseline`): learned from a
//! window of the log, read by the monitor to score how far a call strays.

use crate::stats::{Spread, Summary};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The baseline file's format version.
pub const VERSION: u32 = 1;

/// One tool's normal.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ToolBaseline {
    pub calls: u64,
    pub calls_per_hour: f64,
    pub duration_ms: Spread,
    pub denials_per_call: f64,
    pub requests_per_call: f64,
    /// Every destination the tool reached in the window.
    pub destinations: Vec<String>,
    pub bytes_sent_per_call: Spread,
    pub bytes_received_per_call: Spread,
    /// Secret name → requests carrying it, per call.
    pub secrets_per_call: BTreeMap<String, f64>,
}

/// The whole baseline.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Baseline {
    pub version: u32,
    pub from: Option<String>,
    pub to: Option<String>,
    /// Hours between the first and the last event (at least one minute).
    pub hours: f64,
    pub tools: BTreeMap<String, ToolBaseline>,
}

impl Baseline {
    /// Reads a baseline file, refusing another format version.
    pub fn load(path: &std::path::Path) -> Result<Baseline, String> {
        let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
        let b: Baseline = serde_json::from_str(&text)
            .map_err(|e| format!("not a baseline written by `agentbox audit baseline` ({e})"))?;
        if b.version != VERSION {
            return Err(format!(
                "baseline format version {} (this agentbox reads version {VERSION}): write it again with `agentbox audit baseline`",
                b.version
            ));
        }
        Ok(b)
    }

    pub fn from_summary(sum: &Summary) -> Baseline {
        let hours = match (&sum.from, &sum.to) {
            (Some(a), Some(b)) => match (
                chrono::DateTime::parse_from_rfc3339(a),
                chrono::DateTime::parse_from_rfc3339(b),
            ) {
                (Ok(a), Ok(b)) => (b - a).num_milliseconds() as f64 / 3.6e6,
                _ => 0.0,
            },
            _ => 0.0,
        }
        .max(1.0 / 60.0);
        let tools = sum
            .tools
            .iter()
            .map(|(name, t)| {
                let calls = t.per_call.len().max(1) as f64;
                let per = |f: fn(&crate::stats::CallNumbers) -> u64| {
                    Spread::of(&t.per_call.iter().map(|c| f(c) as f64).collect::<Vec<_>>())
                };
                let b = ToolBaseline {
                    calls: t.calls,
                    calls_per_hour: t.calls as f64 / hours,
                    duration_ms: t.duration_ms,
                    denials_per_call: t.denials as f64 / calls,
                    requests_per_call: t.requests as f64 / calls,
                    destinations: t.destinations.keys().cloned().collect(),
                    bytes_sent_per_call: per(|c| c.bytes_sent),
                    bytes_received_per_call: per(|c| c.bytes_received),
                    secrets_per_call: t
                        .secrets
                        .iter()
                        .map(|(k, v)| (k.clone(), *v as f64 / calls))
                        .collect(),
                };
                (name.clone(), b)
            })
            .collect();
        Baseline {
            version: VERSION,
            from: sum.from.clone(),
            to: sum.to.clone(),
            hours,
            tools,
        }
    }
}
