//! Read-only FAT32 (Microsoft's FAT specification, "FAT: General Overview of
//! On-Disk Format"): the BIOS parameter block of sector 0, cluster chains in
//! the first FAT, and 8.3 directory entries (long-name entries are skipped).
//! Sectors come from a [`BlockDevice`], so this runs over ATA in the kernel
//! and over a byte array in the host tests. Every chain is bounded by the
//! volume's cluster count, so a corrupt FAT gives [`Error::Corrupt`], never a loop.

/// Bytes per sector (the only size supported).
pub const SECTOR: usize = 512;

/// Why a FAT32 operation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    /// The device could not read a sector.
    Io,
    /// Sector 0 is not a FAT32 boot sector.
    NotFat32,
    /// A cluster number or chain is out of range.
    Corrupt,
    /// No entry by that name.
    NotFound,
    /// The entry is a directory.
    IsDir,
}

impl Error {
    /// A one-line description.
    pub fn describe(self) -> &'static str {
        match self {
            Error::Io => "disk read failed",
            Error::NotFat32 => "not a FAT32 volume",
            Error::Corrupt => "corrupt FAT",
            Error::NotFound => "no such file",
            Error::IsDir => "is a directory",
        }
    }
}

/// A source of 512-byte sectors.
pub trait BlockDevice {
    /// Reads sector `lba` into `buf`.
    fn read(&mut self, lba: u64, buf: &mut [u8; SECTOR]) -> Result<(), Error>;
}

/// Directory-entry attribute: a directory.
pub const ATTR_DIRECTORY: u8 = 0x10;
const ATTR_VOLUME_ID: u8 = 0x08;
const ATTR_LONG_NAME: u8 = 0x0F;

/// One 8.3 directory entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DirEntry {
    name: [u8; 12],
    name_len: u8,
    /// Attribute bits.
    pub attr: u8,
    /// First cluster.
    pub cluster: u32,
    /// Size in bytes.
    pub size: u32,
}

impl DirEntry {
    /// The name as `name.ext`, lower case.
    pub fn name(&self) -> &str {
        core::str::from_utf8(&self.name[..self.name_len as usize]).unwrap_or("?")
    }

    /// Whether the entry is a directory.
    pub fn is_dir(&self) -> bool {
        self.attr & ATTR_DIRECTORY != 0
    }

    fn decode(raw: &[u8]) -> DirEntry {
        let mut name = [0u8; 12];
        let mut n = 0;
        for &b in raw[0..8].iter().take_while(|&&b| b != b' ') {
            name[n] = b.to_ascii_lowercase();
            n += 1;
        }
        if raw[8] != b' ' {
            name[n] = b'.';
            n += 1;
            for &b in raw[8..11].iter().take_while(|&&b| b != b' ') {
                name[n] = b.to_ascii_lowercase();
                n += 1;
            }
        }
        let hi = u16::from_le_bytes([raw[20], raw[21]]) as u32;
        let lo = u16::from_le_bytes([raw[26], raw[27]]) as u32;
        let size = u32::from_le_bytes([raw[28], raw[29], raw[30], raw[31]]);
        DirEntry { name, name_len: n as u8, attr: raw[11], cluster: (hi << 16 | lo) & 0x0FFF_FFFF, size }
    }
}

/// A mounted FAT32 volume.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Volume {
    /// Sectors per cluster.
    pub sectors_per_cluster: u32,
    /// First sector of the first FAT.
    pub fat_start: u64,
    /// First sector of cluster 2.
    pub data_start: u64,
    /// The root directory's first cluster.
    pub root_cluster: u32,
    /// Number of data clusters (valid cluster numbers are 2 ..= clusters + 1).
    pub clusters: u32,
}

fn u16_at(b: &[u8], at: usize) -> u32 {
    u16::from_le_bytes([b[at], b[at + 1]]) as u32
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

impl Volume {
    /// Reads and checks the boot sector.
    pub fn mount(dev: &mut impl BlockDevice) -> Result<Volume, Error> {
        let mut s = [0u8; SECTOR];
        dev.read(0, &mut s)?;
        let (bps, spc, reserved, fats) = (u16_at(&s, 11), s[13] as u32, u16_at(&s, 14), s[16] as u32);
        let (root_entries, fat_size, total, root_cluster) = (u16_at(&s, 17), u32_at(&s, 36), u32_at(&s, 32), u32_at(&s, 44));
        let valid = s[510] == 0x55 && s[511] == 0xAA && bps == SECTOR as u32 && spc.is_power_of_two()
            && reserved > 0 && fats > 0 && root_entries == 0 && fat_size > 0;
        if !valid {
            return Err(Error::NotFat32);
        }
        let data_start = reserved as u64 + fats as u64 * fat_size as u64;
        let clusters = ((total as u64).saturating_sub(data_start) / spc as u64) as u32;
        let clusters = clusters.min(fat_size * (SECTOR as u32 / 4) - 2);
        let volume = Volume { sectors_per_cluster: spc, fat_start: reserved as u64, data_start, root_cluster, clusters };
        volume.check_cluster(root_cluster)?;
        Ok(volume)
    }

    fn check_cluster(&self, cluster: u32) -> Result<(), Error> {
        if cluster < 2 || cluster > self.clusters + 1 {
            return Err(Error::Corrupt);
        }
        Ok(())
    }

    fn cluster_lba(&self, cluster: u32) -> u64 {
        self.data_start + (cluster as u64 - 2) * self.sectors_per_cluster as u64
    }

    /// The cluster after `cluster` in its chain, or `None` at the end.
    fn next(&self, dev: &mut impl BlockDevice, cluster: u32) -> Result<Option<u32>, Error> {
        let mut s = [0u8; SECTOR];
        let offset = cluster as u64 * 4;
        dev.read(self.fat_start + offset / SECTOR as u64, &mut s)?;
        let next = u32_at(&s, (offset % SECTOR as u64) as usize) & 0x0FFF_FFFF;
        if next >= 0x0FFF_FFF8 {
            return Ok(None);
        }
        self.check_cluster(next)?;
        Ok(Some(next))
    }

    /// Calls `f` with each sector of the chain starting at `first`, in order;
    /// `f` returns false to stop.
    fn each_sector(&self, dev: &mut impl BlockDevice, first: u32, mut f: impl FnMut(&[u8; SECTOR]) -> bool) -> Result<(), Error> {
        self.check_cluster(first)?;
        let mut cluster = first;
        let mut s = [0u8; SECTOR];
        for _ in 0..=self.clusters {
            for k in 0..self.sectors_per_cluster as u64 {
                dev.read(self.cluster_lba(cluster) + k, &mut s)?;
                if !f(&s) {
                    return Ok(());
                }
            }
            match self.next(dev, cluster)? {
                Some(next) => cluster = next,
                None => return Ok(()),
            }
        }
        Err(Error::Corrupt)
    }

    /// Calls `f` with every file and directory entry of the root directory.
    pub fn list_root(&self, dev: &mut impl BlockDevice, mut f: impl FnMut(&DirEntry)) -> Result<(), Error> {
        self.each_sector(dev, self.root_cluster, |s| {
            for raw in s.chunks(32) {
                match raw[0] {
                    0x00 => return false,
                    0xE5 => continue,
                    _ if raw[11] & ATTR_LONG_NAME == ATTR_LONG_NAME || raw[11] & ATTR_VOLUME_ID != 0 => continue,
                    _ => f(&DirEntry::decode(raw)),
                }
            }
            true
        })
    }

    /// The root-directory entry called `name` (case-insensitive; a leading `/` is ignored).
    pub fn find(&self, dev: &mut impl BlockDevice, name: &str) -> Result<DirEntry, Error> {
        let name = name.strip_prefix('/').unwrap_or(name);
        let mut found = None;
        self.list_root(dev, |e| {
            if found.is_none() && e.name().eq_ignore_ascii_case(name) {
                found = Some(*e);
            }
        })?;
        found.ok_or(Error::NotFound)
    }

    /// Calls `f` with the file's bytes, in order, in pieces of at most one sector.
    pub fn read_file(&self, dev: &mut impl BlockDevice, entry: &DirEntry, mut f: impl FnMut(&[u8])) -> Result<(), Error> {
        if entry.is_dir() {
            return Err(Error::IsDir);
        }
        let mut left = entry.size as usize;
        if left == 0 {
            return Ok(());
        }
        self.each_sector(dev, entry.cluster, |s| {
            let n = left.min(SECTOR);
            f(&s[..n]);
            left -= n;
            left > 0
        })?;
        if left > 0 {
            return Err(Error::Corrupt);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Image(Vec<u8>);

    impl BlockDevice for Image {
        fn read(&mut self, lba: u64, buf: &mut [u8; SECTOR]) -> Result<(), Error> {
            let at = lba as usize * SECTOR;
            buf.copy_from_slice(self.0.get(at..at + SECTOR).ok_or(Error::Io)?);
            Ok(())
        }
    }

    const RESERVED: usize = 4;
    const FAT_SECTORS: usize = 1;

    fn set_fat(img: &mut [u8], cluster: usize, value: u32) {
        let at = RESERVED * SECTOR + cluster * 4;
        img[at..at + 4].copy_from_slice(&value.to_le_bytes());
    }

    fn entry(img: &mut [u8], index: usize, name: &[u8; 11], attr: u8, cluster: u32, size: u32) {
        let at = (RESERVED + FAT_SECTORS) * SECTOR + index * 32;
        img[at..at + 11].copy_from_slice(name);
        img[at + 11] = attr;
        img[at + 20..at + 22].copy_from_slice(&((cluster >> 16) as u16).to_le_bytes());
        img[at + 26..at + 28].copy_from_slice(&(cluster as u16).to_le_bytes());
        img[at + 28..at + 32].copy_from_slice(&size.to_le_bytes());
    }

    /// A one-FAT volume, one sector per cluster: root at 2, "NOTE.TXT" (600 bytes) at 3 -> 5.
    fn image() -> Image {
        let total = RESERVED + FAT_SECTORS + 16;
        let mut img = vec![0u8; total * SECTOR];
        img[11..13].copy_from_slice(&512u16.to_le_bytes());
        img[13] = 1;
        img[14..16].copy_from_slice(&(RESERVED as u16).to_le_bytes());
        img[16] = 1;
        img[32..36].copy_from_slice(&(total as u32).to_le_bytes());
        img[36..40].copy_from_slice(&(FAT_SECTORS as u32).to_le_bytes());
        img[44..48].copy_from_slice(&2u32.to_le_bytes());
        img[510] = 0x55;
        img[511] = 0xAA;
        set_fat(&mut img, 2, 0x0FFF_FFFF);
        set_fat(&mut img, 3, 5);
        set_fat(&mut img, 5, 0x0FFF_FFFF);
        entry(&mut img, 0, b"RUSTOS     ", ATTR_VOLUME_ID, 0, 0);
        entry(&mut img, 1, b"NOTE    TXT", 0x20, 3, 600);
        entry(&mut img, 2, b"SUB        ", ATTR_DIRECTORY, 4, 0);
        let data = (RESERVED + FAT_SECTORS) * SECTOR;
        img[data + SECTOR..data + 2 * SECTOR].fill(b'a');
        img[data + 3 * SECTOR..data + 4 * SECTOR].fill(b'b');
        Image(img)
    }

    #[test]
    fn lists_the_root_and_reads_a_chain() {
        let mut dev = image();
        let v = Volume::mount(&mut dev).unwrap();
        let mut names = Vec::new();
        v.list_root(&mut dev, |e| names.push((e.name().to_string(), e.size, e.is_dir()))).unwrap();
        assert_eq!(names, vec![("note.txt".to_string(), 600, false), ("sub".to_string(), 0, true)]);
        let note = v.find(&mut dev, "/NOTE.txt").unwrap();
        let mut bytes = Vec::new();
        v.read_file(&mut dev, &note, |b| bytes.extend_from_slice(b)).unwrap();
        assert_eq!(bytes.len(), 600);
        assert!(bytes[..512].iter().all(|&b| b == b'a') && bytes[512..].iter().all(|&b| b == b'b'));
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
        let long = DirEntry { size: 100_000, ..note };
        assert_eq!(v.read_file(&mut dev, &long, |_| {}), Err(Error::Corrupt));
        let mut dev = image();
        set_fat(&mut dev.0, 3, 999);
        let v = Volume::mount(&mut dev).unwrap();
        assert_eq!(v.read_file(&mut dev, &note, |_| {}), Err(Error::Corrupt));
    }
}
