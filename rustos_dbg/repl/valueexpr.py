"""``p EXPR``: Rust values named the way gdb and Rust spell them.

Contract: :func:`evaluate` (session, text) returns a
:class:`~rustos_dbg.dwarf.Value`, a :class:`~rustos_dbg.inspect.kernel.rustvalue.Pointer`
(a typed address that is in no memory) or an ``int``; every user error (a
syntax error, an unknown name, a member or type the DWARF lacks, an index out
of range) is a one-line ``CommandError``, a DWARF lookup error a ``DwarfError``.

The language, tightest first:

* atoms: a number (``0x..`` or decimal), ``$register`` (of the selection),
  a name: with a task selected, first a variable its suspended future keeps;
  a local or argument of the selected frame, else a static by short or
  full name (``RUSTOS_TICKS``, ``rustos::time::RUSTOS_TICKS``); without a
  selected frame statics come first, then frame 0's locals; ``( EXPR )``;
* postfix: ``.field`` and ``.0`` (a tuple field), ``->field``, ``[index]``
  (arrays, slices, ``Vec``, and pointers as in C). A field is looked up
  through pointers (auto-deref, as Rust does) and through the wrappers that
  only hold it (``UnsafeCell``, atomics, the kernel's ``IrqMutex``'s
  ``data``...), so ``RUSTOS_HEAP.stats`` reads the heap inside its lock;
* prefix: ``*EXPR`` (the pointee; a plain number reads a ``u64``), ``&EXPR``
  (the address, typed), ``-EXPR``; casts ``(TYPE *)EXPR`` / ``(*const TYPE)EXPR``
  / ``(&TYPE)EXPR`` (a typed pointer) and ``(TYPE)EXPR`` (the TYPE at that
  address), where TYPE is a Rust path the DWARF knows (``rustos::heap::Block``
  or a unique suffix such as ``heap::Block``), or ``u8``..``u64``/``usize``;
* binary ``+`` and ``-`` on numbers and addresses.
"""

from __future__ import annotations

import re

from ..dwarf import DwarfError, Type, Value, load
from ..inspect.kernel.common import ImageReader
from ..inspect.kernel.rustvalue import Pointer
from .expr import parse_int
from .registry import CommandError

_TOKEN = re.compile(r"\s*(?:(?P<num>\d\w*)|(?P<reg>\$\w+)|(?P<name>[A-Za-z_]\w*(?:::[A-Za-z_]\w*)*)"
                    r"|(?P<op>->|[-+*&()\[\].]))")
_POINTER_TYPE = re.compile(r"^\s*(?:\*\s*(?:const|mut)\s+|&\s*(?:mut\s+)?)(?P<target>.+?)\s*$|^\s*(?P<ctarget>.+?)\s*\*\s*$")
#: Wrappers a field lookup looks through: (type name's last segment, the member holding the value).
_THROUGH = ("data", "value", "v", "inner", "__0", "pointer")


def _tokens(text: str) -> list[tuple[str, str, int]]:
    out, pos, text = [], 0, text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise CommandError(f"unexpected '{text[pos:].strip()[:20]}' in '{text.strip()}'")
        out.append((m.lastgroup, m.group(m.lastgroup), m.start(m.lastgroup)))
        pos = m.end()
    return out


class _Parser:
    def __init__(self, session, text: str) -> None:
        self.session, self.text = session, text.strip()
        self.info = load(session.machine.image)
        self.reader = ImageReader(session.reader())
        self.tokens = _tokens(self.text)
        self.pos = 0

    # --- tokens ---------------------------------------------------------------------
    def peek(self):
        return self.tokens[self.pos][1] if self.pos < len(self.tokens) else None

    def take(self):
        if self.pos >= len(self.tokens):
            raise CommandError(f"incomplete expression '{self.text}'")
        self.pos += 1
        return self.tokens[self.pos - 1]

    def expect(self, text: str) -> None:
        if self.peek() != text:
            raise CommandError(f"expected '{text}' in '{self.text}'")
        self.pos += 1

    # --- grammar --------------------------------------------------------------------
    def parse(self):
        if not self.tokens:
            raise CommandError("usage: p EXPR (a static, a local, a field, an index, *ptr, a cast)")
        value = self.sum()
        if self.pos != len(self.tokens):
            raise CommandError(f"unexpected '{self.peek()}' in '{self.text}'")
        return value

    def sum(self):
        value = self.unary()
        while self.peek() in ("+", "-"):
            op = self.take()[1]
            right = _number(self.unary(), self.text)
            left = _number(value, self.text) if not isinstance(value, Pointer) else value.address
            result = left + right if op == "+" else left - right
            value = Pointer(value.target, result & (1 << 64) - 1) if isinstance(value, Pointer) else result
        return value

    def unary(self):
        token = self.peek()
        if token == "*":
            self.take()
            return self.deref(self.unary())
        if token == "&":
            self.take()
            value = self.unary()
            if not isinstance(value, Value) or value.address is None:
                raise CommandError(f"'{self.text}': only a value in memory has an address")
            return Pointer(value.type, value.address)
        if token == "-":
            self.take()
            return -_number(self.unary(), self.text) & (1 << 64) - 1
        if token == "(":
            cast = self.cast()
            if cast is not None:
                return cast
        return self.postfix(self.atom())

    def cast(self):
        """``(TYPE)`` or ``(TYPE *)`` before an operand, else None (a parenthesized expression)."""
        start = self.tokens[self.pos][2]
        depth, end = 0, None
        for i in range(start, len(self.text)):
            depth += {"(": 1, ")": -1}.get(self.text[i], 0)
            if depth == 0:
                end = i
                break
        if end is None:
            return None
        inside = self.text[start + 1:end]
        pointer = _POINTER_TYPE.match(inside)
        name = (pointer.group("target") or pointer.group("ctarget")) if pointer else inside
        typ = _find_type(self.info, name.strip()) if re.search(r"[A-Za-z_]", name) else None
        if typ is None:
            if "::" in inside or pointer is not None:
                raise CommandError(f"no type named '{name.strip()}' in the DWARF")
            return None
        while self.pos < len(self.tokens) and self.tokens[self.pos][2] <= end:
            self.pos += 1
        operand = self.unary()
        if pointer is not None:
            if isinstance(operand, Value) and operand.type.kind == "pointer":
                return Pointer(typ, operand.int())
            return Pointer(typ, _number(operand, self.text))
        if isinstance(operand, Value) and operand.type.kind not in ("pointer", "base"):
            return operand.cast(typ)
        address = operand.address if isinstance(operand, Pointer) else _number(operand, self.text)
        return Value(typ, address, self.reader)

    def atom(self):
        kind, text, _ = self.take()
        if kind == "num":
            return parse_int(text)
        if kind == "reg":
            try:
                value = self.session.reader().reg(text[1:])
            except KeyError:
                raise CommandError(f"unknown register '{text}'") from None
            return value[1] if isinstance(value, tuple) else value
        if kind == "name":
            return self.name(text)
        if text == "(":
            value = self.sum()
            self.expect(")")
            return value
        raise CommandError(f"unexpected '{text}' in '{self.text}'")

    def name(self, text: str):
        from .frames import find_local

        if self.session.selection is not None and self.session.selection.kind == "task":
            kept = self.captured(text)
            if kept is not None:
                return kept
        frame_selected = self.session.selection is not None and self.session.selection.kind == "frame"
        if frame_selected or "::" not in text:
            local = find_local(self.session, text) if frame_selected else None
            if local is not None:
                return _local_value(local)
        var = self.info.find_variable(text)
        if var is not None:
            if var.type is None:
                return Pointer(None, var.address)
            return Value(var.type, var.address, self.reader)
        if not frame_selected and "::" not in text:
            local = find_local(self.session, text)
            if local is not None:
                return _local_value(local)
        raise CommandError(f"no local, argument or static named '{text}'")

    def captured(self, text: str):
        """A variable the selected task's suspended future keeps (innermost await first), or None."""
        for level in reversed(self.session.selection.detail.awaits):
            for c in level.captured:
                if c.name == text and c.type_offset is not None:
                    return Value(self.info.type_at(c.type_offset), c.address, self.reader)
        return None

    def postfix(self, value):
        while True:
            token = self.peek()
            if token in (".", "->"):
                self.take()
                kind, name, _ = self.take()
                if kind not in ("name", "num"):
                    raise CommandError(f"expected a field name after '{token}' in '{self.text}'")
                value = self.field(value, f"__{name}" if kind == "num" else name)
            elif token == "[":
                self.take()
                index = _number(self.sum(), self.text)
                self.expect("]")
                value = self.index(value, index)
            else:
                return value

    # --- operations -----------------------------------------------------------------
    def deref(self, value):
        if isinstance(value, Pointer):
            if value.target is None:
                raise CommandError(f"cannot dereference '{self.text}': its type is unknown (cast it)")
            return Value(value.target, value.address, self.reader)
        if isinstance(value, int):
            return Value(self.info.type("u64"), value, self.reader)
        target = value.deref()
        if target is None:
            raise CommandError(f"'{self.text}': the pointer is null (None)")
        return target

    def field(self, value, name: str):
        if isinstance(value, Pointer) or isinstance(value, int):
            value = self.deref(value)
        for _ in range(8):
            typ = value.type
            if typ.kind == "pointer":
                value = self.deref(value)
                continue
            if typ.kind == "variant":
                variant, payload = value.variant()
                if payload is not None and payload.type.has_member(name):
                    return payload[name]
                if any(v.name == name for v in typ.variants):
                    if variant != name:
                        raise CommandError(f"{typ.name} is {variant}, not {name}")
                    return payload
                if payload is None:
                    break
                value = payload
                continue
            if typ.has_member(name):
                return value[name]
            inner = next((m for m in typ.members if m.name in _THROUGH), None)
            if inner is None or typ.kind not in ("struct", "union"):
                break
            value = value.at(inner.offset, inner.type)
        raise CommandError(f"{value.type.name} has no field '{name}'"
                           + (f" (fields: {', '.join(value.fields())})" if value.fields() else ""))

    def index(self, value, index: int):
        if isinstance(value, Pointer):
            target = value.target
            if target is None or not target.size:
                raise CommandError(f"cannot index '{self.text}': the pointee's size is unknown")
            return Value(target, value.address + index * target.size, self.reader)
        if isinstance(value, int):
            raise CommandError(f"cannot index a number in '{self.text}' (cast it to a pointer first)")
        typ = value.type
        if typ.kind == "array":
            try:
                return value.element(index)
            except IndexError as e:
                raise CommandError(str(e)) from None
        if typ.has_member("data_ptr") and typ.has_member("length"):
            length = value["length"].int()
            if not 0 <= index < length:
                raise CommandError(f"index {index} out of range for {typ.name} (length {length})")
            target = typ.member("data_ptr").type.target
            return Value(target, value["data_ptr"].int() + index * target.size, self.reader)
        if typ.params.get("T") is not None and typ.has_member("len") and typ.has_member("buf"):
            from ..inspect.kernel.rustvalue import render

            shown = render(value)
            if not 0 <= index < len(shown.items) + shown.more:
                raise CommandError(f"index {index} out of range for {typ.name} (length {len(shown.items) + shown.more})")
            element = typ.params["T"]
            start = shown.items[0].address if shown.items else 0
            return Value(element, start + index * element.size, self.reader)
        if typ.kind == "pointer" and typ.target is not None and typ.target.size:
            return Value(typ.target, value.int() + index * typ.target.size, self.reader)
        inner = next((m for m in typ.members if m.name in _THROUGH), None) if typ.kind == "struct" else None
        if inner is not None:  # a wrapper (UnsafeCell, IrqMutex...): index what it holds
            return self.index(value.at(inner.offset, inner.type), index)
        raise CommandError(f"{typ.name} cannot be indexed")


def _find_type(info, name: str) -> Type | None:
    try:
        return info.find_type(name)
    except DwarfError as e:  # ambiguous
        raise CommandError(str(e)) from None


def _number(value, text: str) -> int:
    if isinstance(value, int):
        return value
    if isinstance(value, Pointer):
        return value.address
    try:
        return value.int()
    except DwarfError:
        raise CommandError(f"'{text}': {value.type.name} is not a number") from None


def _local_value(local):
    if local.value is None:
        raise CommandError(f"{local.name}: {local.reason}")
    return local.value


def evaluate(session, text: str):
    """The value of ``text`` (see the module)."""
    return _Parser(session, text).parse()
