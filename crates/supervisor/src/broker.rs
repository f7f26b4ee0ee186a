//! The supervisor's [`Broker`]: decides, performs and audits the host calls that
//! matter. HTTP goes through `agentbox-egress`; the worker's view of a request is
//! never trusted (everything is decided again here).

use agentbox_audit::{AuditLog, Event};
use agentbox_egress::{Budget, Credentials, Egress, EgressError, Resolver};
use agentbox_host::{BoxFuture, Broker, http, log};
use agentbox_ipc::{HttpReply, Limit, LogLevel};
use agentbox_policy::ToolSpec;
use agentbox_policy::{NetGrant, Target};
use agentbox_secrets::{InjectError, Injector, Scrubber, SecretStore};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The supervisor's network side, shared by every invocation: the egress client
/// and the runtime it runs on, both built on first use (loading the system's roots
/// and starting a thread cost time a run without HTTP should not pay).
#[derive(Debug)]
pub(crate) struct Net {
    egress: OnceLock<Result<Arc<Egress>, String>>,
    runtime: OnceLock<Result<tokio::runtime::Runtime, String>>,
    resolver: Arc<dyn Resolver>,
    extra_ca: Option<PathBuf>,
    /// Secret sources (`--secrets`), if any were given.
    pub(crate) secrets: Option<Arc<SecretStore>>,
}

impl Net {
    pub(crate) fn new(
        resolver: Arc<dyn Resolver>,
        extra_ca: Option<PathBuf>,
        secrets: Option<Arc<SecretStore>>,
    ) -> Self {
        Self {
            egress: OnceLock::new(),
            runtime: OnceLock::new(),
            resolver,
            extra_ca,
            secrets,
        }
    }

    /// A scrubber for every secret value read so far.
    pub(crate) fn scrubber(&self) -> Scrubber {
        let mut s = Scrubber::new();
        if let Some(store) = &self.secrets {
            for v in store.loaded_values() {
                s.add(v.as_bytes());
            }
        }
        s
    }

    /// Runs an egress future to completion from a plain (non-async) thread.
    fn block_on<T>(&self, fut: impl std::future::Future<Output = T>) -> Result<T, String> {
        let rt = self.runtime.get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .thread_name("agentbox-egress")
                .enable_all()
                .build()
                .map_err(|e| format!("cannot start the egress runtime: {e}"))
        });
        match rt {
            Ok(rt) => Ok(rt.block_on(fut)),
            Err(e) => Err(e.clone()),
        }
    }

    pub(crate) fn egress(&self) -> Result<Arc<Egress>, String> {
        self.egress
            .get_or_init(|| {
                Egress::new(self.resolver.clone(), self.extra_ca.as_deref())
                    .map(Arc::new)
                    .map_err(|e| e.to_string())
            })
            .clone()
    }
}

/// Serves one invocation of one tool.
#[derive(Debug)]
pub struct LocalBroker {
    pub(crate) audit: Arc<AuditLog>,
    pub(crate) audit_failed: AtomicBool,
    tool: ToolSpec,
    net: Arc<Net>,
    started: Instant,
    budget: Mutex<Budget>,
    /// Requests allowed / denied, counted here (the worker's counts are not trusted).
    pub(crate) allowed: AtomicU32,
    pub(crate) denied: AtomicU32,
    /// The request budget that ran out, if one did (`http_requests`, `http_bytes`).
    pub(crate) limit_hit: Mutex<Option<Limit>>,
    /// Requests that carried each secret.
    pub(crate) secrets_used: Mutex<std::collections::BTreeMap<String, u32>>,
    /// Guest log bytes recorded for this invocation: bounded here too (the
    /// worker bounds them, but a compromised worker would not).
    log_bytes: std::sync::atomic::AtomicU64,
    /// The caller's cancel handle and log sink for this invocation.
    pub(crate) hooks: crate::CallHooks,
}

impl LocalBroker {
    /// A broker for one invocation of `tool`, auditing into `audit`.
    pub(crate) fn new(audit: Arc<AuditLog>, tool: &ToolSpec, net: Arc<Net>) -> Self {
        Self {
            audit,
            audit_failed: AtomicBool::new(false),
            budget: Mutex::new(Budget::new(
                tool.limits.http_requests,
                tool.limits.http_bytes,
            )),
            tool: tool.clone(),
            net,
            started: Instant::now(),
            allowed: AtomicU32::new(0),
            denied: AtomicU32::new(0),
            limit_hit: Mutex::new(None),
            secrets_used: Mutex::new(Default::default()),
            log_bytes: std::sync::atomic::AtomicU64::new(0),
            hooks: crate::CallHooks::default(),
        }
    }

    /// The same broker, with the caller's hooks for this invocation.
    pub(crate) fn with_hooks(mut self, hooks: crate::CallHooks) -> Self {
        self.hooks = hooks;
        self
    }

    /// A scrubber for every secret value read so far.
    pub(crate) fn net_scrubber(&self) -> Scrubber {
        self.net.scrubber()
    }

    /// Removes every secret value read so far (and its encodings) from `text`.
    pub(crate) fn scrub(&self, text: &str) -> String {
        self.net.scrubber().text(text)
    }

    fn record(&self, ev: &Event) {
        if self.audit.record(ev).is_err() {
            self.audit_failed.store(true, Ordering::SeqCst);
        }
    }
}

impl LocalBroker {
    /// Decides and performs an HTTP request for a worker (blocking the serving
    /// thread; the invocation's own deadline bounds it).
    pub(crate) fn fetch_for_worker(&self, req: agentbox_ipc::HttpRequest) -> HttpReply {
        self.net
            .block_on(self.fetch_reply(req))
            .unwrap_or_else(HttpReply::Transport)
    }

    async fn fetch_reply(&self, req: agentbox_ipc::HttpRequest) -> HttpReply {
        if self.audit_failed.load(Ordering::SeqCst) {
            return HttpReply::Transport(
                "the audit log cannot be written: request not made".into(),
            );
        }
        // Capped by the guest's own timeout and by what is left of the invocation's.
        let left = self
            .tool
            .limits
            .timeout
            .saturating_sub(self.started.elapsed());
        let timeout = req
            .timeout_ms
            .map(|ms| Duration::from_millis(u64::from(ms)))
            .unwrap_or(left)
            .min(left);
        let sent = req.body.as_ref().map_or(0, |b| b.len() as u64);
        let request = agentbox_egress::Request {
            method: req.method,
            url: req.url,
            headers: req.headers,
            body: req.body,
            timeout,
        };
        let egress = match self.net.egress() {
            Ok(e) => e,
            Err(msg) => {
                self.denied.fetch_add(1, Ordering::SeqCst);
                return HttpReply::Transport(format!("egress is not available: {msg}"));
            }
        };
        let mut budget = self.budget.lock().map(|b| *b).unwrap_or(Budget::new(0, 0));
        let bytes_before = budget.bytes_left;
        let mut hops = Vec::new();
        let injector = Injector::new(self.net.secrets.as_deref(), &self.tool.secrets);
        let result = match injector.check_request(&request.url, request.body.as_deref()) {
            Err(e) => {
                let e = egress_error(e);
                hops.push(agentbox_egress::Hop::refused(
                    &request.method,
                    &request.url,
                    e.to_string(),
                ));
                Err(e)
            }
            Ok(()) => {
                let credentials = SecretHeaders(&injector);
                egress
                    .fetch(
                        &self.tool.net,
                        request,
                        &credentials,
                        &mut budget,
                        &mut |h| hops.push(h),
                    )
                    .await
            }
        };
        if let Ok(mut b) = self.budget.lock() {
            *b = budget;
        }
        // Everything below leaves the supervisor: scrubbed of every value read.
        let scrubber = self.net.scrubber();
        let received = result.as_ref().ok().map(|r| r.body.len() as u64);
        let last = hops.len().saturating_sub(1);
        for (i, h) in hops.into_iter().enumerate() {
            let allowed = h.decision == "allowed";
            self.record(&Event::HttpRequest {
                bytes_sent: (allowed && h.redirect == 0).then_some(sent),
                bytes_received: if i == last { received } else { None },
                method: h.method,
                target: scrubber.text(&h.target),
                decision: h.decision.into(),
                reason: scrubber.text(&h.reason),
                address: h.address.map(|a| a.to_string()),
                status: h.status,
                redirect: h.redirect,
            });
        }
        for u in injector.uses() {
            let uses = match self.secrets_used.lock() {
                Ok(mut m) => {
                    let n = m.entry(u.name.clone()).or_insert(0);
                    *n += 1;
                    *n
                }
                Err(_) => 0,
            };
            self.record(&Event::SecretUse {
                name: u.name,
                destination: scrubber.text(&u.destination),
                uses,
            });
        }
        // What could not be recorded is not answered either.
        if self.audit_failed.load(Ordering::SeqCst) {
            return HttpReply::Transport("the audit log cannot be written: answer withheld".into());
        }
        let result = match result {
            Ok(r) => Ok(agentbox_egress::Response {
                status: r.status,
                headers: r
                    .headers
                    .into_iter()
                    .map(|(n, v)| (scrubber.text(&n), scrubber.text(&v)))
                    .collect(),
                body: scrubber.bytes(&r.body),
            }),
            Err(EgressError::Denied(r)) => Err(EgressError::Denied(scrubber.text(&r))),
            Err(EgressError::InvalidRequest(r)) => {
                Err(EgressError::InvalidRequest(scrubber.text(&r)))
            }
            Err(EgressError::Transport(r)) => Err(EgressError::Transport(scrubber.text(&r))),
            Err(e) => Err(e),
        };
        let hit = match &result {
            Err(EgressError::Denied(r)) if r.starts_with("limit: http_requests") => {
                Some(Limit::HttpRequests)
            }
            Err(EgressError::TooLarge) if bytes_before < agentbox_egress::MAX_RESPONSE => {
                Some(Limit::HttpBytes)
            }
            _ => None,
        };
        if let (Some(h), Ok(mut l)) = (hit, self.limit_hit.lock()) {
            l.get_or_insert(h);
        }
        match result {
            Ok(r) => {
                self.allowed.fetch_add(1, Ordering::SeqCst);
                HttpReply::Response {
                    status: r.status,
                    headers: r.headers,
                    body: r.body,
                }
            }
            Err(e) => {
                self.denied.fetch_add(1, Ordering::SeqCst);
                match e {
                    EgressError::Denied(r) => HttpReply::Denied(r),
                    EgressError::InvalidRequest(r) => HttpReply::InvalidRequest(r),
                    EgressError::Timeout => HttpReply::Timeout,
                    EgressError::TooLarge => HttpReply::TooLarge,
                    EgressError::Transport(r) => HttpReply::Transport(r),
                }
            }
        }
    }

    /// No request and no log line reached this broker (counted here, not by the
    /// worker).
    pub(crate) fn untouched(&self) -> bool {
        self.allowed.load(Ordering::SeqCst) == 0
            && self.denied.load(Ordering::SeqCst) == 0
            && self.log_bytes.load(Ordering::SeqCst) == 0
    }

    /// Records a guest log line (bounded by the worker; bounded again here).
    pub(crate) fn log_line(&self, level: LogLevel, message: String) {
        let message = agentbox_host::truncate_utf8(&message, 64 * 1024);
        // The same budget as the worker's (the tool's output limit), counted here.
        let cap = self.tool.limits.output;
        let len = message.len() as u64 + 1;
        let before = self.log_bytes.fetch_add(len, Ordering::SeqCst);
        if before.saturating_add(len) > cap {
            if before <= cap {
                self.record(&Event::GuestLog {
                    level: LogLevel::Warn.to_string(),
                    message: format!(
                        "guest log limit of {} reached: further lines of this invocation are dropped",
                        agentbox_policy::units::format_size(cap)
                    ),
                });
            }
            return;
        }
        // One visible line: no control or bidi character of the guest's reaches
        // the audit log (or whoever reads it on a terminal).
        let message = crate::tool_text::visible(&self.scrub(message));
        if let Some(sink) = &self.hooks.on_log {
            sink(level, &message);
        }
        self.record(&Event::GuestLog {
            level: level.to_string(),
            message,
        });
    }
}

impl Broker for LocalBroker {
    fn fetch(
        &self,
        request: http::Request,
    ) -> BoxFuture<'_, Result<http::Response, http::HttpError>> {
        let req = agentbox_host::wire::request_to_wire(request);
        Box::pin(async move { agentbox_host::wire::reply_from_wire(self.fetch_reply(req).await) })
    }

    fn log(&self, level: log::Level, message: String) {
        self.log_line(agentbox_host::level_word(level), message);
    }
}

/// For tests: an Arc'd broker as the trait object the host wants.
pub(crate) fn as_dyn(b: Arc<LocalBroker>) -> Arc<dyn Broker> {
    b
}

/// The secrets crate's injector as the credentials egress asks for each hop's
/// headers: egress and secrets meet only here, neither depends on the other.
struct SecretHeaders<'a>(&'a Injector<'a>);

impl Credentials for SecretHeaders<'_> {
    fn headers_for(
        &self,
        target: &Target,
        _grant: &NetGrant,
        guest: &[(String, String)],
    ) -> Result<Vec<(String, String)>, EgressError> {
        self.0.headers_for(target, guest).map_err(egress_error)
    }

    fn commit(&self) {
        self.0.commit();
    }
}

/// How a refusal of the secrets layer reaches the guest and the audit log.
fn egress_error(e: InjectError) -> EgressError {
    match e {
        InjectError::Unbound | InjectError::Misplaced(_) => {
            EgressError::InvalidRequest(e.to_string())
        }
        InjectError::Denied(m) => EgressError::Denied(m),
        InjectError::Source(m) => EgressError::Transport(m),
    }
}
