"""The Limine handoff: the test kernel (tests/limine_kernel) boots and prints what it got.

Facts are checked against the ELF read with pyelftools and against PROTOCOL.md's
entry state, not against the loader's own plan; determinism and snapshots are
checked on the real run.
"""

from __future__ import annotations

import re
import struct
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from elftools.elf.elffile import ELFFile

from rustos_dbg.machine import Machine, StopKind
from rustos_dbg.machine import boot_limine
from rustos_dbg.machine.boot import BootModule
from rustos_dbg.machine.errors import KernelImageError
from rustos_dbg.machine.image import Segment

ROOT = Path(__file__).resolve().parents[2]
LIMIT = 2_000_000
HHDM = 0xFFFF_8000_0000_0000

pytestmark = pytest.mark.emulator


def _elf_facts(path) -> tuple[int, int, dict[str, int]]:
    """(lowest PT_LOAD vaddr, e_entry, plain symbols), read independently."""
    with open(path, "rb") as fh:
        elf = ELFFile(fh)
        low = min(s["p_vaddr"] for s in elf.iter_segments() if s["p_type"] == "PT_LOAD")
        symbols = {s.name: s["st_value"] for s in elf.get_section_by_name(".symtab").iter_symbols() if s.name}
        return low, elf["e_entry"], symbols


def _run(machine) -> str:
    stop = machine.run(max_instructions=LIMIT)
    assert stop.kind is StopKind.KERNEL_EXIT, (stop.describe(), machine.serial_output[-800:])
    return machine.serial_output


def test_the_kernel_prints_the_responses_limine_gives(limine_elf, tmp_path):
    module = tmp_path / "greeting.txt"
    module.write_text("hello module\n")
    machine = Machine.boot(limine_elf, cmdline="one two", modules=[(module, "mod-args")])
    out = _run(machine)
    assert machine.last_stop.exit_code == 0x21  # (0x10 << 1) | 1
    low, _, _ = _elf_facts(limine_elf)
    assert "limine: base revision supported: true" in out
    assert "limine: bootloader rustos-dbg " in out
    assert "limine: firmware bios" in out
    assert "limine: stack size response: true" in out
    assert f"limine: hhdm {HHDM:#x}" in out
    assert re.search(r"limine: rsp 0xffff8000[0-9a-f]+ in hhdm: true", out)
    assert f"limine: kernel phys 0x100000 virt {low:#x}" in out
    size = Path(limine_elf).stat().st_size
    assert f"limine: kernel file /{Path(limine_elf).name} {size} bytes, elf magic true" in out
    assert "limine: cmdline 'one two'" in out
    assert "limine: module /greeting.txt 13 bytes, cmdline 'mod-args': hello module" in out
    assert "limine: framebuffer none" in out and "limine: rsdp none" in out
    assert out.rstrip().endswith("done")


def test_the_memory_map_is_sorted_aligned_and_covers_ram(limine_elf):
    machine = Machine.boot(limine_elf, ram_mb=64)
    out = _run(machine)
    entries = [(int(b, 16), int(n, 16), t) for b, n, t in re.findall(r"limine: memmap (0x\w+) (0x\w+) type (\w+)", out)]
    assert entries and [e[0] for e in entries] == sorted(e[0] for e in entries)
    assert all(b >= 0x1000 for b, _, _ in entries)          # page 0 is never usable
    for base, length, kind in entries:
        if kind in ("usable", "reclaimable"):
            assert base % 4096 == 0 and length % 4096 == 0
    spans = [(b, b + n) for b, n, t in entries if t in ("usable", "reclaimable", "kernel")]
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:]))  # no overlaps
    assert spans[-1][1] == 64 << 20                         # RAM ends where the map does
    kernel = [e for e in entries if e[2] == "kernel"]
    assert kernel and kernel[0][0] == 0x10_0000
    reclaimable = [e for e in entries if e[2] == "reclaimable"]
    assert reclaimable and reclaimable[0][1] >= 128 * 1024  # holds the 128 KiB stack asked for


def test_the_entry_state_is_the_one_protocol_md_describes(limine_elf):
    machine = Machine.boot(limine_elf)
    low, entry, _ = _elf_facts(limine_elf)
    assert machine.boot_plan.protocol == "limine"
    assert machine.reg("rip") == entry
    assert machine.reg("cs") == 0x28 and all(machine.reg(s) == 0x30 for s in ("ss", "ds", "es", "fs", "gs"))
    rflags = machine.reg("rflags")
    assert not rflags & (1 << 9) and not rflags & (1 << 10) and not rflags & (1 << 17)  # IF, DF, VM clear
    cr0, cr4, efer = machine.reg("cr0"), machine.reg("cr4"), machine.reg("efer")
    assert cr0 & 0x8001_0001 == 0x8001_0001 and cr4 & 0x20 and efer & 0x900 == 0x900  # PG WP PE, PAE, LME NXE
    assert all(machine.reg(r) == 0 for r in ("rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "r8", "r15"))
    rsp = machine.reg("rsp")
    assert rsp >= HHDM and (rsp + 8) % 16 == 0
    assert machine.read_virtual(rsp, 8) == bytes(8)          # the return address 0
    _, base, limit, _ = machine.reg("gdtr")
    descriptors = struct.unpack("<7Q", machine.read_virtual(base, 56))
    assert limit == 55
    assert descriptors[5] >> 32 & 0x0020_9800 == 0x0020_9800   # 64-bit code: L, P, code
    assert descriptors[1] & 0xFFFF == 0xFFFF and not descriptors[1] >> 52 & 0xC  # 16-bit code
    # The kernel at its link address, physically contiguous from 1 MiB; the HHDM maps physical 0-4 GiB.
    text = machine.memory.walk(entry)
    assert text.paddr == 0x10_0000 + entry - low and not text.permissions.writable
    assert machine.memory.walk(HHDM + (3 << 30)).paddr == 3 << 30
    assert machine.memory.walk(0x20_0000).paddr == 0x20_0000  # the identity map Limine keeps for revision 2
    assert machine.devices.pic.imr == 0xFFFF                 # every PIC line masked


def test_runs_are_identical_and_a_snapshot_replays_exactly(limine_elf):
    first, second = Machine.boot(limine_elf), Machine.boot(limine_elf)
    assert _run(first) == _run(second) and first.icount == second.icount
    again = Machine.boot(limine_elf)
    again.run(max_instructions=first.icount // 2)
    state = again.snapshot()
    _run(again)
    end = (again.serial_output, again.icount, again.snapshot().ram.digest())
    again.restore(state)
    _run(again)
    assert (again.serial_output, again.icount, again.snapshot().ram.digest()) == end
    assert again.icount == first.icount


def test_the_panic_catcher_works_on_the_limine_kernel(limine_elf):
    machine = Machine.boot(limine_elf, cmdline="panic")
    machine.catch_panic = True
    stop = machine.run(max_instructions=LIMIT)
    assert stop.kind is StopKind.PANIC
    assert "limine test kernel panics on purpose" in stop.panic.message


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "rustos_dbg", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, input="")


def test_requests_not_served_are_one_line_each(limine_elf):
    done = _cli("debug", limine_elf, "-ex", "where")
    assert done.returncode == 0, done.stderr
    notes = [line for line in done.stderr.splitlines() if line.strip()]
    assert notes == [
        "rustos-dbg: note: limine: framebuffer request not served (the emulated PC has VGA text mode only, "
        "no framebuffer): its response stays NULL",
        "rustos-dbg: note: limine: RSDP request not served (the emulated PC has no ACPI tables): its response "
        "stays NULL"]


def test_a_kernel_of_no_known_protocol_is_one_line(tmp_path):
    elf = Path(sys.executable).resolve()  # an x86-64 ELF program, neither PVH nor Limine
    done = _cli("run", elf, "--headless")
    assert done.returncode == 2
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "has no known boot protocol" in lines[0] and "Limine" in lines[0], lines


# --- the loader on made-up images -------------------------------------------------------

BASE = 0xFFFF_FFFF_8000_0000


def _image(words: list[int], tmp_path, vaddr: int = BASE):
    data = struct.pack(f"<{len(words)}Q", *words)
    path = tmp_path / "k.elf"
    path.write_bytes(data)
    return SimpleNamespace(path=path, entry=vaddr, segments=(Segment(vaddr, vaddr, data, len(data), 7),))


def _tag(revision):
    return [*boot_limine.BASE_REVISION_MAGIC, revision]


HHDM_REQ = [*boot_limine.COMMON_MAGIC, 0x48DCF1CB8AD2B852, 0x63984E959A98244B, 0, 0]


def _blob_words(plan):
    return struct.unpack(f"<{len(plan.blobs[0][1]) // 8}Q", plan.blobs[0][1])


def test_a_supported_base_revision_is_acknowledged_and_responses_filled(tmp_path):
    plan = boot_limine.plan(_image(_tag(1) + HHDM_REQ, tmp_path), 64 << 20, "")
    words = _blob_words(plan)
    assert words[2] == 0 and plan.base_revision == 1 and not plan.notes
    response = words[3 + 5]
    assert response >= HHDM
    reclaim = plan.blobs[-1]
    offset = response - HHDM - reclaim[0]
    assert struct.unpack_from("<QQ", reclaim[1], offset) == (0, HHDM)


def test_a_too_new_base_revision_boots_as_2_with_the_tag_unchanged(tmp_path):
    plan = boot_limine.plan(_image(_tag(6) + HHDM_REQ, tmp_path), 64 << 20, "")
    assert _blob_words(plan)[2] == 6 and plan.base_revision == 2
    assert plan.notes == ["limine: base revision 6 requested; booted with revision 2 (the emulator implements "
                          "Limine 8.x's 0-2), tag left unchanged"]


def test_requests_outside_the_markers_are_ignored(tmp_path):
    words = HHDM_REQ + [*boot_limine.START_MARKER] + _tag(2) + [*boot_limine.END_MARKER] + HHDM_REQ
    found = boot_limine.find_requests(struct.pack(f"<{len(words)}Q", *words))
    assert found.tag_offset == 6 * 8 + 32 and found.items == ()


@pytest.mark.parametrize("words, message", [
    (_tag(1) + _tag(2), "two Limine base revision tags"),
    (HHDM_REQ + HHDM_REQ, "two HHDM requests"),
])
def test_what_limine_refuses_is_refused(words, message, tmp_path):
    with pytest.raises(KernelImageError, match=message):
        boot_limine.plan(_image(words, tmp_path), 64 << 20, "")


def test_a_lower_half_kernel_is_refused(tmp_path):
    image = _image(_tag(2), tmp_path, vaddr=0x40_0000)
    assert boot_limine.is_limine(image)  # a Limine kernel, but not a valid one
    with pytest.raises(KernelImageError, match="must be linked at or above 0xffffffff80000000"):
        boot_limine.plan(image, 64 << 20, "")


def test_a_bundle_of_a_limine_run_reopens_with_its_modules(limine_elf, tmp_path):
    from rustos_dbg.analysis.bundle import reopen, write_bundle

    module = tmp_path / "m.txt"
    module.write_text("bundled\n")
    machine = Machine.boot(limine_elf, cmdline="c", modules=[str(module)])
    _run(machine)
    back = reopen(write_bundle(machine, tmp_path / "b.json"))
    assert back.matches, back.differing
    assert "limine: module /m.txt 8 bytes, cmdline '': bundled" in back.machine.serial_output


def _request(id_words, *fields):
    return [*boot_limine.COMMON_MAGIC, *id_words, 0, 0, *fields]


def test_the_stack_size_and_entry_point_requests_are_honoured(tmp_path):
    entry = BASE + 0x40
    words = _tag(2) + _request((0x224EF0460A8E8926, 0xE1CB0FC25F46EA3D), 256 * 1024) \
        + _request((0x13D86C035A1CD3E1, 0x2B0CAA89D8F3026A), entry)
    plan = boot_limine.plan(_image(words, tmp_path), 64 << 20, "")
    assert plan.state.rip == entry
    reclaim_start, reclaim = plan.blobs[-1]
    stack_top = plan.state.rsp + 8 - HHDM
    assert reclaim_start <= stack_top - 256 * 1024 and stack_top <= reclaim_start + len(reclaim)
    assert not plan.notes


def test_an_unknown_request_is_one_note_and_stays_null(tmp_path):
    words = _tag(2) + _request((0x1111, 0x2222))
    plan = boot_limine.plan(_image(words, tmp_path), 64 << 20, "")
    assert plan.notes == ["limine: unknown 0x1111 0x2222 request not served (not a request of the "
                          "Limine protocol the emulator knows): its response stays NULL"]
    assert _blob_words(plan)[3 + 5] == 0


def test_modules_that_cannot_be_loaded_are_one_line(limine_elf, tmp_path):
    big = tmp_path / "big.bin"
    big.write_bytes(bytes(20 << 20))
    for module, message in ((tmp_path / "absent.bin", r"boot module '.*absent.bin': No such file"),
                            (big, r"needs RAM up to 2\d MiB; the machine has 16 MiB")):
        done = _cli("run", limine_elf, "--headless", "--ram", "16", "--module", module)
        lines = [line for line in done.stderr.splitlines() if "error" in line]
        assert done.returncode == 2 and len(lines) == 1 and re.search(message, lines[0]), done.stderr


def _walker(plan):
    """A walk of the plan's page tables over its blobs (the RAM the loader writes)."""
    from rustos_dbg.x86.paging import walk

    ram = bytearray(64 << 20)
    for at, data in plan.blobs:
        ram[at: at + len(data)] = data
    return lambda vaddr: walk(lambda a, n: bytes(ram[a: a + n]), plan.state.cr3, vaddr)


@pytest.mark.parametrize("revision, page0_mapped", [(0, False), (1, True), (2, True)])
def test_the_identity_map_per_base_revision(revision, page0_mapped, tmp_path):
    walk = _walker(boot_limine.plan(_image(_tag(revision), tmp_path), 64 << 20, ""))
    assert (walk(0).paddr == 0) is page0_mapped                 # revision 0 maps from 0x1000 only
    assert walk(0x1000).paddr == 0x1000 and walk(0xFFFF_F000).paddr == 0xFFFF_F000
    assert walk(HHDM + 0x1234).paddr == 0x1234 and walk(HHDM + (4 << 30)).paddr is None
    kernel = walk(BASE)
    assert kernel.paddr == 0x10_0000 and kernel.page_size == 4096


def test_a_fault_before_the_kernels_idt_is_a_triple_fault_with_its_chain(limine_elf):
    machine = Machine.boot(limine_elf)                     # Limine loads no IDT: the kernel must
    machine.set_reg("rip", BASE + (256 << 20))             # an unmapped address in the kernel's half
    stop = machine.run(max_instructions=100)
    assert stop.kind is StopKind.TRIPLE_FAULT
    assert [e.vector for e in stop.chain] == [14, 8, 13]
    assert "beyond the IDT limit 0x0" in stop.describe()


def test_modules_read_by_the_machine_are_served(tmp_path):
    words = _tag(2) + _request((0x3E7E279702BE32AF, 0xCA1C4F3BD1280CEE))
    plan = boot_limine.plan(_image(words, tmp_path), 64 << 20, "", (BootModule(b"abc", "initrd", "initrd"),))
    reclaim_start, reclaim = plan.blobs[-1]
    response = _blob_words(plan)[3 + 5] - HHDM - reclaim_start
    _, count, pointers = struct.unpack_from("<QQQ", reclaim, response)
    file_at = struct.unpack_from("<Q", reclaim, pointers - HHDM - reclaim_start)[0] - HHDM - reclaim_start
    _, address, size, path, cmdline = struct.unpack_from("<5Q", reclaim, file_at)
    text = lambda at: reclaim[at - HHDM - reclaim_start:].split(b"\0")[0]  # noqa: E731
    blobs = dict(plan.blobs)
    assert count == 1 and size == 3 and blobs[address - HHDM] == b"abc"
    assert (text(path), text(cmdline)) == (b"/initrd", b"initrd")
