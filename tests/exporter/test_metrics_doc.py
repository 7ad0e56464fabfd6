"""docs/metrics.md is generated from the family table, and says exactly what a running exporter serves."""

from __future__ import annotations

import asyncio
import re
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from crashloop_exporter import artifacts
from crashloop_exporter.families import FAMILIES, FINDING_FAMILIES, Family, FindingFamily
from crashloop_exporter.kube import load_credentials
from crashloop_exporter.serve.app import Exporter, serve
from crashloop_exporter.settings import Settings
from crashloop_exporter.sim import SimCluster, SimServer

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "metrics.md"
DOC_ROW = re.compile(r"^\| `(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)` \| (?P<kind>\w+) \|", re.MULTILINE)
OPENMETRICS = "application/openmetrics-text; version=1.0.0"
START_TIMEOUT = 30.0
"""Seconds the in-process simulator and exporter may take to sync and classify a failing pod."""


def test_checked_in_page_equals_a_fresh_render() -> None:
    """docs/metrics.md is what the family table renders: regenerate with `make generate`."""
    assert artifacts.stale_files(ROOT, only=["metrics"]) == []


def test_table_names_follow_prometheus_conventions() -> None:
    """Family names are unique, counters (and only counters) end in `_total`, ours carry the prefix."""
    names = [f.name for f in FAMILIES]
    assert len(names) == len(set(names))
    for f in FAMILIES:
        assert f.name.endswith("_total") == (f.kind == "counter"), f.name
        assert f.name.startswith("crashloop_") == (f.group != "process"), f.name
        assert len(set(f.labels)) == len(f.labels), f.name
    assert all(f.group == "container" for f in FINDING_FAMILIES)


def test_a_finding_family_label_needs_a_value_getter() -> None:
    """A per-container family naming a label no finding field gives fails at import, not at scrape."""
    with pytest.raises(ValueError, match="no FINDING_LABELS entry for \\['node'\\]"):
        FindingFamily("crashloop_x", "gauge", "x", ("namespace", "node"), "container", value=lambda _: 1.0)


def _families(body: str) -> list[tuple[str, str, str]]:
    """(name, type, help) of each family in an exposition, in order."""
    helps = dict(re.findall(r"^# HELP (\S+) (.*)$", body, re.MULTILINE))
    return [(name, kind, helps[name]) for name, kind in re.findall(r"^# TYPE (\S+) (\S+)$", body, re.MULTILINE)]


def _expected(*, openmetrics: bool) -> list[tuple[str, str, str]]:
    """(name, type, help) of each table family the exporter serves here, in table order."""
    def name(f: Family) -> str:
        return f.name.removesuffix("_total") if openmetrics and f.kind == "counter" else f.name

    # prometheus-client's process collector reads /proc, so it serves nothing elsewhere.
    served = [f for f in FAMILIES if f.group != "process" or sys.platform.startswith("linux")]
    return [(name(f), f.kind, f.help) for f in served]


def _synced_and_failing(exporter: Exporter) -> bool:
    return exporter.stats.ready() and any(f.failing for f in exporter.state.all_findings())


@pytest.fixture
async def exporter(tmp_path: Path) -> AsyncIterator[Exporter]:
    """The real `serve` wiring against the in-process simulator, synced, with a failing container."""
    cluster = SimCluster(scenarios=["oomkilled", "missing-secret"], time_scale=30.0)
    async with SimServer(cluster, host="127.0.0.1", port=0) as sim:
        kubeconfig = sim.write_kubeconfig(tmp_path / "kubeconfig")
        credentials = await asyncio.to_thread(load_credentials, kubeconfig=str(kubeconfig))
        settings = Settings(listen_address="127.0.0.1:0", kubeconfig=str(kubeconfig), new_series_holdback=0.0)
        settings.validate()
        stop = asyncio.Event()
        started: list[Exporter] = []
        task = asyncio.create_task(serve(settings, stop=stop, credentials=credentials, on_ready=started.append))
        try:
            deadline = time.monotonic() + START_TIMEOUT
            while not (started and _synced_and_failing(started[0])):
                if task.done():
                    await task  # re-raises why serve stopped
                if time.monotonic() > deadline:
                    seen = [(f.pod, f.cause, f.failing) for f in started[0].state.all_findings()] if started else None
                    pytest.fail(f"no synced exporter with a failing container after {START_TIMEOUT}s; findings: {seen}")
                await asyncio.sleep(0.05)
            yield started[0]
        finally:
            stop.set()
            await task


@pytest.mark.parametrize("accept", ["", OPENMETRICS], ids=["text", "openmetrics"])
async def test_served_families_are_the_documented_ones(exporter: Exporter, accept: str) -> None:
    """Every family a running exporter serves is in docs/metrics.md and vice versa, with the table's type,
    help and order."""
    async with aiohttp.ClientSession() as http, http.get(f"{exporter.url}/metrics", headers={"Accept": accept}) as r:
        assert r.status == 200
        body = await r.text()
    served = _families(body)
    assert served == _expected(openmetrics=accept == OPENMETRICS)
    assert 'crashloop_container_failing{' in body
    if accept == "":
        documented = {m["name"]: m["kind"] for m in DOC_ROW.finditer(DOC.read_text(encoding="utf-8"))}
        if not sys.platform.startswith("linux"):
            documented = {n: k for n, k in documented.items() if not n.startswith("process_")}
        assert {name: kind for name, kind, _ in served} == documented
