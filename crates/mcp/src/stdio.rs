//! The stdio transport: one JSON-RPC message per line each way. Unlike the SDK's
//! own, it answers what it cannot use instead of dropping it silently: a line
//! that is not JSON gets -32700 (parse error), JSON that is not a message -32600
//! (its `id` echoed when it has one), a line over the size limit -32600 too —
//! each with `id: null` unless the request's id could be read. Notifications are
//! never answered, as JSON-RPC says.

use rmcp::RoleServer;
use rmcp::service::{RxJsonRpcMessage, TxJsonRpcMessage};
use serde_json::{Value, json};
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::sync::Mutex;
use tokio_stream::StreamExt;
use tokio_util::codec::{FramedRead, LinesCodec, LinesCodecError};

/// The largest message accepted (bytes, one line).
pub const MAX_LINE: usize = 16 << 20;

pub(crate) struct Stdio<R, W> {
    lines: FramedRead<R, LinesCodec>,
    out: Arc<Mutex<W>>,
}

impl<R: AsyncRead + Unpin, W: AsyncWrite + Unpin + Send + 'static> Stdio<R, W> {
    pub fn new(read: R, write: W) -> Self {
        Self {
            lines: FramedRead::new(read, LinesCodec::new_with_max_length(MAX_LINE)),
            out: Arc::new(Mutex::new(write)),
        }
    }

    /// Writes one line, whole, from a task of its own: `receive` may be dropped
    /// mid-way (it is polled in a `select!`), a write must never be.
    fn answer(&self, line: String) {
        let out = self.out.clone();
        tokio::spawn(async move {
            let mut out = out.lock().await;
            let _ = out.write_all(line.as_bytes()).await;
            let _ = out.write_all(b"\n").await;
            let _ = out.flush().await;
        });
    }
}

/// A JSON-RPC error response.
fn error(id: Value, code: i64, message: &str) -> String {
    json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}}).to_string()
}

/// What to do with one line.
pub(crate) enum Line {
    Message(Box<RxJsonRpcMessage<RoleServer>>),
    /// Answer this and read on.
    Answer(String),
    /// Nothing to answer (an empty line, a notification agentbox does not know).
    Skip,
}

pub(crate) fn classify(line: &str) -> Line {
    let line = line.trim_end_matches('\r').trim_start_matches('\u{feff}');
    if line.trim().is_empty() {
        return Line::Skip;
    }
    let value: Value = match serde_json::from_str(line) {
        Ok(v) => v,
        Err(e) => {
            return Line::Answer(error(
                Value::Null,
                -32700,
                &format!("parse error: the line is not JSON ({e})"),
            ));
        }
    };
    let id = value.get("id").cloned();
    match serde_json::from_value::<RxJsonRpcMessage<RoleServer>>(value) {
        Ok(m) => Line::Message(Box::new(m)),
        // A notification (no id) is never answered.
        Err(_)
            if id.is_none()
                && !matches!(serde_json::from_str::<Value>(line), Ok(Value::Array(_))) =>
        {
            Line::Skip
        }
        Err(e) => Line::Answer(error(
            id.unwrap_or(Value::Null),
            -32600,
            &format!("invalid request: not a JSON-RPC 2.0 message agentbox accepts ({e})"),
        )),
    }
}

impl<R, W> rmcp::transport::Transport<RoleServer> for Stdio<R, W>
where
    R: AsyncRead + Unpin + Send,
    W: AsyncWrite + Unpin + Send + 'static,
{
    type Error = std::io::Error;

    fn send(
        &mut self,
        item: TxJsonRpcMessage<RoleServer>,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send + 'static {
        let out = self.out.clone();
        async move {
            let mut line = serde_json::to_vec(&item).map_err(std::io::Error::other)?;
            line.push(b'\n');
            let mut out = out.lock().await;
            out.write_all(&line).await?;
            out.flush().await
        }
    }

    async fn receive(&mut self) -> Option<RxJsonRpcMessage<RoleServer>> {
        loop {
            match self.lines.next().await? {
                Ok(line) => match classify(&line) {
                    Line::Message(m) => return Some(*m),
                    Line::Answer(a) => self.answer(a),
                    Line::Skip => {}
                },
                Err(LinesCodecError::MaxLineLengthExceeded) => self.answer(error(
                    Value::Null,
                    -32600,
                    &format!("invalid request: the message is over {MAX_LINE} bytes"),
                )),
                Err(LinesCodecError::Io(_)) => return None,
            }
        }
    }

    async fn close(&mut self) -> Result<(), Self::Error> {
        self.out.lock().await.flush().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(line: &str) -> Option<i64> {
        match classify(line) {
            Line::Answer(a) => serde_json::from_str::<Value>(&a).ok()?["error"]["code"].as_i64(),
            _ => None,
        }
    }

    #[test]
    fn bad_lines_are_answered_and_good_ones_pass() {
        assert_eq!(code("this is not json"), Some(-32700));
        assert_eq!(
            code("{\"jsonrpc\":\"2.0\",\"id\":7,\"nonsense\":true}"),
            Some(-32600)
        );
        assert_eq!(code("[1,2]"), Some(-32600));
        assert!(matches!(classify(""), Line::Skip));
        assert!(matches!(
            classify("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/whatever\"}"),
            Line::Message(_) | Line::Skip
        ));
        assert!(matches!(
            classify("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}"),
            Line::Message(_)
        ));
        let Line::Answer(a) = classify("{\"jsonrpc\":\"2.0\",\"id\":7,\"nonsense\":true}") else {
            unreachable!("answered above")
        };
        assert!(a.contains("\"id\":7"), "{a}");
    }
}
