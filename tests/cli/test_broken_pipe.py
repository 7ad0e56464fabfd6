"""`crashloop-exporter ... | head`: the reader leaving early is not an error, and never a traceback."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.parametrize("argv", [("demo", "--duration", "8", "--plain-http"), ("diagnose", "--example")],
                         ids=["demo", "diagnose"])
def test_a_closed_stdout_ends_quietly(argv: tuple[str, ...]) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "crashloop_exporter", *argv], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()
    proc.stdout.close()  # what `| head -1` does once it has its line
    try:
        err = proc.stderr.read()
        code = proc.wait(timeout=60)
    finally:
        proc.kill()
    assert first, err
    assert "Traceback" not in err and "error:" not in err, err
    assert code == 0, (code, err)
