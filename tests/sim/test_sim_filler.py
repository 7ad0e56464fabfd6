"""Filler pods for benchmarks: realistic size, pagination at scale, selectors, and the churn stream."""

from __future__ import annotations

import asyncio
import itertools
import re

import msgspec
import orjson
import pytest

from crashloop_exporter.parse import parse_pod
from crashloop_exporter.sim.filler import (
    FILLER_SHAPES,
    GENERATION_ANNOTATION,
    PODS_PER_NODE,
    Churn,
    FillerPod,
    _template,
    add_filler_pods,
)
from crashloop_exporter.sim.objects import KUBE_ALPHABET, ts
from crashloop_exporter.sim.store import Store, watch_line
from tests.sim.conftest import MakeSim, read_events
from tests.support.wait import wait_for


async def test_filler_pods_page_and_parse(make_sim: MakeSim) -> None:
    """3000 filler pods list in pages with scenario pods, each ~6 KB and parseable as a healthy pod."""
    sim = await make_sim(["healthy"], filler_pods=3000)
    items, rvs = await sim.list_all("/api/v1/pods", limit=500)
    assert len(items) == 3000 + 6 and len(set(rvs)) == 1
    names = [(p["metadata"]["namespace"], p["metadata"]["name"]) for p in items]
    assert len(set(names)) == len(names)
    filler = [p for p in items if p["metadata"]["namespace"].startswith("bench-")]
    sizes = [len(orjson.dumps(p)) for p in filler[:50]]
    assert all(5000 <= s <= 7000 for s in sizes), sizes
    record = parse_pod(filler[0])
    assert record.workload_kind == "Deployment" and record.phase == "Running"
    assert record.containers[0].ready and record.containers[0].restart_count == 0
    from_bytes = parse_pod(orjson.dumps(filler[0]))
    # The API's bytes and a dump's dict give the same record; only the bytes' carries a fingerprint.
    assert from_bytes.fingerprint != 0 and record.fingerprint == 0
    assert msgspec.structs.replace(from_bytes, fingerprint=0) == record
    _, nodes = await sim.get("/api/v1/nodes")
    assert len([n for n in nodes["items"] if n["metadata"]["name"].startswith("bench-node-")]) == 30


async def test_filler_pods_have_a_real_pods_shape(make_sim: MakeSim) -> None:
    """What makes a real pod 5-10 KB and what a client must skip: managedFields of two managers, the
    projected service-account volume, default tolerations, probes, imageIDs and ten env vars."""
    sim = await make_sim([], filler_pods=10)
    _, page = await sim.get("/api/v1/pods")
    pod = page["items"][0]
    managers = [m["manager"] for m in pod["metadata"]["managedFields"]]
    assert managers == ["kube-controller-manager", "kubelet"], managers
    [container] = pod["spec"]["containers"]
    assert len(container["env"]) == 10 and container["livenessProbe"] and container["readinessProbe"]
    assert any("projected" in v for v in pod["spec"]["volumes"])
    assert {t["key"] for t in pod["spec"]["tolerations"]} == {"node.kubernetes.io/not-ready",
                                                               "node.kubernetes.io/unreachable"}
    assert pod["status"]["containerStatuses"][0]["imageID"].startswith("registry.example.com/")


async def test_small_filler_shape_is_a_named_variant(make_sim: MakeSim) -> None:
    """`filler_shape="small"` keeps the older, smaller pod (one env var, abridged managedFields)."""
    sim = await make_sim([], filler_pods=10, filler_shape="small")
    _, page = await sim.get("/api/v1/pods")
    sizes = [len(orjson.dumps(p)) for p in page["items"]]
    assert all(4000 <= s < 5000 for s in sizes), sizes
    assert len(page["items"][0]["spec"]["containers"][0]["env"]) == 1
    assert parse_pod(page["items"][0]).phase == "Running"


async def test_filler_selectors_and_logs(make_sim: MakeSim) -> None:
    """Label and field selectors work on template-rendered pods; their logs are served too."""
    sim = await make_sim([], filler_pods=2000)
    _, one_app = await sim.get("/api/v1/pods", labelSelector="app=svc-00007")
    assert len(one_app["items"]) == 10
    _, on_node = await sim.get("/api/v1/pods", fieldSelector="spec.nodeName=bench-node-0003")
    assert len(on_node["items"]) == 100
    _, ns = await sim.get("/api/v1/namespaces/bench-001/pods", limit="5")
    assert ns["metadata"]["remainingItemCount"] == 995
    name = one_app["items"][0]["metadata"]["name"]
    status, text = await sim.get(f"/api/v1/namespaces/bench-000/pods/{name}/log")
    assert status == 200 and '"msg":"ready"' in text


async def test_churn_emits_modified_events_with_rising_generations(make_sim: MakeSim) -> None:
    """The churn mode emits MODIFIED filler-pod events, each bumping the generation annotation."""
    sim = await make_sim([], filler_pods=100, paused=False)
    async with sim.http.get(sim.url + "/api/v1/pods", params={
            "watch": "1", "resourceVersion": str(sim.cluster.store.rv), "timeoutSeconds": "30"}) as resp:
        sim.cluster.set_churn(2000)
        events = await read_events(resp, count=150, timeout=10)
        sim.cluster.set_churn(0)
    assert len(events) == 150 and {e["type"] for e in events} == {"MODIFIED"}
    first = events[0]["object"]["metadata"]
    assert first["annotations"][GENERATION_ANNOTATION] == "1"
    again = [e for e in events if e["object"]["metadata"]["name"] == first["name"]]
    assert [e["object"]["metadata"]["annotations"][GENERATION_ANNOTATION] for e in again][:2] == ["1", "2"]
    await asyncio.sleep(0)
    assert sim.cluster.stats_json()["churn_emitted"] >= 150


def test_filler_records_stay_small() -> None:
    """A filler pod is a record rendered on demand, not a stored document."""
    from crashloop_exporter.sim import SimCluster

    cluster = SimCluster([], filler_pods=10)
    obj = next(iter(cluster.store["pods"].objects.values()))
    assert isinstance(obj, FillerPod) and not hasattr(obj, "__dict__")
    assert orjson.loads(obj.to_bytes())["metadata"]["name"], "the record renders a real pod"


def _reference_render(pod: FillerPod) -> bytes:
    """The template with each token replaced by its value, spelled as the first renderer did."""
    g, i, n = pod.group, pod.index, pod.index // PODS_PER_NODE

    def suffix(x: int) -> str:
        chars = []
        for _ in range(5):
            x, r = divmod(x, len(KUBE_ALPHABET))
            chars.append(KUBE_ALPHABET[r])
        return "".join(chars)

    values = {
        "NAME": pod.name, "NS": g.namespace, "RV": str(pod.rv), "RS": g.rs, "APP": g.app, "HASH": g.hash,
        "OWNER": g.owner_uid,
        "UID": f"f111e700-{g.number & 0xFFFF:04x}-4{(i >> 12) & 0xFFF:03x}-8{i & 0xFFF:03x}-{i:012x}",
        "NODE": f"bench-node-{n:04d}", "HOSTIP": f"10.0.{n >> 8}.{n & 255}",
        "PODIP": f"10.{100 + (i >> 16)}.{(i >> 8) & 255}.{i & 255}", "CREATED": ts(g.created),
        "STARTED": ts(g.created + 4), "GEN": str(pod.gen), "CID": f"{i:016x}{pod.gen:016x}" * 2,
        "VOL": suffix(i * 7 + 3),
    }
    return re.sub(rb"@@([A-Z]+)@@", lambda m: values[m.group(1).decode()].encode(), _template(g.shape))


@pytest.mark.parametrize("shape", FILLER_SHAPES)
def test_filler_render_is_the_template_filled_in(shape: str) -> None:
    """Pods, and their watch lines of every type, are the template with the pod's values, byte for byte,
    at index and generation edges (12-bit, 16-bit, a 2^40 generation)."""
    store = Store()
    [key] = add_filler_pods(store["pods"], 1, created=1_700_000_000.5, shape=shape)
    first = store["pods"].get(key)
    assert isinstance(first, FillerPod)
    for index in (0, 9, 4095, 4096, 65535, 65536, 1_000_000):
        for rv, gen in ((1, 0), (123_456_789, 1), (7, 2**40)):
            pod = FillerPod(first.group, index, f"{first.group.rs}-x{index}", rv, gen)
            expected = _reference_render(pod)
            assert pod.to_bytes() == expected, (index, gen)
            for event_type in ("ADDED", "MODIFIED", "DELETED", "BOOKMARK"):
                assert pod.watch_line(event_type) == watch_line(event_type, expected)
            bumped = pod.bumped(rv + 1)
            assert orjson.loads(bumped.to_bytes())["metadata"]["annotations"][GENERATION_ANNOTATION] == str(gen + 1)


async def test_churn_gives_the_loop_a_turn_between_slices(make_sim: MakeSim, monkeypatch: pytest.MonkeyPatch) -> None:
    """A churn far above what a tick can hold bumps in slices of at most `Churn.SLICE` events, and other
    tasks (watch streams, admin requests) run between any two slices."""
    sim = await make_sim([], filler_pods=100, paused=False)
    churn = sim.cluster.churn
    turns = 0
    slices: list[tuple[int, int]] = []
    real_bump = churn.bump

    def bump(count: int) -> None:
        slices.append((count, turns))
        real_bump(count)

    loop = asyncio.get_running_loop()
    counting = True

    def turn() -> None:
        """Runs once per turn of the event loop (it schedules itself for the next one)."""
        nonlocal turns
        turns += 1
        if counting:
            loop.call_soon(turn)

    async def enough() -> bool:
        return len(slices) >= 12

    monkeypatch.setattr(churn, "bump", bump)
    loop.call_soon(turn)
    try:
        sim.cluster.set_churn(5 * Churn.SLICE / Churn.TICK)
        await wait_for(enough, what="a dozen churn slices", timeout=10, interval=0.01)
        sim.cluster.set_churn(0)
    finally:
        counting = False
    assert max(count for count, _ in slices) <= Churn.SLICE
    assert all(b > a for (_, a), (_, b) in itertools.pairwise(slices)), slices


def test_churn_drops_debt_it_cannot_pay() -> None:
    """A loop blocked for seconds does not owe seconds of events (one burst would block it again): the
    debt is capped at `Churn.MAX_DEBT_SECONDS` of the rate; fractions carry over between ticks."""
    from crashloop_exporter.sim import SimCluster

    churn = SimCluster([], filler_pods=10).churn
    churn.rate = 1000.0
    assert churn.due(10.0) == int(1000 * Churn.MAX_DEBT_SECONDS)
    assert [churn.due(0.0015) for _ in range(4)] == [1, 2, 1, 2]
    churn.rate = 1.0
    assert sum(churn.due(Churn.TICK) for _ in range(int(3.5 / Churn.TICK))) == 3, "a slow churn still emits"
