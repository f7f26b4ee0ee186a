//! `agentbox new DIR --lang L [--kind K]`: a tool project that builds and runs as
//! it is (cli.md) — source, manifest, README, and a copy of the guest SDK and the
//! WIT, so the project stands alone. Kind tool answers `{"name": "Ada"}` with
//! `{"greeting": "Hello, Ada!"}`; kind command prints `Hello, Ada!` for `Ada`.

use std::path::{Path, PathBuf};

/// A project's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Lang {
    Rust,
    C,
    Python,
    Js,
}

impl Lang {
    fn word(self) -> &'static str {
        match self {
            Lang::Rust => "Rust",
            Lang::C => "C",
            Lang::Python => "Python",
            Lang::Js => "JavaScript",
        }
    }
}

/// Kind tool (JSON in, JSON out) or command (a program with main).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    Tool,
    Command,
}

const WIT: &str = include_str!("../../../wit/agentbox-tool.wit");
const C_SDK: &str = include_str!("../../../guest-sdk/c/agentbox_tool.h");
const RUST_SDK_TOML: &str = include_str!("../../../guest-sdk/rust/Cargo.toml");
const RUST_SDK_LIB: &str = include_str!("../../../guest-sdk/rust/src/lib.rs");
const PY_SDK: &str = include_str!("../../../guest-sdk/python/agentbox_tool.py");
const JS_SDK: &str = include_str!("../../../guest-sdk/js/agentbox.js");
const RUST_LOCK: &str = include_str!("../../../examples/rust-tool/Cargo.lock");
/// `wit/` of a Python or JavaScript command: the command world, and WASI 0.2.12's
/// WIT (wit/wasi/README.md) that it includes.
const COMMAND_WIT: [(&str, &str); 8] = [
    ("wit/command.wit", include_str!("../templates/command.wit")),
    (
        "wit/deps/cli.wit",
        include_str!("../../../wit/wasi/cli.wit"),
    ),
    (
        "wit/deps/clocks.wit",
        include_str!("../../../wit/wasi/clocks.wit"),
    ),
    (
        "wit/deps/filesystem.wit",
        include_str!("../../../wit/wasi/filesystem.wit"),
    ),
    ("wit/deps/io.wit", include_str!("../../../wit/wasi/io.wit")),
    (
        "wit/deps/random.wit",
        include_str!("../../../wit/wasi/random.wit"),
    ),
    (
        "wit/deps/sockets.wit",
        include_str!("../../../wit/wasi/sockets.wit"),
    ),
    (
        "wit/deps/LICENSE",
        include_str!("../../../wit/wasi/LICENSE"),
    ),
];

/// Why a project could not be made.
#[derive(Debug, thiserror::Error)]
pub enum NewError {
    #[error("{0} exists and is not empty: choose a new directory")]
    NotEmpty(PathBuf),
    #[error("{}: cannot name a tool after this directory: give a directory whose name starts with a letter", .0.display())]
    Name(PathBuf),
    #[error(
        "`{0}` cannot name a Rust project (cargo or the standard library uses it): choose another directory name"
    )]
    Reserved(String),
    #[error("{}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Names a Rust package must not take here: cargo's own directories, the
/// crates `-Zbuild-std` builds, the SDK's crate.
const RUST_RESERVED: &[&str] = &[
    "build",
    "deps",
    "examples",
    "incremental",
    "core",
    "std",
    "alloc",
    "panic_abort",
    "proc_macro",
    "test",
    "agentbox-guest",
    "agentbox_guest",
];

/// A tool name from a directory name (as given; `.` and `..` by what they
/// are): lower case, `[a-z][a-z0-9_-]{0,62}`.
pub fn tool_name(dir: &Path) -> Option<String> {
    let base = match dir.file_name() {
        Some(n) => n.to_string_lossy().into_owned(),
        None => std::path::absolute(dir)
            .ok()
            .and_then(|d| d.canonicalize().ok())
            .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))?,
    };
    let name: String = base
        .to_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .take(63)
        .collect();
    name.starts_with(|c: char| c.is_ascii_lowercase())
        .then_some(name)
}

/// Makes the project; returns the files written.
pub fn new(dir: &Path, lang: Lang, kind: Kind) -> Result<Vec<PathBuf>, NewError> {
    if std::fs::read_dir(dir).is_ok_and(|mut d| d.next().is_some()) {
        return Err(NewError::NotEmpty(dir.to_path_buf()));
    }
    let write_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| NewError::Write { path, source }
    };
    let name = tool_name(dir).ok_or_else(|| NewError::Name(dir.to_path_buf()))?;
    if lang == Lang::Rust && RUST_RESERVED.contains(&name.as_str()) {
        return Err(NewError::Reserved(name));
    }
    std::fs::create_dir_all(dir).map_err(write_err(dir))?;
    let fill = |t: &str| t.replace("{{name}}", &name);
    let (source, sdk, mut files): (&str, &str, Vec<(&str, String)>) = match (lang, kind) {
        (Lang::C, Kind::Tool) => (
            "tool.c",
            "agentbox_tool.h is the C guest SDK",
            vec![
                ("tool.c", fill(include_str!("../templates/tool.c"))),
                ("agentbox_tool.h", C_SDK.to_string()),
            ],
        ),
        (Lang::C, Kind::Command) => (
            "main.c",
            "a command is any program with main",
            vec![("main.c", fill(include_str!("../templates/main.c")))],
        ),
        (Lang::Rust, Kind::Tool) => (
            "src/lib.rs",
            "sdk/rust is the Rust guest SDK (agentbox-guest), built against wit/",
            vec![
                (
                    "Cargo.toml",
                    fill(include_str!("../templates/Cargo.tool.toml")),
                ),
                // The SDK's dependencies at the versions agentbox builds its own
                // Rust guests with; `agentbox build` builds with --locked.
                (
                    "Cargo.lock",
                    RUST_LOCK.replace("name = \"rust-tool\"", &format!("name = \"{name}\"")),
                ),
                ("src/lib.rs", fill(include_str!("../templates/tool.rs"))),
                ("sdk/rust/Cargo.toml", RUST_SDK_TOML.to_string()),
                ("sdk/rust/src/lib.rs", RUST_SDK_LIB.to_string()),
                ("wit/agentbox-tool.wit", WIT.to_string()),
            ],
        ),
        (Lang::Rust, Kind::Command) => (
            "src/main.rs",
            "a command is any program with main",
            vec![
                (
                    "Cargo.toml",
                    fill(include_str!("../templates/Cargo.command.toml")),
                ),
                (
                    "Cargo.lock",
                    format!("version = 4\n\n[[package]]\nname = \"{name}\"\nversion = \"0.1.0\"\n"),
                ),
                ("src/main.rs", fill(include_str!("../templates/command.rs"))),
            ],
        ),
        (Lang::Python, Kind::Command) => (
            "app.py",
            "a command is a program: `sys.argv` and `print`, built against wit/ (WASI's command world)",
            vec![("app.py", fill(include_str!("../templates/command.py")))],
        ),
        (Lang::Js, Kind::Command) => (
            "main.js",
            "a command is a program: arguments from `wasi:cli/environment`, output by `console.log`, built against wit/ (WASI's command world)",
            vec![("main.js", fill(include_str!("../templates/main.js")))],
        ),
        (Lang::Python, Kind::Tool) => (
            "app.py",
            "agentbox_tool.py is the Python guest SDK, built against wit/",
            vec![
                ("app.py", fill(include_str!("../templates/app.py"))),
                ("agentbox_tool.py", PY_SDK.to_string()),
                ("wit/agentbox-tool.wit", WIT.to_string()),
            ],
        ),
        (Lang::Js, Kind::Tool) => (
            "tool.js",
            "agentbox.js is the JavaScript guest SDK, built against wit/",
            vec![
                ("tool.js", fill(include_str!("../templates/tool.js"))),
                ("agentbox.js", JS_SDK.to_string()),
                ("wit/agentbox-tool.wit", WIT.to_string()),
            ],
        ),
    };
    if kind == Kind::Command && matches!(lang, Lang::Python | Lang::Js) {
        files.extend(COMMAND_WIT.map(|(f, t)| (f, t.to_string())));
    }
    let component = format!("{name}.wasm");
    let kind_word = if kind == Kind::Tool {
        "tool"
    } else {
        "command"
    };
    let run = if kind == Kind::Tool {
        "agentbox run agentbox.toml --input '{\"name\": \"Ada\"}'   # {\"greeting\":\"Hello, Ada!\"}"
    } else {
        "agentbox run agentbox.toml -- Ada      # Hello, Ada!"
    };
    let limits = if matches!(lang, Lang::Python | Lang::Js) {
        format!(
            "\n[tools.{name}.limits]\nmemory = \"128MiB\"   # the {} runtime inside the component needs ~40 MiB\n",
            lang.word()
        )
    } else {
        String::new()
    };
    files.push((
        "agentbox.toml",
        format!(
            "version = 1\n\n[tools.{name}]\nkind = \"{kind_word}\"\ncomponent = \"{component}\"   # written by `agentbox build`\n\
             description = \"{}\"\nrationale = \"A new {} {kind_word}: say here why it exists; grant it only what it needs.\"\n{limits}",
            if kind == Kind::Tool { "Greets someone by name." } else { "Prints a greeting." },
            lang.word()
        ),
    ));
    files.push((
        "README.md",
        include_str!("../templates/README.md")
            .replace("{{name}}", &name)
            .replace("{{kind}}", kind_word)
            .replace("{{lang}}", lang.word())
            .replace("{{component}}", &component)
            .replace("{{run}}", run)
            .replace("{{source}}", &format!("`{source}`"))
            .replace("{{sdk}}", sdk),
    ));
    files.push((".gitignore", "*.wasm\n/target\n/build\n".to_string()));
    let mut written = Vec::new();
    for (rel, text) in files {
        let path = dir.join(rel);
        if let Some(p) = path.parent() {
            std::fs::create_dir_all(p).map_err(write_err(p))?;
        }
        std::fs::write(&path, text).map_err(write_err(&path))?;
        written.push(path);
    }
    Ok(written)
}
