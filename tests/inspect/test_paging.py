"""Page-table walker against hand-built tables in a bytearray "physical memory".

Entries are packed as plain ints (bit values from the SDM tables) so the
walker's use of the struct layouts is checked independently.  Expected #PF
error codes follow Intel SDM Vol. 3A §4.7: P=1, W/R=2, U/S=4, RSVD=8, I/D=16.
"""

import struct

import pytest

from rustos_dbg.x86.mappings import Mapping, iter_mappings
from rustos_dbg.x86.paging import (Access, Fault, PagingMode, Permissions, StopReason, is_canonical,
                                   translate, walk)
from rustos_dbg.structs.paging import PageLevel

P, RW, US, PWT, PCD, A, D, PS, G = 1, 2, 4, 8, 16, 32, 64, 128, 256
NX = 1 << 63
KIB4, MIB2, GIB1 = 1 << 12, 1 << 21, 1 << 30
ERR_P, ERR_W, ERR_U, ERR_RSVD, ERR_I = 1, 2, 4, 8, 16


class Memory:
    """Physical memory + a page-table builder using plain int packing."""

    def __init__(self, size=4 << 20, levels=4):
        self.data = bytearray(size)
        self.next_free = 0x1000
        self.levels = levels
        self.root = self.alloc()
        self.reads = 0

    def alloc(self):
        addr, self.next_free = self.next_free, self.next_free + 0x1000
        return addr

    def read(self, addr, n):
        assert addr + n <= len(self.data), "read outside physical memory"
        self.reads += 1
        return bytes(self.data[addr:addr + n])

    def entry_addr(self, table, index):
        return table + 8 * index

    def get(self, addr):
        return struct.unpack_from("<Q", self.data, addr)[0]

    def put(self, addr, value):
        struct.pack_into("<Q", self.data, addr, value)

    def map(self, vaddr, paddr, size=KIB4, flags=P | RW, table_flags=P | RW | US):
        """Map one page; returns the entry address of every level, top first."""
        leaf_level = {KIB4: 1, MIB2: 2, GIB1: 3}[size]
        table, path = self.root, []
        for level in range(self.levels, leaf_level - 1, -1):
            index = (vaddr >> (12 + 9 * (level - 1))) & 511
            addr = self.entry_addr(table, index)
            path.append(addr)
            if level == leaf_level:
                self.put(addr, paddr | flags | (PS if level > 1 else 0))
                return path
            entry = self.get(addr)
            if not entry & P:
                entry = self.alloc() | table_flags
                self.put(addr, entry)
            table = entry & 0x000F_FFFF_FFFF_F000
        raise AssertionError


def va(i4, i3, i2, i1, offset=0):
    """Lower-half linear address from its four table indices."""
    return (i4 << 39) | (i3 << 30) | (i2 << 21) | (i1 << 12) | offset


UPPER = 0xFFFF_0000_0000_0000  # sign extension for PML4 indices >= 256


@pytest.fixture
def mem():
    return Memory()


def test_walk_4k_page(mem):
    vaddr = va(3, 5, 7, 9, 0x123)
    path = mem.map(vaddr, 0x5_6789_A000, flags=P | RW | US | A | D | NX)
    w = walk(mem.read, mem.root, vaddr)
    assert w.ok and w.stop_reason is None
    assert w.paddr == 0x5_6789_A123 and w.page_size == KIB4
    assert [s.name for s in w.steps] == ["PML4E", "PDPTE", "PDE", "PTE"]
    assert [s.index for s in w.steps] == [3, 5, 7, 9]
    assert [s.entry_addr for s in w.steps] == path
    assert [s.raw for s in w.steps] == [mem.get(a) for a in path]
    assert [s.leaf for s in w.steps] == [False, False, False, True]
    assert [s.address for s in w.steps[:3]] == [p - 8 * i for p, i in zip(path[1:], (5, 7, 9))]
    assert w.steps[-1].flags.labels() == ("P", "RW", "US", "A", "D", "XD")
    assert w.permissions == Permissions(present=True, writable=True, user=True, executable=False)


def test_walk_2m_page_in_upper_half(mem):
    vaddr = UPPER | va(256, 0, 1, 0, 0x12345)
    assert vaddr == 0xFFFF_8000_0021_2345
    mem.map(vaddr, 0x4000_0000, size=MIB2, flags=P | RW | G)
    w = walk(mem.read, mem.root, vaddr)
    assert w.paddr == 0x4001_2345 and w.page_size == MIB2
    assert [s.level for s in w.steps] == [PageLevel.PML4, PageLevel.PDPT, PageLevel.PD]
    assert w.steps[-1].flags.ps and w.steps[-1].flags.g and w.steps[-1].leaf
    assert w.permissions == Permissions(True, True, False, True)


def test_walk_1g_page(mem):
    vaddr = 0xFFFF_FFFF_C0AB_CDEF  # PML4 511, PDPT 511
    mem.map(vaddr, 0x1_0000_0000, size=GIB1, flags=P)
    w = walk(mem.read, mem.root, vaddr)
    assert [s.index for s in w.steps] == [511, 511]
    assert w.paddr == 0x1_00AB_CDEF and w.page_size == GIB1
    assert not w.permissions.writable


def test_pat_bit_of_large_page_is_not_address(mem):
    vaddr = va(1, 0, 3, 0)
    mem.map(vaddr, 0x60_0000, size=MIB2, flags=P | RW | (1 << 12))  # bit 12 = PAT
    w = walk(mem.read, mem.root, vaddr + 0x42)
    assert w.paddr == 0x60_0042 and w.steps[-1].flags.pat


@pytest.mark.parametrize("depth, level", [(0, PageLevel.PML4), (1, PageLevel.PDPT),
                                          (2, PageLevel.PD), (3, PageLevel.PT)])
def test_not_present_at_each_level(mem, depth, level):
    vaddr = va(2, 3, 4, 5, 0x10)
    path = mem.map(vaddr, 0x20_0000, flags=P | RW | US)
    mem.put(path[depth], mem.get(path[depth]) & ~P | (1 << 51))  # reserved bits ignored when P=0
    w = walk(mem.read, mem.root, vaddr)
    assert not w.ok and w.paddr is None and w.permissions is None
    assert w.stop_reason is StopReason.NOT_PRESENT and w.stop_level is level
    assert len(w.steps) == depth + 1 and w.steps[-1].reserved == 0
    assert w.fault_for(Access.READ) == Fault(14, 0)
    assert w.fault_for(Access.WRITE) == Fault(14, ERR_W)
    assert w.fault_for(Access.EXECUTE) == Fault(14, ERR_I)      # NXE=1: I/D reported
    assert w.fault_for(Access.READ, user=True) == Fault(14, ERR_U)
    assert w.fault_for(Access.WRITE, user=True) == Fault(14, ERR_U | ERR_W)
    assert w.fault_for().mnemonic == "#PF"


def test_id_bit_needs_nxe_or_smep(mem):
    for mode, expected in [(PagingMode(nxe=False), 0), (PagingMode(nxe=False, smep=True), ERR_I),
                           (PagingMode(nxe=True), ERR_I)]:
        w = walk(mem.read, mem.root, va(1, 1, 1, 1), mode)
        assert w.fault_for(Access.EXECUTE).error_code == expected


def test_reserved_ps_bit_in_pml4e(mem):
    vaddr = va(1, 2, 3, 4)
    path = mem.map(vaddr, 0x30_0000)
    mem.put(path[0], mem.get(path[0]) | PS)
    w = walk(mem.read, mem.root, vaddr)
    assert w.stop_reason is StopReason.RESERVED_BIT and w.stop_level is PageLevel.PML4
    assert w.steps[-1].reserved == PS and len(w.steps) == 1
    assert w.fault_for(Access.READ) == Fault(14, ERR_P | ERR_RSVD)
    assert w.fault_for(Access.WRITE, user=True) == Fault(14, ERR_P | ERR_RSVD | ERR_W | ERR_U)
    assert w.fault_for(Access.EXECUTE) == Fault(14, ERR_P | ERR_RSVD | ERR_I)


def test_reserved_bits_in_large_page(mem):
    vaddr = va(0, 1, 2, 0)
    path = mem.map(vaddr, 0x40_0000, size=MIB2)
    mem.put(path[-1], mem.get(path[-1]) | (1 << 13))  # bits 20:13 reserved in a 2 MiB PDE
    w = walk(mem.read, mem.root, vaddr)
    assert w.stop_reason is StopReason.RESERVED_BIT and w.stop_level is PageLevel.PD
    assert w.steps[-1].reserved == 1 << 13


def test_address_bits_above_maxphyaddr_are_reserved(mem):
    vaddr = va(0, 0, 0, 7)
    mem.map(vaddr, 1 << 45)
    assert walk(mem.read, mem.root, vaddr).paddr == 1 << 45          # MAXPHYADDR 52 default
    w = walk(mem.read, mem.root, vaddr, PagingMode(maxphyaddr=40))
    assert w.stop_reason is StopReason.RESERVED_BIT and w.steps[-1].reserved == 1 << 45


def test_xd_is_reserved_without_nxe(mem):
    vaddr = va(0, 0, 0, 8)
    mem.map(vaddr, 0x9000, flags=P | NX)
    w = walk(mem.read, mem.root, vaddr, PagingMode(nxe=False))
    assert w.stop_reason is StopReason.RESERVED_BIT and w.steps[-1].reserved == NX
    assert w.fault_for(Access.EXECUTE) == Fault(14, ERR_P | ERR_RSVD)  # no I/D without NXE/SMEP


def test_nx_leaf_and_nx_in_upper_level(mem):
    leaf_nx, upper_nx = va(0, 0, 1, 0), va(4, 0, 0, 0)
    mem.map(leaf_nx, 0xA000, flags=P | NX)
    mem.map(upper_nx, 0xB000, flags=P, table_flags=P | RW | NX)
    for vaddr in (leaf_nx, upper_nx):
        w = walk(mem.read, mem.root, vaddr)
        assert not w.permissions.executable
        assert w.fault_for(Access.EXECUTE) == Fault(14, ERR_P | ERR_I)
        assert w.fault_for(Access.READ) is None
        assert w.fault_for(Access.EXECUTE, user=True) == Fault(14, ERR_P | ERR_I | ERR_U)


def test_read_only_page_and_cr0_wp(mem):
    vaddr = va(0, 0, 2, 0)
    mem.map(vaddr, 0xC000, flags=P | US)
    w = walk(mem.read, mem.root, vaddr)
    assert not w.permissions.writable
    assert w.fault_for(Access.WRITE) == Fault(14, ERR_P | ERR_W)
    assert w.fault_for(Access.READ) is None
    assert w.fault_for(Access.WRITE, user=True) == Fault(14, ERR_P | ERR_W | ERR_U)
    no_wp = walk(mem.read, mem.root, vaddr, PagingMode(wp=False))
    assert no_wp.fault_for(Access.WRITE) is None                     # supervisor ignores R/W
    assert no_wp.fault_for(Access.WRITE, user=True) == Fault(14, ERR_P | ERR_W | ERR_U)


def test_writable_is_and_of_all_levels(mem):
    vaddr = va(5, 0, 0, 0)
    mem.map(vaddr, 0xD000, flags=P | RW, table_flags=P | US)         # tables read-only
    w = walk(mem.read, mem.root, vaddr)
    assert not w.permissions.writable and w.fault_for(Access.WRITE) == Fault(14, ERR_P | ERR_W)


def test_supervisor_page_from_user_mode(mem):
    vaddr = va(6, 0, 0, 0)
    mem.map(vaddr, 0xE000, flags=P | RW)                             # U/S=0 at the leaf
    w = walk(mem.read, mem.root, vaddr)
    assert not w.permissions.user
    assert w.fault_for(Access.READ) is None
    assert w.fault_for(Access.READ, user=True) == Fault(14, ERR_P | ERR_U)
    assert w.fault_for(Access.WRITE, user=True) == Fault(14, ERR_P | ERR_W | ERR_U)


def test_user_is_and_of_all_levels(mem):
    vaddr = va(7, 0, 0, 0)
    mem.map(vaddr, 0xF000, flags=P | RW | US, table_flags=P | RW)
    assert walk(mem.read, mem.root, vaddr).fault_for(Access.READ, user=True) == Fault(14, 5)


def test_smep_and_smap_on_user_pages(mem):
    vaddr = va(8, 0, 0, 0)
    mem.map(vaddr, 0x1_0000, flags=P | RW | US)
    plain = walk(mem.read, mem.root, vaddr)
    assert plain.fault_for(Access.EXECUTE) is None and plain.fault_for(Access.WRITE) is None
    guarded = walk(mem.read, mem.root, vaddr, PagingMode(smep=True, smap=True))
    assert guarded.fault_for(Access.EXECUTE) == Fault(14, ERR_P | ERR_I)
    assert guarded.fault_for(Access.READ) == Fault(14, ERR_P)
    assert guarded.fault_for(Access.WRITE) == Fault(14, ERR_P | ERR_W)
    assert guarded.fault_for(Access.WRITE, ac=True) is None
    assert guarded.fault_for(Access.EXECUTE, user=True) is None


@pytest.mark.parametrize("vaddr", [0x0000_8000_0000_0000, 0xFFFF_7FFF_FFFF_FFFF, 1 << 63])
def test_non_canonical_is_gp_not_pf(mem, vaddr):
    w = walk(mem.read, mem.root, vaddr)
    assert w.stop_reason is StopReason.NON_CANONICAL and w.steps == () and not w.ok
    assert w.fault_for(Access.WRITE, user=True) == Fault(13, 0)
    assert w.fault_for().mnemonic == "#GP"
    assert mem.reads == 0


def test_canonical_boundaries():
    assert is_canonical(0x0000_7FFF_FFFF_FFFF) and is_canonical(0xFFFF_8000_0000_0000)
    assert not is_canonical(0x0000_8000_0000_0000)
    assert is_canonical(0x0000_8000_0000_0000, 57) and not is_canonical(1 << 56, 57)
    with pytest.raises(ValueError):
        walk(lambda a, n: bytes(n), 0, 1 << 64)


def test_cr3_low_and_high_bits_are_ignored(mem):
    vaddr = va(0, 0, 0, 3)
    mem.map(vaddr, 0x7000)
    cr3 = mem.root | PWT | PCD | (1 << 63) | 0x5   # flags, PCID-ish bits, no-flush bit
    assert translate(mem.read, cr3, vaddr + 1) == 0x7001


def test_translate(mem):
    vaddr = va(0, 0, 0, 4)
    mem.map(vaddr, 0x8000, flags=P)
    assert translate(mem.read, mem.root, vaddr + 0xFFF) == 0x8FFF
    assert translate(mem.read, mem.root, vaddr + 0x1000) is None
    assert translate(mem.read, mem.root, vaddr, access=Access.WRITE) is None
    assert translate(mem.read, mem.root, vaddr, access=Access.READ, user=True) is None
    assert translate(mem.read, mem.root, vaddr, access=Access.EXECUTE) == 0x8000


def test_mode_from_registers():
    mode = PagingMode.from_registers(cr0=0x8001_0033, cr4=0x0030_06A0, efer=0xD01)
    assert (mode.wp, mode.nxe, mode.smep, mode.smap, mode.la57) == (True, True, True, True, False)
    bare = PagingMode.from_registers(cr0=0x8000_0001, cr4=0x1020, efer=0x500)
    assert (bare.wp, bare.nxe, bare.la57) == (False, False, True)


def test_five_level_paging():
    mem = Memory(levels=5)
    vaddr = (3 << 48) | va(1, 2, 3, 4, 0x56)
    assert not is_canonical(vaddr) and is_canonical(vaddr, 57)
    mem.map(vaddr, 0x11_1000)
    w = walk(mem.read, mem.root, vaddr, PagingMode(la57=True))
    assert [s.name for s in w.steps] == ["PML5E", "PML4E", "PDPTE", "PDE", "PTE"]
    assert w.steps[0].index == 3 and w.paddr == 0x11_1056


def test_enumeration_coalesces_contiguous_ranges(mem):
    base = va(0, 0, 2, 0)                        # 0x400000
    for i in range(16):                          # 16 contiguous RW pages
        mem.map(base + i * KIB4, 0x100_0000 + i * KIB4, flags=P | RW)
    for i in range(16, 20):                      # same phys run but read-only
        mem.map(base + i * KIB4, 0x100_0000 + i * KIB4, flags=P)
    mem.map(base + 21 * KIB4, 0x200_0000, flags=P)  # virtual gap
    mem.map(base + 22 * KIB4, 0x300_0000, flags=P)  # physically discontiguous
    kernel = UPPER | va(511, 510, 0, 0)
    mem.map(kernel, 0, size=MIB2, flags=P | RW | G)
    mem.map(kernel + MIB2, MIB2, size=MIB2, flags=P | RW | G)
    mem.map(va(9, 0, 0, 0), 0x40_0000, size=MIB2, flags=P | RW | (1 << 13))  # reserved: skipped
    ro = Permissions(True, False, False, True)
    rw = Permissions(True, True, False, True)
    assert list(iter_mappings(mem.read, mem.root)) == [
        Mapping(base, 0x100_0000, 16 * KIB4, KIB4, rw),
        Mapping(base + 16 * KIB4, 0x101_0000, 4 * KIB4, KIB4, ro),
        Mapping(base + 21 * KIB4, 0x200_0000, KIB4, KIB4, ro),
        Mapping(base + 22 * KIB4, 0x300_0000, KIB4, KIB4, ro),
        Mapping(0xFFFF_FFFF_8000_0000, 0, 2 * MIB2, MIB2, rw),
    ]
    raw = list(iter_mappings(mem.read, mem.root, coalesce=False))
    assert len(raw) == 16 + 4 + 1 + 1 + 2
    assert all(m.size == m.page_size for m in raw)
    assert [m.vaddr for m in raw] == sorted(m.vaddr for m in raw)


def test_enumeration_agrees_with_walk():
    mem = Memory(size=8 << 20)
    count = 4096
    for i in range(count):                        # alternate NX to defeat coalescing
        mem.map(va(1, 0, 0, 0) + i * KIB4, 0x1000_0000 + i * KIB4,
                flags=P | RW | US | (NX if i % 2 else 0))
    ranges = list(iter_mappings(mem.read, mem.root))
    assert len(ranges) == count
    for m in ranges[::97]:
        w = walk(mem.read, mem.root, m.vaddr + 5)
        assert w.paddr == m.paddr + 5 and w.permissions == m.permissions
    without_nxe = list(iter_mappings(mem.read, mem.root, PagingMode(nxe=False)))
    assert len(without_nxe) == count // 2          # XD=1 entries are reserved: skipped
    assert all(m.permissions.executable and m.vaddr % (2 * KIB4) == 0 for m in without_nxe)
