//! Link flags for the `agentbox` binary only.
//!
//! Relative relocations packed as DT_RELR (glibc ≥ 2.36, binutils ≥ 2.38): the
//! binary stays position-independent (ASLR), but its ~37,000 relative relocations
//! take a few KiB instead of ~880 KiB that every process — supervisor and each
//! worker — would otherwise read at startup (time and memory per worker).

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let linux_x86_64 = std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux")
        && std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("x86_64");
    if linux_x86_64 && std::env::var_os("AGENTBOX_NO_RELR").is_none() {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
    println!("cargo:rerun-if-env-changed=AGENTBOX_NO_RELR");
}
