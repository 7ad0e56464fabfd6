"""The generated dashboards are checked in, deterministic, and keep their uids and file names."""

from __future__ import annotations

import json

from crashloop_dashboards.render import BUILDERS, render_all

from crashloop_exporter.artifacts import stale_files
from tests.dashboards.conftest import DASHBOARDS, REPO

# Grafana URLs, bookmarks and the drill-down links embed these; changing one breaks them.
STABLE_UIDS = {"crashloop-overview", "crashloop-workload", "crashloop-exporter-health"}


def test_checked_in_json_equals_generated() -> None:
    """Regenerating the dashboards from the builders and the catalog changes no checked-in file,
    and no dashboards/*.json lacks a builder (the one generator's check, dashboards only)."""
    stale = stale_files(REPO, only=["dashboards"])
    assert stale == [], f"stale: {stale}; run `make generate`"


def test_no_extra_dashboard_files() -> None:
    """Every dashboards/*.json file comes from a builder (no orphaned hand-edited dashboards)."""
    assert {p.name for p in DASHBOARDS.glob("*.json")} == set(render_all())


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
