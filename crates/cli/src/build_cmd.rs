//! `agentbox build [DIR]`: a project's component, with the same toolchains the
//! project's own guests use (docs/guests.md). A missing toolchain is named with
//! the command that installs it; nothing is downloaded here (cargo fetches the
//! Rust SDK's crates at the versions of the project's Cargo.lock, and says so).
//!
//! What the manifest names is checked before anything is written: the component
//! is a relative path inside the project, and it is replaced by a rename (a
//! symlink planted there is replaced, never written through). Building runs the
//! project's build tools natively (a Rust build script, for one), outside any
//! sandbox: build only projects you would build anyway.

use std::os::fd::AsFd;
use std::path::{Component, Path, PathBuf};
use std::process::{Command, Stdio};

/// Why a project could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("{}: {why}", path.display())]
    Project { path: PathBuf, why: String },
    #[error("{what} is missing: {install}")]
    Missing { what: String, install: String },
    #[error("{step} failed ({status}){hint}")]
    Failed {
        step: String,
        status: String,
        hint: String,
    },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The JavaScript toolchain, pinned (guest-sdk/js/toolchain).
const JS_PACKAGE: &str = include_str!("../../../guest-sdk/js/toolchain/package.json");
const JS_LOCK: &str = include_str!("../../../guest-sdk/js/toolchain/package-lock.json");
const C_INSTALL: &str = "sudo apt-get install clang lld wasi-libc libclang-rt-14-dev-wasm32 (Debian 12; elsewhere: wasi-sdk, with WASI_SYSROOT set to its sysroot)";

/// What the manifest says about the project's one tool.
struct Target {
    name: String,
    command: bool,
    component: PathBuf,
}

fn project_err(path: &Path, why: impl Into<String>) -> BuildError {
    BuildError::Project {
        path: path.to_path_buf(),
        why: why.into(),
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> BuildError + '_ {
    move |source| BuildError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn valid_name(n: &str) -> bool {
    n.len() <= 63
        && n.starts_with(|c: char| c.is_ascii_lowercase())
        && n.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

fn target(dir: &Path) -> Result<Target, BuildError> {
    let path = dir.join("agentbox.toml");
    let text = std::fs::read_to_string(&path).map_err(|e| {
        project_err(
            &path,
            format!("{e}: not an agentbox project (make one with `agentbox new`)"),
        )
    })?;
    let doc: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| project_err(&path, e.message().to_string()))?;
    let tools = doc
        .get("tools")
        .and_then(|t| t.as_table())
        .ok_or_else(|| project_err(&path, "no [tools.NAME] table"))?;
    let mut it = tools.iter();
    let (Some((name, tool)), None) = (it.next(), it.next()) else {
        return Err(project_err(
            &path,
            "`agentbox build` builds a project with exactly one tool",
        ));
    };
    if !valid_name(name) {
        return Err(project_err(
            &path,
            format!("tools.{name}: a tool name is [a-z][a-z0-9_-]{{0,62}}"),
        ));
    }
    let command = match tool.get("kind").map(|k| k.as_str()) {
        None | Some(Some("tool")) => false,
        Some(Some("command")) => true,
        _ => {
            return Err(project_err(
                &path,
                format!("tools.{name}.kind: `agentbox build` builds kind tool or command"),
            ));
        }
    };
    let component = tool
        .get("component")
        .and_then(|c| c.as_str())
        .ok_or_else(|| {
            project_err(
                &path,
                format!("tools.{name}.component: missing (the file build writes)"),
            )
        })?;
    let rel = Path::new(component);
    if rel.as_os_str().is_empty() || !rel.components().all(|c| matches!(c, Component::Normal(_))) {
        return Err(project_err(
            &path,
            format!(
                "tools.{name}.component: `{component}` must be a path inside the project (relative, no `..`)"
            ),
        ));
    }
    Ok(Target {
        name: name.clone(),
        command,
        component: dir.join(rel),
    })
}

/// Finds `exe` on PATH.
fn on_path(exe: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join(exe))
            .find(|f| f.is_file())
    })
}

/// Runs one step. Its output goes to stderr as it comes (a long build shows its
/// progress, cargo shows what it downloads); `hint` reads it when the step
/// captured it (`capture`), to name a missing piece.
fn run(
    step: &str,
    cmd: &mut Command,
    capture: bool,
    hint: impl Fn(&str) -> String,
) -> Result<(), BuildError> {
    let failed = |status: String, hint: String| BuildError::Failed {
        step: step.into(),
        status,
        hint,
    };
    if !capture {
        // stdout is agentbox's own: the tool's chatter goes to stderr.
        let to_stderr = std::io::stderr()
            .as_fd()
            .try_clone_to_owned()
            .map_err(|e| failed(e.to_string(), String::new()))?;
        let status = cmd
            .stdout(Stdio::from(to_stderr))
            .stderr(Stdio::inherit())
            .status()
            .map_err(|e| failed(e.to_string(), String::new()))?;
        return if status.success() {
            Ok(())
        } else {
            Err(failed(status.to_string(), String::new()))
        };
    }
    let out = cmd
        .output()
        .map_err(|e| failed(e.to_string(), String::new()))?;
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    eprint!("{said}");
    if out.status.success() {
        Ok(())
    } else {
        Err(failed(out.status.to_string(), hint(&said)))
    }
}

/// Puts `built` in place of the component by a rename (never through a link).
/// `dir` is the project's canonical path: the component's directory must
/// resolve inside it (a symlinked directory on the way does not lead out).
fn install(dir: &Path, built: &Path, t: &Target) -> Result<(), BuildError> {
    if let Some(p) = t.component.parent() {
        std::fs::create_dir_all(p).map_err(io(p))?;
        if !p.canonicalize().map_err(io(p))?.starts_with(dir) {
            return Err(project_err(
                &t.component,
                "the component's directory leads out of the project (a symbolic link)",
            ));
        }
    }
    std::fs::rename(built, &t.component).map_err(io(&t.component))
}

/// Builds the project in `dir`; returns the component written.
pub fn build(dir: &Path) -> Result<PathBuf, BuildError> {
    // Absolute: the toolchains run inside the project directory.
    let dir = &dir.canonicalize().map_err(io(dir))?;
    let t = target(dir)?;
    let has = |f: &str| dir.join(f).is_file();
    let work = dir.join("build");
    std::fs::create_dir_all(&work).map_err(io(&work))?;
    let built = work.join(format!("{}.out.wasm", t.name));
    if has("Cargo.toml") {
        rust(dir, &t, &built)?;
    } else if has("tool.c") || has("main.c") {
        c(dir, &t, &built)?;
    } else if has("app.py") {
        python(dir, &t, &built)?;
    } else if let Some(src) = ["tool.ts", "tool.js", "main.ts", "main.js"]
        .into_iter()
        .find(|f| has(f))
    {
        js(dir, &t, src, &built)?;
    } else {
        return Err(project_err(
            dir,
            "no source agentbox build knows: Cargo.toml, tool.c, main.c, app.py, tool.ts, tool.js, main.ts or main.js",
        ));
    }
    install(dir, &built, &t)?;
    Ok(t.component)
}

/// A C tool is packed into a component by agentbox's own componentizer; a C
/// command stays a preview1 core module, which agentbox runs directly (its
/// `exit(n)` arrives exactly; docs/guests/c.md).
fn c(dir: &Path, t: &Target, built: &Path) -> Result<(), BuildError> {
    let clang = on_path("clang").ok_or_else(|| BuildError::Missing {
        what: "clang".into(),
        install: C_INSTALL.into(),
    })?;
    let sysroot = std::env::var_os("WASI_SYSROOT").map(PathBuf::from);
    let libc = sysroot.as_ref().map_or_else(
        || PathBuf::from("/usr/lib/wasm32-wasi/libc.a"),
        |s| s.join("lib/wasm32-wasi/libc.a"),
    );
    if !libc.is_file() {
        return Err(BuildError::Missing {
            what: format!("wasi-libc ({})", libc.display()),
            install: C_INSTALL.into(),
        });
    }
    let src = dir.join(if t.command { "main.c" } else { "tool.c" });
    let core = if t.command {
        built.to_path_buf()
    } else {
        built.with_extension("core.wasm")
    };
    let mut cc = Command::new(clang);
    cc.args(["--target=wasm32-wasi", "-Os", "-Wall", "-Wl,--strip-all"]);
    if let Some(s) = &sysroot {
        cc.arg(format!("--sysroot={}", s.display()));
    }
    if !t.command {
        cc.arg("-mexec-model=reactor");
    }
    cc.arg("-I").arg(dir).arg("-o").arg(&core).arg(&src);
    run("clang", &mut cc, true, |said| {
        if said.contains("libclang_rt.builtins") || said.contains("wasm-ld") {
            format!("; the wasm linker or runtime library is missing: {C_INSTALL}")
        } else {
            String::new()
        }
    })?;
    if t.command {
        return Ok(());
    }
    let bytes = std::fs::read(&core).map_err(io(&core))?;
    let comp = agentbox_pack::pack(&bytes, Some(agentbox_pack::World::Tool)).map_err(|e| {
        BuildError::Failed {
            step: "making the component".into(),
            status: e.to_string(),
            hint: String::new(),
        }
    })?;
    let _ = std::fs::remove_file(&core);
    std::fs::write(built, comp).map_err(io(built))
}

/// The world a Python or JavaScript project builds against: its wit/ holds the
/// agentbox tool world, or (kind command) `wasi:cli/command` with WASI in deps/.
fn world(t: &Target) -> &'static str {
    if t.command { "command" } else { "tool" }
}

fn python(dir: &Path, t: &Target, built: &Path) -> Result<(), BuildError> {
    let cpy = std::env::var_os("AGENTBOX_COMPONENTIZE_PY")
        .map(PathBuf::from)
        .or_else(|| on_path("componentize-py"))
        .ok_or_else(|| BuildError::Missing {
            what: "componentize-py (0.25.x)".into(),
            install: "python3 -m venv ~/.local/share/agentbox/venv && ~/.local/share/agentbox/venv/bin/pip install componentize-py==0.25.1, then put that venv's bin on PATH (or set AGENTBOX_COMPONENTIZE_PY to the program)".into(),
        })?;
    run(
        "componentize-py",
        Command::new(cpy)
            .current_dir(dir)
            .args(["-d", "wit", "-w", world(t), "componentize", "app", "-o"])
            .arg(built),
        false,
        |_| String::new(),
    )
}

/// Imports a JavaScript tool or command may use, left to the component: agentbox's,
/// and every interface of WASI 0.2.12 (wit/wasi).
const JS_EXTERNAL: &[&str] = &[
    "agentbox:tool/http@0.1.0",
    "agentbox:tool/log@0.1.0",
    "wasi:cli/environment@0.2.12",
    "wasi:cli/exit@0.2.12",
    "wasi:cli/stdin@0.2.12",
    "wasi:cli/stdout@0.2.12",
    "wasi:cli/stderr@0.2.12",
    "wasi:cli/terminal-input@0.2.12",
    "wasi:cli/terminal-output@0.2.12",
    "wasi:cli/terminal-stdin@0.2.12",
    "wasi:cli/terminal-stdout@0.2.12",
    "wasi:cli/terminal-stderr@0.2.12",
    "wasi:clocks/monotonic-clock@0.2.12",
    "wasi:clocks/wall-clock@0.2.12",
    "wasi:filesystem/types@0.2.12",
    "wasi:filesystem/preopens@0.2.12",
    "wasi:io/error@0.2.12",
    "wasi:io/poll@0.2.12",
    "wasi:io/streams@0.2.12",
    "wasi:random/random@0.2.12",
    "wasi:random/insecure@0.2.12",
    "wasi:random/insecure-seed@0.2.12",
    "wasi:sockets/network@0.2.12",
    "wasi:sockets/instance-network@0.2.12",
    "wasi:sockets/ip-name-lookup@0.2.12",
    "wasi:sockets/tcp@0.2.12",
    "wasi:sockets/tcp-create-socket@0.2.12",
    "wasi:sockets/udp@0.2.12",
    "wasi:sockets/udp-create-socket@0.2.12",
];

/// `vMAJOR.MINOR.PATCH` → (major, minor).
fn node_version() -> Option<(u32, u32)> {
    let out = Command::new("node").arg("--version").output().ok()?;
    let v = String::from_utf8_lossy(&out.stdout);
    let mut parts = v.trim().trim_start_matches('v').split('.');
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
}

/// JavaScript, or TypeScript (`tool.ts`: rolldown strips the types as it
/// bundles; it does not type-check — run `tsc --noEmit` for that).
fn js(dir: &Path, t: &Target, source: &str, built: &Path) -> Result<(), BuildError> {
    let node_fix = "install Node.js 20.19 or newer (22.12+ also works) with npm: from nodejs.org or NodeSource's Debian packages (Debian 12's own nodejs is 18, too old for rolldown)";
    match node_version() {
        None => {
            return Err(BuildError::Missing {
                what: "Node.js".into(),
                install: node_fix.into(),
            });
        }
        // rolldown's engines: ^20.19.0 || >=22.12.0.
        Some((major, minor))
            if !((major == 20 && minor >= 19) || (major == 22 && minor >= 12) || major > 22) =>
        {
            return Err(BuildError::Missing {
                what: format!("Node.js 20.19 or newer (this is {major}.{minor})"),
                install: node_fix.into(),
            });
        }
        Some(_) => {}
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    let tc = std::env::var_os("AGENTBOX_JS_TOOLCHAIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| home.join(".local/share/agentbox/js-toolchain"));
    let bin = tc.join("node_modules/.bin");
    let (rolldown, componentize) = (bin.join("rolldown"), bin.join("componentize-js"));
    if !rolldown.is_file() || !componentize.is_file() {
        // The pinned package list and lockfile, for `npm ci` to install exactly
        // those versions; nothing is fetched here.
        let placed = std::fs::create_dir_all(&tc).is_ok()
            && std::fs::write(tc.join("package.json"), JS_PACKAGE).is_ok()
            && std::fs::write(tc.join("package-lock.json"), JS_LOCK).is_ok();
        let shown = tc.display().to_string().replace('\'', "'\\''");
        return Err(BuildError::Missing {
            what: format!("the JavaScript toolchain ({})", tc.display()),
            install: if placed {
                format!(
                    "its pinned package list and lockfile are now there: install them with `npm ci --prefix '{shown}'` (or set AGENTBOX_JS_TOOLCHAIN to a directory that has them)"
                )
            } else {
                "install componentize-js 0.23.0 and rolldown 1.3.4 there from agentbox's guest-sdk/js/toolchain (`npm ci`), or set AGENTBOX_JS_TOOLCHAIN to a directory that has them".to_string()
            },
        });
    }
    let bundle = dir.join("build/tool.js");
    run(
        "rolldown (bundling the tool with the SDK)",
        Command::new(rolldown)
            .current_dir(dir)
            .args([source, "-o"])
            .arg(&bundle)
            .args(["-f", "esm"])
            // The component's imports stay imports (one `-e` each).
            .args(JS_EXTERNAL.iter().flat_map(|e| ["-e", e])),
        false,
        |_| String::new(),
    )?;
    run(
        "componentize-js",
        Command::new(componentize)
            .current_dir(dir)
            .arg(&bundle)
            .args([
                "--wit",
                if t.command {
                    "wit"
                } else {
                    "wit/agentbox-tool.wit"
                },
                "-n",
                world(t),
                "-d",
                "http",
                "fetch-event",
                "-o",
            ])
            .arg(built),
        false,
        |_| String::new(),
    )
}

/// The package's name, from its Cargo.toml.
fn cargo_package(dir: &Path) -> Result<String, BuildError> {
    let path = dir.join("Cargo.toml");
    let text = std::fs::read_to_string(&path).map_err(io(&path))?;
    let doc: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| project_err(&path, e.message().to_string()))?;
    doc.get("package")
        .and_then(|p| p.get("name"))
        .and_then(|n| n.as_str())
        .map(str::to_string)
        .ok_or_else(|| project_err(&path, "no [package] name"))
}

/// `wasm32-wasip2` through rustup when its target is installed; otherwise
/// Debian's Rust with the standard library built from source (docs/guests/rust.md).
fn rust(dir: &Path, t: &Target, built: &Path) -> Result<(), BuildError> {
    let package = cargo_package(dir)?;
    let cwd = std::env::current_dir().map_err(io(Path::new(".")))?;
    let target_dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(|d| cwd.join(d))
        .unwrap_or_else(|| dir.join("target"));
    let rustup_target = Command::new("rustc")
        .current_dir(dir)
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()))
        .is_some_and(|s| s.join("lib/rustlib/wasm32-wasip2").is_dir());
    let debian = Path::new("/usr/bin/rustc").is_file()
        && Path::new("/usr/lib/rustlib/src/rust/library").is_dir();
    let crt = if t.command {
        "crt1-command.o"
    } else {
        "crt1-reactor.o"
    };
    let mut cargo = if rustup_target {
        let mut c = Command::new("cargo");
        c.args([
            "build",
            "--release",
            "--locked",
            "--target",
            "wasm32-wasip2",
        ]);
        c
    } else if debian {
        let wasm_ld = ["/usr/bin/wasm-ld-22", "/usr/bin/wasm-ld"]
            .into_iter()
            .find(|p| Path::new(p).exists())
            .ok_or_else(|| BuildError::Missing {
                what: "wasm-ld".into(),
                install: "sudo apt-get install lld-22".into(),
            })?;
        if !Path::new("/usr/lib/wasm32-wasi").is_dir() {
            return Err(BuildError::Missing {
                what: "wasi-libc".into(),
                install: "sudo apt-get install wasi-libc".into(),
            });
        }
        let mut c = Command::new("/usr/bin/cargo");
        c.env("RUSTC", "/usr/bin/rustc")
            .env("RUSTDOC", "/usr/bin/rustdoc")
            .env("RUSTC_BOOTSTRAP", "1")
            .env(
                "RUSTFLAGS",
                format!("-Clink-self-contained=no -L/usr/lib/wasm32-wasi -Clink-arg=/usr/lib/wasm32-wasi/{crt} -Clink-arg=--wasm-ld-path={wasm_ld}"),
            )
            .env_remove("RUSTUP_TOOLCHAIN")
            .args([
                "build",
                "--release",
                "--locked",
                "--target",
                "wasm32-wasip2",
                "-Zbuild-std=std,panic_abort",
            ]);
        c
    } else {
        return Err(BuildError::Missing {
            what: "a Rust toolchain for wasm32-wasip2".into(),
            install: "rustup target add wasm32-wasip2 (or, on Debian 12 without rustup's server: sudo apt-get install rustc-web cargo-web rust-web-src rust-web-llvm lld-22 wasi-libc)".into(),
        });
    };
    cargo
        .current_dir(dir)
        .env_remove("CARGO_TARGET_DIR")
        .arg("--target-dir")
        .arg(&target_dir);
    run("cargo build", &mut cargo, false, |_| String::new())?;
    // A library's file takes its crate name (`-` → `_`); a program's, the package's.
    let file = if t.command {
        package
    } else {
        package.replace('-', "_")
    };
    let out = target_dir.join(format!("wasm32-wasip2/release/{file}.wasm"));
    std::fs::copy(&out, built).map(|_| ()).map_err(io(&out))
}
