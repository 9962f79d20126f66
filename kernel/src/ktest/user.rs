//! Kernel tests of ring 3: user processes, system calls, user faults. They
//! enter ring 3, so they run only when the command line has `ktest=user` (or
//! names one with `test=NAME`): the emulator cannot come back from ring 3 yet.

use crate::memory::paging;
use crate::process::{self, syscall, usermem, USER_STACK_SIZE, USER_STACK_TOP};
use crate::thread::{self, SpawnError};

fn run(name: &str) -> i64 {
    let pid = process::spawn_program(name).expect("spawn");
    thread::join(pid).expect("the process record")
}

/// `hello` runs in ring 3 (it exits with 0 only when CS says ring 3).
pub fn user_hello_ring3() {
    assert_eq!(run("hello"), 0);
}

/// `nullderef` is killed by its page fault (exit code -(14 + 1)); the kernel goes on.
pub fn user_nullderef_killed() {
    assert_eq!(run("nullderef"), -15);
    assert_eq!(run("hello"), 0, "the kernel runs programs after a user fault");
}

/// `spin` never yields, yet the boot thread gets the CPU back; it can be killed.
pub fn user_spin_preempted() {
    let pid = process::spawn_program("spin").expect("spawn");
    let start = crate::time::ticks();
    while crate::time::ticks() < start + 50 {
        x86_64::instructions::interrupts::enable_and_hlt();
    }
    let record = thread::find(pid).expect("record");
    assert!(record.ticks > 0, "spin never ran");
    assert_eq!(record.ring, 3);
    assert!(thread::kill(pid, -9));
    assert_eq!(thread::join(pid), Some(-9));
}

/// A process has its own PML4 with the kernel's entries, its stack below
/// USER_STACK_TOP and an unmapped guard page under the stack.
pub fn user_address_space() {
    let pid = process::spawn_program("spin").expect("spawn");
    let t = thread::find(pid).expect("record");
    let kernel = paging::active_pml4();
    assert_ne!(t.cr3, kernel);
    let text = paging::translate_in(t.cr3, 0x40_0000).expect("program text mapped");
    assert!(text.1.contains(x86_64::structures::paging::PageTableFlags::USER_ACCESSIBLE));
    assert!(paging::translate_in(t.cr3, USER_STACK_TOP - 8).is_some(), "stack mapped");
    assert!(paging::translate_in(t.cr3, USER_STACK_TOP - USER_STACK_SIZE - 8).is_none(), "guard page mapped");
    assert!(paging::translate_in(kernel, 0x40_0000).is_none(), "user pages leak into the kernel's tables");
    let here = user_address_space as *const () as u64;
    assert_eq!(paging::translate_in(t.cr3, here).map(|m| m.0), paging::translate(here).map(|m| m.0));
    assert!(thread::kill(pid, -9));
    thread::join(pid);
}

/// User pointers are checked: kernel, null and unmapped addresses fail.
pub fn user_pointer_checks() {
    let kernel_static = &user_pointer_checks as *const _ as u64;
    assert!(!usermem::check(kernel_static, 8, false));
    assert!(!usermem::check(crate::heap::HEAP_START, 8, false), "the kernel heap is not user memory");
    assert!(!usermem::check(0, 8, false));
    assert!(!usermem::check(0x1000, 8, false), "unmapped");
    assert!(!usermem::check(u64::MAX - 4, 8, false), "wraps around");
    assert_eq!(syscall::EFAULT, -14);
}

/// A non-ELF or W+X image is refused with a reason; the kernel goes on.
pub fn user_bad_images_refused() {
    assert_eq!(process::spawn("junk", b"not an elf at all", ""), Err(SpawnError::BadProgram("not an ELF file")));
    assert_eq!(process::spawn("empty", b"", ""), Err(SpawnError::BadProgram("not an ELF file")));
}
