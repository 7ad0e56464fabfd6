"""`crashloop-exporter ... | head`: the reader leaving early is not an error, and never a traceback."""

from __future__ import annotations

import subprocess
import sys

import pytest

# The demo listens on a port the kernel picks (`:0`): its default, 10079, may be taken by another run.
DEMO = ("demo", "--duration", "8", "--plain-http", "--listen-address", "127.0.0.1:0")


@pytest.mark.parametrize("argv", [DEMO, ("diagnose", "--example")], ids=["demo", "diagnose"])
def test_a_closed_stdout_ends_quietly(argv: tuple[str, ...]) -> None:
    """A reader that closes stdout after one line ends the command with status 0 and no traceback."""
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
