"""What the REPL shows at a stop: why, where (symbol+offset and the
instruction), and for an exception delivery the decoded frame.

Contract: :func:`describe_stop` is a pure view over a machine and a stop; it
returns text and never raises for unreadable guest memory.
"""

from __future__ import annotations

import struct

from ..machine.stops import StopKind


def instruction_at(machine, address: int) -> str:
    """``symbol+off: mnemonic operands`` for the instruction at ``address``."""
    from capstone import CS_ARCH_X86, CS_MODE_64, Cs

    where = machine.symbolize(address)
    try:
        code = machine.read_virtual(address, 16)
    except Exception:
        return f"{address:#x} <{where}>: (unreadable)"
    for insn in Cs(CS_ARCH_X86, CS_MODE_64).disasm(code, address, 1):
        return f"{address:#x} <{where}>: {insn.mnemonic} {insn.op_str}".rstrip()
    return f"{address:#x} <{where}>: (invalid instruction)"


def _frame(machine, entry) -> list[str]:
    """The interrupt frame the CPU pushed for a delivered exception (SDM §6.14.2)."""
    from ..inspect.hw.common import describe_pf_error

    names = ["rip", "cs", "rflags", "rsp", "ss"]
    has_error = entry.error_code is not None
    count = len(names) + has_error
    try:
        words = struct.unpack(f"<{count}Q", machine.read_virtual(entry.new_rsp, 8 * count))
    except Exception:
        return ["  frame: (unreadable)"]
    lines = [f"  frame at {entry.new_rsp:#x} ({'IST' + str(entry.ist) if entry.ist else 'same stack'}):"]
    if has_error:
        text = f"  error code {words[0]:#x}"
        if entry.vector == 14:
            text += f" ({describe_pf_error(words[0])}), CR2 {entry.cr2:#x}"
        lines.append(text)
        words = words[1:]
    lines.append("  " + "  ".join(f"{n} {w:#x}" for n, w in zip(names, words))
                 + f"  (interrupted at {machine.symbolize(words[0])})")
    return lines


def describe_stop(machine, stop) -> str:
    """The stop report."""
    lines = [stop.describe()]
    if stop.kind is StopKind.EXCEPTION and stop.chain:
        entry = stop.chain[-1]
        lines.append(f"  {entry.vector_name} delivered to {machine.symbolize(entry.handler)}")
        lines.extend(_frame(machine, entry))
    if stop.kind is StopKind.TRIPLE_FAULT:
        lines.extend(f"  {entry}" for entry in stop.chain)
    if stop.kind is StopKind.WATCHPOINT and stop.message:
        lines.append(f"  {stop.message}")
    lines.append(instruction_at(machine, machine.reg("rip")))
    return "\n".join(lines)
