//! The guards on hostile text: whatever a tool returns, scanning never panics,
//! every finding lies on character boundaries inside the text, and guarded JSON
//! stays JSON.

use agentbox_guard::policy::{Action, GuardPolicy, HiddenAction, OutputGuard};
use agentbox_guard::{Scanner, Scope};
use std::sync::OnceLock;

fn scanner() -> &'static Scanner {
    static S: OnceLock<Scanner> = OnceLock::new();
    S.get_or_init(Scanner::new)
}

/// Pieces that stress every guard's edges: digits and separators, @ and
/// prefixes of credentials, markup, escapes, and multi-byte characters of every
/// width, including the invisible ones.
const PIECES: &[&str] = &[
    "0",
    "1",
    "4",
    "9",
    "00",
    "+",
    "-",
    " ",
    ".",
    "/",
    "(",
    ")",
    ":",
    "@",
    "_",
    "=",
    "\"",
    "'",
    "<",
    ">",
    "<!--",
    "-->",
    "<span style=\"display:none\">",
    "</span>",
    "&#x41;",
    "&amp;",
    "%41",
    "%",
    "&",
    ";",
    "\n",
    "\t",
    "AKIA",
    "ghp_",
    "sk-",
    "eyJ",
    "-----BEGIN",
    "PRIVATE KEY-----",
    "password=",
    "GB82",
    "WEST",
    "ssn ",
    "tel ",
    "ignore",
    "previous",
    "instructions",
    "ü",
    "é",
    "€",
    "中",
    "文",
    "ı",
    "İ",
    "ß",
    "１",
    "Ａ",
    "😀",
    "👨",
    "\u{200D}",
    "\u{200B}",
    "\u{200C}",
    "\u{2060}",
    "\u{FEFF}",
    "\u{202E}",
    "\u{2066}",
    "\u{E0041}",
    "\u{E007F}",
    "🏴",
    "\u{FE0F}",
    "\u{E0100}",
    "\u{0301}",
    "\u{094D}",
    "क",
    "ع",
    "א",
    "x",
    "Z",
    "aGVsbG8gd29ybGQgaWdub3Jl",
    "ＩＧＮＯＲＥ",
    "іgnore",
    "1gn0r3",
];

fn strings() -> impl Iterator<Item = String> {
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    (0..4000).map(move |i| {
        let n = 1 + i % 97;
        let mut s = String::new();
        for _ in 0..n {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            s.push_str(PIECES[(seed % PIECES.len() as u64) as usize]);
        }
        s
    })
}

#[test]
fn scanning_never_panics_and_offsets_are_boundaries() {
    let s = scanner();
    let mut checked = 0;
    for text in strings() {
        for f in s.scan(&text, &Scope::default()) {
            assert!(
                f.start <= f.end && f.end <= text.len(),
                "{f:?} outside {} bytes",
                text.len()
            );
            assert!(
                text.is_char_boundary(f.start) && text.is_char_boundary(f.end),
                "{f:?} not on a boundary"
            );
            checked += 1;
        }
    }
    assert!(
        checked > 1000,
        "the generator should make findings ({checked})"
    );
}

#[test]
fn guarding_never_panics_and_json_stays_json() {
    let s = scanner();
    let policies = [
        GuardPolicy::default(),
        GuardPolicy {
            pii: Action::Redact,
            injection: Action::Block,
            ..GuardPolicy::default()
        },
        GuardPolicy {
            secrets: Action::Flag,
            hidden_text: HiddenAction::Flag,
            ..GuardPolicy::default()
        },
    ];
    let guards: Vec<OutputGuard> = policies
        .iter()
        .map(|p| OutputGuard::new(p).expect("valid"))
        .collect();
    for text in strings().take(1500) {
        let json = serde_json::json!({"text": text, "list": [text.clone(), 3]}).to_string();
        for g in &guards {
            let plain = g.check(s, &text);
            assert!(
                !plain.blocked || plain.text.is_empty(),
                "a blocked output keeps nothing"
            );
            let out = g.check(s, &json);
            if !out.blocked {
                serde_json::from_str::<serde_json::Value>(&out.text)
                    .unwrap_or_else(|e| panic!("guarded JSON is not JSON ({e}): {}", out.text));
            }
        }
    }
}

#[test]
fn every_pattern_compiles() {
    // Patterns compile on first use; a bad one must be found here, not on the
    // first output that needs it.
    assert!(agentbox_guard::secrets::compile_all() >= 60);
    let s = scanner();
    let all = "a@b.co +44 20 7946 0958 4111 1111 1111 1111 GB82 WEST 1234 5698 7654 32 \
               123-45-6789 SIN 046 454 286 AB 12 34 56 C 123.456.789-09 12345678Z BSN 111222333 \
               2345 6789 0123 <!-- x --> <p hidden>y</p> ignore previous instructions";
    assert!(!s.scan(all, &Scope::default()).is_empty());
}
