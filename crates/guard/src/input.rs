//! Arguments checked against a tool's input schema (JSON Schema draft 2020-12)
//! before any worker starts, with size and nesting caps.

use serde_json::Value;

/// The largest arguments accepted, serialised (bytes).
pub const MAX_INPUT_BYTES: usize = 4 << 20;
/// The deepest nesting of arrays and objects accepted in arguments.
pub const MAX_DEPTH: usize = 64;

/// A tool's input schema that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    #[error("the input schema is not an object")]
    NotAnObject,
    #[error("the input schema must describe an object (`\"type\": \"object\"`), not {0}")]
    NotObjectType(String),
    #[error("the input schema is not valid JSON Schema (draft 2020-12): {0}")]
    Invalid(String),
}

/// Arguments that fail the checks: which field and why, never the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    #[error("the arguments are {0} bytes, over the limit of {1} (guards.max_input)")]
    TooLarge(usize, usize),
    #[error("the arguments nest deeper than {MAX_DEPTH} levels")]
    TooDeep,
    #[error("invalid arguments: {field}: {reason}")]
    Schema { field: String, reason: String },
}

impl InputError {
    /// The JSON pointer of the offending field (`/` for the arguments as a whole).
    pub fn field(&self) -> &str {
        match self {
            Self::Schema { field, .. } => field,
            _ => "/",
        }
    }
}

/// A compiled input schema.
#[derive(Debug)]
pub struct InputSchema {
    validator: jsonschema::Validator,
}

impl InputSchema {
    /// Compiles `schema`, which must be an object schema (MCP requires
    /// `type: object` for a tool's input). Resolving a remote `$ref` is refused.
    pub fn compile(schema: &Value) -> Result<Self, SchemaError> {
        let obj = schema.as_object().ok_or(SchemaError::NotAnObject)?;
        match obj.get("type") {
            None => {}
            Some(Value::String(t)) if t == "object" => {}
            Some(other) => return Err(SchemaError::NotObjectType(other.to_string())),
        }
        let validator = jsonschema::draft202012::new(schema)
            .map_err(|e| SchemaError::Invalid(e.masked().to_string()))?;
        Ok(Self { validator })
    }

    /// Checks arguments: size, nesting, then the schema. The first failure is
    /// returned, naming the field by its JSON pointer.
    pub fn check(&self, args: &Value) -> Result<(), InputError> {
        self.check_limited(args, MAX_INPUT_BYTES, true)
    }

    /// [`Self::check`] with a smaller size cap (a tool's `guards.max_input`,
    /// never above [`MAX_INPUT_BYTES`]); `schema: false` skips the schema
    /// (`guards.input_schema = false`), never the caps.
    pub fn check_limited(&self, args: &Value, max: usize, schema: bool) -> Result<(), InputError> {
        check_shape(args, max.min(MAX_INPUT_BYTES))?;
        if !schema {
            return Ok(());
        }
        match self.validator.validate(args) {
            Ok(()) => Ok(()),
            Err(e) => {
                let path = e.instance_path().to_string();
                Err(InputError::Schema {
                    field: if path.is_empty() { "/".into() } else { path },
                    reason: e.masked_with("the value").to_string(),
                })
            }
        }
    }
}

/// Size and nesting caps, checked before the schema (which recurses).
pub fn check_shape(args: &Value, max: usize) -> Result<(), InputError> {
    fn depth_ok(v: &Value, depth: usize) -> bool {
        if depth > MAX_DEPTH {
            return false;
        }
        match v {
            Value::Array(a) => a.iter().all(|x| depth_ok(x, depth + 1)),
            Value::Object(o) => o.values().all(|x| depth_ok(x, depth + 1)),
            _ => true,
        }
    }
    if !depth_ok(args, 1) {
        return Err(InputError::TooDeep);
    }
    let size = serde_json::to_vec(args)
        .map(|v| v.len())
        .unwrap_or(usize::MAX);
    if size > max {
        return Err(InputError::TooLarge(size, max));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> InputSchema {
        InputSchema::compile(&json!({
            "type": "object",
            "properties": {"name": {"type": "string"}, "n": {"type": "integer", "minimum": 1}},
            "required": ["name"],
            "additionalProperties": false
        }))
        .expect("schema")
    }

    #[test]
    fn good_arguments_pass() {
        assert_eq!(schema().check(&json!({"name": "x", "n": 3})), Ok(()));
    }

    #[test]
    fn a_bad_field_is_named_and_its_value_is_not_repeated() {
        let e = schema()
            .check(&json!({"name": "sk-live-SECRETVALUE", "n": "SECRET2"}))
            .expect_err("refused");
        assert_eq!(e.field(), "/n");
        let text = e.to_string();
        assert!(text.contains("/n"), "{text}");
        assert!(!text.contains("SECRET"), "{text}");
    }

    #[test]
    fn missing_and_extra_fields_are_refused() {
        let e = schema().check(&json!({"n": 2})).expect_err("refused");
        assert!(e.to_string().contains("name"), "{e}");
        let e = schema()
            .check(&json!({"name": "a", "zzz": 1}))
            .expect_err("refused");
        assert!(
            e.to_string().contains("zzz") || e.to_string().contains("Additional"),
            "{e}"
        );
    }

    #[test]
    fn non_object_schemas_and_remote_refs_are_refused() {
        assert!(matches!(
            InputSchema::compile(&json!({"type": "string"})),
            Err(SchemaError::NotObjectType(_))
        ));
        assert!(matches!(
            InputSchema::compile(&json!([1])),
            Err(SchemaError::NotAnObject)
        ));
        assert!(matches!(
            InputSchema::compile(&json!({"$ref": "http://127.0.0.1:9/schema.json"})),
            Err(SchemaError::Invalid(_))
        ));
    }

    #[test]
    fn schemas_naming_their_draft_and_local_refs_compile() {
        for draft in [
            "https://json-schema.org/draft/2020-12/schema",
            "http://json-schema.org/draft-07/schema#",
        ] {
            let s = InputSchema::compile(&json!({
                "$schema": draft,
                "type": "object",
                "$defs": {"name": {"type": "string"}},
                "properties": {"name": {"$ref": "#/$defs/name"}}
            }))
            .expect("compiles");
            assert_eq!(s.check(&json!({"name": "x"})), Ok(()));
            assert!(s.check(&json!({"name": 1})).is_err());
        }
    }

    #[test]
    fn deep_and_large_arguments_are_refused_before_the_schema() {
        let mut v = json!(1);
        for _ in 0..(MAX_DEPTH + 1) {
            v = json!([v]);
        }
        assert_eq!(
            schema().check(&json!({"name": v})),
            Err(InputError::TooDeep)
        );
        let big = "x".repeat(MAX_INPUT_BYTES);
        assert!(matches!(
            schema().check(&json!({"name": big})),
            Err(InputError::TooLarge(..))
        ));
    }
}
