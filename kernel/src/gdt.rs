//! The GDT and the 64-bit TSS with its interrupt stacks.
//!
//! GDT layout: 0x08 kernel code, 0x10 kernel data, 0x18 user data, 0x20 user
//! code, 0x28 the TSS (a 16-byte system descriptor). The TSS names an IST
//! stack, each with a guard page below it (see `stacks`), for each of the exceptions
//! that must run on a known-good stack: #DF (IST1), #PF (IST2), NMI (IST3) and
//! #MC (IST4). RSP0 is the running thread's kernel stack (the main stack for
//! the boot thread), switched by the scheduler (`set_kernel_stack`).

use core::ptr::{addr_of, addr_of_mut};
use x86_64::instructions::segmentation::{Segment, CS, DS, ES, SS};
use x86_64::instructions::tables::load_tss;
use x86_64::structures::gdt::{Descriptor, GlobalDescriptorTable, SegmentSelector};
use x86_64::structures::tss::TaskStateSegment;
use x86_64::VirtAddr;

use crate::stacks;

/// IST slot (1-based, as in the IDT gate) of the double-fault stack.
pub const DOUBLE_FAULT_IST: u8 = 1;
/// IST slot of the page-fault stack.
pub const PAGE_FAULT_IST: u8 = 2;
/// IST slot of the NMI stack.
pub const NMI_IST: u8 = 3;
/// IST slot of the machine-check stack.
pub const MACHINE_CHECK_IST: u8 = 4;

/// Kernel code selector.
pub const KERNEL_CS: u16 = 0x08;
/// Kernel data selector.
pub const KERNEL_DS: u16 = 0x10;
/// TSS selector.
pub const TSS_SELECTOR: u16 = 0x28;

/// The task-state segment (Intel SDM Vol. 3A §8.7).
#[no_mangle]
pub static mut RUSTOS_TSS: TaskStateSegment = TaskStateSegment::new();

/// The global descriptor table.
#[no_mangle]
pub static mut RUSTOS_GDT: GlobalDescriptorTable = GlobalDescriptorTable::new();

/// Points TSS.RSP0 (the stack an interrupt from ring 3 switches to) at `top`.
pub fn set_kernel_stack(top: u64) {
    // SAFETY: one CPU; called with interrupts off (by the scheduler), and the
    // CPU reads RSP0 only when an interrupt arrives from ring 3.
    unsafe { (*addr_of_mut!(RUSTOS_TSS)).privilege_stack_table[0] = VirtAddr::new(top) };
}

/// Fills the TSS, builds the GDT, loads both and reloads the segment registers.
pub fn init() {
    // SAFETY: runs once on the boot CPU before interrupts are enabled; the
    // statics live for the whole run and are not touched elsewhere.
    unsafe {
        let tss = &mut *addr_of_mut!(RUSTOS_TSS);
        let top = |addr: u64| VirtAddr::new(addr);
        tss.interrupt_stack_table[(DOUBLE_FAULT_IST - 1) as usize] = top(stacks::stack_top(addr_of!(stacks::RUSTOS_DF_STACK)));
        tss.interrupt_stack_table[(PAGE_FAULT_IST - 1) as usize] = top(stacks::stack_top(addr_of!(stacks::RUSTOS_PF_STACK)));
        tss.interrupt_stack_table[(NMI_IST - 1) as usize] = top(stacks::stack_top(addr_of!(stacks::RUSTOS_NMI_STACK)));
        tss.interrupt_stack_table[(MACHINE_CHECK_IST - 1) as usize] = top(stacks::stack_top(addr_of!(stacks::RUSTOS_MC_STACK)));
        tss.privilege_stack_table[0] = top(stacks::stack_top(addr_of!(stacks::RUSTOS_MAIN_STACK)));

        let gdt = &mut *addr_of_mut!(RUSTOS_GDT);
        let code = gdt.append(Descriptor::kernel_code_segment());
        let data = gdt.append(Descriptor::kernel_data_segment());
        gdt.append(Descriptor::user_data_segment());
        gdt.append(Descriptor::user_code_segment());
        let tss_sel = gdt.append(Descriptor::tss_segment(&*addr_of!(RUSTOS_TSS)));
        assert_eq!((code.0, data.0, tss_sel.0), (KERNEL_CS, KERNEL_DS, TSS_SELECTOR), "GDT layout");
        (*addr_of!(RUSTOS_GDT)).load();
        CS::set_reg(code);
        DS::set_reg(data);
        ES::set_reg(data);
        SS::set_reg(data);
        load_tss(SegmentSelector(TSS_SELECTOR));
    }
    log!(Info, "gdt: loaded, TSS with IST stacks for #DF, #PF, NMI, #MC");
}
