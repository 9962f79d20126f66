//! The 4-level page tables: map, unmap, translate, invlpg, the kernel's remap,
//! and user address spaces (a PML4 sharing the kernel's entries).
//!
//! Page tables are reached through the physical-memory window at
//! `PHYS_OFFSET`, with the `x86_64` crate's `OffsetPageTable`. At boot,
//! [`remap_kernel`] builds fresh tables (the physical window with 2 MiB pages,
//! the kernel's sections with 4 KiB pages and their real permissions, the stack
//! guard pages left out) and switches CR3 to them.

use super::frames::{self, GlobalFrames};
use crate::layout::{self, KERNEL_BASE, PAGE_SIZE, PHYS_OFFSET};
use crate::sync::IrqMutex;
use x86_64::registers::control::{Cr3, Cr4, Cr4Flags};
use x86_64::structures::paging::mapper::{MapToError, Translate, TranslateResult};
use x86_64::structures::paging::{
    Mapper, OffsetPageTable, Page, PageTable, PageTableFlags as Flags, PhysFrame, Size2MiB, Size4KiB,
};
use x86_64::{PhysAddr, VirtAddr};

/// Serialises changes to the active page tables.
static MAPPER_LOCK: IrqMutex<()> = IrqMutex::new(());

/// Why a mapping failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MapError {
    /// No frame was left for a page table.
    OutOfFrames,
    /// The page is mapped already.
    AlreadyMapped,
    /// A huge page covers the address.
    HugePage,
}

/// The page table at physical `phys`, through the physical window.
///
/// # Safety
/// `phys` must be the 4 KiB-aligned address of a frame that holds a page table
/// (or is being made one) and is covered by the physical window, and the
/// caller must not let two live references to the same table overlap: the
/// callers hold `MAPPER_LOCK` (or run before interrupts are on, at boot).
unsafe fn table_at(phys: u64) -> &'static mut PageTable {
    // SAFETY: the caller's guarantee: the window maps the frame, which holds a
    // properly aligned `PageTable`, and no other reference to it is live.
    unsafe { &mut *((PHYS_OFFSET + phys) as *mut PageTable) }
}

/// A mapper over the 4-level tables whose PML4 is at physical `pml4_phys`.
///
/// # Safety
/// As for [`table_at`], for the PML4 and every table it reaches: all of them
/// are in RAM covered by the physical window, and only this mapper changes
/// them while it lives.
unsafe fn mapper_for(pml4_phys: u64) -> OffsetPageTable<'static> {
    // SAFETY: the caller's guarantee; PHYS_OFFSET maps all physical memory,
    // as `OffsetPageTable::new` requires.
    unsafe { OffsetPageTable::new(table_at(pml4_phys), VirtAddr::new(PHYS_OFFSET)) }
}

/// Physical address of the active PML4 (CR3).
pub fn active_pml4() -> u64 {
    Cr3::read().0.start_address().as_u64()
}

fn map_error<S: x86_64::structures::paging::PageSize>(e: MapToError<S>) -> MapError {
    match e {
        MapToError::FrameAllocationFailed => MapError::OutOfFrames,
        MapToError::PageAlreadyMapped(_) => MapError::AlreadyMapped,
        MapToError::ParentEntryHugePage => MapError::HugePage,
    }
}

/// Maps the 4 KiB page at `virt` to the frame at `phys` in the active tables, and flushes it.
pub fn map(virt: u64, phys: u64, flags: Flags) -> Result<(), MapError> {
    let _guard = MAPPER_LOCK.lock();
    let page = Page::<Size4KiB>::containing_address(VirtAddr::new(virt));
    let frame = PhysFrame::containing_address(PhysAddr::new(phys));
    // SAFETY: the caller owns the frame; the mapper flushes the TLB entry.
    unsafe {
        mapper_for(active_pml4()).map_to(page, frame, flags | Flags::PRESENT, &mut GlobalFrames).map_err(map_error)?.flush();
    }
    Ok(())
}

/// Unmaps the 4 KiB page at `virt` and flushes it (`invlpg`); returns the frame it mapped.
pub fn unmap(virt: u64) -> Option<u64> {
    let _guard = MAPPER_LOCK.lock();
    let page = Page::<Size4KiB>::containing_address(VirtAddr::new(virt));
    // SAFETY: the caller no longer uses the page.
    let (frame, flush) = unsafe { mapper_for(active_pml4()).unmap(page).ok()? };
    flush.ignore();
    invlpg(virt);
    Some(frame.start_address().as_u64())
}

/// Invalidates the TLB entry of `virt`.
pub fn invlpg(virt: u64) {
    x86_64::instructions::tlb::flush(VirtAddr::new(virt));
}

/// The physical address `virt` translates to, with the leaf entry's flags.
pub fn translate(virt: u64) -> Option<(u64, Flags)> {
    translate_in(active_pml4(), virt)
}

/// One level of a page walk, for the shell's `page` command.
#[derive(Debug, Clone, Copy)]
pub struct WalkStep {
    /// 4 = PML4 ... 1 = PT.
    pub level: u8,
    /// Index into the table at that level.
    pub index: u16,
    /// Physical address of the entry.
    pub entry_addr: u64,
    /// The entry's raw value.
    pub entry: u64,
}

/// Walks the active tables for `virt`: up to four steps, stopping at a
/// missing entry or a huge page. Returns the steps and how many are valid.
pub fn walk(virt: u64) -> ([WalkStep; 4], usize) {
    let mut steps = [WalkStep { level: 0, index: 0, entry_addr: 0, entry: 0 }; 4];
    let mut table = active_pml4();
    for (n, level) in (1..=4u8).rev().enumerate() {
        let index = ((virt >> (12 + 9 * (level as u64 - 1))) & 0x1FF) as u16;
        let entry_addr = table + index as u64 * 8;
        // SAFETY: page tables live in RAM, visible through the physical window.
        let entry = unsafe { ((PHYS_OFFSET + entry_addr) as *const u64).read_volatile() };
        steps[n] = WalkStep { level, index, entry_addr, entry };
        let present = entry & 1 != 0;
        let huge = level > 1 && entry & 0x80 != 0;
        if !present || huge || level == 1 {
            return (steps, n + 1);
        }
        table = entry & 0x000F_FFFF_FFFF_F000;
    }
    (steps, 4)
}

/// A new PML4 for a user address space: the kernel's entries (its half, the
/// heap) copied from the PML4 at `kernel_pml4`, so the kernel stays mapped
/// while the process runs; the rest is empty. Returns its physical address.
pub fn new_address_space(kernel_pml4: u64) -> Option<u64> {
    let pml4 = frames::allocate()?;
    let _guard = MAPPER_LOCK.lock();
    // SAFETY: `pml4` is a fresh frame, `kernel_pml4` a live PML4; both are in
    // the physical window, and the lock keeps other mappers away.
    unsafe {
        let (new, kernel) = (table_at(pml4), table_at(kernel_pml4));
        new.zero();
        for i in 0..512 {
            new[i] = kernel[i].clone();
        }
    }
    Some(pml4)
}

/// Maps the page at `virt` to the frame at `phys` in the address space whose
/// PML4 is at `pml4`, user accessible (the tables on the way too).
pub fn map_user(pml4: u64, virt: u64, phys: u64, flags: Flags) -> Result<(), MapError> {
    let _guard = MAPPER_LOCK.lock();
    let page = Page::<Size4KiB>::containing_address(VirtAddr::new(virt));
    let frame = PhysFrame::containing_address(PhysAddr::new(phys));
    let parents = Flags::PRESENT | Flags::WRITABLE | Flags::USER_ACCESSIBLE;
    // SAFETY: the caller owns the frame; the lock serialises table changes; a
    // stale TLB entry cannot exist for a page that was not mapped.
    unsafe {
        mapper_for(pml4)
            .map_to_with_table_flags(page, frame, flags | Flags::PRESENT | Flags::USER_ACCESSIBLE, parents, &mut GlobalFrames)
            .map_err(map_error)?
            .ignore();
    }
    Ok(())
}

/// Frees a user address space: every frame that its user-accessible PML4
/// entries reach (pages and tables), then the PML4. It must not be active.
pub fn free_address_space(pml4: u64) {
    let _guard = MAPPER_LOCK.lock();
    // SAFETY: the address space is not in use (not in CR3, its thread is
    // finished); user-accessible entries lead only to frames the process owns.
    unsafe { free_user_tables(pml4, 4) };
    frames::free(pml4);
}

/// Frees the frames below the user-accessible entries of the table at `table`
/// (level 4 = PML4 ... 1 = PT); leaves the table itself.
///
/// # Safety
/// As for [`table_at`]; nothing else uses the frames reached.
unsafe fn free_user_tables(table: u64, level: u8) {
    for i in 0..512 {
        // SAFETY: the caller's guarantee.
        let entry = unsafe { table_at(table)[i].clone() };
        let flags = entry.flags();
        if !flags.contains(Flags::PRESENT | Flags::USER_ACCESSIBLE) {
            continue;
        }
        let next = entry.addr().as_u64();
        if level > 1 && !flags.contains(Flags::HUGE_PAGE) {
            // SAFETY: a user table, owned by this address space.
            unsafe { free_user_tables(next, level - 1) };
        }
        frames::free(next);
    }
}

/// The physical address `virt` translates to in the address space whose PML4
/// is at `pml4`, with the leaf entry's flags.
pub fn translate_in(pml4: u64, virt: u64) -> Option<(u64, Flags)> {
    let addr = VirtAddr::try_new(virt).ok()?;
    // SAFETY: read-only walk.
    let mapper = unsafe { mapper_for(pml4) };
    match mapper.translate(addr) {
        TranslateResult::Mapped { frame, offset, flags } => Some((frame.start_address().as_u64() + offset, flags)),
        _ => None,
    }
}

/// Builds the kernel's own page tables and switches to them.
pub fn remap_kernel() {
    let pml4 = frames::allocate().expect("no frame for the PML4");
    // SAFETY: the new tables are built in fresh frames (visible through the boot
    // tables' physical window, which covers the first GiB where the allocator
    // starts) and cover everything the kernel touches before CR3 changes.
    unsafe {
        table_at(pml4).zero();
        let mut mapper = mapper_for(pml4);
        let ram_end = frames::total_bytes();
        let window = Flags::PRESENT | Flags::WRITABLE | Flags::NO_EXECUTE | Flags::GLOBAL;
        let mut phys = 0;
        while phys < ram_end {
            let page = Page::<Size2MiB>::containing_address(VirtAddr::new(PHYS_OFFSET + phys));
            let frame = PhysFrame::<Size2MiB>::containing_address(PhysAddr::new(phys));
            mapper.map_to(page, frame, window, &mut GlobalFrames).expect("physical window").ignore();
            phys += 2 << 20;
        }
        let guards = crate::stacks::guard_pages();
        for (name, start, end) in layout::kernel_sections() {
            let flags = match name {
                "text" => Flags::PRESENT | Flags::GLOBAL,
                "rodata" => Flags::PRESENT | Flags::NO_EXECUTE | Flags::GLOBAL,
                _ => Flags::PRESENT | Flags::WRITABLE | Flags::NO_EXECUTE | Flags::GLOBAL,
            };
            let mut virt = start;
            while virt < end {
                if !guards.contains(&virt) {
                    let page = Page::<Size4KiB>::containing_address(VirtAddr::new(virt));
                    let frame = PhysFrame::containing_address(PhysAddr::new(virt - KERNEL_BASE));
                    mapper.map_to(page, frame, flags, &mut GlobalFrames).expect("kernel section").ignore();
                }
                virt += PAGE_SIZE;
            }
        }
        Cr4::update(|f| f.insert(Cr4Flags::PAGE_GLOBAL));
        let (_, cr3_flags) = Cr3::read();
        Cr3::write(PhysFrame::containing_address(PhysAddr::new(pml4)), cr3_flags);
    }
    log!(Info, "paging: kernel remapped (text RX, rodata R NX, data RW NX, {} guard pages), PML4 at {:#x}", crate::stacks::guard_pages().len(), pml4);
}
