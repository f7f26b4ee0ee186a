//! Component loading through the production path: any bytes given as a tool's
//! component are hashed by the supervisor and validated and compiled in a
//! confined compile worker (`Supervisor::load`). Whatever the bytes do to
//! wasmtime's parser, validator or Cranelift, this process (the supervisor) must
//! come back with an artifact or a clean error — never crash, hang or panic.
//!
//! Needs the `agentbox` binary for its workers: `AGENTBOX_EXE`, else
//! `target/release/agentbox` of this checkout (cargo xtask fuzz sets it).
#![no_main]
use agentbox_supervisor::{Options, Supervisor};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

struct Fixture {
    dir: std::path::PathBuf,
    sup: Supervisor,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("agentbox-fuzz-load-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("fuzz dir");
        let exe = std::env::var_os("AGENTBOX_EXE")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| {
                std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/release/agentbox")
            });
        assert!(exe.exists(), "{} is missing: build agentbox first", exe.display());
        let sup = Supervisor::new(&Options {
            cache_dir: Some(dir.join("cache")),
            worker_exe: Some(exe),
            ..Options::default()
        })
        .expect("supervisor");
        Fixture { dir, sup }
    })
}

fuzz_target!(|data: &[u8]| {
    let f = fixture();
    let wasm = f.dir.join("t.wasm");
    std::fs::write(&wasm, data).expect("write component");
    let text = "version = 1\n[tools.t]\ncomponent = \"t.wasm\"\nrationale = \"fuzz\"\n[tools.t.limits]\ncompile_timeout = \"10s\"\ncompile_memory = \"512MiB\"\n";
    let manifest = agentbox_policy::Manifest::parse(&f.dir.join("agentbox.toml"), text, &f.dir)
        .expect("manifest");
    let tool = &manifest.tools["t"];
    match f.sup.load(tool) {
        Ok(loaded) => assert!(!loaded.serialized.is_empty()),
        Err(e) => {
            let shown = e.to_string();
            assert!(!shown.is_empty());
            assert!([125, 137].contains(&e.status()), "{shown}");
        }
    }
});
