"""Held-out evaluation of `crashloop-exporter diagnose --dump` on dumps the classifier never saw.

Each case under `dumps/` (a `kubectl cluster-info dump --output-directory` tree) or `streams/`
(the same dump printed to stdout) is run through the real CLI in a subprocess, and every finding
is compared with `expected.yaml`: the exact cause for each listed container, `failing` as listed,
and no failing finding for anything unlisted. All mismatches of a case are reported at once, as a
table, with a per-cause summary, so one run shows the whole picture instead of the first miss.

The dumps are read here with a small reader of their own (not the product's), both to check that
the fixtures really have kubectl's shape and to know each container's type and workload.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from crashloop_exporter.catalog import CAUSE_IDS

from . import generate

# Only the scoring test is held out of `make test` (it is a score, not a gate); the checks that
# the held-out dumps are well formed and fresh run in every test run.

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
EXPECTED: dict[str, Any] = yaml.safe_load((HERE / "expected.yaml").read_text(encoding="utf-8"))
CASES: dict[str, Any] = EXPECTED["cases"]

FINDING_KEYS = {
    "namespace",
    "pod",
    "container",
    "container_type",
    "workload_kind",
    "workload",
    "failing",
    "cause",
    "reason",
    "exit_code",
    "restarts",
    "evidence",
    "remediation",
    "runbook_url",
    "dependency",
}
EVIDENCE_KEYS = {"source", "detail"}
EVIDENCE_SOURCES = {"status", "event", "log", "spec", "node", "dependency"}
CONTAINER_TYPES = {"regular", "init", "ephemeral"}
# The order in which `kubectl cluster-info dump` prints each namespace's lists (clusterinfo_dump.go).
NAMESPACE_FILES = (
    ("events", "EventList", "v1"),
    ("replication-controllers", "ReplicationControllerList", "v1"),
    ("services", "ServiceList", "v1"),
    ("daemonsets", "DaemonSetList", "apps/v1"),
    ("deployments", "DeploymentList", "apps/v1"),
    ("replicasets", "ReplicaSetList", "apps/v1"),
    ("pods", "PodList", "v1"),
)
_START = re.compile(r"==== START logs for container (?P<c>\S+) of pod (?P<ns>[^/\s]+)/(?P<pod>\S+) ====\n")
_CRONJOB_JOB = re.compile(r"^(?P<cronjob>.+)-\d{6,}$")
_DIAGNOSE_TIMEOUT_S = 60

Key = tuple[str, str, str]


# ---------------------------------------------------------------- reading dumps


@dataclass
class Dump:
    """What a dump holds, per namespace: the lists by kind, and the log sections by pod."""

    nodes: dict[str, Any]
    lists: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    logs: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def pods(self) -> Iterator[tuple[str, dict[str, Any]]]:
        for ns, lists in self.lists.items():
            for pod in lists.get("PodList", {}).get("items", []):
                yield ns, pod


def _log_sections(text: str, where: str, problems: list[str]) -> list[tuple[str, str, str]]:
    """(namespace, pod, container) of each START/END section in a logs.txt, in order."""
    out = []
    pos = 0
    while pos < len(text):
        m = _START.match(text, pos)
        if m is None:
            problems.append(f"{where}: expected a START marker at offset {pos}: {text[pos : pos + 60]!r}")
            break
        end = f"==== END logs for container {m['c']} of pod {m['ns']}/{m['pod']} ====\n"
        stop = text.find(end, m.end())
        if stop < 0:
            problems.append(f"{where}: no END marker for container {m['c']}")
            break
        out.append((m["ns"], m["pod"], m["c"]))
        pos = stop + len(end)
    return out


def read_dir(root: Path) -> Dump:
    dump = Dump(nodes=json.loads((root / "nodes.json").read_text(encoding="utf-8")))
    for ns_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        ns = ns_dir.name
        dump.lists[ns] = {}
        for stem, _kind, _api in NAMESPACE_FILES:
            path = ns_dir / f"{stem}.json"
            if not path.is_file():
                dump.problems.append(f"{ns}: missing {stem}.json")
                continue
            doc = json.loads(path.read_text(encoding="utf-8"))
            dump.lists[ns][doc.get("kind", stem)] = doc
        dump.logs[ns] = {}
        for pod_dir in sorted(p for p in ns_dir.iterdir() if p.is_dir()):
            logs = pod_dir / "logs.txt"
            if not logs.is_file():
                dump.problems.append(f"{ns}/{pod_dir.name}: no logs.txt")
                continue
            sections = _log_sections(logs.read_text(encoding="utf-8"), f"{ns}/{pod_dir.name}/logs.txt", dump.problems)
            for sec_ns, sec_pod, _container in sections:
                if (sec_ns, sec_pod) != (ns, pod_dir.name):
                    dump.problems.append(f"{ns}/{pod_dir.name}/logs.txt has a section for {sec_ns}/{sec_pod}")
            dump.logs[ns][pod_dir.name] = [c for _, _, c in sections]
    return dump


def read_stream(path: Path) -> Dump:
    """Splits the stdout form: JSON lists and log sections back to back, in kubectl's order."""
    text = path.read_text(encoding="utf-8")
    decoder = json.JSONDecoder()
    pos = 0
    items: list[tuple[str, Any]] = []
    problems: list[str] = []
    while pos < len(text):
        if text[pos] in " \n":
            pos += 1
            continue
        if text.startswith("==== START", pos):
            m = _START.match(text, pos)
            if m is None:
                problems.append(f"bad START marker at offset {pos}")
                break
            end = f"==== END logs for container {m['c']} of pod {m['ns']}/{m['pod']} ====\n"
            stop = text.find(end, m.end())
            if stop < 0:
                problems.append(f"no END marker for {m['ns']}/{m['pod']} container {m['c']}")
                break
            items.append(("log", (m["ns"], m["pod"], m["c"])))
            pos = stop + len(end)
            continue
        try:
            doc, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as e:
            problems.append(f"neither JSON nor a log section at offset {pos}: {e}")
            break
        items.append(("json", doc))

    if not items or items[0][0] != "json" or items[0][1].get("kind") != "NodeList":
        return Dump(nodes={}, problems=[*problems, "the stream does not start with a NodeList"])
    dump = Dump(nodes=items[0][1], problems=problems)
    rest = items[1:]
    while rest:
        block = rest[: len(NAMESPACE_FILES)]
        kinds = [doc.get("kind") if what == "json" else "log" for what, doc in block]
        if kinds != [kind for _stem, kind, _api in NAMESPACE_FILES]:
            dump.problems.append(f"namespace block out of kubectl's order: {kinds}")
            break
        pods = block[-1][1]["items"]
        ns = pods[0]["metadata"]["namespace"] if pods else block[0][1]["items"][0]["metadata"]["namespace"]
        dump.lists[ns] = {doc["kind"]: doc for _what, doc in block}
        rest = rest[len(NAMESPACE_FILES) :]
        dump.logs[ns] = {}
        while rest and rest[0][0] == "log":
            sec_ns, pod, container = rest.pop(0)[1]
            if sec_ns != ns:
                dump.problems.append(f"log section for {sec_ns}/{pod} inside namespace {ns}")
            dump.logs[ns].setdefault(pod, []).append(container)
    return dump


def read_case(name: str) -> Dump:
    case = CASES[name]
    path = HERE / case["path"]
    return read_dir(path) if case["kind"] == "dir" else read_stream(path)


# ---------------------------------------------------------------- what the dump says about containers


def container_types(pod: dict[str, Any]) -> dict[str, str]:
    spec = pod["spec"]
    out = {c["name"]: "init" for c in spec.get("initContainers", [])}
    out |= {c["name"]: "regular" for c in spec.get("containers", [])}
    out |= {c["name"]: "ephemeral" for c in spec.get("ephemeralContainers", [])}
    return out


def workload_of(pod: dict[str, Any]) -> tuple[str, str]:
    """(workload_kind, workload) by the SPEC's rule, from ownerReferences alone."""
    meta = pod["metadata"]
    owners = meta.get("ownerReferences") or []
    owner = next((o for o in owners if o.get("controller")), owners[0] if owners else None)
    if owner is None:
        return "Pod", meta["name"]
    kind, name = owner["kind"], owner["name"]
    if kind == "ReplicaSet":
        template_hash = meta.get("labels", {}).get("pod-template-hash", "")
        if template_hash and name.endswith("-" + template_hash):
            return "Deployment", name[: -len(template_hash) - 1]
    if kind == "Job" and (m := _CRONJOB_JOB.match(name)):
        return "CronJob", m["cronjob"]
    return kind, name


# ---------------------------------------------------------------- checking diagnose output


def schema_problems(findings: Any) -> list[str]:
    if not isinstance(findings, list):
        return [f"output is a {type(findings).__name__}, not a JSON array"]
    problems = []
    for i, f in enumerate(findings):
        where = f"finding[{i}]"
        if not isinstance(f, dict):
            problems.append(f"{where} is not an object")
            continue
        where = f"finding[{i}] {f.get('namespace')}/{f.get('pod')}/{f.get('container')}"
        problems += _field_problems(where, f) + _evidence_problems(where, f.get("evidence"))
    return problems


def _field_problems(where: str, f: dict[str, Any]) -> list[str]:
    """Where one finding's keys or scalar fields break the schema."""
    problems = []
    if set(f) != FINDING_KEYS:
        missing, extra = sorted(FINDING_KEYS - set(f)), sorted(set(f) - FINDING_KEYS)
        problems.append(f"{where}: keys differ (missing {missing}, extra {extra})")
    for key in (
        "namespace",
        "pod",
        "container",
        "workload_kind",
        "workload",
        "cause",
        "reason",
        "remediation",
        "runbook_url",
    ):
        if key in f and not isinstance(f[key], str):
            problems.append(f"{where}: {key} should be a string, got {f[key]!r:.40}")
    if "failing" in f and not isinstance(f["failing"], bool):
        problems.append(f"{where}: failing should be a boolean")
    if f.get("container_type") not in CONTAINER_TYPES:
        problems.append(f"{where}: container_type {f.get('container_type')!r} not in {sorted(CONTAINER_TYPES)}")
    if f.get("cause") not in CAUSE_IDS:
        problems.append(f"{where}: cause {f.get('cause')!r} is not a catalog cause")
    if (
        "exit_code" in f
        and f["exit_code"] is not None
        and (isinstance(f["exit_code"], bool) or not isinstance(f["exit_code"], int))
    ):
        problems.append(f"{where}: exit_code should be an integer or null")
    if "restarts" in f and (isinstance(f["restarts"], bool) or not isinstance(f["restarts"], int)):
        problems.append(f"{where}: restarts should be an integer")
    return problems


def _evidence_problems(where: str, evidence: Any) -> list[str]:
    """Where one finding's evidence list breaks the schema."""
    if not isinstance(evidence, list):
        return [f"{where}: evidence should be a list"]
    problems = []
    for j, ev in enumerate(evidence):
        if not isinstance(ev, dict) or set(ev) != EVIDENCE_KEYS:
            problems.append(f"{where}: evidence[{j}] should have exactly the keys {sorted(EVIDENCE_KEYS)}")
        elif ev["source"] not in EVIDENCE_SOURCES or not isinstance(ev["detail"], str):
            problems.append(f"{where}: evidence[{j}] has source {ev['source']!r} / detail {ev['detail']!r:.40}")
    return problems


def run_diagnose(path: Path) -> tuple[Any, str]:
    """The parsed JSON output of the real CLI, or (None, why it could not be parsed)."""
    cmd = [sys.executable, "-m", "crashloop_exporter", "diagnose", "--dump", str(path), "-o", "json"]
    try:
        proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=_DIAGNOSE_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        return None, f"`{' '.join(cmd[1:])}` did not finish within {_DIAGNOSE_TIMEOUT_S} s"
    try:
        return json.loads(proc.stdout), ""
    except json.JSONDecodeError as e:
        return None, (
            f"`{' '.join(cmd[1:])}` exited {proc.returncode} without a JSON array on stdout ({e}).\n"
            f"stdout: {proc.stdout[:800]!r}\nstderr: {proc.stderr[-1500:]}"
        )


@dataclass
class Row:
    key: Key
    expected: str
    got: str


def compare(
    name: str, dump: Dump, findings: list[dict[str, Any]]
) -> tuple[list[Row], list[str], Counter[str], Counter[str]]:
    """Mismatch rows, identity problems, and per-cause (expected, matched) counts of failing findings."""
    expected = {(e["namespace"], e["pod"], e["container"]): e for e in CASES[name]["findings"]}
    pods = {(ns, pod["metadata"]["name"]): pod for ns, pod in dump.pods()}
    got: dict[Key, list[dict[str, Any]]] = {}
    for f in findings:
        got.setdefault((f["namespace"], f["pod"], f["container"]), []).append(f)

    rows: list[Row] = []
    identity: list[str] = []
    want_count: Counter[str] = Counter()
    hit_count: Counter[str] = Counter()

    def show(fs: list[dict[str, Any]]) -> str:
        return " + ".join(f"{f['cause']} ({'failing' if f['failing'] else 'not failing'})" for f in fs) or "(none)"

    for key, e in sorted(expected.items()):
        fs = got.get(key, [])
        want = f"{e['cause']} ({'failing' if e['failing'] else 'not failing'})"
        if e["failing"]:
            want_count[e["cause"]] += 1
            ok = len(fs) == 1 and fs[0]["failing"] is True and fs[0]["cause"] == e["cause"]
        else:
            want += ", or absent"
            ok = not fs or (len(fs) == 1 and fs[0]["failing"] is False and fs[0]["cause"] == e["cause"])
        if ok and e["failing"]:
            hit_count[e["cause"]] += 1
        if not ok:
            rows.append(Row(key, want, show(fs)))
        pod = pods.get((key[0], key[1]))
        if pod is not None:
            identity += _identity_problems(key, pod, fs)

    for key, fs in sorted(got.items()):
        if key not in expected and any(f["failing"] for f in fs):
            rows.append(Row(key, "(no failing finding)", show(fs)))
    return rows, identity, want_count, hit_count


def _identity_problems(key: Key, pod: dict[str, Any], fs: list[dict[str, Any]]) -> list[str]:
    """Where a finding's container type or workload disagrees with its pod."""
    identity = []
    for f in fs:
        ctype = container_types(pod).get(key[2])
        if f["container_type"] != ctype:
            identity.append(f"{'/'.join(key)}: container_type {f['container_type']!r}, the pod spec says {ctype!r}")
        if (f["workload_kind"], f["workload"]) != workload_of(pod):
            owners = "/".join(workload_of(pod))
            identity.append(f"{'/'.join(key)}: workload {f['workload_kind']}/{f['workload']}, owners say {owners}")
    return identity


def report(name: str, rows: list[Row], identity: list[str], want: Counter[str], hit: Counter[str]) -> str:
    width = max([len("/".join(r.key)) for r in rows] + [len("namespace/pod/container")])
    ew = max([len(r.expected) for r in rows] + [len("expected")])
    lines = [
        f"diagnose --dump {CASES[name]['path']}: {len(rows)} mismatch(es), {len(identity)} identity problem(s), "
        f"{sum(hit.values())}/{sum(want.values())} failing containers classified right",
        "",
        f"{'namespace/pod/container':<{width}}  {'expected':<{ew}}  got",
    ]
    lines += [f"{'/'.join(r.key):<{width}}  {r.expected:<{ew}}  {r.got}" for r in rows]
    if identity:
        lines += ["", "identity:", *(f"  {p}" for p in identity)]
    lines += ["", "per cause (expected failing -> classified right):"]
    lines += [f"  {cause:<28} {want[cause]:>2} -> {hit[cause]:>2}" for cause in sorted(want)]
    return "\n".join(lines)


# ---------------------------------------------------------------- tests


@pytest.mark.parametrize("name", sorted(CASES))
def test_dump_files_are_well_formed(name: str) -> None:
    """A held-out dump has kubectl's layout, list kinds and log sections, and holds every expected container."""
    dump = read_case(name)
    problems = list(dump.problems)
    if dump.nodes.get("kind") != "NodeList" or dump.nodes.get("apiVersion") != "v1" or not dump.nodes.get("items"):
        problems.append("nodes: not a non-empty v1 NodeList")
    node_names = {n["metadata"]["name"] for n in dump.nodes.get("items", [])}
    for ns, lists in dump.lists.items():
        problems += _list_problems(ns, lists) + _pod_problems(dump, ns, lists, node_names)
    pods = {(ns, p["metadata"]["name"]): p for ns, p in dump.pods()}
    for e in CASES[name]["findings"]:
        pod = pods.get((e["namespace"], e["pod"]))
        if pod is None:
            problems.append(f"expected pod {e['namespace']}/{e['pod']} is not in the dump")
        elif e["container"] not in container_types(pod):
            problems.append(f"expected container {e['container']} is not in {e['namespace']}/{e['pod']}")
        if e["cause"] not in CAUSE_IDS:
            problems.append(f"expected cause {e['cause']!r} is not in the catalog")
    assert not problems, "\n".join(problems)


def _list_problems(ns: str, lists: dict[str, Any]) -> list[str]:
    """Where a namespace's list files lack kubectl's kind, apiVersion or list resourceVersion."""
    problems = []
    for _stem, kind, api in NAMESPACE_FILES:
        doc = lists.get(kind)
        if doc is None or doc.get("apiVersion") != api or "resourceVersion" not in doc.get("metadata", {}):
            problems.append(f"{ns}: no {api} {kind} with a list resourceVersion")
            continue
        for item in doc["items"]:
            if "kind" in item or item["metadata"].get("namespace") != ns:
                problems.append(f"{ns}/{kind}: item {item['metadata'].get('name')} has a kind or another namespace")
    return problems


def _pod_problems(dump: Dump, ns: str, lists: dict[str, Any], node_names: set[str]) -> list[str]:
    """Where a namespace's pods lack a log section per container or sit on an unknown node."""
    problems = []
    for pod in lists.get("PodList", {}).get("items", []):
        pod_name = pod["metadata"]["name"]
        want_logs = [c["name"] for c in pod["spec"].get("initContainers", []) + pod["spec"]["containers"]]
        if dump.logs.get(ns, {}).get(pod_name) != want_logs:
            problems.append(f"{ns}/{pod_name}: log sections {dump.logs.get(ns, {}).get(pod_name)} != {want_logs}")
        node = pod["spec"].get("nodeName")
        if node is not None and node not in node_names:
            problems.append(f"{ns}/{pod_name}: scheduled on unknown node {node}")
    return problems


def test_every_catalog_cause_is_expected_at_least_twice() -> None:
    """Together the held-out cases expect every catalog cause on at least two failing containers."""
    counts = Counter(e["cause"] for case in CASES.values() for e in case["findings"] if e["failing"])
    short = {cause: counts[cause] for cause in sorted(CAUSE_IDS) if counts[cause] < 2}
    assert not short, f"causes with fewer than two held-out expectations: {short}"


def test_fixtures_match_their_generator(tmp_path: Path) -> None:
    """The checked-in dumps, streams and expected.yaml are exactly what generate.py writes."""
    generate.build(tmp_path)
    fresh = {p.relative_to(tmp_path): p for p in tmp_path.rglob("*") if p.is_file()}
    checked_in = {
        p.relative_to(HERE): p
        for p in [*(HERE / "dumps").rglob("*"), *(HERE / "streams").rglob("*"), HERE / "expected.yaml"]
        if p.is_file()
    }
    assert sorted(map(str, fresh)) == sorted(map(str, checked_in))
    stale = [str(rel) for rel, p in sorted(fresh.items()) if p.read_bytes() != checked_in[rel].read_bytes()]
    assert not stale, f"regenerate with `python -m tests.heldout.generate`; stale: {stale[:10]}"


_SCORE: dict[str, int] = {"cases": 0, "clean": 0, "expected": 0, "matched": 0}
"""Summed over the scored cases of this run; printed once they are done (`make heldout`)."""


@pytest.fixture(scope="module")
def score(request: pytest.FixtureRequest) -> Iterator[dict[str, int]]:
    """The held-out score, written to the terminal after the last case (pytest's capture would hide a print)."""
    yield _SCORE
    if _SCORE["cases"]:
        reporter = request.config.pluginmanager.get_plugin("terminalreporter")
        capture = request.config.pluginmanager.get_plugin("capturemanager")
        line = (f"held-out score: {_SCORE['matched']}/{_SCORE['expected']} expected failing containers classified "
                f"right ({100 * _SCORE['matched'] / max(_SCORE['expected'], 1):.1f}%), "
                f"{_SCORE['clean']}/{_SCORE['cases']} dumps without a mismatch")
        if reporter is not None and capture is not None:
            with capture.global_and_fixture_disabled():  # teardown output is captured otherwise
                reporter.write_line("")
                reporter.write_line(line)


@pytest.mark.heldout
@pytest.mark.parametrize("name", sorted(CASES))
def test_diagnose_dump_finds_the_expected_causes(name: str, score: dict[str, int]) -> None:
    """`diagnose --dump -o json` names the expected cause for each failing container, and nothing else fails."""
    dump = read_case(name)
    findings, error = run_diagnose(HERE / CASES[name]["path"])
    assert findings is not None, error
    problems = schema_problems(findings)
    assert not problems, "diagnose -o json does not follow the findings schema:\n" + "\n".join(problems[:40])
    rows, identity, want, hit = compare(name, dump, findings)
    score["cases"] += 1
    score["clean"] += not (rows or identity)
    score["expected"] += sum(want.values())
    score["matched"] += sum(hit.values())
    if rows or identity:
        pytest.fail(report(name, rows, identity, want, hit), pytrace=False)
