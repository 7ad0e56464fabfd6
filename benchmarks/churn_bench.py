"""Benchmark 2: steady-state pod update throughput of `serve` on one core.

The exporter syncs on N filler pods; then the sim emits MODIFIED events for them at a set rate
(`/_sim/churn`). The exporter's own `crashloop_exporter_watch_events_total{resource="pods",
type="MODIFIED"}` says how many it processed, the sim's `churn_emitted` how many were offered.
A rate is sustained when the exporter processes what was offered and ends the window with less
than a quarter second of backlog; the search doubles the rate until it is not, then bisects.

The sim can be the bottleneck too (it renders every event's ~6 KB pod), so its own ceiling is
measured first with a trivial consumer that only counts lines: an exporter number close to that
ceiling means "at least this fast", not "this fast".
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import statistics
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

import profiles
from benchlib import (
    SIM_TOKEN,
    BenchError,
    Children,
    Exporter,
    Sim,
    cpu_seconds,
    http_json,
    sim_argv,
    start_exporter,
    start_sim,
    wait_for,
    wait_ready,
)

MODIFIED = ("crashloop_exporter_watch_events_total", 'resource="pods",type="MODIFIED"')
RESTARTS = "crashloop_exporter_watch_restarts_total"
KEEP_UP_FRACTION = 0.95
"""Processed/offered at or above this over the window: keeping up."""
MAX_BACKLOG_SECONDS = 0.25
"""Events still unprocessed at the end of the window, in seconds of the rate: more is falling behind."""
SIM_SHORT_FRACTION = 0.9
"""Offered/asked below this: the sim could not emit the rate (the sim is the limit, not the exporter)."""
CPU_BOUND = 0.9
"""Exporter CPU (cores) at or above this while falling behind: its own core is the limit. Below it,
the exporter was waiting for bytes: the sim's writer or a neighbour on the machine was the limit."""


@dataclass
class Step:
    rate: float
    """Asked of the sim (events/s)."""
    offered: float
    """Emitted by the sim over the window (events/s)."""
    processed: float
    """Counted by the exporter over the window (events/s)."""
    backlog: int
    """Events emitted but not yet processed at the end of the window."""
    cpu: float
    """Exporter CPU seconds per wall second over the window (1.0 = one core busy)."""
    drain_s: float
    """Time after the churn stopped until the exporter had processed everything."""
    restarts: float
    """Watch restarts during the step (the sim drops a watcher that falls 200k events behind)."""

    @property
    def sim_limited(self) -> bool:
        return self.offered < SIM_SHORT_FRACTION * self.rate

    @property
    def cpu_bound(self) -> bool:
        return self.cpu >= CPU_BOUND

    @property
    def keeps_up(self) -> bool:
        return (self.processed >= KEEP_UP_FRACTION * self.offered
                and self.backlog <= max(MAX_BACKLOG_SECONDS * self.rate, 100) and not self.restarts)


@dataclass
class ChurnRun:
    steps: list[Step] = field(default_factory=list)
    max_sustained: float = 0.0
    """Highest rate that kept up (0: not even the first)."""
    saturated: float | None = None
    """Events/s processed while falling behind (the exporter's ceiling), if a rate was too high."""
    limited_by_sim: bool = False
    """The search stopped because the sim could not emit more, not because the exporter fell behind."""
    first_miss: float | None = None
    """The lowest rate the exporter fell behind at."""

    def cpu_us_per_event(self) -> float | None:
        """Exporter CPU microseconds per processed event at the highest sustained rate (at low
        rates the per-second costs, scrapes and ticks, would inflate it)."""
        kept = [s for s in self.steps if s.keeps_up and s.processed]
        if not kept:
            return None
        top = max(kept, key=lambda s: s.rate)
        return 1e6 * top.cpu / top.processed


@dataclass
class ChurnResult:
    pods: int
    sim_ceiling: float | None = None
    """Events/s the sim delivered to a consumer that only counts lines, at `ceiling_rate`."""
    ceiling_rate: float | None = None
    """The rate asked of the sim for that: the lowest rate the exporter fell behind at (or the
    highest tried), so the question answered is: could the sim have delivered that rate?"""
    runs: list[ChurnRun] = field(default_factory=list)

    def median_max(self) -> float | None:
        return statistics.median(r.max_sustained for r in self.runs) if self.runs else None

    def median_cpu_us(self) -> float | None:
        values = [v for r in self.runs if (v := r.cpu_us_per_event()) is not None]
        return statistics.median(values) if values else None

    def median_saturated(self) -> float | None:
        values = [r.saturated for r in self.runs if r.saturated is not None]
        return statistics.median(values) if values else None


def _restarts(exp: Exporter) -> float:
    total = 0.0
    prefix = RESTARTS + '{resource="pods"'
    for line in exp.metrics().splitlines():
        if line.startswith(prefix):
            total += float(line.rsplit(" ", 1)[1])
    return total


def _processed(exp: Exporter) -> float:
    return exp.counter(*MODIFIED)


def run_step(sim: Sim, exp: Exporter, *, rate: float, window: float, warmup: float, drain_timeout: float) -> Step:
    """Offer `rate` events/s for warmup+window seconds, measure over the window, then drain."""
    base_e, base_p, base_r = sim.churn_emitted(), _processed(exp), _restarts(exp)
    sim.set_churn(rate)
    try:
        time.sleep(warmup)
        e0, p0, c0, t0 = sim.churn_emitted(), _processed(exp), cpu_seconds(exp.child.pid), time.monotonic()
        time.sleep(window)
        e1, p1, c1, t1 = sim.churn_emitted(), _processed(exp), cpu_seconds(exp.child.pid), time.monotonic()
    finally:
        sim.set_churn(0)
    stopped = time.monotonic()
    target = sim.churn_emitted() - base_e

    def drained() -> float | None:
        return time.monotonic() if _processed(exp) - base_p >= target else None

    try:
        drain_s = wait_for(drained, timeout=drain_timeout, what="the exporter to drain", interval=0.1) - stopped
    except BenchError:
        drain_s = float("inf")
    dt = t1 - t0
    return Step(rate=rate, offered=(e1 - e0) / dt, processed=(p1 - p0) / dt, backlog=int((e1 - base_e) - (p1 - base_p)),
                cpu=(c1 - c0) / dt, drain_s=drain_s, restarts=_restarts(exp) - base_r)


def search(sim: Sim, exp: Exporter, *, start: float, max_rate: float, refine: int, window: float, warmup: float,
           drain_timeout: float, log: bool = True) -> ChurnRun:
    """Double the rate from `start` until the exporter falls behind, then bisect `refine` times."""
    run = ChurnRun()

    def step(rate: float) -> Step:
        s = run_step(sim, exp, rate=rate, window=window, warmup=warmup, drain_timeout=drain_timeout)
        run.steps.append(s)
        if not s.keeps_up and not s.sim_limited:
            run.saturated = max(run.saturated or 0.0, s.processed)
            run.first_miss = min(run.first_miss or rate, rate)
        if log:
            verdict = ("keeps up" if s.keeps_up else "SIM-LIMITED" if s.sim_limited
                       else "falls behind (exporter CPU-bound)" if s.cpu_bound
                       else "falls behind (exporter not CPU-bound: sim delivery or a noisy neighbour)")
            print(f"    churn {rate:8.0f}/s: offered {s.offered:8.0f}/s processed {s.processed:8.0f}/s "
                  f"backlog {s.backlog:7d} cpu {s.cpu:4.2f} drain {s.drain_s:5.1f}s -> {verdict}", flush=True)
        return s

    lo, hi = 0.0, None
    rate = start
    while rate <= max_rate:
        s = step(rate)
        if s.sim_limited:
            run.limited_by_sim = True
            break
        if not s.keeps_up:
            hi = rate
            break
        lo = rate
        rate *= 2
    if hi is not None and not run.limited_by_sim:
        for _ in range(refine):
            mid = (lo + hi) / 2
            s = step(mid)
            if s.keeps_up:
                lo = mid
            elif s.sim_limited:
                run.limited_by_sim = True
                break
            else:
                hi = mid
    run.max_sustained = lo
    return run


def _current_rv(sim: Sim) -> str:
    doc = http_json(f"{sim.url}/api/v1/pods?limit=1", headers={"Authorization": f"Bearer {SIM_TOKEN}"})
    meta = doc.get("metadata")
    if not isinstance(meta, dict) or not meta.get("resourceVersion"):
        raise BenchError("the sim's pod LIST has no resourceVersion")
    return str(meta["resourceVersion"])


def sim_ceiling(sim: Sim, *, rate: float, window: float, warmup: float) -> float:
    """Events/s the sim delivers over a WATCH whose reader only counts lines."""
    rv = _current_rv(sim)
    parts = urllib.parse.urlsplit(sim.url)
    timeout_s = int(warmup + window + 10)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=timeout_s + 10)
    query = urllib.parse.urlencode({"watch": "true", "resourceVersion": rv, "timeoutSeconds": timeout_s})
    conn.request("GET", f"/api/v1/pods?{query}", headers={"Authorization": f"Bearer {SIM_TOKEN}"})
    resp = conn.getresponse()
    lines = [0]
    stop = threading.Event()

    def reader() -> None:
        try:
            while not stop.is_set():
                chunk = resp.read1(1 << 16)
                if not chunk:
                    return
                lines[0] += chunk.count(b"\n")
        except (OSError, ValueError, http.client.HTTPException):
            return  # the socket was shut down by us after the measurement

    thread = threading.Thread(target=reader, name="ceiling-reader", daemon=True)
    thread.start()
    try:
        sim.set_churn(rate)
        time.sleep(warmup)
        l0, t0 = lines[0], time.monotonic()
        time.sleep(window)
        l1, t1 = lines[0], time.monotonic()
    finally:
        sim.set_churn(0)
        stop.set()
        # Shut the socket down (read1 then returns or raises) before closing the connection
        # under the reader's feet; the server's timeoutSeconds bounds the join anyway.
        if conn.sock is not None:
            with contextlib.suppress(OSError):
                conn.sock.shutdown(socket.SHUT_RDWR)
        thread.join(timeout=timeout_s + 10)
        conn.close()
    return (l1 - l0) / (t1 - t0)


def bench_churn(kids: Children, *, pods: int, runs: int, cpus: tuple[str | None, str | None], timeout: float,
                start: float, max_rate: float, refine: int, window: float, warmup: float,
                profile_out: Path | None = None,
                log: bool = True) -> tuple[ChurnResult, profiles.Summary | None]:
    exporter_cpu, sim_cpu = cpus
    sim = start_sim(kids, sim_argv(filler_pods=pods, kubeconfig_out=kids.workdir / f"churn-{pods}.kubeconfig"),
                    cpu=sim_cpu, timeout=timeout)
    result = ChurnResult(pods)
    summary: profiles.Summary | None = None
    drain_timeout = max(30.0, 4 * (window + warmup))
    try:
        for i in range(runs):
            exp = start_exporter(kids, kubeconfig=sim.kubeconfig, cpu=exporter_cpu)
            try:
                wait_ready(exp, timeout=timeout)
                if log:
                    print(f"  churn run {i + 1}/{runs} ({pods} pods):", flush=True)
                result.runs.append(search(sim, exp, start=start, max_rate=max_rate, refine=refine, window=window,
                                          warmup=warmup, drain_timeout=drain_timeout, log=log))
            finally:
                kids.stop(exp.child)
        misses = [r.first_miss for r in result.runs if r.first_miss is not None]
        result.ceiling_rate = min(misses) if misses else max_rate
        result.sim_ceiling = sim_ceiling(sim, rate=result.ceiling_rate, window=window, warmup=warmup)
        if log:
            print(f"  sim alone, {result.ceiling_rate:.0f}/s asked, to a line-counting reader: "
                  f"{result.sim_ceiling:.0f} events/s delivered", flush=True)
        if profile_out is not None and profiles.py_spy() is not None:
            summary = _profile(kids, sim, cpu=exporter_cpu, timeout=timeout, result=result, window=window,
                               warmup=warmup, output=profile_out)
    finally:
        kids.stop(sim.child)
    return result, summary


def _profile(kids: Children, sim: Sim, *, cpu: str | None, timeout: float, result: ChurnResult, window: float,
             warmup: float, output: Path) -> profiles.Summary | None:
    """py-spy on an exporter at its highest sustained rate: busy with event work, yet not so far
    behind that the sim drops its watch (which would profile a relist instead)."""
    rate = result.median_max() or 1000.0
    exp = start_exporter(kids, kubeconfig=sim.kubeconfig, cpu=cpu)
    try:
        wait_ready(exp, timeout=timeout)
        sim.set_churn(rate)
        try:
            time.sleep(warmup)
            rec = profiles.record(exp.child.pid, output=output)
            if rec is None:
                return None
            try:
                time.sleep(max(2 * window, 5.0))
            finally:
                rec.stop()
        finally:
            sim.set_churn(0)
    finally:
        kids.stop(exp.child)
    return profiles.summarise(output) if output.exists() else None
