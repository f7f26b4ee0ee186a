//! All output guards together: one [`Scanner`], built once, shared.

use crate::finding::{Finding, Kind, Kinds};
use crate::hidden::Hidden;
use crate::injection::Injection;
use crate::pii::Pii;
use crate::secrets::Secrets;

/// Every output guard, compiled.
#[derive(Debug, Default)]
pub struct Scanner {
    pub secrets: Secrets,
    pub pii: Pii,
    pub injection: Injection,
    pub hidden: Hidden,
}

/// What to look for.
#[derive(Debug, Clone)]
pub struct Scope<'a> {
    pub kinds: Kinds,
    /// Personal-data types to report (`None`: all).
    pub pii_types: Option<&'a [String]>,
}

impl Default for Scope<'_> {
    fn default() -> Self {
        Scope {
            kinds: Kinds::ALL,
            pii_types: None,
        }
    }
}

impl Scanner {
    pub fn new() -> Scanner {
        Scanner::default()
    }

    /// Every finding in `text` (byte offsets), ordered by start then kind.
    pub fn scan(&self, text: &str, scope: &Scope<'_>) -> Vec<Finding> {
        let mut out = Vec::new();
        if scope.kinds.has(Kind::Secret) {
            self.secrets.scan(text, &mut out);
        }
        if scope.kinds.has(Kind::Pii) {
            let before = out.len();
            self.pii.scan(text, scope.pii_types, &mut out);
            // A credential is not also personal data (a card-like digit run
            // inside a key, an address in a connection string).
            let (secrets, pii) = out.split_at(before);
            let keep: Vec<Finding> = pii
                .iter()
                .filter(|p| secrets.iter().all(|s| p.end <= s.start || p.start >= s.end))
                .cloned()
                .collect();
            out.truncate(before);
            out.extend(keep);
        }
        if scope.kinds.has(Kind::HiddenText) {
            self.hidden.scan(text, &mut out);
        }
        if scope.kinds.has(Kind::Injection) {
            self.injection.scan(text, &mut out);
        }
        out.sort_by_key(|f| (f.start, f.kind));
        out
    }

    /// Every type id, by kind (for `agentbox scan --types`).
    pub fn type_ids() -> Vec<(Kind, Vec<&'static str>)> {
        vec![
            (Kind::Secret, crate::secrets::type_ids().collect()),
            (Kind::Pii, crate::pii::TYPES.to_vec()),
            (Kind::Injection, Injection::type_ids()),
            (Kind::HiddenText, crate::hidden::TYPES.to_vec()),
        ]
    }
}
