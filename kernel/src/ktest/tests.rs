//! The kernel tests, in the order they run.

use super::disk::*;
use super::fb::*;
use super::threads::*;
use super::user::*;
use crate::fault;
use crate::recovery::{self, FaultRecord};
use crate::interrupts::exceptions;
use crate::layout::PHYS_OFFSET;
use crate::memory::{frames, paging};
use crate::stacks::{self, IST_STACK_SIZE};
use crate::{bootinfo, heap, task, time, vga};
use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::ptr::addr_of;
use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use x86_64::structures::paging::PageTableFlags as Flags;

/// A kernel test.
pub struct Test {
    /// Name used by `test=NAME`.
    pub name: &'static str,
    /// The test body; it fails by panicking.
    pub run: fn(),
    /// Whether the test passes by panicking.
    pub should_panic: bool,
    /// Whether the test enters ring 3 (run only with `ktest=user` or by name).
    pub user: bool,
}

macro_rules! test_list {
    ($($name:ident),* $(,)?; panics: $($pname:ident),* $(,)?; user: $($uname:ident),* $(,)?) => {
        /// Every kernel test.
        pub const ALL: &[Test] = &[
            $(Test { name: stringify!($name), run: $name, should_panic: false, user: false },)*
            $(Test { name: stringify!($pname), run: $pname, should_panic: true, user: false },)*
            $(Test { name: stringify!($uname), run: $uname, should_panic: false, user: true },)*
        ];
    };
}

test_list!(
    boot_info, vga_output, gdt_and_tss, idt_gates, interrupts_enabled,
    heap_box, heap_many_boxes, heap_large_vec, heap_block_reuse, heap_coalescing, heap_growth,
    frame_allocator, map_unmap_translate, kernel_permissions, guard_pages_unmapped,
    keyboard_decoder, ring_queue, executor_wakeups, timer_ticks, sleep_future,
    breakpoint_continues, page_fault_reports, write_to_rodata_faults, general_protection,
    invalid_opcode, divide_error, stack_overflow_double_fault,
    threads_preempt, thread_sleep, thread_yield, thread_fault_ends_thread, thread_stack_guard,
    fb_rect_and_clipping, fb_bresenham_line, fb_midpoint_circle, fb_colours, fb_pci_finds_the_vga;
    panics: should_panic;
    user: user_hello_ring3, user_nullderef_killed, user_spin_preempted, user_address_space,
    user_pointer_checks, user_bad_images_refused, disk_write_read_delete, disk_programs_load_from_disk,
    disk_files_program, disk_bad_programs_refused
);

fn expect_fault(f: impl FnOnce()) -> FaultRecord {
    recovery::set_quiet(true);
    let record = recovery::catch(f);
    recovery::set_quiet(false);
    record.expect("no fault happened")
}

fn in_stack<const N: usize>(rsp: u64, stack: *const stacks::GuardedStack<N>) -> bool {
    rsp > stacks::guard_page(stack) + 4096 && rsp <= stacks::stack_top(stack)
}

fn boot_info() {
    assert!(bootinfo::cmdline().contains("test"), "command line {:?}", bootinfo::cmdline());
    let ram: u64 = bootinfo::regions().iter().filter(|r| r.kind == 1).map(|r| r.size).sum();
    assert!(ram >= 16 << 20, "only {} bytes of RAM in the memory map", ram);
    assert_eq!(bootinfo::get().phys_offset, PHYS_OFFSET);
}

fn vga_output() {
    println!("vga marker 12345");
    let row = vga::current_row() - 1;
    let text: Vec<u8> = (0..16).map(|col| vga::char_at(row, col)).collect();
    assert_eq!(&text[..], b"vga marker 12345");
}

fn gdt_and_tss() {
    let tr: u16;
    // SAFETY: reads the task register.
    unsafe { core::arch::asm!("str {0:x}", out(reg) tr) };
    assert_eq!(tr, crate::gdt::TSS_SELECTOR);
    // SAFETY: read-only look at the TSS.
    let tss = unsafe { &*addr_of!(crate::gdt::RUSTOS_TSS) };
    let ist = tss.interrupt_stack_table;
    assert_eq!(ist[0].as_u64(), stacks::stack_top(addr_of!(stacks::RUSTOS_DF_STACK)));
    assert_eq!(ist[1].as_u64(), stacks::stack_top(addr_of!(stacks::RUSTOS_PF_STACK)));
    assert!(ist[2].as_u64() != 0 && ist[3].as_u64() != 0);
}

fn idt_gates() {
    assert_eq!(crate::interrupts::idt::gate(exceptions::DOUBLE_FAULT).ist(), 1);
    assert_eq!(crate::interrupts::idt::gate(exceptions::PAGE_FAULT).ist(), 2);
    assert_eq!(crate::interrupts::idt::gate(exceptions::DIVIDE_ERROR).ist(), 0);
}

fn interrupts_enabled() {
    assert!(x86_64::instructions::interrupts::are_enabled());
}

fn heap_box() {
    let a = Box::new(41u64);
    let b = Box::new(1u64);
    assert_eq!(*a + *b, 42);
}

fn heap_many_boxes() {
    let long_lived = Box::new(0xfeed_u64);
    for i in 0..10_000u64 {
        let x = Box::new(i);
        assert_eq!(*x, i);
    }
    assert_eq!(*long_lived, 0xfeed);
}

fn heap_large_vec() {
    let n = 50_000u64;
    let v: Vec<u64> = (0..n).collect();
    assert_eq!(v.iter().sum::<u64>(), (n - 1) * n / 2);
}

fn heap_block_reuse() {
    let first = Box::new([0u8; 48]);
    let addr = &*first as *const _ as usize;
    drop(first);
    let second = Box::new([1u8; 48]);
    assert_eq!(&*second as *const _ as usize, addr, "a freed block is reused first");
}

fn heap_coalescing() {
    const MIB: usize = 1 << 20;
    let a: Vec<u8> = Vec::with_capacity(MIB);
    let b: Vec<u8> = Vec::with_capacity(MIB);
    let c: Vec<u8> = Vec::with_capacity(MIB);
    let start = a.as_ptr() as usize;
    assert_eq!(b.as_ptr() as usize, start + MIB);
    assert_eq!(c.as_ptr() as usize, start + 2 * MIB);
    let grows = heap::snapshot().2.grows;
    drop(b);
    drop(a);
    drop(c);
    let whole: Vec<u8> = Vec::with_capacity(3 * MIB);
    assert_eq!(whole.as_ptr() as usize, start, "three freed neighbours merge into one hole");
    assert_eq!(heap::snapshot().2.grows, grows, "no growth was needed");
}

fn heap_growth() {
    let (_, size_before, stats_before, _, _) = heap::snapshot();
    let big: Vec<u8> = alloc::vec![7u8; size_before as usize + 256 * 1024];
    let (_, size_after, stats_after, _, _) = heap::snapshot();
    assert!(size_after > size_before);
    assert!(stats_after.grows > stats_before.grows);
    assert_eq!(big[big.len() - 1], 7);
}

fn frame_allocator() {
    let (free_before, _) = frames::counts();
    let got: Vec<u64> = (0..64).map(|_| frames::allocate().expect("frame")).collect();
    for (i, f) in got.iter().enumerate() {
        assert_eq!(f % 4096, 0);
        assert!(!got[i + 1..].contains(f), "frame {:#x} handed out twice", f);
        assert!(frames::RUSTOS_FRAMES.lock().in_use(*f));
    }
    assert_eq!(frames::counts().0, free_before - 64);
    for f in got {
        frames::free(f);
    }
    assert_eq!(frames::counts().0, free_before);
}

fn map_unmap_translate() {
    let virt = 0x5555_0000_0000u64;
    let frame = frames::allocate().expect("frame");
    paging::map(virt, frame, Flags::WRITABLE | Flags::NO_EXECUTE).expect("map");
    // SAFETY: the page was just mapped to a frame we own.
    unsafe { (virt as *mut u64).write_volatile(0x1234_5678) };
    // SAFETY: the physical window maps all RAM, and `frame` is ours (allocated above).
    let through_window = unsafe { ((PHYS_OFFSET + frame) as *const u64).read_volatile() };
    assert_eq!(through_window, 0x1234_5678);
    let (phys, flags) = paging::translate(virt + 8).expect("translate");
    assert_eq!(phys, frame + 8);
    assert!(flags.contains(Flags::WRITABLE | Flags::NO_EXECUTE));
    assert_eq!(paging::unmap(virt), Some(frame));
    assert_eq!(paging::translate(virt), None);
    frames::free(frame);
}

static RODATA_PROBE: [u8; 8] = *b"readonly";
static mut DATA_PROBE: u64 = 0;

fn kernel_permissions() {
    let text = crate::cpu::halt_forever as *const () as u64;
    let (_, f) = paging::translate(text).expect("text mapped");
    assert!(!f.contains(Flags::WRITABLE) && !f.contains(Flags::NO_EXECUTE), "text is RX: {:?}", f);
    let (_, f) = paging::translate(RODATA_PROBE.as_ptr() as u64).expect("rodata mapped");
    assert!(!f.contains(Flags::WRITABLE) && f.contains(Flags::NO_EXECUTE), "rodata is R NX: {:?}", f);
    let (_, f) = paging::translate(addr_of!(DATA_PROBE) as u64).expect("data mapped");
    assert!(f.contains(Flags::WRITABLE) && f.contains(Flags::NO_EXECUTE), "data is RW NX: {:?}", f);
}

fn guard_pages_unmapped() {
    for guard in stacks::guard_pages() {
        assert_eq!(paging::translate(guard), None, "guard page {:#x} is mapped", guard);
        assert!(paging::translate(guard + 4096).is_some(), "stack above {:#x} is not mapped", guard);
    }
}

fn keyboard_decoder() {
    use rustos_core::keymap::{Key, KeyDecoder};
    let mut d = KeyDecoder::new();
    let keys: Vec<Key> = [0x2A, 0x23, 0xA3, 0xAA, 0x17, 0x97, 0x1C, 0x9C].iter().filter_map(|&b| d.feed(b)).collect();
    assert_eq!(keys, [Key::Char('H'), Key::Char('i'), Key::Char('\n')]);
}

fn ring_queue() {
    let mut q: rustos_core::ring::RingQueue<4> = rustos_core::ring::RingQueue::new();
    for i in 0..10 {
        q.push(i).unwrap();
        assert_eq!(q.pop(), Some(i));
    }
    assert!(q.is_empty());
}

fn executor_wakeups() {
    let flag = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU32::new(0));
    let (f1, d1) = (flag.clone(), done.clone());
    task::spawn("waiter", async move {
        futures_util::future::poll_fn(|cx| {
            if f1.load(Ordering::SeqCst) {
                core::task::Poll::Ready(())
            } else {
                WAITER.register(cx.waker());
                core::task::Poll::Pending
            }
        })
        .await;
        d1.fetch_add(1, Ordering::SeqCst);
    });
    let (f2, d2) = (flag.clone(), done.clone());
    task::spawn("setter", async move {
        time::sleep_ms(2).await;
        f2.store(true, Ordering::SeqCst);
        WAITER.wake();
        d2.fetch_add(1, Ordering::SeqCst);
    });
    task::run_until(|| done.load(Ordering::SeqCst) == 2);
    assert!(flag.load(Ordering::SeqCst));
}

static WAITER: futures_util::task::AtomicWaker = futures_util::task::AtomicWaker::new();

fn timer_ticks() {
    let start = time::ticks();
    let mut hlts = 0;
    while time::ticks() < start + 10 && hlts < 10_000 {
        x86_64::instructions::hlt();
        hlts += 1;
    }
    assert!(time::ticks() >= start + 10, "the timer did not tick");
}

fn sleep_future() {
    let done = Arc::new(AtomicBool::new(false));
    let d = done.clone();
    let start = time::ticks();
    task::spawn("sleeper", async move {
        time::sleep_ms(20).await;
        d.store(true, Ordering::SeqCst);
    });
    task::run_until(|| done.load(Ordering::SeqCst));
    assert!(time::ticks() - start >= 20);
}

fn breakpoint_continues() {
    let before = exceptions::RUSTOS_BREAKPOINTS.load(Ordering::SeqCst);
    fault::trigger_breakpoint();
    assert_eq!(exceptions::RUSTOS_BREAKPOINTS.load(Ordering::SeqCst), before + 1);
}

fn page_fault_reports() {
    let f = expect_fault(|| {
        fault::trigger_page_fault(0xdead_beef_000);
    });
    assert_eq!(f.vector, exceptions::PAGE_FAULT as u64);
    assert_eq!(f.cr2, 0xdead_beef_000);
    assert_eq!(f.error_code, 0, "not present, read, supervisor");
    assert!(in_stack(f.handler_rsp, addr_of!(stacks::RUSTOS_PF_STACK)), "handler ran on {:#x}", f.handler_rsp);
}

fn write_to_rodata_faults() {
    let addr = RODATA_PROBE.as_ptr() as u64;
    let f = expect_fault(|| fault::trigger_write_fault(addr));
    assert_eq!(f.vector, exceptions::PAGE_FAULT as u64);
    assert_eq!(f.cr2, addr);
    assert_eq!(f.error_code, 0b11, "present, write, supervisor");
}

fn general_protection() {
    let f = expect_fault(fault::trigger_general_protection);
    assert_eq!(f.vector, exceptions::GENERAL_PROTECTION as u64);
}

fn invalid_opcode() {
    let f = expect_fault(fault::trigger_invalid_opcode);
    assert_eq!(f.vector, exceptions::INVALID_OPCODE as u64);
}

fn divide_error() {
    let f = expect_fault(fault::trigger_divide_error);
    assert_eq!(f.vector, exceptions::DIVIDE_ERROR as u64);
}

fn stack_overflow_double_fault() {
    let f = expect_fault(fault::trigger_stack_overflow);
    fault::restore_page_fault_ist();
    assert_eq!(f.vector, exceptions::DOUBLE_FAULT as u64);
    assert!(in_stack(f.handler_rsp, addr_of!(stacks::RUSTOS_DF_STACK)), "#DF handler ran on {:#x}", f.handler_rsp);
    let _ = IST_STACK_SIZE;
}

fn should_panic() {
    panic!("this test panics on purpose");
}
