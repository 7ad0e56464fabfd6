"""Bad input exits 2 with one line naming the file and the document, never a traceback."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from .conftest import FIXTURES, run_cli

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: production}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers: [{name: api, image: "r/api:v1", resources: {limits: {memory: 64Mi}}}]
"""

CASES: dict[str, tuple[str, str]] = {
    # name: (file content, what the one line must say after "FILE")
    "invalid-yaml-second-document": (DEPLOYMENT + "---\nkind: Service\nmetadata: {name: x\n",
                                     " document 2 (line 13 column 1): invalid YAML: "),
    "scalar-document": (DEPLOYMENT + "---\njust a string\n",
                        " document 2 (line 11): expected a Kubernetes object (a mapping with apiVersion and kind), "
                        "got a string"),
    "list-document": ("- kind: Pod\n- kind: Pod\n",
                      " document 1 (line 1): expected a Kubernetes object (a mapping with apiVersion and kind), "
                      "got a list"),
    "deployment-without-template": ("kind: Deployment\nmetadata: {name: api}\nspec: {replicas: 2}\n",
                                    " document 1 (line 1): Deployment api has no pod template (spec.template.spec "
                                    "is missing or not a mapping)"),
    "cronjob-without-job-template": ("---\n---\nkind: CronJob\nmetadata: {name: nightly}\nspec: {schedule: x}\n",
                                     " document 2 (line 3): CronJob nightly has no pod template "
                                     "(spec.jobTemplate.spec.template.spec"),
    "pod-without-containers": ("kind: Pod\nmetadata: {name: p}\nspec: {containers: []}\n",
                               " document 1 (line 1): Pod p has no containers (spec.containers is missing or empty)"),
    "containers-not-a-list-of-objects": (
        "kind: Pod\nmetadata: {name: p}\nspec:\n  containers: [x]\n",
        " document 1 (line 1): Pod p: containers should be a list of containers"),
    "list-item-not-an-object": ('{"kind": "List", "items": [3]}',
                                " document 1 (line 1): List.items[0] should be a Kubernetes object, got a number"),
    "invalid-json-second-value": ('{"kind": "Service"}\n{"kind": ',
                                  " document 2 (line 2 column 10): invalid JSON: Expecting value"),
    "empty-file": ("# only a comment\n", ": no Kubernetes objects (empty input)"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_bad_file_is_one_line_exit_2(name: str, write: Callable[[str, str], Path]) -> None:
    """Each malformed input names the file and document in a single stderr line, exit 2."""
    content, expected = CASES[name]
    path = write(f"{name}.yaml", content)
    result = run_cli(["preflight", "-f", str(path), "--offline"])
    assert result.code == 2
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"crashloop-exporter preflight: error: {path}{expected}"), result.stderr


def test_empty_stdin_is_bad_input() -> None:
    """An empty pipe (the command before `|` failed, no pipefail) must not pass the rollout."""
    result = run_cli(["preflight", "-f", "-", "--offline"], stdin=b"")
    assert (result.code, result.stderr) == (2, "crashloop-exporter preflight: error: <stdin>: no Kubernetes objects "
                                               "(empty input)\n")


def test_bad_stdin_names_stdin() -> None:
    """Errors in piped input say <stdin>."""
    result = run_cli(["preflight", "-f", "-", "--offline"], stdin=b"kind: Deployment\nmetadata: {name: d}\n")
    assert result.code == 2 and result.stderr.startswith("crashloop-exporter preflight: error: <stdin> document 1")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["-f", "/nonexistent/app.yaml"], "-f /nonexistent/app.yaml: no such file or directory"),
        (["-f", "-", "-f", "-"], "-f -: stdin can be given only once"),
        ([], "-f PATH is required"),
        (["-f", str(FIXTURES / "clean" / "kinds.json"), "-n", "staging"],
         "metadata.namespace production but -n staging was given"),
    ],
    ids=["missing-file", "stdin-twice", "no-input", "namespace-mismatch"],
)
def test_bad_arguments_exit_2(argv: list[str], message: str) -> None:
    """Flag mistakes are one line and exit 2 too."""
    result = run_cli(["preflight", "--offline", *argv])
    assert result.code == 2 and message in result.stderr and "Traceback" not in result.stderr


def test_empty_directory_is_bad_input(tmp_path: Path) -> None:
    """A directory without manifests is almost certainly the wrong path."""
    (tmp_path / "README.md").write_text("not a manifest")
    result = run_cli(["preflight", "-f", str(tmp_path), "--offline"])
    assert result.code == 2 and "holds no *.yaml, *.yml or *.json files" in result.stderr


def test_input_without_workloads_passes_with_a_note(write: Callable[[str, str], Path]) -> None:
    """Only Services and ConfigMaps: nothing to check is not an error."""
    path = write("svc.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: s}\n")
    result = run_cli(["preflight", "-f", str(path), "--offline", "-o", "json"])
    assert (result.code, result.stdout) == (0, "[]\n")
    assert "no workloads" in result.stderr


SHARED_READER_CASES = {
    # name: (file name, content); both commands read these through inputs.documents
    "invalid-yaml": ("bad.yaml", DEPLOYMENT + "---\nkind: Service\nmetadata: {name: x\n"),
    "invalid-json": ("bad.json", '{"kind": "Service", "apiVersion": "v1", '
                              '"metadata": {"name": "s", "namespace": "n"}}\n{"kind": '),
    "json-too-deep": ("deep.json", "[" * 50_000 + "]" * 50_000),
    "scalar-document": ("scalar.yaml", "just a string\n"),
    "items-not-a-list": ("items.json", '{"kind": "List", "items": {"a": 1}}'),
}


@pytest.mark.parametrize("name", list(SHARED_READER_CASES))
def test_diagnose_and_preflight_word_a_bad_document_the_same(
    name: str, write: Callable[[str, str], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """`diagnose -f` and `preflight -f` give the same one-sentence error for the same unreadable document."""
    from crashloop_exporter.cli.main import main

    file_name, content = SHARED_READER_CASES[name]
    path = write(file_name, content)
    messages = {}
    for command in ("diagnose", "preflight"):
        assert main([command, "-f", str(path)]) == 2
        err = capsys.readouterr().err
        prefix = f"crashloop-exporter {command}: error: "
        assert err.startswith(prefix) and err.count("\n") == 1, err
        messages[command] = err.removeprefix(prefix)
    assert messages["diagnose"] == messages["preflight"]
    assert messages["diagnose"].startswith(f"{path} document "), messages
