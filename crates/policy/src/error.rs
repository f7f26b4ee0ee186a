//! Errors of `Manifest::load`: every one names file, line, column and key.

use std::fmt;
use std::path::PathBuf;

/// Where in a manifest something went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The manifest file as given by the user.
    pub file: PathBuf,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file.display(), self.line, self.column)
    }
}

/// Everything that can make a manifest unusable.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// The file could not be read at all.
    #[error("{}: cannot read manifest: {source}", file.display())]
    Read {
        file: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML, or does not fit the manifest's shape
    /// (unknown key, wrong type, missing key).
    #[error("{location}: {key}: {message}")]
    Shape {
        location: Location,
        /// Dotted key path, e.g. `tools.fetch.limits.memory`; `(top level)` for the root.
        key: String,
        message: String,
    },
    /// A value has the right type but is not allowed.
    #[error("{location}: {key}: {message}")]
    Invalid {
        location: Location,
        key: String,
        message: String,
    },
}
