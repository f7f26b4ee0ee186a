//! agentbox: the command line. Parses arguments, calls the supervisor, maps outcomes
//! to exit statuses and prints. No logic here that the tests cannot reach through
//! the binary.

mod audit_cmd;
mod audit_html;
mod build_cmd;
mod check;
mod doctor;
mod project;
mod review;
mod scan;
mod term;

use agentbox_audit::AuditLog;
use agentbox_host::Invocation;
use agentbox_ipc::{Layer, Outcome};
use agentbox_policy::{Manifest, ToolKind};
use agentbox_supervisor::{Options, Report, Supervisor, status};
use clap::{Parser, Subcommand};
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Largest stdin accepted for a command tool.
const MAX_STDIN: u64 = 64 << 20;

#[derive(Parser, Debug)]
#[command(
    name = "agentbox",
    version,
    about = "A sandboxed runtime for AI-agent tools"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

// `agentbox run`'s arguments (its help text is the `Cmd::Run` doc comment).
#[derive(clap::Args, Debug)]
struct RunArgs {
    manifest: PathBuf,
    /// The tool to run (may be left out when the manifest has one tool).
    #[arg(long)]
    tool: Option<String>,
    /// JSON input for kind tool: inline JSON, @FILE, or - for stdin.
    #[arg(long)]
    input: Option<String>,
    /// Secret sources (secrets.toml).
    #[arg(long)]
    secrets: Option<PathBuf>,
    /// Write the run report (JSON) here, whatever the outcome.
    #[arg(long)]
    report: Option<PathBuf>,
    #[command(flatten)]
    audit: audit_cmd::AuditArgs,
    /// Also trust the CA certificates in this PEM file for the tool's outbound
    /// TLS (besides the system's roots), e.g. a company CA.
    #[arg(long = "extra-ca", value_name = "PEM")]
    extra_ca: Option<PathBuf>,
    /// DANGEROUS: run without one OS layer (namespaces, landlock, seccomp,
    /// rlimits, capabilities, cgroup). Recorded in the report and audit log.
    #[arg(long = "dangerously-disable-layer", value_name = "LAYER")]
    disable: Vec<String>,
    /// Arguments for kind command, after `--`.
    #[arg(last = true)]
    args: Vec<String>,
}

// `agentbox mcp`'s arguments.
#[derive(clap::Args, Debug)]
struct McpArgs {
    manifest: PathBuf,
    /// Secret sources (secrets.toml).
    #[arg(long)]
    secrets: Option<PathBuf>,
    #[command(flatten)]
    audit: audit_cmd::AuditArgs,
    /// Calls running at once; more wait their turn (default: 2 x cores).
    #[arg(long = "max-concurrent", value_name = "N")]
    max_concurrent: Option<usize>,
    /// Serve streamable HTTP at http://ADDR:PORT/mcp instead of stdio.
    #[arg(long, value_name = "ADDR:PORT")]
    listen: Option<std::net::SocketAddr>,
    /// The bearer token (a file of mode 0600); generated and printed on stderr
    /// when left out.
    #[arg(long = "token-file", value_name = "FILE", requires = "listen")]
    token_file: Option<PathBuf>,
    /// Also trust the CA certificates in this PEM file for outbound TLS.
    #[arg(long = "extra-ca", value_name = "PEM")]
    extra_ca: Option<PathBuf>,
    /// DANGEROUS: run every call without one OS layer. Recorded in the audit log.
    #[arg(long = "dangerously-disable-layer", value_name = "LAYER")]
    disable: Vec<String>,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Run one tool of a manifest once.
    Run(RunArgs),
    /// Serve the manifest's tools to agents over MCP (stdio, or HTTP with --listen).
    Mcp(McpArgs),
    /// The audit log: verify its chain and signatures.
    Audit {
        #[command(subcommand)]
        cmd: audit_cmd::AuditCmd,
    },
    /// Grants the audit log shows unused (tools, net rules, secrets): candidates to remove.
    Review(review::ReviewArgs),
    /// The output guards (credentials, personal data, injection, hidden text) on any text.
    Scan(scan::ScanArgs),
    /// What this host can enforce, and what `run` would refuse.
    Doctor,
    /// Run the bundled breakout suite against this host's sandbox.
    Breakout {
        /// One JSON object on stdout instead of the tables.
        #[arg(long)]
        json: bool,
        /// Only this category (WASM, CM, CAP, FS, SSRF, SEC, RES, SC, LL, NS, CG, SUP).
        #[arg(long)]
        category: Option<String>,
        /// Only this case (e.g. SC-02).
        #[arg(long)]
        case: Option<String>,
        /// Also run each OS-layer case with one layer at a time, against the
        /// expectation matrix (docs/breakout.md).
        #[arg(long)]
        layers: bool,
        /// The native probe binary (default: agentbox-probe next to agentbox).
        #[arg(long, value_name = "PATH")]
        probe: Option<PathBuf>,
    },
    /// Validate a manifest; print every grant with its rationale; warn on broad grants.
    Check { manifest: PathBuf },
    /// Copy what a tool left in a read-write grant to a new directory, safely:
    /// regular files and directories only, never following links, sizes capped,
    /// mode bits stripped; everything left out is listed.
    Collect {
        /// The read-write grant's directory (everything in it is untrusted).
        src: PathBuf,
        /// A new directory for the copies (must not exist).
        dest: PathBuf,
        /// Largest file copied (default 16MiB).
        #[arg(long = "max-file", value_name = "SIZE")]
        max_file: Option<String>,
        /// All files together (default 64MiB).
        #[arg(long = "max-total", value_name = "SIZE")]
        max_total: Option<String>,
        /// Most files (default 10000).
        #[arg(long = "max-files", value_name = "N")]
        max_files: Option<u64>,
        /// One JSON object on stdout instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Print the JSON that a kind-tool component's describe() returns.
    Describe {
        manifest: PathBuf,
        #[arg(long)]
        tool: Option<String>,
    },
    /// Turn a WASI preview1 core module into a component.
    Pack {
        input: PathBuf,
        #[arg(short = 'o', long = "output")]
        output: PathBuf,
        /// World: `tool` (exports describe/call) or `command` (has main). Default: by `_start`.
        #[arg(long)]
        world: Option<String>,
    },
    /// Make a tool project that builds and runs as it is: source, manifest,
    /// README, and a copy of the guest SDK.
    New {
        dir: PathBuf,
        #[arg(long, value_enum)]
        lang: project::Lang,
        #[arg(long, value_enum, default_value = "tool")]
        kind: project::Kind,
    },
    /// Build a project's component (the file its agentbox.toml names); a missing
    /// toolchain is named with the command that installs it.
    Build { dir: Option<PathBuf> },
}

/// `word` as one shell word (quoted when it needs to be), for a command to copy.
fn shell_word(word: &str) -> String {
    if !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./+:@%".contains(c))
    {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

/// What starts the line carrying a kind tool's `Err` text on stderr.
const TOOL_ERROR_MARK: &str = "tool error: ";

fn say(msg: impl std::fmt::Display) {
    let text = term::one_line(&msg.to_string());
    let _ = writeln!(std::io::stderr(), "agentbox: {text}");
}

fn main() {
    // Hidden entry points, before any argument parsing or allocation-heavy setup:
    // the worker must stay single-threaded until it is confined.
    match std::env::args_os()
        .nth(1)
        .as_deref()
        .and_then(|a| a.to_str())
    {
        Some("__worker") => agentbox_worker::main(),
        // The breakout suite's network lab: enters its namespaces first thing.
        Some(agentbox_breakout::net::SUBCOMMAND) => {
            std::process::exit(agentbox_breakout::net::child_main())
        }
        Some("__probe-userns") => match agentbox_confine::probe::userns_child() {
            Ok(()) => std::process::exit(0),
            Err(e) => {
                eprintln!("{e}");
                std::process::exit(1)
            }
        },
        _ => {}
    }
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() {
                status::CANNOT_RUN
            } else {
                0
            };
            let _ = e.print();
            std::process::exit(code);
        }
    };
    let code = match cli.cmd {
        Cmd::Run(a) => run(a),
        Cmd::Mcp(a) => mcp(a),
        Cmd::Audit { cmd } => audit_cmd::run(cmd),
        Cmd::Review(a) => review::review(a),
        Cmd::Scan(a) => scan::scan(a),
        Cmd::Check { manifest } => check::check(&manifest),
        Cmd::Collect {
            src,
            dest,
            max_file,
            max_total,
            max_files,
            json,
        } => collect(&src, &dest, max_file, max_total, max_files, json),
        Cmd::Doctor => doctor::doctor(),
        Cmd::Breakout {
            json,
            category,
            case,
            layers,
            probe,
        } => match agentbox_breakout::main(&agentbox_breakout::Options {
            json,
            category,
            case,
            layers,
            probe,
        }) {
            Ok(code) => code,
            Err(e) => {
                say(e);
                status::CANNOT_RUN
            }
        },
        Cmd::Describe { manifest, tool } => describe(&manifest, tool.as_deref()),
        Cmd::Pack {
            input,
            output,
            world,
        } => pack(&input, &output, world.as_deref()),
        Cmd::New { dir, lang, kind } => match project::new(&dir, lang, kind) {
            Ok(files) => {
                let shown = shell_word(&dir.display().to_string());
                println!(
                    "created {shown} ({} files); next: agentbox build {shown} && agentbox run {shown}/agentbox.toml {}",
                    files.len(),
                    if kind == project::Kind::Tool {
                        "--input '{\"name\": \"Ada\"}'"
                    } else {
                        "-- Ada"
                    }
                );
                0
            }
            Err(e) => {
                say(e);
                status::CANNOT_RUN
            }
        },
        Cmd::Build { dir } => {
            let dir = dir.unwrap_or_else(|| PathBuf::from("."));
            match build_cmd::build(&dir) {
                Ok(out) => {
                    let size = std::fs::metadata(&out).map(|m| m.len()).unwrap_or(0);
                    println!("built {} ({} KiB)", out.display(), size.div_ceil(1024));
                    0
                }
                Err(e) => {
                    say(e);
                    status::CANNOT_RUN
                }
            }
        }
    };
    let _ = std::io::stdout().flush();
    // Exit now: nothing a guest left behind may keep agentbox alive.
    std::process::exit(code & 0xff)
}

fn collect(
    src: &Path,
    dest: &Path,
    max_file: Option<String>,
    max_total: Option<String>,
    max_files: Option<u64>,
    json: bool,
) -> i32 {
    use agentbox_supervisor::collect::{CollectLimits, collect as run_collect};
    let mut limits = CollectLimits::default();
    for (flag, value, slot) in [
        ("--max-file", max_file, &mut limits.max_file),
        ("--max-total", max_total, &mut limits.max_total),
    ] {
        if let Some(v) = value {
            match agentbox_policy::units::parse_size(&v) {
                Some(n) if n > 0 => *slot = n,
                _ => {
                    say(format!(
                        "{flag}: invalid size `{v}`; allowed: {}",
                        agentbox_policy::units::SIZE_HELP
                    ));
                    return status::CANNOT_RUN;
                }
            }
        }
    }
    if let Some(n) = max_files {
        limits.max_files = n;
    }
    match run_collect(src, dest, &limits) {
        Ok(c) => {
            if json {
                println!("{}", serde_json::to_string(&c).unwrap_or_default());
            } else {
                let bytes: u64 = c.files.iter().map(|(_, b)| b).sum();
                println!(
                    "collected {} file(s), {bytes} bytes, into {}",
                    c.files.len(),
                    dest.display()
                );
                for (p, why) in &c.skipped {
                    println!("  left out {p}: {why}");
                }
            }
            0
        }
        Err(e) => {
            say(e);
            status::CANNOT_RUN
        }
    }
}

fn write_report(path: Option<&Path>, report: &Report) -> bool {
    let Some(path) = path else { return true };
    let text = match serde_json::to_string_pretty(report) {
        Ok(t) => t,
        Err(e) => {
            say(format!("cannot encode the report: {e}"));
            return false;
        }
    };
    if let Err(e) = std::fs::write(path, text + "\n") {
        say(format!("cannot write the report {}: {e}", path.display()));
        return false;
    }
    true
}

fn read_input(input: Option<String>) -> Result<String, String> {
    let text = match input.as_deref() {
        None => "{}".to_string(),
        Some("-") => {
            let mut s = String::new();
            std::io::stdin()
                .take(MAX_STDIN)
                .read_to_string(&mut s)
                .map_err(|e| format!("cannot read --input from stdin: {e}"))?;
            s
        }
        Some(s) if s.starts_with('@') => {
            let p = &s[1..];
            std::fs::read_to_string(p).map_err(|e| format!("cannot read --input file {p}: {e}"))?
        }
        Some(s) => s.to_string(),
    };
    serde_json::from_str::<serde_json::Value>(&text)
        .map_err(|e| format!("--input is not valid JSON: {e}"))?;
    Ok(text)
}

fn read_stdin() -> Result<Vec<u8>, String> {
    let stdin = std::io::stdin();
    // A terminal is never handed to a guest: it would read the operator's keyboard.
    if stdin.is_terminal() {
        return Ok(Vec::new());
    }
    let mut buf = Vec::new();
    stdin
        .lock()
        .take(MAX_STDIN + 1)
        .read_to_end(&mut buf)
        .map_err(|e| format!("cannot read stdin: {e}"))?;
    if buf.len() as u64 > MAX_STDIN {
        return Err(format!(
            "stdin is larger than {} MiB, the most agentbox passes to a tool",
            MAX_STDIN >> 20
        ));
    }
    Ok(buf)
}

/// The layers named by `--dangerously-disable-layer`, each announced.
fn disabled_layers(names: &[String]) -> Result<Vec<Layer>, String> {
    let mut layers = Vec::new();
    for d in names {
        match Layer::parse(d) {
            Some(l) => layers.push(l),
            None => {
                let all: Vec<&str> = Layer::ALL.iter().map(|l| l.as_str()).collect();
                return Err(format!(
                    "cannot set up the runtime: unknown layer `{d}`; layers: {}",
                    all.join(", ")
                ));
            }
        }
        say(format!(
            "DANGER: the {d} layer is disabled (recorded in the report and audit log)"
        ));
    }
    Ok(layers)
}

fn mcp(a: McpArgs) -> i32 {
    let secrets = match &a.secrets {
        None => None,
        Some(path) => match agentbox_secrets::SecretStore::load(path) {
            Ok(store) => Some(Arc::new(store)),
            Err(e) => {
                say(format!("--secrets: {e}"));
                return status::CANNOT_RUN;
            }
        },
    };
    let disabled = match disabled_layers(&a.disable) {
        Ok(d) => d,
        Err(e) => {
            say(e);
            return status::CANNOT_RUN;
        }
    };
    let otlp = a
        .audit
        .otlp
        .as_ref()
        .zip(a.audit.audit.as_ref())
        .map(|(e, p)| a.audit.otlp_options(e, p));
    let config = agentbox_mcp::Config {
        manifest: a.manifest,
        otlp,
        options: Options {
            disabled_layers: disabled,
            extra_ca: a.extra_ca,
            secrets,
            ..Options::default()
        },
        audit: a.audit.audit,
        audit_key: a.audit.audit_key,
        audit_rotate: a.audit.audit_rotate,
        max_concurrent: a
            .max_concurrent
            .unwrap_or_else(agentbox_mcp::default_max_concurrent),
        listen: a.listen,
        token_file: a.token_file,
    };
    match agentbox_mcp::serve(config) {
        Ok(()) => 0,
        Err(e @ agentbox_mcp::ServeError::Stopped(_)) => {
            say(e);
            status::DENIED
        }
        Err(e) => {
            say(e);
            status::CANNOT_RUN
        }
    }
}

fn run(a: RunArgs) -> i32 {
    let RunArgs {
        manifest: manifest_path,
        tool,
        input,
        secrets,
        report,
        audit,
        extra_ca,
        disable,
        args,
    } = a;
    let (tool, report_path) = (tool.as_deref(), report.as_deref());
    let started = std::time::Instant::now();
    let fail = |tool: Option<String>, msg: String| {
        say(&msg);
        write_report(
            report_path,
            &Report::failure(tool, msg, started.elapsed().as_secs_f64() * 1e3),
        );
        status::CANNOT_RUN
    };
    let manifest = match Manifest::load(&manifest_path) {
        Ok(m) => m,
        Err(e) => return fail(tool.map(str::to_string), e.to_string()),
    };
    let spec = match manifest.tool(tool) {
        Ok(s) => s.clone(),
        Err(e) => return fail(tool.map(str::to_string), e),
    };
    let secrets = match secrets {
        None => None,
        Some(path) => match agentbox_secrets::SecretStore::load(&path) {
            Ok(store) => Some(Arc::new(store)),
            Err(e) => return fail(Some(spec.name.clone()), format!("--secrets: {e}")),
        },
    };
    let mut inv = Invocation::default();
    match spec.kind {
        ToolKind::Tool => {
            if !args.is_empty() {
                return fail(Some(spec.name.clone()), "arguments after `--` are only for kind command or native; kind tool takes --input".into());
            }
            match read_input(input) {
                Ok(t) => inv.input = t,
                Err(e) => return fail(Some(spec.name.clone()), e),
            }
        }
        ToolKind::Command | ToolKind::Native => {
            if input.is_some() {
                return fail(
                    Some(spec.name.clone()),
                    format!(
                        "--input is only for kind tool; `{}` is kind {}: pass arguments after `--` and data on stdin",
                        spec.name,
                        spec.kind.as_str()
                    ),
                );
            }
            inv.args = args;
            match read_stdin() {
                Ok(b) => inv.stdin = b,
                Err(e) => return fail(Some(spec.name.clone()), e),
            }
        }
    }
    let run_id = format!("{}-{}", std::process::id(), started.elapsed().as_nanos());
    // Fail closed: a log that cannot be opened (or a key that cannot be read)
    // stops the run before anything starts.
    let log = match audit.open(&run_id) {
        Ok(Some(a)) => a,
        Ok(None) => AuditLog::memory(&run_id),
        Err(e) => return fail(Some(spec.name.clone()), e),
    };
    let exporter = match audit.export(&log) {
        Ok(e) => e,
        Err(e) => return fail(Some(spec.name.clone()), e),
    };
    let audit = log;
    let disabled_layers = match disabled_layers(&disable) {
        Ok(d) => d,
        Err(e) => return fail(Some(spec.name.clone()), e),
    };
    let supervisor = match Supervisor::new(&Options {
        disabled_layers,
        extra_ca,
        secrets,
        ..Options::default()
    }) {
        Ok(s) => s,
        Err(e) => return fail(Some(spec.name.clone()), e.to_string()),
    };
    let audit = Arc::new(audit);
    // The input guard's caps (guards.max_input, nesting) before any worker.
    if let Err(e) = input_caps(&spec, &inv) {
        let out = agentbox_supervisor::refused(&spec, Outcome::InvalidInput, e, status::CANNOT_RUN);
        if !supervisor.audit_refusal(&manifest, &spec, &audit, None, &out)
            || audit_cmd::close(&audit, exporter.as_deref()).is_err()
        {
            say("the audit log could not be written completely");
        }
        say(&out.report.detail);
        let _ = write_report(report_path, &out.report);
        return status::CANNOT_RUN;
    }
    let mut out = supervisor.run(&manifest, &spec, &inv, audit.clone());
    // A clean stop signs the chain and puts it on disk; failing that, nothing
    // of the run is handed out.
    if !out.audit_failed && audit_cmd::close(&audit, exporter.as_deref()).is_err() {
        out.audit_failed = true;
        agentbox_supervisor::withhold_unaudited(&mut out, &audit);
    }
    // Program output first, then agentbox's own lines.
    let mut stdout = std::io::stdout().lock();
    if let Some(json) = &out.output {
        let _ = stdout
            .write_all(term::for_stream(json.as_bytes(), std::io::stdout().is_terminal()).as_ref());
        if !json.ends_with('\n') {
            let _ = stdout.write_all(b"\n");
        }
    }
    let _ = stdout.write_all(&term::for_stream(
        &out.stdout,
        std::io::stdout().is_terminal(),
    ));
    let _ = stdout.flush();
    let mut stderr = std::io::stderr().lock();
    let _ = stderr.write_all(&term::for_stream(
        &out.stderr,
        std::io::stderr().is_terminal(),
    ));
    if let Some(err) = &out.tool_error {
        // The tool's words, marked as such and escaped to one line: they can never
        // pass for one of agentbox's own (`agentbox: ...`) lines.
        let _ = writeln!(stderr, "{TOOL_ERROR_MARK}{}", term::one_line(err));
    }
    drop(stderr);
    // A `tool_error` without the tool's text is agentbox's verdict (e.g. a result
    // that is not valid JSON): said as such.
    let tool_spoke = out.report.outcome == Outcome::ToolError && out.tool_error.is_some();
    if !matches!(out.report.outcome, Outcome::Ok | Outcome::Exit) && !tool_spoke {
        say(&out.report.detail);
    }
    if out.audit_failed {
        say("the audit log could not be written completely");
    }
    if !write_report(report_path, &out.report) {
        return status::CANNOT_RUN;
    }
    out.status
}

/// The tool's input caps: kind tool's `--input` (size and nesting, as the MCP
/// server checks arguments), a command's arguments and stdin together (size).
fn input_caps(spec: &agentbox_policy::ToolSpec, inv: &Invocation) -> Result<(), String> {
    let max = usize::try_from(spec.guards.max_input).unwrap_or(usize::MAX);
    if spec.kind == ToolKind::Tool {
        let v: serde_json::Value = serde_json::from_str(&inv.input)
            .map_err(|e| format!("--input is not valid JSON: {e}"))?;
        return agentbox_guard::input::check_shape(&v, max).map_err(|e| e.to_string());
    }
    let size = inv.args.iter().map(String::len).sum::<usize>() + inv.stdin.len();
    if size > max {
        return Err(format!(
            "the arguments and standard input are {size} bytes, over the limit of {max} (guards.max_input)"
        ));
    }
    Ok(())
}

fn describe(manifest_path: &Path, tool: Option<&str>) -> i32 {
    let manifest = match Manifest::load(manifest_path) {
        Ok(m) => m,
        Err(e) => {
            say(e);
            return status::CANNOT_RUN;
        }
    };
    let spec = match manifest.tool(tool) {
        Ok(s) => s.clone(),
        Err(e) => {
            say(e);
            return status::CANNOT_RUN;
        }
    };
    if spec.kind != ToolKind::Tool {
        say(format!(
            "`{}` is kind {}; describe is for kind tool",
            spec.name,
            spec.kind.as_str()
        ));
        return status::CANNOT_RUN;
    }
    let sup = match Supervisor::new(&Options::default()) {
        Ok(s) => s,
        Err(e) => {
            say(e);
            return status::CANNOT_RUN;
        }
    };
    match sup.describe(&spec) {
        Ok((Some(text), _, _)) => {
            println!("{}", text.trim_end());
            0
        }
        Ok((None, detail, code)) => {
            say(format!("describe failed: {detail}"));
            code
        }
        Err(e) => {
            say(e);
            status::CANNOT_RUN
        }
    }
}

fn pack(input: &Path, output: &Path, world: Option<&str>) -> i32 {
    let world = match world {
        None => None,
        Some("tool") => Some(agentbox_pack::World::Tool),
        Some("command") => Some(agentbox_pack::World::Command),
        Some(other) => {
            say(format!("--world {other}: allowed: tool, command"));
            return status::CANNOT_RUN;
        }
    };
    let bytes = match std::fs::read(input) {
        Ok(b) => b,
        Err(e) => {
            say(format!("{}: {e}", input.display()));
            return status::CANNOT_RUN;
        }
    };
    match agentbox_pack::pack(&bytes, world) {
        Ok(c) => match std::fs::write(output, c) {
            Ok(()) => 0,
            Err(e) => {
                say(format!("{}: {e}", output.display()));
                status::CANNOT_RUN
            }
        },
        Err(e) => {
            say(format!("{}: {e}", input.display()));
            status::CANNOT_RUN
        }
    }
}
