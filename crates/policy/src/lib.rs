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
pub mod units;
pub mod url;
mod warn;

pub use error::{Location, ManifestError};
pub use resolve::{
    Access, DEFAULT_PROFILES, EnvVar, FsGrant, KNOWN_PROFILES, Limits, Manifest, NATIVE_LAYOUT,
    NetGrant, PREOPEN_MOUNTS, ScratchGrant, SecretGrant, ToolKind, ToolSpec, secret_destination_ok,
};
pub use url::{HostPattern, UrlRule, UrlRuleError};
pub use warn::{Warning, warnings};
