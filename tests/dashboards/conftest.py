"""Fixtures of the dashboard tests: the checked-in dashboards, and a Prometheus with synthetic data.

The synthetic Prometheus is session-scoped: backfilling three hours of series and starting the
binary takes a few seconds, and every query test reads the same data.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.dashboards.synthetic_metrics import prometheus

REPO = Path(__file__).resolve().parents[2]
DASHBOARDS = REPO / "dashboards"


@pytest.fixture(scope="session")
def boards() -> list[dict[str, Any]]:
    """The checked-in dashboard JSON, as Grafana would load it."""
    from crashloop_dashboards import targets

    return targets.load(DASHBOARDS)


@pytest.fixture(scope="session")
def synthetic_end() -> float:
    """End of the synthetic history: now, on a whole second."""
    return float(int(time.time()))


@pytest.fixture(scope="session")
def synthetic_prometheus(tmp_path_factory: pytest.TempPathFactory, synthetic_end: float) -> Iterator[str]:
    """Base URL of a Prometheus on 127.0.0.1 holding three hours of synthetic crashloop series."""
    if shutil.which("prometheus") is None or shutil.which("promtool") is None:
        pytest.fail("prometheus and promtool are not installed: run scripts/install-system-deps.sh")
    with prometheus(tmp_path_factory.mktemp("synthetic-prometheus"), end=synthetic_end) as url:
        yield url
