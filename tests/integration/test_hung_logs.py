"""One node whose kubelet the apiserver cannot reach must not cost other nodes their log-decided causes.

The simulator hangs every pods/log request for the pods of one node (a `slow` fault with a long
delay, as when port 10250 is firewalled). Those crashes may only be counted from their status;
every crash of the workloads on the other nodes must still be counted under the cause its log
gives (bad_config, missing_runtime_dependency, dependency_unavailable), not the status-only
app_crash it falls back to when its log waits behind the hung requests for the whole log-wait
window.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from tests.support.wait import wait_until

from .procs import Exporter, Sim, diagnostics, running_exporter, running_sim, settle

pytestmark = pytest.mark.e2e

HUNG_NODE = "sw-infrarunbook-04"
HUNG = "app-crash-node,sigterm,startup-probe,start-error,init-container-failed"
"""Scenarios whose pods run on HUNG_NODE: more crash-looping pods than there are log-fetch slots."""
LOG_DECIDED = "bad-config-env,missing-module,missing-shared-library,dependency-unavailable"
"""Scenarios on other nodes whose cause only their log can tell."""
LOG_WORKLOADS = {"api-deployment": "bad_config", "auth-service": "missing_runtime_dependency",
                 "edge-proxy": "missing_runtime_dependency", "orders-api": "dependency_unavailable"}
CRASHES_EACH = 2
"""Crashes every log-decided workload must have while the node hangs, after HUNG_CRASHES."""
HUNG_CRASHES = 8
"""Crashes of the hung node's pods first: twice the log slots, so that a fetcher without per-node
slots queues more than a log-wait window of hung requests ahead of the next healthy crash."""
HANG_SECONDS = 120.0
"""How long each hung log request sends nothing: longer than the exporter's log-wait window (60 s)."""
SETTLE_TIMEOUT = 150.0
"""Catching up may take the log-wait window and then some: before the fix, this is what failed."""


def _delta(after: dict[tuple[str, ...], float], before: dict[tuple[str, ...], float]) -> dict[tuple[str, ...], float]:
    out = {k: v - before.get(k, 0.0) for k, v in after.items()}
    return {k: v for k, v in out.items() if v}


def _by_workload(series: dict[tuple[str, ...], float]) -> dict[str, float]:
    out: dict[str, float] = {}
    for key, v in series.items():
        out[key[2]] = out.get(key[2], 0.0) + v
    return out


def _log_decided_crashes(sim: Sim, before: dict[tuple[str, ...], float]) -> dict[str, float]:
    crashes = _by_workload(_delta(sim.expected_series(), before))
    return {w: crashes.get(w, 0.0) for w in LOG_WORKLOADS}


def _hung_crashes(sim: Sim, before: dict[tuple[str, ...], float]) -> float:
    return sum(v for w, v in _by_workload(_delta(sim.expected_series(), before)).items() if w not in LOG_WORKLOADS)


def _timeouts(exporter: Exporter) -> float:
    fam = exporter.metrics().get("crashloop_exporter_log_fetches_total", {})
    return sum(v for labels, v in fam.items() if dict(labels).get("result") == "timeout")


def test_hung_logs_on_one_node_leave_every_other_crash_its_log_cause(tmp_path: Path) -> None:
    """With every log request of one node hanging, each crash on the other nodes keeps its log-decided cause."""
    with running_sim(tmp_path, scenarios=f"{HUNG},{LOG_DECIDED}") as sim:
        sim.admin("POST", "pause")
        with running_exporter(tmp_path, sim) as exporter:
            before = sim.expected_series()
            hang = sim.fault("slow", resource="pods/log", node=HUNG_NODE, delay=HANG_SECONDS, count=0)
            sim.admin("POST", "resume")
            # As many hung requests as the exporter has log-fetch slots (4).
            sim.wait_consumed({hang: 4}, timeout=60.0, exporter=exporter)
            wait_until(lambda: _hung_crashes(sim, before) >= HUNG_CRASHES, timeout=60.0,
                       what=f"{HUNG_CRASHES} crashes on {HUNG_NODE}", on_timeout=lambda: diagnostics(sim, exporter))
            mid = _log_decided_crashes(sim, before)
            wait_until(lambda: all(n - mid[w] >= CRASHES_EACH for w, n in _log_decided_crashes(sim, before).items()),
                       timeout=90.0, what=f"{CRASHES_EACH} more crashes of every log-decided workload",
                       on_timeout=lambda: f"{_log_decided_crashes(sim, before)}\n" + diagnostics(sim, exporter))
            sim.admin("POST", "pause")
            paused_at = time.time()
            expected = _delta(sim.expected_series(), before)
            got = settle(exporter, sim, expected=None, after=paused_at, timeout=SETTLE_TIMEOUT)

            ours = {k: v for k, v in expected.items() if k[2] in LOG_WORKLOADS}
            assert {k[5] for k in ours} == set(LOG_WORKLOADS.values()), "the sim's causes changed; fix LOG_WORKLOADS"
            assert {k: v for k, v in got.items() if k[2] in LOG_WORKLOADS} == ours, (
                "a crash on a healthy node lost its log-decided cause\n"
                + diagnostics(sim, exporter, expected=expected, got=got))
            # The hung node's crashes are all counted too, under whatever their status says.
            assert _by_workload(got) == _by_workload(expected), diagnostics(sim, exporter, expected=expected, got=got)
            assert _timeouts(exporter) >= 4, diagnostics(sim, exporter)
            warned = re.findall(rf"previous logs of pods on node {HUNG_NODE} time out", exporter.log())
            assert len(warned) == 1, f"expected one warning for the node, got {len(warned)}\n" + exporter.log_tail()
