//! The ramdisk: the tar archive the loader hands over as the first PVH module,
//! mounted read-only at `/ram`.
//!
//! [`locate`] reads the module list of the PVH start info (QEMU's `-initrd`,
//! the emulator's `--initrd`) into [`RUSTOS_RAMDISK`] before the frame
//! allocator is built, which then keeps the module's frames ([`range`]);
//! [`mount`] checks every tar header once. The archive is read in place
//! through the physical window (`layout::PHYS_OFFSET`), never copied. A
//! corrupt archive is logged in one line and leaves `/ram` unmounted; the
//! kernel goes on. [`RUSTOS_RAMDISK`] is documented in docs/kernel-structures.md.

use crate::layout::PHYS_OFFSET;
use core::ptr::{addr_of, addr_of_mut};
use rustos_core::tar::Archive;

/// Magic of [`Ramdisk`]: "RDSK".
pub const RAMDISK_MAGIC: u32 = u32::from_le_bytes(*b"RDSK");
/// Layout version of [`Ramdisk`].
pub const RAMDISK_VERSION: u32 = 1;
/// Where the ramdisk is mounted.
pub const MOUNT_POINT: &str = "/ram";

/// [`Ramdisk::state`]: no module was handed over.
pub const STATE_ABSENT: u32 = 0;
/// [`Ramdisk::state`]: the archive is mounted.
pub const STATE_MOUNTED: u32 = 1;
/// [`Ramdisk::state`]: the archive is corrupt (not mounted).
pub const STATE_CORRUPT: u32 = 2;

/// What the kernel knows of the ramdisk.
#[repr(C)]
pub struct Ramdisk {
    magic: u32,
    version: u32,
    /// Physical address of the module (0: none).
    pub phys: u64,
    /// Size of the module in bytes.
    pub size: u64,
    /// Number of modules the loader listed (only the first is used).
    pub module_count: u32,
    /// `STATE_ABSENT`, `STATE_MOUNTED` or `STATE_CORRUPT`.
    pub state: u32,
    /// Members in the archive (when mounted).
    pub files: u32,
    _pad: u32,
}

/// The ramdisk, filled by [`locate`] and [`mount`].
#[no_mangle]
pub static mut RUSTOS_RAMDISK: Ramdisk = Ramdisk {
    magic: RAMDISK_MAGIC,
    version: RAMDISK_VERSION,
    phys: 0,
    size: 0,
    module_count: 0,
    state: STATE_ABSENT,
    files: 0,
    _pad: 0,
};

fn get() -> &'static Ramdisk {
    // SAFETY: written only during boot, single threaded, before any reader runs.
    unsafe { &*addr_of!(RUSTOS_RAMDISK) }
}

/// Records the first module of the PVH start info at physical `start_info`
/// (its `nr_modules` at offset 12, `modlist_paddr` at 16; each entry is
/// paddr, size, cmdline_paddr, reserved).
pub fn locate(start_info: u64) {
    // SAFETY: `bootinfo::init` checked the start info there; the boot page tables map
    // the first GiB through the physical window, and we run single threaded.
    unsafe {
        let at = |addr: u64| ((PHYS_OFFSET + addr) as *const u64).read_volatile();
        let count = ((PHYS_OFFSET + start_info + 12) as *const u32).read_volatile();
        let rd = &mut *addr_of_mut!(RUSTOS_RAMDISK);
        rd.module_count = count;
        let list = at(start_info + 16);
        if count == 0 || list == 0 {
            return;
        }
        rd.phys = at(list);
        rd.size = at(list + 8);
    }
}

/// The module's physical range [start, end), when there is one.
pub fn range() -> Option<(u64, u64)> {
    let rd = get();
    (rd.phys != 0 && rd.size != 0).then(|| (rd.phys, rd.phys + rd.size))
}

/// Checks the archive's headers and mounts it at `/ram` (or logs why not).
pub fn mount() {
    let Some((start, end)) = range() else {
        log!(Info, "ramdisk: none (no PVH module)");
        return;
    };
    let checked = Archive::new(module_bytes()).validate();
    // SAFETY: boot, single threaded; readers run later.
    let rd = unsafe { &mut *addr_of_mut!(RUSTOS_RAMDISK) };
    match checked {
        Ok(files) => {
            rd.files = files as u32;
            rd.state = STATE_MOUNTED;
            log!(Info, "ramdisk: {} files at {:#x}-{:#x}, mounted at {}", files, start, end, MOUNT_POINT);
        }
        Err(e) => {
            rd.state = STATE_CORRUPT;
            log!(Warn, "ramdisk: {:#x}-{:#x} not mounted: {}", start, end, e);
        }
    }
}

fn module_bytes() -> &'static [u8] {
    let rd = get();
    // SAFETY: the frames of [phys, phys + size) stay reserved (frames::init) and are
    // mapped through the physical window; nothing writes them.
    unsafe { core::slice::from_raw_parts((PHYS_OFFSET + rd.phys) as *const u8, rd.size as usize) }
}

/// The mounted archive, or why there is none.
pub fn archive() -> Result<Archive<'static>, &'static str> {
    match get().state {
        STATE_MOUNTED => Ok(Archive::new(module_bytes())),
        STATE_CORRUPT => Err("the ramdisk is corrupt"),
        _ => Err("no ramdisk (boot with -initrd build/initrd.tar)"),
    }
}

/// The path inside the ramdisk of `path` when it names something under `/ram`
/// (`""` for `/ram` itself), else None.
pub fn inside(path: &str) -> Option<&str> {
    let rest = path.strip_prefix(MOUNT_POINT)?;
    if rest.is_empty() || rest == "/" {
        Some("")
    } else {
        rest.strip_prefix('/')
    }
}

/// The file at `path` (`/ram/NAME`): its bytes, or a one-line reason.
pub fn read(path: &str) -> Result<&'static [u8], &'static str> {
    let name = inside(path).filter(|n| !n.is_empty()).ok_or("not a file under /ram")?;
    match archive()?.find(name) {
        Ok(Some(entry)) => Ok(entry.data),
        Ok(None) => Err("no such file"),
        Err(_) => Err("the ramdisk is corrupt"),
    }
}
