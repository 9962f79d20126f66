"""The REPL at the kernel's entry, pvh_start32: 32-bit code, paging off."""

from __future__ import annotations

import json

from rustos_dbg import Machine
from rustos_dbg.repl.session import Session


def test_walk_and_maps_say_paging_is_off_until_the_kernel_turns_it_on(rustos_elf):
    machine = Machine.boot(rustos_elf)
    session = Session(machine)
    assert session.execute("walk $rip") == (
        "paging is off (CR0.PG = 0): linear address 0x100000 is physical address 0x100000")
    assert session.execute("maps").startswith("paging is off (CR0.PG = 0)")
    session.json = True
    assert json.loads(session.execute("maps"))["paging"] is False
    session.json = False
    listing = session.execute("dis $rip 17")
    assert "ljmp 8:" in listing, listing                     # decoded as the 32-bit code it is
    session.execute("stepi 17")
    assert machine.symbolize(machine.reg("rip")) == "pvh_start64"
    assert session.execute("walk $rip").startswith("walk 0x")  # paging on: the boot page tables
