"""The generated dashboards are checked in, deterministic, and keep their uids and file names."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from crashloop_dashboards.render import BUILDERS, render_all

from tests.dashboards.conftest import DASHBOARDS

# Grafana URLs, bookmarks and the drill-down links embed these; changing one breaks them.
STABLE_UIDS = {"crashloop-overview", "crashloop-workload", "crashloop-exporter-health"}


def test_checked_in_json_equals_generated() -> None:
    """Regenerating the dashboards from the builders and the catalog changes no checked-in file."""
    for name, text in render_all().items():
        path = DASHBOARDS / name
        assert path.is_file(), f"{path} missing: run `python dashboards/build.py`"
        assert path.read_text(encoding="utf-8") == text, f"{path} is stale: run `python dashboards/build.py`"


def test_no_extra_dashboard_files() -> None:
    """Every dashboards/*.json file comes from a builder (no orphaned hand-edited dashboards)."""
    assert {p.name for p in DASHBOARDS.glob("*.json")} == set(render_all())


def test_check_flag_passes_on_fresh_output_and_fails_on_stale(tmp_path: Path) -> None:
    """`build.py --check` exits 0 on freshly written files and 1 once one of them is edited."""
    build = [sys.executable, str(DASHBOARDS / "build.py"), "--out", str(tmp_path)]
    subprocess.run(build, check=True, capture_output=True, timeout=60)
    fresh = subprocess.run([*build, "--check"], capture_output=True, text=True, timeout=60)
    assert fresh.returncode == 0, fresh.stderr
    victim = tmp_path / "crashloop-overview.json"
    board = json.loads(victim.read_text(encoding="utf-8"))
    board["title"] = "edited by hand"
    victim.write_text(json.dumps(board), encoding="utf-8")
    stale = subprocess.run([*build, "--check"], capture_output=True, text=True, timeout=60)
    assert stale.returncode == 1
    assert "crashloop-overview.json is stale" in stale.stderr


def test_rendering_is_deterministic() -> None:
    """Two renders produce byte-identical JSON (sorted keys, stable panel ids)."""
    assert render_all() == render_all()


def test_json_is_sorted_and_indented() -> None:
    """The files are `json.dumps(sort_keys=True, indent=2)` output, so diffs stay reviewable."""
    for name, text in render_all().items():
        assert text == json.dumps(json.loads(text), sort_keys=True, indent=2, ensure_ascii=False) + "\n", name


def test_uids_are_stable_and_name_the_files() -> None:
    """The three dashboards keep their uids, and each file is named after its uid."""
    assert set(BUILDERS) == STABLE_UIDS
    for name, text in render_all().items():
        assert name == json.loads(text)["uid"] + ".json"
