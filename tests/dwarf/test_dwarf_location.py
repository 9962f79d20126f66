"""DWARF location expressions against a frame (unit tests of rustos_dbg.dwarf.location)."""

from rustos_dbg.dwarf.location import FrameRegs, locate

MEMORY = {0x1000 + i: b for i, b in enumerate(range(1, 17))}


def _read(address: int, n: int) -> bytes:
    return bytes(MEMORY.get(address + i, 0) for i in range(n))


FRAME = FrameRegs({"rbp": 0x1010, "rsp": 0x0F00, "rdi": 0x1234, "rip": 0x5000}, 0x1020, _read)
FRAME_BASE = bytes([0x56])  # DW_OP_reg6 (rbp)


def test_fbreg_is_an_address_relative_to_the_frame_base():
    place = locate(bytes([0x91, 0x70]), 0x5000, FRAME, FRAME_BASE)  # DW_OP_fbreg -16
    assert (place.kind, place.address) == ("memory", 0x1000)


def test_a_register_location_is_the_register_value():
    place = locate(bytes([0x55]), 0x5000, FRAME, FRAME_BASE)  # DW_OP_reg5 (rdi)
    assert (place.kind, place.data) == ("value", (0x1234).to_bytes(8, "little"))


def test_a_register_the_frame_does_not_recover_is_said():
    place = locate(bytes([0x53]), 0x5000, FRAME, FRAME_BASE)  # DW_OP_reg3 (rbx)
    assert place.kind == "unavailable" and "rbx" in place.reason


def test_pieces_put_a_register_and_memory_together():
    code = bytes([0x55, 0x93, 0x08, 0x76, 0x70, 0x93, 0x08])  # rdi piece 8, breg6 -16 piece 8
    place = locate(code, 0x5000, FRAME, FRAME_BASE)
    assert place.data == (0x1234).to_bytes(8, "little") + bytes(range(1, 9))


def test_a_location_list_without_an_entry_at_the_pc_is_optimized_out():
    listing = ((0x4000, 0x4010, bytes([0x55])), (0x5000, 0x5008, bytes([0x91, 0x70])))
    assert locate(listing, 0x5004, FRAME, FRAME_BASE).address == 0x1000
    gone = locate(listing, 0x4800, FRAME, FRAME_BASE)
    assert (gone.kind, gone.reason) == ("unavailable", "optimized out")


def test_stack_value_cfa_and_entry_value():
    assert locate(bytes([0x9C, 0x23, 0x08, 0x9F]), 0, FRAME, None).data == (0x1028).to_bytes(8, "little")
    entry = locate(bytes([0xA3, 0x01, 0x55, 0x9F]), 0, FRAME, None)  # DW_OP_entry_value(rdi)
    assert entry.kind == "unavailable" and "optimized out" in entry.reason
