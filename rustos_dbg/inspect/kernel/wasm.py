"""The WASM instances (``RUSTOS_WASM``): state, module, memory, fuel, call stack.

Contract: :func:`read_wasm` (reader, dwarf) finds ``RUSTOS_WASM`` through
DWARF, reads it once and parses it with the ``WasmState`` layout
(:mod:`rustos_dbg.structs.kernel`, docs/kernel-structures.md §17) into a
frozen :class:`WasmReport`: the runs since boot and each used instance slot
(:class:`WasmInstance`: path, state, module address and length, memory pages,
fuel limit and used, and the call stack innermost first as
:class:`WasmFrame`\\ s named from the module's ``name`` section, read from the
module's bytes in the ramdisk). ``problems`` notes a bad magic or version, a
depth beyond the stack array (clamped) and an unreadable module (frames then
unnamed). Only an unreadable ``RUSTOS_WASM`` raises. Views:
:func:`wasm_view` and :func:`to_json`.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...structs import kernel as layouts
from .common import Problem, debug_info, kernel_part, magic_problem, static, to_json, try_bytes
from .wasmnames import function_names

__all__ = ["WasmFrame", "WasmInstance", "WasmReport", "read_wasm", "wasm_view", "to_json"]

#: Longest module read to find the names.
MAX_MODULE = 1 << 20


@dataclass(frozen=True)
class WasmFrame:
    """One call-stack entry: the function index (imports first) and its name, if known."""

    index: int
    name: str | None


@dataclass(frozen=True)
class WasmInstance:
    """One instance slot."""

    slot: int
    state: str
    path: str
    module_addr: int
    module_len: int
    memory_addr: int
    memory_pages: int
    fuel_limit: int
    fuel_used: int
    stack: tuple[WasmFrame, ...]   #: innermost first


@dataclass(frozen=True)
class WasmReport:
    """``RUSTOS_WASM``: the runs and the instances that ran."""

    address: int
    runs: int
    instances: tuple[WasmInstance, ...]
    problems: tuple[Problem, ...]

    JSON_EXTRA = ("running",)

    @property
    def running(self) -> int:
        """Instances running now."""
        return sum(1 for i in self.instances if i.state == "running")


def read_wasm(reader, dwarf=None) -> WasmReport:
    """Decodes ``RUSTOS_WASM`` (see the module contract)."""
    info = debug_info(dwarf)
    value = static(reader, info, "RUSTOS_WASM")
    ws = kernel_part(value, layouts.WasmState)
    problems = magic_problem("wasm", ws, "WASM")
    instances = []
    for i, slot in enumerate(ws.instances):
        if slot.state == 0:
            continue
        instances.append(_instance(reader, i, slot, problems))
    return WasmReport(value.address, ws.runs, tuple(instances), tuple(problems))


def _instance(reader, i: int, slot, problems: list) -> WasmInstance:
    view = slot.view
    depth = view.depth
    if depth > len(view.stack):
        problems.append(Problem(f"instance {i}", f"depth {depth} exceeds the {len(view.stack)}-entry stack"))
        depth = len(view.stack)
    module = None
    if 0 < slot.module_len <= MAX_MODULE:
        module = try_bytes(reader, slot.module_addr, slot.module_len)
    if module is None:
        problems.append(Problem(f"instance {i}", f"module at {slot.module_addr:#x} ({slot.module_len} bytes) "
                                                 "is unreadable: frames are unnamed"))
    names = function_names(module) if module else {}
    stack = tuple(WasmFrame(f, names.get(f)) for f in reversed(list(view.stack[:depth])))
    path = bytes(slot.path[:min(slot.path_len, len(slot.path))]).decode("utf-8", "replace")
    state = layouts.WASM_SLOT_STATE_NAMES.get(slot.state, f"unknown ({slot.state})")
    return WasmInstance(i, state, path, slot.module_addr, slot.module_len, view.memory_addr, view.memory_pages,
                        view.fuel_limit, view.fuel_used, stack)


def wasm_view(r: WasmReport) -> str:
    """Compact text: each instance with its fuel, memory and call stack (innermost first)."""
    lines = [f"wasm: {r.runs} run(s) since boot, {r.running} running"]
    if not r.instances:
        lines.append("no instance has run (shell: wasm /ram/NAME.wasm)")
    for inst in r.instances:
        memory = f"{inst.memory_pages} page(s)" + (f" at {inst.memory_addr:#x}" if inst.memory_addr else "")
        lines.append(f"instance {inst.slot}: {inst.path} {inst.state}")
        lines.append(f"  module {inst.module_len} bytes at {inst.module_addr:#x}; memory {memory}; "
                     f"fuel {inst.fuel_used} of {inst.fuel_limit}")
        if inst.stack:
            lines.append(f"  call stack ({len(inst.stack)} frame(s), innermost first):")
            lines += [f"    #{n:<2} func {f.index} {f.name or '?'}" for n, f in enumerate(inst.stack)]
        else:
            lines.append("  call stack: empty")
    if r.problems:
        lines.append(f"check: {len(r.problems)} problem(s)")
        lines += [f"  - {p}" for p in r.problems]
    return "\n".join(lines)
