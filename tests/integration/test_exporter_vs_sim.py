"""crashloop_crashes_total equals the restarts the simulator performed, across watch faults.

The simulator is paused while the exporter does its first list (so what happened before is a
baseline on both sides), resumed while faults are injected, then paused again; the exporter's
counters must then equal the simulator's own count of restarts, failed starts and evictions,
series by series and cause by cause.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.support.wait import wait_until

from .procs import Exporter, Sim, diagnostics, running_exporter, running_sim, settle

pytestmark = pytest.mark.e2e

SCENARIOS = "oomkilled,missing-secret,bad-config-panic,liveness-probe,init-container-failed,image-pull,node-pressure"


Step = list[tuple[str, dict[str, object]]]
"""Faults injected together; the run waits until each has acted before going on."""

CRASHES_BETWEEN_STEPS = 2
"""Crashes the simulator must perform after each step, while the exporter recovers from it."""

RECONNECT: tuple[str, dict[str, object]] = ("drop_stream", {"clean": True})
"""Ends the open pods watch like a server timeout, so a queued request fault meets the reconnect."""


def _delta(after: dict[tuple[str, ...], float], before: dict[tuple[str, ...], float]) -> dict[tuple[str, ...], float]:
    out = {k: v - before.get(k, 0.0) for k, v in after.items()}
    return {k: v for k, v in out.items() if v}


def _run(sim: Sim, exporter: Exporter, *, steps: list[Step], crashes: int = CRASHES_BETWEEN_STEPS) -> None:
    """Resume the paused simulator, inject each step once the previous one acted and the
    simulator crashed containers meanwhile, pause, and compare counts series by series."""
    before = sim.expected_series()
    sim.admin("POST", "resume")
    sim.wait_performed(crashes, exporter=exporter)
    for step in steps:
        ids = {sim.fault(kind, **fields): int(fields.get("count", 1)) or 1 for kind, fields in step}  # type: ignore[call-overload]
        sim.wait_consumed(ids, exporter=exporter)
        sim.wait_performed(crashes, exporter=exporter)
    sim.admin("POST", "pause")
    paused_at = time.time()
    expected = _delta(sim.expected_series(), before)
    assert expected, "the simulator performed no restarts; the test proves nothing"
    settle(exporter, sim, expected=expected, after=paused_at)


def test_counts_match_the_simulator_without_faults(tmp_path: Path) -> None:
    """A clean run: every restart and failed start counted once, under the simulator's cause."""
    with running_sim(tmp_path, scenarios=SCENARIOS) as sim:
        sim.admin("POST", "pause")
        with running_exporter(tmp_path, sim) as exporter:
            _run(sim, exporter, steps=[], crashes=12)


def test_counts_stay_exact_across_stream_faults(tmp_path: Path) -> None:
    """Drops mid-event, 410 on watch (event and HTTP) and on continue, 429/500 storms, garbage lines,
    compaction and an apiserver restart that resets resourceVersion: no crash lost or doubled."""
    steps: list[Step] = [
        [("drop_stream", {"mid_event": True})],
        [("garbage", {})],
        [("gone_watch", {}), RECONNECT],
        [("status", {"code": 429, "retry_after": 1, "count": 3}), RECONNECT],
        [("gone_http", {}), RECONNECT],
        [("expire_continue", {}), ("gone_watch", {}), RECONNECT],
        [("status", {"code": 500, "count": 3}), RECONNECT],
        [("compact", {}), RECONNECT],
        [("reset_rv", {})],
        [("drop_stream", {})],
    ]
    with running_sim(tmp_path, scenarios=SCENARIOS) as sim:
        sim.admin("POST", "pause")
        # Two pods per LIST page, so a relist is paginated and an expired continue token can bite.
        with running_exporter(tmp_path, sim, "--list-page-size", "2") as exporter:
            _run(sim, exporter, steps=steps)
            restarts = exporter.metrics().get("crashloop_exporter_watch_restarts_total", {})
            reasons = {dict(k)["reason"] for k, v in restarts.items() if v > 0}
            assert {"gone", "dropped"} <= reasons, reasons
            skipped = exporter.metrics().get("crashloop_exporter_skipped_objects_total", {})
            assert any(dict(k)["reason"] == "decode" and v > 0 for k, v in skipped.items()), skipped


def test_pods_deleted_during_a_gap_leave_failing_but_keep_their_crashes(tmp_path: Path) -> None:
    """A pod deleted while the watch is down disappears from crashloop_container_failing after the
    relist, and the crashes it had are still in crashloop_crashes_total, exactly."""
    with running_sim(tmp_path, scenarios="oomkilled,bad-config-panic") as sim:
        sim.admin("POST", "pause")
        with running_exporter(tmp_path, sim) as exporter:
            victim = next(e for e in sim.admin("GET", "expectations") if e["cause"] == "oomkilled")

            def failing_pods() -> set[str]:
                fam = exporter.metrics().get("crashloop_container_failing", {})
                return {dict(k)["pod"] for k in fam}

            def pod_watch_events(type_: str) -> float:
                fam = exporter.metrics().get("crashloop_exporter_watch_events_total", {})
                return sum(v for k, v in fam.items() if dict(k) == {"resource": "pods", "type": type_})

            before = sim.expected_series()
            counted: dict[tuple[str, ...], float] = {}
            for _ in range(5):  # pause while the victim is failing with a counted crash (it may restart in between)
                sim.admin("POST", "resume")
                sim.wait_performed(2, exporter=exporter)
                wait_until(lambda: victim["pod"] in failing_pods(), timeout=20, what="victim failing",
                           on_timeout=lambda: diagnostics(sim, exporter))
                sim.admin("POST", "pause")
                paused_at = time.time()
                counted = settle(exporter, sim, expected=_delta(sim.expected_series(), before), after=paused_at)
                if victim["pod"] in failing_pods() and any(k[5] == "oomkilled" for k in counted):
                    break
            assert victim["pod"] in failing_pods(), diagnostics(sim, exporter)
            assert any(k[5] == "oomkilled" for k in counted), diagnostics(sim, exporter, expected=counted, got=counted)
            deleted_before = pod_watch_events("DELETED")
            # The watch goes down (its reconnects answered 500 twenty times), the pod is deleted
            # meanwhile, and the reconnect that finally gets through is told 410: only the
            # relist can reveal the deletion.
            outage = sim.fault("status", code=500, count=20)
            gone = sim.fault("gone_watch")
            sim.wait_consumed({sim.fault("drop_stream", clean=True): 1, outage: 1}, exporter=exporter)
            sim.admin("POST", "delete-pod", {"namespace": victim["namespace"], "name": victim["pod"]})
            sim.wait_consumed({outage: 20, gone: 1}, exporter=exporter)
            wait_until(lambda: victim["pod"] not in failing_pods(), timeout=30, what="deleted pod to leave failing",
                       on_timeout=lambda: diagnostics(sim, exporter))
            assert pod_watch_events("DELETED") == deleted_before, "the deletion arrived as a watch event, not a gap"
            after = exporter.crashes()
            assert after == counted, diagnostics(sim, exporter, expected=counted, got=after)
