//! `agentbox collect SRC DEST`: the output collector's command line (the
//! hostile-artifact corpus itself is the breakout suite's SUP-10).

mod common;
use common::*;

#[test]
fn collects_regular_files_and_reports_the_rest() {
    let sb = Sandbox::new();
    sb.write("grant/a.txt", "alpha\n");
    sb.write("grant/d/b.txt", "beta\n");
    std::os::unix::fs::symlink("/etc/passwd", sb.path("grant/link")).expect("symlink");
    sb.write("grant/big", &"x".repeat(2048));
    let o = sb.run(&["collect", "grant", "out", "--max-file", "1KiB"]);
    assert_eq!(o.code, 0, "{o:?}");
    assert!(
        o.stdout
            .starts_with("collected 2 file(s), 11 bytes, into out\n"),
        "{o:?}"
    );
    assert!(
        o.stdout
            .contains("  left out link: symbolic link (never followed)\n"),
        "{o:?}"
    );
    assert!(
        o.stdout
            .contains("  left out big: 2048 bytes, over the limit of 1024 per file\n"),
        "{o:?}"
    );
    assert_eq!(
        std::fs::read_to_string(sb.path("out/d/b.txt")).expect("copy"),
        "beta\n"
    );
    assert!(std::fs::symlink_metadata(sb.path("out/link")).is_err());
    // JSON: every copied and every left-out path.
    let o = sb.run(&["collect", "grant", "out2", "--json"]);
    assert_eq!(o.code, 0, "{o:?}");
    let v: serde_json::Value = serde_json::from_str(&o.stdout).expect("json");
    assert_eq!(v["files"].as_array().map(Vec::len), Some(3), "{v}");
    assert_eq!(v["skipped"][0][0], "link", "{v}");
}

#[test]
fn refuses_an_existing_destination_or_a_linked_source() {
    let sb = Sandbox::new();
    sb.write("grant/a.txt", "alpha\n");
    std::fs::create_dir_all(sb.path("out")).expect("out");
    let o = sb.run(&["collect", "grant", "out"]);
    assert_eq!(o.code, 125, "{o:?}");
    assert!(o.stderr.starts_with("agentbox: destination out: "), "{o:?}");
    assert!(o.stderr.contains("it must not exist yet"), "{o:?}");
    std::os::unix::fs::symlink(sb.path("grant"), sb.path("via-link")).expect("symlink");
    let o = sb.run(&["collect", "via-link", "out3"]);
    assert_eq!(o.code, 125, "{o:?}");
    assert!(o.stderr.contains("not a symbolic link"), "{o:?}");
    let o = sb.run(&["collect", "grant", "out4", "--max-file", "lots"]);
    assert_eq!(o.code, 125, "{o:?}");
    assert!(
        o.stderr
            .starts_with("agentbox: --max-file: invalid size `lots`"),
        "{o:?}"
    );
}
