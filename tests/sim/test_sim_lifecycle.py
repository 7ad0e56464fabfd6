"""The kubelet lifecycle: crash sequence, back-off, failed starts, init containers, eviction, counting."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from crashloop_exporter.errors import SimRequestError
from crashloop_exporter.parse import parse_pod
from crashloop_exporter.sim import SimCluster
from crashloop_exporter.sim.scenarios import Behavior, ContainerScenario, Owner, PodScenario, Scenario
from tests.sim.conftest import MakeSim, Sim

PAYMENT = ("production", "payment-service-7d9f4b8c6-xk2p9")


def _history(cluster: SimCluster, key: tuple[str, str]) -> list[dict[str, Any]]:
    return [c.obj.to_dict() for c in cluster.store["pods"].history if c.obj.key == key]


def _waiting_messages(pods: list[dict[str, Any]]) -> list[str]:
    """Each back-off's message once (a new entry every time the container enters waiting)."""
    out: list[str] = []
    previous = ""
    for pod in pods:
        for cs in pod["status"].get("containerStatuses", []):
            msg = cs["state"].get("waiting", {}).get("message", "")
            if msg and msg != previous:
                out.append(msg)
            previous = msg
    return out


def _events(cluster: SimCluster, pod: str, reason: str) -> list[dict[str, Any]]:
    return [o.to_dict() for o in cluster.store["events"].objects.values()
            if o.field("involvedObject.name") == pod and o.field("reason") == reason]


def test_back_off_doubles_from_10s_to_a_5m_cap() -> None:
    """Crash after crash the CrashLoopBackOff message reads 10s, 20s, 40s, 1m20s, 2m40s, 5m0s, 5m0s,
    and every restart the sim performs is counted."""
    cluster = SimCluster(["payment-service"])
    cluster.pause()
    cluster.advance(1000)
    pod = cluster.pod_json(*PAYMENT)
    assert pod is not None
    uid = pod["metadata"]["uid"]
    messages = _waiting_messages(_history(cluster, PAYMENT))
    prefix = [m.split(" restarting")[0] for m in messages]
    assert prefix[:7] == ["back-off 10s", "back-off 20s", "back-off 40s", "back-off 1m20s", "back-off 2m40s",
                          "back-off 5m0s", "back-off 5m0s"]
    assert messages[0] == (f"back-off 10s restarting failed container=payment-service "
                           f"pod=payment-service-7d9f4b8c6-xk2p9_production({uid})")
    restarts = pod["status"]["containerStatuses"][0]["restartCount"]
    stats = cluster.stats_json()["restarts"]
    assert stats["by_container"] == {"production/payment-service-7d9f4b8c6-xk2p9/payment-service": restarts}
    assert stats["by_cause"] == {"missing_secret": restarts}


def test_first_crash_restarts_at_once_then_back_off() -> None:
    """The first crash shows terminated/Error then restarts at the next sync (no back-off entry yet);
    the second goes to CrashLoopBackOff with lastState.terminated and a BackOff event."""
    cluster = SimCluster(["payment-service"])
    cluster.pause()
    cluster.advance(2.5)
    status = cluster.pod_json(*PAYMENT)["status"]["containerStatuses"][0]  # type: ignore[index]
    term = status["state"]["terminated"]
    assert term["exitCode"] == 1 and term["reason"] == "Error" and status["restartCount"] == 0
    assert term["startedAt"] and term["finishedAt"] and term["containerID"].startswith("containerd://")
    cluster.advance(1)
    status = cluster.pod_json(*PAYMENT)["status"]["containerStatuses"][0]  # type: ignore[index]
    assert "running" in status["state"] and status["restartCount"] == 1
    assert status["lastState"]["terminated"]["exitCode"] == 1
    cluster.advance(2)
    pod = cluster.pod_json(*PAYMENT)
    assert pod is not None
    status = pod["status"]["containerStatuses"][0]
    assert status["state"]["waiting"]["reason"] == "CrashLoopBackOff" and status["restartCount"] == 1
    assert pod["status"]["phase"] == "Running"
    (backoff,) = _events(cluster, PAYMENT[1], "BackOff")
    assert backoff["message"] == (f"Back-off restarting failed container payment-service in pod "
                                  f"payment-service-7d9f4b8c6-xk2p9_production({pod['metadata']['uid']})")
    assert backoff["involvedObject"]["fieldPath"] == "spec.containers{payment-service}"
    assert backoff["source"] == {"component": "kubelet", "host": "sw-infrarunbook-02"}
    (started,) = _events(cluster, PAYMENT[1], "Started")
    assert started["count"] == 2 and started["firstTimestamp"] <= started["lastTimestamp"]


def _long_runner() -> Scenario:
    behavior = Behavior(kind="crash", run_seconds=700, exit_code=1, reason="Error")
    container = ContainerScenario(name="app", spec={"name": "app", "image": "registry.example.com/app:1"},
                                  behavior=behavior, cause="app_crash")
    pod = PodScenario(namespace="default", owner=Owner(kind="Deployment", name="slow-crasher", hash="6d8f7c9b5"),
                      node="sw-infrarunbook-02", containers=(container,))
    return Scenario(name="slow-crasher", cause="app_crash", description="crashes after 700 s", pods=(pod,))


def test_back_off_is_forgotten_after_ten_minutes_of_running() -> None:
    """A container that ran longer than 10 min before crashing restarts at once: its back-off was reset."""
    cluster = SimCluster([_long_runner()])
    cluster.pause()
    cluster.advance(3000)
    (name,) = [p.name for p in cluster.lifecycle.pods.values()]
    history = _history(cluster, ("default", name))
    assert history[-1]["status"]["containerStatuses"][0]["restartCount"] == 4
    assert _waiting_messages(history) == []


async def test_restarts_follow_back_off_on_the_real_clock(make_sim: MakeSim) -> None:
    """At time_scale 200 the running sim crash-loops by itself with the same back-off sequence."""
    sim = await make_sim(["payment-service"], paused=False, time_scale=200)
    for _ in range(200):
        pod = sim.cluster.pod_json(*PAYMENT)
        if pod and pod["status"]["containerStatuses"][0]["restartCount"] >= 3:
            break
        await asyncio.sleep(0.05)
    prefixes = [m.split(" restarting")[0] for m in _waiting_messages(_history(sim.cluster, PAYMENT))]
    assert prefixes[:2] == ["back-off 10s", "back-off 20s"]


async def test_paused_cluster_does_not_change(make_sim: MakeSim) -> None:
    """pause() freezes the lifecycle clock: no write happens however long the wait."""
    sim = await make_sim(["payment-service"], paused=False, time_scale=1000)
    sim.cluster.pause()
    rv, frozen = sim.cluster.store.rv, sim.cluster.clock.now()
    sched = sim.cluster.lifecycle.scheduler
    assert sched.next_due() is not None, "a transition must be pending, or the pause proves nothing"
    # Wake the lifecycle's timer task and wait (bounded) until it has run its loop once more:
    # it must find nothing to do on the frozen clock.
    sched.wake()
    for _ in range(200):
        if not sched._wake.is_set():
            break
        await asyncio.sleep(0.005)
    assert not sched._wake.is_set(), "the lifecycle task never ran"
    assert (sim.cluster.store.rv, sim.cluster.clock.now()) == (rv, frozen)
    sim.cluster.resume()
    for _ in range(200):
        if sim.cluster.store.rv > rv:
            break
        await asyncio.sleep(0.01)
    assert sim.cluster.store.rv > rv, "resume() did not restart the lifecycle"


def test_init_container_crash_loop_shape() -> None:
    """A failing init container: Init:CrashLoopBackOff shape, app container waiting PodInitializing,
    Initialized=False naming the init container, phase Pending."""
    cluster = SimCluster(["init-container-failed"])
    cluster.pause()
    cluster.advance(10)
    pod = cluster.pod_json("production", "profile-api-7c9d8b6f5-wn4tq")
    assert pod is not None
    st = pod["status"]
    assert st["phase"] == "Pending"
    init = st["initContainerStatuses"][0]
    assert init["name"] == "init-migrate" and init["state"]["waiting"]["reason"] == "CrashLoopBackOff"
    assert init["lastState"]["terminated"]["exitCode"] == 1
    assert st["containerStatuses"][0]["state"] == {"waiting": {"reason": "PodInitializing"}}
    initialized = next(c for c in st["conditions"] if c["type"] == "Initialized")
    assert initialized["status"] == "False" and initialized["reason"] == "ContainersNotInitialized"
    assert initialized["message"] == "containers with incomplete status: [init-migrate]"
    backoff = _events(cluster, "profile-api-7c9d8b6f5-wn4tq", "BackOff")
    assert backoff[0]["involvedObject"]["fieldPath"] == "spec.initContainers{init-migrate}"
    assert cluster.stats_json()["restarts"]["by_series"][0]["container_type"] == "init"


def test_image_pull_alternates_and_counts_one_episode() -> None:
    """ErrImagePull and ImagePullBackOff alternate with the runtime's NotFound message; one failed-start
    episode is counted, and no restart."""
    cluster = SimCluster(["image-pull"])
    cluster.pause()
    cluster.advance(120)
    key = ("production", "web-frontend-6b8f7c9d4-q7w2x")
    reasons = [p["status"]["containerStatuses"][0]["state"]["waiting"]["reason"] for p in _history(cluster, key)
               if "waiting" in p["status"]["containerStatuses"][0]["state"]]
    assert reasons.count("ErrImagePull") >= 3 and reasons.count("ImagePullBackOff") >= 3
    failed = [e["message"] for e in _events(cluster, key[1], "Failed")]
    assert any(m.startswith('Failed to pull image "registry.example.com/web/frontend:v2.3.1-rc": rpc error: '
                            "code = NotFound") for m in failed)
    assert "Error: ImagePullBackOff" in failed
    stats = cluster.stats_json()
    assert stats["failed_starts"]["by_cause"] == {"image_pull": 1} and stats["restarts"]["total"] == 0


def test_config_error_repeats_its_event_without_restarting() -> None:
    """CreateContainerConfigError: Pending, restartCount 0, the Failed event's count grows with retries."""
    cluster = SimCluster(["missing-secret-key"])
    cluster.pause()
    cluster.advance(100)
    pod = cluster.pod_json("production", "billing-api-6c8d7f5b9-t8wq2")
    assert pod is not None
    cs = pod["status"]["containerStatuses"][0]
    assert cs["state"]["waiting"] == {
        "reason": "CreateContainerConfigError",
        "message": "couldn't find key DB_PASSWORD in Secret production/api-db-credentials",
    }
    assert cs["restartCount"] == 0 and pod["status"]["phase"] == "Pending"
    (failed,) = _events(cluster, "billing-api-6c8d7f5b9-t8wq2", "Failed")
    assert failed["message"] == "Error: couldn't find key DB_PASSWORD in Secret production/api-db-credentials"
    assert failed["count"] >= 6
    assert cluster.stats_json()["failed_starts"]["total"] == 1


def test_eviction_under_memory_pressure() -> None:
    """The evicted pod is Failed/Evicted with the kubelet's message, on the node under MemoryPressure."""
    cluster = SimCluster(["node-pressure"])
    cluster.pause()
    cluster.advance(30)
    pod = cluster.pod_json("production", "analytics-ingest-6b9d8c7f5-k4rxs")
    assert pod is not None
    st = pod["status"]
    assert st["phase"] == "Failed" and st["reason"] == "Evicted"
    assert st["message"].startswith("The node was low on resource: memory. Threshold quantity: 100Mi")
    assert any(c["type"] == "DisruptionTarget" and c["status"] == "True" for c in st["conditions"])
    node = cluster.store["nodes"].get(("", "sw-infrarunbook-01"))
    assert node is not None
    conditions = {c["type"]: c["status"] for c in node.to_dict()["status"]["conditions"]}
    assert conditions["MemoryPressure"] == "True" and conditions["Ready"] == "True"
    assert cluster.stats_json()["evictions"]["by_cause"] == {"node_pressure": 1}


def test_start_error_has_the_runtime_message_and_epoch_start() -> None:
    """StartError: exit 128, startedAt 1970-01-01, the OCI runtime's exec message; then CrashLoopBackOff."""
    cluster = SimCluster(["start-error"])
    cluster.pause()
    cluster.advance(10)
    pod = cluster.pod_json("production", "media-transcoder-7c5d9b8f4-z8kqn")
    assert pod is not None
    cs = pod["status"]["containerStatuses"][0]
    last = cs["lastState"]["terminated"]
    assert last["reason"] == "StartError" and last["exitCode"] == 128
    assert last["startedAt"] == "1970-01-01T00:00:00Z"
    assert 'exec: "/app/server": stat /app/server: no such file or directory' in last["message"]
    assert cs["state"]["waiting"]["reason"] == "CrashLoopBackOff"
    assert not _events(cluster, "media-transcoder-7c5d9b8f4-z8kqn", "Started")


def test_probe_kills_and_readiness_only() -> None:
    """Liveness: three Unhealthy failures then Killing, exit 137. Readiness alone: never restarted."""
    cluster = SimCluster(["liveness-probe", "readiness-only", "oomkilled"])
    cluster.pause()
    cluster.advance(26.5)  # started at 1 s, killed at 26 s, restarted at 27 s
    pod = "checkout-api-6d5f8b7c4-lq9mz"
    unhealthy = {e["message"]: e["count"] for e in _events(cluster, pod, "Unhealthy")}
    assert unhealthy["Liveness probe failed: HTTP probe failed with statuscode: 404"] == 3
    (killing,) = _events(cluster, pod, "Killing")
    assert killing["message"] == "Container api failed liveness probe, will be restarted"
    cs = cluster.pod_json("production", pod)["status"]["containerStatuses"][0]  # type: ignore[index]
    assert cs["state"]["terminated"]["exitCode"] == 137 and cs["state"]["terminated"]["reason"] == "Error"
    cluster.advance(60)
    ready_only = cluster.pod_json("production", "catalog-api-7b9c8d6f5-c3mzp")
    assert ready_only is not None
    cs = ready_only["status"]["containerStatuses"][0]
    assert cs["restartCount"] == 0 and cs["ready"] is False and "running" in cs["state"]
    (readiness,) = _events(cluster, "catalog-api-7b9c8d6f5-c3mzp", "Unhealthy")
    assert readiness["count"] >= 5
    oom = cluster.pod_json("production", "image-resizer-5d8c7b9f6-p3vtx")
    assert oom is not None
    last = oom["status"]["containerStatuses"][0]["lastState"]["terminated"]
    assert last["reason"] == "OOMKilled" and last["exitCode"] == 137
    assert any("connect: connection refused" in e["message"]
               for e in _events(cluster, "image-resizer-5d8c7b9f6-p3vtx", "Unhealthy"))


async def test_delete_pod_recreates_like_the_controller(sim: Sim) -> None:
    """A deleted Deployment pod gets a replacement with a new name and uid that starts from scratch;
    a StatefulSet pod keeps its name."""
    old = sim.cluster.pod_json(*PAYMENT)
    assert old is not None
    new_name = sim.cluster.delete_pod(*PAYMENT, recreate=True)
    assert new_name and new_name != PAYMENT[1] and new_name.startswith("payment-service-7d9f4b8c6-")
    new = sim.cluster.pod_json("production", new_name)
    assert new is not None and new["metadata"]["uid"] != old["metadata"]["uid"]
    assert sim.cluster.pod_json(*PAYMENT) is None
    assert sim.cluster.delete_pod("production", "ledger-sync-0", recreate=True) == "ledger-sync-0"
    assert sim.cluster.delete_pod("default", "debug-shell", recreate=True) is None
    async with sim.http.delete(sim.url + "/api/v1/namespaces/production/pods/postgres-0") as r:
        body = await r.json()
        assert r.status == 200 and body["metadata"]["deletionTimestamp"]


def test_stats_series_match_the_exporters_workload_resolution() -> None:
    """Every booked series uses the workload the exporter resolves from the pod's ownerReferences."""
    cluster = SimCluster()
    cluster.pause()
    cluster.advance(60)
    stats = cluster.stats_json()
    series = stats["restarts"]["by_series"] + stats["failed_starts"]["by_series"]
    assert len({s["cause"] for s in series}) >= 15
    by_pod = {(e["namespace"], e["pod"]): e for e in cluster.expectations()}
    for (ns, name), expected in by_pod.items():
        pod = cluster.pod_json(ns, name)
        assert pod is not None
        rec = parse_pod(pod)
        assert (rec.workload_kind, rec.workload) == (expected["workload_kind"], expected["workload"])
    workloads = {(s["workload_kind"], s["workload"]) for s in series}
    assert {("CronJob", "invoice-export"), ("StatefulSet", "search-indexer"), ("DaemonSet", "node-agent"),
            ("Pod", "debug-shell"), ("Deployment", "payment-service")} <= workloads


def test_each_death_plays_the_kubelets_order_and_is_booked_at_the_exit() -> None:
    """terminated with restartCount n (lastState the run before), then CrashLoopBackOff with
    restartCount n and lastState = the dead run, then running with n + 1; a death is booked when
    the run exits, so the deaths equal the status's dead runs at every moment, not its restarts."""
    cluster = SimCluster(["payment-service"])
    cluster.pause()
    cluster.advance(700)
    seen: list[tuple[str, int, str]] = []
    for pod in _history(cluster, PAYMENT):
        for cs in pod["status"].get("containerStatuses", []):
            state = next(iter(cs["state"]))
            last = cs.get("lastState", {}).get("terminated", {}).get("containerID", "")
            step = (state, cs["restartCount"], last)
            if not seen or seen[-1] != step:
                seen.append(step)
    deaths = [i for i, s in enumerate(seen) if s[0] == "terminated"]
    assert len(deaths) >= 5, seen
    for i in deaths[1:-1]:
        (_, n, before), (wait, n2, dead), (run, n3, dead2) = seen[i], seen[i + 1], seen[i + 2]
        assert (wait, n2, run, n3) == ("waiting", n, "running", n + 1), seen[i : i + 3]
        assert dead == dead2 != before, seen[i : i + 3]
    status = cluster.pod_json(*PAYMENT)["status"]["containerStatuses"][0]  # type: ignore[index]
    dead_now = status["restartCount"] + ("running" not in status["state"])
    stats = cluster.stats_json()
    assert stats["deaths"]["total"] == dead_now, (stats["deaths"], status)
    log = stats["recent_deaths"]
    assert [d["run"] for d in log] == list(range(1, dead_now + 1))
    assert [d["backoff"] for d in log[:4]] == [0.0, 10.0, 20.0, 40.0]


def test_in_the_terminated_window_the_dead_run_is_the_current_log() -> None:
    """While state.terminated (before the back-off), the current log is the run that just died and
    previous=true is the run before it, as the kubelet serves them (it reads state.terminated's
    containerID for the current log, lastState's for the previous one)."""
    cluster = SimCluster(["payment-service"])
    cluster.pause()
    cluster.advance(2.5)  # the first run just died: terminated, no lastState yet
    status = cluster.pod_json(*PAYMENT)["status"]["containerStatuses"][0]  # type: ignore[index]
    assert "terminated" in status["state"] and not status["lastState"]
    args: dict[str, Any] = {"container": "payment-service", "tail_lines": None, "limit_bytes": None,
                            "timestamps": False}
    current = cluster.container_log(*PAYMENT, previous=False, **args)
    assert current.strip(), "the dead run's log"
    with pytest.raises(SimRequestError, match="previous terminated container"):
        cluster.container_log(*PAYMENT, previous=True, **args)
    cluster.advance(1)  # restarted: the dead run is now lastState, served as the previous log
    assert cluster.container_log(*PAYMENT, previous=True, **args) == current
