//! The in-kernel test runner (`test` or `test=NAME` on the command line).
//! The tests that enter ring 3 run only when the command line also has
//! `ktest=user` (or when one is named).
//!
//! Each test runs under `recovery::catch`, so a failed assertion (a panic) or an
//! unexpected exception ends that test only. One line per test goes to serial
//! and the screen (`test NAME ... ok` / `FAILED`), then a summary line
//! `N passed, M failed`, and the run ends through isa-debug-exit: 0x10 when
//! everything passed, 0x11 otherwise.

mod disk;
mod fb;
mod tests;
mod threads;
mod user;

use crate::exit::{exit, ExitCode};
use crate::fault;
use crate::recovery::{self, PANIC_VECTOR};
use core::sync::atomic::{AtomicBool, Ordering};

static RUNNING: AtomicBool = AtomicBool::new(false);

/// Whether the test runner is active (the panic handler asks).
pub fn running() -> bool {
    RUNNING.load(Ordering::Relaxed)
}

/// Called by the panic handler in test mode: resumes at the test's recovery point.
pub fn on_panic() {
    recovery::recover_from_panic();
}

/// Runs every test, or the one named; never returns.
pub fn run(only: Option<&str>) -> ! {
    RUNNING.store(true, Ordering::Relaxed);
    let with_user = crate::bootinfo::cmdline().split_whitespace().any(|w| w == "ktest=user");
    let chosen = |t: &&tests::Test| match only {
        Some(name) => t.name == name,
        None => with_user || !t.user,
    };
    let selected = tests::ALL.iter().filter(chosen);
    let (mut passed, mut failed) = (0u32, 0u32);
    println!("running {} kernel tests", tests::ALL.iter().filter(chosen).count());
    for test in selected {
        let outcome = recovery::catch(test.run);
        // A fault or panic may have left interrupts off and a fault path armed.
        recovery::set_quiet(false);
        fault::restore_page_fault_ist();
        x86_64::instructions::interrupts::enable();
        let ok = match (outcome, test.should_panic) {
            (None, false) => true,
            (Some(f), true) => f.vector == PANIC_VECTOR,
            _ => false,
        };
        if ok {
            passed += 1;
            println!("test {} ... ok", test.name);
        } else {
            failed += 1;
            match outcome {
                Some(f) if f.vector != PANIC_VECTOR => println!(
                    "test {} ... FAILED ({} at {:#x})",
                    test.name,
                    crate::interrupts::exceptions::name(f.vector as u8),
                    f.rip
                ),
                None if test.should_panic => println!("test {} ... FAILED (did not panic)", test.name),
                _ => println!("test {} ... FAILED", test.name),
            }
        }
    }
    if let Some(name) = only {
        if passed + failed == 0 {
            println!("error: no kernel test named '{}'", name);
            failed = 1;
        }
    }
    println!("{} passed, {} failed", passed, failed);
    exit(if failed == 0 { ExitCode::Success } else { ExitCode::Failed })
}
