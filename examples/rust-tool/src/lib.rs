//! rust-tool: slugify text, an agentbox tool written with the Rust guest SDK.
//! It also tries one HTTP request, to show that the host answers (and audits) it.

use agentbox_guest::{http, info, json, json_tool, JsonTool, Value};

struct Slugify;

impl JsonTool for Slugify {
    fn describe() -> Value {
        agentbox_guest::describe(
            "slugify",
            "Turns a title into a URL slug.",
            json!({"type": "object", "properties": {"title": {"type": "string"}}, "required": ["title"]}),
            Some(json!({"type": "object", "properties": {"slug": {"type": "string"}}, "required": ["slug"]})),
        )
    }

    fn call(input: Value) -> Result<Value, String> {
        let title = input.get("title").and_then(Value::as_str).ok_or("input needs a string field `title`")?;
        let mut slug = String::new();
        for c in title.chars().flat_map(char::to_lowercase) {
            if c.is_ascii_alphanumeric() {
                slug.push(c);
            } else if !slug.ends_with('-') && !slug.is_empty() {
                slug.push('-');
            }
        }
        let slug = slug.trim_end_matches('-').to_string();
        info(&format!("slugified {} characters", title.len()));
        let probe = http::fetch(&http::Request {
            method: "GET".into(),
            url: "https://example.com/".into(),
            headers: vec![],
            body: None,
            timeout_ms: Some(1000),
        });
        let network = match probe {
            Ok(r) => format!("allowed ({})", r.status),
            Err(http::HttpError::Denied(why)) => format!("denied: {why}"),
            Err(e) => format!("error: {e:?}"),
        };
        Ok(json!({"slug": slug, "network": network}))
    }
}

json_tool!(Slugify);
