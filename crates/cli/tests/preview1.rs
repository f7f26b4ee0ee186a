//! WASI preview1 core modules run directly on wasmtime-wasi's preview1 host (as
//! `wasmtime run` runs them), confined like components: exit statuses, arguments
//! and environment exactly as given, append-mode writes that pass the seccomp
//! filter, and preopens named as the manifest names them (`/`, or a relative name).
//! The WASI test suite (scripts/wasi-testsuite.sh) covers far more; these are the
//! regressions it found, with no toolchain and no copy of the suite needed.

mod common;
use common::*;

/// A preview1 command module: `_start` runs `body`, with helpers:
/// `$print (ptr, len)` writes to stdout; `$check (errno, code)` exits with `code`
/// when `errno` is not 0. Memory: 0..16 iovec and counters, 16..64 scratch,
/// 256.. the module's data, 4096.. free for buffers.
fn p1_module(body: &str, data: &str) -> String {
    format!(
        r#"(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $args_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_get" (func $args_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_sizes_get" (func $environ_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_get" (func $environ_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_open" (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_fdstat_set_flags" (func $fd_fdstat_set_flags (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_prestat_get" (func $fd_prestat_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_prestat_dir_name" (func $fd_prestat_dir_name (param i32 i32 i32) (result i32)))
  (memory (export "memory") 2)
  {data}
  (func $print (param $ptr i32) (param $len i32)
    (i32.store (i32.const 0) (local.get $ptr))
    (i32.store (i32.const 4) (local.get $len))
    (call $check (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)) (i32.const 99)))
  (func $check (param $errno i32) (param $code i32)
    (if (local.get $errno) (then (call $proc_exit (local.get $code)))))
  (func (export "_start")
    {body}))"#
    )
}

fn command_manifest(extra: &str) -> String {
    format!(
        "version = 1\n\n[tools.t]\nkind = \"command\"\ncomponent = \"t.wasm\"\nrationale = \"test program\"\n{extra}\n"
    )
}

#[test]
fn exit_statuses_are_the_programs_own() {
    for (code, body) in [
        (0, ""),
        (0, "(call $proc_exit (i32.const 0))"),
        (1, "(call $proc_exit (i32.const 1))"),
        (42, "(call $proc_exit (i32.const 42))"),
        (113, "(call $proc_exit (i32.const 113))"),
    ] {
        let sb = Sandbox::new();
        sb.wat("t.wasm", &p1_module(body, ""));
        sb.manifest(&command_manifest(""));
        let (out, report) = sb.run_report(&[]);
        assert_eq!(out.code, code, "{body}: {out:?}");
        assert_eq!(report["exit_code"], code, "{body}");
        let outcome = if code == 0 { "ok" } else { "exit" };
        assert_eq!(report["outcome"], outcome, "{body}");
        assert_eq!(out.stderr, "", "{body}");
        // The report says what confined it: the wasm worker's profile, as always.
        assert_eq!(report["confinement"]["seccomp"], "wasm-worker");
    }
}

/// `args_get` then `environ_get`: each buffer (NUL-separated) printed as is.
const ARGS_AND_ENV: &str = r#"
    (call $check (call $args_sizes_get (i32.const 16) (i32.const 20)) (i32.const 10))
    (call $check (call $args_get (i32.const 4096) (i32.const 8192)) (i32.const 11))
    (call $print (i32.const 8192) (i32.load (i32.const 20)))
    (call $print (i32.const 256) (i32.const 1))
    (call $check (call $environ_sizes_get (i32.const 24) (i32.const 28)) (i32.const 12))
    (call $check (call $environ_get (i32.const 4096) (i32.const 12288)) (i32.const 13))
    (call $print (i32.const 12288) (i32.load (i32.const 28)))
    (call $proc_exit (i32.load (i32.const 16)))"#;

#[test]
fn arguments_and_environment_are_exact() {
    let sb = Sandbox::new();
    sb.wat(
        "t.wasm",
        &p1_module(ARGS_AND_ENV, r#"(data (i32.const 256) "|")"#),
    );
    sb.manifest(&command_manifest(
        "[tools.t.env]\na = \"text\"\nb = \"escap\\\"ing\"\nc = \"new\\nline\"\n",
    ));
    let out = sb.run(&[
        "run",
        "agentbox.toml",
        "--",
        "first",
        "the \"second\" arg",
        "3",
        "",
    ]);
    // The status is argc: argv[0] (the tool's name) and four arguments.
    assert_eq!(out.code, 5, "{out:?}");
    assert_eq!(
        out.stdout,
        "t\0first\0the \"second\" arg\x003\0\0|a=text\0b=escap\"ing\0c=new\nline\0"
    );
}

/// Opens the file named at `name_at` in preopen 3 for writing with `oflags` (1:
/// create) and `fdflags` (1: append), into the descriptor at address 32; exits
/// `code` on failure.
fn open_in_preopen(name_at: u32, name_len: usize, oflags: u32, fdflags: u32, code: u32) -> String {
    format!(
        "(call $check (call $path_open (i32.const 3) (i32.const 0) (i32.const {name_at}) (i32.const {name_len}) (i32.const {oflags}) (i64.const 0x1fffffff) (i64.const 0x1fffffff) (i32.const {fdflags}) (i32.const 32)) (i32.const {code}))"
    )
}

/// Writes the 3 bytes at `at` to the descriptor stored at address 32.
fn write3(at: u32, code: u32) -> String {
    format!(
        "(i32.store (i32.const 0) (i32.const {at})) (i32.store (i32.const 4) (i32.const 3))
         (call $check (call $fd_write (i32.load (i32.const 32)) (i32.const 0) (i32.const 1) (i32.const 8)) (i32.const {code}))"
    )
}

#[test]
fn append_mode_writes_pass_the_filter() {
    let sb = Sandbox::new();
    sb.write("ws/append.txt", "abc");
    sb.write("ws/flags.txt", "123");
    // append.txt opened with APPEND; flags.txt opened plain, then flagged APPEND
    // with fd_fdstat_set_flags (without it the write would land at offset 0).
    let body = format!(
        "{} {} {} (call $check (call $fd_fdstat_set_flags (i32.load (i32.const 32)) (i32.const 1)) (i32.const 22)) {}",
        open_in_preopen(256, 10, 0, 1, 20),
        write3(300, 21),
        open_in_preopen(272, 9, 0, 0, 23),
        write3(304, 24),
    );
    let data = r#"(data (i32.const 256) "append.txt") (data (i32.const 272) "flags.txt")
        (data (i32.const 300) "def") (data (i32.const 304) "456")"#;
    sb.wat("t.wasm", &p1_module(&body, data));
    sb.manifest(&command_manifest(
        "[[tools.t.fs]]\nhost = \"ws\"\nguest = \"/ws\"\naccess = \"rw\"\nrationale = \"r\"\n",
    ));
    let (out, report) = sb.run_report(&[]);
    assert_eq!(out.code, 0, "{out:?} {report}");
    assert_eq!(
        std::fs::read_to_string(sb.path("ws/append.txt")).expect("read"),
        "abcdef"
    );
    assert_eq!(
        std::fs::read_to_string(sb.path("ws/flags.txt")).expect("read"),
        "123456"
    );
}

/// Prints the name of preopen 3, then creates `made.txt` in it.
const PREOPEN_NAME: &str = r#"
    (call $check (call $fd_prestat_get (i32.const 3) (i32.const 40)) (i32.const 30))
    (call $check (call $fd_prestat_dir_name (i32.const 3) (i32.const 4096) (i32.load (i32.const 44))) (i32.const 31))
    (call $print (i32.const 4096) (i32.load (i32.const 44)))"#;

#[test]
fn preopens_are_named_as_granted() {
    for guest in ["/", "data", "fs-tests.dir", "a/b", "/work"] {
        let sb = Sandbox::new();
        std::fs::create_dir_all(sb.path("ws")).expect("mkdir");
        let body = format!(
            "{PREOPEN_NAME} {} {}",
            open_in_preopen(256, 8, 1, 0, 32),
            write3(300, 33)
        );
        let data = r#"(data (i32.const 256) "made.txt") (data (i32.const 300) "yes")"#;
        sb.wat("t.wasm", &p1_module(&body, data));
        sb.manifest(&command_manifest(&format!(
            "[[tools.t.fs]]\nhost = \"ws\"\nguest = \"{guest}\"\naccess = \"rw\"\nrationale = \"r\"\n"
        )));
        let (out, report) = sb.run_report(&[]);
        assert_eq!(out.code, 0, "{guest}: {out:?} {report}");
        assert_eq!(out.stdout, guest, "{guest}");
        assert_eq!(
            std::fs::read_to_string(sb.path("ws/made.txt")).expect("read"),
            "yes",
            "{guest}"
        );
    }
}

#[test]
fn a_core_module_is_only_a_command() {
    let sb = Sandbox::new();
    sb.wat("t.wasm", &p1_module("", ""));
    sb.manifest(&tool_manifest("t.wasm", ""));
    for run in ["first run", "second run (cache hit)"] {
        let out = sb.run(&["run", "agentbox.toml"]);
        assert_eq!(out.code, 125, "{run}: {out:?}");
        assert!(
            out.stderr
                .contains("agentbox runs only as kind \"command\"")
                && out.stderr.contains("agentbox pack IN.wasm -o OUT.wasm"),
            "{run}: {}",
            out.stderr
        );
    }
    // Imports other than preview1 are refused by name.
    let sb = Sandbox::new();
    sb.wat(
        "t.wasm",
        r#"(module (import "env" "f" (func)) (memory (export "memory") 1) (func (export "_start")))"#,
    );
    sb.manifest(&command_manifest(""));
    let out = sb.run(&["run", "agentbox.toml"]);
    assert_eq!(out.code, 125, "{out:?}");
    assert!(out.stderr.contains("`env::f`"), "{}", out.stderr);
}

#[test]
fn limits_apply_to_core_modules() {
    // A loop: the CPU or wall-clock limit ends it (124).
    let sb = Sandbox::new();
    sb.wat("t.wasm", &p1_module("(loop $l (br $l))", ""));
    sb.manifest(&command_manifest(
        "[tools.t.limits]\ntimeout = \"2s\"\ncpu = \"300ms\"\n",
    ));
    let (out, report) = sb.run_report(&[]);
    assert_eq!(out.code, 124, "{out:?}");
    assert_eq!(report["outcome"], "timeout");
    // Memory growth past the limit: refused, and the run ends with the memory limit.
    let sb = Sandbox::new();
    sb.wat(
        "t.wasm",
        &p1_module(
            "(if (i32.eq (memory.grow (i32.const 1024)) (i32.const -1)) (then unreachable))",
            "",
        ),
    );
    sb.manifest(&command_manifest("[tools.t.limits]\nmemory = \"8MiB\"\n"));
    let (out, report) = sb.run_report(&[]);
    assert_eq!(out.code, 137, "{out:?} {report}");
    assert_eq!(report["limit"], "memory");
    // Output past the cap.
    let sb = Sandbox::new();
    sb.wat(
        "t.wasm",
        &p1_module(
            "(loop $l (call $print (i32.const 4096) (i32.const 4096)) (br $l))",
            "",
        ),
    );
    sb.manifest(&command_manifest("[tools.t.limits]\noutput = \"64KiB\"\n"));
    let (out, report) = sb.run_report(&[]);
    assert_eq!(out.code, 137, "{out:?} {report}");
    assert_eq!(report["limit"], "output");
}
