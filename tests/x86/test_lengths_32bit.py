"""Instruction lengths of 32-bit protected-mode code (a boot path before long mode)."""

from rustos_dbg.x86.lengths import block_layout, instruction_length

# pvh_start32's tail and a loop of the Multiboot2 test kernel, as GNU as assembles them (.code32).
LJMP = bytes.fromhex("ea3c0010000800")               # ljmp $0x08, $0x10003c
INC_ECX = bytes.fromhex("41")                        # inc %ecx (a REX prefix in 64-bit mode)
MOV_MOFFS = bytes.fromhex("a100100000")              # mov 0x1000, %eax
MOV_IMM = bytes.fromhex("b800201000")                # mov $0x102000, %eax


def test_a_far_jump_is_one_seven_byte_instruction_in_32_bit_code():
    assert instruction_length(LJMP, 0, code64=False) == (7, 0xEA)
    assert block_layout(LJMP, code64=False)[0] == (0,)
    assert len(block_layout(LJMP)[0]) > 1            # 64-bit mode has no such instruction


def test_inc_moffs_and_immediates_decode_as_32_bit_code():
    code = INC_ECX + MOV_MOFFS + MOV_IMM + INC_ECX
    assert block_layout(code, code64=False)[0] == (0, 1, 6, 11)
    assert block_layout(code)[0] != (0, 1, 6, 11)
