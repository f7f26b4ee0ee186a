//! agentbox-guest: write agentbox tools (world `agentbox:tool/tool@0.1.0`) in Rust.
//!
//! Runs inside the sandbox, as guest code. It gives the tool the WIT bindings and a
//! JSON convenience layer; it never holds secrets (the host substitutes them) and has
//! no way around the host's policy: HTTP goes through [`http::fetch`], which the host
//! checks against the manifest.
//!
//! ```ignore
//! use agentbox_guest::{json_tool, JsonTool, Value, json};
//! struct Upper;
//! impl JsonTool for Upper {
//!     fn describe() -> Value { json!({"name": "upper", "description": "...", "input_schema": {}}) }
//!     fn call(input: Value) -> Result<Value, String> { Ok(json!({"text": input["text"].as_str().unwrap_or("").to_uppercase()})) }
//! }
//! json_tool!(Upper);
//! ```

#[doc(hidden)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "agentbox:tool/tool",
        pub_export_macro: true,
        default_bindings_module: "agentbox_guest::bindings",
    });
}

pub use bindings::agentbox::tool::{http, log};
pub use bindings::Guest;
pub use serde_json::{json, Value};

/// A tool that takes and returns JSON values.
pub trait JsonTool {
    /// `{"name", "description", "input_schema"}`.
    fn describe() -> Value;
    /// One call: Ok is the JSON result, Err a message for the caller.
    fn call(input: Value) -> Result<Value, String>;
}

#[doc(hidden)]
pub fn describe_json<T: JsonTool>() -> String {
    T::describe().to_string()
}

#[doc(hidden)]
pub fn call_json<T: JsonTool>(input: String) -> Result<String, String> {
    let value: Value = serde_json::from_str(&input).map_err(|e| format!("input is not JSON: {e}"))?;
    T::call(value).map(|v| v.to_string())
}

/// Writes a line to the agentbox audit log.
pub fn info(message: &str) {
    log::log(log::Level::Info, message);
}

/// Exports a [`JsonTool`] as the component's `describe` and `call`.
#[macro_export]
macro_rules! json_tool {
    ($t:ident) => {
        impl $crate::Guest for $t {
            fn describe() -> ::std::string::String {
                $crate::describe_json::<$t>()
            }
            fn call(input: ::std::string::String) -> ::std::result::Result<::std::string::String, ::std::string::String> {
                $crate::call_json::<$t>(input)
            }
        }
        $crate::bindings::export!($t with_types_in $crate::bindings);
    };
}
