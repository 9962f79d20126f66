//! The linear framebuffer of QEMU's standard VGA (PCI 1234:1111): found by PCI
//! enumeration, set to 1280x720x32 through the Bochs VBE registers, BAR0 mapped
//! write-combining at [`crate::layout::FRAMEBUFFER`], drawn on with the
//! primitives of [`draw`], and the text console mirrored on it with the 8x16
//! font while it is on ([`console`]).
//!
//! The API other modules (the shell, WASM programs) use: [`enable`], [`disable`],
//! [`is_on`], [`width`], [`height`], [`clear`], [`fill_rect`], [`pixel`],
//! [`line`], [`circle`], [`set_owner`]. Drawing while off does nothing.
//! The state is [`RUSTOS_FB`] (docs/kernel-structures.md §15).

pub mod color;
pub mod console;
pub mod draw;
pub mod font;
pub mod pci;
pub mod text;
pub mod vbe;

use crate::layout::{FRAMEBUFFER, PAGE_SIZE};
use crate::memory::paging;
use crate::sync::IrqMutex;
use console::Console;
use draw::Surface;
use x86_64::structures::paging::PageTableFlags as Flags;

/// The mode asked for.
pub const WANTED: (u16, u16, u16) = (1280, 720, 32);
/// "FBUF" as a little-endian u32.
pub const FB_MAGIC: u32 = 0x4655_4246;
/// Layout version of [`FbInfo`].
pub const FB_VERSION: u32 = 1;

/// Who draws on the framebuffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum Owner {
    /// Nobody: the text console (framebuffer off).
    Text = 0,
    /// The shell's `draw` commands.
    Shell = 1,
    /// A WASM program (set by its drawing host functions).
    Wasm = 2,
}

/// The framebuffer's state, for the debugger (`fb`): `#[repr(C)]`, 64 bytes.
#[derive(Debug, Clone, Copy)]
#[repr(C)]
pub struct FbInfo {
    /// [`FB_MAGIC`].
    pub magic: u32,
    /// [`FB_VERSION`].
    pub version: u32,
    /// 0: VGA text, 1: linear framebuffer.
    pub mode: u32,
    /// An [`Owner`].
    pub owner: u32,
    /// Pixels per line, lines, bits per pixel, bytes per line (0 until first enabled).
    pub width: u32,
    pub height: u32,
    pub bpp: u32,
    pub pitch: u32,
    /// BAR0: the framebuffer's physical address, and its size (BAR sizing).
    pub lfb_phys: u64,
    pub lfb_size: u64,
    /// Where the kernel maps it (0: not mapped yet).
    pub lfb_virt: u64,
    /// PCI slot of the VGA: bus << 16 | device << 8 | function.
    pub pci_slot: u32,
    /// Drawing operations done (primitives and console characters).
    pub draws: u32,
}

/// The framebuffer's state and its surface.
pub struct Fb {
    /// What the debugger reads.
    pub info: FbInfo,
    surface: Option<Surface>,
    console: Console,
}

/// The framebuffer (lock byte, then [`Fb`] whose first field is the [`FbInfo`]).
#[no_mangle]
pub static RUSTOS_FB: IrqMutex<Fb> = IrqMutex::new(Fb {
    info: FbInfo {
        magic: FB_MAGIC, version: FB_VERSION, mode: 0, owner: Owner::Text as u32, width: 0, height: 0, bpp: 0,
        pitch: 0, lfb_phys: 0, lfb_size: 0, lfb_virt: 0, pci_slot: 0, draws: 0,
    },
    surface: None,
    console: Console::new(),
});

/// Why the framebuffer cannot be turned on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FbError {
    /// No PCI device 1234:1111.
    NoDevice,
    /// The device does not answer the Bochs VBE registers.
    NoVbe,
    /// The device set a mode the kernel cannot draw on (not 32 bpp).
    BadMode,
    /// Mapping BAR0 failed.
    MapFailed,
}

impl FbError {
    /// The one-line reason.
    pub fn message(self) -> &'static str {
        match self {
            FbError::NoDevice => "no VGA device (PCI 1234:1111)",
            FbError::NoVbe => "the VGA has no Bochs VBE interface",
            FbError::BadMode => "the VGA did not set a 32-bit mode",
            FbError::MapFailed => "cannot map the framebuffer",
        }
    }
}

/// IA32_PAT with entry 1 (PWT=1) write-combining: entries WB, WC, UC-, UC, repeated.
const PAT_VALUE: u64 = 0x0007_0106_0007_0106;

/// Maps `len` bytes of the framebuffer at `phys` to [`FRAMEBUFFER`], write-combining.
fn map_lfb(phys: u64, len: u64) -> Result<(), FbError> {
    // SAFETY: entry 1 of the PAT is selected only by the framebuffer's pages (PWT, no PCD); the
    // other entries keep their power-on types.
    unsafe { x86_64::registers::model_specific::Msr::new(0x277).write(PAT_VALUE) };
    let flags = Flags::PRESENT | Flags::WRITABLE | Flags::NO_EXECUTE | Flags::WRITE_THROUGH | Flags::GLOBAL;
    let mut offset = 0;
    while offset < len {
        match paging::map(FRAMEBUFFER + offset, phys + offset, flags) {
            Ok(()) | Err(paging::MapError::AlreadyMapped) => {}
            Err(_) => return Err(FbError::MapFailed),
        }
        offset += PAGE_SIZE;
    }
    Ok(())
}

/// Turns the framebuffer on (the first time: finds the VGA, sizes and maps BAR0),
/// clears it, and mirrors the text console on it from now on. On already: nothing.
pub fn enable() -> Result<(), FbError> {
    if is_on() {
        return Ok(());
    }
    let slot = pci::find(0x1234, 0x1111).ok_or(FbError::NoDevice)?;
    if !vbe::present() {
        return Err(FbError::NoVbe);
    }
    let phys = (slot.read(0x10) & 0xFFFF_FFF0) as u64;
    let size = slot.bar_size(0) as u64;
    let mode = vbe::set_mode(WANTED.0, WANTED.1, WANTED.2);
    if mode.bpp != 32 || mode.pitch as u64 * mode.height as u64 > size {
        vbe::disable();
        return Err(FbError::BadMode);
    }
    let len = (mode.pitch as u64 * mode.height as u64).div_ceil(PAGE_SIZE) * PAGE_SIZE;
    if let Err(e) = map_lfb(phys, len) {
        vbe::disable();
        return Err(e);
    }
    let mut fb = RUSTOS_FB.lock();
    fb.info = FbInfo {
        mode: 1, owner: Owner::Shell as u32, width: mode.width, height: mode.height, bpp: mode.bpp, pitch: mode.pitch,
        lfb_phys: phys, lfb_size: size, lfb_virt: FRAMEBUFFER,
        pci_slot: (slot.bus as u32) << 16 | (slot.device as u32) << 8 | slot.function as u32, ..fb.info
    };
    // SAFETY: the pitch * height bytes at FRAMEBUFFER were just mapped, and the mode is 32 bpp.
    let surface = unsafe { Surface::new(FRAMEBUFFER as *mut u32, mode.width, mode.height, mode.pitch) };
    surface.clear(0);
    drop(fb);
    // The text screen as it is, then every byte written to it from now on.
    let (cells, row, col) = crate::vga::contents();
    let mut fb = RUSTOS_FB.lock();
    fb.console = Console::show(&surface, &cells, crate::vga::WIDTH as u32, row as u32, col as u32);
    fb.surface = Some(surface);
    drop(fb);
    crate::vga::set_mirror(Some(mirror));
    Ok(())
}

/// Back to the VGA text screen (its contents redrawn).
pub fn disable() {
    crate::vga::set_mirror(None);
    let mut fb = RUSTOS_FB.lock();
    if fb.surface.take().is_none() {
        return;
    }
    fb.info.mode = 0;
    fb.info.owner = Owner::Text as u32;
    drop(fb);
    vbe::disable();
    text::restore();
    crate::vga::redraw();
}

/// The text console's output while the framebuffer is on (installed into `vga`).
fn mirror(byte: u8, attr: u8) {
    let mut fb = RUSTOS_FB.lock();
    if let Some(s) = fb.surface {
        fb.console.write_byte(&s, byte, attr);
        fb.info.draws = fb.info.draws.wrapping_add(1);
    }
}

/// Runs `f` on the surface when the framebuffer is on.
fn with_surface(f: impl FnOnce(&Surface)) {
    let mut fb = RUSTOS_FB.lock();
    if let Some(s) = fb.surface {
        f(&s);
        fb.info.draws = fb.info.draws.wrapping_add(1);
    }
}

/// A copy of the state.
pub fn info() -> FbInfo {
    RUSTOS_FB.lock().info
}

/// True while the framebuffer is shown.
pub fn is_on() -> bool {
    RUSTOS_FB.lock().surface.is_some()
}

/// Width in pixels (0 while off).
pub fn width() -> u32 {
    RUSTOS_FB.lock().surface.map_or(0, |s| s.width)
}

/// Height in pixels (0 while off).
pub fn height() -> u32 {
    RUSTOS_FB.lock().surface.map_or(0, |s| s.height)
}

/// Records who draws now (the `fb` view of the debugger shows it).
pub fn set_owner(owner: Owner) {
    let mut fb = RUSTOS_FB.lock();
    if fb.surface.is_some() {
        fb.info.owner = owner as u32;
    }
}

/// Fills the screen with 0xRRGGBB.
pub fn clear(rgb: u32) {
    with_surface(|s| s.clear(rgb));
}

/// Fills `w` x `h` pixels at (`x`, `y`), clipped to the screen.
pub fn fill_rect(x: i64, y: i64, w: i64, h: i64, rgb: u32) {
    with_surface(|s| s.fill_rect(x, y, w, h, rgb));
}

/// Sets one pixel (off-screen: nothing).
#[allow(dead_code)] // API for programs that draw (WASM)
pub fn pixel(x: i64, y: i64, rgb: u32) {
    with_surface(|s| s.pixel(x, y, rgb));
}

/// A Bresenham line, both ends included, clipped.
pub fn line(x0: i64, y0: i64, x1: i64, y1: i64, rgb: u32) {
    with_surface(|s| s.line(x0, y0, x1, y1, rgb));
}

/// A filled midpoint circle, clipped.
pub fn circle(cx: i64, cy: i64, r: i64, rgb: u32) {
    with_surface(|s| s.circle(cx, cy, r, rgb));
}
