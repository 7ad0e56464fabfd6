"""The preflight checks, in one table, and the finding each one produces.

Every check exists to prevent one crash cause of the catalog: a finding carries that cause, the
catalog's remediation filled with the names the check found, and its runbook link, so a CI failure
reads like the alert the cluster would have raised an hour later. `reason` in the JSON is the check
id (SecretNotFound, NoMemoryLimit, ...): the kubelet has no reason yet, the check is the signal.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from crashloop_exporter.catalog import BY_ID
from crashloop_exporter.classify.remediation import render
from crashloop_exporter.findings import Evidence, Finding
from crashloop_exporter.model import ContainerType
from crashloop_exporter.preflight.manifests import Workload
from crashloop_exporter.refs import PathPart

Severity = Literal["error", "warning"]
Phase = Literal["static", "live"]


@dataclass(frozen=True, slots=True)
class Check:
    """One preflight check: what it looks at and which catalog cause it prevents."""

    id: str
    cause: str
    severity: Severity
    phase: Phase
    """static: the manifest alone; live: the manifest against the target namespace (or the bundle)."""
    summary: str


CHECKS: tuple[Check, ...] = (
    # -- against the namespace: what the kubelet will look up when it creates the container --------
    Check("SecretNotFound", "missing_secret", "error", "live",
          "a Secret referenced by env, envFrom or a volume does not exist in the target namespace"),
    Check("SecretKeyNotFound", "missing_secret_key", "error", "live",
          "the Secret exists but lacks a key a secretKeyRef or volume item asks for"),
    Check("ConfigMapNotFound", "missing_configmap", "error", "live",
          "a ConfigMap referenced by env, envFrom or a volume does not exist in the target namespace"),
    Check("ConfigMapKeyNotFound", "missing_configmap_key", "error", "live",
          "the ConfigMap exists but lacks a key a configMapKeyRef or volume item asks for"),
    Check("OptionalSecretNotFound", "missing_secret", "warning", "live",
          "an `optional: true` Secret reference is missing: the container starts with the variable empty"),
    Check("OptionalSecretKeyNotFound", "missing_secret", "warning", "live",
          "an `optional: true` Secret key is missing: the container starts with the variable empty"),
    Check("OptionalConfigMapNotFound", "missing_configmap", "warning", "live",
          "an `optional: true` ConfigMap reference is missing: the container starts without it"),
    Check("OptionalConfigMapKeyNotFound", "missing_configmap", "warning", "live",
          "an `optional: true` ConfigMap key is missing: the container starts without it"),
    Check("ImagePullSecretNotFound", "image_pull", "error", "live",
          "an imagePullSecrets entry does not exist: the kubelet pulls anonymously and a private image fails"),
    Check("SecretCheckForbidden", "missing_secret", "warning", "live",
          "cannot check (RBAC): the identity running preflight may not get secrets in the namespace"),
    Check("ConfigMapCheckForbidden", "missing_configmap", "warning", "live",
          "cannot check (RBAC): the identity running preflight may not get configmaps in the namespace"),
    # -- the manifest alone ----------------------------------------------------------------------
    Check("NoMemoryLimit", "oomkilled", "warning", "static",
          "a container has no memory limit"),
    Check("LivenessProbeTooEarly", "liveness_probe", "warning", "static",
          "a liveness probe without a startupProbe starts before --expected-startup seconds"),
    Check("ProbesShareEndpoint", "liveness_probe", "warning", "static",
          "liveness and readiness probes hit the same endpoint, so they fail together"),
    Check("MutableImageTag", "image_pull", "warning", "static",
          "an image has no tag or uses :latest (a digest is fine)"),
    Check("InitContainerNoResources", "init_container_failed", "warning", "static",
          "an init container sets no resources"),
    Check("NoNamespace", "missing_secret", "warning", "static",
          "no metadata.namespace and no -n: references resolve in whatever namespace kubectl's context has"),
)
BY_CHECK: Mapping[str, Check] = {c.id: c for c in CHECKS}


@dataclass(frozen=True, slots=True)
class PreflightFinding:
    """One problem in one workload, where it is in the input, and how bad it is."""

    finding: Finding
    severity: Severity
    file: str
    line: int

    @property
    def check(self) -> str:
        return self.finding.reason

    @property
    def message(self) -> str:
        return self.finding.evidence[0].detail if self.finding.evidence else ""

    def json_extra(self) -> dict[str, Any]:
        """What `-o json` adds to the diagnose schema (through `findings.encode_findings`)."""
        return {"phase": "preflight", "severity": self.severity, "file": self.file, "line": self.line}


def make_finding(
    workload: Workload,
    *,
    check: str,
    namespace: str,
    message: str,
    at: tuple[PathPart, ...] = (),
    object_field: tuple[PathPart, ...] | None = None,
    container: str = "",
    container_type: ContainerType = "regular",
    facts: Mapping[str, str] | None = None,
    severity: Severity | None = None,
) -> PreflightFinding:
    """The finding of `check` for `workload`, located at pod-spec path `at` (or the object path
    `object_field`), with the cause's remediation filled from `facts`."""
    spec = BY_CHECK[check]
    cause = BY_ID[spec.cause]
    all_facts = {
        "namespace": namespace,
        "pod": workload.pod_name,
        "container": container,
        "workload": workload.name,
        "workload_kind": workload.kind,
        **(facts or {}),
    }
    line = workload.object_line(*object_field) if object_field is not None else workload.line(*at)
    finding = Finding(
        namespace=namespace,
        pod=workload.pod_name,
        container=container,
        container_type=container_type,
        workload_kind=workload.kind,
        workload=workload.name,
        failing=False,
        cause=cause.id,
        reason=check,
        exit_code=None,
        restarts=0,
        evidence=(Evidence("spec", message),),
        remediation=render(cause, all_facts, workload_kind=workload.kind),
        runbook_url=cause.runbook_url,
        facts={k: v for k, v in all_facts.items() if v},
    )
    return PreflightFinding(finding, severity or spec.severity, workload.location.file, line)


__all__ = ["BY_CHECK", "CHECKS", "Check", "Phase", "PreflightFinding", "Severity", "make_finding"]
