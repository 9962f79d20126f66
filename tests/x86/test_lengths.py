"""Instruction lengths of 64-bit code (the deterministic clock's block decoder),
against capstone on every instruction of the kernel's executable sections."""

from capstone import CS_ARCH_X86, CS_MODE_64, Cs

from rustos_dbg.machine.image import load_image
from rustos_dbg.x86.lengths import block_layout, instruction_length


def test_every_kernel_instruction_has_capstones_length(rustos_elf):
    cs = Cs(CS_ARCH_X86, CS_MODE_64)
    elf = load_image(rustos_elf).elf
    checked, wrong = 0, []
    for section in elf.iter_sections():
        if not section["sh_flags"] & 0x4:  # SHF_EXECINSTR
            continue
        data, base, i = section.data(), section["sh_addr"], 0
        while i < len(data):
            insn = next(cs.disasm_lite(data[i:i + 16], base + i, 1), None)
            if insn is None:  # not code (padding, data): capstone resynchronises a byte on
                i += 1
                continue
            checked += 1
            if instruction_length(data, i)[0] != insn[1]:
                wrong.append((hex(base + i), data[i:i + insn[1]].hex(), insn[2], insn[3]))
            i += insn[1]
    assert checked > 10_000
    assert wrong == []


def test_prefixes_rex_vex_and_immediates():
    cases = {
        "4889c8": 3,                    # mov rax, rcx
        "48b88877665544332211": 10,     # mov rax, imm64
        "66b83412": 4,                  # mov ax, imm16
        "66480503000000": 7,            # add rax, imm32 (REX.W wins over 66)
        "f30f1efa": 4,                  # endbr64
        "0f22d8": 3,                    # mov cr3, rax
        "8b0425e0000000": 7,            # mov eax, [0xe0] (SIB, no base)
        "8b05f0ffffff": 6,              # mov eax, [rip - 0x10]
        "f6c101": 3, "f7c101000000": 6,  # test cl/ecx, imm
        "c5f877": 3,                    # vzeroupper
        "c4e37d18c101": 6,              # vinsertf128 ymm0, ymm0, xmm1, 1
        "660f3a0fc108": 6,              # palignr xmm0, xmm1, 8
        "e8fbffffff": 5, "0f8400000000": 6, "a10000000000000000": 9,
    }
    for code, length in cases.items():
        assert instruction_length(bytes.fromhex(code))[0] == length, code


def test_block_layout_finds_port_io_and_interrupt_enabling_ends():
    # mov dx, 0x3f8; out dx, al; popf
    offsets, io, sets_if = block_layout(bytes.fromhex("66baf803ee9d"))
    assert offsets == (0, 4, 5) and io and sets_if
    offsets, io, sets_if = block_layout(bytes.fromhex("4889c8fb"))  # mov rax, rcx; sti
    assert offsets == (0, 3) and not io and sets_if
    assert block_layout(bytes.fromhex("48cf")) == ((0,), False, True)  # iretq
    # An instruction cut by the block's end counts as one.
    assert block_layout(bytes.fromhex("4889c848b8"))[:2] == ((0, 3), False)
