"""Benchmark 2: steady-state pod update throughput of `serve` on one core.

The exporter syncs on N filler pods; then the sim emits MODIFIED events for them at a set rate
(`/_sim/churn`). The exporter's own `crashloop_exporter_watch_events_total{resource="pods",
type="MODIFIED"}` says how many it processed, the sim's `churn_emitted` how many were offered.
A rate is sustained when the exporter processes what was offered and ends the window with less
than a quarter second of backlog; the search doubles the rate until it is not, then bisects.

The sim can be the bottleneck too (it renders every event's ~6 KB pod), so its own ceiling is
measured first with a trivial consumer that only counts lines: an exporter number close to that
ceiling means "at least this fast", not "this fast". That ceiling also runs alone, without an
exporter, at the rates given:

    .venv/bin/python benchmarks/churn_bench.py --rates 100000,200000 [--pods 10000] [--window 5]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import statistics
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

import profiles
import reader_floor
from benchlib import (
    SIM_TOKEN,
    BenchError,
    Children,
    Exporter,
    Sim,
    children,
    cpu_plan,
    cpu_seconds,
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
    floors: dict[str, reader_floor.Floor] = field(default_factory=dict)
    """What reading the same WATCH costs on the exporter's core, by `reader_floor` mode, at the
    exporter's highest sustained rate: the floor under its CPU per update."""

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


@dataclass
class Ceiling:
    """What the sim did for a WATCH whose reader only counts lines, at one asked churn rate."""

    asked: float
    """Events/s asked of the sim."""
    emitted: float
    """Events/s the sim's churn emitted over the window."""
    delivered: float
    """Lines/s the reader received over the window."""
    sim_cpu: float
    """The sim's CPU seconds per wall second over the window (1.0: its core was busy)."""
    closed_early: bool
    """The sim ended the watch inside the window (its queue for the watcher overflowed)."""

    def line(self) -> str:
        tail = "; the sim closed the watch inside the window (its queue overflowed)" if self.closed_early else ""
        return (f"sim alone, {self.asked:.0f}/s asked, to a line-counting reader: emitted {self.emitted:.0f}/s, "
                f"delivered {self.delivered:.0f} events/s, sim CPU {self.sim_cpu:.2f}{tail}")


class _LineCounter:
    """Counts the event lines of one WATCH response as cheaply as a reader can, so the figure is the
    sim's and not the reader's: `recv_into` of up to 1 MiB at a time on the raw socket, counting
    `}\\n` (each event line's end: JSON holds no raw newline, and the chunked encoding's own lines
    end in `\\r\\n`) instead of decoding the chunks (http.client's `read1` cost ~5 us a line, about
    what the sim spends on one)."""

    def __init__(self, sock: socket.socket, head: bytes, *, cpu: str | None) -> None:
        """`head`: what followed the response headers in the read that ended them."""
        self.sock = sock
        self.cpu = cpu
        self.lines = head.count(b"}\n")
        self._head_end = head[-1:]
        self.ended = threading.Event()
        """The server ended the response (or the connection) before we shut it down."""
        self.thread = threading.Thread(target=self._run, name="ceiling-reader", daemon=True)

    def _run(self) -> None:
        if self.cpu is not None:
            os.sched_setaffinity(0, {int(self.cpu)})  # 0: this thread only
        buf = bytearray(1 << 20)
        last = self._head_end  # a line's `}` and `\n` may come in two reads
        try:
            while n := self.sock.recv_into(buf):
                self.lines += buf.count(b"}\n", 0, n) + (last == b"}" and buf[0] == 0x0A)
                last = bytes(buf[n - 1:n])
        except OSError:
            return  # the socket was shut down by us after the measurement
        self.ended.set()


def _open_watch(sim: Sim, *, timeout_s: int) -> tuple[socket.socket, bytes]:
    """A cluster-wide pod WATCH from the current revision on a raw socket; the socket and what
    followed the response headers in the read that ended them."""
    rv = sim.pods_resource_version()
    parts = urllib.parse.urlsplit(sim.url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    query = urllib.parse.urlencode({"watch": "true", "resourceVersion": rv, "timeoutSeconds": timeout_s})
    sock = socket.create_connection((host, port), timeout=timeout_s + 10)
    sock.sendall(f"GET /api/v1/pods?{query} HTTP/1.1\r\nHost: {host}:{port}\r\n"
                 f"Authorization: Bearer {SIM_TOKEN}\r\n\r\n".encode())
    got = b""
    while b"\r\n\r\n" not in got and len(got) < 1 << 16:
        more = sock.recv(1 << 16)
        if not more:
            break
        got += more
    head, sep, rest = got.partition(b"\r\n\r\n")
    if not sep or not head.startswith(b"HTTP/1.1 200"):
        sock.close()
        raise BenchError(f"the sim's pod WATCH did not answer 200: {head[:200]!r}")
    return sock, rest


def sim_ceiling(sim: Sim, *, rate: float, window: float, warmup: float, reader_cpu: str | None = None) -> Ceiling:
    """Events/s the sim delivers over a WATCH whose reader only counts lines.

    `reader_cpu`: pin the reader thread there (the exporter's CPU, idle meanwhile), so the reader
    does not share the sim's core."""
    timeout_s = int(warmup + window + 10)
    sock, head = _open_watch(sim, timeout_s=timeout_s)
    counter = _LineCounter(sock, head, cpu=reader_cpu)
    counter.thread.start()
    try:
        sim.set_churn(rate)
        time.sleep(warmup)
        e0, l0, c0, t0 = sim.churn_emitted(), counter.lines, cpu_seconds(sim.child.pid), time.monotonic()
        time.sleep(window)
        e1, l1, c1, t1 = sim.churn_emitted(), counter.lines, cpu_seconds(sim.child.pid), time.monotonic()
        closed_early = counter.ended.is_set()
    finally:
        try:
            sim.set_churn(0)
        finally:
            # Shut the socket down (recv_into then returns or raises) before closing it under the
            # reader's feet; the socket's timeout bounds the join anyway.
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            counter.thread.join(timeout=timeout_s + 10)
            sock.close()
    dt = t1 - t0
    return Ceiling(asked=rate, emitted=(e1 - e0) / dt, delivered=(l1 - l0) / dt, sim_cpu=(c1 - c0) / dt,
                   closed_early=closed_early)


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
        ceiling = sim_ceiling(sim, rate=result.ceiling_rate, window=window, warmup=warmup, reader_cpu=exporter_cpu)
        result.sim_ceiling = ceiling.delivered
        if log:
            print(f"  {ceiling.line()}", flush=True)
        floor_rate = result.median_max() or start
        result.floors = reader_floor.measure_floors(kids, sim, rate=floor_rate, window=window, warmup=warmup,
                                                    cpu=exporter_cpu)
        if log:
            print(f"  aiohttp readers on the exporter's core at {floor_rate:.0f}/s asked:", flush=True)
            for floor in result.floors.values():
                print(f"    {floor.line()}", flush=True)
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


def main(argv: list[str] | None = None) -> int:
    """The sim's own ceiling at each asked rate, with no exporter running."""
    p = argparse.ArgumentParser(description="the sim's churn ceiling to a line-counting reader")
    p.add_argument("--rates", default="100000,200000", help="churn rates asked, events/s (default 100000,200000)")
    p.add_argument("--pods", type=int, default=10_000, help="filler pods behind the churn (default 10000)")
    p.add_argument("--window", type=float, default=5.0, help="seconds measured per rate (default 5)")
    p.add_argument("--warmup", type=float, default=1.0, help="seconds of churn before the window (default 1)")
    p.add_argument("--timeout", type=float, default=120.0, help="deadline of the sim's start (default 120)")
    a = p.parse_args(argv)
    try:
        rates = [float(r) for r in a.rates.split(",") if r.strip()]
    except ValueError:
        p.error(f"--rates expects comma-separated events/s, got {a.rates!r}")
    reader_cpu, sim_cpu, pinning = cpu_plan()
    workdir = Path(tempfile.mkdtemp(prefix="crashloop-ceiling-"))
    print(f"sim churn ceiling: {a.pods} filler pods; {pinning} (the reader takes the exporter's CPU); "
          f"workdir {workdir}", flush=True)
    with children(workdir) as kids:
        try:
            sim = start_sim(kids, sim_argv(filler_pods=a.pods, kubeconfig_out=workdir / "ceiling.kubeconfig"),
                            cpu=sim_cpu, timeout=a.timeout)
            for rate in rates:
                ceiling = sim_ceiling(sim, rate=rate, window=a.window, warmup=a.warmup, reader_cpu=reader_cpu)
                print(ceiling.line(), flush=True)
        except BenchError as e:
            print(f"benchmark failed: {e}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
