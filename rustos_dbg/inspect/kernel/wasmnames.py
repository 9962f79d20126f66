"""Function names of a WebAssembly module, from its bytes (raw bytes -> names).

Contract: :func:`function_names` walks the module's sections (core spec §5.5)
and returns ``{function index: name}`` from subsection 1 of the custom
``name`` section (§7.4.1); functions not named there keep their import
field name or their export name (indices count the imports first, as the kernel's call
stack does). Bytes that are not a module, or a damaged section, give what was
read before the damage (possibly ``{}``), never an exception.
"""

from __future__ import annotations

from ...dwarf.location import _uleb as uleb128  # one LEB128 decoder: DWARF and WASM share the encoding


def _name(data: bytes, pos: int) -> tuple[str, int]:
    n, pos = uleb128(data, pos)
    return data[pos:pos + n].decode("utf-8", "replace"), pos + n


def _import_names(body: bytes) -> dict[int, str]:
    names, (count, pos) = {}, uleb128(body, 0)
    index = 0
    for _ in range(count):
        _, pos = _name(body, pos)
        field, pos = _name(body, pos)
        kind = body[pos]
        pos += 1
        if kind != 0:  # only functions are supported; stop at anything else
            break
        _, pos = uleb128(body, pos)
        names[index] = field
        index += 1
    return names


def _export_names(body: bytes) -> dict[int, str]:
    names, (count, pos) = {}, uleb128(body, 0)
    for _ in range(count):
        field, pos = _name(body, pos)
        kind = body[pos]
        index, pos = uleb128(body, pos + 1)
        if kind == 0:
            names.setdefault(index, field)
    return names


def _name_section(body: bytes, pos: int) -> dict[int, str]:
    names: dict[int, str] = {}
    while pos < len(body):
        sub, pos = body[pos], pos + 1
        size, pos = uleb128(body, pos)
        if sub == 1:
            count, at = uleb128(body, pos)
            for _ in range(count):
                index, at = uleb128(body, at)
                names[index], at = _name(body, at)
        pos += size
    return names


def function_names(module: bytes) -> dict[int, str]:
    """``{function index: name}`` of ``module`` (see the module contract)."""
    names: dict[int, str] = {}
    fallback: dict[int, str] = {}
    if module[:8] != b"\0asm\x01\0\0\0":
        return names
    pos = 8
    try:
        while pos < len(module):
            sid, pos = module[pos], pos + 1
            size, pos = uleb128(module, pos)
            body = module[pos:pos + size]
            pos += size
            if sid == 2:
                names.update(_import_names(body))
            elif sid == 7:
                fallback = _export_names(body)
            elif sid == 0:
                title, at = _name(body, 0)
                if title == "name":
                    names.update(_name_section(body, at))
    except IndexError:
        pass
    return {**fallback, **names}
