"""The exporter as a process: demo shows every cause, SIGTERM is clean, pods/log 403 degrades,
and previous logs are fetched at most once per restart with the caps."""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from crashloop_exporter.catalog import CAUSE_IDS
from crashloop_exporter.serve.app import SHUTDOWN_GRACE_SECONDS
from tests.support.wait import wait_until

from .procs import diagnostics, failing_sim_argv, http, running_exporter, running_sim, settle

pytestmark = pytest.mark.e2e


def _causes_in(body: str) -> set[str]:
    return set(re.findall(r'^crashloop_(?:container_failing|crashes_total)\{[^}]*cause="([a-z_]+)"', body, re.M))


def test_demo_shows_every_catalog_cause_in_metrics() -> None:
    """`crashloop-exporter demo` on its built-in simulated cluster exposes all causes within a minute or two."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "crashloop_exporter",
            "demo",
            "--listen-address",
            "127.0.0.1:0",
            "--duration",
            "150",
            "--no-table",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = None
        deadline = time.monotonic() + 30
        while url is None and time.monotonic() < deadline:
            line = proc.stdout.readline()
            m = re.search(r"metrics:\s+(http://\S+)/metrics", line)
            url = m.group(1) if m else None
        assert url, "demo did not print its metrics URL"
        seen: set[str] = set()

        def all_causes() -> bool:
            seen.update(_causes_in(http("GET", f"{url}/metrics")[1].decode()))
            return seen >= CAUSE_IDS

        wait_until(
            all_causes, timeout=120, what=f"every cause in /metrics (missing {sorted(CAUSE_IDS - seen)})", interval=2
        )
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=20)
    assert proc.returncode == 0


SLOW_SCRAPE_PODS = 16000
"""Failing pods behind the in-flight scrape: ~8 MB of /metrics, twice what the kernel's socket
buffers on both ends of a loopback connection can hold, so the exporter must still be writing."""


def _start_slow_scrape(url: str) -> tuple[socket.socket, bytes]:
    """Send GET /metrics with a tiny receive window and read only the start of the answer, so
    the rest of the response waits inside the exporter: a scrape that is really in flight."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connect: it sets the window
    sock.settimeout(20)
    sock.connect((host, int(port)))
    sock.sendall(f"GET /metrics HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(1024)
        assert chunk, f"the exporter closed the scrape before its headers: {head!r}"
        head += chunk
    return sock, head


def _finish_scrape(sock: socket.socket, head: bytes) -> tuple[int, int, bytes]:
    """Read the rest: (status, Content-Length, body)."""
    headers, _, body = head.partition(b"\r\n\r\n")
    status = int(headers.split(b" ", 2)[1])
    length = int(re.search(rb"(?im)^content-length:\s*(\d+)", headers)[1])  # type: ignore[index]
    while len(body) < length:
        chunk = sock.recv(1 << 16)
        if not chunk:
            break
        body += chunk
    sock.close()
    return status, length, body


def test_sigterm_stops_cleanly_even_during_a_scrape(tmp_path: Path) -> None:
    """SIGTERM while a slow Prometheus is half-way through an 8 MB scrape: the scrape completes with
    200 and every byte, then the process exits 0 within its shutdown grace."""
    argv = failing_sim_argv(tmp_path, pods=SLOW_SCRAPE_PODS)
    # 16k pods take a few seconds to list on an idle machine, and much longer on a loaded 2-core one.
    with (
        running_sim(tmp_path, argv=argv) as sim,
        running_exporter(tmp_path, sim, "--no-logs", ready_timeout=180) as exporter,
    ):
        wait_until(lambda: exporter.metrics().get("crashloop_exporter_synced", {}), timeout=30, what="metrics",
                   on_timeout=lambda: diagnostics(sim, exporter))
        sock, head = _start_slow_scrape(exporter.url)
        exporter.proc.send_signal(signal.SIGTERM)
        wait_until(lambda: "shutting down" in exporter.log(), timeout=10, what="the exporter to start shutting down",
                   on_timeout=lambda: diagnostics(None, exporter))
        assert exporter.proc.poll() is None, "the exporter exited with a scrape still being written"
        started = time.monotonic()
        status, length, body = _finish_scrape(sock, head)
        assert status == 200, head
        assert len(body) == length > 8_000_000, (len(body), length)
        last = body.decode().rstrip("\n").rsplit("\n", 1)[-1]
        assert body.endswith(b"\n") and re.fullmatch(r"[a-z_:]+(\{.*\})? \S+", last), f"truncated: {last!r}"
        failing = body.count(b"\ncrashloop_container_failing{")
        assert failing == SLOW_SCRAPE_PODS, f"{failing} failing series in the completed scrape"
        assert exporter.proc.wait(timeout=SHUTDOWN_GRACE_SECONDS + 5) == 0, exporter.log_tail()
        assert time.monotonic() - started < SHUTDOWN_GRACE_SECONDS + 5
        assert "Traceback" not in exporter.log(), exporter.log_tail()


def test_forbidden_pod_logs_degrade_to_status_and_events(tmp_path: Path) -> None:
    """403 on pods/log: counted as forbidden, one warning, findings still produced from status/events."""
    with running_sim(tmp_path, scenarios="bad-config-panic,oomkilled") as sim:
        sim.fault("status", code=403, resource="pods/log", count=0)
        with running_exporter(tmp_path, sim) as exporter:

            def forbidden_fetches() -> float:
                fam = exporter.metrics().get("crashloop_exporter_log_fetches_total", {})
                return sum(v for k, v in fam.items() if dict(k)["result"] == "forbidden")

            def both_found() -> dict[str, str] | None:
                # Both pods' findings, not only a count of fetches: three forbidden fetches can all be
                # the panicking pod's before the other one has died once.
                found = {f["workload"]: f["cause"] for f in json.loads(http("GET", f"{exporter.url}/causes")[1])}
                wanted = {"image-resizer", "worker-deployment"} <= found.keys() and forbidden_fetches() >= 3
                return found if wanted else None

            causes = wait_until(both_found, timeout=30, what="three forbidden log fetches and both pods' findings",
                                on_timeout=lambda: diagnostics(sim, exporter))
            assert causes.get("image-resizer") == "oomkilled", causes  # the status alone decides it
            assert causes.get("worker-deployment") == "app_crash", causes  # its log would say bad_config
            assert exporter.log().count("pods/log") == 1, exporter.log()


def test_previous_logs_are_fetched_once_per_restart_with_caps(tmp_path: Path) -> None:
    """Every log request has tailLines and limitBytes and asks for the crashed run (previous=true, or the
    current run while it is still the terminated one), at most twice per death."""
    with (
        running_sim(tmp_path, scenarios="bad-config-panic,app-crash-python") as sim,
        running_exporter(tmp_path, sim, "--log-tail-lines", "50", "--log-limit-bytes", "4096") as exporter,
    ):
        # Deaths are booked at the exit, so by now both containers are at the 5-minute back-off
        # (10 s real): 8 more take up to 40 s.
        sim.wait_performed(8, timeout=60, exporter=exporter)
        sim.admin("POST", "pause")
        paused_at = time.time()
        settle(exporter, sim, expected=None, after=paused_at)  # started mid-run: counts are not the sim's
        stats = sim.admin("GET", "stats")
        log_requests = [r for r in stats["recent_requests"] if r["verb"] == "log"]
        assert log_requests, "the exporter fetched no logs"
        for r in log_requests:
            q = r["query"]
            assert (q.get("tailLines"), q.get("limitBytes")) == ("50", "4096"), r
            # previous=true for a restarted container; a container caught in its terminated state
            # *is* the crashed run, so its log is the current one (previous absent).
            assert q.get("previous") in ("true", None), r
        assert any(r["query"].get("previous") == "true" for r in log_requests)
        assert stats["log_fetches"], stats["log_fetches"]
        for key, counts in stats["log_fetches"].items():
            # A dead run's log is fetched once, twice at most: as the current log while the run
            # is terminated, and again as the previous one when that answer was still out at the
            # restart (it may have read the new run); plus the first sight of a failing container.
            deaths = stats["deaths"]["by_container"].get(key, 0)
            fetched = counts["previous"] + counts["current"]
            assert fetched <= 2 * deaths + 1, f"{key}: {counts} fetches for {deaths} deaths"
        fetched = exporter.metrics()["crashloop_exporter_log_fetches_total"]
        assert sum(v for k, v in fetched.items() if dict(k)["result"] == "ok") > 0
