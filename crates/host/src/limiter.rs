//! Memory and table limits of one store, with a record of what was refused so the
//! outcome can name the limit.

use wasmtime::ResourceLimiter;

/// Limits every linear memory of a store together, and tables and instances.
#[derive(Debug)]
pub struct Limiter {
    /// Bytes of linear memory, all memories of the store together.
    pub memory_limit: u64,
    /// Bytes in use now, all memories together.
    pub memory_used: u64,
    /// Set when a grow (or an instantiation) was refused for memory.
    pub memory_refused: bool,
    /// Elements per table.
    pub table_elements: usize,
    /// Set when a table grow was refused.
    pub table_refused: bool,
}

impl Limiter {
    pub fn new(memory_limit: u64) -> Self {
        Self {
            memory_limit,
            memory_used: 0,
            memory_refused: false,
            table_elements: 100_000,
            table_refused: false,
        }
    }
}

impl ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let delta = desired.saturating_sub(current) as u64;
        let total = self.memory_used.saturating_add(delta);
        if total > self.memory_limit {
            self.memory_refused = true;
            return Ok(false);
        }
        self.memory_used = total;
        Ok(true)
    }

    fn memory_grow_failed(&mut self, _error: wasmtime::Error) -> wasmtime::Result<()> {
        self.memory_refused = true;
        Ok(())
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.table_elements {
            self.table_refused = true;
            return Ok(false);
        }
        Ok(true)
    }

    fn instances(&self) -> usize {
        256
    }

    fn tables(&self) -> usize {
        256
    }

    fn memories(&self) -> usize {
        32
    }
}
