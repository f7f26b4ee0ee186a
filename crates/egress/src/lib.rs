//! agentbox-egress: the only way out. Every outbound HTTP request of a tool is
//! parsed once (strictly) and matched against the tool's net grants (both by
//! `agentbox_policy`: [`Target`], [`agentbox_policy::find_net_grant`]), resolved by the
//! supervisor, refused if *any* resolved address is internal (unless the matching
//! rule says `private = true`), sent to exactly the address that was checked (SNI
//! and Host from the vetted URL, TLS with rustls), and capped in time, size and
//! number. Redirects are followed only as new requests, each checked like the first.
//!
//! Trust zone: supervisor. This crate must never see the guest (it gets plain
//! requests from the broker), never read proxy variables or any other ambient
//! configuration, never connect to an address it did not check, and never put a
//! header value in an error or a record (values may carry secrets).

mod client;
pub mod ip;

use agentbox_policy::NetGrant;
use agentbox_policy::target::{self, Host, Target};
use hyper::header::{HeaderName, HeaderValue};
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Redirects followed at most, per request.
pub const MAX_REDIRECTS: u32 = 5;
/// Largest response body accepted from one request (it must fit the worker's frame).
pub const MAX_RESPONSE: u64 = 12 << 20;
/// Requests in flight at once across the whole supervisor.
pub const MAX_IN_FLIGHT: usize = 16;

/// What went wrong, as the guest will see it (`agentbox:tool/http.http-error`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EgressError {
    #[error("denied: {0}")]
    Denied(String),
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    #[error("timeout")]
    Timeout,
    #[error("response too large")]
    TooLarge,
    #[error("transport: {0}")]
    Transport(String),
}

/// Why the egress client could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("extra CA file {path}: {message}")]
    ExtraCa { path: String, message: String },
    #[error("TLS configuration: {0}")]
    Tls(String),
}

/// A boxed future (resolvers are trait objects).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Name resolution, done by the supervisor.
pub trait Resolver: Send + Sync + std::fmt::Debug {
    /// Every address of `name` (A and AAAA).
    fn resolve<'a>(&'a self, name: &'a str) -> BoxFuture<'a, std::io::Result<Vec<IpAddr>>>;
}

/// The system resolver (getaddrinfo, `/etc/resolv.conf`), on a blocking thread.
#[derive(Debug, Default)]
pub struct SystemResolver;

impl Resolver for SystemResolver {
    fn resolve<'a>(&'a self, name: &'a str) -> BoxFuture<'a, std::io::Result<Vec<IpAddr>>> {
        Box::pin(async move {
            let addrs = tokio::net::lookup_host((name, 0)).await?;
            let mut ips: Vec<IpAddr> = addrs.map(|a| a.ip()).collect();
            ips.dedup();
            Ok(ips)
        })
    }
}

/// Turns the guest's header templates into the headers sent to one destination:
/// secret placeholders substituted, injected headers added — or an error. Called
/// again for every redirect hop, with that hop's target.
pub trait Credentials: Send + Sync {
    fn headers_for(
        &self,
        target: &Target,
        grant: &NetGrant,
        guest: &[(String, String)],
    ) -> Result<Vec<(String, String)>, EgressError>;

    /// The headers of the last `headers_for` are about to be sent to a vetted
    /// address (the grant, the address check and the budget all passed): only
    /// now does a secret they carry count as used (audit `secret_use`).
    fn commit(&self) {}
}

/// No secrets: any placeholder is refused (with the same text for every name).
#[derive(Debug, Default)]
pub struct NoCredentials;

pub use agentbox_policy::UNBOUND_PLACEHOLDER;

impl Credentials for NoCredentials {
    fn headers_for(
        &self,
        _target: &Target,
        _grant: &NetGrant,
        guest: &[(String, String)],
    ) -> Result<Vec<(String, String)>, EgressError> {
        if guest
            .iter()
            .any(|(n, v)| n.contains("{{") || v.contains("{{secret:"))
        {
            return Err(EgressError::InvalidRequest(UNBOUND_PLACEHOLDER.into()));
        }
        Ok(guest.to_vec())
    }
}

/// One request as the guest made it.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
    /// Already capped by the caller (tool limit, remaining invocation time).
    pub timeout: Duration,
}

/// The final response (after redirects).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// Per-invocation budgets (`http_requests`, `http_bytes`).
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    pub requests_left: u32,
    pub bytes_left: u64,
    pub requests_limit: u32,
    pub bytes_limit: u64,
}

impl Budget {
    pub fn new(requests: u32, bytes: u64) -> Self {
        Self {
            requests_left: requests,
            bytes_left: bytes,
            requests_limit: requests,
            bytes_limit: bytes,
        }
    }
}

/// What happened to one hop (the first request or a redirect), for the audit log.
/// Never holds a header value or a query string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hop {
    pub method: String,
    /// The target without its query (or the raw URL, cut, when it did not parse).
    pub target: String,
    /// `allowed` or `denied`.
    pub decision: &'static str,
    /// The rule (`net[i]: allow`) or the reason for the denial.
    pub reason: String,
    /// The address connected to.
    pub address: Option<SocketAddr>,
    pub status: Option<u16>,
    /// 0 for the guest's own request, n for the n-th redirect.
    pub redirect: u32,
}

impl Hop {
    /// A guest's request refused before it was parsed: method and URL shown
    /// without control characters, the URL without its query.
    pub fn refused(method: &str, url: &str, reason: String) -> Self {
        Self {
            method: printable(method, 16),
            target: printable(url.split(['?', '#']).next().unwrap_or(""), 512),
            decision: "denied",
            reason,
            address: None,
            status: None,
            redirect: 0,
        }
    }
}

/// Headers a guest may not set (the host derives them, or they change framing or
/// the connection): wasmtime-wasi-http's forbidden set, plus framing headers.
pub const FORBIDDEN_HEADERS: &[&str] = &[
    "host",
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "http2-settings",
    "content-length",
    "expect",
    "x-forwarded-host",
    "forwarded",
    // The body must come back as one identity-encoded piece, or scrubbing could
    // miss a secret a server echoes (gzip, or a value split across ranges).
    "accept-encoding",
    "range",
    "if-range",
];

/// Headers a guest set that are dropped when a redirect changes origin.
const ORIGIN_BOUND_HEADERS: &[&str] = &["authorization", "cookie", "proxy-authorization"];

/// The supervisor's egress client.
#[derive(Debug)]
pub struct Egress {
    resolver: Arc<dyn Resolver>,
    tls: Arc<rustls::ClientConfig>,
    in_flight: Arc<tokio::sync::Semaphore>,
}

impl Egress {
    /// Trusts the system's roots (`/etc/ssl/certs`) and, if given, the certificates
    /// of one extra PEM file (a private CA).
    pub fn new(resolver: Arc<dyn Resolver>, extra_ca: Option<&Path>) -> Result<Self, SetupError> {
        let mut roots = rustls::RootCertStore::empty();
        let native = rustls_native_certs::load_native_certs();
        for cert in native.certs {
            let _ = roots.add(cert);
        }
        if let Some(path) = extra_ca {
            use rustls_pki_types::pem::PemObject;
            let err = |message: String| SetupError::ExtraCa {
                path: path.display().to_string(),
                message,
            };
            let mut n = 0;
            for cert in rustls_pki_types::CertificateDer::pem_file_iter(path)
                .map_err(|e| err(e.to_string()))?
            {
                roots
                    .add(cert.map_err(|e| err(e.to_string()))?)
                    .map_err(|e| err(e.to_string()))?;
                n += 1;
            }
            if n == 0 {
                return Err(err("no certificate in the file".into()));
            }
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| SetupError::Tls(e.to_string()))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        tls.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Self {
            resolver,
            tls: Arc::new(tls),
            in_flight: Arc::new(tokio::sync::Semaphore::new(MAX_IN_FLIGHT)),
        })
    }

    /// Performs one guest request (and the redirects it leads to), each hop
    /// decided again and reported to `record`.
    pub async fn fetch(
        &self,
        grants: &[NetGrant],
        req: Request,
        credentials: &dyn Credentials,
        budget: &mut Budget,
        record: &mut (dyn FnMut(Hop) + Send),
    ) -> Result<Response, EgressError> {
        let deadline = Instant::now() + req.timeout;
        let method_text = req.method.clone();
        let mut hop = Hop::refused(&method_text, &req.url, String::new());
        let deny = |hop: &mut Hop, record: &mut (dyn FnMut(Hop) + Send), e: EgressError| {
            hop.reason = match &e {
                EgressError::Denied(r) | EgressError::InvalidRequest(r) => r.clone(),
                other => other.to_string(),
            };
            record(hop.clone());
            Err(e)
        };
        let method = match parse_method(&req.method) {
            Ok(m) => m,
            Err(e) => return deny(&mut hop, record, e),
        };
        let mut target = match target::parse(&req.url) {
            Ok(t) => t,
            Err(e) => {
                let e = EgressError::InvalidRequest(format!("URL: {e}"));
                return deny(&mut hop, record, e);
            }
        };
        if let Err(e) = check_guest_headers(&req.headers) {
            return deny(&mut hop, record, e);
        }
        let mut method = method;
        let mut body = req.body;
        let mut guest_headers = req.headers;
        loop {
            hop.method = method.as_str().to_string();
            hop.target = target.display_without_query();
            hop.address = None;
            hop.status = None;
            if budget.requests_left == 0 {
                let e = EgressError::Denied(format!(
                    "limit: http_requests ({} per invocation) reached",
                    budget.requests_limit
                ));
                return deny(&mut hop, record, e);
            }
            let (index, grant) =
                match agentbox_policy::find_net_grant(grants, method.as_str(), &target) {
                    Ok(g) => g,
                    Err(reason) => return deny(&mut hop, record, EgressError::Denied(reason)),
                };
            let rule = format!("net[{index}]: {}", rule_text(grant));
            let headers = match credentials
                .headers_for(&target, grant, &guest_headers)
                .and_then(to_header_map)
            {
                Ok(h) => h,
                Err(e) => return deny(&mut hop, record, e),
            };
            // Every attempt that gets this far costs one request, resolved or not
            // (a wildcard grant must not become an unlimited DNS channel).
            budget.requests_left -= 1;
            let addrs = match self.addresses(&target, grant.private, deadline).await {
                Ok(a) => a,
                Err(e) => return deny(&mut hop, record, e),
            };
            let Some(remaining) = deadline.checked_duration_since(Instant::now()) else {
                return deny(&mut hop, record, EgressError::Timeout);
            };
            let permit = match tokio::time::timeout(remaining, self.in_flight.acquire()).await {
                Ok(Ok(p)) => p,
                _ => return deny(&mut hop, record, EgressError::Timeout),
            };
            let max_body = budget.bytes_left.min(MAX_RESPONSE);
            credentials.commit();
            let mut last = EgressError::Transport("no address".into());
            let mut answer = None;
            for addr in &addrs {
                let sock = SocketAddr::new(*addr, target.port);
                hop.address = Some(sock);
                let ex = client::Exchange {
                    addr: sock,
                    target: &target,
                    method: &method,
                    headers: &headers,
                    body: body.as_deref(),
                    max_body,
                };
                let remaining = deadline.saturating_duration_since(Instant::now());
                match tokio::time::timeout(remaining, client::exchange(&self.tls, ex)).await {
                    Err(_) => {
                        last = EgressError::Timeout;
                        break;
                    }
                    Ok(Ok(r)) => {
                        answer = Some(r);
                        break;
                    }
                    // Only a failed connect moves on to the next (equally vetted) address.
                    Ok(Err(EgressError::Transport(m))) if m.starts_with("connect to ") => {
                        last = EgressError::Transport(m);
                    }
                    Ok(Err(e)) => {
                        last = e;
                        break;
                    }
                }
            }
            drop(permit);
            let Some(resp) = answer else {
                if last == EgressError::TooLarge {
                    let e = EgressError::TooLarge;
                    hop.decision = "allowed";
                    hop.reason = format!("{rule}; response over the byte limit");
                    record(hop.clone());
                    return Err(e);
                }
                hop.decision = "allowed";
                hop.reason = format!("{rule}; failed: {last}");
                record(hop.clone());
                return Err(last);
            };
            budget.bytes_left = budget.bytes_left.saturating_sub(resp.body.len() as u64);
            hop.decision = "allowed";
            hop.reason = rule;
            hop.status = Some(resp.status);
            record(hop.clone());
            let location = resp
                .headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case("location"))
                .map(|(_, v)| v.clone());
            let redirect = matches!(resp.status, 301 | 302 | 303 | 307 | 308);
            let (true, Some(location)) = (redirect, location) else {
                return Ok(Response {
                    status: resp.status,
                    headers: resp.headers,
                    body: resp.body,
                });
            };
            hop.redirect += 1;
            hop.decision = "denied";
            if hop.redirect > MAX_REDIRECTS {
                hop.target = printable(&location, 512);
                let e = EgressError::Denied(format!("more than {MAX_REDIRECTS} redirects"));
                return deny(&mut hop, record, e);
            }
            let next = match target::join(&target, &location) {
                Ok(t) => t,
                Err(e) => {
                    hop.target = printable(location.split('?').next().unwrap_or(""), 512);
                    let e = EgressError::Denied(format!("redirect to a refused URL: {e}"));
                    return deny(&mut hop, record, e);
                }
            };
            if resp.status == 303
                || (matches!(resp.status, 301 | 302) && method == hyper::Method::POST)
            {
                method = hyper::Method::GET;
                body = None;
            }
            if next.origin() != target.origin() {
                guest_headers.retain(|(n, _)| {
                    !ORIGIN_BOUND_HEADERS
                        .iter()
                        .any(|h| n.eq_ignore_ascii_case(h))
                });
            }
            target = next;
        }
    }

    /// The addresses to connect to, all checked: an IP literal is itself; a name is
    /// resolved once, and refused if any of its addresses is internal.
    async fn addresses(
        &self,
        target: &Target,
        private_ok: bool,
        deadline: Instant,
    ) -> Result<Vec<IpAddr>, EgressError> {
        let addrs = match &target.host {
            Host::Ip(ip) => vec![*ip],
            Host::Name(name) => {
                let remaining = deadline.saturating_duration_since(Instant::now());
                match tokio::time::timeout(remaining, self.resolver.resolve(name)).await {
                    Err(_) => return Err(EgressError::Timeout),
                    Ok(Err(e)) => {
                        return Err(EgressError::Transport(format!("DNS for {name}: {e}")));
                    }
                    Ok(Ok(a)) if a.is_empty() => {
                        return Err(EgressError::Transport(format!(
                            "DNS for {name}: no address"
                        )));
                    }
                    Ok(Ok(a)) => a,
                }
            }
        };
        if !private_ok {
            for ip in &addrs {
                if let Some(why) = ip::forbidden(*ip) {
                    return Err(EgressError::Denied(format!(
                        "{} resolves to {ip}, {why} (a rule must say private = true to allow it)",
                        target.host
                    )));
                }
            }
        }
        Ok(addrs)
    }
}

fn rule_text(g: &NetGrant) -> String {
    let r = &g.allow;
    let default = if r.scheme == "https" { 443 } else { 80 };
    let port = if r.port == default {
        String::new()
    } else {
        format!(":{}", r.port)
    };
    let path = if r.path_prefix == "/" {
        ""
    } else {
        r.path_prefix.as_str()
    };
    format!("{}://{}{port}{path}", r.scheme, r.host)
}

fn printable(s: &str, max: usize) -> String {
    s.chars().filter(|c| !c.is_control()).take(max).collect()
}

fn parse_method(m: &str) -> Result<hyper::Method, EgressError> {
    const OK: &[&str] = &["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];
    if OK.contains(&m) {
        hyper::Method::from_bytes(m.as_bytes())
            .map_err(|e| EgressError::InvalidRequest(format!("method: {e}")))
    } else {
        Err(EgressError::InvalidRequest(format!(
            "method `{}` is not supported (one of {})",
            printable(m, 16),
            OK.join(", ")
        )))
    }
}

fn check_guest_headers(headers: &[(String, String)]) -> Result<(), EgressError> {
    if headers.len() > 64 {
        return Err(EgressError::InvalidRequest("more than 64 headers".into()));
    }
    let mut seen = std::collections::HashSet::new();
    for (name, value) in headers {
        let lower = name.to_ascii_lowercase();
        if FORBIDDEN_HEADERS.contains(&lower.as_str()) || lower.starts_with("proxy-") {
            return Err(EgressError::InvalidRequest(format!(
                "header `{}` is set by the host and may not be sent by a tool",
                printable(name, 64)
            )));
        }
        HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
            EgressError::InvalidRequest(format!("invalid header name `{}`", printable(name, 64)))
        })?;
        if value.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0)
            || HeaderValue::from_str(value).is_err()
        {
            // Never echo the value: it may hold a secret.
            return Err(EgressError::InvalidRequest(format!(
                "invalid value for header `{}` (control characters)",
                printable(name, 64)
            )));
        }
        if value.len() > 8 * 1024 {
            return Err(EgressError::InvalidRequest(format!(
                "value of header `{}` is longer than 8 KiB",
                printable(name, 64)
            )));
        }
        if !seen.insert(lower) && name.eq_ignore_ascii_case("authorization") {
            return Err(EgressError::InvalidRequest(
                "header `authorization` given twice".into(),
            ));
        }
    }
    Ok(())
}

/// Builds the header list to send, marking every value sensitive (hyper keeps it
/// out of debug output) and wiping the plain-text copies, which may hold secrets.
fn to_header_map(h: Vec<(String, String)>) -> Result<Vec<(HeaderName, HeaderValue)>, EgressError> {
    use zeroize::Zeroize;
    let mut out = Vec::with_capacity(h.len());
    let mut failure = None;
    for (n, mut v) in h {
        if failure.is_none() {
            match (
                HeaderName::from_bytes(n.as_bytes()),
                HeaderValue::from_str(&v),
            ) {
                (Ok(name), Ok(mut value)) => {
                    value.set_sensitive(true);
                    out.push((name, value));
                }
                (Err(_), _) => {
                    failure = Some(EgressError::InvalidRequest(format!(
                        "invalid header name `{}`",
                        printable(&n, 64)
                    )));
                }
                (_, Err(_)) => {
                    failure = Some(EgressError::InvalidRequest(format!(
                        "invalid value for header `{}`",
                        printable(&n, 64)
                    )));
                }
            }
        }
        v.zeroize();
    }
    match failure {
        Some(e) => Err(e),
        None => Ok(out),
    }
}
