"""ClusterState counting rules: baselines, deltas across gaps, episodes, hold-back, logs, deletes."""

from __future__ import annotations

from crashloop_exporter.state.cluster import LOG_WAIT_SECONDS
from crashloop_exporter.state.shard import fnv64a, owns
from tests.support.clusterstate import T0, counts, initial_list, make_state

from .podgen import crashing, pod


def test_restarts_seen_at_first_sight_are_a_baseline() -> None:
    """A pod that already restarted 7 times before we started counts nothing until it restarts again."""
    state, _, _ = make_state()
    initial_list(state, crashing("api-1", 7, exit_code=137, reason="OOMKilled"))
    assert counts(state) == {}
    state.event("pods", "MODIFIED", crashing("api-1", 8, exit_code=137, reason="OOMKilled"))
    assert counts(state) == {("api", "oomkilled"): 1.0}


def test_gap_restarts_are_counted_from_the_restart_count_delta() -> None:
    """Three restarts that happened during a watch gap are all counted after the relist."""
    state, _, _ = make_state()
    initial_list(state, crashing("api-1", 2, exit_code=139))
    initial_list(state, crashing("api-1", 5, exit_code=139))
    assert counts(state) == {("api", "segfault"): 3.0}


def test_pod_deleted_during_gap_is_reconciled_but_its_crashes_stay_counted() -> None:
    """Relist drops vanished pods (their failing series go) while crashes_total keeps their crashes."""
    state, _, _ = make_state()
    initial_list(state, crashing("api-1", 1), crashing("api-2", 1))
    state.event("pods", "MODIFIED", crashing("api-1", 2))
    initial_list(state, crashing("api-2", 1))
    assert set(state.pods) == {"uid-api-2"}
    assert all(f.pod == "api-2" for f in state.all_findings())
    assert counts(state) == {("api", "app_crash"): 1.0}


def test_new_series_is_held_back_at_zero() -> None:
    """The first crash of a new series is exposed as 0 for the hold-back period, then as 1."""
    state, clock, _ = make_state(holdback=30.0)
    initial_list(state, crashing("api-1", 1))
    state.event("pods", "MODIFIED", crashing("api-1", 2))
    assert counts(state) == {("api", "app_crash"): 0.0}
    state.event("pods", "MODIFIED", crashing("api-1", 3))
    clock.t += 29
    assert counts(state) == {("api", "app_crash"): 0.0}
    clock.t += 2
    assert counts(state) == {("api", "app_crash"): 2.0}
    state.event("pods", "MODIFIED", crashing("api-1", 4))
    assert counts(state) == {("api", "app_crash"): 3.0}


def test_failed_start_episode_counts_once() -> None:
    """CreateContainerConfigError repeated on every sync is one crash, and a new episode is another."""
    state, _, _ = make_state()
    initial_list(state, pod("api-1", ready=True))
    bad = pod("api-1", waiting=("CreateContainerConfigError", 'secret "db" not found'))
    for _ in range(3):
        state.event("pods", "MODIFIED", bad)
    assert counts(state) == {("api", "missing_secret"): 1.0}
    state.event("pods", "MODIFIED", pod("api-1", ready=True))
    state.event("pods", "MODIFIED", bad)
    assert counts(state) == {("api", "missing_secret"): 2.0}


def test_image_pull_backoff_cycle_is_one_episode() -> None:
    """ErrImagePull and ImagePullBackOff alternate within one failed start."""
    state, _, _ = make_state()
    initial_list(state, pod("api-1", ready=True))
    for reason in ("ErrImagePull", "ImagePullBackOff", "ErrImagePull", "ImagePullBackOff"):
        state.event("pods", "MODIFIED", pod("api-1", waiting=(reason, 'Back-off pulling image "api:2"')))
    assert counts(state) == {("api", "image_pull"): 1.0}


def test_ongoing_episode_at_first_sight_is_baseline() -> None:
    """A pod already stuck in ImagePullBackOff when we start is failing but not a new crash."""
    state, _, _ = make_state()
    initial_list(state, pod("api-1", waiting=("ImagePullBackOff", "Back-off pulling image")))
    assert counts(state) == {}
    [f] = state.all_findings()
    assert f.failing and f.cause == "image_pull"


def test_pod_created_after_start_counts_from_zero() -> None:
    """A pod first seen after the initial list, created after we started, counts all its dead runs:
    two restarted ones and the one waiting in back-off."""
    state, clock, _ = make_state()
    initial_list(state)
    clock.t += 100
    state.event("pods", "ADDED", crashing("api-9", 2, created="2024-01-01T00:11:00Z"))
    assert counts(state) == {("api", "app_crash"): 3.0}


def test_crash_waits_for_logs_then_counts_under_the_log_cause() -> None:
    """With logs on, the crash is attributed to the cause the previous log reveals."""
    state, _, requests = make_state(logs=True)
    initial_list(state, crashing("api-1", 1))
    assert len(requests) == 1  # first sight of a failing container: classify it with its log too
    assert requests[0].node == "node-1"  # its kubelet serves the log: the fetcher limits per node
    state.apply_logs(requests[0], "boom")
    state.event("pods", "MODIFIED", crashing("api-1", 2))
    assert [r.restart_count for r in requests] == [1, 2]
    assert counts(state) == {}
    state.apply_logs(requests[1], "panic: DATABASE_URL environment variable is not set\n\ngoroutine 1 [running]:\n")
    assert counts(state) == {("api", "bad_config"): 1.0}
    # A later status-only update of the same run keeps what the log said.
    state.event("pods", "MODIFIED", crashing("api-1", 2))
    [f] = state.all_findings()
    assert f.cause == "bad_config"
    assert len(requests) == 2, "logs are fetched once per restart"


def test_crash_is_never_lost_when_logs_do_not_come() -> None:
    """A fetch that never answers is flushed with the status cause after the wait."""
    state, clock, _requests = make_state(logs=True)
    initial_list(state, crashing("api-1", 1))
    state.event("pods", "MODIFIED", crashing("api-1", 2))
    clock.t += LOG_WAIT_SECONDS + 1
    state.tick()
    assert counts(state) == {("api", "app_crash"): 1.0}
    assert state.pending_crashes == 0


def test_deleting_a_pod_keeps_its_pending_crash_for_the_log() -> None:
    """A pod deleted while its log is in flight: the log's answer still decides the crash's cause."""
    state, _, requests = make_state(logs=True)
    initial_list(state, crashing("api-1", 1))
    state.event("pods", "MODIFIED", crashing("api-1", 2))
    state.event("pods", "DELETED", crashing("api-1", 2))
    assert state.findings == {} and counts(state) == {}
    state.apply_logs(requests[-1], "panic: DATABASE_URL environment variable is not set\n")
    assert counts(state) == {("api", "bad_config"): 1.0}


def test_deleted_pod_without_log_answer_is_flushed_with_the_previous_verdict() -> None:
    """No answer for a deleted pod: after the wait, the previous run's log verdict names the cause."""
    state, clock, requests = make_state(logs=True)
    initial_list(state, crashing("api-1", 1))
    state.apply_logs(requests[0], "panic: DATABASE_URL environment variable is not set\n")
    state.event("pods", "MODIFIED", crashing("api-1", 2))
    state.event("pods", "DELETED", crashing("api-1", 2))
    clock.t += LOG_WAIT_SECONDS + 1
    state.tick()
    assert counts(state) == {("api", "bad_config"): 1.0}


def test_recovered_container_leaves_the_failing_set() -> None:
    """Running again 10 minutes after its last crash: no failing finding, the past cause kept with
    failing=False; ready a few seconds after the crash, it is still in the loop (SPEC)."""
    state, clock, _ = make_state()
    initial_list(state, crashing("api-1", 3, exit_code=137, reason="OOMKilled"))
    recovered = pod("api-1", restarts=3, ready=True, last_exit=(137, "OOMKilled"), finished="2024-01-01T00:09:59Z")
    clock.t = T0 + 30
    state.event("pods", "MODIFIED", recovered)
    [f] = state.all_findings()
    assert f.failing and f.cause == "oomkilled", f
    clock.t = T0 + 601
    state.event("pods", "MODIFIED", recovered)
    [f] = state.all_findings()
    assert not f.failing and f.cause == "oomkilled", f


def test_malformed_objects_are_counted_and_skipped() -> None:
    """Garbage in a watch event is a counted skip, not an exception, and other pods still work."""
    state, _, _ = make_state()
    initial_list(state, crashing("api-1", 1))
    bad = crashing("api-2", 1)
    bad["status"]["containerStatuses"][0]["restartCount"] = "many"
    state.event("pods", "MODIFIED", bad)
    state.event("pods", "MODIFIED", {"metadata": "nope"})
    state.event("pods", "MODIFIED", crashing("api-1", 2))
    assert state.skipped[("pods", "malformed")] == 2
    assert counts(state) == {("api", "app_crash"): 1.0}


def test_shards_partition_pods_by_uid_hash() -> None:
    """Every pod belongs to exactly one of N shards (FNV-64a of the UID then jump hash, like kube-state-metrics)."""
    uids = [f"uid-{i}" for i in range(200)]
    owners = [[s for s in range(3) if owns(u, shard=s, total_shards=3)] for u in uids]
    assert all(len(o) == 1 for o in owners)
    assert {o[0] for o in owners} == {0, 1, 2}
    assert fnv64a(b"") == 0xCBF29CE484222325
    state, _, _ = make_state(shard=1, total_shards=3)
    initial_list(state, *[pod(f"p-{i}", uid=u) for i, u in enumerate(uids)])
    assert set(state.pods) == {u for u, o in zip(uids, owners, strict=True) if o == [1]}


def test_excluded_namespaces_are_not_tracked() -> None:
    """--exclude-namespaces is enforced in state too, not only in the API selector."""
    state, _, _ = make_state(exclude_namespaces=("kube-system",))
    initial_list(state, pod("a", namespace="kube-system"), pod("b"))
    assert [p.name for p in state.pods.values()] == ["b"]


def test_liveness_kill_event_reclassifies_a_failing_pod() -> None:
    """A Killing event that arrives after the status update turns app_crash into liveness_probe."""
    state, _, _ = make_state()
    initial_list(state, crashing("api-1", 1, exit_code=137))
    state.relist_begin("events")
    state.relist_end("events")
    state.event(
        "events",
        "ADDED",
        {
            "metadata": {"name": "api-1.17b", "namespace": "production"},
            "involvedObject": {
                "kind": "Pod",
                "name": "api-1",
                "namespace": "production",
                "uid": "uid-api-1",
                "fieldPath": "spec.containers{api}",
            },
            "reason": "Killing",
            "message": "Container api failed liveness probe, will be restarted",
            "type": "Normal",
            "count": 1,
            "lastTimestamp": "2024-01-01T00:09:58Z",
        },
    )
    [f] = state.all_findings()
    assert f.cause == "liveness_probe"


def test_namespace_relist_reconciles_only_its_namespace() -> None:
    """With --namespaces a,b each namespace relists alone; a relist of `a` never deletes pods of `b`."""
    state, _, _ = make_state(namespaces=("a", "b"))
    for ns in ("a", "b"):
        state.relist_begin("pods", namespace=ns)
        state.relist_item("pods", pod(f"p-{ns}", namespace=ns))
        state.relist_end("pods", namespace=ns)
    state.relist_begin("pods", namespace="a")
    state.relist_end("pods", namespace="a")
    assert [p.name for p in state.pods.values()] == ["p-b"]


def test_a_first_list_keeps_no_seen_set_and_a_relist_after_a_broken_one_still_reconciles() -> None:
    """With no pod held when a LIST begins, nothing can be missing from it, so it keeps no seen set
    (the first sync's memory peak); a LIST that broke half-way left pods, so the next one reconciles."""
    state, _, _ = make_state()
    state.relist_begin("pods")
    state.relist_item("pods", pod("api-1"))
    assert state._relist_seen == {}  # the first LIST: no set of 150k uids at the peak
    # It broke before relist_end; the next attempt finds api-1 held, and api-1 was deleted meanwhile.
    state.relist_begin("pods")
    assert ("pods", None) in state._relist_seen
    state.relist_item("pods", pod("api-2"))
    state.relist_end("pods")
    assert [p.name for p in state.pods.values()] == ["api-2"]


def test_eviction_counts_one_node_pressure_crash() -> None:
    """An evicted pod's containers are killed for good: one node_pressure crash each, once."""
    state, _, _ = make_state()
    initial_list(state, pod("api-1", ready=True))
    evicted = pod("api-1", phase="Failed")
    evicted["status"].update({"reason": "Evicted", "message": "The node was low on resource: memory. "})
    evicted["status"]["containerStatuses"][0]["state"] = {
        "terminated": {"exitCode": 137, "reason": "ContainerStatusUnknown", "finishedAt": "2024-01-01T00:10:00Z"}
    }
    state.event("pods", "MODIFIED", evicted)
    state.event("pods", "MODIFIED", evicted)
    assert counts(state) == {("api", "node_pressure"): 1.0}


def test_failed_never_restarted_pod_asks_for_its_current_log_and_counts_once() -> None:
    """A restartPolicy=Never pod that fails: one crash, and its log is the current run's, not previous."""
    state, _, requests = make_state(logs=True)
    initial_list(state)
    job = pod("etl-1", created="2024-01-01T00:20:00Z")
    job["spec"]["restartPolicy"] = "Never"
    job["status"]["phase"] = "Failed"
    job["status"]["containerStatuses"][0]["state"] = {
        "terminated": {"exitCode": 1, "reason": "Error", "finishedAt": "2024-01-01T00:10:00Z"}
    }
    state.event("pods", "MODIFIED", job)
    state.event("pods", "MODIFIED", job)
    assert [(r.pod, r.previous) for r in requests] == [("etl-1", False)]
    state.apply_logs(requests[0], "Traceback (most recent call last):\nKeyError: 'DATABASE_URL'\n")
    assert counts(state) == {("api", "bad_config"): 1.0}
