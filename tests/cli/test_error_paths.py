"""Every CLI error path is one line on stderr, as `cli/main.py` promises: a busy port, an unreadable
file, a bad CRASHLOOP_* value, for each subcommand that takes them; and not one traceback among them.

Each case runs the installed CLI as a separate process, as a user would."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import pytest

POD = """apiVersion: v1
kind: Pod
metadata: {name: web-0, namespace: default}
spec:
  containers:
  - name: web
    image: nginx:1.27
    resources: {limits: {memory: 64Mi}}
    env: [{name: TOKEN, valueFrom: {secretKeyRef: {name: web-token, key: token}}}]
"""


@dataclass(frozen=True)
class Case:
    """One bad invocation: argv (with {dir}, {binary}, {badyaml}, {pod}, {missing}, {busy} filled in),
    CRASHLOOP_* env, the exit code and a regex the one stderr line must match."""

    id: str
    argv: tuple[str, ...]
    code: int
    line: str
    env: dict[str, str] = field(default_factory=dict)


CASES = (
    # A port another process holds.
    # (serve logs its start at info on stderr; warning leaves the error line alone)
    Case("serve-busy-port", ("serve", "--listen-address", "{busy}", "--kubeconfig", "{kubeconfig}",
                             "--log-level", "warning"), 2,
         r"serve: error: cannot listen on 127\.0\.0\.1:\d+: address already in use"),
    Case("demo-busy-port", ("demo", "--listen-address", "{busy}", "--no-table"), 2,
         r"demo: error: cannot listen on 127\.0\.0\.1:\d+: address already in use"),
    Case("sim-busy-port", ("sim", "--listen", "{busy}", "--kubeconfig-out", "{dir}/k"), 2,
         r"sim: error: cannot listen on 127\.0\.0\.1:\d+: address already in use"),
    # Files that cannot be read as what they should be.
    Case("diagnose-f-directory", ("diagnose", "-f", "{dir}"), 2, r"diagnose: error: -f \S+: is a directory"),
    Case("diagnose-f-missing", ("diagnose", "-f", "{missing}"), 2, r"diagnose: error: -f \S+: no such file"),
    Case("diagnose-f-binary", ("diagnose", "-f", "{binary}"), 2, r"diagnose: error: \S+bin\.yaml"),
    Case("diagnose-rules-file-directory", ("diagnose", "--example", "--rules-file", "{dir}"), 2,
         r"diagnose: error: --rules-file \S+: cannot read it \((?i:is a directory)\)"),
    Case("diagnose-rules-file-bad-yaml", ("diagnose", "--example", "--rules-file", "{badyaml}"), 2,
         r"diagnose: error: --rules-file \S+: invalid YAML at line 2"),
    Case("serve-rules-file-binary", ("serve", "--rules-file", "{binary}", "--kubeconfig", "{kubeconfig}"), 2,
         r"serve: error: --rules-file \S+: not UTF-8 text"),
    Case("demo-rules-file-missing", ("demo", "--rules-file", "{missing}", "--no-table"), 2,
         r"demo: error: --rules-file \S+"),
    Case("preflight-f-missing", ("preflight", "-f", "{missing}", "--offline"), 2,
         r"preflight: error: -f \S+: no such file or directory"),
    Case("preflight-f-empty-directory", ("preflight", "-f", "{dir}", "--offline"), 2,
         r"preflight: error: -f \S+: directory holds no \*\.yaml"),
    Case("preflight-f-binary", ("preflight", "-f", "{binary}", "--offline"), 2, r"preflight: error: \S+bin\.yaml"),
    Case("diagnose-kubeconfig-directory", ("diagnose", "--kubeconfig", "{dir}"), 1,
         r"diagnose: error: kubeconfig \S+: cannot read it \(is a directory\)"),
    Case("diagnose-kubeconfig-binary", ("diagnose", "--kubeconfig", "{binary}"), 1,
         r"diagnose: error: kubeconfig \S+: not UTF-8 text"),
    Case("serve-kubeconfig-missing", ("serve", "--kubeconfig", "{missing}"), 1,
         r"serve: error: --kubeconfig \S+: file does not exist"),
    Case("preflight-kubeconfig-bad-yaml", ("preflight", "-f", "{pod}", "--kubeconfig", "{badyaml}"), 1,
         r"preflight: error: kubeconfig \S+: not valid YAML"),
    Case("sim-kubeconfig-out-directory", ("sim", "--kubeconfig-out", "{dir}"), 2,
         r"sim: error: --kubeconfig-out \S+: cannot write it \(is a directory\)"),
    # CRASHLOOP_* values of the wrong type or out of range, and the subcommands' own numbers.
    Case("serve-env-not-an-integer", ("serve",), 2,
         r"serve: error: --log-tail-lines 'abc' \(from CRASHLOOP_LOG_TAIL_LINES\): expected an integer, 1\.\.10000",
         {"CRASHLOOP_LOG_TAIL_LINES": "abc"}),
    Case("diagnose-env-out-of-range", ("diagnose", "--example"), 2,
         r"diagnose: error: --log-limit-bytes 1 \(from CRASHLOOP_LOG_LIMIT_BYTES\): must be 1024\.\.16777216",
         {"CRASHLOOP_LOG_LIMIT_BYTES": "1"}),
    Case("demo-env-not-a-boolean", ("demo", "--no-table"), 2,
         r"demo: error: --no-logs 'maybe' \(from CRASHLOOP_NO_LOGS\): expected 1, 0, true, false, yes or no",
         {"CRASHLOOP_NO_LOGS": "maybe"}),
    Case("serve-env-bad-choice", ("serve",), 2,
         r"serve: error: --log-format 'xml' \(from CRASHLOOP_LOG_FORMAT\): expected text or json",
         {"CRASHLOOP_LOG_FORMAT": "xml"}),
    Case("demo-duration-negative", ("demo", "--duration", "-1"), 2,
         r"demo: error: argument --duration: '-1': must be 0\.\.604800 seconds"),
    Case("demo-time-scale-not-a-number", ("demo", "--time-scale", "fast"), 2,
         r"demo: error: argument --time-scale: 'fast': expected a number"),
    Case("preflight-unknown-flag", ("preflight", "--bogus"), 2, r"error: unrecognized arguments: --bogus"),
)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The bad files, a valid kubeconfig to an address nothing serves, and a port held open."""
    d = tmp_path_factory.mktemp("bad-inputs")
    (d / "empty-dir").mkdir()
    (d / "bin.yaml").write_bytes(b"\xff\xfe\x00\x01 not text")
    (d / "bad.yaml").write_text("rules: [\n", encoding="utf-8")
    (d / "pod.yaml").write_text(POD, encoding="utf-8")
    (d / "kubeconfig").write_text(
        "apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: 'http://127.0.0.1:9'}}]\n"
        "users: [{name: u, user: {token: t}}]\ncontexts: [{name: c, context: {cluster: c, user: u}}]\n"
        "current-context: c\n", encoding="utf-8")
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    try:
        yield {"dir": str(d / "empty-dir"), "binary": str(d / "bin.yaml"), "badyaml": str(d / "bad.yaml"),
               "pod": str(d / "pod.yaml"), "missing": str(d / "no-such-file.yaml"),
               "kubeconfig": str(d / "kubeconfig"), "busy": f"127.0.0.1:{busy.getsockname()[1]}"}
    finally:
        busy.close()


_RESULTS: dict[str, subprocess.CompletedProcess[str]] = {}
"""Each case's run, shared by its own test and the traceback scan (a run is seconds of CPU)."""


def run_case(case: Case, inputs: dict[str, str]) -> subprocess.CompletedProcess[str]:
    if case.id in _RESULTS:
        return _RESULTS[case.id]
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRASHLOOP_")}
    env.update(case.env, NO_COLOR="1")
    argv = [a.format(**inputs) for a in case.argv]
    done = subprocess.run([sys.executable, "-m", "crashloop_exporter", *argv], capture_output=True, text=True,
                          env=env, timeout=60, stdin=subprocess.DEVNULL)
    _RESULTS[case.id] = done
    return done


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_error_is_one_line(case: Case, inputs: dict[str, str]) -> None:
    """The bad invocation exits with its code and prints exactly one stderr line saying what is wrong."""
    done = run_case(case, inputs)
    lines = done.stderr.splitlines()
    assert (done.returncode, len(lines)) == (case.code, 1), f"rc={done.returncode}\n{done.stderr}{done.stdout}"
    assert re.search(case.line, lines[0]), lines[0]
    assert lines[0].startswith("crashloop-exporter"), lines[0]


def test_no_error_path_prints_a_traceback(inputs: dict[str, str]) -> None:
    """All the bad invocations together: none of their stderr holds a Python traceback."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda c: (c.id, run_case(c, inputs)), CASES))
    tracebacks = {cid: done.stderr for cid, done in results if "Traceback" in done.stderr}
    assert not tracebacks, tracebacks
    assert all(done.returncode in (1, 2) for _, done in results), [(cid, d.returncode) for cid, d in results]
