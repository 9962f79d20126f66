"""build(parse(b)) == b for every layout and arbitrary bytes; bit maps tile each layout."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rustos_dbg import structs
from rustos_dbg.structs.bitfields import bit_fields, field_mask
from rustos_dbg.structs.frames import PageFaultErrorCode
from rustos_dbg.structs.pvh import HvmMemmapEntry, HvmModlistEntry

LAYOUTS = {name: getattr(structs, name) for name in (
    "SegmentSelector", "SegmentDescriptor", "SystemSegmentDescriptor", "IdtGate", "Tss64",
    "TableEntry", "PDPTE1G", "PDE2M", "PTE", "CR0", "CR3", "CR3_PCID", "CR4", "EFER", "RFLAGS",
    "InterruptFrame", "InterruptFrameWithErrorCode", "HvmStartInfo")}
LAYOUTS.update(PageFaultErrorCode=PageFaultErrorCode, HvmMemmapEntry=HvmMemmapEntry,
               HvmModlistEntry=HvmModlistEntry)
BIT_LAYOUTS = [n for n in LAYOUTS if n not in (
    "Tss64", "InterruptFrame", "InterruptFrameWithErrorCode", "HvmStartInfo",
    "HvmMemmapEntry", "HvmModlistEntry")]


@pytest.mark.parametrize("name", sorted(LAYOUTS))
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_build_parse_round_trip(name, data):
    layout = LAYOUTS[name]
    raw = data.draw(st.binary(min_size=layout.sizeof(), max_size=layout.sizeof()))
    assert layout.build(layout.parse(raw)) == raw


@pytest.mark.parametrize("name", sorted(BIT_LAYOUTS))
def test_bit_fields_tile_the_value_without_overlap(name):
    layout = LAYOUTS[name]
    seen = 0
    for field, bits in bit_fields(layout).items():
        assert seen & bits.mask == 0, field
        seen |= bits.mask
    assert seen == (1 << (8 * layout.sizeof())) - 1


def test_single_field_mask_builds_to_that_bit():
    layout = structs.SegmentDescriptor
    zero = layout.parse(bytes(8))
    zero.l = True
    assert int.from_bytes(layout.build(zero), "little") == field_mask(layout, "l") == 1 << 53
