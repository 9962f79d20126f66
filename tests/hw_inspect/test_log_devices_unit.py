"""``faults`` on hand-made log entries and ``devices`` on hand-made snapshot dicts."""

import json
from types import SimpleNamespace

from rustos_dbg.inspect.hw import devices, faults
from rustos_dbg.machine.delivery import Outcome, Source

from .hw_helpers import symtab

CODE = 0xFFFF_FFFF_8010_0000
SYMS = symtab(("trigger", CODE, 0x40), ("trap_stub_14", CODE + 0x1000, 16),
              ("trap_stub_32", CODE + 0x1200, 16), ("trap_stub_13", CODE + 0xFF0, 16))


def entry(vector, source=Source.EXCEPTION, error=None, cr2=None, ist=0, outcome=Outcome.DELIVERED,
          handler=None, new_rsp=0x8000, reason="", icount=100):
    return SimpleNamespace(icount=icount, vector=vector, source=source, error_code=error,
                           rip=CODE + 8, cr2=cr2, old_rsp=0x9000, new_rsp=new_rsp, ist=ist,
                           handler=handler, outcome=outcome, reason=reason)


LOG = [
    entry(32, Source.EXTERNAL, handler=CODE + 0x1200, icount=10),
    entry(14, error=0x2, cr2=0xDEADBEEF000, ist=2, handler=CODE + 0x1000, icount=20),
    entry(14, error=0x11, cr2=CODE, ist=2, handler=CODE + 0x1000, icount=30),
    entry(13, error=14 * 8 + 2, outcome=Outcome.FAULTED, new_rsp=None, reason="not present",
          icount=40),
]


def test_page_fault_rows_are_decoded():
    log = faults.decode_faults(LOG, SYMS.symbolize)
    assert log.total == 4 and len(log.records) == 4
    pf = log.records[1]
    assert (pf.vector_name, pf.source, pf.stack, pf.cr2) == ("#PF page fault", "exception", "IST 2", 0xDEADBEEF000)
    assert dict(pf.error_flags) == {"P": False, "W": True, "U": False, "RSVD": False, "I": False,
                                    "PK": False, "SS": False, "HLAT": False, "SGX": False}
    assert "not present" in pf.error_text and "write" in pf.error_text
    assert (pf.rip_symbol, pf.handler_symbol, pf.outcome) == ("trigger+0x8", "trap_stub_14", "delivered")
    fetch = log.records[2]
    assert "instruction fetch" in fetch.error_text and "read" not in fetch.error_text
    assert fetch.cr2_symbol == "trigger"
    timer = log.records[0]
    assert (timer.vector_name, timer.stack, timer.error_code) == ("IRQ0 timer (PIT)", "same stack", None)


def test_selector_error_codes_and_failed_deliveries():
    gp = faults.decode_faults(LOG, SYMS.symbolize).records[3]
    assert gp.error_text == "IDT vector 14" and gp.outcome == "faulted" and gp.stack == "-"
    assert faults.decode_error_code(13, 0x28) == "GDT selector 0x28 (index 5)"
    assert faults.decode_error_code(11, 0x2C | 1) == "LDT selector 0x28 (index 5) external"
    assert faults.decode_error_code(13, 0) == "0 (no selector)"
    assert faults.decode_error_code(3, None) is None


def test_filters_and_views():
    assert [r.vector for r in faults.decode_faults(LOG, include_external=False).records] == [14, 14, 13]
    assert [r.index for r in faults.decode_faults(LOG, vectors={14}, last=1).records] == [2]
    assert faults.decode_faults(LOG, last=0).records == ()
    text = faults.format_faults(faults.decode_faults(LOG, SYMS.symbolize))
    assert "4 of 4 log entries" in text and "on IST 2" in text and "faulted: not present" in text
    assert "cr2 0xdeadbeef000" in text and "<trap_stub_14>" in text
    data = json.loads(faults.to_json(faults.decode_faults(LOG)))
    assert data["records"][1]["error_code"] == 2


SNAPSHOTS = {
    "pic": {"master": {"irr": 0x01, "isr": 0x02, "imr": 0xE8, "base": 32, "auto_eoi": 0},
            "slave": {"irr": 0, "isr": 0, "imr": 0xFF, "base": 40, "auto_eoi": 0},
            "spurious": 0, "irr": 0x0001, "isr": 0x0002, "imr": 0xFFE8, "pending": True},
    "pit": {"channels": [{"count": 1193, "mode": 2, "access": 3, "bcd": 0, "loaded": True, "gate": True},
                         {"count": 0x10000, "mode": 0, "access": 3, "bcd": 0, "loaded": False, "gate": True}],
            "irq0_hz": 1000.15, "irq_count": 42},
    "uart": {"rx": [0x61, 0x62], "ier": 1, "fcr": 0, "lcr": 3, "mcr": 0x0B, "dll": 3, "dlm": 0,
             "lsr": 0x61, "iir": 0x04, "baud": 38400, "tx_count": 7},
    "i8042": {"config": 0x65, "obf": True, "obdata": 0x1E, "status": 0x15,
              "keyboard": {"responses": [], "scancodes": [0xF0, 0x1C], "scancode_set": 2}},
}


def test_devices_decoded():
    r = devices.decode_devices(SNAPSHOTS)
    assert (r.pic.master.base, r.pic.slave.base, r.pic.unmasked) == (32, 40, (0, 1, 2, 4))
    assert (r.pic.requested, r.pic.in_service, r.pic.pending) == ((0,), (1,), True)
    ch0 = r.pit.channels[0]
    assert (ch0.mode_name, ch0.divisor, round(ch0.frequency_hz, 2)) == ("rate generator", 1193, 1000.15)
    assert r.pit.channels[1].frequency_hz is None and r.pit.channels[1].divisor == 0
    u = r.uart
    assert (u.divisor, u.baud, u.line, u.ier_flags, u.mcr_flags) == (3, 38400, "8N1", ("RX data",), ("DTR", "RTS", "OUT2"))
    assert (u.lsr_flags, u.iir_name, u.pending_input) == (("DR", "THRE", "TEMT"), "RX data", b"ab")
    k = r.i8042
    assert k.status_flags == ("OBF", "SYS", "UNLOCKED") and k.config_flags == ("KBD_INT", "SYS", "AUX_DISABLE", "TRANSLATE")
    assert (k.output_buffer, k.queued, k.translate) == (0x1E, (0xF0, 0x1C), True)
    text = devices.format_devices(r)
    for needle in ("master base 32 slave base 40", "divisor 1193 -> 1000.15 Hz", "38400 baud, 8N1",
                   "pending input: 2 bytes", "output buffer 0x1e; queued f0 1c"):
        assert needle in text
    assert json.loads(devices.to_json(r))["uart"]["pending_input"] == "6162"


def test_devices_missing_ones_are_none():
    r = devices.decode_devices({"uart": SNAPSHOTS["uart"]})
    assert r.pic is None and r.pit is None and r.i8042 is None and r.uart.baud == 38400
    assert devices.format_devices(r).startswith("UART")
