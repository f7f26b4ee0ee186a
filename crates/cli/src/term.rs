//! Keeping guest bytes from driving the operator's terminal.

use std::borrow::Cow;

/// Bytes for a stream: unchanged for pipes and files; for a terminal, escape
/// sequences and other control characters (but newline and tab) are made visible,
/// so a tool cannot drive the operator's terminal.
pub fn for_stream(bytes: &[u8], terminal: bool) -> Cow<'_, [u8]> {
    if !terminal || !bytes.iter().any(|&b| is_bad(b)) {
        return Cow::Borrowed(bytes);
    }
    let mut out = Vec::with_capacity(bytes.len() + 16);
    for &b in bytes {
        if is_bad(b) {
            out.extend_from_slice(format!("\\x{b:02x}").as_bytes());
        } else {
            out.push(b);
        }
    }
    Cow::Owned(out)
}

fn is_bad(b: u8) -> bool {
    (b < 0x20 && b != b'\n' && b != b'\t') || b == 0x7f
}

/// One line of text: control characters (including newlines) made visible.
pub fn one_line(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_control() {
            out.push_str(&c.escape_default().to_string());
        } else {
            out.push(c);
        }
    }
    out
}
