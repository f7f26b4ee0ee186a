//! What a log says, summed up per tool: `agentbox audit stats`, the numbers
//! `audit baseline` keeps as "normal", and what `agentbox review` compares the
//! manifest's grants against. Lines are read as they are (`verify` is what
//! checks them); one that is not JSON is an error naming its file and line.

use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

/// A log that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}:{line}: not an audit line ({why})", path.display())]
    Line {
        path: PathBuf,
        line: u64,
        why: String,
    },
}

/// p50, p95 and the largest of some values.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct Spread {
    pub p50: f64,
    pub p95: f64,
    pub max: f64,
    pub mean: f64,
}

impl Spread {
    pub fn of(values: &[f64]) -> Spread {
        if values.is_empty() {
            return Spread::default();
        }
        let mut v = values.to_vec();
        v.sort_by(f64::total_cmp);
        let at = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
        Spread {
            p50: at(0.5),
            p95: at(0.95),
            max: v[v.len() - 1],
            mean: v.iter().sum::<f64>() / v.len() as f64,
        }
    }
}

/// One tool's invocations in the window.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ToolStats {
    pub calls: u64,
    pub outcomes: BTreeMap<String, u64>,
    /// Outbound requests (each hop) and how many were denied.
    pub requests: u64,
    pub denials: u64,
    /// Allowed destinations (scheme://host[:port]) and how often.
    pub destinations: BTreeMap<String, u64>,
    pub denied_destinations: BTreeMap<String, u64>,
    /// Which `net[i]` rule of the tool allowed how many requests.
    pub net_rules: BTreeMap<String, u64>,
    pub bytes_sent: u64,
    pub bytes_received: u64,
    /// Secret name → requests that carried it.
    pub secrets: BTreeMap<String, u64>,
    /// `kind/type` → guard decisions on the tool's output.
    pub guard_findings: BTreeMap<String, u64>,
    pub duration_ms: Spread,
    pub first: Option<String>,
    pub last: Option<String>,
    #[serde(skip)]
    pub durations: Vec<f64>,
    /// When each call started (for calls over time).
    #[serde(skip)]
    pub starts: Vec<String>,
    /// Per call: bytes sent, bytes received, denials (for the baseline).
    #[serde(skip)]
    pub per_call: Vec<CallNumbers>,
}

/// What one invocation did, in numbers.
#[derive(Debug, Clone, Copy, Default)]
pub struct CallNumbers {
    pub bytes_sent: u64,
    pub bytes_received: u64,
    pub requests: u64,
    pub denials: u64,
}

/// The whole window.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    pub events: u64,
    pub from: Option<String>,
    pub to: Option<String>,
    pub tools: BTreeMap<String, ToolStats>,
    /// Every `[monitor]` rule that fired, in log order.
    pub alerts: Vec<Alert>,
}

/// A monitor rule that fired (a `monitor_fired` line).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Alert {
    pub ts: String,
    pub rule: u64,
    pub when: String,
    pub tool: String,
    pub detail: String,
    pub responses: Vec<String>,
}

/// Calls per tool in `buckets` equal slices of the window: the slices' start
/// times and, per tool, its count in each.
pub fn timeline(sum: &Summary, buckets: usize) -> (Vec<String>, BTreeMap<String, Vec<u64>>) {
    let parse = |t: &str| chrono::DateTime::parse_from_rfc3339(t).ok();
    let (Some(from), Some(to)) = (
        sum.from.as_deref().and_then(parse),
        sum.to.as_deref().and_then(parse),
    ) else {
        return (Vec::new(), BTreeMap::new());
    };
    let buckets = buckets.max(1);
    let span_ms = (to - from).num_milliseconds().max(1) + 1;
    let width = (span_ms + buckets as i64 - 1) / buckets as i64;
    let labels = (0..buckets)
        .map(|i| {
            (from + chrono::Duration::milliseconds(width * i as i64))
                .to_utc()
                .format("%Y-%m-%d %H:%M:%S")
                .to_string()
        })
        .collect();
    let series = sum
        .tools
        .iter()
        .map(|(name, t)| {
            let mut counts = vec![0; buckets];
            for at in t.starts.iter().filter_map(|s| parse(s)) {
                let i = ((at - from).num_milliseconds() / width).clamp(0, buckets as i64 - 1);
                counts[i as usize] += 1;
            }
            (name.clone(), counts)
        })
        .collect();
    (labels, series)
}

/// The origin of a target URL: `scheme://host[:port]`.
pub fn origin(target: &str) -> String {
    match target.split_once("://") {
        Some((scheme, rest)) => {
            let host = rest.split(['/', '?', '#']).next().unwrap_or(rest);
            format!("{scheme}://{host}")
        }
        None => target.to_string(),
    }
}

/// Reads `files` (any order; lines are taken in `seq` order within each run),
/// keeping events at or after `since` (an RFC 3339 date or time, compared as
/// text: `2026-12-01` keeps everything from that day on).
pub fn summarize(files: &[PathBuf], since: Option<&str>) -> Result<Summary, ReadError> {
    let mut sum = Summary::default();
    // run → (tool, this call's numbers)
    let mut runs: HashMap<String, (String, CallNumbers)> = HashMap::new();
    for path in files {
        read_file(path, since, &mut sum, &mut runs)?;
    }
    for t in sum.tools.values_mut() {
        t.duration_ms = Spread::of(&t.durations);
    }
    Ok(sum)
}

fn read_file(
    path: &Path,
    since: Option<&str>,
    sum: &mut Summary,
    runs: &mut HashMap<String, (String, CallNumbers)>,
) -> Result<(), ReadError> {
    let io = |source| ReadError::Io {
        path: path.to_path_buf(),
        source,
    };
    let reader = BufReader::new(std::fs::File::open(path).map_err(io)?);
    for (n, line) in reader.lines().enumerate() {
        let line = line.map_err(io)?;
        let bad = |why: String| ReadError::Line {
            path: path.to_path_buf(),
            line: n as u64 + 1,
            why,
        };
        let v: serde_json::Value = serde_json::from_str(&line).map_err(|e| bad(e.to_string()))?;
        let s = |k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or("").to_string();
        let ts = s("ts");
        if since.is_some_and(|d| ts.as_str() < d) {
            continue;
        }
        let event = s("event");
        if event.is_empty() {
            return Err(bad("no `event`".into()));
        }
        sum.events += 1;
        if sum.from.as_deref().is_none_or(|f| ts.as_str() < f) {
            sum.from = Some(ts.clone());
        }
        if sum.to.as_deref().is_none_or(|t| ts.as_str() > t) {
            sum.to = Some(ts.clone());
        }
        let run = s("run");
        if event == "run_start" {
            let tool = s("tool");
            runs.insert(run.clone(), (tool.clone(), CallNumbers::default()));
            let t = sum.tools.entry(tool).or_default();
            t.calls += 1;
            if t.first.is_none() {
                t.first = Some(ts.clone());
            }
            t.starts.push(ts.clone());
            t.last = Some(ts);
            continue;
        }
        if event == "monitor_fired" {
            sum.alerts.push(Alert {
                ts,
                rule: v
                    .get("rule")
                    .and_then(serde_json::Value::as_u64)
                    .unwrap_or(0),
                when: s("when"),
                tool: s("tool"),
                detail: s("detail"),
                responses: v
                    .get("responses")
                    .and_then(serde_json::Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(|x| x.as_str().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default(),
            });
            continue;
        }
        let Some((tool, call)) = runs.get_mut(&run) else {
            // Checkpoints, and lines of runs that started before the window.
            continue;
        };
        let t = sum.tools.entry(tool.clone()).or_default();
        let num = |k: &str| v.get(k).and_then(serde_json::Value::as_u64).unwrap_or(0);
        match event.as_str() {
            "http_request" => {
                t.requests += 1;
                call.requests += 1;
                let dest = origin(&s("target"));
                if s("decision") == "allowed" {
                    *t.destinations.entry(dest).or_default() += 1;
                    let reason = s("reason");
                    if let Some(rule) = reason.split(':').next().filter(|r| r.starts_with("net[")) {
                        *t.net_rules.entry(rule.to_string()).or_default() += 1;
                    }
                } else {
                    t.denials += 1;
                    call.denials += 1;
                    *t.denied_destinations.entry(dest).or_default() += 1;
                }
                t.bytes_sent += num("bytes_sent");
                t.bytes_received += num("bytes_received");
                call.bytes_sent += num("bytes_sent");
                call.bytes_received += num("bytes_received");
            }
            "host_call" if s("decision") == "denied" => {
                t.denials += 1;
                call.denials += 1;
            }
            "secret_use" => *t.secrets.entry(s("name")).or_default() += 1,
            "guard" => {
                *t.guard_findings
                    .entry(format!("{}/{}", s("kind"), s("type")))
                    .or_default() += 1;
            }
            "run_end" => {
                *t.outcomes.entry(s("outcome")).or_default() += 1;
                if let Some(d) = v.get("duration_ms").and_then(serde_json::Value::as_f64) {
                    t.durations.push(d);
                }
                t.per_call.push(*call);
                runs.remove(&run);
            }
            _ => {}
        }
    }
    Ok(())
}
