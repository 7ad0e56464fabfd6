"""Hostile `-f` files (alias bombs, 100k-deep JSON, wrong-typed fields) cost one line, never a traceback.

`preflight` runs in CI on pull-request content and `diagnose` on files attached to tickets, so a file
built to hurt must end in exit 2 and one sentence naming it (or, for one bad object among good ones,
one warning and the rest diagnosed), with memory bounded by the file, not by what it expands to.
"""

from __future__ import annotations

import json
import tracemalloc
from collections.abc import Sequence
from pathlib import Path

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
