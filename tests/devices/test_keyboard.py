"""8042 controller and keyboard: scancode set 1, one byte per IRQ1, commands."""

import pytest

from rustos_dbg.devices import I8042, Keyboard, Pic, scancodes_for_press, scancodes_for_text

from .util import eoi, init_pic

HI_NL = [0x2A, 0x23, 0xA3, 0xAA, 0x17, 0x97, 0x1C, 0x9C]


def wired():
    """A PIC initialised like the kernel's, with the 8042 on IRQ1/IRQ12."""
    pic = Pic()
    init_pic(pic, master_mask=0xF9, slave_mask=0xEF)
    return pic, I8042(pic)


def drain_by_irq(pic, kbc):
    """The kernel's IRQ1 handler: one byte from 0x60 per interrupt."""
    got = []
    while pic.pending():
        vector = pic.acknowledge()
        assert vector == 0x21
        assert kbc.read(0x64, 1) & 0x01
        got.append(kbc.read(0x60, 1))
        eoi(pic, vector)
    return got


def test_text_translates_to_set_1_make_break():
    assert scancodes_for_text("Hi\n") == HI_NL
    assert scancodes_for_text("a1 ") == [0x1E, 0x9E, 0x02, 0x82, 0x39, 0xB9]
    assert scancodes_for_text("!") == [0x2A, 0x02, 0x82, 0xAA]
    assert scancodes_for_text('"?') == [0x2A, 0x28, 0xA8, 0xAA, 0x2A, 0x35, 0xB5, 0xAA]
    assert scancodes_for_text("\b\t\x1b") == [0x0E, 0x8E, 0x0F, 0x8F, 0x01, 0x81]
    assert scancodes_for_text("+") == [0x2A, 0x0D, 0x8D, 0xAA]


def test_named_keys_and_chords():
    assert scancodes_for_press("up") == [0xE0, 0x48, 0xE0, 0xC8]
    assert scancodes_for_press("down") == [0xE0, 0x50, 0xE0, 0xD0]
    assert scancodes_for_press("left") == [0xE0, 0x4B, 0xE0, 0xCB]
    assert scancodes_for_press("Right") == [0xE0, 0x4D, 0xE0, 0xCD]
    assert scancodes_for_press("ctrl+c") == [0x1D, 0x2E, 0xAE, 0x9D]
    assert scancodes_for_press("enter") == [0x1C, 0x9C]
    assert scancodes_for_press("A") == [0x2A, 0x1E, 0x9E, 0xAA]
    assert scancodes_for_press("ctrl++") == [0x1D, 0x2A, 0x0D, 0x8D, 0xAA, 0x9D]


def test_unknown_characters_are_refused():
    with pytest.raises(ValueError):
        scancodes_for_text("é")
    with pytest.raises(ValueError):
        scancodes_for_press("hyper")


def test_type_text_arrives_one_byte_per_irq1():
    pic, kbc = wired()
    kbc.type_text("Hi\n")
    assert drain_by_irq(pic, kbc) == HI_NL
    assert not kbc.read(0x64, 1) & 0x01


def test_next_byte_waits_for_the_read_of_port_0x60():
    pic, kbc = wired()
    kbc.press("up")
    assert pic.acknowledge() == 0x21
    eoi(pic, 0x21)
    assert not pic.pending()  # the same byte is still in the buffer: no new IRQ
    assert kbc.read(0x60, 1) == 0xE0
    assert pic.pending()
    assert kbc.read(0x60, 1) == 0x48  # polling reads get the rest too


def test_config_byte_read_write_and_irq1_disable():
    pic, kbc = wired()
    kbc.write(0x64, 1, 0x20)
    assert kbc.read(0x64, 1) & 0x09 == 0x09  # OBF, last write was a command
    assert pic.acknowledge() == 0x21
    eoi(pic, 0x21)
    assert kbc.read(0x60, 1) == 0x65
    kbc.write(0x64, 1, 0x60)
    kbc.write(0x60, 1, 0x44)  # IRQ1 off, translation on
    assert not kbc.read(0x64, 1) & 0x08
    kbc.type_text("a")
    assert kbc.read(0x64, 1) & 0x01 and not pic.pending()
    assert [kbc.read(0x60, 1), kbc.read(0x60, 1)] == [0x1E, 0x9E]


def test_controller_self_tests():
    _, kbc = wired()
    for command, reply in ((0xAA, 0x55), (0xAB, 0x00), (0xA9, 0x00)):
        kbc.write(0x64, 1, command)
        assert kbc.read(0x60, 1) == reply
    assert kbc.read(0x64, 1) & 0x04  # system flag


def test_disabled_port_1_keeps_keys_queued():
    pic, kbc = wired()
    kbc.write(0x64, 1, 0xAD)
    kbc.type_text("x")
    assert not kbc.read(0x64, 1) & 0x01 and not pic.pending()
    kbc.write(0x64, 1, 0xAE)
    assert drain_by_irq(pic, kbc) == [0x2D, 0xAD]


def test_keyboard_reset_and_commands_are_acked():
    _, kbc = wired()
    kbc.type_text("q")
    kbc.write(0x60, 1, 0xFF)  # reset drops pending keys
    assert kbc.read(0x60, 1) == 0x10  # the byte already in the buffer
    assert [kbc.read(0x60, 1), kbc.read(0x60, 1)] == [0xFA, 0xAA]
    assert not kbc.read(0x64, 1) & 0x01
    kbc.write(0x60, 1, 0xF4)
    assert kbc.read(0x60, 1) == 0xFA
    kbc.write(0x60, 1, 0xED)  # LEDs: ACK for the command and for the parameter
    kbc.write(0x60, 1, 0x07)
    assert [kbc.read(0x60, 1), kbc.read(0x60, 1)] == [0xFA, 0xFA]
    assert kbc.keyboard.leds == 7
    kbc.write(0x60, 1, 0xEE)
    assert kbc.read(0x60, 1) == 0xEE


def test_scancode_set_get_and_set():
    _, kbc = wired()
    kbc.write(0x60, 1, 0xF0)
    assert kbc.read(0x60, 1) == 0xFA
    kbc.write(0x60, 1, 0x00)
    assert [kbc.read(0x60, 1), kbc.read(0x60, 1)] == [0xFA, 0x41]  # set 2, translated
    kbc.write(0x60, 1, 0xF0)
    kbc.write(0x60, 1, 0x01)
    assert [kbc.read(0x60, 1), kbc.read(0x60, 1)] == [0xFA, 0xFA]
    assert kbc.keyboard.scancode_set == 1


def test_disabled_scanning_drops_keys():
    _, kbc = wired()
    kbc.write(0x60, 1, 0xF5)
    assert kbc.read(0x60, 1) == 0xFA
    kbc.type_text("ab")
    assert not kbc.read(0x64, 1) & 0x01 and kbc.keyboard.dropped == 4
    kbc.write(0x60, 1, 0xF4)
    kbc.read(0x60, 1)
    kbc.type_text("b")
    assert kbc.read(0x60, 1) == 0x30


def test_replies_come_before_queued_scancodes():
    _, kbc = wired()
    kbc.write(0x64, 1, 0xAD)
    kbc.type_text("z")
    kbc.write(0x64, 1, 0x20)
    kbc.write(0x64, 1, 0xAE)
    assert [kbc.read(0x60, 1) for _ in range(3)] == [0x65 | 0x10, 0x2C, 0xAC]


def test_mouse_stub_answers_through_d4_with_irq12():
    pic, kbc = wired()
    kbc.write(0x64, 1, 0xA8)  # enable port 2
    kbc.write(0x64, 1, 0x60)
    kbc.write(0x60, 1, 0x47)  # IRQ1 + IRQ12, translation
    kbc.write(0x64, 1, 0xD4)
    kbc.write(0x60, 1, 0xFF)
    got = []
    while pic.pending():
        vector = pic.acknowledge()
        assert vector == 0x2C
        assert kbc.read(0x64, 1) & 0x21 == 0x21
        got.append(kbc.read(0x60, 1))
        eoi(pic, vector)
    assert got == [0xFA, 0xAA, 0x00]


def test_reset_and_a20_through_the_output_port():
    calls = []
    kbc = I8042(on_reset=lambda: calls.append(1))
    kbc.write(0x64, 1, 0xD0)
    assert kbc.read(0x60, 1) & 0x03 == 0x03
    kbc.write(0x64, 1, 0xDD)
    assert not kbc.a20
    kbc.write(0x64, 1, 0xD1)
    kbc.write(0x60, 1, 0x03)
    assert kbc.a20 and kbc.reset_requests == 0
    kbc.write(0x64, 1, 0xFE)
    assert kbc.reset_requests == 1 and calls == [1]


def test_keyboard_alone_replies_identify():
    kbd = Keyboard()
    kbd.translate = False
    kbd.command(0xF2)
    assert [kbd.pop(), kbd.pop(), kbd.pop(), kbd.pop()] == [0xFA, 0xAB, 0x83, None]
    kbd.command(0x12)
    assert kbd.pop() == 0xFE


def test_snapshot_restore_round_trip():
    pic, kbc = wired()
    kbc.type_text("Hi")
    kbc.read(0x60, 1)
    snap = kbc.snapshot()
    assert snap["obf"] and snap["obdata"] == 0x23
    assert snap["keyboard"]["scancodes"] == [0xA3, 0xAA, 0x17, 0x97]
    other = I8042()
    other.restore(snap)
    assert [other.read(0x60, 1) for _ in range(5)] == [0x23, 0xA3, 0xAA, 0x17, 0x97]
