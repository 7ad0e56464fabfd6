"""LIST: kinds, pagination from a consistent snapshot, continue-token expiry, selectors."""

from __future__ import annotations

import pytest

from tests.sim.conftest import MakeSim, Sim


async def test_list_kinds_and_resource_version(sim: Sim) -> None:
    """Each resource lists as `<Kind>List` with metadata.resourceVersion = the store's revision."""
    for path, kind in (("/api/v1/pods", "PodList"), ("/api/v1/events", "EventList"), ("/api/v1/nodes", "NodeList"),
                       ("/api/v1/namespaces/production/secrets", "SecretList"),
                       ("/api/v1/configmaps", "ConfigMapList"), ("/api/v1/namespaces", "NamespaceList")):
        status, body = await sim.get(path)
        assert status == 200, body
        assert body["kind"] == kind and body["apiVersion"] == "v1"
        assert body["metadata"]["resourceVersion"] == str(sim.cluster.store.rv)
        for item in body["items"]:
            assert int(item["metadata"]["resourceVersion"]) <= sim.cluster.store.rv


async def test_pagination_returns_every_pod_once_at_one_revision(sim: Sim) -> None:
    """limit+continue pages cover the full list exactly once, all at the first page's revision,
    with remainingItemCount counting down."""
    _, full = await sim.get("/api/v1/pods")
    items, rvs = await sim.list_all("/api/v1/pods", limit=4)
    names = [(p["metadata"]["namespace"], p["metadata"]["name"]) for p in items]
    assert names == [(p["metadata"]["namespace"], p["metadata"]["name"]) for p in full["items"]]
    assert len(set(names)) == len(names) == len(full["items"])
    assert names == sorted(names)
    assert len(set(rvs)) == 1
    _, first = await sim.get("/api/v1/pods", limit="4")
    assert first["metadata"]["remainingItemCount"] == len(full["items"]) - 4


async def test_later_pages_come_from_the_first_pages_snapshot(sim: Sim) -> None:
    """Writes after the first page (crashes, a deleted pod) do not leak into later pages: the list
    is the state at its resourceVersion, as etcd serves it."""
    _, first = await sim.get("/api/v1/namespaces/production/pods", limit="3")
    snapshot_rv = first["metadata"]["resourceVersion"]
    _, before = await sim.get("/api/v1/namespaces/production/pods")
    expected = {p["metadata"]["name"]: p["metadata"]["resourceVersion"] for p in before["items"]}
    sim.cluster.advance(30)  # many pods change state
    sim.cluster.delete_pod("production", "worker-deployment-5f8bb-r9t4k")
    token = first["metadata"]["continue"]
    seen = {p["metadata"]["name"]: p["metadata"]["resourceVersion"] for p in first["items"]}
    while token:
        status, page = await sim.get("/api/v1/namespaces/production/pods", limit="3", **{"continue": token})
        assert status == 200
        assert page["metadata"]["resourceVersion"] == snapshot_rv
        seen.update({p["metadata"]["name"]: p["metadata"]["resourceVersion"] for p in page["items"]})
        token = page["metadata"].get("continue", "")
    assert seen == expected
    _, now = await sim.get("/api/v1/namespaces/production/pods")
    assert "worker-deployment-5f8bb-r9t4k" not in {p["metadata"]["name"] for p in now["items"]}
    assert int(now["metadata"]["resourceVersion"]) > int(snapshot_rv)


async def test_compacted_continue_token_is_410_expired_with_an_inconsistent_token(sim: Sim) -> None:
    """After compaction the old continue token answers 410 Expired; the Status carries a new token
    that continues against the current state."""
    _, first = await sim.get("/api/v1/pods", limit="5")
    sim.cluster.advance(5)
    sim.cluster.add_fault("compact")
    status, body = await sim.get("/api/v1/pods", limit="5", **{"continue": first["metadata"]["continue"]})
    assert status == 410
    assert body["kind"] == "Status" and body["reason"] == "Expired" and body["code"] == 410
    assert body["message"].startswith("The provided continue parameter is too old")
    status, rest = await sim.get("/api/v1/pods", limit="500", **{"continue": body["metadata"]["continue"]})
    assert status == 200
    assert rest["metadata"]["resourceVersion"] == str(sim.cluster.store.rv)
    assert rest["items"] and rest["items"][0]["metadata"]["name"] != first["items"][0]["metadata"]["name"]


async def test_continue_with_resource_version_is_a_bad_request(sim: Sim) -> None:
    """The apiserver refuses resourceVersion together with continue (400), and garbage tokens."""
    _, first = await sim.get("/api/v1/pods", limit="2")
    status, body = await sim.get("/api/v1/pods", limit="2", resourceVersion="1",
                                 **{"continue": first["metadata"]["continue"]})
    assert status == 400 and body["reason"] == "BadRequest"
    status, body = await sim.get("/api/v1/pods", limit="2", **{"continue": "not-a-token"})
    assert status == 400


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("app=payment-service", {"payment-service-7d9f4b8c6-xk2p9"}),
        ("app in (postgres,catalog-api)", {"postgres-0", "catalog-api-7b9c8d6f5-c3mzp"}),
        ("app=frontend,pod-template-hash!=nothing", {"frontend-5f8d9c7b6-abc12", "frontend-5f8d9c7b6-def34"}),
        ("statefulset.kubernetes.io/pod-name", {"postgres-0", "search-indexer-0", "ledger-sync-0"}),
    ],
    ids=["equals", "in", "not-equals", "exists"],
)
async def test_label_selectors(sim: Sim, selector: str, expected: set[str]) -> None:
    """labelSelector supports =, !=, in, notin and existence, as the apiserver does."""
    _, body = await sim.get("/api/v1/namespaces/production/pods", labelSelector=selector)
    assert {p["metadata"]["name"] for p in body["items"]} == expected


async def test_label_selector_negations(sim: Sim) -> None:
    """`notin` and `!key` exclude matching pods (and `!=` keeps pods lacking the label)."""
    _, all_pods = await sim.get("/api/v1/pods")
    _, notin = await sim.get("/api/v1/pods", labelSelector="app notin (postgres,payment-service)")
    _, absent = await sim.get("/api/v1/pods", labelSelector="!pod-template-hash")
    names = {p["metadata"]["name"] for p in notin["items"]}
    assert "postgres-0" not in names and "payment-service-7d9f4b8c6-xk2p9" not in names
    assert "prometheus-0" in names  # no `app` label at all: notin matches
    postgres = [p for p in all_pods["items"] if p["metadata"]["labels"].get("app") == "postgres"]
    assert len(postgres) == 2  # production's crashing one (dependency-chain), staging's healthy one
    assert len(notin["items"]) == len(all_pods["items"]) - 3
    assert all("pod-template-hash" not in p["metadata"]["labels"] for p in absent["items"])
    assert {"ledger-sync-0", "debug-shell"} <= {p["metadata"]["name"] for p in absent["items"]}


async def test_field_selectors_on_pods_and_events(sim: Sim) -> None:
    """fieldSelector on pods (namespace, name, nodeName, phase, != forms) and events (involvedObject)."""
    _, on_node = await sim.get("/api/v1/pods", fieldSelector="spec.nodeName=sw-infrarunbook-01")
    assert {p["metadata"]["name"] for p in on_node["items"]} == {
        "analytics-ingest-6b9d8c7f5-k4rxs", "metrics-aggregator-5c8d9f7b6-d7hwz"}
    _, one = await sim.get("/api/v1/pods", fieldSelector="metadata.namespace=production,metadata.name=postgres-0")
    assert [p["metadata"]["name"] for p in one["items"]] == ["postgres-0"]
    _, not_running = await sim.get("/api/v1/pods", fieldSelector="status.phase!=Running")
    assert {p["status"]["phase"] for p in not_running["items"]} == {"Pending", "Succeeded"}
    _, not_prod = await sim.get("/api/v1/pods", fieldSelector="metadata.namespace!=production")
    assert not_prod["items"] and "production" not in {p["metadata"]["namespace"] for p in not_prod["items"]}
    sim.cluster.advance(5)
    _, events = await sim.get("/api/v1/events", fieldSelector="involvedObject.kind=Pod,"
                              "involvedObject.name=payment-service-7d9f4b8c6-xk2p9")
    assert events["items"] and all(
        e["involvedObject"]["name"] == "payment-service-7d9f4b8c6-xk2p9" for e in events["items"])
    _, kubelet_only = await sim.get("/api/v1/events", fieldSelector="source!=default-scheduler")
    assert kubelet_only["items"] and all(e["source"]["component"] == "kubelet" for e in kubelet_only["items"])


async def test_unsupported_field_and_bad_label_selector_are_400(sim: Sim) -> None:
    """Unknown selector fields and malformed label selectors are 400 BadRequest with the apiserver's wording."""
    status, body = await sim.get("/api/v1/pods", fieldSelector="spec.containers=api")
    assert status == 400 and body["message"] == "field label not supported: spec.containers"
    status, body = await sim.get("/api/v1/pods", labelSelector="app in (a")
    assert status == 400 and body["reason"] == "BadRequest"


async def test_namespaced_list_only_returns_that_namespace(make_sim: MakeSim) -> None:
    """/api/v1/namespaces/{ns}/pods returns that namespace only; an unknown namespace is an empty list."""
    sim = await make_sim()
    _, staging = await sim.get("/api/v1/namespaces/staging/pods")
    assert [p["metadata"]["name"] for p in staging["items"]] == ["accounts-api-5c7d8f9b6-h4kzt", "postgres-0"]
    status, empty = await sim.get("/api/v1/namespaces/nowhere/pods")
    assert status == 200 and empty["items"] == []
