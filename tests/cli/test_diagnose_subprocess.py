"""Smoke tests of `diagnose` as a real interpreter run: the in-process runner most tests use says the same."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.dumps import run_diagnose, run_diagnose_subprocess


@pytest.mark.parametrize("output", ["table", "json"])
def test_a_real_process_prints_what_the_in_process_run_prints(seed_dump: Path, output: str) -> None:
    """Exit code, stdout and stderr of `python -m crashloop_exporter diagnose` match `main(argv)`'s."""
    args = ("--dump", str(seed_dump), "-o", output)
    real, in_process = run_diagnose_subprocess(*args), run_diagnose(*args)
    assert "payment-service" in real.stdout, real
    assert (real.returncode, real.stdout, real.stderr) == (in_process.returncode, in_process.stdout, in_process.stderr)


def test_a_real_process_reads_stdin_and_fails_in_one_line() -> None:
    """`-f -` with a broken stream: one error line, a non-zero exit, no traceback, in a real process too."""
    real = run_diagnose_subprocess("-f", "-", stdin="kind: Pod\nmetadata: [\n")
    in_process = run_diagnose("-f", "-", stdin="kind: Pod\nmetadata: [\n")
    assert real.returncode == in_process.returncode != 0, real
    assert "Traceback" not in real.stderr and len(real.stderr.strip().splitlines()) == 1, real.stderr
    assert real.stderr == in_process.stderr
