// Link flags for agentbox's binaries (`agentbox`, `agentbox-worker`), included by
// their packages' build scripts.
//
// Relative relocations packed as DT_RELR (glibc >= 2.36, binutils >= 2.38): the
// binary stays position-independent (ASLR), but its relative relocations take a few
// KiB instead of hundreds that every process (supervisor and each worker) would
// otherwise read and copy at startup.
//
// The unwinder linked statically (`libgcc_eh.a`, GCC's own archive, what
// `-static-libgcc` does for C++): otherwise Rust's standard library loads
// `libgcc_s.so.1`, and every worker pays for mapping and relocating it and for its
// constructor (`__cpu_indicator_init`, 12 CPUID instructions: each one traps to the
// hypervisor on a virtual machine, ~6.6 us here), ~0.2 ms of each worker's start
// (docs/decisions/31-static-unwinder.md). `AGENTBOX_DYNAMIC_UNWINDER` set (to
// anything) keeps the shared library (a toolchain without `libgcc_eh.a`).
fn link_flags() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed={}/../worker/link_flags.rs", env!("CARGO_MANIFEST_DIR"));
    let linux_x86_64 = std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux")
        && std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("x86_64");
    if linux_x86_64 && std::env::var_os("AGENTBOX_NO_RELR").is_none() {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
    let gnu = std::env::var("CARGO_CFG_TARGET_ENV").as_deref() == Ok("gnu");
    if linux_x86_64 && gnu && std::env::var_os("AGENTBOX_DYNAMIC_UNWINDER").is_none() {
        // Resolves the unwinder's symbols before std's `-lgcc_s`, which
        // `--as-needed` then drops.
        // `-bundle`: in a library (the worker crate) it is passed on to the final
        // link instead of being copied into the rlib.
        println!("cargo:rustc-link-lib=static:-bundle=gcc_eh");
    }
    println!("cargo:rerun-if-env-changed=AGENTBOX_NO_RELR");
    println!("cargo:rerun-if-env-changed=AGENTBOX_DYNAMIC_UNWINDER");
}
