"""Where a future is suspended: the async backtrace of a task, decoded from DWARF.

Contract: :func:`async_backtrace` (reader, info, address, type) reads the
future at ``address`` whose DWARF type is ``type`` and returns a tuple of
:class:`AwaitLevel`, outermost first. An ``async fn`` is a state machine that
rustc describes (checked on rustc 1.96, DWARF 4) as a structure named
``{async_fn_env#0}`` (``{async_block_env#N}`` for an ``async`` block) in the
function's namespace, with a ``DW_TAG_variant_part`` whose discriminant is
the artificial member ``__state`` and whose variants' payload types are named
``Unresumed``, ``Returned``, ``Panicked`` and ``Suspend0``, ``Suspend1``...;
the variant's member carries ``DW_AT_decl_file``/``DW_AT_decl_line``: for a
``Suspend<N>`` the line of its ``.await``, for ``Unresumed`` the ``fn`` line.
A suspended state holds the future it awaits in the member ``__awaitee``:
the backtrace follows it level by level (through ``Pin``/``Box`` pointers
whose pointee type the DWARF names), until a future that is not a state
machine (``time::Sleep``, a ``PollFn``...): that leaf level shows its type
and its integer fields. Reads that fail end the backtrace with a level whose
``error`` says why; nothing raises on bad guest data.
:func:`future_die` finds the DWARF type of a boxed ``dyn Future`` from its
vtable (see :func:`.tasks.future_type` for the method). Views:
:func:`format_level`, :func:`backtrace_lines`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ...dwarf import DwarfError, Value
from ...machine.errors import GuestMemoryError
from .tasks import future_type, vtable_variable

__all__ = ["AwaitLevel", "Captured", "async_backtrace", "future_die", "is_state_machine", "format_level",
           "backtrace_lines", "MAX_DEPTH"]

#: Levels followed at most (a cycle in corrupt memory must end).
MAX_DEPTH = 16
_ENV_MARKS = ("{async_fn_env#", "{async_block_env#")
_POINTERS = ("core::pin::Pin<", "alloc::boxed::Box<", "&mut ", "&")


@dataclass(frozen=True)
class Captured:
    """A variable a suspended async fn keeps: name, type, address, and its value when an integer."""

    name: str
    type_name: str
    address: int
    value: int | None = None
    type_offset: int | None = None   #: the type's DIE offset (for a full rendering of the value)

    def __str__(self) -> str:
        if self.value is None:
            shown = f"<{self.type_name} at {self.address:#x}>"
        elif self.type_name == "bool":
            shown = "true" if self.value else "false"
        else:
            shown = str(self.value)
        return f"{self.name} = {shown}"


@dataclass(frozen=True)
class AwaitLevel:
    """One future in the chain: its type, the function it belongs to, its state and the line.

    ``state`` is the variant of a state machine (``Suspend0``, ``Unresumed``,
    ``Returned``, ``Panicked``) or None for a leaf future; ``file``/``line`` the
    variant's declaration (the ``.await``); ``fields`` a leaf's integer fields;
    ``captured`` the variables a suspended state keeps across its await;
    ``error`` why the level could not be read (then it is the last one).
    """

    address: int
    type_name: str
    function: str
    state: str | None = None
    file: str | None = None
    line: int | None = None
    fields: tuple[tuple[str, int], ...] = ()
    captured: tuple["Captured", ...] = ()
    error: str | None = None

    @property
    def where(self) -> str | None:
        """``file:line`` with the file's last two path parts, or None."""
        if self.line is None:
            return None
        parts = (self.file or "?").split("/")
        return f"{'/'.join(parts[-2:])}:{self.line}"


def is_state_machine(typ) -> bool:
    """Whether ``typ`` is an async fn's (or block's) state machine."""
    if typ is None or typ.kind != "variant" or not any(m in (typ.short_name or "") for m in _ENV_MARKS):
        return False
    discr = typ.discriminant
    return discr is not None and discr.name == "__state"


def _function(typ) -> str:
    """``a::b::f::{async_fn_env#0}`` -> ``a::b::f``; other types keep their name."""
    name = typ.name
    for mark in _ENV_MARKS:
        cut = name.find("::" + mark)
        if cut > 0:
            return name[:cut]
    return name


def future_die(info, reader, vtable: int):
    """The DWARF type of the ``dyn Future`` whose vtable is at ``vtable``, or None.

    The vtable's DWARF variable names its type (``DW_AT_containing_type`` of
    its ``{vtable_type}``); without it, the name found by
    :func:`.tasks.future_type` (the variable's name, or the symbol of the
    vtable's drop function) is looked up among the DWARF's types.
    """
    var = vtable_variable(info, vtable)
    if var is not None and var.type is not None and var.type.containing_type is not None:
        return var.type.containing_type
    name, _ = future_type(info, reader, vtable)
    if not name:
        return None
    try:
        return info.find_type(name)
    except DwarfError:
        return None


def _through_pointers(value: Value, reader):
    """A ``Pin<Box<T>>``/``Pin<&mut T>``/``Box<T>`` followed to ``T`` (None when it cannot be)."""
    for _ in range(6):
        typ = value.type
        if not typ.name.startswith(_POINTERS) and typ.kind != "pointer":
            return value
        try:
            target = value.deref()
        except DwarfError:
            return None  # a dyn pointee: the DWARF does not say what it is
        if target is None:
            return None
        value = target
    return None


def _scalar(typ) -> bool:
    return typ.kind in ("base", "enum") and typ.size in (1, 2, 4, 8)


def _captured(payload: Value) -> tuple[Captured, ...]:
    out = []
    for member in payload.type.members:
        if not member.name or member.name.startswith("__"):
            continue
        mtype = member.type
        field = payload.at(member.offset, mtype)
        out.append(Captured(member.name, mtype.name, field.address, field.int() if _scalar(mtype) else None,
                            mtype.offset))
    return tuple(out)


def _leaf_fields(value: Value) -> tuple[tuple[str, int], ...]:
    out = []
    for member in value.type.members:
        mtype = member.type
        if member.name and not member.artificial and _scalar(mtype):
            out.append((member.name, value.at(member.offset, mtype).int()))
    return tuple(out[:6])


def async_backtrace(reader, info, address: int, typ) -> tuple[AwaitLevel, ...]:
    """The chain of futures from the one at ``address`` (of type ``typ``) inward."""
    levels: list[AwaitLevel] = []
    value = Value(typ, address, reader)
    for _ in range(MAX_DEPTH):
        typ = value.type
        base = AwaitLevel(value.address, typ.name, _function(typ))
        try:
            if not is_state_machine(typ):
                levels.append(AwaitLevel(base.address, base.type_name, base.function, fields=_leaf_fields(value)))
                break
            variant = value.active_variant()
            if variant is None:
                levels.append(replace(base, error="state value names no variant"))
                break
            member = variant.member
            payload = value.at(member.offset, member.type)
            levels.append(AwaitLevel(base.address, base.type_name, base.function, variant.type_name,
                                     member.decl_file, member.decl_line, captured=_captured(payload)))
            if not payload.type.has_member("__awaitee"):
                break
            inner = _through_pointers(payload["__awaitee"], reader)
            if inner is None:
                awaitee = payload.type.member("__awaitee").type.name
                levels.append(AwaitLevel(0, awaitee, awaitee, error="no DWARF for this future's type"))
                break
            value = inner
        except (GuestMemoryError, DwarfError) as e:
            levels.append(replace(base, error=str(e)))
            break
    return tuple(levels)


def format_level(level: AwaitLevel) -> str:
    """One level: ``function (state) at file:line`` or ``Type { field: value }``."""
    if level.error:
        return f"{level.function}: {level.error}"
    if level.state is None:
        fields = ", ".join(f"{k}: {v}" for k, v in level.fields)
        return f"{level.type_name}" + (f" {{ {fields} }}" if fields else "")
    where = f" at {level.where}" if level.where else ""
    return f"{level.function} ({level.state}){where}"


def backtrace_lines(levels, captured: bool = False) -> list[str]:
    """``#0  ...`` one line per level, outermost first (with ``captured``, each
    level's kept variables on the line below it)."""
    lines = []
    for i, level in enumerate(levels):
        lines.append(f"#{i:<2} {format_level(level)}")
        if captured and level.captured:
            lines.append("      " + ", ".join(str(c) for c in level.captured))
    return lines
