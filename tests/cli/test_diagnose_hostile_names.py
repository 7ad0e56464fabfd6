"""Names from dumps and `-f` files are user input: none can forge a line or a command in the fix.

Kubernetes refuses a pod named `x\\nkubectl delete namespace production`, but a hand-written or
hostile file does not; `diagnose` prints remediation commands an SRE copies at 3 a.m. Each test
puts such a value into one field, runs `diagnose -f` in process, and checks every output format.
"""

from __future__ import annotations

import io
import json
import shlex
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

import pytest

from crashloop_exporter.cli.main import main
from tests.cli.dumps import container, kubectl_json, kubectl_list, pod, status
from tests.support.kubeobjects import terminated

INJECTED = "kubectl delete namespace production"
NEWLINE = "x\n" + INJECTED
SUBSHELL = "x$(" + INJECTED + ")"


def _crash(**kw: Any) -> dict[str, Any]:
    """A container that exits 1 and waits in CrashLoopBackOff (remediation: logs, describe, rollout)."""
    name = kw.pop("container_name", "app")
    return pod(kw.pop("name", "web-7d9f4b8c6-xk2p9"), containers=[container(name)], statuses=[status(
        name, restarts=3, waiting=("CrashLoopBackOff", ""),
        last=terminated(exit_code=1, reason="Error", started="2024-03-15T02:14:00Z",
                        finished="2024-03-15T02:14:22Z"))], **kw)


def _config_error(message: str, *, env: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A container held in CreateContainerConfigError with `message` (missing Secret/ConfigMap/key)."""
    return pod("web-7d9f4b8c6-xk2p9", containers=[container("app", env=env or [])],
               statuses=[status("app", waiting=("CreateContainerConfigError", message))], phase="Pending")


def _secret_env(name: str, key: str) -> list[dict[str, Any]]:
    return [{"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": name, "key": key}}}]


KEY = "k$(id)`id`;id"
"""A key with no whitespace (the kubelet's `couldn't find key K` message ends the key at a space)."""


def _quoted(value: str) -> str:
    """How a hostile value is expected in a command: shell-quoted, a newline shown as `\\n`."""
    return shlex.quote(value.replace("\n", "\\n"))


CASES: dict[str, tuple[dict[str, Any], str]] = {
    "pod": (_crash(name=NEWLINE, owner=("StatefulSet", "web")), _quoted(NEWLINE)),
    "pod-subshell": (_crash(name=SUBSHELL, owner=("StatefulSet", "web")), _quoted(SUBSHELL)),
    "container": (_crash(container_name=NEWLINE), _quoted(NEWLINE)),
    "namespace": (_crash(namespace=NEWLINE), _quoted(NEWLINE)),
    "workload": (_crash(owner=("StatefulSet", NEWLINE)), _quoted("statefulset/" + NEWLINE)),
    "workload-kind": (_crash(owner=("Job\n" + INJECTED, "etl")), _quoted("Job\n" + INJECTED)),
    "bare-pod": (_crash(name=NEWLINE, owner=None), _quoted(NEWLINE)),
    "secret": (_config_error(f'secret "{NEWLINE}" not found', env=_secret_env(NEWLINE, "url")), _quoted(NEWLINE)),
    "secret-key-from-spec": (_config_error('secret "db" not found', env=_secret_env("db", NEWLINE)),
                             _quoted(NEWLINE)),
    "configmap": (_config_error(f'configmap "{NEWLINE}" not found'), _quoted(NEWLINE)),
    "secret-key": (_config_error(f"couldn't find key {KEY} in Secret production/db", env=_secret_env("db", KEY)),
                   _quoted(KEY)),
    "configmap-key": (_config_error(f"couldn't find key {KEY} in ConfigMap production/cfg"), _quoted(KEY)),
}


def _diagnose(tmp_path: Path, obj: dict[str, Any], output: str) -> str:
    path = tmp_path / "pods.json"
    path.write_text(kubectl_json(kubectl_list([obj])))
    out = io.StringIO()
    with redirect_stdout(out):
        rc = main(["diagnose", "-f", str(path), "-A", "-o", output])
    assert rc in (0, 1), out.getvalue()
    return out.getvalue()


def _shell_words(command: str) -> list[str]:
    """The words a POSIX shell sees in `command`, with `;`, `(` and `)` as words of their own."""
    lexer = shlex.shlex(command, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    lexer.commenters = "#"
    return list(lexer)


def _lines(output: str, text: str) -> list[str]:
    if output != "json":
        return text.split("\n")
    findings = json.loads(text)
    assert findings, text
    return [ln for f in findings for ln in f["remediation"].split("\n")]


@pytest.mark.parametrize("output", ["table", "wide", "json"])
@pytest.mark.parametrize("field", list(CASES))
def test_hostile_name_never_forges_a_command_line(tmp_path: Path, field: str, output: str) -> None:
    """A newline, `$(...)` or `;` in a name never yields a line or shell word of its own: the value
    appears shell-quoted in the fix, and no printed line starts with the injected command."""
    obj, expected = CASES[field]
    text = _diagnose(tmp_path, obj, output)
    lines = _lines(output, text)
    assert not [ln for ln in lines if ln.strip().lstrip("#").strip().startswith(INJECTED)], text
    commands = [ln.strip() for ln in lines if ln.strip().startswith("kubectl ")]
    assert commands, text
    for command in commands:
        words = _shell_words(command)
        assert not {"id", "`", ";", "$("} & set(words), command
        assert not any(words[i : i + 2] == ["delete", "namespace"] for i in range(len(words))), command
    assert expected in "\n".join(lines), text


def test_valid_names_are_printed_bare() -> None:
    """Real Kubernetes names need no quoting, so the usual fix reads as before."""
    from crashloop_exporter.catalog import BY_ID
    from crashloop_exporter.classify.remediation import render

    facts = {"namespace": "prod", "pod": "api-7d9f4b8c6-xk2p9", "container": "api", "workload": "api"}
    text = render(BY_ID["app_crash"], facts, workload_kind="Deployment")
    assert "kubectl logs api-7d9f4b8c6-xk2p9 -n prod -c api --previous" in text
    assert "'" not in text.split("jsonpath=")[0]
