"""Benchmark 3: `/metrics` render time with N failing containers.

In-process first, because it isolates the render from HTTP and scheduling noise: a real
`ClusterState` is fed N CrashLoopBackOff pods through the watch handler protocol (relist, then
one MODIFIED restart each so crashes_total series exist too), and `/metrics` is rendered the way
`serve` renders it: `exposition.FastRenderer` (cached per-pod lines for the container families,
prometheus-client for the health families). Side by side, the generic path (the same `families`
table entries through `prometheus_client.generate_latest`, the tests' oracle in
`tests/exporter/oracle.py`) is timed on the same state, as the reference the fast path replaced.
Then, over real HTTP, a `serve` process synced on the same pods from `failing_sim.py` is scraped
plainly and the way Prometheus scrapes (OpenMetrics accepted, gzip).
"""

from __future__ import annotations

import cProfile
import io
import pstats
import signal
import statistics
import time
from dataclasses import dataclass, field

from benchlib import BenchError, Children, failing_sim_argv, start_exporter, start_sim, timed_get, wait_for, wait_ready
from failing_pods import failing_pod
from prometheus_client import CollectorRegistry, generate_latest
from tests.exporter.oracle import ContainerFamiliesOracle

from crashloop_exporter.classify import DEFAULT_RULES
from crashloop_exporter.kube.stats import RESOURCES, WatchStats
from crashloop_exporter.serve.app import stats_families
from crashloop_exporter.serve.collector import HealthCollector
from crashloop_exporter.serve.exposition import FastRenderer
from crashloop_exporter.settings import Settings
from crashloop_exporter.state import ClusterState

PROMETHEUS_ACCEPT = ("application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,"
                     "text/plain;version=0.0.4;q=0.5,*/*;q=0.1")
"""What Prometheus 2.x sends when it scrapes."""


@dataclass
class RenderResult:
    failing: int
    build_s: float = 0.0
    """Feeding the state: relist of every pod plus one MODIFIED restart each."""
    series: int = 0
    body_bytes: int = 0
    renders_s: list[float] = field(default_factory=list)
    generic_s: list[float] = field(default_factory=list)
    """The same state through prometheus_client.generate_latest alone (the reference)."""
    http_series: int | None = None
    http_plain_s: list[float] = field(default_factory=list)
    http_prom_s: list[float] = field(default_factory=list)
    http_plain_bytes: int = 0
    http_prom_bytes: int = 0
    http_error: str | None = None

    def render_median(self) -> float | None:
        return statistics.median(self.renders_s) if self.renders_s else None

    def generic_median(self) -> float | None:
        return statistics.median(self.generic_s) if self.generic_s else None

    def http_plain_median(self) -> float | None:
        return statistics.median(self.http_plain_s) if self.http_plain_s else None

    def http_prom_median(self) -> float | None:
        return statistics.median(self.http_prom_s) if self.http_prom_s else None


def build_registry(failing: int) -> tuple[CollectorRegistry, ClusterState, float]:
    """The generic (oracle) registry over a ClusterState holding `failing` failing pods;
    (registry, state, build seconds)."""
    settings = Settings(no_logs=True, new_series_holdback=0.0)
    state = ClusterState(settings=settings, rules=DEFAULT_RULES)
    stats = WatchStats()
    for resource in RESOURCES:
        stats.register(resource, resource)
        stats.mark_synced(resource, resource)
    now = time.time()
    t0 = time.perf_counter()
    state.relist_begin("pods")
    for i in range(failing):
        state.relist_item("pods", failing_pod(i, now=now))
    state.relist_end("pods")
    for i in range(failing):
        state.event("pods", "MODIFIED", failing_pod(i, restarts=6, now=now))
    build_s = time.perf_counter() - t0
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ContainerFamiliesOracle(state))
    registry.register(HealthCollector(state, stats=lambda: stats_families(stats.snapshot())))
    return registry, state, build_s


def count_series(text: str, prefix: str = "") -> int:
    return sum(1 for line in text.splitlines() if line and not line.startswith("#") and line.startswith(prefix))


def bench_render(*, failing: int, renders: int) -> RenderResult:
    registry, state, build_s = build_registry(failing)
    result = RenderResult(failing, build_s=build_s)
    failing_now = sum(1 for f in state.all_findings() if f.failing)
    if failing_now != failing:
        raise BenchError(f"expected {failing} failing containers in the state, found {failing_now}")
    health = CollectorRegistry(auto_describe=False)
    health.register(HealthCollector(state, stats=dict))
    renderer = FastRenderer(state, health)
    body, _ = renderer.render("")  # warm-up (fills the line cache, as the first scrape does)
    result.body_bytes = len(body)
    result.series = count_series(body.decode())
    for _ in range(renders):
        t0 = time.perf_counter()
        renderer.render("")
        result.renders_s.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        generate_latest(registry)
        result.generic_s.append(time.perf_counter() - t0)
    return result


def profile_render(failing: int, *, top: int = 15) -> str:
    """cProfile of one generate_latest over `failing` failing pods: top functions by cumulative time."""
    registry, _, _ = build_registry(failing)
    generate_latest(registry)
    prof = cProfile.Profile()
    prof.enable()
    generate_latest(registry)
    prof.disable()
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(top)
    return out.getvalue()


def bench_http(kids: Children, result: RenderResult, *, scrapes: int, cpus: tuple[str | None, str | None],
               timeout: float) -> None:
    """Scrape a real `serve` synced on `result.failing` failing pods served by failing_sim.py."""
    exporter_cpu, sim_cpu = cpus
    n = result.failing
    sim = start_sim(kids, failing_sim_argv(pods=n, kubeconfig_out=kids.workdir / f"failing-{n}.kubeconfig"),
                    cpu=sim_cpu, timeout=timeout, name="failing-sim")
    try:
        exp = start_exporter(kids, kubeconfig=sim.kubeconfig, cpu=exporter_cpu)
        try:
            wait_ready(exp, timeout=timeout)
            # One more restart of every pod, so every workload has a crashes_total series as well.
            sim.child.proc.send_signal(signal.SIGUSR1)

            def crashes_seen() -> int | None:
                got = count_series(exp.metrics(), "crashloop_crashes_total{")
                return got if got >= n // 2 else None

            wait_for(crashes_seen, timeout=timeout, what="crashes_total series for every workload", interval=0.5,
                     alive=exp.child.check_alive)
            text = exp.metrics()
            result.http_series = count_series(text)
            failing_series = count_series(text, "crashloop_container_failing{")
            if failing_series != n:
                raise BenchError(f"the exporter shows {failing_series} failing series, expected {n}")
            url = f"{exp.url}/metrics"
            for _ in range(scrapes):
                dt, size = timed_get(url, headers={"Accept": "text/plain"}, timeout=timeout)
                result.http_plain_s.append(dt)
                result.http_plain_bytes = size
                dt, size = timed_get(url, headers={"Accept": PROMETHEUS_ACCEPT, "Accept-Encoding": "gzip"},
                                     timeout=timeout)
                result.http_prom_s.append(dt)
                result.http_prom_bytes = size
        finally:
            kids.stop(exp.child)
    finally:
        kids.stop(sim.child)
