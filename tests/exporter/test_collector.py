"""Exposition of a known scenario against golden text, plus `promtool check metrics`."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from crashloop_exporter.collector import CrashloopCollector, StatsSnapshot

from .podgen import crashing, pod
from .test_state import initial_list, make_state

GOLDEN = Path(__file__).parent / "golden" / "scenario.prom"
STATS: StatsSnapshot = {
    "watch_events": {("pods", "MODIFIED"): 3.0},
    "watch_restarts": {("pods", "timeout"): 1.0},
    "log_fetches": {("ok",): 2.0, ("forbidden",): 0.0},
    "synced": {("pods",): 1.0, ("events",): 1.0, ("nodes",): 1.0},
    "last_event_timestamp_seconds": {("pods",): 1704067800.0},
    "skipped_objects": {("pods", "decode"): 1.0},
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
    registry = CollectorRegistry(auto_describe=False)
    registry.register(CrashloopCollector(state, stats=lambda: STATS))
    text = generate_latest(registry).decode()
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


def _big_state(n: int = 300) -> object:
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

    from crashloop_exporter.exposition import FastRenderer

    state = _big_state()
    full = CollectorRegistry(auto_describe=False)
    full.register(CrashloopCollector(state, stats=lambda: STATS))  # type: ignore[arg-type]
    health = CollectorRegistry(auto_describe=False)
    health.register(CrashloopCollector(state, stats=lambda: STATS, health_only=True))  # type: ignore[arg-type]
    renderer = FastRenderer(state, health)  # type: ignore[arg-type]
    encoder, content_type = choose_encoder(accept)
    for _ in range(2):  # the second render comes from the cache
        body, fast_type = renderer.render(accept)
        assert fast_type == content_type
        reference = encoder(full).decode()
        assert sorted(body.decode().splitlines()) == sorted(reference.splitlines())
