//! agentbox-policy: the manifest contract (v1) and the resolved grants derived from it.
//!
//! Trust zone: supervisor. This crate parses and validates manifests and produces the
//! [`Manifest`] / [`ToolSpec`] values that describe exactly what one tool may do, and
//! nothing more. It is also the one home of URL matching: the strict parse of a
//! request's URL into a [`Target`] and whether a grant's rule admits it. It is pure data: it must never link wasmtime, touch the network, spawn
//! processes or apply any confinement. The only OS access it performs is reading the
//! manifest and resolving the granted paths once, at load.

mod broad;
mod error;
mod lines;
mod locate;
mod matching;
pub mod own;
mod raw;
mod resolve;
pub mod target;
pub mod url;
mod warn;

pub use agentbox_spec::{
    Access, EnvVar, FsGrant, Limits, PREOPEN_MOUNTS, ScratchGrant, ToolKind, WorkerSpec, units,
};
pub use error::{Location, ManifestError};
pub use lines::{GrantLines, grant_lines};
pub use matching::find_net_grant;
pub use resolve::{
    DEFAULT_PROFILES, KNOWN_PROFILES, Manifest, MonitorPolicy, NATIVE_LAYOUT, NetGrant,
    SecretGrant, ToolSpec, secret_destination_ok,
};

/// The one answer for a `{{secret:NAME}}` placeholder that cannot be used at a
/// destination — unknown name, not bound there, malformed — whatever the case, so
/// that a tool cannot probe which secrets exist.
pub const UNBOUND_PLACEHOLDER: &str =
    "a {{secret:...}} placeholder is not bound to this destination";
pub use target::{Host, Target, TargetError};
pub use url::{HostPattern, UrlRule, UrlRuleError};
pub use warn::{Warning, warnings};
