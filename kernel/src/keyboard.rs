//! Input: PS/2 scancodes and COM1 bytes, queued by their IRQ handlers.
//!
//! IRQ1 reads one scancode from port 0x60 and IRQ4 drains COM1's receive
//! buffer; each pushes into a lock-free queue (`crossbeam_queue::ArrayQueue`)
//! and wakes the task that consumes it. The keyboard task decodes scancodes to
//! keys (`rustos_core::keymap`), the serial task turns bytes into keys, and both
//! feed one key queue that the shell reads.
//!
//! Serial input is never dropped, however fast it comes (a pipe): IRQ4 takes
//! bytes only while the byte queue has room and leaves the rest in the UART,
//! whose sender then waits; the serial task takes a byte only when the key
//! queue has room, and after taking one it drains what the UART still holds
//! (the PIC is edge triggered: the UART raises no new IRQ for bytes it holds).

use conquer_once::spin::OnceCell;
use core::sync::atomic::{AtomicBool, Ordering};
use crossbeam_queue::ArrayQueue;
use futures_util::task::AtomicWaker;
use rustos_core::keymap::{Key, KeyDecoder};
use x86_64::instructions::port::Port;

const QUEUE_SIZE: usize = 256;

/// A byte queue filled by an IRQ handler and drained by one task.
struct ByteChannel {
    queue: OnceCell<ArrayQueue<u8>>,
    waker: AtomicWaker,
}

impl ByteChannel {
    const fn new() -> Self {
        ByteChannel { queue: OnceCell::uninit(), waker: AtomicWaker::new() }
    }

    fn push(&self, byte: u8) {
        if let Ok(queue) = self.queue.try_get() {
            if queue.push(byte).is_ok() {
                self.waker.wake();
            }
        }
    }

    /// Whether a byte pushed now would be kept.
    fn has_room(&self) -> bool {
        self.queue.try_get().is_ok_and(|queue| !queue.is_full())
    }

    async fn next(&self) -> u8 {
        futures_util::future::poll_fn(|cx| {
            let queue = self.queue.try_get().expect("input queues not initialised");
            if let Some(byte) = queue.pop() {
                return core::task::Poll::Ready(byte);
            }
            self.waker.register(cx.waker());
            match queue.pop() {
                Some(byte) => {
                    self.waker.take();
                    core::task::Poll::Ready(byte)
                }
                None => core::task::Poll::Pending,
            }
        })
        .await
    }
}

static SCANCODES: ByteChannel = ByteChannel::new();
static SERIAL_RX: ByteChannel = ByteChannel::new();

/// Set when IRQ4 left bytes in the UART for want of room in `SERIAL_RX`.
static SERIAL_HELD: AtomicBool = AtomicBool::new(false);

/// Keys for the shell, from both sources.
static KEYS: OnceCell<ArrayQueue<Key>> = OnceCell::uninit();
static KEY_WAKER: AtomicWaker = AtomicWaker::new();
/// Woken when the shell takes a key (the serial task may wait for room).
static KEY_ROOM_WAKER: AtomicWaker = AtomicWaker::new();

/// Allocates the queues (needs the heap).
pub fn init() {
    SCANCODES.queue.init_once(|| ArrayQueue::new(QUEUE_SIZE));
    SERIAL_RX.queue.init_once(|| ArrayQueue::new(QUEUE_SIZE));
    KEYS.init_once(|| ArrayQueue::new(QUEUE_SIZE));
}

/// Reads input that arrived before the PIC was set up. The PIC is edge
/// triggered: a device whose line was already high when the PIC was
/// initialised raises no new edge until its byte is read.
///
/// Runs with interrupts off: otherwise IRQ4 could take the byte between the
/// status check and the read, and the read would return the stale byte again.
pub fn drain_pending() {
    x86_64::instructions::interrupts::without_interrupts(|| {
        let mut status: Port<u8> = Port::new(0x64);
        // SAFETY: bit 0 of the 8042 status says a byte waits in port 0x60.
        if unsafe { status.read() } & 1 != 0 {
            on_keyboard_irq();
        }
        on_serial_irq();
    });
}

/// IRQ1: one scancode from the PS/2 data port.
pub fn on_keyboard_irq() {
    let mut data: Port<u8> = Port::new(0x60);
    // SAFETY: reading the 8042's data port consumes the byte that raised IRQ1.
    let scancode = unsafe { data.read() };
    SCANCODES.push(scancode);
}

/// IRQ4: the bytes COM1 has received, as many as `SERIAL_RX` has room for.
pub fn on_serial_irq() {
    crate::serial::drain_rx(|| SERIAL_RX.has_room(), |byte| SERIAL_RX.push(byte));
    if !SERIAL_RX.has_room() {
        SERIAL_HELD.store(true, Ordering::Release);
    }
}

fn push_key(key: Key) {
    if let Ok(keys) = KEYS.try_get() {
        if keys.push(key).is_ok() {
            KEY_WAKER.wake();
        }
    }
}

/// The next key from either source.
pub async fn next_key() -> Key {
    futures_util::future::poll_fn(|cx| {
        let keys = KEYS.try_get().expect("input queues not initialised");
        if let Some(key) = keys.pop() {
            KEY_ROOM_WAKER.wake();
            return core::task::Poll::Ready(key);
        }
        KEY_WAKER.register(cx.waker());
        match keys.pop() {
            Some(key) => {
                KEY_WAKER.take();
                KEY_ROOM_WAKER.wake();
                core::task::Poll::Ready(key)
            }
            None => core::task::Poll::Pending,
        }
    })
    .await
}

/// Waits until the key queue has room for one more key.
async fn key_room() {
    futures_util::future::poll_fn(|cx| {
        let keys = KEYS.try_get().expect("input queues not initialised");
        if !keys.is_full() {
            return core::task::Poll::Ready(());
        }
        KEY_ROOM_WAKER.register(cx.waker());
        if keys.is_full() {
            core::task::Poll::Pending
        } else {
            KEY_ROOM_WAKER.take();
            core::task::Poll::Ready(())
        }
    })
    .await
}

/// The scancode decoder, shared by the keyboard task and [`poll_key`].
static DECODER: spin::Mutex<Option<KeyDecoder>> = spin::Mutex::new(None);

fn decode(scancode: u8) -> Option<Key> {
    DECODER.lock().get_or_insert_with(KeyDecoder::new).feed(scancode)
}

/// Task: decodes PS/2 scancodes into keys.
pub async fn keyboard_task() {
    loop {
        let scancode = SCANCODES.next().await;
        if let Some(key) = decode(scancode) {
            push_key(key);
        }
    }
}

/// The next key without waiting, for code that holds the executor's thread (a
/// WASM program): a queued key, else a scancode or a COM1 byte decoded now
/// (CR and LF are both Enter). None when no input is waiting.
pub fn poll_key() -> Option<Key> {
    if let Some(key) = KEYS.try_get().ok()?.pop() {
        KEY_ROOM_WAKER.wake();
        return Some(key);
    }
    while let Some(scancode) = SCANCODES.queue.try_get().ok()?.pop() {
        if let Some(key) = decode(scancode) {
            return Some(key);
        }
    }
    let byte = SERIAL_RX.queue.try_get().ok()?.pop()?;
    if SERIAL_HELD.swap(false, Ordering::AcqRel) {
        x86_64::instructions::interrupts::without_interrupts(on_serial_irq);
    }
    match byte {
        b'\r' | b'\n' => Some(Key::Char('\n')),
        0x7F | 0x08 => Some(Key::Char('\u{8}')),
        b if b.is_ascii() => Some(Key::Char(b as char)),
        _ => None,
    }
}

/// Task: turns COM1 bytes into keys (CR to newline, DEL to backspace), one
/// byte when the key queue has room for it.
pub async fn serial_task() {
    let mut last_was_cr = false;
    loop {
        key_room().await;
        let byte = SERIAL_RX.next().await;
        if SERIAL_HELD.swap(false, Ordering::AcqRel) {
            x86_64::instructions::interrupts::without_interrupts(on_serial_irq);
        }
        let key = match byte {
            b'\r' => Some(Key::Char('\n')),
            b'\n' if last_was_cr => None,
            0x7F | 0x08 => Some(Key::Char('\u{8}')),
            b if b.is_ascii() => Some(Key::Char(b as char)),
            _ => None,
        };
        last_was_cr = byte == b'\r';
        if let Some(key) = key {
            push_key(key);
        }
    }
}
