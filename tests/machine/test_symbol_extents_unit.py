"""Unit tests of ``SymbolTable.containing``: which symbol's extent holds an address."""

from rustos_dbg.machine.symbols import SHF_ALLOC, SHF_EXECINSTR, Section, Symbol, SymbolTable

TEXT = Section(".text", 0x1000, 0x1000, SHF_ALLOC | SHF_EXECINSTR)
DATA = Section(".data", 0x3000, 0x100, SHF_ALLOC)
NOTES = Section(".comment", 0, 0x80, 0)          # not allocated: no run-time addresses


def table():
    return SymbolTable([
        Symbol("func", 0x1100, 0x40, "func", TEXT),
        Symbol("inner_label", 0x1120, 0, "other", TEXT),   # a label inside func
        Symbol("stub", 0x1800, 0, "other", TEXT),          # assembly, no size
        Symbol("stub_next", 0x1810, 0, "other", TEXT),
        Symbol("table", 0x3000, 0, "other", DATA),
        Symbol("CONST", 0x200, 0, "other", None),          # SHN_ABS
        Symbol("comment", 0x10, 0, "other", NOTES),
    ])


def name_at(t, address):
    s = t.containing(address)
    return None if s is None else s.name


def test_sized_symbols_hold_their_extent_only():
    t = table()
    assert name_at(t, 0x1100) == "func"
    assert name_at(t, 0x113F) == "func"          # inner_label is inside func: the sized symbol wins
    assert name_at(t, 0x1140) is None            # past func; inner_label lies in func, so not it either
    assert name_at(t, 0x10FF) is None            # before the first symbol of .text


def test_unsized_symbols_reach_the_next_symbol_within_their_section():
    t = table()
    assert t.symbolize(0x1805) == "stub+0x5"
    assert t.symbolize(0x1810) == "stub_next"
    assert t.symbolize(0x1FFF) == "stub_next+0x7ef"   # up to the end of .text
    assert t.symbolize(0x2000) == "0x2000"            # past .text: no label
    assert t.symbolize(0x30FF) == "table+0xff"
    assert t.symbolize(0x3100) == "0x3100"            # past .data


def test_absolute_and_unallocated_symbols_never_label():
    t = table()
    for address in (0x200, 0x201, 0x6E0):
        assert t.containing(address) is None
    assert name_at(t, 0x10) is None and name_at(t, 0x18) is None   # in an unallocated section
    assert t.symbolize(0x1800) == "stub"                            # a symbol's own address is its name
    assert t.find("CONST").address == 0x200           # still found by name


def test_sections_contains():
    assert TEXT.contains(0x1000) and TEXT.contains(0x1FFF) and not TEXT.contains(0x2000)
    assert TEXT.executable and not DATA.executable and not NOTES.contains(0x10)
