"""Live/offline parity: every recorded case classified by `diagnose` and by the live exporter.

A case is a classifier fixture (`tests/fixtures`), a held-out dump (`tests/heldout`), the bundled
example dump, or a real-world incident (`tests/realworld`). Offline, it goes through the same code
as `diagnose` (a Snapshot, `classify_snapshot` as of the case's own time). Live, the simulator
replays it (`crashloop_exporter.sim.replay`: timestamps rebased to now, crash loops continued in
the kubelet's order, events refreshed with count + 1) and a real exporter process watches it.

Cases whose pods, events, Services or nodes share a name (or whose pods share a uid) cannot be
served by one simulator. Node names are made each case's own, and so are the namespaces (and pod
uids) of a case that collides with an earlier one, unless it has Services (a Service's DNS name
can cross namespaces, so its namespace is part of what the case says); what still collides is
split into batches that can be served together.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from crashloop_exporter.cli.diagnose import classify_snapshot
from crashloop_exporter.findings import Finding
from crashloop_exporter.inputs.snapshot import SnapshotBuilder
from crashloop_exporter.parse import parse_time
from crashloop_exporter.sim.replay import ReplayCase, load_case

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures"
HELDOUT = REPO / "tests" / "heldout"
REALWORLD = REPO / "tests" / "realworld"
EXAMPLE = REPO / "exporter" / "crashloop_exporter" / "examples" / "dump"

ContainerKey = tuple[str, str, str]
"""(namespace, pod, container)."""


def fixture_case(path: Path) -> ReplayCase:
    """A classifier fixture (tests/fixtures/README.md) as a replay case, captured at its `now`."""
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    pod = data["pod"]
    meta = pod["metadata"]
    logs = {(meta["namespace"], meta["name"]): {str(k): str(v) for k, v in (data.get("logs") or {}).items()}}
    return ReplayCase(
        name=f"fixture:{path.relative_to(FIXTURES)}",
        pods=[pod],
        events=list(data.get("events") or []),
        nodes=[data["node"]] if data.get("node") else [],
        logs=logs,
        as_of=parse_time(data["now"]),
    )


def realworld_cases(directory: Path, workdir: Path) -> Iterator[ReplayCase]:
    """The real-world corpus, each case built into its dump under `workdir`."""
    from tests.realworld import build

    for case in build.load_cases(directory):
        dump = build.write_dump(case, workdir / directory.name / case.id)
        yield load_case(f"realworld:{case.id}", dump=str(dump))


def all_cases(workdir: Path) -> list[ReplayCase]:
    """Every case the parity test replays (see `_all_cases`), with names that let most share a simulator."""
    return own_cases(_all_cases(workdir))


def own_cases(found: Iterable[ReplayCase]) -> list[ReplayCase]:
    """Each case's nodes made its own, and its namespaces too when its names collide."""
    cases = [own_nodes(case, f"c{i}") for i, case in enumerate(found)]
    # Cases with Services keep their namespaces: they claim their names first.
    taken: set[tuple[str, str, str]] = set()
    for case in cases:
        if case.services:
            taken |= _names(case)
    for i, case in enumerate(cases):
        if case.services:
            continue
        if _names(case) & taken:
            own_namespaces(case, f"c{i}")
        taken |= _names(case)
    return cases


def _all_cases(workdir: Path) -> Iterator[ReplayCase]:
    """Every fixture, held-out dump and stream, the example dump, and every real-world case of
    `cases/` (the held-back third is scored on its own)."""
    for path in sorted((FIXTURES / "causes").glob("*/*.yaml")) + sorted((FIXTURES / "healthy").glob("*.yaml")):
        yield fixture_case(path)
    for path in sorted(p for p in (HELDOUT / "dumps").iterdir() if p.is_dir()):
        yield load_case(f"heldout:{path.name}", dump=str(path))
    for path in sorted((HELDOUT / "streams").glob("*.txt")):
        yield load_case(f"heldout:{path.name}", dump=str(path))
    yield load_case("example", dump=str(EXAMPLE))
    yield from realworld_cases(REALWORLD / "cases", workdir)


def offline_findings(case: ReplayCase, *, later: float = 0.0) -> list[Finding]:
    """What `diagnose` says of the case, as of the time it was captured (plus `later` seconds:
    the replay's clock runs on from the capture, and a finding can change with time alone)."""
    warnings: list[str] = []
    builder = SnapshotBuilder(warn=warnings.append)
    for kind, objects in (("Node", case.nodes), ("Pod", case.pods), ("Event", case.events),
                          ("Service", case.services)):
        for i, raw in enumerate(objects):
            builder.add(kind, raw, where=f"{case.name} {kind} {i}")
    for (namespace, pod), per_container in case.logs.items():
        for container, text in per_container.items():
            builder.add_logs(namespace=namespace, pod=pod, container=container, text=text)
    snapshot = builder.build()
    now = case.as_of if case.as_of is not None else snapshot.latest
    assert now is not None, f"{case.name}: no time to classify it at"
    return classify_snapshot(snapshot, snapshot.pods, now=now + later, use_logs=True, rules=None)


def own_nodes(case: ReplayCase, suffix: str) -> ReplayCase:
    """The case with its node names made its own (`<node>-<suffix>`), so cases recorded on
    same-named nodes can share one simulator: the node is renamed wherever the API names it."""
    names = {str((n.get("metadata") or {}).get("name", "")) for n in case.nodes}
    names |= {str((p.get("spec") or {}).get("nodeName", "")) for p in case.pods}
    rename = {n: f"{n}-{suffix}" for n in names if n}
    for node in case.nodes:
        meta = node.setdefault("metadata", {})
        meta["name"] = rename.get(meta.get("name", ""), meta.get("name", ""))
        labels = meta.get("labels")
        if isinstance(labels, dict) and labels.get("kubernetes.io/hostname") in rename:
            labels["kubernetes.io/hostname"] = rename[labels["kubernetes.io/hostname"]]
    for pod in case.pods:
        spec = pod.get("spec") or {}
        if spec.get("nodeName") in rename:
            spec["nodeName"] = rename[spec["nodeName"]]
    for event in case.events:
        source = event.get("source")
        if isinstance(source, dict) and source.get("host") in rename:
            source["host"] = rename[source["host"]]
        if event.get("reportingInstance") in rename:
            event["reportingInstance"] = rename[event["reportingInstance"]]
    return case


def own_namespaces(case: ReplayCase, suffix: str) -> ReplayCase:
    """The case with its namespaces (`<ns>-<suffix>`) and pod uids (`<uid>-<suffix>`) made its own,
    so cases cut from one template (fixtures of one pod) can share one simulator. Its Services
    are left alone: `all_cases` renames only cases that have none."""
    namespaces = {str((o.get("metadata") or {}).get("namespace", "")) for o in (*case.pods, *case.events)}
    rename = {ns: f"{ns}-{suffix}" for ns in namespaces if ns}
    uids: dict[str, str] = {}
    for pod in case.pods:
        meta = pod.setdefault("metadata", {})
        meta["namespace"] = rename.get(meta.get("namespace", ""), meta.get("namespace", ""))
        if meta.get("uid"):
            uids[meta["uid"]] = meta["uid"] = f"{meta['uid']}-{suffix}"
    old_uids = {old: f"{old}-{suffix}" for old in {u[: -len(suffix) - 1] for u in uids}}
    for event in case.events:
        meta = event.setdefault("metadata", {})
        if meta.get("namespace") in rename:
            meta["namespace"] = rename[meta["namespace"]]
        for ref in (event.get("involvedObject"), event.get("regarding")):
            if not isinstance(ref, dict):
                continue
            if ref.get("namespace") in rename:
                ref["namespace"] = rename[ref["namespace"]]
            if ref.get("uid") in old_uids:
                ref["uid"] = old_uids[ref["uid"]]
    case.logs = {(rename.get(ns, ns), pod): per for (ns, pod), per in case.logs.items()}
    return case


def failing_causes(findings: Iterable[Finding]) -> dict[ContainerKey, str]:
    return {(f.namespace, f.pod, f.container): f.cause for f in findings if f.failing}


def _names(case: ReplayCase) -> set[tuple[str, str, str]]:
    out: set[tuple[str, str, str]] = set()
    for kind, objects in (("pod", case.pods), ("event", case.events), ("node", case.nodes),
                          ("service", case.services)):
        for obj in objects:
            meta = obj.get("metadata") or {}
            out.add((kind, str(meta.get("namespace", "")), str(meta.get("name", ""))))
            if kind == "pod" and meta.get("uid"):
                out.add(("uid", "", str(meta["uid"])))
    return out


def batches(cases: Iterable[ReplayCase]) -> list[list[ReplayCase]]:
    """Cases grouped so that no two in a batch share a pod, event, Service or node name, or a pod
uid (first fit)."""
    out: list[tuple[set[tuple[str, str, str]], list[ReplayCase]]] = []
    for case in cases:
        names = _names(case)
        for taken, members in out:
            if not taken & names:
                taken |= names
                members.append(case)
                break
        else:
            out.append((set(names), [case]))
    return [members for _, members in out]


@dataclass(frozen=True, slots=True)
class Expected:
    """What the live exporter must show for one batch once the replay is done."""

    failing: dict[ContainerKey, str]
    """Failing containers and their cause, as `diagnose` says."""
    crashes: dict[tuple[str, ...], float]
    """crashloop_crashes_total (namespace, kind, workload, container, type, cause): the deaths the
    replay performed, under the cause `diagnose` gives their container."""
    case_of: dict[ContainerKey, str]
    series_of: dict[tuple[str, ...], set[str]]
    """crashes_total labels but the cause (namespace, kind, workload, container, type) -> the
    cases with a container in that series."""


def expected_for(batch: list[ReplayCase], offline: dict[str, list[Finding]],
                 deaths: dict[str, dict[str, int]]) -> Expected:
    failing: dict[ContainerKey, str] = {}
    crashes: Counter[tuple[str, ...]] = Counter()
    case_of: dict[ContainerKey, str] = {}
    series_of: dict[tuple[str, ...], set[str]] = {}
    for case in batch:
        by_container = {(f.namespace, f.pod, f.container): f for f in offline[case.name]}
        for one in offline[case.name]:
            series_of.setdefault((one.namespace, one.workload_kind, one.workload, one.container,
                                  one.container_type), set()).add(case.name)
        for key, cause in failing_causes(offline[case.name]).items():
            failing[key] = cause
            case_of[key] = case.name
        for path, n in deaths.get(case.name, {}).items():
            namespace, pod, container = path.split("/", 2)
            f = by_container.get((namespace, pod, container))
            if f is None or not f.failing:
                # diagnose does not call it failing: a death of it is still a crash, under its cause.
                cause = f.cause if f is not None else "unclassified"
                kind, workload, ctype = (f.workload_kind, f.workload, f.container_type) if f else ("?", "?", "?")
            else:
                cause, kind, workload, ctype = f.cause, f.workload_kind, f.workload, f.container_type
            crashes[(namespace, kind, workload, container, ctype, cause)] += n
            case_of[(namespace, pod, container)] = case.name
            series_of.setdefault((namespace, kind, workload, container, ctype), set()).add(case.name)
    return Expected(failing, {k: float(v) for k, v in crashes.items()}, case_of, series_of)


def mismatch_table(expected: Expected, failing: dict[ContainerKey, str],
                   crashes: dict[tuple[str, ...], float]) -> tuple[list[str], set[str]]:
    """Rows naming each container whose live answer differs from diagnose's, and the cases they belong to."""
    rows: list[str] = []
    cases: set[str] = set()
    for key in sorted(set(expected.failing) | set(failing)):
        e, g = expected.failing.get(key, "-"), failing.get(key, "-")
        if e != g:
            case = expected.case_of.get(key, "?")
            cases.add(case)
            rows.append(f"  {case}: {'/'.join(key)}: diagnose {e}, live {g}")
    for series in sorted(set(expected.crashes) | set(crashes)):
        e_n, g_n = expected.crashes.get(series, 0.0), crashes.get(series, 0.0)
        if e_n != g_n:
            owners = sorted(expected.series_of.get(series[:5], {"?"}))
            cases.update(owners)
            rows.append(f"  {','.join(owners)}: crashes {'/'.join(series)}: replay performed {e_n:g}, "
                        f"exporter counted {g_n:g}")
    return rows, cases
