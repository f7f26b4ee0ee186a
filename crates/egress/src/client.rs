//! One HTTP/1.1 exchange with one already-vetted address: TCP to exactly that
//! address, TLS (rustls) with SNI from the vetted host, Host from the vetted URL,
//! the response body read up to a cap.

use crate::EgressError;
use agentbox_policy::{Host, Target};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::{HeaderName, HeaderValue};
use std::net::SocketAddr;
use std::sync::Arc;

/// A response before redirects are considered.
#[derive(Debug)]
pub(crate) struct RawResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

pub(crate) struct Exchange<'a> {
    pub addr: SocketAddr,
    pub target: &'a Target,
    pub method: &'a hyper::Method,
    pub headers: &'a [(HeaderName, HeaderValue)],
    pub body: Option<&'a [u8]>,
    pub max_body: u64,
}

trait Io: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send> Io for T {}

pub(crate) async fn exchange(
    tls: &Arc<rustls::ClientConfig>,
    ex: Exchange<'_>,
) -> Result<RawResponse, EgressError> {
    let tcp = tokio::net::TcpStream::connect(ex.addr)
        .await
        .map_err(|e| EgressError::Transport(format!("connect to {}: {e}", ex.addr)))?;
    let _ = tcp.set_nodelay(true);
    let io: Box<dyn Io> = if ex.target.scheme == "https" {
        let name = match &ex.target.host {
            Host::Name(n) => rustls_pki_types::ServerName::try_from(n.clone())
                .map_err(|e| EgressError::InvalidRequest(format!("TLS server name: {e}")))?,
            Host::Ip(ip) => rustls_pki_types::ServerName::IpAddress((*ip).into()),
        };
        let stream = tokio_rustls::TlsConnector::from(tls.clone())
            .connect(name, tcp)
            .await
            .map_err(|e| EgressError::Transport(format!("TLS with {}: {e}", ex.target.host)))?;
        Box::new(stream)
    } else {
        Box::new(tcp)
    };
    let (mut sender, conn) = hyper::client::conn::http1::Builder::new()
        .max_buf_size(256 * 1024)
        .handshake::<_, Full<Bytes>>(hyper_util::rt::TokioIo::new(io))
        .await
        .map_err(|e| EgressError::Transport(format!("HTTP handshake: {e}")))?;
    let driver = tokio::spawn(async move {
        let _ = conn.await;
    });
    let mut req = hyper::Request::builder()
        .method(ex.method.clone())
        .uri(ex.target.path_and_query())
        .header(hyper::header::HOST, ex.target.authority());
    for (n, v) in ex.headers {
        req = req.header(n, v);
    }
    let body = ex.body.map(Bytes::copy_from_slice).unwrap_or_default();
    if ex.body.is_some() || !matches!(*ex.method, hyper::Method::GET | hyper::Method::HEAD) {
        req = req.header(hyper::header::CONTENT_LENGTH, body.len());
    }
    let req = req
        .body(Full::new(body))
        .map_err(|e| EgressError::InvalidRequest(format!("request: {e}")))?;
    let result = async {
        let resp = sender
            .send_request(req)
            .await
            .map_err(|e| EgressError::Transport(format!("HTTP: {e}")))?;
        let status = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let mut body = resp.into_body();
        let mut out = Vec::new();
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| EgressError::Transport(format!("response body: {e}")))?;
            if let Some(chunk) = frame.data_ref() {
                if out.len() as u64 + chunk.len() as u64 > ex.max_body {
                    return Err(EgressError::TooLarge);
                }
                out.extend_from_slice(chunk);
            }
        }
        Ok(RawResponse {
            status,
            headers,
            body: out,
        })
    }
    .await;
    driver.abort();
    result
}
