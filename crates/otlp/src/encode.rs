//! One audit line → one OTLP `LogRecord`: the line itself as the body (so a
//! receiver holds exactly what the file holds and can check the chain), with
//! its time, severity and the fields worth filtering on as attributes.

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs, SeverityNumber};
use opentelemetry_proto::tonic::resource::v1::Resource;
use serde_json::Value;

fn text(key: &str, v: impl Into<String>) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(v.into())),
        }),
        ..KeyValue::default()
    }
}

fn int(key: &str, v: i64) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::IntValue(v)),
        }),
        ..KeyValue::default()
    }
}

/// Events a watcher should see first.
fn severity(event: &str, v: &Value) -> SeverityNumber {
    let s = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("");
    match event {
        "monitor_fired" | "monitor_response" | "export_dropped" | "cache_rejected" => {
            SeverityNumber::Warn
        }
        "http_request" | "host_call" if s("decision") == "denied" => SeverityNumber::Warn,
        "guard" => SeverityNumber::Warn,
        "run_end" if s("outcome") != "ok" => SeverityNumber::Warn,
        _ => SeverityNumber::Info,
    }
}

/// The record for one audit line (`observed` in Unix nanoseconds).
pub fn log_record(line: &str, observed: u64) -> LogRecord {
    let v: Value = serde_json::from_str(line).unwrap_or(Value::Null);
    let s = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let event = s("event");
    let time = chrono::DateTime::parse_from_rfc3339(&s("ts"))
        .ok()
        .and_then(|t| t.timestamp_nanos_opt())
        .and_then(|n| u64::try_from(n).ok())
        .unwrap_or(observed);
    let sev = severity(&event, &v);
    let mut attributes = vec![
        int(
            "agentbox.seq",
            v.get("seq")
                .and_then(Value::as_u64)
                .and_then(|n| i64::try_from(n).ok())
                .unwrap_or(-1),
        ),
        text("agentbox.run", s("run")),
        text("agentbox.event", event.clone()),
    ];
    for key in ["tool", "outcome", "decision", "target", "rule", "response"] {
        match v.get(key) {
            Some(Value::String(t)) => attributes.push(text(&format!("agentbox.{key}"), t.clone())),
            Some(Value::Number(n)) => {
                attributes.push(int(&format!("agentbox.{key}"), n.as_i64().unwrap_or(0)))
            }
            _ => {}
        }
    }
    LogRecord {
        time_unix_nano: time,
        observed_time_unix_nano: observed,
        severity_number: sev as i32,
        severity_text: sev
            .as_str_name()
            .trim_start_matches("SEVERITY_NUMBER_")
            .into(),
        body: Some(AnyValue {
            value: Some(any_value::Value::StringValue(line.to_string())),
        }),
        attributes,
        event_name: format!("agentbox.audit.{event}"),
        ..LogRecord::default()
    }
}

/// One export request for a batch of lines.
pub fn request(lines: &[String], log: &str) -> ExportLogsServiceRequest {
    let observed = chrono::Utc::now()
        .timestamp_nanos_opt()
        .and_then(|n| u64::try_from(n).ok())
        .unwrap_or(0);
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: Some(Resource {
                attributes: vec![
                    text("service.name", "agentbox"),
                    text("service.version", env!("CARGO_PKG_VERSION")),
                    text("agentbox.audit.log", log),
                ],
                ..Resource::default()
            }),
            scope_logs: vec![ScopeLogs {
                scope: Some(InstrumentationScope {
                    name: "agentbox.audit".into(),
                    version: env!("CARGO_PKG_VERSION").into(),
                    ..InstrumentationScope::default()
                }),
                log_records: lines.iter().map(|l| log_record(l, observed)).collect(),
                ..ScopeLogs::default()
            }],
            ..ResourceLogs::default()
        }],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;

    #[test]
    fn a_line_becomes_a_record_with_its_time_and_fields() {
        let line = r#"{"seq":7,"ts":"2026-12-07T10:00:00.250Z","prev":"ab","run":"r1","event":"http_request","method":"GET","target":"https://a.test/x","decision":"denied","reason":"no grant"}"#;
        let r = log_record(line, 5);
        assert_eq!(r.time_unix_nano, 1_796_637_600_250_000_000);
        assert_eq!(r.observed_time_unix_nano, 5);
        assert_eq!(r.severity_number, SeverityNumber::Warn as i32);
        assert_eq!(r.severity_text, "WARN");
        assert_eq!(r.event_name, "agentbox.audit.http_request");
        assert_eq!(
            r.body.and_then(|b| b.value),
            Some(any_value::Value::StringValue(line.into()))
        );
        let keys: Vec<&str> = r.attributes.iter().map(|a| a.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "agentbox.seq",
                "agentbox.run",
                "agentbox.event",
                "agentbox.decision",
                "agentbox.target"
            ]
        );
        // Round trip through protobuf.
        let req = request(&[line.to_string()], "/var/log/a.jsonl");
        let back =
            ExportLogsServiceRequest::decode(req.encode_to_vec().as_slice()).expect("decode");
        assert_eq!(back, req);
        assert_eq!(back.resource_logs[0].scope_logs[0].log_records.len(), 1);
    }
}
