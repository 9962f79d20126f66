//! The root directory: list it, find a name, create an empty file (growing
//! the directory by a cluster when every slot is taken), delete a file, and
//! re-read or rewrite one entry by its position on the disk.

use super::entry::{short_name, DirEntry, ATTR_LONG_NAME, DELETED};
use super::longname::LongName;
use super::{BlockDevice, Error, Volume, SECTOR};

/// Where a new entry can go: a free slot, or after the directory's last cluster.
enum Room {
    Slot(u64),
    After(u32),
}

impl Volume {
    /// Calls `f` with every file and directory entry of the root directory
    /// and the long-name entries before it (`f` returns false to stop).
    fn each_listed(&self, dev: &mut impl BlockDevice, mut f: impl FnMut(&DirEntry, &LongName) -> bool) -> Result<(), Error> {
        let mut long = LongName::EMPTY;
        self.each_sector(dev, self.root_cluster, |lba, s| {
            for (i, raw) in s.chunks(32).enumerate() {
                let slot = lba * SECTOR as u64 + i as u64 * 32;
                if raw[0] == 0 {
                    return false;
                }
                if raw[0] != DELETED && raw[11] & ATTR_LONG_NAME == ATTR_LONG_NAME {
                    long.feed(raw, slot);
                    continue;
                }
                let pieces = long;
                let name = long.take(raw);
                if DirEntry::is_listed(raw) && !f(&DirEntry::decode(raw, slot, name), &pieces) {
                    return false;
                }
            }
            true
        })
    }

    /// Calls `f` with every file and directory entry of the root directory.
    pub fn list_root(&self, dev: &mut impl BlockDevice, mut f: impl FnMut(&DirEntry)) -> Result<(), Error> {
        self.each_listed(dev, |e, _| {
            f(e);
            true
        })
    }

    /// The root-directory entry called `name` (case-insensitive; a leading `/` is ignored).
    pub fn find(&self, dev: &mut impl BlockDevice, name: &str) -> Result<DirEntry, Error> {
        self.find_with_pieces(dev, name).map(|(e, _)| e)
    }

    fn find_with_pieces(&self, dev: &mut impl BlockDevice, name: &str) -> Result<(DirEntry, LongName), Error> {
        let name = name.strip_prefix('/').unwrap_or(name);
        let mut found = None;
        self.each_listed(dev, |e, pieces| {
            if e.is_called(name) {
                found = Some((*e, *pieces));
            }
            found.is_none()
        })?;
        found.ok_or(Error::NotFound)
    }

    /// The entry at `slot` as it is on the disk now; [`Error::NotFound`] once deleted.
    pub fn entry_at(&self, dev: &mut impl BlockDevice, slot: u64) -> Result<DirEntry, Error> {
        let mut s = [0u8; SECTOR];
        dev.read(slot / SECTOR as u64, &mut s)?;
        let at = (slot % SECTOR as u64) as usize;
        let raw = &s[at..at + 32];
        if !DirEntry::is_listed(raw) {
            return Err(Error::NotFound);
        }
        Ok(DirEntry::decode(raw, slot, None))
    }

    /// Writes `entry`'s first cluster and size back to its slot.
    pub(super) fn store(&self, dev: &mut impl BlockDevice, entry: &DirEntry) -> Result<(), Error> {
        self.patch(dev, entry.slot, |raw| entry.store_extent(raw))
    }

    fn patch(&self, dev: &mut impl BlockDevice, slot: u64, f: impl FnOnce(&mut [u8])) -> Result<(), Error> {
        let mut s = [0u8; SECTOR];
        let lba = slot / SECTOR as u64;
        dev.read(lba, &mut s)?;
        let at = (slot % SECTOR as u64) as usize;
        f(&mut s[at..at + 32]);
        dev.write(lba, &s)
    }

    fn room(&self, dev: &mut impl BlockDevice) -> Result<Room, Error> {
        let mut free = None;
        let spc = self.sectors_per_cluster as u64;
        let mut s = [0u8; SECTOR];
        let last = self.each_cluster(dev, self.root_cluster, |dev, cluster| {
            for k in 0..spc {
                let lba = self.cluster_lba(cluster) + k;
                dev.read(lba, &mut s)?;
                if let Some(i) = s.chunks(32).position(|raw| raw[0] == 0 || raw[0] == DELETED) {
                    free = Some(lba * SECTOR as u64 + i as u64 * 32);
                    return Ok(false);
                }
            }
            Ok(true)
        })?;
        Ok(free.map_or(Room::After(last), Room::Slot))
    }

    /// Creates an empty file called `name` in the root directory; returns its
    /// entry. The caller checks first that the name is not taken.
    pub fn create(&self, dev: &mut impl BlockDevice, name: &str) -> Result<DirEntry, Error> {
        let raw_name = short_name(name)?;
        let slot = match self.room(dev)? {
            Room::Slot(slot) => slot,
            Room::After(last) => {
                let cluster = self.allocate(dev, last + 1, Some(last))?;
                let zero = [0u8; SECTOR];
                for k in 0..self.sectors_per_cluster as u64 {
                    dev.write(self.cluster_lba(cluster) + k, &zero)?;
                }
                self.cluster_lba(cluster) * SECTOR as u64
            }
        };
        let raw = DirEntry::new_file(&raw_name);
        self.patch(dev, slot, |dst| dst.copy_from_slice(&raw))?;
        Ok(DirEntry::decode(&raw, slot, None))
    }

    /// Deletes file `name`: frees its clusters and marks its entry (and its
    /// long-name entries) deleted.
    pub fn remove(&self, dev: &mut impl BlockDevice, name: &str) -> Result<(), Error> {
        let (entry, pieces) = self.find_with_pieces(dev, name)?;
        if entry.is_dir() {
            return Err(Error::IsDir);
        }
        self.free_chain(dev, entry.cluster)?;
        for &slot in &pieces.slots[..pieces.count] {
            self.patch(dev, slot, |raw| raw[0] = DELETED)?;
        }
        self.patch(dev, entry.slot, |raw| raw[0] = DELETED)
    }
}
