"""HTTP endpoints: /metrics negotiation, /healthz, /readyz gating, /causes schema and switch-off."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from crashloop_exporter.findings import JSON_KEYS
from crashloop_exporter.server import build_app
from tests.cli.kubeobjects import FINDING_KEYS

from .oracle import fast_renderer
from .podgen import crashing
from .test_state import initial_list, make_state

SCHEMA = FINDING_KEYS  # written out in the test helpers, not read from the product


async def _client(*, synced: list[str], causes: bool = True) -> TestClient[Any, Any]:
    state, _, _ = make_state()
    initial_list(state, crashing("api-1", 2, exit_code=137, reason="OOMKilled"))
    app = build_app(
        render=fast_renderer(state).render,
        ready=lambda: [r for r in ("pods", "events", "nodes") if r not in synced],
        findings=state.all_findings,
        causes_endpoint=causes,
    )
    client = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    return client


async def test_readyz_waits_for_every_first_list() -> None:
    """/readyz is 503 naming what is missing until pods, events and nodes have all listed once."""
    client = await _client(synced=["pods"])
    try:
        resp = await client.get("/readyz")
        assert resp.status == 503 and "events, nodes" in await resp.text()
        assert (await client.get("/healthz")).status == 200
    finally:
        await client.close()
    client = await _client(synced=["pods", "events", "nodes"])
    try:
        assert (await client.get("/readyz")).status == 200
    finally:
        await client.close()


async def test_metrics_text_and_openmetrics() -> None:
    """/metrics serves the text format by default and OpenMetrics when asked."""
    client = await _client(synced=[])
    try:
        resp = await client.get("/metrics")
        assert resp.headers["Content-Type"].startswith("text/plain")
        assert "crashloop_container_failing{" in await resp.text()
        resp = await client.get("/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"})
        assert resp.headers["Content-Type"].startswith("application/openmetrics-text")
        assert (await resp.text()).rstrip().endswith("# EOF")
    finally:
        await client.close()


async def test_causes_has_the_diagnose_schema() -> None:
    """/causes returns findings with exactly the diagnose -o json keys."""
    client = await _client(synced=[])
    try:
        body = await (await client.get("/causes")).json()
        assert [set(f) for f in body] == [SCHEMA]
        assert body[0]["cause"] == "oomkilled" and body[0]["failing"] is True
        assert await (await client.get("/causes?namespace=elsewhere")).json() == []
    finally:
        await client.close()


async def test_causes_endpoint_can_be_turned_off() -> None:
    """--no-causes-endpoint removes /causes (404) but keeps /metrics."""
    client = await _client(synced=[], causes=False)
    try:
        assert (await client.get("/causes")).status == 404
        assert (await client.get("/metrics")).status == 200
    finally:
        await client.close()


def test_finding_json_has_exactly_the_spec_keys_in_order() -> None:
    """Finding.to_json() emits the spec's keys, in the spec's order."""
    from crashloop_exporter.findings import Finding

    f = Finding(
        namespace="n",
        pod="p",
        container="c",
        container_type="regular",
        workload_kind="Pod",
        workload="p",
        failing=True,
        cause="unknown",
        reason="CrashLoopBackOff",
        exit_code=None,
        restarts=0,
        evidence=(),
        remediation="",
        runbook_url="",
    )
    assert tuple(f.to_json()) == JSON_KEYS
