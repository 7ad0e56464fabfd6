"""Every credential shape of the redaction table stays masked in every `diagnose` output.

One dump holds one crash-looping pod per shape, its previous log ending in a line carrying that
credential (as a crashing program prints it). `diagnose` runs in process on it once per output
format; each shape is then a test of its own against each output.
"""

from __future__ import annotations

import functools
import io
import json
from contextlib import redirect_stdout
from pathlib import Path

import pytest

from crashloop_exporter.classify.redact import EXAMPLES, FORMS
from crashloop_exporter.cli.main import main
from tests.cli.dumps import container, node, pod, status, write_dump_dir
from tests.support.kubeobjects import terminated

CASES: list[tuple[str, str, str, str]] = [
    *((f.name, f.example, f.secret, f.kept) for f in FORMS),
    *EXAMPLES,
]
OUTPUTS = ("json", "table", "wide")


def _pod_name(i: int) -> str:
    return f"leak{i:02d}"


@functools.cache
def _dump() -> Path:
    import tempfile

    pods, logs = [], {}
    for i, (_, line, _, _) in enumerate(CASES):
        name = _pod_name(i)
        pods.append(pod(name, owner=("StatefulSet", name), containers=[container("app")], statuses=[status(
            "app", restarts=3, waiting=("CrashLoopBackOff", ""),
            last=terminated(exit_code=1, reason="Error", started="2024-03-15T02:14:00Z",
                            finished="2024-03-15T02:14:22Z"))]))
        logs[("production", name, "app")] = "starting\nFATAL " + line + "\n"
    root = Path(tempfile.mkdtemp(prefix="redaction-dump-"))
    return write_dump_dir(root / "dump", nodes=[node("node-a")], pods=pods, logs=logs)


@functools.cache
def _run(output: str) -> str:
    out = io.StringIO()
    with redirect_stdout(out):
        rc = main(["diagnose", "--dump", str(_dump()), "-A", "-o", output])
    assert rc in (0, 1), out.getvalue()
    return out.getvalue()


def _section(output: str, pod_name: str) -> str:
    """What `output` prints about one pod: its JSON object, or its workload's block of the table."""
    if output == "json":
        return json.dumps(_json_by_pod()[pod_name], ensure_ascii=False)
    [block] = [b for b in _run(output).split("\n\n") if f"/StatefulSet/{pod_name}:" in b]
    return block


def _json_by_pod() -> dict[str, dict[str, object]]:
    return {f["pod"]: f for f in json.loads(_run("json"))}


@pytest.mark.parametrize("output", OUTPUTS)
@pytest.mark.parametrize(("form", "secret"), [(c[0], c[2]) for c in CASES], ids=[c[0] for c in CASES])
def test_secret_never_reaches_diagnose_output(output: str, form: str, secret: str) -> None:
    """The credential of each form is absent from `-o json|table|wide`, and its pod is reported."""
    i = next(n for n, c in enumerate(CASES) if c[0] == form)
    text = _section(output, _pod_name(i))
    assert secret not in text


@pytest.mark.parametrize(("form", "kept"), [(c[0], c[3]) for c in CASES], ids=[c[0] for c in CASES])
def test_leaking_line_stays_readable_in_the_evidence(form: str, kept: str) -> None:
    """The evidence quotes the crash line with only the credential masked: the rest is readable."""
    i = next(n for n, c in enumerate(CASES) if c[0] == form)
    f = _json_by_pod()[_pod_name(i)]
    details = " ".join(str(e["detail"]) for e in f["evidence"])  # type: ignore[attr-defined]
    assert kept in details and "***" in details, details
