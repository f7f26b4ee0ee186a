//! The manifest parser: any text either parses into tools or is refused with an
//! error that names a location — never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match agentbox_policy::Manifest::parse(
        Path::new("fuzz.toml"),
        text,
        Path::new("/nonexistent-fuzz-base"),
    ) {
        Ok(m) => {
            for (name, t) in &m.tools {
                assert_eq!(name, &t.name);
                assert!(!t.name.is_empty());
            }
        }
        Err(e) => {
            let shown = e.to_string();
            assert!(!shown.is_empty());
        }
    }
});
