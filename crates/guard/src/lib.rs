//! agentbox-guard: checks on what goes into a tool (its arguments, against the
//! input schema the tool declares) and on what comes back to the agent
//! (credentials, personal data, text addressed to the model, hidden text).
//!
//! Trust zone: supervisor. Pure: text in, findings out. It must never perform
//! I/O — no files, no network (a schema's remote `$ref` is an error, never
//! fetched; the injection model's weights are compiled in), no processes —
//! never run guest code, and never put a scanned or argument value into an error
//! or a finding (findings carry type, offsets and score).

pub mod decode;
pub mod finding;
pub mod hidden;
pub mod injection;
mod injection_rules;
mod injection_rules_intl;
pub mod input;
mod lazy;
pub mod model;
pub mod normalize;
pub mod pii;
pub mod policy;
pub mod scan;
mod secret_checks;
mod secret_rules;
pub mod secrets;

pub use finding::{Finding, Kind, Kinds, char_offsets};
pub use input::{InputError, InputSchema, SchemaError};
pub use policy::{Action, Decision, GuardPolicy, Guarded, HiddenAction, OutputGuard};
pub use scan::{Scanner, Scope};
