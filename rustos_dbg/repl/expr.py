"""Addresses, numbers and conditions as users type them: ``0x1000``, ``4096``,
``$cr2``, ``$rsp+8``, ``kernel_main``, ``rustos::shell::start+0x10``,
``*RUSTOS_TICKS > 100 && $rdi != 0``, ``*(u32)($rsp+8) == 7``.

Contract: :func:`parse_int` and :func:`parse_address` return ints;
:func:`compile_expr` returns an :class:`Expr` that can be evaluated again and
again (a breakpoint's condition); all raise ``CommandError`` with one line
(a malformed number, an unknown register or symbol, a syntax error).

The language: numbers (hex with ``0x``, or decimal), ``$register`` (the
descriptor-table registers give their base), symbol names (their address),
parentheses, and the C operators, loosest first: ``||``, ``&&``, ``|``, ``&``,
``==`` ``!=``, ``<`` ``<=`` ``>`` ``>=``, ``+`` ``-``, and the unary ``!``,
``-``, ``~`` and ``*`` (memory: 8 bytes at a virtual address, or 1/2/4/8 with
``*(u8)``, ``*(u16)``, ``*(u32)``, ``*(u64)``). Values are unsigned 64-bit
integers (comparisons are unsigned); comparisons and ``!`` give 0 or 1. Names
are resolved when the expression is compiled, registers and memory read when
it is evaluated; an unreadable address raises ``GuestMemoryError`` then.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from .registry import CommandError

MASK = 0xFFFF_FFFF_FFFF_FFFF
_TOKEN = re.compile(r"\s*(?:(?P<num>\d[\w]*)|(?P<reg>\$\w+)|(?P<name>[A-Za-z_.][\w.$:]*)"
                    r"|(?P<op>\|\||&&|==|!=|<=|>=|[-+*!~()<>&|]))")
_WIDTHS = {"u8": 1, "u16": 2, "u32": 4, "u64": 8}
_BINARY = (  # loosest first
    {"||": lambda a, b: int(bool(a) or bool(b))},
    {"&&": lambda a, b: int(bool(a) and bool(b))},
    {"|": lambda a, b: a | b},
    {"&": lambda a, b: a & b},
    {"==": lambda a, b: int(a == b), "!=": lambda a, b: int(a != b)},
    {"<": lambda a, b: int(a < b), "<=": lambda a, b: int(a <= b),
     ">": lambda a, b: int(a > b), ">=": lambda a, b: int(a >= b)},
    {"+": lambda a, b: (a + b) & MASK, "-": lambda a, b: (a - b) & MASK},
)
_UNARY = {"!": lambda a: int(not a), "-": lambda a: -a & MASK, "~": lambda a: ~a & MASK}

#: A compiled node: machine -> value.
Node = Callable[[object], int]


def parse_int(text: str) -> int:
    """A number: hex with 0x, or decimal."""
    t = text.strip().replace("_", "")
    try:
        return int(t, 16) if t.lower().startswith(("0x", "-0x")) else int(t, 10)
    except ValueError:
        raise CommandError(f"malformed number '{text.strip()}'") from None


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos, text = [], 0, text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise CommandError(f"unexpected '{text[pos:].strip()[:20]}' in '{text.strip()}'")
        out.append((m.lastgroup, m.group(m.lastgroup)))
        pos = m.end()
    return out


class _Parser:
    """Recursive descent over the tokens; each rule returns a :data:`Node`."""

    def __init__(self, text: str, machine) -> None:
        self.text, self.machine = text.strip(), machine
        self.tokens = _tokens(text)
        self.pos = 0

    def peek(self) -> str | None:
        return self.tokens[self.pos][1] if self.pos < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        if self.pos >= len(self.tokens):
            raise CommandError(f"incomplete expression '{self.text}'")
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def expect(self, text: str) -> None:
        if self.peek() != text:
            found = self.peek()
            raise CommandError(f"expected '{text}' in '{self.text}'" + (f", found '{found}'" if found else ""))
        self.pos += 1

    def parse(self) -> Node:
        if not self.tokens:
            raise CommandError("missing address")
        node = self.binary(0)
        if self.pos != len(self.tokens):
            raise CommandError(f"unexpected '{self.peek()}' in '{self.text}'")
        return node

    def binary(self, level: int) -> Node:
        if level == len(_BINARY):
            return self.unary()
        node = self.binary(level + 1)
        while self.peek() in _BINARY[level] and self.tokens[self.pos][0] == "op":
            op = _BINARY[level][self.take()[1]]
            right = self.binary(level + 1)
            node = (lambda f, a, b: lambda m: f(a(m), b(m)))(op, node, right)
        return node

    def unary(self) -> Node:
        token = self.peek()
        if token in _UNARY and self.tokens[self.pos][0] == "op":
            self.take()
            op, inner = _UNARY[token], self.unary()
            return lambda m: op(inner(m))
        if token == "*" and self.tokens[self.pos][0] == "op":
            self.take()
            width = 8
            if self.peek() == "(" and self.pos + 2 < len(self.tokens) and self.tokens[self.pos + 1][1] in _WIDTHS \
                    and self.tokens[self.pos + 2][1] == ")":
                width = _WIDTHS[self.tokens[self.pos + 1][1]]
                self.pos += 3
            inner = self.unary()
            return lambda m: int.from_bytes(m.read_virtual(inner(m), width), "little")
        return self.atom()

    def atom(self) -> Node:
        kind, text = self.take()
        if kind == "num":
            value = parse_int(text)
            return lambda m: value
        if kind == "reg":
            return self.register(text)
        if kind == "name":
            sym = self.machine.symbols.find(text)
            if sym is None:
                raise CommandError(f"no symbol named '{text}'")
            address = sym.address
            return lambda m: address
        if text == "(":
            node = self.binary(0)
            self.expect(")")
            return node
        raise CommandError(f"unexpected '{text}' in '{self.text}'")

    def register(self, text: str) -> Node:
        name = text[1:]
        try:
            self.machine.reg(name)
        except KeyError:
            raise CommandError(f"unknown register '{text}'") from None

        def read(m) -> int:
            value = m.reg(name)
            return value[1] if isinstance(value, tuple) else value  # descriptor-table registers: their base
        return read


@dataclass(frozen=True)
class Expr:
    """A compiled expression: its text, and :meth:`evaluate` on a machine."""

    text: str
    node: Callable

    def evaluate(self, machine) -> int:
        """The value now (registers and memory of ``machine``); a ``GuestMemoryError``
        when a ``*`` reads an unmapped address."""
        return self.node(machine)


def compile_expr(text: str, machine) -> Expr:
    """Compiles ``text``, resolving symbols and checking registers of ``machine``."""
    return Expr(text.strip(), _Parser(text, machine).parse())


def parse_address(text: str, machine) -> int:
    """An address: a symbol's full name as it is (whatever characters it holds),
    or an expression of the language above, evaluated now."""
    if not text.strip():
        raise CommandError("missing address")
    sym = machine.symbols.find(text.strip())
    if sym is not None:
        return sym.address
    return compile_expr(text, machine).evaluate(machine) & MASK
