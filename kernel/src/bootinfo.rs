//! The boot information: the PVH start info, copied into a kernel structure.
//!
//! The loader leaves an `hvm_start_info` (Xen's `start_info.h`) in memory with
//! the command line and the memory map. [`init`] copies what the kernel needs
//! into [`RUSTOS_BOOT_INFO`], a `#[repr(C)]` structure documented in
//! `docs/kernel-structures.md`, before anything can reuse that memory.

use core::ptr::{addr_of, addr_of_mut};

/// Magic of the PVH start info.
pub const PVH_MAGIC: u32 = 0x336E_C578;
/// Magic of [`BootInfo`]: "BOOT".
pub const BOOT_INFO_MAGIC: u32 = u32::from_le_bytes(*b"BOOT");
/// Layout version of [`BootInfo`].
pub const BOOT_INFO_VERSION: u32 = 1;
/// Most memory-map entries kept.
pub const MAX_REGIONS: usize = 32;
/// Longest command line kept.
pub const MAX_CMDLINE: usize = 256;

/// Memory-map entry types (PVH / E820).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum RegionKind {
    Ram = 1,
    Reserved = 2,
    Acpi = 3,
    Nvs = 4,
    Unusable = 5,
}

/// One memory-map entry.
#[derive(Debug, Clone, Copy)]
#[repr(C)]
pub struct MemRegion {
    /// Physical start.
    pub start: u64,
    /// Length in bytes.
    pub size: u64,
    /// A [`RegionKind`] value.
    pub kind: u32,
    _pad: u32,
}

/// What the kernel keeps of the boot information.
#[repr(C)]
pub struct BootInfo {
    magic: u32,
    version: u32,
    /// Physical address of the loader's `hvm_start_info`.
    pub start_info_phys: u64,
    /// Virtual address of physical 0 (`layout::PHYS_OFFSET`).
    pub phys_offset: u64,
    /// Virtual address of the kernel's link base.
    pub kernel_base: u64,
    /// Physical start and end of the loaded kernel image.
    pub kernel_phys_start: u64,
    pub kernel_phys_end: u64,
    /// Length of `cmdline` in bytes.
    pub cmdline_len: u32,
    /// Number of valid entries in `regions`.
    pub region_count: u32,
    /// The command line (not NUL terminated).
    pub cmdline: [u8; MAX_CMDLINE],
    /// The memory map.
    pub regions: [MemRegion; MAX_REGIONS],
}

/// The boot information, filled by [`init`].
#[no_mangle]
pub static mut RUSTOS_BOOT_INFO: BootInfo = BootInfo {
    magic: BOOT_INFO_MAGIC,
    version: BOOT_INFO_VERSION,
    start_info_phys: 0,
    phys_offset: crate::layout::PHYS_OFFSET,
    kernel_base: crate::layout::KERNEL_BASE,
    kernel_phys_start: 0,
    kernel_phys_end: 0,
    cmdline_len: 0,
    region_count: 0,
    cmdline: [0; MAX_CMDLINE],
    regions: [MemRegion { start: 0, size: 0, kind: 0, _pad: 0 }; MAX_REGIONS],
};

fn phys<T>(addr: u64) -> *const T {
    (crate::layout::PHYS_OFFSET + addr) as *const T
}

/// Copies the PVH start info at physical `start_info` into [`RUSTOS_BOOT_INFO`].
/// Panics when the magic is wrong: nothing sensible can follow.
pub fn init(start_info: u64) {
    // SAFETY: the loader placed a start info there, and the boot page tables
    // map the first GiB through the physical window; we run single threaded.
    unsafe {
        let info = phys::<u32>(start_info);
        let magic = info.read_volatile();
        assert!(magic == PVH_MAGIC, "bad PVH start info magic {:#x} at {:#x}", magic, start_info);
        let version = phys::<u32>(start_info + 4).read_volatile();
        assert!(version >= 1, "PVH start info version {} has no memory map (version 1 needed)", version);
        let cmdline_paddr = phys::<u64>(start_info + 24).read_volatile();
        let memmap_paddr = phys::<u64>(start_info + 40).read_volatile();
        let memmap_entries = phys::<u32>(start_info + 48).read_volatile() as usize;
        assert!(memmap_paddr != 0 && memmap_entries != 0, "the PVH start info has no memory map");
        let bi = &mut *addr_of_mut!(RUSTOS_BOOT_INFO);
        bi.start_info_phys = start_info;
        bi.kernel_phys_start = crate::layout::kernel_phys_start();
        bi.kernel_phys_end = crate::layout::kernel_phys_end();
        if cmdline_paddr != 0 {
            let mut len = 0;
            while len < MAX_CMDLINE {
                let byte = phys::<u8>(cmdline_paddr + len as u64).read_volatile();
                if byte == 0 {
                    break;
                }
                bi.cmdline[len] = byte;
                len += 1;
            }
            bi.cmdline_len = len as u32;
        }
        let count = memmap_entries.min(MAX_REGIONS);
        for i in 0..count {
            let entry = memmap_paddr + (i * 24) as u64;
            bi.regions[i] = MemRegion {
                start: phys::<u64>(entry).read_volatile(),
                size: phys::<u64>(entry + 8).read_volatile(),
                kind: phys::<u32>(entry + 16).read_volatile(),
                _pad: 0,
            };
        }
        bi.region_count = count as u32;
    }
    log!(Info, "boot: cmdline \"{}\", {} memory regions", cmdline(), regions().len());
}

/// The boot information.
pub fn get() -> &'static BootInfo {
    // SAFETY: written once by `init` before anything reads it.
    unsafe { &*addr_of!(RUSTOS_BOOT_INFO) }
}

/// The kernel command line.
pub fn cmdline() -> &'static str {
    let bi = get();
    core::str::from_utf8(&bi.cmdline[..bi.cmdline_len as usize]).unwrap_or("")
}

/// The memory map.
pub fn regions() -> &'static [MemRegion] {
    let bi = get();
    &bi.regions[..bi.region_count as usize]
}

/// The name of a region type.
pub fn kind_name(kind: u32) -> &'static str {
    const KINDS: [(RegionKind, &str); 5] = [
        (RegionKind::Ram, "usable"),
        (RegionKind::Reserved, "reserved"),
        (RegionKind::Acpi, "ACPI"),
        (RegionKind::Nvs, "ACPI NVS"),
        (RegionKind::Unusable, "unusable"),
    ];
    KINDS.iter().find(|(k, _)| *k as u32 == kind).map_or("unknown", |(_, name)| name)
}
