"""WATCH: revision semantics, synthetic ADDED, bookmarks, timeouts, 410 on compaction, selectors."""

from __future__ import annotations

import asyncio

import orjson

from tests.sim.conftest import MakeSim, Sim, read_events


async def test_watch_from_list_revision_sees_only_later_changes_in_order(sim: Sim) -> None:
    """A watch from a LIST's resourceVersion delivers exactly the writes after it, in revision order."""
    _, listed = await sim.get("/api/v1/pods")
    list_rv = int(listed["metadata"]["resourceVersion"])
    async with sim.http.get(sim.url + "/api/v1/pods", params={
            "watch": "true", "resourceVersion": str(list_rv), "timeoutSeconds": "30"}) as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"] == "application/json"
        assert resp.headers["Transfer-Encoding"] == "chunked"
        sim.cluster.advance(3)
        writes = [c for c in sim.cluster.store["pods"].changes_after(list_rv)]
        events = await read_events(resp, count=len(writes))
    assert len(events) == len(writes) > 0
    rvs = [int(e["object"]["metadata"]["resourceVersion"]) for e in events]
    assert rvs == sorted(rvs) and rvs[0] > list_rv
    assert {e["type"] for e in events} == {"MODIFIED"}
    assert [e["object"]["metadata"]["name"] for e in events] == [c.obj.name for c in writes]


async def test_watch_without_revision_starts_with_synthetic_added(sim: Sim) -> None:
    """resourceVersion "" or "0" first sends ADDED for every current object, then live changes."""
    _, listed = await sim.get("/api/v1/namespaces/production/pods")
    for rv in ("", "0"):
        async with sim.http.get(sim.url + "/api/v1/namespaces/production/pods", params={
                "watch": "1", "resourceVersion": rv, "timeoutSeconds": "30"}) as resp:
            initial = await read_events(resp, count=len(listed["items"]))
            assert {e["type"] for e in initial} == {"ADDED"}
            assert [e["object"]["metadata"]["name"] for e in initial] == [
                p["metadata"]["name"] for p in listed["items"]]
            sim.cluster.advance(2)
            (live,) = await read_events(resp, count=1)
            assert live["type"] == "MODIFIED"


async def test_bookmarks_carry_only_the_revision(make_sim: MakeSim) -> None:
    """allowWatchBookmarks=true yields periodic BOOKMARKs: kind Pod, metadata.resourceVersion = current
    revision, no name, and the Go zero values the apiserver serialises."""
    sim = await make_sim(["healthy"], bookmark_interval=0.05)
    rv = str(sim.cluster.store.rv)
    async with sim.http.get(sim.url + "/api/v1/pods", params={
            "watch": "true", "resourceVersion": rv, "allowWatchBookmarks": "true", "timeoutSeconds": "30"}) as resp:
        events = await read_events(resp, count=2)
    assert [e["type"] for e in events] == ["BOOKMARK", "BOOKMARK"]
    obj = events[0]["object"]
    assert obj["kind"] == "Pod" and obj["apiVersion"] == "v1"
    assert obj["metadata"]["resourceVersion"] == rv and "name" not in obj["metadata"]
    assert obj["spec"] == {"containers": None} and obj["status"] == {}


async def test_no_bookmarks_unless_asked(make_sim: MakeSim) -> None:
    """Without allowWatchBookmarks an idle watch sends nothing until its timeout closes it."""
    sim = await make_sim(["healthy"], bookmark_interval=0.05)
    async with sim.http.get(sim.url + "/api/v1/pods", params={
            "watch": "true", "resourceVersion": str(sim.cluster.store.rv), "timeoutSeconds": "1"}) as resp:
        body = await asyncio.wait_for(resp.read(), timeout=10)
    assert body == b""


async def test_timeout_seconds_ends_the_stream_cleanly(make_sim: MakeSim) -> None:
    """timeoutSeconds closes the chunked stream with a proper end (no payload error), after the
    events that happened before it."""
    sim = await make_sim(["payment-service"])
    rv = str(sim.cluster.store.rv)
    async with sim.http.get(sim.url + "/api/v1/pods", params={
            "watch": "true", "resourceVersion": rv, "timeoutSeconds": "1"}) as resp:
        sim.cluster.advance(2)
        body = await asyncio.wait_for(resp.read(), timeout=10)
    lines = body.splitlines()
    assert lines and all(orjson.loads(line)["type"] == "MODIFIED" for line in lines)


async def test_watch_from_a_compacted_revision_gets_a_410_error_event(sim: Sim) -> None:
    """After compaction, a watch from an older revision is a 200 stream with one ERROR event
    holding a 410 Expired Status, then the end of the stream."""
    old = sim.cluster.store.rv
    sim.cluster.advance(3)
    sim.cluster.add_fault("compact")
    async with sim.http.get(sim.url + "/api/v1/pods", params={
            "watch": "true", "resourceVersion": str(old), "timeoutSeconds": "30"}) as resp:
        assert resp.status == 200
        body = await asyncio.wait_for(resp.read(), timeout=10)
    (line,) = body.splitlines()
    event = orjson.loads(line)
    assert event["type"] == "ERROR"
    status = event["object"]
    assert status["kind"] == "Status" and status["apiVersion"] == "v1" and status["metadata"] == {}
    assert status["status"] == "Failure" and status["reason"] == "Expired" and status["code"] == 410
    assert status["message"].startswith(f"too old resource version: {old} (")


async def test_history_window_compacts_by_itself(make_sim: MakeSim) -> None:
    """With a small history limit, revisions that fell out of the window answer 410 like etcd's."""
    sim = await make_sim(["payment-service", "oomkilled"], history_limit=5)
    old = sim.cluster.store.rv
    sim.cluster.advance(60)
    assert sim.cluster.store["pods"].floor > old
    async with sim.http.get(sim.url + "/api/v1/pods", params={
            "watch": "true", "resourceVersion": str(old), "timeoutSeconds": "30"}) as resp:
        (event,) = await read_events(resp, count=2)
    assert event["type"] == "ERROR" and event["object"]["code"] == 410


async def test_event_watch_with_field_selector(sim: Sim) -> None:
    """An events watch filtered to Pods of one name sees ADDED then MODIFIED (count + 1) for repeats."""
    pod = "payment-service-7d9f4b8c6-xk2p9"
    start = sim.cluster.store.rv
    async with sim.http.get(sim.url + "/api/v1/namespaces/production/events", params={
            "watch": "true", "resourceVersion": str(start), "timeoutSeconds": "30",
            "fieldSelector": f"involvedObject.kind=Pod,involvedObject.name={pod}"}) as resp:
        sim.cluster.advance(40)
        expected = [c for c in sim.cluster.store["events"].changes_after(start)
                    if c.obj.field("involvedObject.name") == pod]
        events = await read_events(resp, count=len(expected))
    assert len(events) == len(expected) > 0
    assert all(e["object"]["involvedObject"]["name"] == pod for e in events)
    backoffs = [e for e in events if e["object"]["reason"] == "BackOff"]
    assert backoffs[0]["type"] == "ADDED" and backoffs[0]["object"]["count"] == 1
    assert backoffs[1]["type"] == "MODIFIED" and backoffs[1]["object"]["count"] == 2
    assert backoffs[0]["object"]["metadata"]["name"] == backoffs[1]["object"]["metadata"]["name"]


async def test_label_selected_watch_sees_objects_leave_the_selection(sim: Sim) -> None:
    """A pod deleted under a label-selected watch arrives as DELETED with the deletion's revision."""
    async with sim.http.get(sim.url + "/api/v1/pods", params={
            "watch": "true", "resourceVersion": str(sim.cluster.store.rv), "timeoutSeconds": "30",
            "labelSelector": "app=frontend"}) as resp:
        sim.cluster.delete_pod("production", "frontend-5f8d9c7b6-def34")
        events = await read_events(resp, count=2)
    assert [e["type"] for e in events] == ["MODIFIED", "DELETED"]
    assert events[0]["object"]["metadata"]["deletionTimestamp"]
    assert int(events[1]["object"]["metadata"]["resourceVersion"]) == sim.cluster.store.rv


async def test_watch_from_a_future_revision_is_a_504(make_sim: MakeSim) -> None:
    """A resourceVersion the store has not reached (e.g. after an etcd restore) is 504 Too large."""
    sim = await make_sim(["healthy"])
    future = sim.cluster.store.rv + 1000
    sim.cluster.add_fault("reset_rv", to=1)
    sim.server.rv_wait_seconds = 0.1
    status, body = await sim.get("/api/v1/pods", watch="true", resourceVersion=str(future))
    assert status == 504
    assert body["reason"] == "Timeout" and body["message"].startswith(f"Too large resource version: {future}")
