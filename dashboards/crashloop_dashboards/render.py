"""Turn the dashboard builders into the JSON files checked in under dashboards/.

The output is deterministic (sorted keys, indent 2, panel ids numbered in layout order), so a
regenerated file differs from the checked-in one only when a builder or the catalog changed, and
the stale check can compare text.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from types import MappingProxyType

from grafana_foundation_sdk.builders import dashboard as dash
from grafana_foundation_sdk.cog.encoder import JSONEncoder

from crashloop_dashboards import health, overview, workload
from crashloop_dashboards.common import UID_HEALTH, UID_OVERVIEW, UID_WORKLOAD

BUILDERS: Mapping[str, Callable[[], dash.Dashboard]] = MappingProxyType(
    {UID_OVERVIEW: overview.build, UID_WORKLOAD: workload.build, UID_HEALTH: health.build}
)
"""uid -> builder. The uid is also the file name: dashboards/<uid>.json."""


def render(board: dash.Dashboard) -> str:
    """The dashboard as JSON text, with panel ids 1..n in layout order and a trailing newline."""
    model = board.build()
    for i, panel in enumerate(model.panels or [], start=1):
        panel.id_val = i
    # Round-trip through plain data so sort_keys reaches every nested mapping.
    data = json.loads(JSONEncoder().encode(model))
    return json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def render_all() -> dict[str, str]:
    """File name -> JSON text for every dashboard."""
    return {f"{uid}.json": render(build()) for uid, build in BUILDERS.items()}
