//! The agentbox HTTP types as they travel between worker and supervisor: one
//! conversion each way, used by both brokers.

use crate::bindings::agentbox::tool::http;
use agentbox_ipc::{HttpReply, HttpRequest};

/// A guest's request, as sent over the worker socket.
pub fn request_to_wire(r: http::Request) -> HttpRequest {
    HttpRequest {
        method: r.method,
        url: r.url,
        headers: r.headers.into_iter().map(|h| (h.name, h.value)).collect(),
        body: r.body,
        timeout_ms: r.timeout_ms,
    }
}

/// The supervisor's answer, as the guest sees it.
pub fn reply_from_wire(reply: HttpReply) -> Result<http::Response, http::HttpError> {
    match reply {
        HttpReply::Response {
            status,
            headers,
            body,
        } => Ok(http::Response {
            status,
            headers: headers
                .into_iter()
                .map(|(name, value)| http::Header { name, value })
                .collect(),
            body,
        }),
        HttpReply::Denied(s) => Err(http::HttpError::Denied(s)),
        HttpReply::InvalidRequest(s) => Err(http::HttpError::InvalidRequest(s)),
        HttpReply::Timeout => Err(http::HttpError::Timeout),
        HttpReply::TooLarge => Err(http::HttpError::TooLarge),
        HttpReply::Transport(s) => Err(http::HttpError::Transport(s)),
    }
}
