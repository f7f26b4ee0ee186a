//! Text as the injection detector reads it: disguises undone. NFKC (full-width and
//! styled letters), Unicode tag characters read as the ASCII they encode,
//! invisible characters and inline markup removed (so a word split across them
//! joins again), look-alike letters from other scripts and leetspeak folded,
//! letter-by-letter spacing joined, HTML entities and percent-encoding decoded,
//! lower case. Texts hidden in an encoding are decoded by [`crate::decode`] and read
//! as well.

use unicode_normalization::UnicodeNormalization;

/// The normalised form of `s`.
pub fn normalize(s: &str) -> String {
    // Plain ASCII without markup, entities or escapes is already NFKC and has
    // nothing hidden: only case, leetspeak and spacing to undo.
    if s.is_ascii()
        && !s
            .bytes()
            .any(|b| matches!(b, b'<' | b'&' | b'%' | b'*' | b'`' | b'~'))
    {
        let lower = s.to_ascii_lowercase();
        // Only digits and these symbols stand in for letters (`leet`).
        let folded = if lower.bytes().any(|b| b"0134578@$!|+".contains(&b)) {
            fold_tokens(&lower)
        } else {
            lower
        };
        return join_spaced_letters(&folded);
    }
    let pre = decode_entities(&strip_markup(s));
    let pre = if pre.matches('%').count() >= 3 {
        percent_decode(&pre)
    } else {
        pre
    };
    let mut out = String::with_capacity(pre.len());
    for c in pre.nfkc() {
        if let Some(a) = tag_ascii(c) {
            out.push(a.to_ascii_lowercase());
            continue;
        }
        if is_ignorable(c) {
            continue;
        }
        if c == '*' || c == '`' || c == '~' {
            continue;
        }
        // Greek capitals whose lower case is not the Latin letter they look like
        // (Ν → ν reads as v) become markers: a disguised token folds them to
        // the Latin letter, a real Greek word gets its lower case back
        // (`fold_tokens`). The Turkish dotted İ lower-cases to i + U+0307.
        let c = match c {
            'Ν' => GREEK_CAPITALS[0].0,
            'Η' => GREEK_CAPITALS[1].0,
            'Υ' => GREEK_CAPITALS[2].0,
            'Μ' => GREEK_CAPITALS[3].0,
            'Ζ' => GREEK_CAPITALS[4].0,
            'İ' => 'i',
            _ => c,
        };
        for l in c.to_lowercase() {
            out.push(l);
        }
    }
    let folded = fold_tokens(&out);
    join_spaced_letters(&folded)
}

fn tag_ascii(c: char) -> Option<char> {
    let u = c as u32;
    (0xE0020..=0xE007E)
        .contains(&u)
        .then(|| char::from_u32(u - 0xE0000))
        .flatten()
}

/// Characters that change nothing a reader sees: the hidden-text guard's
/// invisible, bidi, variation-selector and tag characters, and the soft hyphen,
/// the directional marks and the unassigned U+2065 besides.
fn is_ignorable(c: char) -> bool {
    use crate::hidden::{is_bidi, is_invisible, is_vs};
    is_invisible(c)
        || is_bidi(c)
        || is_vs(c)
        || matches!(
            c,
            '\u{00AD}' | '\u{200E}' | '\u{200F}' | '\u{2065}' | '\u{E0000}'..='\u{E0FFF}'
        )
}

/// Inline HTML tags vanish (a word split across them joins); other tags become a
/// space. Comments keep their text (hidden instructions live there).
fn strip_markup(s: &str) -> String {
    if !s.contains('<') {
        return s.to_string();
    }
    const INLINE: &[&str] = &[
        "b", "i", "u", "s", "em", "strong", "span", "font", "a", "code", "mark", "small", "sub",
        "sup", "del", "ins", "abbr", "kbd", "q", "tt", "wbr",
    ];
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(p) = rest.find('<') {
        out.push_str(&rest[..p]);
        let after = &rest[p..];
        if let Some(c) = after.strip_prefix("<!--") {
            let close = c.find("-->").map_or(c.len(), |e| e + 3);
            out.push(' ');
            out.push_str(c[..close].trim_end_matches("-->"));
            out.push(' ');
            rest = &c[close.min(c.len())..];
            continue;
        }
        match after[1..].find(['<', '>']).filter(|&e| e < 400) {
            Some(e) if after.as_bytes()[1 + e] == b'>' => {
                let inner = after[1..1 + e].trim_start_matches('/');
                let name: String = inner
                    .chars()
                    .take_while(char::is_ascii_alphanumeric)
                    .collect();
                if name.is_empty() {
                    out.push('<');
                    rest = &after[1..];
                    continue;
                }
                if !INLINE.iter().any(|t| t.eq_ignore_ascii_case(&name)) {
                    out.push(' ');
                }
                rest = &after[2 + e..];
            }
            _ => {
                out.push('<');
                rest = &after[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(p) = rest.find('&') {
        out.push_str(&rest[..p]);
        let after = &rest[p + 1..];
        // An entity is short: look no further (a long run of `&` stays linear).
        let end = after.bytes().take(11).position(|b| b == b';');
        let decoded = end.and_then(|e| {
            let name = &after[..e];
            let c = match name {
                "lt" => '<',
                "gt" => '>',
                "amp" => '&',
                "quot" => '"',
                "apos" => '\'',
                "nbsp" => ' ',
                _ => {
                    let n = name.strip_prefix('#')?;
                    let v = match n.strip_prefix(['x', 'X']) {
                        Some(h) => u32::from_str_radix(h, 16).ok()?,
                        None => n.parse().ok()?,
                    };
                    char::from_u32(v)?
                }
            };
            Some((c, e))
        });
        match decoded {
            Some((c, e)) => {
                out.push(c);
                rest = &after[e + 1..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let h = std::str::from_utf8(&b[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            if let Some(v) = h {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Markers for Greek capitals (private-use characters): the Latin letter each
/// looks like, and its Greek lower case.
const GREEK_CAPITALS: [(char, char, char); 5] = [
    ('\u{E000}', 'n', 'ν'),
    ('\u{E001}', 'h', 'η'),
    ('\u{E002}', 'y', 'υ'),
    ('\u{E003}', 'm', 'μ'),
    ('\u{E004}', 'z', 'ζ'),
];

fn greek_capital(c: char) -> Option<&'static (char, char, char)> {
    GREEK_CAPITALS.iter().find(|g| g.0 == c)
}

/// Latin look-alikes from Cyrillic, Greek and IPA, lower case.
fn homoglyph(c: char) -> Option<char> {
    if let Some(g) = greek_capital(c) {
        return Some(g.1);
    }
    Some(match c {
        'а' | 'α' | 'ɑ' => 'a',
        'в' | 'β' => 'b',
        'с' | 'ϲ' => 'c',
        'ԁ' => 'd',
        'е' | 'ё' | 'ε' | 'є' => 'e',
        'ɡ' => 'g',
        'һ' | 'н' => 'h',
        'і' | 'ї' | 'ι' | 'ı' | 'ɩ' => 'i',
        'ј' => 'j',
        'к' | 'κ' => 'k',
        'ӏ' | 'ℓ' => 'l',
        'м' => 'm',
        'η' | 'п' => 'n',
        'о' | 'ο' | 'σ' | 'օ' => 'o',
        'р' | 'ρ' => 'p',
        'ԛ' => 'q',
        'г' => 'r',
        'ѕ' => 's',
        'т' | 'τ' => 't',
        'υ' | 'ս' => 'u',
        'ν' | 'ѵ' => 'v',
        'ԝ' | 'ω' | 'ш' => 'w',
        'х' | 'χ' => 'x',
        'у' | 'γ' => 'y',
        _ => return None,
    })
}

fn leet(c: char) -> Option<char> {
    Some(match c {
        '0' => 'o',
        '1' | '!' | '|' => 'i',
        '3' => 'e',
        '4' | '@' => 'a',
        '5' | '$' => 's',
        '7' | '+' => 't',
        '8' => 'b',
        _ => return None,
    })
}

/// Folds a whitespace-separated token when it is a disguise: every non-ASCII
/// letter a look-alike (so a real Cyrillic or Greek word stays), or letters mixed
/// with leetspeak digits.
fn fold_tokens(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for (i, tok) in s.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        // Plain words (ASCII letters and ordinary punctuation) are the usual case.
        if tok.bytes().all(|b| {
            b.is_ascii_alphabetic()
                || matches!(
                    b,
                    b',' | b'.' | b';' | b'\'' | b'"' | b'(' | b')' | b'-' | b'?' | b'/' | b'\n'
                )
        }) {
            out.push_str(tok);
            continue;
        }
        let non_ascii_letters = tok
            .chars()
            .filter(|&c| (c.is_alphabetic() && !c.is_ascii()) || greek_capital(c).is_some());
        let mut any_glyph = false;
        let all_glyphs = non_ascii_letters.clone().all(|c| {
            any_glyph = true;
            homoglyph(c).is_some()
        });
        let ascii_letters = tok.chars().filter(char::is_ascii_alphabetic).count();
        let glyph_fold = any_glyph && all_glyphs && (ascii_letters > 0 || tok.chars().count() <= 6);
        let leet_chars = tok.chars().filter(|&c| leet(c).is_some()).count();
        let core = tok.trim_matches(|c: char| c.is_ascii_punctuation());
        let leet_fold = ascii_letters >= 2
            && leet_chars > 0
            && core
                .chars()
                .any(|c| c.is_ascii_digit() || matches!(c, '@' | '$' | '!' | '|'))
            && core
                .chars()
                .all(|c| c.is_ascii_alphabetic() || leet(c).is_some());
        if !glyph_fold && !leet_fold {
            // A real word: Greek capitals get their lower case back.
            out.extend(tok.chars().map(|c| greek_capital(c).map_or(c, |g| g.2)));
            continue;
        }
        let lead = tok.len()
            - tok
                .trim_start_matches(|c: char| c.is_ascii_punctuation())
                .len();
        let trail_at = lead + core.len();
        out.push_str(&tok[..lead]);
        for c in core.chars() {
            let g = if glyph_fold { homoglyph(c) } else { None };
            let l = if leet_fold { leet(c) } else { None };
            out.push(
                g.or(l)
                    .unwrap_or_else(|| greek_capital(c).map_or(c, |x| x.2)),
            );
        }
        out.push_str(&tok[trail_at..]);
    }
    out
}

/// "i g n o r e  a l l" → "ignore all": runs of at least four single letters
/// separated by single spaces are joined (a double space separates words).
fn join_spaced_letters(s: &str) -> String {
    if s.is_ascii() && !ascii_spacing_to_undo(s.as_bytes()) {
        return s.to_string();
    }
    // Most text has no run of four single letters: then only whitespace is
    // collapsed, and text with nothing to collapse is returned as it is.
    let mut run = 0;
    let spaced = s.split(' ').any(|t| {
        let mut cs = t.chars();
        let single = matches!((cs.next(), cs.next()), (Some(c), None) if c.is_alphanumeric());
        run = if single { run + 1 } else { 0 };
        run >= 4
    });
    if !spaced {
        let plain = !s.contains("  ") && !s.chars().any(|c| c.is_whitespace() && c != ' ');
        return if plain { s.to_string() } else { collapse(s) };
    }
    let toks: Vec<&str> = s.split(' ').collect();
    let single = |t: &str| t.chars().count() == 1 && t.chars().all(char::is_alphanumeric);
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < toks.len() {
        let mut j = i;
        while j < toks.len() && single(toks[j]) {
            j += 1;
        }
        if j - i >= 4 {
            for t in &toks[i..j] {
                out.push_str(t);
            }
            i = j;
        } else {
            out.push_str(toks[i]);
            i += 1;
        }
        if i < toks.len() {
            out.push(' ');
        }
    }
    collapse(&out)
}

/// Whether ASCII text has anything [`join_spaced_letters`] would change: a
/// whitespace character other than one space, two spaces in a row, or four
/// single letters or digits separated by single spaces.
fn ascii_spacing_to_undo(b: &[u8]) -> bool {
    let (mut run, mut len, mut alnum, mut after_space) = (0u32, 0u32, false, false);
    for &c in b {
        if c == b' ' {
            if after_space {
                return true;
            }
            run = if len == 1 && alnum { run + 1 } else { 0 };
            if run >= 4 {
                return true;
            }
            len = 0;
            after_space = true;
        } else if c.is_ascii_whitespace() {
            return true;
        } else {
            after_space = false;
            len += 1;
            alnum = c.is_ascii_alphanumeric();
        }
    }
    len == 1 && alnum && run + 1 >= 4
}

/// Runs of whitespace become one space.
fn collapse(s: &str) -> String {
    let mut collapsed = String::with_capacity(s.len());
    let mut space = false;
    for c in s.chars() {
        if c.is_whitespace() {
            if !space {
                collapsed.push(' ');
            }
            space = true;
        } else {
            collapsed.push(c);
            space = false;
        }
    }
    collapsed
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A long run of `&` (no entity ends) is read in one pass, as itself.
    #[test]
    fn ampersands_without_entities_stay() {
        let s = "&".repeat(200_000);
        assert_eq!(normalize(&s), s);
        assert_eq!(normalize("a &amp; b &#x41;"), "a & b a");
    }
}
