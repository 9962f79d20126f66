"""Device state as immutable values: freezing a snapshot, thawing it back.

Contract: :func:`freeze` turns the plain data of ``Device.snapshot()``
(ints, bools, strs, bytes, lists, dicts) into an immutable value of the same
shape (tuples, read-only mappings), equal whenever the states are equal;
:func:`thaw` gives back plain data that ``Device.restore()`` accepts.
:func:`digest` hashes a frozen state, for comparing machines cheaply.
"""

from __future__ import annotations

import hashlib
from types import MappingProxyType
from typing import Any


def freeze(value: Any) -> Any:
    """An immutable copy of plain data."""
    if isinstance(value, dict):
        return MappingProxyType({k: freeze(v) for k, v in value.items()})
    if isinstance(value, (list, tuple)):
        return tuple(freeze(v) for v in value)
    if isinstance(value, bytearray):
        return bytes(value)
    return value


def thaw(value: Any) -> Any:
    """Plain mutable data from a frozen value (tuples become lists)."""
    if isinstance(value, MappingProxyType):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [thaw(v) for v in value]
    return value


def digest(value: Any) -> str:
    """A stable hash of a frozen value (mapping order does not matter)."""
    return hashlib.sha256(_canonical(value).encode()).hexdigest()


def _canonical(value: Any) -> str:
    if isinstance(value, MappingProxyType):
        return "{" + ",".join(f"{k!r}:{_canonical(v)}" for k, v in sorted(value.items(), key=lambda kv: repr(kv[0]))) + "}"
    if isinstance(value, tuple):
        return "(" + ",".join(_canonical(v) for v in value) + ")"
    return repr(value)
