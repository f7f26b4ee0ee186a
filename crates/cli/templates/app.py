"""{{name}}: an agentbox tool in Python. JSON in, JSON out.
Build: agentbox build .   Run: agentbox run agentbox.toml --input '{"name": "Ada"}'"""
from agentbox_tool import ToolError, log, tool


def greet(args):
    name = args.get("name") if isinstance(args, dict) else None
    if not isinstance(name, str):
        raise ToolError("input needs a string field `name`")
    log.info("greeting someone")
    return {"greeting": f"Hello, {name}!"}


WitWorld = tool(
    "{{name}}",
    "Greets someone by name.",
    {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]},
    greet,
    output_schema={"type": "object", "properties": {"greeting": {"type": "string"}}, "required": ["greeting"]},
)
