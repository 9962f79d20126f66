"""The x86 layer's vector table: Intel SDM Vol. 3A Table 6-1, 6-4 and 6-5."""

import pytest

from rustos_dbg.x86.vectors import (ERROR_CODE_VECTORS, FaultClass, VectorKind, has_error_code, vector_info,
                                    vector_mnemonic, vector_name)


def test_error_code_vectors_are_those_of_table_6_1():
    # #DF, #TS, #NP, #SS, #GP, #PF, #AC, #CP, #VC, #SX push an error code; nothing else does.
    assert ERROR_CODE_VECTORS == {8, 10, 11, 12, 13, 14, 17, 21, 29, 30}
    assert all(has_error_code(v) == vector_info(v).error_code for v in range(256))
    assert not any(vector_info(v).error_code for v in range(32, 256))


def test_contributory_class_is_table_6_4():
    contributory = {v for v in range(32) if vector_info(v).fault_class is FaultClass.CONTRIBUTORY}
    assert contributory == {0, 10, 11, 12, 13}
    assert vector_info(14).fault_class is FaultClass.PAGE_FAULT
    assert vector_info(8).kind is VectorKind.ABORT and vector_info(3).kind is VectorKind.TRAP


@pytest.mark.parametrize("vector, mnemonic, name", [
    (14, "#PF", "#PF page fault"), (8, "#DF", "#DF double fault"), (33, "IRQ1", "IRQ1 keyboard (8042)"),
    (15, "", "reserved"), (0x80, "", "user-defined"), (30, "#SX", "#SX security"),
])
def test_names(vector, mnemonic, name):
    assert (vector_mnemonic(vector), vector_name(vector)) == (mnemonic, name)


def test_gdb_signals_follow_the_fault():
    assert [vector_info(v).gdb_signal for v in (0, 3, 6, 13, 14, 17, 32)] == [
        "SIGFPE", "SIGTRAP", "SIGILL", "SIGSEGV", "SIGSEGV", "SIGBUS", "SIGTRAP"]


def test_out_of_range_vector_is_an_error():
    with pytest.raises(ValueError):
        vector_info(256)
