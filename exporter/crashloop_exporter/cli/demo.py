"""`crashloop-exporter demo`: the exporter against a built-in simulated cluster, no cluster needed.

It starts the Kubernetes API simulator (real HTTP, the apiserver's wire format) with scenario pods
crashing for every cause in the catalog, runs the real exporter against it through a kubeconfig,
prints where `/metrics` and `/causes` are, and keeps a live table of the causes on the terminal.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from crashloop_exporter.catalog import CAUSES
from crashloop_exporter.cli.flags import add_setting_flags, csv, settings_from_args
from crashloop_exporter.errors import InputError
from crashloop_exporter.settings import DEFAULT_PORT

DEFAULT_DEMO_ADDRESS = f"127.0.0.1:{DEFAULT_PORT}"
"""Loopback: the demo serves on a laptop, where the world need not reach it."""
DEMO_FIELDS = ("listen_address", "new_series_holdback", "rules_file", "no_logs", "log_tail_lines", "log_limit_bytes")
"""The `serve` flags that make sense against the simulator; its own cluster flags would point elsewhere."""
DEMO_DEFAULTS = {"listen_address": DEFAULT_DEMO_ADDRESS, "new_series_holdback": 15.0}
"""A shorter hold-back than serve's, so a new user sees counters move within seconds."""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "demo",
        help="run the exporter against a built-in simulated cluster (no cluster needed)",
        description=__doc__,
    )
    parser.add_argument(
        "--time-scale",
        type=float,
        default=30.0,
        metavar="F",
        help="compress kubelet timings F times (default 30: the 10 s back-off takes 0.33 s)",
    )
    parser.add_argument("--scenarios", default="", metavar="A,B", help="only these simulator scenarios (default all)")
    parser.add_argument(
        "--duration",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="stop after this long (default: run until Ctrl-C)",
    )
    parser.add_argument("--refresh", type=float, default=5.0, metavar="SECONDS", help="table refresh (default 5)")
    add_setting_flags(parser, DEMO_FIELDS, defaults=DEMO_DEFAULTS)
    parser.add_argument("--no-table", action="store_true", help="print the endpoints only, no live table")
    parser.set_defaults(func=run)


def causes_table(findings: list[tuple[str, str, bool]], crashes: Counter[str]) -> str:
    """A fixed-width table: cause, failing containers now, crashes counted, one example pod."""
    failing = Counter(cause for cause, _, is_failing in findings if is_failing)
    example: dict[str, str] = {}
    for cause, pod, is_failing in findings:
        if is_failing:
            example.setdefault(cause, pod)
    rows = [f"{'CAUSE':<28} {'FAILING':>7} {'CRASHES':>8}  EXAMPLE"]
    for c in CAUSES:
        if failing[c.id] or crashes[c.id]:
            rows.append(f"{c.id:<28} {failing[c.id]:>7} {int(crashes[c.id]):>8}  {example.get(c.id, '')}")
    seen = sum(1 for c in CAUSES if failing[c.id] or crashes[c.id])
    rows.append(f"{seen} of {len(CAUSES)} causes seen")
    return "\n".join(rows)


def run(args: argparse.Namespace) -> int:
    settings_from_args(args)  # bad flags fail before the simulator starts
    if args.time_scale <= 0:
        raise InputError(f"--time-scale {args.time_scale}: must be positive")
    from crashloop_exporter.logsetup import setup_logging

    setup_logging(level="warning", fmt="text")
    asyncio.run(_demo(args))  # a taken --listen-address is an InputError from `serve`, as for `serve` itself
    return 0


async def _demo(args: argparse.Namespace) -> None:
    from crashloop_exporter.app import Exporter, serve
    from crashloop_exporter.kube import load_credentials
    from crashloop_exporter.sim import SimCluster, SimServer

    scenarios = list(csv(args.scenarios)) or None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    with tempfile.TemporaryDirectory(prefix="crashloop-demo-") as tmp:
        cluster = SimCluster(scenarios=scenarios, time_scale=args.time_scale)
        async with SimServer(cluster, host="127.0.0.1", port=0) as sim:
            kubeconfig = sim.write_kubeconfig(Path(tmp) / "kubeconfig")
            credentials = await asyncio.to_thread(load_credentials, kubeconfig=str(kubeconfig))
            settings = settings_from_args(args, kubeconfig=str(kubeconfig), log_fetch_rate=50.0)
            started: list[Exporter] = []
            server = asyncio.create_task(serve(settings, stop=stop, credentials=credentials, on_ready=started.append))
            while not started and not server.done():
                await asyncio.sleep(0.05)
            if server.done():
                await server  # re-raises the start-up error (e.g. the port is taken)
                return
            exporter = started[0]
            print(f"simulated Kubernetes API: {sim.url} (kubeconfig {kubeconfig}, kubectl works against it)")
            print(f"metrics:  {exporter.url}/metrics")
            print(f"causes:   {exporter.url}/causes")
            print(f"health:   {exporter.url}/healthz  {exporter.url}/readyz", flush=True)
            deadline = time.monotonic() + args.duration if args.duration > 0 else None
            try:
                while not stop.is_set():
                    if deadline is not None and time.monotonic() >= deadline:
                        break
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), timeout=args.refresh)
                    if not args.no_table:
                        _print_table(exporter)
            finally:
                stop.set()
                await server


def _print_table(exporter: object) -> None:
    from crashloop_exporter.app import Exporter

    assert isinstance(exporter, Exporter)
    state = exporter.state
    findings = [(f.cause, f"{f.namespace}/{f.pod}", f.failing) for f in state.all_findings()]
    crashes: Counter[str] = Counter()
    for key, value in state.crashes.snapshot(now=state.now(), include_pending=True):
        crashes[key.cause] += int(value)
    table = causes_table(findings, crashes)
    if sys.stdout.isatty():
        print("\x1b[2J\x1b[H", end="")
    print(f"\n{time.strftime('%H:%M:%S')}  crashloop-exporter demo  (Ctrl-C to stop)\n{table}", flush=True)
