//! The manifest's tools as MCP tools: each with its pool of confined workers,
//! its schemas (from the component's `describe()`, run confined) and the
//! annotations its grants imply.

use agentbox_guard::InputSchema;
use agentbox_policy::{Access, Manifest, ToolKind, ToolSpec};
use agentbox_supervisor::{Supervisor, WorkerPool};
use rmcp::model::{JsonObject, Tool, ToolAnnotations};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;

/// One served tool.
pub(crate) struct Entry {
    pub spec: ToolSpec,
    /// What `tools/list` shows.
    pub tool: Tool,
    pub state: State,
}

pub(crate) enum State {
    Ready {
        pool: Arc<WorkerPool>,
        input: InputSchema,
        output: Option<InputSchema>,
    },
    /// The tool cannot run (its component does not compile, `describe()`
    /// failed, its schema is unusable, a secret has no source): every call is
    /// an `isError` result saying this.
    Broken(String),
}

/// Every served tool of one version of the manifest.
pub(crate) struct Catalog {
    pub manifest: Arc<Manifest>,
    pub tools: BTreeMap<String, Entry>,
}

impl Catalog {
    /// No tools (what is left at shutdown, once every pool is dropped).
    pub fn empty(manifest: Arc<Manifest>) -> Self {
        Self {
            manifest,
            tools: BTreeMap::new(),
        }
    }

    /// Compiles, describes and starts one pooled worker per tool (blocking).
    /// Problems with one tool never stop the others; they are said on stderr.
    pub fn build(sup: &Supervisor, manifest: Manifest, max_idle: usize) -> Self {
        let mut tools = BTreeMap::new();
        for (name, spec) in &manifest.tools {
            if spec.kind == ToolKind::Native {
                say(format!(
                    "tool `{name}` is kind native, which `agentbox mcp` does not serve (only components are pooled); it is not listed"
                ));
                continue;
            }
            let entry = entry(sup, spec, max_idle);
            if let State::Broken(why) = &entry.state {
                say(format!("tool `{name}` cannot run: {why}"));
            }
            tools.insert(name.clone(), entry);
        }
        Self {
            manifest: Arc::new(manifest),
            tools,
        }
    }
}

fn say(msg: String) {
    eprintln!("agentbox mcp: {msg}");
}

fn entry(sup: &Supervisor, spec: &ToolSpec, max_idle: usize) -> Entry {
    // No busy-waiting for answers: many calls share two cores with their workers.
    let described = match sup.pool_keeping(spec, 1, max_idle) {
        Err(e) => Err(e),
        Ok(pool) => {
            let pool = pool.with_spin(std::time::Duration::ZERO);
            describe(spec, &pool).map(|d| (Arc::new(pool), d))
        }
    };
    let (state, input_schema, output_schema, own_description) = match described {
        Ok((pool, d)) => {
            let state = match (InputSchema::compile(&d.input), &d.output) {
                (Err(e), _) => State::Broken(format!("its input schema: {e}")),
                (Ok(input), None) => State::Ready {
                    pool,
                    input,
                    output: None,
                },
                (Ok(input), Some(out)) => match InputSchema::compile(out) {
                    Ok(output) => State::Ready {
                        pool,
                        input,
                        output: Some(output),
                    },
                    Err(e) => State::Broken(format!("its output schema: {e}")),
                },
            };
            (state, d.input, d.output, d.description)
        }
        Err(e) => (State::Broken(e), json!({"type": "object"}), None, None),
    };
    let description = match own_description {
        Some(own) if !own.is_empty() && own != spec.description => {
            format!("{}\n\n{own}", spec.description)
        }
        _ => spec.description.clone(),
    };
    let mut tool = Tool::new(spec.name.clone(), description, object(input_schema))
        .with_annotations(annotations(spec));
    if let Some(out) = output_schema {
        tool = tool.with_raw_output_schema(object(out));
    }
    Entry {
        spec: spec.clone(),
        tool,
        state,
    }
}

fn object(v: Value) -> Arc<JsonObject> {
    Arc::new(match v {
        Value::Object(o) => o,
        _ => JsonObject::new(),
    })
}

/// What a component says about itself.
struct Described {
    input: Value,
    output: Option<Value>,
    description: Option<String>,
}

/// The input schema of kind command: arguments and stdin.
fn command_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "args": {"type": "array", "items": {"type": "string"}, "description": "arguments after argv[0]"},
            "stdin": {"type": "string", "description": "data on standard input"}
        },
        "additionalProperties": false
    })
}

/// The output schema of kind command.
fn command_output_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "exit_code": {"type": "integer"},
            "stdout": {"type": "string"},
            "stderr": {"type": "string"}
        },
        "required": ["exit_code", "stdout", "stderr"]
    })
}

/// Runs `describe()` on the pool's worker (kind tool) and reads its schemas.
fn describe(spec: &ToolSpec, pool: &WorkerPool) -> Result<Described, String> {
    if spec.kind == ToolKind::Command {
        return Ok(Described {
            input: command_schema(),
            output: Some(command_output_schema()),
            description: None,
        });
    }
    let out = pool.describe();
    let text = out
        .output
        .ok_or_else(|| format!("describe() failed: {}", out.report.detail))?;
    let d: Value =
        serde_json::from_str(&text).map_err(|e| format!("describe() did not return JSON: {e}"))?;
    let input = match d.get("input_schema") {
        None | Some(Value::Null) => json!({"type": "object"}),
        Some(Value::Object(o)) => {
            let mut o = o.clone();
            // MCP requires an object schema; an empty or untyped one means
            // "any object".
            o.entry("type").or_insert_with(|| json!("object"));
            Value::Object(o)
        }
        Some(other) => {
            return Err(format!(
                "describe() gave an input_schema that is not a JSON object: {other}"
            ));
        }
    };
    let output = match d.get("output_schema") {
        None | Some(Value::Null) => None,
        Some(Value::Object(o)) => {
            let mut o = o.clone();
            o.entry("type").or_insert_with(|| json!("object"));
            Some(Value::Object(o))
        }
        Some(other) => {
            return Err(format!(
                "describe() gave an output_schema that is not a JSON object: {other}"
            ));
        }
    };
    let description = d
        .get("description")
        .and_then(Value::as_str)
        .map(str::to_string);
    Ok(Described {
        input,
        output,
        description,
    })
}

/// Hints from the grants (mcp.md): read-only when nothing can be written and
/// the network is only read; destructive when a directory is writable or a
/// request may change something; open-world with any network grant.
fn annotations(spec: &ToolSpec) -> ToolAnnotations {
    let writes_fs = spec.fs.iter().any(|g| g.access == Access::Rw);
    let writes_net = spec
        .net
        .iter()
        .any(|g| g.methods.iter().any(|m| m != "GET" && m != "HEAD"));
    ToolAnnotations::new()
        .read_only(!writes_fs && !writes_net)
        .destructive(writes_fs || writes_net)
        .open_world(!spec.net.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_schemas_compile() {
        assert!(InputSchema::compile(&command_schema()).is_ok());
        assert!(InputSchema::compile(&command_output_schema()).is_ok());
    }
}
