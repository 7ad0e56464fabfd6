"""Scenario coverage and realism: every catalog cause has one, and every object parses like real ones."""

from __future__ import annotations

from typing import Any

import pytest

from crashloop_exporter.catalog import CAUSES
from crashloop_exporter.errors import ScenarioError
from crashloop_exporter.model import EnvRef
from crashloop_exporter.parse import parse_event, parse_node, parse_pod
from crashloop_exporter.sim import SimCluster, load_scenario, scenario_names
from crashloop_exporter.sim.scenarios import parse_scenario

FAILING_WAITING = {"CrashLoopBackOff", "CreateContainerConfigError", "ImagePullBackOff", "ErrImagePull",
                   "InvalidImageName", "RunContainerError", "CreateContainerError"}
"""Waiting reasons SPEC calls failing (plus ContainerCreating when a FailedMount holds it)."""


@pytest.fixture(scope="module")
def ran() -> SimCluster:
    """Every scenario after five simulated minutes (every crash loop has reached back-off)."""
    cluster = SimCluster()
    cluster.pause()
    cluster.advance(300)
    return cluster


def _history_states(cluster: SimCluster, ns: str, pod: str, container: str) -> list[tuple[dict[str, Any], str]]:
    out = []
    for change in cluster.store["pods"].history:
        if change.obj.key != (ns, pod):
            continue
        body = change.obj.to_dict()
        statuses = body["status"].get("initContainerStatuses", []) + body["status"].get("containerStatuses", [])
        for cs in statuses:
            if cs["name"] == container:
                out.append((cs, body["status"].get("reason", "")))
    return out


@pytest.mark.parametrize("cause", [c.id for c in CAUSES])
def test_every_catalog_cause_has_a_failing_scenario(ran: SimCluster, cause: str) -> None:
    """Each cause in the catalog is demonstrated by at least one scenario container that fails."""
    containers = [e for e in ran.expectations() if e["cause"] == cause]
    assert containers, f"no scenario container demonstrates {cause}"
    failing = []
    for e in containers:
        mount_failed = any(o.field("involvedObject.name") == e["pod"] and o.field("reason") == "FailedMount"
                           for o in ran.store["events"].objects.values())
        for cs, pod_reason in _history_states(ran, e["namespace"], e["pod"], e["container"]):
            waiting = cs["state"].get("waiting", {}).get("reason")
            held = waiting == "ContainerCreating" and mount_failed
            if waiting in FAILING_WAITING or held or pod_reason == "Evicted":
                failing.append(e)
                break
    assert failing, f"no {cause} scenario container ever entered a failing state"


def test_healthy_and_recovered_containers_never_fail(ran: SimCluster) -> None:
    """Containers without a cause (and the long-recovered one) are never in a failing state."""
    calm = [e for e in ran.expectations()
            if e["cause"] is None or e["pod"].startswith("inventory-api-")]
    assert len(calm) >= 8
    for e in calm:
        for cs, pod_reason in _history_states(ran, e["namespace"], e["pod"], e["container"]):
            assert cs["state"].get("waiting", {}).get("reason") not in FAILING_WAITING
            assert pod_reason != "Evicted"


def test_every_object_parses_with_the_exporters_parser(ran: SimCluster) -> None:
    """Pods, events and nodes from every scenario go through parse_pod/parse_event/parse_node cleanly."""
    pods = [parse_pod(o.to_dict()) for o in ran.store["pods"].objects.values()]
    assert len(pods) == len(ran.lifecycle.pods)
    events = [parse_event(o.to_dict()) for o in ran.store["events"].objects.values()]
    assert all(e is not None and e.pod for e in events)
    assert {e.reason for e in events if e} >= {"BackOff", "Pulled", "Created", "Started", "Unhealthy", "Killing",
                                             "Failed", "FailedMount", "Evicted", "Scheduled"}
    nodes = {n.name: n for n in (parse_node(o.to_dict()) for o in ran.store["nodes"].objects.values())}
    assert [p.type for p in nodes["sw-infrarunbook-01"].pressures] == ["MemoryPressure"]
    assert not nodes["sw-infrarunbook-02"].pressures


def test_the_seed_payment_service_spec() -> None:
    """The seed's payment-service reads STRIPE_SECRET_KEY from stripe-secret/secret-key, optional: true,
    and DATABASE_URL from postgres-secret/url."""
    cluster = SimCluster(["payment-service"])
    cluster.pause()
    cluster.advance(5)
    pod = parse_pod(cluster.pod_json("production", "payment-service-7d9f4b8c6-xk2p9") or {})
    (container,) = pod.containers
    assert container.spec is not None
    assert EnvRef(var="STRIPE_SECRET_KEY", kind="Secret", name="stripe-secret", key="secret-key",
                  optional=True) in container.spec.env_refs
    assert EnvRef(var="DATABASE_URL", kind="Secret", name="postgres-secret", key="url",
                  optional=False) in container.spec.env_refs
    assert pod.workload_kind == "Deployment" and pod.workload == "payment-service"
    assert container.last_terminated is not None and container.last_terminated.exit_code == 1
    assert cluster.store["secrets"].get(("production", "stripe-secret")) is None
    assert cluster.store["secrets"].get(("production", "postgres-secret")) is not None


@pytest.mark.parametrize(("scenario", "line"), [
    ("bad-config-env", 'FATAL: invalid value for DATABASE_PORT: "abc" (expected integer)'),
    ("bad-config-panic", "panic: DATABASE_URL environment variable is not set"),
    ("missing-module", "ModuleNotFoundError: No module named 'utils.auth'"),
    ("missing-shared-library", "/app/server: error while loading shared libraries: libssl.so.3: cannot open shared "
                               "object file: No such file or directory"),
    ("dependency-unavailable", "dial tcp 10.0.1.45:5432: connect: connection refused"),
    ("init-container-failed", 'ERROR: relation "users" does not exist'),
])
def test_seed_log_lines_are_verbatim(scenario: str, line: str) -> None:
    """The runbook's log lines appear verbatim in the scenario that demonstrates them."""
    s = load_scenario(scenario)
    logs = [ln for p in s.pods for c in (*p.init_containers, *p.containers) for ln in c.behavior.logs]
    assert line in logs


def test_scenario_names_and_descriptions() -> None:
    """Every shipped scenario loads, has a description, and scenario_names() excludes cluster.yaml."""
    names = scenario_names()
    assert "cluster" not in names and len(names) >= 25
    for name in names:
        assert load_scenario(name).description


def test_invalid_scenarios_name_the_field() -> None:
    """A bad scenario is a ScenarioError naming the file and field; unknown names list the known ones."""
    with pytest.raises(ScenarioError, match="unknown scenario 'nope'; known: app-crash-node"):
        load_scenario("nope")
    pod = {"namespace": "x", "node": "n", "containers": [
        {"name": "a", "image": "i", "behavior": {"kind": "crash", "run_seconds": 1}}]}
    with pytest.raises(ScenarioError, match=r"demo\.pods\[0\]: field 'name' is required"):
        parse_scenario({"description": "d", "pods": [pod]}, name="demo", where="demo")
    pod["name"] = "p"
    with pytest.raises(ScenarioError, match=r"behavior: behavior kind 'crash' needs field 'reason'"):
        parse_scenario({"description": "d", "pods": [pod]}, name="demo", where="demo")
    with pytest.raises(ScenarioError, match="not a catalog cause"):
        parse_scenario({"description": "d", "cause": "gremlins", "pods": [pod]}, name="demo")
    with pytest.raises(ScenarioError, match="unknown field"):
        parse_scenario({"description": "d", "pods": [pod], "colour": 1}, name="demo")
