//! github-issues: lists the open issues of a GitHub repository. The tool never
//! sees the token: the manifest lets the host inject `GITHUB_TOKEN` as
//! `Authorization: Bearer …` into requests to https://api.github.com/repos only.

use agentbox_guest::{http, info, json, json_tool, JsonTool, Value};

struct Issues;

fn valid_part(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 100
        && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        && s != "."
        && s != ".."
}

impl JsonTool for Issues {
    fn describe() -> Value {
        json!({
            "name": "github_issues",
            "description": "Lists open issues of a GitHub repository (number, title, author).",
            "input_schema": {
                "type": "object",
                "properties": {
                    "repo": {"type": "string", "description": "owner/name"},
                    "limit": {"type": "integer", "minimum": 1, "maximum": 50}
                },
                "required": ["repo"]
            }
        })
    }

    fn call(input: Value) -> Result<Value, String> {
        let repo = input.get("repo").and_then(Value::as_str).ok_or("input needs `repo`: \"owner/name\"")?;
        let (owner, name) = repo.split_once('/').ok_or("`repo` must be owner/name")?;
        if !valid_part(owner) || !valid_part(name) {
            return Err("`repo` must be owner/name with letters, digits, - _ .".into());
        }
        let limit = input.get("limit").and_then(Value::as_u64).unwrap_or(10).clamp(1, 50);
        let url = format!("https://api.github.com/repos/{owner}/{name}/issues?state=open&per_page={limit}");
        let resp = http::fetch(&http::Request {
            method: "GET".into(),
            url,
            headers: vec![
                http::Header { name: "Accept".into(), value: "application/vnd.github+json".into() },
                http::Header { name: "User-Agent".into(), value: "agentbox-github-issues".into() },
            ],
            body: None,
            timeout_ms: Some(10_000),
        })
        .map_err(|e| format!("GitHub request failed: {e:?}"))?;
        if resp.status != 200 {
            return Err(format!("GitHub answered {}", resp.status));
        }
        let list: Value = serde_json_from(&resp.body)?;
        let issues: Vec<Value> = list
            .as_array()
            .ok_or("GitHub's answer is not a list")?
            .iter()
            .filter(|i| i.get("pull_request").is_none())
            .map(|i| {
                json!({
                    "number": i.get("number"),
                    "title": i.get("title"),
                    "author": i.pointer("/user/login"),
                })
            })
            .collect();
        info(&format!("{} open issue(s) in {repo}", issues.len()));
        Ok(json!({"repo": repo, "issues": issues}))
    }
}

fn serde_json_from(bytes: &[u8]) -> Result<Value, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "GitHub's answer is not UTF-8")?;
    text.parse::<Value>().map_err(|e| format!("GitHub's answer is not JSON: {e}"))
}

json_tool!(Issues);
