"""Values are labelled with a symbol only inside the symbol's extent (issue 9, defect 6).

With the real kernel's symbol table: a small register value (``r11 = 0x6e0``,
once shown as ``<boot_pd_i+0x4e0>``) and the absolute symbols' values get no
label in ``regs``, ``x`` or ``symbolize``; a return address inside a function
still names that function in ``symbolize``, ``x``, ``bt`` and ``regs``; an
assembly label (unsized) labels addresses after it in its own section only.
"""

import re

import pytest

from rustos_dbg.inspect.hw import bt, memdump, regs
from rustos_dbg.repl.session import Session

pytestmark = pytest.mark.emulator


@pytest.fixture(scope="module")
def at_shell_start(kernel_elf):
    """A machine stopped on entry to ``rustos::shell::start``, called by ``kernel_main``."""
    from rustos_dbg import Machine, StopKind

    machine = Machine.boot(kernel_elf)
    stop = machine.run(until="rustos::shell::start")
    assert stop.kind is StopKind.BREAKPOINT, stop
    return machine


def test_small_values_and_absolute_symbols_get_no_label(at_shell_start):
    m = at_shell_start
    boot_pd_i, kernel_base = m.symbols.find("boot_pd_i"), m.symbols.find("KERNEL_BASE")
    assert boot_pd_i is not None and boot_pd_i.address == 0x200       # absolute constants: found by name...
    assert kernel_base is not None and kernel_base.address == 0xFFFF_FFFF_8000_0000
    for value in (0x6E0, 0x200, 0x201, 0xFFFF_FFFF_8000_1000):           # ...but no label
        assert m.symbolize(value) == f"{value:#x}"
        assert m.symbols.containing(value) is None


def test_regs_view_labels_a_code_address_not_a_small_value(at_shell_start):
    m = at_shell_start
    saved = m.reg("r11")
    m.set_reg("r11", 0x6E0)
    try:
        model = regs.read_regs(m, symbolize=m.symbolize)
        text = Session(m).execute("regs")
    finally:
        m.set_reg("r11", saved)
    by_name = {r.name: r for r in model.registers}
    assert by_name["r11"].value == 0x6E0 and by_name["r11"].symbol is None
    assert by_name["rip"].symbol == "rustos::shell::start"
    assert re.search(r"r11 0x00000000000006e0(?! <)", text), text
    assert "boot_pd_i" not in text
    assert "<rustos::shell::start>" in text


def test_return_address_inside_a_function_is_labelled(at_shell_start):
    m = at_shell_start
    rsp = m.reg("rsp")
    ret = int.from_bytes(m.read_virtual(rsp, 8), "little")
    caller = m.symbols.find("kernel_main")
    assert caller.size and caller.address < ret < caller.address + caller.size
    expected = f"kernel_main+{ret - caller.address:#x}"
    assert m.symbolize(ret) == expected
    dump = memdump.read_memory(m, rsp, 1, symbolize=m.symbolize)
    assert dump.lines[0].symbols == (expected,)
    assert f"<{expected}>" in Session(m).execute("x/1gx $rsp")
    trace = bt.backtrace(m, symbols=m.symbols, symbolize=m.symbolize)
    assert trace.frames[0].symbol == "rustos::shell::start"
    assert trace.frames[1].symbol == expected and trace.frames[1].is_return


def test_unsized_labels_stay_in_their_section(at_shell_start):
    syms = at_shell_start.symbols
    stub = syms.find("trap_stub_14")                     # assembly: no size, in .text
    assert stub.size == 0 and stub.section.name == ".text"
    assert syms.symbolize(stub.address + 3) == "trap_stub_14+0x3"
    pml4 = syms.find("boot_pml4")                        # boot page table: no size, in .boot
    assert pml4.size == 0 and pml4.section.name == ".boot"
    assert syms.symbolize(pml4.address + 8) == "boot_pml4+0x8"
    boot_end = syms.find("__boot_end")                   # the end of .boot, past the section
    assert not boot_end.section.contains(boot_end.address)
    assert syms.symbolize(boot_end.address + 3) == f"{boot_end.address + 3:#x}"
    assert syms.symbolize(boot_end.address) == "__boot_end"   # its own address is still its name
    bss = next(s for s in {s.section for s in syms if s.section} if s.name == ".bss")
    assert syms.containing(bss.end + 0x100) is None
