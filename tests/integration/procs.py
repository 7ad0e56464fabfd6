"""Run the simulator and the exporter as real processes, talk to them over 127.0.0.1.

Every wait is on a fact with a bound: the simulator's ledger says when a fault acted and how many
restarts it performed; the exporter's /metrics says when it caught up. When a bound runs out, the
failure message carries what is needed to debug it without a rerun: the last lines of the
exporter's log, the simulator's stats, and the expected and actual counts series by series.
Processes are stopped by their own pid on teardown.
"""

from __future__ import annotations

import json
import os
import re
import select
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.metrics import parse_samples
from tests.support.net import free_port
from tests.support.wait import wait_until

FAST_WATCH_RETRY = ("--watch-backoff-initial", "0.05", "--watch-backoff-max", "0.5")
"""The exporter under test retries a failed list/watch within half a second (production: 1 s
doubling to 30 s), so catching up after a fault takes a bounded, short time."""
LOG_TAIL_LINES = 60
MISMATCH_GRACE = 3.0
"""Seconds counts may still differ once the exporter has caught up (a scrape racing the last event)."""
SIM_START_TIMEOUT = 60.0
"""Seconds the simulator may take to print its address (the 16k-pod one builds its store first)."""

SIM_LINE = re.compile(r"sim listening on (?P<url>https?://\S+) kubeconfig=(?P<kubeconfig>\S+)")


def http(method: str, url: str, body: dict[str, Any] | None = None, *, timeout: float = 10.0) -> tuple[int, bytes]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


COUNTED = ("deaths", "failed_starts", "evictions")
"""The simulator's tallies that crashloop_crashes_total counts: a death when the run exits (not
the restart a back-off later), a failed-start episode, an eviction's kill of a live run."""


@dataclass
class Sim:
    url: str
    kubeconfig: str
    proc: subprocess.Popen[str]

    def admin(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        status, data = http(method, f"{self.url}/_sim/{path}", body)
        assert status < 300, f"sim {method} {path}: {status} {data[:200]!r}"
        return json.loads(data) if data else None

    def fault(self, kind: str, **fields: Any) -> int:
        """Script a fault; returns its id in the simulator's ledger."""
        fault_id: int = self.admin("POST", "faults", {"kind": kind, **fields})["id"]
        return fault_id

    def stats(self) -> dict[str, Any]:
        stats: dict[str, Any] = self.admin("GET", "stats")
        return stats

    def performed(self) -> int:
        """Deaths + failed starts + evictions performed so far (what the exporter must count)."""
        stats = self.stats()
        return sum(int(stats[part]["total"]) for part in COUNTED)

    def wait_consumed(self, faults: dict[int, int], *, timeout: float = 30.0, exporter: Exporter | None = None) -> None:
        """Wait until each fault id has acted at least the given number of times."""

        def consumed() -> bool:
            ledger = self.stats()["faults_consumed"]
            return all(ledger.get(str(i), 0) >= n for i, n in faults.items())

        wait_until(consumed, timeout=timeout, what=f"the simulator to consume faults {faults}",
                   on_timeout=lambda: diagnostics(self, exporter))

    def wait_performed(self, more: int, *, timeout: float = 30.0, exporter: Exporter | None = None) -> None:
        """Wait until the simulator has performed `more` further crashes (deaths/failed starts)."""
        target = self.performed() + more
        wait_until(lambda: self.performed() >= target, timeout=timeout,
                   what=f"the simulator to perform {more} more crashes",
                   on_timeout=lambda: diagnostics(self, exporter))

    def expected_series(self) -> dict[tuple[str, ...], float]:
        """What crashloop_crashes_total should hold: deaths + failed starts + evictions, by series."""
        stats = self.admin("GET", "stats")
        out: dict[tuple[str, ...], float] = {}
        for part in COUNTED:
            for s in stats[part]["by_series"]:
                key = series_key(s)
                out[key] = out.get(key, 0.0) + s["count"]
        return out


@dataclass
class Exporter:
    url: str
    proc: subprocess.Popen[str]
    log_path: Path

    def metrics(self) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
        _, body = http("GET", f"{self.url}/metrics")
        return {name: {tuple(sorted(labels.items())): value for labels, value in samples}
                for name, samples in parse_samples(body.decode()).items()}

    def crashes(self) -> dict[tuple[str, ...], float]:
        return {
            series_key(dict(labels)): v
            for labels, v in self.metrics().get("crashloop_crashes_total", {}).items()
            if v > 0
        }

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        tail = "\n".join(self.log().splitlines()[-lines:])
        return f"--- last {lines} lines of the exporter log ({self.log_path}) ---\n{tail}"


def series_key(labels: dict[str, Any]) -> tuple[str, ...]:
    return tuple(
        str(labels[k]) for k in ("namespace", "workload_kind", "workload", "container", "container_type", "cause")
    )


def _stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


REPO = Path(__file__).resolve().parents[2]


def failing_sim_argv(tmp: Path, *, pods: int) -> list[str]:
    """The benchmarks' simulator holding `pods` pods in CrashLoopBackOff (a big /metrics body)."""
    return [sys.executable, str(REPO / "benchmarks" / "failing_sim.py"), "--pods", str(pods),
            "--kubeconfig-out", str(tmp / "kubeconfig")]


@contextmanager
def running_sim(
    tmp: Path, *, scenarios: str = "", time_scale: float = 30.0, extra: tuple[str, ...] = (),
    argv: list[str] | None = None, tls: bool = False,
) -> Iterator[Sim]:
    """`crashloop-exporter sim` (or another simulator command line, `argv`) until the block ends;
    plain HTTP unless `tls` (the kubeconfig then carries the sim's CA, as kubectl needs)."""
    kubeconfig = tmp / "kubeconfig"
    cmd = argv or [
        sys.executable,
        "-m",
        "crashloop_exporter",
        "sim",
        "--listen",
        "127.0.0.1:0",
        "--kubeconfig-out",
        str(kubeconfig),
        "--time-scale",
        str(time_scale),
        "--bookmark-interval",
        "1",
        *(() if tls else ("--plain-http",)),
        *extra,
    ]
    if scenarios and argv is None:
        cmd += ["--scenarios", scenarios]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=open(tmp / "sim.log", "w"), text=True)  # noqa: SIM115
    try:
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], SIM_START_TIMEOUT)
        line = proc.stdout.readline() if ready else ""
        m = SIM_LINE.search(line)
        assert m, f"sim did not start: {line!r} {(tmp / 'sim.log').read_text()[-2000:]}"
        yield Sim(url=m["url"], kubeconfig=m["kubeconfig"], proc=proc)
    finally:
        _stop(proc)


def diagnostics(sim: Sim | None, exporter: Exporter | None, *, expected: dict[tuple[str, ...], float] | None = None,
                got: dict[tuple[str, ...], float] | None = None) -> str:
    """What a failed wait prints: counts series by series, the simulator's stats, the exporter's log."""
    parts: list[str] = []
    if expected is not None and got is not None:
        rows = []
        for key in sorted(set(expected) | set(got)):
            e, g = expected.get(key, 0.0), got.get(key, 0.0)
            rows.append(f"  {'  ' if e == g else '!!'} {'/'.join(key)}: expected {e:g}, exporter {g:g}")
        parts.append("crashloop_crashes_total, series by series (namespace/kind/workload/container/type/cause):\n"
                     + "\n".join(rows))
    if sim is not None:
        try:
            stats = sim.stats()
            stats.pop("recent_requests", None)
            parts.append("simulator stats: " + json.dumps(stats, sort_keys=True)[:6000])
        except (OSError, AssertionError, ValueError) as e:
            parts.append(f"simulator stats unavailable: {e}")
    if exporter is not None:
        try:
            m = exporter.metrics()
            health = {name: {",".join(f"{k}={v}" for k, v in labels): value for labels, value in fam.items()}
                      for name, fam in m.items()
                      if name.startswith(("crashloop_exporter_watch_restarts", "crashloop_exporter_synced",
                                          "crashloop_exporter_crashes_pending", "crashloop_exporter_skipped"))}
            parts.append("exporter health: " + json.dumps(health, sort_keys=True))
        except (OSError, ValueError) as e:
            parts.append(f"exporter /metrics unavailable: {e}")
        parts.append(exporter.log_tail())
    return "\n".join(parts)


@contextmanager
def running_exporter(tmp: Path, sim: Sim, *args: str, ready_timeout: float = 30.0) -> Iterator[Exporter]:
    """`crashloop-exporter serve` against `sim`, once /readyz says every resource is listed."""
    port = free_port()
    log_path = tmp / "exporter.log"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "crashloop_exporter",
            "serve",
            "--kubeconfig",
            sim.kubeconfig,
            "--listen-address",
            f"127.0.0.1:{port}",
            "--new-series-holdback",
            "0",
            *FAST_WATCH_RETRY,
            *args,
        ],
        stdout=subprocess.DEVNULL,
        stderr=open(log_path, "w"),  # noqa: SIM115 (the child owns it for its lifetime)
        text=True,
        env=env,
    )
    exporter = Exporter(url=f"http://127.0.0.1:{port}", proc=proc, log_path=log_path)
    try:
        wait_until(lambda: http("GET", f"{exporter.url}/readyz")[0] == 200, timeout=ready_timeout,
                   what="exporter /readyz",
                   on_timeout=lambda: diagnostics(sim, exporter))
        yield exporter
    finally:
        _stop(proc)


def settle(exporter: Exporter, sim: Sim, *, expected: dict[tuple[str, ...], float] | None, after: float,
           timeout: float = 45.0) -> dict[tuple[str, ...], float]:
    """Wait until the exporter has caught up with the (paused) simulator and counts `expected`
    (None: an exporter started mid-run, whose counts have their own baseline; only catch up).

    Caught up means: a pods and an events watch event or bookmark arrived after `after` (the sim
    sends a bookmark every second, and a bookmark follows every earlier event on its stream, so
    each watch is connected and past every change made before the pause), and no crash waits for
    its log. Once caught up nothing more can arrive, so equal counts then are final: a late double
    count cannot slip in after the check. Counts that still differ `MISMATCH_GRACE` seconds after
    catching up are wrong for good, and fail at once rather than at the timeout.
    """
    last: dict[tuple[str, ...], float] = {}
    wrong_since: float | None = None

    def caught_up() -> bool:
        nonlocal last, wrong_since
        m = exporter.metrics()
        pending = sum(m.get("crashloop_exporter_crashes_pending_logs", {}).values())
        seen = {dict(k)["resource"]: v for k, v in m.get("crashloop_exporter_last_event_timestamp_seconds", {}).items()}
        last = {
            series_key(dict(labels)): v for labels, v in m.get("crashloop_crashes_total", {}).items() if v > 0
        }
        synced = seen.get("pods", 0.0) > after + 1.0 and seen.get("events", 0.0) > after + 1.0
        if not (synced and pending == 0):
            wrong_since = None
            return False
        if expected is None or last == expected:
            return True
        wrong_since = wrong_since or time.monotonic()
        if time.monotonic() - wrong_since > MISMATCH_GRACE:
            raise AssertionError("the exporter caught up with the paused simulator but counts differently\n"
                                 + diagnostics(sim, exporter, expected=expected, got=last))
        return False

    wait_until(caught_up, timeout=timeout, what="the exporter's crashloop_crashes_total to equal the simulator's",
               interval=0.25, on_timeout=lambda: diagnostics(sim, exporter, expected=expected, got=last))
    return last
