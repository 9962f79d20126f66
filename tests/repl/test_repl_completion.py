"""Completion: the pure function ``complete(line, words, symbols, registers)``
and the prompt_toolkit adapter ``ReplCompleter`` on a real session (no terminal)."""

import pytest

from rustos_dbg.repl import REGISTRY
from rustos_dbg.repl.completion import MAX_CANDIDATES, ReplCompleter, complete

WORDS = ["break", "bt", "c", "catch", "continue", "help", "heap", "si", "stepi", "walk"]
SYMBOLS = ["kernel_main", "kernel_entry", "rustos::shell::commands::heap_cmd",
           "rustos::shell::commands::help", "rustos::shell::start", "RUSTOS_TICKS"]
REGISTERS = ["rax", "rip", "cr0", "cr2", "cr3", "cr4", "cr8", "efer"]


@pytest.mark.parametrize("line,expected", [
    ("", sorted(WORDS)),
    ("he", ["heap", "help"]),
    ("c", ["c", "catch", "continue"]),
    ("st", ["stepi"]),
    ("zz", []),
])
def test_the_first_word_completes_command_names(line, expected):
    assert complete(line, WORDS, SYMBOLS, REGISTERS) == expected


def test_a_dollar_word_completes_registers():
    assert complete("walk $cr", WORDS, SYMBOLS, REGISTERS) == ["$cr0", "$cr2", "$cr3", "$cr4", "$cr8"]
    assert complete("x/4gx $ri", WORDS, SYMBOLS, REGISTERS) == ["$rip"]
    assert complete("walk $", WORDS, SYMBOLS, REGISTERS) == sorted("$" + r for r in REGISTERS)
    assert complete("walk $zz", WORDS, SYMBOLS, REGISTERS) == []


def test_a_symbol_prefix_completes_symbol_names():
    assert complete("break kernel_", WORDS, SYMBOLS, REGISTERS) == ["kernel_entry", "kernel_main"]
    assert complete("break rustos::shell::commands::he", WORDS, SYMBOLS, REGISTERS) == [
        "rustos::shell::commands::heap_cmd", "rustos::shell::commands::help"]
    assert complete("watch RUSTOS_T", WORDS, SYMBOLS, REGISTERS) == ["RUSTOS_TICKS"]
    assert complete("break ", WORDS, SYMBOLS, REGISTERS) == []        # nothing typed: no flood
    assert complete("break nosuch", WORDS, SYMBOLS, REGISTERS) == []
    # only the last word counts
    assert complete("x/4gx kernel_main kernel_m", WORDS, SYMBOLS, REGISTERS) == ["kernel_main"]


def test_symbol_candidates_are_bounded_and_unique():
    many = [f"sym_{i:05d}" for i in range(5 * MAX_CANDIDATES)] + ["sym_00000"]
    found = complete("break sym_", WORDS, many, REGISTERS)
    assert len(found) == MAX_CANDIDATES and len(set(found)) == len(found) and found == sorted(found)


@pytest.mark.emulator
def test_repl_completer_on_a_real_session(session):
    completer = ReplCompleter(session)
    assert completer.candidates("wa") == ["walk", "wasm", "watch"]
    assert set(completer.candidates("")) == set(REGISTRY.words())
    assert {"si", "stepi", "step", "sym"} <= set(completer.candidates("s"))
    assert completer.candidates("walk $cr") == ["$cr0", "$cr2", "$cr3", "$cr4", "$cr8"]
    assert "rustos::shell::commands::heap_cmd" in completer.candidates("break rustos::shell::commands::hea")
    assert completer.candidates("break RUSTOS_TIC") == ["RUSTOS_TICKS"]
    assert "rustos::fault::trigger_triple_fault" in completer.candidates("until rustos::fault::trigger_")
    # every symbol candidate is a symbol the session resolves
    for name in completer.candidates("break kernel_"):
        assert session.machine.symbols.find(name) is not None, name
    # and through prompt_toolkit's interface, replacing the word typed so far
    from prompt_toolkit.completion import CompleteEvent
    from prompt_toolkit.document import Document

    got = list(completer.completer.get_completions(Document("walk $cr"), CompleteEvent()))
    assert [c.text for c in got] == ["$cr0", "$cr2", "$cr3", "$cr4", "$cr8"]
    assert all(c.start_position == -len("$cr") for c in got)
