"""8259A pair: kernel initialisation, priorities, EOI, cascade, spurious."""

from rustos_dbg.devices import Pic

from .util import eoi, init_pic


def test_post_bios_state_masks_everything_but_the_cascade():
    pic = Pic()
    pic.raise_irq(0)
    assert not pic.pending()
    assert pic.read(0x21, 1) == 0xFB and pic.read(0xA1, 1) == 0xFF
    pic.write(0x21, 1, 0xFA)
    assert pic.pending() and pic.acknowledge() == 0x08


def test_kernel_init_then_irq1_gives_vector_0x21():
    pic = Pic()
    init_pic(pic, master_mask=0xFC, slave_mask=0xFF)
    assert pic.read(0x21, 1) == 0xFC
    assert not pic.pending()
    pic.raise_irq(1)
    assert pic.pending()
    assert pic.acknowledge() == 0x21
    assert pic.isr == 0x0002 and pic.irr == 0


def test_no_new_irq1_until_eoi():
    pic = Pic()
    init_pic(pic)
    pic.raise_irq(1)
    assert pic.acknowledge() == 0x21
    pic.lower_irq(1)
    pic.raise_irq(1)  # a second edge while in service: latched in IRR
    assert pic.irr == 0x0002 and not pic.pending()
    eoi(pic, 0x21)
    assert pic.pending() and pic.acknowledge() == 0x21


def test_edge_triggered_line_held_high_does_not_retrigger():
    pic = Pic()
    init_pic(pic)
    pic.raise_irq(4)
    pic.acknowledge()
    eoi(pic, 0x24)
    pic.raise_irq(4)  # still high: no edge
    assert not pic.pending()
    pic.lower_irq(4)
    pic.raise_irq(4)
    assert pic.acknowledge() == 0x24


def test_masked_request_waits_in_irr():
    pic = Pic()
    init_pic(pic, master_mask=0x01)
    pic.raise_irq(0)
    assert not pic.pending() and pic.irr == 0x0001
    pic.write(0x21, 1, 0x00)
    assert pic.acknowledge() == 0x20


def test_lowest_irq_number_wins_and_nesting_follows_priority():
    pic = Pic()
    init_pic(pic)
    pic.raise_irq(3)
    pic.raise_irq(1)
    assert pic.acknowledge() == 0x21
    assert not pic.pending()  # IRQ3 is lower priority than IRQ1 in service
    pic.raise_irq(0)
    assert pic.acknowledge() == 0x20  # IRQ0 preempts IRQ1
    eoi(pic, 0x20)  # non-specific EOI clears the highest in service: IRQ0
    assert pic.isr == 0x0002
    eoi(pic, 0x21)
    assert pic.acknowledge() == 0x23


def test_slave_irq12_gives_0x2c_and_needs_eoi_on_both():
    pic = Pic()
    init_pic(pic)
    pic.raise_irq(12)
    assert pic.pending()
    assert pic.acknowledge() == 0x2C
    assert pic.isr == (1 << 12) | (1 << 2)
    pic.raise_irq(13)
    pic.write(0xA0, 1, 0x20)  # slave EOI only
    assert pic.isr == 1 << 2
    assert not pic.pending()  # master still has the cascade in service
    pic.write(0x20, 1, 0x20)
    assert pic.acknowledge() == 0x2D


def test_slave_masked_line_does_not_reach_master():
    pic = Pic()
    init_pic(pic, slave_mask=0x10)
    pic.raise_irq(12)
    assert not pic.pending()
    pic.write(0xA1, 1, 0x00)
    assert pic.acknowledge() == 0x2C


def test_ocw3_selects_irr_or_isr_on_the_command_port():
    pic = Pic()
    init_pic(pic)
    pic.raise_irq(5)
    pic.raise_irq(6)
    pic.acknowledge()
    pic.write(0x20, 1, 0x0A)
    assert pic.read(0x20, 1) == 0x40
    pic.write(0x20, 1, 0x0B)
    assert pic.read(0x20, 1) == 0x20


def test_specific_eoi_clears_the_named_level():
    pic = Pic()
    init_pic(pic)
    pic.raise_irq(6)
    pic.acknowledge()
    pic.write(0x20, 1, 0x60 | 5)  # wrong level: nothing changes
    assert pic.isr == 1 << 6
    pic.write(0x20, 1, 0x60 | 6)
    assert pic.isr == 0


def test_spurious_acknowledge_returns_offset_plus_7():
    pic = Pic()
    init_pic(pic)
    assert pic.acknowledge() == 0x27
    assert pic.isr == 0 and pic.spurious == 1


def test_spurious_on_slave_returns_0x2f_and_keeps_cascade_in_service():
    pic = Pic()
    init_pic(pic)
    pic.raise_irq(9)
    pic.write(0xA1, 1, 0x02)  # mask IRQ9 after it reached the master
    assert pic.pending()
    assert pic.acknowledge() == 0x2F
    assert pic.isr == 1 << 2


def test_auto_eoi_leaves_isr_clear():
    pic = Pic()
    for port, value in ((0x20, 0x11), (0x21, 0x40), (0x21, 0x04), (0x21, 0x03)):
        pic.write(port, 1, value)
    pic.write(0x21, 1, 0x00)
    pic.raise_irq(1)
    assert pic.acknowledge() == 0x41
    assert pic.isr == 0


def test_icw1_resets_the_mask_and_icw2_sets_the_offset():
    pic = Pic()
    pic.write(0x20, 1, 0x11)
    assert pic.read(0x21, 1) == 0x00
    pic.write(0x21, 1, 0x37)  # low 3 bits ignored
    pic.write(0x21, 1, 0x04)
    pic.write(0x21, 1, 0x01)
    pic.raise_irq(3)
    assert pic.acknowledge() == 0x33


def test_elcr_reads_zero_and_level_mode_retriggers_while_high():
    pic = Pic()
    init_pic(pic)
    assert pic.read(0x4D0, 1) == 0 and pic.read(0x4D1, 1) == 0
    pic.write(0x4D1, 1, 0x08)  # IRQ11 level-triggered
    assert pic.read(0x4D1, 1) == 0x08
    pic.raise_irq(11)
    assert pic.acknowledge() == 0x2B
    eoi(pic, 0x2B)
    assert pic.pending()  # still high: requested again
    pic.lower_irq(11)
    # the request vanished before INTA: the master's latched cascade edge
    # becomes a spurious slave interrupt, as on the real chip
    assert pic.acknowledge() == 0x2F
    eoi(pic, 0x2F)
    assert not pic.pending() and pic.isr == 0


def test_poll_mode_acknowledges_through_the_command_port():
    pic = Pic()
    init_pic(pic)
    pic.raise_irq(3)
    pic.write(0x20, 1, 0x0C)
    assert pic.read(0x20, 1) == 0x83
    assert pic.isr == 1 << 3


def test_snapshot_restore_round_trip():
    pic = Pic()
    init_pic(pic, master_mask=0xF0)
    pic.raise_irq(1)
    snap = pic.snapshot()
    assert snap["imr"] == 0x00F0 and snap["irr"] == 0x0002 and snap["pending"]
    assert snap["master"]["base"] == 0x20 and snap["slave"]["base"] == 0x28
    other = Pic()
    other.restore(snap)
    assert other.acknowledge() == 0x21
