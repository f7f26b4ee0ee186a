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
//!     fn describe() -> Value {
//!         agentbox_guest::describe("upper", "Upper-cases text.",
//!             json!({"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]}),
//!             Some(json!({"type": "object", "properties": {"text": {"type": "string"}}})))
//!     }
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

/// What a tool's `describe()` returns: its name and description, the JSON Schema
/// of its input (an object schema: `agentbox mcp` lists it and checks every call's
/// arguments against it before the tool runs) and, if given, of its result.
pub fn describe(name: &str, description: &str, input_schema: Value, output_schema: Option<Value>) -> Value {
    let mut d = json!({"name": name, "description": description, "input_schema": input_schema});
    if let (Some(out), Some(obj)) = (output_schema, d.as_object_mut()) {
        obj.insert("output_schema".into(), out);
    }
    d
}

/// A tool that takes and returns JSON values.
pub trait JsonTool {
    /// `{"name", "description", "input_schema"[, "output_schema"]}`: see [`describe`].
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
