//! The cooperative executor: a task table, a ready queue of ids, a waker cache.
//!
//! [`spawn`] puts a future in a free slot of the task table and queues its id.
//! The run loop pops ids from the ready queue (a `RingQueue`) and polls their
//! futures; a waker pushes its task's id back when it fires, from task or
//! interrupt context. With nothing ready, the CPU sleeps with `sti; hlt` until
//! the next interrupt, unless the idle hook (installed by `thread`) gives the
//! CPU to another thread.
//! [`RUSTOS_EXECUTOR`] is `#[repr(C)]`
//! (docs/kernel-structures.md): the debugger reads the table and the queue.

use crate::sync::IrqMutex;
use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::task::Wake;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Waker};
use rustos_core::ring::RingQueue;

/// Most tasks alive at once.
pub const MAX_TASKS: usize = 32;
/// Capacity of the ready queue.
pub const QUEUE_CAPACITY: usize = 64;
/// Magic of [`Executor`]: "EXEC".
pub const EXECUTOR_MAGIC: u32 = u32::from_le_bytes(*b"EXEC");
/// Layout version of [`Executor`].
pub const EXECUTOR_VERSION: u32 = 1;

/// What a task slot holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum TaskState {
    /// The slot is free.
    Free = 0,
    /// Queued to be polled.
    Ready = 1,
    /// Being polled now.
    Running = 2,
    /// Waiting for a wake-up.
    Waiting = 3,
}

/// One entry of the task table.
#[derive(Debug, Clone, Copy)]
#[repr(C)]
pub struct TaskSlot {
    /// Task id (ids start at 1 and are never reused).
    pub id: u64,
    /// A [`TaskState`] value.
    pub state: u32,
    /// Set when a wake-up arrives while the task runs.
    pub woken_while_running: u32,
    /// Wake-ups received.
    pub wakes: u64,
    /// Times polled.
    pub polls: u64,
    /// Address and length of the task's name (UTF-8).
    pub name_ptr: u64,
    pub name_len: u64,
    /// The boxed future's data pointer and vtable (a `dyn Future` fat pointer).
    pub future_data: u64,
    pub future_vtable: u64,
}

impl TaskSlot {
    const FREE: TaskSlot = TaskSlot { id: 0, state: 0, woken_while_running: 0, wakes: 0, polls: 0, name_ptr: 0, name_len: 0, future_data: 0, future_vtable: 0 };

    /// The task's name.
    pub fn name(&self) -> &'static str {
        // SAFETY: name_ptr/len come from a `&'static str` in `spawn`.
        unsafe { core::str::from_utf8_unchecked(core::slice::from_raw_parts(self.name_ptr as *const u8, self.name_len as usize)) }
    }
}

/// The executor's state.
#[repr(C)]
pub struct Executor {
    magic: u32,
    version: u32,
    /// Slots in `tasks`.
    pub capacity: u32,
    /// Live tasks.
    pub live: u32,
    /// The id the next spawned task gets.
    pub next_id: u64,
    /// The id being polled, or 0.
    pub current: u64,
    /// Polls since boot.
    pub total_polls: u64,
    /// The task table.
    pub tasks: [TaskSlot; MAX_TASKS],
    /// Ids ready to be polled, oldest first.
    pub ready: RingQueue<QUEUE_CAPACITY>,
}

/// The executor.
#[no_mangle]
pub static RUSTOS_EXECUTOR: IrqMutex<Executor> = IrqMutex::new(Executor {
    magic: EXECUTOR_MAGIC,
    version: EXECUTOR_VERSION,
    capacity: MAX_TASKS as u32,
    live: 0,
    next_id: 1,
    current: 0,
    total_polls: 0,
    tasks: [TaskSlot::FREE; MAX_TASKS],
    ready: RingQueue::new(),
});

type BoxedFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

/// The futures and cached wakers, by slot (not decoded by the debugger).
struct Owned {
    futures: [Option<BoxedFuture>; MAX_TASKS],
    wakers: [Option<Waker>; MAX_TASKS],
}

static OWNED: IrqMutex<Owned> = IrqMutex::new(Owned { futures: [const { None }; MAX_TASKS], wakers: [const { None }; MAX_TASKS] });

impl Executor {
    fn slot_of(&self, id: u64) -> Option<usize> {
        self.tasks.iter().position(|t| t.id == id && t.state != TaskState::Free as u32)
    }

    fn wake(&mut self, id: u64) {
        let Some(i) = self.slot_of(id) else { return };
        let task = &mut self.tasks[i];
        task.wakes += 1;
        if task.state == TaskState::Waiting as u32 {
            task.state = TaskState::Ready as u32;
            let _ = self.ready.push(id);
        } else if task.state == TaskState::Running as u32 {
            task.woken_while_running = 1;
        }
    }
}

struct TaskWaker {
    id: u64,
}

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        RUSTOS_EXECUTOR.lock().wake(self.id);
    }

    fn wake_by_ref(self: &Arc<Self>) {
        RUSTOS_EXECUTOR.lock().wake(self.id);
    }
}

/// Adds a task; returns its id, or `None` when the table is full.
pub fn spawn(name: &'static str, future: impl Future<Output = ()> + Send + 'static) -> Option<u64> {
    let boxed: BoxedFuture = Box::pin(future);
    let fat: *const (dyn Future<Output = ()> + Send) = &*boxed;
    // SAFETY: a `*const dyn Trait` is a (data, vtable) pair of addresses.
    let [data, vtable]: [u64; 2] = unsafe { core::mem::transmute(fat) };
    let mut exec = RUSTOS_EXECUTOR.lock();
    let i = exec.tasks.iter().position(|t| t.state == TaskState::Free as u32)?;
    let id = exec.next_id;
    exec.ready.push(id).ok()?;
    exec.next_id += 1;
    exec.live += 1;
    exec.tasks[i] = TaskSlot {
        id,
        state: TaskState::Ready as u32,
        woken_while_running: 0,
        wakes: 0,
        polls: 0,
        name_ptr: name.as_ptr() as u64,
        name_len: name.len() as u64,
        future_data: data,
        future_vtable: vtable,
    };
    let mut owned = OWNED.lock();
    owned.futures[i] = Some(boxed);
    owned.wakers[i] = Some(Waker::from(Arc::new(TaskWaker { id })));
    Some(id)
}

/// Polls the task with `id` once.
fn poll_task(id: u64) {
    let (i, future, waker) = {
        let mut exec = RUSTOS_EXECUTOR.lock();
        let Some(i) = exec.slot_of(id) else { return };
        exec.tasks[i].state = TaskState::Running as u32;
        exec.tasks[i].woken_while_running = 0;
        exec.tasks[i].polls += 1;
        exec.total_polls += 1;
        exec.current = id;
        let mut owned = OWNED.lock();
        let future = owned.futures[i].take();
        let waker = owned.wakers[i].clone();
        (i, future, waker)
    };
    let (Some(mut future), Some(waker)) = (future, waker) else {
        let mut exec = RUSTOS_EXECUTOR.lock();
        exec.current = 0;
        exec.tasks[i].state = TaskState::Waiting as u32;
        return;
    };
    let done = future.as_mut().poll(&mut Context::from_waker(&waker)).is_ready();
    let mut exec = RUSTOS_EXECUTOR.lock();
    exec.current = 0;
    if done {
        exec.tasks[i] = TaskSlot::FREE;
        exec.live -= 1;
        let mut owned = OWNED.lock();
        owned.wakers[i] = None;
        drop(owned);
        drop(exec);
        drop(future);
        return;
    }
    if exec.tasks[i].woken_while_running != 0 {
        exec.tasks[i].state = TaskState::Ready as u32;
        let _ = exec.ready.push(id);
    } else {
        exec.tasks[i].state = TaskState::Waiting as u32;
    }
    OWNED.lock().futures[i] = Some(future);
}

static IDLE_HOOK: core::sync::atomic::AtomicUsize = core::sync::atomic::AtomicUsize::new(0);

/// Installs the hook the run loop calls when no task is ready, before it
/// halts: it returns true when it gave the CPU away (to another thread).
pub fn set_idle_hook(hook: fn() -> bool) {
    IDLE_HOOK.store(hook as usize, core::sync::atomic::Ordering::Release);
}

fn idle() -> bool {
    let f = IDLE_HOOK.load(core::sync::atomic::Ordering::Acquire);
    // SAFETY: only `set_idle_hook` stores into IDLE_HOOK, and it stores `fn() -> bool`s.
    f != 0 && unsafe { core::mem::transmute::<usize, fn() -> bool>(f) }()
}

/// Runs ready tasks until `done()` is true, sleeping with `sti; hlt` when none is ready.
pub fn run_until(mut done: impl FnMut() -> bool) {
    while !done() {
        let next = RUSTOS_EXECUTOR.lock().ready.pop();
        match next {
            Some(id) => poll_task(id),
            None if idle() => {}
            None => {
                x86_64::instructions::interrupts::disable();
                if RUSTOS_EXECUTOR.lock().ready.is_empty() && !done() {
                    x86_64::instructions::interrupts::enable_and_hlt();
                } else {
                    x86_64::instructions::interrupts::enable();
                }
            }
        }
    }
}

/// Runs tasks forever.
pub fn run() -> ! {
    run_until(|| false);
    unreachable!()
}

/// A copy of the task table and the ready queue's ids.
pub fn snapshot(out_ready: &mut [u64; QUEUE_CAPACITY]) -> ([TaskSlot; MAX_TASKS], usize) {
    let exec = RUSTOS_EXECUTOR.lock();
    let mut n = 0;
    for id in exec.ready.iter() {
        out_ready[n] = id;
        n += 1;
    }
    (exec.tasks, n)
}
