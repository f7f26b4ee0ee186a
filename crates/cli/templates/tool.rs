//! {{name}}: an agentbox tool in Rust. JSON in, JSON out.
//! Build: agentbox build .   Run: agentbox run agentbox.toml --input '{"name": "Ada"}'

use agentbox_guest::{info, json, json_tool, JsonTool, Value};

struct Tool;

impl JsonTool for Tool {
    fn describe() -> Value {
        agentbox_guest::describe(
            "{{name}}",
            "Greets someone by name.",
            json!({"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}),
            Some(json!({"type": "object", "properties": {"greeting": {"type": "string"}}, "required": ["greeting"]})),
        )
    }

    fn call(input: Value) -> Result<Value, String> {
        let name = input.get("name").and_then(Value::as_str).ok_or("input needs a string field `name`")?;
        info("greeting someone");
        Ok(json!({ "greeting": format!("Hello, {name}!") }))
    }
}

json_tool!(Tool);
