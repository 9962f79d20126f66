//! ATA PIO on the primary channel's master drive (ports 0x1F0-0x1F7, control
//! 0x3F6), polled with interrupts left masked (IRQ 14 is not used), LBA28
//! addressing (ATA/ATAPI-6, §9 "PIO data-in" and "PIO data-out"; every
//! written sector is followed by FLUSH CACHE). Every wait is bounded, so a
//! missing or silent drive gives an error instead of a hang.

use rustos_core::fat32::{BlockDevice, Error, SECTOR};
use x86_64::instructions::port::Port;

const DATA: u16 = 0x1F0;
const SECTOR_COUNT: u16 = 0x1F2;
const LBA_LOW: u16 = 0x1F3;
const LBA_MID: u16 = 0x1F4;
const LBA_HIGH: u16 = 0x1F5;
const DRIVE: u16 = 0x1F6;
const STATUS_COMMAND: u16 = 0x1F7;
const ALT_STATUS: u16 = 0x3F6;

const BSY: u8 = 0x80;
const DRQ: u8 = 0x08;
const ERR: u8 = 0x01;
const DF: u8 = 0x20;

const CMD_READ_SECTORS: u8 = 0x20;
const CMD_WRITE_SECTORS: u8 = 0x30;
const CMD_FLUSH_CACHE: u8 = 0xE7;
const CMD_IDENTIFY: u8 = 0xEC;

/// Status polls before a wait gives up.
const POLLS: u32 = 1_000_000;

fn inb(port: u16) -> u8 {
    // SAFETY: the primary ATA channel's ports; reading them has no effect on memory.
    unsafe { Port::<u8>::new(port).read() }
}

fn outb(port: u16, value: u8) {
    // SAFETY: the primary ATA channel's ports, owned by this driver.
    unsafe { Port::<u8>::new(port).write(value) }
}

/// Waits until BSY clears and DRQ is set; fails on ERR/DF, a floating bus
/// (0xFF: no drive) or when the polls run out.
fn wait_data() -> Result<(), Error> {
    for _ in 0..POLLS {
        let status = inb(STATUS_COMMAND);
        if status == 0xFF {
            return Err(Error::Io);
        }
        if status & BSY == 0 {
            if status & (ERR | DF) != 0 {
                return Err(Error::Io);
            }
            if status & DRQ != 0 {
                return Ok(());
            }
        }
    }
    Err(Error::Io)
}

/// Waits until BSY clears (after a write or a flush); fails on ERR/DF or a timeout.
fn wait_idle() -> Result<(), Error> {
    for _ in 0..POLLS {
        let status = inb(STATUS_COMMAND);
        if status == 0xFF {
            return Err(Error::Io);
        }
        if status & BSY == 0 {
            return if status & (ERR | DF) != 0 { Err(Error::Io) } else { Ok(()) };
        }
    }
    Err(Error::Io)
}

/// Selects the drive and sets up a one-sector command at `lba`.
fn select(lba: u64, command: u8) -> Result<(), Error> {
    if lba >= 1 << 28 {
        return Err(Error::Io);
    }
    outb(DRIVE, 0xE0 | ((lba >> 24) & 0x0F) as u8);
    settle();
    outb(SECTOR_COUNT, 1);
    outb(LBA_LOW, lba as u8);
    outb(LBA_MID, (lba >> 8) as u8);
    outb(LBA_HIGH, (lba >> 16) as u8);
    outb(STATUS_COMMAND, command);
    settle();
    Ok(())
}

/// The 400 ns delay after selecting a drive: four reads of the alternate status.
fn settle() {
    for _ in 0..4 {
        inb(ALT_STATUS);
    }
}

fn read_words(buf: &mut [u8; SECTOR]) {
    let mut data: Port<u16> = Port::new(DATA);
    for pair in buf.chunks_mut(2) {
        // SAFETY: the data port, read while DRQ is set.
        let word = unsafe { data.read() };
        pair.copy_from_slice(&word.to_le_bytes());
    }
}

/// The primary master drive.
pub struct Ata;

impl Ata {
    /// Whether an ATA drive answers IDENTIFY; returns its LBA28 sector count.
    pub fn identify() -> Result<u32, Error> {
        outb(DRIVE, 0xA0);
        settle();
        for port in [SECTOR_COUNT, LBA_LOW, LBA_MID, LBA_HIGH] {
            outb(port, 0);
        }
        outb(STATUS_COMMAND, CMD_IDENTIFY);
        let status = inb(STATUS_COMMAND);
        if status == 0 || status == 0xFF {
            return Err(Error::NoDevice);
        }
        wait_data().map_err(|_| Error::NoDevice)?;
        let mut id = [0u8; SECTOR];
        read_words(&mut id);
        Ok(u32::from_le_bytes([id[120], id[121], id[122], id[123]]))
    }
}

impl BlockDevice for Ata {
    fn read(&mut self, lba: u64, buf: &mut [u8; SECTOR]) -> Result<(), Error> {
        select(lba, CMD_READ_SECTORS)?;
        wait_data()?;
        read_words(buf);
        Ok(())
    }

    fn write(&mut self, lba: u64, buf: &[u8; SECTOR]) -> Result<(), Error> {
        select(lba, CMD_WRITE_SECTORS)?;
        wait_data()?;
        let mut data: Port<u16> = Port::new(DATA);
        for pair in buf.chunks(2) {
            // SAFETY: the data port, written while DRQ is set.
            unsafe { data.write(u16::from_le_bytes([pair[0], pair[1]])) };
        }
        wait_idle()?;
        outb(STATUS_COMMAND, CMD_FLUSH_CACHE);
        settle();
        wait_idle()
    }
}
