//! `files [NAME]`: writes a file on the disk (default `files.txt`), reads it
//! back, lists the root directory, checks that bad pointers fail the calls
//! with -14 (EFAULT), spawns `hello` from the disk, and prints what it found; exits with 0 when everything
//! matched, else with the number of the first check that failed.
#![no_std]
#![no_main]
#![deny(clippy::undocumented_unsafe_blocks)]

use rustos_user::fs::{self, O_CREATE, O_TRUNCATE, O_WRITE, SEEK_END, SEEK_SET};
use rustos_user::{args, fmt_u64, getpid, write};

const EFAULT: i64 = -14;
const EBADF: i64 = -9;
const ENOENT: i64 = -2;

fn num(n: i64) {
    let mut buf = [0u8; 20];
    if n < 0 {
        write("-");
    }
    write(fmt_u64(n.unsigned_abs(), &mut buf));
}

fn main() -> i64 {
    let name = args().split_whitespace().next().unwrap_or("files.txt");
    let mut line = [0u8; 64];
    let prefix = b"written by files, pid ";
    line[..prefix.len()].copy_from_slice(prefix);
    let mut digits = [0u8; 20];
    let pid = fmt_u64(getpid(), &mut digits).as_bytes();
    line[prefix.len()..prefix.len() + pid.len()].copy_from_slice(pid);
    let len = prefix.len() + pid.len() + 1;
    line[len - 1] = b'\n';
    let text = &line[..len];

    let fd = fs::open(name, O_WRITE | O_CREATE | O_TRUNCATE);
    write("files: open ");
    write(name);
    write(" -> fd ");
    num(fd);
    write("\n");
    if fd < 0 {
        return 1;
    }
    if fs::write(fd, text) != len as i64 {
        return 2;
    }
    if fs::seek(fd, 0, SEEK_END) != len as i64 || fs::seek(fd, 0, SEEK_SET) != 0 {
        return 3;
    }
    let mut back = [0u8; 64];
    let n = fs::read(fd, &mut back);
    if n != len as i64 || &back[..len] != text {
        return 4;
    }
    write("files: read back: ");
    write(core::str::from_utf8(&back[..len]).unwrap_or("?"));

    write("files: / holds");
    let mut found = false;
    for index in 0.. {
        match fs::readdir(index) {
            Ok(Some(entry)) => {
                write(" ");
                write(entry.name());
                write(" (");
                num(entry.size() as i64);
                write(")");
                found |= entry.name() == name && entry.size() == len as u64;
            }
            Ok(None) => break,
            Err(_) => return 5,
        }
    }
    write("\n");
    if !found {
        return 6;
    }

    // Bad pointers fail the call; the kernel goes on.
    let kernel = 0xffff_8000_0000_0000u64 as *mut u8;
    // SAFETY: deliberately bad pointers: the kernel must refuse them without touching them.
    let bad = unsafe {
        [
            rustos_user::syscall(rustos_user::nr::READ, fd as u64, kernel as u64, 16),
            rustos_user::syscall(rustos_user::nr::OPEN, 0, 8, 0),
            rustos_user::syscall(rustos_user::nr::WRITE_FILE, fd as u64, 0x1000, 16),
            rustos_user::syscall(rustos_user::nr::READDIR, 0, kernel as u64, 32),
        ]
    };
    write("files: bad pointers ->");
    for code in bad {
        write(" ");
        num(code);
    }
    write("\n");
    if bad.iter().any(|&c| c != EFAULT) {
        return 7;
    }
    if fs::close(fd) != 0 || fs::close(fd) != EBADF || fs::read(fd, &mut back) != EBADF {
        return 8;
    }
    let child = fs::spawn("hello");
    write("files: spawned hello as pid ");
    num(child);
    write("\n");
    if child <= 0 || fs::spawn("nosuch") != ENOENT {
        return 9;
    }
    write("files: ok\n");
    0
}

rustos_user::entry!(main);
