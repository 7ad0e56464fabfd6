"""Fixtures of the end-to-end tests: real Prometheus and Alertmanager, webhook receiver, fake
kube-state-metrics, and the exporter running against the simulator.

Reusable by other e2e tests (dashboards): every fixture stops what it started, and the factories
take the same arguments as the `harness` classes, e.g.

    def test_panels(prometheus_factory, exporter_factory, tmp_path):
        exporter = exporter_factory(scenarios=["oomkilled"])
        prom = prometheus_factory(scrape_configs=[scrape_config("crashloop-exporter", exporter.metrics_address)])
        prom.query("cause:crashloop_crashes:rate5m")
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.harness import Alertmanager, ExporterUnderTest, FakeKubeStateMetrics, Prometheus, WebhookReceiver


@pytest.fixture
def webhook_receiver() -> Iterator[WebhookReceiver]:
    """Records Alertmanager notifications per receiver (path = receiver name)."""
    receiver = WebhookReceiver()
    receiver.start()
    yield receiver
    receiver.stop()


@pytest.fixture
def fake_ksm() -> Iterator[FakeKubeStateMetrics]:
    """A kube-state-metrics stand-in serving restarts and pod phases the test sets."""
    ksm = FakeKubeStateMetrics()
    ksm.start()
    yield ksm
    ksm.stop()


@pytest.fixture
def prometheus_factory(tmp_path: Path) -> Iterator[Callable[..., Prometheus]]:
    """Start Prometheus instances (arguments of `Prometheus.start`); all stopped at teardown."""
    started: list[Prometheus] = []

    def start(**kwargs: Any) -> Prometheus:
        prom = Prometheus.start(tmp_path / f"prometheus-{len(started)}", **kwargs)
        started.append(prom)
        return prom

    yield start
    for prom in started:
        prom.stop()


@pytest.fixture
def alertmanager_factory(tmp_path: Path) -> Iterator[Callable[..., Alertmanager]]:
    """Start Alertmanager instances (arguments of `Alertmanager.start`); all stopped at teardown."""
    started: list[Alertmanager] = []

    def start(**kwargs: Any) -> Alertmanager:
        am = Alertmanager.start(tmp_path / f"alertmanager-{len(started)}", **kwargs)
        started.append(am)
        return am

    yield start
    for am in started:
        am.stop()


@pytest.fixture
def exporter_factory(tmp_path: Path) -> Iterator[Callable[..., ExporterUnderTest]]:
    """Start `sim` + `serve` pairs (arguments of `ExporterUnderTest.start`); all stopped at teardown."""
    started: list[ExporterUnderTest] = []

    def start(**kwargs: Any) -> ExporterUnderTest:
        exporter = ExporterUnderTest.start(tmp_path / f"exporter-{len(started)}", **kwargs)
        started.append(exporter)
        return exporter

    yield start
    for exporter in started:
        exporter.stop()
