//! Maps byte offsets of a manifest back to line/column and to the dotted key path.

use toml::de::{DeTable, DeValue};
use toml::Spanned;

/// 1-based (line, column) of `offset` in `text`.
pub(crate) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
    (line, column)
}

/// The dotted key path of the innermost key or value that contains `offset`.
pub(crate) fn key_at(text: &str, offset: usize) -> String {
    let Ok(root) = DeTable::parse(text) else {
        return "(top level)".to_string();
    };
    let mut path = String::new();
    walk_table(root.get_ref(), offset, &mut path);
    if path.is_empty() {
        "(top level)".to_string()
    } else {
        path
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
    }
}
