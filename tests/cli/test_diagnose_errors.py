"""Bad input to `diagnose`: exit 2, one sentence on stderr naming the file and what was expected, no traceback."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cli.dumps import kubectl_json, payment_service_pod, run_diagnose
from tests.support.kubeobjects import typed_list


def _write(name: str, text: str) -> Callable[[Path], list[str]]:
    def make(tmp: Path) -> list[str]:
        path = tmp / name
        path.write_text(text)
        return ["-f", str(path)]

    return make


def _dump_file(name: str, text: str) -> Callable[[Path], list[str]]:
    def make(tmp: Path) -> list[str]:
        path = tmp / name
        path.write_text(text)
        return ["--dump", str(path)]

    return make


DEPLOYMENTS = kubectl_json({"apiVersion": "apps/v1", "kind": "DeploymentList", "metadata": {}, "items": [
    {"metadata": {"name": "api", "namespace": "production"}, "spec": {"replicas": 3}}]})

CASES: dict[str, tuple[Callable[[Path], list[str]], list[str]]] = {
    "missing dump directory": (
        lambda tmp: ["--dump", str(tmp / "no-such-dump")],
        ["no-such-dump: no such file or directory", "kubectl cluster-info dump"],
    ),
    "directory that is not a dump": (
        lambda tmp: ["--dump", str(tmp)],
        ["not a `kubectl cluster-info dump --output-directory` directory", "nodes.json"],
    ),
    "missing -f file": (lambda tmp: ["-f", str(tmp / "pods.json")], ["pods.json: no such file"]),
    "invalid JSON": (
        _write("pods.json", '{\n    "kind": "PodList",\n    "items": [\n        {"metadata": }\n'),
        ["pods.json document 1 (line 4 column 22): invalid JSON: Expecting value"],
    ),
    "invalid YAML": (
        _write("pods.yaml", "kind: PodList\nitems:\n  - metadata: {name: [x\n"),
        ["pods.yaml document 1 (line 4 column 1): invalid YAML: "],
    ),
    "wrong kind": (
        _write("deploy.json", DEPLOYMENTS),
        ["deploy.json: holds Deployment; expected Pods, Events or Nodes", "kubectl get pods,events -o json"],
    ),
    "empty file": (_write("empty.json", ""), ["empty.json: empty file; expected Pods, Events or Nodes"]),
    "comments only": (_write("c.yaml", "# nothing here\n---\n"), ["c.yaml: no Kubernetes objects"]),
    "a document that is not an object": (
        _write("s.yaml", "just a string\n"),
        ["s.yaml document 1 (line 1): expected a Kubernetes object (a mapping with apiVersion and kind), "
         "got a string"]),
    "items not a list": (
        _write("l.json", '{"kind": "PodList", "items": {"a": 1}}'),
        ["l.json document 1 (line 1): PodList.items should be a list, got a mapping"]),
    "empty dump stream": (_dump_file("dump.txt", "\n\n"), ["dump.txt: no Kubernetes objects found"]),
    "truncated dump stream": (
        _dump_file("dump.txt", kubectl_json(typed_list("PodList", [payment_service_pod()]))[:300]),
        ["dump.txt document 1 (line 12 column 24): invalid JSON: Unterminated string"],
    ),
    "-f given a dump directory": (
        lambda tmp: ((tmp / "nodes.json").write_text("{}"), ["-f", str(tmp)])[1],
        ["is a directory, expected a file", "use --dump"],
    ),
    "bad rules file": (
        lambda tmp: ((tmp / "rules.yaml").write_text("rules:\n  - cause: no_such_cause\n    pattern: x\n"),
                     ["--example", "--rules-file", str(tmp / "rules.yaml")])[1],
        ["rules.yaml"],
    ),
    "unknown pod": (lambda _tmp: ["--example", "no-such-pod"], ['pod "no-such-pod" not found in the input']),
    "--logs with a live cluster": (lambda tmp: ["--logs", str(tmp)], ["--logs DIR only applies to --dump or -f"]),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_bad_input_is_one_line_and_exit_2(case: str, tmp_path: Path) -> None:
    """Each bad input exits 2 with one `error:` line naming what was wrong, and no traceback."""
    make_args, expected = CASES[case]
    r = run_diagnose(*make_args(tmp_path))
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert r.stdout == ""
    assert "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("crashloop-exporter diagnose: error: ")
    for text in expected:
        assert text in lines[0]


def test_sources_are_mutually_exclusive(tmp_path: Path) -> None:
    """--dump together with -f (or -n with -A) is a usage error, exit 2."""
    r = run_diagnose("--dump", str(tmp_path), "-f", "x.json")
    assert r.returncode == 2 and "not allowed with argument" in r.stderr and "Traceback" not in r.stderr
    r = run_diagnose("--example", "-n", "a", "-A")
    assert r.returncode == 2 and "not allowed with argument" in r.stderr


def test_no_credentials_for_a_live_cluster_is_one_line(tmp_path: Path) -> None:
    """Without --dump/-f and without any kubeconfig, the error says how to point at a cluster."""
    r = run_diagnose(env={"HOME": str(tmp_path), "KUBERNETES_SERVICE_HOST": ""})
    assert r.returncode == 1
    assert "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "--kubeconfig" in lines[0]
