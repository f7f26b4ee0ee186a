//! The queue and the thread that drains it: lines go in without waiting (or are
//! dropped and counted when the queue is full), batches go out in order, a batch
//! the receiver could not take is sent again after a growing pause.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use prost::Message;
use std::collections::VecDeque;
use std::net::IpAddr;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Lines sent in one request at most.
pub const BATCH: usize = 512;
/// The queue's bound when none is given.
pub const DEFAULT_QUEUE: usize = 10_000;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Why an exporter could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("--otlp {url}: {why}")]
    Endpoint { url: String, why: String },
    #[error("--otlp: cannot start the exporter thread: {0}")]
    Thread(std::io::Error),
}

/// Where records go: `http://HOST:PORT/PATH` on this machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub url: String,
    host: String,
    port: u16,
    authority: String,
    path: String,
}

impl Endpoint {
    /// Parses the receiver's URL. Plain HTTP is accepted only to a loopback
    /// address (a local collector): audit lines never cross a network in
    /// cleartext. A URL without a path gets OTLP's `/v1/logs`.
    pub fn parse(url: &str) -> Result<Endpoint, ExportError> {
        let bad = |why: &str| ExportError::Endpoint {
            url: url.to_string(),
            why: why.to_string(),
        };
        let rest = match url.split_once("://") {
            Some(("http", rest)) => rest,
            Some(("https", _)) => {
                return Err(bad(
                    "https receivers are not supported yet; run a collector on this machine and give its http://127.0.0.1:4318 address",
                ));
            }
            _ => {
                return Err(bad(
                    "allowed: http://HOST:PORT[/PATH] with HOST a loopback address",
                ));
            }
        };
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/v1/logs"),
        };
        if authority.contains('@') || path.contains(['?', '#']) {
            return Err(bad("no user, query or fragment allowed"));
        }
        // `[v6]`, `[v6]:port`, `host`, `host:port`.
        let (host, port) = match authority.strip_prefix('[') {
            Some(v6) => {
                let (h, rest) = v6.split_once(']').ok_or_else(|| bad("unclosed `[`"))?;
                (h, rest.strip_prefix(':'))
            }
            None => match authority.split_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (authority, None),
            },
        };
        let port = match port {
            None => 80,
            Some(p) => p
                .parse::<u16>()
                .ok()
                .filter(|p| *p != 0)
                .ok_or_else(|| bad("the port must be 1-65535"))?,
        };
        let bare = host;
        let loopback = bare == "localhost" || bare.parse::<IpAddr>().is_ok_and(|a| a.is_loopback());
        if !loopback {
            return Err(bad(
                "plain http only to a loopback address (127.0.0.1, ::1, localhost): audit lines never cross a network in cleartext",
            ));
        }
        Ok(Endpoint {
            url: url.to_string(),
            host: bare.to_string(),
            port,
            authority: authority.to_string(),
            path: path.to_string(),
        })
    }
}

/// How an exporter runs.
#[derive(Debug, Clone)]
pub struct Options {
    pub endpoint: Endpoint,
    /// Lines held at most while the receiver is slow or away.
    pub queue: usize,
    /// The audit file's path, sent as a resource attribute.
    pub log: String,
}

#[derive(Debug, Default)]
struct Queue {
    lines: VecDeque<String>,
    /// Dropped since the caller last asked, and why.
    dropped: u64,
    drop_reason: String,
    /// The last failure to send, for messages.
    last_error: Option<String>,
    sent: u64,
    /// Lines at the front being sent now.
    in_flight: usize,
    stop: bool,
}

#[derive(Debug)]
struct Shared {
    opts: Options,
    queue: Mutex<Queue>,
    changed: Condvar,
    /// Wakes a send in progress when the exporter stops (a hung receiver
    /// never holds a stop up).
    cancel: tokio::sync::Notify,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A running exporter.
#[derive(Debug)]
pub struct Exporter {
    shared: Arc<Shared>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

/// A line that reports drops is queued even when the queue is full (at most one
/// a second is written), so the receiver learns what it missed.
fn reports_drops(line: &str) -> bool {
    line.contains("\"event\":\"export_dropped\"")
}

impl Exporter {
    pub fn start(opts: Options) -> Result<Arc<Exporter>, ExportError> {
        let shared = Arc::new(Shared {
            opts,
            queue: Mutex::new(Queue::default()),
            changed: Condvar::new(),
            cancel: tokio::sync::Notify::new(),
        });
        let worker = shared.clone();
        let thread = std::thread::Builder::new()
            .name("agentbox-otlp".into())
            .spawn(move || drain(&worker))
            .map_err(ExportError::Thread)?;
        Ok(Arc::new(Exporter {
            shared,
            thread: Mutex::new(Some(thread)),
        }))
    }

    /// Queues one audit line; never waits for the network.
    pub fn push(&self, line: &str) {
        let mut q = self.shared.lock();
        if q.stop {
            return;
        }
        // Drop reports may go a little over the bound, never far (one is written
        // a second at most while lines are being dropped).
        let bound = self.shared.opts.queue.max(1);
        let over = if reports_drops(line) {
            bound + 16
        } else {
            bound
        };
        if q.lines.len() >= over {
            q.dropped += 1;
            q.drop_reason = format!(
                "the export queue was full ({} lines){}",
                self.shared.opts.queue,
                q.last_error
                    .as_deref()
                    .map(|e| format!(" while the receiver failed: {e}"))
                    .unwrap_or_default()
            );
            return;
        }
        q.lines.push_back(line.to_string());
        drop(q);
        self.shared.changed.notify_all();
    }

    /// Lines dropped since the last call, and why (the caller audits them).
    pub fn take_dropped(&self) -> Option<(u64, String)> {
        let mut q = self.shared.lock();
        (q.dropped > 0).then(|| (std::mem::take(&mut q.dropped), q.drop_reason.clone()))
    }

    /// Lines the receiver accepted so far.
    pub fn sent(&self) -> u64 {
        self.shared.lock().sent
    }

    /// Waits until every queued line is sent, or `deadline` passed, or a send
    /// failed (the receiver is away: waiting would only delay the caller);
    /// returns how many are still queued.
    pub fn flush(&self, deadline: Duration) -> usize {
        let until = Instant::now() + deadline;
        let mut q = self.shared.lock();
        while !q.lines.is_empty() && q.last_error.is_none() {
            let now = Instant::now();
            if now >= until {
                break;
            }
            q = self
                .shared
                .changed
                .wait_timeout(q, until - now)
                .map(|(g, _)| g)
                .unwrap_or_else(|p| p.into_inner().0);
        }
        q.lines.len()
    }

    /// The receiver's URL.
    pub fn endpoint(&self) -> &str {
        &self.shared.opts.endpoint.url
    }

    /// The last failure to send, if the last attempt failed.
    pub fn last_error(&self) -> Option<String> {
        self.shared.lock().last_error.clone()
    }

    /// Gives up the queued lines not being sent right now (returns how many),
    /// so that a stop does not wait on them.
    pub fn abandon(&self) -> usize {
        let mut q = self.shared.lock();
        let keep = q.in_flight;
        let n = q.lines.len().saturating_sub(keep);
        q.lines.truncate(keep);
        n
    }

    /// Stops the thread; returns the lines it could not send (dropped, counted).
    pub fn stop(&self) -> usize {
        let left = {
            let mut q = self.shared.lock();
            q.stop = true;
            let n = q.lines.len();
            q.lines.clear();
            n
        };
        self.shared.changed.notify_all();
        self.shared.cancel.notify_one();
        if let Some(t) = self.thread.lock().ok().and_then(|mut t| t.take()) {
            let _ = t.join();
        }
        left
    }
}

impl Drop for Exporter {
    fn drop(&mut self) {
        self.stop();
    }
}

enum Failure {
    /// Worth sending again (no connection, timeout, 429, 5xx).
    Retry(String),
    /// The receiver refused these records for good (another 4xx).
    Reject(String),
}

/// The thread: batches out in order, each sent until accepted or refused.
fn drain(shared: &Shared) {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            let mut q = shared.lock();
            q.last_error = Some(format!("no runtime: {e}"));
            return;
        }
    };
    let mut backoff = FIRST_BACKOFF;
    loop {
        let batch: Vec<String> = {
            let mut q = shared.lock();
            while q.lines.is_empty() && !q.stop {
                q = shared.changed.wait(q).unwrap_or_else(|p| p.into_inner());
            }
            if q.stop {
                return;
            }
            let batch: Vec<String> = q.lines.iter().take(BATCH).cloned().collect();
            q.in_flight = batch.len();
            batch
        };
        let body = crate::encode::request(&batch, &shared.opts.log).encode_to_vec();
        let result = rt.block_on(async {
            tokio::select! {
                r = send(&shared.opts.endpoint, body) => Some(r),
                () = shared.cancel.notified() => None,
            }
        });
        let Some(result) = result else { return };
        let mut q = shared.lock();
        if q.stop {
            return;
        }
        q.in_flight = 0;
        match result {
            Ok(()) => {
                q.lines.drain(..batch.len());
                q.sent += batch.len() as u64;
                q.last_error = None;
                backoff = FIRST_BACKOFF;
            }
            Err(Failure::Reject(why)) => {
                q.lines.drain(..batch.len());
                q.dropped += batch.len() as u64;
                q.drop_reason = format!("the receiver refused them: {why}");
                q.last_error = Some(why);
            }
            Err(Failure::Retry(why)) => {
                q.last_error = Some(why);
                // Wait (a stop cuts the wait short), then send the batch again.
                let (g, _) = shared
                    .changed
                    .wait_timeout_while(q, backoff, |q| !q.stop)
                    .unwrap_or_else(|p| p.into_inner());
                q = g;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
        drop(q);
        shared.changed.notify_all();
    }
}

async fn send(ep: &Endpoint, body: Vec<u8>) -> Result<(), Failure> {
    let retry = |what: &str, e: &dyn std::fmt::Display| Failure::Retry(format!("{what}: {e}"));
    let stream = tokio::time::timeout(
        CONNECT_TIMEOUT,
        tokio::net::TcpStream::connect((ep.host.as_str(), ep.port)),
    )
    .await
    .map_err(|e| retry("connect", &e))?
    .map_err(|e| retry("connect", &e))?;
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .map_err(|e| retry("handshake", &e))?;
    let conn = tokio::spawn(conn);
    let request = hyper::Request::post(ep.path.as_str())
        .header(hyper::header::HOST, ep.authority.as_str())
        .header(hyper::header::CONTENT_TYPE, "application/x-protobuf")
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| Failure::Reject(e.to_string()))?;
    let response = tokio::time::timeout(REQUEST_TIMEOUT, sender.send_request(request))
        .await
        .map_err(|e| retry("request", &e))?
        .map_err(|e| retry("request", &e))?;
    let status = response.status();
    // The answer is read (bounded by the timeout) so the exchange completes.
    let _ = tokio::time::timeout(REQUEST_TIMEOUT, response.into_body().collect()).await;
    conn.abort();
    if status.is_success() {
        Ok(())
    } else if status.as_u16() == 429 || status.is_server_error() {
        Err(Failure::Retry(format!("HTTP {status}")))
    } else {
        Err(Failure::Reject(format!("HTTP {status}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_local_http_only() {
        let ep = Endpoint::parse("http://127.0.0.1:4318").expect("loopback");
        assert_eq!(
            (ep.host.as_str(), ep.port, ep.path.as_str()),
            ("127.0.0.1", 4318, "/v1/logs")
        );
        let ep = Endpoint::parse("http://[::1]:9000/custom/logs").expect("v6");
        assert_eq!(
            (ep.host.as_str(), ep.port, ep.path.as_str()),
            ("::1", 9000, "/custom/logs")
        );
        assert!(Endpoint::parse("http://localhost/v1/logs").is_ok());
        let ep = Endpoint::parse("http://[::1]/v1/logs").expect("v6 without a port");
        assert_eq!((ep.host.as_str(), ep.port), ("::1", 80));
        for (bad, says) in [
            ("http://collector.example.com:4318", "loopback"),
            ("http://10.0.0.1:4318", "loopback"),
            ("https://collector.example.com", "not supported yet"),
            ("ftp://127.0.0.1", "allowed: http://"),
            ("http://user@127.0.0.1:1", "no user"),
            ("http://127.0.0.1:0", "port"),
        ] {
            let e = Endpoint::parse(bad).expect_err(bad).to_string();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }

    #[test]
    fn a_full_queue_drops_and_counts_but_keeps_drop_reports() {
        // Nothing listens on port 9: every send fails and is retried.
        let ex = Exporter::start(Options {
            endpoint: Endpoint::parse("http://127.0.0.1:9").expect("ep"),
            queue: 3,
            log: "t".into(),
        })
        .expect("start");
        for i in 0..5 {
            ex.push(&format!("{{\"seq\":{i}}}"));
        }
        ex.push(r#"{"seq":9,"event":"export_dropped"}"#);
        let (n, why) = ex.take_dropped().expect("dropped");
        assert_eq!(n, 2);
        assert!(why.contains("queue was full (3 lines)"), "{why}");
        assert_eq!(ex.take_dropped(), None);
        // The receiver is away: a flush does not wait out its deadline.
        let t = Instant::now();
        assert_eq!(ex.flush(Duration::from_secs(30)), 4);
        assert!(t.elapsed() < Duration::from_secs(10));
        assert_eq!(ex.stop(), 4);
        assert_eq!(ex.sent(), 0);
    }
}
