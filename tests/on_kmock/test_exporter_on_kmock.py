"""The real exporter against kmock: list + watch + previous-log, on a fake we did not write.

Our simulator (crashloop_exporter.sim) grew up next to the exporter, so the two can share blind
spots. kmock is an independent Kubernetes API fake (PyPI `kmock`, by the kopf author) and it is
used here the way it is meant to be used: as the `kmock` pytest fixture, in its two flavours.

- KubernetesEmulator (the fixture's default): a stateful in-memory API. Objects are put into
  `kmock.objects`, LIST and WATCH are answered from them, and a PATCH through kmock's own client
  is broadcast to open watches as MODIFIED. Its quirks are the point: the LIST resourceVersion is
  the literal string "...", and every WATCH starts by replaying all objects as ADDED, whatever
  resourceVersion was asked for.
- KubernetesScaffold: stateless; every answer is scripted with kmock's DSL (`kmock[criteria] <<
  payload`). That is where pagination (`continue`), a live watch stream fed event by event, a
  BOOKMARK, a server-side end of the stream and a 410 ERROR event are expressed, so resuming from
  the last seen resourceVersion, and relisting after a 410, can be checked on the requests kmock
  recorded.

Every test serves one pod crash-looping (restartCount 2 at the first LIST: a baseline, never
counted), one healthy pod, one node, no events, and the previous log that makes the cause
bad_config; then restarts arrive through the watch (or, after the 410, through the relist) and
must be counted exactly once each.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

# The PyPI package, not this directory (tests.kmock); ruff files it as first-party by name only.
from kmock import (
    KubernetesEmulator,
    KubernetesScaffold,
    Request,
    ResourceInfo,
    View,
    action,
    params,
    resource,
    subresource,
)

from tests.support.metrics import Samples

from .conftest import (
    CRASHING_POD,
    HEALTHY_POD,
    NAMESPACE,
    NODE,
    PREVIOUS_LOG,
    LaunchExporter,
    RunningExporter,
    crashing_pod,
    healthy_pod,
    node,
    select,
    wait_for,
)

CRASH_SERIES = {
    "namespace": NAMESPACE,
    "workload_kind": "Deployment",
    "workload": "api",
    "container": "api",
    "cause": "bad_config",
}


async def _wait_ready(exporter: RunningExporter) -> None:
    async def ready() -> bool:
        exporter.assert_running()
        status, _ = await exporter.get("/readyz")
        return status == 200

    await wait_for(ready, what="/readyz to answer 200", details=exporter.log)


async def _settle(exporter: RunningExporter, *, log_fetches: int, crashes: float) -> Samples:
    """Metrics once `log_fetches` previous logs were read, none is pending and the crash total is
    `crashes` (asserted exact afterwards, so a double count fails instead of passing the wait)."""
    seen: list[Samples] = []

    async def settled() -> bool:
        exporter.assert_running()
        m = await exporter.metrics()
        seen.append(m)
        return (
            sum(select(m, "crashloop_exporter_log_fetches_total", result="ok")) >= log_fetches
            and sum(select(m, "crashloop_exporter_crashes_pending_logs")) == 0
            and sum(select(m, "crashloop_crashes_total")) >= crashes
        )

    def details() -> str:
        last = seen[-1] if seen else {}
        interesting = ("crashloop_crashes_total", "crashloop_exporter_log_fetches_total",
                       "crashloop_exporter_crashes_pending_logs")
        return f"last scrape: { {k: v for k, v in last.items() if k in interesting} }\n{exporter.log()}"

    await wait_for(settled, what=f"{log_fetches} log fetches and {crashes:g} counted crashes", details=details)
    return seen[-1]


async def _pod_findings(exporter: RunningExporter, pod: str) -> list[dict[str, Any]]:
    return [f for f in await exporter.causes() if f["namespace"] == NAMESPACE and f["pod"] == pod]


async def _assert_baseline(exporter: RunningExporter) -> None:
    """After the first LIST: the crash-looping pod is explained by its log, nothing is counted."""
    metrics = await _settle(exporter, log_fetches=1, crashes=0)
    assert sum(select(metrics, "crashloop_crashes_total")) == 0, "restarts before the first LIST were counted"
    findings = await _pod_findings(exporter, CRASHING_POD)
    assert [(f["container"], f["cause"], f["failing"], f["restarts"]) for f in findings] == [
        ("api", "bad_config", True, 2)
    ], findings


async def _assert_restart_counted(exporter: RunningExporter) -> Samples:
    """After the watched restart: exactly one crash, under the log's cause, and the pod failing."""
    metrics = await _settle(exporter, log_fetches=2, crashes=1)
    counted = select(metrics, "crashloop_crashes_total", **CRASH_SERIES)
    assert counted == [1.0], f"crashes_total{CRASH_SERIES} = {counted}"
    all_crashes = [(lbl, v) for lbl, v in metrics["crashloop_crashes_total"] if v]
    assert len(all_crashes) == 1, f"crashes counted elsewhere too: {all_crashes}"
    assert select(
        metrics, "crashloop_container_failing", namespace=NAMESPACE, pod=CRASHING_POD, container="api",
        workload_kind="Deployment", workload="api", cause="bad_config", reason="CrashLoopBackOff",
    ) == [1.0]
    assert select(metrics, "crashloop_container_failing", pod=HEALTHY_POD) == []
    assert select(metrics, "crashloop_container_last_exit_code", pod=CRASHING_POD, container="api") == [1.0]

    findings = await _pod_findings(exporter, CRASHING_POD)
    assert len(findings) == 1, findings
    f = findings[0]
    assert (f["cause"], f["failing"], f["restarts"], f["workload_kind"], f["workload"]) == (
        "bad_config", True, 3, "Deployment", "api"
    ), f
    assert any(e["source"] == "log" and "DATABASE_URL" in e["detail"] for e in f["evidence"]), f["evidence"]
    assert await _pod_findings(exporter, HEALTHY_POD) == []
    return metrics


def _assert_log_requests(requests: list[Request]) -> None:
    """One previous-log read per restartCount seen (2 at first sight, 3 after the watch)."""
    assert len(requests) == 2, [str(r.url) for r in requests]
    for r in requests:
        assert (r.namespace, r.name, r.subresource) == (NAMESPACE, CRASHING_POD, "log"), r.url
        assert r.params.get("previous") == "true", r.url
        assert r.params.get("container") == "api", r.url
        assert int(r.params["tailLines"]) > 0 and int(r.params["limitBytes"]) > 0, r.url
        assert r.headers.get("Authorization") == "Bearer kmock-test-token", r.headers


async def test_emulator_watch_modified_counts_one_crash_under_log_cause(
    kmock: KubernetesEmulator, launch_exporter: LaunchExporter
) -> None:
    """On kmock's stateful emulator, a PATCHed restartCount reaches the exporter as a watch MODIFIED
    and is counted once as bad_config; restarts from before the LIST are a baseline."""
    kmock.objects["v1/pods", NAMESPACE, CRASHING_POD] = crashing_pod(restart_count=2, resource_version="100")
    kmock.objects["v1/pods", NAMESPACE, HEALTHY_POD] = healthy_pod()
    kmock.objects["v1/nodes", None, NODE] = node()
    # No events at all, but the resource must be known, or kmock answers its LIST with 404.
    kmock.resources["v1/events"] = ResourceInfo(kind="Event", namespaced=True)
    logs = kmock["get", resource("v1/pods"), subresource("log")] << PREVIOUS_LOG

    exporter = await launch_exporter()
    await _wait_ready(exporter)
    await _assert_baseline(exporter)

    # kmock replays every pod as ADDED when a watch connects; both replays arriving means the pods
    # watch is subscribed, so the PATCH below is delivered on it (not folded into a relist).
    async def pods_watched() -> bool:
        m = await exporter.metrics()
        return sum(select(m, "crashloop_exporter_watch_events_total", resource="pods", type="ADDED")) >= 2

    await wait_for(pods_watched, what="the pods watch to replay kmock's objects", details=exporter.log)

    restarted = crashing_pod(restart_count=3, resource_version="101")
    async with kmock.patch(
        f"/api/v1/namespaces/{NAMESPACE}/pods/{CRASHING_POD}",
        json={"metadata": restarted["metadata"], "status": restarted["status"]},
    ) as resp:
        assert resp.status == 200, await resp.text()

    metrics = await _assert_restart_counted(exporter)
    assert sum(select(metrics, "crashloop_exporter_watch_events_total", resource="pods", type="MODIFIED")) == 1
    _assert_log_requests(list(logs))
    watches = list(kmock[action.WATCH, resource("v1/pods")])
    assert watches and all(w.params.get("allowWatchBookmarks") == "true" for w in watches), watches
    assert kmock.errors == [], kmock.errors


def _script_quiet_resources(kmock: KubernetesScaffold) -> View:
    """Events (none) and nodes (one) as scripted LISTs, with watches that stay open and silent;
    returns the events LIST reaction (its requests carry the exporter's fieldSelector)."""
    list_, watch = action.LIST, action.WATCH
    events, nodes = resource("v1/events"), resource("v1/nodes")
    events_list = kmock[list_, events] << {
        "apiVersion": "v1", "kind": "EventList", "metadata": {"resourceVersion": "1000"}, "items": [],
    }
    kmock[list_, nodes] << {
        "apiVersion": "v1", "kind": "NodeList", "metadata": {"resourceVersion": "1000"}, "items": [node()],
    }
    # b"" sends the headers at once (a real API server does too); `...` holds the stream open
    # until something is fed into it, which for these two never happens.
    kmock[watch, events] << (b"", ...)
    kmock[watch, nodes] << (b"", ...)
    return events_list


async def _wait_streaming(exporter: RunningExporter, watch: View, *, count: int) -> None:
    """Until `count` requests of `watch` were made and one of them is blocked at its feeding point
    (kmock only delivers fed items to streams already waiting there)."""

    async def streaming() -> bool:
        exporter.assert_running()
        return len(list(watch)) >= count and len(watch[...]) >= 1

    await wait_for(streaming, what=f"pods watch request #{count} to be open", details=exporter.log)


@pytest.mark.kmock(cls=KubernetesScaffold)
async def test_scripted_pages_watch_stream_and_resume(
    kmock: KubernetesScaffold, launch_exporter: LaunchExporter
) -> None:
    """Against scripted kmock answers: a 2-page pod LIST is followed via `continue`, the watch starts
    at the LIST's resourceVersion, a streamed MODIFIED is counted once as bad_config, and after the
    server ends the stream the exporter watches again from the last resourceVersion it saw."""
    pods = resource("v1/pods")
    list_, watch = action.LIST, action.WATCH
    # Reactions are tried in the order they are declared: the `continue` page before the first one.
    pods_page2 = kmock[list_, pods, params({"continue": "pods-page-2"})] << {
        "apiVersion": "v1", "kind": "PodList",
        "metadata": {"resourceVersion": "1000"},
        "items": [healthy_pod()],
    }
    pods_page1 = kmock[list_, pods] << {
        "apiVersion": "v1", "kind": "PodList",
        "metadata": {"resourceVersion": "1000", "continue": "pods-page-2", "remainingItemCount": 1},
        "items": [crashing_pod(restart_count=2, resource_version="990")],
    }
    pod_watch = kmock[watch, pods] << (b"", ...)
    events_list = _script_quiet_resources(kmock)
    logs = kmock["get", pods, subresource("log")] << PREVIOUS_LOG

    exporter = await launch_exporter()
    await _wait_ready(exporter)
    await _assert_baseline(exporter)

    await _wait_streaming(exporter, pod_watch, count=1)
    bookmark = {"type": "BOOKMARK", "object": {"apiVersion": "v1", "kind": "Pod",
                                               "metadata": {"resourceVersion": "1005"}}}
    modified = {"type": "MODIFIED", "object": crashing_pod(restart_count=3, resource_version="1010")}
    # No trailing `...`: after these two events kmock ends the response, as timeoutSeconds would.
    pod_watch[...] << bookmark << modified

    metrics = await _assert_restart_counted(exporter)
    assert sum(select(metrics, "crashloop_exporter_watch_events_total", resource="pods", type="MODIFIED")) == 1
    assert sum(select(metrics, "crashloop_exporter_watch_events_total", resource="pods", type="BOOKMARK")) == 1
    _assert_log_requests(list(logs))

    await _wait_streaming(exporter, pod_watch, count=2)
    first, second = list(pod_watch)[:2]
    assert first.params.get("resourceVersion") == "1000", first.url  # where the LIST left off
    assert second.params.get("resourceVersion") == "1010", second.url  # the last event seen
    for w in (first, second):
        assert (w.params.get("watch"), w.params.get("allowWatchBookmarks")) == ("true", "true"), w.url
        assert int(w.params["timeoutSeconds"]) > 0, w.url
    assert len(list(pods_page1)) == 1, "a clean end of the watch must not cause a relist"

    (page1,) = list(pods_page1)
    (page2,) = list(pods_page2)
    assert "continue" not in page1.params and page1.params.get("limit"), page1.url
    assert page2.params.get("limit") == page1.params.get("limit"), page2.url
    (event_list_request,) = list(events_list)
    assert event_list_request.params.get("fieldSelector") == "involvedObject.kind=Pod", event_list_request.url
    assert kmock.errors == [], kmock.errors


@dataclass
class _Cluster:
    """What the scripted pod LIST answers right now (a callable payload reads it per request)."""

    restarts: int
    resource_version: str


@pytest.mark.kmock(cls=KubernetesScaffold)
async def test_scripted_410_gone_relists_and_counts_restarts_of_the_gap(
    kmock: KubernetesScaffold, launch_exporter: LaunchExporter
) -> None:
    """A watch ERROR 410 (resourceVersion expired) makes the exporter LIST again and watch from the
    new LIST's resourceVersion; the two restarts that happened in the gap are counted, as bad_config."""
    pods = resource("v1/pods")
    list_, watch = action.LIST, action.WATCH
    cluster = _Cluster(restarts=2, resource_version="1000")

    def pod_list() -> dict[str, Any]:
        pod = crashing_pod(restart_count=cluster.restarts, resource_version=cluster.resource_version)
        return {"apiVersion": "v1", "kind": "PodList", "metadata": {"resourceVersion": cluster.resource_version},
                "items": [pod, healthy_pod()]}

    pods_list = kmock[list_, pods] << pod_list
    pod_watch = kmock[watch, pods] << (b"", ...)
    _script_quiet_resources(kmock)
    logs = kmock["get", pods, subresource("log")] << PREVIOUS_LOG

    exporter = await launch_exporter()
    await _wait_ready(exporter)
    await _assert_baseline(exporter)

    await _wait_streaming(exporter, pod_watch, count=1)
    cluster.restarts, cluster.resource_version = 4, "2000"  # two crashes only a relist can reveal
    gone = {"type": "ERROR", "object": {"apiVersion": "v1", "kind": "Status", "status": "Failure", "code": 410,
                                        "reason": "Expired", "message": "too old resource version: 1000 (1500)"}}
    pod_watch[...] << gone

    metrics = await _settle(exporter, log_fetches=2, crashes=2)
    assert select(metrics, "crashloop_crashes_total", **CRASH_SERIES) == [2.0]
    assert sum(select(metrics, "crashloop_crashes_total")) == 2
    assert select(metrics, "crashloop_exporter_watch_restarts_total", resource="pods", reason="gone") == [1.0]
    findings = await _pod_findings(exporter, CRASHING_POD)
    assert [(f["cause"], f["restarts"]) for f in findings] == [("bad_config", 4)], findings
    assert len(list(logs)) == 2 and all(r.params.get("previous") == "true" for r in logs), list(logs)

    await _wait_streaming(exporter, pod_watch, count=2)
    assert len(list(pods_list)) == 2, "the 410 did not cause exactly one relist"
    assert [w.params.get("resourceVersion") for w in list(pod_watch)[:2]] == ["1000", "2000"]
    assert kmock.errors == [], kmock.errors
