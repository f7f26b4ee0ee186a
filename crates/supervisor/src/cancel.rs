//! Stopping one invocation from another thread, and hearing its log lines as
//! they come: what a long-running server (`agentbox mcp`) needs around a call.

use agentbox_ipc::LogLevel;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// Cancels one invocation: its worker is killed (SIGKILL through a pidfd, never a
/// recycled pid) and the invocation ends with outcome `cancelled`. Cancelling
/// before the worker was reached stops it before it starts; after it finished,
/// it changes nothing.
#[derive(Debug, Clone, Default)]
pub struct Cancel(Arc<Inner>);

#[derive(Debug, Default)]
struct Inner {
    cancelled: AtomicBool,
    /// The worker serving the invocation now, while it is served.
    worker: Mutex<Option<OwnedFd>>,
}

impl Cancel {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn cancel(&self) {
        self.0.cancelled.store(true, Ordering::SeqCst);
        if let Ok(w) = self.0.worker.lock()
            && let Some(pidfd) = w.as_ref()
        {
            // Already gone (ESRCH) is fine: the serving thread sees it either way.
            let _ = agentbox_confine::pidfd_signal(pidfd.as_fd(), nix::libc::SIGKILL);
        }
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.cancelled.load(Ordering::SeqCst)
    }

    /// While the returned guard lives, cancelling kills the worker behind `pidfd`.
    pub(crate) fn watch(&self, pidfd: BorrowedFd<'_>) -> Watch<'_> {
        if let (Ok(mut w), Ok(fd)) = (self.0.worker.lock(), pidfd.try_clone_to_owned()) {
            *w = Some(fd);
        }
        // Cancelled between the check before serving and now: kill it here.
        if self.is_cancelled() {
            let _ = agentbox_confine::pidfd_signal(pidfd, nix::libc::SIGKILL);
        }
        Watch(self)
    }
}

/// Unregisters the worker when the invocation's serving loop ends.
pub(crate) struct Watch<'a>(&'a Cancel);

impl Drop for Watch<'_> {
    fn drop(&mut self) {
        if let Ok(mut w) = self.0.0.worker.lock() {
            *w = None;
        }
    }
}

/// Called with each guest log line of the invocation (level, and the line as the
/// audit log records it: scrubbed of secrets, one visible line).
pub type LogSink = Arc<dyn Fn(LogLevel, &str) + Send + Sync>;

/// Runs a wait that may block for long (`tokio::task::block_in_place` for a
/// caller on an async runtime's thread).
pub type Blocking = Arc<dyn Fn(&mut dyn FnMut()) + Send + Sync>;

/// What the caller of one invocation can do and hear while it runs.
#[derive(Clone, Default)]
pub struct CallHooks {
    pub cancel: Option<Cancel>,
    pub on_log: Option<LogSink>,
    /// How long this call busy-waits for its worker's answer before blocking
    /// (None: the pool's setting). Worth it only when a core is free.
    pub spin: Option<std::time::Duration>,
    /// Each wait that outlasts the spin (the worker's next frame, an outbound
    /// request for it) runs through this: a call answered within the spin never
    /// pays for leaving the caller's thread.
    pub blocking: Option<Blocking>,
}

impl CallHooks {
    /// Runs `f` through the `blocking` hook when there is one (a wait that may
    /// take milliseconds must not hold an async runtime's thread), else directly.
    pub(crate) fn off_thread<T>(&self, f: impl FnOnce() -> T) -> T {
        let Some(b) = &self.blocking else {
            return f();
        };
        let mut f = Some(f);
        let mut out = None;
        b(&mut || {
            if let Some(f) = f.take() {
                out = Some(f());
            }
        });
        match (out, f) {
            (Some(v), _) => v,
            // A hook that did not run the closure: run it here.
            (None, Some(f)) => f(),
            (None, None) => unreachable!("the closure ran and stored its value"),
        }
    }
}

impl std::fmt::Debug for CallHooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallHooks")
            .field("cancel", &self.cancel)
            .field("on_log", &self.on_log.is_some())
            .field("spin", &self.spin)
            .field("blocking", &self.blocking.is_some())
            .finish()
    }
}
