"""Backtrace over a hand-built stack, code and trap entry (docs/kernel-structures.md §8)."""

import json
import struct

from rustos_dbg.inspect.hw import bt
from rustos_dbg.inspect.reader import BytesReader

from .hw_helpers import symtab

CODE = 0xFFFF_FFFF_8010_0000
INNER, MIDDLE, OUTER, ENTRY, HANDLER, VICTIM = (CODE + o for o in (0, 0x100, 0x200, 0x300, 0x400, 0x500))
TRAP_COMMON = CODE + 0x1000
TRAP_STUBS = TRAP_COMMON + 0x40
STACK, IST = 0xFFFF_FFFF_8013_0000, 0xFFFF_FFFF_8014_0000
SYMS = symtab(("inner", INNER, 0x40), ("middle", MIDDLE, 0x40), ("outer", OUTER, 0x40),
              ("kernel_entry", ENTRY, 0), ("trap_dispatch", HANDLER, 0x40),
              ("victim", VICTIM, 0x40), ("trap_common", TRAP_COMMON, 0),
              ("trap_stubs", TRAP_STUBS, 0), ("trap_stub_14", TRAP_STUBS + 14 * 16, 0),
              ("trap_stub_32", TRAP_STUBS + 32 * 16, 0))
PUSHES = [b"\x50", b"\x53", b"\x51", b"\x52", b"\x56", b"\x57", b"\x55"] + \
    [bytes([0x41, r]) for r in range(0x50, 0x58)]


def code_blob() -> bytes:
    c = bytearray(b"\x90" * 0x3000)
    c[MIDDLE - CODE] = 0x55                      # push rbp
    c[INNER - CODE + 0x30] = 0xC3                # ret
    common = b"".join(PUSHES) + b"\x48\x89\xe7\xfc\xe8\x00\x00\x00\x00"
    c[TRAP_COMMON - CODE:TRAP_COMMON - CODE + len(common)] = common
    for vector in range(48):
        stub = TRAP_STUBS + 16 * vector - CODE
        body = (b"" if vector in (8, 10, 11, 12, 13, 14, 17) else b"\x6a\x00") + bytes([0x6A, vector])
        jmp = TRAP_COMMON - (CODE + stub + len(body) + 5)
        c[stub:stub + 16] = (body + b"\xe9" + struct.pack("<i", jmp)).ljust(16, b"\xcc")
    return bytes(c)


class Stack:
    def __init__(self, base: int, size: int = 0x1000) -> None:
        self.base, self.data = base, bytearray(size)

    def q(self, addr: int, *values: int) -> None:
        struct.pack_into(f"<{len(values)}Q", self.data, addr - self.base, *values)


def reader(stacks, **regs) -> BytesReader:
    blobs = {CODE: code_blob()}
    blobs.update({s.base: bytes(s.data) for s in stacks})
    return BytesReader(blobs, regs)


def chain(stack: Stack, fp: int) -> None:
    """fp -> middle's frame -> outer's frame -> kernel_entry (rbp 0)."""
    stack.q(fp, fp + 0x40, MIDDLE + 0x15)
    stack.q(fp + 0x40, fp + 0x80, OUTER + 0x20)
    stack.q(fp + 0x80, 0, ENTRY + 5)


def names(trace) -> list[str]:
    return [f.symbol.split("+")[0] if f.kind == "frame" else f"<{f.interrupt.vector}>"
            for f in trace.frames]


def test_plain_frame_pointer_chain():
    s = Stack(STACK)
    chain(s, STACK + 0x100)
    t = bt.backtrace(reader([s], rip=INNER + 0x10, rsp=STACK + 0xF0, rbp=STACK + 0x100), symbols=SYMS)
    assert names(t) == ["inner", "middle", "outer", "kernel_entry"]
    assert [f.symbol for f in t.frames[1:]] == ["middle+0x15", "outer+0x20", "kernel_entry+0x5"]
    assert [f.is_return for f in t.frames] == [False, True, True, True]
    assert "rbp = 0" in t.stop_reason
    text = bt.format_backtrace(t)
    assert text.splitlines()[0].startswith("#0  0xffffffff80100010 in inner")
    assert json.loads(bt.to_json(t))["frames"][1]["symbol"] == "middle+0x15"


def test_return_address_at_a_function_end_is_named_by_its_caller():
    s = Stack(STACK)
    s.q(STACK + 0x100, 0, MIDDLE + 0x40)               # a call ending middle (noreturn)
    t = bt.backtrace(reader([s], rip=INNER + 0x10, rsp=STACK + 0xF0, rbp=STACK + 0x100), symbols=SYMS)
    assert t.frames[1].symbol == "middle+0x40"


def test_function_entry_and_after_push_rbp():
    s = Stack(STACK)
    chain(s, STACK + 0x100)
    s.q(STACK + 0x80, MIDDLE + 0x15)                    # [rsp] = return into middle
    t = bt.backtrace(reader([s], rip=INNER, rsp=STACK + 0x80, rbp=STACK + 0x100), symbols=SYMS)
    assert names(t)[:3] == ["inner", "middle", "middle"]   # entry: rbp still middle's frame
    s2 = Stack(STACK)
    chain(s2, STACK + 0x140)
    s2.q(STACK + 0x78, STACK + 0x140, OUTER + 0x20)    # middle+1: pushed rbp, then ret
    t2 = bt.backtrace(reader([s2], rip=MIDDLE + 1, rsp=STACK + 0x78, rbp=STACK + 0x140), symbols=SYMS)
    assert names(t2)[:2] == ["middle", "outer"]
    s3 = Stack(STACK)
    chain(s3, STACK + 0x100)
    s3.q(STACK + 0x80, MIDDLE + 0x15)                   # at inner's ret: [rsp] = return
    t3 = bt.backtrace(reader([s3], rip=INNER + 0x30, rsp=STACK + 0x80, rbp=STACK + 0x100), symbols=SYMS)
    assert names(t3) == ["inner", "middle", "middle", "outer", "kernel_entry"]


def trap_frame(vector: int, error: int, rip: int, rsp: int, rbp: int) -> list[int]:
    regs = [0] * 15
    regs[8] = rbp
    return regs + [vector, error, rip, 0x08, 0x246, rsp, 0x10]


def test_continues_across_a_trap_frame():
    s, ist = Stack(STACK), Stack(IST)
    chain(s, STACK + 0x100)
    h = IST + 0x800                                      # trap_dispatch's frame on the IST stack
    ist.q(h, STACK + 0x100, TRAP_COMMON + 0x20, *trap_frame(14, 2, VICTIM + 9, STACK + 0xF0, STACK + 0x100))
    t = bt.backtrace(reader([s, ist], rip=HANDLER + 8, rsp=h - 8, rbp=h), symbols=SYMS)
    assert names(t) == ["trap_dispatch", "trap_common", "<14>", "victim", "middle", "outer", "kernel_entry"]
    info = t.frames[2].interrupt
    assert (info.error_code, info.rip, info.rsp, info.complete, info.frame_address) == \
        (2, VICTIM + 9, STACK + 0xF0, True, h + 16)
    assert dict(info.registers)["rbp"] == STACK + 0x100
    text = bt.format_backtrace(t)
    assert "<interrupt: vector 14 (#PF page fault) error 0x2>" in text
    assert "#2  0xffffffff80100509 in victim+0x9" in text


def _cpu_frame(ist: Stack, top: int, error: int | None) -> int:
    """Pushes the CPU's frame (and error code) below ``top``; returns the new RSP."""
    values = ([error] if error is not None else []) + [VICTIM + 9, 8, 0x246, STACK + 0xF0, 0x10]
    rsp = top - 8 * len(values)
    ist.q(rsp, *values)
    return rsp


def test_stopped_in_a_stub_or_in_trap_common():
    s = Stack(STACK)
    chain(s, STACK + 0x100)
    for vector, error in ((14, 0x2), (32, None)):
        ist = Stack(IST)
        rsp = _cpu_frame(ist, IST + 0x1000, error)
        stub = TRAP_STUBS + 16 * vector
        cases = [(stub, rsp)]
        if error is None:
            ist.q(rsp - 8, 0)
            rsp -= 8
            cases.append((stub + 2, rsp))
        ist.q(rsp - 8, vector)
        rsp -= 8
        cases += [(stub + (2 if error is not None else 4), rsp), (TRAP_COMMON, rsp)]
        for i in range(3):                              # three pushes into trap_common
            rsp -= 8
            ist.q(rsp, 0x1111 * (i + 1))
        cases.append((TRAP_COMMON + 3, rsp))
        for pc, sp in cases:
            t = bt.backtrace(reader([s, ist], rip=pc, rsp=sp, rbp=STACK + 0x100), symbols=SYMS)
            info = t.frames[1].interrupt
            assert (info.vector, info.error_code, info.rip, info.complete) == \
                (vector, error or 0, VICTIM + 9, False), hex(pc)
            assert names(t)[2:] == ["victim", "middle", "outer", "kernel_entry"]


def test_stops_cleanly():
    s = Stack(STACK)
    s.q(STACK + 0x100, STACK + 0x100, MIDDLE + 0x15)    # rbp points at itself
    t = bt.backtrace(reader([s], rip=INNER + 0x10, rsp=STACK + 0xF0, rbp=STACK + 0x100), symbols=SYMS)
    assert "bad frame pointer" in t.stop_reason and len(t.frames) == 2
    t = bt.backtrace(reader([s], rip=INNER + 0x10, rsp=STACK + 0xF0, rbp=0x5000), symbols=SYMS)
    assert "unreadable" in t.stop_reason and len(t.frames) == 1
    s.q(STACK + 0x100, STACK + 0x140, 0x1234)
    t = bt.backtrace(reader([s], rip=INNER + 0x10, rsp=STACK + 0xF0, rbp=STACK + 0x100), symbols=SYMS)
    assert "not kernel code" in t.stop_reason
    long = Stack(STACK, 0x4000)
    for i in range(200):
        long.q(STACK + 0x10 * i, STACK + 0x10 * (i + 1), MIDDLE + 5)
    t = bt.backtrace(reader([long], rip=INNER, rsp=STACK, rbp=STACK + 0x10), symbols=SYMS, max_depth=10)
    assert len(t.frames) == 10 and "depth limit" in t.stop_reason


def test_without_symbols_only_addresses():
    s = Stack(STACK)
    chain(s, STACK + 0x100)
    t = bt.backtrace(reader([s], rip=INNER + 0x10, rsp=STACK + 0xF0, rbp=STACK + 0x100))
    assert [f.pc for f in t.frames] == [INNER + 0x10, MIDDLE + 0x15, OUTER + 0x20, ENTRY + 5]
    assert all(f.symbol is None for f in t.frames)


USER_CODE, USER_STACK = 0x400000, 0x7FFF_FFFE_F000


def user_code() -> Stack:
    """A page of a user program's code (nops)."""
    code = Stack(USER_CODE, 0x100)
    code.data[:] = b"\x90" * 0x100
    return code


def test_a_trap_frame_from_ring3_continues_on_the_user_stack_with_user_return_addresses_only():
    ist, user = Stack(IST), Stack(USER_STACK)
    h = IST + 0x800
    frame = trap_frame(128, 0, USER_CODE + 0x74, USER_STACK + 0x100, USER_STACK + 0x100)
    frame[18], frame[21] = 0x23, 0x1B                     # cs, ss with RPL 3
    ist.q(h, STACK + 0x100, TRAP_COMMON + 0x20, *frame)
    user.q(USER_STACK + 0x100, USER_STACK + 0x140, USER_CODE + 0x35)
    user.q(USER_STACK + 0x140, USER_STACK + 0x180, TRAP_COMMON + 0x20)   # a kernel address on a user stack
    r = reader([ist, user, user_code()], rip=HANDLER + 8, rsp=h - 8, rbp=h)
    t = bt.backtrace(r, symbols=SYMS)
    kinds = [f.kind for f in t.frames]
    assert kinds == ["frame", "frame", "interrupt", "frame", "frame"]
    assert [f.pc for f in t.frames[3:]] == [USER_CODE + 0x74, USER_CODE + 0x35]
    assert t.stop_reason == f"return address {TRAP_COMMON + 0x20:#x} is not user code"
    assert bt.format_backtrace(t).splitlines()[2].endswith("  from ring 3")


def test_a_ring3_context_starts_a_user_walk_that_ends_at_the_entry_frame():
    user = Stack(USER_STACK)
    user.q(USER_STACK + 0xF00, USER_STACK + 0xFF8, USER_CODE + 0x9)
    user.q(USER_STACK + 0xFF8, 0)                       # _start's saved rbp; nothing above the stack top
    r = reader([user, user_code()], rip=USER_CODE + 0x20, rsp=USER_STACK + 0xEF0, rbp=USER_STACK + 0xF00, cs=0x23)
    t = bt.backtrace(r, symbols=SYMS)
    assert [f.pc for f in t.frames] == [USER_CODE + 0x20, USER_CODE + 0x9]
    assert t.stop_reason == "end of the frame chain (rbp = 0)"
