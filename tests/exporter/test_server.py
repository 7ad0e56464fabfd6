"""HTTP endpoints: /metrics negotiation, /healthz, /readyz gating, /causes schema, escaping and switch-off."""

from __future__ import annotations

import json
import unicodedata
from dataclasses import replace
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from crashloop_exporter.findings import JSON_KEYS, Evidence, Finding, encode_findings
from crashloop_exporter.preflight.checks import PreflightFinding
from crashloop_exporter.preflight.report import render_json as preflight_json
from crashloop_exporter.preflight.runner import Result
from crashloop_exporter.render import render_json
from crashloop_exporter.serve.server import build_app
from tests.cli.dumps import FINDING_KEYS
from tests.support.clusterstate import initial_list, make_state

from .oracle import fast_renderer
from .podgen import crashing

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


HOSTILE_LOG_LINE = "".join([
    "pay \u202etxt.exe\u202c ok",  # right-to-left override, then pop
    " \u2066\u2067\u2068isolated\u2069",  # every bidi isolate
    " zero\u200bwidth",
    " \x1b[31mred\x1b[0m \x1b]0;title\x07",  # ANSI SGR and an OSC title change
    " nul\x00byte",
])
RAW_UNSAFE = ("\u202e", "\u202c", "\u2066", "\u2067", "\u2068", "\u2069", "\u200b", "\x1b", "\x07", "\x00")


def _hostile_finding() -> Finding:
    return Finding(
        namespace="prod", pod="api-1", container="api", container_type="regular", workload_kind="Deployment",
        workload="api", failing=True, cause="app_crash", reason="CrashLoopBackOff", exit_code=1, restarts=3,
        evidence=(Evidence("log", HOSTILE_LOG_LINE),), remediation="kubectl logs api-1 -n prod --previous",
        runbook_url="https://example.invalid/runbook#app_crash",
    )


async def test_causes_diagnose_and_preflight_encode_a_hostile_finding_identically() -> None:
    """Bidi overrides, isolates, zero-width, ANSI and NUL from a log are escaped the same way by all three writers."""
    finding = _hostile_finding()
    state, _, _ = make_state()
    app = build_app(render=fast_renderer(state).render, ready=list, findings=lambda: [finding])
    client = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    try:
        resp = await client.get("/causes")
        causes = (await resp.read()).decode("utf-8")
    finally:
        await client.close()
    diagnose = render_json([finding])
    extra = {"phase": "preflight", "severity": "error", "file": "app.yaml", "line": 7}
    preflight = preflight_json(Result(
        findings=[PreflightFinding(finding, severity="error", file="app.yaml", line=7)],
        workloads=1, namespaces=("prod",), references=0,
    ))

    assert causes == diagnose
    assert [{k: v for k, v in f.items() if k not in extra} for f in json.loads(preflight)] == json.loads(diagnose)
    assert json.loads(preflight)[0] | extra == json.loads(preflight)[0]
    detail = next(line for line in diagnose.splitlines() if '"detail"' in line)
    assert detail in preflight.splitlines()
    assert json.loads(diagnose)[0]["evidence"][0]["detail"] == HOSTILE_LOG_LINE  # escaped, not altered
    for name, text in (("/causes", causes), ("diagnose", diagnose), ("preflight", preflight)):
        assert not [c for c in RAW_UNSAFE if c in text], name
    assert list(json.loads(preflight)[0]) == [*JSON_KEYS, *extra]


def test_every_format_and_control_character_is_escaped() -> None:
    """No Unicode control (Cc), format (Cf) or separator character, nor a lone surrogate, leaves the encoder raw."""
    dangerous = "".join(
        chr(c) for c in range(0x110000) if unicodedata.category(chr(c)) in ("Cc", "Cf", "Zl", "Zp") and chr(c) != "\n"
    )
    lone_surrogates = "a\ud800b\udfffc"  # from a log decoded with surrogateescape; UTF-8 cannot hold them
    text = encode_findings([replace(_hostile_finding(), evidence=(Evidence("log", dangerous + lone_surrogates),))])
    assert [f"U+{ord(c):04X}" for c in dangerous + lone_surrogates if not c.isalpha() and c in text] == []
    assert json.loads(text)[0]["evidence"][0]["detail"] == dangerous + lone_surrogates  # escaped, not altered
    text.encode("utf-8")  # the whole output is writable as UTF-8
