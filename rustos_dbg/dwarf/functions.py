"""Functions and their locals: what ``info locals``, ``info args`` and ``p NAME`` need of a frame.

Contract: :func:`function_table` (``elf``: a ``KernelImage`` or an ELF path)
reads every concrete ``DW_TAG_subprogram`` (one with code: ``DW_AT_low_pc``)
in one pass, the first time it is asked for, keeps the result on the image
and caches it on disk (:mod:`.cache`). For each function it records its pc
ranges, its ``DW_AT_frame_base`` expression and its parameters
(``DW_TAG_formal_parameter``) and variables (``DW_TAG_variable``), with
their type (a ``.debug_info`` offset for :meth:`DebugInfo.type_at`), their
``DW_AT_location`` (one expression, or a location list of ``(low, high,
expression)`` with absolute addresses) and the pc ranges of the innermost
lexical block that holds them. Names and types given through
``DW_AT_abstract_origin`` are resolved. The locals of functions inlined
into another (``DW_TAG_inlined_subroutine``) are not recorded: a frame shows
the locals of the function the code belongs to.

``table.function_at(pc)`` -> the innermost :class:`RawFunction` whose ranges
hold ``pc`` (None outside any); ``function.visible(pc)`` -> its locals whose
scope holds ``pc``, parameters first, in DWARF order.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from .cache import cached
from .index import _CU_RELATIVE, _text
from .source import kernel_image

_VARIABLE_TAGS = {"DW_TAG_variable": False, "DW_TAG_formal_parameter": True}


@dataclass(slots=True)
class RawLocal:
    """A parameter or variable of a function."""

    name: str | None
    type: int | None
    param: bool
    location: object = None      # bytes (one expression), tuple of (low, high, bytes), or None
    scope: tuple = ()            # ((low, high), ...) of the innermost lexical block; () = the whole function
    origin: int | None = None    # DW_AT_abstract_origin, resolved after the pass


@dataclass(slots=True)
class RawFunction:
    """A function with code: its pc ranges, frame base and locals."""

    ranges: tuple
    frame_base: bytes | None
    locals: list = field(default_factory=list)

    @property
    def low(self) -> int:
        """The lowest address of its code."""
        return min(lo for lo, _ in self.ranges)

    def contains(self, pc: int) -> bool:
        """True when ``pc`` lies in one of the function's ranges."""
        return any(lo <= pc < hi for lo, hi in self.ranges)

    def visible(self, pc: int) -> list[RawLocal]:
        """The locals in scope at ``pc``: parameters first, then variables."""
        seen = [v for v in self.locals if v.name and (not v.scope or any(lo <= pc < hi for lo, hi in v.scope))]
        return [v for v in seen if v.param] + [v for v in seen if not v.param]


class FunctionTable:
    """The functions, sorted by their lowest address."""

    def __init__(self, functions: list[RawFunction]) -> None:
        """``functions``: every concrete subprogram."""
        self._entries = sorted(((lo, hi, f) for f in functions for lo, hi in f.ranges if hi > lo),
                               key=lambda e: (e[0], -e[1]))
        self._starts = [e[0] for e in self._entries]

    def function_at(self, pc: int) -> RawFunction | None:
        """The innermost function whose ranges hold ``pc``."""
        i = bisect.bisect_right(self._starts, pc)
        best = None
        for lo, hi, f in reversed(self._entries[max(0, i - 64):i]):
            if lo <= pc < hi and (best is None or hi - lo < best[1] - best[0]):
                best = (lo, hi, f)
        return best[2] if best else None

    def __len__(self) -> int:
        return len(self._entries)


def _ref(attr, cu_offset: int) -> int:
    return attr.value + cu_offset if attr.form in _CU_RELATIVE else attr.value


class _Pass:
    """One pass over the DIEs of every CU (see the module)."""

    def __init__(self, dwarf) -> None:
        self.dwarf = dwarf
        self.functions: list[RawFunction] = []
        self.named: dict[int, tuple] = {}   # DIE offset -> (name, type) of params, variables, subprograms
        self._loclists = None
        self._rangelists = None

    def _ranges(self, attrs, cu_base: int) -> tuple:
        low, high = attrs.get("DW_AT_low_pc"), attrs.get("DW_AT_high_pc")
        if low is not None and high is not None:
            end = high.value if high.form == "DW_FORM_addr" else low.value + high.value
            return ((low.value, end),)
        ranges = attrs.get("DW_AT_ranges")
        if ranges is None:
            return ()
        if self._rangelists is None:
            self._rangelists = self.dwarf.range_lists()
        out, base = [], cu_base
        for entry in self._rangelists.get_range_list_at_offset(ranges.value):
            if hasattr(entry, "base_address"):
                base = entry.base_address
            elif getattr(entry, "is_absolute", False):
                out.append((entry.begin_offset, entry.end_offset))
            else:
                out.append((base + entry.begin_offset, base + entry.end_offset))
        return tuple(out)

    def _location(self, attr, cu_base: int):
        if attr.form == "DW_FORM_exprloc" or isinstance(attr.value, list):
            return bytes(attr.value)
        if self._loclists is None:
            self._loclists = self.dwarf.location_lists()
        out, base = [], cu_base
        for entry in self._loclists.get_location_list_at_offset(attr.value):
            if hasattr(entry, "base_address"):
                base = entry.base_address
            elif hasattr(entry, "loc_expr"):
                lo, hi = (entry.begin_offset, entry.end_offset) if entry.is_absolute else \
                    (base + entry.begin_offset, base + entry.end_offset)
                out.append((lo, hi, bytes(entry.loc_expr)))
        return tuple(out)

    def run_cu(self, cu) -> None:
        top = cu.get_top_DIE()
        low = top.attributes.get("DW_AT_low_pc")
        cu_base = low.value if low is not None else 0
        base = cu.cu_offset
        # stack entries: (tag, function or None, scope ranges, inside an inlined subroutine)
        stack: list = []
        for die in cu.iter_DIEs():
            if die.tag is None:
                if stack:
                    stack.pop()
                continue
            tag, attrs = die.tag, die.attributes
            func, scope, inlined = (stack[-1][1], stack[-1][2], stack[-1][3]) if stack else (None, (), False)
            name, typ = attrs.get("DW_AT_name"), attrs.get("DW_AT_type")
            if tag in _VARIABLE_TAGS or tag == "DW_TAG_subprogram":
                self.named[die.offset] = (_text(name.value) if name is not None else None,
                                          _ref(typ, base) if typ is not None else None)
            if tag == "DW_TAG_subprogram":
                ranges = self._ranges(attrs, cu_base)
                fb = attrs.get("DW_AT_frame_base")
                func = RawFunction(ranges, bytes(fb.value) if fb is not None and fb.form == "DW_FORM_exprloc"
                                   else None) if ranges else None
                if func is not None:
                    self.functions.append(func)
                scope, inlined = (), False
            elif tag == "DW_TAG_lexical_block" and not inlined:
                scope = self._ranges(attrs, cu_base) or scope
            elif tag == "DW_TAG_inlined_subroutine":
                inlined = True
            elif tag in _VARIABLE_TAGS and func is not None and not inlined and not _is_static(attrs):
                origin = attrs.get("DW_AT_abstract_origin")
                loc = attrs.get("DW_AT_location")
                func.locals.append(RawLocal(
                    _text(name.value) if name is not None else None, _ref(typ, base) if typ is not None else None,
                    _VARIABLE_TAGS[tag], self._location(loc, cu_base) if loc is not None else None, scope,
                    _ref(origin, base) if origin is not None else None))
            if die.has_children:
                stack.append((tag, func, scope, inlined))

    def resolve(self) -> None:
        """Names and types given by an abstract origin."""
        for func in self.functions:
            for local in func.locals:
                if local.origin is not None:
                    name, typ = self.named.get(local.origin, (None, None))
                    local.name = local.name or name
                    local.type = local.type if local.type is not None else typ
                    local.origin = None


def _is_static(attrs) -> bool:
    loc = attrs.get("DW_AT_location")
    return loc is not None and loc.form == "DW_FORM_exprloc" and bool(loc.value) and loc.value[0] == 0x03 \
        and len(loc.value) == 9


def build_function_table(elf) -> FunctionTable:
    """The function table of a pyelftools ``ELFFile`` (empty without DWARF)."""
    if not elf.has_dwarf_info():
        return FunctionTable([])
    dwarf = elf.get_dwarf_info()
    work = _Pass(dwarf)
    for cu in dwarf.iter_CUs():
        work.run_cu(cu)
    work.resolve()
    return FunctionTable(work.functions)


def function_table(elf) -> FunctionTable:
    """The function table of ``elf`` (a ``KernelImage`` or an ELF path), built once per image."""
    return kernel_image(elf).derived(
        "functions", lambda image: cached(image, "functions", lambda i: build_function_table(i.elf)))
