//! Validation of a function body (of the subset the interpreter runs) and its
//! branch side table.
//!
//! Checked: every opcode is supported; blocks nest and end; `else` only in an
//! `if`; branch depths, local, global and function indices are in range;
//! `global.set` writes a mutable global; memory instructions have a memory and
//! an alignment no larger than their width; block types are empty or one
//! value. Operand types are not checked here: values are untyped 64-bit words
//! in the interpreter, which checks the stack's depth as it runs.

use super::leb::Reader;
use super::module::{Module, ValType};
use super::Trap;
use alloc::collections::BTreeMap;
use alloc::vec::Vec;

/// Where a block ends: for the byte offset of each `block`, `loop` and `if`,
/// the offset of its `else` (if any) and of its `end`.
#[derive(Debug, Clone, Default)]
pub struct SideTable {
    pub ends: BTreeMap<usize, (Option<usize>, usize)>,
}

/// A block type: how many values the block leaves (0 or 1).
pub fn block_type(r: &mut Reader) -> Result<u32, Trap> {
    match r.byte()? {
        0x40 => Ok(0),
        0x7F | 0x7E => Ok(1),
        _ => Err(Trap::Malformed("unsupported block type", r.pos - 1)),
    }
}

/// The memory access width in bytes of a load (0x28-0x35) or store (0x36-0x3E).
pub fn access_width(op: u8) -> u32 {
    match op {
        0x28 | 0x34 | 0x35 | 0x36 | 0x3E => 4,
        0x29 | 0x37 => 8,
        0x2C | 0x2D | 0x30 | 0x31 | 0x3A | 0x3C => 1,
        0x2E | 0x2F | 0x32 | 0x33 | 0x3B | 0x3D => 2,
        _ => 4,
    }
}

/// Whether `op` is a numeric instruction without immediates that the interpreter runs.
pub fn is_plain_numeric(op: u8) -> bool {
    matches!(op, 0x45..=0x5A | 0x67..=0x8A | 0xA7 | 0xAC | 0xAD | 0xC0..=0xC4)
}

/// Validates defined function `f` of `m` (whose bytes are `bytes`); its side table.
pub fn validate(m: &Module, bytes: &[u8], f: usize) -> Result<SideTable, Trap> {
    let func = &m.funcs[f];
    let ty = &m.types[func.type_index as usize];
    let local_count = (ty.params.len() + func.locals.len()) as u32;
    let mut r = Reader::new(&bytes[..func.code.1], func.code.0);
    let mut side = SideTable::default();
    // Open blocks: (offset of the opening instruction, its `else`, is an `if`).
    let mut open: Vec<(usize, Option<usize>, bool)> = Vec::new();
    open.push((func.code.0, None, false)); // the function body
    while !r.at_end() {
        let at = r.pos;
        let op = r.byte()?;
        match op {
            0x00 | 0x01 | 0x0F | 0x1A | 0x1B => {}
            0x02..=0x04 => {
                block_type(&mut r)?;
                open.push((at, None, op == 0x04));
            }
            0x05 => {
                let nested = open.len() > 1;
                match open.last_mut() {
                    Some((_, e @ None, true)) if nested => *e = Some(at),
                    _ => return Err(Trap::Malformed("else outside an if", at)),
                }
            }
            0x0B => {
                let (start, else_at, _) = open.pop().ok_or(Trap::Malformed("unbalanced end", at))?;
                if open.is_empty() {
                    if r.pos != func.code.1 {
                        return Err(Trap::Malformed("code after the function's end", r.pos));
                    }
                    return Ok(side);
                }
                side.ends.insert(start, (else_at, at));
            }
            0x0C | 0x0D => {
                if r.u32()? as usize >= open.len() {
                    return Err(Trap::Malformed("branch depth out of range", at));
                }
            }
            0x0E => {
                let n = r.u32()?;
                for _ in 0..=n {
                    if r.u32()? as usize >= open.len() {
                        return Err(Trap::Malformed("branch depth out of range", at));
                    }
                }
            }
            0x10 => {
                if r.u32()? as usize >= m.func_count() {
                    return Err(Trap::Malformed("function index out of range", at));
                }
            }
            0x20..=0x22 => {
                if r.u32()? >= local_count {
                    return Err(Trap::Malformed("local index out of range", at));
                }
            }
            0x23 | 0x24 => {
                let g = m.globals.get(r.u32()? as usize).ok_or(Trap::Malformed("global index out of range", at))?;
                if op == 0x24 && !g.mutable {
                    return Err(Trap::Malformed("global.set of an immutable global", at));
                }
            }
            0x28..=0x3E => {
                let align = r.u32()?;
                r.u32()?;
                if m.memory.is_none() {
                    return Err(Trap::Malformed("memory access without a memory", at));
                }
                if align >= 32 || 1u32 << align > access_width(op) {
                    return Err(Trap::Malformed("alignment larger than the access", at));
                }
            }
            0x3F | 0x40 => {
                if r.byte()? != 0 || m.memory.is_none() {
                    return Err(Trap::Malformed("memory.size/grow without a memory", at));
                }
            }
            0x41 => {
                r.i32()?;
            }
            0x42 => {
                r.i64()?;
            }
            0x43 | 0x44 | 0x5B..=0x66 | 0x8B..=0xA6 | 0xA8..=0xAB | 0xAE..=0xBF => {
                return Err(Trap::Malformed("floating-point instructions are not supported", at))
            }
            0x11 => return Err(Trap::Malformed("call_indirect is not supported (no tables)", at)),
            op if is_plain_numeric(op) => {}
            _ => return Err(Trap::Malformed("unsupported opcode", at)),
        }
    }
    Err(Trap::Malformed("function body without end", r.pos))
}

/// The value types of a function's locals: its parameters, then its declared locals.
pub fn local_types(m: &Module, f: usize) -> Vec<ValType> {
    let func = &m.funcs[f];
    let mut all = m.types[func.type_index as usize].params.clone();
    all.extend_from_slice(&func.locals);
    all
}
