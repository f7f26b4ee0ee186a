//! Shared helpers: run the real `agentbox` binary against manifests and components
//! written into a fresh temporary directory.
#![allow(dead_code)]

pub mod hostile;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_agentbox")
}

/// The run worker's binary, next to `agentbox` (built by its own cargo
/// invocation: scripts/test.sh); a missing one is a setup error, never a skip.
pub fn worker_bin() -> PathBuf {
    let w = agentbox_supervisor::worker_binary(Path::new(bin()));
    assert!(
        w.is_file(),
        "{} is missing: build it with `cargo build --release -p agentbox-worker --features standalone --bin agentbox-worker`",
        w.display()
    );
    w
}

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A guest built by `cargo xtask guests`; a missing one is a setup error, never a skip.
pub fn fixture(name: &str) -> PathBuf {
    let p = root().join("build/guests").join(format!("{name}.wasm"));
    assert!(
        p.exists(),
        "{} is missing: run `cargo xtask guests` (scripts/test.sh does)",
        p.display()
    );
    p
}

pub fn example(rel: &str) -> PathBuf {
    let p = root().join("examples").join(rel);
    assert!(
        p.exists(),
        "{} is missing: run `cargo xtask guests` (scripts/test.sh does)",
        p.display()
    );
    p
}

#[derive(Debug)]
pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub struct Sandbox {
    pub dir: tempfile::TempDir,
}

impl Sandbox {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join("cache")).expect("cache dir");
        Self { dir }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn write(&self, rel: &str, text: &str) -> PathBuf {
        let p = self.path(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(&p, text).expect("write");
        p
    }

    /// Writes an executable script. The file is written by a child `sh`, never
    /// through a descriptor of this process: a test thread forking a worker at the
    /// same moment would otherwise inherit the open write descriptor until its
    /// exec, and executing the script would fail with ETXTBSY ("Text file busy").
    pub fn write_script(&self, rel: &str, text: &str) -> PathBuf {
        let p = self.path(rel);
        let mut child = std::process::Command::new("/bin/sh")
            .args([
                "-c",
                "cat > \"$1.tmp\" && chmod 755 \"$1.tmp\" && mv \"$1.tmp\" \"$1\"",
                "sh",
            ])
            .arg(&p)
            .stdin(std::process::Stdio::piped())
            .spawn()
            .expect("spawn sh to write a script");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(text.as_bytes())
            .expect("write script");
        assert!(
            child.wait().expect("wait sh").success(),
            "writing {p:?} failed"
        );
        p
    }

    pub fn write_bytes(&self, rel: &str, bytes: &[u8]) -> PathBuf {
        let p = self.path(rel);
        std::fs::write(&p, bytes).expect("write");
        p
    }

    /// Writes a component from WAT text.
    pub fn wat(&self, rel: &str, text: &str) -> PathBuf {
        let bytes = wat::parse_str(text).unwrap_or_else(|e| panic!("bad WAT in test: {e}"));
        self.write_bytes(rel, &bytes)
    }

    pub fn manifest(&self, text: &str) -> PathBuf {
        self.write("agentbox.toml", text)
    }

    pub fn cmd(&self) -> Command {
        let mut c = Command::new(bin());
        c.env("AGENTBOX_CACHE_DIR", self.path("cache/c"));
        c.current_dir(self.dir.path());
        c
    }

    pub fn run(&self, args: &[&str]) -> Out {
        self.run_stdin(args, None)
    }

    pub fn run_stdin(&self, args: &[&str], stdin: Option<&[u8]>) -> Out {
        let mut c = self.cmd();
        c.args(args).stdout(Stdio::piped()).stderr(Stdio::piped());
        c.stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
        let mut child = c.spawn().expect("spawn agentbox");
        if let Some(data) = stdin {
            let mut s = child.stdin.take().expect("stdin");
            s.write_all(data).expect("write stdin");
        }
        let o = child.wait_with_output().expect("wait");
        Out {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }

    /// `agentbox run agentbox.toml --report r.json ARGS...`, returning the parsed report.
    pub fn run_report(&self, args: &[&str]) -> (Out, serde_json::Value) {
        let report = self.path("report.json");
        let _ = std::fs::remove_file(&report);
        let mut full = vec!["run", "agentbox.toml", "--report", "report.json"];
        full.extend_from_slice(args);
        let out = self.run(&full);
        let text =
            std::fs::read_to_string(&report).unwrap_or_else(|e| panic!("no report ({e}); {out:?}"));
        (out, serde_json::from_str(&text).expect("report is JSON"))
    }
}

/// A kind-tool component in WAT whose `call` runs `body` (a core function body
/// with params (ptr i32, len i32) returning the ret-area pointer), with helper
/// functions `extra` in the same module. `describe` returns `{"name":"t"}`.
/// Memory: one page initially, max `max_pages` (none when 0).
pub fn tool_wat(body: &str, extra: &str) -> String {
    format!(
        r#"(component
  (core module $m
    (memory (export "memory") 1)
    (global $bump (mut i32) (i32.const 4096))
    (func $realloc (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
      (local $p i32)
      (local.set $p (global.get $bump))
      (global.set $bump (i32.add (global.get $bump) (i32.add (local.get 3) (i32.const 8))))
      (local.get $p))
    (data (i32.const 16) "{{\"name\":\"t\"}}")
    (data (i32.const 64) "{{\"ok\":true}}")
    (data (i32.const 128) "tool failed on purpose")
    (func (export "describe") (result i32)
      (i32.store (i32.const 0) (i32.const 16))
      (i32.store (i32.const 4) (i32.const 12))
      (i32.const 0))
    {extra}
    (func (export "call") (param i32 i32) (result i32)
      {body})
  )
  (core instance $i (instantiate $m))
  (func (export "describe") (result string)
    (canon lift (core func $i "describe") (memory (core memory $i "memory")) (realloc (core func $i "cabi_realloc"))))
  (func (export "call") (param "input" string) (result (result string (error string)))
    (canon lift (core func $i "call") (memory (core memory $i "memory")) (realloc (core func $i "cabi_realloc"))))
)"#
    )
}

/// `call` body returning Ok(`{"ok":true}`).
pub const OK_BODY: &str = r#"(i32.store8 (i32.const 32) (i32.const 0))
      (i32.store (i32.const 36) (i32.const 64))
      (i32.store (i32.const 40) (i32.const 11))
      (i32.const 32)"#;

/// `call` body returning Err("tool failed on purpose").
pub const ERR_BODY: &str = r#"(i32.store8 (i32.const 32) (i32.const 1))
      (i32.store (i32.const 36) (i32.const 128))
      (i32.store (i32.const 40) (i32.const 22))
      (i32.const 32)"#;

pub fn tool_manifest(component: &str, extra: &str) -> String {
    format!(
        "version = 1\n\n[tools.t]\ncomponent = \"{component}\"\nrationale = \"test tool\"\n{extra}\n"
    )
}
