//! Secret scrubbing: for any value and any text around it carrying the value raw,
//! in hex or in base64, no scrubbed form of the value survives — and scrubbing
//! never panics or grows without bound.
#![no_main]
use base64::Engine;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (Vec<u8>, Vec<u8>, Vec<u8>, u8)| {
    let (secret, before, after, mode) = input;
    if secret.len() < 8 || secret.len() > 256 || before.len() + after.len() > 4096 {
        return;
    }
    let mut s = agentbox_secrets::Scrubber::new();
    s.add(&secret);
    let carried: Vec<u8> = match mode % 4 {
        0 => secret.clone(),
        1 => hex::encode(&secret).into_bytes(),
        2 => base64::engine::general_purpose::STANDARD
            .encode(&secret)
            .into_bytes(),
        _ => base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(&secret)
            .into_bytes(),
    };
    let mut text = before.clone();
    text.extend_from_slice(&carried);
    text.extend_from_slice(&after);
    let out = s.bytes(&text);
    assert!(out.len() <= text.len() * 2 + 16);
    // No scrubbed form of the value (raw, hex, percent, base64 cores at every
    // alignment) is left anywhere in the output — except where an occurrence is
    // made partly of the marker itself (text before it plus its "[").
    let marker = agentbox_secrets::REDACTED.as_bytes();
    let markers: Vec<usize> = (0..out.len().saturating_sub(marker.len() - 1))
        .filter(|&i| out[i..].starts_with(marker))
        .collect();
    for f in agentbox_secrets::scrub::forms(&secret) {
        for i in (0..out.len().saturating_sub(f.len() - 1)).filter(|&i| out[i..].starts_with(&f)) {
            let touches_marker = markers
                .iter()
                .any(|&m| m < i + f.len() && i < m + marker.len());
            assert!(
                touches_marker,
                "a form of the value survived: {:?}",
                String::from_utf8_lossy(&f)
            );
        }
    }
});
