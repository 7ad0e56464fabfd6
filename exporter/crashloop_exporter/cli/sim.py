"""`crashloop-exporter sim`: the simulated cluster, standalone.

Runs the fake kube-apiserver (`crashloop_exporter.sim`) until SIGTERM/SIGINT, writes a kubeconfig
for it, and prints exactly one line, `sim listening on URL kubeconfig=PATH`, so a test harness or
a person can start the exporter (or kubectl) against it. It serves HTTPS with a CA made at start
and written into the kubeconfig, because kubectl sends a bearer token only over TLS;
`--plain-http` is for tests that talk to the admin API with a bare HTTP client.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys

from crashloop_exporter.cli.flags import csv
from crashloop_exporter.errors import InputError
from crashloop_exporter.settings import parse_listen_address


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "sim",
        help="run the simulated Kubernetes API (scenario pods crashing for every cause)",
        description="Serve a simulated kube-apiserver whose pods crash for every cause in the catalog.",
    )
    p.add_argument("--listen", default="127.0.0.1:0", metavar="HOST:PORT",
                   help="address to serve on; port 0 picks a free one (default 127.0.0.1:0)")
    p.add_argument("--kubeconfig-out", metavar="PATH", help="write a kubeconfig for the sim here (required)")
    p.add_argument("--scenarios", type=csv, default=None, metavar="A,B",
                   help="only these scenarios (default: all; see --list-scenarios)")
    p.add_argument("--list-scenarios", action="store_true", help="print the scenario names and causes, then exit")
    p.add_argument("--time-scale", type=float, default=1.0, metavar="F",
                   help="compress kubelet timings: 30 makes a 10 s back-off take 0.33 s (default 1)")
    p.add_argument("--filler-pods", type=int, default=0, metavar="N",
                   help="add N healthy pods, to see the exporter on a big cluster")
    p.add_argument("--filler-shape", choices=("realistic", "small"), default="realistic",
                   help="filler pods as a real cluster serves them (~6 KB, default) or the older small ~4.5 KB shape")
    p.add_argument("--churn-rate", type=float, default=0.0, metavar="R",
                   help="MODIFIED filler-pod events per second (needs --filler-pods)")
    p.add_argument("--token", default="sim-token", help="bearer token clients must send (default sim-token)")
    p.add_argument("--no-auth", action="store_true", help="accept requests without a token")
    p.add_argument("--plain-http", action="store_true",
                   help="serve plain HTTP instead of HTTPS (kubectl then refuses to send the token: add --no-auth)")
    p.add_argument("--bookmark-interval", type=float, default=60.0, metavar="SECONDS",
                   help="BOOKMARK period on idle watches that ask for them (default 60)")
    p.add_argument("--seed", type=int, default=0, help="seed of generated names and ids (default 0)")
    p.add_argument("--replay-dump", action="append", default=[], metavar="PATH",
                   help="serve a recorded incident (`kubectl cluster-info dump` directory or stream) as live pods "
                        "that keep crashing like the kubelet restarts them; repeatable. With a replay and no "
                        "--scenarios, no scenario pods are added")
    p.add_argument("--replay-file", action="append", default=[], metavar="PATH",
                   help="the same for a `kubectl get pods,events -o yaml|json` file; repeatable")
    p.add_argument("--replay-cases", metavar="FILE",
                   help="the same for a JSON list of cases ({name, as_of, pods, events, nodes, logs})")
    p.add_argument("--replay-tick", type=float, default=1.0, metavar="SECONDS",
                   help="seconds between the replay's kubelet steps (restart, death, back-off); default 1")
    p.add_argument("--paused", action="store_true",
                   help="start with the clock stopped: nothing crashes until POST /_sim/resume")
    p.add_argument("--replay-cycles", type=int, default=0, metavar="N",
                   help="stop after N crashes of every looping container (default 0: never stop)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from crashloop_exporter.sim import SimCluster, load_scenario, scenario_names

    if args.list_scenarios:
        for name in scenario_names():
            s = load_scenario(name)
            pods = ", ".join(f"{p.namespace}/{p.name or p.owner.name}" for p in s.pods)
            print(f"{name:28} {s.cause or '-':28} {pods}")
        return 0
    if not args.kubeconfig_out:
        raise InputError("--kubeconfig-out PATH is required: the sim writes the kubeconfig clients use there")
    host, port = parse_listen_address(args.listen, flag="--listen")
    if args.time_scale <= 0:
        raise InputError(f"--time-scale must be > 0, got {args.time_scale}")
    if args.filler_pods < 0 or args.churn_rate < 0:
        raise InputError("--filler-pods and --churn-rate must be >= 0")
    if args.scenarios is not None:
        unknown = sorted(set(args.scenarios) - set(scenario_names()))
        if unknown:
            raise InputError(f"--scenarios: unknown scenario(s) {', '.join(unknown)}; known: "
                             f"{', '.join(scenario_names())}")
    if args.replay_tick <= 0 or args.replay_cycles < 0:
        raise InputError("--replay-tick must be > 0 and --replay-cycles >= 0")
    from crashloop_exporter.sim.replay import load_case, load_cases_file

    cases = [load_case(path, dump=path) for path in args.replay_dump]
    cases += [load_case(path, files=[path]) for path in args.replay_file]
    if args.replay_cases:
        cases += load_cases_file(args.replay_cases)
    scenarios = args.scenarios if args.scenarios is not None or not cases else []
    cluster = SimCluster(scenarios, time_scale=args.time_scale, filler_pods=args.filler_pods,
                         filler_shape=args.filler_shape, seed=args.seed,
                         churn_rate=args.churn_rate, replay=cases, replay_tick=args.replay_tick,
                         replay_cycles=args.replay_cycles)
    if args.paused:
        cluster.pause()
    asyncio.run(_serve(args, cluster, host=host, port=port))
    return 0


async def _serve(args: argparse.Namespace, cluster: object, *, host: str, port: int) -> None:
    from crashloop_exporter.serve.app import listen_error
    from crashloop_exporter.sim import SimCluster, SimServer

    assert isinstance(cluster, SimCluster)
    server = SimServer(cluster, host=host, port=port, token=None if args.no_auth else args.token,
                       tls=not args.plain_http, bookmark_interval=args.bookmark_interval)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await server.start()
    except OSError as e:
        await server.stop()
        raise listen_error(args.listen, e) from e
    try:
        try:
            path = server.write_kubeconfig(args.kubeconfig_out)
        except OSError as e:
            raise InputError(f"--kubeconfig-out {args.kubeconfig_out}: cannot write it "
                             f"({(e.strerror or str(e)).lower()})") from e
        print(f"sim listening on {server.url} kubeconfig={path}", flush=True)
        await stop.wait()
    finally:
        await server.stop()
        sys.stdout.flush()
