//! Running an instance: linear memory, globals, the operand and call stacks,
//! fuel, and the [`ExecView`] a debugger reads while it runs.

use super::leb::Reader;
use super::module::{FuncType, Module};
use super::validate::{access_width, block_type, is_plain_numeric};
use super::{ops, Trap, MAX_PAGES, PAGE};
use alloc::vec;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering::Relaxed};

/// Deepest call nesting (frames); one more is [`Trap::StackOverflow`].
pub const MAX_DEPTH: usize = 64;
/// Most operand-stack values (locals included).
const MAX_VALUES: usize = 1 << 16;

/// What a running instance shows the outside, updated as it runs: written
/// with relaxed atomic stores so that every update reaches memory (a debugger
/// stops the machine at any instruction). `#[repr(C)]`: the kernel embeds it
/// in a structure documented in docs/kernel-structures.md.
#[repr(C)]
pub struct ExecView {
    /// Fuel (instructions) allowed for this run.
    pub fuel_limit: AtomicU64,
    /// Instructions executed in this run.
    pub fuel_used: AtomicU64,
    /// Address of linear memory (0: none).
    pub memory_addr: AtomicU64,
    /// Linear memory size in 64 KiB pages.
    pub memory_pages: AtomicU32,
    /// Frames on the call stack (entries of `stack` in use).
    pub depth: AtomicU32,
    /// The call stack, outermost first: function indices (imports counted first).
    pub stack: [AtomicU32; MAX_DEPTH],
}

impl ExecView {
    /// An empty view.
    pub const fn new() -> Self {
        ExecView {
            fuel_limit: AtomicU64::new(0),
            fuel_used: AtomicU64::new(0),
            memory_addr: AtomicU64::new(0),
            memory_pages: AtomicU32::new(0),
            depth: AtomicU32::new(0),
            stack: [const { AtomicU32::new(0) }; MAX_DEPTH],
        }
    }
}

impl Default for ExecView {
    fn default() -> Self {
        Self::new()
    }
}

/// The embedder's functions that modules import.
pub trait Host {
    /// The host function for import `module.name` of type `ty`, or None (a missing import).
    fn resolve(&mut self, module: &str, name: &str, ty: &FuncType) -> Option<usize>;
    /// Calls host function `index` (from [`Host::resolve`]) with `args`; `memory` is
    /// the caller's linear memory. Returns the result, if the type has one.
    fn call(&mut self, index: usize, args: &[u64], memory: &mut [u8]) -> Result<Option<u64>, Trap>;
}

/// An instantiated module.
pub struct Instance<'m> {
    module: &'m Module,
    bytes: &'m [u8],
    /// For each import, the host's function index.
    host_funcs: Vec<usize>,
    /// Linear memory.
    pub memory: Vec<u8>,
    globals: Vec<u64>,
}

struct Label {
    height: usize,
    arity: usize,
    /// Where a branch to it goes.
    target: usize,
    is_loop: bool,
}

struct Frame {
    func: u32,
    pc: usize,
    locals: usize,
    labels: usize,
    results: usize,
}

impl<'m> Instance<'m> {
    /// Instantiates `module` (decoded from `bytes`): imports resolved through
    /// `host`, memory allocated and its data segments copied, globals set.
    pub fn new(module: &'m Module, bytes: &'m [u8], host: &mut dyn Host) -> Result<Self, Trap> {
        let mut host_funcs = Vec::with_capacity(module.imports.len());
        for import in &module.imports {
            let ty = &module.types[import.type_index as usize];
            let index = host
                .resolve(&import.module, &import.name, ty)
                .ok_or_else(|| Trap::MissingImport(import.module.clone(), import.name.clone()))?;
            host_funcs.push(index);
        }
        let pages = module.memory.map_or(0, |(min, _)| min) as usize;
        let mut memory = vec![0u8; pages * PAGE];
        for &(offset, (start, end)) in &module.data {
            let at = offset as usize;
            let dst = memory.get_mut(at..at + (end - start)).ok_or(Trap::OutOfBounds(offset as u64, (end - start) as u32))?;
            dst.copy_from_slice(&bytes[start..end]);
        }
        let globals = module.globals.iter().map(|g| g.init).collect();
        Ok(Instance { module, bytes, host_funcs, memory, globals })
    }

    /// Runs exported function `name` with `args` (see [`Instance::invoke`]).
    pub fn call(&mut self, name: &str, args: &[u64], host: &mut dyn Host, view: &ExecView) -> Result<Option<u64>, Trap> {
        let func = self.module.export(name).ok_or_else(|| Trap::NoExport(name.into()))?;
        self.invoke(func, args, host, view)
    }

    /// Runs function `func` with `args`, counting fuel in `view` (its
    /// `fuel_limit` is the limit, its `fuel_used` goes on from where it is).
    /// After a trap, `view`'s call stack is the one that trapped.
    pub fn invoke(&mut self, func: u32, args: &[u64], host: &mut dyn Host, view: &ExecView) -> Result<Option<u64>, Trap> {
        self.publish_memory(view);
        let mut stack: Vec<u64> = Vec::with_capacity(256);
        stack.extend_from_slice(args);
        let ty = self.module.func_type(func).ok_or(Trap::Malformed("no such function", 0))?;
        if ty.params.len() != args.len() {
            return Err(Trap::Host("wrong number of arguments"));
        }
        let mut frames: Vec<Frame> = Vec::new();
        let mut labels: Vec<Label> = Vec::new();
        let base_depth = view.depth.load(Relaxed) as usize;
        let result = self.run(func, &mut stack, &mut frames, &mut labels, host, view);
        // After a trap the call stack stays published: where it trapped, for the debugger.
        result?;
        view.depth.store(base_depth as u32, Relaxed);
        Ok(stack.pop().filter(|_| !ty.results.is_empty()))
    }

    fn publish_memory(&self, view: &ExecView) {
        view.memory_addr.store(self.memory.as_ptr() as u64 * (!self.memory.is_empty()) as u64, Relaxed);
        view.memory_pages.store((self.memory.len() / PAGE) as u32, Relaxed);
    }

    /// Enters function `func` (arguments on `stack`): a new frame, or a host call.
    fn enter(&mut self, func: u32, stack: &mut Vec<u64>, frames: &mut Vec<Frame>, labels: &mut Vec<Label>,
             host: &mut dyn Host, view: &ExecView) -> Result<(), Trap> {
        let ty = self.module.func_type(func).ok_or(Trap::Malformed("no such function", 0))?;
        let (params, results) = (ty.params.len(), ty.results.len());
        let base = stack.len().checked_sub(params).ok_or(Trap::BadStack(0))?;
        if let Some(&host_index) = self.host_funcs.get(func as usize) {
            let args: Vec<u64> = stack.drain(base..).collect();
            let result = host.call(host_index, &args, &mut self.memory)?;
            if results > 0 {
                stack.push(result.ok_or(Trap::Host("returned no value"))?);
            }
            return Ok(());
        }
        let depth = view.depth.load(Relaxed) as usize;
        if frames.len() >= MAX_DEPTH || depth >= MAX_DEPTH {
            return Err(Trap::StackOverflow);
        }
        let body = &self.module.funcs[func as usize - self.host_funcs.len()];
        if stack.len() + body.locals.len() > MAX_VALUES {
            return Err(Trap::StackOverflow);
        }
        stack.resize(stack.len() + body.locals.len(), 0);
        view.stack[depth].store(func, Relaxed);
        view.depth.store(depth as u32 + 1, Relaxed);
        labels.push(Label { height: stack.len(), arity: results, target: body.code.1, is_loop: false });
        frames.push(Frame { func, pc: body.code.0, locals: base, labels: labels.len() - 1, results });
        Ok(())
    }

    /// Leaves the current frame: its results replace its locals and operands.
    fn leave(stack: &mut Vec<u64>, frames: &mut Vec<Frame>, labels: &mut Vec<Label>, view: &ExecView, at: usize) -> Result<(), Trap> {
        let frame = frames.pop().ok_or(Trap::BadStack(at))?;
        if stack.len() < frame.locals + frame.results {
            return Err(Trap::BadStack(at));
        }
        if frame.results == 1 {
            stack[frame.locals] = stack[stack.len() - 1];
        }
        stack.truncate(frame.locals + frame.results);
        labels.truncate(frame.labels);
        view.depth.store(view.depth.load(Relaxed).saturating_sub(1), Relaxed);
        Ok(())
    }

    /// Branches to the label `depth` levels out (0: innermost); returns the new pc,
    /// or None when the branch leaves the function. Written with plain tests and
    /// no copy when the label takes no value: it is the interpreter's hottest path.
    fn branch(stack: &mut Vec<u64>, frame: &Frame, labels: &mut Vec<Label>, depth: u32, at: usize) -> Result<Option<usize>, Trap> {
        let depth = depth as usize;
        if depth >= labels.len() || labels.len() - 1 - depth < frame.labels {
            return Err(Trap::BadStack(at));
        }
        let index = labels.len() - 1 - depth;
        if index == frame.labels {
            return Ok(None);
        }
        let label = &labels[index];
        let (height, target, is_loop) = (label.height, label.target, label.is_loop);
        let arity = if is_loop { 0 } else { label.arity };
        if stack.len() < height + arity {
            return Err(Trap::BadStack(at));
        }
        if arity == 1 {
            stack[height] = stack[stack.len() - 1];
        }
        stack.truncate(height + arity);
        labels.truncate(if is_loop { index + 1 } else { index });
        Ok(Some(target))
    }

    fn run(&mut self, func: u32, stack: &mut Vec<u64>, frames: &mut Vec<Frame>, labels: &mut Vec<Label>,
           host: &mut dyn Host, view: &ExecView) -> Result<(), Trap> {
        self.enter(func, stack, frames, labels, host, view)?;
        let module = self.module;
        let limit = view.fuel_limit.load(Relaxed);
        let mut fuel = view.fuel_used.load(Relaxed);
        let mut r = Reader::new(self.bytes, 0);
        while let Some(frame) = frames.last_mut() {
            r.pos = frame.pc;
            let at = r.pos;
            if fuel >= limit {
                return Err(Trap::FuelExhausted(fuel));
            }
            fuel += 1;
            view.fuel_used.store(fuel, Relaxed);
            let op = r.byte()?;
            macro_rules! pop {
                () => {
                    stack.pop().ok_or(Trap::BadStack(at))?
                };
            }
            macro_rules! top {
                () => {
                    *stack.last_mut().ok_or(Trap::BadStack(at))?
                };
            }
            let local_base = frame.locals;
            match op {
                0x00 => return Err(Trap::Unreachable),
                0x01 => {}
                0x02 | 0x03 => {
                    let arity = block_type(&mut r)? as usize;
                    let func = &module.funcs[frame.func as usize - self.host_funcs.len()];
                    let (_, end) = *func.side.ends.get(&at).ok_or(Trap::BadStack(at))?;
                    let target = if op == 0x03 { r.pos } else { end + 1 };
                    labels.push(Label { height: stack.len(), arity, target, is_loop: op == 0x03 });
                }
                0x04 => {
                    let arity = block_type(&mut r)? as usize;
                    let cond = pop!() as u32;
                    let func = &module.funcs[frame.func as usize - self.host_funcs.len()];
                    let (else_at, end) = *func.side.ends.get(&at).ok_or(Trap::BadStack(at))?;
                    labels.push(Label { height: stack.len(), arity, target: end + 1, is_loop: false });
                    if cond == 0 {
                        match else_at {
                            Some(e) => r.pos = e + 1,
                            None => {
                                labels.pop();
                                r.pos = end + 1;
                            }
                        }
                    }
                }
                0x05 => {
                    // The end of an `if`'s then-arm: go past the `end`.
                    match Self::branch(stack, frame, labels, 0, at)? {
                        Some(pc) => r.pos = pc,
                        None => return Err(Trap::BadStack(at)),
                    }
                }
                0x0B => {
                    if labels.len() - 1 == frame.labels {
                        Self::leave(stack, frames, labels, view, at)?;
                        continue;
                    }
                    labels.pop();
                }
                0x0C | 0x0D => {
                    let depth = r.u32()?;
                    if op == 0x0C || pop!() as u32 != 0 {
                        match Self::branch(stack, frame, labels, depth, at)? {
                            Some(pc) => r.pos = pc,
                            None => {
                                Self::leave(stack, frames, labels, view, at)?;
                                continue;
                            }
                        }
                    }
                }
                0x0E => {
                    let n = r.u32()?;
                    let index = pop!() as u32;
                    let mut depth = 0;
                    for i in 0..=n {
                        let d = r.u32()?;
                        if i == index.min(n) {
                            depth = d;
                        }
                    }
                    match Self::branch(stack, frame, labels, depth, at)? {
                        Some(pc) => r.pos = pc,
                        None => {
                            Self::leave(stack, frames, labels, view, at)?;
                            continue;
                        }
                    }
                }
                0x0F => {
                    Self::leave(stack, frames, labels, view, at)?;
                    continue;
                }
                0x10 => {
                    let callee = r.u32()?;
                    frame.pc = r.pos;
                    view.fuel_used.store(fuel, Relaxed);
                    self.enter(callee, stack, frames, labels, host, view)?;
                    self.publish_memory(view);
                    continue;
                }
                0x1A => {
                    pop!();
                }
                0x1B => {
                    let cond = pop!() as u32;
                    let b = pop!();
                    if cond == 0 {
                        top!() = b;
                    }
                }
                0x20 => {
                    let i = local_base + r.u32()? as usize;
                    let v = *stack.get(i).ok_or(Trap::BadStack(at))?;
                    push(stack, v, at)?;
                }
                0x21 | 0x22 => {
                    let i = local_base + r.u32()? as usize;
                    let v = if op == 0x21 { pop!() } else { top!() };
                    *stack.get_mut(i).ok_or(Trap::BadStack(at))? = v;
                }
                0x23 => {
                    let v = *self.globals.get(r.u32()? as usize).ok_or(Trap::BadStack(at))?;
                    push(stack, v, at)?;
                }
                0x24 => {
                    let g = r.u32()? as usize;
                    let v = pop!();
                    *self.globals.get_mut(g).ok_or(Trap::BadStack(at))? = v;
                }
                0x28..=0x35 => {
                    r.u32()?;
                    let offset = r.u32()? as u64;
                    let addr = pop!() as u32 as u64 + offset;
                    let v = load(&self.memory, op, addr)?;
                    push(stack, v, at)?;
                }
                0x36..=0x3E => {
                    r.u32()?;
                    let offset = r.u32()? as u64;
                    let v = pop!();
                    let addr = pop!() as u32 as u64 + offset;
                    store(&mut self.memory, op, addr, v)?;
                }
                0x3F => {
                    r.byte()?;
                    push(stack, (self.memory.len() / PAGE) as u64, at)?;
                }
                0x40 => {
                    r.byte()?;
                    let delta = pop!() as u32;
                    let old = (self.memory.len() / PAGE) as u32;
                    let max = module.memory.map_or(0, |(_, max)| max).min(MAX_PAGES);
                    let result = match old.checked_add(delta).filter(|&n| n <= max) {
                        Some(new) => {
                            self.memory.resize(new as usize * PAGE, 0);
                            self.publish_memory(view);
                            old
                        }
                        None => u32::MAX,
                    };
                    push(stack, result as u64, at)?;
                }
                0x41 => {
                    let v = r.i32()? as u32 as u64;
                    push(stack, v, at)?;
                }
                0x42 => {
                    let v = r.i64()? as u64;
                    push(stack, v, at)?;
                }
                op if is_plain_numeric(op) => {
                    if ops::arity(op) == 1 {
                        top!() = ops::unary(op, top!());
                    } else {
                        let b = pop!();
                        top!() = ops::binary(op, top!(), b)?;
                    }
                }
                _ => return Err(Trap::Malformed("unsupported opcode", at)),
            }
            frame.pc = r.pos;
        }
        Ok(())
    }
}

fn push(stack: &mut Vec<u64>, v: u64, at: usize) -> Result<(), Trap> {
    if stack.len() >= MAX_VALUES {
        return Err(Trap::StackOverflow).map_err(|e| if at == usize::MAX { Trap::BadStack(at) } else { e });
    }
    stack.push(v);
    Ok(())
}

fn range(memory: &[u8], addr: u64, width: u32) -> Result<core::ops::Range<usize>, Trap> {
    let end = addr + width as u64;
    if end > memory.len() as u64 {
        return Err(Trap::OutOfBounds(addr, width));
    }
    Ok(addr as usize..end as usize)
}

fn load(memory: &[u8], op: u8, addr: u64) -> Result<u64, Trap> {
    let width = access_width(op);
    let bytes = &memory[range(memory, addr, width)?];
    let mut raw = [0u8; 8];
    raw[..bytes.len()].copy_from_slice(bytes);
    let v = u64::from_le_bytes(raw);
    Ok(match op {
        0x2C => v as u8 as i8 as i32 as u32 as u64,
        0x2E => v as u16 as i16 as i32 as u32 as u64,
        0x30 => v as u8 as i8 as i64 as u64,
        0x32 => v as u16 as i16 as i64 as u64,
        0x34 => v as u32 as i32 as i64 as u64,
        _ => v, // zero-extended: i32.load, i64.load, the _u loads
    })
}

fn store(memory: &mut [u8], op: u8, addr: u64, v: u64) -> Result<(), Trap> {
    let width = access_width(op);
    let r = range(memory, addr, width)?;
    memory[r].copy_from_slice(&v.to_le_bytes()[..width as usize]);
    Ok(())
}
