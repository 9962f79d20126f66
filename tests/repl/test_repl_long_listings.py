"""Long ``dis`` and ``x`` listings come in parts (shown while the rest is made, and
abandoned part way), and the parts joined are the one listing."""

from __future__ import annotations

import io

from rustos_dbg.inspect.hw import dis, memdump
from rustos_dbg.repl.app import _execute


def test_a_long_disassembly_in_parts_is_the_one_listing(session):
    m = session.machine
    start = m.symbols.lookup("kernel_main").address
    whole = dis.format_disassembly(dis.disassemble(m, start, 5000, symbolize=m.symbolize, rip=m.reg("rip")))
    pieces = list(session.execute_pieces("dis kernel_main 5000"))
    assert len(pieces) == 3                        # 2000 + 2000 + 1000 instructions
    assert "".join(pieces) == whole


def test_a_long_dump_in_parts_is_the_one_dump(session):
    m = session.machine
    start = m.symbols.lookup("kernel_main").address
    count = 9000                                   # 72 KB of 8-byte units of kernel code: more than one part
    whole = memdump.format_dump(memdump.read_memory(m, start, count, unit=8, symbolize=m.symbolize))
    pieces = list(session.execute_pieces(f"x/{count}gx {start:#x}"))
    assert len(pieces) == 2 and "unreadable" not in whole
    assert "".join(pieces) == whole


def test_closing_a_long_listing_early_stops_decoding(session, monkeypatch):
    decoded = []
    real = dis.disassemble

    def counting(*args, **kwargs):
        decoded.append(args[2])
        return real(*args, **kwargs)

    monkeypatch.setattr(dis, "disassemble", counting)
    pieces = session.execute_pieces("dis kernel_main 400000")
    assert next(pieces).startswith("<kernel_main>:")
    pieces.close()
    assert decoded == [2000]                       # one part decoded, not 400,000 instructions


def test_the_repl_prints_a_listing_as_it_comes(session):
    out, err = io.StringIO(), io.StringIO()
    assert _execute(session, "dis kernel_main 4500", out, err)
    assert out.getvalue() == session.execute("dis kernel_main 4500") + "\n" and err.getvalue() == ""
