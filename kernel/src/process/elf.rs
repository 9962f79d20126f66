//! The ELF64 loader for static x86_64 user programs (System V gABI, ELF-64
//! object file format): checks the header, then maps each PT_LOAD segment into
//! an address space in fresh frames with its own permissions (R, R+W or R+X:
//! a segment both writable and executable is refused, W^X).

use crate::layout::{PAGE_SIZE, PHYS_OFFSET};
use crate::memory::{frames, paging};
use x86_64::structures::paging::PageTableFlags as Flags;

/// Why a program that does not fit in the free frames is refused.
pub const TOO_BIG: &str = "program too big for memory";

/// End (exclusive) of the user half of the address space.
pub const USER_END: u64 = 0x0000_8000_0000_0000;

const PT_LOAD: u32 = 1;
const PF_X: u32 = 1;
const PF_W: u32 = 2;

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

/// One program header (the fields the loader uses).
#[derive(Debug, Clone, Copy)]
struct Segment {
    kind: u32,
    flags: u32,
    offset: u64,
    vaddr: u64,
    filesz: u64,
    memsz: u64,
}

/// Checks the ELF header of `image`; returns the entry point and the program headers' (offset, count, size).
fn header(image: &[u8]) -> Result<(u64, usize, usize, usize), &'static str> {
    if image.get(..4) != Some(b"\x7fELF") {
        return Err("not an ELF file");
    }
    if image.get(4) != Some(&2) || image.get(5) != Some(&1) {
        return Err("not a little-endian 64-bit ELF file");
    }
    let bad = "truncated ELF header";
    if u16_at(image, 16).ok_or(bad)? != 2 || u16_at(image, 18).ok_or(bad)? != 0x3E {
        return Err("not a static x86_64 executable");
    }
    let entry = u64_at(image, 24).ok_or(bad)?;
    let phoff = u64_at(image, 32).ok_or(bad)? as usize;
    let phentsize = u16_at(image, 54).ok_or(bad)? as usize;
    let phnum = u16_at(image, 56).ok_or(bad)? as usize;
    if phentsize < 56 {
        return Err("bad program header size");
    }
    Ok((entry, phoff, phnum, phentsize))
}

fn segment(image: &[u8], at: usize) -> Option<Segment> {
    Some(Segment {
        kind: u32_at(image, at)?,
        flags: u32_at(image, at + 4)?,
        offset: u64_at(image, at + 8)?,
        vaddr: u64_at(image, at + 16)?,
        filesz: u64_at(image, at + 32)?,
        memsz: u64_at(image, at + 40)?,
    })
}

fn check(image: &[u8], s: &Segment) -> Result<(), &'static str> {
    if s.flags & PF_W != 0 && s.flags & PF_X != 0 {
        return Err("a segment is both writable and executable (W^X)");
    }
    let end = s.vaddr.checked_add(s.memsz).ok_or("segment wraps around")?;
    if s.vaddr < PAGE_SIZE || end > USER_END {
        return Err("segment outside user space");
    }
    if s.filesz > s.memsz || s.offset.checked_add(s.filesz).map_or(true, |e| e > image.len() as u64) {
        return Err("segment outside the file");
    }
    Ok(())
}

/// Maps `s` into the address space at `pml4`, page by page, in zeroed frames
/// holding the file's bytes.
fn load_segment(pml4: u64, image: &[u8], s: &Segment) -> Result<(), &'static str> {
    let mut flags = Flags::PRESENT;
    if s.flags & PF_W != 0 {
        flags |= Flags::WRITABLE;
    }
    if s.flags & PF_X == 0 {
        flags |= Flags::NO_EXECUTE;
    }
    let mut page = s.vaddr & !(PAGE_SIZE - 1);
    while page < s.vaddr + s.memsz {
        let frame = frames::allocate().ok_or(TOO_BIG)?;
        // SAFETY: a fresh frame, reached through the physical window.
        let bytes = unsafe { core::slice::from_raw_parts_mut((PHYS_OFFSET + frame) as *mut u8, PAGE_SIZE as usize) };
        bytes.fill(0);
        // The file bytes [offset, offset + filesz) land at [vaddr, vaddr + filesz).
        let from = page.max(s.vaddr);
        let to = (page + PAGE_SIZE).min(s.vaddr + s.filesz);
        if from < to {
            let file = (s.offset + (from - s.vaddr)) as usize;
            bytes[(from - page) as usize..(to - page) as usize].copy_from_slice(&image[file..file + (to - from) as usize]);
        }
        if paging::map_user(pml4, page, frame, flags).is_err() {
            frames::free(frame);
            return Err("segments overlap or memory ran out");
        }
        page += PAGE_SIZE;
    }
    Ok(())
}

/// Loads `image` into the (empty) user half of the address space at `pml4`;
/// returns the entry point. On error, what was mapped stays for the caller to
/// free with the address space.
pub fn load(pml4: u64, image: &[u8]) -> Result<u64, &'static str> {
    let (entry, phoff, phnum, phentsize) = header(image)?;
    let mut pages = 0u64;
    for i in 0..phnum {
        let s = segment(image, phoff + i * phentsize).ok_or("truncated program headers")?;
        if s.kind == PT_LOAD && s.memsz != 0 {
            check(image, &s)?;
            pages += (s.vaddr + s.memsz).div_ceil(PAGE_SIZE) - s.vaddr / PAGE_SIZE;
        }
    }
    // The segments' pages must fit in the free frames (the stack and page tables need more).
    if pages >= frames::counts().0 {
        return Err(TOO_BIG);
    }
    let mut loaded = 0;
    for i in 0..phnum {
        let s = segment(image, phoff + i * phentsize).ok_or("truncated program headers")?;
        if s.kind != PT_LOAD || s.memsz == 0 {
            continue;
        }
        check(image, &s)?;
        load_segment(pml4, image, &s)?;
        loaded += 1;
    }
    if loaded == 0 {
        return Err("no loadable segment");
    }
    match paging::translate_in(pml4, entry) {
        Some((_, flags)) if !flags.contains(Flags::NO_EXECUTE) => Ok(entry),
        _ => Err("entry point is not in an executable segment"),
    }
}
