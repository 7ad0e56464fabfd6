"""`crashloop-exporter demo`: the exporter against a built-in simulated cluster, no cluster needed.

It starts the Kubernetes API simulator (real HTTPS with a CA made at start, the apiserver's wire
format) with scenario pods crashing for every cause in the catalog, runs the real exporter against
it through a kubeconfig that trusts that CA (so kubectl works on it too: kubectl sends a bearer
token only over TLS), and keeps a live table of the causes on the terminal whose header repeats
where `/metrics`, `/causes` and the kubeconfig are.
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
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from crashloop_exporter.catalog import CAUSES
from crashloop_exporter.cli.flags import add_setting_flags, bounded_number, csv, settings_from_args
from crashloop_exporter.findings import Finding
from crashloop_exporter.render import paint_severity, use_color
from crashloop_exporter.settings import DEFAULT_PORT, Bounds

DEFAULT_DEMO_ADDRESS = f"127.0.0.1:{DEFAULT_PORT}"
"""Loopback: the demo serves on a laptop, where the world need not reach it."""
DEMO_FIELDS = ("listen_address", "new_series_holdback", "rules_file", "no_logs", "log_tail_lines", "log_limit_bytes")
"""The `serve` flags that make sense against the simulator; its own cluster flags would point elsewhere."""
DEMO_DEFAULTS = {"listen_address": DEFAULT_DEMO_ADDRESS, "new_series_holdback": 15.0}
"""A shorter hold-back than serve's, so a new user sees counters move within seconds."""
TIME_SCALE = Bounds(0.1, 1000.0)
"""Past 1000x the simulated kubelet's back-offs are shorter than one watch round trip."""
DURATION = Bounds(0.0, 7 * 86400.0, "seconds")
"""A week at most: a demo is not a service (0 runs until Ctrl-C)."""
REFRESH = Bounds(0.2, 3600.0, "seconds")

DESCRIPTION = """\
Run the real exporter against a built-in simulated Kubernetes cluster, no cluster needed.

The simulated API server (HTTPS with a CA made at start, a bearer token, the apiserver's wire format)
runs pods that crash for every cause in the catalog. The exporter watches it through a kubeconfig
that kubectl can use too, serves /metrics and /causes, and a table of the causes it sees is
refreshed on the terminal."""

EPILOG = """\
examples:
  crashloop-exporter demo
  crashloop-exporter demo --duration 120 --no-table
  kubectl --kubeconfig KUBECONFIG get pods -A      # KUBECONFIG: the path the demo prints"""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "demo",
        help="run the exporter against a built-in simulated cluster (no cluster needed)",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--time-scale",
        type=bounded_number(TIME_SCALE),
        default=30.0,
        metavar="F",
        help=f"compress the simulated kubelet's timings F times (default 30: the 10 s back-off takes 0.33 s; "
        f"{TIME_SCALE.describe()})",
    )
    parser.add_argument("--scenarios", default="", metavar="A,B",
                        help="only these scenarios (default all; `crashloop-exporter sim --list-scenarios` lists them)")
    parser.add_argument(
        "--duration",
        type=bounded_number(DURATION),
        default=0.0,
        metavar="SECONDS",
        help=f"stop after this long (default 0: run until Ctrl-C; {DURATION.describe()})",
    )
    parser.add_argument("--refresh", type=bounded_number(REFRESH), default=5.0, metavar="SECONDS",
                        help=f"seconds between table refreshes (default 5; {REFRESH.describe()})")
    add_setting_flags(parser, DEMO_FIELDS, defaults=DEMO_DEFAULTS)
    parser.add_argument("--no-table", action="store_true", help="print the endpoints once, no live table")
    parser.add_argument("--plain-http", action="store_true",
                        help="serve the simulated API over plain HTTP (kubectl then sends no token and gets 401)")
    parser.set_defaults(func=run)


@dataclass(frozen=True, slots=True)
class Endpoints:
    """What the header of every table refresh repeats, so it never scrolls out of sight."""

    metrics: str
    causes: str
    kubeconfig: str

    def header(self) -> str:
        return "\n".join((
            f"metrics:    {self.metrics}",
            f"causes:     {self.causes}",
            f"kubeconfig: {self.kubeconfig}   (kubectl --kubeconfig {self.kubeconfig} get pods -A)",
        ))


@dataclass(frozen=True, slots=True)
class Seen:
    """One finding as the table needs it."""

    cause: str
    pod: str
    """`namespace/pod`."""
    failing: bool


def causes_table(findings: Iterable[Seen], crashes: Counter[str], *, examples: dict[str, str] | None = None,
                 color: bool = False) -> str:
    """A fixed-width table: cause, failing containers now, crashes counted, one example.

    The example is a failing pod of that cause, else any pod with that cause, else `examples`
    (the workload a crash was counted on), so a row never shows an empty cell. With `color`
    the cause is painted by its catalog severity."""
    failing: Counter[str] = Counter()
    example: dict[str, str] = {}
    fallback: dict[str, str] = dict(examples or {})
    for f in findings:
        if f.failing:
            failing[f.cause] += 1
            example.setdefault(f.cause, f.pod)
        else:
            fallback.setdefault(f.cause, f.pod)
    rows = [f"{'CAUSE':<28} {'FAILING':>7} {'CRASHES':>8}  EXAMPLE"]
    seen = 0
    for c in CAUSES:
        if not (failing[c.id] or crashes[c.id]):
            continue
        seen += 1
        cause = f"{c.id:<28}"
        if color:
            cause = paint_severity(c.severity, cause)
        shown = example.get(c.id) or fallback.get(c.id) or "-"
        rows.append(f"{cause} {failing[c.id]:>7} {int(crashes[c.id]):>8}  {shown}")
    rows.append(f"{seen} of {len(CAUSES)} causes seen")
    return "\n".join(rows)


def chain_notes(findings: Iterable[Finding]) -> list[str]:
    """One line per failing dependent whose dependency resolved: `ns/pod needs target →
    Kind/workload (cause)`, and `, root Kind/workload (cause)` when the chain goes further."""
    notes = []
    for f in sorted(findings, key=lambda f: (f.namespace, f.pod, f.container)):
        dep = f.dependency
        if dep is None or not f.failing:
            continue
        state = f"({dep.cause})" if dep.failing and dep.cause else "(healthy)"
        line = f"{f.namespace}/{f.pod} needs {dep.target} → {dep.workload_kind}/{dep.workload} {state}"
        if dep.root is not None:
            line += f", root {dep.root.workload_kind}/{dep.root.workload} ({dep.root.cause or 'healthy'})"
        notes.append(line)
    return notes


def run(args: argparse.Namespace) -> int:
    settings_from_args(args)  # bad flags fail before the simulator starts
    from crashloop_exporter.logsetup import setup_logging

    setup_logging(level="warning", fmt="text")
    asyncio.run(_demo(args))  # a taken --listen-address is an InputError from `serve`, as for `serve` itself
    return 0


async def _demo(args: argparse.Namespace) -> None:
    from crashloop_exporter.kube import load_credentials
    from crashloop_exporter.serve.app import Exporter, serve
    from crashloop_exporter.sim import SimCluster, SimServer

    scenarios = list(csv(args.scenarios)) or None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    with tempfile.TemporaryDirectory(prefix="crashloop-demo-") as tmp:
        cluster = SimCluster(scenarios=scenarios, time_scale=args.time_scale)
        async with SimServer(cluster, host="127.0.0.1", port=0, tls=not args.plain_http) as sim:
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
            endpoints = Endpoints(metrics=f"{exporter.url}/metrics", causes=f"{exporter.url}/causes",
                                  kubeconfig=str(kubeconfig))
            print(f"simulated Kubernetes API: {sim.url}")
            print(endpoints.header())
            print(f"health:     {exporter.url}/healthz  {exporter.url}/readyz", flush=True)
            deadline = time.monotonic() + args.duration if args.duration > 0 else None
            try:
                while not stop.is_set():
                    if deadline is not None and time.monotonic() >= deadline:
                        break
                    wait = args.refresh if deadline is None else min(args.refresh, deadline - time.monotonic())
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), timeout=max(wait, 0.0))
                    if not args.no_table and not stop.is_set():
                        _print_table(exporter, endpoints)
            finally:
                stop.set()
                await server


def _print_table(exporter: object, endpoints: Endpoints) -> None:
    from crashloop_exporter.serve.app import Exporter

    assert isinstance(exporter, Exporter)
    state = exporter.state
    findings = [Seen(f.cause, f"{f.namespace}/{f.pod}", f.failing) for f in state.all_findings()]
    crashes: Counter[str] = Counter()
    examples: dict[str, str] = {}
    for key, value in state.crashes.snapshot(now=state.now(), include_pending=True):
        crashes[key.cause] += int(value)
        examples.setdefault(key.cause, f"{key.namespace}/{key.workload_kind}/{key.workload}")
    tty = use_color(sys.stdout)
    table = causes_table(findings, crashes, examples=examples, color=tty)
    notes = chain_notes(state.all_findings())
    if notes:
        table += "\n\ndependency chains (fix the right-hand side first):\n" + "\n".join(f"  {n}" for n in notes)
    if tty:
        print("\x1b[2J\x1b[H", end="")
    print(f"\n{time.strftime('%H:%M:%S')}  crashloop-exporter demo  (Ctrl-C to stop)\n{endpoints.header()}\n\n{table}",
          flush=True)
