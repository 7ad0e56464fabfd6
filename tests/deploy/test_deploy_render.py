"""Every variant renders (overlays with kubectl's kustomize, chart values files with helm template) and
every object it prints is valid Kubernetes.

Built-in kinds validate offline against the Kubernetes JSON schemas bundled with
kubernetes-validate, in strict mode (unknown fields fail), for every minor version we support.
prometheus-operator's CRDs have no bundled schema, so their structure is checked here by hand.
"""

from __future__ import annotations

import json
import re
from typing import Any

import kubernetes_validate
import pytest

from crashloop_exporter import __version__
from tests.deploy.deploy_helpers import (
    MONITORING_OVERLAYS,
    OVERLAYS,
    SUPPORTED_KUBERNETES,
    VARIANTS,
    WORKLOAD_OVERLAYS,
    Rendered,
    exporter_container,
    the_workload,
)

CRD_KINDS = {"ServiceMonitor", "PrometheusRule"}

STANDARD_LABELS = {
    "app.kubernetes.io/name": "crashloop-exporter",
    "app.kubernetes.io/instance": "crashloop-exporter",
    "app.kubernetes.io/version": __version__,
    "app.kubernetes.io/component": "exporter",
    "app.kubernetes.io/part-of": "crashloop-exporter",
}
"""Plus app.kubernetes.io/managed-by: kustomize or Helm (the chart also adds helm.sh/chart)."""

NAMESPACE = "crashloop-exporter"
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding"}

# prometheus-operator's duration pattern (monitoring.coreos.com/v1 Duration).
DURATION = re.compile(r"^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$")
RULE_GROUP_FIELDS = {"name", "interval", "rules", "partial_response_strategy", "limit", "query_offset", "labels"}
RULE_FIELDS = {"alert", "record", "expr", "for", "keep_firing_for", "labels", "annotations"}
SERVICEMONITOR_ENDPOINT_FIELDS = {"port", "path", "interval", "scrapeTimeout", "honorLabels", "relabelings",
                                  "metricRelabelings", "scheme", "params", "honorTimestamps"}
CLIENT_SIDE_APPLY_LIMIT = 262_144


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_renders_without_warnings(rendered: dict[str, Rendered], overlay: str) -> None:
    """`kubectl kustomize deploy/<overlay>` succeeds, prints objects, and warns about nothing
    (no deprecated kustomize fields)."""
    result = rendered[overlay]
    assert result.objects, f"{overlay} rendered no objects"
    assert result.stderr.strip() == "", f"{overlay}: kustomize warned: {result.stderr}"
    for obj in result.objects:
        assert obj.get("apiVersion") and obj.get("kind") and obj.get("metadata", {}).get("name"), obj


@pytest.mark.parametrize("version", SUPPORTED_KUBERNETES)
@pytest.mark.parametrize("overlay", OVERLAYS)
def test_builtin_objects_validate_strictly(rendered: dict[str, Rendered], overlay: str, version: str) -> None:
    """Every built-in object of every overlay validates against that Kubernetes version's schema,
    rejecting unknown fields."""
    checked = 0
    for obj in rendered[overlay].objects:
        if obj["kind"] in CRD_KINDS:
            continue
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as e:
            path = ".".join(str(p) for p in e.path)
            pytest.fail(f"{overlay} {obj['kind']}/{obj['metadata']['name']} @ {version}: {path}: {e.message}")
        checked += 1
    kinds = {o["kind"] for o in rendered[overlay].objects}
    assert checked > 0, f"{overlay} rendered no built-in object to validate"
    if kinds & {"Deployment", "StatefulSet"}:
        assert kinds >= {"ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Service"}, kinds


def test_supported_versions_span_oldest_to_newest() -> None:
    """Validation covers 1.28 (the oldest we support) through the newest bundled schema."""
    assert SUPPORTED_KUBERNETES[0].startswith("1.28.")
    assert SUPPORTED_KUBERNETES[-1] == max(kubernetes_validate.utils.all_versions(),
                                           key=lambda v: tuple(map(int, v.split("."))))


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_object_carries_the_standard_labels(rendered: dict[str, Rendered], overlay: str) -> None:
    """Each object (and each pod template) has the six app.kubernetes.io labels with this release's
    version, managed-by naming the tool that rendered it."""
    expected = {**STANDARD_LABELS, "app.kubernetes.io/managed-by": VARIANTS[overlay].managed_by}
    for obj in rendered[overlay].objects:
        labels = obj["metadata"].get("labels", {})
        missing = {k: v for k, v in expected.items() if labels.get(k) != v}
        assert not missing, f"{overlay} {obj['kind']}/{obj['metadata']['name']}: wrong or missing {missing}"
        template = obj.get("spec", {}).get("template")
        if template:
            assert expected.items() <= template["metadata"]["labels"].items()


@pytest.mark.parametrize("overlay", WORKLOAD_OVERLAYS)
def test_selectors_use_only_stable_labels(rendered: dict[str, Rendered], overlay: str) -> None:
    """Selectors never include the version label, which changes every release (a Deployment's
    selector is immutable, so a versioned one would break upgrades)."""
    stable = {"app.kubernetes.io/name": "crashloop-exporter", "app.kubernetes.io/instance": "crashloop-exporter"}
    workload = the_workload(rendered[overlay])
    assert workload["spec"]["selector"] == {"matchLabels": stable}
    assert rendered[overlay].one("Service")["spec"]["selector"] == stable


@pytest.mark.parametrize("overlay", WORKLOAD_OVERLAYS)
def test_image_tag_is_this_release(rendered: dict[str, Rendered], overlay: str) -> None:
    """The image is pinned to the package version (an immutable tag, never latest)."""
    image = exporter_container(the_workload(rendered[overlay]))["image"]
    repository, _, tag = image.rpartition(":")
    assert repository == "ghcr.io/crashloop-exporter/crashloop-exporter"
    assert tag == __version__ and tag != "latest"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_namespaced_objects_live_in_the_exporter_namespace(rendered: dict[str, Rendered], overlay: str) -> None:
    """Everything namespaced is in `crashloop-exporter`; only Namespace and cluster RBAC are not."""
    for obj in rendered[overlay].objects:
        namespace = obj["metadata"].get("namespace")
        if obj["kind"] in CLUSTER_SCOPED:
            assert namespace is None, f"{obj['kind']} is cluster-scoped"
        else:
            assert namespace == NAMESPACE, f"{obj['kind']}/{obj['metadata']['name']} in {namespace!r}"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_objects_fit_client_side_apply(rendered: dict[str, Rendered], overlay: str) -> None:
    """Each object stays under the 256 KiB annotation cap that plain `kubectl apply` hits when it
    records the last-applied configuration."""
    for obj in rendered[overlay].objects:
        size = len(json.dumps(obj, separators=(",", ":")).encode())
        assert size < CLIENT_SIDE_APPLY_LIMIT - 4096, f"{obj['kind']}/{obj['metadata']['name']}: {size} bytes"


@pytest.mark.parametrize("overlay", MONITORING_OVERLAYS)
def test_servicemonitor_scrapes_the_metrics_port(rendered: dict[str, Rendered], overlay: str) -> None:
    """The ServiceMonitor selects the exporter's Service by its labels, scrapes the port named metrics
    every 30s with honorLabels, and names the job crashloop-exporter."""
    monitor = rendered[overlay].one("ServiceMonitor")
    service = rendered[VARIANTS[overlay].service_from or overlay].one("Service")
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    spec = monitor["spec"]
    assert spec["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    assert spec["namespaceSelector"] == {"matchNames": [service["metadata"]["namespace"]]}
    assert service["metadata"]["labels"][spec["jobLabel"]] == "crashloop-exporter"
    (endpoint,) = spec["endpoints"]
    assert set(endpoint) <= SERVICEMONITOR_ENDPOINT_FIELDS
    assert endpoint["port"] in {p["name"] for p in service["spec"]["ports"]} and endpoint["port"] == "metrics"
    assert endpoint["interval"] == "30s" and DURATION.match(endpoint["scrapeTimeout"])
    assert endpoint["honorLabels"] is True
    assert {"action": "labeldrop", "regex": "pod|container"} in endpoint["relabelings"]


def _check_rule_groups(groups: Any, *, where: str) -> int:
    assert isinstance(groups, list), f"{where}: spec.groups must be a list"
    names = [g.get("name") for g in groups]
    assert len(names) == len(set(names)), f"{where}: duplicate group names {names}"
    count = 0
    for group in groups:
        assert set(group) <= RULE_GROUP_FIELDS, f"{where}: unknown group fields {set(group) - RULE_GROUP_FIELDS}"
        assert isinstance(group["name"], str) and group["name"]
        if "interval" in group:
            assert DURATION.match(group["interval"]), f"{where}: interval {group['interval']!r}"
        for rule in group.get("rules", []):
            assert set(rule) <= RULE_FIELDS, f"{where}: unknown rule fields {set(rule) - RULE_FIELDS}"
            assert ("alert" in rule) != ("record" in rule), f"{where}: a rule is an alert or a record: {rule}"
            assert isinstance(rule["expr"], (str, int)) and str(rule["expr"]).strip()
            for key in ("for", "keep_firing_for"):
                if key in rule:
                    assert DURATION.match(rule[key]), f"{where}: {key} {rule[key]!r}"
            for key in ("labels", "annotations"):
                assert all(isinstance(v, str) for v in rule.get(key, {}).values()), f"{where}: {key} values"
            count += 1
    return count


@pytest.mark.parametrize("overlay", MONITORING_OVERLAYS)
def test_prometheusrules_have_the_crd_structure(rendered: dict[str, Rendered], overlay: str) -> None:
    """Each PrometheusRule holds valid groups: known fields only, alert xor record, an expr,
    durations in the operator's format, string labels and annotations."""
    rules = rendered[overlay].of_kind("PrometheusRule")
    assert rules, f"{overlay} rendered no PrometheusRule"
    for obj in rules:
        assert obj["apiVersion"] == "monitoring.coreos.com/v1"
        assert set(obj["spec"]) == {"groups"}
        _check_rule_groups(obj["spec"]["groups"], where=obj["metadata"]["name"])


def test_rule_group_checker_rejects_a_rule_with_alert_and_record() -> None:
    """The hand-written CRD check is not vacuous: a rule that is both alert and record fails it."""
    bad = [{"name": "g", "rules": [{"alert": "A", "record": "b", "expr": "up"}]}]
    with pytest.raises(AssertionError):
        _check_rule_groups(bad, where="test")
    good = [{"name": "g", "rules": [{"alert": "A", "expr": "up == 0", "for": "5m", "labels": {"severity": "x"}}]}]
    assert _check_rule_groups(good, where="test") == 1
