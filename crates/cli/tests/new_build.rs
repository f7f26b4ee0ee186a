//! `agentbox new` and `agentbox build` (cli.md): each language's scaffold builds
//! with the project's own toolchains and runs as it is — kind tool answers
//! `{"name": "Ada"}` with a greeting and describes that input; kind command prints
//! one — and a missing toolchain is named with the command that installs it.

mod common;
use common::*;
use serde_json::{Value, json};

/// The toolchains scripts/test.sh installs, where `agentbox build` finds them.
fn with_toolchains(c: &mut std::process::Command) {
    c.env(
        "AGENTBOX_COMPONENTIZE_PY",
        root().join(".venv/bin/componentize-py"),
    )
    .env("AGENTBOX_JS_TOOLCHAIN", root().join("build/js-toolchain"))
    // The Rust guests' target directory: std built from source is cached there.
    .env("CARGO_TARGET_DIR", root().join("build/rust-guests"));
}

fn agentbox(sb: &Sandbox, args: &[&str]) -> Out {
    let mut c = sb.cmd();
    with_toolchains(&mut c);
    let o = c.args(args).output().expect("run agentbox");
    Out {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

fn round_trip(sb: &Sandbox, lang: &str, kind: &str) {
    let dir = format!("{lang}-{kind}");
    let out = agentbox(sb, &["new", &dir, "--lang", lang, "--kind", kind]);
    assert_eq!(out.code, 0, "new {dir}: {out:?}");
    assert!(
        out.stdout.contains(&format!("agentbox build {dir}")),
        "{out:?}"
    );
    let out = agentbox(sb, &["build", &dir]);
    assert_eq!(out.code, 0, "build {dir}: {out:?}");
    assert!(
        sb.path(&format!("{dir}/{dir}.wasm")).is_file(),
        "{dir}: {out:?}"
    );
    let manifest = format!("{dir}/agentbox.toml");
    if kind == "tool" {
        let out = agentbox(sb, &["run", &manifest, "--input", r#"{"name": "Ada"}"#]);
        assert_eq!(out.code, 0, "run {dir}: {out:?}");
        let v: Value = serde_json::from_str(&out.stdout).expect("JSON");
        assert_eq!(v, json!({"greeting": "Hello, Ada!"}), "{dir}");
        let out = agentbox(sb, &["describe", &manifest]);
        let d: Value = serde_json::from_str(&out.stdout).expect("describe JSON");
        assert_eq!(d["name"], dir.as_str(), "{d}");
        assert_eq!(
            d["input_schema"]["properties"]["name"]["type"], "string",
            "{d}"
        );
        // The tool's own error for input without a name.
        let out = agentbox(sb, &["run", &manifest, "--input", "{}"]);
        assert_eq!(out.code, 1, "{dir}: {out:?}");
        assert!(out.stderr.contains("`name`"), "{dir}: {out:?}");
    } else {
        let out = agentbox(sb, &["run", &manifest, "--", "Ada"]);
        assert_eq!(
            (out.code, out.stdout.as_str()),
            (0, "Hello, Ada!\n"),
            "{dir}: {out:?}"
        );
        let out = agentbox(sb, &["run", &manifest]);
        assert_eq!(
            (out.code, out.stdout.as_str()),
            (0, "Hello, world!\n"),
            "{dir}: {out:?}"
        );
    }
    // The manifest is valid as it is, and grants nothing.
    let out = agentbox(sb, &["check", &manifest]);
    assert_eq!(out.code, 0, "check {dir}: {out:?}");
}

#[test]
fn c_python_and_js_scaffolds_build_and_run() {
    let sb = Sandbox::new();
    for (lang, kind) in [
        ("c", "tool"),
        ("c", "command"),
        ("python", "tool"),
        ("python", "command"),
        ("js", "tool"),
        ("js", "command"),
    ] {
        round_trip(&sb, lang, kind);
    }
}

/// TypeScript: the JS scaffold written in TypeScript builds the same way
/// (rolldown strips the types) and runs.
#[test]
fn a_typescript_tool_builds_and_runs() {
    let sb = Sandbox::new();
    assert_eq!(agentbox(&sb, &["new", "ts", "--lang", "js"]).code, 0);
    std::fs::remove_file(sb.path("ts/tool.js")).expect("rm tool.js");
    sb.write(
        "ts/tool.ts",
        r#"import { tool, log } from './agentbox.js';

interface Input { name?: unknown }
interface Greeting { greeting: string }

function greet(input: Input): Greeting {
  if (typeof input.name !== 'string') throw 'input needs a string field `name`';
  const name: string = input.name;
  log.info('greeting someone');
  return { greeting: `Hello, ${name}!` };
}

export const { describe, call } = tool({
  name: 'ts',
  description: 'Greets someone by name, in TypeScript.',
  inputSchema: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] },
  call: greet,
});
"#,
    );
    let out = agentbox(&sb, &["build", "ts"]);
    assert_eq!(out.code, 0, "{out:?}");
    let out = agentbox(
        &sb,
        &["run", "ts/agentbox.toml", "--input", r#"{"name": "Ada"}"#],
    );
    assert_eq!(out.code, 0, "{out:?}");
    let v: Value = serde_json::from_str(&out.stdout).expect("JSON");
    assert_eq!(v, json!({"greeting": "Hello, Ada!"}));
}

#[test]
fn rust_scaffolds_build_and_run() {
    if !nix::unistd::geteuid().is_root() {
        // Counted by the suite's summary: the Rust guests' std cache is root's.
        eprintln!(
            "SKIPPED rust_scaffolds_build_and_run: as an unprivileged user a Rust guest build starts std from source in a cache of its own (minutes); it runs as root"
        );
        return;
    }
    let sb = Sandbox::new();
    round_trip(&sb, "rust", "tool");
    round_trip(&sb, "rust", "command");
}

#[test]
fn what_new_and_build_refuse() {
    let sb = Sandbox::new();
    sb.write("full/x", "");
    let out = agentbox(&sb, &["new", "full", "--lang", "c"]);
    assert_eq!(out.code, 125, "{out:?}");
    assert!(
        out.stderr.contains("full exists and is not empty"),
        "{out:?}"
    );
    assert_eq!(
        std::fs::read_dir(sb.path("full")).map(|d| d.count()).ok(),
        Some(1)
    );
    let out = agentbox(&sb, &["build", "nowhere"]);
    assert_eq!(out.code, 125, "{out:?}");
    let out = agentbox(&sb, &["new", "build", "--lang", "rust"]);
    assert_eq!(out.code, 125, "{out:?}");
    assert!(
        out.stderr.contains("`build` cannot name a Rust project"),
        "{out:?}"
    );
    assert!(!sb.path("build").exists());
    // What the manifest names stays inside the project, and is replaced, never
    // written through: a planted link keeps its target untouched.
    assert_eq!(agentbox(&sb, &["new", "k", "--lang", "c"]).code, 0);
    sb.write("canary.txt", "canary");
    std::os::unix::fs::symlink(sb.path("canary.txt"), sb.path("k/k.wasm")).expect("symlink");
    let out = agentbox(&sb, &["build", "k"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        std::fs::read_to_string(sb.path("canary.txt"))
            .ok()
            .as_deref(),
        Some("canary")
    );
    assert!(!sb.path("k/k.wasm").is_symlink());
    let manifest = std::fs::read_to_string(sb.path("k/agentbox.toml")).expect("manifest");
    for bad in ["../outside.wasm", "/tmp/outside.wasm"] {
        sb.write(
            "k/agentbox.toml",
            &manifest.replace("\"k.wasm\"", &format!("\"{bad}\"")),
        );
        let out = agentbox(&sb, &["build", "k"]);
        assert_eq!(out.code, 125, "{bad}: {out:?}");
        assert!(
            out.stderr.contains("must be a path inside the project"),
            "{out:?}"
        );
    }
    assert!(!sb.path("outside.wasm").exists());
    // Nor through a linked directory on the way.
    std::fs::create_dir_all(sb.path("elsewhere")).expect("mkdir");
    std::os::unix::fs::symlink(sb.path("elsewhere"), sb.path("k/out")).expect("symlink");
    sb.write(
        "k/agentbox.toml",
        &manifest.replace("\"k.wasm\"", "\"out/k.wasm\""),
    );
    let out = agentbox(&sb, &["build", "k"]);
    assert_eq!(out.code, 125, "{out:?}");
    assert!(out.stderr.contains("leads out of the project"), "{out:?}");
    assert!(!sb.path("elsewhere/k.wasm").exists());
    // A missing toolchain: named, with the command that installs it; nothing built.
    assert_eq!(agentbox(&sb, &["new", "j", "--lang", "js"]).code, 0);
    let mut c = sb.cmd();
    let o = c
        .env("AGENTBOX_JS_TOOLCHAIN", sb.path("no-toolchain"))
        .args(["build", "j"])
        .output()
        .expect("build");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(125), "{stderr}");
    assert!(
        stderr.contains("the JavaScript toolchain") && stderr.contains("npm ci --prefix"),
        "{stderr}"
    );
    // The pins it installs are the project's own lockfile, placed there (nothing fetched).
    let lock = std::fs::read_to_string(sb.path("no-toolchain/package-lock.json"))
        .expect("lockfile placed");
    assert!(lock.contains("\"node_modules/@bytecodealliance/componentize-js\""));
    assert!(lock.contains("\"version\": \"0.23.0\""));
    assert!(!sb.path("no-toolchain/node_modules").exists());
    assert!(!sb.path("j/j.wasm").exists());
    assert_eq!(agentbox(&sb, &["new", "c", "--lang", "c"]).code, 0);
    let o = sb
        .cmd()
        .env("PATH", sb.path("empty-path"))
        .args(["build", "c"])
        .output()
        .expect("build");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(125), "{stderr}");
    assert!(
        stderr.contains("clang is missing")
            && stderr.contains("apt-get install clang lld wasi-libc"),
        "{stderr}"
    );
    let o = sb
        .cmd()
        .env_remove("AGENTBOX_COMPONENTIZE_PY")
        .env("PATH", "/usr/bin:/bin")
        .args(["new", "py", "--lang", "python"])
        .output()
        .expect("new");
    assert!(o.status.success());
    let o = sb
        .cmd()
        .env_remove("AGENTBOX_COMPONENTIZE_PY")
        .env("PATH", sb.path("empty-path"))
        .args(["build", "py"])
        .output()
        .expect("build");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("componentize-py (0.25.x) is missing")
            && stderr.contains("pip install componentize-py==0.25.1"),
        "{stderr}"
    );
}
