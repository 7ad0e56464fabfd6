"""Sampling profiles of the exporter process (py-spy), summarised as top-N tables.

A benchmark number says how fast; the lead also needs to know where the time goes. py-spy
attaches to the running exporter without changing its code, and `--gil` keeps only samples that
hold the GIL (work, not waiting in epoll), so the shares below are shares of the exporter's
Python CPU time. The collapsed-stack output is kept on disk for flame graphs.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

RATE = 200
"""Samples per second: 5 ms resolution, low enough overhead with --nonblocking."""
BOILERPLATE = ("(asyncio/", "(<frozen ", "(threading.py)", "(crashloop_exporter/__main__.py)",
               "(crashloop_exporter/cli/main.py)", "(crashloop_exporter/cli/serve.py)", "run_exporter (")
"""Frames on every stack (interpreter start, CLI, event loop): left out of the inclusive table,
where they would fill the top rows with ~100% and say nothing."""


def py_spy() -> str | None:
    """The py-spy binary next to this interpreter (the venv) or on PATH."""
    local = Path(sys.executable).parent / "py-spy"
    return str(local) if local.exists() else shutil.which("py-spy")


@dataclass
class Recording:
    """A py-spy attached to one pid until `stop()`."""

    proc: subprocess.Popen[bytes]
    output: Path
    log: Path

    def stop(self, *, timeout: float = 30.0) -> None:
        """SIGINT makes py-spy write its output and exit; kill it if it does not."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=timeout)


def record(pid: int, *, output: Path) -> Recording | None:
    """Start sampling `pid` into `output` (collapsed stacks); None when py-spy is not installed."""
    binary = py_spy()
    if binary is None:
        return None
    log = output.with_suffix(".log")
    with open(log, "wb") as f:
        proc = subprocess.Popen(
            [binary, "record", "-p", str(pid), "-o", str(output), "-f", "raw", "--rate", str(RATE), "--gil",
             "--nolineno", "--nonblocking"],
            stdout=f, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
    return Recording(proc, output, log)


@dataclass
class Summary:
    samples: int
    cumulative: list[tuple[str, int]]
    own: list[tuple[str, int]]

    def table(self, *, title: str, top: int = 15) -> str:
        lines = [f"{title}: {self.samples} GIL-holding samples at {RATE} Hz"]
        if not self.samples:
            return lines[0] + " (nothing sampled)"
        tables = (("cumulative (inclusive; event loop and CLI frames left out)", self.cumulative),
                  ("self (exclusive)", self.own))
        for heading, rows in tables:
            lines.append(f"  top {top} by {heading}:")
            for name, n in rows[:top]:
                lines.append(f"    {100.0 * n / self.samples:5.1f}%  {n:7d}  {name}")
        return "\n".join(lines)


def summarise(path: Path) -> Summary:
    """Inclusive and exclusive sample counts per function from py-spy's collapsed stacks."""
    cumulative: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count_s = line.rpartition(" ")
        if not stack or not count_s.isdigit():
            continue
        n = int(count_s)
        frames = stack.split(";")
        total += n
        # A recursive function appears once per stack in the inclusive count.
        for frame in set(frames):
            if not any(b in frame for b in BOILERPLATE):
                cumulative[frame] += n
        own[frames[-1]] += n
    return Summary(total, cumulative.most_common(), own.most_common())
