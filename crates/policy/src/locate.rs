//! Maps byte offsets of a manifest back to line/column and to the dotted key path.

use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// 1-based (line, column) of `offset` in `text`.
pub(crate) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
    (line, column)
}

/// The dotted key path at `offset`: the innermost key or value containing it, or
/// (for errors that point into a table body, which the parser's spans do not
/// cover) the governing `[table]` / `[[array]]` header plus the key on that line.
pub(crate) fn key_at(text: &str, offset: usize) -> String {
    let spanned = DeTable::parse(text).ok().map(|root| {
        let mut path = String::new();
        walk_table(root.get_ref(), offset, &mut path);
        path
    });
    let textual = key_from_text(text, offset);
    match (spanned, textual) {
        // Prefer whichever is more specific.
        (Some(a), Some(b)) => {
            if a.len() >= b.len() {
                a
            } else {
                b
            }
        }
        (Some(a), None) if !a.is_empty() => a,
        (_, Some(b)) => b,
        _ => "(top level)".to_string(),
    }
}

fn unquote(k: &str) -> String {
    k.split('.')
        .map(|p| p.trim().trim_matches('"').trim_matches('\''))
        .collect::<Vec<_>>()
        .join(".")
}

fn key_from_text(text: &str, offset: usize) -> Option<String> {
    let offset = offset.min(text.len());
    let line_start = text.get(..offset)?.rfind('\n').map_or(0, |i| i + 1);
    let line_end = text
        .get(offset..)?
        .find('\n')
        .map_or(text.len(), |i| offset + i);
    let line = text.get(line_start..line_end)?.trim();
    // The header governing this line, and how many identical [[arrays]] precede it.
    let mut header: Option<(String, bool)> = None;
    let mut counts: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let mut header_here = false;
    let mut pos = 0;
    for l in text.split_inclusive('\n') {
        if pos > line_start {
            break;
        }
        let t = l.trim();
        if let Some(inner) = t.strip_prefix("[[").and_then(|r| r.split("]]").next()) {
            let name = unquote(inner);
            *counts.entry(name.clone()).or_insert(0) += 1;
            header = Some((name, true));
            header_here = pos == line_start;
        } else if let Some(inner) = t.strip_prefix('[').and_then(|r| r.split(']').next()) {
            header = Some((unquote(inner), false));
            header_here = pos == line_start;
        }
        pos += l.len();
    }
    let prefix = header.map(|(name, array)| {
        if array {
            let n = counts.get(&name).copied().unwrap_or(1).saturating_sub(1);
            // `[[tools.t.fs]]` → `tools.t.fs[n]`
            format!("{name}[{n}]")
        } else {
            name
        }
    });
    if header_here {
        return prefix;
    }
    let key = line
        .split_once('=')
        .map(|(k, _)| unquote(k))
        .filter(|k| !k.is_empty() && !k.starts_with('#'));
    match (prefix, key) {
        (Some(p), Some(k)) => Some(format!("{p}.{k}")),
        (Some(p), None) => Some(p),
        (None, Some(k)) => Some(k),
        (None, None) => None,
    }
}

fn push_key(path: &mut String, key: &str) {
    if !path.is_empty() {
        path.push('.');
    }
    path.push_str(key);
}

fn walk_table(table: &DeTable<'_>, offset: usize, path: &mut String) {
    // Prefer the key whose own span contains the offset (unknown-key errors point at
    // the key); otherwise the value that contains it.
    for (key, _value) in table {
        if key.span().contains(&offset) {
            push_key(path, key.get_ref());
            return;
        }
    }
    for (key, value) in table {
        if contains(value, offset) {
            push_key(path, key.get_ref());
            walk_value(value, offset, path);
            return;
        }
    }
}

fn contains(value: &Spanned<DeValue<'_>>, offset: usize) -> bool {
    let span = value.span();
    span.contains(&offset) || (span.start == offset && span.is_empty())
}

fn walk_value(value: &Spanned<DeValue<'_>>, offset: usize, path: &mut String) {
    match value.get_ref() {
        DeValue::Table(t) => walk_table(t, offset, path),
        DeValue::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                if contains(item, offset) {
                    path.push_str(&format!("[{i}]"));
                    walk_value(item, offset, path);
                    return;
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column() {
        let t = "a = 1\nbb = 2\n";
        assert_eq!(line_col(t, 0), (1, 1));
        assert_eq!(line_col(t, 6), (2, 1));
        assert_eq!(line_col(t, 9), (2, 4));
    }

    #[test]
    fn key_paths() {
        let t = "version = 1\n[tools.x]\nkind = \"tool\"\n[tools.x.limits]\nmemory = \"1\"\n[[tools.x.fs]]\nhost = \"a\"\n[[tools.x.fs]]\nhost = \"b\"\n";
        let off = t.find("\"1\"").unwrap_or(0);
        assert_eq!(key_at(t, off), "tools.x.limits.memory");
        let off = t.find("\"b\"").unwrap_or(0);
        assert_eq!(key_at(t, off), "tools.x.fs[1].host");
        let t = "version = 1\n[tools.t]\nrationale = \"r\"\ntimeout = \"1s\"\n";
        let off = t.find("timeout").unwrap_or(0);
        assert_eq!(key_at(t, off), "tools.t.timeout");
    }
}
