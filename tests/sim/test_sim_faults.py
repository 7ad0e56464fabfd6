"""Every scripted fault does what it says, through Python and through /_sim/faults."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp
import orjson
import pytest

from crashloop_exporter.errors import SimError
from crashloop_exporter.sim.faults import fault_from_json
from tests.sim.conftest import MakeSim, Sim, read_events


def _watch_params(sim: Sim, **extra: str) -> dict[str, str]:
    return {"watch": "true", "resourceVersion": str(sim.cluster.store.rv), "timeoutSeconds": "30", **extra}


async def test_drop_stream_cuts_the_connection(sim: Sim) -> None:
    """drop_stream ends the open watch without the terminating chunk: the client sees a payload error."""
    async with sim.http.get(sim.url + "/api/v1/pods", params=_watch_params(sim)) as resp:
        sim.cluster.advance(2)
        assert await read_events(resp, count=1)
        sim.cluster.add_fault("drop_stream")
        with pytest.raises(aiohttp.ClientPayloadError):
            await asyncio.wait_for(resp.read(), timeout=10)


async def test_drop_stream_mid_event_leaves_half_a_line(sim: Sim) -> None:
    """mid_event sends the first half of a JSON line, then cuts the connection."""
    received = b""
    async with sim.http.get(sim.url + "/api/v1/pods", params=_watch_params(sim)) as resp:
        sim.cluster.add_fault("drop_stream", mid_event=True)
        with pytest.raises(aiohttp.ClientPayloadError):
            async with asyncio.timeout(10):
                async for chunk in resp.content.iter_any():
                    received += chunk
    assert received and not received.endswith(b"\n")
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(received)


async def test_clean_drop_and_pending_drop(sim: Sim) -> None:
    """clean=true ends the stream like a timeout; with no watch open the fault waits for the next one."""
    sim.cluster.add_fault("drop_stream", clean=True)
    assert sim.cluster.faults.pending()
    async with sim.http.get(sim.url + "/api/v1/pods", params=_watch_params(sim)) as resp:
        assert await asyncio.wait_for(resp.read(), timeout=10) == b""
    assert not sim.cluster.faults.pending()


async def test_gone_watch_sends_a_410_error_event_once(sim: Sim) -> None:
    """gone_watch: the next watch is a 200 stream with one ERROR 410 event; the one after is normal."""
    sim.cluster.add_fault("gone_watch")
    async with sim.http.get(sim.url + "/api/v1/pods", params=_watch_params(sim)) as resp:
        assert resp.status == 200
        (event,) = [orjson.loads(line) for line in (await resp.read()).splitlines()]
    assert event["type"] == "ERROR" and event["object"]["code"] == 410 and event["object"]["reason"] == "Expired"
    async with sim.http.get(sim.url + "/api/v1/pods", params=_watch_params(sim)) as resp:
        sim.cluster.advance(2)
        assert (await read_events(resp, count=1))[0]["type"] == "MODIFIED"


async def test_gone_http_answers_410_status(sim: Sim) -> None:
    """gone_http makes the next list (or watch) request an HTTP 410 with an Expired Status."""
    sim.cluster.add_fault("gone_http", count=2)
    status, body = await sim.get("/api/v1/pods")
    assert status == 410 and body["kind"] == "Status" and body["reason"] == "Expired"
    status, body = await sim.get("/api/v1/pods", **_watch_params(sim))
    assert status == 410 and body["message"].startswith("too old resource version")
    status, _ = await sim.get("/api/v1/pods")
    assert status == 200


async def test_expire_continue_expires_the_next_token(sim: Sim) -> None:
    """expire_continue: the next page request with a continue token is 410 Expired, without compaction."""
    _, first = await sim.get("/api/v1/pods", limit="3")
    sim.cluster.add_fault("expire_continue")
    status, body = await sim.get("/api/v1/pods", limit="3", **{"continue": first["metadata"]["continue"]})
    assert status == 410 and body["reason"] == "Expired" and body["metadata"]["continue"]
    status, _ = await sim.get("/api/v1/pods", limit="3", **{"continue": first["metadata"]["continue"]})
    assert status == 200


async def test_status_429_with_retry_after(sim: Sim) -> None:
    """status 429: N requests get TooManyRequests with Retry-After and retryAfterSeconds; then normal."""
    sim.cluster.add_fault("status", code=429, retry_after=7, count=2, verb="list")
    for _ in range(2):
        async with sim.http.get(sim.url + "/api/v1/pods") as r:
            body = await r.json()
            assert r.status == 429 and r.headers["Retry-After"] == "7"
            assert body["reason"] == "TooManyRequests" and body["details"] == {"retryAfterSeconds": 7}
    status, _ = await sim.get("/api/v1/pods")
    assert status == 200


async def test_status_fault_respects_verb_and_resource(sim: Sim) -> None:
    """A fault for watch on events leaves pod lists and event lists alone."""
    sim.cluster.add_fault("status", code=500, resource="events", verb="watch")
    assert (await sim.get("/api/v1/pods"))[0] == 200
    assert (await sim.get("/api/v1/events"))[0] == 200
    status, body = await sim.get("/api/v1/events", **_watch_params(sim))
    assert status == 500 and body["reason"] == "InternalError"


async def test_forbidden_pod_logs(sim: Sim) -> None:
    """status 403 on pods/log (count 0 = until cleared) is RBAC's Forbidden with its message."""
    sim.cluster.add_fault("status", code=403, resource="pods/log", count=0)
    for _ in range(2):
        status, body = await sim.get("/api/v1/namespaces/staging/pods/postgres-0/log")
        assert status == 403 and body["reason"] == "Forbidden"
        assert body["message"] == (
            'pods "postgres-0" is forbidden: User "system:serviceaccount:monitoring:crashloop-exporter" cannot get '
            'resource "pods/log" in API group "" in the namespace "staging"')
    sim.cluster.clear_faults()
    assert (await sim.get("/api/v1/namespaces/staging/pods/postgres-0/log"))[0] == 200


async def test_log_fault_on_one_node_spares_the_pods_of_other_nodes(sim: Sim) -> None:
    """A pods/log fault with `node` hits only the logs of pods on that node (an unreachable kubelet)."""
    sim.cluster.add_fault("status", code=500, resource="pods/log", node="sw-infrarunbook-03", count=0)
    assert sim.cluster.pod_node("staging", "postgres-0") == "sw-infrarunbook-03"
    assert (await sim.get("/api/v1/namespaces/staging/pods/postgres-0/log"))[0] == 500
    other = next(p for p in sim.cluster.lifecycle.pods.values() if p.node == "sw-infrarunbook-02" and p.regular)
    status, _ = await sim.get(f"/api/v1/namespaces/{other.namespace}/pods/{other.name}/log",
                              container=other.regular[0].name)
    assert status != 500
    assert (await sim.get("/api/v1/namespaces/staging/pods/postgres-0/log"))[0] == 500


def test_node_is_refused_on_faults_that_cannot_know_a_pod() -> None:
    """`node` only makes sense for request faults on pods/log; elsewhere it is a clear SimError."""
    for body in ({"kind": "status", "resource": "pods", "node": "n1"}, {"kind": "hang", "resource": "pods/log",
                                                                        "node": "n1"}):
        with pytest.raises(SimError, match="'node' only applies to request faults on pods/log"):
            fault_from_json(body)
    assert fault_from_json({"kind": "slow", "resource": "pods/log", "node": "n1"}).node == "n1"


async def test_garbage_line_in_the_stream(sim: Sim) -> None:
    """garbage injects a non-JSON line into the open watch; the stream goes on afterwards."""
    async with sim.http.get(sim.url + "/api/v1/pods", params=_watch_params(sim)) as resp:
        sim.cluster.add_fault("garbage", line="<html>502 Bad Gateway</html>")
        line = await asyncio.wait_for(resp.content.readline(), timeout=10)
        assert line == b"<html>502 Bad Gateway</html>\n"
        sim.cluster.advance(2)
        assert (await read_events(resp, count=1))[0]["type"] == "MODIFIED"


async def test_slow_delays_the_response(sim: Sim) -> None:
    """slow holds the next response back by `delay` seconds."""
    sim.cluster.add_fault("slow", delay=0.3, resource="nodes")
    started = time.monotonic()
    status, _ = await sim.get("/api/v1/nodes")
    assert status == 200 and time.monotonic() - started >= 0.29
    assert not sim.cluster.faults.pending()


async def test_hang_silences_the_stream_then_resumes(make_sim: MakeSim) -> None:
    """hang: nothing at all (no events, no bookmarks) for `seconds`, then the queued events arrive."""
    sim = await make_sim(["payment-service"], bookmark_interval=0.05)
    async with sim.http.get(sim.url + "/api/v1/pods", params=_watch_params(sim, allowWatchBookmarks="true")) as resp:
        assert (await read_events(resp, count=1))[0]["type"] == "BOOKMARK"
        hang = sim.cluster.add_fault("hang", seconds=1.5)
        for _ in range(200):  # until the open stream's pump has taken the fault
            if sim.cluster.faults.consumed[hang.id]:
                break
            await asyncio.sleep(0.005)
        assert sim.cluster.faults.consumed[hang.id] == 1, "the open stream never took the hang"
        sim.cluster.advance(2)
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(resp.content.readline(), timeout=0.5)
        events = await read_events(resp, count=1, timeout=10)
    assert events[0]["type"] == "MODIFIED"


async def test_reset_rv_closes_watches_and_old_revisions_are_gone(sim: Sim) -> None:
    """reset_rv (apiserver restart): open watches end, the revision jumps, older revisions answer 410."""
    old = sim.cluster.store.rv
    async with sim.http.get(sim.url + "/api/v1/pods", params=_watch_params(sim)) as resp:
        sim.cluster.add_fault("reset_rv")
        assert await asyncio.wait_for(resp.read(), timeout=10) == b""
    _, listed = await sim.get("/api/v1/pods")
    assert int(listed["metadata"]["resourceVersion"]) >= old + 1_000_000
    async with sim.http.get(sim.url + "/api/v1/pods", params={"watch": "1", "resourceVersion": str(old)}) as resp:
        (event,) = [orjson.loads(line) for line in (await resp.read()).splitlines()]
    assert event["type"] == "ERROR" and event["object"]["code"] == 410


async def test_reset_rv_backwards_restamps_every_object(sim: Sim) -> None:
    """reset_rv with `to` (an etcd restore): every object gets a revision above `to`, lists report it."""
    sim.cluster.add_fault("reset_rv", to=5)
    _, listed = await sim.get("/api/v1/pods")
    rv = int(listed["metadata"]["resourceVersion"])
    assert all(5 < int(p["metadata"]["resourceVersion"]) <= rv for p in listed["items"])


async def test_compact_one_resource(sim: Sim) -> None:
    """compact with a resource only expires that resource's history."""
    old = sim.cluster.store.rv
    sim.cluster.advance(3)
    sim.cluster.add_fault("compact", resource="events")
    async with sim.http.get(sim.url + "/api/v1/events", params={"watch": "1", "resourceVersion": str(old)}) as resp:
        (event,) = await read_events(resp, count=2)
    assert event["type"] == "ERROR"
    async with sim.http.get(sim.url + "/api/v1/pods", params={"watch": "1", "resourceVersion": str(old),
                                                              "timeoutSeconds": "30"}) as resp:
        assert (await read_events(resp, count=1))[0]["type"] == "MODIFIED"


async def _admin(sim: Sim, method: str, action: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
    async with sim.http.request(method, f"{sim.url}/_sim/{action}", json=body) as r:
        return r.status, await r.json()


async def test_admin_faults_endpoint(sim: Sim) -> None:
    """POST /_sim/faults validates and queues, GET lists pending faults, DELETE clears them."""
    status, body = await _admin(sim, "POST", "faults", {"kind": "status", "code": 503, "resource": "nodes"})
    assert status == 201 and body["kind"] == "status" and body["id"] > 0
    status, pending = await _admin(sim, "GET", "faults")
    assert [f["code"] for f in pending] == [503]
    status, body = await _admin(sim, "POST", "faults", {"kind": "meteor"})
    assert status == 400 and "fault kind must be one of" in body["error"]
    status, body = await _admin(sim, "POST", "faults", {"kind": "status", "colour": "red"})
    assert status == 400 and "unknown fault field" in body["error"]
    status, _ = await _admin(sim, "DELETE", "faults")
    assert (await _admin(sim, "GET", "faults"))[1] == []


async def test_admin_pause_resume_advance_and_delete(sim: Sim) -> None:
    """The admin endpoints drive the clock and pods: advance while paused, delete-pod with recreate."""
    status, _ = await _admin(sim, "POST", "advance", {"seconds": 5})
    assert status == 200
    _, stats = await _admin(sim, "GET", "stats")
    assert stats["restarts"]["total"] > 0 and stats["paused"] is True
    status, body = await _admin(sim, "POST", "delete-pod", {"namespace": "production",
                                                             "name": "postgres-0", "recreate": True})
    assert status == 200 and body["replacement"] == "postgres-0"
    status, body = await _admin(sim, "POST", "delete-pod", {"namespace": "production", "name": "nope"})
    assert status == 400
    assert (await _admin(sim, "POST", "resume"))[1] == {"paused": False}
    assert (await _admin(sim, "POST", "pause"))[1] == {"paused": True}
