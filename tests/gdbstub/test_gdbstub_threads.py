"""gdbstub's thread packets and QCatchSyscalls, with a fake target that has threads.

A unit test of the protocol layer: the target is a double (MinimalTarget plus
the SupportsThreads / SupportsCatchSyscalls methods); the real kernel's
threads under real gdb are tested in tests/gdb/test_gdb_threads.py."""

import pytest

from gdbstub import (Dispatcher, SignalStop, SyscallEntry, SyscallReturn, capabilities, encode_stop_reply,
                     parse_packet)
from gdbstub.errors import PacketError
from gdbstub.queries import CatchSyscalls, ThreadExtraInfo

from gdbstub_fakes import MinimalTarget


class ThreadedTarget(MinimalTarget):
    """Threads 1 (on the CPU), 5 and 9; each saved thread's registers are its id repeated."""

    def __init__(self, ids=(1, 5, 9), current=1):
        super().__init__()
        self.ids, self.current = list(ids), current
        self.caught = "never"

    def thread_ids(self):
        return self.ids

    def current_thread(self):
        return self.current

    def thread_extra_info(self, thread):
        return f"t{thread}, ready"

    def read_thread_registers(self, thread):
        return bytes([thread]) * 16

    def read_thread_register(self, thread, regno):
        return bytes([thread]) * 8

    def read_thread_memory(self, thread, address, length):
        return bytes([thread]) * length


class CatchingTarget(MinimalTarget):
    def __init__(self):
        super().__init__()
        self.caught = "never"

    def catch_syscalls(self, numbers):
        self.caught = numbers
        return True


def reply(d, payload):
    response = d.handle(payload)
    assert len(response.packets) == 1, response
    return response.packets[0]


def test_without_the_capability_there_is_one_thread():
    d = Dispatcher(MinimalTarget())
    assert not capabilities(d.target).threads
    assert reply(d, b"qfThreadInfo") == b"m1"
    assert reply(d, b"qsThreadInfo") == b"l"
    assert reply(d, b"qC") == b"QC1"
    assert reply(d, b"qThreadExtraInfo,1") == b""
    assert reply(d, b"Hg2") == b"E16"
    assert reply(d, b"T1") == b"OK"


def test_thread_list_current_thread_and_extra_info():
    t = ThreadedTarget(current=5)
    d = Dispatcher(t)
    assert capabilities(t).threads
    assert reply(d, b"qfThreadInfo") == b"m1,5,9"
    assert reply(d, b"qsThreadInfo") == b"l"
    assert reply(d, b"qC") == b"QC5"
    assert reply(d, b"qThreadExtraInfo,9") == b"t9, ready".hex().encode()
    assert reply(d, b"qThreadExtraInfo,4") == b"E16"
    assert (reply(d, b"T9"), reply(d, b"T4")) == (b"OK", b"E16")
    assert d.finish_run(SignalStop()) == b"T05thread:5;"


def test_a_long_thread_list_is_split_to_fit_the_packet_size():
    ids = list(range(1, 200))
    d = Dispatcher(ThreadedTarget(ids), packet_size=64)
    parts = [reply(d, b"qfThreadInfo")]
    while parts[-1] != b"l":
        assert len(parts[-1]) < 64
        parts.append(reply(d, b"qsThreadInfo"))
    listed = b",".join(p[1:] for p in parts[:-1])
    assert [int(x, 16) for x in listed.split(b",")] == ids


def test_hg_selects_whose_registers_and_memory_are_read():
    t = ThreadedTarget()
    d = Dispatcher(t)
    t.regs[:] = b"\xaa" * 16
    assert reply(d, b"g") == b"aa" * 16                   # the CPU's (thread 1 runs)
    assert reply(d, b"Hg9") == b"OK"
    assert reply(d, b"g") == b"09" * 16
    assert reply(d, b"p0") == b"09" * 8
    assert reply(d, b"m10,4") == b"09" * 4
    assert reply(d, b"G" + b"00" * 16) == b"E01"          # not the CPU's registers: refused
    assert reply(d, b"P0=0000000000000000") == b"E01"
    assert reply(d, b"M10,1:00") == b"E01"
    assert t.regs == bytearray(b"\xaa" * 16)
    assert reply(d, b"Hg1") == b"OK"                       # the current one: the CPU again
    assert reply(d, b"g") == b"aa" * 16
    assert reply(d, b"Hg9") == b"OK"
    assert reply(d, b"Hg0") == b"OK"                       # any: the current one
    assert reply(d, b"g") == b"aa" * 16
    assert reply(d, b"Hg7") == b"E16"                      # no such thread
    assert reply(d, b"Hc9") == b"OK"


def test_resuming_forgets_the_selection_and_vcont_acts_for_the_current_thread():
    t = ThreadedTarget(current=5)
    d = Dispatcher(t)
    assert reply(d, b"Hg9") == b"OK"
    response = d.handle(b"vCont;s:5;c")
    assert response.resume is not None and response.resume.action.name == "STEP"
    assert d.general_thread is None
    assert d.handle(b"vCont;s:9").packets == (b"E16",)    # only another thread named


def test_catch_syscalls_packet_and_stop_replies():
    assert parse_packet(b"QCatchSyscalls:1") == CatchSyscalls(True)
    assert parse_packet(b"QCatchSyscalls:1;1;a") == CatchSyscalls(True, (1, 10))
    assert parse_packet(b"QCatchSyscalls:0") == CatchSyscalls(False)
    assert parse_packet(b"qThreadExtraInfo,p1.2") == ThreadExtraInfo(2)
    for bad in (b"QCatchSyscalls:2", b"QCatchSyscalls:1;zz", b"QCatchSyscalls", b"qThreadExtraInfo"):
        with pytest.raises(PacketError):
            parse_packet(bad)
    assert encode_stop_reply(SyscallEntry(1), thread=3) == b"T05syscall_entry:1;thread:3;"
    assert encode_stop_reply(SyscallReturn(0x1f), thread=None) == b"T05syscall_return:1f;"

    plain = Dispatcher(MinimalTarget())
    assert b"QCatchSyscalls" not in plain.supported_features()
    assert reply(plain, b"QCatchSyscalls:1") == b""
    t = CatchingTarget()
    d = Dispatcher(t)
    assert b"QCatchSyscalls+" in d.supported_features()
    assert reply(d, b"QCatchSyscalls:1;1") == b"OK" and t.caught == (1,)
    assert reply(d, b"QCatchSyscalls:1") == b"OK" and t.caught is None
    assert reply(d, b"QCatchSyscalls:0") == b"OK" and t.caught == ()
