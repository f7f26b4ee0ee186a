//! `cargo xtask guests js`: JavaScript tools → components. Each tool's module is
//! bundled with the guest SDK (rolldown; the host interfaces stay imports), then
//! componentized with the StarlingMonkey engine (componentize-js). Both come
//! pinned from guest-sdk/js/toolchain, installed into build/js-toolchain by
//! scripts/lib.sh (`npm ci`); nothing is downloaded here.

use crate::{newer, root, run};
use anyhow::{Result, bail};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The host interfaces a bundle leaves as imports (rolldown takes one per `-e`).
const HOST_IMPORTS: [&str; 2] = ["agentbox:tool/http@0.1.0", "agentbox:tool/log@0.1.0"];

/// The pinned toolchain's binaries, or what to run to get them.
pub fn toolchain() -> Result<(PathBuf, PathBuf)> {
    let bin = root().join("build/js-toolchain/node_modules/.bin");
    let (rolldown, componentize) = (bin.join("rolldown"), bin.join("componentize-js"));
    if !rolldown.exists() || !componentize.exists() {
        bail!(
            "the JavaScript toolchain is missing ({}): run scripts/test.sh, or `bash -c 'source scripts/lib.sh && setup_js'` (needs Node.js 20 and npm)",
            bin.display()
        );
    }
    Ok((rolldown, componentize))
}

/// Builds `src` (a module exporting `describe` and `call`) into `out`.
pub fn component(src: &Path, out: &Path) -> Result<()> {
    let r = root();
    let sdk = r.join("guest-sdk/js/agentbox.js");
    let wit = r.join("wit/agentbox-tool.wit");
    if newer(out, &[src, &sdk, &wit]) {
        return Ok(());
    }
    let (rolldown, componentize) = toolchain()?;
    let stem = out.file_stem().and_then(|s| s.to_str()).unwrap_or("tool");
    let bundle = r.join("build/js").join(format!("{stem}.js"));
    if let Some(p) = bundle.parent() {
        std::fs::create_dir_all(p)?;
    }
    if let Some(p) = out.parent() {
        std::fs::create_dir_all(p)?;
    }
    run(Command::new(&rolldown)
        .arg(src)
        .arg("-o")
        .arg(&bundle)
        .args(["-f", "esm"])
        .args(HOST_IMPORTS.iter().flat_map(|e| ["-e", e])))?;
    // No fetch() or incoming-handler of WASI's own: outbound HTTP is the host's
    // agentbox:tool/http, checked against the manifest.
    run(Command::new(&componentize)
        .arg(&bundle)
        .arg("--wit")
        .arg(&wit)
        .args(["-n", "tool", "-d", "http", "fetch-event", "-o"])
        .arg(out))?;
    println!("xtask: built {}", out.display());
    Ok(())
}

/// The example, then the test guests: tests/guests/js_*/tool.js.
pub fn guests_js() -> Result<()> {
    let r = root();
    let mut jobs = vec![(
        r.join("examples/js-digest/digest.js"),
        r.join("examples/js-digest/js-digest.wasm"),
    )];
    for entry in std::fs::read_dir(r.join("tests/guests"))? {
        let dir = entry?.path();
        let Some(name) = dir.file_name().and_then(|n| n.to_str()).map(str::to_string) else {
            continue;
        };
        if name.starts_with("js_") && dir.join("tool.js").exists() {
            jobs.push((
                dir.join("tool.js"),
                r.join("build/guests").join(format!("{name}.wasm")),
            ));
        }
    }
    for (src, out) in jobs {
        component(&src, &out)?;
    }
    Ok(())
}
