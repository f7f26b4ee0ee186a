//! agentbox-secrets: where secret values come from (`--secrets secrets.toml`: a
//! private file or a command), how they are put into outgoing requests (only
//! toward destinations their grant allows), and how every trace of them is removed
//! from what leaves the supervisor (scrubbing of the value and its encodings).
//!
//! Trust zone: supervisor. This crate must never log, format or return a value in
//! an error, never hand one to a worker, and keeps values in zeroizing buffers.

pub mod inject;
pub mod scrub;
pub mod store;

pub use inject::{InjectError, Injector, SecretUse, mentions_placeholder};
pub use scrub::{REDACTED, Scrubber};
pub use store::{SecretStore, SecretsError};

/// Once secret values live in this process, no core dump may carry them: sets
/// RLIMIT_CORE to 0 (soft and hard). [`SecretStore::load`] calls it, so every
/// process holding a store has it (catalog SEC-13; the breakout suite reads the
/// limit back).
fn forbid_core_dumps() {
    let _ = nix::sys::resource::setrlimit(nix::sys::resource::Resource::RLIMIT_CORE, 0, 0);
}
