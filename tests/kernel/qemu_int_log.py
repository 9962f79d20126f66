"""QEMU's interrupt log (``-d int``): the exception chain that ended in a triple fault."""

from __future__ import annotations

import re
from dataclasses import dataclass

_DELIVERY = re.compile(r"^\s*\d+: v=([0-9a-f]+) e=([0-9a-f]+) i=\d cpl=\d IP=[0-9a-f]+:([0-9a-f]+)"
                       r".*?(?: CR2=([0-9a-f]+))?$")
_CHECK = re.compile(r"^check_exception old: 0x([0-9a-f]+) new 0x([0-9a-f]+)")


@dataclass(frozen=True)
class Delivery:
    """One delivery QEMU logged: vector, error code, instruction pointer and CR2 (a #PF's)."""

    vector: int
    error_code: int
    rip: int
    cr2: int | None


def triple_fault_chain(log: str) -> tuple[list[Delivery], int]:
    """The deliveries from the last exception raised outside delivery (``old: 0xffffffff``)
    up to "Triple fault", and the vector whose delivery shut the CPU down."""
    lines = log.splitlines()
    end = max(i for i, line in enumerate(lines) if line.startswith("Triple fault"))
    start = max(i for i, line in enumerate(lines[:end]) if line.startswith("check_exception old: 0xffffffff"))
    chain, last = [], None
    for line in lines[start:end]:
        if m := _CHECK.match(line):
            last = int(m.group(2), 16)
        elif m := _DELIVERY.match(line):
            cr2 = int(m.group(4), 16) if m.group(4) else None
            chain.append(Delivery(int(m.group(1), 16), int(m.group(2), 16), int(m.group(3), 16), cr2))
    return chain, last
