//! Host tests of the ustar reader, on archives built here the way Python's
//! `tarfile` (USTAR_FORMAT) and GNU tar lay them out.

use super::*;
use std::vec::Vec;

/// A ustar header for `name` of `size` bytes and type `flag`, checksum filled in.
fn header(name: &str, prefix: &str, size: usize, flag: u8, gnu: bool) -> Vec<u8> {
    let mut h = vec![0u8; BLOCK];
    h[..name.len()].copy_from_slice(name.as_bytes());
    h[100..107].copy_from_slice(b"0000644");
    h[124..135].copy_from_slice(format!("{:011o}", size).as_bytes());
    h[136..147].copy_from_slice(b"00000000000");
    h[156] = flag;
    if gnu {
        h[257..265].copy_from_slice(b"ustar  \0");
    } else {
        h[257..263].copy_from_slice(b"ustar\0");
        h[263..265].copy_from_slice(b"00");
    }
    h[345..345 + prefix.len()].copy_from_slice(prefix.as_bytes());
    let sum = checksum(&h);
    h[148..156].copy_from_slice(format!("{:06o}\0 ", sum).as_bytes());
    h
}

fn member(out: &mut Vec<u8>, name: &str, data: &[u8], flag: u8) {
    out.extend(header(name, "", data.len(), flag, false));
    out.extend_from_slice(data);
    out.resize(out.len().div_ceil(BLOCK) * BLOCK, 0);
}

fn sample() -> Vec<u8> {
    let mut tar = Vec::new();
    member(&mut tar, "README.txt", b"hello ramdisk\n", b'0');
    member(&mut tar, "bin/", b"", b'5');
    member(&mut tar, "./hello.wasm", &[0, b'a', b's', b'm', 1, 0, 0, 0], b'0');
    member(&mut tar, "big", &[7u8; 1500], b'0');
    tar.extend([0u8; 2 * BLOCK]);
    tar
}

#[test]
fn lists_members_in_order_with_their_data() {
    let tar = sample();
    let archive = Archive::new(&tar);
    let entries: Vec<_> = archive.entries().map(|e| e.unwrap()).collect();
    let names: Vec<_> = entries.iter().map(|e| std::format!("{}", e)).collect();
    assert_eq!(names, ["README.txt", "bin", "hello.wasm", "big"]);
    assert_eq!(entries[0].data, b"hello ramdisk\n");
    assert_eq!(entries[1].kind, Kind::Dir);
    assert_eq!(entries[3].data.len(), 1500);
    assert_eq!(entries[3].offset, 5 * BLOCK); // 3 headers and 2 data blocks before it
    assert_eq!(archive.validate(), Ok(4));
}

#[test]
fn finds_files_by_path_ignoring_leading_slash() {
    let tar = sample();
    let archive = Archive::new(&tar);
    assert_eq!(archive.find("/hello.wasm").unwrap().unwrap().data.len(), 8);
    assert_eq!(archive.find("README.txt").unwrap().unwrap().data, b"hello ramdisk\n");
    assert!(archive.find("missing").unwrap().is_none());
    assert!(archive.find("bin").unwrap().is_none(), "a directory is not a file");
}

#[test]
fn prefix_joins_the_name() {
    let mut tar = header("file.txt", "deep/dir", 3, b'0', true);
    tar.extend_from_slice(b"abc");
    tar.resize(BLOCK * 2, 0);
    let archive = Archive::new(&tar);
    let entry = archive.find("deep/dir/file.txt").unwrap().unwrap();
    assert_eq!(entry.data, b"abc");
    assert_eq!(std::format!("{}", entry), "deep/dir/file.txt");
    assert!(archive.find("deep/dirfile.txt").unwrap().is_none());
}

#[test]
fn pax_headers_are_skipped() {
    let mut tar = Vec::new();
    member(&mut tar, "PaxHeader", b"30 mtime=1.0\n", b'x');
    member(&mut tar, "a", b"A", b'0');
    assert_eq!(Archive::new(&tar).validate(), Ok(1));
}

#[test]
fn an_empty_archive_has_no_members() {
    assert_eq!(Archive::new(&[]).validate(), Ok(0));
    assert_eq!(Archive::new(&[0u8; 1024]).validate(), Ok(0));
}

#[test]
fn corruption_is_an_error_with_its_offset() {
    let good = sample();
    let mut bad_sum = good.clone();
    bad_sum[2 * BLOCK + 1] ^= 0x20; // in the name of "bin/", whose header is at 2 * BLOCK
    assert_eq!(Archive::new(&bad_sum).validate(), Err(Error::Checksum(2 * BLOCK)));
    let mut no_magic = header("x", "", 0, b'0', false);
    no_magic[257] = b'X';
    let sum = checksum(&no_magic);
    no_magic[148..156].copy_from_slice(format!("{:06o}\0 ", sum).as_bytes());
    assert_eq!(Archive::new(&no_magic).validate(), Err(Error::Magic(0)));
    assert_eq!(Archive::new(&good[..2 * BLOCK + 100]).validate(), Err(Error::Truncated(2 * BLOCK)));
    let mut cut = header("x", "", 600, b'0', false);
    cut.extend([1u8; 100]);
    assert_eq!(Archive::new(&cut).validate(), Err(Error::DataPastEnd(0)));
    assert!(Archive::new(b"this is not a tar archive at all").validate().is_err());
    let text = std::format!("{}", Error::Checksum(1024));
    assert_eq!(text, "corrupt tar: bad header checksum at byte 1024");
}

#[test]
fn find_reports_corruption_before_the_file() {
    let mut tar = sample();
    tar[BLOCK * 2 + 3] ^= 0x40;
    assert_eq!(Archive::new(&tar).find("hello.wasm").unwrap_err(), Error::Checksum(2 * BLOCK));
}
