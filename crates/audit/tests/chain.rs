//! The chain and its verifier: every way of tampering that audit.md names is
//! found and named at the right seq; an intact log verifies.

use agentbox_audit::{AuditLog, Broken, Event, FileOptions, PublicKey, Signer, verify};
use std::path::{Path, PathBuf};

fn ev(i: usize) -> Event {
    Event::GuestLog {
        level: "info".into(),
        message: format!("line {i}"),
    }
}

/// A signed log of `n` events (a periodic checkpoint never comes this early),
/// closed cleanly: n + 1 lines, the last a `stop` checkpoint.
fn signed_log(dir: &Path, n: usize) -> (PathBuf, PathBuf) {
    let key = dir.join("audit.key");
    let path = dir.join("audit.jsonl");
    let signer = Signer::load_or_create(&key).expect("key");
    let log = AuditLog::open(
        &path,
        "t",
        FileOptions {
            signer: Some(signer),
            rotate_bytes: None,
        },
    )
    .expect("open");
    for i in 0..n {
        log.record(&ev(i)).expect("record");
    }
    log.close().expect("close");
    (path, agentbox_audit::public_path(&key))
}

fn lines(p: &Path) -> Vec<String> {
    std::fs::read_to_string(p)
        .expect("read")
        .lines()
        .map(str::to_string)
        .collect()
}

fn write(p: &Path, lines: &[String]) {
    let mut s = lines.join("\n");
    s.push('\n');
    std::fs::write(p, s).expect("write");
}

fn check(p: &Path, key: &Path) -> Result<agentbox_audit::Verified, agentbox_audit::VerifyError> {
    let k = PublicKey::load(key).expect("pub");
    verify(&[p.to_path_buf()], Some(&k), false)
}

/// Rewrites line `i` (0-based) with `f` applied to its JSON.
fn edit(l: &mut [String], i: usize, f: impl Fn(&mut serde_json::Value)) {
    let mut v: serde_json::Value = serde_json::from_str(&l[i]).expect("json");
    f(&mut v);
    l[i] = serde_json::to_string(&v).expect("json");
}

/// Recomputes every `prev` from line `from` on, as a careful forger would.
fn rechain(l: &mut [String], from: usize) {
    for i in from.max(1)..l.len() {
        let prev = hex::encode(agentbox_audit::hash_line(l[i - 1].as_bytes()));
        edit(l, i, |v| v["prev"] = prev.clone().into());
    }
}

#[test]
fn an_intact_log_verifies() {
    let d = tempfile::tempdir().expect("tmp");
    let (p, k) = signed_log(d.path(), 5);
    let ok = check(&p, &k).expect("intact");
    assert_eq!(ok.events, 6);
    assert_eq!(ok.last_checkpoint, Some(6));
    assert!(
        ok.to_string()
            .starts_with("ok: 6 events, chain intact, last signed checkpoint at seq 6")
    );
    let first: serde_json::Value = serde_json::from_str(&lines(&p)[0]).expect("json");
    assert_eq!(first["prev"], "0".repeat(64));
    assert_eq!(first["seq"], 1);
    assert!(
        first["ts"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z') && t.len() == 24)
    );
}

fn tampered(f: impl Fn(&mut Vec<String>)) -> agentbox_audit::VerifyError {
    let d = tempfile::tempdir().expect("tmp");
    let (p, k) = signed_log(d.path(), 8);
    let mut l = lines(&p);
    f(&mut l);
    write(&p, &l);
    check(&p, &k).expect_err("tampering must be found")
}

#[test]
fn an_edit_is_named() {
    let e = tampered(|l| edit(l, 3, |v| v["message"] = "changed".into()));
    assert_eq!((e.seq, e.how), (4, Broken::Edited), "{e}");
}

#[test]
fn an_insertion_is_named() {
    // A forged line numbered to fit, linked to the line before it.
    let e = tampered(|l| {
        let prev = hex::encode(agentbox_audit::hash_line(l[2].as_bytes()));
        let mut v: serde_json::Value = serde_json::from_str(&l[3]).expect("json");
        v["message"] = "forged".into();
        v["prev"] = prev.into();
        l.insert(3, serde_json::to_string(&v).expect("json"));
    });
    assert_eq!((e.seq, e.how), (4, Broken::Inserted), "{e}");
    // One that does not even fit.
    let e = tampered(|l| l.insert(5, l[5].replace("line 5", "forged")));
    assert_eq!((e.seq, e.how), (6, Broken::Inserted), "{e}");
}

#[test]
fn a_deletion_is_named() {
    let e = tampered(|l| {
        l.remove(4);
    });
    assert_eq!((e.seq, e.how), (5, Broken::Deleted), "{e}");
    let e = tampered(|l| {
        l.remove(0);
    });
    assert_eq!((e.seq, e.how), (1, Broken::Deleted), "{e}");
}

#[test]
fn a_reordering_is_named() {
    let e = tampered(|l| l.swap(2, 3));
    assert_eq!((e.seq, e.how), (3, Broken::Reordered), "{e}");
}

#[test]
fn truncation_is_named() {
    // Cut after a line that is not a checkpoint.
    let e = tampered(|l| l.truncate(5));
    assert_eq!((e.seq, e.how), (1, Broken::Unsigned), "{e}");
    // Cut in the middle of a line.
    let d = tempfile::tempdir().expect("tmp");
    let (p, k) = signed_log(d.path(), 3);
    let text = std::fs::read_to_string(&p).expect("read");
    std::fs::write(&p, &text[..text.len() - 10]).expect("write");
    let e = check(&p, &k).expect_err("cut");
    assert_eq!((e.seq, e.how), (4, Broken::Truncated), "{e}");
}

#[test]
fn an_edit_with_every_later_hash_recomputed_fails_its_signature() {
    let e = tampered(|l| {
        edit(l, 2, |v| v["message"] = "rewritten".into());
        rechain(l, 3);
    });
    assert_eq!((e.seq, e.how), (9, Broken::BadSignature), "{e}");
}

#[test]
fn a_forged_signature_or_a_foreign_key_fails() {
    let e = tampered(|l| {
        let last = l.len() - 1;
        edit(l, last, |v| {
            let s = v["sig"].as_str().unwrap_or_default().to_string();
            let flipped = if s.starts_with('0') { "1" } else { "0" };
            v["sig"] = format!("{flipped}{}", &s[1..]).into();
        });
    });
    assert_eq!((e.seq, e.how), (9, Broken::BadSignature), "{e}");
    // Re-signed whole with another key: the pinned key refuses it.
    let d = tempfile::tempdir().expect("tmp");
    let (p, _) = signed_log(d.path(), 2);
    let other = tempfile::tempdir().expect("tmp");
    let (_, k2) = signed_log(other.path(), 1);
    let e = check(&p, &k2).expect_err("foreign key");
    assert_eq!((e.seq, e.how), (3, Broken::BadSignature), "{e}");
}

#[test]
fn the_unsigned_tail_of_a_live_log_is_accepted_only_when_asked() {
    let d = tempfile::tempdir().expect("tmp");
    let (p, k) = signed_log(d.path(), 2);
    // A second writer that has not stopped yet.
    let log = AuditLog::open(
        &p,
        "t2",
        FileOptions {
            signer: Some(Signer::load_or_create(&d.path().join("audit.key")).expect("key")),
            rotate_bytes: None,
        },
    )
    .expect("open");
    log.record(&ev(9)).expect("record");
    let e = check(&p, &k).expect_err("unsigned tail");
    assert_eq!((e.seq, e.how), (4, Broken::Unsigned), "{e}");
    let key = PublicKey::load(&k).expect("pub");
    let ok = verify(std::slice::from_ref(&p), Some(&key), true).expect("live");
    assert_eq!((ok.events, ok.unsigned_tail), (4, 1));
    log.close().expect("close");
    assert_eq!(check(&p, &k).expect("closed").events, 5);
}

#[test]
fn two_writers_share_one_chain() {
    let d = tempfile::tempdir().expect("tmp");
    let p = d.path().join("a.jsonl");
    let key = d.path().join("k");
    let a = AuditLog::open(
        &p,
        "a",
        FileOptions {
            signer: Some(Signer::load_or_create(&key).expect("key")),
            rotate_bytes: None,
        },
    )
    .expect("a");
    let b = AuditLog::open(
        &p,
        "b",
        FileOptions {
            signer: Some(Signer::load_or_create(&key).expect("key")),
            rotate_bytes: None,
        },
    )
    .expect("b");
    std::thread::scope(|s| {
        s.spawn(|| (0..200).for_each(|i| a.record(&ev(i)).expect("a")));
        s.spawn(|| (0..200).for_each(|i| b.record(&ev(i)).expect("b")));
    });
    a.close().expect("close a");
    b.close().expect("close b");
    let ok = check(&p, &agentbox_audit::public_path(&key)).expect("one chain");
    assert_eq!(ok.events, 402);
}

#[test]
fn rotation_continues_the_chain_across_files() {
    let d = tempfile::tempdir().expect("tmp");
    let p = d.path().join("audit.jsonl");
    let key = d.path().join("k");
    let log = AuditLog::open(
        &p,
        "r",
        FileOptions {
            signer: Some(Signer::load_or_create(&key).expect("key")),
            rotate_bytes: Some(1000),
        },
    )
    .expect("open");
    for i in 0..40 {
        log.record(&ev(i)).expect("record");
    }
    log.close().expect("close");
    let mut files: Vec<PathBuf> = std::fs::read_dir(d.path())
        .expect("dir")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().contains("audit.jsonl"))
        .collect();
    assert!(files.len() >= 3, "rotated: {files:?}");
    // Any order on the command line: verify puts them in chain order.
    files.reverse();
    let k = PublicKey::load(&agentbox_audit::public_path(&key)).expect("pub");
    let ok = verify(&files, Some(&k), false).expect("intact across files");
    assert!(ok.events > 40);
    // Without the newest file, the log ends at a rotation: cut.
    let older: Vec<PathBuf> = files.iter().filter(|f| **f != p).cloned().collect();
    let e = verify(&older, Some(&k), false).expect_err("newest file missing");
    assert_eq!(e.how, Broken::Truncated, "{e}");
    // Reopened: the chain continues from where the files end.
    let again = AuditLog::open(&p, "r2", FileOptions::default()).expect("reopen");
    again.record(&ev(99)).expect("record");
    assert!(verify(&files, Some(&k), true).is_ok());
}

#[test]
fn a_failed_write_leaves_no_half_line_and_stops_later_writes() {
    let log = AuditLog::open(Path::new("/dev/full"), "f", FileOptions::default())
        .expect("open /dev/full");
    assert!(log.record(&ev(0)).is_err());
    assert!(log.record(&ev(1)).is_err(), "no line may follow a gap");
}

#[test]
fn a_damaged_end_is_refused_at_open() {
    let d = tempfile::tempdir().expect("tmp");
    let p = d.path().join("a.jsonl");
    std::fs::write(&p, "{\"seq\":1,\"ts\":\"x\",\"prev\":\"0\"").expect("write");
    let e = AuditLog::file(&p, "x").expect_err("half a line");
    assert!(e.to_string().contains("incomplete"), "{e}");
    assert_eq!(
        std::fs::read_to_string(&p).expect("read"),
        "{\"seq\":1,\"ts\":\"x\",\"prev\":\"0\"",
        "nothing written over it"
    );
}

#[test]
fn the_key_is_private_and_checked() {
    use std::os::unix::fs::PermissionsExt;
    let d = tempfile::tempdir().expect("tmp");
    let key = d.path().join("k");
    let s = Signer::load_or_create(&key).expect("create");
    let mode = std::fs::metadata(&key).expect("meta").permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let text = std::fs::read_to_string(&key).expect("read");
    assert!(text.starts_with("-----BEGIN PRIVATE KEY-----"));
    assert_eq!(
        PublicKey::load(&agentbox_audit::public_path(&key))
            .expect("pub")
            .hex(),
        s.public_hex()
    );
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let e = Signer::load_or_create(&key).expect_err("exposed");
    assert!(e.to_string().contains("chmod 600"), "{e}");
    assert!(
        !e.to_string().contains(&text[30..60]),
        "no key material in errors"
    );
}

#[test]
fn a_log_ending_on_a_periodic_checkpoint_still_closes_with_a_stop() {
    let d = tempfile::tempdir().expect("tmp");
    // 1,000 events: the last one brings a periodic checkpoint.
    let (p, k) = signed_log(d.path(), 1000);
    let v = lines(&p);
    assert!(
        v[v.len() - 2].contains("\"reason\":\"periodic\""),
        "{}",
        v[v.len() - 2]
    );
    assert!(v[v.len() - 1].contains("\"reason\":\"stop\""));
    assert_eq!(check(&p, &k).expect("intact").events, 1002);
}
