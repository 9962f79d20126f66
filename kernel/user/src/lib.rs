//! The RustOS user-program runtime: `int 0x80` system calls (number in rax,
//! arguments in rdi, rsi, rdx, result in rax; see docs/kernel-structures.md,
//! "System calls"), the `_start` glue and the panic handler.
#![no_std]
#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::undocumented_unsafe_blocks, clippy::missing_safety_doc)]

/// System call numbers (the kernel's `process::syscall` table).
pub mod nr {
    /// `exit(code)`: ends the process.
    pub const EXIT: u64 = 0;
    /// `write(fd, ptr, len)`: writes to the console (fd 1 or 2); returns bytes written.
    pub const WRITE: u64 = 1;
    /// `yield()`: gives up the CPU.
    pub const YIELD: u64 = 2;
    /// `sleep(ms)`: sleeps.
    pub const SLEEP: u64 = 3;
    /// `uptime()`: milliseconds since boot.
    pub const UPTIME: u64 = 4;
    /// `getpid()`: the process id.
    pub const GETPID: u64 = 5;
}

/// Raw system call with up to three arguments.
///
/// # Safety
/// The arguments must be what the call `n` expects (pointers valid for the
/// lengths given); the kernel checks them, but a wrong one fails the call.
pub unsafe fn syscall(n: u64, a: u64, b: u64, c: u64) -> i64 {
    let ret: i64;
    // SAFETY: `int 0x80` enters the kernel, which preserves every register
    // but rax (the result).
    unsafe { core::arch::asm!("int 0x80", inlateout("rax") n as i64 => ret, in("rdi") a, in("rsi") b, in("rdx") c, options(nostack)) };
    ret
}

/// Writes `s` to the console.
pub fn write(s: &str) -> i64 {
    // SAFETY: ptr and len describe `s`.
    unsafe { syscall(nr::WRITE, 1, s.as_ptr() as u64, s.len() as u64) }
}

/// Ends the process with `code`.
pub fn exit(code: i64) -> ! {
    // SAFETY: exit takes a plain number.
    unsafe { syscall(nr::EXIT, code as u64, 0, 0) };
    loop {}
}

/// Gives up the CPU.
pub fn yield_now() {
    // SAFETY: no arguments.
    unsafe { syscall(nr::YIELD, 0, 0, 0) };
}

/// Sleeps `ms` milliseconds.
pub fn sleep(ms: u64) {
    // SAFETY: a plain number.
    unsafe { syscall(nr::SLEEP, ms, 0, 0) };
}

/// Milliseconds since boot.
pub fn uptime() -> u64 {
    // SAFETY: no arguments.
    unsafe { syscall(nr::UPTIME, 0, 0, 0) as u64 }
}

/// The process id.
pub fn getpid() -> u64 {
    // SAFETY: no arguments.
    unsafe { syscall(nr::GETPID, 0, 0, 0) as u64 }
}

/// The privilege level the caller runs at (the low two bits of CS).
pub fn ring() -> u64 {
    let cs: u64;
    // SAFETY: reads the CS selector into a register.
    unsafe { core::arch::asm!("mov {:r}, cs", out(reg) cs, options(nomem, nostack, preserves_flags)) };
    cs & 3
}

/// Formats `n` in decimal into `buf`; returns the digits.
pub fn fmt_u64(mut n: u64, buf: &mut [u8; 20]) -> &str {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    core::str::from_utf8(&buf[i..]).unwrap_or("?")
}

/// Defines `_start`, which calls `$main` (a `fn() -> i64`) and exits with its result.
#[macro_export]
macro_rules! entry {
    ($main:path) => {
        #[no_mangle]
        #[link_section = ".text._start"]
        pub extern "C" fn _start() -> ! {
            $crate::exit($main())
        }
    };
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    write("panic\n");
    exit(101)
}
