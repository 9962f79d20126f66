"""Addresses and numbers as users type them: ``0x1000``, ``4096``, ``$cr2``,
``$rsp+8``, ``kernel_main``, ``rustos::shell::start+0x10``.

Contract: :func:`parse_int` and :func:`parse_address` return ints or raise
``CommandError`` with one line (a malformed number, an unknown register or
symbol). Only ``+`` and ``-`` of terms are supported.
"""

from __future__ import annotations

import re

from .registry import CommandError

_TERM = re.compile(r"\s*([+-])\s*")


def parse_int(text: str) -> int:
    """A number: hex with 0x, or decimal."""
    t = text.strip().replace("_", "")
    try:
        return int(t, 16) if t.lower().startswith(("0x", "-0x")) else int(t, 10)
    except ValueError:
        raise CommandError(f"malformed number '{text.strip()}'") from None


def _term(term: str, machine) -> int:
    term = term.strip()
    if not term:
        raise CommandError("missing address")
    if term.startswith("$"):
        try:
            value = machine.reg(term[1:])
        except KeyError:
            raise CommandError(f"unknown register '{term}'") from None
        if isinstance(value, tuple):
            return value[1]  # descriptor-table registers: their base
        return value
    if term[0].isdigit():
        return parse_int(term)
    sym = machine.symbols.find(term)
    if sym is None:
        raise CommandError(f"no symbol named '{term}'")
    return sym.address


def parse_address(text: str, machine) -> int:
    """An address expression: terms joined by + and -."""
    if not text.strip():
        raise CommandError("missing address")
    parts = _TERM.split(text.strip())
    if parts[0] == "":
        parts = ["0"] + parts[1:]
    value = _term(parts[0], machine)
    for op, term in zip(parts[1::2], parts[2::2]):
        value = value + _term(term, machine) if op == "+" else value - _term(term, machine)
    return value & 0xFFFF_FFFF_FFFF_FFFF
