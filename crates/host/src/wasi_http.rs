//! `wasi:http/outgoing-handler`, linked so that guests written against standard
//! wasi:http (Python via componentize-py, Rust via `wasi`/`wstd`) work — and go
//! through exactly the same broker, policy and audit as `agentbox:tool/http`. This
//! module only translates: the request is collected (bounded) and handed to the
//! [`Broker`]; nothing here opens a connection.

use crate::bindings::agentbox::tool::http as ab;
use crate::state::Broker;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use std::future::Future;
use std::sync::Arc;
use wasmtime_wasi_http::{Error, RequestOptions, WasiBody, WasiHttpHooks};

/// Largest request body forwarded (it travels in one frame to the supervisor).
const MAX_REQUEST_BODY: usize = 8 << 20;

/// Hooks that hand every outgoing request to the broker.
pub(crate) struct BrokerHooks {
    pub(crate) broker: Arc<dyn Broker>,
}

type Io = Box<dyn Future<Output = Result<(), Error>> + Send>;

impl WasiHttpHooks for BrokerHooks {
    // The host sets Host from the vetted URL itself.
    fn set_host_header(&mut self) -> bool {
        false
    }

    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        _fut: Io,
    ) -> Box<dyn Future<Output = Result<(http::Response<WasiBody>, Io), Error>> + Send> {
        let broker = self.broker.clone();
        Box::new(async move {
            let (parts, body) = request.into_parts();
            let mut collected = Vec::new();
            let mut body = body;
            while let Some(frame) = body.frame().await {
                let frame = frame?;
                if let Some(data) = frame.data_ref() {
                    if collected.len() + data.len() > MAX_REQUEST_BODY {
                        return Err(Error::HttpRequestBodySize(Some(MAX_REQUEST_BODY as u64)));
                    }
                    collected.extend_from_slice(data);
                }
            }
            let mut headers = Vec::new();
            for (name, value) in &parts.headers {
                let value = value
                    .to_str()
                    .map_err(|_| Error::InternalError(Some(format!("header {name}: not text"))))?;
                headers.push(ab::Header {
                    name: name.as_str().to_string(),
                    value: value.to_string(),
                });
            }
            let timeout_ms = options
                .and_then(|o| o.first_byte_timeout.or(o.connect_timeout))
                .map(|d| u32::try_from(d.as_millis()).unwrap_or(u32::MAX));
            let req = ab::Request {
                method: parts.method.as_str().to_string(),
                url: parts.uri.to_string(),
                headers,
                body: (!collected.is_empty()).then_some(collected),
                timeout_ms,
            };
            let resp = match broker.fetch(req).await {
                Ok(r) => r,
                Err(ab::HttpError::Denied(_)) => return Err(Error::HttpRequestDenied),
                Err(ab::HttpError::InvalidRequest(r)) => {
                    return Err(Error::InternalError(Some(format!("invalid request: {r}"))));
                }
                Err(ab::HttpError::Timeout) => return Err(Error::ConnectionTimeout),
                Err(ab::HttpError::TooLarge) => return Err(Error::HttpResponseBodySize(None)),
                Err(ab::HttpError::Transport(r)) => return Err(Error::InternalError(Some(r))),
            };
            let mut builder = http::Response::builder().status(resp.status);
            for h in &resp.headers {
                builder = builder.header(h.name.as_str(), h.value.as_str());
            }
            let body = Full::new(Bytes::from(resp.body))
                .map_err(|never| match never {})
                .boxed_unsync();
            let response = builder
                .body(body)
                .map_err(|e| Error::InternalError(Some(format!("response: {e}"))))?;
            Ok((response, Box::new(async { Ok(()) }) as Io))
        })
    }
}
