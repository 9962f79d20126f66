//! File contents: read a whole file or a range of it, write a range (growing
//! the chain first, all or nothing, so a full disk leaves the file as it
//! was), and truncate to empty.

use super::{BlockDevice, DirEntry, Error, Volume, SECTOR};

impl Volume {
    /// Calls `f` with the file's bytes, in order, in pieces of at most one sector.
    pub fn read_file(&self, dev: &mut impl BlockDevice, entry: &DirEntry, mut f: impl FnMut(&[u8])) -> Result<(), Error> {
        if entry.is_dir() {
            return Err(Error::IsDir);
        }
        let mut left = entry.size as usize;
        if left == 0 {
            return Ok(());
        }
        self.each_sector(dev, entry.cluster, |_, s| {
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

    /// The `index`-th cluster of the chain at `first` (0: `first` itself).
    fn nth_cluster(&self, dev: &mut impl BlockDevice, first: u32, index: u64) -> Result<u32, Error> {
        let mut seen = 0;
        let mut found = None;
        self.each_cluster(dev, first, |_, cluster| {
            if seen == index {
                found = Some(cluster);
                return Ok(false);
            }
            seen += 1;
            Ok(true)
        })?;
        found.ok_or(Error::Corrupt)
    }

    /// Reads up to `buf.len()` bytes of the file from `offset`; returns how
    /// many (0 at or past the end).
    pub fn read_at(&self, dev: &mut impl BlockDevice, entry: &DirEntry, offset: u64, buf: &mut [u8]) -> Result<usize, Error> {
        if entry.is_dir() {
            return Err(Error::IsDir);
        }
        let n = (entry.size as u64).saturating_sub(offset).min(buf.len() as u64) as usize;
        if n == 0 {
            return Ok(0);
        }
        self.each_range(dev, entry.cluster, offset, n, |dev, lba, at, range| {
            let mut s = [0u8; SECTOR];
            dev.read(lba, &mut s)?;
            buf[range.clone()].copy_from_slice(&s[at..at + range.len()]);
            Ok(())
        })?;
        Ok(n)
    }

    /// Calls `f(dev, lba, offset in sector, range of the caller's bytes)` for
    /// each sector that bytes `[offset, offset + len)` of the chain at `first` touch.
    fn each_range<D: BlockDevice>(
        &self, dev: &mut D, first: u32, offset: u64, len: usize,
        mut f: impl FnMut(&mut D, u64, usize, core::ops::Range<usize>) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let cb = self.cluster_bytes();
        let start = self.nth_cluster(dev, first, offset / cb)?;
        let mut pos = offset - offset % cb; // file offset of the current cluster
        let mut done = 0usize;
        self.each_cluster(dev, start, |dev, cluster| {
            for k in 0..self.sectors_per_cluster as u64 {
                let sector_pos = pos + k * SECTOR as u64;
                let here = offset + done as u64;
                if here >= sector_pos + SECTOR as u64 {
                    continue;
                }
                let at = (here - sector_pos) as usize;
                let n = (SECTOR - at).min(len - done);
                f(dev, self.cluster_lba(cluster) + k, at, done..done + n)?;
                done += n;
                if done == len {
                    return Ok(false);
                }
            }
            pos += cb;
            Ok(true)
        })?;
        if done < len {
            return Err(Error::Corrupt);
        }
        Ok(())
    }

    /// Makes the chain of `entry` hold at least `bytes` bytes: takes the
    /// missing clusters, or none at all (gives back what it took) when the
    /// disk runs out. Updates `entry.cluster` for an empty file.
    fn reserve(&self, dev: &mut impl BlockDevice, entry: &mut DirEntry, bytes: u64) -> Result<(), Error> {
        let cb = self.cluster_bytes();
        let need = bytes.div_ceil(cb);
        let (mut have, mut last) = (0u64, None);
        if entry.cluster != 0 {
            last = Some(self.each_cluster(dev, entry.cluster, |_, _| {
                have += 1;
                Ok(true)
            })?);
        }
        let (old_last, mut first_new) = (last, None);
        while have < need {
            let hint = last.map_or(2, |c| c + 1);
            match self.allocate(dev, hint, last) {
                Ok(cluster) => {
                    first_new.get_or_insert(cluster);
                    last = Some(cluster);
                    have += 1;
                }
                Err(e) => {
                    if let Some(new) = first_new {
                        if let Some(old) = old_last {
                            self.fat_set(dev, old, super::volume::EOC)?; // the old end ends the chain again
                        }
                        self.free_chain(dev, new)?;
                    }
                    return Err(e);
                }
            }
        }
        if entry.cluster == 0 {
            if let Some(first) = first_new {
                entry.cluster = first;
            }
        }
        Ok(())
    }

    /// Writes `data` into the file at `offset` (at most its size: no holes),
    /// growing it as needed, and updates its entry on the disk.
    pub fn write_at(&self, dev: &mut impl BlockDevice, entry: &mut DirEntry, offset: u64, data: &[u8]) -> Result<usize, Error> {
        if entry.is_dir() {
            return Err(Error::IsDir);
        }
        if offset > entry.size as u64 {
            return Err(Error::BadOffset);
        }
        let end = offset + data.len() as u64;
        if end > u32::MAX as u64 {
            return Err(Error::Full);
        }
        if data.is_empty() {
            return Ok(0);
        }
        let first_before = entry.cluster;
        self.reserve(dev, entry, end)?;
        self.each_range(dev, entry.cluster, offset, data.len(), |dev, lba, at, range| {
            let mut s = [0u8; SECTOR];
            if at != 0 || range.len() != SECTOR {
                dev.read(lba, &mut s)?;
            }
            s[at..at + range.len()].copy_from_slice(&data[range]);
            dev.write(lba, &s)
        })?;
        if end > entry.size as u64 || entry.cluster != first_before {
            entry.size = entry.size.max(end as u32);
            self.store(dev, entry)?;
        }
        Ok(data.len())
    }

    /// Empties the file: frees its clusters and sets its size to 0.
    pub fn truncate(&self, dev: &mut impl BlockDevice, entry: &mut DirEntry) -> Result<(), Error> {
        if entry.is_dir() {
            return Err(Error::IsDir);
        }
        self.free_chain(dev, entry.cluster)?;
        entry.cluster = 0;
        entry.size = 0;
        self.store(dev, entry)
    }
}
