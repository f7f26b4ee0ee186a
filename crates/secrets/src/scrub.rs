//! Removing secret values — raw, base64 (standard and URL-safe, padded or not, at
//! every alignment), hex (both cases) and percent-encoded — from anything that
//! leaves the supervisor: responses to the guest, tool output, reports, audit
//! records and error messages.

use base64::Engine;

/// What a value is replaced with.
pub const REDACTED: &str = "[REDACTED]";

/// Forms shorter than this are not scrubbed (they would match ordinary text); a
/// secret is expected to be much longer.
const MIN_FORM: usize = 6;

/// The byte patterns of a set of secret values.
#[derive(Default, Clone)]
pub struct Scrubber {
    /// Longest first, so that a longer form is replaced before its parts.
    patterns: Vec<Vec<u8>>,
}

impl std::fmt::Debug for Scrubber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Scrubber({} patterns)", self.patterns.len())
    }
}

impl Drop for Scrubber {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        for p in &mut self.patterns {
            p.zeroize();
        }
    }
}

/// Every form of `value` that is scrubbed.
pub fn forms(value: &[u8]) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = vec![value.to_vec()];
    out.push(hex::encode(value).into_bytes());
    out.push(hex::encode_upper(value).into_bytes());
    // Percent-encoding: every byte, and only the bytes outside the unreserved set,
    // each with upper- and lower-case hex digits.
    let pct = |all: bool, upper: bool| -> Vec<u8> {
        let mut s = String::new();
        for &b in value {
            let unreserved = b.is_ascii_alphanumeric() || b"-._~".contains(&b);
            if unreserved && !all {
                s.push(b as char);
            } else if upper {
                s.push_str(&format!("%{b:02X}"));
            } else {
                s.push_str(&format!("%{b:02x}"));
            }
        }
        s.into_bytes()
    };
    for all in [true, false] {
        for upper in [true, false] {
            out.push(pct(all, upper));
        }
    }
    // Escaped inside a JSON string (an API that echoes the request as JSON):
    // backslash and quote escaped, and also `/` as `\/` (PHP-style encoders).
    // Values hold no control characters (the store refuses them).
    let json = |slash: bool| -> Vec<u8> {
        let mut s = Vec::new();
        for &b in value {
            match b {
                b'"' | b'\\' => s.extend_from_slice(&[b'\\', b]),
                b'/' if slash => s.extend_from_slice(b"\\/"),
                _ => s.push(b),
            }
        }
        s
    };
    out.push(json(false));
    out.push(json(true));
    // Base64 at each of the three alignments: the characters that depend only on
    // the value's bytes, whatever precedes or follows it in the encoded stream.
    for engine in [
        &base64::engine::general_purpose::STANDARD,
        &base64::engine::general_purpose::URL_SAFE,
    ] {
        for align in 0..3usize {
            let mut buf = vec![0u8; align];
            buf.extend_from_slice(value);
            let enc = engine.encode(&buf);
            let start = (8 * align).div_ceil(6);
            let end = (8 * (align + value.len())) / 6;
            if end > start {
                out.push(enc.as_bytes()[start..end].to_vec());
            }
        }
    }
    out.retain(|f| f.len() >= MIN_FORM);
    out.sort();
    out.dedup();
    out
}

impl Scrubber {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a value (and its encodings) to scrub.
    pub fn add(&mut self, value: &[u8]) {
        if value.len() < 4 {
            // Too short to scrub without mangling ordinary text; such a value is
            // refused when it is read (see `store`).
            return;
        }
        for f in forms(value) {
            if !self.patterns.contains(&f) {
                self.patterns.push(f);
            }
        }
        self.patterns.sort_by_key(|p| std::cmp::Reverse(p.len()));
    }

    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// `bytes` with every form of every value replaced.
    pub fn bytes(&self, bytes: &[u8]) -> Vec<u8> {
        if self.patterns.is_empty() {
            return bytes.to_vec();
        }
        let mut out = bytes.to_vec();
        for p in &self.patterns {
            if out.len() < p.len() {
                continue;
            }
            let mut next = Vec::with_capacity(out.len());
            let mut i = 0;
            while i < out.len() {
                if out[i..].starts_with(p) {
                    next.extend_from_slice(REDACTED.as_bytes());
                    i += p.len();
                } else {
                    next.push(out[i]);
                    i += 1;
                }
            }
            out = next;
        }
        out
    }

    /// `text` with every form of every value replaced.
    pub fn text(&self, text: &str) -> String {
        if self.patterns.is_empty() {
            return text.to_string();
        }
        String::from_utf8_lossy(&self.bytes(text.as_bytes())).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "ghp_S3cr3tV4lu3/with+odd=chars";

    fn scrubbed(s: &Scrubber, text: &str) -> bool {
        !s.text(text).contains(text) || text.is_empty()
    }

    #[test]
    fn raw_hex_and_percent_forms_are_removed() {
        let mut s = Scrubber::new();
        s.add(SECRET.as_bytes());
        let raw = format!("token={SECRET};");
        assert_eq!(s.text(&raw), format!("token={REDACTED};"));
        for form in [
            hex::encode(SECRET),
            hex::encode_upper(SECRET),
            "ghp_S3cr3tV4lu3%2Fwith%2Bodd%3Dchars".to_string(),
            "ghp_S3cr3tV4lu3%2fwith%2bodd%3dchars".to_string(),
        ] {
            let t = format!("x{form}y");
            assert_eq!(s.text(&t), format!("x{REDACTED}y"), "{form}");
        }
    }

    #[test]
    fn base64_is_removed_at_every_alignment_and_alphabet() {
        let mut s = Scrubber::new();
        s.add(SECRET.as_bytes());
        for prefix in ["", "a", "ab", "abc", "Bearer ", "user:"] {
            for suffix in ["", "!", "!!", "!!!"] {
                let data = format!("{prefix}{SECRET}{suffix}");
                for engine in [
                    &base64::engine::general_purpose::STANDARD,
                    &base64::engine::general_purpose::URL_SAFE,
                    &base64::engine::general_purpose::STANDARD_NO_PAD,
                ] {
                    let enc = engine.encode(&data);
                    let out = s.text(&enc);
                    assert!(
                        out.contains(REDACTED),
                        "{prefix:?}{suffix:?}: {enc} -> {out}"
                    );
                    // What is left cannot be decoded back to the secret.
                    assert!(!out.contains(&enc), "{enc}");
                }
            }
        }
        assert!(scrubbed(&s, SECRET));
    }

    #[test]
    fn json_escaped_forms_are_removed() {
        let mut s = Scrubber::new();
        let value = r#"tok"quote\back/slash-0123"#;
        s.add(value.as_bytes());
        for form in [
            r#"tok\"quote\\back/slash-0123"#,
            r#"tok\"quote\\back\/slash-0123"#,
        ] {
            let t = format!(r#"{{"h":"{form}"}}"#);
            assert_eq!(s.text(&t), format!(r#"{{"h":"{REDACTED}"}}"#), "{form}");
        }
    }

    #[test]
    fn unrelated_text_is_untouched() {
        let mut s = Scrubber::new();
        s.add(SECRET.as_bytes());
        let t = "ordinary response body with ghp_ prefix and base64 aGVsbG8=";
        assert_eq!(s.text(t), t);
        assert_eq!(Scrubber::new().text(SECRET), SECRET);
    }
}
