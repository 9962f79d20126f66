"""A kernel panic decoded: ``PanicInfo`` -> location, message and backtrace.

Contract: :func:`decode_panic` (``machine``, the address of the
``core::panic::PanicInfo`` the handler was given) returns a
:class:`~rustos_dbg.machine.stops.PanicReport`. The layouts come from DWARF
(``PanicInfo { message: &fmt::Arguments, location: &Location }``,
``Location { filename: NonNull<str>, line, col }``, ``fmt::Arguments
{ template, args }``, ``rt::Argument { ty: ArgumentType }``); the message is
formatted from the ``Arguments`` template as ``core::fmt::write`` does (the
byte encoding of the template is documented on ``core::fmt::Arguments``):
literal pieces, and placeholders whose argument is an integer or a ``&str``
(recognised by the formatter function's symbol). A relative file name is
given with the kernel crate's directory name first (``kernel/src/...``). An argument of another type
becomes ``{?}`` and the message ends with ``(N argument(s) not formatted:
TYPE)``. A location or message that cannot be read is said in the report,
never raised. Importing this module installs :func:`decode_panic` as the
machine's panic decoder (:mod:`rustos_dbg.machine.panics`).
"""

from __future__ import annotations

import posixpath
import re

from ...machine import panics
from ...machine.stops import PanicReport
from ..hw.bt import backtrace
from .common import ImageReader, debug_info

MAX_MESSAGE = 4096
#: ``impl Display for u64`` and the like: the integer type a formatter prints.
_INT_FORMATTER = re.compile(r"(?:(?:Display|Debug|LowerHex|UpperHex) for |<&*)(u8|u16|u32|u64|usize|i8|i16|i32|i64|isize)"
                            r"(?:\b(?! as)|(?= as core::fmt::(?:Display|Debug|LowerHex|UpperHex)>))")
_INT_SIZES = {"8": 1, "16": 2, "32": 4, "64": 8, "size": 8}
_STR_FORMATTER = re.compile(r"<(?:&+)?str as core::fmt::(?:Display|Debug)>::fmt")


def _u16(data: bytes, at: int) -> int:
    return int.from_bytes(data[at:at + 2], "little")


def _argument(machine, reader, info, args: int, index: int) -> tuple[str | None, str]:
    """(the text of argument ``index``, or None; the formatter's name)."""
    arg = info.value(reader, args + 16 * index, "core::fmt::rt::Argument")["ty"]
    name, payload = arg.variant()
    if name != "Placeholder":
        return None, f"count argument {index}"
    value, formatter = payload["value"].pointer(), payload["formatter"].int()
    fname = machine.symbolize(formatter).split("+0x")[0]
    deref = lambda address: int.from_bytes(reader.read_virtual(address, 8), "little")  # noqa: E731
    m = _INT_FORMATTER.search(fname)
    if m is not None:
        for _ in range(m.group(0).count("&")):  # <&u64 as Display>: the argument is a reference
            value = deref(value)
        kind = m.group(1)
        size = _INT_SIZES[kind[1:]]
        number = int.from_bytes(reader.read_virtual(value, size), "little", signed=kind[0] == "i")
        return (f"{number:#x}" if "Hex" in fname else str(number)), fname
    m = _STR_FORMATTER.search(fname)
    if m is not None:
        for _ in range(max(0, m.group(0).count("&") - 1)):  # <&&str as Display>: a reference to the &str
            value = deref(value)
        ptr, length = (int.from_bytes(reader.read_virtual(value + o, 8), "little") for o in (0, 8))
        text = reader.read_virtual(ptr, min(length, MAX_MESSAGE)).decode("utf-8", "replace")
        return (repr(text).replace("'", '"') if "Debug" in fname else text), fname
    return None, fname


def format_arguments(machine, reader, info, address: int) -> str:
    """The text of the ``core::fmt::Arguments`` at ``address`` (see the module)."""
    raw = reader.read_virtual(address, 16)
    template, args = int.from_bytes(raw[:8], "little"), int.from_bytes(raw[8:], "little")
    if args & 1:  # a static str: args holds its length << 1 | 1
        return reader.read_virtual(template, min(args >> 1, MAX_MESSAGE)).decode("utf-8", "replace")
    data = reader.read_virtual(template, 512)
    out, pos, next_arg, missing = [], 0, 0, []
    while pos < len(data) and sum(map(len, out)) < MAX_MESSAGE:
        n = data[pos]
        pos += 1
        if n == 0:
            break
        if n < 0x80 or n == 0x80:
            length = n if n < 0x80 else _u16(data, pos)
            pos += 0 if n < 0x80 else 2
            if pos + length > len(data):
                data += reader.read_virtual(template + len(data), pos + length - len(data))
            out.append(data[pos:pos + length].decode("utf-8", "replace"))
            pos += length
            continue
        index = next_arg
        if n != 0xC0:  # placeholder with options: flags, width, precision, arg_index
            pos += 4 if n & 1 else 0
            pos += 2 if n & 2 else 0
            pos += 2 if n & 4 else 0
            if n & 8:
                index = _u16(data, pos)
                pos += 2
        text, fname = _argument(machine, reader, info, args, index)
        if text is None:
            missing.append(fname)
            text = "{?}"
        out.append(text)
        next_arg = index + 1
    message = "".join(out)
    if missing:
        message += f" ({len(missing)} argument(s) not formatted: {', '.join(missing)})"
    return message


def _crate_dir(image) -> str | None:
    """The name of the directory the kernel crate was built in (its CU's ``DW_AT_comp_dir``)."""
    elf = image.elf
    if not elf.has_dwarf_info():
        return None
    for cu in elf.get_dwarf_info().iter_CUs():
        attrs = cu.get_top_DIE().attributes
        name, comp = attrs.get("DW_AT_name"), attrs.get("DW_AT_comp_dir")
        if name is not None and comp is not None and bytes(name.value).startswith(b"src/main.rs"):
            return posixpath.basename(bytes(comp.value).decode("utf-8", "replace").rstrip("/"))
    return None


def source_path(image, file: str) -> str:
    """A path as the kernel crate wrote it (``src/shell/commands.rs``), prefixed with the
    crate's directory name (``kernel/src/shell/commands.rs``) when relative."""
    if file.startswith("/"):
        return file
    crate = image.derived("crate-dir", _crate_dir)
    return f"{crate}/{file}" if crate else file


def decode_panic(machine, address: int) -> PanicReport:
    """The report of the panic whose ``PanicInfo`` is at ``address`` (see the module)."""
    info = debug_info(machine.image)
    reader = ImageReader(machine)
    panic_info = info.value(reader, address, "core::panic::panic_info::PanicInfo")
    file, line, column = None, 0, 0
    try:
        location = panic_info["location"].deref()
        name = location["filename"]
        ptr, length = name.raw()[:8], name.raw()[8:16]
        file = reader.read_virtual(int.from_bytes(ptr, "little"), int.from_bytes(length, "little")).decode(
            "utf-8", "replace")
        file = source_path(machine.image, file)
        line, column = location["line"].int(), location["col"].int()
    except Exception as e:
        file = f"(unreadable location: {e})"
    try:
        message = format_arguments(machine, reader, info, panic_info["message"].pointer())
    except Exception as e:
        message = f"(the message could not be read: {e})"
    bt = backtrace(machine, symbols=machine.symbols, symbolize=machine.symbolize)
    frames = tuple((f.pc, f.symbol or "?") for f in bt.frames if f.kind == "frame")
    return PanicReport(file, line, column, message, frames)


def format_panic(report: PanicReport) -> str:
    """The headline and the backtrace, one frame a line."""
    lines = [report.headline()]
    lines.extend(f"  #{i:<2} {pc:#018x} in {symbol}" for i, (pc, symbol) in enumerate(report.backtrace))
    return "\n".join(lines)


panics.install(decode_panic)
