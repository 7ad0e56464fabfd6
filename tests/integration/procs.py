"""Run the simulator and the exporter as real processes, talk to them over 127.0.0.1.

Waits use the e2e harness's bounded `wait_until` (re-exported here); processes are stopped
by their own pid on teardown.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.harness import free_port, wait_until

__all__ = ["free_port", "wait_until"]

SIM_LINE = re.compile(r"sim listening on (?P<url>http://\S+) kubeconfig=(?P<kubeconfig>\S+)")


def http(method: str, url: str, body: dict[str, Any] | None = None, *, timeout: float = 10.0) -> tuple[int, bytes]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


@dataclass
class Sim:
    url: str
    kubeconfig: str
    proc: subprocess.Popen[str]

    def admin(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        status, data = http(method, f"{self.url}/_sim/{path}", body)
        assert status < 300, f"sim {method} {path}: {status} {data[:200]!r}"
        return json.loads(data) if data else None

    def fault(self, kind: str, **fields: Any) -> None:
        self.admin("POST", "faults", {"kind": kind, **fields})

    def expected_series(self) -> dict[tuple[str, ...], float]:
        """What crashloop_crashes_total should hold: restarts + failed starts + evictions, by series."""
        stats = self.admin("GET", "stats")
        out: dict[tuple[str, ...], float] = {}
        for part in ("restarts", "failed_starts", "evictions"):
            for s in stats[part]["by_series"]:
                key = series_key(s)
                out[key] = out.get(key, 0.0) + s["count"]
        return out


@dataclass
class Exporter:
    url: str
    proc: subprocess.Popen[str]
    log_path: Path

    def metrics(self) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
        _, body = http("GET", f"{self.url}/metrics")
        out: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
        for fam in text_string_to_metric_families(body.decode()):
            for s in fam.samples:
                out.setdefault(s.name, {})[tuple(sorted(s.labels.items()))] = s.value
        return out

    def crashes(self) -> dict[tuple[str, ...], float]:
        return {
            series_key(dict(labels)): v
            for labels, v in self.metrics().get("crashloop_crashes_total", {}).items()
            if v > 0
        }

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def series_key(labels: dict[str, Any]) -> tuple[str, ...]:
    return tuple(
        str(labels[k]) for k in ("namespace", "workload_kind", "workload", "container", "container_type", "cause")
    )


def _stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


@contextmanager
def running_sim(
    tmp: Path, *, scenarios: str = "", time_scale: float = 30.0, extra: tuple[str, ...] = ()
) -> Iterator[Sim]:
    kubeconfig = tmp / "kubeconfig"
    cmd = [
        sys.executable,
        "-m",
        "crashloop_exporter",
        "sim",
        "--listen",
        "127.0.0.1:0",
        "--kubeconfig-out",
        str(kubeconfig),
        "--time-scale",
        str(time_scale),
        "--bookmark-interval",
        "1",
        *extra,
    ]
    if scenarios:
        cmd += ["--scenarios", scenarios]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=open(tmp / "sim.log", "w"), text=True)  # noqa: SIM115
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        m = SIM_LINE.search(line)
        assert m, f"sim did not start: {line!r} {(tmp / 'sim.log').read_text()[-2000:]}"
        yield Sim(url=m["url"], kubeconfig=m["kubeconfig"], proc=proc)
    finally:
        _stop(proc)


@contextmanager
def running_exporter(tmp: Path, sim: Sim, *args: str) -> Iterator[Exporter]:
    port = free_port()
    log_path = tmp / "exporter.log"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "crashloop_exporter",
            "serve",
            "--kubeconfig",
            sim.kubeconfig,
            "--listen-address",
            f"127.0.0.1:{port}",
            "--new-series-holdback",
            "0",
            *args,
        ],
        stdout=subprocess.DEVNULL,
        stderr=open(log_path, "w"),  # noqa: SIM115 (the child owns it for its lifetime)
        text=True,
        env=env,
    )
    exporter = Exporter(url=f"http://127.0.0.1:{port}", proc=proc, log_path=log_path)
    try:
        wait_until(lambda: http("GET", f"{exporter.url}/readyz")[0] == 200, timeout=30, what="exporter /readyz")
        yield exporter
    finally:
        _stop(proc)


def settle(exporter: Exporter, *, after: float, timeout: float = 45.0) -> dict[tuple[str, ...], float]:
    """Crash counts once the exporter has caught up with the (paused) simulator.

    Caught up means: a pods watch event or bookmark arrived after `after` (the sim sends a bookmark
    every second, and a bookmark follows every earlier event on its stream, so the pod watch is
    connected and past every change made before the pause), nothing waits for logs, and two
    scrapes agree. "Stable for a while" alone is not enough: a watch in back-off looks stable.
    """
    last: list[dict[tuple[str, ...], float]] = []

    def stable() -> bool:
        m = exporter.metrics()
        pending = sum(m.get("crashloop_exporter_crashes_pending_logs", {}).values())
        seen = {dict(k)["resource"]: v for k, v in m.get("crashloop_exporter_last_event_timestamp_seconds", {}).items()}
        current = exporter.crashes()
        last.append(current)
        caught_up = seen.get("pods", 0.0) > after + 1.0 and seen.get("events", 0.0) > after + 1.0
        return caught_up and pending == 0 and len(last) >= 2 and last[-1] == last[-2]

    wait_until(stable, timeout=timeout, what="exporter counts to settle", interval=0.5)
    return last[-1]
