//! A spin lock that keeps interrupts off while held.
//!
//! RustOS runs on one CPU, so the only contention is an interrupt handler
//! wanting a lock that the code it interrupted holds. [`IrqMutex`] disables
//! interrupts for as long as a guard lives (restoring the previous state on
//! drop), which makes such a deadlock impossible. Its layout is `#[repr(C)]`:
//! a lock byte, padding to the alignment of `T`, then `T` (the debugger reads
//! the data of locked statics through DWARF; see docs/kernel-structures.md).

use core::cell::UnsafeCell;
use core::ops::{Deref, DerefMut};
use core::sync::atomic::{AtomicBool, Ordering};

/// A value behind a spin lock taken with interrupts disabled.
#[repr(C)]
pub struct IrqMutex<T> {
    locked: AtomicBool,
    data: UnsafeCell<T>,
}

// SAFETY: access to `data` is serialised by `locked`.
unsafe impl<T: Send> Sync for IrqMutex<T> {}

impl<T> IrqMutex<T> {
    /// An unlocked mutex holding `value`.
    pub const fn new(value: T) -> Self {
        IrqMutex { locked: AtomicBool::new(false), data: UnsafeCell::new(value) }
    }

    /// Disables interrupts and takes the lock.
    pub fn lock(&self) -> IrqGuard<'_, T> {
        let were_enabled = x86_64::instructions::interrupts::are_enabled();
        x86_64::instructions::interrupts::disable();
        while self.locked.compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed).is_err() {
            core::hint::spin_loop();
        }
        IrqGuard { mutex: self, were_enabled }
    }

    /// Releases the lock whatever holds it.
    ///
    /// # Safety
    /// Only for the panic and fault paths, where the holder never runs again.
    #[allow(dead_code)]
    pub unsafe fn force_unlock(&self) {
        self.locked.store(false, Ordering::Release);
    }
}

/// Access to the data of a locked [`IrqMutex`].
pub struct IrqGuard<'a, T> {
    mutex: &'a IrqMutex<T>,
    were_enabled: bool,
}

impl<T> Deref for IrqGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard holds the lock.
        unsafe { &*self.mutex.data.get() }
    }
}

impl<T> DerefMut for IrqGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard holds the lock.
        unsafe { &mut *self.mutex.data.get() }
    }
}

impl<T> Drop for IrqGuard<'_, T> {
    fn drop(&mut self) {
        self.mutex.locked.store(false, Ordering::Release);
        if self.were_enabled {
            x86_64::instructions::interrupts::enable();
        }
    }
}
