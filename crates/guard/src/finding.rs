//! What a guard reports: the kind of finding, its stable type id, where it is and
//! how sure the guard is — never the matched text.

use serde::Serialize;

/// The four families of output findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Secret,
    Pii,
    Injection,
    HiddenText,
}

impl Kind {
    pub const ALL: [Kind; 4] = [Kind::Secret, Kind::Pii, Kind::Injection, Kind::HiddenText];

    /// The word used by `--only`, the manifest and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Secret => "secret",
            Kind::Pii => "pii",
            Kind::Injection => "injection",
            Kind::HiddenText => "hidden_text",
        }
    }

    /// Parses `--only` words: the kind's own word, or the manifest's key
    /// (`secrets` for `secret`).
    pub fn parse(word: &str) -> Option<Kind> {
        match word {
            "secret" | "secrets" => Some(Kind::Secret),
            "pii" => Some(Kind::Pii),
            "injection" => Some(Kind::Injection),
            "hidden_text" | "hidden" => Some(Kind::HiddenText),
            _ => None,
        }
    }
}

/// One finding. `start`/`end` are byte offsets into the scanned text (UTF-8
/// boundaries); [`char_offsets`] turns them into the Unicode scalar offsets that
/// `agentbox scan` prints.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub kind: Kind,
    #[serde(rename = "type")]
    pub ty: &'static str,
    pub start: usize,
    pub end: usize,
    pub score: f32,
}

/// A set of kinds (which guards to run).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kinds(u8);

impl Kinds {
    pub const ALL: Kinds = Kinds(0b1111);
    pub const NONE: Kinds = Kinds(0);

    pub fn with(self, k: Kind) -> Kinds {
        Kinds(self.0 | Self::bit(k))
    }
    pub fn has(self, k: Kind) -> bool {
        self.0 & Self::bit(k) != 0
    }
    fn bit(k: Kind) -> u8 {
        1 << (k as u8)
    }
}

/// Converts byte offsets to Unicode scalar offsets, in place. `findings` may be
/// in any order.
pub fn char_offsets(text: &str, findings: &mut [Finding]) {
    if text.is_ascii() {
        return;
    }
    // Byte offset -> scalar index for every boundary, computed once.
    let mut at = vec![0usize; text.len() + 1];
    let mut n = 0;
    for (i, c) in text.char_indices() {
        for slot in &mut at[i..i + c.len_utf8()] {
            *slot = n;
        }
        n += 1;
    }
    at[text.len()] = n;
    for f in findings {
        f.start = at[f.start];
        f.end = at[f.end];
    }
}
