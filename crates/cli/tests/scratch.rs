//! Scratch space (`[[tools.<name>.scratch]]`, an extension): an empty,
//! size- and inode-limited tmpfs per invocation. Every invocation finds it
//! empty, pooled ones too; it is refused when the namespaces layer is off; the
//! quota itself is attacked by the breakout suite (RES-08, RES-09).

mod common;
use agentbox_audit::AuditLog;
use agentbox_host::Invocation;
use agentbox_policy::Manifest;
use agentbox_supervisor::{Options, Supervisor};
use common::*;
use std::path::PathBuf;
use std::sync::Arc;

/// A preview1 tool that creates `/scratch/m` exclusively and then a chain of 400
/// nested directories: Ok when it could (the scratch was empty), Err when
/// anything was already there (or anything failed).
fn exclusive_create_tool(sb: &Sandbox) {
    let core = wat::parse_str(
        r#"(module
  (import "wasi_snapshot_preview1" "path_open" (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_create_directory" (func $path_create_directory (param i32 i32 i32) (result i32)))
  (memory (export "memory") 3)
  (global $bump (mut i32) (i32.const 32768))
  (func $realloc (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (local $p i32)
    (local.set $p (i32.and (i32.add (global.get $bump) (i32.sub (local.get 2) (i32.const 1))) (i32.sub (i32.const 0) (local.get 2))))
    (global.set $bump (i32.add (local.get $p) (local.get 3)))
    (local.get $p))
  (data (i32.const 16) "{\"name\":\"t\"}")
  (data (i32.const 64) "{\"ok\":true}")
  (data (i32.const 128) "stale")
  (data (i32.const 8192) "m")
  (func (export "describe") (result i32)
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const 12))
    (i32.const 0))
  ;; A chain of 400 nested directories d/d/d/... (deeper than the worker's
  ;; descriptor limit: emptying must not hold one descriptor per level).
  (func $deep (result i32)
    (local $i i32) (local $ok i32)
    (local.set $ok (i32.const 1))
    (i32.store8 (i32.const 10000) (i32.const 100))
    (loop $l
      (if (call $path_create_directory (i32.const 3) (i32.const 10000) (i32.add (i32.mul (local.get $i) (i32.const 2)) (i32.const 1)))
        (then (local.set $ok (i32.const 0))))
      (i32.store8 (i32.add (i32.const 10001) (i32.mul (local.get $i) (i32.const 2))) (i32.const 47))
      (i32.store8 (i32.add (i32.const 10002) (i32.mul (local.get $i) (i32.const 2))) (i32.const 100))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 400))))
    (local.get $ok))
  (func (export "call") (param i32 i32) (result i32)
    ;; O_CREAT|O_EXCL on fd 3 (the scratch space), write rights; then the chain.
    (if (result i32) (i32.and (i32.eqz (call $path_open (i32.const 3) (i32.const 0) (i32.const 8192) (i32.const 1)
                                 (i32.const 5) (i64.const 64) (i64.const 0) (i32.const 0) (i32.const 1000)))
                              (call $deep))
      (then
        (i32.store8 (i32.const 32) (i32.const 0))
        (i32.store (i32.const 36) (i32.const 64))
        (i32.store (i32.const 40) (i32.const 11))
        (i32.const 32))
      (else
        (i32.store8 (i32.const 32) (i32.const 1))
        (i32.store (i32.const 36) (i32.const 128))
        (i32.store (i32.const 40) (i32.const 5))
        (i32.const 32))))
)"#,
    )
    .expect("wat");
    let packed = agentbox_pack::pack(&core, Some(agentbox_pack::World::Tool)).expect("pack");
    sb.write_bytes("t.wasm", &packed);
    sb.manifest(&tool_manifest(
        "t.wasm",
        "[[tools.t.scratch]]\nguest = \"/scratch\"\nsize = \"4MiB\"\nfiles = 1000\nrationale = \"scratch test\"\n",
    ));
}

fn inv() -> Invocation {
    Invocation {
        input: "{}".into(),
        ..Default::default()
    }
}

#[test]
fn every_invocation_finds_an_empty_scratch_space_pooled_too() {
    let sb = Sandbox::new();
    exclusive_create_tool(&sb);
    // One-shot runs through the CLI.
    for i in 0..3 {
        let o = sb.run(&["run", "agentbox.toml", "--input", "{}"]);
        assert_eq!(o.code, 0, "run {i}: {o:?}");
    }
    // Pooled: the same worker serves every call; the scratch is emptied in between.
    let m = Manifest::load(&sb.path("agentbox.toml")).expect("manifest");
    let tool = m.tool(None).expect("tool").clone();
    let s = Supervisor::new(&Options {
        cache_dir: Some(sb.path("cache/c")),
        worker_exe: Some(worker_bin()),
        compile_exe: Some(PathBuf::from(bin())),
        ..Options::default()
    })
    .expect("sup");
    let pool = s.pool(&tool, 1).expect("pool");
    let pids = pool.idle_worker_pids();
    for i in 0..10 {
        let out = pool.invoke(&inv(), Arc::new(AuditLog::memory("p")));
        assert_eq!(
            out.status, 0,
            "pooled call {i}: {:?} {:?}",
            out.report, out.tool_error
        );
    }
    assert_eq!(
        pool.idle_worker_pids(),
        pids,
        "the same worker served every call"
    );
    // Nothing of the scratch landed in the tool's directory on the host.
    assert!(!sb.path("m").exists() && !sb.path("scratch").exists());
}

#[test]
fn scratch_space_is_refused_without_the_namespaces_layer() {
    let sb = Sandbox::new();
    exclusive_create_tool(&sb);
    let o = sb.run(&[
        "run",
        "agentbox.toml",
        "--input",
        "{}",
        "--dangerously-disable-layer",
        "namespaces",
    ]);
    assert_ne!(o.code, 0, "{o:?}");
    assert!(
        o.stderr.contains("scratch space") && o.stderr.contains("namespaces"),
        "{o:?}"
    );
}

#[test]
fn check_lists_the_scratch_space() {
    let sb = Sandbox::new();
    exclusive_create_tool(&sb);
    let o = sb.run(&["check", "agentbox.toml"]);
    assert_eq!(o.code, 0, "{o:?}");
    assert!(
        o.stdout.contains("tmpfs -> /scratch") && o.stdout.contains("1000 files"),
        "{o:?}"
    );
}
