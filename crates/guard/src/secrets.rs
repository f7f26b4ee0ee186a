//! Credentials in text: a table of rules ([`crate::secret_rules`]), each a regex run
//! only when one of its keywords occurs, then the format's own check (a vendor
//! checksum, or the entropy a real key has).

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use std::sync::OnceLock;

use regex::Regex;

use crate::finding::{Finding, Kind};
use crate::secret_rules::{Check, RULES, Rule};

/// The compiled credential rules.
#[derive(Debug)]
pub struct Secrets {
    keywords: AhoCorasick,
    /// keyword index -> rule indices
    keyword_rules: Vec<Vec<usize>>,
    /// Compiled on first use: most text triggers few rules, and compiling all of
    /// them up front would cost every process that scans anything.
    regexes: Vec<OnceLock<Regex>>,
}

impl Secrets {
    pub fn new() -> Secrets {
        // Keywords are matched in an ASCII-lower-cased copy of the text, so the
        // automaton needs no case folding (which doubles its build time).
        let mut words: Vec<String> = Vec::new();
        let mut keyword_rules: Vec<Vec<usize>> = Vec::new();
        let mut index = std::collections::HashMap::new();
        for (ri, r) in RULES.iter().enumerate() {
            for k in r.keywords {
                let k = k.to_ascii_lowercase();
                let i = *index.entry(k.clone()).or_insert_with(|| {
                    words.push(k);
                    keyword_rules.push(Vec::new());
                    words.len() - 1
                });
                keyword_rules[i].push(ri);
            }
        }
        let keywords = AhoCorasickBuilder::new()
            .match_kind(MatchKind::Standard)
            .build(&words)
            .expect("credential keywords are plain literals");
        let regexes = RULES.iter().map(|_| OnceLock::new()).collect();
        Secrets {
            keywords,
            keyword_rules,
            regexes,
        }
    }

    /// Every credential in `text`, in order of position; where rules overlap, the
    /// earlier rule in the table (the more specific format) wins.
    pub fn scan(&self, text: &str, out: &mut Vec<Finding>) {
        let mut hit = vec![false; RULES.len()];
        let mut any = false;
        // A copy only when there is a capital to fold.
        let lower: std::borrow::Cow<'_, str> = if text.bytes().any(|b| b.is_ascii_uppercase()) {
            text.to_ascii_lowercase().into()
        } else {
            text.into()
        };
        for m in self.keywords.find_overlapping_iter(lower.as_ref()) {
            for &ri in &self.keyword_rules[m.pattern().as_usize()] {
                hit[ri] = true;
                any = true;
            }
        }
        if !any {
            return;
        }
        let mut found: Vec<(usize, Finding)> = Vec::new();
        for (ri, rule) in RULES.iter().enumerate() {
            if !hit[ri] {
                continue;
            }
            let re = self.regexes[ri].get_or_init(|| compile(rule));
            for caps in re.captures_iter(text) {
                let m = caps.name("s").or_else(|| caps.get(0));
                let Some(m) = m else { continue };
                if m.is_empty() || !passes(rule, m.as_str()) {
                    continue;
                }
                found.push((
                    ri,
                    Finding {
                        kind: Kind::Secret,
                        ty: rule.id,
                        start: m.start(),
                        end: m.end(),
                        score: rule.score,
                    },
                ));
            }
        }
        // Table order is priority: keep a finding only if no earlier rule's finding
        // overlaps it (kept spans do not overlap, so their neighbours by start
        // are all that can).
        found.sort_by_key(|(ri, f)| (*ri, f.start));
        let mut kept: std::collections::BTreeMap<usize, Finding> =
            std::collections::BTreeMap::new();
        for (_, f) in found {
            let before = kept
                .range(..=f.start)
                .next_back()
                .is_some_and(|(_, k)| k.end > f.start);
            let after = kept
                .range(f.start..)
                .next()
                .is_some_and(|(&s, _)| s < f.end);
            if !before && !after {
                kept.insert(f.start, f);
            }
        }
        out.extend(kept.into_values());
    }
}

impl Default for Secrets {
    fn default() -> Self {
        Self::new()
    }
}

fn compile(rule: &Rule) -> Regex {
    Regex::new(rule.pattern)
        .unwrap_or_else(|e| panic!("credential rule {}: bad pattern: {e}", rule.id))
}

/// Compiles every rule's pattern (a test, so that a bad pattern is found before
/// a text that triggers it).
pub fn compile_all() -> usize {
    RULES.iter().map(compile).count()
}

fn passes(rule: &Rule, s: &str) -> bool {
    match rule.check {
        Check::None => true,
        Check::Entropy(min) => entropy(s) >= min,
        Check::Fn(f) => f(s),
    }
}

/// Shannon entropy of `s` in bits per byte.
pub fn entropy(s: &str) -> f32 {
    let b = s.as_bytes();
    if b.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &c in b {
        counts[c as usize] += 1;
    }
    let n = b.len() as f32;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f32 / n;
            -p * p.log2()
        })
        .sum()
}

/// The type ids of every credential rule, in table order.
pub fn type_ids() -> impl Iterator<Item = &'static str> {
    let mut seen: Vec<&'static str> = Vec::new();
    RULES.iter().filter_map(move |r| {
        if seen.contains(&r.id) {
            None
        } else {
            seen.push(r.id);
            Some(r.id)
        }
    })
}
