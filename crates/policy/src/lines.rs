//! Where each tool and each of its grants is written in the manifest (1-based
//! lines), for commands that point a person at the line to change or delete
//! (`agentbox review`).

use crate::locate::line_col;
use crate::raw::RawManifest;
use std::collections::BTreeMap;

/// The lines of one tool's table and of its grants, in the order written (the
/// same order as [`crate::ToolSpec`]'s `net`, `secrets` and `fs`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GrantLines {
    pub tool: usize,
    pub net: Vec<usize>,
    pub secrets: Vec<usize>,
    pub fs: Vec<usize>,
}

/// Every tool's lines, by name; empty when the text does not parse (a manifest
/// that loaded has parsed already).
pub fn grant_lines(text: &str) -> BTreeMap<String, GrantLines> {
    let Ok(raw) = toml::from_str::<RawManifest>(text) else {
        return BTreeMap::new();
    };
    let line = |start: usize| line_col(text, start).0;
    raw.tools
        .map(|t| t.into_inner())
        .unwrap_or_default()
        .into_iter()
        .map(|(name, tool)| {
            let tool_line = line(name.span().start);
            let tool = tool.into_inner();
            let lines = GrantLines {
                tool: tool_line,
                net: tool.net.iter().map(|g| line(g.span().start)).collect(),
                secrets: tool.secrets.iter().map(|g| line(g.span().start)).collect(),
                fs: tool.fs.iter().map(|g| line(g.span().start)).collect(),
            };
            (name.into_inner(), lines)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grants_are_found_on_their_lines() {
        let text = "version = 1\n\n[tools.a]\ncomponent = \"a.wasm\"\nrationale = \"r\"\n\n[[tools.a.net]]\nallow = \"https://x.example/\"\nrationale = \"r\"\n\n[[tools.a.net]]\nallow = \"https://y.example/\"\nrationale = \"r\"\n\n[[tools.a.secrets]]\nname = \"T\"\nallow = [\"https://x.example/\"]\nrationale = \"r\"\n";
        let l = grant_lines(text);
        let a = &l["a"];
        assert_eq!(a.tool, 3);
        // The grant's table: its header or its first key.
        assert!(matches!(a.net[0], 7 | 8), "{a:?}");
        assert!(matches!(a.net[1], 11 | 12), "{a:?}");
        assert!(matches!(a.secrets[0], 15 | 16), "{a:?}");
    }
}
