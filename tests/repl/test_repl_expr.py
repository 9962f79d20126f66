"""The REPL's expression language (repl/expr.py), on a fake machine: a unit test of
the parser and evaluator alone (registers, symbols and memory are given)."""

import pytest

from rustos_dbg.repl import CommandError
from rustos_dbg.repl.expr import compile_expr, parse_address


class _Sym:
    def __init__(self, address):
        self.address = address


class FakeMachine:
    """Registers, three symbols and 8 bytes of memory at 0x3000."""

    SYMBOLS = {"kernel_main": 0x1000, "core::ptr::drop_in_place<alloc::string::String>": 0x2000,
               "RUSTOS_TICKS": 0x3000}

    class symbols:
        @staticmethod
        def find(name):
            address = FakeMachine.SYMBOLS.get(name)
            return None if address is None else _Sym(address)

    def reg(self, name):
        return {"rsp": 0x8000, "rdi": 5, "gdtr": (0x27, 0x5000)}[name]

    def read_virtual(self, address, n):
        assert address == 0x3000, hex(address)
        return (0x1122334455667788).to_bytes(8, "little")[:n]


M = FakeMachine()


@pytest.mark.parametrize("text, value", [
    ("kernel_main+0x10", 0x1010), ("$rsp-8-8", 0x7FF0), ("$gdtr", 0x5000), ("-1", 2**64 - 1),
    ("*RUSTOS_TICKS", 0x1122334455667788), ("*(u8)RUSTOS_TICKS", 0x88), ("*(u16)RUSTOS_TICKS", 0x7788),
    ("*(u32)($rsp - 0x5000) == 0x55667788", 1), ("$rdi == 5 && !0", 1), ("$rdi < 3 || $rdi >= 5", 1),
    ("$rdi != 5", 0), ("$rdi > 5", 0), ("$rdi <= 5", 1), ("~0 & 0xff", 0xFF), ("1 | 2 == 2", 1),
    ("(1 + 2) - 3", 0), ("1 + 2 == 3 && 2 > 1", 1), ("0 - 1 > 0", 1),
])
def test_values(text, value):
    assert compile_expr(text, M).evaluate(M) == value


def test_a_symbol_name_with_operator_characters_is_an_address():
    assert parse_address("core::ptr::drop_in_place<alloc::string::String>", M) == 0x2000


@pytest.mark.parametrize("text, message", [
    ("12z", "malformed number '12z'"), ("zz", "no symbol named 'zz'"), ("$nosuch", "unknown register '$nosuch'"),
    ("1 +", "incomplete expression '1 +'"), ("(1", "expected ')'"), ("1 2", "unexpected '2'"),
    ("", "missing address"), ("1 ? 2", "unexpected '? 2'"),
])
def test_errors_are_one_line(text, message):
    with pytest.raises(CommandError) as info:
        parse_address(text, M)
    assert message in str(info.value) and "\n" not in str(info.value)
