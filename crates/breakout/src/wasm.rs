//! Wasm attacks: components written in WAT (compiled by the `wat` crate at run
//! time), run by the production worker under the production confinement. Each
//! probe names the outcomes that count as blocked.

/// A kind-tool component whose `call` runs `body` with helpers `extra` in the
/// same core module; `mem` is the memory declaration.
pub fn tool_wat(body: &str, extra: &str, mem: &str) -> String {
    format!(
        r#"(component
  (core module $m
    (memory (export "memory") {mem})
    (global $bump (mut i32) (i32.const 4096))
    (func $realloc (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
      (local $p i32)
      (local.set $p (global.get $bump))
      (global.set $bump (i32.add (global.get $bump) (i32.add (local.get 3) (i32.const 8))))
      (local.get $p))
    (data (i32.const 16) "{{\"name\":\"t\"}}")
    (data (i32.const 64) "{{\"ok\":true}}")
    (data (i32.const 128) "wrong answer")
    (data (i32.const 160) "\ff\fe\fd")
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

/// Returns Ok(`{"ok":true}`).
pub const OK: &str = "(i32.store8 (i32.const 32) (i32.const 0)) (i32.store (i32.const 36) (i32.const 64)) (i32.store (i32.const 40) (i32.const 11)) (i32.const 32)";

/// Returns Err("wrong answer").
const WRONG: &str = "(i32.store8 (i32.const 32) (i32.const 1)) (i32.store (i32.const 36) (i32.const 128)) (i32.store (i32.const 40) (i32.const 12)) (i32.const 32)";

/// One wasm attack.
#[derive(Debug)]
pub struct Probe {
    pub name: &'static str,
    pub wat: String,
    /// Outcomes (report `outcome`) that mean blocked.
    pub blocked: &'static [&'static str],
    /// A word the supervisor's detail must contain (the right cause), if any.
    pub cause: Option<&'static str>,
}

fn p(
    name: &'static str,
    body: &str,
    extra: &str,
    blocked: &'static [&'static str],
    cause: Option<&'static str>,
) -> Probe {
    Probe {
        name,
        wat: tool_wat(body, extra, "1"),
        blocked,
        cause,
    }
}

/// A component around a core module using a feature agentbox does not enable;
/// the supervisor must refuse it naming the feature (`cause`).
fn feature(name: &'static str, module: &str, cause: &'static str) -> Probe {
    Probe {
        name,
        wat: format!("(component (core module $m {module}) (core instance (instantiate $m)))"),
        blocked: &["error"],
        cause: Some(cause),
    }
}

/// A tool that, in `call`, drops a handle of a host resource type (wasi:io's
/// `error`) it never received: index `idx` of its own empty handle table.
fn forged_drop(idx: u32) -> String {
    tool_wat(&format!("(call $d (i32.const {})) {OK}", idx as i32), "", "1")
        .replacen(
            "(component\n",
            "(component\n  (import \"wasi:io/error@0.2.0\" (instance $e (export \"error\" (type (sub resource)))))\n  (alias export $e \"error\" (type $err))\n  (core func $drop (canon resource.drop $err))\n  (core instance $x (export \"drop\" (func $drop)))\n",
            1,
        )
        .replacen(
            "(core module $m\n",
            "(core module $m\n    (import \"x\" \"drop\" (func $d (param i32)))\n",
            1,
        )
        .replacen(
            "(core instance $i (instantiate $m))",
            "(core instance $i (instantiate $m (with \"x\" (instance $x))))",
            1,
        )
}

fn ok_if(cond: &str) -> String {
    format!("(if (result i32) {cond} (then {OK}) (else {WRONG}))")
}

pub fn probes(case: &str) -> Vec<Probe> {
    const TRAP: &[&str] = &["trap"];
    match case {
        "WASM-01" => vec![
            p(
                "load just past memory.size",
                "(drop (i32.load (i32.const 65536))) (i32.const 32)",
                "",
                TRAP,
                Some("out of bounds"),
            ),
            p(
                "0xFFFFFFFF base with 0xFFFFFFFF offset",
                "(drop (i32.load offset=4294967295 (i32.const -1))) (i32.const 32)",
                "",
                TRAP,
                Some("out of bounds"),
            ),
            p(
                "store straddling the last page",
                "(i64.store (i32.const 65532) (i64.const -1)) (i32.const 32)",
                "",
                TRAP,
                Some("out of bounds"),
            ),
            p(
                "memory.fill past the end",
                "(memory.fill (i32.const 65000) (i32.const 0) (i32.const 1000)) (i32.const 32)",
                "",
                TRAP,
                Some("out of bounds"),
            ),
        ],
        "WASM-02" => vec![
            p(
                "shifted index wraps to 32 bits",
                &format!(
                    "(i32.store (i32.const 4) (i32.const 1234567)) {}",
                    ok_if(
                        "(i32.eq (i32.load (i32.shl (i32.const 0x40000001) (i32.const 2))) (i32.const 1234567))"
                    )
                ),
                "",
                &["ok"],
                None,
            ),
            p(
                "add wraps around",
                &format!(
                    "(i32.store (i32.const 8) (i32.const 7654321)) {}",
                    ok_if(
                        "(i32.eq (i32.load (i32.add (i32.const -1) (i32.const 9))) (i32.const 7654321))"
                    )
                ),
                "",
                &["ok"],
                None,
            ),
            p(
                "offset folding does not wrap",
                "(drop (i32.load offset=16 (i32.add (i32.const -8) (i32.const 0)))) (i32.const 32)",
                "",
                TRAP,
                Some("out of bounds"),
            ),
        ],
        "WASM-04" => {
            let table = "(type $v (func)) (type $i (func (param i32) (result i32))) (table 4 funcref) (func $f (param i32) (result i32) (local.get 0)) (elem (i32.const 0) $f)";
            vec![
                p(
                    "call_indirect with a mismatched signature",
                    "(call_indirect (type $v) (i32.const 0)) (i32.const 32)",
                    table,
                    TRAP,
                    Some("mismatch"),
                ),
                p(
                    "call_indirect of a null entry",
                    "(drop (call_indirect (type $i) (i32.const 1) (i32.const 2))) (i32.const 32)",
                    table,
                    TRAP,
                    Some("uninitialized"),
                ),
                p(
                    "call_indirect past the table",
                    "(drop (call_indirect (type $i) (i32.const 1) (i32.const 100))) (i32.const 32)",
                    table,
                    TRAP,
                    Some("undefined element"),
                ),
                p(
                    "table.grow then call the new null slot",
                    "(drop (table.grow (ref.null func) (i32.const 4))) (drop (call_indirect (type $i) (i32.const 1) (i32.const 6))) (i32.const 32)",
                    table,
                    TRAP,
                    Some("uninitialized"),
                ),
            ]
        }
        "WASM-05" => vec![
            feature("memory64", "(memory i64 1)", "memory64 must be enabled"),
            feature(
                "shared memory + atomics.wait",
                "(memory 1 1 shared) (func (drop (memory.atomic.wait32 (i32.const 0) (i32.const 0) (i64.const -1))))",
                "threads must be enabled",
            ),
            feature(
                "GC types",
                "(type (struct (field i32))) (func (drop (struct.new_default 0)))",
                "gc",
            ),
            feature(
                "exception handling",
                "(tag $t) (func (throw $t))",
                "exceptions proposal not enabled",
            ),
            feature(
                "tail calls",
                "(func $f (return_call $f))",
                "tail calls support is not enabled",
            ),
            feature("multi-memory", "(memory 1) (memory 1)", "multiple memories"),
            feature(
                "relaxed SIMD",
                "(func (drop (i32x4.relaxed_trunc_f32x4_s (v128.const i32x4 0 0 0 0))))",
                "relaxed SIMD support is not enabled",
            ),
            feature(
                "custom page sizes",
                "(memory 1 (pagesize 1))",
                "custom page sizes proposal",
            ),
            feature(
                "stack switching",
                "(type $f (func)) (type $c (cont $f))",
                "continuation types",
            ),
        ],
        "CM-05" => [0u32, 1, 2, 1234, u32::MAX]
            .iter()
            .map(|idx| Probe {
                name: Box::leak(format!("drop forged wasi:io/error handle {idx}").into_boxed_str()),
                wat: forged_drop(*idx),
                blocked: TRAP,
                cause: Some("handle"),
            })
            .collect(),
        "CM-03" => vec![Probe {
            name: "an async-lifted export with a callback",
            wat: r#"(component
  (core module $m
    (memory (export "memory") 1)
    (func (export "f") (result i32) (i32.const 0))
    (func (export "cb") (param i32 i32 i32) (result i32) (i32.const 0)))
  (core instance $i (instantiate $m))
  (func (export "f") (canon lift (core func $i "f") async (callback (core func $i "cb")))))"#
                .into(),
            blocked: &["error"],
            cause: Some("async"),
        }],
        "RES-01" => vec![p(
            "loop br 0",
            "(loop $l (br $l)) (i32.const 32)",
            "",
            &["timeout"],
            Some("time"),
        )],
        "RES-04" => vec![
            p(
                "memory.grow(65536) returns -1",
                &ok_if("(i32.eq (memory.grow (i32.const 65536)) (i32.const -1))"),
                "",
                &["ok", "limit"],
                None,
            ),
            p(
                "grow one page at a time until refused, never past 64 MiB",
                &format!(
                    "(loop $l (br_if $l (i32.ne (memory.grow (i32.const 1)) (i32.const -1)))) {}",
                    ok_if("(i32.le_u (memory.size) (i32.const 1024))")
                ),
                "",
                &["ok", "limit"],
                None,
            ),
            Probe {
                name: "a 4 GiB minimum",
                wat: tool_wat(OK, "", "65536"),
                blocked: &["limit", "error", "trap"],
                cause: Some("memory"),
            },
        ],
        "RES-06" => vec![
            p(
                "plain recursion",
                "(call $r) (i32.const 32)",
                "(func $r (call $r))",
                TRAP,
                Some("stack"),
            ),
            p(
                "recursion with many locals",
                "(call $r) (i32.const 32)",
                &format!("(func $r (local {}) (call $r))", "i64 ".repeat(2000)),
                TRAP,
                Some("stack"),
            ),
        ],
        "CM-01" => vec![
            p(
                "bad result discriminant",
                "(i32.store8 (i32.const 32) (i32.const 7)) (i32.store (i32.const 36) (i32.const 64)) (i32.store (i32.const 40) (i32.const 11)) (i32.const 32)",
                "",
                TRAP,
                Some("discriminant"),
            ),
            p(
                "string pointer outside memory",
                "(i32.store8 (i32.const 32) (i32.const 0)) (i32.store (i32.const 36) (i32.const 65530)) (i32.store (i32.const 40) (i32.const 100)) (i32.const 32)",
                "",
                TRAP,
                Some("out of bounds"),
            ),
            p(
                "invalid UTF-8",
                "(i32.store8 (i32.const 32) (i32.const 0)) (i32.store (i32.const 36) (i32.const 160)) (i32.store (i32.const 40) (i32.const 3)) (i32.const 32)",
                "",
                TRAP,
                Some("utf-8"),
            ),
            p(
                "return area pointer outside memory",
                "(i32.const 70000)",
                "",
                TRAP,
                Some("out of bounds"),
            ),
        ],
        _ => Vec::new(),
    }
}

/// CAP-01 (TCP, `udp = false`) and CAP-03 (UDP): a component that goes around the
/// HTTP host function with `wasi:sockets`, toward 203.0.113.10:9 (TCP connect) or
/// binding a UDP socket to send from. It answers `Ok("\"step:S code:C\"")` (a JSON string) when a
/// step failed (S: `n` instance-network, `c` create, `x` connect/bind; C: the
/// error-code as `A` + index, so `B` is access-denied) and `Err("wrong answer")`
/// when the socket got through.
pub fn sockets_wat(udp: bool) -> String {
    let (proto, create, sock, action, action_args) = if udp {
        (
            "udp",
            "create-udp-socket",
            "udp-socket",
            "start-bind",
            // Bind to 0.0.0.0:0, the first step of any datagram.
            "(i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0)",
        )
    } else {
        (
            "tcp",
            "create-tcp-socket",
            "tcp-socket",
            "start-connect",
            "(i32.const 0) (i32.const 9) (i32.const 203) (i32.const 0) (i32.const 113) (i32.const 10)",
        )
    };
    let param = if udp {
        "local-address"
    } else {
        "remote-address"
    };
    format!(
        r#"(component
  (import "wasi:sockets/network@0.2.0" (instance $network
    (export "network" (type (sub resource)))
    (type $ec0 (enum "unknown" "access-denied" "not-supported" "invalid-argument" "out-of-memory" "timeout" "concurrency-conflict" "not-in-progress" "would-block" "invalid-state" "new-socket-limit" "address-not-bindable" "address-in-use" "remote-unreachable" "connection-refused" "connection-reset" "connection-aborted" "datagram-too-large" "name-unresolvable" "temporary-resolver-failure" "permanent-resolver-failure"))
    (export "error-code" (type $ec (eq $ec0)))
    (type $fam0 (enum "ipv4" "ipv6"))
    (export "ip-address-family" (type (eq $fam0)))
    (type $v40 (tuple u8 u8 u8 u8))
    (export "ipv4-address" (type $v4 (eq $v40)))
    (type $v60 (tuple u16 u16 u16 u16 u16 u16 u16 u16))
    (export "ipv6-address" (type $v6 (eq $v60)))
    (type $v4sa0 (record (field "port" u16) (field "address" $v4)))
    (export "ipv4-socket-address" (type $v4sa (eq $v4sa0)))
    (type $v6sa0 (record (field "port" u16) (field "flow-info" u32) (field "address" $v6) (field "scope-id" u32)))
    (export "ipv6-socket-address" (type $v6sa (eq $v6sa0)))
    (type $sa0 (variant (case "ipv4" $v4sa) (case "ipv6" $v6sa)))
    (export "ip-socket-address" (type (eq $sa0)))
  ))
  (alias export $network "network" (type $network_t))
  (alias export $network "error-code" (type $error_code))
  (alias export $network "ip-address-family" (type $family))
  (alias export $network "ip-socket-address" (type $socket_address))
  (import "wasi:sockets/instance-network@0.2.0" (instance $inet
    (alias outer 1 $network_t (type $n0))
    (export "network" (type $n (eq $n0)))
    (export "instance-network" (func (result (own $n))))
  ))
  (import "wasi:sockets/{proto}@0.2.0" (instance $proto
    (alias outer 1 $network_t (type $n0))
    (export "network" (type $n (eq $n0)))
    (alias outer 1 $error_code (type $ec0))
    (export "error-code" (type $ec (eq $ec0)))
    (alias outer 1 $socket_address (type $sa0))
    (export "ip-socket-address" (type $sa (eq $sa0)))
    (export "{sock}" (type $s (sub resource)))
    (type $r (result (error $ec)))
    (export "[method]{sock}.{action}" (func (param "self" (borrow $s)) (param "network" (borrow $n)) (param "{param}" $sa) (result $r)))
  ))
  (alias export $proto "{sock}" (type $sock_t))
  (import "wasi:sockets/{proto}-create-socket@0.2.0" (instance $create
    (alias outer 1 $error_code (type $ec0))
    (export "error-code" (type $ec (eq $ec0)))
    (alias outer 1 $family (type $f0))
    (export "ip-address-family" (type $f (eq $f0)))
    (alias outer 1 $sock_t (type $s0))
    (export "{sock}" (type $s (eq $s0)))
    (type $r (result (own $s) (error $ec)))
    (export "{create}" (func (param "address-family" $f) (result $r)))
  ))
  (core module $Mem (memory (export "memory") 1))
  (core instance $mem (instantiate $Mem))
  (alias core export $mem "memory" (core memory $memory))
  (core func $inet_f (canon lower (func $inet "instance-network")))
  (core func $create_f (canon lower (func $create "{create}") (memory $memory)))
  (core func $action_f (canon lower (func $proto "[method]{sock}.{action}") (memory $memory)))
  (core module $m
    (import "env" "memory" (memory 1))
    (import "host" "inet" (func $inet (result i32)))
    (import "host" "create" (func $create (param i32 i32)))
    (import "host" "action" (func $action (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32)))
    (global $bump (mut i32) (i32.const 4096))
    (func $realloc (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
      (local $p i32)
      (local.set $p (global.get $bump))
      (global.set $bump (i32.add (global.get $bump) (i32.add (local.get 3) (i32.const 8))))
      (local.get $p))
    (data (i32.const 16) "{{\"name\":\"t\"}}")
    (data (i32.const 128) "wrong answer")
    (data (i32.const 200) "\"step:? code:?\"")
    (func (export "describe") (result i32)
      (i32.store (i32.const 0) (i32.const 16))
      (i32.store (i32.const 4) (i32.const 12))
      (i32.const 0))
    ;; Ok("\"step:S code:C\""): a JSON string, as a result must be JSON
    (func $failed (param $step i32) (param $code i32) (result i32)
      (i32.store8 (i32.const 206) (local.get $step))
      (i32.store8 (i32.const 213) (i32.add (i32.const 65) (local.get $code)))
      (i32.store8 (i32.const 32) (i32.const 0))
      (i32.store (i32.const 36) (i32.const 200))
      (i32.store (i32.const 40) (i32.const 15))
      (i32.const 32))
    (func (export "call") (param i32 i32) (result i32)
      (local $net i32)
      (local.set $net (call $inet))
      (call $create (i32.const 0) (i32.const 1024))
      (if (i32.load8_u (i32.const 1024))
        (then (return (call $failed (i32.const 99) (i32.load8_u (i32.const 1028))))))
      (call $action (i32.load (i32.const 1028)) (local.get $net) {action_args}
        (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0)
        (i32.const 1040))
      (if (i32.load8_u (i32.const 1040))
        (then (return (call $failed (i32.const 120) (i32.load8_u (i32.const 1041))))))
      (i32.store8 (i32.const 32) (i32.const 1))
      (i32.store (i32.const 36) (i32.const 128))
      (i32.store (i32.const 40) (i32.const 12))
      (i32.const 32))
  )
  (core instance $i (instantiate $m
    (with "env" (instance (export "memory" (memory $memory))))
    (with "host" (instance
      (export "inet" (func $inet_f))
      (export "create" (func $create_f))
      (export "action" (func $action_f))))))
  (func (export "describe") (result string)
    (canon lift (core func $i "describe") (memory $memory) (realloc (core func $i "cabi_realloc"))))
  (func (export "call") (param "input" string) (result (result string (error string)))
    (canon lift (core func $i "call") (memory $memory) (realloc (core func $i "cabi_realloc"))))
)"#
    )
}
