"""The JSON view of any inspector model.

Contract: :func:`to_json` turns frozen-dataclass models into JSON text:
integers exact, enums by name, bytes as hex, sets and tuples as lists, plus
the properties a model names in ``JSON_EXTRA``.
"""

from __future__ import annotations

import dataclasses
import enum
import json


def plain(value):
    """The JSON-ready form of a model value."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
        for extra in getattr(value, "JSON_EXTRA", ()):
            out[extra] = plain(getattr(value, extra))
        return out
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, (bytes, bytearray)):
        return value.hex()
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [plain(v) for v in value]
    return value


def to_json(model, indent: int | None = None) -> str:
    """JSON text of ``model``."""
    return json.dumps(plain(model), indent=indent)
