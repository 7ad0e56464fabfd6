"""Helpers of the deploy tests: render every variant with the real `kubectl kustomize` or `helm template`,
and walk what it printed.

A module of its own (not conftest) so test modules can import it as tests.deploy.deploy_helpers,
under pytest and mypy alike.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
DEPLOY = REPO_ROOT / "deploy"
CHART = DEPLOY / "helm" / "crashloop-exporter"
TOOLS_BIN = REPO_ROOT / "tools" / "bin"

RELEASE = "crashloop-exporter"
"""Release name and namespace the chart is rendered with, so its objects compare to the kustomize base's."""

TOOLS_HINT = "`make tools` installs the pinned helm 4.1 and kubectl 1.35 into tools/bin (scripts/install-tools.sh)"


@dataclass(frozen=True)
class Variant:
    """One way to install the exporter, a kustomize overlay or a chart values file, and what its
    render must hold: the policy tests derive their expectations from these fields."""

    name: str
    """`base`, `no-logs`, ... for overlays; `helm/<ci file stem>` for the chart."""
    source: Path
    """The overlay directory, or the chart's ci/*-values.yaml file."""
    workload: bool = True
    """Runs the exporter (ServiceAccount, RBAC, Deployment or StatefulSet, Service)."""
    logs: bool = True
    sharded: bool = False
    dependencies: bool = False
    """Grants services and endpointslices for dependency chains."""
    monitoring: bool = False
    """Renders the ServiceMonitor, PrometheusRules and dashboard ConfigMaps."""
    namespace: bool = True
    """Renders the Namespace object."""
    unsharded: str = ""
    """For a sharded variant: the variant whose pod it must equal apart from the shard flags."""
    service_from: str = ""
    """For a monitoring variant: the variant whose Service its ServiceMonitor selects (itself if empty)."""

    @property
    def helm(self) -> bool:
        return self.name.startswith("helm/")

    @property
    def managed_by(self) -> str:
        return "Helm" if self.helm else "kustomize"


def _chart(stem: str, **features: Any) -> Variant:
    # The chart grants dependency-chain access by default and leaves the namespace to helm.
    features = {"dependencies": True, "namespace": False, **features}
    return Variant(f"helm/{stem}", CHART / "ci" / f"{stem}-values.yaml", **features)


VARIANTS: dict[str, Variant] = {v.name: v for v in (
    Variant("base", DEPLOY / "base", dependencies=True),
    Variant("no-logs", DEPLOY / "no-logs", logs=False, dependencies=True),
    Variant("sharded", DEPLOY / "sharded", sharded=True, unsharded="base", dependencies=True),
    Variant("prometheus-operator", DEPLOY / "prometheus-operator", workload=False, monitoring=True,
            namespace=False, service_from="base"),
    _chart("default"),
    _chart("no-logs", logs=False),
    _chart("no-dependencies", dependencies=False),
    _chart("sharded", sharded=True, unsharded="helm/default"),
    _chart("prometheus-operator", monitoring=True),
    _chart("networkpolicy"),
    _chart("scoped"),
)}
"""Every kustomization a user applies on its own, and every supported set of chart values."""

OVERLAYS = tuple(VARIANTS)
"""Every variant's name (kustomize overlays and chart values files alike)."""

WORKLOAD_OVERLAYS = tuple(name for name, v in VARIANTS.items() if v.workload)
"""The variants that run the exporter (the prometheus-operator overlay only adds monitoring objects)."""

MONITORING_OVERLAYS = tuple(name for name, v in VARIANTS.items() if v.monitoring)
SHARDED_OVERLAYS = tuple(name for name, v in VARIANTS.items() if v.sharded)
UNSHARDED_OVERLAYS = tuple(name for name, v in VARIANTS.items() if v.workload and not v.sharded)

OLDEST_KUBERNETES = (1, 28)
"""apps.kubernetes.io/pod-index (the sharded variant's shard number) is on by default from 1.28."""

SUPPORTED_KUBERNETES = [
    v for v in sorted(set(kubernetes_validate.utils.all_versions()), key=lambda v: tuple(map(int, v.split("."))))
    if tuple(map(int, v.split(".")[:2])) >= OLDEST_KUBERNETES
]
"""1.28 up to the newest schema kubernetes-validate bundles (1.37 with kubernetes-validate 1.37.0)."""

READ = frozenset({"get", "list", "watch"})

CORE = ""

ALWAYS_ACCESS: dict[tuple[str, str], frozenset[str]] = {
    (CORE, "pods"): READ,
    (CORE, "events"): READ,
    (CORE, "nodes"): READ,
}
"""(API group, resource) -> verbs every variant grants."""

LOG_ACCESS = {(CORE, "pods/log"): frozenset({"get"})}
"""Logs are one GET per crashed container; list/watch mean nothing for this subresource."""

DEPENDENCY_ACCESS = {(CORE, "services"): READ, ("discovery.k8s.io", "endpointslices"): READ}
"""Dependency chains: the Service and EndpointSlices behind an address a failing container names."""


@dataclass(frozen=True)
class Rendered:
    """One variant as `kubectl kustomize` or `helm template` printed it."""

    overlay: str
    objects: list[dict[str, Any]]
    stderr: str

    @property
    def variant(self) -> Variant:
        return VARIANTS[self.overlay]

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [o for o in self.objects if o["kind"] == kind]

    def one(self, kind: str) -> dict[str, Any]:
        found = self.of_kind(kind)
        assert len(found) == 1, f"{self.overlay}: expected one {kind}, found {len(found)}"
        return found[0]


def granted_access(rendered: Rendered) -> dict[tuple[str, str], frozenset[str]]:
    """(API group, resource) -> verbs granted by the variant's (Cluster)Roles, after checking their shape."""
    access: dict[tuple[str, str], set[str]] = {}
    for role in rendered.of_kind("ClusterRole") + rendered.of_kind("Role"):
        for rule in role["rules"]:
            assert set(rule) <= {"apiGroups", "resources", "verbs"}, f"unexpected rule fields: {rule}"
            assert len(rule["apiGroups"]) == 1, f"one API group per rule: {rule}"
            for resource in rule["resources"]:
                access.setdefault((rule["apiGroups"][0], resource), set()).update(rule["verbs"])
    return {k: frozenset(v) for k, v in access.items()}


def tool_path(name: str) -> str:
    """$KUBECTL / $HELM, else the pinned binary in tools/bin, else one on PATH; a missing tool
    fails the tests instead of skipping them."""
    variable = name.upper()
    pinned = TOOLS_BIN / name
    path = os.environ.get(variable) or (str(pinned) if pinned.exists() else None) or shutil.which(name)
    if not path:
        pytest.fail(f"{name} not found (not in ${variable}, {TOOLS_BIN} or PATH). {TOOLS_HINT}")
    return path


def kubectl_path() -> str:
    return tool_path("kubectl")


def helm_path() -> str:
    return tool_path("helm")


def run_tool(argv: list[str]) -> subprocess.CompletedProcess[str]:
    """Run helm or kubectl; a non-zero exit fails the test with its stderr."""
    result = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    if result.returncode != 0:
        pytest.fail(f"{' '.join(argv)} failed ({result.returncode}): {result.stderr.strip()}\n{TOOLS_HINT}")
    return result


def _parse(name: str, result: subprocess.CompletedProcess[str]) -> Rendered:
    objects = [o for o in yaml.safe_load_all(result.stdout) if o is not None]
    return Rendered(overlay=name, objects=objects, stderr=result.stderr)


def render_overlay(directory: Path) -> Rendered:
    """`kubectl kustomize DIR` parsed into objects (fails the test on a non-zero exit)."""
    return _parse(directory.name, run_tool([kubectl_path(), "kustomize", str(directory)]))


def helm_template(*args: str, release: str = RELEASE, namespace: str = RELEASE) -> subprocess.CompletedProcess[str]:
    """`helm template RELEASE deploy/helm/crashloop-exporter -n NAMESPACE ARGS...` (fails the test on an error)."""
    return run_tool([helm_path(), "template", release, str(CHART), "--namespace", namespace, *args])


def render_chart(name: str, *args: str, release: str = RELEASE, namespace: str = RELEASE) -> Rendered:
    """The chart rendered with `args` (values files, --set), parsed into objects."""
    return _parse(name, helm_template(*args, release=release, namespace=namespace))


def render_variant(variant: Variant) -> Rendered:
    if variant.helm:
        return render_chart(variant.name, "--values", str(variant.source))
    rendered = render_overlay(variant.source)
    return Rendered(overlay=variant.name, objects=rendered.objects, stderr=rendered.stderr)


def pod_spec(workload: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = workload["spec"]["template"]["spec"]
    return spec


def exporter_container(workload: dict[str, Any]) -> dict[str, Any]:
    containers = pod_spec(workload)["containers"]
    assert [c["name"] for c in containers] == ["exporter"], "the pod runs exactly one container, 'exporter'"
    container: dict[str, Any] = containers[0]
    return container


def workloads(rendered: Rendered) -> list[dict[str, Any]]:
    return [o for o in rendered.objects if o["kind"] in ("Deployment", "StatefulSet", "DaemonSet")]


def the_workload(rendered: Rendered) -> dict[str, Any]:
    found = workloads(rendered)
    assert len(found) == 1, f"{rendered.overlay}: expected one workload, found {len(found)}"
    return found[0]


def walk(value: Any) -> Iterator[Any]:
    """Every nested value of a parsed YAML document, depth first."""
    yield value
    if isinstance(value, dict):
        for v in value.values():
            yield from walk(v)
    elif isinstance(value, list):
        for v in value:
            yield from walk(v)
