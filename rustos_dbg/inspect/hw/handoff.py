"""``handoff``: how the loader entered the kernel, and what a Limine kernel asked and got.

Contract: :func:`read_handoff` (reader, plan) builds a :class:`Handoff` from the
machine's :class:`~rustos_dbg.machine.boot.BootPlan` (the protocol, entry
``rip``/``rsp``, the loader's notes) and, for a Limine kernel, from guest memory
read through ``reader``: each request's address, revision and the response
pointer the kernel sees now (0 for NULL; None when its page is not readable),
with the base revision served and the memory map handed over. Views:
:func:`format_handoff` (text) and ``to_json`` of the package.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestView:
    """One Limine request as the kernel holds it."""

    name: str
    address: int            #: virtual address of the request
    revision: int
    response: int | None    #: the response pointer now (0: NULL), None if unreadable


@dataclass(frozen=True)
class MemmapEntry:
    """One entry of the memory map handed to a Limine kernel."""

    base: int
    length: int
    type: str


@dataclass(frozen=True)
class Handoff:
    """The boot handoff of the machine's kernel."""

    protocol: str
    entry: int
    stack: int
    notes: tuple[str, ...]
    base_revision: int | None = None
    requests: tuple[RequestView, ...] = ()
    memmap: tuple[MemmapEntry, ...] = ()


def read_handoff(reader, plan) -> Handoff:
    """The handoff described by ``plan``, with the responses read through ``reader``."""
    from ...machine.limine_protocol import MEMMAP_TYPE_NAMES

    base = Handoff(plan.protocol, plan.state.rip, plan.state.rsp, tuple(plan.notes))
    limine = plan.detail
    if plan.protocol != "limine" or limine is None:
        return base
    requests = []
    for req in limine.requests:
        address = limine.kernel_virt + req.offset
        try:
            response = struct.unpack("<Q", reader.read_virtual(address + 40, 8))[0]
        except Exception:  # not mapped in the kernel's tables now
            response = None
        requests.append(RequestView(req.name, address, req.revision, response))
    memmap = tuple(MemmapEntry(b, n, MEMMAP_TYPE_NAMES[t]) for b, n, t in limine.memmap)
    return Handoff(base.protocol, base.entry, base.stack, base.notes, limine.base_revision, tuple(requests), memmap)


def format_handoff(h: Handoff) -> str:
    """Text: protocol and entry, the requests with their responses, the memory map, the notes."""
    lines = [f"{h.protocol} kernel entered at {h.entry:#x} with rsp {h.stack:#x}"]
    if h.base_revision is not None:
        lines.append(f"base revision {h.base_revision}")
        lines.append(f"{len(h.requests)} requests:")
        for r in h.requests:
            got = "unreadable" if r.response is None else ("NULL" if r.response == 0 else f"{r.response:#x}")
            lines.append(f"  {r.address:#x} {r.name:<28} rev {r.revision}  response {got}")
        lines.append("memory map:")
        for e in h.memmap:
            lines.append(f"  {e.base:#014x}-{e.base + e.length:#014x} {e.length:#12x}  {e.type}")
    lines += [f"note: {n}" for n in h.notes]
    return "\n".join(lines)
