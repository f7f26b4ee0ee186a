//! Capped in-memory stdout/stderr for guests: never a tty, never the host's fds.
//!
//! Writes past the cap are refused with a trap, and the overflow is recorded so the
//! invocation ends with the `output` limit instead of silently losing data.

use bytes::Bytes;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamError};

#[derive(Debug, Default)]
struct Inner {
    buf: Mutex<Vec<u8>>,
    overflowed: AtomicBool,
}

/// A shared, capped byte sink.
#[derive(Debug, Clone)]
pub struct CappedOutput {
    cap: usize,
    inner: Arc<Inner>,
}

impl CappedOutput {
    pub fn new(cap: u64) -> Self {
        Self {
            cap: usize::try_from(cap).unwrap_or(usize::MAX),
            inner: Arc::default(),
        }
    }

    /// Bytes written so far (at most the cap).
    pub fn contents(&self) -> Vec<u8> {
        self.inner.buf.lock().map(|b| b.clone()).unwrap_or_default()
    }

    /// Did the guest try to write past the cap?
    pub fn overflowed(&self) -> bool {
        self.inner.overflowed.load(Ordering::SeqCst)
    }

    /// Appends what fits; returns how much was taken. Marks overflow when not all fit.
    fn push(&self, data: &[u8]) -> usize {
        let Ok(mut buf) = self.inner.buf.lock() else {
            return 0;
        };
        let room = self.cap.saturating_sub(buf.len());
        let take = room.min(data.len());
        buf.extend_from_slice(&data[..take]);
        if take < data.len() {
            self.inner.overflowed.store(true, Ordering::SeqCst);
        }
        take
    }
}

impl IsTerminal for CappedOutput {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for CappedOutput {
    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }

    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }
}

#[wasmtime_wasi::async_trait]
impl OutputStream for CappedOutput {
    fn write(&mut self, bytes: Bytes) -> Result<(), StreamError> {
        if self.push(&bytes) < bytes.len() {
            return Err(StreamError::Trap(wasmtime::format_err!(
                "output limit of {} bytes reached",
                self.cap
            )));
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), StreamError> {
        Ok(())
    }

    fn check_write(&mut self) -> Result<usize, StreamError> {
        // Always admit at least one more write, so that overflow is detected and
        // reported as the output limit rather than as a closed stream.
        Ok(64 * 1024)
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for CappedOutput {
    async fn ready(&mut self) {}
}

impl tokio::io::AsyncWrite for CappedOutput {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let n = self.push(data);
        if n == 0 && !data.is_empty() {
            return Poll::Ready(Err(io::Error::other("output limit reached")));
        }
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_and_flags() {
        let mut o = CappedOutput::new(4);
        assert!(OutputStream::write(&mut o, Bytes::from_static(b"ab")).is_ok());
        assert!(!o.overflowed());
        assert!(OutputStream::write(&mut o, Bytes::from_static(b"cde")).is_err());
        assert!(o.overflowed());
        assert_eq!(o.contents(), b"abcd");
    }
}
