//! Personal data: each candidate found by a pattern must also pass the format's
//! own validation (a checksum, a country's length, the numbering rules) before it
//! is a finding.

use regex::Regex;

use crate::lazy::LazyRegex;

use crate::finding::{Finding, Kind};

/// Every personal-data type id, in the order they are checked.
pub const TYPES: &[&str] = &[
    "email",
    "phone",
    "credit_card",
    "iban",
    "us_ssn",
    "ca_sin",
    "uk_nino",
    "br_cpf",
    "es_dni",
    "nl_bsn",
    "in_aadhaar",
];

/// The compiled personal-data patterns.
#[derive(Debug)]
pub struct Pii {
    email: LazyRegex,
    phone: LazyRegex,
    card: LazyRegex,
    iban: LazyRegex,
    ssn: LazyRegex,
    sin: LazyRegex,
    nino: LazyRegex,
    cpf: LazyRegex,
    dni: LazyRegex,
    bsn: LazyRegex,
    aadhaar: LazyRegex,
}

impl Default for Pii {
    fn default() -> Self {
        Self::new()
    }
}

const fn re(p: &'static str) -> LazyRegex {
    LazyRegex::new(p)
}

impl Pii {
    pub fn new() -> Pii {
        Pii {
            email: re(
                r"(?i)(?-u:\b)[a-z0-9](?:[a-z0-9._%+\-']{0,63})@(?:[a-z0-9](?:[a-z0-9\-]{0,62}[a-z0-9])?\.)+[a-z]{2,24}(?-u:\b)",
            ),
            // A run of digits with the separators phone numbers use; validated below.
            phone: re(
                r"(?:\+|(?-u:\b)00)?\(?\d(?:[\d \t.\-/()]|\u{a0}){5,24}\d(?:\s?(?:x|ext\.?)\s?\d{1,5})?",
            ),
            card: re(r"(?-u:\b)\d(?:[ \-]?\d){11,18}(?-u:\b)"),
            iban: re(r"(?-u:\b)[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]){11,30}(?-u:\b)"),
            ssn: re(
                r"(?i)(?-u:\b)(?P<s>\d{3}-\d{2}-\d{4}|\d{3} \d{2} \d{4})(?-u:\b)|(?:ssn|social security(?: number| no\.?)?)[\s:#]*(?P<n>\d{9})(?-u:\b)",
            ),
            sin: re(
                r"(?i)(?:sin|social insurance(?: number| no\.?)?|nas)[\s:#]*(?P<s>\d{3}[ \-]?\d{3}[ \-]?\d{3})(?-u:\b)",
            ),
            nino: re(
                r"(?-u:\b)(?P<s>[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D])(?-u:\b)",
            ),
            cpf: re(
                r"(?-u:\b)\d{3}\.\d{3}\.\d{3}-\d{2}(?-u:\b)|(?i:cpf)[\s:#]*(?P<s>\d{11})(?-u:\b)",
            ),
            dni: re(r"(?-u:\b)(?P<s>[XYZ]?\d{7,8}-?[A-Z])(?-u:\b)"),
            bsn: re(
                r"(?i)(?:bsn|burgerservicenummer)[\s:#]*(?P<s>\d{4}\.?\d{2}\.?\d{3}|\d{9})(?-u:\b)",
            ),
            aadhaar: re(
                r"(?-u:\b)(?P<s>[2-9]\d{3} \d{4} \d{4})(?-u:\b)|(?i:aadhaar)[\s:#a-z]*(?P<n>[2-9]\d{11})(?-u:\b)",
            ),
        }
    }

    /// Personal data in `text`; `only` limits the types (ids from [`TYPES`]).
    pub fn scan(&self, text: &str, only: Option<&[String]>, out: &mut Vec<Finding>) {
        let want = |t: &str| only.is_none_or(|o| o.iter().any(|x| x == t));
        let mut found = Vec::new();
        let mut push = |ty: &'static str, s: usize, e: usize, score: f32| {
            found.push(Finding {
                kind: Kind::Pii,
                ty,
                start: s,
                end: e,
                score,
            });
        };
        let has_at = text.contains('@');
        if want("email") && has_at {
            for m in self.email.find_iter(text) {
                if email_ok(m.as_str()) {
                    push("email", m.start(), m.end(), 0.95);
                }
            }
        }
        if !text.bytes().any(|b| b.is_ascii_digit()) {
            out.extend(found);
            return;
        }
        if want("credit_card") {
            for m in self.card.find_iter(text) {
                if card_ok(m.as_str()) {
                    push("credit_card", m.start(), m.end(), 0.95);
                }
            }
        }
        if want("iban") {
            for m in self.iban.find_iter(text) {
                if let Some(end) = iban_ok(m.as_str()) {
                    push("iban", m.start(), m.start() + end, 0.98);
                }
            }
        }
        if want("us_ssn") {
            for c in self.ssn.captures_iter(text) {
                let Some(m) = c.name("s").or_else(|| c.name("n")) else {
                    continue;
                };
                if ssn_ok(m.as_str()) {
                    push(
                        "us_ssn",
                        m.start(),
                        m.end(),
                        if c.name("n").is_some() { 0.9 } else { 0.8 },
                    );
                }
            }
        }
        let named = |r: &Regex,
                     ty: &'static str,
                     ok: fn(&str) -> bool,
                     score: f32,
                     push: &mut dyn FnMut(&'static str, usize, usize, f32)| {
            for c in r.captures_iter(text) {
                let Some(m) = c.name("s").or_else(|| c.name("n")).or_else(|| c.get(0)) else {
                    continue;
                };
                if ok(m.as_str()) {
                    push(ty, m.start(), m.end(), score);
                }
            }
        };
        if want("ca_sin") {
            named(&self.sin, "ca_sin", |s| luhn(&digits(s)), 0.85, &mut push);
        }
        if want("uk_nino") {
            named(&self.nino, "uk_nino", nino_ok, 0.8, &mut push);
        }
        if want("br_cpf") {
            named(&self.cpf, "br_cpf", cpf_ok, 0.9, &mut push);
        }
        if want("es_dni") {
            named(&self.dni, "es_dni", dni_ok, 0.85, &mut push);
        }
        if want("nl_bsn") {
            named(&self.bsn, "nl_bsn", bsn_ok, 0.85, &mut push);
        }
        if want("in_aadhaar") {
            named(
                &self.aadhaar,
                "in_aadhaar",
                |s| verhoeff(&digits(s)),
                0.85,
                &mut push,
            );
        }
        // Phones last: a number already taken as a card, IBAN or identifier is not
        // also a phone.
        if want("phone") {
            for m in self.phone.find_iter(text) {
                let (s, e) = trim_phone(text, m.start(), m.end());
                if phone_ok(text, s, e) && found.iter().all(|f| e <= f.start || s >= f.end) {
                    found.push(Finding {
                        kind: Kind::Pii,
                        ty: "phone",
                        start: s,
                        end: e,
                        score: 0.8,
                    });
                }
            }
        }
        found.sort_by_key(|f| f.start);
        out.extend(found);
    }
}

fn digits(s: &str) -> Vec<u8> {
    s.bytes()
        .filter(u8::is_ascii_digit)
        .map(|b| b - b'0')
        .collect()
}

const FILE_TLDS: &[&str] = &[
    "png", "jpg", "jpeg", "gif", "svg", "webp", "ico", "js", "css", "map", "ts", "py", "rs",
    "json", "lock", "toml", "yaml", "yml", "txt", "md", "html",
];

fn email_ok(s: &str) -> bool {
    let Some((local, domain)) = s.rsplit_once('@') else {
        return false;
    };
    let tld = domain.rsplit('.').next().unwrap_or("");
    !local.ends_with('.')
        && !local.contains("..")
        && !FILE_TLDS.iter().any(|t| t.eq_ignore_ascii_case(tld))
}

/// Luhn over digits.
pub fn luhn(d: &[u8]) -> bool {
    if d.is_empty() {
        return false;
    }
    let sum: u32 = d
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &x)| {
            let x = u32::from(x);
            if i % 2 == 1 {
                let y = x * 2;
                if y > 9 { y - 9 } else { y }
            } else {
                x
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

fn card_ok(s: &str) -> bool {
    let d = digits(s);
    if !(12..=19).contains(&d.len()) || !luhn(&d) || d.iter().all(|&x| x == d[0]) {
        return false;
    }
    // Twelve digits: Maestro only.
    if d.len() == 12 && !matches!(d[0], 0 | 5 | 6) {
        return false;
    }
    // One kind of separator, if any.
    let seps: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_digit()).collect();
    if seps.windows(2).any(|w| w[0] != w[1]) {
        return false;
    }
    let n = |k: usize| d[..k].iter().fold(0u32, |a, &x| a * 10 + u32::from(x));
    let len = d.len();
    match d[0] {
        4 => matches!(len, 13 | 16 | 19),
        5 => (51..=55).contains(&n(2)) && len == 16 || matches!(n(2), 50 | 56..=59) && len >= 12,
        2 => (2221..=2720).contains(&n(4)) && len == 16 || n(4) == 2131 && len == 15,
        3 => {
            matches!(n(2), 34 | 37) && len == 15
                || n(2) == 35 && len >= 16
                || matches!(n(2), 30 | 36 | 38 | 39) && (14..=19).contains(&len)
        }
        6 => {
            n(4) == 6011
                || n(2) == 65
                || (644..=649).contains(&n(3))
                || n(2) == 62
                || matches!(n(2), 60 | 63 | 67)
        }
        // Maestro's 0604 range and JCB's old 15-digit 1800 range.
        0 => n(4) == 604 && len >= 12,
        1 => n(4) == 1800 && len == 15,
        _ => false,
    }
}

/// The length of a valid IBAN at the start of `s` (spaces allowed in groups of
/// four), or None.
fn iban_ok(s: &str) -> Option<usize> {
    let country = &s[..2];
    let want = iban_len(country)?;
    let mut compact = String::with_capacity(34);
    let mut end = 0;
    for (i, c) in s.char_indices() {
        if c == ' ' {
            continue;
        }
        compact.push(c);
        end = i + 1;
        if compact.len() == want {
            break;
        }
    }
    if compact.len() != want || !mod97(&compact) {
        return None;
    }
    Some(end)
}

fn mod97(iban: &str) -> bool {
    let (head, tail) = iban.split_at(4);
    let mut r: u32 = 0;
    for c in tail.chars().chain(head.chars()) {
        let v = match c {
            '0'..='9' => c as u32 - '0' as u32,
            'A'..='Z' => c as u32 - 'A' as u32 + 10,
            _ => return false,
        };
        r = if v >= 10 {
            (r * 100 + v) % 97
        } else {
            (r * 10 + v) % 97
        };
    }
    r == 1
}

fn iban_len(cc: &str) -> Option<usize> {
    // SWIFT IBAN registry lengths.
    const T: &[(&str, usize)] = &[
        ("AD", 24),
        ("AE", 23),
        ("AL", 28),
        ("AT", 20),
        ("AZ", 28),
        ("BA", 20),
        ("BE", 16),
        ("BG", 22),
        ("BH", 22),
        ("BI", 27),
        ("BR", 29),
        ("BY", 28),
        ("CH", 21),
        ("CR", 22),
        ("CY", 28),
        ("CZ", 24),
        ("DE", 22),
        ("DJ", 27),
        ("DK", 18),
        ("DO", 28),
        ("EE", 20),
        ("EG", 29),
        ("ES", 24),
        ("FI", 18),
        ("FK", 18),
        ("FO", 18),
        ("FR", 27),
        ("GB", 22),
        ("GE", 22),
        ("GI", 23),
        ("GL", 18),
        ("GR", 27),
        ("GT", 28),
        ("HR", 21),
        ("HU", 28),
        ("IE", 22),
        ("IL", 23),
        ("IQ", 23),
        ("IS", 26),
        ("IT", 27),
        ("JO", 30),
        ("KW", 30),
        ("KZ", 20),
        ("LB", 28),
        ("LC", 32),
        ("LI", 21),
        ("LT", 20),
        ("LU", 20),
        ("LV", 21),
        ("LY", 25),
        ("MC", 27),
        ("MD", 24),
        ("ME", 22),
        ("MK", 19),
        ("MN", 20),
        ("MR", 27),
        ("MT", 31),
        ("MU", 30),
        ("NI", 28),
        ("NL", 18),
        ("NO", 15),
        ("OM", 23),
        ("PK", 24),
        ("PL", 28),
        ("PS", 29),
        ("PT", 25),
        ("QA", 29),
        ("RO", 24),
        ("RS", 22),
        ("RU", 33),
        ("SA", 24),
        ("SC", 31),
        ("SD", 18),
        ("SE", 24),
        ("SI", 19),
        ("SK", 24),
        ("SM", 27),
        ("SO", 23),
        ("ST", 25),
        ("SV", 28),
        ("TL", 23),
        ("TN", 24),
        ("TR", 26),
        ("UA", 29),
        ("VA", 22),
        ("VG", 24),
        ("XK", 20),
        ("YE", 30),
    ];
    T.iter().find(|(c, _)| *c == cc).map(|&(_, n)| n)
}

fn ssn_ok(s: &str) -> bool {
    let d = digits(s);
    if d.len() != 9 {
        return false;
    }
    let area = u32::from(d[0]) * 100 + u32::from(d[1]) * 10 + u32::from(d[2]);
    let group = u32::from(d[3]) * 10 + u32::from(d[4]);
    let serial = d[5..].iter().fold(0u32, |a, &x| a * 10 + u32::from(x));
    // SSA rules: no 000, 666 or 9xx area, no 00 group, no 0000 serial; and the
    // numbers the SSA reserved for advertising.
    area != 0
        && area != 666
        && area < 900
        && group != 0
        && serial != 0
        && !(area == 78 && group == 5 && serial == 1120)
        && !(area == 219 && group == 9 && serial == 9999)
        && !(area == 123 && group == 45 && serial == 6789)
}

fn nino_ok(s: &str) -> bool {
    let p: String = s.chars().take(2).collect();
    !matches!(p.as_str(), "BG" | "GB" | "NK" | "KN" | "TN" | "NT" | "ZZ")
}

fn cpf_ok(s: &str) -> bool {
    let d = digits(s);
    if d.len() != 11 || d.iter().all(|&x| x == d[0]) {
        return false;
    }
    let check = |n: usize| {
        let sum: u32 = (0..n)
            .map(|i| u32::from(d[i]) * (n as u32 + 1 - i as u32))
            .sum();
        let r = (sum * 10) % 11;
        if r == 10 { 0 } else { r as u8 }
    };
    check(9) == d[9] && check(10) == d[10]
}

fn dni_ok(s: &str) -> bool {
    const LETTERS: &[u8] = b"TRWAGMYFPDXBNJZSQVHLCKE";
    let s: String = s.chars().filter(|&c| c != '-').collect();
    let (body, letter) = s.split_at(s.len() - 1);
    let body = match body.as_bytes().first() {
        Some(b'X') => format!("0{}", &body[1..]),
        Some(b'Y') => format!("1{}", &body[1..]),
        Some(b'Z') => format!("2{}", &body[1..]),
        _ => body.to_string(),
    };
    if body.len() != 8 {
        return false;
    }
    let Ok(n) = body.parse::<u32>() else {
        return false;
    };
    LETTERS[(n % 23) as usize] == letter.as_bytes()[0]
}

fn bsn_ok(s: &str) -> bool {
    let d = digits(s);
    if d.len() != 9 || d.iter().all(|&x| x == 0) {
        return false;
    }
    let sum: i32 = (0..8)
        .map(|i| i32::from(d[i]) * (9 - i as i32))
        .sum::<i32>()
        - i32::from(d[8]);
    sum % 11 == 0
}

/// Verhoeff checksum (Aadhaar).
fn verhoeff(d: &[u8]) -> bool {
    const M: [[u8; 10]; 10] = [
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
        [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
        [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
        [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
        [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
        [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
        [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
        [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
        [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
        [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
    ];
    const P: [[u8; 10]; 8] = [
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
        [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
        [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
        [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
        [9, 4, 5, 3, 1, 2, 6, 8, 7, 0],
        [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
        [2, 7, 9, 3, 8, 0, 6, 4, 1, 5],
        [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
    ];
    if d.len() != 12 {
        return false;
    }
    let mut c = 0u8;
    for (i, &x) in d.iter().rev().enumerate() {
        c = M[c as usize][P[i % 8][x as usize] as usize];
    }
    c == 0
}

/// Trims what the phone pattern took at its edges that is not part of a number:
/// an unmatched parenthesis, separators.
fn trim_phone(text: &str, mut s: usize, mut e: usize) -> (usize, usize) {
    let b = text.as_bytes();
    while s < e && matches!(b[s], b' ' | b'\t' | b'.' | b'-' | b'/' | b')') {
        s += 1;
    }
    while e > s && matches!(b[e - 1], b' ' | b'\t' | b'.' | b'-' | b'/' | b'(') {
        e -= 1;
    }
    let t = &text[s..e];
    if t.starts_with('(') && !t.contains(')') {
        s += 1;
    }
    (s, e)
}

fn phone_ok(text: &str, s: usize, e: usize) -> bool {
    let t = &text[s..e];
    let main = t.split(['x', 'e']).next().unwrap_or(t);
    let d = digits(main);
    let b = text.as_bytes();
    // Not glued to letters or digits on either side (part of an id or a word).
    if s > 0 && (b[s - 1].is_ascii_alphanumeric() || b[s - 1] == b'_') {
        return false;
    }
    if e < b.len() && (b[e].is_ascii_alphanumeric() || b[e] == b'_') {
        return false;
    }
    // `00` dials out only at the start of a number written on its own.
    let dial00 = t.starts_with("00")
        && t.as_bytes()
            .get(2)
            .is_some_and(|c| (b'1'..=b'9').contains(c))
        && (s == 0 || matches!(b[s - 1], b' ' | b'\t' | b'\n' | b'(' | b'"' | b'\''));
    if t.starts_with("00") && !dial00 && !t.starts_with('+') {
        return false;
    }
    let intl = t.starts_with('+') || dial00;
    if !(if intl { 8..=15 } else { 10..=12 }).contains(&d.len()) {
        return false;
    }
    if t.contains('/') && !intl {
        return false; // dates
    }
    let seps = main.bytes().filter(|c| !c.is_ascii_digit()).count();
    let dots = main.bytes().filter(|&c| c == b'.').count();
    // Version numbers, decimals and IPs use dots between short groups.
    if dots > 0 && main.split('.').any(|g| g.trim().is_empty()) {
        return false;
    }
    // Dates and times: 2024-01-31, 12:30.
    if looks_like_date(main) {
        return false;
    }
    if intl {
        return true;
    }
    // ISBNs are written in hyphenated groups too.
    let before_isbn = text[text.floor_char_boundary(s.saturating_sub(12))..s].to_ascii_lowercase();
    if before_isbn.contains("isbn") || (main.matches('-').count() == 3 && isbn10(&d, main)) {
        return false;
    }
    // A national number needs the grouping numbers are written in, or a word
    // for telephone just before it.
    let before = &text[text.floor_char_boundary(s.saturating_sub(24))..s].to_ascii_lowercase();
    let context = [
        "phone", "tel", "mobile", "cell", "fax", "call", "contact", "whatsapp",
    ]
    .iter()
    .any(|w| before.contains(w));
    let grouped = seps >= 2 || t.starts_with('(');
    grouped || context
}

fn looks_like_date(t: &str) -> bool {
    let g: Vec<&str> = t
        .split(['-', '.', '/', ' '])
        .filter(|g| !g.is_empty())
        .collect();
    g.len() == 3
        && (g[0].len() == 4 && g[1].len() <= 2 && g[2].len() <= 2
            || g[2].len() == 4 && g[0].len() <= 2 && g[1].len() <= 2)
}

/// An ISBN-10 (mod 11, `X` for ten) written with its hyphens.
fn isbn10(d: &[u8], t: &str) -> bool {
    let x = t.trim_end().ends_with(['X', 'x']);
    if d.len() + usize::from(x) != 10 {
        return false;
    }
    let sum: u32 = d
        .iter()
        .enumerate()
        .map(|(i, &v)| (10 - i as u32) * u32::from(v))
        .sum::<u32>()
        + u32::from(x) * 10;
    sum.is_multiple_of(11)
}
