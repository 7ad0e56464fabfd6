"""Run every preflight check over loaded manifests: decide namespaces, then static and live checks.

Kept apart from the CLI so tests (and other tools) can run the checks on manifests they built,
with a fake or real API lookup, and get findings back instead of printed text.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from crashloop_exporter.errors import InputError
from crashloop_exporter.inputs.documents import document_where
from crashloop_exporter.preflight.checks import BY_CHECK, PreflightFinding
from crashloop_exporter.preflight.checks_live import (
    ObjectId,
    Observation,
    OpenLookup,
    bundle_index,
    live_findings,
    needed_objects,
    observe,
)
from crashloop_exporter.preflight.checks_static import DEFAULT_EXPECTED_STARTUP, static_findings
from crashloop_exporter.preflight.manifests import Location, Manifests
from crashloop_exporter.refs import Ref, pod_refs


@dataclass(frozen=True, slots=True)
class Options:
    """How to check."""

    namespace: str | None = None
    """`-n`: the namespace of objects whose manifest sets none."""
    offline: bool = False
    """Only the manifest (and the Secrets/ConfigMaps it creates); never contact a cluster."""
    expected_startup: float = DEFAULT_EXPECTED_STARTUP
    """Seconds the app may need before its liveness probe can pass."""
    skip: frozenset[str] = frozenset()
    """Check ids not to run (or not to report)."""


@dataclass(slots=True)
class Result:
    """Findings and what was looked at, for the summary line."""

    findings: list[PreflightFinding]
    workloads: int
    namespaces: tuple[str, ...]
    references: int
    observations: dict[ObjectId, Observation] = field(default_factory=dict)
    offline: bool = False

    def count(self, state: str, *, source: str | None = None) -> int:
        return sum(1 for o in self.observations.values() if o.state == state and (source is None or
                                                                                   o.source.startswith(source)))

    @property
    def errors(self) -> int:
        return sum(1 for f in self.findings if f.severity == "error")

    @property
    def warnings(self) -> int:
        return sum(1 for f in self.findings if f.severity == "warning")


def resolve_namespace(
    manifest_namespace: str | None, *, flag: str | None, default: str, location: Location, what: str
) -> tuple[str, bool]:
    """(namespace, chosen explicitly). Like `kubectl apply -n`, an object that names another
    namespace than `-n` is refused: applying it would fail, so checking it would mislead."""
    if manifest_namespace and flag and manifest_namespace != flag:
        raise InputError(
            f"{document_where(location.file, location.document, location.lines.root_line)}: {what} has "
            f"metadata.namespace {manifest_namespace} but -n {flag} was given, and `kubectl apply -n {flag}` "
            f"refuses it; drop -n or fix the manifest"
        )
    if manifest_namespace:
        return manifest_namespace, True
    if flag:
        return flag, True
    return default, False


async def run_checks(
    manifests: Manifests,
    options: Options,
    *,
    open_lookup: OpenLookup | None,
    default_namespace: Callable[[], str] | None = None,
) -> Result:
    """All findings for `manifests`. `open_lookup` opens the API lookup (None: offline), and is only
    called if some reference is not settled by the input itself; `default_namespace` gives the
    kubeconfig context's namespace for objects that name none when there is no `-n`."""
    needs_default = options.namespace is None and (
        any(w.namespace is None for w in manifests.workloads) or any(b.namespace is None for b in manifests.bundle)
    )
    default = default_namespace() if needs_default and default_namespace is not None and not options.offline else ""
    lookup = None if options.offline else open_lookup

    findings: list[PreflightFinding] = []
    per_workload: list[tuple[int, str, Sequence[Ref]]] = []
    namespaces: set[str] = set()
    for i, w in enumerate(manifests.workloads):
        ns, chosen = resolve_namespace(w.namespace, flag=options.namespace, default=default, location=w.location,
                                       what=f"{w.kind} {w.name}")
        if ns:
            namespaces.add(ns)
        findings.extend(static_findings(w, namespace=ns, namespace_set=chosen,
                                        expected_startup=options.expected_startup))
        per_workload.append((i, ns, list(pod_refs(w.pod_spec))))
    bundle = bundle_index(
        (resolve_namespace(b.namespace, flag=options.namespace, default=default, location=b.location,
                           what=f"{b.source_kind} {b.name}")[0], b)
        for b in manifests.bundle
    )
    needed = needed_objects((ns, r) for _, ns, refs in per_workload for r in refs)
    observations = await observe(needed, bundle=bundle, open_lookup=lookup)
    for i, ns, refs in per_workload:
        findings.extend(live_findings(manifests.workloads[i], refs, namespace=ns, observations=observations))
    findings = [f for f in findings if f.check not in options.skip]
    findings.sort(key=lambda f: (f.file, f.line, f.check, f.finding.container))
    return Result(
        findings=findings,
        workloads=len(manifests.workloads),
        namespaces=tuple(sorted(namespaces)),
        references=sum(len(refs) for _, _, refs in per_workload),
        observations=observations,
        offline=lookup is None,
    )


def validate_skip(values: Sequence[str]) -> frozenset[str]:
    """`--skip` ids, checked against the table so a typo does not silently skip nothing."""
    unknown = sorted(set(values) - set(BY_CHECK))
    if unknown:
        raise InputError(f"--skip: unknown check(s) {', '.join(unknown)}; known: {', '.join(sorted(BY_CHECK))}")
    return frozenset(values)


__all__ = ["Options", "Result", "resolve_namespace", "run_checks", "validate_skip"]
