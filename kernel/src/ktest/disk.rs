//! Kernel tests of the disk and of programs on it (part of the `ktest=user`
//! suite): FAT32 write, read and delete through the ATA driver, programs
//! loaded from the disk with their arguments, the file system calls (the
//! `files` program), and refused programs. Each starts with [`need_disk`],
//! so without a disk they fail at once with one clear line. The files they
//! write are deleted again, yet the FAT32 volume changes (deleted entries,
//! the order of free clusters): run them on a copy of build/disk.img.

use crate::disk;
use crate::process::{self, TOO_BIG};
use crate::thread::{self, SpawnError};
use alloc::vec::Vec;
use rustos_core::fat32::Error;

/// Fails the test in one line when no disk answers.
fn need_disk() {
    if let Err(e) = disk::list(|_| {}) {
        panic!("the disk tests need build/disk.img as the primary IDE master: {}", disk::describe(e));
    }
}

fn names() -> Vec<alloc::string::String> {
    let mut names = Vec::new();
    disk::list(|e| names.push(alloc::string::String::from(e.name()))).expect("list /");
    names
}

fn run(command: &str) -> i64 {
    let pid = process::spawn_command(command).expect("spawn");
    thread::join(pid).expect("the process record")
}

/// Write a file over several clusters, read it back, overwrite it shorter, delete it.
pub fn disk_write_read_delete() {
    need_disk();
    let text: Vec<u8> = (0..1500u32).map(|i| b'a' + (i % 26) as u8).collect();
    disk::write_file("ktest.txt", &text).expect("write");
    assert_eq!(disk::read_all("/KTEST.TXT", 1 << 20), Ok(Some(text)));
    disk::write_file("ktest.txt", b"short\n").expect("rewrite");
    assert_eq!(disk::read_all("ktest.txt", 1 << 20), Ok(Some(b"short\n".to_vec())));
    assert!(names().iter().any(|n| n == "ktest.txt"));
    disk::remove("ktest.txt").expect("rm");
    assert!(!names().iter().any(|n| n == "ktest.txt"));
    assert_eq!(disk::read("ktest.txt", |_| {}), Err(Error::NotFound));
    assert_eq!(disk::remove("ktest.txt"), Err(Error::NotFound));
    assert_eq!(disk::write_file("not 8.3 name", b"x"), Err(Error::BadName));
}

/// The programs are files on the disk, and `run` loads them from there: a
/// copy under a name the kernel has no built-in program for runs too.
pub fn disk_programs_load_from_disk() {
    need_disk();
    for name in ["hello", "spin", "nullderef", "files"] {
        let image = disk::read_all(name, process::PROGRAM_MAX).expect("read").expect("fits");
        assert_eq!(&image[..4], b"\x7fELF", "{} is not an ELF file on the disk", name);
    }
    let hello = disk::read_all("hello", process::PROGRAM_MAX).unwrap().unwrap();
    disk::write_file("hello2", &hello).expect("copy hello");
    assert!(crate::process::programs::find("hello2").is_none());
    assert_eq!(run("hello2"), 0);
    disk::remove("hello2").expect("rm");
}

/// `files NAME` writes, reads back and lists a file through the system calls,
/// checks bad pointers fail with EFAULT and spawns `hello` (exit 0: every check held).
pub fn disk_files_program() {
    need_disk();
    assert_eq!(run("files ktfiles.txt"), 0);
    let written = disk::read_all("ktfiles.txt", 4096).expect("read").expect("fits");
    assert!(written.starts_with(b"written by files, pid "), "{:?}", core::str::from_utf8(&written));
    disk::remove("ktfiles.txt").expect("rm");
    assert_eq!(process::files::count(), 0, "files left open");
}

/// A 64-bit ELF header and one PT_LOAD (R+X at 4 MiB) of `memsz` bytes.
fn elf_with_segment(memsz: u64) -> Vec<u8> {
    let mut elf = alloc::vec![0u8; 120];
    elf[..8].copy_from_slice(b"\x7fELF\x02\x01\x01\x00");
    elf[16..18].copy_from_slice(&2u16.to_le_bytes()); // ET_EXEC
    elf[18..20].copy_from_slice(&0x3Eu16.to_le_bytes()); // x86-64
    elf[24..32].copy_from_slice(&0x40_0000u64.to_le_bytes()); // entry
    elf[32..40].copy_from_slice(&64u64.to_le_bytes()); // phoff
    elf[54..56].copy_from_slice(&56u16.to_le_bytes());
    elf[56..58].copy_from_slice(&1u16.to_le_bytes());
    let ph = &mut elf[64..120];
    ph[0..4].copy_from_slice(&1u32.to_le_bytes()); // PT_LOAD
    ph[4..8].copy_from_slice(&5u32.to_le_bytes()); // R+X
    ph[16..24].copy_from_slice(&0x40_0000u64.to_le_bytes());
    ph[32..40].copy_from_slice(&120u64.to_le_bytes());
    ph[40..48].copy_from_slice(&memsz.to_le_bytes());
    elf
}

/// Missing programs, files that are not ELF and programs too big for memory
/// are refused with a reason; the kernel goes on.
pub fn disk_bad_programs_refused() {
    need_disk();
    assert_eq!(process::spawn_command("nosuch"), Err(SpawnError::NoSuchProgram));
    disk::write_file("junk", b"this is text, not a program\n").expect("write junk");
    assert_eq!(process::spawn_command("junk"), Err(SpawnError::BadProgram("not an ELF file")));
    disk::write_file("big", &elf_with_segment(1 << 40)).expect("write big");
    assert_eq!(process::spawn_command("big"), Err(SpawnError::BadProgram(TOO_BIG)));
    disk::remove("junk").expect("rm junk");
    disk::remove("big").expect("rm big");
    assert_eq!(run("hello"), 0, "programs run after the refusals");
}
