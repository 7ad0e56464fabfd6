"""Synthetic history of crashloop-exporter and kube-state-metrics series, served by a real Prometheus.

The dashboards' PromQL (joins, label_replace chains, topk by, count_values) is only proven by
running it. Until the lead's end-to-end harness runs it against the demo, this module writes
three hours of plausible series that follow the metric contract (a few workloads crashing for
different causes, one recovered incident, kube-state-metrics pods and restarts, the exporter's
own health series and the rules pack's recording rules as they would be recorded), backfills
them with `promtool tsdb create-blocks-from openmetrics`, and starts `prometheus` on the blocks.

    python tests/dashboards/synthetic_metrics.py --preview docs/dashboards   # regenerate the PNGs

Every value is a function of time relative to `end`, so the data is deterministic.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

HISTORY_S = 3 * 3600
STEP_S = 30
EXPORTER = {"job": "crashloop-exporter", "instance": "10.0.0.5:10079"}
KSM = {"job": "kube-state-metrics", "instance": "10.0.0.9:8080"}


@dataclass(frozen=True, slots=True)
class Scenario:
    """One workload: `failing` of its `replicas` pods crash for `cause` from `start_ago` seconds
    before the end until `stop_ago` (0: still failing), one crash per pod every `every` seconds."""

    namespace: str
    kind: str
    workload: str
    replicas: int
    failing: int
    container: str
    cause: str
    reason: str
    exit_code: int | None
    every: int
    start_ago: int
    stop_ago: int = 0
    container_type: str = "regular"

    def pods(self) -> list[str]:
        if self.kind == "Deployment":
            return [f"{self.workload}-7d9f8b6c5d-{suffix}" for suffix in ("x2k4p", "b7qmz", "h9w3t", "r5n8c")][
                : self.replicas
            ]
        if self.kind == "StatefulSet":
            return [f"{self.workload}-{i}" for i in range(self.replicas)]
        if self.kind == "CronJob":
            return [f"{self.workload}-28391234-{suffix}" for suffix in ("q4v7d",)][: self.replicas]
        return [f"{self.workload}-{suffix}" for suffix in ("fq2lx", "m8zpd", "t3kcv", "w6hbn")][: self.replicas]

    def owner(self) -> tuple[str, str]:
        """(owner_kind, owner_name) of the pods, as kube-state-metrics' kube_pod_owner reports it."""
        if self.kind == "Deployment":
            return "ReplicaSet", f"{self.workload}-7d9f8b6c5d"
        if self.kind == "CronJob":
            return "Job", f"{self.workload}-28391234"
        return self.kind, self.workload

    def failing_at(self, ago: float) -> bool:
        return self.stop_ago < ago <= self.start_ago

    def crashes_per_pod(self, ago: float) -> int:
        """Crashes of one failing pod counted up to `ago` seconds before the end."""
        if ago > self.start_ago:
            return 0
        last = max(ago, self.stop_ago)
        return int((self.start_ago - last) // self.every) + 1

    def last_crash_ago(self, ago: float) -> float:
        return self.start_ago - (self.crashes_per_pod(ago) - 1) * self.every

    def restarts_container(self) -> bool:
        """Failed starts (image pull, missing Secret) never restart a container."""
        return self.exit_code is not None


SCENARIOS = (
    Scenario(
        "shop",
        "Deployment",
        "payment-service",
        3,
        3,
        "app",
        "missing_secret",
        "CreateContainerConfigError",
        None,
        600,
        7230,
    ),
    Scenario("shop", "Deployment", "checkout", 4, 1, "app", "oomkilled", "CrashLoopBackOff", 137, 300, 9110),
    Scenario("shop", "Deployment", "web", 2, 2, "web", "liveness_probe", "CrashLoopBackOff", 137, 300, 2470),
    Scenario("shop", "Deployment", "frontend", 2, 2, "nginx", "image_pull", "ImagePullBackOff", None, 900, 1850),
    Scenario(
        "shop",
        "Deployment",
        "api",
        2,
        2,
        "migrate",
        "init_container_failed",
        "CrashLoopBackOff",
        1,
        300,
        1290,
        container_type="init",
    ),
    Scenario("shop", "Deployment", "cart", 2, 2, "app", "app_crash", "CrashLoopBackOff", 1, 300, 10200, 7200),
    Scenario("data", "StatefulSet", "redis", 3, 1, "redis", "segfault", "CrashLoopBackOff", 139, 600, 6020),
    Scenario("data", "CronJob", "etl-nightly", 1, 1, "etl", "bad_config", "CrashLoopBackOff", 1, 300, 4260),
    Scenario(
        "monitoring",
        "DaemonSet",
        "node-agent",
        4,
        2,
        "agent",
        "dependency_unavailable",
        "CrashLoopBackOff",
        1,
        300,
        9660,
    ),
    Scenario(
        "infra", "Deployment", "sidecar-injector", 2, 1, "injector", "sigterm", "CrashLoopBackOff", 143, 600, 3090
    ),
    Scenario("tools", "Deployment", "batch-runner", 1, 1, "runner", "clean_exit", "CrashLoopBackOff", 0, 300, 4830),
)

DEPENDS_ON = {("monitoring", "node-agent"): ("data", "redis")}
"""Dependency chains: the dependent's logs could not reach the root, which is failing itself."""


# Value functions: each takes `ago`, seconds before the end, last; bound with functools.partial.


def _one(_ago: float) -> float:
    return 1.0


def _crashes(s: Scenario, ago: float) -> float:
    return float(s.failing * s.crashes_per_pod(ago))


def _while_failing(s: Scenario, value: float, ago: float) -> float | None:
    return value if s.failing_at(ago) else None


def _last_termination(s: Scenario, end: float, ago: float) -> float | None:
    return end - s.last_crash_ago(ago) if s.failing_at(ago) else None


def _rate(group: tuple[Scenario, ...], window: int, ago: float) -> float:
    return _increase(group, window, ago) / window


def _increase(group: tuple[Scenario, ...], window: int, ago: float) -> float:
    return sum(_crashes(s, ago) - _crashes(s, ago + window) for s in group)


def _failing_sum(group: tuple[Scenario, ...], ago: float) -> float | None:
    return sum(float(s.failing) for s in group if s.failing_at(ago)) or None


def _ksm_restarts(s: Scenario, crashing: bool, ago: float) -> float:
    # Two restarts from before the exporter started, which it does not count.
    return 2.0 + s.crashes_per_pod(ago) if crashing else 0.0


def _steady(rate: float, wobble: float, ago: float) -> float:
    # A counter growing at `rate`/s, a little faster and slower over a 20-minute cycle.
    t = HISTORY_S - ago
    return rate * t + wobble * rate * 600 * math.sin(t / 600)


def _steps(at_ago: tuple[int, ...], ago: float) -> float:
    return float(sum(1 for a in at_ago if ago <= a))


def _wave(base: float, amplitude: float, period: float, ago: float) -> float:
    return base + amplitude * math.sin(ago / period)


def _synced(resource: str, ago: float) -> float:
    # The events watch relists after a 410 Gone about 70 minutes before the end.
    return 0.0 if resource == "events" and 4020 <= ago <= 4200 else 1.0


def _last_event(end: float, lag: float, ago: float) -> float:
    return end - ago - lag


def _last_event_every(end: float, period: float, ago: float) -> float:
    # Nodes only change once a `period` (kubelet status updates).
    return end - ago - (ago % period)


class _Writer:
    """Collects series and writes OpenMetrics text, one family at a time, samples in time order."""

    def __init__(self, end: float) -> None:
        self.end = end
        self.times = [end - HISTORY_S + i * STEP_S for i in range(HISTORY_S // STEP_S + 1)]
        self.families: dict[str, list[str]] = {}

    def series(self, name: str, labels: dict[str, str], value: Callable[[float], float | None]) -> None:
        """Add a series; `value(ago)` gives its value `ago` seconds before the end (None: absent)."""
        text = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
        lines = self.families.setdefault(name, [])
        for t in self.times:
            v = value(self.end - t)
            if v is not None:
                lines.append(f"{name}{{{text}}} {v:.12g} {t:.3f}")

    def text(self) -> str:
        out = []
        for name, lines in self.families.items():
            out.append(f"# TYPE {name} unknown")
            out.extend(lines)
        out.append("# EOF")
        return "\n".join(out) + "\n"


def _crash_series(w: _Writer) -> None:
    for s in SCENARIOS:
        base = {"namespace": s.namespace, "container": s.container, "container_type": s.container_type}
        workload = {"workload_kind": s.kind, "workload": s.workload}
        w.series(
            "crashloop_crashes_total",
            {**EXPORTER, **base, **workload, "cause": s.cause},
            partial(_crashes, s),
        )
        for pod in s.pods()[: s.failing]:
            per_pod = {**EXPORTER, **base, "pod": pod}
            w.series(
                "crashloop_container_failing",
                {**per_pod, **workload, "cause": s.cause, "reason": s.reason},
                partial(_while_failing, s, 1.0),
            )
            if s.exit_code is not None:
                w.series(
                    "crashloop_container_last_exit_code",
                    per_pod,
                    partial(_while_failing, s, float(s.exit_code)),
                )
                w.series(
                    "crashloop_container_last_termination_timestamp_seconds",
                    per_pod,
                    partial(_last_termination, s, w.end),
                )


def _both_failing(dependent: Scenario, root: Scenario, ago: float) -> float | None:
    return 1.0 if dependent.failing_at(ago) and root.failing_at(ago) else None


def _dependency_series(w: _Writer) -> None:
    """crashloop_container_dependency_failing for each failing pod of a dependent, while its root fails."""
    by_workload = {(s.namespace, s.workload): s for s in SCENARIOS}
    for (namespace, workload), root_key in DEPENDS_ON.items():
        dependent, root = by_workload[(namespace, workload)], by_workload[root_key]
        for pod in dependent.pods()[: dependent.failing]:
            w.series(
                "crashloop_container_dependency_failing",
                {**EXPORTER, "namespace": dependent.namespace, "pod": pod, "container": dependent.container,
                 "container_type": dependent.container_type, "workload_kind": dependent.kind,
                 "workload": dependent.workload, "dependency_namespace": root.namespace,
                 "dependency_workload_kind": root.kind, "dependency_workload": root.workload,
                 "dependency_cause": root.cause},
                partial(_both_failing, dependent, root),
            )


def _recording_rules(w: _Writer) -> None:
    """The rules pack's recording rules, as Prometheus would have recorded them (job dropped by sum)."""

    for s in SCENARIOS:
        key = {"namespace": s.namespace, "workload_kind": s.kind, "workload": s.workload, "cause": s.cause}
        w.series(
            "namespace_workload_cause:crashloop_container_failing:sum",
            key,
            partial(_while_failing, s, float(s.failing)),
        )
        w.series(
            "namespace_workload_cause:crashloop_crashes:rate5m",
            key,
            partial(_rate, (s,), 300),
        )
        w.series(
            "namespace_cause:crashloop_crashes:increase1h",
            {"namespace": s.namespace, "cause": s.cause},
            partial(_increase, (s,), 3600),
        )
    for cause in sorted({s.cause for s in SCENARIOS}):
        group = tuple(s for s in SCENARIOS if s.cause == cause)
        w.series(
            "cause:crashloop_container_failing:sum",
            {"cause": cause},
            partial(_failing_sum, group),
        )
        w.series(
            "cause:crashloop_crashes:rate5m",
            {"cause": cause},
            partial(_rate, group, 300),
        )


def _kube_state_metrics(w: _Writer) -> None:
    for s in SCENARIOS:
        owner_kind, owner_name = s.owner()
        for i, pod in enumerate(s.pods()):
            w.series(
                "kube_pod_owner",
                {
                    **KSM,
                    "namespace": s.namespace,
                    "pod": pod,
                    "owner_kind": owner_kind,
                    "owner_name": owner_name,
                    "owner_is_controller": "true",
                },
                _one,
            )
            crashing = i < s.failing and s.restarts_container()
            w.series(
                "kube_pod_container_status_restarts_total",
                {**KSM, "namespace": s.namespace, "pod": pod, "container": s.container},
                partial(_ksm_restarts, s, crashing),
            )


def _exporter_health(w: _Writer) -> None:
    w.series("crashloop_exporter_build_info", {**EXPORTER, "version": "0.1.0", "python_version": "3.11.2"}, _one)
    w.series("up", EXPORTER, _one)
    w.series("scrape_duration_seconds", EXPORTER, partial(_wave, 0.006, 0.002, 900))
    for resource, kind, rate in (
        ("pods", "ADDED", 0.05),
        ("pods", "MODIFIED", 0.8),
        ("pods", "DELETED", 0.05),
        ("pods", "BOOKMARK", 0.016),
        ("events", "ADDED", 1.2),
        ("events", "MODIFIED", 0.3),
        ("events", "BOOKMARK", 0.016),
        ("nodes", "MODIFIED", 0.1),
        ("nodes", "BOOKMARK", 0.016),
    ):
        w.series(
            "crashloop_exporter_watch_events_total",
            {**EXPORTER, "resource": resource, "type": kind},
            partial(_steady, rate, 0.2),
        )
    w.series(
        "crashloop_exporter_watch_restarts_total",
        {**EXPORTER, "resource": "events", "reason": "gone"},
        partial(_steps, (4200, 1200)),
    )
    w.series(
        "crashloop_exporter_watch_restarts_total",
        {**EXPORTER, "resource": "pods", "reason": "timeout"},
        partial(_steps, (9000, 5400, 1800)),
    )
    for resource, count in (("pods", 184.0), ("events", 420.0), ("nodes", 6.0)):
        w.series(
            "crashloop_exporter_objects_tracked",
            {**EXPORTER, "resource": resource},
            partial(_wave, count, 4, 700),
        )
        w.series(
            "crashloop_exporter_synced",
            {**EXPORTER, "resource": resource},
            partial(_synced, resource),
        )
    w.series(
        "crashloop_exporter_last_event_timestamp_seconds",
        {**EXPORTER, "resource": "pods"},
        partial(_last_event, w.end, 3),
    )
    w.series(
        "crashloop_exporter_last_event_timestamp_seconds",
        {**EXPORTER, "resource": "events"},
        partial(_last_event, w.end, 1),
    )
    w.series(
        "crashloop_exporter_last_event_timestamp_seconds",
        {**EXPORTER, "resource": "nodes"},
        partial(_last_event_every, w.end, 60),
    )
    for result, rate in (
        ("ok", 0.02),
        ("skipped", 0.006),
        ("not_found", 0.002),
        ("rate_limited", 0.001),
        ("forbidden", 0.0),
    ):
        w.series("crashloop_exporter_log_fetches_total", {**EXPORTER, "result": result}, partial(_steady, rate, 0.2))
    buckets = (
        ("0.0005", 0.2),
        ("0.001", 0.45),
        ("0.0025", 0.7),
        ("0.005", 0.85),
        ("0.01", 0.94),
        ("0.025", 0.98),
        ("0.05", 0.995),
        ("0.1", 0.999),
        ("+Inf", 1.0),
    )
    for le, share in buckets:
        w.series(
            "crashloop_exporter_classification_duration_seconds_bucket",
            {**EXPORTER, "le": le},
            partial(_steady, 0.9 * share, 0.0),
        )
    w.series(
        "crashloop_exporter_skipped_objects_total",
        {**EXPORTER, "resource": "pods", "reason": "malformed"},
        partial(_steps, (6000,)),
    )
    w.series(
        "crashloop_exporter_skipped_objects_total",
        {**EXPORTER, "resource": "events", "reason": "other_shard"},
        partial(_steady, 0.01, 0.0),
    )


def openmetrics(*, end: float) -> str:
    """Three hours of every series the dashboards read, ending at `end` (Unix seconds)."""
    w = _Writer(end)
    _crash_series(w)
    _dependency_series(w)
    _recording_rules(w)
    _kube_state_metrics(w)
    _exporter_health(w)
    return w.text()


class SyntheticPrometheusError(AssertionError):
    """The synthetic Prometheus could not be set up; the message says where its log is."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextlib.contextmanager
def prometheus(workdir: Path, *, end: float, startup_timeout: float = 30.0) -> Iterator[str]:
    """A Prometheus on 127.0.0.1 serving the synthetic history; yields its base URL."""
    promtool, prom = shutil.which("promtool"), shutil.which("prometheus")
    if promtool is None or prom is None:
        raise SyntheticPrometheusError("prometheus and promtool must be on PATH")
    data = workdir / "data"
    (workdir / "synthetic.om").write_text(openmetrics(end=end), encoding="utf-8")
    subprocess.run(
        [promtool, "tsdb", "create-blocks-from", "openmetrics", str(workdir / "synthetic.om"), str(data)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    (workdir / "prometheus.yml").write_text("global:\n  scrape_interval: 30s\n", encoding="utf-8")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with open(workdir / "prometheus.log", "wb") as log:
        proc = subprocess.Popen(
            [
                prom,
                f"--config.file={workdir / 'prometheus.yml'}",
                f"--storage.tsdb.path={data}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--storage.tsdb.retention.time=30d",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + startup_timeout
            while True:
                try:
                    with urllib.request.urlopen(url + "/-/ready", timeout=2) as r:
                        if r.status == 200:
                            break
                except (urllib.error.URLError, OSError):
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise SyntheticPrometheusError(f"prometheus did not become ready; see {workdir / 'prometheus.log'}")
                time.sleep(0.2)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


def main() -> int:
    parser = argparse.ArgumentParser(description="Serve synthetic metrics and render dashboard previews from them.")
    parser.add_argument("--preview", type=Path, metavar="DIR", help="render the PNGs into DIR and exit")
    parser.add_argument("--serve", action="store_true", help="keep Prometheus running until Ctrl-C")
    args = parser.parse_args()
    repo = Path(__file__).resolve().parents[2]
    end = float(int(time.time()))
    with tempfile.TemporaryDirectory() as tmp, prometheus(Path(tmp), end=end) as url:
        print(f"prometheus with synthetic data: {url}")
        if args.preview is not None:
            cmd = [
                sys.executable,
                str(repo / "dashboards" / "crashloop_dashboards" / "preview.py"),
                "--prometheus",
                url,
                "--out",
                str(args.preview),
                "--end",
                str(end),
                "--var",
                "crashloop-workload:namespace=shop",
                "--var",
                "crashloop-workload:workload=checkout",
            ]
            subprocess.run(cmd, check=True)
        if args.serve:
            with contextlib.suppress(KeyboardInterrupt):
                while True:
                    time.sleep(1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
