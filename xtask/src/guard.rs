//! The guards' data work: `guard-train` fits the injection model on the
//! training split of the corpus that `xtask/guard-data/fetch.sh` assembles from
//! registry packages; `guard-eval` measures every guard on the development split
//! (sources the model never saw) and prints recall, false-positive rate and
//! throughput. Nothing here is asserted: the numbers are reported.

use agentbox_guard::finding::{Kind, Kinds};
use agentbox_guard::injection::passages;
use agentbox_guard::model::{DIM_BITS, Model, features, sigmoid};
use agentbox_guard::normalize::normalize;
use agentbox_guard::{Scanner, Scope};
use anyhow::{Context, Result, bail};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(Deserialize, Clone)]
struct Record {
    text: String,
    label: bool,
    source: String,
    split: String,
    #[serde(default)]
    spans: Vec<[usize; 2]>,
    #[serde(default)]
    pii_type: Option<String>,
}

fn corpus_dir(root: &Path) -> PathBuf {
    root.join("build/guard-data/corpus")
}

/// Assembles the corpus if it is not there (downloads from PyPI, npm, Debian).
fn ensure_corpus(root: &Path) -> Result<PathBuf> {
    let dir = corpus_dir(root);
    if !dir.join("injection.jsonl").exists() {
        crate::run(std::process::Command::new("bash").arg(root.join("xtask/guard-data/fetch.sh")))?;
    }
    Ok(dir)
}

fn load(dir: &Path, name: &str) -> Result<Vec<Record>> {
    let path = dir.join(format!("{name}.jsonl"));
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("read {}", path.display()))?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).with_context(|| format!("{}:{}", path.display(), i + 1))
        })
        .collect()
}

/// Byte offset of the `n`th scalar of `s`.
fn byte_at(s: &str, n: usize) -> usize {
    s.char_indices().nth(n).map_or(s.len(), |(b, _)| b)
}

/// A record's spans as byte ranges.
fn byte_spans(r: &Record) -> Vec<(usize, usize)> {
    r.spans
        .iter()
        .map(|[s, e]| (byte_at(&r.text, *s), byte_at(&r.text, *e)))
        .collect()
}

/// The start of a record's text, on one line, for the lists of misses.
fn excerpt(text: &str) -> String {
    text.chars()
        .take(160)
        .collect::<String>()
        .replace('\n', " ")
}

/// The passages of a record, labelled: a positive with spans has its passages
/// that overlap a span positive and the rest negative; a positive without spans
/// is positive throughout.
fn labelled_passages(r: &Record) -> Vec<(String, bool)> {
    let spans = byte_spans(r);
    passages(&r.text)
        .into_iter()
        .map(|(s, e)| {
            let pos = r.label && (spans.is_empty() || spans.iter().any(|&(a, b)| s < b && a < e));
            (r.text[s..e].to_string(), pos)
        })
        .collect()
}

pub fn train(root: &Path, args: &[String]) -> Result<()> {
    let epochs: usize = flag(args, "--epochs").unwrap_or(8);
    let dir = ensure_corpus(root)?;
    let records: Vec<Record> = load(&dir, "injection")?
        .into_iter()
        .filter(|r| r.split == "train")
        .collect();
    if records.is_empty() {
        bail!("no training records in {}", dir.display());
    }
    let mut examples: Vec<(Vec<u32>, bool)> = Vec::new();
    let mut feats = Vec::new();
    for r in &records {
        for (text, pos) in labelled_passages(r) {
            features(&normalize(&text), &mut feats);
            if !feats.is_empty() {
                examples.push((feats.clone(), pos));
            }
        }
    }
    let npos = examples.iter().filter(|e| e.1).count();
    let nneg = examples.len() - npos;
    println!(
        "training on {} passages ({npos} injection, {nneg} benign) from {} records",
        examples.len(),
        records.len()
    );
    // Logistic regression, AdaGrad, L2; classes weighted to balance.
    let n = 1usize << DIM_BITS;
    let mut w = vec![0f32; n];
    let mut g2 = vec![1e-6f32; n];
    let (mut bias, mut gb) = (0f32, 1e-6f32);
    let lr: f32 = flag(args, "--lr").unwrap_or(0.1);
    let l2: f32 = flag(args, "--l2").unwrap_or(1e-5);
    // Benign passages outnumber injected ones in real output far more than in
    // the corpus: weight negatives up (`--neg-weight`, default 2).
    let wpos = 1.0f32;
    let wneg: f32 = flag(args, "--neg-weight").unwrap_or(2.0);
    let mut order: Vec<usize> = (0..examples.len()).collect();
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    for epoch in 0..epochs {
        // Fisher-Yates with a fixed-seed xorshift: the same model every time.
        for i in (1..order.len()).rev() {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            order.swap(i, (seed % (i as u64 + 1)) as usize);
        }
        let mut loss = 0f64;
        for &i in &order {
            let (f, y) = &examples[i];
            let norm = 1.0 / (f.len() as f32).sqrt();
            let z = bias + f.iter().map(|&j| w[j as usize]).sum::<f32>() * norm;
            let p = sigmoid(z);
            let t = if *y { 1.0 } else { 0.0 };
            let cw = if *y { wpos } else { wneg };
            loss -= f64::from(
                cw * if *y {
                    p.max(1e-7).ln()
                } else {
                    (1.0 - p).max(1e-7).ln()
                },
            );
            let g = cw * (p - t);
            for &j in f {
                let j = j as usize;
                let gj = g * norm + l2 * w[j];
                g2[j] += gj * gj;
                w[j] -= lr * gj / g2[j].sqrt();
            }
            gb += g * g;
            bias -= lr * g / gb.sqrt();
        }
        println!(
            "epoch {}: mean loss {:.4}",
            epoch + 1,
            loss / examples.len() as f64
        );
    }
    let bytes = Model::to_bytes(bias, &w);
    // The quantised model, as it will be loaded, on the training data.
    let model = Model::from_bytes(&bytes)?;
    let (mut tp, mut fp) = (0usize, 0usize);
    for (f, y) in &examples {
        let hit = model.score(f) >= agentbox_guard::injection::THRESHOLD;
        if hit && *y {
            tp += 1;
        }
        if hit && !*y {
            fp += 1;
        }
    }
    println!(
        "on the training passages: recall {:.3}, false positives {:.4}",
        tp as f64 / npos.max(1) as f64,
        fp as f64 / nneg.max(1) as f64
    );
    let out = root.join("crates/guard/data/injection.model");
    std::fs::write(&out, bytes).with_context(|| format!("write {}", out.display()))?;
    println!("wrote {}", out.display());
    Ok(())
}

fn flag<T: std::str::FromStr>(args: &[String], name: &str) -> Option<T> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
}

#[derive(Default)]
struct Tally {
    pos: usize,
    tp: usize,
    neg: usize,
    fp: usize,
}

impl Tally {
    fn recall(&self) -> String {
        if self.pos == 0 {
            "—".into()
        } else {
            format!("{:.3}", self.tp as f64 / self.pos as f64)
        }
    }
    fn fpr(&self) -> String {
        if self.neg == 0 {
            "—".into()
        } else {
            format!("{:.4}", self.fp as f64 / self.neg as f64)
        }
    }
}

pub fn eval(root: &Path, args: &[String]) -> Result<()> {
    let dir = ensure_corpus(root)?;
    let split = args
        .iter()
        .position(|a| a == "--split")
        .and_then(|i| args.get(i + 1))
        .map_or("dev", String::as_str);
    let t0 = Instant::now();
    let scanner = Scanner::new();
    println!(
        "scanner built in {:.1} ms",
        t0.elapsed().as_secs_f64() * 1e3
    );
    println!(
        "split: {split} (the injection model is trained on `train` only; the other guards on nothing)\n"
    );
    println!(
        "| guard | positives | recall | negatives | false positives | MB/s (this guard alone) |"
    );
    println!("|---|---|---|---|---|---|");
    let mut misses: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut by_source: BTreeMap<String, Tally> = BTreeMap::new();
    let mut by_type: BTreeMap<String, Tally> = BTreeMap::new();
    for (file, kind) in [
        ("injection", Kind::Injection),
        ("secret", Kind::Secret),
        ("pii", Kind::Pii),
        ("hidden", Kind::HiddenText),
    ] {
        let records: Vec<Record> = load(&dir, file)?
            .into_iter()
            .filter(|r| r.split == split)
            .collect();
        let scope = Scope {
            kinds: Kinds::NONE.with(kind),
            pii_types: None,
        };
        let mut t = Tally::default();
        let mut bytes = 0usize;
        let started = Instant::now();
        let mut results = Vec::with_capacity(records.len());
        for r in &records {
            bytes += r.text.len();
            results.push(scanner.scan(&r.text, &scope));
        }
        let secs = started.elapsed().as_secs_f64();
        for (r, found) in records.iter().zip(results) {
            let spans = byte_spans(r);
            let hit = if r.label && !spans.is_empty() {
                found
                    .iter()
                    .any(|f| spans.iter().any(|&(a, b)| f.start < b && a < f.end))
            } else {
                !found.is_empty()
            };
            let src = by_source.entry(format!("{file} {}", r.source)).or_default();
            if r.label {
                t.pos += 1;
                src.pos += 1;
                if hit {
                    t.tp += 1;
                    src.tp += 1;
                } else {
                    let m = misses.entry(file.to_string()).or_default();
                    if m.len() < 12 {
                        m.push(format!("[{}] {}", r.source, excerpt(&r.text)));
                    }
                }
                if let Some(pt) = &r.pii_type {
                    let e = by_type.entry(pt.clone()).or_default();
                    e.pos += 1;
                    e.tp += usize::from(hit);
                }
            } else {
                t.neg += 1;
                src.neg += 1;
                if hit {
                    t.fp += 1;
                    src.fp += 1;
                    let m = misses
                        .entry(format!("{file} (false positive)"))
                        .or_default();
                    if m.len() < 12 {
                        let f = found
                            .first()
                            .map(|f| format!("{}:{}", f.ty, f.score))
                            .unwrap_or_default();
                        m.push(format!("[{}] {f} {}", r.source, excerpt(&r.text)));
                    }
                }
            }
        }
        println!(
            "| {file} | {} | {} | {} | {} | {:.1} |",
            t.pos,
            t.recall(),
            t.neg,
            t.fpr(),
            bytes as f64 / 1e6 / secs.max(1e-9)
        );
    }
    println!("\n| pii type | positives | recall |\n|---|---|---|");
    for (k, t) in &by_type {
        println!("| {k} | {} | {} |", t.pos, t.recall());
    }
    println!(
        "\n| source | positives | recall | negatives | false positives |\n|---|---|---|---|---|"
    );
    for (k, t) in &by_source {
        println!(
            "| {k} | {} | {} | {} | {} |",
            t.pos,
            t.recall(),
            t.neg,
            t.fpr()
        );
    }
    if args.iter().any(|a| a == "--misses") {
        for (k, v) in &misses {
            println!("\n{k}:");
            for m in v {
                println!("  {m}");
            }
        }
    }
    if args.iter().any(|a| a == "--sweep") {
        sweep(&dir, split, &scanner)?;
    }
    // Whole-guard throughput on benign text, every guard on (what `scan` does).
    let benign: Vec<Record> = load(&dir, "injection")?
        .into_iter()
        .filter(|r| !r.label)
        .collect();
    let bytes: usize = benign.iter().map(|r| r.text.len()).sum();
    let started = Instant::now();
    let mut n = 0usize;
    for r in &benign {
        n += scanner.scan(&r.text, &Scope::default()).len();
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "\nall guards on the benign injection records (both splits): {:.1} MB in {:.2} s = {:.1} MB/s, {n} findings",
        bytes as f64 / 1e6,
        secs,
        bytes as f64 / 1e6 / secs.max(1e-9)
    );
    Ok(())
}

/// Injection recall and false-positive rate at other thresholds: each record's
/// best passage score (over the passages that overlap its spans, for a positive
/// with spans).
fn sweep(dir: &Path, split: &str, scanner: &Scanner) -> Result<()> {
    let records: Vec<Record> = load(dir, "injection")?
        .into_iter()
        .filter(|r| r.split == split)
        .collect();
    let mut feats = Vec::new();
    let mut scored: Vec<(f32, bool)> = Vec::new();
    for r in &records {
        let spans = byte_spans(r);
        let mut best = 0f32;
        for (s, e) in passages(&r.text) {
            if r.label && !spans.is_empty() && !spans.iter().any(|&(a, b)| s < b && a < e) {
                continue;
            }
            best = best.max(scanner.injection.passage(&r.text[s..e], &mut feats).0);
        }
        scored.push((best, r.label));
    }
    println!("\n| threshold | injection recall | false positives |\n|---|---|---|");
    for t in [0.5f32, 0.6, 0.7, 0.8, 0.9, 0.95, 0.97, 0.99] {
        let pos = scored.iter().filter(|x| x.1).count().max(1);
        let neg = scored.iter().filter(|x| !x.1).count().max(1);
        let tp = scored.iter().filter(|x| x.1 && x.0 >= t).count();
        let fp = scored.iter().filter(|x| !x.1 && x.0 >= t).count();
        println!(
            "| {t} | {:.3} | {:.4} |",
            tp as f64 / pos as f64,
            fp as f64 / neg as f64
        );
    }
    Ok(())
}
