//! What counts as broad, for both the loader (which refuses some of it) and the
//! warnings (which point out the rest): names anyone can register under, and
//! directories that hold a home.

use std::path::Path;

/// Suffixes under which anyone can register names: a wildcard on them admits hosts
/// the operator does not control. Not the whole public-suffix list: the common ones.
pub(crate) const PUBLIC_SUFFIXES: &[&str] = &[
    "com",
    "net",
    "org",
    "io",
    "dev",
    "app",
    "ai",
    "co",
    "info",
    "biz",
    "xyz",
    "me",
    "cloud",
    "co.uk",
    "org.uk",
    "ac.uk",
    "gov.uk",
    "com.au",
    "co.jp",
    "co.nz",
    "com.br",
    "com.cn",
    "de",
    "fr",
    "uk",
    "us",
    "eu",
    "ru",
    "cn",
    "jp",
    "in",
    "nl",
    "ch",
    "se",
    "no",
    "es",
    "it",
    "pl",
    "github.io",
    "githubusercontent.com",
    "gitlab.io",
    "herokuapp.com",
    "vercel.app",
    "netlify.app",
    "pages.dev",
    "workers.dev",
    "appspot.com",
    "web.app",
    "firebaseapp.com",
    "azurewebsites.net",
    "cloudfront.net",
    "amazonaws.com",
    "s3.amazonaws.com",
    "blob.core.windows.net",
    "ngrok.io",
    "ngrok-free.app",
    "repl.co",
    "glitch.me",
    "onrender.com",
    "fly.dev",
    "r2.dev",
    "trycloudflare.com",
];

/// Is `host` the root, a home directory, or a directory above one?
pub(crate) fn is_home_or_above(host: &Path) -> bool {
    if host == Path::new("/") {
        return true;
    }
    let homes = [
        std::env::var_os("HOME").map(std::path::PathBuf::from),
        Some("/root".into()),
        Some("/home".into()),
    ];
    homes.iter().flatten().any(|h| {
        let h = std::fs::canonicalize(h).unwrap_or_else(|_| h.clone());
        h.starts_with(host)
    }) || host.parent() == Some(Path::new("/home"))
}
