//! Hostile components, encoded byte by byte (a text parser would itself recurse
//! over the nesting): each is an attack on the validator or compiler, which must
//! meet it inside the confined compile worker, never in the supervisor.

/// Unsigned LEB128.
fn leb(mut n: u64, out: &mut Vec<u8>) {
    loop {
        let b = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

fn section(id: u8, body: &[u8], out: &mut Vec<u8>) {
    out.push(id);
    leb(body.len() as u64, out);
    out.extend_from_slice(body);
}

const COMPONENT_HEADER: [u8; 8] = [0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00];
const MODULE_HEADER: [u8; 8] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];

/// A component whose type section holds one type nested `depth` deep: a
/// component type (`0x41`) or an instance type (`0x42`) declaring a type that is
/// again one, ~3 bytes a level.
pub fn nested_types(depth: usize, instance: bool) -> Vec<u8> {
    let tag = if instance { 0x42 } else { 0x41 };
    let mut ty = Vec::with_capacity(depth * 3 + 2);
    for _ in 0..depth {
        // deftype: tag, one declaration, which is `type` (0x01) of ...
        ty.extend_from_slice(&[tag, 0x01, 0x01]);
    }
    ty.extend_from_slice(&[tag, 0x00]);
    let mut body = Vec::new();
    leb(1, &mut body);
    body.extend_from_slice(&ty);
    let mut out = COMPONENT_HEADER.to_vec();
    section(7, &body, &mut out);
    out
}

/// Components nested in components, `depth` deep (component section, id 4).
pub fn nested_components(depth: usize) -> Vec<u8> {
    let mut inner = COMPONENT_HEADER.to_vec();
    for _ in 0..depth {
        let mut outer = COMPONENT_HEADER.to_vec();
        section(4, &inner, &mut outer);
        inner = outer;
    }
    inner
}

/// A component holding one core module (core module section, id 1).
fn wrap(module: &[u8]) -> Vec<u8> {
    let mut out = COMPONENT_HEADER.to_vec();
    section(1, module, &mut out);
    out
}

/// A core module: one type `[] -> []` and `bodies` (each a whole function body,
/// size excluded) with `memory` pages and optional `data` of that many bytes.
fn module(bodies: &[Vec<u8>], memory_pages: Option<u32>, data: usize) -> Vec<u8> {
    let mut m = MODULE_HEADER.to_vec();
    section(1, &[0x01, 0x60, 0x00, 0x00], &mut m);
    let mut funcs = Vec::new();
    leb(bodies.len() as u64, &mut funcs);
    funcs.extend(std::iter::repeat_n(0u8, bodies.len()));
    section(3, &funcs, &mut m);
    if let Some(pages) = memory_pages {
        let mut mem = vec![0x01, 0x00];
        leb(u64::from(pages), &mut mem);
        section(5, &mem, &mut m);
    }
    let mut code = Vec::new();
    leb(bodies.len() as u64, &mut code);
    for b in bodies {
        leb(b.len() as u64, &mut code);
        code.extend_from_slice(b);
    }
    section(10, &code, &mut m);
    if data > 0 {
        // One active segment at offset 0 of memory 0.
        let mut d = vec![0x01, 0x00, 0x41, 0x00, 0x0b];
        leb(data as u64, &mut d);
        d.resize(d.len() + data, 0xab);
        section(11, &d, &mut m);
    }
    m
}

/// A component whose module has `n` empty functions.
pub fn many_functions(n: usize) -> Vec<u8> {
    let body = vec![0x00, 0x0b];
    wrap(&module(&vec![body; n], None, 0))
}

/// One function with a `br_table` of `targets` entries.
pub fn huge_br_table(targets: usize) -> Vec<u8> {
    // no locals; block; i32.const 0; br_table [0 x targets] 0; end; end
    let mut b = vec![0x00, 0x02, 0x40, 0x41, 0x00, 0x0e];
    leb(targets as u64, &mut b);
    b.extend(std::iter::repeat_n(0u8, targets));
    b.extend_from_slice(&[0x00, 0x0b, 0x0b]);
    wrap(&module(&[b], None, 0))
}

/// One function declaring `n` i64 locals and touching each.
pub fn many_locals(n: u32) -> Vec<u8> {
    let mut b = vec![0x01];
    leb(u64::from(n), &mut b);
    b.push(0x7e);
    for i in 0..n {
        // local.get i; local.set (i + 1) % n
        b.push(0x20);
        leb(u64::from(i), &mut b);
        b.push(0x21);
        leb(u64::from((i + 1) % n), &mut b);
    }
    b.push(0x0b);
    wrap(&module(&[b], None, 0))
}

/// A module with `pages` of memory and an active data segment of `bytes`.
pub fn huge_data(pages: u32, bytes: usize) -> Vec<u8> {
    wrap(&module(&[vec![0x00, 0x0b]], Some(pages), bytes))
}
