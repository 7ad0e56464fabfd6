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

from .procs import Exporter, Sim, running_exporter, running_sim, settle, wait_until

pytestmark = pytest.mark.e2e

SCENARIOS = "oomkilled,missing-secret,bad-config-panic,liveness-probe,init-container-failed,image-pull,node-pressure"


def _delta(after: dict[tuple[str, ...], float], before: dict[tuple[str, ...], float]) -> dict[tuple[str, ...], float]:
    out = {k: v - before.get(k, 0.0) for k, v in after.items()}
    return {k: v for k, v in out.items() if v}


def _run(sim: Sim, exporter: Exporter, *, seconds: float, faults: list[tuple[str, dict[str, object]]]) -> None:
    before = sim.expected_series()
    sim.admin("POST", "resume")
    step = seconds / (len(faults) + 1)
    for kind, fields in faults:
        time.sleep(step)
        sim.fault(kind, **fields)
    time.sleep(step)
    sim.admin("POST", "pause")
    paused_at = time.time()
    expected = _delta(sim.expected_series(), before)
    got = settle(exporter, after=paused_at)
    assert expected, "the simulator performed no restarts; the test proves nothing"
    assert got == expected, f"exporter {got}\n!= simulator {expected}\nexporter log:\n{exporter.log()[-6000:]}"


def test_counts_match_the_simulator_without_faults(tmp_path: Path) -> None:
    """A clean run: every restart and failed start counted once, under the simulator's cause."""
    with running_sim(tmp_path, scenarios=SCENARIOS) as sim:
        sim.admin("POST", "pause")
        with running_exporter(tmp_path, sim) as exporter:
            _run(sim, exporter, seconds=12, faults=[])


def test_counts_stay_exact_across_stream_faults(tmp_path: Path) -> None:
    """Drops mid-event, 410 on watch (event and HTTP) and on continue, 429/500 storms, garbage lines,
    compaction and an apiserver restart that resets resourceVersion: no crash lost or doubled."""
    faults: list[tuple[str, dict[str, object]]] = [
        ("drop_stream", {"mid_event": True}),
        ("garbage", {}),
        ("gone_watch", {}),
        ("status", {"code": 429, "retry_after": 1, "count": 3}),
        ("gone_http", {}),
        ("expire_continue", {}),
        ("status", {"code": 500, "count": 3}),
        ("compact", {}),
        ("reset_rv", {}),
        ("drop_stream", {}),
    ]
    with running_sim(tmp_path, scenarios=SCENARIOS) as sim:
        sim.admin("POST", "pause")
        with running_exporter(tmp_path, sim) as exporter:
            _run(sim, exporter, seconds=30, faults=faults)
            restarts = exporter.metrics().get("crashloop_exporter_watch_restarts_total", {})
            reasons = {dict(k)["reason"] for k, v in restarts.items() if v > 0}
            assert {"gone", "dropped"} <= reasons, reasons
            skipped = exporter.metrics().get("crashloop_exporter_skipped_objects_total", {})
            assert any(dict(k)["reason"] == "decode" and v > 0 for k, v in skipped.items()), skipped


def test_pods_deleted_during_a_gap_leave_failing_but_keep_their_crashes(tmp_path: Path) -> None:
    """A pod deleted while the watch is down disappears from crashloop_container_failing after the
    relist, and the crashes it had are still in crashloop_crashes_total."""
    with running_sim(tmp_path, scenarios="oomkilled,bad-config-panic") as sim:
        sim.admin("POST", "pause")
        with running_exporter(tmp_path, sim) as exporter:
            _run(sim, exporter, seconds=8, faults=[])
            counted = exporter.crashes()
            expectations = sim.admin("GET", "expectations")
            victim = next(e for e in expectations if e["cause"] == "oomkilled")

            def failing_pods() -> set[str]:
                fam = exporter.metrics().get("crashloop_container_failing", {})
                return {dict(k)["pod"] for k in fam}

            wait_until(lambda: victim["pod"] in failing_pods(), timeout=20, what="victim failing")
            sim.fault("gone_watch", resource="pods")
            sim.fault("hang", seconds=1.0)
            sim.admin("POST", "delete-pod", {"namespace": victim["namespace"], "name": victim["pod"]})
            wait_until(lambda: victim["pod"] not in failing_pods(), timeout=30, what="deleted pod to leave failing")
            after = exporter.crashes()
            for key, value in counted.items():
                assert after.get(key, 0) >= value, f"{key} lost crashes: {value} -> {after.get(key)}"
