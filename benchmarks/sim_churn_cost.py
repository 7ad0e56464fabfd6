"""The sim's own cost per churn event, in-process: what bounds the rate the churn benchmark can ask.

`Churn.bump` (the writes, their history and the watcher's queue) and then the watch stream's
batching of the queued events into lines (`SimServer._next_batch`: the render of each ~6 KB pod),
timed apart, per event, over `--events` events to one cluster-wide watcher, once the history
is full (the steady state of a long churn); with the peak RSS of holding `--pods` filler pods
and that history. No sockets: the figure is the sim's CPU per
event before the kernel's share, to compare with `churn_bench.py --rates` (the same over HTTP).

    taskset -c 1 .venv/bin/python benchmarks/sim_churn_cost.py [--pods 10000] [--events 200000]
"""

from __future__ import annotations

import argparse
import resource
import sys
import time

from crashloop_exporter.sim import SimCluster, SimServer
from crashloop_exporter.sim.store import Filter, Watcher

BATCH = 2000
"""Events bumped per step: about one 20 ms churn tick at 100k/s."""


def _max_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(*, pods: int, events: int, shape: str) -> str:
    t = time.perf_counter()
    cluster = SimCluster(scenarios=[], filler_pods=pods, filler_shape=shape)
    built = f"{pods} {shape} filler pods built in {time.perf_counter() - t:.1f}s, peak RSS {_max_rss_mib():.0f} MiB"
    server = SimServer(cluster)
    coll = cluster.store["pods"]
    watcher = Watcher(coll, Filter(), [])
    coll.watchers.add(watcher)

    def drain() -> int:
        size = 0
        while True:
            batch, _ = server._next_batch(coll.kind, watcher, initial_pending=False, initial_end=False)
            if not batch:
                return size
            size += len(b"".join(batch))

    # Fill the history first: until it holds `history_limit` changes every write adds objects
    # (and the cyclic GC runs ever longer); a long churn runs at the steady state after it.
    for _ in range(0, cluster.store.history_limit, BATCH):
        cluster.churn.bump(BATCH)
        drain()
    bump_s = drain_s = 0.0
    size = done = 0
    while done < events:
        t0 = time.perf_counter()
        cluster.churn.bump(BATCH)
        t1 = time.perf_counter()
        size += drain()
        t2 = time.perf_counter()
        bump_s, drain_s, done = bump_s + t1 - t0, drain_s + t2 - t1, done + BATCH
    total = bump_s + drain_s
    return (f"{built}\n{done} events: bump {1e6 * bump_s / done:.2f} us/event, queued events to lines "
            f"{1e6 * drain_s / done:.2f} us/event, total {1e6 * total / done:.2f} us/event ({done / total:.0f}/s), "
            f"{size / done:.0f} B/event; peak RSS {_max_rss_mib():.0f} MiB")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--pods", type=int, default=10_000, help="filler pods (default 10000)")
    p.add_argument("--events", type=int, default=200_000, help="churn events timed (default 200000)")
    p.add_argument("--shape", default="realistic", help="filler shape (default realistic)")
    a = p.parse_args(argv)
    print(measure(pods=a.pods, events=a.events, shape=a.shape))
    return 0


if __name__ == "__main__":
    sys.exit(main())
