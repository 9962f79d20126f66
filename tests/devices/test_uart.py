"""16550 UART: the kernel's init, transmit, receive, IIR and IRQ4."""

from rustos_dbg.devices import Pic, Uart16550

from .util import eoi, init_pic

B = 0x3F8


def kernel_init(uart):
    """The uart_16550 crate's init sequence: 38400 8N1, FIFO, IRQ on receive."""
    for offset, value in ((1, 0x00), (3, 0x80), (0, 0x03), (1, 0x00), (3, 0x03),
                          (2, 0xC7), (4, 0x0B), (1, 0x01)):
        uart.write(B + offset, 1, value)


def wired():
    pic = Pic()
    init_pic(pic, master_mask=0xEF)
    uart = Uart16550(pic)
    kernel_init(uart)
    return pic, uart


def test_init_sets_divisor_and_line_control():
    _, uart = wired()
    assert uart.divisor == 3 and uart.baud == 38400
    assert uart.read(B + 3, 1) == 0x03 and uart.read(B + 4, 1) == 0x0B
    assert uart.read(B + 1, 1) == 0x01
    uart.write(B + 3, 1, 0x83)
    assert uart.read(B + 0, 1) == 0x03 and uart.read(B + 1, 1) == 0x00  # DLL / DLM
    uart.write(B + 0, 1, 0x01)  # a divisor write, not a transmit
    assert uart.output == b"" and uart.divisor == 1


def test_transmit_goes_to_output_and_callback_immediately():
    sent = []
    uart = Uart16550(on_tx=sent.append)
    kernel_init(uart)
    for byte in b"OK\n":
        assert uart.read(B + 5, 1) & 0x20  # THRE before each byte
        uart.write(B, 1, byte)
    assert uart.output == b"OK\n" and sent == list(b"OK\n")
    assert uart.read(B + 5, 1) == 0x60
    assert uart.take_output() == b"OK\n" and uart.output == b""


def test_receive_raises_irq4_and_reports_data_ready():
    pic, uart = wired()
    assert uart.read(B + 2, 1) == 0xC1  # FIFO on, nothing pending
    uart.inject(b"ab")
    assert uart.read(B + 5, 1) & 0x01
    assert pic.pending() and pic.acknowledge() == 0x24
    # below the 14-byte trigger level: character timeout
    assert uart.read(B + 2, 1) == 0xCC
    assert [uart.read(B, 1), uart.read(B, 1)] == [ord("a"), ord("b")]
    assert not uart.read(B + 5, 1) & 0x01
    assert uart.read(B + 2, 1) == 0xC1
    eoi(pic, 0x24)
    assert not pic.pending()
    uart.inject("z")
    assert pic.acknowledge() == 0x24 and uart.read(B, 1) == ord("z")


def test_fifo_trigger_level_gives_received_data_interrupt():
    _, uart = wired()
    uart.inject(bytes(range(14)))
    assert uart.read(B + 2, 1) == 0xC4
    uart.read(B, 1)
    assert uart.read(B + 2, 1) == 0xCC


def test_without_fifo_iir_reports_received_data():
    _, uart = wired()
    uart.write(B + 2, 1, 0x00)
    uart.inject(b"x")
    assert uart.read(B + 2, 1) == 0x04


def test_thr_empty_interrupt_cleared_by_iir_read_and_rearmed_by_write():
    pic, uart = wired()
    uart.write(B + 1, 1, 0x02)
    assert pic.acknowledge() == 0x24
    assert uart.read(B + 2, 1) == 0xC2
    assert uart.read(B + 2, 1) == 0xC1  # reading IIR cleared it
    eoi(pic, 0x24)
    assert not pic.pending()
    uart.write(B, 1, ord("!"))
    assert pic.pending() and uart.read(B + 2, 1) == 0xC2


def test_received_data_has_priority_over_thr_empty():
    _, uart = wired()
    uart.write(B + 1, 1, 0x03)
    uart.inject(bytes(14))
    assert uart.read(B + 2, 1) == 0xC4


def test_out2_gates_the_irq_line():
    pic, uart = wired()
    uart.write(B + 4, 1, 0x03)  # DTR | RTS, no OUT2
    uart.inject(b"a")
    assert not pic.pending() and uart.read(B + 2, 1) == 0xCC
    uart.write(B + 4, 1, 0x0B)
    assert pic.acknowledge() == 0x24


def test_loopback_returns_transmitted_bytes_and_wires_modem_lines():
    _, uart = wired()
    assert uart.read(B + 6, 1) == 0xB0
    uart.write(B + 4, 1, 0x1E)  # loop, RTS, OUT1, OUT2
    uart.write(B, 1, 0xAE)
    assert uart.output == b"" and uart.read(B, 1) == 0xAE
    msr = uart.read(B + 6, 1)
    assert msr & 0xF0 == 0xD0  # CTS, RI, DCD
    assert uart.read(B + 6, 1) & 0x0F == 0  # deltas cleared by the read


def test_fcr_clears_receive_fifo_and_scratch_register_holds():
    _, uart = wired()
    uart.inject(b"junk")
    uart.write(B + 2, 1, 0x07)
    assert not uart.read(B + 5, 1) & 0x01
    uart.write(B + 7, 1, 0x5A)
    assert uart.read(B + 7, 1) == 0x5A


def test_snapshot_restore_round_trip():
    _, uart = wired()
    uart.inject(b"hey")
    snap = uart.snapshot()
    assert snap["rx"] == list(b"hey") and snap["baud"] == 38400 and snap["iir"] == 0x0C
    other = Uart16550()
    other.restore(snap)
    assert bytes(other.read(B, 1) for _ in range(3)) == b"hey"
