//! The mounted volume: the BIOS parameter block's geometry, the FATs (read
//! an entry, write it to every copy, allocate and free clusters) and walks
//! along cluster chains.

use super::{BlockDevice, Error, SECTOR};

/// FAT entry value: end of a chain (any value from 0x0FFFFFF8 up reads as one).
pub(super) const EOC: u32 = 0x0FFF_FFFF;
const FREE: u32 = 0;

/// A mounted FAT32 volume.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Volume {
    /// Sectors per cluster.
    pub sectors_per_cluster: u32,
    /// First sector of the first FAT.
    pub fat_start: u64,
    /// Sectors of one FAT.
    pub fat_size: u32,
    /// Number of FAT copies.
    pub fats: u32,
    /// First sector of cluster 2.
    pub data_start: u64,
    /// The root directory's first cluster.
    pub root_cluster: u32,
    /// Number of data clusters (valid cluster numbers are 2 ..= clusters + 1).
    pub clusters: u32,
}

pub(super) fn u16_at(b: &[u8], at: usize) -> u32 {
    u16::from_le_bytes([b[at], b[at + 1]]) as u32
}

pub(super) fn u32_at(b: &[u8], at: usize) -> u32 {
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
        let clusters = clusters.min(fat_size.saturating_mul(SECTOR as u32 / 4).saturating_sub(2));
        let volume = Volume { sectors_per_cluster: spc, fat_start: reserved as u64, fat_size, fats, data_start, root_cluster, clusters };
        volume.check_cluster(root_cluster)?;
        Ok(volume)
    }

    /// Bytes in one cluster.
    pub fn cluster_bytes(&self) -> u64 {
        self.sectors_per_cluster as u64 * SECTOR as u64
    }

    pub(super) fn check_cluster(&self, cluster: u32) -> Result<(), Error> {
        if cluster < 2 || cluster > self.clusters + 1 {
            return Err(Error::Corrupt);
        }
        Ok(())
    }

    pub(super) fn cluster_lba(&self, cluster: u32) -> u64 {
        self.data_start + (cluster as u64 - 2) * self.sectors_per_cluster as u64
    }

    /// The FAT entry of `cluster` (28 bits).
    fn fat_get(&self, dev: &mut impl BlockDevice, cluster: u32) -> Result<u32, Error> {
        let mut s = [0u8; SECTOR];
        let offset = cluster as u64 * 4;
        dev.read(self.fat_start + offset / SECTOR as u64, &mut s)?;
        Ok(u32_at(&s, (offset % SECTOR as u64) as usize) & 0x0FFF_FFFF)
    }

    /// Sets the FAT entry of `cluster` in every FAT copy (keeping the top 4 reserved bits).
    pub(super) fn fat_set(&self, dev: &mut impl BlockDevice, cluster: u32, value: u32) -> Result<(), Error> {
        self.check_cluster(cluster)?;
        let offset = cluster as u64 * 4;
        let at = (offset % SECTOR as u64) as usize;
        let mut s = [0u8; SECTOR];
        for copy in 0..self.fats as u64 {
            let lba = self.fat_start + copy * self.fat_size as u64 + offset / SECTOR as u64;
            dev.read(lba, &mut s)?;
            let old = u32_at(&s, at);
            s[at..at + 4].copy_from_slice(&((old & 0xF000_0000) | (value & 0x0FFF_FFFF)).to_le_bytes());
            dev.write(lba, &s)?;
        }
        Ok(())
    }

    /// The cluster after `cluster` in its chain, or `None` at the end.
    pub(super) fn next(&self, dev: &mut impl BlockDevice, cluster: u32) -> Result<Option<u32>, Error> {
        let next = self.fat_get(dev, cluster)?;
        if next >= 0x0FFF_FFF8 {
            return Ok(None);
        }
        self.check_cluster(next)?;
        Ok(Some(next))
    }

    /// Takes a free cluster (searching from `hint`, wrapping around), marks it
    /// the end of a chain and links it after `prev` when given.
    pub(super) fn allocate(&self, dev: &mut impl BlockDevice, hint: u32, prev: Option<u32>) -> Result<u32, Error> {
        let per_sector = (SECTOR / 4) as u32;
        let first = hint.clamp(2, self.clusters + 1);
        let mut s = [0u8; SECTOR];
        let mut loaded = u32::MAX;
        for k in 0..self.clusters {
            let cluster = 2 + (first - 2 + k) % self.clusters;
            let sector = cluster / per_sector;
            if sector != loaded {
                dev.read(self.fat_start + sector as u64, &mut s)?;
                loaded = sector;
            }
            if u32_at(&s, ((cluster % per_sector) * 4) as usize) & 0x0FFF_FFFF == FREE {
                self.fat_set(dev, cluster, EOC)?;
                if let Some(prev) = prev {
                    self.fat_set(dev, prev, cluster)?;
                }
                return Ok(cluster);
            }
        }
        Err(Error::Full)
    }

    /// Frees the chain that starts at `first` (0: nothing to free).
    pub(super) fn free_chain(&self, dev: &mut impl BlockDevice, first: u32) -> Result<(), Error> {
        if first == 0 {
            return Ok(());
        }
        self.check_cluster(first)?;
        let mut cluster = first;
        for _ in 0..=self.clusters {
            let next = self.next(dev, cluster);
            self.fat_set(dev, cluster, FREE)?;
            match next? {
                Some(n) => cluster = n,
                None => return Ok(()),
            }
        }
        Err(Error::Corrupt)
    }

    /// The clusters of the chain at `first`, in order, to `f` (which returns
    /// false to stop); the last cluster visited.
    pub(super) fn each_cluster<D: BlockDevice>(&self, dev: &mut D, first: u32, mut f: impl FnMut(&mut D, u32) -> Result<bool, Error>) -> Result<u32, Error> {
        self.check_cluster(first)?;
        let mut cluster = first;
        for _ in 0..=self.clusters {
            if !f(dev, cluster)? {
                return Ok(cluster);
            }
            match self.next(dev, cluster)? {
                Some(next) => cluster = next,
                None => return Ok(cluster),
            }
        }
        Err(Error::Corrupt)
    }

    /// Calls `f` with each sector of the chain starting at `first` and its
    /// number, in order; `f` returns false to stop.
    pub(super) fn each_sector(&self, dev: &mut impl BlockDevice, first: u32, mut f: impl FnMut(u64, &[u8; SECTOR]) -> bool) -> Result<(), Error> {
        let spc = self.sectors_per_cluster as u64;
        let mut s = [0u8; SECTOR];
        self.each_cluster(dev, first, |dev, cluster| {
            for k in 0..spc {
                let lba = self.cluster_lba(cluster) + k;
                dev.read(lba, &mut s)?;
                if !f(lba, &s) {
                    return Ok(false);
                }
            }
            Ok(true)
        })?;
        Ok(())
    }
}
