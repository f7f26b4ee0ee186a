//! agentbox-pack: turns a WASI preview1 core module into a component.
//!
//! Trust zone: build time / supervisor CLI. It embeds agentbox's WIT world into the
//! module and wraps it with the preview1 adapter (`wit-component` plus the adapter
//! bytes from `wasi-preview1-component-adapter-provider`). It must never run the
//! module, and it refuses anything that is not a core module.

use wasi_preview1_component_adapter_provider::{
    WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME, WASI_SNAPSHOT_PREVIEW1_COMMAND_ADAPTER,
    WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
};
use wit_component::{ComponentEncoder, StringEncoding};
use wit_parser::Resolve;

/// agentbox's WIT package (the project's canonical copy).
pub const WIT: &str = include_str!("../../../wit/agentbox-tool.wit");

/// A world for command programs: they may import agentbox's host functions, and get
/// `wasi:cli/run` from the command adapter.
const COMMAND_WORLD: &str = "\nworld command-imports {\n    import http;\n    import log;\n}\n";

/// Which world the module implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum World {
    /// `agentbox:tool/tool`: exports `describe` and `call` (a reactor).
    Tool,
    /// A program with `_start`; exports `wasi:cli/run` via the command adapter.
    Command,
}

/// Why a module could not be packed.
#[derive(Debug, thiserror::Error)]
pub enum PackError {
    #[error("input is not a WebAssembly binary")]
    NotWasm,
    #[error("input is already a component; nothing to pack")]
    AlreadyComponent,
    #[error("input is not a valid core module: {0}")]
    Invalid(String),
    #[error("cannot read agentbox's WIT: {0}")]
    Wit(String),
    #[error("cannot build the component: {0}")]
    Encode(String),
}

/// What `pack` found out about a module.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModuleInfo {
    pub has_start: bool,
    pub imports_preview1: bool,
}

/// Inspects a core module.
pub fn inspect(core: &[u8]) -> Result<ModuleInfo, PackError> {
    if core.len() < 8 || &core[..4] != b"\0asm" {
        return Err(PackError::NotWasm);
    }
    if wasmparser::Parser::is_component(core) {
        return Err(PackError::AlreadyComponent);
    }
    let mut info = ModuleInfo {
        has_start: false,
        imports_preview1: false,
    };
    for payload in wasmparser::Parser::new(0).parse_all(core) {
        match payload.map_err(|e| PackError::Invalid(e.to_string()))? {
            wasmparser::Payload::ExportSection(s) => {
                for e in s {
                    let e = e.map_err(|e| PackError::Invalid(e.to_string()))?;
                    if e.name == "_start" {
                        info.has_start = true;
                    }
                }
            }
            wasmparser::Payload::ImportSection(s) => {
                for imp in s.into_imports() {
                    let imp = imp.map_err(|e| PackError::Invalid(e.to_string()))?;
                    if imp.module == WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME {
                        info.imports_preview1 = true;
                    }
                }
            }
            _ => {}
        }
    }
    Ok(info)
}

/// Packs a core module. `world` defaults to [`World::Command`] when the module
/// exports `_start`, else [`World::Tool`].
pub fn pack(core: &[u8], world: Option<World>) -> Result<Vec<u8>, PackError> {
    let info = inspect(core)?;
    let world = world.unwrap_or(if info.has_start {
        World::Command
    } else {
        World::Tool
    });
    let mut resolve = Resolve::default();
    let text = format!("{WIT}{COMMAND_WORLD}");
    let pkg = resolve
        .push_str("agentbox-tool.wit", &text)
        .map_err(|e| PackError::Wit(format!("{e:#}")))?;
    let name = match world {
        World::Tool => "tool",
        World::Command => "command-imports",
    };
    let world_id = resolve
        .select_world(&[pkg], Some(name))
        .map_err(|e| PackError::Wit(format!("{e:#}")))?;
    let mut module = core.to_vec();
    wit_component::embed_component_metadata(&mut module, &resolve, world_id, StringEncoding::UTF8)
        .map_err(|e| PackError::Encode(format!("{e:#}")))?;
    let mut enc = ComponentEncoder::default()
        .validate(true)
        .module(&module)
        .map_err(|e| PackError::Encode(format!("{e:#}")))?;
    if info.imports_preview1 {
        let adapter = match world {
            World::Command => WASI_SNAPSHOT_PREVIEW1_COMMAND_ADAPTER,
            World::Tool => WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
        };
        enc = enc
            .adapter(WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME, adapter)
            .map_err(|e| PackError::Encode(format!("{e:#}")))?;
    }
    enc.encode()
        .map_err(|e| PackError::Encode(format!("{e:#}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_non_modules() {
        assert!(matches!(
            pack(b"hello world", None),
            Err(PackError::NotWasm)
        ));
        assert!(matches!(
            pack(b"\0asm\x0d\0\x01\0", None),
            Err(PackError::AlreadyComponent)
        ));
    }

    #[test]
    fn wit_parses() {
        let mut r = Resolve::default();
        assert!(
            r.push_str("x.wit", &format!("{WIT}{COMMAND_WORLD}"))
                .is_ok()
        );
    }
}
