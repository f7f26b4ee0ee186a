//! agentbox-guard: checks on what goes into a tool (its arguments, against the
//! input schema the tool declares) and, later, on what comes back to the agent.
//!
//! Trust zone: supervisor. Pure: values in, findings out. It must never perform
//! I/O — no files, no network (a schema's remote `$ref` is an error, never
//! fetched), no processes — never run guest code, and never put an argument's
//! value into an error (errors name the field and the rule, not what was sent).

pub mod input;

pub use input::{InputError, InputSchema, SchemaError};
