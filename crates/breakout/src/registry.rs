//! The case registry: every case of the breakout catalog, as data
//! (`crates/breakout/cases.toml`, embedded at build time), and the layer
//! expectation matrix (catalog section 2.3).

use crate::BreakoutError;
use serde::Deserialize;
use std::collections::BTreeMap;

/// One case of the catalog.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    pub id: String,
    /// What the attack tries.
    pub attack: String,
    /// Why it matters.
    pub why: String,
    /// The layers that stop it in production.
    pub blocked_by: Vec<String>,
    /// `native` (agentbox-probe), `wasm` (a component run by the production
    /// worker), `harness` (checked from the host side through agentbox's own
    /// library code) or `suite` (proved by the project's test suite, not bundled).
    pub kind: String,
    /// Supervisor outcomes that count as "blocked" besides a probe verdict
    /// (`denied`: killed by seccomp; `limit`, `timeout`, `trap`, `sandbox_error`).
    /// Absent: `denied` only. When listed, exactly these.
    #[serde(default)]
    pub accept: Vec<String>,
    /// The class of the layer matrix (OS-layer cases), for `--layers`.
    #[serde(default)]
    pub class: Option<String>,
    /// Per-layer expectations overriding the class row.
    #[serde(default)]
    pub isolated: BTreeMap<String, String>,
    /// Limits of the run, as manifest text (`timeout = "2s"`).
    #[serde(default)]
    pub limits: Option<String>,
    /// More of the tool's manifest table (e.g. a net grant), as TOML text.
    #[serde(default)]
    pub manifest: Option<String>,
    /// The tool profile a `native` case attacks: absent, the wasm worker's (a
    /// guest that escaped wasm); `native`, a `kind = "native"` tool's program
    /// under the native profile.
    #[serde(default)]
    pub profile: Option<String>,
    /// Where the test suite proves a `suite` case.
    #[serde(default)]
    pub covered_by: Option<String>,
}

impl Case {
    /// The outcomes that count as blocked (see `accept`).
    pub fn accepted(&self) -> Vec<String> {
        if self.accept.is_empty() {
            vec!["denied".into()]
        } else {
            self.accept.clone()
        }
    }

    pub fn category(&self) -> &str {
        self.id.split('-').next().unwrap_or("")
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    categories: Vec<Category>,
    matrix: BTreeMap<String, BTreeMap<String, String>>,
    case: Vec<Case>,
}

/// A category of the catalog.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Category {
    pub id: String,
    pub title: String,
}

/// Every case, the categories and the matrix.
#[derive(Debug)]
pub struct Registry {
    pub categories: Vec<Category>,
    pub matrix: BTreeMap<String, BTreeMap<String, String>>,
    pub cases: Vec<Case>,
}

/// The layers a layer-isolation run can keep alone (matrix columns).
pub const ISOLATED: &[&str] = &["seccomp", "landlock", "namespaces", "cgroup"];

const BUNDLED: &str = include_str!("../cases.toml");

impl Registry {
    pub fn bundled() -> Result<Self, BreakoutError> {
        Self::parse(BUNDLED)
    }

    pub fn parse(text: &str) -> Result<Self, BreakoutError> {
        let f: File = toml::from_str(text).map_err(|e| BreakoutError::Registry(e.to_string()))?;
        let reg = Registry {
            categories: f.categories,
            matrix: f.matrix,
            cases: f.case,
        };
        reg.check()?;
        Ok(reg)
    }

    fn check(&self) -> Result<(), BreakoutError> {
        let bad = |m: String| Err(BreakoutError::Registry(m));
        let mut seen = std::collections::BTreeSet::new();
        for c in &self.cases {
            if !seen.insert(c.id.clone()) {
                return bad(format!("{} is listed twice", c.id));
            }
            if !self.categories.iter().any(|k| k.id == c.category()) {
                return bad(format!("{}: unknown category", c.id));
            }
            if !matches!(
                c.kind.as_str(),
                "native" | "wasm" | "harness" | "network" | "suite"
            ) {
                return bad(format!(
                    "{}: kind must be native, wasm, harness, network or suite",
                    c.id
                ));
            }
            if c.kind == "suite" && c.covered_by.is_none() {
                return bad(format!(
                    "{}: a suite case names the tests that cover it",
                    c.id
                ));
            }
            if let Some(p) = &c.profile
                && (p != "native" || c.kind != "native")
            {
                return bad(format!(
                    "{}: profile = {p:?}: only native cases may name a profile, and only \"native\"",
                    c.id
                ));
            }
            if let Some(class) = &c.class
                && !self.matrix.contains_key(class)
            {
                return bad(format!("{}: unknown class {class}", c.id));
            }
            for (layer, e) in &c.isolated {
                if !ISOLATED.contains(&layer.as_str()) || !EXPECT.contains(&e.as_str()) {
                    return bad(format!("{}: isolated.{layer} = {e}", c.id));
                }
            }
        }
        for (class, row) in &self.matrix {
            for (layer, e) in row {
                if !ISOLATED.contains(&layer.as_str()) || !EXPECT.contains(&e.as_str()) {
                    return bad(format!("matrix.{class}.{layer} = {e}"));
                }
            }
        }
        Ok(())
    }

    /// The cases asked for, in catalog order.
    pub fn select(
        &self,
        category: Option<&str>,
        case: Option<&str>,
    ) -> Result<Vec<Case>, BreakoutError> {
        if let Some(cat) = category
            && !self
                .categories
                .iter()
                .any(|k| k.id.eq_ignore_ascii_case(cat))
        {
            let all: Vec<&str> = self.categories.iter().map(|k| k.id.as_str()).collect();
            return Err(BreakoutError::Category(cat.into(), all.join(", ")));
        }
        if let Some(id) = case
            && !self.cases.iter().any(|c| c.id.eq_ignore_ascii_case(id))
        {
            return Err(BreakoutError::Case(id.into()));
        }
        Ok(self
            .cases
            .iter()
            .filter(|c| category.is_none_or(|k| c.category().eq_ignore_ascii_case(k)))
            .filter(|c| case.is_none_or(|id| c.id.eq_ignore_ascii_case(id)))
            .cloned()
            .collect())
    }

    /// What a layer alone must do against a case: `blocks`, `gap`, `partial`, `-`.
    pub fn expectation(&self, case: &Case, layer: &str) -> String {
        if let Some(e) = case.isolated.get(layer) {
            return e.clone();
        }
        case.class
            .as_ref()
            .and_then(|c| self.matrix.get(c))
            .and_then(|row| row.get(layer))
            .cloned()
            .unwrap_or_else(|| "-".into())
    }

    pub fn title<'a>(&'a self, category: &'a str) -> &'a str {
        self.categories
            .iter()
            .find(|k| k.id == category)
            .map_or(category, |k| k.title.as_str())
    }
}

const EXPECT: &[&str] = &["blocks", "gap", "partial", "-"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_registry_is_valid_and_complete() {
        let r = Registry::bundled().expect("registry");
        // The catalog's 92, and NS-09, SC-16, SC-17 and SC-18 (kind native tools,
        // issue 13).
        assert_eq!(r.cases.len(), 96, "the catalog lists 96 cases");
        assert_eq!(r.categories.len(), 12);
        for k in &r.categories {
            assert!(
                r.cases.iter().any(|c| c.category() == k.id),
                "category {} has no case",
                k.id
            );
        }
    }

    #[test]
    fn bad_registries_are_refused() {
        let base = "categories = [{id = \"SC\", title = \"t\"}]\n[matrix]\n";
        let case = |extra: &str| {
            format!(
                "{base}[[case]]\nid = \"SC-01\"\nattack = \"a\"\nwhy = \"w\"\nblocked_by = []\n{extra}"
            )
        };
        assert!(Registry::parse(&case("kind = \"native\"\n")).is_ok());
        assert!(Registry::parse(&case("kind = \"magic\"\n")).is_err());
        assert!(Registry::parse(&case("kind = \"suite\"\n")).is_err());
        assert!(Registry::parse(&case("kind = \"native\"\nclass = \"nope\"\n")).is_err());
        assert!(Registry::parse(&case("kind = \"native\"\nbogus = 1\n")).is_err());
        assert!(Registry::parse(&case("kind = \"native\"\nprofile = \"native\"\n")).is_ok());
        assert!(Registry::parse(&case("kind = \"native\"\nprofile = \"wasm-worker\"\n")).is_err());
        assert!(Registry::parse(&case("kind = \"wasm\"\nprofile = \"native\"\n")).is_err());
    }
}
