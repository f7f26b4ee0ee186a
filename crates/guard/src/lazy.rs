//! A regular expression compiled on first use: a guard whose pattern a text
//! never needs (no `@`, no digits, no `<`) costs nothing to set up.

use std::sync::OnceLock;

use regex::Regex;

#[derive(Debug)]
pub(crate) struct LazyRegex {
    pattern: &'static str,
    re: OnceLock<Regex>,
}

impl LazyRegex {
    pub(crate) const fn new(pattern: &'static str) -> LazyRegex {
        LazyRegex {
            pattern,
            re: OnceLock::new(),
        }
    }

    pub(crate) fn get(&self) -> &Regex {
        self.re.get_or_init(|| {
            Regex::new(self.pattern)
                .unwrap_or_else(|e| panic!("guard pattern {}: {e}", self.pattern))
        })
    }
}

impl std::ops::Deref for LazyRegex {
    type Target = Regex;
    fn deref(&self) -> &Regex {
        self.get()
    }
}
