//! The interrupt descriptor table: 256 64-bit gates (Intel SDM Vol. 3A §6.14.1).

use core::ptr::{addr_of, addr_of_mut};
use x86_64::structures::DescriptorTablePointer;
use x86_64::VirtAddr;

/// Gate types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum GateKind {
    /// Interrupt gate: clears IF on entry.
    Interrupt = 0xE,
    /// Trap gate: leaves IF alone.
    #[allow(dead_code)]
    Trap = 0xF,
}

/// One 16-byte IDT gate.
#[derive(Debug, Clone, Copy)]
#[repr(C)]
pub struct Gate {
    offset_low: u16,
    selector: u16,
    ist: u8,
    type_attr: u8,
    offset_mid: u16,
    offset_high: u32,
    reserved: u32,
}

impl Gate {
    const MISSING: Gate = Gate { offset_low: 0, selector: 0, ist: 0, type_attr: 0, offset_mid: 0, offset_high: 0, reserved: 0 };

    /// A present ring-0 gate to `handler` in the kernel code segment.
    pub fn new(handler: u64, kind: GateKind, ist: u8, dpl: u8) -> Gate {
        Gate {
            offset_low: handler as u16,
            selector: crate::gdt::KERNEL_CS,
            ist: ist & 7,
            type_attr: 0x80 | (dpl & 3) << 5 | kind as u8,
            offset_mid: (handler >> 16) as u16,
            offset_high: (handler >> 32) as u32,
            reserved: 0,
        }
    }

    /// The gate's IST index (0 = no stack switch).
    pub fn ist(&self) -> u8 {
        self.ist & 7
    }
}

/// The IDT.
#[repr(C, align(16))]
pub struct Idt {
    /// One gate per vector.
    pub gates: [Gate; 256],
}

/// The kernel's IDT.
#[no_mangle]
pub static mut RUSTOS_IDT: Idt = Idt { gates: [Gate::MISSING; 256] };

/// Sets the gate of `vector`.
pub fn set_gate(vector: u8, gate: Gate) {
    // SAFETY: gates are written with interrupts off (at init) or by the fault
    // triggers, which own the IDT while they run.
    x86_64::instructions::interrupts::without_interrupts(|| unsafe {
        (*addr_of_mut!(RUSTOS_IDT)).gates[vector as usize] = gate;
    });
}

/// The gate of `vector`.
pub fn gate(vector: u8) -> Gate {
    // SAFETY: a plain copy of a gate.
    unsafe { (*addr_of!(RUSTOS_IDT)).gates[vector as usize] }
}

/// Loads the IDT register with [`RUSTOS_IDT`].
pub fn load() {
    let ptr = DescriptorTablePointer {
        limit: (core::mem::size_of::<Idt>() - 1) as u16,
        base: VirtAddr::new(addr_of!(RUSTOS_IDT) as u64),
    };
    // SAFETY: the IDT is a static that lives for the whole run.
    unsafe { x86_64::instructions::tables::lidt(&ptr) };
}
