//! The shell's file commands over the disk's root directory (`/`) and the
//! read-only ramdisk (`/ram`): `ls [DIR]`, `cat FILE`, `write FILE TEXT`,
//! `rm FILE`. Each error is one line (`error: CMD: ...`) and the shell goes on.

use crate::{disk, ramdisk};

fn first_word(args: &str) -> Option<&str> {
    args.split_whitespace().next()
}

/// `ls [DIR]`: the root directory (the only one: `/`), one entry a line
/// (size, name, `/` for a directory).
pub fn ls(args: &str) {
    if let Some(dir) = first_word(args).filter(|d| ramdisk::inside(d).is_some()) {
        return ls_ram(dir);
    }
    if let Some(dir) = first_word(args).filter(|d| *d != "/") {
        println!("error: ls: {}: only / and /ram can be listed", dir);
        return;
    }
    let listed = disk::list(|e| {
        let slash = if e.is_dir() { "/" } else { "" };
        println!("{:>10} {}{}", e.size, e.name(), slash);
    });
    if let Err(e) = listed {
        println!("error: ls: {}", disk::describe(e));
    }
}

/// Whether `path` is on the read-only ramdisk (then says so for `command`).
fn read_only(path: &str, command: &str) -> bool {
    let on_ram = ramdisk::inside(path).is_some();
    if on_ram {
        println!("error: {}: {}: the ramdisk is read-only", command, path);
    }
    on_ram
}

/// `ls /ram`: the ramdisk's members (size, path, `/` for a directory).
fn ls_ram(dir: &str) {
    if ramdisk::inside(dir) != Some("") {
        println!("error: ls: {}: the ramdisk has one directory, /ram", dir);
        return;
    }
    let archive = match ramdisk::archive() {
        Ok(archive) => archive,
        Err(e) => return println!("error: ls: {}: {}", dir, e),
    };
    for entry in archive.entries() {
        match entry {
            Ok(e) => {
                let slash = if e.kind == rustos_core::tar::Kind::Dir { "/" } else { "" };
                println!("{:>10} {}{}", e.data.len(), e, slash);
            }
            Err(e) => return println!("error: ls: {}: {}", dir, e),
        }
    }
}

/// Prints `bytes` as text (other bytes as `.`), then ends the line if they did not.
fn print_text(bytes: &[u8]) -> bool {
    for &b in bytes {
        print!("{}", if b == b'\n' || (0x20..0x7F).contains(&b) { b as char } else { '.' });
    }
    bytes.last() == Some(&b'\n')
}

/// `cat FILE`: prints a text file from the disk (`note.txt` is `/note.txt`)
/// or from the ramdisk (`/ram/README.txt`).
pub fn cat(args: &str) {
    let Some(path) = first_word(args) else {
        println!("error: usage: cat FILE");
        return;
    };
    if ramdisk::inside(path).is_some() {
        match ramdisk::read(path) {
            Ok(bytes) => {
                if !print_text(bytes) {
                    println!();
                }
            }
            Err(e) => println!("error: cat: {}: {}", path, e),
        }
        return;
    }
    let mut ends_in_newline = true;
    let read = disk::read(path, |bytes| ends_in_newline = print_text(bytes));
    if !ends_in_newline {
        println!(); // what was printed ends its line, and an error gets its own
    }
    if let Err(e) = read {
        println!("error: cat: {}: {}", path, disk::describe(e));
    }
}

/// `write FILE TEXT`: makes TEXT and a newline the whole content of FILE
/// (created when missing; the name must be 8.3).
pub fn write(args: &str) {
    let Some((path, text)) = args.split_once(' ').map(|(p, t)| (p, t.trim())).filter(|(_, t)| !t.is_empty()) else {
        println!("error: usage: write FILE TEXT");
        return;
    };
    if read_only(path, "write") {
        return;
    }
    let mut bytes = alloc::vec::Vec::with_capacity(text.len() + 1);
    bytes.extend_from_slice(text.as_bytes());
    bytes.push(b'\n');
    match disk::write_file(path, &bytes) {
        Ok(()) => println!("wrote {} bytes to /{}", bytes.len(), path.trim_start_matches('/')),
        Err(e) => println!("error: write: {}: {}", path, disk::describe(e)),
    }
}

/// `rm FILE`: deletes a file.
pub fn rm(args: &str) {
    let Some(path) = first_word(args) else {
        println!("error: usage: rm FILE");
        return;
    };
    if read_only(path, "rm") {
        return;
    }
    if let Err(e) = disk::remove(path) {
        println!("error: rm: {}: {}", path, disk::describe(e));
    }
}
