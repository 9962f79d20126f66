"""Fixtures of the Multiboot2 tests: the test kernel (tests/multiboot2/kernel, built
with the machine's gcc and ld), a module file, and a GRUB ISO of both."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest

from rustos_dbg import Machine

KERNEL_DIR = Path(__file__).parent / "kernel"
CMDLINE = "hello world"
MODULE_TEXT = b"MODULE-CONTENT of the Multiboot2 test\n"
MODULE_STRING = "mod.txt mod-args"


@pytest.fixture(scope="session")
def mb2_boot() -> SimpleNamespace:
    """What both loaders give the kernel: ``cmdline``, the module's ``text`` and ``string``."""
    return SimpleNamespace(cmdline=CMDLINE, text=MODULE_TEXT, string=MODULE_STRING)


@pytest.fixture(scope="session")
def mb2_build(tmp_path_factory) -> Path:
    """A directory with the built test kernel (kernel.elf) and its module (mod.txt)."""
    out = tmp_path_factory.mktemp("mb2")
    done = subprocess.run(["sh", str(KERNEL_DIR / "build.sh"), str(out / "kernel.elf")], capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    (out / "mod.txt").write_bytes(MODULE_TEXT)
    return out


@pytest.fixture(scope="session")
def mb2_elf(mb2_build) -> Path:
    """The Multiboot2 test kernel."""
    return mb2_build / "kernel.elf"


@pytest.fixture(scope="session")
def mb2_modules(mb2_build) -> list:
    """The boot modules the tests give it: (path, string)."""
    return [(mb2_build / "mod.txt", MODULE_STRING)]


@pytest.fixture(scope="session")
def mb2_iso(mb2_build, tmp_path_factory) -> Path:
    """A GRUB rescue ISO (grub-mkrescue, Debian's grub-pc-bin) that boots the kernel with
    the same command line and module."""
    if shutil.which("grub-mkrescue") is None:
        pytest.fail("grub-mkrescue is not installed (scripts/test installs grub-pc-bin, xorriso, mtools)")
    root = tmp_path_factory.mktemp("iso")
    (root / "boot" / "grub").mkdir(parents=True)
    shutil.copyfile(mb2_build / "kernel.elf", root / "boot" / "kernel.elf")
    shutil.copyfile(mb2_build / "mod.txt", root / "boot" / "mod.txt")
    (root / "boot" / "grub" / "grub.cfg").write_text(
        "set timeout=0\nset default=0\n"
        f'menuentry "mb2" {{\n    multiboot2 /boot/kernel.elf {CMDLINE}\n'
        f"    module2 /boot/mod.txt {MODULE_STRING}\n    boot\n}}\n")
    iso = mb2_build / "mb2.iso"
    done = subprocess.run(["grub-mkrescue", "-o", str(iso), str(root)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return iso


@pytest.fixture
def boot_mb2(mb2_elf, mb2_modules):
    """Factory: a new machine at the test kernel's entry, booted with the command line and module."""
    return lambda: Machine.boot(mb2_elf, cmdline=CMDLINE, modules=mb2_modules)
