//! `agentbox build [DIR]`: a project's component, with the same toolchains the
//! project's own guests use (docs/guests.md). A missing toolchain is named with
//! the command that installs it; nothing is downloaded here.

use std::path::{Path, PathBuf};
use std::process::Command;

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

/// The JavaScript toolchain's pins (guest-sdk/js/toolchain).
const JS_PINS: &str = "@bytecodealliance/componentize-js@0.23.0 @bytecodealliance/preview2-shim@0.25.0 rolldown@1.3.4";
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
    let component = tool
        .get("component")
        .and_then(|c| c.as_str())
        .ok_or_else(|| {
            project_err(
                &path,
                format!("tools.{name}.component: missing (the file build writes)"),
            )
        })?;
    Ok(Target {
        name: name.clone(),
        command: tool.get("kind").and_then(|k| k.as_str()) == Some("command"),
        component: dir.join(component),
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

fn run(step: &str, cmd: &mut Command, hint: impl Fn(&str) -> String) -> Result<(), BuildError> {
    let out = cmd.output().map_err(|e| BuildError::Failed {
        step: step.into(),
        status: e.to_string(),
        hint: String::new(),
    })?;
    if out.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    // What the tool said, so a compile error reads as one.
    eprint!("{stdout}{stderr}");
    Err(BuildError::Failed {
        step: step.into(),
        status: out.status.to_string(),
        hint: hint(&format!("{stdout}{stderr}")),
    })
}

/// Builds the project in `dir`; returns the component written.
pub fn build(dir: &Path) -> Result<PathBuf, BuildError> {
    // Absolute: the toolchains run inside the project directory.
    let dir = &dir.canonicalize().map_err(|source| BuildError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let t = target(dir)?;
    let has = |f: &str| dir.join(f).is_file();
    let out = &t.component;
    if let Some(p) = out.parent() {
        std::fs::create_dir_all(p).map_err(|source| BuildError::Io {
            path: p.to_path_buf(),
            source,
        })?;
    }
    if has("Cargo.toml") {
        rust(dir, &t)?;
    } else if has("tool.c") || has("main.c") {
        c(dir, &t)?;
    } else if has("app.py") {
        python(dir, out)?;
    } else if has("tool.js") {
        js(dir, out)?;
    } else {
        return Err(project_err(
            dir,
            "no source agentbox build knows: Cargo.toml, tool.c, main.c, app.py or tool.js",
        ));
    }
    Ok(out.clone())
}

fn c(dir: &Path, t: &Target) -> Result<(), BuildError> {
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
    let core = dir.join("build").join(format!("{}.core.wasm", t.name));
    std::fs::create_dir_all(dir.join("build")).map_err(|source| BuildError::Io {
        path: dir.join("build"),
        source,
    })?;
    let mut cc = Command::new(clang);
    cc.args(["--target=wasm32-wasi", "-Os", "-Wall", "-Wl,--strip-all"]);
    if let Some(s) = &sysroot {
        cc.arg(format!("--sysroot={}", s.display()));
    }
    if !t.command {
        cc.arg("-mexec-model=reactor");
    }
    cc.arg("-I").arg(dir).arg("-o").arg(&core).arg(&src);
    run("clang", &mut cc, |said| {
        if said.contains("libclang_rt.builtins") || said.contains("wasm-ld") {
            format!("; the wasm linker or runtime library is missing: {C_INSTALL}")
        } else {
            String::new()
        }
    })?;
    let bytes = std::fs::read(&core).map_err(|source| BuildError::Io {
        path: core.clone(),
        source,
    })?;
    let world = if t.command {
        agentbox_pack::World::Command
    } else {
        agentbox_pack::World::Tool
    };
    let comp = agentbox_pack::pack(&bytes, Some(world)).map_err(|e| BuildError::Failed {
        step: "making the component".into(),
        status: e.to_string(),
        hint: String::new(),
    })?;
    std::fs::write(&t.component, comp).map_err(|source| BuildError::Io {
        path: t.component.clone(),
        source,
    })
}

fn python(dir: &Path, out: &Path) -> Result<(), BuildError> {
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
            .args(["-d", "wit", "-w", "tool", "componentize", "app", "-o"])
            .arg(out),
        |_| String::new(),
    )
}

fn js(dir: &Path, out: &Path) -> Result<(), BuildError> {
    if on_path("node").is_none() {
        return Err(BuildError::Missing {
            what: "Node.js".into(),
            install:
                "install Node.js 20 or newer with npm (Debian: sudo apt-get install nodejs npm)"
                    .into(),
        });
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
        return Err(BuildError::Missing {
            what: format!("the JavaScript toolchain ({})", tc.display()),
            install: format!(
                "npm install --prefix {} {JS_PINS} (or set AGENTBOX_JS_TOOLCHAIN to a directory that has them)",
                tc.display()
            ),
        });
    }
    let bundle = dir.join("build/tool.js");
    run(
        "rolldown (bundling tool.js with the SDK)",
        Command::new(rolldown)
            .current_dir(dir)
            .args(["tool.js", "-o"])
            .arg(&bundle)
            .args([
                "-f",
                "esm",
                "-e",
                "agentbox:tool/http@0.1.0,agentbox:tool/log@0.1.0",
            ]),
        |_| String::new(),
    )?;
    run(
        "componentize-js",
        Command::new(componentize)
            .current_dir(dir)
            .arg(&bundle)
            .args([
                "--wit",
                "wit/agentbox-tool.wit",
                "-n",
                "tool",
                "-d",
                "http",
                "fetch-event",
                "-o",
            ])
            .arg(out),
        |_| String::new(),
    )
}

/// `wasm32-wasip2` through rustup when its target is installed; otherwise
/// Debian's Rust with the standard library built from source (docs/guests.md).
fn rust(dir: &Path, t: &Target) -> Result<(), BuildError> {
    let target_dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| dir.join("target"));
    let rustup_target = Command::new("rustc")
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
        c.args(["build", "--release", "--target", "wasm32-wasip2"]);
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
            .args(["build", "--release", "--target", "wasm32-wasip2", "-Zbuild-std=std,panic_abort"]);
        c
    } else {
        return Err(BuildError::Missing {
            what: "a Rust toolchain for wasm32-wasip2".into(),
            install: "rustup target add wasm32-wasip2 (or, on Debian 12 without rustup's server: sudo apt-get install rustc-web cargo-web rust-web-src rust-web-llvm lld-22 wasi-libc)".into(),
        });
    };
    cargo.current_dir(dir).env("CARGO_TARGET_DIR", &target_dir);
    run("cargo build", &mut cargo, |_| String::new())?;
    let file = if t.command {
        t.name.clone()
    } else {
        t.name.replace('-', "_")
    };
    let built = target_dir.join(format!("wasm32-wasip2/release/{file}.wasm"));
    std::fs::copy(&built, &t.component)
        .map(|_| ())
        .map_err(|source| BuildError::Io {
            path: built,
            source,
        })
}
