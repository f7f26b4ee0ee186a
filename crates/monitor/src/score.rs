//! How far one finished call strays from its tool's baseline: the largest of
//! a few per-measure scores, each "how many spreads above normal".
//!
//! For duration and body bytes (kept as p50/p95 in the baseline) a measure
//! scores `(x − p50) / scale` with `scale = max(p95 − p50, floor)`: the floor
//! is `max(p50, 100 ms)` for duration (timing jitters; only a call several
//! times slower than usual stands out) and 1 KiB for bytes. For requests and
//! denials per call (kept as means) it scores `(x − mean) / max(mean, 1)`. A
//! call at its tool's median scores 0; one doing ten times the usual number of
//! requests about 9; one sending 10 KiB more than usual about 10. Below-normal
//! never counts.

use agentbox_audit::{ToolBaseline, stats::Spread};

/// What one call did, in the measures the baseline keeps.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CallFacts {
    pub duration_ms: f64,
    pub bytes_sent: u64,
    pub bytes_received: u64,
    pub requests: u64,
    pub denials: u64,
}

fn spread_score(x: f64, s: &Spread, floor: f64) -> f64 {
    let scale = (s.p95 - s.p50).max(floor).max(1.0);
    ((x - s.p50) / scale).max(0.0)
}

fn mean_score(x: f64, mean: f64) -> f64 {
    ((x - mean) / mean.max(1.0)).max(0.0)
}

/// The call's score and the measure that gave it, e.g. `(9.0, "requests 10, normal 1.0 per call")`.
pub fn anomaly(base: &ToolBaseline, call: &CallFacts) -> (f64, String) {
    let measures = [
        (
            spread_score(
                call.duration_ms,
                &base.duration_ms,
                base.duration_ms.p50.max(100.0),
            ),
            format!(
                "duration {:.0} ms, normal p50 {:.0} / p95 {:.0}",
                call.duration_ms, base.duration_ms.p50, base.duration_ms.p95
            ),
        ),
        (
            spread_score(call.bytes_sent as f64, &base.bytes_sent_per_call, 1024.0),
            format!(
                "bytes sent {}, normal p50 {:.0} / p95 {:.0}",
                call.bytes_sent, base.bytes_sent_per_call.p50, base.bytes_sent_per_call.p95
            ),
        ),
        (
            spread_score(
                call.bytes_received as f64,
                &base.bytes_received_per_call,
                1024.0,
            ),
            format!(
                "bytes received {}, normal p50 {:.0} / p95 {:.0}",
                call.bytes_received,
                base.bytes_received_per_call.p50,
                base.bytes_received_per_call.p95
            ),
        ),
        (
            mean_score(call.requests as f64, base.requests_per_call),
            format!(
                "requests {}, normal {:.1} per call",
                call.requests, base.requests_per_call
            ),
        ),
        (
            mean_score(call.denials as f64, base.denials_per_call),
            format!(
                "denials {}, normal {:.1} per call",
                call.denials, base.denials_per_call
            ),
        ),
    ];
    // The first of equal scores names the reason (requests before denials).
    let (s, why) = measures
        .into_iter()
        .reduce(|best, m| if m.0 > best.0 { m } else { best })
        .unwrap_or((0.0, String::new()));
    ((s * 100.0).round() / 100.0, why)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> ToolBaseline {
        let spread = |p50, p95| Spread {
            p50,
            p95,
            max: p95,
            mean: p50,
        };
        ToolBaseline {
            calls: 100,
            duration_ms: spread(20.0, 40.0),
            bytes_sent_per_call: spread(100.0, 300.0),
            bytes_received_per_call: spread(2000.0, 6000.0),
            requests_per_call: 1.0,
            denials_per_call: 0.0,
            ..ToolBaseline::default()
        }
    }

    #[test]
    fn normal_calls_score_low_and_strays_high() {
        let normal = CallFacts {
            duration_ms: 25.0,
            bytes_sent: 120,
            bytes_received: 2500,
            requests: 1,
            denials: 0,
        };
        assert!(anomaly(&base(), &normal).0 < 1.0);
        let exfil = CallFacts {
            bytes_sent: 100 + 10 * 1024,
            ..normal
        };
        let (s, why) = anomaly(&base(), &exfil);
        assert!((s - 10.0).abs() < 0.01, "{s} {why}");
        assert!(why.starts_with("bytes sent 10340"), "{why}");
        // Timing jitter is not an anomaly; a call many times slower is.
        let slow = |ms| CallFacts {
            duration_ms: ms,
            ..normal
        };
        assert!(anomaly(&base(), &slow(90.0)).0 < 1.0);
        assert!(anomaly(&base(), &slow(1000.0)).0 > 8.0);
        let probing = CallFacts {
            requests: 12,
            denials: 11,
            ..normal
        };
        assert!(anomaly(&base(), &probing).0 >= 11.0);
    }
}
