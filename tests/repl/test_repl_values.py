"""``p``, ``frame``, ``up``/``down`` and ``info locals``/``args`` on the real kernel: Rust values
checked against raw reads of guest memory and against the kernel's own decoders."""

import json
import re

import pytest

from rustos_dbg.inspect.kernel.heap import read_heap
from rustos_dbg.repl.registry import CommandError

pytestmark = pytest.mark.emulator


def _number(text: str) -> int:
    m = re.fullmatch(r"\S+ = (\d+)", text.strip())
    assert m, text
    return int(m.group(1))


def test_p_rustos_ticks_prints_the_number_a_raw_read_of_the_static_gives(session):
    m = session.machine
    m.run(max_instructions=5_000_000)  # a few timer ticks
    address = m.symbols.find("RUSTOS_TICKS").address
    raw = int.from_bytes(m.read_virtual(address, 8), "little")
    assert raw > 0
    assert _number(session.execute("p RUSTOS_TICKS")) == raw          # the atomic unwrapped to its u64
    assert _number(session.execute("print rustos::time::RUSTOS_TICKS")) == raw
    session.execute("json on")
    shown = json.loads(session.execute("p RUSTOS_TICKS"))
    assert (shown["value"], shown["type"], shown["address"]) == (raw, "u64", address)


def test_p_struct_fields_index_and_deref_match_the_heap_inspector(session):
    m = session.machine
    heap = read_heap(m, m.image)
    assert _number(session.execute("p RUSTOS_HEAP.stats.allocs")) == heap.stats.allocs  # through IrqMutex's data
    stats = session.execute("p RUSTOS_HEAP.stats")
    assert stats.startswith("RUSTOS_HEAP.stats = HeapStats {") and f"allocs: {heap.stats.allocs}," in stats, stats
    sizes = [_number(session.execute(f"p RUSTOS_HEAP.lists.sizes[{i}]")) for i in range(3)]
    assert sizes == [8, 16, 32]
    # &x, a cast of that address to a kernel type by a Rust path (full or a unique suffix), and *.
    address = int(session.execute("p &RUSTOS_HEAP.stats").split(" = ")[1], 16)
    cast = session.execute(f"p *(rustos::heap::HeapStats *){address:#x}")
    assert cast.split(" = ", 1)[1] == stats.split(" = ", 1)[1]
    assert session.execute(f"p (heap::HeapStats){address:#x}").split(" = ", 1)[1] == stats.split(" = ", 1)[1]


def test_p_shows_enums_by_variant_name(session):
    # A C-like enum: the boot thread's state word seen as the kernel's ThreadState.
    state = _number(session.execute("p RUSTOS_THREADS.threads[0].state"))
    assert state == 2
    assert session.execute("p *(rustos::thread::table::ThreadState *)&RUSTOS_THREADS.threads[0].state") \
        .endswith(" = Running")
    # Option: no sleeper yet (None), the shell's task future is there (Some).
    assert session.execute("p rustos::time::SLEEPERS.data[0]").endswith(" = None")
    assert session.execute("p rustos::task::executor::OWNED.futures[0]").split(" = ", 1)[1].startswith("Some(")
    # Option<NonNull<Hole>>: Some(address), and a field reached through it.
    first = session.execute("p RUSTOS_HEAP.fallback.holes.first.next")
    hole = int(re.search(r"Some\((0x[0-9a-f]+)\)", first).group(1), 16)
    size = _number(session.execute("p RUSTOS_HEAP.fallback.holes.first.next.size"))
    assert size == int.from_bytes(session.machine.read_virtual(hole, 8), "little")


def test_page_table_entries_show_as_flags(session):
    m = session.machine
    pml4 = m.reg("cr3") & ~0xFFF
    index = next(i for i in range(256, 512)
                 if int.from_bytes(m.read_physical(pml4 + 8 * i, 8), "little") & 1)
    raw = int.from_bytes(m.read_physical(pml4 + 8 * index, 8), "little")
    text = session.execute(
        f"p (x86_64::structures::paging::page_table::PageTableEntry)(0xffff800000000000 + {pml4 + 8 * index:#x})")
    assert text.endswith(f" = {raw & 0x000F_FFFF_FFFF_F000:#x} " + " | ".join(
        name for bit, name in ((0, "PRESENT"), (1, "WRITABLE"), (2, "USER_ACCESSIBLE"), (3, "WRITE_THROUGH"),
                               (4, "NO_CACHE"), (5, "ACCESSED"), (6, "DIRTY"), (7, "HUGE_PAGE"), (8, "GLOBAL"),
                               (63, "NO_EXECUTE")) if raw >> bit & 1)), text


@pytest.mark.parametrize("line, error", [
    ("p no_such_static", "no local, argument or static named 'no_such_static'"),
    ("p (rustos::NoSuchType *)0x1000", "no type named 'rustos::NoSuchType' in the DWARF"),
    ("p RUSTOS_HEAP.nosuch", "rustos::heap::KernelHeap has no field 'nosuch'"),
    ("p RUSTOS_HEAP.lists.sizes[99]", "index 99 out of range"),
    ("p RUSTOS_TICKS +", "incomplete expression"),
    ("frame 99", "no frame 99"),
])
def test_bad_input_is_one_line(session, line, error):
    with pytest.raises(CommandError) as e:
        session.execute(line)
    assert error in str(e.value) and "\n" not in str(e.value), str(e.value)


def _panicked(session):
    assert "catching panics" in session.execute("catch panic")
    session.execute('serial "panic\\r"')
    return session.execute("continue")


def test_frame_up_down_and_info_locals_in_the_frames_of_a_panic(session):
    _panicked(session)
    bt = session.execute("bt").splitlines()
    execute = next(int(line[1:3]) for line in bt if "rustos::shell::commands::execute" in line)
    out = session.execute(f"frame {execute}")
    assert out.startswith(f"#{execute:<2} ") and "rustos::shell::commands::execute" in out, out
    assert "kernel/src/shell/commands.rs:" in out
    assert session.selection.kind == "frame" and session.selection.registers["rip"] == int(out.split()[1], 16)
    # The shell's command line was "panic": `name` is in the frame's stack, `command` in a
    # callee-saved register the callees' prologues saved.
    locals_ = session.execute("info locals")
    assert 'name = "panic"' in locals_, locals_
    assert session.execute("p command.name") == 'command.name = "panic"'
    assert "line = " in session.execute("info args")
    assert "shell_task" in session.execute("up")
    assert "rustos::shell::commands::execute" in session.execute("down")
    # frame 1 is core's panic_fmt: its argument is the PanicInfo's message.
    assert "core::panicking::panic_fmt" in session.execute("frame 1")
    assert "fmt = " in session.execute("info args")
    session.execute("stepi")   # moving clears the frame
    assert session.selection is None


def test_catch_panic_prints_the_file_and_line_of_the_panic_in_the_source(session, kernel_elf):
    report = _panicked(session)
    source = kernel_elf.parent.parent / "kernel" / "src" / "shell" / "commands.rs"
    line = next(i for i, text in enumerate(source.read_text().splitlines(), 1)
                if 'panic!("panic requested from the shell")' in text)
    assert report.splitlines()[0].startswith(
        f"panic at kernel/src/shell/commands.rs:{line}: panic requested from the shell"), report
    assert "rustos::shell::commands::panic_cmd" in report      # the backtrace
    assert session.execute("why").splitlines()[0] == report.splitlines()[0]
    assert session.execute("info catch") == "catching: panic"
    # Going on runs the handler: the kernel reports the panic itself and halts.
    session.execute("continue")
    assert f"panicked at src/shell/commands.rs:{line}" in session.machine.serial_output
