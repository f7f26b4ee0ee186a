//! Preview1 probes: core modules written in WAT against `wasi_snapshot_preview1`
//! (the POSIX-style surface C and Rust guests use), turned into tool components by
//! agentbox's own packer (wit-component and the preview1 adapter) and run by the
//! production worker. Each `call` makes one attempt and answers
//! `{"v":"blocked"|"escaped","e":"NNNNN"}` (the WASI errno); before its attempt
//! every filesystem probe opens `/data/file.txt` as a positive control, so that a
//! wrong descriptor number can never pass for a denial.
//!
//! Descriptors: 3 is the read-only grant `/data`, 4 the read-write grant `/work`
//! (the manifest's order).

/// One preview1 probe.
#[derive(Debug)]
pub struct P1 {
    pub name: String,
    pub wat: String,
    /// Outcomes besides a `blocked` verdict that count as blocked (e.g. `timeout`).
    pub also: &'static [&'static str],
}

const IMPORTS: &str = r#"
  (import "wasi_snapshot_preview1" "path_open" (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_close" (func $fd_close (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_renumber" (func $fd_renumber (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_filestat_set_size" (func $fd_filestat_set_size (param i32 i64) (result i32)))
  (import "wasi_snapshot_preview1" "path_symlink" (func $path_symlink (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_unlink_file" (func $path_unlink_file (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_remove_directory" (func $path_remove_directory (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_create_directory" (func $path_create_directory (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_rename" (func $path_rename (param i32 i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_filestat_set_times" (func $path_filestat_set_times (param i32 i32 i32 i32 i64 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_sizes_get" (func $environ_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $args_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll_oneoff (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_seek" (func $fd_seek (param i32 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_allocate" (func $fd_allocate (param i32 i64 i64) (result i32)))
"#;

/// The module around an attempt. `body` ends with a verdict on the stack (an
/// i32 return-area pointer from `$blocked`/`$escaped`); `$e`, `$i`, `$n` are i32
/// locals; strings are `(data ...)` segments at 8192 and above.
fn module(body: &str, data: &str, control: bool) -> String {
    let control = if control {
        "(if (call $control) (then (return (call $control_failed))))"
    } else {
        ""
    };
    format!(
        r#"(module
  {IMPORTS}
  (memory (export "memory") 3)
  (global $bump (mut i32) (i32.const 32768))
  ;; A bump allocator honouring the requested alignment (the adapter asks for 8).
  (func $realloc (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (local $p i32)
    (local.set $p (i32.and
      (i32.add (global.get $bump) (i32.sub (local.get 2) (i32.const 1)))
      (i32.sub (i32.const 0) (local.get 2))))
    (global.set $bump (i32.add (local.get $p) (local.get 3)))
    (local.get $p))
  (data (i32.const 16) "{{\"name\":\"p1\"}}")
  (data (i32.const 1536) "{{\"v\":\"blocked\",\"e\":\"")
  (data (i32.const 1600) "{{\"v\":\"escaped\",\"e\":\"")
  (data (i32.const 1664) "control: cannot open /data/file.txt")
  (data (i32.const 8192) "file.txt")
  {data}
  (func (export "describe") (result i32)
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const 13))
    (i32.const 0))
  ;; {{"v":...,"e":"NNNNN"}} at 2048, returned as Ok.
  (func $verdict (param $prefix i32) (param $e i32) (result i32)
    (local $k i32)
    (memory.copy (i32.const 2048) (local.get $prefix) (i32.const 20))
    (local.set $k (i32.const 4))
    (loop $d
      (i32.store8 (i32.add (i32.const 2068) (local.get $k))
        (i32.add (i32.const 48) (i32.rem_u (local.get $e) (i32.const 10))))
      (local.set $e (i32.div_u (local.get $e) (i32.const 10)))
      (local.set $k (i32.sub (local.get $k) (i32.const 1)))
      (br_if $d (i32.ge_s (local.get $k) (i32.const 0))))
    (i32.store8 (i32.const 2073) (i32.const 34))
    (i32.store8 (i32.const 2074) (i32.const 125))
    (i32.store8 (i32.const 32) (i32.const 0))
    (i32.store (i32.const 36) (i32.const 2048))
    (i32.store (i32.const 40) (i32.const 27))
    (i32.const 32))
  (func $blocked (param $e i32) (result i32) (call $verdict (i32.const 1536) (local.get $e)))
  ;; Writes the 8-byte name `prefix` + 7 hex digits of `n` at 9100.
  (func $hexname (param $prefix i32) (param $n i32)
    (local $k i32) (local $d i32)
    (i32.store8 (i32.const 9100) (local.get $prefix))
    (loop $l
      (local.set $d (i32.and (i32.shr_u (local.get $n) (i32.mul (i32.sub (i32.const 6) (local.get $k)) (i32.const 4))) (i32.const 15)))
      (i32.store8 (i32.add (i32.const 9101) (local.get $k))
        (i32.add (local.get $d) (select (i32.const 48) (i32.const 87) (i32.lt_u (local.get $d) (i32.const 10)))))
      (local.set $k (i32.add (local.get $k) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $k) (i32.const 7)))))
  (func $escaped (param $e i32) (result i32) (call $verdict (i32.const 1600) (local.get $e)))
  ;; 1 if /data/file.txt cannot be opened for reading through fd 3.
  (func $control (result i32)
    (i32.ne (i32.const 0)
      (call $path_open (i32.const 3) (i32.const 0) (i32.const 8192) (i32.const 8)
        (i32.const 0) (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 1000))))
  (func $control_failed (result i32)
    (i32.store8 (i32.const 32) (i32.const 1))
    (i32.store (i32.const 36) (i32.const 1664))
    (i32.store (i32.const 40) (i32.const 35))
    (i32.const 32))
  ;; errno 0 (success) escapes; anything else is a denial.
  (func $fail_or_escape (param $e i32) (result i32)
    (if (result i32) (i32.eqz (local.get $e))
      (then (call $escaped (i32.const 0)))
      (else (call $blocked (local.get $e)))))
  (func (export "call") (param i32 i32) (result i32)
    (local $e i32) (local $i i32) (local $n i32)
    {control}
    {body})
)"#
    )
}

fn wat_str(s: &[u8]) -> String {
    s.iter().map(|b| format!("\\{b:02x}")).collect()
}

fn probe(name: impl Into<String>, body: &str, data: &str) -> P1 {
    P1 {
        name: name.into(),
        wat: module(body, data, true),
        also: &[],
    }
}

/// path_open(`dirfd`, `lookup`, path, oflags, rights) must fail.
fn open_fails(name: &str, dirfd: u32, lookup: u32, path: &[u8], oflags: u32, rights: u64) -> P1 {
    probe(
        name,
        &format!(
            "(call $fail_or_escape (call $path_open (i32.const {dirfd}) (i32.const {lookup}) (i32.const 9000) (i32.const {}) (i32.const {oflags}) (i64.const {rights}) (i64.const 0) (i32.const 0) (i32.const 1000)))",
            path.len()
        ),
        &format!("(data (i32.const 9000) \"{}\")", wat_str(path)),
    )
}

/// A path-taking call on `dirfd` must fail: `call` is the function name, args
/// after (fd, ptr, len).
fn path_call_fails(name: &str, f: &str, dirfd: u32, path: &[u8], extra: &str) -> P1 {
    probe(
        name,
        &format!(
            "(call $fail_or_escape (call {f} (i32.const {dirfd}) {extra_before}(i32.const 9000) (i32.const {}){extra}))",
            path.len(),
            extra_before = if f == "$path_filestat_set_times" {
                "(i32.const 0) "
            } else {
                ""
            },
        ),
        &format!("(data (i32.const 9000) \"{}\")", wat_str(path)),
    )
}

const READ: u64 = 2;
const WRITE: u64 = 64;
/// WASI errno `nospc`.
const NOSPC: u32 = 51;

/// Opens (creating) `name` in the scratch space (fd 5) into `$n`; a failure to
/// open proves nothing and is reported as escaped with 90000 + errno.
fn scratch_open(name: &str) -> String {
    format!(
        "(local.set $e (call $path_open (i32.const 5) (i32.const 0) (i32.const 9000) (i32.const {}) (i32.const 1) (i64.const {}) (i64.const 0) (i32.const 0) (i32.const 1000)))
         (if (local.get $e) (then (return (call $escaped (i32.add (i32.const 90000) (local.get $e))))))
         (local.set $n (i32.load (i32.const 1000)))",
        name.len(),
        WRITE | 4 | (1 << 22)
    )
}

/// Blocked when the loop ended with ENOSPC after more than one and at most
/// `max` rounds (the quota, not something else, stopped it); else escaped with
/// the round count.
fn quota_verdict(max: u32) -> String {
    format!(
        "(if (result i32) (i32.and (i32.eq (local.get $e) (i32.const {NOSPC}))
              (i32.and (i32.gt_u (local.get $i) (i32.const 1)) (i32.le_u (local.get $i) (i32.const {max}))))
           (then (call $blocked (local.get $e)))
           (else (call $escaped (local.get $i))))"
    )
}
const FOLLOW: u32 = 1;

pub fn probes(case: &str) -> Vec<P1> {
    match case {
        "FS-01" => ["../../../etc/passwd", "sub/../../x", "./../x", "../../host/sentinel.txt"]
            .iter()
            .map(|p| open_fails(&format!("open {p} from /data"), 3, 0, p.as_bytes(), 0, READ))
            .collect(),
        "FS-02" => vec![
            open_fails("absolute /etc/passwd", 3, 0, b"/etc/passwd", 0, READ),
            open_fails("embedded NUL (file.txt\\0x)", 3, 0, b"file.txt\0x", 0, READ),
            open_fails("absolute path on the rw grant", 4, 0, b"/etc/passwd", 0, READ),
        ],
        "FS-03" => vec![
            probe(
                "symlink up -> ../../../../etc, then open up/passwd",
                "(drop (call $path_symlink (i32.const 9000) (i32.const 14) (i32.const 4) (i32.const 9100) (i32.const 2)))
                 (call $fail_or_escape (call $path_open (i32.const 4) (i32.const 1) (i32.const 9200) (i32.const 9) (i32.const 0) (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 1000)))",
                r#"(data (i32.const 9000) "../../../../etc") (data (i32.const 9100) "up") (data (i32.const 9200) "up/passwd")"#,
            ),
            probe(
                "symlink to the lab's sentinel, then open it",
                "(drop (call $path_symlink (i32.const 9000) (i32.const 23) (i32.const 4) (i32.const 9100) (i32.const 1)))
                 (call $fail_or_escape (call $path_open (i32.const 4) (i32.const 1) (i32.const 9100) (i32.const 1) (i32.const 0) (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 1000)))",
                r#"(data (i32.const 9000) "../../host/sentinel.txt") (data (i32.const 9100) "s")"#,
            ),
        ],
        "FS-04" => vec![probe(
            "create an absolute symlink /etc/passwd in the rw grant",
            "(call $fail_or_escape (call $path_symlink (i32.const 9000) (i32.const 11) (i32.const 4) (i32.const 9100) (i32.const 3)))",
            r#"(data (i32.const 9000) "/etc/passwd") (data (i32.const 9100) "abs")"#,
        )],
        "FS-05" => ["planted/abs", "planted/loop1", "planted/chain0", "planted/up", "planted/dotdot/../../host/sentinel.txt"]
            .iter()
            .map(|p| open_fails(&format!("follow {p}"), 3, FOLLOW, p.as_bytes(), 0, READ))
            .collect(),
        "FS-07" => vec![
            open_fails("open TRUNC with read rights only", 3, 0, b"file.txt", 8, READ),
            open_fails("open TRUNC with write rights", 3, 0, b"file.txt", 8, READ | WRITE),
            open_fails("open for writing", 3, 0, b"file.txt", 0, WRITE),
        ],
        "FS-09" => vec![
            path_call_fails("set-times", "$path_filestat_set_times", 3, b"file.txt", " (i64.const 0) (i64.const 0) (i32.const 10)"),
            probe(
                "set-size on a read-only descriptor",
                "(drop (call $path_open (i32.const 3) (i32.const 0) (i32.const 8192) (i32.const 8) (i32.const 0) (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 1000)))
                 (call $fail_or_escape (call $fd_filestat_set_size (i32.load (i32.const 1000)) (i64.const 0)))",
                "",
            ),
            path_call_fails("unlink", "$path_unlink_file", 3, b"file.txt", ""),
            path_call_fails("rmdir", "$path_remove_directory", 3, b"sub", ""),
            path_call_fails("mkdir", "$path_create_directory", 3, b"newdir", ""),
            probe(
                "rename",
                "(call $fail_or_escape (call $path_rename (i32.const 3) (i32.const 8192) (i32.const 8) (i32.const 3) (i32.const 9000) (i32.const 5)))",
                r#"(data (i32.const 9000) "moved")"#,
            ),
            probe(
                "symlink",
                "(call $fail_or_escape (call $path_symlink (i32.const 8192) (i32.const 8) (i32.const 3) (i32.const 9000) (i32.const 3)))",
                r#"(data (i32.const 9000) "lnk")"#,
            ),
        ],
        "FS-12" => vec![
            probe(
                "renumber a preopen onto stdin, then open through it",
                "(drop (call $fd_renumber (i32.const 3) (i32.const 0)))
                 (call $fail_or_escape (call $path_open (i32.const 0) (i32.const 0) (i32.const 9000) (i32.const 23) (i32.const 0) (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 1000)))",
                r#"(data (i32.const 9000) "../../host/sentinel.txt")"#,
            ),
            probe(
                "renumber onto itself and onto a huge fd",
                "(drop (call $fd_renumber (i32.const 3) (i32.const 3)))
                 (call $fail_or_escape (call $fd_renumber (i32.const 3) (i32.const 1000000)))",
                "",
            ),
            probe(
                "close a preopen, then reuse it",
                "(drop (call $fd_close (i32.const 3)))
                 (call $fail_or_escape (call $path_open (i32.const 3) (i32.const 0) (i32.const 8192) (i32.const 8) (i32.const 0) (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 1000)))",
                "",
            ),
            probe(
                "100000 renumber round trips",
                "(loop $l
                   (drop (call $fd_renumber (i32.const 4) (i32.const 9)))
                   (drop (call $fd_renumber (i32.const 9) (i32.const 4)))
                   (local.set $i (i32.add (local.get $i) (i32.const 1)))
                   (br_if $l (i32.lt_u (local.get $i) (i32.const 100000))))
                 ;; Still a working preopen afterwards, and nothing leaked: a denial.
                 (call $blocked (call $path_open (i32.const 4) (i32.const 0) (i32.const 9000) (i32.const 1) (i32.const 2) (i64.const 0) (i64.const 0) (i32.const 0) (i32.const 1000)))",
                r#"(data (i32.const 9000) ".")"#,
            ),
        ],
        "FS-13" => vec![P1 {
            also: &["timeout"],
            ..probe(
                "open and read a FIFO planted in the grant",
                "(local.set $e (call $path_open (i32.const 3) (i32.const 0) (i32.const 9000) (i32.const 4) (i32.const 0) (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 1000)))
                 (if (i32.eqz (local.get $e)) (then
                   (i32.store (i32.const 1100) (i32.const 1200))
                   (i32.store (i32.const 1104) (i32.const 16))
                   (local.set $e (call $fd_read (i32.load (i32.const 1000)) (i32.const 1100) (i32.const 1) (i32.const 1108)))))
                 ;; A read that returned (no writer: EOF or an error) did not hang.
                 (call $blocked (local.get $e))",
                r#"(data (i32.const 9000) "fifo")"#,
            )
        }],
        // A trap is a contained refusal here: the guest's own adapter gives up
        // (a 64 KiB path), or the host refuses to lift a non-UTF-8 string.
        "FS-14" => vec![
            P1 { also: &["trap"], ..probe(
                "a 64 KiB path",
                "(memory.fill (i32.const 65536) (i32.const 97) (i32.const 65536))
                 (call $fail_or_escape (call $path_open (i32.const 4) (i32.const 0) (i32.const 65536) (i32.const 65536) (i32.const 1) (i64.const 66) (i64.const 0) (i32.const 0) (i32.const 1000)))",
                "",
            ) },
            probe(
                "a 300-byte name",
                "(memory.fill (i32.const 65536) (i32.const 98) (i32.const 300))
                 (call $fail_or_escape (call $path_open (i32.const 4) (i32.const 0) (i32.const 65536) (i32.const 300) (i32.const 1) (i64.const 66) (i64.const 0) (i32.const 0) (i32.const 1000)))",
                "",
            ),
            P1 { also: &["trap"], ..open_fails("invalid UTF-8 in a path", 4, 0, b"bad\xff\xfe", 1, READ | WRITE) },
        ],
        "CAP-04" => vec![
            P1 {
                name: "environment variables visible".into(),
                wat: module(
                    "(drop (call $environ_sizes_get (i32.const 1000) (i32.const 1004)))
                     (if (result i32) (i32.eqz (i32.load (i32.const 1000)))
                       (then (call $blocked (i32.const 0)))
                       (else (call $escaped (i32.load (i32.const 1000)))))",
                    "",
                    false,
                ),
                also: &[],
            },
            P1 {
                name: "arguments visible".into(),
                wat: module(
                    "(drop (call $args_sizes_get (i32.const 1000) (i32.const 1004)))
                     (if (result i32) (i32.le_u (i32.load (i32.const 1000)) (i32.const 1))
                       (then (call $blocked (i32.load (i32.const 1000))))
                       (else (call $escaped (i32.load (i32.const 1000)))))",
                    "",
                    false,
                ),
                also: &[],
            },
        ],
        "CAP-06" => vec![P1 {
            name: "read the operator's stdin".into(),
            wat: module(
                "(i32.store (i32.const 1100) (i32.const 1200))
                 (i32.store (i32.const 1104) (i32.const 64))
                 (local.set $e (call $fd_read (i32.const 0) (i32.const 1100) (i32.const 1) (i32.const 1108)))
                 (if (result i32) (i32.and (i32.eqz (local.get $e)) (i32.gt_u (i32.load (i32.const 1108)) (i32.const 0)))
                   (then (call $escaped (i32.load (i32.const 1108))))
                   (else (call $blocked (local.get $e))))",
                "",
                false,
            ),
            also: &[],
        }],
        "RES-03" => vec![P1 {
            name: "poll_oneoff on a one-hour clock".into(),
            wat: module(
                ";; subscription: userdata 0, tag clock (0), clock id monotonic (1), timeout 3600 s
                 (i64.store (i32.const 4096) (i64.const 0))
                 (i32.store8 (i32.const 4104) (i32.const 0))
                 (i32.store (i32.const 4112) (i32.const 1))
                 (i64.store (i32.const 4120) (i64.const 3600000000000))
                 (i64.store (i32.const 4128) (i64.const 0))
                 (i32.store16 (i32.const 4136) (i32.const 0))
                 (drop (call $poll_oneoff (i32.const 4096) (i32.const 5000) (i32.const 1) (i32.const 1000)))
                 (call $escaped (i32.const 0))",
                "",
                false,
            ),
            also: &["timeout"],
        }],
        "RES-07" => vec![
            P1 {
                name: "10 GiB to stdout in 64 KiB writes".into(),
                wat: module(
                    "(i32.store (i32.const 1100) (i32.const 65536))
                     (i32.store (i32.const 1104) (i32.const 65536))
                     (loop $l
                       (local.set $e (call $fd_write (i32.const 1) (i32.const 1100) (i32.const 1) (i32.const 1108)))
                       (local.set $i (i32.add (local.get $i) (i32.const 1)))
                       (br_if $l (i32.and (i32.eqz (local.get $e)) (i32.lt_u (local.get $i) (i32.const 163840)))))
                     (call $fail_or_escape (local.get $e))",
                    "",
                    false,
                ),
                also: &["limit", "timeout"],
            },
            P1 {
                name: "one-byte writes to stderr".into(),
                wat: module(
                    "(i32.store (i32.const 1100) (i32.const 65536))
                     (i32.store (i32.const 1104) (i32.const 1))
                     (loop $l
                       (local.set $e (call $fd_write (i32.const 2) (i32.const 1100) (i32.const 1) (i32.const 1108)))
                       (local.set $i (i32.add (local.get $i) (i32.const 1)))
                       (br_if $l (i32.and (i32.eqz (local.get $e)) (i32.lt_u (local.get $i) (i32.const 100000000)))))
                     (call $fail_or_escape (local.get $e))",
                    "",
                    false,
                ),
                also: &["limit", "timeout"],
            },
        ],
        // The case's manifest grants /scratch (fd 5): 4 MiB, 256 files.
        "RES-08" => vec![
            probe(
                "write 64 KiB chunks into the scratch space until refused (up to 1 GiB)",
                &format!(
                    "{}
                     (i32.store (i32.const 1100) (i32.const 65536))
                     (i32.store (i32.const 1104) (i32.const 65536))
                     (loop $l
                       (local.set $e (call $fd_write (local.get $n) (i32.const 1100) (i32.const 1) (i32.const 1108)))
                       (local.set $i (i32.add (local.get $i) (i32.const 1)))
                       (br_if $l (i32.and (i32.eqz (local.get $e)) (i32.lt_u (local.get $i) (i32.const 16384)))))
                     {}",
                    scratch_open("big"),
                    quota_verdict(66)
                ),
                r#"(data (i32.const 9000) "big")"#,
            ),
            probe(
                "ftruncate to 1 TiB, then write 64 KiB at every MiB (sparse)",
                &format!(
                    "{}
                     (drop (call $fd_filestat_set_size (local.get $n) (i64.const 1099511627776)))
                     (i32.store (i32.const 1100) (i32.const 65536))
                     (i32.store (i32.const 1104) (i32.const 65536))
                     (loop $l
                       (drop (call $fd_seek (local.get $n) (i64.shl (i64.extend_i32_u (local.get $i)) (i64.const 20)) (i32.const 0) (i32.const 1112)))
                       (local.set $e (call $fd_write (local.get $n) (i32.const 1100) (i32.const 1) (i32.const 1108)))
                       (local.set $i (i32.add (local.get $i) (i32.const 1)))
                       (br_if $l (i32.and (i32.eqz (local.get $e)) (i32.lt_u (local.get $i) (i32.const 16384)))))
                     {}",
                    scratch_open("sparse"),
                    quota_verdict(70)
                ),
                r#"(data (i32.const 9000) "sparse")"#,
            ),
            probe(
                "fallocate 1 TiB",
                &format!(
                    "{}
                     (call $fail_or_escape (call $fd_allocate (local.get $n) (i64.const 0) (i64.const 1099511627776)))",
                    scratch_open("alloc")
                ),
                r#"(data (i32.const 9000) "alloc")"#,
            ),
        ],
        "RES-09" => vec![
            probe(
                "create empty files in the scratch space until refused (up to 10 million)",
                &format!(
                    "(loop $l
                       (call $hexname (i32.const 102) (local.get $i))
                       (local.set $e (call $path_open (i32.const 5) (i32.const 0) (i32.const 9100) (i32.const 8) (i32.const 5) (i64.const {WRITE}) (i64.const 0) (i32.const 0) (i32.const 1000)))
                       (if (i32.eqz (local.get $e)) (then (drop (call $fd_close (i32.load (i32.const 1000))))))
                       (local.set $i (i32.add (local.get $i) (i32.const 1)))
                       (br_if $l (i32.and (i32.eqz (local.get $e)) (i32.lt_u (local.get $i) (i32.const 10000000)))))
                     {}",
                    quota_verdict(300)
                ),
                "",
            ),
            probe(
                "create directories in the scratch space until refused",
                &format!(
                    "(loop $l
                       (call $hexname (i32.const 100) (local.get $i))
                       (local.set $e (call $path_create_directory (i32.const 5) (i32.const 9100) (i32.const 8)))
                       (local.set $i (i32.add (local.get $i) (i32.const 1)))
                       (br_if $l (i32.and (i32.eqz (local.get $e)) (i32.lt_u (local.get $i) (i32.const 10000000)))))
                     {}",
                    quota_verdict(300)
                ),
                "",
            ),
        ],
        "RES-10" => vec![P1 {
            also: &["limit"],
            ..probe(
                "open one file a million times",
                "(loop $l
                   (local.set $e (call $path_open (i32.const 3) (i32.const 0) (i32.const 8192) (i32.const 8) (i32.const 0) (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 1000)))
                   (local.set $i (i32.add (local.get $i) (i32.const 1)))
                   (br_if $l (i32.and (i32.eqz (local.get $e)) (i32.lt_u (local.get $i) (i32.const 1000000)))))
                 (call $fail_or_escape (local.get $e))",
                "",
            )
        }],
        _ => Vec::new(),
    }
}

/// A tool that creates `/work/ran` and answers: the "did it run at all" marker of
/// the fail-closed cases (LL-14, SUP-04).
pub fn marker() -> String {
    module(
        "(call $blocked (call $path_open (i32.const 4) (i32.const 0) (i32.const 9000) (i32.const 3) (i32.const 1) (i64.const 64) (i64.const 0) (i32.const 0) (i32.const 1000)))",
        r#"(data (i32.const 9000) "ran")"#,
        false,
    )
}
