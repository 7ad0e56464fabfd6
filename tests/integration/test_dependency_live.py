"""Dependency chains live: the exporter, watching the simulator's Services and the EndpointSlices its
controller derives, gives every dependent the same `dependency` as `diagnose --dump` on the same
objects, and a root that recovers clears its dependents on that root's own next event.

The chain fixtures (FQDN Service, short name, cross-namespace headless pod, bare ClusterIP, a two-hop
chain, a healthy dependency, an external name) are served through the replay (`--replay-cases`),
which rebases their timestamps and keeps the dependents crash-looping for one cycle.
"""

from __future__ import annotations

import copy
import json
import time
from pathlib import Path
from typing import Any

from crashloop_exporter.sim.replay import ReplayCase
from tests.cli import dumps as k
from tests.deps import chainfixtures as fx
from tests.integration.procs import Exporter, Sim, diagnostics, http, running_exporter, running_sim
from tests.support.wait import wait_until

DEPENDENCY = "dependency_unavailable"
TIMEOUT = 45.0


def _case() -> ReplayCase:
    logs: dict[tuple[str, str], dict[str, str]] = {}
    for (ns, pod, container), text in fx.logs().items():
        logs.setdefault((ns, pod), {})[container] = text
    return ReplayCase("chains", pods=fx.pods(), nodes=[k.node("node-a")], services=fx.services(), logs=logs)


def _offline(tmp: Path) -> dict[str, Any]:
    proc = k.run_diagnose("--dump", str(fx.write_dump(tmp / "dump")), "-o", "json")
    assert proc.returncode == 0, proc.stderr
    return {f["container"]: f["dependency"] for f in json.loads(proc.stdout) if f["cause"] == DEPENDENCY}


def _live(exporter: Exporter) -> dict[str, Any]:
    status, body = http("GET", f"{exporter.url}/causes")
    assert status == 200, body[:300]
    return {f["container"]: f["dependency"] for f in json.loads(body) if f["cause"] == DEPENDENCY}


def _roots(exporter: Exporter) -> dict[str, tuple[str, str, str, str]]:
    series = exporter.metrics().get("crashloop_container_dependency_failing", {})
    return {d["container"]: (d["dependency_namespace"], d["dependency_workload_kind"], d["dependency_workload"],
                             d["dependency_cause"]) for labels, v in series.items() if v and (d := dict(labels))}


def _recovered_postgres() -> dict[str, Any]:
    pod = copy.deepcopy(next(p for p in fx.pods() if p["metadata"]["name"] == "postgres-0"))
    status = pod["status"]["containerStatuses"][0]
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    status.update(ready=True, started=True, state={"running": {"startedAt": now}})
    pod["status"]["conditions"] = [{"type": "Ready", "status": "True"}, {"type": "ContainersReady", "status": "True"}]
    return pod


def test_live_dependency_matches_diagnose_and_clears_when_the_root_recovers(tmp_path: Path) -> None:
    offline = _offline(tmp_path)
    assert offline == fx.EXPECTED, json.dumps(offline, indent=1)  # the yardstick itself is right
    cases = tmp_path / "cases.json"
    cases.write_text(json.dumps([_case().to_json()]), encoding="utf-8")
    extra = ("--replay-cases", str(cases), "--replay-tick", "0.3", "--replay-cycles", "1")
    with running_sim(tmp_path, scenarios="healthy", extra=extra) as sim, \
            running_exporter(tmp_path, sim, "--log-fetch-rate", "200") as exporter:
        _check_live(sim, exporter, offline)


def _check_live(sim: Sim, exporter: Exporter, offline: dict[str, Any]) -> None:
    live: dict[str, Any] = {}

    def agrees() -> bool:
        nonlocal live
        live = _live(exporter)
        return live == offline

    wait_until(agrees, timeout=TIMEOUT, what="every dependent's live dependency to equal diagnose --dump's",
               on_timeout=lambda: f"live: {json.dumps(live, indent=1)}\n" + diagnostics(sim, exporter))
    # Where each chain ends, as the gauge names it: the root, two hops down for the reporter.
    roots = _roots(exporter)
    assert roots == {
        "api": ("production", "StatefulSet", "postgres", "oomkilled"),
        "ingest": ("data", "StatefulSet", "kafka", "missing_secret"),
        "reporter": ("production", "Deployment", "auth", "missing_secret"),
        "orders": ("production", "Deployment", "auth", "missing_secret"),
    }, roots
    wait_until(lambda: sim.stats()["replay"]["done"], timeout=TIMEOUT, what="the replay's crash cycle")
    # The dependents no longer change (their crash cycle is over): only postgres-0's recovery can
    # clear api's dependency, and it must do so on that event.
    api_before = json.dumps(_live(exporter)["api"])
    sim.admin("POST", "objects", {"resource": "pods", "object": _recovered_postgres()})

    def cleared() -> bool:
        nonlocal live
        live = _live(exporter)
        return live["api"] is not None and live["api"]["failing"] is False and "api" not in _roots(exporter)

    wait_until(cleared, timeout=TIMEOUT, what="api's dependency to clear once postgres-0 runs ready",
               on_timeout=lambda: f"before: {api_before}\nlive: {json.dumps(live, indent=1)}\n"
               + diagnostics(sim, exporter))
    assert live["api"] == {**fx.EXPECTED["api"], "failing": False, "cause": None}  # type: ignore[dict-item]
    assert _roots(exporter)["ingest"] == ("data", "StatefulSet", "kafka", "missing_secret")  # others untouched
