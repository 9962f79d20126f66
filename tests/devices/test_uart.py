"""16550 UART: the kernel's init, transmit, receive, IIR and IRQ4."""

from rustos_dbg.devices import Pic, Uart16550

from .util import eoi, init_pic

B = 0x3F8


def kernel_init(uart):
    """The uart_16550 crate's init sequence: 38400 8N1, FIFO, IRQ on receive."""
    for offset, value in ((1, 0x00), (3, 0x80), (0, 0x03), (1, 0x00), (3, 0x03),
                          (2, 0xC7), (4, 0x0B), (1, 0x01)):
        uart.write(B + offset, 1, value)


def arrive(uart, data):
    """Host bytes, then virtual time until the line has delivered them all (or the receiver is full)."""
    uart.inject(data)
    while (event := uart.next_event(uart.now)) is not None:
        uart.tick(event)


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
    arrive(uart, b"ab")
    assert uart.read(B + 5, 1) & 0x01
    assert pic.pending() and pic.acknowledge() == 0x24
    # below the 14-byte trigger level: character timeout
    assert uart.read(B + 2, 1) == 0xCC
    assert [uart.read(B, 1), uart.read(B, 1)] == [ord("a"), ord("b")]
    assert not uart.read(B + 5, 1) & 0x01
    assert uart.read(B + 2, 1) == 0xC1
    eoi(pic, 0x24)
    assert not pic.pending()
    arrive(uart, "z")
    assert pic.acknowledge() == 0x24 and uart.read(B, 1) == ord("z")


def test_fifo_trigger_level_gives_received_data_interrupt():
    _, uart = wired()
    arrive(uart, bytes(range(14)))
    assert uart.read(B + 2, 1) == 0xC4
    uart.read(B, 1)
    assert uart.read(B + 2, 1) == 0xCC


def test_without_fifo_iir_reports_received_data():
    _, uart = wired()
    uart.write(B + 2, 1, 0x00)
    arrive(uart, b"x")
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
    arrive(uart, bytes(14))
    assert uart.read(B + 2, 1) == 0xC4


def test_out2_gates_the_irq_line():
    pic, uart = wired()
    uart.write(B + 4, 1, 0x03)  # DTR | RTS, no OUT2
    arrive(uart, b"a")
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
    arrive(uart, b"junk")
    uart.write(B + 2, 1, 0x07)
    assert not uart.read(B + 5, 1) & 0x01
    uart.write(B + 7, 1, 0x5A)
    assert uart.read(B + 7, 1) == 0x5A


def test_snapshot_restore_round_trip():
    _, uart = wired()
    arrive(uart, b"hey")
    snap = uart.snapshot()
    assert snap["rx"] == list(b"hey") and snap["baud"] == 38400 and snap["iir"] == 0x0C
    other = Uart16550()
    other.restore(snap)
    assert bytes(other.read(B, 1) for _ in range(3)) == b"hey"


def kernel_rustos_init(uart):
    """RustOS's own init (kernel/src/serial.rs): 38400 8N1, FIFOs off, IRQ on receive."""
    for offset, value in ((1, 0x00), (3, 0x80), (0, 0x03), (1, 0x00), (3, 0x03),
                          (2, 0x00), (4, 0x0B), (1, 0x01)):
        uart.write(B + offset, 1, value)


def drain_rx(uart):
    """The kernel's IRQ4 handler: read RBR while LSR.DR, at one virtual time."""
    got = []
    while uart.read(B + 5, 1) & 0x01:
        got.append(uart.read(B, 1))
    return got


def test_character_time_follows_the_line_format_and_baud_rate():
    uart = Uart16550()
    kernel_rustos_init(uart)
    assert uart.char_time_ns == 10 * 1_000_000_000 // 38400  # start + 8 data + stop bits
    uart.write(B + 3, 1, 0x0F)  # 8 bits, parity, 2 stop bits
    assert uart.char_time_ns == 12 * 1_000_000_000 // 38400


def test_piped_host_bytes_wait_for_the_holding_register_and_none_is_dropped():
    uart = Uart16550()
    kernel_rustos_init(uart)
    lines = b"".join(b"echo %d\n" % i for i in range(60))
    uart.inject(lines)
    assert uart.rx_capacity == 1 and not uart.read(B + 5, 1) & 0x01  # nothing before the next tick
    uart.tick(10**12)  # however long the guest waits, one byte is in the holding register
    assert list(uart.rx) == [lines[0]] and len(uart.host_pending) == len(lines) - 1
    assert uart.next_event(uart.now) is None  # full: the host waits for the guest
    received = drain_rx(uart)
    assert received == [lines[0]]  # a "while DR" loop takes what arrived, not the whole pipe
    assert uart.next_event(uart.now) == uart.now + uart.char_time_ns
    uart.tick(uart.now + uart.char_time_ns - 1)
    assert not uart.read(B + 5, 1) & 0x01
    while (event := uart.next_event(uart.now)) is not None:
        uart.tick(event)
        received += drain_rx(uart)
    assert bytes(received) == lines and not uart.host_pending


def test_with_the_fifo_on_the_receiver_holds_sixteen_bytes():
    _, uart = wired()
    arrive(uart, bytes(range(40)))
    assert list(uart.rx) == list(range(16)) and list(uart.host_pending) == list(range(16, 40))
    assert uart.read(B + 2, 1) == 0xC4  # at the trigger level
    assert drain_rx(uart) == list(range(16))
    arrive(uart, b"")
    assert drain_rx(uart) == list(range(16, 32))


def test_clearing_the_fifo_keeps_the_bytes_the_host_still_holds():
    _, uart = wired()
    arrive(uart, bytes(range(20)))
    uart.write(B + 2, 1, 0xC7)  # FCR: clear the receive FIFO
    assert not uart.read(B + 5, 1) & 0x01 and list(uart.host_pending) == list(range(16, 20))
    arrive(uart, b"")
    assert drain_rx(uart) == list(range(16, 20))


def test_snapshot_holds_the_pending_host_bytes_and_the_line_timing():
    uart = Uart16550()
    kernel_rustos_init(uart)
    arrive(uart, b"abc")
    snap = uart.snapshot()
    assert snap["rx"] == list(b"a") and snap["host_pending"] == list(b"bc")
    assert snap["rx_ready_at"] == uart.now + uart.char_time_ns
    other = Uart16550()
    other.restore(snap)
    got = drain_rx(other)
    while (event := other.next_event(other.now)) is not None:
        other.tick(event)
        got += drain_rx(other)
    assert bytes(got) == b"abc" and other.now == snap["now"] + 2 * uart.char_time_ns
