//! Malformed components are refused with 125 and a clear message; the sha256 pin is
//! enforced; the compile cache only loads files it could have written.

mod common;
use common::*;
use std::os::unix::fs::PermissionsExt;

/// Refused twice, the same way: the first run compiles the component and checks it
/// in the supervisor; the second finds it in the cache, and the worker (which
/// deserializes and links it) refuses it instead.
fn refused(sb: &Sandbox, expect: &str) {
    let mut first = None;
    for run in ["first run", "second run (cache hit)"] {
        let (out, report) = sb.run_report(&[]);
        assert_eq!(out.code, 125, "{run}: {out:?}");
        assert_eq!(report["outcome"], "error", "{run}");
        assert_eq!(out.stdout, "", "{run}");
        assert!(
            out.stderr.starts_with("agentbox: "),
            "{run}: {}",
            out.stderr
        );
        assert!(
            out.stderr.contains(expect),
            "{run}: expected `{expect}` in: {}",
            out.stderr
        );
        assert_eq!(
            out.stderr.lines().count(),
            1,
            "{run}: one line: {}",
            out.stderr
        );
        let first = first.get_or_insert_with(|| out.stderr.clone());
        assert_eq!(*first, out.stderr, "{run}: worded as the first");
    }
}

#[test]
fn not_wasm() {
    let sb = Sandbox::new();
    sb.write("t.wasm", "#!/bin/sh\necho pwned\n");
    sb.manifest(&tool_manifest("t.wasm", ""));
    refused(
        &sb,
        "t.wasm: is not a WebAssembly binary (no \\0asm header)",
    );
}

#[test]
fn empty_file() {
    let sb = Sandbox::new();
    sb.write("t.wasm", "");
    sb.manifest(&tool_manifest("t.wasm", ""));
    refused(&sb, "is not a WebAssembly binary");
}

#[test]
fn core_module_is_not_a_component() {
    let sb = Sandbox::new();
    sb.wat("t.wasm", "(module (func (export \"call\")))");
    sb.manifest(&tool_manifest("t.wasm", ""));
    // A core module runs only as kind command (tests/preview1.rs); as a tool it
    // is refused, and told how to make a tool of it.
    refused(
        &sb,
        "it is a WASI preview1 core module, which agentbox runs only as kind \"command\"; for a tool, turn a reactor module into a component with `agentbox pack IN.wasm -o OUT.wasm`",
    );
}

#[test]
fn truncated_component() {
    let sb = Sandbox::new();
    let bytes = wat::parse_str(tool_wat(OK_BODY, "")).expect("wat");
    sb.write_bytes("t.wasm", &bytes[..bytes.len() / 2]);
    sb.manifest(&tool_manifest("t.wasm", ""));
    refused(&sb, "is not a valid component for agentbox");
}

#[test]
fn missing_export() {
    let sb = Sandbox::new();
    // A component exporting only `describe`.
    let text = tool_wat(OK_BODY, "");
    let cut = text
        .find("  (func (export \"call\") (param \"input\"")
        .expect("call export");
    let text = format!("{})", &text[..cut]);
    sb.wat("t.wasm", &text);
    sb.manifest(&tool_manifest("t.wasm", ""));
    refused(
        &sb,
        "the component is not a tool (world agentbox:tool/tool@0.1.0: exports describe and call)",
    );
}

#[test]
fn command_without_run_export() {
    let sb = Sandbox::new();
    sb.wat("t.wasm", &tool_wat(OK_BODY, ""));
    sb.manifest(
        "version = 1\n[tools.t]\nkind = \"command\"\ncomponent = \"t.wasm\"\nrationale = \"x\"\n",
    );
    refused(
        &sb,
        "the component is not a command (exports wasi:cli/run@0.2)",
    );
}

#[test]
fn wrong_wit_package_version() {
    let sb = Sandbox::new();
    let text = tool_wat(OK_BODY, "").replacen(
        "(component\n",
        "(component\n  (import \"agentbox:tool/log@0.2.0\" (instance (export \"log\" (func (param \"message\" string)))))\n",
        1,
    );
    sb.wat("t.wasm", &text);
    sb.manifest(&tool_manifest("t.wasm", ""));
    refused(&sb, "cannot link the component");
    let (out, _) = sb.run_report(&[]);
    assert!(
        out.stderr.contains("agentbox:tool/log@0.2.0"),
        "{}",
        out.stderr
    );
}

#[test]
fn unknown_import() {
    let sb = Sandbox::new();
    let text = tool_wat(OK_BODY, "").replacen(
        "(component\n",
        "(component\n  (import \"evil:host/escape\" (instance (export \"go\" (func))))\n",
        1,
    );
    sb.wat("t.wasm", &text);
    sb.manifest(&tool_manifest("t.wasm", ""));
    refused(&sb, "evil:host/escape");
}

#[test]
fn disabled_proposal_is_refused() {
    let sb = Sandbox::new();
    let text = tool_wat(OK_BODY, "(func $tc (return_call $tc))");
    sb.wat("t.wasm", &text);
    sb.manifest(&tool_manifest("t.wasm", ""));
    refused(&sb, "is not a valid component for agentbox");
}

#[test]
fn sha256_pin_is_enforced() {
    let sb = Sandbox::new();
    let path = sb.wat("t.wasm", &tool_wat(OK_BODY, ""));
    use sha2::Digest;
    let good = hex::encode(sha2::Sha256::digest(std::fs::read(&path).expect("read")));
    sb.manifest(&tool_manifest(
        "t.wasm",
        &format!("sha256 = \"{}\"", good.to_uppercase()),
    ));
    let (out, _) = sb.run_report(&[]);
    assert_eq!(out.code, 0, "{out:?}");
    let bad = format!("{}0", &good[..63]);
    let bad = if bad == good {
        format!("{}1", &good[..63])
    } else {
        bad
    };
    sb.manifest(&tool_manifest("t.wasm", &format!("sha256 = \"{bad}\"")));
    refused(
        &sb,
        &format!("sha256 is {good}, but the manifest pins {bad}; refusing to run"),
    );
}

fn cache_files(sb: &Sandbox) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(sb.path("cache/c"))
        .map(|d| d.filter_map(|e| e.ok()).map(|e| e.path()).collect())
        .unwrap_or_default();
    v.sort();
    v
}

#[test]
fn cache_is_private_and_keyed() {
    let sb = Sandbox::new();
    sb.wat("t.wasm", &tool_wat(OK_BODY, ""));
    sb.manifest(&tool_manifest("t.wasm", ""));
    assert_eq!(sb.run(&["run", "agentbox.toml"]).code, 0);
    let dir_mode = std::fs::metadata(sb.path("cache/c"))
        .expect("dir")
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(dir_mode, 0o700);
    let files = cache_files(&sb);
    assert_eq!(files.len(), 1);
    let name = files[0]
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    use sha2::Digest;
    let sha = hex::encode(sha2::Sha256::digest(
        std::fs::read(sb.path("t.wasm")).expect("read"),
    ));
    assert!(
        name.starts_with(&format!("{sha}-w48-")) && name.ends_with(".cwasm"),
        "{name}"
    );
    assert_eq!(
        std::fs::metadata(&files[0])
            .expect("f")
            .permissions()
            .mode()
            & 0o777,
        0o600
    );
    let audit = sb.path("a.jsonl");
    assert_eq!(
        sb.run(&["run", "agentbox.toml", "--audit", "a.jsonl"]).code,
        0
    );
    assert!(
        std::fs::read_to_string(audit)
            .expect("audit")
            .contains("\"cache\":\"hit\"")
    );
}

/// A tool run once, and the cache entry that run wrote.
fn run_once_cached() -> (Sandbox, std::path::PathBuf) {
    let sb = Sandbox::new();
    sb.wat("t.wasm", &tool_wat(OK_BODY, ""));
    sb.manifest(&tool_manifest("t.wasm", ""));
    assert_eq!(sb.run(&["run", "agentbox.toml"]).code, 0);
    let entry = cache_files(&sb).remove(0);
    (sb, entry)
}

#[test]
fn cache_never_loads_a_file_it_did_not_write() {
    let (sb, entry) = run_once_cached();
    // A planted file writable by others under the right name: must be ignored
    // (loading garbage as machine code would crash), then replaced.
    std::fs::write(&entry, b"garbage that is not machine code").expect("plant");
    std::fs::set_permissions(&entry, std::fs::Permissions::from_mode(0o666)).expect("chmod");
    let out = sb.run(&["run", "agentbox.toml", "--audit", "a.jsonl"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        std::fs::read_to_string(sb.path("a.jsonl"))
            .expect("audit")
            .contains("\"cache\":\"miss\"")
    );
    assert_eq!(
        std::fs::metadata(&entry).expect("f").permissions().mode() & 0o777,
        0o600
    );
    // A symlink under the right name is not followed.
    std::fs::remove_file(&entry).expect("rm");
    std::os::unix::fs::symlink(sb.path("t.wasm"), &entry).expect("symlink");
    let out = sb.run(&["run", "agentbox.toml"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        !std::fs::symlink_metadata(&entry)
            .expect("f")
            .file_type()
            .is_symlink(),
        "replaced by a real file"
    );
}

/// Length of a cache entry's header: magic, engine, component sha256, artifact
/// sha256, artifact length.
const ENTRY_HEADER: usize = 8 + 32 + 32 + 32 + 8;

/// Rewrites an entry's recorded artifact sha256 to match its (altered) artifact,
/// as a compile worker that produced a bad artifact would have.
fn rebind(bytes: &mut [u8]) {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(&bytes[ENTRY_HEADER..]);
    bytes[72..104].copy_from_slice(&digest);
}

/// An entry that passes every check but that the worker cannot load (here: an
/// artifact built for another target, consistently recorded) is dropped,
/// compiled again and run: the invocation succeeds.
#[test]
fn a_cache_entry_the_worker_cannot_load_is_compiled_again() {
    let (sb, entry) = run_once_cached();
    let mut bytes = std::fs::read(&entry).expect("entry");
    let triple = b"x86_64-unknown-linux-gnu";
    let at = bytes
        .windows(triple.len())
        .position(|w| w == triple)
        .expect("the entry names its target");
    bytes[at + triple.len() - 1] = b'X';
    rebind(&mut bytes);
    std::fs::write(&entry, &bytes).expect("damage");
    let out = sb.run(&["run", "agentbox.toml", "--audit", "a.jsonl"]);
    assert_eq!(out.code, 0, "{out:?}");
    let audit = std::fs::read_to_string(sb.path("a.jsonl")).expect("audit");
    let hit = audit
        .find("\"cache\":\"hit\"")
        .expect("loaded from the cache first");
    let miss = audit
        .find("\"cache\":\"miss\"")
        .expect("then compiled again");
    assert!(hit < miss, "{audit}");
    assert!(
        std::fs::read(&entry).expect("entry") != bytes,
        "the damaged entry was replaced"
    );
    assert_eq!(sb.run(&["run", "agentbox.toml"]).code, 0);
}

/// Two tools' entries swapped on disk: each tool still runs its own code, the
/// swapped entries are rejected (audited `cache_rejected`) and compiled again.
#[test]
fn swapped_cache_entries_never_run_another_tools_code() {
    let sb = Sandbox::new();
    sb.wat("a.wasm", &tool_wat(OK_BODY, ""));
    sb.wat("b.wasm", &tool_wat(ERR_BODY, ""));
    sb.manifest(&format!(
        "{}{}",
        tool_manifest("a.wasm", "").replace("[tools.t]", "[tools.a]"),
        "[tools.b]\ncomponent = \"b.wasm\"\nrationale = \"r\"\n"
    ));
    assert_eq!(sb.run(&["run", "agentbox.toml", "--tool", "a"]).code, 0);
    assert_eq!(sb.run(&["run", "agentbox.toml", "--tool", "b"]).code, 1);
    let sha = |f: &str| {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(
            std::fs::read(sb.path(f)).expect("wasm"),
        ))
    };
    let entry = |sha: &str| {
        cache_files(&sb)
            .into_iter()
            .find(|p| {
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with(sha))
            })
            .expect("entry")
    };
    let (ea, eb) = (entry(&sha("a.wasm")), entry(&sha("b.wasm")));
    let tmp = sb.path("cache/swap");
    std::fs::rename(&ea, &tmp).expect("swap");
    std::fs::rename(&eb, &ea).expect("swap");
    std::fs::rename(&tmp, &eb).expect("swap");
    let out = sb.run(&["run", "agentbox.toml", "--tool", "a", "--audit", "a.jsonl"]);
    assert_eq!(out.code, 0, "tool a runs a's code: {out:?}");
    assert_eq!(out.stdout.trim(), r#"{"ok":true}"#);
    let out = sb.run(&["run", "agentbox.toml", "--tool", "b", "--audit", "a.jsonl"]);
    assert_eq!(out.code, 1, "tool b runs b's code: {out:?}");
    let audit = std::fs::read_to_string(sb.path("a.jsonl")).expect("audit");
    assert_eq!(
        audit.matches("\"event\":\"cache_rejected\"").count(),
        2,
        "{audit}"
    );
    assert!(
        audit.contains("holds the artifact of another component"),
        "{audit}"
    );
    assert_eq!(audit.matches("\"cache\":\"miss\"").count(), 2, "{audit}");
}

/// A corrupted entry is never executed: it is rejected before any worker maps
/// it, and the component is compiled again.
#[test]
fn a_corrupted_cache_entry_is_rejected_not_run() {
    let (sb, entry) = run_once_cached();
    let mut bytes = std::fs::read(&entry).expect("entry");
    // Corrupt the artifact's code, past the header, everywhere in its middle.
    let mid = bytes.len() / 2;
    for b in &mut bytes[mid..mid + 64] {
        *b ^= 0xff;
    }
    std::fs::write(&entry, &bytes).expect("corrupt");
    let out = sb.run(&["run", "agentbox.toml", "--audit", "a.jsonl"]);
    assert_eq!(out.code, 0, "{out:?}");
    let audit = std::fs::read_to_string(sb.path("a.jsonl")).expect("audit");
    assert!(audit.contains("\"event\":\"cache_rejected\""), "{audit}");
    assert!(
        audit.contains("does not match its recorded sha256"),
        "{audit}"
    );
    assert!(!audit.contains("\"cache\":\"hit\""), "{audit}");
    assert_ne!(std::fs::read(&entry).expect("entry"), bytes, "replaced");
}

#[test]
fn cache_dir_writable_by_others_is_refused() {
    let sb = Sandbox::new();
    sb.wat("t.wasm", &tool_wat(OK_BODY, ""));
    sb.manifest(&tool_manifest("t.wasm", ""));
    std::fs::create_dir_all(sb.path("cache/c")).expect("mkdir");
    std::fs::set_permissions(sb.path("cache/c"), std::fs::Permissions::from_mode(0o777))
        .expect("chmod");
    let out = sb.run(&["run", "agentbox.toml"]);
    assert_eq!(out.code, 125);
    assert!(
        out.stderr
            .contains("is writable by group or others (mode 777); run `chmod 700"),
        "{}",
        out.stderr
    );
}

#[test]
fn pack_makes_components_and_refuses_others() {
    let sb = Sandbox::new();
    sb.write("junk", "not wasm");
    let out = sb.run(&["pack", "junk", "-o", "out.wasm"]);
    assert_eq!(out.code, 125);
    assert!(
        out.stderr.contains("input is not a WebAssembly binary"),
        "{}",
        out.stderr
    );
    sb.wat("c.wasm", &tool_wat(OK_BODY, ""));
    let out = sb.run(&["pack", "c.wasm", "-o", "out.wasm"]);
    assert_eq!(out.code, 125);
    assert!(out.stderr.contains("already a component"), "{}", out.stderr);
}
