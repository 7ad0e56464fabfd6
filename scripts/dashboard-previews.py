"""Render docs/dashboards/*.png from a real Prometheus scraping the exporter on the simulator.

    .venv/bin/python scripts/dashboard-previews.py [--minutes 4]

Starts the simulator with every scenario, the exporter, a fake kube-state-metrics mirroring the
simulated pods, and Prometheus with the generated rules (all on 127.0.0.1, free ports), lets them
run, then calls `python -m crashloop_dashboards.preview` against that Prometheus. Everything is stopped at the end.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.e2e.harness import (  # noqa: E402
    ExporterUnderTest,
    FakeKubeStateMetrics,
    Prometheus,
    host_port,
    http_json,
    scrape_config,
)
from tests.e2e.test_dashboards_e2e import _mirror_into_ksm  # noqa: E402

from crashloop_exporter.sim import scenario_names  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=4.0, help="how long to let the cluster crash first")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="crashloop-previews-") as tmp:
        work = Path(tmp)
        exporter = ExporterUnderTest.start(work / "exporter", scenarios=scenario_names(), time_scale=30.0)
        ksm = FakeKubeStateMetrics()
        ksm.start()
        prom = None
        try:
            _mirror_into_ksm(ksm, exporter)
            prom = Prometheus.start(
                work / "prometheus",
                scrape_configs=[
                    scrape_config("crashloop-exporter", exporter.metrics_address),
                    scrape_config("kube-state-metrics", host_port(ksm.url)),
                ],
                rule_files=[ROOT / "rules" / "crashloop-exporter.rules.yaml"],
                scrape_interval="5s",
                evaluation_interval="5s",
            )
            deadline = time.monotonic() + args.minutes * 60
            while time.monotonic() < deadline:
                restarts = http_json(f"{exporter.api_url}/_sim/stats")["restarts"]["by_container"]
                for e in http_json(f"{exporter.api_url}/_sim/expectations"):
                    key = f"{e['namespace']}/{e['pod']}/{e['container']}"
                    ksm.set_restarts(namespace=e["namespace"], pod=e["pod"], container=e["container"],
                                     restarts=int(restarts.get(key, 0)), uid=e["uid"])
                time.sleep(5)
            minutes = max(1, int(args.minutes))
            subprocess.run(
                [sys.executable, "-m", "crashloop_dashboards.preview", "--prometheus", prom.url,
                 "--range", f"{minutes}m", "--scrape-interval", "5s",
                 "--var", "crashloop-workload:namespace=production",
                 "--var", "crashloop-workload:workload=checkout-api"],
                check=True,
            )
        finally:
            if prom is not None:
                prom.stop()
            ksm.stop()
            exporter.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
