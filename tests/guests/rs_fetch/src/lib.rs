//! rs_fetch: a hostile-tool probe for the egress tests. Input:
//! `{"requests": [{"method", "url", "headers": [[name, value]], "body", "timeout_ms"}]}`;
//! it makes each request through `agentbox:tool/http` and returns, for each, either
//! `{"status", "headers", "body"}` (body as lossy UTF-8) or `{"error": kind, "reason"}`.
//! With `"reverse": true` the body and header values come back reversed, so that
//! what the guest saw can be checked without the host's final output scrubbing.

use agentbox_guest::{http, json, json_tool, JsonTool, Value};

struct Fetch;

fn one(r: &Value) -> Value {
    let s = |k: &str| r.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let headers = r
        .get("headers")
        .and_then(Value::as_array)
        .map(|hs| {
            hs.iter()
                .filter_map(|h| {
                    let pair = h.as_array()?;
                    Some(http::Header {
                        name: pair.first()?.as_str()?.to_string(),
                        value: pair.get(1)?.as_str()?.to_string(),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let req = http::Request {
        method: if s("method").is_empty() { "GET".into() } else { s("method") },
        url: s("url"),
        headers,
        body: r.get("body").and_then(Value::as_str).map(|b| b.as_bytes().to_vec()),
        timeout_ms: r.get("timeout_ms").and_then(Value::as_u64).map(|t| t as u32),
    };
    let reverse = r.get("reverse").and_then(Value::as_bool).unwrap_or(false);
    let view = |s: &str| if reverse { s.chars().rev().collect::<String>() } else { s.to_string() };
    match http::fetch(&req) {
        Ok(resp) => json!({
            "status": resp.status,
            "headers": resp.headers.iter().map(|h| json!([h.name, view(&h.value)])).collect::<Vec<_>>(),
            "body": view(&String::from_utf8_lossy(&resp.body)),
        }),
        Err(e) => {
            let (kind, reason) = match e {
                http::HttpError::Denied(r) => ("denied", r),
                http::HttpError::InvalidRequest(r) => ("invalid-request", r),
                http::HttpError::Timeout => ("timeout", String::new()),
                http::HttpError::TooLarge => ("too-large", String::new()),
                http::HttpError::Transport(r) => ("transport", r),
            };
            json!({"error": kind, "reason": reason})
        }
    }
}

impl JsonTool for Fetch {
    fn describe() -> Value {
        json!({"name": "rs_fetch", "description": "egress probe", "input_schema": {"type": "object"}})
    }

    fn call(input: Value) -> Result<Value, String> {
        let reqs = input.get("requests").and_then(Value::as_array).ok_or("requests missing")?;
        Ok(Value::Array(reqs.iter().map(one).collect()))
    }
}

json_tool!(Fetch);
