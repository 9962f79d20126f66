"""The kernel's pure logic (kernel/core) tested on the host with cargo test."""

import os
import re
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_core_crate_host_tests_pass():
    cargo = os.environ.get("RUSTOS_HOST_CARGO") or shutil.which("cargo") or "/usr/bin/cargo"
    proc = subprocess.run(
        [cargo, "test", "--locked", "-p", "rustos-core", "--manifest-path", str(ROOT / "kernel" / "Cargo.toml")],
        capture_output=True, text=True, env={**os.environ, "CARGO_TARGET_DIR": str(ROOT / "kernel" / "target" / "host")},
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    results = re.findall(r"test result: ok\. (\d+) passed; (\d+) failed", proc.stdout)
    assert results and int(results[0][0]) >= 10 and results[0][1] == "0", proc.stdout[-2000:]
