"""Exposition of a known scenario against golden text, the fast path against prometheus-client, promtool."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from crashloop_exporter.families import (
    LAST_EVENT_TIMESTAMP,
    LOG_FETCHES,
    SKIPPED_OBJECTS,
    SYNCED,
    TASK_FAILURES,
    WATCH_EVENTS,
    WATCH_RESTARTS,
)
from crashloop_exporter.serve.collector import StatsSnapshot
from crashloop_exporter.state import ClusterState
from tests.support.clusterstate import initial_list, make_state

from .oracle import fast_renderer, generic_exposition
from .podgen import crashing, pod

GOLDEN = Path(__file__).parent / "golden" / "scenario.prom"
STATS: StatsSnapshot = {
    WATCH_EVENTS.name: {("pods", "MODIFIED"): 3.0},
    WATCH_RESTARTS.name: {("pods", "timeout"): 1.0},
    LOG_FETCHES.name: {("ok",): 2.0, ("forbidden",): 0.0},
    SYNCED.name: {("pods",): 1.0, ("events",): 1.0, ("nodes",): 1.0},
    LAST_EVENT_TIMESTAMP.name: {("pods",): 1704067800.0},
    SKIPPED_OBJECTS.name: {("pods", "decode"): 1.0},
    TASK_FAILURES.name: {("log_fetch",): 0.0, ("tick",): 0.0, ("watch",): 1.0},
}


def scenario_exposition() -> str:
    state, _clock, _ = make_state()
    initial_list(
        state,
        crashing("api-1", 4, exit_code=137, reason="OOMKilled"),
        pod("web-1", deployment="web", ready=True),
        pod("pay-1", deployment="payment", waiting=("CreateContainerConfigError", 'secret "stripe" not found')),
    )
    state.event("pods", "MODIFIED", crashing("api-1", 6, exit_code=137, reason="OOMKilled"))
    state.event("pods", "MODIFIED", {"metadata": {"name": "bad"}})
    body, _ = fast_renderer(state, lambda: STATS).render("")
    text = body.decode()
    # The classification histogram's sum and bucket spread depend on CPU speed; pin only its count.
    return (
        "\n".join(
            ln
            for ln in text.splitlines()
            if not ln.startswith("crashloop_exporter_classification_duration_seconds_") or "_count" in ln
        )
        + "\n"
    )


def _lines(text: str) -> list[str]:
    return sorted(ln for ln in text.splitlines() if ln and not ln.startswith("crashloop_exporter_build_info"))


def test_exposition_matches_golden() -> None:
    """The families, labels and values of a known scenario match the checked-in golden file (order-free)."""
    got = scenario_exposition()
    assert GOLDEN.exists(), f"{GOLDEN} is missing; write it from scenario_exposition() and review it"
    assert _lines(got) == _lines(GOLDEN.read_text())


def test_no_log_text_or_free_text_in_labels() -> None:
    """Cause label values come only from the catalog."""
    from crashloop_exporter.catalog import CAUSE_IDS

    values = [ln.split('cause="', 1)[1].split('"', 1)[0] for ln in scenario_exposition().splitlines()
              if 'cause="' in ln]
    assert values, "the scenario exposition has no cause label at all"
    assert set(values) <= CAUSE_IDS


def test_promtool_check_metrics_passes() -> None:
    """`promtool check metrics` finds no problems in the exposition (naming, HELP, units)."""
    out = subprocess.run(
        ["promtool", "check", "metrics"], input=scenario_exposition(), text=True, capture_output=True, timeout=30
    )
    assert out.returncode == 0, out.stdout + out.stderr


def _big_state(n: int = 300) -> ClusterState:
    state, _, _ = make_state()
    pods = [
        crashing(
            f"api-{i}",
            3,
            exit_code=137 if i % 2 else 1,
            reason="OOMKilled" if i % 2 else "Error",
            deployment=f"svc-{i % 7}",
        )
        for i in range(n)
    ]
    initial_list(state, *pods)
    for p in pods[: n // 2]:
        p["status"]["containerStatuses"][0]["restartCount"] = 4
        state.event("pods", "MODIFIED", p)
    return state


@pytest.mark.parametrize("accept", ["", "application/openmetrics-text; version=1.0.0"], ids=["text", "openmetrics"])
def test_fast_renderer_matches_prometheus_client(accept: str) -> None:
    """The cached-line /metrics path renders exactly what prometheus-client renders, in both formats."""
    from prometheus_client.exposition import choose_encoder

    state = _big_state()
    renderer = fast_renderer(state, lambda: STATS)
    _, content_type = choose_encoder(accept)
    for _ in range(2):  # the second render comes from the cache
        body, fast_type = renderer.render(accept)
        assert fast_type == content_type
        reference = generic_exposition(state, accept, lambda: STATS)
        assert sorted(body.decode().splitlines()) == sorted(reference.splitlines())
