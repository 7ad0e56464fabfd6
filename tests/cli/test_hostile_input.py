"""Hostile `-f` files (alias bombs, 100k-deep JSON, wrong-typed fields) cost one line, never a traceback.

`preflight` runs in CI on pull-request content and `diagnose` on files attached to tickets, so a file
built to hurt must end in exit 2 and one sentence naming it (or, for one bad object among good ones,
one warning and the rest diagnosed), with memory bounded by the file, not by what it expands to.
"""

from __future__ import annotations

import copy
import json
import tracemalloc
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from crashloop_exporter.cli.main import main

BILLION_LAUGHS = (
    'l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n'
    + "".join(f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]\n" for i in range(1, 10))
    + """\
apiVersion: v1
kind: Pod
metadata: {name: lol, namespace: prod, uid: u-lol}
spec:
  containers:
  - name: app
    image: app:1
    resources: {limits: {memory: *l9}, requests: {memory: *l9}}
    livenessProbe: {httpGet: {path: /, port: *l9}}
status:
  containerStatuses:
  - name: app
    restartCount: 3
    state: {waiting: {reason: CrashLoopBackOff}}
    lastState: {terminated: {exitCode: 1, reason: Error}}
"""
)
"""Ten lists of ten aliases, nine levels deep: 10^9 strings once expanded, 1.4 KB of text."""
MEMORY_BOUND = 64 * 2**20
"""Peak Python allocations allowed while refusing a bomb (the expanded form is gigabytes)."""


def _run(argv: Sequence[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


COMMANDS = ("diagnose", "preflight")


@pytest.mark.parametrize("command", COMMANDS)
def test_alias_bomb_is_refused_in_one_line_with_bounded_memory(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A billion-laughs manifest exits 2 with one line naming the file, without expanding it."""
    path = _write(tmp_path, "lol.yaml", BILLION_LAUGHS)
    tracemalloc.start()
    try:
        code, _, err = _run([command, "-f", str(path)], capsys)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert code == 2, err
    assert err.count("\n") == 1 and str(path) in err and "alias" in err, err
    assert peak < MEMORY_BOUND, f"peak {peak / 2**20:.0f} MiB"


@pytest.mark.parametrize("command", COMMANDS)
def test_recursive_alias_is_refused_in_one_line(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An anchor used inside itself (`&a [*a]`) is refused, not turned into an endless structure."""
    path = _write(tmp_path, "loop.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: d}\n"
                  "spec:\n  containers: &c [{name: app, image: x, args: *c}]\n")
    code, _, err = _run([command, "-f", str(path)], capsys)
    assert code == 2 and err.count("\n") == 1 and str(path) in err and "recursive alias" in err, err


def test_small_anchors_still_load(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Ordinary anchors and merge keys (`<<: *defaults`) are not mistaken for a bomb."""
    path = _write(tmp_path, "anchors.yaml", """\
apiVersion: v1
kind: Pod
metadata: {name: api-1, namespace: prod, uid: u-1, labels: &labels {app: api, tier: web}}
spec:
  containers:
  - &app {name: api, image: "api:1", resources: {limits: &mem {memory: 128Mi}}}
status:
  containerStatuses:
  - name: api
    restartCount: 3
    state: {waiting: {reason: CrashLoopBackOff}}
    lastState: {terminated: {exitCode: 137, reason: OOMKilled}}
""")
    code, out, err = _run(["diagnose", "-f", str(path), "-o", "json"], capsys)
    assert code == 0, err
    assert [f["cause"] for f in json.loads(out)] == ["oomkilled"]


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("shape", ["array", "object"])
def test_deeply_nested_json_is_one_line(
    command: str, shape: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """JSON nested 100k deep exits 2 with one line naming the file, not a RecursionError."""
    depth = 100_000
    text = "[" * depth + "]" * depth if shape == "array" else '{"a":' * depth + "1" + "}" * depth
    path = _write(tmp_path, "deep.json", text)
    code, _, err = _run([command, "-f", str(path)], capsys)
    assert code == 2, err
    assert err.count("\n") == 1 and str(path) in err and "nested too deeply" in err, err


# --- wrong-typed fields: the bad object is skipped with one warning, the others are diagnosed ----


def _crashing_pod(name: str) -> dict[str, Any]:
    """A pod that classifies as app_crash, with every field the parser reads present."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name, "namespace": "prod", "uid": f"u-{name}",
            "creationTimestamp": "2024-03-15T02:00:00Z",
            "deletionTimestamp": None,
            "labels": {"app": name, "pod-template-hash": "7d9f4b8c6"},
            "ownerReferences": [{"kind": "ReplicaSet", "name": f"{name}-7d9f4b8c6", "controller": True}],
        },
        "spec": {
            "nodeName": "node-a",
            "restartPolicy": "Always",
            "initContainers": [{"name": "init", "image": "init:1"}],
            "containers": [{
                "name": "app",
                "image": "app:1",
                "resources": {"limits": {"memory": "256Mi"}, "requests": {"memory": "128Mi"}},
                "env": [
                    {"name": "DB_PASSWORD",
                     "valueFrom": {"secretKeyRef": {"name": "db", "key": "pw", "optional": True}}},
                    {"name": "MODE", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "mode"}}},
                ],
                "envFrom": [{"prefix": "X_", "secretRef": {"name": "extra"}}, {"configMapRef": {"name": "more"}}],
                "livenessProbe": {"httpGet": {"path": "/healthz", "port": 8080}, "periodSeconds": 10,
                                  "initialDelaySeconds": 5, "failureThreshold": 3},
                "readinessProbe": {"exec": {"command": ["cat", "/ready"]}},
                "startupProbe": {"tcpSocket": {"port": "http"}},
            }],
            "ephemeralContainers": [],
            "volumes": [
                {"name": "creds", "secret": {"secretName": "creds", "optional": False}},
                {"name": "conf", "configMap": {"name": "conf"}},
                {"name": "all", "projected": {"sources": [{"secret": {"name": "s"}}, {"configMap": {"name": "c"}}]}},
            ],
        },
        "status": {
            "phase": "Running",
            "reason": "",
            "message": "",
            "initContainerStatuses": [{
                "name": "init", "ready": True, "restartCount": 0,
                "state": {"terminated": {"exitCode": 0, "reason": "Completed"}},
            }],
            "containerStatuses": [{
                "name": "app",
                "ready": False,
                "started": False,
                "restartCount": 4,
                "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 40s"}},
                "lastState": {"terminated": {
                    "exitCode": 1, "reason": "Error", "message": "", "signal": 0,
                    "startedAt": "2024-03-15T02:10:00Z", "finishedAt": "2024-03-15T02:10:05Z",
                }},
            }],
            "ephemeralContainerStatuses": [],
        },
    }


def _event(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": f"{name}.1", "namespace": "prod", "creationTimestamp": "2024-03-15T02:10:06Z"},
        "involvedObject": {"kind": "Pod", "name": name, "namespace": "prod", "uid": f"u-{name}",
                           "fieldPath": "spec.containers{app}"},
        "type": "Warning",
        "reason": "BackOff",
        "message": "Back-off restarting failed container app",
        "count": 3,
        "firstTimestamp": "2024-03-15T02:05:00Z",
        "lastTimestamp": "2024-03-15T02:10:06Z",
        "eventTime": None,
        "series": {"count": 3, "lastObservedTime": "2024-03-15T02:10:06Z"},
    }


def _node(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name},
        "status": {
            "nodeInfo": {},
            "conditions": [{"type": "MemoryPressure", "status": "False", "message": "ok",
                            "lastTransitionTime": "2024-03-15T01:00:00Z", "lastHeartbeatTime": "2024-03-15T02:10:00Z"}],
        },
    }


def _paths(value: Any, prefix: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    """Every path in a sample object (each mapping key and list item), parents before children."""
    out: list[tuple[str | int, ...]] = []
    items: list[tuple[str | int, Any]] = (
        list(value.items()) if isinstance(value, dict) else list(enumerate(value)) if isinstance(value, list) else []
    )
    for key, child in items:
        out.append((*prefix, key))
        out.extend(_paths(child, (*prefix, key)))
    return out


WRONG_VALUES: tuple[Any, ...] = ("text", 7, -1, 2**63, 1.5, True, None, [], [[1]], {}, {"a": [1]})
"""A string where a list or mapping belongs, a list or mapping where a string belongs, odd numbers, null."""
SAMPLES = {"pod": _crashing_pod, "event": _event, "node": _node}
FIELD_CASES = [(kind, path) for kind, make in SAMPLES.items() for path in _paths(make("x"))]


def _set(obj: Any, path: tuple[str | int, ...], value: Any) -> None:
    for part in path[:-1]:
        obj = obj[part]
    obj[path[-1]] = value


@pytest.mark.parametrize(
    ("kind", "path"), FIELD_CASES, ids=[f"{k}:{'.'.join(map(str, p))}" for k, p in FIELD_CASES]
)
def test_wrong_typed_field_never_aborts_diagnose(
    kind: str, path: tuple[str | int, ...], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each field the parser reads, given each wrong type, leaves a good pod in the same file diagnosed."""
    objects: list[Any] = [_crashing_pod("good"), _node("node-a")]
    for i, wrong in enumerate(WRONG_VALUES):
        name = f"bad-{i}"
        obj = SAMPLES[kind](name)
        if kind == "event":  # about the good pod, so a bad event reaches its classification
            obj["involvedObject"].update(name="good", uid="u-good")
        _set(obj, path, copy.deepcopy(wrong))
        objects.append(obj)
    path_file = _write(tmp_path, "mixed.json", json.dumps({"apiVersion": "v1", "kind": "List", "items": objects}))
    code, out, err = _run(["diagnose", "-f", str(path_file), "-o", "json", "--all"], capsys)
    assert code == 0 and "Traceback" not in err, err
    assert any(f["pod"] == "good" and f["cause"] == "app_crash" for f in json.loads(out)), out
    for line in err.splitlines():
        assert line.startswith(("crashloop-exporter diagnose: warning: ", "crashloop-exporter diagnose: note: ")), line


NAMED_CASES = {
    # the issue's examples: (kind, path, value, what the warning names)
    "env-5": ("pod", ("spec", "containers", 0, "env"), 5, "pod prod/bad.spec.containers[app].env should be a list"),
    "volumes-7": ("pod", ("spec", "volumes"), 7, "pod prod/bad.spec.volumes should be a list"),
    "envFrom-string": ("pod", ("spec", "containers", 0, "envFrom"), "x", "containers[app].envFrom should be a list"),
    "projected-sources-int": ("pod", ("spec", "volumes", 2, "projected", "sources"), 3,
                              "volumes[all].projected.sources should be a list"),
    "memory-limit-list": ("pod", ("spec", "containers", 0, "resources", "limits", "memory"), ["1Gi"],
                          "containers[app].resources.limits.memory should be a string or a number"),
    "probe-port-mapping": ("pod", ("spec", "containers", 0, "livenessProbe", "httpGet", "port"), {"a": 1},
                           "livenessProbe.httpGet.port should be a string or a number"),
    "probe-command-nested": ("pod", ("spec", "containers", 0, "readinessProbe", "exec", "command"), [["sh"]],
                             "readinessProbe.exec.command should be a list of strings"),
    "node-condition-type-list": ("node", ("status", "conditions", 0, "type"), [],
                                 "node bad: Expected `str`, got `array` - at `$.status.conditions[0].type`"),
}


@pytest.mark.parametrize(("kind", "path", "value", "names"), NAMED_CASES.values(), ids=NAMED_CASES.keys())
def test_wrong_typed_field_skips_that_object_with_one_warning(
    kind: str, path: tuple[str | int, ...], value: Any, names: str, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The malformed object is skipped with one warning naming it and the field; the good pod is diagnosed."""
    bad = SAMPLES[kind]("bad")
    _set(bad, path, value)
    items = [_crashing_pod("good"), bad]
    path_file = _write(tmp_path, "mixed.json", json.dumps({"apiVersion": "v1", "kind": "List", "items": items}))
    code, out, err = _run(["diagnose", "-f", str(path_file), "-o", "json"], capsys)
    assert code == 0, err
    assert [f["pod"] for f in json.loads(out)] == ["good"]
    [warning] = err.splitlines()
    assert f"skipped malformed {kind.capitalize()}" in warning and names in warning, warning


# --- a user rule with catastrophic backtracking ------------------------------------------------


def test_backtracking_rule_does_not_hang_diagnose(tmp_path: Path) -> None:
    """`--rules-file` with `(a|aa)+$` classifies a log of 60-`a` lines within the subprocess bound."""
    from tests.cli.dumps import run_diagnose

    pods = _write(tmp_path, "pods.json", json.dumps(_crashing_pod("api")))
    logs = tmp_path / "logs" / "api"
    logs.mkdir(parents=True)
    (logs / "app.log").write_text(("a" * 60 + "!\n") * 50, encoding="utf-8")
    rules = _write(tmp_path, "rules.yaml", "rules:\n  - cause: bad_config\n    pattern: '(a|aa)+$'\n")
    proc = run_diagnose("-f", str(pods), "--logs", str(tmp_path / "logs"), "--rules-file", str(rules), "-o", "json",
                        timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert [f["cause"] for f in json.loads(proc.stdout)] == ["app_crash"]
