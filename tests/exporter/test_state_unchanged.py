"""A pod update that changes nothing the exporter reads is dropped before any state work.

Most pod updates of a real cluster touch fields no record holds (the resourceVersion, annotations,
a condition's timestamp, container IDs). For a healthy pod the update keeps the record it had; any
change to what a record holds, or a pod with something to explain, takes the full path.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import msgspec
import pytest

from crashloop_exporter import wire
from crashloop_exporter.catalog import CauseId
from crashloop_exporter.parse import PARSE_CONTAINERS_PER_STEP, fingerprint
from crashloop_exporter.state import cluster
from tests.support.clusterstate import counts, initial_list, make_state

from .podgen import crashing, many_containers, pod


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


def _typed(p: dict[str, Any]) -> wire.Pod:
    """`p` as the watch hands it over: decoded in one typed pass."""
    return wire.POD.decode(msgspec.json.encode(p))


def test_the_fingerprint_covers_what_records_read_and_only_that() -> None:
    """Equal for an update of the resourceVersion, annotations, managedFields or container IDs;
    different for any field a record is built from (status, owner, labels, spec, deletion)."""
    base = pod("api-1", ready=True)
    same = _touched(base, "9")
    same["metadata"]["managedFields"] = [{"manager": "kubelet", "operation": "Update"}]
    assert fingerprint(_typed(same)) == fingerprint(_typed(base))

    def changed(edit: Callable[[dict[str, Any]], None]) -> int:
        p = copy.deepcopy(base)
        edit(p)
        return fingerprint(_typed(p))

    edits: dict[str, Callable[[dict[str, Any]], None]] = {
        "ready": lambda p: p["status"]["containerStatuses"][0].update(ready=False),
        "restartCount": lambda p: p["status"]["containerStatuses"][0].update(restartCount=1),
        "phase": lambda p: p["status"].update(phase="Failed"),
        "nodeName": lambda p: p["spec"].update(nodeName="node-2"),
        "deletionTimestamp": lambda p: p["metadata"].update(deletionTimestamp="2024-01-01T00:11:00Z"),
        "owner": lambda p: p["metadata"]["ownerReferences"][0].update(name="api-5c6d7e8f9"),
        "pod-template-hash": lambda p: p["metadata"]["labels"].update({"pod-template-hash": "5c6d7e8f9"}),
        "podIP": lambda p: p["status"].update(podIP="10.0.0.9"),
    }
    prints = {name: changed(edit) for name, edit in edits.items()}
    assert all(fp != fingerprint(_typed(base)) for fp in prints.values()), prints
    assert len(set(prints.values())) == len(prints)


def test_a_typed_update_with_the_same_fingerprint_is_not_even_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    state, _, _ = make_state()
    healthy = pod("api-1", ready=True)
    initial_list(state, _typed(healthy))
    before = state.pods["uid-api-1"]
    assert before.fingerprint != 0

    def no_parse(*_: object, **__: object) -> None:
        raise AssertionError("an unchanged healthy pod was parsed")

    monkeypatch.setattr(cluster, "parse_pod_steps", no_parse)
    state.event("pods", "MODIFIED", _typed(_touched(healthy, "2")))
    assert state.pods["uid-api-1"] is before
    monkeypatch.undo()
    state.event("pods", "MODIFIED", _typed(pod("api-1", ready=False)))
    assert state.pods["uid-api-1"].containers[0].ready is False
    state.event("pods", "DELETED", _typed(pod("api-1", ready=False)))
    assert "uid-api-1" not in state.pods


def test_a_wide_pod_has_no_fingerprint_and_takes_the_stepped_path() -> None:
    """Hashing a pod of thousands of containers would be one long call; it is parsed in steps instead."""
    assert fingerprint(_typed(many_containers("api-1", PARSE_CONTAINERS_PER_STEP + 1, 0))) == 0
    assert fingerprint(_typed(many_containers("api-1", PARSE_CONTAINERS_PER_STEP, 0))) != 0
