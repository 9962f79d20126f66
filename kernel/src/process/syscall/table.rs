//! The system-call table: every call's number, name and arguments in one
//! list. It becomes the enum [`Sys`] (what `dispatch` matches) and the
//! `#[no_mangle]` static `RUSTOS_SYSCALLS` (what the debugger decodes by
//! name: docs/kernel-structures.md, "System calls"). Numbers follow seed
//! 001 where it gives one (1 write, 2 exit, 5 read, 6 write-file, 8 yield,
//! 11 uptime, 12-20 file and directory calls); the calls it does not number
//! come after its last (22).

/// One row of `RUSTOS_SYSCALLS` (`#[repr(C)]`: the debugger reads it raw).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct SyscallInfo {
    /// The number in rax.
    pub number: u64,
    /// The name, NUL-padded ASCII.
    pub name: [u8; 16],
    /// The arguments (rdi, rsi, rdx), NUL-padded ASCII, e.g. `fd, buf, len`.
    pub args: [u8; 32],
}

const fn padded<const N: usize>(s: &str) -> [u8; N] {
    let mut out = [0u8; N];
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() && i < N {
        out[i] = bytes[i];
        i += 1;
    }
    out
}

macro_rules! syscalls {
    ($($(#[doc = $doc:literal])* $variant:ident = $number:literal, $name:literal, $args:literal;)*) => {
        /// The system calls, by number.
        #[repr(u64)]
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Sys {
            $($(#[doc = $doc])* $variant = $number,)*
        }

        impl Sys {
            /// The call numbered `n`.
            pub fn from_number(n: u64) -> Option<Sys> {
                match n {
                    $($number => Some(Sys::$variant),)*
                    _ => None,
                }
            }
        }

        /// Every system call: number, name, arguments (for the debugger's syscall log).
        #[no_mangle]
        #[used]
        pub static RUSTOS_SYSCALLS: [SyscallInfo; [$($number),*].len()] = [
            $(SyscallInfo { number: $number, name: padded($name), args: padded($args) },)*
        ];
    };
}

syscalls! {
    /// `write(fd, buf, len)`: to the console (fd 1 or 2); returns the bytes written.
    Write = 1, "write", "fd, buf, len";
    /// `exit(code)`: ends the process.
    Exit = 2, "exit", "code";
    /// `read(fd, buf, len)`: from an open file at its offset; returns the bytes read (0 at the end).
    Read = 5, "read", "fd, buf, len";
    /// `write_file(fd, buf, len)`: to an open file at its offset (fd 1, 2: the console).
    WriteFile = 6, "write_file", "fd, buf, len";
    /// `yield()`: gives up the CPU.
    Yield = 8, "yield", "";
    /// `uptime()`: milliseconds since boot.
    Uptime = 11, "uptime", "";
    /// `open(path, len, flags)`: flags 1 write, 2 create, 4 truncate; returns an fd (3 and up).
    Open = 12, "open", "path, len, flags";
    /// `seek(fd, offset, whence)`: whence 0 set, 1 current, 2 end; returns the new offset.
    Seek = 13, "seek", "fd, offset, whence";
    /// `close(fd)`.
    Close = 14, "close", "fd";
    /// `readdir(index, buf, len)`: entry `index` of `/` as a 32-byte record; returns its name's length, 0 past the last.
    Readdir = 15, "readdir", "index, buf, len";
    /// `remove(path, len)`: deletes a file.
    Remove = 18, "remove", "path, len";
    /// `sleep(ms)`.
    Sleep = 23, "sleep", "ms";
    /// `getpid()`: the process id.
    Getpid = 24, "getpid", "";
    /// `spawn(cmd, len)`: starts `PROG [ARGS]` from the disk; returns its pid.
    Spawn = 25, "spawn", "cmd, len";
}
