//! Text a tool controls — its JSON result, its `Err` text, details built from what
//! a worker said — made safe before it reaches a terminal, agentbox's stderr, the
//! report or the audit log.
//!
//! A kind-tool result must be valid JSON; it is re-serialised so that no byte of
//! it can drive a terminal: JSON already forbids raw C0 controls (ESC, NUL, …)
//! inside strings, and here DEL, the C1 controls (U+0080–U+009F: a UTF-8 CSI or
//! OSC), the bidirectional controls and the line/paragraph separators are
//! written as `\uXXXX` escapes as well, and carriage returns between tokens are
//! dropped. The value is unchanged: keys keep their order, numbers their digits.

/// Characters that may reorder, hide or control what a terminal shows: every
/// control character (C0, DEL, C1), the bidirectional formatting characters
/// and the line and paragraph separators.
pub fn is_unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}'
                | '\u{200E}'
                | '\u{200F}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2066}'..='\u{2069}'
        )
}

/// One line of text with every unsafe character written as a visible escape
/// (`\n`, `\u{1b}`, `\u{9b}`, `\u{202e}`): safe on a terminal, in a report, in
/// the audit log, and never more than one line.
pub fn visible(s: &str) -> String {
    if !s.chars().any(is_unsafe_char) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        if is_unsafe_char(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// Why a tool's result was not accepted as JSON: serde's message, which names the
/// line and column and never quotes the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct NotJson(String);

/// The tool's result, checked to be one valid JSON value and re-serialised with
/// every unsafe character escaped (see the module documentation). Whitespace
/// between tokens is kept, except carriage returns.
pub fn safe_json(text: &str) -> Result<String, NotJson> {
    serde_json::from_str::<serde::de::IgnoredAny>(text)
        .map_err(|e| NotJson(visible(&e.to_string())))?;
    // Valid JSON: outside strings there are only structural characters, literals,
    // numbers and the whitespace characters space, tab, newline and carriage
    // return; inside strings, no raw C0 control. So every unsafe character left
    // is inside a string, where `\uXXXX` means the same character.
    let mut out = String::with_capacity(text.len() + 16);
    let mut in_string = false;
    let mut escaped = false;
    for c in text.chars() {
        if in_string {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            } else if is_unsafe_char(c) {
                // All are in the Basic Multilingual Plane: one escape each.
                out.push_str(&format!("\\u{:04x}", c as u32));
                continue;
            }
        } else if c == '"' {
            in_string = true;
        } else if c == '\r' {
            continue;
        }
        out.push(c);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(s: &str) -> serde_json::Value {
        serde_json::from_str(s).expect("json")
    }

    #[test]
    fn same_value_and_no_unsafe_byte() {
        let raw = "{\"b\": \"\u{1b}]52 is \\u001b, del \u{7f}, csi \u{9b}31m, nel \u{85}, \
                   rlo \u{202e}, ls \u{2028} \\\" \\\\\",\r\n \"a\": [1e400, 12345678901234567890123, -0.0]}";
        let safe = safe_json(raw).expect_err("raw ESC in a string is not JSON");
        assert!(safe.to_string().contains("line 1 column"), "{safe}");
        let raw = raw.replace('\u{1b}', "\\u001b");
        let safe = safe_json(&raw).expect("valid");
        assert!(
            !safe.chars().any(|c| is_unsafe_char(c) && c != '\n'),
            "{safe:?}"
        );
        assert!(!safe.contains('\r'));
        // Key order and number digits kept, the value the same.
        assert!(safe.find("\"b\"") < safe.find("\"a\""));
        assert!(safe.contains("12345678901234567890123") && safe.contains("1e400"));
        let relaxed = |s: &str| {
            s.replace("1e400", "1")
                .replace("12345678901234567890123", "2")
        };
        assert_eq!(value(&relaxed(&safe)), value(&relaxed(&raw)));
        assert!(safe.contains("\\u009b") && safe.contains("\\u202e") && safe.contains("\\u007f"));
    }

    #[test]
    fn not_json_is_refused_without_echoing_it() {
        for bad in [
            "",
            "\u{1b}]52;c;ZXZpbA==\u{7}",
            "{\"a\":1} trailing",
            "agentbox: fake",
            "{\"a\":\"\0\"}",
        ] {
            let e = safe_json(bad).expect_err(bad).to_string();
            assert!(!e.chars().any(is_unsafe_char), "{e:?}");
            assert!(!e.contains("fake") && !e.contains("ZXZp"), "{e}");
        }
    }

    #[test]
    fn visible_is_one_safe_line() {
        let v = visible("a\nagentbox: x\u{1b}[2J\u{9b}\u{202e}\0");
        assert_eq!(v, "a\\nagentbox: x\\u{1b}[2J\\u{9b}\\u{202e}\\u{0}");
    }
}
