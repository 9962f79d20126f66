"""QEMU's extension packets (gdbstub.qemu): answered as QEMU answers them, only for capable targets."""

import pytest

from gdbstub import Dispatcher, capabilities
from gdbstub.errors import PacketError
from gdbstub.parse import parse_packet
from gdbstub.qemu import PhyMemMode, Sstep, SstepBits

from gdbstub_fakes import MinimalTarget


class QemuLikeTarget(MinimalTarget):
    """MinimalTarget plus the two QEMU capabilities; physical memory differs from virtual."""

    def __init__(self):
        super().__init__()
        self.flags = 7
        self.physical = bytearray(b"P" * 0x1000)

    def sstep_flags(self):
        return self.flags

    def set_sstep_flags(self, flags):
        self.flags = flags
        return True

    def read_physical(self, address, length):
        return bytes(self.physical[address:address + length])

    def write_physical(self, address, data):
        self.physical[address:address + len(data)] = data


def answer(d, payload):
    return d.handle(payload).packets


@pytest.mark.parametrize("payload, packet", [
    (b"qqemu.sstepbits", SstepBits()), (b"Qqemu.sstepbits", SstepBits()),
    (b"qqemu.sstep", Sstep()), (b"Qqemu.sstep", Sstep()), (b"Qqemu.sstep=5", Sstep(5)),
    (b"qqemu.PhyMemMode", PhyMemMode()), (b"Qqemu.PhyMemMode:1", PhyMemMode(True)),
    (b"Qqemu.PhyMemMode:0", PhyMemMode(False)),
])
def test_packets_parse(payload, packet):
    assert parse_packet(payload) == packet


@pytest.mark.parametrize("payload", [b"qqemu.sstep=1", b"Qqemu.sstep=xyz", b"Qqemu.PhyMemMode:2",
                                     b"qqemu.PhyMemMode:1"])
def test_malformed_packets_are_refused(payload):
    with pytest.raises(PacketError):
        parse_packet(payload)


def test_a_capable_target_answers_like_qemu():
    d = Dispatcher(QemuLikeTarget())
    assert answer(d, b"Qqemu.sstepbits") == (b"ENABLE=1,NOIRQ=2,NOTIMER=4",)
    assert answer(d, b"qqemu.sstepbits") == (b"ENABLE=1,NOIRQ=2,NOTIMER=4",)
    assert answer(d, b"qqemu.sstep") == (b"0x7",)
    assert answer(d, b"Qqemu.sstep=1") == (b"OK",)
    assert answer(d, b"qqemu.sstep") == (b"0x1",)
    assert answer(d, b"qOffsets") == (b"",)  # still empty, as QEMU
    assert answer(d, b"qqemu.PhyMemMode") == (b"0",)


def test_phymemmode_switches_m_M_and_X_to_physical_memory():
    target = QemuLikeTarget()
    d = Dispatcher(target)
    assert answer(d, b"m10,4") == (bytes(range(16, 20)).hex().encode(),)
    assert answer(d, b"Qqemu.PhyMemMode:1") == (b"OK",)
    assert answer(d, b"qqemu.PhyMemMode") == (b"1",)
    assert answer(d, b"m10,4") == (b"50505050",)
    assert answer(d, b"M10,2:abcd") == (b"OK",)
    assert answer(d, b"X20,1:\x7f") == (b"OK",)
    assert target.physical[0x10:0x12] == b"\xab\xcd" and target.physical[0x20] == 0x7F
    assert target.memory[0x10] == 0x10  # virtual memory untouched
    assert answer(d, b"Qqemu.PhyMemMode:0") == (b"OK",)
    assert answer(d, b"m10,1") == (b"10",)


def test_a_target_without_the_capabilities_neither_answers_nor_advertises_them():
    d = Dispatcher(MinimalTarget())
    caps = capabilities(MinimalTarget())
    assert not caps.sstep_flags and not caps.physical_memory
    for payload in (b"Qqemu.sstepbits", b"qqemu.sstep", b"Qqemu.sstep=1", b"qqemu.PhyMemMode",
                    b"Qqemu.PhyMemMode:1"):
        assert answer(d, payload) == (b"",)
    assert answer(d, b"m10,1") == (b"10",)
    assert b"qemu" not in d.supported_features()
