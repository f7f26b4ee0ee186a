//! A hostile worker (catalog SUP): a fake worker executable that writes malformed,
//! oversized or out-of-order frames on the supervisor socket. Each invocation is
//! killed with a clear outcome, and the supervisor survives: the next real
//! invocation works.

mod common;
use agentbox_audit::AuditLog;
use agentbox_host::Invocation;
use agentbox_ipc::{
    ConfinementReport, Limit, LogLevel, Outcome, ToSupervisor, WorkerResult, encode,
};
use agentbox_policy::Manifest;
use agentbox_supervisor::{Options, Supervisor};
use common::*;
use std::path::PathBuf;
use std::sync::Arc;

fn fake_worker(sb: &Sandbox, frames: &[u8]) -> PathBuf {
    let data = sb.write_bytes("frames.bin", frames);
    sb.write_script(
        "fake-worker.sh",
        &format!("#!/bin/sh\n/bin/cat {} >&3\n/bin/sleep 1\n", data.display()),
    )
}

fn setup(sb: &Sandbox) -> Manifest {
    sb.wat("t.wasm", &tool_wat(OK_BODY, ""));
    let m = sb.manifest(&tool_manifest(
        "t.wasm",
        "[tools.t.limits]\ntimeout = \"3s\"\n",
    ));
    Manifest::load(&m).expect("manifest")
}

fn run_with(sb: &Sandbox, m: &Manifest, worker: Option<PathBuf>) -> agentbox_supervisor::RunOutput {
    let sup = Supervisor::new(&Options {
        cache_dir: Some(sb.path("cache/c")),
        worker_exe: Some(worker.unwrap_or_else(worker_bin)),
        // The hostile worker plays the run worker; the compile worker is real.
        compile_exe: Some(PathBuf::from(bin())),
        ..Options::default()
    })
    .expect("supervisor");
    let tool = m.tool(None).expect("tool").clone();
    sup.run(
        m,
        &tool,
        &Invocation {
            input: "{}".into(),
            ..Default::default()
        },
        Arc::new(AuditLog::memory("t")),
    )
}

fn frame(msg: &ToSupervisor) -> Vec<u8> {
    encode(msg).expect("encode")
}

fn done() -> ToSupervisor {
    ToSupervisor::Done(Box::new(WorkerResult {
        outcome: Outcome::Ok,
        limit: None,
        exit_code: Some(0),
        detail: String::new(),
        output: Some("{\"forged\":true}".into()),
        tool_error: None,
        stdout: Vec::new(),
        stderr: Vec::new(),
        unusable_component: false,
        limits_hit: Vec::new(),
    }))
}

#[test]
fn malformed_oversized_and_out_of_order_frames_are_killed() {
    let sb = Sandbox::new();
    let m = setup(&sb);
    let mut oversized = frame(&ToSupervisor::Log {
        level: LogLevel::Info,
        message: "x".into(),
    });
    oversized[6..10].copy_from_slice(&u32::MAX.to_le_bytes());
    let mut bad_version = frame(&done());
    bad_version[4] = 7;
    let mut garbage_payload = frame(&ToSupervisor::Ready(ConfinementReport::default()));
    for b in garbage_payload.iter_mut().skip(10) {
        *b = 0xff;
    }
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "garbage",
            b"\x00\x01not a frame at all, just bytes".to_vec(),
            "bad frame magic",
        ),
        ("oversized", oversized, "over the limit"),
        ("bad version", bad_version, "protocol version 7"),
        ("garbage payload", garbage_payload, "malformed message"),
        (
            "done before ready",
            frame(&done()),
            "unexpected before Ready: Done",
        ),
        (
            "ready twice",
            [
                frame(&ToSupervisor::Ready(ConfinementReport::default())),
                frame(&ToSupervisor::Ready(ConfinementReport::default())),
            ]
            .concat(),
            "unexpected after Ready: Ready",
        ),
        (
            "setup failed after ready",
            [
                frame(&ToSupervisor::Ready(ConfinementReport::default())),
                frame(&ToSupervisor::SetupFailed {
                    step: "x".into(),
                    message: "y".into(),
                }),
            ]
            .concat(),
            "unexpected after Ready: SetupFailed",
        ),
    ];
    for (what, bytes, expect) in cases {
        let w = fake_worker(&sb, &bytes);
        let out = run_with(&sb, &m, Some(w));
        assert_eq!(
            out.report.outcome,
            Outcome::SandboxError,
            "{what}: {:?}",
            out.report
        );
        assert_eq!(out.status, 125, "{what}");
        assert!(
            out.report.detail.contains(expect),
            "{what}: {}",
            out.report.detail
        );
        assert!(out.output.is_none(), "{what}: a forged result was accepted");
    }
    // A worker that dies without a result.
    let w = fake_worker(
        &sb,
        &frame(&ToSupervisor::Ready(ConfinementReport::default())),
    );
    let out = run_with(&sb, &m, Some(w));
    assert_eq!(out.report.outcome, Outcome::SandboxError);
    assert!(
        out.report.detail.contains("without a result"),
        "{}",
        out.report.detail
    );
    // The supervisor survived: the next real invocation works.
    let out = run_with(&sb, &m, None);
    assert_eq!(out.status, 0, "{:?}", out.report);
    assert_eq!(out.output.as_deref(), Some("{\"ok\":true}"));
}

/// A worker that says it could not load its component gets one retry with the
/// component compiled again (a damaged cache entry) — but not after it logged or
/// made requests: then its answer stands, and the tool never runs twice for one
/// invocation.
#[test]
fn a_claimed_unusable_component_is_retried_only_when_nothing_ran() {
    let sb = Sandbox::new();
    let m = setup(&sb);
    // The real worker fills the cache first.
    assert_eq!(run_with(&sb, &m, None).status, 0);
    let count = sb.path("starts");
    let counting = |frames: &[u8]| {
        let data = sb.write_bytes("frames.bin", frames);
        sb.write_script(
            "counting-worker.sh",
            &format!(
                "#!/bin/sh\necho start >> {}\n/bin/cat {} >&3\n/bin/sleep 1\n",
                count.display(),
                data.display()
            ),
        )
    };
    let starts = || {
        std::fs::read_to_string(&count)
            .map(|s| s.lines().count())
            .unwrap_or(0)
    };
    let ready = frame(&ToSupervisor::Ready(ConfinementReport::default()));
    let unusable = frame(&ToSupervisor::Done(Box::new(WorkerResult {
        outcome: Outcome::Error,
        limit: None,
        exit_code: None,
        detail: "cannot load the component".into(),
        output: None,
        tool_error: None,
        stdout: Vec::new(),
        stderr: Vec::new(),
        unusable_component: true,
        limits_hit: Vec::new(),
    })));
    let log = frame(&ToSupervisor::Log {
        level: LogLevel::Info,
        message: "the tool ran".into(),
    });
    // After a log line: one start only.
    let w = counting(&[ready.clone(), log, unusable.clone()].concat());
    let out = run_with(&sb, &m, Some(w));
    assert_eq!(out.status, 125, "{:?}", out.report);
    assert!(out.report.detail.contains("cannot load the component"));
    assert_eq!(starts(), 1, "retried after the tool had run");
    // Before anything reached the supervisor: one retry (here the same fake
    // worker answers again, and that answer stands), and no more.
    std::fs::remove_file(&count).expect("rm");
    let w = counting(&[ready, unusable].concat());
    let out = run_with(&sb, &m, Some(w));
    assert_eq!(out.status, 125, "{:?}", out.report);
    assert_eq!(starts(), 2, "one retry");
    // The cache entry was compiled again: the real worker runs from it.
    let out = run_with(&sb, &m, None);
    assert_eq!(out.status, 0, "{:?}", out.report);
}

/// Text a (compromised) worker sends is vetted by the supervisor: a result is
/// kept only with outcome `ok`, an `Err` text only with `tool_error`; the detail
/// and guest log lines reach the report and the audit log with every control and
/// bidi character escaped.
#[test]
fn text_from_a_worker_cannot_forge_output_or_control_bytes() {
    let sb = Sandbox::new();
    let m = setup(&sb);
    let forged = [
        frame(&ToSupervisor::Ready(ConfinementReport::default())),
        frame(&ToSupervisor::Log {
            level: LogLevel::Info,
            message: "\u{1b}]52;c;ZXZpbA==\u{7}\u{9b}2J\u{202e}\nagentbox: ok".into(),
        }),
        frame(&ToSupervisor::Done(Box::new(WorkerResult {
            outcome: Outcome::Trap,
            detail: "the guest trapped: \u{1b}]0;pwned\u{7}\u{85}\u{2028}".into(),
            output: Some("{\"forged\":true}".into()),
            tool_error: Some("forged".into()),
            limits_hit: vec![Limit::Memory],
            ..match done() {
                ToSupervisor::Done(r) => *r,
                _ => unreachable!(),
            }
        }))),
    ]
    .concat();
    let w = fake_worker(&sb, &forged);
    let sup = Supervisor::new(&Options {
        cache_dir: Some(sb.path("cache/c")),
        worker_exe: Some(w),
        compile_exe: Some(PathBuf::from(bin())),
        ..Options::default()
    })
    .expect("supervisor");
    let tool = m.tool(None).expect("tool").clone();
    let audit = Arc::new(AuditLog::memory("t"));
    let out = sup.run(
        &m,
        &tool,
        &Invocation {
            input: "{}".into(),
            ..Default::default()
        },
        audit.clone(),
    );
    assert_eq!(out.report.outcome, Outcome::Trap, "{:?}", out.report);
    assert_eq!(out.status, 134);
    assert!(out.output.is_none(), "a result with outcome trap was kept");
    assert!(
        out.tool_error.is_none(),
        "an Err text without tool_error was kept"
    );
    assert_eq!(
        out.report.detail,
        "the guest trapped: \\u{1b}]0;pwned\\u{7}\\u{85}\\u{2028}"
    );
    assert_eq!(out.report.limits_hit, vec![Limit::Memory]);
    let unsafe_char =
        |c: char| c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2028}' | '\u{2029}');
    let lines = audit.lines();
    assert!(lines.iter().any(|l| l.contains("guest_log")), "{lines:?}");
    for l in &lines {
        assert!(!l.chars().any(unsafe_char), "raw control in audit: {l:?}");
        // serde's \u001b escape is safe on a terminal, but not even that is
        // left: the text is escaped before it is recorded.
        assert!(!l.contains("\\u001b"), "{l}");
    }
}

/// A worker speaks only in agentbox's words: a `Done` whose outcome or limit is
/// not one of them does not decode, and the worker is killed as having broken
/// the protocol — its forged result, output and words reach nothing.
#[test]
fn a_word_agentbox_does_not_know_is_a_broken_frame() {
    /// `ToSupervisor::Done` as postcard lays it out, with the enum words
    /// replaced by raw variant numbers a worker can put on the wire.
    #[derive(serde::Serialize)]
    enum Forged {
        _Ready(ConfinementReport),
        _Fetch,
        _Log,
        Done(Box<RawResult>),
    }
    #[derive(serde::Serialize)]
    struct RawResult {
        outcome: u32,
        limit: Option<u32>,
        exit_code: Option<i32>,
        detail: String,
        output: Option<String>,
        tool_error: Option<String>,
        stdout: Vec<u8>,
        stderr: Vec<u8>,
        unusable_component: bool,
        limits_hit: Vec<u32>,
    }
    let raw = |outcome: u32, limit: Option<u32>, hit: u32| {
        encode(&Forged::Done(Box::new(RawResult {
            outcome,
            limit,
            exit_code: Some(0),
            detail: "forged".into(),
            output: Some("{\"forged\":true}".into()),
            tool_error: None,
            stdout: b"forged stdout".to_vec(),
            stderr: Vec::new(),
            unusable_component: false,
            limits_hit: vec![hit],
        })))
        .expect("encode")
    };
    // The control: the same layout with words agentbox knows is accepted.
    let known = raw(0, None, 2);
    let cases = [
        ("known words", known, Outcome::Ok),
        ("unknown outcome", raw(99, None, 2), Outcome::SandboxError),
        ("unknown limit", raw(4, Some(99), 2), Outcome::SandboxError),
        (
            "unknown limits_hit word",
            raw(0, None, 99),
            Outcome::SandboxError,
        ),
    ];
    for (what, done, expected) in cases {
        let sb = Sandbox::new();
        let m = setup(&sb);
        let frames = [
            frame(&ToSupervisor::Ready(ConfinementReport::default())),
            done,
        ]
        .concat();
        let out = run_with(&sb, &m, Some(fake_worker(&sb, &frames)));
        assert_eq!(out.report.outcome, expected, "{what}: {:?}", out.report);
        if expected == Outcome::SandboxError {
            assert_eq!(out.status, 125, "{what}");
            assert!(out.output.is_none(), "{what}: the forged result was kept");
            assert!(out.stdout.is_empty(), "{what}: the forged stdout was kept");
            assert!(
                out.report.detail.contains("broke the protocol"),
                "{what}: {}",
                out.report.detail
            );
        } else {
            assert_eq!(out.report.limits_hit, vec![Limit::Memory], "{what}");
        }
    }
}
