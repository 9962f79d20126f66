//! Decoding a binary module (WebAssembly core spec §5) into [`Module`]:
//! the sections this interpreter runs, and function names from the custom
//! `name` section (§7.4, subsection 1). Unknown custom sections are skipped.

use super::leb::Reader;
use super::validate::{validate, SideTable};
use super::{Trap, MAX_PAGES};
use alloc::string::String;
use alloc::vec::Vec;

/// Most declared locals in a module (all functions together).
pub const MAX_LOCALS: usize = 50_000;

/// A value type (only the integer ones are run).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValType {
    I32,
    I64,
}

fn valtype(r: &mut Reader) -> Result<ValType, Trap> {
    match r.byte()? {
        0x7F => Ok(ValType::I32),
        0x7E => Ok(ValType::I64),
        0x7D | 0x7C => Err(r.err("floats are not supported")),
        _ => Err(r.err("unsupported value type")),
    }
}

/// A function signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FuncType {
    pub params: Vec<ValType>,
    pub results: Vec<ValType>,
}

/// An imported function: (module, name) and its type index.
#[derive(Debug, Clone)]
pub struct Import {
    pub module: String,
    pub name: String,
    pub type_index: u32,
}

/// An exported function.
#[derive(Debug, Clone)]
pub struct Export {
    pub name: String,
    pub func: u32,
}

/// A function defined in the module.
#[derive(Debug, Clone)]
pub struct Func {
    pub type_index: u32,
    /// Declared locals (after the parameters).
    pub locals: Vec<ValType>,
    /// Byte range of the instructions (the final `end` included) in the module.
    pub code: (usize, usize),
    /// Branch targets of the body's blocks.
    pub side: SideTable,
}

/// A global: type, mutability, initial value (a constant).
#[derive(Debug, Clone)]
pub struct Global {
    pub ty: ValType,
    pub mutable: bool,
    pub init: u64,
}

/// A decoded, validated module. Function indices count the imports first.
#[derive(Debug, Clone, Default)]
pub struct Module {
    pub types: Vec<FuncType>,
    pub imports: Vec<Import>,
    pub funcs: Vec<Func>,
    /// The memory's (minimum, maximum) pages, if it has one.
    pub memory: Option<(u32, u32)>,
    pub globals: Vec<Global>,
    pub exports: Vec<Export>,
    pub start: Option<u32>,
    /// Active data segments: (offset, byte range in the module).
    pub data: Vec<(u32, (usize, usize))>,
    /// Function names from the `name` section: (function index, name).
    pub names: Vec<(u32, String)>,
}

impl Module {
    /// Decodes and validates `bytes`.
    pub fn decode(bytes: &[u8]) -> Result<Module, Trap> {
        let mut r = Reader::new(bytes, 0);
        if r.take(4).map_err(|_| Trap::Malformed("not a WebAssembly module", 0))? != b"\0asm" {
            return Err(Trap::Malformed("not a WebAssembly module (no \\0asm magic)", 0));
        }
        if r.take(4)? != [1, 0, 0, 0] {
            return Err(Trap::Malformed("unsupported binary version", 4));
        }
        let mut m = Module::default();
        let mut func_types: Vec<u32> = Vec::new();
        while !r.at_end() {
            let id = r.byte()?;
            let len = r.u32()? as usize;
            let body_start = r.pos;
            let body = r.take(len)?;
            let mut s = Reader::new(&bytes[..body_start + body.len()], body_start);
            match id {
                0 => m.custom(&mut s)?,
                1 => m.type_section(&mut s)?,
                2 => m.import_section(&mut s)?,
                3 => func_types = vector(&mut s, |s| s.u32())?,
                4 => return Err(s.err("tables are not supported")),
                5 => m.memory_section(&mut s)?,
                6 => m.globals = vector(&mut s, global)?,
                7 => m.exports = vector(&mut s, export)?.into_iter().flatten().collect(),
                8 => m.start = Some(s.u32()?),
                9 => return Err(s.err("element segments are not supported")),
                10 => m.code_section(&mut s, &func_types)?,
                11 => m.data = vector(&mut s, data_segment)?,
                12 => {
                    s.u32()?;
                }
                _ => return Err(Trap::Malformed("unknown section", body_start - 1)),
            }
            if id != 0 && s.pos != body_start + len {
                return Err(Trap::Malformed("section size mismatch", body_start));
            }
        }
        if func_types.len() != m.funcs.len() {
            return Err(Trap::Malformed("function and code sections differ in length", r.pos));
        }
        m.check_indices(bytes.len())?;
        for f in 0..m.funcs.len() {
            let side = validate(&m, bytes, f)?;
            m.funcs[f].side = side;
        }
        Ok(m)
    }

    /// Number of functions, imports included.
    pub fn func_count(&self) -> usize {
        self.imports.len() + self.funcs.len()
    }

    /// The type of function `index` (imports first).
    pub fn func_type(&self, index: u32) -> Option<&FuncType> {
        let index = index as usize;
        let ty = match index.checked_sub(self.imports.len()) {
            None => self.imports.get(index)?.type_index,
            Some(local) => self.funcs.get(local)?.type_index,
        };
        self.types.get(ty as usize)
    }

    /// The name of function `index`: from the `name` section, else the import's or an export's name.
    pub fn func_name(&self, index: u32) -> Option<&str> {
        if let Some((_, n)) = self.names.iter().find(|(i, _)| *i == index) {
            return Some(n);
        }
        if let Some(import) = self.imports.get(index as usize) {
            return Some(&import.name);
        }
        self.exports.iter().find(|e| e.func == index).map(|e| e.name.as_str())
    }

    /// The exported function `name`.
    pub fn export(&self, name: &str) -> Option<u32> {
        self.exports.iter().find(|e| e.name == name).map(|e| e.func)
    }

    fn custom(&mut self, s: &mut Reader) -> Result<(), Trap> {
        let name = s.name()?;
        if name == "name" {
            // A damaged name section loses the names, never the module (custom sections are optional).
            let mut names = s.clone();
            if let Ok(found) = function_names(&mut names) {
                self.names = found;
            }
        }
        s.pos = s.bytes.len();
        Ok(())
    }

    fn type_section(&mut self, s: &mut Reader) -> Result<(), Trap> {
        self.types = vector(s, |s| {
            if s.byte()? != 0x60 {
                return Err(s.err("bad function type"));
            }
            let params = vector(s, valtype)?;
            let results = vector(s, valtype)?;
            if results.len() > 1 {
                return Err(s.err("multiple results are not supported"));
            }
            Ok(FuncType { params, results })
        })?;
        Ok(())
    }

    fn import_section(&mut self, s: &mut Reader) -> Result<(), Trap> {
        self.imports = vector(s, |s| {
            let module = String::from(s.name()?);
            let name = String::from(s.name()?);
            match s.byte()? {
                0 => Ok(Import { module, name, type_index: s.u32()? }),
                _ => Err(s.err("only functions can be imported")),
            }
        })?;
        Ok(())
    }

    fn memory_section(&mut self, s: &mut Reader) -> Result<(), Trap> {
        let limits = vector(s, |s| {
            let flags = s.byte()?;
            let min = s.u32()?;
            let max = match flags {
                0 => MAX_PAGES,
                1 => s.u32()?,
                _ => return Err(s.err("unsupported memory limits")),
            };
            if min > max || min > MAX_PAGES {
                return Err(s.err("memory larger than the interpreter allows"));
            }
            Ok((min, max.min(MAX_PAGES)))
        })?;
        if limits.len() > 1 {
            return Err(s.err("more than one memory"));
        }
        self.memory = limits.first().copied();
        Ok(())
    }

    fn code_section(&mut self, s: &mut Reader, func_types: &[u32]) -> Result<(), Trap> {
        let count = s.u32()? as usize;
        if count != func_types.len() {
            return Err(s.err("function and code sections differ in length"));
        }
        let mut total_locals = 0usize;
        for &type_index in func_types {
            let size = s.u32()? as usize;
            let end = s.pos.checked_add(size).filter(|&e| e <= s.bytes.len()).ok_or(s.err("body past the section"))?;
            let mut locals = Vec::new();
            for _ in 0..s.u32()? {
                let n = s.u32()?;
                let ty = valtype(s)?;
                // Bounded per function and per module: a few bytes must not claim megabytes of heap.
                total_locals += n as usize;
                if locals.len() + n as usize > MAX_LOCALS || total_locals > MAX_LOCALS {
                    return Err(s.err("too many locals"));
                }
                locals.extend(core::iter::repeat_n(ty, n as usize));
            }
            if s.pos >= end {
                return Err(s.err("empty function body"));
            }
            self.funcs.push(Func { type_index, locals, code: (s.pos, end), side: SideTable::default() });
            s.pos = end;
        }
        Ok(())
    }

    fn check_indices(&self, len: usize) -> Result<(), Trap> {
        let types = self.types.len() as u32;
        if self.imports.iter().any(|i| i.type_index >= types) || self.funcs.iter().any(|f| f.type_index >= types) {
            return Err(Trap::Malformed("type index out of range", len));
        }
        let count = self.func_count() as u32;
        if self.exports.iter().any(|e| e.func >= count) {
            return Err(Trap::Malformed("exported function index out of range", len));
        }
        if let Some(start) = self.start {
            let ty = self.func_type(start).ok_or(Trap::Malformed("start function index out of range", len))?;
            if !ty.params.is_empty() || !ty.results.is_empty() {
                return Err(Trap::Malformed("start function takes or returns values", len));
            }
        }
        if !self.data.is_empty() && self.memory.is_none() {
            return Err(Trap::Malformed("data segment without a memory", len));
        }
        Ok(())
    }
}

/// A vector: a u32 count, then that many items.
fn vector<'a, T>(s: &mut Reader<'a>, mut item: impl FnMut(&mut Reader<'a>) -> Result<T, Trap>) -> Result<Vec<T>, Trap> {
    let n = s.u32()? as usize;
    if n > s.bytes.len() - s.pos.min(s.bytes.len()) {
        return Err(s.err("vector longer than its section"));
    }
    (0..n).map(|_| item(s)).collect()
}

/// A constant expression: `i32.const`/`i64.const` then `end`.
fn const_expr(s: &mut Reader) -> Result<u64, Trap> {
    let value = match s.byte()? {
        0x41 => s.i32()? as u32 as u64,
        0x42 => s.i64()? as u64,
        _ => return Err(s.err("unsupported constant expression")),
    };
    if s.byte()? != 0x0B {
        return Err(s.err("constant expression without end"));
    }
    Ok(value)
}

fn global(s: &mut Reader) -> Result<Global, Trap> {
    let ty = valtype(s)?;
    let mutable = match s.byte()? {
        0 => false,
        1 => true,
        _ => return Err(s.err("bad global mutability")),
    };
    Ok(Global { ty, mutable, init: const_expr(s)? })
}

fn export(s: &mut Reader) -> Result<Option<Export>, Trap> {
    let name = String::from(s.name()?);
    let kind = s.byte()?;
    let index = s.u32()?;
    Ok((kind == 0).then_some(Export { name, func: index }))
}

fn data_segment(s: &mut Reader) -> Result<(u32, (usize, usize)), Trap> {
    if s.u32()? != 0 {
        return Err(s.err("only active data segments of memory 0 are supported"));
    }
    let offset = const_expr(s)? as u32;
    let n = s.u32()? as usize;
    let start = s.pos;
    s.take(n)?;
    Ok((offset, (start, start + n)))
}

/// Subsection 1 (function names) of the `name` section.
fn function_names(s: &mut Reader) -> Result<Vec<(u32, String)>, Trap> {
    while !s.at_end() {
        let id = s.byte()?;
        let len = s.u32()? as usize;
        let end = s.pos + len;
        if id == 1 {
            return vector(s, |s| Ok((s.u32()?, String::from(s.name()?))));
        }
        s.take(len)?;
        s.pos = end;
    }
    Ok(Vec::new())
}
