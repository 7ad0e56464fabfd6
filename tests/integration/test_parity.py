"""Live/offline parity: `diagnose` and the live exporter agree on every recorded case.

Each fixture, held-out dump, the example dump and every real-world case is classified offline, as
`diagnose` does, then replayed by the simulator (timestamps rebased to now, crash loops continued
in the kubelet's order with events refreshed) and watched by a real exporter process. A case
agrees when every container `diagnose` calls failing shows in `crashloop_container_failing` with
the same cause, nothing else does, and every death the replay performed is counted in
`crashloop_crashes_total` under that cause.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from crashloop_exporter.sim.replay import ReplayCase
from tests.integration import parity
from tests.integration.procs import diagnostics, running_exporter, running_sim
from tests.support.wait import wait_until

REPLAY_CYCLES = 2
"""Deaths per crash-looping container after the exporter's first list: each must be counted."""
REPLAY_TICK = "0.3"
SETTLE_TIMEOUT = 60.0
EXPORTER_ARGS = ("--log-fetch-rate", "500", "--log-fetch-concurrency", "16")
"""A batch crashes a hundred containers at once; the production rate (10/s) would take a minute."""


def _live(exporter_metrics: dict[str, dict[tuple[tuple[str, str], ...], float]]
          ) -> tuple[dict[parity.ContainerKey, str], dict[tuple[str, ...], float]]:
    failing = {}
    for labels, value in exporter_metrics.get("crashloop_container_failing", {}).items():
        d = dict(labels)
        if value:
            failing[(d["namespace"], d["pod"], d["container"])] = d["cause"]
    crashes: dict[tuple[str, ...], float] = {}
    for labels, value in exporter_metrics.get("crashloop_crashes_total", {}).items():
        d = dict(labels)
        if value:
            key = (d["namespace"], d["workload_kind"], d["workload"], d["container"], d["container_type"], d["cause"])
            crashes[key] = value
    return failing, crashes


def test_diagnose_and_the_live_exporter_agree_on_every_recorded_case(tmp_path: Path) -> None:
    cases = parity.all_cases(tmp_path / "dumps")
    disagree = _replay_and_compare(cases, tmp_path)
    total = len(cases)
    print(f"parity: {total - len(disagree)}/{total} cases agree between diagnose and the live exporter")
    if disagree:
        pytest.fail(f"{len(disagree)} of {total} cases disagree:\n"
                    + "\n".join(row for rows in disagree.values() for row in rows))


def _replay_and_compare(cases: list[ReplayCase], tmp_path: Path) -> dict[str, list[str]]:
    """Each batch replayed in a simulator watched by a real exporter; the mismatch rows per case."""
    disagree: dict[str, list[str]] = {}
    for n, batch in enumerate(parity.batches(cases)):
        work = tmp_path / f"batch-{n}"
        work.mkdir()
        cases_file = work / "cases.json"
        cases_file.write_text(json.dumps([c.to_json() for c in batch]), encoding="utf-8")
        extra = ("--replay-cases", str(cases_file), "--replay-tick", REPLAY_TICK,
                 "--replay-cycles", str(REPLAY_CYCLES), "--paused")
        with running_sim(work, extra=extra) as sim, running_exporter(work, sim, *EXPORTER_ARGS) as exporter:
            sim.admin("POST", "resume")
            wait_until(lambda: sim.stats()["replay"]["done"], timeout=30, what="the replay's crash cycles",
                       on_timeout=lambda: diagnostics(sim, exporter))
            replay = sim.stats()["replay"]
            rows: list[str] = []
            cases_off: set[str] = set()

            def agrees(batch: list[ReplayCase] = batch, replay: dict[str, Any] = replay) -> bool:
                nonlocal rows, cases_off
                failing, crashes = _live(exporter.metrics())
                # diagnose as of the same moment of the replay's clock as the live answer read.
                later = time.time() - float(replay["rebased_to"])
                offline = {c.name: parity.offline_findings(c, later=later) for c in batch}
                expected = parity.expected_for(batch, offline, replay["deaths"])
                rows, cases_off = parity.mismatch_table(expected, failing, crashes)
                return not rows

            try:
                wait_until(agrees, timeout=SETTLE_TIMEOUT, what=f"batch {n}: the live exporter to agree with diagnose")
            except AssertionError:
                for case in sorted(cases_off) or [f"batch {n}"]:
                    disagree[case] = [r for r in rows if case in r.split(": ", 1)[0].strip().split(",")] or rows
                print(f"batch {n} ({len(batch)} cases) disagrees:\n" + "\n".join(rows) + "\n"
                      + diagnostics(sim, exporter))
    return disagree
