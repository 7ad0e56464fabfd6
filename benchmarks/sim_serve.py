"""Serve one benchmark's simulated cluster until told to stop: the shared tail of the sim scripts.

`failing_sim.py` and `many_containers.py` each fill a `SimCluster` their own way, then serve it the
same way: a loopback port the kernel picks, the kubeconfig written where the harness asked, the
`sim listening on URL kubeconfig=PATH` line the harnesses wait for, SIGUSR1 for the script's
crash wave, and SIGTERM/SIGINT to stop.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable

from crashloop_exporter.sim import SimCluster, SimServer

SIM_TOKEN = "sim-token"


async def serve_until_stopped(cluster: SimCluster, *, kubeconfig_out: str, on_usr1: Callable[[], object]) -> None:
    """Serve `cluster` until SIGTERM or SIGINT; SIGUSR1 runs `on_usr1` (the script's crash wave)."""
    server = SimServer(cluster, host="127.0.0.1", port=0, token=SIM_TOKEN)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    loop.add_signal_handler(signal.SIGUSR1, on_usr1)
    await server.start()
    try:
        path = server.write_kubeconfig(kubeconfig_out)
        print(f"sim listening on {server.url} kubeconfig={path}", flush=True)
        await stop.wait()
    finally:
        await server.stop()
