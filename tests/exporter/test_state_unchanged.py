"""A pod update that changes nothing the exporter reads is dropped before any state work.

Most pod updates of a real cluster touch fields no record holds (the resourceVersion, annotations,
a condition's timestamp, container IDs). For a healthy pod the update keeps the record it had; any
change to what a record holds, or a pod with something to explain, takes the full path.
"""

from __future__ import annotations

import copy
from typing import Any

from crashloop_exporter.catalog import CauseId
from tests.support.clusterstate import counts, initial_list, make_state

from .podgen import crashing, pod


def _touched(p: dict[str, Any], rv: str) -> dict[str, Any]:
    """`p` after an update of fields no record holds."""
    p = copy.deepcopy(p)
    p["metadata"]["resourceVersion"] = rv
    p["metadata"]["annotations"] = {"bench.crashloop-exporter.io/generation": rv}
    p["status"]["containerStatuses"][0]["containerID"] = f"containerd://{rv}"
    return p


def test_an_update_of_unread_fields_keeps_the_healthy_pods_record() -> None:
    state, _, _ = make_state()
    healthy = pod("api-1", ready=True)
    initial_list(state, healthy)
    before = state.pods["uid-api-1"]
    state.event("pods", "MODIFIED", _touched(healthy, "2"))
    assert state.pods["uid-api-1"] is before
    not_ready = pod("api-1", ready=False)
    state.event("pods", "MODIFIED", not_ready)
    assert state.pods["uid-api-1"] is not before and state.pods["uid-api-1"].containers[0].ready is False


def test_a_pod_with_something_to_explain_takes_the_full_path_and_still_counts() -> None:
    """Equal records of a crashing pod are not skipped (its finding may depend on time or events),
    and a restart after them is counted once."""
    state, _, _ = make_state()
    initial_list(state, crashing("api-1", 2))
    before = state.pods["uid-api-1"]
    state.event("pods", "MODIFIED", _touched(crashing("api-1", 2), "2"))
    assert state.pods["uid-api-1"] is not before and state.pods["uid-api-1"] == before
    assert counts(state) == {}
    state.event("pods", "MODIFIED", _touched(crashing("api-1", 3), "3"))
    assert counts(state) == {("api", CauseId.APP_CRASH): 1.0}
