"""The benchmark's plumbing fails in one sentence: an admin request the sim does not answer is a
`BenchError` naming the request and the timeout, which run.py prints as one line, not a traceback."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

import benchlib  # noqa: E402


def test_an_unanswered_admin_request_is_one_bench_error() -> None:
    """A server that accepts the connection but never answers (a sim whose loop is busy) times out as
    a BenchError with the method, URL and timeout in one line."""
    with socket.create_server(("127.0.0.1", 0)) as silent:
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/_sim/churn"
        with pytest.raises(benchlib.BenchError) as failure:
            benchlib.http_json(url, data={"rate": 0}, timeout=0.3)
    message = str(failure.value)
    assert message.startswith(f"POST {url}: no answer (timeout 0.3s)") and "\n" not in message, message


def test_a_refused_admin_request_is_one_bench_error() -> None:
    """Nothing listening (the sim died) is a BenchError too, not a URLError traceback."""
    with socket.create_server(("127.0.0.1", 0)) as closed:
        url = f"http://127.0.0.1:{closed.getsockname()[1]}/_sim/stats"
    with pytest.raises(benchlib.BenchError) as failure:
        benchlib.http_json(url, timeout=2)
    assert str(failure.value).startswith(f"GET {url}: no answer") and "\n" not in str(failure.value)
