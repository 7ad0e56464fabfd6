"""The Helm chart: `helm lint --strict` passes, each ci/ values file is a tested variant, and the chart
renders the same objects as the kustomize overlays it stands for.

The policy and schema tests (test_deploy_policy, test_deploy_render) already run on every ci/ file;
here are the chart's own promises: parity with kustomize, values that switch access off, release
names other than the default, and its generated files/ kept fresh by `crashloop-exporter generate`.
"""

from __future__ import annotations

import copy
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from crashloop_exporter import __version__, artifacts, deploygen
from tests.deploy.deploy_helpers import (
    CHART,
    DEPENDENCY_ACCESS,
    DEPLOY,
    REPO_ROOT,
    SUPPORTED_KUBERNETES,
    VARIANTS,
    Rendered,
    exporter_container,
    granted_access,
    helm_path,
    kubectl_path,
    render_chart,
    run_tool,
    the_workload,
)

KUSTOMIZE_EQUIVALENT = {
    "helm/default": ("base",),
    "helm/no-logs": ("no-logs",),
    "helm/sharded": ("sharded",),
    "helm/prometheus-operator": ("base", "prometheus-operator"),
}
"""Chart variant -> the kustomize directories that, applied together, install the same objects."""

TOOL_LABELS = ("app.kubernetes.io/managed-by", "helm.sh/chart", "release")
"""Labels only one side sets: the tool's own, and `release`, which ci/prometheus-operator-values.yaml
adds for kube-prometheus-stack's selectors (docs/deploy.md adds it in a kustomize overlay of your own)."""
DEPENDENCY_RESOURCES = {resource for _, resource in DEPENDENCY_ACCESS}

PINNED_KUBECTL = (1, 35)
PINNED_HELM_MAJOR = 4


def _ci_files() -> list[Path]:
    return sorted((CHART / "ci").glob("*-values.yaml"))


def _strip_tool_labels(obj: dict[str, Any]) -> None:
    for metadata in (obj["metadata"], obj.get("spec", {}).get("template", {}).get("metadata", {})):
        for key in TOOL_LABELS:
            metadata.get("labels", {}).pop(key, None)


def _comparable(objects: list[dict[str, Any]], *, drop_dependency_rules: bool,
                drop_namespace: bool) -> dict[tuple[str, str], dict[str, Any]]:
    """Objects by (kind, name), without the labels that name the tool, and without what one side
    renders on purpose and the other does not (the chart's dependency-chain rule, the Namespace)."""
    result: dict[tuple[str, str], dict[str, Any]] = {}
    for original in objects:
        obj = copy.deepcopy(original)
        if drop_namespace and obj["kind"] == "Namespace":
            continue
        _strip_tool_labels(obj)
        if drop_dependency_rules and obj["kind"] == "ClusterRole":
            obj["rules"] = [r for r in obj["rules"] if not set(r["resources"]) <= DEPENDENCY_RESOURCES]
        key = (obj["kind"], obj["metadata"]["name"])
        assert key not in result, f"two objects {key}"
        result[key] = obj
    return result


def test_chart_lints_strictly() -> None:
    """`helm lint --strict` passes on the defaults and on every ci/ values file (warnings fail)."""
    for values in [None, *_ci_files()]:
        args = [helm_path(), "lint", "--strict", str(CHART)] + (["--values", str(values)] if values else [])
        result = run_tool(args)
        assert "0 chart(s) failed" in result.stdout, result.stdout


def test_every_ci_values_file_is_a_tested_variant() -> None:
    """Each ci/*-values.yaml (what chart-testing installs) has an entry in the variant table, so the
    policy tests run on it, and every chart variant in the table has its file; the four variants
    SPEC names are there."""
    on_disk = {f"helm/{path.name.removesuffix('-values.yaml')}" for path in _ci_files()}
    in_table = {name for name, variant in VARIANTS.items() if variant.helm}
    assert on_disk == in_table
    assert {"helm/default", "helm/no-logs", "helm/sharded", "helm/prometheus-operator"} <= on_disk


def test_chart_versions_are_this_release() -> None:
    """Chart.yaml's appVersion (the default image tag) and version are the package version."""
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    assert chart["apiVersion"] == "v2" and chart["name"] == "crashloop-exporter"
    assert chart["appVersion"] == __version__ and chart["version"] == __version__


@pytest.mark.parametrize("variant", sorted(KUSTOMIZE_EQUIVALENT))
def test_chart_renders_the_same_objects_as_kustomize(rendered: dict[str, Rendered], variant: str) -> None:
    """With release name and namespace crashloop-exporter, each chart variant renders exactly the
    objects of its kustomize directories, field for field, apart from the tool's labels, the
    Namespace (helm owns it) and, where an overlay lacks it, the chart's dependency-chain RBAC rule."""
    chart_variant = VARIANTS[variant]
    kustomize_objects = [o for name in KUSTOMIZE_EQUIVALENT[variant] for o in rendered[name].objects]
    kustomize_deps = all(VARIANTS[name].dependencies for name in KUSTOMIZE_EQUIVALENT[variant]
                         if VARIANTS[name].workload)
    chart = _comparable(rendered[variant].objects,
                        drop_dependency_rules=chart_variant.dependencies and not kustomize_deps,
                        drop_namespace=False)
    kustomize = _comparable(kustomize_objects, drop_dependency_rules=False,
                            drop_namespace=not chart_variant.namespace)
    assert sorted(chart) == sorted(kustomize)
    if chart_variant.monitoring:
        for kind in ("ServiceMonitor", "PrometheusRule"):
            assert all(o["metadata"]["labels"]["release"] == "kube-prometheus-stack"
                       for o in rendered[variant].of_kind(kind)), kind
    for key, obj in chart.items():
        assert obj == kustomize[key], f"{variant}: {key} differs from kustomize"


def test_dependencies_off_drops_its_rbac_and_passes_the_flag() -> None:
    """dependencies.enabled=false removes services and endpointslices from the ClusterRole and runs
    the exporter with --no-dependencies; logs stay as they were."""
    on = render_chart("deps-on")
    off = render_chart("deps-off", "--set", "dependencies.enabled=false")
    assert DEPENDENCY_ACCESS.items() <= granted_access(on).items()
    assert not set(DEPENDENCY_ACCESS) & set(granted_access(off))
    assert granted_access(off) == {k: v for k, v in granted_access(on).items() if k not in DEPENDENCY_ACCESS}
    assert "--no-dependencies" in exporter_container(the_workload(off))["args"]
    assert "--no-dependencies" not in exporter_container(the_workload(on))["args"]


def test_no_logs_and_no_dependencies_together_leave_the_core_reads() -> None:
    """Both switches off: the ClusterRole is get/list/watch on pods, events and nodes alone."""
    result = render_chart("minimal", "--set", "logs.enabled=false", "--set", "dependencies.enabled=false")
    assert granted_access(result) == {("", r): frozenset({"get", "list", "watch"}) for r in ("pods", "events", "nodes")}


def test_another_release_name_renders_consistent_objects() -> None:
    """Release `ops` in namespace `monitoring`: objects are named ops-crashloop-exporter, the binding
    names the account the pod runs as, selectors and the ServiceMonitor select that release's pods,
    and everything validates strictly."""
    result = render_chart("ops", "--values", str(CHART / "ci" / "prometheus-operator-values.yaml"),
                          "--set", "shards=2", release="ops", namespace="monitoring")
    assert {o["metadata"].get("namespace") for o in result.objects} == {None, "monitoring"}
    assert result.one("ServiceMonitor")["spec"]["namespaceSelector"] == {"matchNames": ["monitoring"]}
    workload = the_workload(result)
    assert workload["metadata"]["name"] == "ops-crashloop-exporter"
    selector = workload["spec"]["selector"]["matchLabels"]
    assert selector == {"app.kubernetes.io/name": "crashloop-exporter", "app.kubernetes.io/instance": "ops"}
    assert selector.items() <= workload["spec"]["template"]["metadata"]["labels"].items()
    assert result.one("Service")["spec"]["selector"] == selector
    assert result.one("ServiceMonitor")["spec"]["selector"]["matchLabels"] == selector
    assert result.one("PodDisruptionBudget")["spec"]["selector"]["matchLabels"] == selector
    account = result.one("ServiceAccount")["metadata"]["name"]
    binding = result.one("ClusterRoleBinding")
    assert binding["roleRef"]["name"] == result.one("ClusterRole")["metadata"]["name"] == "ops-crashloop-exporter"
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": account, "namespace": "monitoring"}]
    assert account == workload["spec"]["template"]["spec"]["serviceAccountName"]
    names = [o["metadata"]["name"] for o in result.of_kind("ConfigMap") + result.of_kind("PrometheusRule")]
    assert names and all(n.startswith("ops-crashloop-exporter") for n in names), names
    assert "--total-shards=2" in exporter_container(workload)["args"]
    for obj in result.objects:
        if obj["apiVersion"].startswith("monitoring.coreos.com"):
            continue
        kubernetes_validate.validate(obj, SUPPORTED_KUBERNETES[-1], strict=True)


def test_namespace_create_renders_the_base_namespace(rendered: dict[str, Rendered]) -> None:
    """namespace.create=true renders the release namespace enforcing the restricted Pod Security
    Standard: deploy/base's Namespace, apart from the tool's labels."""
    namespace = render_chart("namespace", "--set", "namespace.create=true").one("Namespace")
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    base = copy.deepcopy(rendered["base"].one("Namespace"))
    _strip_tool_labels(namespace)
    _strip_tool_labels(base)
    assert namespace == base


def test_networkpolicy_admits_only_the_metrics_port_and_the_api_server(rendered: dict[str, Rendered]) -> None:
    """The NetworkPolicy selects the exporter's pods, lets in only the metrics port (from the peers
    given), and lets out only TCP to the API server's ports and CIDRs."""
    result = rendered["helm/networkpolicy"]
    policy = result.one("NetworkPolicy")["spec"]
    values = yaml.safe_load((CHART / "ci" / "networkpolicy-values.yaml").read_text())["networkPolicy"]
    assert policy["podSelector"] == the_workload(result)["spec"]["selector"]
    assert policy["policyTypes"] == ["Ingress", "Egress"]
    (ingress,) = policy["ingress"]
    assert ingress["ports"] == [{"port": "metrics", "protocol": "TCP"}]
    assert ingress["from"] == values["ingressFrom"]
    (egress,) = policy["egress"]
    assert egress["ports"] == [{"port": p, "protocol": "TCP"} for p in (443, 6443)]
    assert egress["to"] == [{"ipBlock": {"cidr": c}} for c in values["apiServer"]["cidrs"]]
    assert not rendered["helm/default"].of_kind("NetworkPolicy")


def test_scoped_values_become_flags(rendered: dict[str, Rendered]) -> None:
    """namespaces, labelSelector, causesEndpoint and logLevel become the matching serve flags."""
    args = exporter_container(the_workload(rendered["helm/scoped"]))["args"]
    values = yaml.safe_load((CHART / "ci" / "scoped-values.yaml").read_text())
    assert f"--namespaces={','.join(values['namespaces'])}" in args
    assert f"--label-selector={values['labelSelector']}" in args
    assert "--no-causes-endpoint" in args and f"--log-level={values['logLevel']}" in args


def test_dashboards_reach_the_configmaps_byte_for_byte(rendered: dict[str, Rendered]) -> None:
    """Each dashboard ConfigMap of the chart holds its dashboards/*.json exactly, final newline included."""
    shipped = {k: v for c in rendered["helm/prometheus-operator"].of_kind("ConfigMap") for k, v in c["data"].items()}
    assert shipped == {p.name: p.read_text() for p in sorted((REPO_ROOT / "dashboards").glob("*.json"))}


def _copy_chart_tree(tmp_path: Path) -> Path:
    """A minimal checkout: the base Deployment, the real rules/ and dashboards/, and the chart files."""
    (tmp_path / "deploy" / "base").mkdir(parents=True)
    (tmp_path / "deploy" / "base" / "deployment.yaml").write_text((DEPLOY / "base" / "deployment.yaml").read_text())
    for pattern in ("rules/*.yaml", "dashboards/*.json"):
        for source in REPO_ROOT.glob(pattern):
            target = tmp_path / source.relative_to(REPO_ROOT)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(source.read_text())
    for rel, text in deploygen.render_chart_files(tmp_path).items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    return tmp_path


def test_check_mode_names_a_stale_or_leftover_chart_file(tmp_path: Path) -> None:
    """`generate --check` names a chart copy edited by hand and a file no source renders any more
    (the templates glob files/, so a leftover would still be deployed)."""
    tree = _copy_chart_tree(tmp_path)
    assert artifacts.stale_files(tree, only=["helm"]) == []
    rules = sorted((tree / deploygen.CHART_FILES / "rules").glob("*.yaml"))[0]
    rules.write_text(rules.read_text().replace("for: ", "for: 1", 1))
    leftover = tree / deploygen.CHART_FILES / "dashboards" / "removed.json"
    leftover.write_text(json.dumps({"panels": []}))
    assert artifacts.stale_files(tree, only=["helm"]) == [
        rules.relative_to(tree).as_posix(), leftover.relative_to(tree).as_posix()]


def test_chart_rule_files_hold_the_groups_of_rules_dir() -> None:
    """Each files/rules/*.yaml is a generated header plus the groups of the rules/ file of that name."""
    for path in sorted((REPO_ROOT / deploygen.CHART_FILES / "rules").glob("*.yaml")):
        text = path.read_text()
        assert text.startswith("# GENERATED by `crashloop-exporter generate`"), path
        assert yaml.safe_load(text) == yaml.safe_load((REPO_ROOT / "rules" / path.name).read_text())


def test_pinned_tools_are_the_ones_under_test() -> None:
    """The deploy tests run kubectl >= 1.35 (kustomize v5.7) and helm 4, the versions tools/bin pins
    (a missing tool fails in deploy_helpers, it never skips)."""
    kubectl = json.loads(run_tool([kubectl_path(), "version", "--client", "-o", "json"]).stdout)["clientVersion"]
    assert (int(kubectl["major"]), int(re.sub(r"\D.*", "", kubectl["minor"]))) >= PINNED_KUBECTL, kubectl
    helm = run_tool([helm_path(), "version", "--short"]).stdout.strip()
    assert re.match(rf"v{PINNED_HELM_MAJOR}\.", helm), helm


@pytest.mark.parametrize(("setting", "message"), [
    ("shard=3", "additional properties 'shard' not allowed"),
    ("shards=0", "minimum"),
    ("logs.enable=false", "additional properties 'enable' not allowed"),
])
def test_values_schema_refuses_a_misspelt_or_bad_value(setting: str, message: str) -> None:
    """values.schema.json makes a typo or an impossible value a one-line helm error, not a silent default."""
    result = subprocess.run([helm_path(), "template", "crashloop-exporter", str(CHART), "--set", setting],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode != 0 and message in result.stderr, result.stdout[-500:] + result.stderr
