"""What the REPL shows at a stop: why, where (symbol+offset and the
instruction), the deliveries involved (as the ``faults`` log shows them) and
for an exception delivery the decoded frame; for a panic its backtrace.
Verdicts come after: a stack
overflow (an exception, triple fault, hang or halt whose latest exception
hit a stack's guard page, :mod:`rustos_dbg.inspect.kernel.stacks`), the heap
sanitizer's error and an IRQ-unsafe lock with their backtraces
(:mod:`rustos_dbg.inspect.kernel.verdicts`).

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


#: Stops after which an overflowed stack is looked for.
_FAULT_STOPS = (StopKind.EXCEPTION, StopKind.TRIPLE_FAULT, StopKind.HANG, StopKind.HALTED, StopKind.ERROR)
#: Exception-log entries searched for a stack overflow.
_RECENT = 64


def _in_thread_stacks(entry) -> bool:
    """True when an exception's CR2 or RSP lies in the threads' stack area (then the
    thread table, read through DWARF, is worth reading)."""
    from ..x86.layout import THREAD_STACK_SLOT, THREAD_STACKS

    area = range(THREAD_STACKS, THREAD_STACKS + 64 * THREAD_STACK_SLOT)
    return entry.vector < 32 and (entry.old_rsp in area or (entry.cr2 or 0) in area)


def stack_overflow(machine, stop=None):
    """The stack overflow behind ``stop`` (a :class:`~rustos_dbg.inspect.kernel.stacks.StackOverflow`),
    from the latest exceptions of the log, or None. The boot and IST stacks are
    tried first; thread stacks (read from DWARF) only when those do not explain it
    and a fault lies in the threads' stack area."""
    from ..inspect.kernel.stacks import find_overflow, read_stacks

    entries = list(stop.chain if stop is not None else ()) + machine.exception_log[-_RECENT:]
    entries.sort(key=lambda e: e.icount)
    if not any(e.vector < 32 for e in entries):
        return None
    try:
        found = find_overflow(read_stacks(machine, machine.symbols), entries, machine, machine.symbols)
        if found is None and any(_in_thread_stacks(e) for e in entries):
            found = find_overflow(read_stacks(machine, machine.symbols, machine.image), entries, machine,
                                  machine.symbols)
    except Exception:  # a report never fails on guest data
        return None
    return found


def verdict_lines(machine, stop) -> list[str]:
    """The verdicts a stop carries (stack overflow, heap error, IRQ-unsafe lock)."""
    from ..inspect.kernel.stacks import overflow_view
    from ..inspect.kernel.verdicts import heap_error_view, irq_unsafe_view

    if stop.kind is StopKind.SANITIZER and stop.detail is not None:
        return [heap_error_view(stop.detail, machine.symbolize, machine.source_line)]
    if stop.kind is StopKind.IRQ_UNSAFE_LOCK and stop.detail is not None:
        return [irq_unsafe_view(stop.detail, machine.symbolize, machine.source_line)]
    if stop.kind in _FAULT_STOPS:
        found = stack_overflow(machine, stop)
        if found is not None:
            return [overflow_view(found, stop.icount)]
    return []


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
    lines.extend(verdict_lines(machine, stop))
    if stop.kind is StopKind.WATCHPOINT:
        if stop.message:
            lines.append(f"  {stop.message}")
        lines.append(_watch_values(stop))
    lines.append(instruction_at(machine, machine.reg("rip")))
    return "\n".join(lines)
