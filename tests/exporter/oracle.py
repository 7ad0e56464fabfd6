"""The production `/metrics` path for tests, and prometheus-client's generic rendering as its oracle.

`serve` renders the per-container families with `FastRenderer` (cached lines) and the health
families through prometheus-client. The oracle renders the same `families` table entries through
prometheus-client's own families and encoders, so a test can pin the fast path's escaping, number
formatting and headers to the client's byte for byte. The oracle is test code only: production has
one path.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry
from prometheus_client.core import Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector

from crashloop_exporter.families import CRASHES, FINDING_FAMILIES
from crashloop_exporter.serve.collector import HealthCollector, StatsSnapshot
from crashloop_exporter.serve.exposition import FastRenderer
from crashloop_exporter.state import ClusterState


def health_registry(state: ClusterState, stats: Callable[[], StatsSnapshot] = dict) -> CollectorRegistry:
    """The health families' registry, as `serve` builds it (without the process collector)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(HealthCollector(state, stats=stats))
    return registry


def fast_renderer(state: ClusterState, stats: Callable[[], StatsSnapshot] = dict) -> FastRenderer:
    """The renderer `serve` puts behind /metrics."""
    return FastRenderer(state, health_registry(state, stats))


class ContainerFamiliesOracle(Collector):
    """The table's container families as prometheus-client families (the generic, slow path)."""

    def __init__(self, state: ClusterState) -> None:
        self._state = state

    def collect(self) -> Iterator[Metric]:
        state = self._state
        state.tick()
        crashes = CRASHES.metric()
        for key, value in sorted(state.crashes.snapshot(now=state.now())):
            crashes.add_metric(list(key), value)
        yield crashes
        findings = sorted(state.all_findings(), key=lambda f: (f.namespace, f.pod, f.container))
        for family in FINDING_FAMILIES:
            metric = family.metric()
            for f in findings:
                sample = family.sample(f)
                if sample is not None:
                    metric.add_metric(list(sample[0]), sample[1])
            yield metric


def generic_exposition(state: ClusterState, accept: str = "", stats: Callable[[], StatsSnapshot] = dict) -> str:
    """Every family through prometheus-client's encoder for `accept`."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ContainerFamiliesOracle(state))
    registry.register(HealthCollector(state, stats=stats))
    encoder, _ = choose_encoder(accept)
    return encoder(registry).decode()
