"""System calls decoded: the kernel's table, each call's process and arguments, the strace-like log.

Contract:

* :func:`read_syscall_table` reads ``RUSTOS_SYSCALLS`` (docs/kernel-structures.md
  §14: an array of ``SyscallInfo { number: u64, name: [u8; 16], args: [u8; 32] }``,
  the names NUL padded, the arguments' names comma separated) through its
  DWARF type: numbers, names and arguments come from the kernel, never from
  a list here. A kernel without the static raises, as any missing static does.
* :func:`describer` returns the callable the machine's trace
  (``machine.syscalls.describe``) calls at each call from ring 3: it reads
  the process on the CPU (``RUSTOS_THREADS``' current slot: pid and name) and
  decodes the arguments by their kinds (``buf``: the bytes at the pointer in
  the caller's address space, as many as the next argument says, at most
  :data:`STRING_MAX` shown, for an argument named ``buf``, ``path`` or
  ``cmd``: :data:`STRING_ARGS`; a call that fills its buffer, such as
  ``read``, shows what it held before the call; ``ptr``: hex; any other: a
  signed decimal), at that moment, into a frozen :class:`SyscallDetail`.
  :func:`install` sets it on a machine (the REPL session and the gdb target
  do), once; calls made before have no detail and are shown raw.
* :func:`read_syscall_log` turns the trace's kept calls into
  :class:`SyscallRecord` rows (call, result matched to its call, instruction
  counts) plus the per-name counts of older calls folded away;
  :func:`syscalls_view` renders them (text), :func:`to_json` as JSON.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...machine.errors import GuestMemoryError
from .common import debug_info, static, to_json

__all__ = ["STRING_ARGS", "SyscallSpec", "SyscallDetail", "SyscallRecord", "SyscallLog", "STRING_MAX", "read_syscall_table",
           "describer", "install", "read_syscall_log", "syscalls_view", "syscall_number", "to_json"]

#: Bytes of a string argument shown.
STRING_MAX = 64
#: Argument names whose value points to bytes in user memory, the next argument being their length.
STRING_ARGS = frozenset({"buf", "path", "cmd"})


@dataclass(frozen=True)
class SyscallSpec:
    """One entry of the kernel's table."""

    number: int
    name: str
    args: tuple[str, ...]      #: the names of the arguments it takes (rdi, rsi, rdx)


@dataclass(frozen=True)
class SyscallDetail:
    """A call decoded when it was made."""

    pid: int | None
    process: str
    name: str
    args: str                  #: the decoded arguments, comma separated

    def __str__(self) -> str:
        return f"{self.name}({self.args}) by {self.pid} ({self.process})"


@dataclass(frozen=True)
class SyscallRecord:
    """One row of the log."""

    position: int              #: the call's position in the trace's log
    icount: int
    pid: int | None
    process: str
    number: int
    name: str
    args: str
    result: int | None         #: signed rax at the return to ring 3 (None: not returned)
    returned_at: int | None    #: instruction count of the return


@dataclass(frozen=True)
class SyscallLog:
    """The kept calls, oldest first, and the older ones counted by name."""

    records: tuple[SyscallRecord, ...]
    folded: tuple[tuple[str, int], ...]
    total: int                 #: calls ever recorded


def read_syscall_table(reader, dwarf=None) -> tuple[SyscallSpec, ...]:
    """The kernel's ``RUSTOS_SYSCALLS``, by number."""
    table = static(reader, debug_info(dwarf), "RUSTOS_SYSCALLS")
    specs = []
    for entry in table:
        names = _cstr(entry["args"])
        specs.append(SyscallSpec(entry["number"].int(), _cstr(entry["name"]),
                                 tuple(n.strip() for n in names.split(",") if n.strip())))
    return tuple(specs)


def _cstr(value) -> str:
    return bytes(value.ints()).split(b"\0", 1)[0].decode("utf-8", "replace")


def _spec(table, number: int) -> SyscallSpec | None:
    return next((s for s in table if s.number == number), None)


def syscall_number(table: tuple[SyscallSpec, ...], word: str) -> int:
    """The number of ``word`` (a name in ``table`` or a number); ValueError otherwise."""
    for spec in table:
        if spec.name == word:
            return spec.number
    try:
        return int(word, 0)
    except ValueError:
        names = ", ".join(s.name for s in table)
        raise ValueError(f"no system call '{word}' (the kernel has: {names})") from None


def _name(table, number: int) -> str:
    spec = _spec(table, number)
    return spec.name if spec is not None else f"syscall_{number}"


def _text(data: bytes, cut: bool) -> str:
    out = []
    for b in data:
        ch = chr(b)
        if ch == '"' or ch == "\\":
            out.append("\\" + ch)
        elif 32 <= b < 127:
            out.append(ch)
        else:
            out.append({10: "\\n", 9: "\\t", 13: "\\r"}.get(b, f"\\x{b:02x}"))
    return '"' + "".join(out) + '"' + ("..." if cut else "")


def decode_args(machine, spec: SyscallSpec | None, args: tuple[int, int, int]) -> str:
    """The arguments as text, by ``spec``'s argument names (raw hex without a spec), read now."""
    if spec is None:
        return ", ".join(f"{a:#x}" for a in args)
    parts = []
    for i, kind in enumerate(spec.args[:3]):
        value = args[i]
        if kind in STRING_ARGS:
            length = args[i + 1] if i + 1 < 3 else STRING_MAX
            shown = min(length, STRING_MAX)
            try:
                parts.append(_text(machine.read_virtual(value, shown), shown < length) if shown else '""')
            except GuestMemoryError:
                parts.append(f"{value:#x} (unreadable)")
        elif kind == "ptr":
            parts.append(f"{value:#x}")
        else:
            parts.append(str(value - (1 << 64) if value >> 63 else value))
    return ", ".join(parts)


def _current_process(machine, info) -> tuple[int | None, str]:
    try:
        table = static(machine, info, "RUSTOS_THREADS")["data"]["value"]
        slot = table["threads"][table["current"].int()]
        name = bytes(slot["name"].ints()).split(b"\0", 1)[0].decode("utf-8", "replace")
        return slot["tid"].int(), name
    except Exception:  # a kernel without the table (or not yet set up)
        return None, "?"


def describer(machine):
    """The machine trace's ``describe``: reads the process and the arguments at each
    call (the DWARF and the table are loaded at the first call, not before)."""
    loaded: list = []

    def describe(call) -> SyscallDetail:
        if not loaded:
            info = debug_info(machine.image)
            loaded.extend((info, read_syscall_table(machine, info)))
        info, table = loaded
        pid, process = _current_process(machine, info)
        spec = _spec(table, call.number)
        return SyscallDetail(pid, process, _name(table, call.number), decode_args(machine, spec, call.args))

    return describe


def install(machine) -> None:
    """Sets :func:`describer` on ``machine.syscalls`` unless one is set (a kernel
    without the table then records each call's detail as the error's text)."""
    if machine.syscalls.describe is None:
        machine.syscalls.describe = describer(machine)


def _signed(value: int) -> int:
    return value - (1 << 64) if value >> 63 else value


def read_syscall_log(machine, dwarf=None, last: int | None = None) -> SyscallLog:
    """The trace's kept calls (the ``last`` ones), decoded, with their results."""
    try:
        table = read_syscall_table(machine, dwarf if dwarf is not None else machine.image)
    except Exception:
        table = ()
    trace = machine.syscalls
    records = []
    for position, call, ret in trace.calls(last):
        d = call.detail if isinstance(call.detail, SyscallDetail) else None
        records.append(SyscallRecord(
            position, call.icount, d.pid if d else None, d.process if d else "?", call.number,
            d.name if d else _name(table, call.number),
            d.args if d else ", ".join(f"{a:#x}" for a in call.args),
            _signed(ret.result) if ret else None, ret.icount if ret else None))
    folded = tuple((_name(table, n), c) for n, c in trace.log.folded.items())
    kept = sum(1 for e in trace.log if not hasattr(e, "result"))
    total = kept + sum(c for _, c in folded)
    return SyscallLog(tuple(records), folded, total)


def syscalls_view(log: SyscallLog) -> str:
    """A header, then one row per call: instruction count, pid, process, number,
    the call with its arguments, ``=`` its result (``...`` while it has not returned)."""
    lines = [f"system calls: {log.total} recorded, {len(log.records)} shown"]
    if log.folded:
        lines.append("  older calls, counted: " + ", ".join(f"{n} {c}" for n, c in log.folded))
    lines.append(f"  {'ICOUNT':>12} {'PID':>4} {'PROCESS':<12} {'NR':>3}  CALL")
    for r in log.records:
        result = "..." if r.result is None else str(r.result)
        pid = "?" if r.pid is None else str(r.pid)
        lines.append(f"  {r.icount:>12} {pid:>4} {r.process:<12} {r.number:>3}  {r.name}({r.args}) = {result}")
    return "\n".join(lines)
