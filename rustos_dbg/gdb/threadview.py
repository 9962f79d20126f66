"""The thread half of :class:`~.target.MachineTarget`: gdbstub's ``SupportsThreads`` over the kernel's thread table.

Contract: :class:`ThreadView` is a mixin of the target (it uses its
``machine``, register and translation caches and ``_attach``). Threads and
ids are :mod:`.threads`' (gdb id = the kernel's tid; one thread, id 1, before
the table holds one). The list is read once per stop (cached with the
registers), and only when the table's bytes changed since the last list
(:func:`.threads.table_bytes`): a single step rarely touches it. The thread on the CPU reads as the CPU. Another thread's
registers are the CPU's block with its saved ``TrapFrame`` registers (rax..r15,
rip, eflags, cs, ss, rsp) and its CR3 put over it: the kernel switches
nothing else (no FPU/SSE state, no other selectors or MSRs), so the rest is
what that thread will find on the CPU when it runs again. Its memory is read
through its CR3 (a process's user half is its own). Writing the registers
or memory of a thread that is not on the CPU is refused by gdbstub (``E01``:
the saved context is kernel data the scheduler owns; change it with
``set var`` on the thread table if you must).
"""

from __future__ import annotations

import threading

from gdbstub import Errno, TargetError

from ..inspect.kernel.common import debug_info
from .threads import NO_TABLE, GdbThread, current_layout, current_tid, describe, read_gdb_threads, table_bytes
from .xml import INDEX, OFFSETS, REGISTERS

#: How long a thread query waits for the DWARF (gdb gives up on a reply after 2 s).
DWARF_WAIT_SECONDS = 1.5


def warm_up(image) -> threading.Event:
    """Reads the kernel's DWARF on a background thread: the first thread query
    needs it, and gdb waits 2 s (``remotetimeout``) for a reply while a cold read
    (a new kernel build, nothing in the disk cache yet) takes longer. Until it is
    read, the thread list is the one thread of the CPU (not kept: the next stop
    reads the table)."""

    def read() -> None:
        try:
            debug_info(image)
        except Exception:  # no DWARF: the thread list is then one thread, found without it
            pass
        finally:
            done.set()

    done = threading.Event()

    threading.Thread(target=read, name="rustos-dbg-dwarf", daemon=True).start()
    return done



class ThreadView:
    """``thread_ids``, ``current_thread``, ``thread_extra_info`` and the ``read_thread_*`` methods."""

    #: The table's bytes when :attr:`_threads_kept` was read from it.
    _threads_raw: bytes | None = None
    _threads_kept: tuple[GdbThread, ...] = NO_TABLE

    def _thread_list(self) -> tuple[GdbThread, ...]:
        self._attach()
        if self._threads is None:
            if not self.dwarf_ready.wait(DWARF_WAIT_SECONDS):
                return NO_TABLE
            raw = table_bytes(self.machine)
            if raw is not None and raw == self._threads_raw:
                self._threads = self._threads_kept
            else:
                self._threads = read_gdb_threads(self.machine)
                self._threads_raw, self._threads_kept = raw, self._threads
        return self._threads

    def _thread(self, tid: int) -> GdbThread:
        for thread in self._thread_list():
            if thread.tid == tid:
                return thread
        raise TargetError(f"no thread {tid}", Errno.EINVAL)

    def thread_ids(self) -> list[int]:
        """The live threads' gdb ids (kernel tids), in slot order."""
        return [t.tid for t in self._thread_list()]

    def current_thread(self) -> int:
        """The gdb id of the thread on the CPU."""
        if self._threads is not None:
            return next((t.tid for t in self._threads if t.running), 1)
        self._attach()
        if self._current_layout is None:
            if not self.dwarf_ready.wait(DWARF_WAIT_SECONDS):
                return 1
            self._current_layout = current_layout(self.machine) or False
        return current_tid(self.machine, self._current_layout) if self._current_layout else 1

    def thread_extra_info(self, thread: int) -> str:
        """Name, state and ring of ``thread`` (``info threads`` shows it)."""
        return describe(self._thread(thread))

    def read_thread_registers(self, thread: int) -> bytes:
        """The register block of ``thread``: the CPU's, or its saved context over the CPU's."""
        t = self._thread(thread)
        block = self.read_registers()
        if t.running:
            return block
        out = bytearray(block)
        values = dict(t.saved)
        values["eflags"] = values.pop("rflags", 0)
        if t.cr3 is not None:
            values["cr3"] = t.cr3
        for name, value in values.items():
            i = INDEX[name]
            size = REGISTERS[i].size
            out[OFFSETS[i]:OFFSETS[i] + size] = (value & ((1 << (8 * size)) - 1)).to_bytes(size, "little")
        return bytes(out)

    def read_thread_register(self, thread: int, regno: int) -> bytes:
        """Register ``regno`` of ``thread``."""
        if not 0 <= regno < len(REGISTERS):
            raise TargetError(f"no register number {regno}", Errno.EINVAL)
        block = self.read_thread_registers(thread)
        return block[OFFSETS[regno]:OFFSETS[regno] + REGISTERS[regno].size]

    def read_thread_memory(self, thread: int, address: int, length: int) -> bytes:
        """Memory as ``thread`` sees it: through its CR3."""
        t = self._thread(thread)
        return self._read_in(address, length, None if t.running else t.cr3)
