//! The audit verifier on any bytes, as one file or split into two (rotation):
//! it never panics, and what it accepts is a chain of exactly the lines given.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::path::PathBuf;

fuzz_target!(|data: &[u8]| {
    let dir = std::env::temp_dir().join(format!("agentbox-fuzz-audit-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let (a, b) = match data.iter().position(|&c| c == 0) {
        Some(i) => (&data[..i], Some(&data[i + 1..])),
        None => (data, None),
    };
    let mut files: Vec<PathBuf> = vec![dir.join("a.jsonl")];
    let _ = std::fs::write(&files[0], a);
    if let Some(b) = b {
        files.push(dir.join("b.jsonl"));
        let _ = std::fs::write(&files[1], b);
    }
    for live in [false, true] {
        if let Ok(v) = agentbox_audit::verify(&files, None, live) {
            let lines = data.iter().filter(|&&c| c == b'\n').count() as u64;
            assert_eq!(v.events, lines, "every line given is one event of the chain");
            assert!(v.last_seq >= v.first_seq);
            if !live {
                assert_eq!(v.last_checkpoint, Some(v.last_seq));
            }
        }
    }
});
