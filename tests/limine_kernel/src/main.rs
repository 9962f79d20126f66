//! The Limine test kernel of rustos-dbg's tests (`tests/machine/test_limine_boot.py`).
//!
//! Booted by the emulator's Limine loader, it prints to COM1 one line per
//! response it got (`limine: ...`), then builds what hardware inspectors show:
//! its own GDT with a TSS (IST1 for #DF), an IDT (#BP, #DF, #PF) and 4-level
//! page tables (the kernel at its link address, the HHDM of RAM with 2 MiB
//! pages), takes a breakpoint (`int3`) to prove the IDT, runs a three-deep
//! call chain ending in `limine_test_deepest` (a place for `bt`), and exits
//! through isa-debug-exit (0x10 passed, 0x11 failed). Nothing RustOS-specific:
//! no heap, no executor, no `RUSTOS_*` symbols.
#![no_std]
#![no_main]

use core::arch::{asm, global_asm};
use core::fmt::Write;
use core::ptr::{addr_of, addr_of_mut};

use limine::memory_map::EntryType;
use limine::request::{
    BootloaderInfoRequest, ExecutableAddressRequest, ExecutableCmdlineRequest, ExecutableFileRequest,
    FirmwareTypeRequest, FramebufferRequest, HhdmRequest, MemoryMapRequest, ModuleRequest, RequestsEndMarker,
    RequestsStartMarker, RsdpRequest, StackSizeRequest,
};
use limine::BaseRevision;

/// The stack size asked of the bootloader.
const STACK_SIZE: u64 = 128 * 1024;

#[used]
#[link_section = ".requests_start"]
static START: RequestsStartMarker = RequestsStartMarker::new();
#[used]
#[link_section = ".requests"]
static BASE_REVISION: BaseRevision = BaseRevision::with_revision(2);
#[used]
#[link_section = ".requests"]
static INFO: BootloaderInfoRequest = BootloaderInfoRequest::new();
#[used]
#[link_section = ".requests"]
static FIRMWARE: FirmwareTypeRequest = FirmwareTypeRequest::new();
#[used]
#[link_section = ".requests"]
static STACK: StackSizeRequest = StackSizeRequest::new().with_size(STACK_SIZE);
#[used]
#[link_section = ".requests"]
static HHDM: HhdmRequest = HhdmRequest::new();
#[used]
#[link_section = ".requests"]
static MEMMAP: MemoryMapRequest = MemoryMapRequest::new();
#[used]
#[link_section = ".requests"]
static FRAMEBUFFER: FramebufferRequest = FramebufferRequest::new();
#[used]
#[link_section = ".requests"]
static ADDRESS: ExecutableAddressRequest = ExecutableAddressRequest::new();
#[used]
#[link_section = ".requests"]
static FILE: ExecutableFileRequest = ExecutableFileRequest::new();
#[used]
#[link_section = ".requests"]
static CMDLINE: ExecutableCmdlineRequest = ExecutableCmdlineRequest::new();
#[used]
#[link_section = ".requests"]
static MODULES: ModuleRequest = ModuleRequest::new();
#[used]
#[link_section = ".requests"]
static RSDP: RsdpRequest = RsdpRequest::new();
#[used]
#[link_section = ".requests_end"]
static END: RequestsEndMarker = RequestsEndMarker::new();

/// COM1, written by polling (no interrupts).
struct Serial;

impl Serial {
    fn init() {
        for (port, value) in [(0x3F9u16, 0u8), (0x3FB, 0x80), (0x3F8, 3), (0x3F9, 0), (0x3FB, 3), (0x3FC, 3)] {
            outb(port, value);
        }
    }
}

impl Write for Serial {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        for b in s.bytes() {
            while inb(0x3FD) & 0x20 == 0 {}
            outb(0x3F8, b);
        }
        Ok(())
    }
}

macro_rules! say {
    ($($arg:tt)*) => {{ let _ = writeln!(Serial, $($arg)*); }};
}

fn outb(port: u16, value: u8) {
    unsafe { asm!("out dx, al", in("dx") port, in("al") value, options(nomem, nostack)) };
}

fn inb(port: u16) -> u8 {
    let value: u8;
    unsafe { asm!("in al, dx", out("al") value, in("dx") port, options(nomem, nostack)) };
    value
}

/// Writes `code` to isa-debug-exit (port 0xF4), then halts for good.
fn exit(code: u32) -> ! {
    unsafe { asm!("out dx, eax", in("dx") 0xF4u16, in("eax") code, options(nomem, nostack)) };
    loop {
        unsafe { asm!("cli; hlt") };
    }
}

/// The kernel's entry (the ELF entry point).
#[no_mangle]
extern "C" fn _start() -> ! {
    Serial::init();
    say!("limine test kernel");
    let rsp: u64;
    unsafe { asm!("mov {}, rsp", out(reg) rsp) };
    report(rsp);
    if let Some(r) = CMDLINE.get_response() {
        if r.cmdline().to_bytes() == b"panic" {
            limine_test_panics();
        }
    }
    let (phys_base, virt_base, hhdm, ram_top) = layout();
    tables::init(hhdm);
    say!("gdt: loaded, tss at {:#x}", tables::tss_address());
    unsafe { asm!("int3") };
    say!("idt: breakpoint returned");
    paging::init(phys_base, virt_base, hhdm, ram_top);
    say!("paging: own tables loaded, cr3 {:#x}", paging::cr3());
    let sum = limine_test_chain(3);
    say!("chain: {}", sum);
    say!("done");
    exit(0x10);
}

/// Prints one line per response.
fn report(rsp: u64) {
    say!("limine: base revision supported: {}", BASE_REVISION.is_supported());
    match INFO.get_response() {
        Some(r) => say!("limine: bootloader {} {}", r.name(), r.version()),
        None => say!("limine: bootloader info: none"),
    }
    if let Some(r) = FIRMWARE.get_response() {
        let kind = if r.firmware_type() == limine::firmware_type::FirmwareType::X86_BIOS { "bios" } else { "other" };
        say!("limine: firmware {}", kind);
    }
    say!("limine: stack size response: {}", STACK.get_response().is_some());
    let hhdm = HHDM.get_response().map(|r| r.offset()).unwrap_or(0);
    say!("limine: hhdm {:#x}", hhdm);
    say!("limine: rsp {:#x} in hhdm: {}", rsp, rsp >= hhdm && hhdm != 0);
    if let Some(r) = MEMMAP.get_response() {
        let mut usable = 0;
        for e in r.entries() {
            if e.entry_type == EntryType::USABLE {
                usable += e.length;
            }
        }
        say!("limine: memmap {} entries, {} KiB usable", r.entries().len(), usable / 1024);
        for e in r.entries() {
            say!("limine: memmap {:#x} {:#x} type {}", e.base, e.length, memmap_type(e.entry_type));
        }
    }
    match FRAMEBUFFER.get_response() {
        Some(r) => say!("limine: framebuffers {}", r.framebuffers().count()),
        None => say!("limine: framebuffer none"),
    }
    if let Some(r) = ADDRESS.get_response() {
        say!("limine: kernel phys {:#x} virt {:#x}", r.physical_base(), r.virtual_base());
    }
    if let Some(r) = FILE.get_response() {
        let f = r.file();
        let elf = unsafe { core::slice::from_raw_parts(f.addr(), 4) };
        say!("limine: kernel file {} {} bytes, elf magic {}", f.path().to_str().unwrap_or("?"), f.size(),
             elf == b"\x7fELF");
    }
    if let Some(r) = CMDLINE.get_response() {
        say!("limine: cmdline '{}'", r.cmdline().to_str().unwrap_or("?"));
    }
    match MODULES.get_response() {
        Some(r) => {
            for m in r.modules() {
                let first = unsafe { core::slice::from_raw_parts(m.addr(), m.size().min(16) as usize) };
                say!("limine: module {} {} bytes, cmdline '{}': {}", m.path().to_str().unwrap_or("?"), m.size(),
                     m.string().to_str().unwrap_or("?"), core::str::from_utf8(first).unwrap_or("?").trim_end());
            }
        }
        None => say!("limine: modules none"),
    }
    say!("limine: rsdp {}", if RSDP.get_response().is_some() { "present" } else { "none" });
}

fn memmap_type(t: EntryType) -> &'static str {
    match t {
        EntryType::USABLE => "usable",
        EntryType::RESERVED => "reserved",
        EntryType::BOOTLOADER_RECLAIMABLE => "reclaimable",
        EntryType::EXECUTABLE_AND_MODULES => "kernel",
        EntryType::FRAMEBUFFER => "framebuffer",
        _ => "other",
    }
}

/// (kernel physical base, virtual base, HHDM offset, end of the highest usable or reclaimable region).
fn layout() -> (u64, u64, u64, u64) {
    let address = ADDRESS.get_response().expect("no executable address response");
    let hhdm = HHDM.get_response().expect("no HHDM response").offset();
    let mut top = 0;
    for e in MEMMAP.get_response().expect("no memory map").entries() {
        if e.entry_type == EntryType::USABLE || e.entry_type == EntryType::BOOTLOADER_RECLAIMABLE {
            top = top.max(e.base + e.length);
        }
    }
    (address.physical_base(), address.virtual_base(), hhdm, top)
}

/// Sums `depth + ... + 1` through a chain of calls; the deepest one is a place for `bt`.
#[no_mangle]
#[inline(never)]
extern "C" fn limine_test_chain(depth: u64) -> u64 {
    if core::hint::black_box(depth) == 0 {
        return limine_test_deepest();
    }
    let below = limine_test_chain(depth - 1);
    core::hint::black_box(below) + depth
}

/// Panics on purpose (command line `panic`): the panic catcher's test.
#[no_mangle]
#[inline(never)]
fn limine_test_panics() -> ! {
    panic!("limine test kernel panics on purpose");
}

/// The end of the chain.
#[no_mangle]
#[inline(never)]
extern "C" fn limine_test_deepest() -> u64 {
    unsafe { core::ptr::read_volatile(addr_of!(DEEPEST_VALUE)) }
}

static mut DEEPEST_VALUE: u64 = 100;

/// The kernel's own GDT, TSS and IDT.
mod tables {
    use super::*;

    /// GDT: null, code 0x08, data 0x10, TSS 0x18 (16 bytes).
    static mut GDT: [u64; 5] = [0, 0x00AF_9A00_0000_FFFF, 0x00CF_9200_0000_FFFF, 0, 0];
    #[repr(C, packed)]
    struct Tss {
        reserved0: u32,
        rsp: [u64; 3],
        reserved1: u64,
        ist: [u64; 7],
        reserved2: u64,
        reserved3: u16,
        iomap_base: u16,
    }
    static mut TSS: Tss = Tss { reserved0: 0, rsp: [0; 3], reserved1: 0, ist: [0; 7], reserved2: 0, reserved3: 0,
                                iomap_base: 104 };
    #[repr(C, align(16))]
    struct Stack([u8; 16384]);
    static mut DF_STACK: Stack = Stack([0; 16384]);
    static mut IDT: [u64; 512] = [0; 512];

    #[repr(C, packed)]
    struct Pointer {
        limit: u16,
        base: u64,
    }

    pub fn tss_address() -> u64 {
        addr_of!(TSS) as u64
    }

    fn gate(vector: usize, handler: u64, ist: u64) {
        let low = (handler & 0xFFFF) | (0x08 << 16) | (ist << 32) | (0x8E << 40) | ((handler >> 16) & 0xFFFF) << 48;
        unsafe {
            (*addr_of_mut!(IDT))[vector * 2] = low;
            (*addr_of_mut!(IDT))[vector * 2 + 1] = handler >> 32;
        }
    }

    pub fn init(_hhdm: u64) {
        unsafe {
            let tss = addr_of!(TSS) as u64;
            (*addr_of_mut!(TSS)).ist[0] = addr_of!(DF_STACK) as u64 + 16384;
            let limit = core::mem::size_of::<Tss>() as u64 - 1;
            (*addr_of_mut!(GDT))[3] = (limit & 0xFFFF) | ((tss & 0xFF_FFFF) << 16) | (0x89 << 40)
                | ((tss >> 24) & 0xFF) << 56;
            (*addr_of_mut!(GDT))[4] = tss >> 32;
            let gdt = Pointer { limit: 5 * 8 - 1, base: addr_of!(GDT) as u64 };
            asm!("lgdt [{}]", in(reg) &gdt, options(readonly, nostack));
            asm!(
                "push 0x08", "lea {tmp}, [rip + 2f]", "push {tmp}", "retfq", "2:",
                "mov {sel:e}, 0x10", "mov ds, {sel:e}", "mov es, {sel:e}", "mov ss, {sel:e}",
                "xor {sel:e}, {sel:e}", "mov fs, {sel:e}", "mov gs, {sel:e}",
                "mov {sel:e}, 0x18", "ltr {sel:x}",
                tmp = out(reg) _, sel = out(reg) _,
            );
            gate(3, limine_test_breakpoint_stub as *const () as u64, 0);
            gate(8, limine_test_double_fault_stub as *const () as u64, 1);
            gate(14, limine_test_page_fault_stub as *const () as u64, 0);
            let idt = Pointer { limit: 256 * 16 - 1, base: addr_of!(IDT) as u64 };
            asm!("lidt [{}]", in(reg) &idt, options(readonly, nostack));
        }
    }

    extern "C" {
        fn limine_test_breakpoint_stub();
        fn limine_test_double_fault_stub();
        fn limine_test_page_fault_stub();
    }

    // Each stub saves the caller-saved registers, passes the interrupt frame, and irets
    // (the two faults never return).
    global_asm!(
        ".global limine_test_breakpoint_stub",
        "limine_test_breakpoint_stub:",
        "push rax; push rcx; push rdx; push rsi; push rdi; push r8; push r9; push r10; push r11",
        "lea rdi, [rsp + 72]",
        "call limine_test_breakpoint",
        "pop r11; pop r10; pop r9; pop r8; pop rdi; pop rsi; pop rdx; pop rcx; pop rax",
        "iretq",
        ".global limine_test_double_fault_stub",
        "limine_test_double_fault_stub:",
        "lea rdi, [rsp + 8]",
        "call limine_test_fault",
        ".global limine_test_page_fault_stub",
        "limine_test_page_fault_stub:",
        "lea rdi, [rsp + 8]",
        "call limine_test_fault",
    );

    #[no_mangle]
    extern "C" fn limine_test_breakpoint(frame: *const u64) {
        say!("idt: breakpoint at {:#x}", unsafe { *frame });
    }

    #[no_mangle]
    extern "C" fn limine_test_fault(frame: *const u64) -> ! {
        let cr2: u64;
        unsafe { asm!("mov {}, cr2", out(reg) cr2) };
        say!("fault at {:#x}, cr2 {:#x}", unsafe { *frame }, cr2);
        exit(0x11);
    }
}

/// The kernel's own page tables, in its .bss.
mod paging {
    use super::*;

    const TABLES: usize = 16;
    #[repr(C, align(4096))]
    struct Table([u64; 512]);
    static mut POOL: [Table; TABLES] = [const { Table([0; 512]) }; TABLES];
    static mut USED: usize = 0;

    extern "C" {
        static __kernel_start: u8;
        static __kernel_end: u8;
    }

    pub fn cr3() -> u64 {
        let value: u64;
        unsafe { asm!("mov {}, cr3", out(reg) value) };
        value
    }

    /// A zeroed table: (its virtual address, its physical address).
    unsafe fn table(phys_base: u64, virt_base: u64) -> (*mut u64, u64) {
        let t = addr_of_mut!(POOL[USED]) as *mut u64;
        USED += 1;
        if USED > TABLES {
            say!("paging: out of tables");
            exit(0x11);
        }
        (t, t as u64 - virt_base + phys_base)
    }

    unsafe fn next(entry: *mut u64, phys_base: u64, virt_base: u64) -> *mut u64 {
        if *entry & 1 == 0 {
            let (t, phys) = table(phys_base, virt_base);
            *entry = phys | 3;
            return t;
        }
        ((*entry & 0x000F_FFFF_FFFF_F000) - phys_base + virt_base) as *mut u64
    }

    unsafe fn map(pml4: *mut u64, virt: u64, phys: u64, flags: u64, big: bool, pb: u64, vb: u64) {
        let pdpt = next(pml4.add(((virt >> 39) & 511) as usize), pb, vb);
        let pd = next(pdpt.add(((virt >> 30) & 511) as usize), pb, vb);
        if big {
            *pd.add(((virt >> 21) & 511) as usize) = phys | flags | 0x80;
            return;
        }
        let pt = next(pd.add(((virt >> 21) & 511) as usize), pb, vb);
        *pt.add(((virt >> 12) & 511) as usize) = phys | flags;
    }

    pub fn init(phys_base: u64, virt_base: u64, hhdm: u64, ram_top: u64) {
        const NX: u64 = 1 << 63;
        unsafe {
            let (pml4, pml4_phys) = table(phys_base, virt_base);
            let start = addr_of!(__kernel_start) as u64;
            let end = addr_of!(__kernel_end) as u64;
            let rodata = limine_test_rodata_start();
            let data = limine_test_data_start();
            let mut virt = start;
            while virt < end {
                let flags = if virt < rodata { 1 } else if virt < data { 1 | NX } else { 3 | NX };
                map(pml4, virt, virt - virt_base + phys_base, flags, false, phys_base, virt_base);
                virt += 4096;
            }
            let mut phys = 0;
            while phys < ram_top {
                map(pml4, hhdm + phys, phys, 3 | NX, true, phys_base, virt_base);
                phys += 0x20_0000;
            }
            asm!("mov cr3, {}", in(reg) pml4_phys);
        }
    }

    fn limine_test_rodata_start() -> u64 {
        extern "C" {
            static __rodata_start: u8;
        }
        addr_of!(__rodata_start) as u64
    }

    fn limine_test_data_start() -> u64 {
        extern "C" {
            static __data_start: u8;
        }
        addr_of!(__data_start) as u64
    }
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    say!("panic: {}", info.message());
    exit(0x11);
}
