"""The Alertmanager example through amtool: valid, and every cause routed to its owner.

`amtool config routes test` resolves a label set against the real routing tree, so these tests
check the generated YAML, not the generator's intent.
"""

from __future__ import annotations

import pytest

from crashloop_exporter.catalog import CAUSES, Cause
from crashloop_exporter.rulegen import alertmanager
from crashloop_exporter.rulegen.rules import (
    CRASHES_INCREASING,
    EXPORTER_DOWN,
    EXPORTER_LOG_FETCHES_FORBIDDEN,
    HEALTH_TEAM,
    POD_FAILED,
    RESTARTS_INCREASING,
)
from tests.rules.conftest import ALERTMANAGER_PATH, Runner, load_yaml
from tests.rules.owners import spec_owner


def routes_to(amtool: Runner, receiver: str, labels: dict[str, str]) -> tuple[bool, str]:
    result = amtool("config", "routes", "test", f"--config.file={ALERTMANAGER_PATH}",
                    f"--verify.receivers={receiver}", *(f"{k}={v}" for k, v in labels.items()))
    return result.returncode == 0, (result.stdout + result.stderr).strip()


def test_amtool_accepts_the_example(amtool: Runner) -> None:
    """`amtool check-config` accepts alertmanager.yml with its receivers and inhibit rules."""
    result = amtool("check-config", ALERTMANAGER_PATH)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 inhibit rules" in result.stdout


@pytest.mark.parametrize("cause", CAUSES, ids=lambda c: c.id)
def test_cause_alert_routes_to_the_team_that_owns_the_fix(amtool: Runner, cause: Cause) -> None:
    """The per-cause alert, with its cause, severity and team labels, reaches the catalog team's receiver."""
    expected = alertmanager.RECEIVERS[cause.team]
    ok, out = routes_to(amtool, expected, {"alertname": cause.alert_name, "cause": cause.id,
                                           "severity": cause.severity, "team": cause.team})
    assert ok, f"{cause.alert_name} should reach {expected}: {out}"


@pytest.mark.parametrize("cause", CAUSES, ids=lambda c: c.id)
def test_restart_alert_routes_by_the_cause_it_was_enriched_with(amtool: Runner, cause: Cause) -> None:
    """The restart-increase alerts carry no team label, yet reach the same owner as the cause alert."""
    expected = alertmanager.RECEIVERS[cause.team]
    for name in (RESTARTS_INCREASING, CRASHES_INCREASING):
        ok, out = routes_to(amtool, expected, {"alertname": name, "cause": cause.id, "severity": "warning",
                                               "namespace": "payments", "pod": "api-0", "container": "app"})
        assert ok, f"{name} with cause={cause.id} should reach {expected}: {out}"


def test_routing_matches_the_owners_the_spec_names(amtool: Runner) -> None:
    """OOM/node pressure: capacity; missing Secrets/ConfigMaps: platform; pulls/start errors: CI/CD; rest: app."""
    for c in CAUSES:
        expected = spec_owner(c.id)
        ok, out = routes_to(amtool, expected, {"alertname": c.alert_name, "cause": c.id, "severity": c.severity})
        assert ok, f"{c.id} should reach {expected}: {out}"


@pytest.mark.parametrize(("labels", "expected"), [
    ({"alertname": POD_FAILED, "severity": "warning", "namespace": "payments", "pod": "api-0"}, "app-owners"),
    ({"alertname": EXPORTER_DOWN, "severity": "critical", "team": HEALTH_TEAM}, "platform-team"),
    ({"alertname": EXPORTER_LOG_FETCHES_FORBIDDEN, "severity": "warning", "team": HEALTH_TEAM}, "platform-team"),
], ids=["pod-failed-without-cause", "exporter-down", "log-fetches-forbidden"])
def test_alerts_without_a_cause_have_an_owner(amtool: Runner, labels: dict[str, str], expected: str) -> None:
    """Alerts without a cause go to app owners, the exporter's own health alerts to the platform team."""
    ok, out = routes_to(amtool, expected, labels)
    assert ok, f"{labels} should reach {expected}: {out}"


def test_group_by_and_receivers_are_as_documented() -> None:
    """Notifications group by cluster, namespace, workload, cause; every receiver is a placeholder webhook."""
    config = load_yaml(ALERTMANAGER_PATH)
    assert isinstance(config, dict)
    assert config["route"]["group_by"] == ["cluster", "namespace", "workload", "cause"]
    names = {r["name"] for r in config["receivers"]}
    assert names == set(alertmanager.RECEIVERS.values())
    for r in config["receivers"]:
        (hook,) = r["webhook_configs"]
        assert hook["url"].endswith("/" + r["name"]) and "example.com" in hook["url"]
