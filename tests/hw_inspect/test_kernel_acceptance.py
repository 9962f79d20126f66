"""Hardware inspectors against the real RustOS kernel booted in the emulator.

The shared ``machine`` (conftest) sits at the shell prompt; tests that stop
the kernel elsewhere boot their own machine.
"""

import re

import pytest

from rustos_dbg.inspect.hw import (bt, cregs, devices, dis, faults, gdt, idt, maps, memdump,
                                   pagewalk, regs, tss)
from rustos_dbg.inspect.hw.common import HEAP_START, PHYS_OFFSET
from rustos_dbg.machine.stops import StopKind

from .hw_helpers import boot_to_prompt, shell

pytestmark = pytest.mark.emulator


def sym(m, name):
    s = m.symbols.find(name)
    assert s is not None, name
    return s


def test_idt_handlers_are_the_trap_stubs(machine):
    table = idt.read_idt(machine, symbolize=machine.symbolize)
    assert table.limit == 0xFFF and len(table.entries) == 256
    for v in range(48):
        e = table.entry(v)
        assert e.handler == sym(machine, f"trap_stub_{v}").address, v
        assert (e.present, e.type_name, e.selector) == (True, "interrupt", 0x08)
        assert e.handler_symbol in (f"trap_stub_{v}", "trap_stubs")
    assert table.entry(8).ist == 1 and table.entry(14).ist == 2
    assert table.entry(2).ist == 3 and table.entry(18).ist == 4
    assert table.entry(3).dpl == 3 and table.entry(13).ist == 0
    one = idt.read_idt(machine, vector=14, symbolize=machine.symbolize)
    assert one.entries[0].handler == sym(machine, "trap_stub_14").address
    assert "trap_stub_14" in idt.format_idt(one)


def test_gdt_and_the_tr_descriptor(machine):
    g = gdt.read_gdt(machine)
    assert [d.kind for d in g.descriptors] == ["null", "code", "data", "data", "code", "tss"]
    tss_desc = g.by_selector(0x28)
    assert tss_desc.is_tr and tss_desc.base == sym(machine, "RUSTOS_TSS").address
    assert tss_desc.limit_bytes == 0x67 and tss_desc.type_name == "64-bit TSS (busy)"
    assert g.by_selector(0x08).l and g.by_selector(0x23).dpl == 3
    assert "<- TR" in gdt.format_gdt(g)


def test_tss_stacks_and_guards(machine):
    info = tss.read_tss(machine, symbols=machine.symbols)
    expected = ["RUSTOS_DF_STACK", "RUSTOS_PF_STACK", "RUSTOS_NMI_STACK", "RUSTOS_MC_STACK"]
    for slot, name in zip(info.ist, expected):
        s = sym(machine, name)
        assert (slot.stack, slot.pointer, slot.top) == (name, s.address + s.size, s.address + s.size)
        assert slot.usable_size == s.size - 4096 and slot.guard_unmapped is True
    main = sym(machine, "RUSTOS_MAIN_STACK")
    rsp0 = info.rsp[0]
    assert rsp0.stack == "RUSTOS_MAIN_STACK" and rsp0.top == main.address + main.size
    assert rsp0.guard_unmapped is True and rsp0.used_bytes > 0
    assert all(s.empty for s in info.ist[4:]) and info.iomap_base == 104
    text = tss.format_tss(info)
    assert text.count("unmapped") == 5


_ENTRY = re.compile(r"^\s+(PML4E|PDPTE|PDE|PTE)\s+\[\s*(\d+)\] at (0x[0-9a-f]+) = (0x[0-9a-f]+)", re.M)
_PHYS = re.compile(r"-> phys (0x[0-9a-f]+)")


@pytest.mark.parametrize("what", ["text", "heap", "physmap", "unmapped"])
def test_walk_agrees_with_the_page_command(machine, what):
    vaddr = {"text": sym(machine, "kernel_main").address + 0x11,
             "heap": HEAP_START + 0x123,
             "physmap": PHYS_OFFSET + 0x200000 + 0x456,
             "unmapped": 0xDEADBEEF000}[what]
    out = shell(machine, f"page {vaddr:#x}")
    kernel_steps = [(name, int(idx), int(addr, 16), int(raw, 16))
                    for name, idx, addr, raw in _ENTRY.findall(out)]
    assert kernel_steps, out
    w = pagewalk.walk_address(machine, vaddr)
    assert [(lv.name, lv.index, lv.entry_addr, lv.raw) for lv in w.levels] == kernel_steps
    phys = _PHYS.search(out)
    if what == "unmapped":
        assert "not mapped" in out and phys is None
        assert not w.ok and w.stop_level == "PML4E"
        assert {c.access: c.error_code for c in w.accesses} == {"read": 0, "write": 2, "execute": 0x10}
    else:
        assert w.ok and w.paddr == int(phys.group(1), 16)
        assert w.page_size == (2 << 20 if what == "physmap" else 4096)
        assert w.permissions == ("R-X" if what == "text" else "RW-")


def test_maps_covers_every_elf_section(machine, kernel_elf):
    sections = maps.kernel_sections(kernel_elf)
    mm = maps.read_maps(machine, sections, symbols=machine.symbols)
    expected = {".text": "R-X", ".rodata": "R--", ".data": "RW-", ".bss": "RW-"}
    assert set(expected) <= {name for name, _, _ in sections}
    for name, start, end in sections:
        if name not in expected:
            continue
        rows = [r for r in mm.rows if r.start < end and start < r.end]
        assert rows[0].start <= start and rows[-1].end >= end, name
        assert all(a.end == b.start for a, b in zip(rows, rows[1:])), name    # no holes
        for r in rows:
            if r.kind == "guard":
                assert not r.mapped and name == ".bss"
            else:
                assert r.kind in ("kernel", "stack") and r.perms == expected[name] and r.g, (name, r)
    guards = [r for r in mm.rows if r.kind == "guard"]
    assert len(guards) == 5 and not any(r.mapped for r in guards)
    window = next(r for r in mm.rows if r.kind == "physmap")
    assert window.start == PHYS_OFFSET and window.page_size == 2 << 20 and window.perms == "RW-"
    assert any(r.kind == "heap" and r.start == HEAP_START for r in mm.rows)


def test_register_views(machine):
    c = cregs.read_cregs(machine)
    assert {"PG", "WP", "PE"} <= set(c.get("cr0").set_flags)
    assert {"NXE", "LMA", "LME"} <= set(c.get("efer").set_flags)
    assert {"PGE", "PAE"} <= set(c.get("cr4").set_flags)
    s = regs.read_sregs(machine)
    by = {x.name: x for x in s.segments}
    assert by["cs"].selector == 0x08 and by["cs"].descriptor.l
    assert by["tr"].cache.base == sym(machine, "RUSTOS_TSS").address
    g = regs.read_regs(machine, machine.symbolize)
    assert g["rip"] == machine.reg("rip")
    d = dis.disassemble(machine, machine.reg("rip"), 4, symbolize=machine.symbolize)
    assert d.instructions[0].current and d.error is None
    tss_sym = sym(machine, "RUSTOS_TSS")
    main = sym(machine, "RUSTOS_MAIN_STACK")
    dump = memdump.read_memory(machine, tss_sym.address + 4, 2, 8, symbolize=machine.symbolize)
    assert dump.lines[0].values == (main.address + main.size, 0)     # RSP0, RSP1
    assert dump.lines[0].symbols[0] is not None and dump.lines[0].symbols[1] is None


def test_devices_as_the_kernel_programs_them(machine):
    r = devices.decode_devices(devices.snapshot_devices(machine.devices))
    assert (r.pic.master.base, r.pic.slave.base) == (32, 40) and {0, 1, 4} <= set(r.pic.unmasked)
    assert r.pit.channels[0].divisor == 1193 and r.pit.channels[0].mode == 2
    assert (r.uart.baud, r.uart.line) == (38400, "8N1")
    assert "TRANSLATE" in r.i8042.config_flags


def test_every_model_serializes_to_json(machine, kernel_elf):
    import json

    models = [idt.read_idt(machine, vector=14), gdt.read_gdt(machine),
              tss.read_tss(machine, symbols=machine.symbols),
              pagewalk.walk_address(machine, HEAP_START),
              maps.read_maps(machine, maps.kernel_sections(kernel_elf), symbols=machine.symbols),
              regs.read_regs(machine, machine.symbolize), regs.read_sregs(machine),
              cregs.read_cregs(machine), memdump.read_memory(machine, HEAP_START, 4),
              dis.disassemble(machine, machine.reg("rip"), 3, symbolize=machine.symbolize),
              bt.backtrace(machine, symbols=machine.symbols),
              faults.decode_faults(machine.exception_log, machine.symbolize, last=5),
              devices.decode_devices(devices.snapshot_devices(machine.devices))]
    for model in models:
        assert isinstance(json.loads(idt.to_json(model)), dict), type(model)


def frame_names(trace):
    return [f.symbol or "?" for f in trace.frames if f.kind == "frame"]


def test_bt_at_a_breakpoint_in_a_shell_command(kernel_elf):
    m = boot_to_prompt(kernel_elf)
    target = sym(m, "rustos::shell::commands::heap_cmd").address
    m.breakpoints.add(target)
    m.send_serial("heap\n")
    stop = m.run(timeout=30)
    assert stop.kind is StopKind.BREAKPOINT and m.reg("rip") == target
    trace = bt.backtrace(m, symbols=m.symbols)
    names = frame_names(trace)
    assert names[0] == "rustos::shell::commands::heap_cmd"
    assert names[1].startswith("rustos::shell::commands::execute+")
    assert names[2].startswith("rustos::shell::shell_task")
    assert any(n.startswith("kernel_main") for n in names) and "rbp = 0" in trace.stop_reason


def test_bt_and_faults_at_a_caught_page_fault(kernel_elf):
    m = boot_to_prompt(kernel_elf)
    m.catch = {14}
    m.send_serial("fault pf 0xdeadbeef000\n")
    stop = m.run(timeout=30)
    assert stop.kind is StopKind.EXCEPTION and stop.vector == 14
    for _ in range(3):                          # in the stub, after its push, in trap_common
        trace = bt.backtrace(m, symbols=m.symbols)
        kinds = [f.kind for f in trace.frames]
        assert kinds[:2] == ["frame", "interrupt"], bt.format_backtrace(trace)
        info = trace.frames[1].interrupt
        assert (info.vector, info.error_code) == (14, 0)
        names = frame_names(trace)[1:]
        assert names[0].startswith("rustos::recovery::"), names
        assert names[1].startswith("rustos::shell::commands::fault_cmd+"), names
        text = bt.format_backtrace(trace)
        assert "<interrupt: vector 14 (#PF page fault) error 0x0>" in text
        m.step()
    m.catch = set()
    log = faults.decode_faults(m.exception_log, m.symbolize, vectors={14})
    pf = log.records[-1]
    assert (pf.cr2, pf.stack, pf.handler_symbol, pf.outcome) == (0xDEADBEEF000, "IST 2", "trap_stub_14", "delivered")
    assert dict(pf.error_flags)["P"] is False and "not present" in pf.error_text
    assert pf.rip_symbol.startswith("rustos::recovery::")
    # Inside the handler: the whole TrapFrame is on the #PF IST stack.
    assert m.run(until="trap_dispatch", timeout=30).kind is StopKind.BREAKPOINT
    trace = bt.backtrace(m, symbols=m.symbols)
    info = next(f.interrupt for f in trace.frames if f.kind == "interrupt")
    assert info.complete and info.vector == 14 and info.rip == pf.rip
    pf_stack = sym(m, "RUSTOS_PF_STACK")
    assert pf_stack.address < info.frame_address < pf_stack.address + pf_stack.size
    assert frame_names(trace)[1].startswith("trap_common+")
    ist2 = tss.read_tss(m, symbols=m.symbols).ist[1]
    assert ist2.stack == "RUSTOS_PF_STACK" and ist2.live_depth is not None
    assert ist2.live_depth >= bt.TRAP_FRAME_SIZE and ist2.used_bytes >= ist2.live_depth
    assert m.run_until_serial("rustos> ") is None
    assert "fault pf: recovered (CR2 0xdeadbeef000" in m.serial_output
