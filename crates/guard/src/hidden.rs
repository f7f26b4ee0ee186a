//! Hidden text: what a reader does not see but a model reads — Unicode tag
//! characters, bidi overrides and isolates, runs of invisible characters,
//! variation-selector payloads, and HTML comments and CSS-hidden elements.
//! Emoji (tag flags, ZWJ sequences, a variation selector after a symbol) and
//! right-to-left text are left alone.

use crate::lazy::LazyRegex;

use crate::finding::{Finding, Kind};

/// The hidden-text type ids.
pub const TYPES: &[&str] = &[
    "tag_characters",
    "bidi_control",
    "zero_width",
    "variation_selectors",
    "html_comment",
    "html_hidden",
];

/// The compiled HTML patterns.
#[derive(Debug)]
pub struct Hidden {
    comment: LazyRegex,
    hidden_open: LazyRegex,
}

impl Default for Hidden {
    fn default() -> Self {
        Self::new()
    }
}

pub(crate) fn is_tag(c: char) -> bool {
    ('\u{E0000}'..='\u{E007F}').contains(&c)
}
pub(crate) fn is_bidi(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}
/// Invisible, zero-width characters (not the joiners' legitimate uses, which
/// [`scan_invisible`] leaves alone).
pub(crate) fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{200B}'..='\u{200D}'
            | '\u{2060}'..='\u{2064}'
            | '\u{FEFF}'
            | '\u{180E}'
            | '\u{115F}'
            | '\u{1160}'
            | '\u{3164}'
            | '\u{FFA0}'
            | '\u{034F}'
            | '\u{17B4}'
            | '\u{17B5}'
            | '\u{206A}'..='\u{206F}'
    )
}
pub(crate) fn is_vs(c: char) -> bool {
    matches!(c, '\u{FE00}'..='\u{FE0F}' | '\u{E0100}'..='\u{E01EF}')
}
fn is_emoji_like(c: char) -> bool {
    matches!(c,
        '\u{1F000}'..='\u{1FAFF}' | '\u{2600}'..='\u{27BF}' | '\u{2300}'..='\u{23FF}'
        | '\u{2B00}'..='\u{2BFF}' | '\u{3030}' | '\u{303D}'
        | '\u{3297}' | '\u{3299}' | '\u{00A9}' | '\u{00AE}' | '\u{203C}' | '\u{2049}'
        | '\u{2122}' | '\u{2139}' | '\u{2194}'..='\u{21AA}' | '\u{24C2}' | '\u{25AA}'..='\u{25FE}'
        | '\u{E0020}'..='\u{E007F}' | '\u{20E3}')
}
/// Letters of scripts where ZWJ/ZWNJ shape text (Arabic, Persian, Indic, …).
fn joins_script(c: char) -> bool {
    matches!(c, '\u{0600}'..='\u{08FF}' | '\u{0900}'..='\u{0DFF}' | '\u{0F00}'..='\u{0FFF}'
        | '\u{1000}'..='\u{109F}' | '\u{1780}'..='\u{17FF}' | '\u{A8E0}'..='\u{A8FF}'
        | '\u{FB50}'..='\u{FDFF}' | '\u{FE70}'..='\u{FEFC}')
}

impl Hidden {
    pub fn new() -> Hidden {
        Hidden {
            comment: LazyRegex::new(r"(?s)<!--.*?(?:-->|\z)"),
            hidden_open: LazyRegex::new(
                r#"(?i)<([a-z][a-z0-9]*)\b[^>]*?(?:\bhidden\b(?:\s*=\s*["']?(?:hidden|true|until-found)?["']?)?(?:\s|/?>)|style\s*=\s*["'][^"']*?(?:(?:display\s*:\s*none|visibility\s*:\s*(?:hidden|collapse)|(?:height|width|max-height|max-width)\s*:\s*0(?:px)?\s*[;!][^"']*overflow\s*:\s*hidden|clip\s*:\s*rect\(\s*0|text-indent\s*:\s*-\d{3,}|left\s*:\s*-\d{4,}|(?:^|;)\s*color\s*:\s*(?:transparent|rgba\([^)]*,\s*0\s*\)))[^"']*["']|(?:font-size\s*:\s*0(?:\.0+)?(?:px|pt|em|rem|%)?|opacity\s*:\s*0(?:\.0+)?)\s*(?:[;!][^"']*)?["'])[^>]*>)"#,
            ),
        }
    }

    pub fn scan(&self, text: &str, out: &mut Vec<Finding>) {
        let mut found = Vec::new();
        if !text.is_ascii() {
            scan_chars(text, &mut found);
        }
        if text.contains('<') {
            for m in self.comment.find_iter(text) {
                found.push(f("html_comment", m.start(), m.end(), 0.9));
            }
            let mut from = 0;
            while let Some(c) = self.hidden_open.captures_at(text, from) {
                let (Some(all), Some(tag)) = (c.get(0), c.get(1)) else {
                    break;
                };
                let end = close_of(text, all.end(), tag.as_str()).unwrap_or(text.len());
                found.push(f("html_hidden", all.start(), end, 0.9));
                from = end.max(all.end());
            }
        }
        found.sort_by_key(|x| x.start);
        out.extend(found);
    }
}

fn f(ty: &'static str, start: usize, end: usize, score: f32) -> Finding {
    Finding {
        kind: Kind::HiddenText,
        ty,
        start,
        end,
        score,
    }
}

/// The end of the element whose opening tag ends at `from`: after its matching
/// close tag, counting nested elements of the same name.
fn close_of(text: &str, from: usize, tag: &str) -> Option<usize> {
    let lower = text[from..].to_ascii_lowercase();
    let tag = tag.to_ascii_lowercase();
    let open = format!("<{tag}");
    let close = format!("</{tag}");
    let mut depth = 1usize;
    let mut i = 0;
    while i < lower.len() {
        let rest = &lower[i..];
        let next_open = rest.find(&open);
        let next_close = rest.find(&close)?;
        match next_open {
            Some(o) if o < next_close => {
                depth += 1;
                i += o + open.len();
            }
            _ => {
                depth -= 1;
                let after = i + next_close + close.len();
                let gt = lower[after..]
                    .find('>')
                    .map_or(lower.len(), |g| after + g + 1);
                if depth == 0 {
                    return Some(from + gt);
                }
                i = gt;
            }
        }
    }
    None
}

fn scan_chars(text: &str, found: &mut Vec<Finding>) {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let end_of = |i: usize| chars.get(i).map_or(text.len(), |&(b, _)| b);
    let mut i = 0;
    while i < chars.len() {
        let (b, c) = chars[i];
        if is_tag(c) {
            let mut j = i;
            while j < chars.len() && is_tag(chars[j].1) {
                j += 1;
            }
            // An emoji tag sequence: a black flag, tag letters, then CANCEL TAG.
            let flag = i > 0
                && chars[i - 1].1 == '\u{1F3F4}'
                && chars[j - 1].1 == '\u{E007F}'
                && chars[i..j - 1].iter().all(|&(_, t)| {
                    ('\u{E0061}'..='\u{E007A}').contains(&t)
                        || ('\u{E0030}'..='\u{E0039}').contains(&t)
                })
                && j - i <= 8;
            if !flag {
                found.push(f("tag_characters", b, end_of(j), 1.0));
            }
            i = j;
        } else if is_bidi(c) {
            let mut j = i;
            while j < chars.len() && is_bidi(chars[j].1) {
                j += 1;
            }
            found.push(f("bidi_control", b, end_of(j), 0.9));
            i = j;
        } else if is_invisible(c) {
            let mut j = i;
            while j < chars.len() && (is_invisible(chars[j].1) || is_vs(chars[j].1)) {
                j += 1;
            }
            let run = j - i;
            let prev = (i > 0).then(|| chars[i - 1].1);
            let next = chars.get(j).map(|&(_, c)| c);
            let legit = run == 1
                && match c {
                    // ZWJ between emoji, or shaping a script that uses it.
                    '\u{200D}' => {
                        prev.is_some_and(joins_script)
                            || prev.is_some_and(|p| is_emoji_like(p) || is_vs(p))
                                && next.is_some_and(|n| is_emoji_like(n) || joins_script(n))
                    }
                    '\u{200C}' => {
                        prev.is_some_and(|p| !p.is_ascii()) || next.is_some_and(|n| !n.is_ascii())
                    }
                    // A byte order mark at the very start.
                    '\u{FEFF}' => b == 0,
                    // Hangul fillers inside Hangul text.
                    '\u{115F}' | '\u{1160}' | '\u{3164}' | '\u{FFA0}' => {
                        prev.is_some_and(|p| !p.is_ascii()) && next.is_some_and(|n| !n.is_ascii())
                    }
                    // A lone zero-width space or word joiner between words or
                    // CJK text (line-break hints), not inside a Latin word.
                    '\u{200B}' | '\u{2060}' => {
                        !(prev.is_some_and(|p| p.is_ascii_alphanumeric())
                            && next.is_some_and(|n| n.is_ascii_alphanumeric()))
                    }
                    _ => false,
                };
            if !legit {
                found.push(f(
                    "zero_width",
                    b,
                    end_of(j),
                    if run > 1 { 0.95 } else { 0.7 },
                ));
            }
            i = j;
        } else if is_vs(c) {
            let mut j = i;
            while j < chars.len() && is_vs(chars[j].1) {
                j += 1;
            }
            // One selector after a symbol picks its presentation; more, or one
            // from the supplement after ASCII, carries data.
            let supplement = ('\u{E0100}'..='\u{E01EF}').contains(&c);
            if j - i > 1 || (supplement && i > 0 && chars[i - 1].1.is_ascii()) {
                found.push(f("variation_selectors", b, end_of(j), 0.95));
            }
            i = j;
        } else {
            i += 1;
        }
    }
}

/// Removes every hidden-text finding's span from `text` (strip action).
pub fn strip(text: &str, findings: &[Finding]) -> String {
    let mut spans: Vec<(usize, usize)> = findings
        .iter()
        .filter(|x| x.kind == Kind::HiddenText)
        .map(|x| (x.start, x.end))
        .collect();
    spans.sort_unstable();
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (s, e) in spans {
        if s > at {
            out.push_str(&text[at..s]);
        }
        at = at.max(e);
    }
    out.push_str(&text[at.min(text.len())..]);
    out
}
