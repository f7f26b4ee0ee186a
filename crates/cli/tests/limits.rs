//! Every limit, through the real binary: outcome, `limit` field and exit status.

mod common;
use common::*;

fn limited(body: &str, extra: &str, limits: &str) -> (Out, serde_json::Value) {
    let sb = Sandbox::new();
    sb.wat("t.wasm", &tool_wat(body, extra));
    sb.manifest(&tool_manifest(
        "t.wasm",
        &format!("[tools.t.limits]\n{limits}\n"),
    ));
    sb.run_report(&[])
}

#[test]
fn wall_clock_timeout_is_124() {
    let (out, r) = limited("(loop $l (br $l)) unreachable", "", "timeout = \"300ms\"");
    assert_eq!(out.code, 124, "{out:?}");
    assert_eq!(r["outcome"], "timeout");
    assert_eq!(r["limit"], "timeout");
    assert_eq!(out.stderr, "agentbox: time limit of 300ms reached\n");
}

#[test]
fn cpu_limit_is_124_with_limit_cpu() {
    let (out, r) = limited(
        "(loop $l (br $l)) unreachable",
        "",
        "timeout = \"20s\"\ncpu = \"200ms\"",
    );
    assert_eq!(out.code, 124, "{out:?}");
    assert_eq!(r["outcome"], "timeout");
    assert_eq!(r["limit"], "cpu");
    assert_eq!(out.stderr, "agentbox: CPU limit of 200ms reached\n");
}

#[test]
fn memory_grow_bomb_is_137() {
    let body =
        "(loop $l (br_if $l (i32.ne (memory.grow (i32.const 1)) (i32.const -1)))) unreachable";
    let (out, r) = limited(body, "", "memory = \"2MiB\"");
    assert_eq!(out.code, 137, "{out:?}");
    assert_eq!(r["outcome"], "limit");
    assert_eq!(r["limit"], "memory");
    assert_eq!(out.stderr, "agentbox: memory limit of 2 MiB reached\n");
    assert_eq!(r["limits_hit"], serde_json::json!(["memory"]), "{r}");
}

#[test]
fn huge_grow_returns_minus_one_and_a_tool_may_carry_on() {
    // grow(65536) fails (-1); the guest checks and returns Ok: memory stays bounded
    // and the tool is not killed for asking.
    let body = format!(
        "(if (i32.ne (memory.grow (i32.const 65536)) (i32.const -1)) (then unreachable)) {OK_BODY}"
    );
    let (out, r) = limited(&body, "", "memory = \"4MiB\"");
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(r["outcome"], "ok");
}

#[test]
fn a_memory_limit_the_guest_survived_is_reported() {
    // The guest "mallocs" past its limit: memory.grow is refused (-1), the guest
    // copes and returns Ok — and the report and the audit log still say that the
    // memory limit was hit. (If the grow had succeeded, the guest would trap.)
    let sb = Sandbox::new();
    let body = format!(
        "(if (i32.ne (memory.grow (i32.const 64)) (i32.const -1)) (then unreachable)) {OK_BODY}"
    );
    sb.wat("t.wasm", &tool_wat(&body, ""));
    sb.manifest(&tool_manifest(
        "t.wasm",
        "[tools.t.limits]\nmemory = \"2MiB\"\n",
    ));
    let (out, r) = sb.run_report(&["--audit", "audit.jsonl"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.stdout, "{\"ok\":true}\n");
    assert_eq!(r["outcome"], "ok");
    assert!(r["limit"].is_null(), "{r}");
    assert_eq!(r["limits_hit"], serde_json::json!(["memory"]), "{r}");
    let audit = std::fs::read_to_string(sb.path("audit.jsonl")).expect("audit");
    let end = audit
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("json"))
        .find(|e| e["event"] == "run_end")
        .expect("run_end");
    assert_eq!(end["outcome"], "ok");
    assert_eq!(end["limits_hit"], serde_json::json!(["memory"]), "{end}");

    // The same tool under a limit it stays within: nothing hit.
    let sb = Sandbox::new();
    sb.wat("t.wasm", &tool_wat(OK_BODY, ""));
    sb.manifest(&tool_manifest(
        "t.wasm",
        "[tools.t.limits]\nmemory = \"2MiB\"\n",
    ));
    let (out, r) = sb.run_report(&[]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(r["limits_hit"], serde_json::json!([]), "{r}");
}

#[test]
fn huge_minimum_memory_fails_instantiation_cleanly() {
    let sb = Sandbox::new();
    let text = tool_wat(OK_BODY, "").replace(
        "(memory (export \"memory\") 1)",
        "(memory (export \"memory\") 1024)",
    );
    sb.wat("t.wasm", &text);
    sb.manifest(&tool_manifest(
        "t.wasm",
        "[tools.t.limits]\nmemory = \"8MiB\"\n",
    ));
    let (out, r) = sb.run_report(&[]);
    assert_eq!(out.code, 137, "{out:?}");
    assert_eq!(r["limit"], "memory");
}

#[test]
fn oversized_result_is_137_output() {
    // 40 pages (2.5 MiB) of zero bytes returned as a 2 MiB string; the cap is 1 MiB.
    let body = r#"(drop (memory.grow (i32.const 40)))
      (i32.store8 (i32.const 32) (i32.const 0))
      (i32.store (i32.const 36) (i32.const 65536))
      (i32.store (i32.const 40) (i32.const 2097152))
      (i32.const 32)"#;
    let (out, r) = limited(body, "", "output = \"1MiB\"");
    assert_eq!(out.code, 137, "{out:?}");
    assert_eq!(r["outcome"], "limit");
    assert_eq!(r["limit"], "output");
    assert_eq!(out.stdout, "");
}

#[test]
fn deep_recursion_is_a_stack_overflow_trap() {
    let (out, r) = limited(
        "(call $down (i32.const 0)) unreachable",
        "(func $down (param i32) (call $down (i32.add (local.get 0) (i32.const 1))))",
        "",
    );
    assert_eq!(out.code, 134, "{out:?}");
    assert_eq!(r["outcome"], "trap");
    assert!(r["limit"].is_null());
    assert!(
        out.stderr
            .contains("wasm stack overflow (stack limit 1024 KiB)"),
        "{}",
        out.stderr
    );
}

fn probe_manifest(sb: &Sandbox, limits: &str) {
    let wasm = fixture("cmd_probe");
    sb.manifest(&format!(
        "version = 1\n[tools.p]\nkind = \"command\"\ncomponent = \"{}\"\nrationale = \"probe\"\n[tools.p.limits]\n{limits}\n",
        wasm.display()
    ));
}

#[test]
fn stdout_flood_is_capped_and_137() {
    let sb = Sandbox::new();
    probe_manifest(&sb, "output = \"64KiB\"");
    let (out, r) = sb.run_report(&["--", "flood", "10000000"]);
    assert_eq!(out.code, 137, "{}", out.stderr);
    assert_eq!(r["limit"], "output");
    assert_eq!(
        out.stdout.len(),
        64 * 1024,
        "exactly the cap reaches stdout"
    );
    assert!(out.stdout.bytes().all(|b| b == b'A'));
    assert!(
        out.stderr
            .ends_with("agentbox: output limit of 64 KiB reached\n"),
        "{}",
        out.stderr
    );
}

#[test]
fn blocking_sleep_in_a_host_call_hits_the_wall_clock() {
    let sb = Sandbox::new();
    probe_manifest(&sb, "timeout = \"500ms\"");
    let (out, r) = sb.run_report(&["--", "sleep", "3600"]);
    assert_eq!(out.code, 124, "{out:?}");
    assert_eq!(r["outcome"], "timeout");
    assert_eq!(r["limit"], "timeout");
}

#[test]
fn command_spin_hits_cpu_limit() {
    let sb = Sandbox::new();
    probe_manifest(&sb, "timeout = \"30s\"\ncpu = \"300ms\"");
    let (out, r) = sb.run_report(&["--", "spin"]);
    assert_eq!(out.code, 124, "{out:?}");
    assert_eq!(r["limit"], "cpu");
}

/// The preview1 adapter can only report success or failure (it calls
/// `wasi:cli/exit.exit` with a result), so a C program's `exit(7)` arrives as 1.
#[test]
fn command_exit_through_the_preview1_adapter_is_0_or_1() {
    let sb = Sandbox::new();
    probe_manifest(&sb, "");
    let (out, r) = sb.run_report(&["--", "exit", "7"]);
    assert_eq!(out.code, 1);
    assert_eq!(r["outcome"], "exit");
    assert_eq!(r["exit_code"], 1);
    let (out, r) = sb.run_report(&["--", "exit", "0"]);
    assert_eq!(out.code, 0);
    assert_eq!(r["outcome"], "ok");
}

/// A component that calls `wasi:cli/exit.exit-with-code` gets its own status.
#[test]
fn command_exit_with_code_is_passed_through() {
    let sb = Sandbox::new();
    sb.wat("c.wasm", r#"(component
  (import "wasi:cli/exit@0.2.6" (instance $exit (export "exit-with-code" (func (param "status-code" u8)))))
  (core func $ewc (canon lower (func $exit "exit-with-code")))
  (core module $m
    (import "x" "ewc" (func $ewc (param i32)))
    (func (export "run") (result i32) (call $ewc (i32.const 42)) unreachable))
  (core instance $i (instantiate $m (with "x" (instance (export "ewc" (func $ewc))))))
  (func $run (result (result)) (canon lift (core func $i "run")))
  (instance $r (export "run" (func $run)))
  (export "wasi:cli/run@0.2.6" (instance $r))
)"#);
    sb.manifest(
        "version = 1\n[tools.c]\nkind = \"command\"\ncomponent = \"c.wasm\"\nrationale = \"x\"\n",
    );
    let (out, r) = sb.run_report(&[]);
    assert_eq!(out.code, 42, "{out:?}");
    assert_eq!(r["outcome"], "exit");
    assert_eq!(r["exit_code"], 42);
}
