"""Bytes to Structs on the live path: one malformed object in a LIST page or a watch stream is one
counted, logged skip (with msgspec's path in the line), never a lost page, a lost stream or a crash.

The real Watcher, the real ClusterState (through `serve`'s StateHandler) and real HTTP from the
scripted fake API: the objects reach `parse` as the API's bytes, as in production."""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from typing import Any

import msgspec
import pytest

from crashloop_exporter import wire
from crashloop_exporter.kube.client import decode_list_page, decode_watch_line
from crashloop_exporter.kube.stats import WatchStats
from crashloop_exporter.parse import parse_event, parse_node, parse_pod
from crashloop_exporter.serve.app import StateHandler
from tests.exporter.podgen import crashing, pod
from tests.support.clusterstate import counts, make_state

from .helpers import MakeWatcher, running, wait_until
from .kubefake import FakeApi, Hang, Stream, ev, page

PODS = "/api/v1/pods"


def _with_rv(p: dict[str, Any], rv: str) -> dict[str, Any]:
    p = copy.deepcopy(p)
    p["metadata"]["resourceVersion"] = rv
    return p


def _string_for_a_list(name: str, rv: str) -> dict[str, Any]:
    bad = _with_rv(pod(name), rv)
    bad["status"]["containerStatuses"] = "oops"
    return bad


def _malformed_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "malformed" in r.getMessage()]


async def test_one_malformed_item_of_a_list_page_is_skipped_and_the_rest_kept(
    fake: FakeApi, make_watcher: MakeWatcher, caplog: pytest.LogCaptureFixture
) -> None:
    """A string where a list belongs in one item: that item is a counted skip naming the pod and the
    path; the items before and after it on the same page, and the next page, are applied."""
    fake.script("list", PODS,
                page("100", [_with_rv(pod("a"), "90"), _string_for_a_list("b", "91"), _with_rv(pod("c"), "92")],
                     cont="c1"),
                page("100", [_with_rv(crashing("d", 2), "93")]))
    fake.script("watch", PODS, Stream([Hang()]))
    state, _, _ = make_state()
    stats = WatchStats()
    w = make_watcher(StateHandler(state), stats, page_size=3)
    with caplog.at_level(logging.WARNING):
        async with running(w.run()):
            await wait_until(lambda: stats.synced("pods"), what="the LIST completes")
    assert sorted(p.name for p in state.pods.values()) == ["a", "c", "d"]
    assert state.skipped[("pods", "malformed")] == 1
    [line] = _malformed_lines(caplog)
    assert "production/b" in line and "$.status.containerStatuses" in line, line
    # The malformed copy still says the pod exists: a relist must not take it for deleted.
    assert stats.snapshot().skipped.get(("pods", "handler_error"), 0) == 0


async def test_a_malformed_watch_event_is_skipped_and_the_stream_goes_on(
    fake: FakeApi, make_watcher: MakeWatcher, caplog: pytest.LogCaptureFixture
) -> None:
    """A restartCount of the wrong type in a MODIFIED event: skipped with its path in the log, the
    crash count unmoved by it, and the next good event of the same pod counted from the baseline."""
    fake.script("list", PODS, page("100", [_with_rv(crashing("api-1", 3), "90")]))
    bad = _with_rv(crashing("api-1", 3), "101")
    bad["status"]["containerStatuses"][0]["restartCount"] = "5"
    fake.script("watch", PODS, Stream([ev("MODIFIED", bad), ev("MODIFIED", _with_rv(crashing("api-1", 4), "102")),
                                       Hang()]))
    state, _, _ = make_state()
    stats = WatchStats()
    w = make_watcher(StateHandler(state), stats)
    with caplog.at_level(logging.WARNING):
        async with running(w.run()):
            await wait_until(lambda: stats.snapshot().events[("pods", "MODIFIED")] == 2, what="both events arrive")
            await wait_until(lambda: w.resource_version == "102", what="the watch advances past both")
    assert counts(state) == {("api", "app_crash"): 1.0}
    assert state.skipped[("pods", "malformed")] == 1
    [line] = _malformed_lines(caplog)
    assert "production/api-1" in line and "$.status.containerStatuses[0].restartCount" in line, line


@pytest.mark.parametrize(
    ("kind", "mutate", "path"),
    [
        ("pod", lambda o: o["metadata"].update(ownerReferences={"kind": "ReplicaSet"}), "$.metadata.ownerReferences"),
        ("pod", lambda o: o["spec"].update(containers=[{"name": 7}]), "$.spec.containers[0].name"),
        ("pod", lambda o: o["status"]["containerStatuses"][0].update(ready="yes"),
         "$.status.containerStatuses[0].ready"),
        ("pod", lambda o: o["status"]["containerStatuses"][0]["lastState"]["terminated"].update(exitCode="1"),
         "$.status.containerStatuses[0].lastState.terminated.exitCode"),
        ("event", lambda o: o.update(count="3"), "$.count"),
        ("node", lambda o: o["status"].update(conditions={"type": "Ready"}), "$.status.conditions"),
    ],
    ids=["owner-refs-object", "container-name-int", "ready-string", "exit-code-string", "event-count-string",
         "node-conditions-object"],
)
def test_wrong_types_name_their_path_from_bytes_and_from_dicts(kind: str, mutate: Any, path: str) -> None:
    """Bytes (the API) and dicts (dumps, YAML) go through the same Structs: the same refusal, the same path."""
    objects: dict[str, dict[str, Any]] = {
        "pod": crashing("api-1", 2),
        "event": {"metadata": {"name": "e", "namespace": "production"}, "reason": "BackOff",
                  "involvedObject": {"kind": "Pod", "name": "api-1", "namespace": "production"}},
        "node": {"metadata": {"name": "node-1"}, "status": {"conditions": []}},
    }
    parsers: dict[str, Callable[[Any], object]] = {"pod": parse_pod, "event": parse_event, "node": parse_node}
    parser = parsers[kind]
    good = objects[kind]
    parser(good)  # the unmutated object is fine
    bad = copy.deepcopy(good)
    mutate(bad)
    for form in (bad, msgspec.json.encode(bad)):
        with pytest.raises(Exception, match=r"at `\$") as err:
            parser(form)
        assert type(err.value).__name__ == "MalformedObjectError" and path in str(err.value), str(err.value)


def test_absent_fields_take_their_defaults() -> None:
    """A pod with only its names parses (no spec, no status): absent is not malformed."""
    rec = parse_pod(b'{"metadata":{"name":"bare","namespace":"ns","uid":"u1"}}')
    assert (rec.name, rec.namespace, rec.phase, rec.restart_policy, rec.containers) == ("bare", "ns", "", "Always", ())
    assert (rec.workload_kind, rec.workload) == ("Pod", "bare")


def test_a_list_page_splits_into_items_without_decoding_them() -> None:
    """The envelope is read for its resourceVersion and continue token; an item that is not even an
    object stays an item, to be refused alone by the handler."""
    items, rv, cont = decode_list_page(b'{"metadata":{"resourceVersion":"7","continue":"t"},"items":[{"a":1},3]}',
                                       PODS)
    assert (len(items), rv, cont) == (2, "7", "t")
    assert [bytes(memoryview(i)) if isinstance(i, msgspec.Raw) else i for i in items] == [b'{"a":1}', b"3"]
    state, _, _ = make_state()
    state.relist_begin("pods")
    for item in items:
        state.relist_item("pods", item)
    state.relist_end("pods")
    assert state.skipped[("pods", "malformed")] == 2 and not state.pods


def test_the_pod_struct_carries_what_the_records_read_and_nothing_else() -> None:
    """deletionTimestamp (a terminating pod) and podIP/podIPs (dependency chains) are decoded and
    land in the record; container IDs, which no record holds, are not decoded at all (a field
    decoded and never read would make every update's fingerprint new)."""
    p = crashing("api-1", 2)
    p["metadata"]["deletionTimestamp"] = "2024-01-01T00:11:00Z"
    p["status"].update(podIP="10.1.2.3", podIPs=[{"ip": "10.1.2.3"}, {"ip": "fd00::3"}])
    decoded = wire.POD.decode(msgspec.json.encode(p))
    assert decoded.metadata.deletionTimestamp == "2024-01-01T00:11:00Z"
    assert (decoded.status.podIP, [i.ip for i in decoded.status.podIPs or ()]) == ("10.1.2.3", ["10.1.2.3", "fd00::3"])
    rec = parse_pod(decoded)
    assert rec.terminating and rec.pod_ips == ("10.1.2.3", "fd00::3")
    assert "containerID" not in wire.ContainerStatus.__struct_fields__
    assert "containerID" not in wire.StateTerminated.__struct_fields__


def test_a_clean_page_is_decoded_in_one_typed_pass_and_a_page_with_a_bad_item_falls_back() -> None:
    """With the pods decoder every item arrives as a `wire.Pod` (its spec left as bytes); one item of
    the wrong shape sends the whole page through the Raw split, so that item alone is refused."""
    good = [_with_rv(pod("a"), "1"), _with_rv(crashing("b", 2), "2")]
    body = msgspec.json.encode({"metadata": {"resourceVersion": "7"}, "items": good})
    items, rv, _ = decode_list_page(body, PODS, typed=wire.PAGES["pods"])
    assert rv == "7" and [type(i) for i in items] == [wire.Pod, wire.Pod]
    assert [p.metadata.name for p in items if isinstance(p, wire.Pod)] == ["a", "b"]
    assert [parse_pod(i).name for i in items] == ["a", "b"]
    bad_items = [good[0], _string_for_a_list("c", "3")]
    bad_body = msgspec.json.encode({"metadata": {"resourceVersion": "8"}, "items": bad_items})
    items, _, _ = decode_list_page(bad_body, PODS, typed=wire.PAGES["pods"])
    assert [type(i) for i in items] == [msgspec.Raw, msgspec.Raw]


def test_watch_lines_decode_typed_except_an_error_or_a_bad_object() -> None:
    """MODIFIED and BOOKMARK lines come back as Structs; an ERROR's Status and a malformed pod come
    back as bytes for the generic handling (the 410, the counted skip)."""
    line = msgspec.json.encode(ev("MODIFIED", _with_rv(pod("a"), "5")))
    event_type, obj = decode_watch_line(line, wire.LINES["pods"])  # type: ignore[misc]  # not None here
    assert event_type == "MODIFIED" and isinstance(obj, wire.Pod) and obj.metadata.resourceVersion == "5"
    bookmark = msgspec.json.encode(ev("BOOKMARK", {"kind": "Pod", "metadata": {"resourceVersion": "9"}}))
    assert decode_watch_line(bookmark, wire.LINES["pods"]) == ("BOOKMARK", wire.Pod(metadata=wire.ObjectMeta(
        resourceVersion="9")))
    status = {"kind": "Status", "status": "Failure", "reason": "Expired", "code": 410, "message": "too old"}
    for resource in ("pods", "events", "nodes"):
        got = decode_watch_line(msgspec.json.encode(ev("ERROR", status)), wire.LINES[resource])
        assert got is not None and got[0] == "ERROR" and isinstance(got[1], msgspec.Raw), resource
    bad = msgspec.json.encode(ev("MODIFIED", _string_for_a_list("b", "6")))
    got = decode_watch_line(bad, wire.LINES["pods"])
    assert got is not None and isinstance(got[1], msgspec.Raw)
