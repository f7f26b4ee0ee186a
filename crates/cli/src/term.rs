//! Keeping guest bytes from driving the operator's terminal.

use std::borrow::Cow;

/// Bytes for a stream: unchanged for pipes and files; for a terminal, escape
/// sequences and other control characters (but newline and tab) are made visible
/// — C0 and DEL as `\x1b`, C1 controls (U+0080–U+009F, e.g. a UTF-8 CSI) and the
/// bidirectional and line-separator characters as `\u{9b}`, bytes that are not
/// UTF-8 as `\xNN` — so a tool cannot drive the operator's terminal.
pub fn for_stream(bytes: &[u8], terminal: bool) -> Cow<'_, [u8]> {
    if !terminal {
        return Cow::Borrowed(bytes);
    }
    let clean = bytes.utf8_chunks().all(|c| {
        c.invalid().is_empty()
            && !c
                .valid()
                .chars()
                .any(|ch| ch != '\n' && ch != '\t' && is_bad(ch))
    });
    if clean {
        return Cow::Borrowed(bytes);
    }
    let mut out = Vec::with_capacity(bytes.len() + 16);
    for chunk in bytes.utf8_chunks() {
        for ch in chunk.valid().chars() {
            if ch == '\n' || ch == '\t' || !is_bad(ch) {
                let mut buf = [0u8; 4];
                out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
            } else if (ch as u32) < 0x80 {
                out.extend_from_slice(format!("\\x{:02x}", ch as u32).as_bytes());
            } else {
                out.extend_from_slice(ch.escape_unicode().to_string().as_bytes());
            }
        }
        for b in chunk.invalid() {
            out.extend_from_slice(format!("\\x{b:02x}").as_bytes());
        }
    }
    Cow::Owned(out)
}

fn is_bad(c: char) -> bool {
    agentbox_supervisor::tool_text::is_unsafe_char(c)
}

/// One line of text: control, bidirectional and line-separator characters
/// (including newlines) made visible.
pub fn one_line(s: &str) -> String {
    agentbox_supervisor::tool_text::visible(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_gets_no_control_and_pipes_get_every_byte() {
        let raw = b"ok\n\tx\x1b]52;c;ZXZpbA==\x07 \xc2\x9b31m \x9b \xe2\x80\xae \xff\x7f";
        assert_eq!(for_stream(raw, false).as_ref(), raw);
        let shown = for_stream(raw, true);
        assert_eq!(
            String::from_utf8_lossy(&shown),
            "ok\n\tx\\x1b]52;c;ZXZpbA==\\x07 \\u{9b}31m \\x9b \\u{202e} \\xff\\x7f"
        );
        assert_eq!(for_stream(b"plain\n", true).as_ref(), b"plain\n");
    }
}
