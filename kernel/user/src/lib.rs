//! The RustOS user-program runtime: `int 0x80` system calls (number in rax,
//! arguments in rdi, rsi, rdx, result in rax; see docs/kernel-structures.md,
//! "System calls"), the `_start` glue and the panic handler.
#![no_std]
#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::undocumented_unsafe_blocks, clippy::missing_safety_doc)]

/// System call numbers (the kernel's table, `process::syscall::table`).
pub mod nr {
    /// `write(fd, ptr, len)`: writes to the console (fd 1 or 2); returns bytes written.
    pub const WRITE: u64 = 1;
    /// `exit(code)`: ends the process.
    pub const EXIT: u64 = 2;
    /// `read(fd, ptr, len)`: reads an open file; returns bytes read, 0 at the end.
    pub const READ: u64 = 5;
    /// `write_file(fd, ptr, len)`: writes an open file (or the console, fd 1 or 2).
    pub const WRITE_FILE: u64 = 6;
    /// `yield()`: gives up the CPU.
    pub const YIELD: u64 = 8;
    /// `uptime()`: milliseconds since boot.
    pub const UPTIME: u64 = 11;
    /// `open(path, len, flags)`: returns a file descriptor.
    pub const OPEN: u64 = 12;
    /// `seek(fd, offset, whence)`: returns the new offset.
    pub const SEEK: u64 = 13;
    /// `close(fd)`.
    pub const CLOSE: u64 = 14;
    /// `readdir(index, buf, len)`: one entry of `/`.
    pub const READDIR: u64 = 15;
    /// `remove(path, len)`: deletes a file.
    pub const REMOVE: u64 = 18;
    /// `sleep(ms)`: sleeps.
    pub const SLEEP: u64 = 23;
    /// `getpid()`: the process id.
    pub const GETPID: u64 = 24;
    /// `spawn(cmd, len)`: starts `PROG [ARGS]`; returns its pid.
    pub const SPAWN: u64 = 25;
}

pub mod fs;

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

static mut ARGS: (u64, u64) = (0, 0);

/// The arguments the program was started with (`run PROG ARGS`: ARGS).
pub fn args() -> &'static str {
    // SAFETY: ARGS is written once, by `_start`, before `main` runs (one thread per process).
    let (ptr, len) = unsafe { ARGS };
    if ptr == 0 {
        return "";
    }
    // SAFETY: the kernel placed `len` bytes of UTF-8 at `ptr`, on the stack's top page, which is never popped.
    core::str::from_utf8(unsafe { core::slice::from_raw_parts(ptr as *const u8, len as usize) }).unwrap_or("")
}

/// Records the arguments `_start` got (rdi, rsi); for [`entry!`] only.
#[doc(hidden)]
pub fn set_args(ptr: u64, len: u64) {
    // SAFETY: called once, before `main`, by the process's only thread.
    unsafe { ARGS = (ptr, len) };
}

/// Defines `_start`, which records the arguments and calls `$main` (a `fn()
/// -> i64`), then exits with its result.
#[macro_export]
macro_rules! entry {
    ($main:path) => {
        #[no_mangle]
        #[link_section = ".text._start"]
        pub extern "C" fn _start(args: u64, len: u64) -> ! {
            $crate::set_args(args, len);
            $crate::exit($main())
        }
    };
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    write("panic\n");
    exit(101)
}
