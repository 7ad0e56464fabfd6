"""The exporter as a process: demo shows every cause, SIGTERM is clean, pods/log 403 degrades,
and previous logs are fetched at most once per restart with the caps."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from crashloop_exporter.catalog import CAUSE_IDS

from .procs import http, running_exporter, running_sim, wait_until

pytestmark = pytest.mark.e2e


def _causes_in(body: str) -> set[str]:
    return set(re.findall(r'^crashloop_(?:container_failing|crashes_total)\{[^}]*cause="([a-z_]+)"', body, re.M))


def test_demo_shows_every_catalog_cause_in_metrics(tmp_path: Path) -> None:
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


def test_sigterm_stops_cleanly_even_during_a_scrape(tmp_path: Path) -> None:
    """SIGTERM: watches stop, the in-flight scrape completes, the process exits 0."""
    with running_sim(tmp_path, scenarios="oomkilled") as sim, running_exporter(tmp_path, sim) as exporter:
        wait_until(
            lambda: "crashloop_container_failing{" in http("GET", f"{exporter.url}/metrics")[1].decode(),
            timeout=20,
            what="a failing container",
        )
        import threading

        results: list[int] = []
        scraper = threading.Thread(target=lambda: results.append(http("GET", f"{exporter.url}/metrics")[0]))
        scraper.start()
        exporter.proc.send_signal(signal.SIGTERM)
        assert exporter.proc.wait(timeout=20) == 0
        scraper.join(timeout=10)
        assert results in ([200], []) or results == [200], results
        assert "shutting down" in exporter.log()
        assert "Traceback" not in exporter.log()


def test_forbidden_pod_logs_degrade_to_status_and_events(tmp_path: Path) -> None:
    """403 on pods/log: counted as forbidden, one warning, findings still produced from status/events."""
    with running_sim(tmp_path, scenarios="bad-config-panic,oomkilled") as sim:
        sim.fault("status", code=403, resource="pods/log", count=0)
        with running_exporter(tmp_path, sim) as exporter:

            def forbidden() -> bool:
                fam = exporter.metrics().get("crashloop_exporter_log_fetches_total", {})
                return any(dict(k)["result"] == "forbidden" and v > 0 for k, v in fam.items())

            wait_until(forbidden, timeout=30, what="a forbidden log fetch to be counted")
            time.sleep(3)  # more crashes, more fetch attempts
            import json

            findings = json.loads(http("GET", f"{exporter.url}/causes")[1])
            causes = {f["workload"]: f["cause"] for f in findings}
            assert causes.get("image-resizer") == "oomkilled", causes  # the status alone decides it
            assert causes.get("worker-deployment") == "app_crash", causes  # its log would say bad_config
            assert exporter.log().count("pods/log") == 1, exporter.log()


def test_previous_logs_are_fetched_once_per_restart_with_caps(tmp_path: Path) -> None:
    """Every log request has previous=true, tailLines and limitBytes, and no restart is fetched twice."""
    with (
        running_sim(tmp_path, scenarios="bad-config-panic,app-crash-python") as sim,
        running_exporter(tmp_path, sim, "--log-tail-lines", "50", "--log-limit-bytes", "4096") as exporter,
    ):
        time.sleep(8)
        sim.admin("POST", "pause")
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
            restarts = stats["restarts"]["by_container"].get(key, 0)
            fetched = counts["previous"] + counts["current"]
            assert fetched <= restarts + 1, f"{key}: {counts} fetches for {restarts} restarts"
        fetched = exporter.metrics()["crashloop_exporter_log_fetches_total"]
        assert sum(v for k, v in fetched.items() if dict(k)["result"] == "ok") > 0
