//! agentbox-policy: the manifest contract (v1) and the resolved grants derived from it.
//!
//! Trust zone: supervisor. This crate parses and validates manifests and produces the
//! [`Manifest`] / [`ToolSpec`] values that describe exactly what one tool may do, and
//! nothing more. It is pure data: it must never link wasmtime, touch the network, spawn
//! processes or apply any confinement. The only OS access it performs is reading the
//! manifest and resolving the granted paths once, at load.

mod error;
mod locate;
pub mod own;
mod raw;
mod resolve;
pub mod url;
mod warn;

pub use agentbox_spec::{
    Access, EnvVar, FsGrant, Limits, PREOPEN_MOUNTS, ScratchGrant, ToolKind, WorkerSpec, units,
};
pub use error::{Location, ManifestError};
pub use resolve::{
    DEFAULT_PROFILES, KNOWN_PROFILES, Manifest, NATIVE_LAYOUT, NetGrant, SecretGrant, ToolSpec,
    secret_destination_ok,
};
pub use url::{HostPattern, UrlRule, UrlRuleError};
pub use warn::{Warning, warnings};
