"""What the REPL shows at a stop: why, where (symbol+offset and the
instruction), the deliveries involved (as the ``faults`` log shows them) and
for an exception delivery the decoded frame; for a panic its backtrace.

Contract: :func:`describe_stop` is a pure view over a machine and a stop; it
returns text and never raises for unreadable guest memory. A watchpoint stop
shows the watched range's value: ``old 0x.. -> new 0x..`` for a write,
``value 0x..`` for a read.
"""

from __future__ import annotations

from ..machine.stops import StopKind


def instruction_at(machine, address: int) -> str:
    """``symbol+off: mnemonic operands`` for the instruction at ``address``."""
    from ..inspect.hw.dis import disassemble

    where = machine.symbolize(address)
    listing = disassemble(machine, address, 1, rip=address)
    if not listing.instructions:
        return f"{address:#x} <{where}>: (unreadable)"
    insn = listing.instructions[0]
    if insn.mnemonic == "(bad)":
        return f"{address:#x} <{where}>: (invalid instruction)"
    return f"{address:#x} <{where}>: {insn.mnemonic} {insn.op_str}".rstrip()


def _frame(machine, entry) -> list[str]:
    """The interrupt frame the CPU pushed for a delivered exception (SDM §6.14.2)."""
    from ..inspect.hw.common import describe_pf_error
    from ..structs.frames import InterruptFrame, InterruptFrameWithErrorCode

    layout = InterruptFrame if entry.error_code is None else InterruptFrameWithErrorCode
    try:
        frame = layout.parse(machine.read_virtual(entry.new_rsp, layout.sizeof()))
    except Exception:
        return ["  frame: (unreadable)"]
    lines = [f"  frame at {entry.new_rsp:#x} ({'IST' + str(entry.ist) if entry.ist else 'same stack'}):"]
    if entry.error_code is not None:
        text = f"  error code {frame.error_code:#x}"
        if entry.vector == 14:
            text += f" ({describe_pf_error(frame.error_code)}), CR2 {entry.cr2:#x}"
        lines.append(text)
    lines.append("  " + "  ".join(f"{n} {frame[n]:#x}" for n in ("rip", "cs", "rflags", "rsp", "ss"))
                 + f"  (interrupted at {machine.symbolize(frame.rip)})")
    return lines


def _hex(value) -> str:
    return "(unreadable)" if value is None else f"{value:#x}"


def _watch_values(stop) -> str:
    """``old 0x1 -> new 0x2`` for a write; ``value 0x1`` for a read (and what the
    same instruction left there, when it also wrote)."""
    if stop.message.startswith("read"):
        text = f"  value {_hex(stop.old_value)}"
        if stop.new_value != stop.old_value:
            text += f" (then {_hex(stop.new_value)} after the instruction)"
        return text
    return f"  old {_hex(stop.old_value)} -> new {_hex(stop.new_value)}"


def describe_stop(machine, stop) -> str:
    """The stop report (deliveries shown as the ``faults`` log shows them)."""
    from ..inspect.hw.faults import format_deliveries

    lines = [stop.describe()]
    if stop.kind in (StopKind.EXCEPTION, StopKind.TRIPLE_FAULT) and stop.chain:
        lines.append(format_deliveries(stop.chain, machine.exception_log, machine.symbolize))
    if stop.kind is StopKind.EXCEPTION and stop.chain:
        lines.extend(_frame(machine, stop.chain[-1]))
    if stop.kind is StopKind.PANIC and stop.panic is not None:
        from ..inspect.kernel.panic import format_panic

        lines.extend(format_panic(stop.panic).splitlines()[1:])
    if stop.kind is StopKind.WATCHPOINT:
        if stop.message:
            lines.append(f"  {stop.message}")
        lines.append(_watch_values(stop))
    lines.append(instruction_at(machine, machine.reg("rip")))
    return "\n".join(lines)
