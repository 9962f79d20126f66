//! The shell's file commands over the disk's root directory (`/`):
//! `ls [DIR]`, `cat FILE`, `write FILE TEXT`, `rm FILE`. Each error is one
//! line (`error: CMD: ...`) and the shell goes on.

use crate::disk;

fn first_word(args: &str) -> Option<&str> {
    args.split_whitespace().next()
}

/// `ls [DIR]`: the root directory (the only one: `/`), one entry a line
/// (size, name, `/` for a directory).
pub fn ls(args: &str) {
    if let Some(dir) = first_word(args).filter(|d| *d != "/") {
        println!("error: ls: {}: only the root directory / can be listed", dir);
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

/// `cat FILE`: prints a text file from the disk (`note.txt` is `/note.txt`).
pub fn cat(args: &str) {
    let Some(path) = first_word(args) else {
        println!("error: usage: cat FILE");
        return;
    };
    let mut ends_in_newline = true;
    let read = disk::read(path, |bytes| {
        for &b in bytes {
            print!("{}", if b == b'\n' || (0x20..0x7F).contains(&b) { b as char } else { '.' });
        }
        ends_in_newline = bytes.last() == Some(&b'\n');
    });
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
    if let Err(e) = disk::remove(path) {
        println!("error: rm: {}: {}", path, disk::describe(e));
    }
}
