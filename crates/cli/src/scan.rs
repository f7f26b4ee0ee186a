//! `agentbox scan`: the output guards on any text (guards.md), so anyone can
//! measure them on their own data.

use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::PathBuf;

use agentbox_guard::{Finding, Kind, Kinds, Scanner, Scope, char_offsets};
use serde::Serialize;

use agentbox_supervisor::status;

use crate::say;

#[derive(clap::Args, Debug)]
pub struct ScanArgs {
    /// Read JSON lines, each an object with a `text` string; write one line of
    /// findings per input line, in order.
    #[arg(long)]
    jsonl: bool,
    /// Only these guards (comma-separated): secrets, pii, injection, hidden_text.
    #[arg(long, value_delimiter = ',', value_name = "KINDS")]
    only: Vec<String>,
    /// List every type id, by kind, and exit.
    #[arg(long)]
    types: bool,
    /// The input (default or `-`: standard input).
    file: Option<PathBuf>,
}

#[derive(Serialize)]
struct Out<'a> {
    findings: &'a [Finding],
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

pub fn scan(a: ScanArgs) -> i32 {
    if a.types {
        let mut out = std::io::stdout().lock();
        for (kind, ids) in Scanner::type_ids() {
            for id in ids {
                let _ = writeln!(out, "{} {id}", kind.as_str());
            }
        }
        return 0;
    }
    let mut kinds = if a.only.is_empty() {
        Kinds::ALL
    } else {
        Kinds::NONE
    };
    for w in &a.only {
        match Kind::parse(w.trim()) {
            Some(k) => kinds = kinds.with(k),
            None => {
                say(format!(
                    "--only: unknown guard {w:?}; allowed: secrets, pii, injection, hidden_text"
                ));
                return status::CANNOT_RUN;
            }
        }
    }
    let input: Box<dyn Read> = match a.file.as_deref() {
        None => Box::new(std::io::stdin().lock()),
        Some(p) if p.as_os_str() == "-" => Box::new(std::io::stdin().lock()),
        Some(p) => match std::fs::File::open(p) {
            Ok(f) => Box::new(f),
            Err(e) => {
                say(format!("cannot read {}: {e}", p.display()));
                return status::CANNOT_RUN;
            }
        },
    };
    let scanner = Scanner::new();
    let scope = Scope {
        kinds,
        pii_types: None,
    };
    let stdout = std::io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let r = if a.jsonl {
        jsonl(&scanner, &scope, input, &mut out)
    } else {
        whole(&scanner, &scope, input, &mut out)
    };
    match r.and_then(|()| out.flush()) {
        Ok(()) => 0,
        Err(e) => {
            say(format!("scan: {e}"));
            status::CANNOT_RUN
        }
    }
}

fn whole(
    s: &Scanner,
    scope: &Scope<'_>,
    mut input: Box<dyn Read>,
    out: &mut impl Write,
) -> std::io::Result<()> {
    let mut bytes = Vec::new();
    input.read_to_end(&mut bytes)?;
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            say(
                "scan: the input is not UTF-8; invalid bytes read as U+FFFD (offsets count them so)",
            );
            String::from_utf8_lossy(e.as_bytes()).into_owned()
        }
    };
    findings(s, scope, &text, out)?;
    out.write_all(b"\n")
}

/// The findings of `text`, in scalar offsets, as one JSON object.
fn findings(
    s: &Scanner,
    scope: &Scope<'_>,
    text: &str,
    out: &mut impl Write,
) -> std::io::Result<()> {
    let mut f = s.scan(text, scope);
    char_offsets(text, &mut f);
    serde_json::to_writer(
        &mut *out,
        &Out {
            findings: &f,
            error: None,
        },
    )?;
    Ok(())
}

#[derive(serde::Deserialize)]
struct Line {
    text: String,
}

fn jsonl(
    s: &Scanner,
    scope: &Scope<'_>,
    input: Box<dyn Read>,
    out: &mut impl Write,
) -> std::io::Result<()> {
    let mut r = BufReader::with_capacity(1 << 16, input);
    let mut buf = Vec::new();
    let mut n = 0u64;
    loop {
        buf.clear();
        if r.read_until(b'\n', &mut buf)? == 0 {
            return Ok(());
        }
        n += 1;
        let line = buf.strip_suffix(b"\n").unwrap_or(&buf);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            // A blank line still gets its answer line, so the order holds.
            writeln!(out, "{{\"findings\":[],\"error\":\"line {n}: empty\"}}")?;
            continue;
        }
        match serde_json::from_slice::<Line>(line) {
            Ok(l) => findings(s, scope, &l.text, out)?,
            Err(e) => {
                let msg = format!("line {n}: not an object with a \"text\" string: {e}");
                say(format!("scan: {msg}"));
                serde_json::to_writer(
                    &mut *out,
                    &Out {
                        findings: &[],
                        error: Some(msg),
                    },
                )?;
            }
        }
        out.write_all(b"\n")?;
    }
}
