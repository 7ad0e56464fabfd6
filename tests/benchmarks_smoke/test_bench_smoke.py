"""`benchmarks/run.py --quick` end to end: it runs the sim and the exporter, prints the summary
table with a number and a verdict on every target row, writes its raw figures, and leaves no
process behind. No timing is asserted: this pins that the benchmark works, not how fast."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest

from crashloop_exporter.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
RUN = ROOT / "benchmarks" / "run.py"
TIMEOUT = 55.0
STOP_TIMEOUT = 15.0
ROW = re.compile(r"^(?P<measure>\S.*?)\s{2,}(?P<value>[\d.]+\S*(?: MiB| ms)?)\s{2,}(?P<target>\S.*?)\s{2,}"
                 r"(?P<verdict>PASS|MISS)$")


@dataclass
class QuickRun:
    stdout: str
    stderr: str
    returncode: int
    figures: dict[str, Any]
    workdir: Path


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> QuickRun:
    tmp = tmp_path_factory.mktemp("bench")
    out = tmp / "figures.json"
    workdir = tmp / "work"
    proc = subprocess.Popen(
        [sys.executable, str(RUN), "--quick", "--workdir", str(workdir), "--json", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, stdin=subprocess.DEVNULL,
    )
    try:
        stdout, stderr = proc.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        # SIGTERM first: run.py then stops the sim and exporter it started before exiting.
        proc.terminate()
        try:
            stdout, stderr = proc.communicate(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            stdout, stderr = proc.communicate(timeout=STOP_TIMEOUT)
        pytest.fail(f"run.py --quick took over {TIMEOUT:g}s:\n{stdout[-3000:]}\n{stderr[-3000:]}")
    figures = orjson.loads(out.read_bytes()) if out.exists() else {}
    return QuickRun(stdout, stderr, proc.returncode, figures, workdir)


def _summary(run: QuickRun) -> list[str]:
    assert run.returncode == 0, f"run.py --quick failed:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
    _, sep, tail = run.stdout.partition("== summary")
    assert sep, f"no summary table in:\n{run.stdout[-3000:]}"
    return tail.splitlines()


def test_summary_has_a_number_and_verdict_for_every_target(quick_run: QuickRun) -> None:
    """The summary rates sync, RSS, update throughput, in-process render and the HTTP scrape."""
    rows = {m["measure"]: m for line in _summary(quick_run) if (m := ROW.match(line.strip()))}
    measures = " | ".join(rows)
    for wanted in ("fetch+orjson parse", "peak RSS", "pod updates/s", "in-process", "HTTP scrape"):
        assert any(wanted in m for m in rows), f"no summary row for {wanted!r} in: {measures}"
    for row in rows.values():
        float(row["value"].split()[0].rstrip("x"))  # a number, not "-": the measurement ran


def test_raw_figures_hold_every_measurement(quick_run: QuickRun) -> None:
    """--json holds one sync run per size, churn steps with processed events, the readers' floor
    and the render series."""
    _summary(quick_run)
    sync = quick_run.figures["sync"]
    assert [s["pods"] for s in sync] == [1000]
    run = sync[0]["runs"][0]
    # The exporter's own page size: 1000 pods come in ceil(1000 / page) LIST pages.
    assert run["pages"] == -(-1000 // Settings().list_page_size), run
    assert run["sync_s"] > 0 and run["parse_s"] > 0 and run["rss_sync_mib"] > 0
    churn = quick_run.figures["churn"]
    steps = churn["runs"][0]["steps"]
    assert steps and all(s["processed"] > 0 for s in steps)
    assert churn["sim_ceiling"] > 0
    # The floor beside it: both aiohttp readers read events of the same WATCH and timed their CPU.
    floors = churn["floors"]
    assert set(floors) == {"read", "decode"}, floors
    assert all(f["events"] > 0 and f["seconds"] > 0 and f["user_s"] + f["sys_s"] > 0 for f in floors.values()), floors
    render = quick_run.figures["render"]
    # 1000 failing containers: a failing, exit-code and timestamp series each, plus crashes_total.
    assert render["series"] > 3 * render["failing"]
    assert render["http_series"] is not None and render["http_series"] > 3 * render["failing"]


def test_no_benchmark_process_is_left_running(quick_run: QuickRun) -> None:
    """Every sim and exporter the benchmark started is gone when it exits."""
    _summary(quick_run)
    marker = str(quick_run.workdir).encode()
    left = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue  # exited meanwhile
        if marker in cmdline:
            left.append(cmdline.replace(b"\0", b" ").decode(errors="replace"))
    assert not left, f"still running: {left}"
