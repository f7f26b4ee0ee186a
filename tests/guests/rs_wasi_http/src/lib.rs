//! rs_wasi_http: the egress probe again, but written against standard
//! `wasi:http/outgoing-handler` (the `wasi` crate) instead of agentbox:tool/http.
//! Input `{"requests": [{"method", "url"}]}`; output per request
//! `{"status", "body"}` or `{"error": "<wasi:http error-code>"}`.

use agentbox_guest::{json, json_tool, JsonTool, Value};
use wasi::http::outgoing_handler;
use wasi::http::types::{Fields, Method, OutgoingRequest, Scheme};
use wasi::io::streams::StreamError;

struct Probe;

fn one(r: &Value) -> Value {
    let url = r.get("url").and_then(Value::as_str).unwrap_or("");
    let method = match r.get("method").and_then(Value::as_str).unwrap_or("GET") {
        "POST" => Method::Post,
        "HEAD" => Method::Head,
        _ => Method::Get,
    };
    let (scheme, rest) = match url.split_once("://") {
        Some(("https", rest)) => (Scheme::Https, rest),
        Some(("http", rest)) => (Scheme::Http, rest),
        _ => return json!({"error": "bad url in test input"}),
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let req = OutgoingRequest::new(Fields::new());
    if req.set_method(&method).is_err()
        || req.set_scheme(Some(&scheme)).is_err()
        || req.set_authority(Some(authority)).is_err()
        || req.set_path_with_query(Some(path)).is_err()
    {
        return json!({"error": "request rejected by wasi:http types"});
    }
    let fut = match outgoing_handler::handle(req, None) {
        Ok(f) => f,
        Err(code) => return json!({"error": format!("{code:?}")}),
    };
    fut.subscribe().block();
    let resp = match fut.get() {
        Some(Ok(Ok(resp))) => resp,
        Some(Ok(Err(code))) => return json!({"error": format!("{code:?}")}),
        _ => return json!({"error": "no response"}),
    };
    let status = resp.status();
    let mut body = Vec::new();
    if let Ok(incoming) = resp.consume() {
        if let Ok(stream) = incoming.stream() {
            loop {
                match stream.blocking_read(65536) {
                    Ok(chunk) => body.extend_from_slice(&chunk),
                    Err(StreamError::Closed) => break,
                    Err(_) => return json!({"error": "body read failed"}),
                }
            }
        }
    }
    json!({"status": status, "body": String::from_utf8_lossy(&body)})
}

impl JsonTool for Probe {
    fn describe() -> Value {
        json!({"name": "rs_wasi_http", "description": "wasi:http egress probe", "input_schema": {"type": "object"}})
    }

    fn call(input: Value) -> Result<Value, String> {
        let reqs = input.get("requests").and_then(Value::as_array).ok_or("requests missing")?;
        Ok(Value::Array(reqs.iter().map(one).collect()))
    }
}

json_tool!(Probe);
