"""The kernel ELF is parsed once per machine, and the DWARF layer reads the ELF it is given.

A copy of the kernel at a path of its own (never loaded before in this
process) is booted while ``$RUSTOS_ELF`` names a missing file and the default
kernel path cannot be asked for; every construction of a pyelftools
``ELFFile`` is counted across the boot, every kernel inspector (directly and
through the REPL's commands, which the gdb ``monitor`` also runs), ``maps``,
``bt`` and the source-line lookups of ``step``/``next``.
"""

import shutil

import pytest
from elftools.elf.elffile import ELFFile

from rustos_dbg import Machine, dwarf, kernelfile
from rustos_dbg.dwarf import DwarfError
from rustos_dbg.dwarf.lines import line_table
from rustos_dbg.inspect.kernel import read_bootinfo, read_frames, read_heap, read_tasks
from rustos_dbg.repl.session import Session
from rustos_dbg.testing import PROMPT

pytestmark = pytest.mark.emulator


@pytest.fixture
def parses(monkeypatch):
    """The paths of the ELF files parsed (one entry per ``ELFFile`` built) while the test runs."""
    seen = []
    real_init = ELFFile.__init__

    def counting_init(self, stream, *args, **kwargs):
        seen.append(stream)
        real_init(self, stream, *args, **kwargs)

    monkeypatch.setattr(ELFFile, "__init__", counting_init)
    return seen


@pytest.fixture
def other_elf(kernel_elf, tmp_path, monkeypatch):
    """The kernel copied to a path of its own; the default kernel is out of reach."""
    copy = tmp_path / "other" / "kernel.elf"
    copy.parent.mkdir()
    shutil.copyfile(kernel_elf, copy)
    monkeypatch.setenv("RUSTOS_ELF", str(tmp_path / "missing.elf"))

    def no_default():
        raise AssertionError("the default kernel path was asked for")

    monkeypatch.setattr(kernelfile, "default_elf", no_default)
    return copy


def test_one_parse_per_machine_across_boot_inspectors_and_lines(other_elf, parses):
    machine = Machine.boot(other_elf)
    assert machine.run_until_serial(PROMPT) is None
    image = machine.image
    assert image.path == other_elf

    # The kernel inspectors, given the machine's image, decode with its DWARF.
    info = dwarf.load(image)
    assert info.path == other_elf
    assert read_heap(machine, image).ok
    assert read_tasks(machine, image).tasks
    assert read_frames(machine, image).ok
    assert read_bootinfo(machine, image).regions
    assert dwarf.load(image) is info

    # The same through the REPL (and so the gdb monitor, which runs its commands).
    session = Session(machine)
    for command in ("heap", "tasks", "frames", "bootinfo", "maps", "bt", "regs", "x/4gx $rsp"):
        assert session.execute(command), command
    assert ".text" in session.execute("maps")

    # Source lines: the table of this image, used by step and next.
    session.execute("break rustos::shell::commands::heap_cmd")
    machine.send_serial("heap\n")
    session.execute("continue")
    table = line_table(image)
    here = table.lookup(machine.reg("rip"))
    assert here is not None and here.file.endswith(".rs"), here
    report = session.execute("next")
    assert table.lookup(machine.reg("rip")) != here, report
    session.execute("step")

    # Another machine booted from the unchanged file shares the image.
    assert Machine.boot(other_elf).image is image
    assert len(parses) == 1, parses


def test_no_elf_is_a_clear_error(rustos_machine):
    for call in (lambda: read_heap(rustos_machine), lambda: dwarf.load(None),
                 lambda: line_table(None), lambda: read_tasks(rustos_machine, 42)):
        with pytest.raises(DwarfError) as error:
            call()
        message = str(error.value)
        assert "\n" not in message and "machine.image" in message, message
