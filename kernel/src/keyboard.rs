//! Input: PS/2 scancodes and COM1 bytes, queued by their IRQ handlers.
//!
//! IRQ1 reads one scancode from port 0x60 and IRQ4 drains COM1's receive
//! buffer; each pushes into a lock-free queue (`crossbeam_queue::ArrayQueue`)
//! and wakes the task that consumes it. The keyboard task decodes scancodes to
//! keys (`rustos_core::keymap`), the serial task turns bytes into keys, and both
//! feed one key queue that the shell reads.

use conquer_once::spin::OnceCell;
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

/// Keys for the shell, from both sources.
static KEYS: OnceCell<ArrayQueue<Key>> = OnceCell::uninit();
static KEY_WAKER: AtomicWaker = AtomicWaker::new();

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

/// IRQ4: every byte COM1 has received.
pub fn on_serial_irq() {
    crate::serial::drain_rx(|byte| SERIAL_RX.push(byte));
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
            return core::task::Poll::Ready(key);
        }
        KEY_WAKER.register(cx.waker());
        match keys.pop() {
            Some(key) => {
                KEY_WAKER.take();
                core::task::Poll::Ready(key)
            }
            None => core::task::Poll::Pending,
        }
    })
    .await
}

/// Task: decodes PS/2 scancodes into keys.
pub async fn keyboard_task() {
    let mut decoder = KeyDecoder::new();
    loop {
        let scancode = SCANCODES.next().await;
        if let Some(key) = decoder.feed(scancode) {
            push_key(key);
        }
    }
}

/// Task: turns COM1 bytes into keys (CR to newline, DEL to backspace).
pub async fn serial_task() {
    let mut last_was_cr = false;
    loop {
        let byte = SERIAL_RX.next().await;
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
