"""The real boot path: RustOS is entered at pvh_start32 and switches to long mode itself.

The machine enters the ELF's PVH entry in 32-bit protected mode with paging off, as
QEMU does; one engine runs the 32-bit code, the kernel's switch to long mode and the
64-bit code. Counts, snapshots and faults span the switch; a kernel whose boot page
table is broken triple-faults with the same chain as in QEMU.
"""

from __future__ import annotations

import subprocess

import pytest
from elftools.elf.elffile import ELFFile

from rustos_dbg import Machine, StopKind
from rustos_dbg.machine.boot_pvh import START_INFO_ADDR
from rustos_dbg.machine.entry import ModeProbe
from qemu import qemu_command
from qemu_int_log import triple_fault_chain

CR0_PG, EFER_LMA = 0x8000_0000, 0x400


def _where(machine: Machine) -> tuple:
    return machine.icount, machine.reg("rip"), machine.reg("rsp"), machine.reg("cr0"), machine.reg("efer")


def test_the_machine_starts_at_the_32_bit_pvh_entry_as_qemu_enters_it(rustos_elf):
    machine = Machine.boot(rustos_elf)
    assert machine.boot_protocol == "pvh"
    assert machine.reg("rip") == machine.image.pvh_entry32 == machine.symbols.address_of("pvh_start32")
    assert machine.symbolize(machine.reg("rip")) == "pvh_start32"
    assert machine.reg("rbx") == START_INFO_ADDR
    assert (machine.reg("cr0"), machine.reg("cr4"), machine.reg("efer")) == (0x11, 0, 0)   # PE | ET, paging off
    assert (machine.reg("cs"), machine.reg("ds"), machine.reg("ss")) == (0x08, 0x10, 0x10)
    assert machine.reg("rflags") & 0x200 == 0
    assert not ModeProbe(machine.uc).code64()
    stop = machine.run(until="kernel_main")
    assert stop.kind is StopKind.BREAKPOINT
    assert machine.reg("cr0") & CR0_PG and machine.reg("efer") & EFER_LMA and ModeProbe(machine.uc).code64()
    assert machine.reg("rdi") == START_INFO_ADDR        # pvh_start32 kept ebx for kernel_main


def test_instruction_counts_span_the_switch_exactly(rustos_elf):
    blocks = Machine.boot(rustos_elf)
    blocks.run(until="kernel_main")
    stepped = Machine.boot(rustos_elf)
    steps = 0
    while stepped.reg("rip") != blocks.reg("rip"):
        assert stepped.step().kind is StopKind.STEP
        steps += 1
    assert blocks.icount == stepped.icount == steps
    # pvh_start32's 17 instructions are counted, its far jump as one (decoded as 32-bit code).
    at64 = Machine.boot(rustos_elf)
    at64.run(until="pvh_start64")
    assert at64.icount == 17


def test_a_snapshot_in_32_bit_code_restores_and_replays_the_switch(rustos_elf):
    machine = Machine.boot(rustos_elf)
    for _ in range(5):
        machine.step()
    mid = machine.snapshot()
    machine.run(until="kernel_main")
    first = _where(machine)
    machine.run_until_serial("rustos>", timeout=60)
    machine.restore(mid)
    assert machine.icount == 5 and not ModeProbe(machine.uc).code64()
    assert machine.reg("cr0") == 0x11 and machine.reg("efer") == 0
    machine.run(until="kernel_main")
    assert _where(machine) == first


def _patched(elf_path, out_path, symbol: str, offset: int, patch) -> None:
    """A copy of the kernel with the bytes at ``symbol + offset`` (8 of them) replaced by ``patch(old)``."""
    raw = bytearray(elf_path.read_bytes())
    with open(elf_path, "rb") as f:
        elf = ELFFile(f)
        address = elf.get_section_by_name(".symtab").get_symbol_by_name(symbol)[0]["st_value"] + offset
        seg = next(s for s in elf.iter_segments()
                   if s["p_type"] == "PT_LOAD" and s["p_vaddr"] <= address < s["p_vaddr"] + s["p_filesz"])
        at = seg["p_offset"] + address - seg["p_vaddr"]
    new = patch(bytes(raw[at:at + 8]))
    assert new != raw[at:at + 8]
    raw[at:at + 8] = new
    out_path.write_bytes(raw)


# (what is broken, symbol, offset, patch, the first fault (vector, error code, CR2), the chain's vectors).
BROKEN = [
    # Enabling paging drops the identity map: fetching the far jump page-faults (error code
    # 0x10: an instruction fetch, not present); the IDT (the BIOS's, at linear 0) is unmapped
    # too, so delivering it faults again (#DF), and delivering #DF: shutdown.
    ("boot-pml4", "boot_pml4", 0, lambda old: bytes(8), (14, 0x10, "far jump"), [14, 8, 14]),
    # The boot GDT's 64-bit code descriptor not present: the far jump raises #NP(0x08); the
    # BIOS's table at linear 0 holds no gates: #GP, so #DF, then #GP again: shutdown.
    ("boot-gdt", "boot_gdt", 8, lambda old: old[:5] + bytes([old[5] & 0x7F]) + old[6:], (11, 0x08, None), [11, 8, 13]),
]


@pytest.mark.qemu
@pytest.mark.parametrize("what,symbol,offset,patch,first,vectors", BROKEN, ids=[b[0] for b in BROKEN])
def test_a_broken_boot_path_triple_faults_with_qemus_chain(rustos_elf, tmp_path, what, symbol, offset, patch,
                                                          first, vectors):
    broken = tmp_path / f"{what}.elf"
    _patched(rustos_elf, broken, symbol, offset, patch)
    machine = Machine.boot(broken)
    stop = machine.run(timeout=60)
    assert stop.kind is StopKind.TRIPLE_FAULT, stop
    ours = [(e.vector, e.error_code, e.rip, e.cr2) for e in stop.chain]

    log = tmp_path / "qemu.log"
    cmd = qemu_command(broken) + ["-d", "int,cpu_reset", "-D", str(log)]
    subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
    chain, last = triple_fault_chain(log.read_text(errors="replace"))
    theirs = [(d.vector, d.error_code, d.rip, d.cr2) for d in chain]

    far_jump = machine.symbols.address_of("pvh_start64") - 7
    vector, error_code, cr2 = first
    expected = (vector, error_code, far_jump, far_jump if cr2 == "far jump" else None)
    assert theirs[0] == ours[0] == expected
    assert [v for v, *_ in theirs] + [last] == [v for v, *_ in ours] == vectors
    assert theirs[1][:3] == ours[1][:3] == (8, 0, far_jump)


def test_the_far_jump_disassembles_as_32_bit_code_until_long_mode_runs(rustos_elf):
    from rustos_dbg.inspect.hw.dis import disassemble

    machine = Machine.boot(rustos_elf)
    far_jump = machine.symbols.address_of("pvh_start64") - 7
    (insn,) = disassemble(machine, far_jump, 1).instructions
    assert (insn.mnemonic, insn.size) == ("ljmp", 7)
    machine.run(until="pvh_start64")
    assert machine.code64()
    (insn,) = disassemble(machine, machine.reg("rip"), 1).instructions
    assert insn.mnemonic == "cli"


def test_time_travel_goes_back_across_the_switch_into_32_bit_code(rustos_elf):
    machine = Machine.boot(rustos_elf, history=True)
    machine.run(until="kernel_main")
    at_main = _where(machine)
    machine.goto(10)                                   # inside pvh_start32, before paging is on
    assert machine.icount == 10 and not machine.code64()
    assert machine.symbolize(machine.reg("rip")).startswith("pvh_start32+")
    assert machine.reg("cr0") & CR0_PG == 0 and machine.reg("efer") & EFER_LMA == 0
    machine.run(until="kernel_main")
    assert _where(machine) == at_main
