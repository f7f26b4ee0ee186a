//! The supervisor's [`Broker`]: decides and audits the host calls that matter.

use agentbox_audit::{AuditLog, Event};
use agentbox_host::{BoxFuture, Broker, http, log};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Serves one invocation of one tool.
#[derive(Debug)]
pub struct LocalBroker {
    pub(crate) audit: Arc<AuditLog>,
    pub(crate) has_net_grants: bool,
    pub(crate) audit_failed: AtomicBool,
}

impl LocalBroker {
    /// A broker for one invocation of `tool`, auditing into `audit`.
    pub(crate) fn new(audit: Arc<AuditLog>, tool: &agentbox_policy::ToolSpec) -> Self {
        Self {
            audit,
            has_net_grants: !tool.net.is_empty(),
            audit_failed: AtomicBool::new(false),
        }
    }

    fn record(&self, ev: &Event) {
        if self.audit.record(ev).is_err() {
            self.audit_failed.store(true, Ordering::SeqCst);
        }
    }
}

/// The URL as far as it can be shown: without user info, query or fragment, capped.
fn target_of(url: &str) -> String {
    let cut = url.split(['?', '#']).next().unwrap_or("");
    let cut = match cut.split_once("://") {
        Some((scheme, rest)) => {
            let (auth, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
            let host = auth.rsplit('@').next().unwrap_or(auth);
            format!("{scheme}://{host}{path}")
        }
        None => cut.to_string(),
    };
    cut.chars().filter(|c| !c.is_control()).take(512).collect()
}

impl LocalBroker {
    /// Decides an HTTP request (authoritative: the worker's view is never trusted).
    pub(crate) fn decide_fetch(&self, method: &str, url: &str) -> agentbox_ipc::HttpReply {
        // Deny by default. Mediated egress (the egress crate) is not part of this
        // version, so every request is denied, with the reason that applies.
        let reason = if self.has_net_grants {
            "mediated egress is not available in this version of agentbox; every request is denied"
        } else {
            "the tool has no net grant (deny by default)"
        };
        self.record(&Event::HostCall {
            interface: "agentbox:tool/http".into(),
            function: "fetch".into(),
            decision: "denied".into(),
            reason: reason.into(),
            target: Some(format!(
                "{} {}",
                method
                    .chars()
                    .filter(|c| !c.is_control())
                    .take(16)
                    .collect::<String>(),
                target_of(url)
            )),
        });
        agentbox_ipc::HttpReply::Denied(reason.to_string())
    }

    /// Records a guest log line (bounded by the worker; bounded again here).
    pub(crate) fn log_line(&self, level: &str, message: String) {
        let level = match level {
            "debug" | "info" | "warn" | "error" => level,
            _ => "info",
        };
        let message = agentbox_host::truncate_utf8(&message, 64 * 1024).to_string();
        self.record(&Event::GuestLog {
            level: level.into(),
            message,
        });
    }
}

impl Broker for LocalBroker {
    fn fetch(
        &self,
        request: http::Request,
    ) -> BoxFuture<'_, Result<http::Response, http::HttpError>> {
        let answer = match self.decide_fetch(&request.method, &request.url) {
            agentbox_ipc::HttpReply::Denied(r) => Err(http::HttpError::Denied(r)),
            _ => Err(http::HttpError::Denied("denied".into())),
        };
        Box::pin(async move { answer })
    }

    fn log(&self, level: log::Level, message: String) {
        let level = agentbox_host::level_name(level);
        self.log_line(level, message);
    }
}

/// For tests: an Arc'd broker as the trait object the host wants.
pub(crate) fn as_dyn(b: Arc<LocalBroker>) -> Arc<dyn Broker> {
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_hide_userinfo_and_query() {
        assert_eq!(
            target_of("https://u:p@x.org/a?token=1#f"),
            "https://x.org/a"
        );
        assert_eq!(target_of("garbage\n"), "garbage");
    }
}
