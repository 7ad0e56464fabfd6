"""Checks that need only the manifest: the crash causes a reviewer could have spotted in the diff.

Each one is the runbook's prevention advice turned into a rule: realistic memory limits
(oomkilled), probes that leave room for startup and do not share a failure (liveness_probe),
immutable image tags (image_pull), bounded init steps (init_container_failed), and an explicit
target namespace (the seed's staging-vs-production secret miss, missing_secret).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from crashloop_exporter.classify.remediation import suggest_memory
from crashloop_exporter.preflight.checks import PreflightFinding, make_finding
from crashloop_exporter.preflight.manifests import Workload
from crashloop_exporter.refs import ContainerAt, PathPart, containers, pod_refs

DEFAULT_EXPECTED_STARTUP = 30.0
"""Seconds a typical service needs before it answers probes (the runbook's API took 22 s)."""
_PROBE_DEFAULT_PERIOD = 10
_PROBE_DEFAULT_FAILURES = 3


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _int(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def static_findings(
    workload: Workload, *, namespace: str, namespace_set: bool, expected_startup: float
) -> list[PreflightFinding]:
    """Every static finding of one workload. `namespace` is where it will land ("" when unknown),
    `namespace_set` whether the manifest or `-n` chose it (rather than the kubeconfig context)."""
    found: list[PreflightFinding] = []
    if not namespace_set:
        found.append(_no_namespace(workload, namespace=namespace))
    for c in containers(workload.pod_spec):
        long_running = c.field == "containers" or c.is_sidecar
        if long_running:
            found.extend(_memory_limit(workload, c, namespace=namespace))
            found.extend(_liveness_too_early(workload, c, namespace=namespace, expected_startup=expected_startup))
            found.extend(_probes_share_endpoint(workload, c, namespace=namespace))
        else:
            found.extend(_init_resources(workload, c, namespace=namespace))
        found.extend(_image_tag(workload, c, namespace=namespace))
    return found


# --- oomkilled ----------------------------------------------------------------------------------


def _memory_limit(workload: Workload, c: ContainerAt, *, namespace: str) -> list[PreflightFinding]:
    resources = _map(c.spec.get("resources"))
    limits = _map(resources.get("limits"))
    if limits.get("memory") not in (None, ""):
        return []
    request = str(_map(resources.get("requests")).get("memory") or "")
    limit, new_request = suggest_memory("", request)
    at: tuple[PathPart, ...] = c.path("resources", "limits") if "resources" in c.spec else c.path()
    return [make_finding(
        workload,
        check="NoMemoryLimit",
        namespace=namespace,
        at=at,
        container=c.name,
        container_type=c.type,
        message=(
            f"container {c.name} has no memory limit (resources.limits.memory): it can grow until the node runs "
            "short, and then the kernel OOM-kills it or the kubelet evicts pods under MemoryPressure, instead "
            "of stopping at a limit you sized. Set a limit from load-test peaks plus 30-50% headroom (a "
            "namespace LimitRange default, if there is one, is applied only at admission)"
        ),
        facts={"memory_limit": "<none set>", "suggested_memory_limit": limit, "suggested_memory_request": new_request},
    )]


# --- liveness_probe -----------------------------------------------------------------------------


def _http_probe_facts(probe: Mapping[str, Any]) -> dict[str, str]:
    http = _map(probe.get("httpGet"))
    facts: dict[str, str] = {}
    if http:
        facts["probe_path"] = str(http.get("path") or "/")
        if http.get("port") is not None:
            facts["probe_port"] = str(http["port"])
    return facts


def _liveness_too_early(
    workload: Workload, c: ContainerAt, *, namespace: str, expected_startup: float
) -> list[PreflightFinding]:
    liveness = c.spec.get("livenessProbe")
    if not isinstance(liveness, Mapping) or isinstance(c.spec.get("startupProbe"), Mapping):
        return []
    delay = _int(liveness.get("initialDelaySeconds"), 0)
    if delay >= expected_startup:
        return []
    period = _int(liveness.get("periodSeconds"), _PROBE_DEFAULT_PERIOD)
    failures = _int(liveness.get("failureThreshold"), _PROBE_DEFAULT_FAILURES)
    at = c.path("livenessProbe", "initialDelaySeconds") if "initialDelaySeconds" in liveness else c.path(
        "livenessProbe")
    return [make_finding(
        workload,
        check="LivenessProbeTooEarly",
        namespace=namespace,
        at=at,
        container=c.name,
        container_type=c.type,
        message=(
            f"livenessProbe of container {c.name} starts after {delay}s (initialDelaySeconds) and there is no "
            f"startupProbe, but the app may need {expected_startup:g}s to start (--expected-startup): "
            f"{failures} failed probes {period}s apart and the kubelet kills a healthy container before it "
            f"listens, forever. Add a startupProbe (failureThreshold: 30, periodSeconds: 5) or set "
            f"initialDelaySeconds to at least {math.ceil(expected_startup * 1.2)} (120% of worst-case startup)"
        ),
        facts=_http_probe_facts(liveness),
    )]


def _port(value: Any, ports: Sequence[Any]) -> str:
    """A probe port as a number when it can be resolved (named ports through the container's ports)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    text = str(value) if value is not None else ""
    if text.isdigit():
        return str(int(text))
    for p in ports:
        p = _map(p)
        if p.get("name") == text and p.get("containerPort") is not None:
            return str(p["containerPort"])
    return text


def _endpoint(probe: Mapping[str, Any], ports: Sequence[Any]) -> tuple[tuple[str, ...], str] | None:
    """(comparable key, human description) of what a probe checks, or None if it has no handler."""
    http = probe.get("httpGet")
    if isinstance(http, Mapping):
        path, port = str(http.get("path") or "/"), _port(http.get("port"), ports)
        return ("http", path, port), f"GET :{port}{path}"
    tcp = probe.get("tcpSocket")
    if isinstance(tcp, Mapping):
        port = _port(tcp.get("port"), ports)
        return ("tcp", port), f"TCP port {port}"
    exec_ = probe.get("exec")
    if isinstance(exec_, Mapping):
        command = exec_.get("command")
        argv = tuple(str(a) for a in command) if isinstance(command, list) else ()
        return ("exec", *argv), f"the command `{' '.join(argv)}`"
    grpc = probe.get("grpc")
    if isinstance(grpc, Mapping):
        port, service = _port(grpc.get("port"), ports), str(grpc.get("service") or "")
        return ("grpc", port, service), f"gRPC health on port {port}" + (f" (service {service})" if service else "")
    return None


def _probes_share_endpoint(workload: Workload, c: ContainerAt, *, namespace: str) -> list[PreflightFinding]:
    liveness, readiness = c.spec.get("livenessProbe"), c.spec.get("readinessProbe")
    if not isinstance(liveness, Mapping) or not isinstance(readiness, Mapping):
        return []
    ports = c.spec.get("ports")
    ports = ports if isinstance(ports, list) else []
    live, ready = _endpoint(liveness, ports), _endpoint(readiness, ports)
    if live is None or ready is None or live[0] != ready[0]:
        return []
    return [make_finding(
        workload,
        check="ProbesShareEndpoint",
        namespace=namespace,
        at=c.path("livenessProbe"),
        container=c.name,
        container_type=c.type,
        message=(
            f"livenessProbe and readinessProbe of container {c.name} both check {live[1]}: when that endpoint "
            "is misconfigured or slow (a wrong path, a dependency check inside it), both fail together, and "
            "the liveness kills turn a not-ready pod into a restart loop. Give liveness a cheap process-alive "
            "endpoint and readiness its own (the runbook's /health and /ready)"
        ),
        facts=_http_probe_facts(liveness),
    )]


# --- image_pull ---------------------------------------------------------------------------------


def image_tag_problem(image: str) -> str | None:
    """Why `image` is not pinned ("no tag", ":latest", "no image"), or None for a tag or a digest."""
    if not image.strip():
        return "no image"
    if "@" in image:
        return None  # name@sha256:...: immutable, whatever tag sits beside it
    last = image.rsplit("/", 1)[-1]  # a registry host:port is not a tag
    if ":" not in last:
        return "no tag"
    return ":latest" if last.rsplit(":", 1)[1] == "latest" else None


def _image_tag(workload: Workload, c: ContainerAt, *, namespace: str) -> list[PreflightFinding]:
    image = c.spec.get("image")
    image = image if isinstance(image, str) else ""
    problem = image_tag_problem(image)
    if problem is None:
        return []
    if problem == "no image":
        what = f"container {c.name} names no image"
    elif problem == "no tag":
        what = f"image {image} of container {c.name} has no tag, so it means :latest"
    else:
        what = f"image {image} of container {c.name} uses :latest"
    return [make_finding(
        workload,
        check="MutableImageTag",
        namespace=namespace,
        at=c.path("image"),
        container=c.name,
        container_type=c.type,
        message=(
            f"{what}: a mutable tag means nodes may run different builds, imagePullPolicy defaults to Always so "
            "every start needs the registry (an outage or a rate limit becomes ImagePullBackOff), and a rollback "
            "cannot bring the old code back. Pin an immutable tag (the Git commit SHA) or a digest"
        ),
        facts={"image": image or "<image>"},
    )]


# --- init_container_failed ----------------------------------------------------------------------


def _init_resources(workload: Workload, c: ContainerAt, *, namespace: str) -> list[PreflightFinding]:
    resources = _map(c.spec.get("resources"))
    if _map(resources.get("requests")) or _map(resources.get("limits")):
        return []
    return [make_finding(
        workload,
        check="InitContainerNoResources",
        namespace=namespace,
        at=c.path("resources") if "resources" in c.spec else c.path(),
        container=c.name,
        container_type=c.type,
        message=(
            f"init container {c.name} sets no resources: an unbounded init step (a migration, a secret fetch) "
            "can be OOM-killed or starved on a busy node, and a namespace ResourceQuota rejects the pod "
            "outright. Set requests and a memory limit, so Init:CrashLoopBackOff is not how you find out"
        ),
    )]


# --- missing_secret: the namespace --------------------------------------------------------------


def _no_namespace(workload: Workload, *, namespace: str) -> PreflightFinding:
    secrets = [r.name for r in pod_refs(workload.pod_spec) if r.kind == "Secret" and r.name]
    uses = f" (it uses secret {secrets[0]})" if secrets else ""
    checked = f"; checked against {namespace}, the kubeconfig context's namespace" if namespace else ""
    return make_finding(
        workload,
        check="NoNamespace",
        namespace=namespace,
        object_field=("metadata",),
        message=(
            f"{workload.kind} {workload.name} has no metadata.namespace and no -n was given: kubectl applies it "
            f"to whatever namespace the current context points at, and its Secret and ConfigMap references "
            f"resolve there{uses} — the seed's \"exists in staging but not in production\" miss. Set "
            f"metadata.namespace (kustomize: `namespace:`) or pass -n NAMESPACE{checked}"
        ),
        facts={"secret": secrets[0]} if secrets else None,
    )


__all__ = ["DEFAULT_EXPECTED_STARTUP", "image_tag_problem", "static_findings"]
