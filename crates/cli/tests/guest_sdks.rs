//! The guest SDKs' HTTP call (C, Python, JavaScript; Rust's is rs_fetch in the
//! egress lab) through the real binary, against a server on loopback: a granted
//! request arrives with the tool's header and its answer comes back; a request
//! outside the grant is refused by policy and never reaches the server.

mod common;
use common::*;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

/// A one-line HTTP server: answers every request with its path and X-Probe
/// header; keeps each request line it saw.
fn server() -> (u16, Arc<Mutex<Vec<String>>>) {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            let mut r = BufReader::new(s.try_clone().expect("clone"));
            let mut first = String::new();
            let _ = r.read_line(&mut first);
            let mut probe = String::new();
            loop {
                let mut h = String::new();
                if r.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                    break;
                }
                if let Some(v) = h.to_ascii_lowercase().strip_prefix("x-probe: ") {
                    probe = v.trim().to_string();
                }
            }
            let path = first.split_whitespace().nth(1).unwrap_or("").to_string();
            if let Ok(mut l) = log.lock() {
                l.push(first.trim().to_string());
            }
            let mut s = s;
            if path.ends_with("/empty") {
                // No body and an empty header value: nothing for the host to allocate.
                let _ = write!(
                    s,
                    "HTTP/1.1 204 No Content\r\nx-empty: \r\nconnection: close\r\n\r\n"
                );
                continue;
            }
            let body = format!("path={path} probe={probe}");
            let _ = write!(
                s,
                "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nx-reply: yes\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (port, seen)
}

#[test]
fn c_python_and_js_sdks_fetch_through_the_host() {
    let (port, seen) = server();
    let sb = Sandbox::new();
    let mut manifest = String::from("version = 1\n");
    for (tool, guest) in [("c", "c_fetch"), ("py", "py_fetch"), ("js", "js_fetch")] {
        std::fs::copy(fixture(guest), sb.path(&format!("{guest}.wasm"))).expect("copy guest");
        manifest.push_str(&format!(
            "[tools.{tool}]\ncomponent = \"{guest}.wasm\"\nrationale = \"sdk\"\n\
             [tools.{tool}.limits]\nmemory = \"128MiB\"\n\
             [[tools.{tool}.net]]\nallow = \"http://127.0.0.1:{port}/ok\"\nprivate = true\nrationale = \"the test server\"\n"
        ));
    }
    sb.manifest(&manifest);
    for tool in ["c", "py", "js"] {
        let input = json!({"url": format!("http://127.0.0.1:{port}/ok/{tool}"), "header": format!("from-{tool}")});
        let out = sb.run(&[
            "run",
            "agentbox.toml",
            "--tool",
            tool,
            "--input",
            &input.to_string(),
        ]);
        assert_eq!(out.code, 0, "{tool}: {out:?}");
        let v: Value = serde_json::from_str(&out.stdout).expect("JSON");
        assert_eq!(v["status"], 200, "{tool}: {v}");
        assert_eq!(
            v["body"],
            format!("path=/ok/{tool} probe=from-{tool}"),
            "{tool}: {v}"
        );
        assert!(v["headers"].as_u64().is_some_and(|n| n >= 2), "{tool}: {v}");
        // An empty answer (204, an empty header value) is handled, not a crash.
        let input =
            json!({"url": format!("http://127.0.0.1:{port}/ok/{tool}/empty"), "header": ""});
        let out = sb.run(&[
            "run",
            "agentbox.toml",
            "--tool",
            tool,
            "--input",
            &input.to_string(),
        ]);
        assert_eq!(out.code, 0, "{tool}: {out:?}");
        let v: Value = serde_json::from_str(&out.stdout).expect("JSON");
        assert_eq!(
            (v["status"].as_u64(), v["body"].as_str()),
            (Some(204), Some("")),
            "{tool}: {v}"
        );
        // Outside the grant: refused by policy, the server never sees it.
        let before = seen.lock().map(|s| s.len()).unwrap_or(0);
        let input = json!({"url": format!("http://127.0.0.1:{port}/secret/{tool}")});
        let out = sb.run(&[
            "run",
            "agentbox.toml",
            "--tool",
            tool,
            "--input",
            &input.to_string(),
        ]);
        assert_eq!(out.code, 0, "{tool}: {out:?}");
        let v: Value = serde_json::from_str(&out.stdout).expect("JSON");
        assert_eq!(v["error"], "denied", "{tool}: {v}");
        assert!(
            v["reason"]
                .as_str()
                .is_some_and(|r| r.contains("no net grant")),
            "{tool}: {v}"
        );
        let after = seen.lock().map(|s| s.clone()).unwrap_or_default();
        assert_eq!(after.len(), before, "{tool}: the server saw {after:?}");
    }
    let all = seen.lock().map(|s| s.clone()).unwrap_or_default();
    assert!(all.iter().all(|l| l.starts_with("GET /ok/")), "{all:?}");
}
