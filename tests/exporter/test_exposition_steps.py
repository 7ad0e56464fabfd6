"""FastRenderer renders only the findings that changed, and renders a crash wave's in steps before
the scrape's one-step snapshot (issue 12, defect 1)."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from crashloop_exporter.findings import Finding
from crashloop_exporter.serve import exposition
from crashloop_exporter.serve.exposition import FINDINGS_PER_STEP
from crashloop_exporter.serve.server import build_app
from tests.support.clusterstate import initial_list, make_state

from .oracle import fast_renderer, generic_exposition
from .podgen import many_containers

WIDE = 2000
LOG = "Traceback (most recent call last):\n  File \"app.py\", line 3\nConnectionRefusedError: [Errno 111] refused\n"


def _rendered(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The containers whose lines the renderer renders from now on."""
    calls: list[str] = []
    real = exposition._finding_lines

    def counting(f: Finding) -> exposition.FindingLines:
        calls.append(f.container)
        return real(f)

    monkeypatch.setattr(exposition, "_finding_lines", counting)
    return calls


def _same_as_oracle(body: bytes, state: Any) -> bool:
    return sorted(body.decode().splitlines()) == sorted(generic_exposition(state).splitlines())


def test_a_log_answer_on_a_wide_pod_renders_only_that_containers_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    """After one log answer on a 2000-container pod, the next scrape renders one container's lines."""
    state, _, requests = make_state(logs=True)
    initial_list(state, many_containers("api-1", WIDE, 1))
    renderer = fast_renderer(state)
    renderer.render("")
    calls = _rendered(monkeypatch)
    state.apply_logs(requests[7], LOG)
    body, _ = renderer.render("")
    assert calls == [requests[7].container]
    assert _same_as_oracle(body, state)


def test_prepare_renders_a_crash_wave_in_steps_so_the_scrape_renders_none(monkeypatch: pytest.MonkeyPatch) -> None:
    """After a 2000-container crash wave, prepare_steps renders the new findings in many steps and
    the scrape's own render (one step, a consistent snapshot) renders none of them again."""
    state, _, _ = make_state()
    initial_list(state, many_containers("api-1", WIDE, 1))
    renderer = fast_renderer(state)
    renderer.render("")
    state.event("pods", "MODIFIED", many_containers("api-1", WIDE, 2))
    calls = _rendered(monkeypatch)
    steps = sum(1 for _ in renderer.prepare_steps())
    assert steps >= WIDE // FINDINGS_PER_STEP - 1 and len(calls) == WIDE
    calls.clear()
    body, _ = renderer.render("")
    assert calls == []
    assert _same_as_oracle(body, state)


async def test_metrics_prepares_before_it_renders() -> None:
    """/metrics awaits `prepare` (the stepped part) before the one-step render."""
    order: list[str] = []

    async def prepare() -> None:
        order.append("prepare")

    def render(_: str) -> tuple[bytes, str]:
        order.append("render")
        return b"", "text/plain; version=0.0.4; charset=utf-8"

    app = build_app(render=render, prepare=prepare, ready=lambda: [], findings=lambda: [])
    client = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    try:
        assert (await client.get("/metrics")).status == 200
    finally:
        await client.close()
    assert order == ["prepare", "render"]
