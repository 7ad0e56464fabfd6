"""Services and EndpointSlices: discovery, LIST pages, WATCH with bookmarks, and the slices the
sim's endpointslice controller derives from the pods (readiness, hostname, targetRef, ports)."""

from __future__ import annotations

from typing import Any

import orjson

from crashloop_exporter.deps.records import parse_slice
from tests.sim.conftest import MakeSim, read_events

SLICES = "/apis/discovery.k8s.io/v1/namespaces/production/endpointslices"


def _slice_of(items: list[dict[str, Any]], service: str) -> dict[str, Any]:
    found = [s for s in items if s["metadata"]["labels"]["kubernetes.io/service-name"] == service]
    assert len(found) == 1, [s["metadata"] for s in items]
    return found[0]


async def test_discovery_names_services_and_the_discovery_group(make_sim: MakeSim) -> None:
    """/api/v1 lists services; /apis the discovery.k8s.io group; its v1 list endpointslices."""
    sim = await make_sim(["dependency-chain"])
    _, core = await sim.get("/api/v1")
    svc = next(r for r in core["resources"] if r["name"] == "services")
    assert svc["kind"] == "Service" and svc["shortNames"] == ["svc"] and "endpointslices" not in {
        r["name"] for r in core["resources"]}
    _, groups = await sim.get("/apis")
    (discovery,) = [g for g in groups["groups"] if g["name"] == "discovery.k8s.io"]
    assert discovery["preferredVersion"] == {"groupVersion": "discovery.k8s.io/v1", "version": "v1"}
    _, group = await sim.get("/apis/discovery.k8s.io")
    assert group["kind"] == "APIGroup" and group["name"] == "discovery.k8s.io"
    _, v1 = await sim.get("/apis/discovery.k8s.io/v1")
    assert v1["groupVersion"] == "discovery.k8s.io/v1"
    assert [(r["name"], r["kind"], r["namespaced"]) for r in v1["resources"]] == [
        ("endpointslices", "EndpointSlice", True)]
    status, body = await sim.get("/api/v1/endpointslices")
    assert status == 404, body  # not in the core group
    status, body = await sim.get(f"{SLICES}/nope")
    assert status == 404 and body["message"] == 'endpointslices.discovery.k8s.io "nope" not found'


async def test_slices_follow_the_pods_behind_each_service(make_sim: MakeSim) -> None:
    """Each Service with a selector gets one slice: IPv4 pod addresses, ready from the pod's Ready
    condition, targetRef to the Pod with its uid, hostname for the headless Service's pod, ports
    with the named targetPort resolved; the exporter's own decoder reads them."""
    sim = await make_sim(["dependency-chain"])
    _, before = await sim.get(SLICES)
    assert before["kind"] == "EndpointSliceList" and before["apiVersion"] == "discovery.k8s.io/v1"
    assert _slice_of(before["items"], "postgres")["endpoints"] is None  # no pod has an IP yet
    sim.cluster.advance(3)
    _, listed = await sim.get(SLICES)
    pod = sim.cluster.pod_json("production", "postgres-0")
    assert pod is not None
    headless = _slice_of(listed["items"], "postgres")
    assert headless["addressType"] == "IPv4"
    assert headless["metadata"]["labels"]["service.kubernetes.io/headless"] == ""
    assert headless["metadata"]["ownerReferences"][0]["kind"] == "Service"
    assert headless["ports"] == [{"name": "postgres", "protocol": "TCP", "port": 5432}]
    (endpoint,) = headless["endpoints"]
    assert endpoint["addresses"] == [pod["status"]["podIP"]]
    assert endpoint["hostname"] == "postgres-0"
    assert endpoint["targetRef"] == {"kind": "Pod", "namespace": "production", "name": "postgres-0",
                                     "uid": pod["metadata"]["uid"]}
    assert endpoint["nodeName"] == pod["spec"]["nodeName"]
    ready = any(c["type"] == "Ready" and c["status"] == "True" for c in pod["status"]["conditions"])
    assert endpoint["conditions"] == {"ready": ready, "serving": ready, "terminating": False}
    cluster_ip = _slice_of(listed["items"], "postgres-service")
    assert "hostname" not in cluster_ip["endpoints"][0]  # subdomain names `postgres`
    record = parse_slice(orjson.dumps(cluster_ip))
    assert record.service == "postgres-service" and [e.pod for e in record.endpoints] == ["postgres-0"]
    _, api = await sim.get("/api/v1/namespaces/production/services/api")
    assert api["spec"]["clusterIP"].startswith("10.") and api["spec"]["selector"] == {"app": "api"}


async def test_list_pages_and_a_watch_sees_readiness_flip_and_pod_deletion(make_sim: MakeSim) -> None:
    """Slices page like any list; a watch from the list's revision sees MODIFIED when postgres-0's
    readiness changes (it OOMs), bookmarks in the group's apiVersion, and the endpoint gone on delete."""
    sim = await make_sim(["dependency-chain", "healthy"], bookmark_interval=0.2)
    sim.cluster.advance(3)
    items, _ = await sim.list_all("/apis/discovery.k8s.io/v1/endpointslices", limit=1)
    assert {s["metadata"]["labels"]["kubernetes.io/service-name"] for s in items} == {
        "postgres", "postgres-service", "api"}
    services, _ = await sim.list_all("/api/v1/services", limit=2)
    assert {s["metadata"]["name"] for s in services} == {"postgres", "postgres-service", "api"}
    _, listed = await sim.get(SLICES)
    rv = listed["metadata"]["resourceVersion"]
    ready_before = _slice_of(listed["items"], "postgres-service")["endpoints"][0]["conditions"]["ready"]
    async with sim.http.get(sim.url + SLICES, params={
            "watch": "true", "resourceVersion": rv, "allowWatchBookmarks": "true", "timeoutSeconds": "30"}) as resp:
        seen: list[dict[str, object]] = []
        for _ in range(40):  # the clock runs until postgres-0 has changed readiness (crash, or restart)
            sim.cluster.advance(5)
            seen += [e for e in await read_events(resp, count=1) if e["type"] == "MODIFIED"]
            if _flipped(seen, ready_before):
                break
        assert _flipped(seen, ready_before), seen
        sim.cluster.delete_pod("production", "postgres-0")
        gone = None
        for _ in range(10):
            (event,) = await read_events(resp, count=1)
            if event["type"] == "BOOKMARK":
                assert event["object"]["apiVersion"] == "discovery.k8s.io/v1"
                assert event["object"]["endpoints"] is None and event["object"]["addressType"] == ""
                continue
            obj = event["object"]
            if obj["metadata"]["labels"]["kubernetes.io/service-name"] == "postgres-service" and not obj["endpoints"]:
                gone = event
                break
        assert gone is not None and gone["type"] == "MODIFIED"


def _ready(event: dict[str, object], service: str) -> object:
    obj = event["object"]
    assert isinstance(obj, dict)
    if obj["metadata"]["labels"]["kubernetes.io/service-name"] != service or not obj["endpoints"]:
        return None
    return obj["endpoints"][0]["conditions"]["ready"]


def _flipped(events: list[dict[str, object]], before: object) -> bool:
    return any((r := _ready(e, "postgres-service")) is not None and r != before for e in events)
