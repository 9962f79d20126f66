//! Host tests of the FAT32 code over an in-memory image.

use super::entry::ATTR_VOLUME_ID;
use super::*;

struct Image(Vec<u8>);

impl BlockDevice for Image {
    fn read(&mut self, lba: u64, buf: &mut [u8; SECTOR]) -> Result<(), Error> {
        let at = lba as usize * SECTOR;
        buf.copy_from_slice(self.0.get(at..at + SECTOR).ok_or(Error::Io)?);
        Ok(())
    }

    fn write(&mut self, lba: u64, buf: &[u8; SECTOR]) -> Result<(), Error> {
        let at = lba as usize * SECTOR;
        self.0.get_mut(at..at + SECTOR).ok_or(Error::Io)?.copy_from_slice(buf);
        Ok(())
    }
}

const RESERVED: usize = 4;
const FAT_SECTORS: usize = 1;
const FATS: usize = 2;
const DATA: usize = RESERVED + FATS * FAT_SECTORS;
const CLUSTERS: usize = 16;

fn fat(img: &[u8], copy: usize, cluster: usize) -> u32 {
    let at = (RESERVED + copy * FAT_SECTORS) * SECTOR + cluster * 4;
    u32::from_le_bytes(img[at..at + 4].try_into().unwrap())
}

fn set_fat(img: &mut [u8], cluster: usize, value: u32) {
    for copy in 0..FATS {
        let at = (RESERVED + copy * FAT_SECTORS) * SECTOR + cluster * 4;
        img[at..at + 4].copy_from_slice(&value.to_le_bytes());
    }
}

fn entry(img: &mut [u8], index: usize, name: &[u8; 11], attr: u8, cluster: u32, size: u32) {
    let at = DATA * SECTOR + index * 32;
    img[at..at + 11].copy_from_slice(name);
    img[at + 11] = attr;
    img[at + 20..at + 22].copy_from_slice(&((cluster >> 16) as u16).to_le_bytes());
    img[at + 26..at + 28].copy_from_slice(&(cluster as u16).to_le_bytes());
    img[at + 28..at + 32].copy_from_slice(&size.to_le_bytes());
}

fn free_clusters(img: &[u8]) -> usize {
    (2..CLUSTERS + 2).filter(|&c| fat(img, 0, c) == 0).count()
}

/// Two FATs, one sector per cluster, 16 clusters: root at 2, "NOTE.TXT"
/// (600 bytes) at 3 -> 5, directory "SUB" at 4.
fn image() -> Image {
    let total = DATA + CLUSTERS;
    let mut img = vec![0u8; total * SECTOR];
    img[11..13].copy_from_slice(&512u16.to_le_bytes());
    img[13] = 1;
    img[14..16].copy_from_slice(&(RESERVED as u16).to_le_bytes());
    img[16] = FATS as u8;
    img[32..36].copy_from_slice(&(total as u32).to_le_bytes());
    img[36..40].copy_from_slice(&(FAT_SECTORS as u32).to_le_bytes());
    img[44..48].copy_from_slice(&2u32.to_le_bytes());
    img[510] = 0x55;
    img[511] = 0xAA;
    set_fat(&mut img, 0, 0x0FFF_FFF8);
    set_fat(&mut img, 1, 0x0FFF_FFFF);
    set_fat(&mut img, 2, 0x0FFF_FFFF);
    set_fat(&mut img, 3, 5);
    set_fat(&mut img, 4, 0x0FFF_FFFF);
    set_fat(&mut img, 5, 0x0FFF_FFFF);
    entry(&mut img, 0, b"RUSTOS     ", ATTR_VOLUME_ID, 0, 0);
    entry(&mut img, 1, b"NOTE    TXT", 0x20, 3, 600);
    entry(&mut img, 2, b"SUB        ", ATTR_DIRECTORY, 4, 0);
    let data = DATA * SECTOR;
    img[data + SECTOR..data + 2 * SECTOR].fill(b'a');
    img[data + 3 * SECTOR..data + 4 * SECTOR].fill(b'b');
    Image(img)
}

fn names(v: &Volume, dev: &mut Image) -> Vec<(String, u32)> {
    let mut names = Vec::new();
    v.list_root(dev, |e| names.push((e.name().to_string(), e.size))).unwrap();
    names
}

fn contents(v: &Volume, dev: &mut Image, name: &str) -> Vec<u8> {
    let e = v.find(dev, name).unwrap();
    let mut bytes = Vec::new();
    v.read_file(dev, &e, |b| bytes.extend_from_slice(b)).unwrap();
    bytes
}

#[test]
fn lists_the_root_and_reads_a_chain() {
    let mut dev = image();
    let v = Volume::mount(&mut dev).unwrap();
    assert_eq!(names(&v, &mut dev), vec![("note.txt".to_string(), 600), ("sub".to_string(), 0)]);
    let note = v.find(&mut dev, "/NOTE.txt").unwrap();
    let bytes = contents(&v, &mut dev, "note.txt");
    assert_eq!(bytes.len(), 600);
    assert!(bytes[..512].iter().all(|&b| b == b'a') && bytes[512..].iter().all(|&b| b == b'b'));
    let mut part = [0u8; 20];
    assert_eq!(v.read_at(&mut dev, &note, 500, &mut part), Ok(20));
    assert_eq!(&part, b"aaaaaaaaaaaabbbbbbbb");
    assert_eq!(v.read_at(&mut dev, &note, 590, &mut part), Ok(10));
    assert_eq!(v.read_at(&mut dev, &note, 600, &mut part), Ok(0));
    assert_eq!(v.find(&mut dev, "missing"), Err(Error::NotFound));
    let sub = v.find(&mut dev, "sub").unwrap();
    assert_eq!(v.read_file(&mut dev, &sub, |_| {}), Err(Error::IsDir));
}

#[test]
fn refuses_what_is_not_fat32_and_a_looping_chain() {
    let mut dev = image();
    dev.0[510] = 0;
    assert_eq!(Volume::mount(&mut dev), Err(Error::NotFat32));
    let mut dev = image();
    set_fat(&mut dev.0, 5, 3);
    let v = Volume::mount(&mut dev).unwrap();
    let note = v.find(&mut dev, "note.txt").unwrap();
    let mut long = note;
    long.size = 100_000;
    assert_eq!(v.read_file(&mut dev, &long, |_| {}), Err(Error::Corrupt));
    assert_eq!(v.write_at(&mut dev, &mut long, 100_000, b"x"), Err(Error::Corrupt));
    let mut dev = image();
    set_fat(&mut dev.0, 3, 999);
    let v = Volume::mount(&mut dev).unwrap();
    assert_eq!(v.read_file(&mut dev, &note, |_| {}), Err(Error::Corrupt));
    assert_eq!(v.remove(&mut dev, "note.txt"), Err(Error::Corrupt));
}

#[test]
fn creates_writes_reads_and_deletes_a_file() {
    let mut dev = image();
    let v = Volume::mount(&mut dev).unwrap();
    let free = free_clusters(&dev.0);
    let mut e = v.create(&mut dev, "/new.txt").unwrap();
    assert_eq!((e.name(), e.size, e.cluster), ("new.txt", 0, 0));
    let text: Vec<u8> = (0..1300u32).map(|i| b'a' + (i % 26) as u8).collect();
    assert_eq!(v.write_at(&mut dev, &mut e, 0, &text[..700]), Ok(700));
    assert_eq!(v.write_at(&mut dev, &mut e, 700, &text[700..]), Ok(600));
    assert_eq!(contents(&v, &mut dev, "NEW.TXT"), text);
    assert_eq!(free_clusters(&dev.0), free - 3);
    assert_eq!((0..32).map(|c| fat(&dev.0, 0, c)).collect::<Vec<_>>(), (0..32).map(|c| fat(&dev.0, 1, c)).collect::<Vec<_>>());
    // Overwrite in the middle, across a sector boundary: the size stays.
    assert_eq!(v.write_at(&mut dev, &mut e, 510, b"XYZW"), Ok(4));
    let again = v.entry_at(&mut dev, e.slot).unwrap();
    assert_eq!(again.size, 1300);
    let mut four = [0u8; 4];
    v.read_at(&mut dev, &again, 510, &mut four).unwrap();
    assert_eq!(&four, b"XYZW");
    assert_eq!(v.write_at(&mut dev, &mut e, 1301, b"x"), Err(Error::BadOffset));
    v.truncate(&mut dev, &mut e).unwrap();
    assert_eq!((v.find(&mut dev, "new.txt").unwrap().size, free_clusters(&dev.0)), (0, free));
    v.write_at(&mut dev, &mut e, 0, b"short").unwrap();
    v.remove(&mut dev, "new.txt").unwrap();
    assert_eq!(v.find(&mut dev, "new.txt"), Err(Error::NotFound));
    assert_eq!(v.entry_at(&mut dev, e.slot), Err(Error::NotFound));
    assert_eq!(free_clusters(&dev.0), free);
    assert_eq!(names(&v, &mut dev).len(), 2);
    // The deleted slot is used again.
    assert_eq!(v.create(&mut dev, "again").unwrap().slot, e.slot);
}

#[test]
fn a_full_disk_fails_the_write_and_leaves_the_file_as_it_was() {
    let mut dev = image();
    let v = Volume::mount(&mut dev).unwrap();
    let free = free_clusters(&dev.0);
    let mut e = v.create(&mut dev, "big").unwrap();
    v.write_at(&mut dev, &mut e, 0, b"first").unwrap();
    let huge = vec![7u8; (free + 1) * SECTOR];
    assert_eq!(v.write_at(&mut dev, &mut e, 5, &huge), Err(Error::Full));
    assert_eq!(free_clusters(&dev.0), free - 1, "the clusters taken are given back");
    assert_eq!(contents(&v, &mut dev, "big"), b"first");
    let fits = vec![8u8; free * SECTOR];
    assert_eq!(v.write_at(&mut dev, &mut e, 0, &fits), Ok(fits.len()));
    assert_eq!(free_clusters(&dev.0), 0);
    assert_eq!(v.create(&mut dev, "more").map(|e| e.size), Ok(0), "a free slot in the root needs no cluster");
}

#[test]
fn the_root_directory_grows_by_a_cluster() {
    let mut dev = image();
    let v = Volume::mount(&mut dev).unwrap();
    for i in 0..20 {
        v.create(&mut dev, &format!("f{i}.txt")).unwrap();
    }
    let listed = names(&v, &mut dev);
    assert_eq!(listed.len(), 22);
    assert!(listed.iter().any(|(n, _)| n == "f19.txt"));
    assert_ne!(fat(&dev.0, 0, 2), 0x0FFF_FFFF, "the root's chain has a second cluster");
}

#[test]
fn names_must_be_8_3() {
    assert_eq!(short_name("note.txt"), Ok(*b"NOTE    TXT"));
    assert_eq!(short_name("/a_b-1"), Ok(*b"A_B-1      "));
    for bad in ["", ".txt", "toolongname", "a.text", "a b", "a.b.c", "sub/x"] {
        assert_eq!(short_name(bad), Err(Error::BadName), "{bad}");
    }
    let mut dev = image();
    let v = Volume::mount(&mut dev).unwrap();
    assert_eq!(v.create(&mut dev, "bad name"), Err(Error::BadName));
}

/// Writes the long-name entries of `long` for the short name `short` at `index`, `index + 1`, ...
fn long_entries(img: &mut [u8], index: usize, long: &str, short: &[u8; 11]) -> usize {
    let chars: Vec<u16> = long.encode_utf16().collect();
    let pieces = chars.len().div_ceil(13);
    let offsets = [1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30];
    for k in 0..pieces {
        let ord = pieces - k; // last piece first
        let at = DATA * SECTOR + (index + k) * 32;
        let raw = &mut img[at..at + 32];
        raw.fill(0);
        raw[0] = ord as u8 | if k == 0 { 0x40 } else { 0 };
        raw[11] = 0x0F;
        raw[13] = checksum(short);
        for (i, off) in offsets.iter().enumerate() {
            let pos = (ord - 1) * 13 + i;
            let c = match pos.cmp(&chars.len()) {
                std::cmp::Ordering::Less => chars[pos],
                std::cmp::Ordering::Equal => 0,
                std::cmp::Ordering::Greater => 0xFFFF,
            };
            raw[*off..*off + 2].copy_from_slice(&c.to_le_bytes());
        }
    }
    pieces
}

#[test]
fn long_names_are_read_found_and_deleted() {
    let mut dev = image();
    let n = long_entries(&mut dev.0, 3, "nullderef", b"NULLDE~1   ");
    entry(&mut dev.0, 3 + n, b"NULLDE~1   ", 0x20, 6, 4);
    set_fat(&mut dev.0, 6, 0x0FFF_FFFF);
    let m = long_entries(&mut dev.0, 4 + n, "a-long-name-of-twenty-six", b"ALONGN~1TXT");
    entry(&mut dev.0, 4 + n + m, b"ALONGN~1TXT", 0x20, 0, 0);
    // A long name whose checksum is not its short entry's: the 8.3 name stands.
    let k = long_entries(&mut dev.0, 5 + n + m, "stray", b"OTHER      ");
    entry(&mut dev.0, 5 + n + m + k, b"PLAIN      ", 0x20, 0, 0);
    let v = Volume::mount(&mut dev).unwrap();
    let listed: Vec<String> = names(&v, &mut dev).into_iter().map(|(n, _)| n).collect();
    assert_eq!(listed, ["note.txt", "sub", "nullderef", "a-long-name-of-twenty-six", "plain"]);
    let e = v.find(&mut dev, "NullDeref").unwrap();
    assert_eq!((e.short_name(), e.cluster), ("nullde~1", 6));
    assert_eq!(v.find(&mut dev, "nullde~1").unwrap().slot, e.slot);
    v.remove(&mut dev, "nullderef").unwrap();
    for i in 3..3 + n + 1 {
        assert_eq!(dev.0[DATA * SECTOR + i * 32], 0xE5, "entry {i} deleted");
    }
    assert_eq!(fat(&dev.0, 0, 6), 0);
    assert_eq!(names(&v, &mut dev).len(), 4);
}
