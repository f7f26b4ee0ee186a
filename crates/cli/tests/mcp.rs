//! `agentbox mcp` end to end, with the official Python MCP SDK as the client
//! (tests/mcp/, pytest). This test writes the fixtures — the guests built by
//! `cargo xtask guests`, a component that kills the compiler, and their
//! manifest — and runs the Python suite against the real binary. The SDK is
//! installed into build/mcp-venv by scripts/test.sh; without it this test
//! fails, it never skips.

mod common;
use common::*;
use std::process::Command;

fn python() -> std::path::PathBuf {
    let py = root().join("build/mcp-venv/bin/python");
    let ok = Command::new(&py)
        .args([
            "-c",
            "import mcp, pytest, httpx2, opentelemetry.proto.collector.logs.v1.logs_service_pb2",
        ])
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "{} cannot import the MCP SDK: run scripts/test.sh (it installs mcp, pytest, httpx2 and opentelemetry-proto into build/mcp-venv)",
        py.display()
    );
    py
}

const MANIFEST: &str = r#"version = 1

[tools.probe]
component = "mcp_probe.wasm"
description = "Echoes, fails, logs, spins or traps, as asked."
rationale = "the probe of the MCP tests"
[tools.probe.limits]
timeout = "20s"
cpu = "20s"
output = "64KiB"

[tools.hello]
component = "hello.wasm"
description = "Greets someone by name."
rationale = "a real example, with an output schema"

[tools.fetch]
component = "rs_fetch.wasm"
description = "Makes the HTTP requests it is given."
rationale = "policy denials"
[[tools.fetch.net]]
allow = "http://127.0.0.1:9/granted"
rationale = "the only destination"

[tools.cmd]
kind = "command"
component = "cmd_probe.wasm"
description = "A command tool."
rationale = "kind command over MCP"

[tools.writer]
component = "hello.wasm"
description = "Has a writable directory."
rationale = "annotations of a rw grant"
[[tools.writer.fs]]
host = "data"
guest = "/data"
access = "rw"
rationale = "annotations"

[tools.guarded]
component = "hello.wasm"
description = "Greets, but never with a credential in the greeting."
rationale = "a blocking output guard"
[tools.guarded.guards]
secrets = "block"

[tools.broken]
component = "bad.wasm"
description = "Its component kills the compiler."
rationale = "a component that cannot be compiled"
[tools.broken.limits]
compile_timeout = "30s"
compile_memory = "512MiB"
"#;

#[test]
fn mcp_end_to_end_with_the_python_sdk() {
    let py = python();
    let sb = Sandbox::new();
    for name in ["mcp_probe", "rs_fetch", "cmd_probe"] {
        std::fs::copy(fixture(name), sb.path(&format!("{name}.wasm"))).expect("copy guest");
    }
    std::fs::copy(example("hello/hello.wasm"), sb.path("hello.wasm")).expect("copy hello");
    sb.write_bytes("bad.wasm", &hostile::nested_types(5_000, false));
    std::fs::create_dir_all(sb.path("data")).expect("data dir");
    sb.write("mcp.toml", MANIFEST);
    let cache = sb.path("cache");
    let status = Command::new(py)
        .args(["-m", "pytest", "-q", "-p", "no:cacheprovider", "-rs"])
        .arg(root().join("tests/mcp"))
        .env("AGENTBOX_BIN", bin())
        .env("AGENTBOX_MCP_FIXTURES", sb.path(""))
        .env("AGENTBOX_CACHE_DIR", &cache)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .status()
        .expect("run pytest");
    assert!(
        status.success(),
        "the MCP end-to-end suite failed (output above)"
    );
}
