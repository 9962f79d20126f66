"""`rustos-dbg run` (python -m rustos_dbg run): bad input is one line and status 2; a test run exits 0."""

import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from qemu import SUMMARY, kernel_results

import rustos_dbg

pytestmark = pytest.mark.emulator

ROOT = Path(rustos_dbg.__file__).resolve().parents[1]


def rustos_dbg_run(*args, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "rustos_dbg", "run", *map(str, args)], cwd=ROOT,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)


def assert_bad_input(done: subprocess.CompletedProcess) -> str:
    """Status 2, exactly one line on stderr starting with `rustos-dbg: error:`, no traceback."""
    assert "Traceback" not in done.stderr + done.stdout, done.stderr[-3000:]
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("rustos-dbg: error:"), lines[0]
    assert done.returncode == 2, (done.returncode, done.stderr)
    return lines[0]


@pytest.fixture
def elf_bytes(rustos_elf) -> bytes:
    return rustos_elf.read_bytes()


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def with_bytes(data: bytes, offset: int, fmt: str, value: int) -> bytes:
    patched = bytearray(data)
    struct.pack_into(fmt, patched, offset, value)
    return bytes(patched)


def first_program_header(data: bytes) -> int:
    return struct.unpack_from("<Q", data, 0x20)[0]  # e_phoff


BAD_FILES = {
    "missing": lambda tmp, elf: tmp / "no-such-kernel.elf",
    "directory": lambda tmp, elf: tmp,
    "empty": lambda tmp, elf: write(tmp / "empty.elf", b""),
    "text": lambda tmp, elf: write(tmp / "notes.txt", b"this is a text file, not a kernel\n" * 10),
    "elf32": lambda tmp, elf: write(tmp / "elf32.elf", with_bytes(elf, 4, "<B", 1)),  # e_ident[EI_CLASS] = ELFCLASS32
    "aarch64": lambda tmp, elf: write(tmp / "aarch64.elf", with_bytes(elf, 0x12, "<H", 183)),  # e_machine
    "header-only": lambda tmp, elf: write(tmp / "header.elf", elf[:64]),
    "first-200-bytes": lambda tmp, elf: write(tmp / "cut200.elf", elf[:200]),
    "first-half": lambda tmp, elf: write(tmp / "half.elf", elf[: len(elf) // 2]),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_kernel_file_is_one_error_line(case, elf_bytes, tmp_path):
    path = BAD_FILES[case](tmp_path, elf_bytes)
    line = assert_bad_input(rustos_dbg_run(path, "--headless", "--timeout", "30"))
    assert path.name in line


def test_elf64_without_pvh_note_is_one_error_line(tmp_path):
    true = Path(shutil.which("true") or "/bin/true").resolve()
    head = true.read_bytes()[:5] if true.exists() else b""
    if head != b"\x7fELF\x02":
        pytest.skip(f"{true} is not an ELF64 binary")
    line = assert_bad_input(rustos_dbg_run(true, "--headless", "--timeout", "30"))
    assert "PVH" in line


def test_bad_option_value_is_one_error_line(rustos_elf):
    assert_bad_input(rustos_dbg_run(rustos_elf, "--headless", "--timeout", "soon"))


def test_segment_outside_ram_is_one_error_line(elf_bytes, tmp_path):
    far = with_bytes(elf_bytes, first_program_header(elf_bytes) + 0x18, "<Q", 1 << 40)  # p_paddr of PT_LOAD 0
    assert_bad_input(rustos_dbg_run(write(tmp_path / "far.elf", far), "--headless", "--timeout", "30"))


def test_zero_ram_is_one_error_line(rustos_elf):
    assert_bad_input(rustos_dbg_run(rustos_elf, "--headless", "--ram", "0", "--timeout", "30"))


@pytest.mark.parametrize("size", [None, 1000])
def test_bad_disk_image_is_one_error_line(rustos_elf, tmp_path, size):
    disk = tmp_path / "disk.img"
    if size is not None:
        disk.write_bytes(b"\0" * size)                      # not whole sectors
    line = assert_bad_input(rustos_dbg_run(rustos_elf, "--headless", "--disk", disk, "--timeout", "30"))
    assert "disk image" in line and str(disk) in line


def test_a_disk_beside_the_kernel_is_attached_by_default(rustos_elf, tmp_path):
    from rustos_dbg.bootoptions import disk_for

    elf = tmp_path / "rustos.elf"
    assert disk_for(elf, None) is None
    (tmp_path / "disk.img").write_bytes(bytes(4096))
    assert disk_for(elf, None) == tmp_path / "disk.img" and disk_for(elf, "none") is None
    m = rustos_dbg.Machine.boot(rustos_elf, disk=tmp_path / "disk.img")
    assert m.devices.ata.disk.sectors == 8 and m.devices.ata.read(0x1F7, 1) != 0   # a drive answers


def test_headless_kernel_tests_exit_0(rustos_elf, tmp_path):
    elf = tmp_path / "rustos.elf"
    shutil.copyfile(rustos_elf, elf)
    done = rustos_dbg_run(elf, "--append", "test", "--headless", "--timeout", "120", timeout=180)
    assert done.returncode == 0, (done.returncode, done.stderr[-2000:], done.stdout[-2000:])
    assert "Traceback" not in done.stderr
    results = kernel_results(done.stdout)
    assert len(results) >= 20 and set(results.values()) == {"ok"}, done.stdout[-2000:]
    summary = SUMMARY.search(done.stdout)
    assert summary and (int(summary.group(1)), summary.group(2)) == (len(results), "0")


def test_headless_failing_kernel_test_exits_1(rustos_elf):
    done = rustos_dbg_run(rustos_elf, "--append", "test=no_such_test", "--headless", "--timeout", "120", timeout=180)
    assert done.returncode == 1, (done.returncode, done.stderr[-2000:])
    assert "no kernel test named 'no_such_test'" in done.stdout
