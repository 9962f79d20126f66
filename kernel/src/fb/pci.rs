//! PCI configuration space through mechanism #1 (ports 0xCF8 address, 0xCFC data;
//! PCI Local Bus Specification 3.0, §3.2.2.3.2), and the search for a device.

use x86_64::instructions::port::Port;

const CONFIG_ADDRESS: u16 = 0xCF8;
const CONFIG_DATA: u16 = 0xCFC;

/// Where a function sits: bus, device (0-31), function (0-7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PciSlot {
    pub bus: u8,
    pub device: u8,
    pub function: u8,
}

impl PciSlot {
    fn address(self, offset: u8) -> u32 {
        1 << 31 | (self.bus as u32) << 16 | (self.device as u32) << 11 | (self.function as u32) << 8 | (offset as u32 & 0xFC)
    }

    /// The dword register at `offset` (a multiple of 4) of the header.
    pub fn read(self, offset: u8) -> u32 {
        let mut address: Port<u32> = Port::new(CONFIG_ADDRESS);
        let mut data: Port<u32> = Port::new(CONFIG_DATA);
        // SAFETY: configuration-space accesses only read the addressed register.
        unsafe {
            address.write(self.address(offset));
            data.read()
        }
    }

    /// Writes the dword register at `offset` (a multiple of 4).
    pub fn write(self, offset: u8, value: u32) {
        let mut address: Port<u32> = Port::new(CONFIG_ADDRESS);
        let mut data: Port<u32> = Port::new(CONFIG_DATA);
        // SAFETY: the callers write registers whose effect they own (the VGA's command and BAR0).
        unsafe {
            address.write(self.address(offset));
            data.write(value);
        }
    }

    /// The size of memory BAR `index` (0-5): all-ones written with memory decoding
    /// off, the mask read back (§6.2.5.1), the BAR and the command register put back.
    pub fn bar_size(self, index: u8) -> u32 {
        let offset = 0x10 + 4 * index;
        let command = self.read(0x04);
        let bar = self.read(offset);
        self.write(0x04, command & !0x2);
        self.write(offset, 0xFFFF_FFFF);
        let mask = self.read(offset) & 0xFFFF_FFF0;
        self.write(offset, bar);
        self.write(0x04, command);
        (!mask).wrapping_add(1)
    }
}

/// The first function on bus 0 with `vendor`:`device`.
pub fn find(vendor: u16, device: u16) -> Option<PciSlot> {
    for dev in 0..32 {
        for function in 0..8 {
            let slot = PciSlot { bus: 0, device: dev, function };
            let id = slot.read(0);
            if id == 0xFFFF_FFFF {
                if function == 0 {
                    break;
                }
                continue;
            }
            if id == (device as u32) << 16 | vendor as u32 {
                return Some(slot);
            }
            let multifunction = slot.read(0x0C) >> 16 & 0x80 != 0;
            if function == 0 && !multifunction {
                break;
            }
        }
    }
    None
}
