//! Link flags for the `agentbox` binary only.
//!
//! Relative relocations packed as DT_RELR (glibc ≥ 2.36, binutils ≥ 2.38): the
//! binary stays position-independent (ASLR), but its ~37,000 relative relocations
//! take a few KiB instead of ~880 KiB that every process — supervisor and each
//! worker — would otherwise read at startup (time and memory per worker).
//!
//! The unwinder linked statically (`libgcc_eh.a`, GCC's own archive, what
//! `-static-libgcc` does for C++): otherwise Rust's standard library loads
//! `libgcc_s.so.1`, and every worker pays for mapping and relocating it and for its
//! constructor (`__cpu_indicator_init`, 12 CPUID instructions: each one traps to
//! the hypervisor on a virtual machine, ~6.6 µs here). ~0.2 ms of each worker's
//! start (docs/decisions/31-static-unwinder.md). `AGENTBOX_DYNAMIC_UNWINDER` set (to anything) keeps
//! the shared library (a toolchain without `libgcc_eh.a`).

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let linux_x86_64 = std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux")
        && std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("x86_64");
    if linux_x86_64 && std::env::var_os("AGENTBOX_NO_RELR").is_none() {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
    let gnu = std::env::var("CARGO_CFG_TARGET_ENV").as_deref() == Ok("gnu");
    if linux_x86_64 && gnu && std::env::var_os("AGENTBOX_DYNAMIC_UNWINDER").is_none() {
        // Resolves the unwinder's symbols before std's `-lgcc_s`, which
        // `--as-needed` then drops.
        println!("cargo:rustc-link-lib=static=gcc_eh");
    }
    println!("cargo:rerun-if-env-changed=AGENTBOX_NO_RELR");
    println!("cargo:rerun-if-env-changed=AGENTBOX_DYNAMIC_UNWINDER");
}
