"""Where something happened in the guest: an instruction count, an address and the
frame-pointer backtrace above it (for the verdicts of the heap sanitizer and the
lock tracker, recorded from inside hooks).

Contract: :func:`site_here` reads the current registers and follows the RBP chain
(``[rbp]`` = caller's RBP, ``[rbp+8]`` = return address; the kernel keeps frame
pointers) for at most :data:`MAX_FRAMES` return addresses, stopping quietly at
unreadable memory, a non-kernel return address or a frame pointer that does not
grow. It never raises. Symbols and source lines are added by the views.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

#: Return addresses kept per backtrace.
MAX_FRAMES = 12
#: Lowest address of kernel code (the higher half's top 2 GiB).
KERNEL_CODE = 0xFFFF_FFFF_8000_0000


@dataclass(frozen=True)
class Site:
    """An event: its instruction count, the address of the instruction (for a call
    caught at the callee's entry: the return address in its caller) and the
    return addresses above it, innermost first (``frames[0]`` is ``rip``)."""

    icount: int
    rip: int
    frames: tuple[int, ...]


def site_here(machine, rip: int, entry_rsp: int | None = None) -> Site:
    """The :class:`Site` of the instruction at ``rip`` now; with ``entry_rsp`` (at a
    function's first instruction) the site is the return address at ``[entry_rsp]``."""
    read = machine.memory.read_virtual
    frames: list[int] = []
    try:
        if entry_rsp is not None:
            rip = struct.unpack("<Q", read(entry_rsp, 8))[0]
        frames.append(rip)
        fp = machine.cpu.reg("rbp")
        while len(frames) < MAX_FRAMES and fp and not fp & 7:
            saved, ret = struct.unpack("<QQ", read(fp, 16))
            if ret < KERNEL_CODE:
                break
            frames.append(ret)
            if saved <= fp:
                break
            fp = saved
    except Exception:  # unreadable stack: the frames so far
        pass
    return Site(machine.icount, rip, tuple(frames))
