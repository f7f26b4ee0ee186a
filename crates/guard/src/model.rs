//! The statistical half of the injection detector: logistic regression over
//! hashed word features of normalised text. The weights are data
//! (`crates/guard/data/injection.model`, made by `cargo xtask guard-train`),
//! compiled in and checked when the scanner is built.

use std::borrow::Cow;

/// Bits of the feature hash: 2^18 weights.
pub const DIM_BITS: u32 = 18;
const MAGIC: &[u8; 8] = b"ABGIM001";
/// Magic, hash bits, bias and scale; the weights follow.
const HEADER: usize = 20;

/// The model file shipped with the crate.
pub static SHIPPED: &[u8] = include_bytes!("../data/injection.model");

/// A loaded model.
#[derive(Debug, Clone)]
pub struct Model {
    bias: f32,
    scale: f32,
    /// The whole file (header included): the shipped model is borrowed, not
    /// copied, so building a scanner touches none of its 256 KiB until a text
    /// is scored.
    file: Cow<'static, [u8]>,
}

/// A model file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("not an agentbox injection model (bad magic)")]
    Magic,
    #[error("the model has {0} hash bits; this build reads {DIM_BITS}")]
    Bits(u32),
    #[error("the model is truncated: {0} bytes")]
    Truncated(usize),
}

impl Model {
    /// A model read from a file at run time (copied).
    pub fn from_bytes(b: &[u8]) -> Result<Model, ModelError> {
        Self::parse(Cow::Owned(b.to_vec()))
    }

    /// A model compiled into the binary (borrowed).
    pub fn from_static(b: &'static [u8]) -> Result<Model, ModelError> {
        Self::parse(Cow::Borrowed(b))
    }

    fn parse(file: Cow<'static, [u8]>) -> Result<Model, ModelError> {
        let b: &[u8] = &file;
        if b.len() < HEADER {
            return Err(ModelError::Truncated(b.len()));
        }
        if &b[..8] != MAGIC {
            return Err(ModelError::Magic);
        }
        let u = |i: usize| [b[i], b[i + 1], b[i + 2], b[i + 3]];
        let bits = u32::from_le_bytes(u(8));
        if bits != DIM_BITS {
            return Err(ModelError::Bits(bits));
        }
        let bias = f32::from_le_bytes(u(12));
        let scale = f32::from_le_bytes(u(16));
        let n = 1usize << DIM_BITS;
        if b.len() != HEADER + n {
            return Err(ModelError::Truncated(b.len()));
        }
        Ok(Model { bias, scale, file })
    }

    /// Serialises float weights (quantised to i8 with one scale).
    pub fn to_bytes(bias: f32, w: &[f32]) -> Vec<u8> {
        assert_eq!(w.len(), 1 << DIM_BITS);
        let max = w.iter().fold(0f32, |m, x| m.max(x.abs())).max(1e-6);
        let scale = max / 127.0;
        let mut out = Vec::with_capacity(HEADER + w.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&DIM_BITS.to_le_bytes());
        out.extend_from_slice(&bias.to_le_bytes());
        out.extend_from_slice(&scale.to_le_bytes());
        out.extend(
            w.iter()
                .map(|x| (x / scale).round().clamp(-127.0, 127.0) as i8 as u8),
        );
        out
    }

    /// Probability that normalised text with these features is addressed to the model.
    pub fn score(&self, feats: &[u32]) -> f32 {
        if feats.is_empty() {
            return sigmoid(self.bias);
        }
        let sum: i32 = feats
            .iter()
            .map(|&f| i32::from(self.file[HEADER + f as usize] as i8))
            .sum();
        let z = self.bias + self.scale * sum as f32 / (feats.len() as f32).sqrt();
        sigmoid(z)
    }
}

pub fn sigmoid(z: f32) -> f32 {
    1.0 / (1.0 + (-z).exp())
}

fn hash(seed: u64, s: &[u8]) -> u64 {
    // FNV-1a, then a final mix.
    let mut h = 0xcbf2_9ce4_8422_2325u64 ^ seed;
    for &b in s {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x100_0000_01b3);
    }
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^ (h >> 33)
}

/// A four-byte character 4-gram (the usual, ASCII case), hashed in one step.
fn hash4(w: &[u8]) -> u64 {
    let v = u64::from(u32::from_le_bytes([w[0], w[1], w[2], w[3]])) | (7 << 32);
    let h = v.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    h ^ (h >> 29)
}

fn is_cjk(c: char) -> bool {
    matches!(c, '\u{3040}'..='\u{30FF}' | '\u{3400}'..='\u{4DBF}' | '\u{4E00}'..='\u{9FFF}' | '\u{F900}'..='\u{FAFF}')
}

/// Hashed features of normalised text: words, word pairs, the first five
/// characters of long words and the character 4-grams of words of five or more
/// (so inflections share features), and character pairs of Chinese and Japanese
/// text. Deduplicated, sorted.
pub fn features(norm: &str, out: &mut Vec<u32>) {
    out.clear();
    let mask = (1u64 << DIM_BITS) - 1;
    let push = |h: u64, out: &mut Vec<u32>| out.push((h & mask) as u32);
    let mut prev: Option<u64> = None;
    // One word, a slice of `norm`: no copies.
    let word_features = |word: &str, prev: &mut Option<u64>, out: &mut Vec<u32>| {
        let h = hash(1, word.as_bytes());
        push(h, out);
        if let Some(p) = *prev {
            let mut pair = [0u8; 16];
            pair[..8].copy_from_slice(&p.to_le_bytes());
            pair[8..].copy_from_slice(&h.to_le_bytes());
            push(hash(2, &pair), out);
        }
        *prev = Some(h);
        let b = word.as_bytes();
        if word.is_ascii() {
            if b.len() >= 7 {
                push(hash(3, &b[..5]), out);
            }
            if b.len() >= 5 {
                for w in b.windows(4) {
                    push(hash4(w), out);
                }
            }
            return;
        }
        // Character boundaries, on the stack for the usual word lengths.
        let mut at = [0usize; 64];
        let mut n = 0;
        for (i, _) in word.char_indices() {
            if n == at.len() {
                break;
            }
            at[n] = i;
            n += 1;
        }
        let end = |k: usize| if k < n { at[k] } else { word.len() };
        if n >= 7 {
            push(hash(3, &b[..end(5)]), out);
        }
        // Character 4-grams of longer words: inflections, compounds and other
        // languages' forms of the same stem share them.
        if n >= 5 {
            for k in 0..=n - 4 {
                let gram = &b[at[k]..end(k + 4)];
                push(
                    if gram.len() == 4 {
                        hash4(gram)
                    } else {
                        hash(7, gram)
                    },
                    out,
                );
            }
        }
    };
    let mut word_start: Option<usize> = None;
    let mut last_cjk: Option<char> = None;
    for (i, c) in norm.char_indices() {
        if c.is_alphanumeric() && !is_cjk(c) {
            last_cjk = None;
            if word_start.is_none() {
                word_start = Some(i);
            }
            continue;
        }
        if let Some(ws) = word_start.take() {
            word_features(&norm[ws..i], &mut prev, out);
        }
        if is_cjk(c) {
            let mut buf = [0u8; 8];
            let n = c.encode_utf8(&mut buf[..4]).len();
            push(hash(4, &buf[..n]), out);
            if let Some(l) = last_cjk {
                let m = l.encode_utf8(&mut buf[4..]).len();
                push(hash(5, &buf[..4 + m]), out);
            }
            last_cjk = Some(c);
        } else {
            last_cjk = None;
            if matches!(c, ':' | '<' | '>' | '[' | ']' | '|' | '#' | '{' | '}') {
                let h = hash(6, &[c as u8]);
                push(h, out);
                prev = Some(h);
            }
        }
    }
    if let Some(ws) = word_start {
        word_features(&norm[ws..], &mut prev, out);
    }
    out.sort_unstable();
    out.dedup();
}
