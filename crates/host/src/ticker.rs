//! One background thread per engine that advances the epoch every tick.

use crate::engine::SETTINGS;
use std::sync::Mutex;
use wasmtime::{Engine, EngineWeak};

static TICKED: Mutex<Vec<EngineWeak>> = Mutex::new(Vec::new());

/// Starts the ticker for `engine` unless one runs already. The thread ends when the
/// engine is dropped.
pub fn ensure(engine: &Engine) {
    let Ok(mut list) = TICKED.lock() else { return };
    list.retain(|w| w.upgrade().is_some());
    if list
        .iter()
        .any(|w| w.upgrade().is_some_and(|e| Engine::same(&e, engine)))
    {
        return;
    }
    let weak = engine.weak();
    list.push(engine.weak());
    std::thread::Builder::new()
        .name("agentbox-epoch".into())
        .spawn(move || {
            while let Some(engine) = weak.upgrade() {
                engine.increment_epoch();
                drop(engine);
                std::thread::sleep(SETTINGS.epoch_tick);
            }
        })
        .ok();
}
