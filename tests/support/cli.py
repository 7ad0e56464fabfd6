"""The CLI run in this process through `main(argv)`: no interpreter start per test.

Same shape as `subprocess.run(..., capture_output=True, text=True)`: a CompletedProcess with the
exit code and the captured stdout/stderr. The environment is the one a user's shell would pass
(CRASHLOOP_*, KUBECONFIG and NO_COLOR dropped, COLUMNS=200), restored afterwards, and so are the
root logger's handlers (a command may configure logging).
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence

from crashloop_exporter.cli.main import main


@contextlib.contextmanager
def _environment(env: Mapping[str, str] | None) -> Iterator[None]:
    saved = dict(os.environ)
    try:
        for k in [k for k in os.environ if k.startswith(("CRASHLOOP_", "KUBECONFIG", "NO_COLOR"))]:
            del os.environ[k]
        os.environ.setdefault("COLUMNS", "200")
        os.environ.update(env or {})
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def run_cli_in_process(
    argv: Sequence[str], *, stdin: str | bytes | None = None, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    data = stdin.encode() if isinstance(stdin, str) else (stdin or b"")
    out, err = io.BytesIO(), io.BytesIO()
    stdout = io.TextIOWrapper(out, encoding="utf-8", write_through=True)
    stderr = io.TextIOWrapper(err, encoding="utf-8", write_through=True)
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    saved = sys.stdin, sys.stdout, sys.stderr
    try:
        with _environment(env):
            sys.stdin = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8")
            sys.stdout, sys.stderr = stdout, stderr
            try:
                code = main(list(argv))
            except SystemExit as e:  # argparse's usage errors
                code = e.code if isinstance(e.code, int) else 2
            stdout.flush()
            stderr.flush()
    finally:
        sys.stdin, sys.stdout, sys.stderr = saved
        root.handlers[:] = handlers
        root.setLevel(level)
    return subprocess.CompletedProcess(
        ["crashloop-exporter", *argv], code, out.getvalue().decode("utf-8", "replace"),
        err.getvalue().decode("utf-8", "replace"),
    )
