"""A native instruction counter for Unicorn: exact counts at C speed.

Deterministic time needs the exact number of instructions executed, also when
``emu_start`` ends early (HLT, a breakpoint, a device stop), and Unicorn has
no API for that. A Python code hook would cost ~1 us per instruction; this
module installs a ``UC_HOOK_CODE`` hook whose callback is eleven bytes of
x86-64 machine code in an executable page, so the count costs what Unicorn's
own ``count`` option costs.

Contract: ``InstructionCounter(uc)`` counts every instruction about to run in
``count``; when ``count`` reaches ``limit`` it calls ``uc_emu_stop`` instead,
before that instruction runs, so the next slice starts with it, and sets
``stopped``. ``count`` therefore always equals the instructions that ran (a
faulting instruction counts once), and an ``emu_start`` that returned with
``stopped`` clear ended for a reason of the guest's own (HLT) or a hook's. Host requirement: x86-64 with the System V ABI (Linux), the
only hosts Unicorn's wheels for this project target.
"""

from __future__ import annotations

import ctypes
import mmap
import platform

from unicorn.unicorn_py3.unicorn import uclib as lib
from unicorn.unicorn_const import UC_HOOK_BLOCK, UC_HOOK_CODE

#: callback(uc=rdi, address=rsi, size=edx, user_data=rcx) with user_data ->
#: struct {u64 count; u64 limit; void *emu_stop; u64 stopped}.
_CODE = bytes.fromhex(
    "488b01"      # mov rax, [rcx]          ; count
    "483b4108"    # cmp rax, [rcx+8]        ; limit
    "7307"        # jae stop
    "48ffc0"      # inc rax
    "488901"      # mov [rcx], rax
    "c3"          # ret
    "c6411801"    # stop: mov byte [rcx+24], 1 ; stopped = 1
    "ff6110"      # jmp [rcx+16]            ; uc_emu_stop(uc)
)


# uc_hook_add(uc, &hh, type, callback, user_data, begin, end, ...): our own
# prototype, so the callback can be a raw address rather than a ctypes closure.
_HOOK_ADD = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.c_void_p, ctypes.POINTER(ctypes.c_size_t), ctypes.c_int,
    ctypes.c_void_p, ctypes.c_void_p, ctypes.c_uint64, ctypes.c_uint64,
)(("uc_hook_add", lib))


class _State(ctypes.Structure):
    _fields_ = [("count", ctypes.c_uint64), ("limit", ctypes.c_uint64), ("emu_stop", ctypes.c_void_p),
                ("stopped", ctypes.c_uint64)]


_pages: dict[str, mmap.mmap] = {}


def callback_address(name: str, code: bytes) -> int:
    """Address of the machine-code callback ``code`` (named ``name``), mapped once
    per process into an executable page."""
    page = _pages.get(name)
    if page is None:
        if platform.machine() not in ("x86_64", "AMD64"):
            raise RuntimeError("the native instruction counter needs an x86-64 host")
        page = mmap.mmap(-1, mmap.PAGESIZE, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
        page.write(code)
        _pages[name] = page
    return ctypes.addressof(ctypes.c_char.from_buffer(page))


def hook_add(uc, kind: int, callback: int, user_data, begin: int, end: int) -> int:
    """Adds a hook of ``kind`` on [begin, end] of ``uc`` whose callback is the native
    code at address ``callback``; returns its handle."""
    handle = ctypes.c_size_t()
    err = _HOOK_ADD(uc._uch, ctypes.byref(handle), kind, ctypes.c_void_p(callback), user_data,
                    ctypes.c_uint64(begin), ctypes.c_uint64(end))
    if err != 0:
        raise RuntimeError(f"uc_hook_add for a native counter failed ({err})")
    return handle.value


class Limited:
    """The stop limit of a native counter whose ``_state`` (a ctypes structure)
    has ``limit`` and ``stopped`` fields: shared by :class:`InstructionCounter`
    and :class:`~.blocks.BlockCounter`."""

    _state: ctypes.Structure

    @property
    def stopped(self) -> bool:
        """True when the counter stopped the engine since :meth:`arm`."""
        return bool(self._state.stopped)

    def arm(self, limit: int) -> None:
        """Stops the engine when the count would pass ``limit``; clears :attr:`stopped`."""
        self._state.stopped = 0
        self.limit = limit

    def stop_soon(self) -> None:
        """Stops the engine at the next count (safe from any thread: one aligned store)."""
        self._state.limit = 0

    @property
    def limit_address(self) -> int:
        """Host address of the 8-byte limit: storing 0 there (from any thread or a
        signal handler) is :meth:`stop_soon`."""
        return ctypes.addressof(self._state) + type(self._state).limit.offset

    @property
    def limit(self) -> int:
        """The count the engine does not pass."""
        return self._state.limit

    @limit.setter
    def limit(self, value: int) -> None:
        self._state.limit = min(value, 2**64 - 1)


class InstructionCounter(Limited):
    """Counts executed instructions of one Unicorn engine, and stops it at a limit.

    With ``blocks=True`` it counts executed translation blocks instead
    (``UC_HOOK_BLOCK``): much cheaper, and still a synchronous stop at a block
    boundary, which is what the fast mode needs to end its slices safely.
    """

    def __init__(self, uc, blocks: bool = False) -> None:
        """Install the hook on every address of ``uc``."""
        self._state = _State(0, 2**64 - 1, ctypes.cast(lib.uc_emu_stop, ctypes.c_void_p).value, 0)
        self._handle = hook_add(uc, UC_HOOK_BLOCK if blocks else UC_HOOK_CODE, callback_address("count", _CODE),
                                ctypes.cast(ctypes.pointer(self._state), ctypes.c_void_p), 1, 0)
        self._uc = uc

    @property
    def count(self) -> int:
        """Instructions executed so far."""
        return self._state.count

    @count.setter
    def count(self, value: int) -> None:
        self._state.count = value

    def remove(self) -> None:
        """Remove the hook."""
        lib.uc_hook_del(self._uc._uch, ctypes.c_size_t(self._handle))
