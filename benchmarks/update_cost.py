"""Where one pod update's time goes, in-process: the budget behind the updates/s target.

At 100,000 updates/s one core has 10 us per update. This times, on the sim's realistic filler pods
(~6 KB of JSON each, as the churn benchmark sends them), each stage of the exporter's own code on
the path of one MODIFIED event, with medians of `runs` passes over `pods` lines:

- `scan`: msgspec reading a line with its object left as bytes (the floor of any decode of them);
- `frame`: `KubeClient._lines` splitting 64 KiB chunks into lines;
- `decode`: `decode_watch_line` with the pods decoder (line and object in one typed pass);
- `parse`: `parse_pod` of the decoded object into the record;
- `apply (unchanged)`: `ClusterState.event` (`parse` included) of an update that changes nothing a record holds (the
  churn benchmark's: resourceVersion, an annotation, the container ID);
- `apply (changed)`: the same for an update that flips the container's readiness.

The watch loop's own per-event work (counting, the handler call, the async generators) and
aiohttp's socket reads are not in these stages; the churn benchmark's CPU per update has them.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import msgspec

from crashloop_exporter import wire
from crashloop_exporter.classify import DEFAULT_RULES
from crashloop_exporter.kube.client import KubeClient, decode_watch_line
from crashloop_exporter.parse import parse_pod
from crashloop_exporter.settings import Settings
from crashloop_exporter.sim.cluster import SimCluster
from crashloop_exporter.sim.filler import FillerPod
from crashloop_exporter.state.cluster import ClusterState

BUDGET_US = 10.0
"""One core's time per update at the 100,000 updates/s target."""
CHUNK = 64 * 1024


@dataclass
class CostResult:
    pods: int
    line_bytes: int
    stages: dict[str, float] = field(default_factory=dict)
    """Median microseconds per update, by stage."""

    def path_us(self, *, changed: bool) -> float:
        """frame + decode + parse + apply: one update through the exporter's code."""
        apply = self.stages["apply (changed)" if changed else "apply (unchanged)"]
        return self.stages["frame"] + self.stages["decode"] + apply


class _Chunks:
    """Stands in for aiohttp's response: `content.readany()` returns the body's chunks in order
    (sliced beforehand: slicing 60 MB is not the framing's cost)."""

    def __init__(self, chunks: list[bytes]) -> None:
        self._chunks = chunks[::-1]
        self.content = self

    async def readany(self) -> bytes:
        return self._chunks.pop() if self._chunks else b""


def _median_us(fn: Callable[[Any], Any], items: list[Any], runs: int) -> float:
    """Median microseconds of `fn(item)` over `items`; results are dropped at once, as the
    exporter drops a line once applied (kept in a list, they would make the timing GC's)."""
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        for item in items:
            fn(item)
        times.append(time.perf_counter() - t0)
    return 1e6 * statistics.median(times) / len(items)


def _frame(client: KubeClient, chunks: list[bytes]) -> int:
    async def count() -> int:
        lines: AsyncIterator[bytes] = client._lines(_Chunks(chunks), path="/api/v1/pods",  # type: ignore[arg-type]
                                                    inactivity_timeout=60.0)
        return sum([1 async for _ in lines])

    return asyncio.run(count())


def bench_update_cost(*, pods: int = 10_000, runs: int = 5) -> CostResult:
    cluster = SimCluster(scenarios=None, filler_pods=pods, seed=0)
    filler = [o for o in cluster.store["pods"].objects.values() if isinstance(o, FillerPod)]
    listed = [o.to_bytes() for o in filler]
    touched = [o.bumped(o.rv + 1).to_bytes() for o in filler]
    unready = [t.replace(b'"ready":true', b'"ready":false', 1) for t in touched]
    lines = [b'{"type":"MODIFIED","object":' + t + b"}" for t in touched]
    result = CostResult(pods, int(statistics.median(map(len, lines))))
    decoder = wire.LINES["pods"]
    scan = wire.WATCH_LINE
    result.stages["scan"] = _median_us(scan.decode, lines, runs)
    client = KubeClient.__new__(KubeClient)
    client._max_line_bytes = 16 * 1024 * 1024
    body = b"\n".join(lines) + b"\n"
    chunks = [body[i:i + CHUNK] for i in range(0, len(body), CHUNK)]
    result.stages["frame"] = _median_us(lambda c: _frame(client, c), [chunks], runs) / pods
    result.stages["decode"] = _median_us(lambda ln: decode_watch_line(ln, decoder), lines, runs)
    objects = [e[1] for ln in lines if (e := decode_watch_line(ln, decoder)) is not None]
    result.stages["parse"] = _median_us(parse_pod, objects, runs)
    changed = [wire.POD.decode(u) for u in unready]

    def apply(updates: list[Any]) -> float:
        times = []
        for _ in range(runs):
            state = ClusterState(settings=Settings(no_logs=True), rules=DEFAULT_RULES)
            state.relist_begin("pods")
            for raw in listed:
                state.relist_item("pods", msgspec.Raw(raw))
            state.relist_end("pods")
            t0 = time.perf_counter()
            for obj in updates:
                state.event("pods", "MODIFIED", obj)
            times.append(time.perf_counter() - t0)
        return 1e6 * statistics.median(times) / pods

    result.stages["apply (unchanged)"] = apply(objects)
    result.stages["apply (changed)"] = apply(changed)
    return result


def print_update_cost(r: CostResult) -> None:
    print(f"\n== 2b. one pod update in-process ({r.pods} realistic pods, {r.line_bytes} B a watch line; "
          f"budget {BUDGET_US:g} us at 100,000/s) ==")
    for stage, us in r.stages.items():
        print(f"  {stage:<20} {us:7.2f} us")
    for changed in (False, True):
        total = r.path_us(changed=changed)
        what = "changed" if changed else "unchanged"
        print(f"  frame+decode+apply ({what}): {total:.2f} us = at most {1e6 / total:,.0f} updates/s "
              "before the watch loop and socket reads")


def summary_rows(r: CostResult) -> list[tuple[str, str, str, str]]:
    return [
        ("  (in-process us per update: scan floor; frame+decode+apply unchanged/changed)",
         f"{r.stages['scan']:.1f}; {r.path_us(changed=False):.1f}/{r.path_us(changed=True):.1f}", "info", "-"),
    ]


if __name__ == "__main__":
    print_update_cost(bench_update_cost())
