//! Every bundled example, built from source by `cargo xtask guests`, runs as the
//! README says.

mod common;
use common::*;

fn run_example(args: &[&str]) -> Out {
    let sb = Sandbox::new();
    sb.run(args)
}

#[test]
fn hello() {
    let m = example("hello/agentbox.toml");
    example("hello/hello.wasm");
    let out = run_example(&[
        "run",
        &m.to_string_lossy(),
        "--input",
        "{\"name\": \"Ada\"}",
    ]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.stdout, "{\"greeting\":\"Hello, Ada!\"}\n");
    // Hostile input is escaped, not interpreted.
    let out = run_example(&[
        "run",
        &m.to_string_lossy(),
        "--input",
        "{\"name\": \"\\\"},{\\\"x\"}",
    ]);
    assert_eq!(out.code, 0, "{out:?}");
    let v: serde_json::Value = serde_json::from_str(&out.stdout).expect("still one JSON object");
    assert_eq!(v["greeting"], "Hello, \"},{\"x!");
}

#[test]
fn c_reader_reads_but_cannot_write_its_grant() {
    let m = example("c-reader/agentbox.toml");
    example("c-reader/reader.wasm");
    let notes = example("c-reader/data/notes.txt");
    let before = std::fs::read(&notes).expect("notes");
    let out = run_example(&["run", &m.to_string_lossy()]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.stdout, "notes.txt\n");
    let out = run_example(&["run", &m.to_string_lossy(), "--", "notes.txt"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.stdout.as_bytes(), &before[..]);
    assert!(
        !root()
            .join("examples/c-reader/data/written-by-tool.txt")
            .exists()
    );
    assert_eq!(std::fs::read(&notes).expect("notes"), before);
}

#[test]
fn python_tool() {
    let m = example("py-stats/agentbox.toml");
    example("py-stats/py-stats.wasm");
    let out = run_example(&[
        "run",
        &m.to_string_lossy(),
        "--input",
        "{\"text\": \"the cat and the hat\"}",
    ]);
    assert_eq!(out.code, 0, "{out:?}");
    let v: serde_json::Value = serde_json::from_str(&out.stdout).expect("JSON");
    assert_eq!(v["words"], 5);
    assert_eq!(v["top_words"][0], serde_json::json!(["the", 2]));
    let out = run_example(&["run", &m.to_string_lossy(), "--input", "{\"nope\": 1}"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(
        out.stderr,
        "tool error: input needs a string field `text`\n"
    );
}

#[test]
fn rust_tool_describe() {
    let m = example("rust-tool/agentbox.toml");
    example("rust-tool/rust-tool.wasm");
    let out = run_example(&["describe", &m.to_string_lossy()]);
    assert_eq!(out.code, 0, "{out:?}");
    let v: serde_json::Value = serde_json::from_str(&out.stdout).expect("JSON");
    assert_eq!(v["name"], "slugify");
}
