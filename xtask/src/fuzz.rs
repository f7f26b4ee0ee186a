//! `cargo xtask fuzz [--minutes N] [TARGET...]`: builds the cargo-fuzz targets of
//! `tests/fuzz` and `tests/fuzz-load` (installing cargo-fuzz if it is missing), runs each for N minutes
//! (default 10) on its corpus, fails if any input crashes a target, and merges the
//! corpus back minimised, so that what the runs found stays in the repository.
//! `--replay` runs every kept input once instead (regressions; scripts/test.sh);
//! `--cmin` only minimises each corpus (libFuzzer's set-cover merge; `cargo fuzz
//! cmin` does a plain merge): inputs that add no coverage are dropped, `seed-` and
//! `regression-` files kept.

use anyhow::{Context, Result, bail};
use std::path::Path;
use std::process::Command;

/// Targets whose build is heavy (they link wasmtime; package tests/fuzz-load):
/// replayed only when named.
const HEAVY: &[&str] = &["component_load"];

const TARGETS: &[&str] = &[
    "manifest",
    "ipc_frame",
    "url_grant",
    "scrub",
    "audit_verify",
    "component_load",
];

pub fn run(root: &Path, args: &[String]) -> Result<()> {
    let mut minutes: u64 = 10;
    let mut replay = false;
    let mut cmin = false;
    let mut targets: Vec<String> = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--minutes" => {
                minutes = it
                    .next()
                    .and_then(|m| m.parse().ok())
                    .context("--minutes needs a number")?;
            }
            "--replay" => replay = true,
            "--cmin" => cmin = true,
            t if TARGETS.contains(&t) => targets.push(t.to_string()),
            other => bail!(
                "unknown fuzz argument `{other}`; targets: {}",
                TARGETS.join(", ")
            ),
        }
    }
    if targets.is_empty() {
        targets = TARGETS
            .iter()
            .filter(|t| !((replay || cmin) && HEAVY.contains(t)))
            .map(|t| t.to_string())
            .collect();
        if replay {
            for t in HEAVY {
                println!(
                    "xtask: {t}: not replayed here (it links wasmtime and Cranelift: a long instrumented build); its kept inputs go through the agentbox binary in crates/cli/tests/hostile_components.rs, and `cargo xtask fuzz --replay {t}` replays them in-process"
                );
            }
        }
    }
    let has_fuzz = Command::new("cargo")
        .args(["fuzz", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_fuzz {
        crate::run(Command::new("cargo").args(["install", "cargo-fuzz", "--locked"]))?;
    }
    // The heavy targets live in a package of their own (tests/fuzz-load), so
    // that the light ones build without wasmtime.
    let fuzz_dir = |t: &str| {
        root.join(if HEAVY.contains(&t) {
            "tests/fuzz-load"
        } else {
            "tests/fuzz"
        })
    };
    let target_dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
        .join("fuzz");
    // Coverage instrumentation without a sanitizer: the stable toolchain's codegen
    // options (RUSTC_BOOTSTRAP only lets cargo-fuzz pass its -Z flags).
    // One build per target: a heavy target is built only when it is asked for.
    for t in &targets {
        crate::run(
            Command::new("cargo")
                .current_dir(root)
                .env("RUSTC_BOOTSTRAP", "1")
                .args(["fuzz", "build", "--sanitizer", "none", "-O", "--fuzz-dir"])
                .arg(fuzz_dir(t))
                .arg("--target-dir")
                .arg(&target_dir)
                .arg(t),
        )?;
    }
    let bins = target_dir.join("x86_64-unknown-linux-gnu/release");
    let mut failed = Vec::new();
    if replay {
        for t in &targets {
            let corpus = fuzz_dir(t).join("corpus").join(t);
            let status = Command::new(bins.join(t))
                .arg("-runs=0")
                .arg(&corpus)
                .status()
                .with_context(|| format!("running {t}"))?;
            if status.success() {
                let n = std::fs::read_dir(&corpus).map(|d| d.count()).unwrap_or(0);
                println!("xtask: {t}: {n} kept inputs replayed, no crash");
            } else {
                failed.push(t.clone());
            }
        }
        if !failed.is_empty() {
            bail!("kept fuzz inputs crash {}", failed.join(", "));
        }
        return Ok(());
    }
    if cmin {
        for t in &targets {
            let corpus = fuzz_dir(t).join("corpus").join(t);
            let before = std::fs::read_dir(&corpus)?.count();
            minimise(
                &bins.join(t),
                &corpus,
                &[],
                &target_dir.join("merged").join(t),
            )?;
            let after = std::fs::read_dir(&corpus)?.count();
            println!("xtask: {t}: corpus minimised from {before} to {after} inputs");
        }
        return Ok(());
    }
    for t in &targets {
        let corpus = fuzz_dir(t).join("corpus").join(t);
        let artifacts = target_dir.join("artifacts").join(t);
        std::fs::create_dir_all(&corpus)?;
        std::fs::create_dir_all(&artifacts)?;
        let work = target_dir.join("work").join(t);
        let _ = std::fs::remove_dir_all(&work);
        std::fs::create_dir_all(&work)?;
        println!("xtask: fuzzing {t} for {minutes} min");
        let status = Command::new(bins.join(t))
            .arg(&work)
            .arg(&corpus)
            .arg(format!("-max_total_time={}", minutes * 60))
            .arg("-max_len=8192")
            .arg("-print_final_stats=1")
            .arg(format!("-artifact_prefix={}/", artifacts.display()))
            .status()
            .with_context(|| format!("running {t}"))?;
        if !status.success() {
            failed.push(t.clone());
            continue;
        }
        // Keep the corpus small: merge what was found into a minimised set.
        minimise(
            &bins.join(t),
            &corpus,
            &[&work],
            &target_dir.join("merged").join(t),
        )?;
        let n = std::fs::read_dir(&corpus)?.count();
        println!("xtask: {t}: no crash; corpus now {n} inputs");
    }
    if !failed.is_empty() {
        bail!(
            "fuzzing found crashes in {}: inputs in {}",
            failed.join(", "),
            target_dir.join("artifacts").display()
        );
    }
    Ok(())
}

/// Replaces `corpus` by a small set of inputs of `corpus` and `extra` that covers
/// every feature they cover together (libFuzzer's `-set_cover_merge=1`, done in
/// `merged`: about half as many files as `-merge=1` keeps), keeping every `seed-`
/// and `regression-` file whatever its coverage.
fn minimise(bin: &Path, corpus: &Path, extra: &[&Path], merged: &Path) -> Result<()> {
    let _ = std::fs::remove_dir_all(merged);
    std::fs::create_dir_all(merged)?;
    let mut cmd = Command::new(bin);
    cmd.arg("-set_cover_merge=1")
        .arg("-max_len=8192")
        .arg(merged)
        .arg(corpus);
    for e in extra {
        cmd.arg(e);
    }
    crate::run(&mut cmd)?;
    for e in std::fs::read_dir(corpus)?.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if !name.starts_with("regression-") && !name.starts_with("seed-") {
            std::fs::remove_file(e.path())?;
        }
    }
    for e in std::fs::read_dir(merged)?.flatten() {
        let dest = corpus.join(e.file_name());
        if !dest.exists() {
            std::fs::copy(e.path(), dest)?;
        }
    }
    Ok(())
}
