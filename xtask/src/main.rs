//! xtask: builds guests from source and runs the benchmark.
//!
//!   cargo xtask guests   C examples and fixtures (clang + wasi-libc + agentbox-pack),
//!                        the Python example (componentize-py), the Rust example
//!                        (Debian's rustc with -Zbuild-std, see docs/guests.md), the
//!                        JavaScript example (componentize-js)
//!   cargo xtask bench    cold (compile cache) and warm (instance-pre) invocation
//!   cargo xtask fuzz     the cargo-fuzz targets of tests/fuzz, N minutes each
//!   cargo xtask guard-train / guard-eval   the injection model, and the guards measured

mod bench;
mod bench_audit;
mod bench_guard;
mod bench_mcp;
mod fuzz;
mod guard;
mod guests_js;

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("guests") => guests(&args[1..]),
        Some("bench") => bench::run(&root(), &args[1..]),
        Some("fuzz") => fuzz::run(&root(), &args[1..]),
        Some("guard-train") => guard::train(&root(), &args[1..]),
        Some("guard-eval") => guard::eval(&root(), &args[1..]),
        _ => {
            eprintln!(
                "usage: cargo xtask guests [c|python|rust|js]... | cargo xtask bench [--quick] [--cold-only | --process-only | --mcp-only | --guards-only | --audit-only] | cargo xtask fuzz [--minutes N | --replay | --cmin] [TARGET...] | cargo xtask guard-train [--epochs N] | cargo xtask guard-eval [--split dev|train] [--misses]"
            );
            std::process::exit(2);
        }
    }
}

fn run(cmd: &mut Command) -> Result<()> {
    let shown = format!("{cmd:?}");
    let status = cmd
        .status()
        .with_context(|| format!("cannot start {shown}"))?;
    if !status.success() {
        bail!("{shown} failed with {status}");
    }
    Ok(())
}

fn newer(out: &Path, inputs: &[&Path]) -> bool {
    let Ok(o) = std::fs::metadata(out).and_then(|m| m.modified()) else {
        return false;
    };
    inputs.iter().all(|i| {
        std::fs::metadata(i)
            .and_then(|m| m.modified())
            .is_ok_and(|t| t <= o)
    })
}

/// Compiles one C file to a component. `command`: a program with main.
fn c_component(src: &Path, out: &Path, command: bool) -> Result<()> {
    let sdk = root().join("guest-sdk/c");
    let header = sdk.join("agentbox_tool.h");
    if newer(out, &[src, &header]) {
        return Ok(());
    }
    let core = out.with_extension("core.wasm");
    let mut cc = Command::new("clang");
    cc.args(["--target=wasm32-wasi", "-Os", "-Wall", "-Wl,--strip-all"]);
    if !command {
        cc.arg("-mexec-model=reactor");
    }
    cc.arg("-I").arg(&sdk).arg("-o").arg(&core).arg(src);
    run(&mut cc)?;
    let bytes = std::fs::read(&core)?;
    let world = if command {
        agentbox_pack::World::Command
    } else {
        agentbox_pack::World::Tool
    };
    let comp = agentbox_pack::pack(&bytes, Some(world))
        .with_context(|| format!("packing {}", core.display()))?;
    std::fs::write(out, comp)?;
    std::fs::remove_file(&core).ok();
    println!("xtask: built {}", out.display());
    Ok(())
}

fn guests_c() -> Result<()> {
    let r = root();
    c_component(
        &r.join("examples/hello/hello.c"),
        &r.join("examples/hello/hello.wasm"),
        false,
    )?;
    c_component(
        &r.join("examples/c-reader/reader.c"),
        &r.join("examples/c-reader/reader.wasm"),
        true,
    )?;
    let fixtures = r.join("tests/guests");
    let out = r.join("build/guests");
    std::fs::create_dir_all(&out)?;
    let mut entries: Vec<_> = std::fs::read_dir(&fixtures)?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .collect();
    entries.sort();
    for src in entries {
        let Some(name) = src.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let Some(stem) = name.strip_suffix(".c") else {
            continue;
        };
        let command = stem.starts_with("cmd_");
        c_component(&src, &out.join(format!("{stem}.wasm")), command)?;
    }
    Ok(())
}

/// Native probes (tests/native/*.c) with the host's C compiler: they play a guest
/// that escaped wasm, run as kind = "native" tools under the worker's confinement.
fn native_probes() -> Result<()> {
    let r = root();
    let out = r.join("build/native");
    std::fs::create_dir_all(&out)?;
    for entry in std::fs::read_dir(r.join("tests/native"))? {
        let src = entry?.path();
        let Some(stem) = src
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".c"))
            .map(str::to_string)
        else {
            continue;
        };
        let bin = out.join(&stem);
        if newer(&bin, &[&src]) {
            continue;
        }
        run(Command::new("gcc")
            .args(["-O2", "-Wall", "-o"])
            .arg(&bin)
            .arg(&src))?;
        println!("xtask: built {}", bin.display());
    }
    Ok(())
}

fn guests_python() -> Result<()> {
    let r = root();
    let cpy = r.join(".venv/bin/componentize-py");
    if !cpy.exists() {
        bail!(
            "{} is missing: run scripts/test.sh (it installs componentize-py)",
            cpy.display()
        );
    }
    let wit = r.join("wit");
    // The example, then the Python test guests: tests/guests/py_*/app.py.
    let mut jobs = vec![(
        r.join("examples/py-stats"),
        r.join("examples/py-stats/py-stats.wasm"),
    )];
    for entry in std::fs::read_dir(r.join("tests/guests"))? {
        let dir = entry?.path();
        let Some(name) = dir.file_name().and_then(|n| n.to_str()).map(str::to_string) else {
            continue;
        };
        if name.starts_with("py_") && dir.join("app.py").exists() {
            jobs.push((dir, r.join("build/guests").join(format!("{name}.wasm"))));
        }
    }
    for (dir, out) in jobs {
        let sdk = r.join("guest-sdk/python/agentbox_tool.py");
        if newer(
            &out,
            &[&dir.join("app.py"), &wit.join("agentbox-tool.wit"), &sdk],
        ) {
            continue;
        }
        if let Some(parent) = out.parent() {
            std::fs::create_dir_all(parent)?;
        }
        run(Command::new(&cpy)
            .current_dir(&dir)
            .arg("-d")
            .arg(&wit)
            .args(["-w", "tool", "componentize"])
            // The Python guest SDK (agentbox_tool) is importable by every guest.
            .args(["-p", ".", "-p"])
            .arg(r.join("guest-sdk/python"))
            .args(["app", "-o"])
            .arg(&out))?;
        println!("xtask: built {}", out.display());
    }
    Ok(())
}

fn guests_rust() -> Result<()> {
    let r = root();
    // (crate directory, library name, output)
    let jobs = [
        (
            r.join("examples/rust-tool"),
            "rust_tool",
            r.join("examples/rust-tool/rust-tool.wasm"),
        ),
        (
            r.join("examples/github-issues"),
            "github_issues",
            r.join("examples/github-issues/github-issues.wasm"),
        ),
        (
            r.join("tests/guests/rs_fetch"),
            "rs_fetch",
            r.join("build/guests/rs_fetch.wasm"),
        ),
        (
            r.join("tests/guests/rs_wasi_http"),
            "rs_wasi_http",
            r.join("build/guests/rs_wasi_http.wasm"),
        ),
    ];
    let target = std::env::var_os("AGENTBOX_GUEST_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| r.join("build/rust-guests"));
    let wasm_ld = ["/usr/bin/wasm-ld-22", "/usr/bin/wasm-ld"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .unwrap_or("/usr/bin/wasm-ld");
    let flags = format!(
        "-Clink-self-contained=no -L/usr/lib/wasm32-wasi -Clink-arg=/usr/lib/wasm32-wasi/crt1-reactor.o -Clink-arg=--wasm-ld-path={wasm_ld}"
    );
    for (dir, lib, out) in jobs {
        run(Command::new("/usr/bin/cargo")
            .current_dir(&dir)
            .env("RUSTC", "/usr/bin/rustc")
            .env("RUSTDOC", "/usr/bin/rustdoc")
            .env("RUSTC_BOOTSTRAP", "1")
            .env("RUSTFLAGS", &flags)
            .env("CARGO_TARGET_DIR", &target)
            .env_remove("RUSTUP_TOOLCHAIN")
            .args([
                "build",
                "--release",
                "-q",
                "--target",
                "wasm32-wasip2",
                "-Zbuild-std=std,panic_abort",
            ]))?;
        let built = target.join(format!("wasm32-wasip2/release/{lib}.wasm"));
        if let Some(parent) = out.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::copy(&built, &out).with_context(|| format!("copying {}", built.display()))?;
        println!("xtask: built {}", out.display());
    }
    Ok(())
}

fn guests(which: &[String]) -> Result<()> {
    let all = which.is_empty();
    let want = |k: &str| all || which.iter().any(|w| w == k);
    if want("c") {
        guests_c()?;
    }
    if want("native") {
        native_probes()?;
    }
    if want("python") {
        guests_python()?;
    }
    if want("rust") {
        guests_rust()?;
    }
    if want("js") {
        guests_js::guests_js()?;
    }
    Ok(())
}
