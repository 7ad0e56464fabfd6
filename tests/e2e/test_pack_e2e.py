"""The rules pack on a real Prometheus and Alertmanager, fed by scrape targets the test controls.

This proves the generated files themselves (PromQL that evaluates, templates that render, routes
and inhibitions that behave) independently of the exporter: every cause's alert travels from a
scraped series through Prometheus and Alertmanager to the receiver owning that cause.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from crashloop_exporter.catalog import CAUSES, Cause, CauseId, cause
from crashloop_exporter.rulegen.rules import POD_FAILED, RESTARTS_INCREASING
from crashloop_exporter.rulegen.unittests import REASONS
from tests.e2e.harness import (
    Alertmanager,
    FakeKubeStateMetrics,
    MetricsTarget,
    Prometheus,
    WebhookReceiver,
    host_port,
    scrape_config,
    wait_until,
)
from tests.e2e.pack import fast_routing, fast_rules
from tests.rules.owners import spec_owner

pytestmark = pytest.mark.e2e

DELIVERY_TIMEOUT = 45.0


def _workload(c: Cause) -> dict[str, str]:
    """A container of its own per cause, so no inhibition links two causes' alerts."""
    name = c.id.replace("_", "-")
    return {"namespace": "e2e", "workload_kind": "Deployment", "workload": name, "container": "app",
            "container_type": "regular"}


def test_every_cause_alert_reaches_the_receiver_that_owns_the_cause(
    tmp_path: Path,
    webhook_receiver: WebhookReceiver,
    fake_ksm: FakeKubeStateMetrics,
    prometheus_factory: Callable[..., Prometheus],
    alertmanager_factory: Callable[..., Alertmanager],
) -> None:
    """Each cause's alert travels from scraped series through real Prometheus and Alertmanager to its team."""
    exporter = MetricsTarget()
    exporter.declare("crashloop_container_failing", "gauge", "Containers failing now, by cause.")
    exporter.declare("crashloop_crashes_total", "counter", "Container crashes by cause.")
    exporter.start()
    try:
        for c in CAUSES:
            if c.alert_min_crashes == 0:
                pod = f"{_workload(c)['workload']}-7d9c6b5f4-x2vqz"
                exporter.set("crashloop_container_failing",
                             {**_workload(c), "pod": pod, "cause": c.id,
                              "reason": REASONS.get(c.id, "CrashLoopBackOff")}, 1)
            else:
                # New series start at 0, as the exporter's hold-back exposes them.
                exporter.set("crashloop_crashes_total", {**_workload(c), "cause": c.id}, 0)
        ghost = {"namespace": "e2e", "pod": "ghost-5f6d8c9b7-kq2lp", "container": "app"}
        fake_ksm.set_restarts(**ghost, restarts=0)
        fake_ksm.set_phase(namespace="e2e", pod="done-job-x8k2p", phase="Running")

        am = alertmanager_factory(config_text=fast_routing(webhook_receiver))
        prom = prometheus_factory(
            scrape_configs=[scrape_config("crashloop-exporter", host_port(exporter.url)),
                            scrape_config("kube-state-metrics", host_port(fake_ksm.url))],
            rule_files=[fast_rules(tmp_path / "rules")],
            alertmanager_url=am.url,
        )
        prom.wait_for_targets_up()
        counters = sum(1 for c in CAUSES if c.alert_min_crashes)
        wait_until(lambda: len(prom.query('crashloop_crashes_total == 0')) == counters, timeout=20,
                   what="Prometheus to scrape every new counter at 0")
        wait_until(lambda: prom.query(f"{FakeKubeStateMetrics.RESTARTS} == 0"), timeout=20,
                   what="Prometheus to scrape the fake kube-state-metrics restarts at 0")
        for c in CAUSES:
            if c.alert_min_crashes:
                exporter.set("crashloop_crashes_total", {**_workload(c), "cause": c.id}, c.alert_min_crashes)
        fake_ksm.set_restarts(**ghost, restarts=10)
        fake_ksm.set_phase(namespace="e2e", pod="done-job-x8k2p", phase="Failed")

        for c in CAUSES:
            receiver, alert = webhook_receiver.wait_for_alert(
                timeout=DELIVERY_TIMEOUT, what=f"{c.alert_name} at a webhook", alertname=c.alert_name)
            assert receiver == spec_owner(c.id), f"{c.alert_name} went to {receiver}"
            assert alert["labels"]["cause"] == c.id
            assert alert["labels"]["severity"] == c.severity
            assert alert["annotations"]["runbook_url"] == c.runbook_url
            if c.alert_min_crashes == 0:
                reason = REASONS.get(c.id, "CrashLoopBackOff")
                assert f"with kubelet reason {reason}," in alert["annotations"]["description"]
            else:
                # increase() extrapolates over a young series, so the count may read higher.
                crashes = re.search(r"crashed (\d+) times", alert["annotations"]["description"])
                assert crashes and int(crashes.group(1)) >= c.alert_min_crashes, alert["annotations"]

        receiver, alert = webhook_receiver.wait_for_alert(
            timeout=DELIVERY_TIMEOUT, what="the restart alert for a container the exporter does not know",
            alertname=RESTARTS_INCREASING, pod=ghost["pod"])
        assert (receiver, alert["labels"]["cause"]) == (spec_owner("unknown"), "unknown")
        receiver, _ = webhook_receiver.wait_for_alert(timeout=DELIVERY_TIMEOUT, what="the Failed-phase alert",
                                                      alertname=POD_FAILED, pod="done-job-x8k2p")
        assert receiver == "app-owners"

        broken = [(g["name"], r["name"], r.get("lastError")) for g in prom.rule_groups() for r in g["rules"]
                  if r.get("health") != "ok"]
        assert not broken, f"rules that failed to evaluate on a real Prometheus: {broken}"
    finally:
        exporter.stop()


def _alert(labels: dict[str, str]) -> dict[str, Any]:
    now = time.time()
    return {"labels": labels, "annotations": {},
            "startsAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 60)),
            "endsAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + 3600))}


def _state(am: Alertmanager, alertname: str) -> dict[str, Any] | None:
    for a in am.alerts():
        if a["labels"].get("alertname") == alertname:
            status: dict[str, Any] = a["status"]
            return status
    return None


def test_node_pressure_and_critical_alerts_mute_the_alerts_they_explain(
    webhook_receiver: WebhookReceiver, alertmanager_factory: Callable[..., Alertmanager]
) -> None:
    """Node pressure mutes its pod's other alerts, critical mutes its container's warnings; nothing else."""
    am = alertmanager_factory(config_text=fast_routing(webhook_receiver))
    pressure, secret, sigkill = cause("node_pressure"), cause("missing_secret"), cause("sigkill")
    evicted = {"namespace": "shop", "pod": "cart-5f6d8c9b7-kq2lp"}
    api = {"namespace": "payments", "workload": "payment-service", "workload_kind": "Deployment",
           "container": "app"}
    sources = [
        _alert({"alertname": pressure.alert_name, "cause": pressure.id, "severity": pressure.severity,
                "team": pressure.team, **evicted, "workload": "cart", "container": "app"}),
        _alert({"alertname": secret.alert_name, "cause": secret.id, "severity": secret.severity, "team": secret.team,
                **api, "pod": "payment-service-7d9c6b5f4-x2vqz"}),
    ]
    targets = [
        _alert({"alertname": POD_FAILED, "severity": "warning", **evicted}),
        _alert({"alertname": POD_FAILED, "severity": "warning", "namespace": "shop", "pod": "cart-5f6d8c9b7-zz9qq"}),
        _alert({"alertname": RESTARTS_INCREASING, "cause": secret.id, "severity": "warning", **api,
                "pod": "payment-service-7d9c6b5f4-x2vqz"}),
        _alert({"alertname": sigkill.alert_name, "cause": sigkill.id, "severity": sigkill.severity,
                "team": sigkill.team, **api, "container": "sidecar"}),
    ]
    # Inhibition only mutes what arrives once the source is known: Alertmanager's inhibitor learns
    # of alerts asynchronously, so sources posted in the same batch as their targets could lose the
    # race against the first flush (the pack gives CrashLoopPodFailed a longer `for` than node
    # pressure's for this reason).
    am.post_alerts(sources)
    for source in sources:
        webhook_receiver.wait_for_alert(timeout=20, what="the inhibiting alert delivered",
                                        alertname=source["labels"]["alertname"])
    am.post_alerts(targets)

    def statuses() -> dict[tuple[str, str, str], dict[str, Any]]:
        return {(a["labels"]["alertname"], a["labels"].get("pod", ""), a["labels"].get("container", "")): a["status"]
                for a in am.alerts()}

    muted = [(POD_FAILED, evicted["pod"], ""), (RESTARTS_INCREASING, "payment-service-7d9c6b5f4-x2vqz", "app")]
    # The inhibitor learns of source alerts asynchronously: wait until it has, then compare.
    by_pod = wait_until(
        lambda: (s if len(s := statuses()) == 6 and all(s[k]["inhibitedBy"] for k in muted) else None),
        timeout=20, what="Alertmanager to mute the evicted pod's Failed alert and the warning of the paging container",
        on_timeout=lambda: str(statuses()))
    assert not by_pod[(POD_FAILED, "cart-5f6d8c9b7-zz9qq", "")]["inhibitedBy"], "another pod is not muted"
    assert not by_pod[(sigkill.alert_name, "", "sidecar")]["inhibitedBy"], "another container is not muted"
    assert not by_pod[(pressure.alert_name, evicted["pod"], "app")]["inhibitedBy"], "a source never mutes itself"
    assert not by_pod[(secret.alert_name, "payment-service-7d9c6b5f4-x2vqz", "app")]["inhibitedBy"]

    # What was not muted is delivered, to the owner of its cause.
    for alertname, expected in ((pressure.alert_name, spec_owner(pressure.id)),
                                (secret.alert_name, spec_owner(secret.id)),
                                (sigkill.alert_name, spec_owner(sigkill.id))):
        receiver, _ = webhook_receiver.wait_for_alert(timeout=20, what=f"{alertname} delivered", alertname=alertname)
        assert receiver == expected
    delivered = {(a["labels"]["alertname"], a["labels"].get("pod")) for _, a in webhook_receiver.firing()}
    assert (POD_FAILED, evicted["pod"]) not in delivered
    assert (RESTARTS_INCREASING, "payment-service-7d9c6b5f4-x2vqz") not in delivered


def test_a_failing_dependency_pages_its_owner_once_and_its_dependents_after_it_recovers(
    tmp_path: Path,
    webhook_receiver: WebhookReceiver,
    prometheus_factory: Callable[..., Prometheus],
    alertmanager_factory: Callable[..., Alertmanager],
) -> None:
    """Seed 001, Root Cause 4: postgres OOMs and two services that need it fail with
    dependency_unavailable. Through real Prometheus and Alertmanager, postgres's alert is delivered
    and the dependents' alerts are muted by it; a third service whose dependency is healthy is not.
    When postgres recovers (its dependency gauge goes away) and a dependent still fails, the
    dependent's own alert is delivered."""
    root_cause, dependent_cause = cause(CauseId.OOMKILLED), cause(CauseId.DEPENDENCY_UNAVAILABLE)
    root = {"namespace": "production", "workload_kind": "StatefulSet", "workload": "postgres",
            "container": "postgres", "container_type": "regular"}
    dependency = {"dependency_namespace": "production", "dependency_workload_kind": "StatefulSet",
                  "dependency_workload": "postgres", "dependency_cause": root_cause.id}

    def dependent(workload: str) -> dict[str, str]:
        return {"namespace": "production", "workload_kind": "Deployment", "workload": workload,
                "pod": f"{workload}-7d4b9c-m2f8q", "container": "app", "container_type": "regular"}

    api, worker, billing = dependent("api"), dependent("worker"), dependent("billing")
    exporter = MetricsTarget()
    exporter.declare("crashloop_container_failing", "gauge", "Containers failing now, by cause.")
    exporter.declare("crashloop_crashes_total", "counter", "Container crashes by cause.")
    exporter.declare("crashloop_container_dependency_failing", "gauge", "Dependents of a failing root.")
    exporter.start()
    try:
        exporter.set("crashloop_crashes_total", {**root, "cause": root_cause.id}, 0)
        am = alertmanager_factory(config_text=fast_routing(webhook_receiver))
        prom = prometheus_factory(
            scrape_configs=[scrape_config("crashloop-exporter", host_port(exporter.url))],
            rule_files=[fast_rules(tmp_path / "rules")],
            alertmanager_url=am.url,
        )
        prom.wait_for_targets_up()
        wait_until(lambda: prom.query("crashloop_crashes_total == 0"), timeout=20,
                   what="Prometheus to scrape the root's new counter at 0")
        exporter.set("crashloop_crashes_total", {**root, "cause": root_cause.id}, root_cause.alert_min_crashes)
        receiver, alert = webhook_receiver.wait_for_alert(
            timeout=DELIVERY_TIMEOUT, what="postgres's OOMKilled alert", alertname=root_cause.alert_name)
        assert receiver == spec_owner(root_cause.id)
        assert (alert["labels"]["root_namespace"], alert["labels"]["root_workload"]) == ("production", "postgres")

        for box in (api, worker, billing):
            exporter.set("crashloop_container_failing",
                         {**box, "cause": dependent_cause.id, "reason": "CrashLoopBackOff"}, 1)
        for box in (api, worker):
            exporter.set("crashloop_container_dependency_failing", {**box, **dependency}, 1)

        def states() -> dict[tuple[str, str], dict[str, Any]]:
            return {(a["labels"]["workload"], a["labels"].get("root_workload", "")): a
                    for a in am.alerts() if a["labels"].get("alertname") == dependent_cause.alert_name}

        seen = wait_until(
            lambda: (s if {("api", "postgres"), ("worker", "postgres"), ("billing", "billing")} <= set(s)
                     and all(s[(w, "postgres")]["status"]["inhibitedBy"] for w in ("api", "worker")) else None)
            if (s := states()) else None,
            timeout=DELIVERY_TIMEOUT, what="the dependents' alerts at Alertmanager, muted by postgres's",
            on_timeout=lambda: json.dumps(states(), indent=1))
        for w in ("api", "worker"):
            labels = seen[(w, "postgres")]["labels"]
            assert labels["dependent"] == "true" and labels["dependency_cause"] == root_cause.id, labels
            description = seen[(w, "postgres")]["annotations"]["description"]
            assert "It needs StatefulSet/postgres in namespace production, which is itself failing (cause " \
                   f"{root_cause.id})" in description, description
        assert not seen[("billing", "billing")]["status"]["inhibitedBy"], "a healthy dependency mutes nothing"
        receiver, _ = webhook_receiver.wait_for_alert(
            timeout=DELIVERY_TIMEOUT, what="billing's alert (its dependency is healthy)",
            alertname=dependent_cause.alert_name, workload="billing")
        assert receiver == spec_owner(dependent_cause.id)

        # postgres recovers: the exporter drops the dependency gauge; api still fails on its own.
        exporter.remove("crashloop_container_dependency_failing", {**api, **dependency})
        receiver, alert = webhook_receiver.wait_for_alert(
            timeout=DELIVERY_TIMEOUT, what="api's own alert once postgres recovered",
            alertname=dependent_cause.alert_name, workload="api", root_workload="api")
        assert receiver == spec_owner(dependent_cause.id)
        assert "dependent" not in alert["labels"], alert["labels"]
        muted = {(a["labels"]["alertname"], a["labels"]["workload"]) for _, a in webhook_receiver.firing()
                 if a["labels"].get("root_workload") == "postgres" and a["labels"].get("dependent") == "true"}
        assert not muted, f"dependents delivered while postgres's alert fired: {sorted(muted)}"
    finally:
        exporter.stop()
