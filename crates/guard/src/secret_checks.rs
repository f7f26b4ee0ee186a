//! The checks credential rules ([`crate::secret_rules`]) apply to a candidate's
//! text after its regex matched: vendor checksums, decoding what a format says is
//! encoded, and telling a real value from a placeholder or a piece of code.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE_NO_PAD};

use crate::secrets::entropy;

/// Base62 digits as GitHub and npm use them for the token checksum.
const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320), bit by bit: tokens are short.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

/// `n` in base62, left-padded with `'0'` to six digits (a CRC-32 always fits:
/// 62^6 > 2^32).
fn base62_6(mut n: u32) -> [u8; 6] {
    let mut out = [b'0'; 6];
    for slot in out.iter_mut().rev() {
        *slot = BASE62[(n % 62) as usize];
        n /= 62;
    }
    out
}

/// GitHub's and npm's token layout after the prefix: 30 random base62 characters,
/// then the base62 CRC-32 of those 30 characters in six digits.
fn base62_crc_token(s: &str, prefix_len: usize) -> bool {
    let Some(body) = s.as_bytes().get(prefix_len..) else {
        return false;
    };
    if body.len() != 36 {
        return false;
    }
    let (random, check) = body.split_at(30);
    base62_6(crc32(random)) == check
}

/// `ghp_` / `gho_` / `ghu_` / `ghs_` / `ghr_` + 30 random + 6 checksum.
pub(crate) fn github_token(s: &str) -> bool {
    base62_crc_token(s, 4)
}

/// `npm_` + 30 random + 6 checksum (the same scheme as GitHub's).
pub(crate) fn npm_token(s: &str) -> bool {
    base62_crc_token(s, 4)
}

/// Substrings that mark a documentation value, a template or a redaction rather
/// than a credential. Compared against the lowercased value.
const PLACEHOLDER_PARTS: &[&str] = &[
    "example",
    "your",
    "placeholder",
    "changeme",
    "change_me",
    "change-me",
    "dummy",
    "sample",
    "redacted",
    "xxxx",
    "****",
    "...",
    "fake",
    "insert",
    "replace",
    "lorem",
    "todo",
    "fixme",
    "123456",
    "abcdef",
    "qwerty",
    "<",
    ">",
    "${",
    "{{",
    "}}",
    "$(",
    "%(",
];

/// A value that is a placeholder, a template variable, or a redaction.
fn is_placeholder(v: &str) -> bool {
    let lower = v.to_ascii_lowercase();
    if PLACEHOLDER_PARTS.iter().any(|p| lower.contains(p)) {
        return true;
    }
    // Variable references: `$VAR`, `%VAR%`, `@VAR@`, `{0}`, `[name]`.
    matches!(
        v.as_bytes().first(),
        Some(b'$' | b'%' | b'@' | b'{' | b'[' | b'<')
    )
}

/// A vendor-format token body that is random rather than a placeholder.
pub(crate) fn token(s: &str) -> bool {
    !is_placeholder(s) && entropy(s) >= 3.0
}

/// Hugging Face tokens are 34 mixed-case letters; an identifier that happens to
/// start with `hf_` is one case only.
pub(crate) fn huggingface(s: &str) -> bool {
    token(s)
        && s.bytes().any(|b| b.is_ascii_uppercase())
        && s.bytes().any(|b| b.is_ascii_lowercase())
}

/// AWS key ids, minus the documentation's `…EXAMPLE` keys.
pub(crate) fn aws_key_id(s: &str) -> bool {
    !s.ends_with("EXAMPLE") && entropy(s) >= 3.0
}

/// AWS secret access keys (40 base64 characters), minus the documentation's.
pub(crate) fn aws_secret(s: &str) -> bool {
    !s.contains("EXAMPLE") && !is_placeholder(s) && entropy(s) >= 4.0
}

/// A JWT whose first segment base64url-decodes to a JSON object naming its `alg`.
pub(crate) fn jwt(s: &str) -> bool {
    let header = s.split('.').next().unwrap_or_default();
    let Ok(bytes) = URL_SAFE_NO_PAD.decode(header) else {
        return false;
    };
    serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()
        .and_then(|v| v.get("alg").map(serde_json::Value::is_string))
        .unwrap_or(false)
}

/// A Discord bot token: its first segment is the bot's user id (a snowflake,
/// 17–20 decimal digits), base64-encoded.
pub(crate) fn discord_bot_token(s: &str) -> bool {
    let first = s.split('.').next().unwrap_or_default();
    let Ok(id) = URL_SAFE_NO_PAD.decode(first.trim_end_matches('=')) else {
        return false;
    };
    (17..=20).contains(&id.len()) && id.iter().all(u8::is_ascii_digit)
}

/// A Twitter app-only bearer token: 22 `A`s, then a random tail.
pub(crate) fn twitter_bearer(s: &str) -> bool {
    let tail = s.trim_start_matches('A');
    tail.len() >= 60 && entropy(tail) >= 4.0
}

/// `Authorization: Basic` and Docker `auth` values: base64 of `user:password`,
/// printable, not a placeholder pair such as `user:password`.
pub(crate) fn basic_auth(s: &str) -> bool {
    let Ok(bytes) = STANDARD
        .decode(s)
        .or_else(|_| STANDARD_NO_PAD.decode(s.trim_end_matches('=')))
    else {
        return false;
    };
    let Ok(text) = std::str::from_utf8(&bytes) else {
        return false;
    };
    let Some((user, password)) = text.split_once(':') else {
        return false;
    };
    !text.chars().any(char::is_control)
        && user.len() + password.len() >= 4
        && !is_placeholder(text)
        && !is_default_password(password)
        && !text.to_ascii_lowercase().contains("password")
}

/// Values that are a reference to a secret rather than the secret: a path, a URL,
/// a dotted identifier (`process.env.API_KEY`, `settings.SECRET_KEY`) or a call
/// or index expression (`os.getenv('X')`, `environ['X']`).
fn is_reference(v: &str) -> bool {
    let b = v.as_bytes();
    if matches!(b.first(), Some(b'/' | b'~' | b'.' | b'\\'))
        || (b.len() > 2 && b[1] == b':' && matches!(b[2], b'\\' | b'/'))
        || v.contains("://")
    {
        return true;
    }
    let ident = |part: &str| {
        let mut bytes = part.bytes();
        bytes
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == b'_' || c == b'$')
            && bytes.all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'$')
    };
    let head = v.split(['(', '[']).next().unwrap_or_default();
    if head.len() < v.len() && !head.is_empty() && head.split('.').all(ident) {
        return true; // a call or an index
    }
    v.contains('.') && v.split('.').all(ident)
}

/// Well-known default or documentation passwords (compared lowercased, whole).
const DEFAULT_PASSWORDS: &[&str] = &[
    "password",
    "passwd",
    "pass",
    "pwd",
    "secret",
    "postgres",
    "root",
    "admin",
    "guest",
    "test",
    "user",
    "mysql",
    "redis",
    "default",
    "demo",
    "anonymous",
    "x-oauth-basic",
];

fn is_default_password(p: &str) -> bool {
    let lower = p.to_ascii_lowercase();
    DEFAULT_PASSWORDS.contains(&lower.as_str())
}

/// The password in `scheme://user:password@host`: not empty-ish, not a template,
/// not a well-known default.
pub(crate) fn url_password(p: &str) -> bool {
    let mut distinct: Vec<u8> = p.bytes().collect();
    distinct.sort_unstable();
    distinct.dedup();
    p.len() >= 4
        && distinct.len() >= 3
        && !is_placeholder(p)
        && !is_default_password(p)
        && !p.to_ascii_lowercase().contains("password")
}

/// Words that, inside a value assigned to a password-like key, mark it as a
/// description or a name rather than the secret.
const NAME_PARTS: &[&str] = &[
    "password",
    "passwd",
    "secret",
    "token",
    "apikey",
    "api_key",
    "api-key",
    "credential",
];

/// The value of `password = …`, `api_key: …` and the like: long enough, not a
/// placeholder or a reference, with letters and digits or mixed case, and about
/// as much entropy as a random string of its length has (3 bits per byte once it
/// is longer than a dozen characters).
pub(crate) fn assigned_value(v: &str) -> bool {
    let n = v.len();
    if !(8..=200).contains(&n) || is_placeholder(v) || is_reference(v) {
        return false;
    }
    let lower = v.to_ascii_lowercase();
    if NAME_PARTS.iter().any(|w| lower.contains(w)) {
        return false;
    }
    let lo = v.bytes().any(|b| b.is_ascii_lowercase());
    let up = v.bytes().any(|b| b.is_ascii_uppercase());
    let digit = v.bytes().any(|b| b.is_ascii_digit());
    if !(lo || up) || !(digit || (lo && up)) {
        return false;
    }
    #[allow(clippy::cast_precision_loss)] // n <= 200
    let min = (0.8 * (n as f32).log2()).min(3.0);
    entropy(v) >= min
}

/// An opaque token after `Authorization: Bearer`: a random string of 16 or more.
pub(crate) fn bearer(v: &str) -> bool {
    v.len() >= 16 && assigned_value(v) && entropy(v) >= 3.5
}

/// A token that mixes upper case, lower case and digits (not a hex id or a word).
pub(crate) fn mixed_token(s: &str) -> bool {
    let body = s.split_once('-').map_or(s, |(_, b)| b);
    body.bytes().any(|b| b.is_ascii_uppercase())
        && body.bytes().any(|b| b.is_ascii_lowercase())
        && body.bytes().any(|b| b.is_ascii_digit())
        && token(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_matches_the_standard_check_value() {
        // The CRC-32/ISO-HDLC check value for "123456789".
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn base62_pads_to_six() {
        assert_eq!(&base62_6(0), b"000000");
        assert_eq!(&base62_6(61), b"00000z");
        assert_eq!(&base62_6(62), b"000010");
        assert_eq!(&base62_6(u32::MAX), b"4gfFC3");
    }
}
