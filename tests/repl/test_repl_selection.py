"""The one selection of a session: inspectors read through it, moving clears it."""

import pytest

from rustos_dbg.repl.app import prompt_text
from rustos_dbg.repl.registry import CommandError
from rustos_dbg.repl.selection import Selection


def test_a_selection_changes_what_regs_x_and_bt_read_and_a_step_clears_it(session):
    m = session.machine
    sym = m.symbols.lookup("kernel_main")
    rsp = m.reg("rsp")
    session.selection = Selection("thread", 7, "thread 7 test", registers={"rip": sym.address, "rsp": rsp},
                                  cr3=m.reg("cr3"))
    assert "kernel_main" in session.execute("regs").split("rip", 1)[1].splitlines()[0]
    assert session.execute("bt").splitlines()[0].count("kernel_main") == 1
    assert prompt_text(session) == "(rustos-dbg thread 7 test) "
    session.execute("stepi")
    assert session.selection is None
    assert "kernel_main" not in session.execute("regs").split("rip", 1)[1].splitlines()[0]


def test_a_selection_reads_virtual_memory_through_its_own_cr3(session):
    m = session.machine
    cr3 = m.reg("cr3")
    # An address space whose PML4 is all zeros maps nothing: a page of RAM we know is zero.
    zero_page = next(p for p in range(0x1000, 0x100000, 0x1000) if m.read_physical(p, 4096) == bytes(4096))
    session.selection = Selection("thread", 1, "thread 1", cr3=zero_page)
    rip = m.reg("rip")
    with pytest.raises(CommandError, match="not mapped"):
        session.execute(f"x/2gx {rip:#x}")
    session.selection = Selection("thread", 1, "thread 1", cr3=cr3)
    assert session.execute(f"x/1gx {rip:#x}")
