"""The on-disk DWARF cache (rustos_dbg.dwarf.cache): keyed by the ELF's hash, same answers as a fresh read."""

import pytest

from rustos_dbg import dwarf
from rustos_dbg.dwarf import cache
from rustos_dbg.dwarf.lines import build_line_table
from rustos_dbg.machine.image import load_image


def _refuse(image):
    raise AssertionError("built again although the cache holds this ELF")


@pytest.fixture
def image(kernel_elf, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv("RUSTOS_DBG_NO_CACHE", raising=False)
    return load_image(kernel_elf)


def test_debug_info_is_cached_by_hash_and_answers_like_a_fresh_read(image, tmp_path):
    fresh = dwarf._indexed(image)
    fresh.attach_symbols(image.symbols, image.path)
    assert cache.cached(image, "debuginfo", dwarf._indexed) is not None
    path = cache.cache_path(image, "debuginfo")
    assert path.parent == tmp_path / "rustos-dbg" and path.exists()
    assert cache.elf_key(image) in path.name
    loaded = cache.cached(image, "debuginfo", _refuse)
    loaded.attach_symbols(image.symbols, image.path)
    for name in ("RUSTOS_HEAP", "rustos::heap::HEAP"):
        a, b = fresh.find_variable(name), loaded.find_variable(name)
        assert (a is None) == (b is None)
        if a is not None:
            assert (a.name, a.address, a.type and a.type.name) == (b.name, b.address, b.type and b.type.name)
    heap = fresh.type("rustos::heap::KernelHeap")
    again = loaded.type("rustos::heap::KernelHeap")
    assert [(m.name, m.offset, m.type.name) for m in heap.members] == \
           [(m.name, m.offset, m.type.name) for m in again.members]
    assert loaded.symbols is image.symbols


def test_line_table_from_the_cache_looks_up_the_same_rows(image):
    fresh = build_line_table(image.elf)
    cache.cached(image, "lines", lambda i: build_line_table(i.elf))
    loaded = cache.cached(image, "lines", _refuse)
    assert len(loaded) == len(fresh) > 1000
    text = next(s for s in image.sections if s.name == ".text")
    for address in range(text.address, text.address + min(text.size, 0x4000), 7):
        assert loaded.lookup(address) == fresh.lookup(address)


def test_a_damaged_entry_is_rebuilt_and_other_bytes_get_another_key(image, tmp_path):
    built = []
    cache.cached(image, "lines", lambda i: built.append(1) or build_line_table(i.elf))
    cache.cache_path(image, "lines").write_bytes(b"not a pickle")
    table = cache.cached(image, "lines", lambda i: built.append(1) or build_line_table(i.elf))
    assert built == [1, 1] and len(table) > 1000

    class Other:
        elf, path = None, image.path
    other = tmp_path / "other.elf"
    other.write_bytes(image.path.read_bytes() + b"\0")
    Other.path = other
    assert cache.elf_key(Other) != cache.elf_key(image)
