"""Follow a `dependency_unavailable` finding to the workload it waits on, and on to the root.

The runbook's step after "what was it trying to connect to" is "check the state of the dependency
itself": when postgres-0 is in CrashLoopBackOff, the api's crash loop is only a symptom, and the
fix is postgres's own. So a dependent finding carries a `Dependency` (the workload behind the
address, failing or not, with its own cause), and its remediation becomes the root's fix. A
dependency that waits on a third (A needs B needs C) is followed to C, at most `MAX_DEPTH` hops,
and a workload met twice ends the walk (A needs B needs A: the cycle is cut at B).

Pure: the index and a `PodView` of the current findings in, findings out. The exporter runs it
when a finding is published and again whenever the dependency's findings change; `diagnose` runs
it once over a snapshot.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Protocol

from crashloop_exporter.catalog import CauseId
from crashloop_exporter.deps.address import Target, decode_targets, encode_targets, extract_targets
from crashloop_exporter.deps.index import DependencyIndex
from crashloop_exporter.findings import Dependency, Evidence, Finding

"""The one cause whose findings have a dependency (the catalog's id, named once here)."""
MAX_DEPTH = 8
"""Hops followed from a dependent to its root; a longer chain stops at the last hop reached."""
TARGETS_FACT = "dependency_targets"
"""`Finding.facts` key of the addresses the log named (kept with the verdict, like the host)."""
BASE_REMEDIATION_FACT = "remediation_base"
"""`Finding.facts` key of the catalog's remediation before the dependency rewrote it."""


class PodView(Protocol):
    """The current findings and workloads of pods, by namespace and name."""

    def pod_workload(self, namespace: str, pod: str) -> tuple[str, str] | None:
        """(workload kind, workload) of a known pod; None when the pod is not known."""

    def pod_findings(self, namespace: str, pod: str) -> Sequence[Finding]:
        """The pod's findings (empty: healthy or unknown)."""


def annotate_targets(f: Finding, log_text: str) -> Finding:
    """`f` with the addresses its log names in `facts`, for a `dependency_unavailable` finding
    classified from a fresh log; any other finding unchanged."""
    if f.cause != CauseId.DEPENDENCY_UNAVAILABLE or not log_text:
        return f
    targets = extract_targets(log_text)
    if not targets:
        return f
    return dataclasses.replace(f, facts={**f.facts, TARGETS_FACT: encode_targets(targets)})


def targets_of(f: Finding) -> list[Target]:
    """The addresses recorded for `f`, else the host and port the classifier lifted."""
    recorded = decode_targets(f.facts.get(TARGETS_FACT, ""))
    if recorded:
        return recorded
    host = f.facts.get("host", "")
    return [Target(host=host.lower(), port=f.facts.get("port", ""))] if host else []


def resolve(f: Finding, *, index: DependencyIndex, view: PodView) -> tuple[Dependency | None, Target | None]:
    """(the dependency, None) when an address resolves; (None, the first address) when none
    does; (None, None) when the log named no address."""
    workload = (f.namespace, f.workload_kind, f.workload)
    return _follow(f, index=index, view=view, seen={workload}, depth=0)


def _follow(
    f: Finding, *, index: DependencyIndex, view: PodView, seen: set[tuple[str, str, str]], depth: int
) -> tuple[Dependency | None, Target | None]:
    targets = targets_of(f)
    if not targets:
        return None, None
    for target in targets:
        r = index.resolve(target, from_namespace=f.namespace)
        if r is not None:
            break
    else:
        return None, targets[0]
    chosen, failing = _decisive(r.namespace, r.pods, view)
    kind, name = (view.pod_workload(r.namespace, chosen) if chosen else None) or ("", "")
    dep = Dependency(
        target=target.text,
        namespace=r.namespace,
        service=r.service,
        workload_kind=kind,
        workload=name,
        failing=failing is not None,
        cause=failing.cause if failing is not None else None,
        pod=chosen,
        remediation=failing.facts.get(BASE_REMEDIATION_FACT, failing.remediation) if failing is not None else "",
    )
    key = (r.namespace, kind, name)
    chained = failing is not None and failing.cause == CauseId.DEPENDENCY_UNAVAILABLE
    if failing is None or not chained or depth + 1 >= MAX_DEPTH or key in seen or not name:
        return dep, None
    nxt, _ = _follow(failing, index=index, view=view, seen=seen | {key}, depth=depth + 1)
    if nxt is not None and nxt.failing:
        dep = dataclasses.replace(dep, root=nxt.chain_root)
    return dep, None


def _decisive(namespace: str, pods: Sequence[str], view: PodView) -> tuple[str, Finding | None]:
    """The pod that speaks for the dependency and its failing finding: the first failing pod (its
    own cause before a dependency of its own), else the first pod, healthy."""
    best: tuple[bool, str, Finding] | None = None
    for pod in pods:
        for f in view.pod_findings(namespace, pod):
            if f.failing:
                rank = (f.cause == CauseId.DEPENDENCY_UNAVAILABLE, pod, f)
                if best is None or rank[:2] < best[:2]:
                    best = rank
    if best is not None:
        return best[1], best[2]
    return (pods[0] if pods else ""), None


def with_dependency(f: Finding, *, index: DependencyIndex, view: PodView) -> Finding:
    """`f` with its `dependency`, evidence note and remediation for the current cluster state
    (idempotent: a finding that was annotated before is rebuilt from its catalog remediation)."""
    if f.cause != CauseId.DEPENDENCY_UNAVAILABLE:
        return f
    base = f.facts.get(BASE_REMEDIATION_FACT, f.remediation)
    evidence = tuple(e for e in f.evidence if e.source != "dependency")
    dep, unresolved = resolve(f, index=index, view=view)
    if dep is None and unresolved is None:
        if f.dependency is None and len(evidence) == len(f.evidence):
            return f
        return dataclasses.replace(f, dependency=None, evidence=evidence, remediation=base)
    note, remediation = _explain(f, dep, unresolved, base)
    new = dataclasses.replace(
        f,
        dependency=dep,
        evidence=(*evidence, Evidence("dependency", note)),
        remediation=remediation,
        facts={**f.facts, BASE_REMEDIATION_FACT: base},
    )
    if new.dependency == f.dependency and new.evidence == f.evidence and new.remediation == f.remediation:
        return f  # same object: the exposition cache keeps its lines
    return new


def needs_line(dep: Dependency) -> str:
    """`needs pg.prod:5432 → StatefulSet/postgres: postgres-0 is failing (oomkilled) — fix it first`."""
    where = f"{dep.workload_kind}/{dep.workload}" if dep.workload else f"Service {dep.namespace}/{dep.service}"
    if dep.failing:
        text = f"needs {dep.target} → {where}: {dep.pod} is failing ({dep.cause}) — fix it first"
    elif dep.workload:
        text = f"needs {dep.target} → {where}: healthy — check DNS, the Service's selector and NetworkPolicies"
    else:
        text = f"needs {dep.target} → {where}: it has no endpoints — check the Service's selector"
    root = dep.root
    if root is not None:
        text += f"; root: {root.workload_kind}/{root.workload} in {root.namespace}: {root.pod} ({root.cause})"
    return text


def _explain(f: Finding, dep: Dependency | None, unresolved: Target | None, base: str) -> tuple[str, str]:
    if dep is None:
        assert unresolved is not None
        host = unresolved.host
        note = f"{unresolved.text} names no Service, ClusterIP or pod in the cluster"
        return note, "\n".join(
            (
                f"# {unresolved.text} resolves to nothing in the cluster: check the name and DNS "
                "(a typo, a missing Service, or a service outside the cluster?)",
                f"kubectl get services -A --field-selector metadata.name={host.split('.')[0]}",
                base,
            )
        )
    note = needs_line(dep)
    if dep.failing:
        root = dep.chain_root
        lines = [f"# {note}"]
        if root is not dep:
            lines.append(f"# the chain ends at {root.namespace}/{root.workload_kind}/{root.workload}: fix that first")
        lines.append(f"kubectl get pods -n {root.namespace} {root.pod}")
        if root.remediation:
            lines.append(root.remediation)
        lines.append(f"# then gate {f.workload or f.pod}'s startup on it with an init container (until nc -z ...)")
        return note, "\n".join(lines)
    lines = [f"# {note}", base]
    if dep.namespace != f.namespace:
        lines.append(f"kubectl get networkpolicies -n {dep.namespace}")
    if dep.service:
        lines.append(
            f"kubectl get endpointslices -n {dep.namespace} -l kubernetes.io/service-name={dep.service}"
        )
    return note, "\n".join(lines)
