"""The floor under the updates/s figure: what reading the sim's pod WATCH costs on one core before
the exporter does anything of its own.

A reader process, pinned to the exporter's CPU, opens the same WATCH the exporter opens, through
aiohttp with the session defaults `KubeClient` uses, and consumes the churn in one of two modes:

- `read`: `readany()` and a split into lines, nothing else (aiohttp's HTTP parsing and the kernel's
  socket reads: the cost of getting the bytes);
- `decode`: that, plus each line through the exporter's own typed decoder (`wire.LINES["pods"]`),
  its result dropped at once (the floor of any exporter that reads the pods it is sent).

It measures its own CPU (user and system, from `getrusage`) from its first event for `window`
seconds and prints one JSON line. At the rate the exporter was measured at, `1e6 / decode us` is the
most updates/s any exporter built on aiohttp and msgspec could sustain on this core.

    .venv/bin/python benchmarks/reader_floor.py --rate 50000 [--pods 10000] [--window 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from benchlib import (
    SIM_TOKEN,
    BenchError,
    Children,
    Sim,
    children,
    cpu_plan,
    sim_argv,
    start_sim,
    wait_for,
)

MODES = ("read", "decode")
WATCHING = "watching"
"""The reader's line once the WATCH answered: the churn may start."""


@dataclass(frozen=True)
class Floor:
    """One reader's figures over its window."""

    mode: str
    events: int
    seconds: float
    user_s: float
    sys_s: float

    @property
    def rate(self) -> float:
        """Events/s the reader consumed."""
        return self.events / self.seconds if self.seconds else 0.0

    @property
    def us_per_event(self) -> float | None:
        """CPU microseconds (user + system) per event."""
        return 1e6 * (self.user_s + self.sys_s) / self.events if self.events else None

    def line(self) -> str:
        us = self.us_per_event
        if us is None:
            return f"{self.mode:<6}: no event read"
        return (f"{self.mode:<6}: {self.rate:8.0f} events/s, {us:5.2f} us CPU per event "
                f"(user {1e6 * self.user_s / self.events:.2f}, system {1e6 * self.sys_s / self.events:.2f})")


# -- the reader process -------------------------------------------------------------------------


async def _read(url: str, rv: str, mode: str, window: float, warmup: float) -> dict[str, object]:
    import aiohttp

    from crashloop_exporter import wire

    decoder = wire.LINES["pods"]
    query = {"watch": "true", "resourceVersion": rv, "timeoutSeconds": str(int(warmup + window) + 60)}
    events, first, began, rest = 0, 0.0, 0.0, b""
    start = resource.getrusage(resource.RUSAGE_SELF)
    async with (
        aiohttp.ClientSession(headers={"Accept": "application/json"}) as session,
        session.get(f"{url}/api/v1/pods", params=query, headers={"Authorization": f"Bearer {SIM_TOKEN}"}) as resp,
    ):
        if resp.status != 200:
            raise BenchError(f"the sim's pod WATCH answered {resp.status}")
        print(WATCHING, flush=True)
        while True:
            chunk = await resp.content.readany()
            if not chunk:
                break
            now = time.monotonic()
            first = first or now
            if not began and now - first >= warmup:
                began, events, start = now, 0, resource.getrusage(resource.RUSAGE_SELF)
            lines = (rest + chunk if rest else chunk).split(b"\n")
            rest = lines.pop()
            if mode == "decode":
                for line in lines:
                    decoder.decode(line)
            events += len(lines)
            if began and now - began >= window:
                break
    end = resource.getrusage(resource.RUSAGE_SELF)
    return {"mode": mode, "events": events if began else 0, "seconds": time.monotonic() - began if began else 0.0,
            "user_s": end.ru_utime - start.ru_utime, "sys_s": end.ru_stime - start.ru_stime}


def _reader_main(url: str, rv: str, mode: str, window: float, warmup: float) -> int:
    print(json.dumps(asyncio.run(_read(url, rv, mode, window, warmup))), flush=True)
    return 0


# -- driving it ---------------------------------------------------------------------------------


def measure(kids: Children, sim: Sim, *, mode: str, rate: float, window: float, warmup: float,
            cpu: str | None) -> Floor:
    """One reader in `mode` while the sim churns at `rate`; its figures over `window` seconds
    after `warmup` seconds of churn."""
    reader = kids.start(f"floor-{mode}", [sys.executable, __file__, "--reader", sim.url, sim.pods_resource_version(),
                                          mode, str(window), str(warmup)], cpu=cpu)
    try:
        wait_for(lambda: WATCHING in reader.log_text() or None, timeout=30.0, what=f"the {mode} reader's WATCH",
                 alive=reader.check_alive)
        sim.set_churn(rate)
        try:
            wait_for(lambda: None if reader.alive() else True, timeout=window + warmup + 60.0,
                     what=f"the {mode} reader to finish its window")
        finally:
            sim.set_churn(0)
    finally:
        kids.stop(reader)
    lines = [ln for ln in reader.log_text().splitlines() if ln.startswith("{")]
    if not lines:
        raise BenchError(f"the {mode} reader printed no figures\n{reader.log_tail()}")
    doc = json.loads(lines[-1])
    return Floor(mode=mode, events=int(doc["events"]), seconds=float(doc["seconds"]), user_s=float(doc["user_s"]),
                 sys_s=float(doc["sys_s"]))


def measure_floors(kids: Children, sim: Sim, *, rate: float, window: float, warmup: float,
                   cpu: str | None) -> dict[str, Floor]:
    return {mode: measure(kids, sim, mode=mode, rate=rate, window=window, warmup=warmup, cpu=cpu) for mode in MODES}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["--reader"]:
        url, rv, mode, window, warmup = args[1:6]
        return _reader_main(url, rv, mode, float(window), float(warmup))
    p = argparse.ArgumentParser(description="what reading the pod WATCH costs on one core (aiohttp; + msgspec)")
    p.add_argument("--rate", type=float, default=50_000, help="churn rate asked of the sim, events/s (default 50000)")
    p.add_argument("--pods", type=int, default=10_000, help="filler pods behind the churn (default 10000)")
    p.add_argument("--window", type=float, default=5.0, help="seconds measured per mode (default 5)")
    p.add_argument("--warmup", type=float, default=1.0, help="seconds of churn before the window (default 1)")
    p.add_argument("--timeout", type=float, default=120.0, help="deadline of the sim's start (default 120)")
    a = p.parse_args(args)
    reader_cpu, sim_cpu, plan = cpu_plan()
    with tempfile.TemporaryDirectory(prefix="reader-floor-") as tmp, children(Path(tmp)) as kids:
        sim = start_sim(kids, sim_argv(filler_pods=a.pods, kubeconfig_out=Path(tmp) / "sim.kubeconfig"), cpu=sim_cpu,
                        timeout=a.timeout)
        print(f"reader floor at {a.rate:.0f} events/s asked ({plan}):")
        for floor in measure_floors(kids, sim, rate=a.rate, window=a.window, warmup=a.warmup,
                                    cpu=reader_cpu).values():
            print(f"  {floor.line()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
