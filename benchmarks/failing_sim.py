"""The simulated apiserver with N pods in CrashLoopBackOff, for timing a real exporter's scrape.

`crashloop-exporter sim --filler-pods` only makes healthy pods, which produce no failing series.
This script builds the same `SimServer` with no scenarios and puts N failing pods (from
`failing_pods`) in its store, so a real `serve` process exposes N `crashloop_container_failing`
series. SIGUSR1 bumps every pod's restartCount by one (MODIFIED events), so the exporter also
grows a `crashloop_crashes_total` series per workload, as in a real incident; SIGTERM stops it.

Usage: python failing_sim.py --pods N --kubeconfig-out PATH   (prints `sim listening on URL ...`)
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time

from failing_pods import failing_pod
from sim_serve import serve_until_stopped

from crashloop_exporter.sim import SimCluster


def _bump(cluster: SimCluster, count: int, *, now: float) -> None:
    """Every failing pod crashed once more: restartCount + 1, as the kubelet would write it."""
    pods = cluster.store["pods"]
    for i in range(count):
        pods.put_dict(failing_pod(i, restarts=6, now=now))


async def _serve(*, pods: int, kubeconfig_out: str) -> None:
    cluster = SimCluster(scenarios=(), filler_pods=0)
    now = time.time()
    store = cluster.store["pods"]
    for i in range(pods):
        store.put_dict(failing_pod(i, now=now))
    await serve_until_stopped(cluster, kubeconfig_out=kubeconfig_out,
                              on_usr1=lambda: _bump(cluster, pods, now=time.time()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pods", type=int, required=True, help="pods in CrashLoopBackOff")
    parser.add_argument("--kubeconfig-out", required=True, metavar="PATH", help="write the sim's kubeconfig here")
    args = parser.parse_args(argv)
    asyncio.run(_serve(pods=args.pods, kubeconfig_out=args.kubeconfig_out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
