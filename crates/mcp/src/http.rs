//! Streamable HTTP at `/mcp`: every request must carry the bearer token (else
//! 401) and name this server in `Host` and, when present, `Origin` (else 403:
//! the DNS-rebinding defence). Only then does it reach the MCP service.

use crate::server::{Session, Shared};
use crate::{ServeError, say};
use bytes::Bytes;
use http_body_util::{BodyExt, Full, combinators::BoxBody};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use rmcp::transport::streamable_http_server::{
    StreamableHttpServerConfig, StreamableHttpService, session::local::LocalSessionManager,
};
use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::sync::Arc;

/// The bearer token: read from a file only its owner can read, or generated
/// and printed on stderr.
pub(crate) fn token(file: Option<&Path>) -> Result<String, ServeError> {
    use std::os::unix::fs::MetadataExt;
    let Some(path) = file else {
        let mut raw = [0u8; 32];
        std::fs::File::open("/dev/urandom")
            .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut raw))
            .map_err(|e| {
                ServeError::Runtime(std::io::Error::other(format!(
                    "cannot generate a bearer token from /dev/urandom: {e}"
                )))
            })?;
        let token: String = raw.iter().map(|b| format!("{b:02x}")).collect();
        say(format!(
            "bearer token for this server (give it as `Authorization: Bearer TOKEN`): {token}"
        ));
        return Ok(token);
    };
    let bad = |reason: String| ServeError::Token {
        path: path.to_path_buf(),
        reason,
    };
    let meta = std::fs::metadata(path).map_err(|e| bad(e.to_string()))?;
    if meta.mode() & 0o077 != 0 {
        return Err(bad(format!(
            "mode {:o} lets others read it; allowed: 0600 (chmod 600 {})",
            meta.mode() & 0o777,
            path.display()
        )));
    }
    let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
    let token = text.trim();
    if token.len() < 16 || token.chars().any(|c| !c.is_ascii_graphic()) {
        return Err(bad(
            "the token must be at least 16 printable ASCII characters, without spaces".into(),
        ));
    }
    Ok(token.to_string())
}

/// Serves until SIGTERM/SIGINT.
pub(crate) async fn serve(
    shared: Arc<Shared>,
    addr: SocketAddr,
    token: String,
) -> Result<(), ServeError> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Listen { addr, source })?;
    let local = listener
        .local_addr()
        .map_err(|source| ServeError::Listen { addr, source })?;
    if !local.ip().is_loopback() {
        say(format!(
            "WARNING: listening on {local}, which is not a loopback address: anyone who can reach it and has the token can call these tools"
        ));
    }
    say(format!("listening on http://{local}/mcp"));
    let stop = tokio_util::sync::CancellationToken::new();
    let factory_shared = shared.clone();
    let service = StreamableHttpService::new(
        move || Ok(Session::new(factory_shared.clone())),
        Arc::new(LocalSessionManager::default()),
        // Host and Origin are checked below, against the address actually bound.
        StreamableHttpServerConfig::default()
            .with_cancellation_token(stop.child_token())
            .disable_allowed_hosts(),
    );
    let gate = Arc::new(Gate {
        token: token.into_bytes(),
        local,
    });
    let signalled = crate::stopping(&shared);
    tokio::pin!(signalled);
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            () = &mut signalled => break,
        };
        let Ok((stream, _)) = accepted else { continue };
        let service = service.clone();
        let gate = gate.clone();
        tokio::spawn(async move {
            let svc = hyper::service::service_fn(move |req: Request<Incoming>| {
                let service = service.clone();
                let gate = gate.clone();
                async move {
                    Ok::<_, Infallible>(match gate.refuse(&req) {
                        Some(refusal) => refusal,
                        None => service.handle(req).await,
                    })
                }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), svc)
                .await;
        });
    }
    crate::drain(&shared).await;
    stop.cancel();
    Ok(())
}

/// The checks before the MCP service.
struct Gate {
    token: Vec<u8>,
    local: SocketAddr,
}

type Body = BoxBody<Bytes, Infallible>;

fn answer(status: StatusCode, text: &'static str) -> Response<Body> {
    let mut r = Response::new(Full::new(Bytes::from_static(text.as_bytes())).boxed());
    *r.status_mut() = status;
    r
}

impl Gate {
    fn refuse<B>(&self, req: &Request<B>) -> Option<Response<Body>> {
        if req.uri().path() != "/mcp" {
            return Some(answer(
                StatusCode::NOT_FOUND,
                "not found: the MCP endpoint is /mcp\n",
            ));
        }
        let host = req
            .headers()
            .get(hyper::header::HOST)
            .and_then(|v| v.to_str().ok());
        if !host.is_some_and(|h| self.names_us(h, 80)) {
            return Some(answer(
                StatusCode::FORBIDDEN,
                "forbidden: the Host header does not name this server\n",
            ));
        }
        if let Some(origin) = req.headers().get(hyper::header::ORIGIN) {
            let ok = origin
                .to_str()
                .ok()
                .and_then(origin_authority)
                .is_some_and(|(a, port)| self.names_us(a, port));
            if !ok {
                return Some(answer(
                    StatusCode::FORBIDDEN,
                    "forbidden: the Origin header does not name this server\n",
                ));
            }
        }
        let presented = req
            .headers()
            .get(hyper::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::as_bytes);
        if !presented.is_some_and(|p| same(p, &self.token)) {
            let mut r = answer(
                StatusCode::UNAUTHORIZED,
                "unauthorized: send Authorization: Bearer TOKEN\n",
            );
            r.headers_mut().insert(
                hyper::header::WWW_AUTHENTICATE,
                hyper::header::HeaderValue::from_static("Bearer"),
            );
            return Some(r);
        }
        None
    }

    /// An authority (`host[:port]`) names this server: its own address or
    /// localhost, on its port.
    fn names_us(&self, authority: &str, default_port: u16) -> bool {
        let (host, port) = split_authority(authority, default_port);
        let Some(port) = port else { return false };
        if port != self.local.port() {
            return false;
        }
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.eq_ignore_ascii_case("localhost") {
            return true;
        }
        match host.parse::<IpAddr>() {
            Ok(ip) => ip == self.local.ip() || (ip.is_loopback() && self.local.ip().is_loopback()),
            Err(_) => false,
        }
    }
}

/// `host[:port]` → host and port (the default when none is written; None when
/// the port is not a number).
fn split_authority(a: &str, default_port: u16) -> (&str, Option<u16>) {
    let (host, port) = match a.rfind(':') {
        // An IPv6 literal's colons are inside brackets.
        Some(i) if !a[i..].contains(']') => (&a[..i], Some(&a[i + 1..])),
        _ => (a, None),
    };
    match port {
        None => (host, Some(default_port)),
        Some(p) => (host, p.parse().ok()),
    }
}

/// `scheme://authority` of an Origin header, with the scheme's default port.
fn origin_authority(origin: &str) -> Option<(&str, u16)> {
    let (scheme, rest) = origin.split_once("://")?;
    let port = match scheme {
        "http" => 80,
        "https" => 443,
        _ => return None,
    };
    let authority = rest.split('/').next()?;
    Some((authority, port))
}

/// Compares in time independent of where the inputs differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gate() -> Gate {
        Gate {
            token: b"0123456789abcdef0123".to_vec(),
            local: "127.0.0.1:8123".parse().unwrap_or_else(|_| unreachable!()),
        }
    }

    fn req(headers: &[(&str, &str)]) -> Request<()> {
        let mut b = Request::builder().uri("/mcp");
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        b.body(()).unwrap_or_else(|_| unreachable!())
    }

    const AUTH: (&str, &str) = ("authorization", "Bearer 0123456789abcdef0123");

    fn status(r: &Request<()>) -> u16 {
        gate().refuse(r).map_or(200, |r| r.status().as_u16())
    }

    #[test]
    fn the_token_and_our_own_names_are_required() {
        assert_eq!(status(&req(&[("host", "127.0.0.1:8123"), AUTH])), 200);
        assert_eq!(status(&req(&[("host", "localhost:8123"), AUTH])), 200);
        assert_eq!(status(&req(&[("host", "127.0.0.1:8123")])), 401);
        assert_eq!(
            status(&req(&[
                ("host", "127.0.0.1:8123"),
                ("authorization", "Bearer wrong")
            ])),
            401
        );
        assert_eq!(status(&req(&[("host", "evil.example:8123"), AUTH])), 403);
        assert_eq!(status(&req(&[("host", "127.0.0.1:9999"), AUTH])), 403);
        assert_eq!(status(&req(&[AUTH])), 403);
        assert_eq!(
            status(&req(&[
                ("host", "127.0.0.1:8123"),
                ("origin", "http://evil.example:8123"),
                AUTH
            ])),
            403
        );
        assert_eq!(
            status(&req(&[
                ("host", "127.0.0.1:8123"),
                ("origin", "null"),
                AUTH
            ])),
            403
        );
        assert_eq!(
            status(&req(&[
                ("host", "127.0.0.1:8123"),
                ("origin", "http://localhost:8123"),
                AUTH
            ])),
            200
        );
        // Look-alikes of our own names.
        for host in [
            "127.0.0.1.evil.example:8123",
            "localhost.evil.example:8123",
            "evil@localhost:8123",
            "127.0.0.1:8123@evil.example",
            "127.0.0.2:8123x",
        ] {
            assert_eq!(status(&req(&[("host", host), AUTH])), 403, "{host}");
        }
        for origin in [
            "http://127.0.0.1:8123.evil.example",
            "http://localhost.evil.example:8123",
            "file://localhost:8123",
        ] {
            let r = req(&[("host", "127.0.0.1:8123"), ("origin", origin), AUTH]);
            assert_eq!(status(&r), 403, "{origin}");
        }
    }
}
